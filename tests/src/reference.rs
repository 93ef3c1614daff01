//! The frame rule written again, from issue 12's words, for the tests to
//! check the planner against: plain `i128` rationals, a linear reading of
//! the definitions, no code shared with `framex_core::TickRule`.
//!
//! - Times are relative to the first frame; tick `j` asks for
//!   `t_j = mediaStart + j × playbackRate / fps`, with `loop` `mediaStart +
//!   ((j × playbackRate / fps) mod passDuration)`, where `passDuration` is
//!   `mediaDuration` or the time from `mediaStart` to the source's end (no
//!   loop when that is not positive: the element starts at or past the end).
//! - It shows the last candidate frame whose time is strictly before
//!   `t_j + ε`, `ε` half the lower median of the intervals between
//!   consecutive frames (0 for one frame); before the first candidate, the
//!   first. With `mediaDuration` only frames before `mediaStart +
//!   mediaDuration` are candidates.
//! - A source without a probed timeline is a constant-rate grid at its
//!   `frameRate` (default 30/1): `ceil(durationUs × rate)` frames (at least
//!   one) ending `count / rate` after the first, or unbounded.

use std::cmp::Ordering;

use framex_core::{Element, SourceFacts};

/// A rational `n/d`, reduced, `d > 0`. Every operation is checked: `None`
/// when `i128` overflows (a time base, rate and start so extreme that the
/// reference cannot follow; the caller then skips the comparison).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Q {
    n: i128,
    d: i128,
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.abs()
}

impl Q {
    /// `n/d` reduced (`d ≠ 0`).
    pub fn new(n: i128, d: i128) -> Self {
        assert_ne!(d, 0, "a rational has a denominator");
        let g = gcd(n, d).max(1);
        let sign = if d < 0 { -1 } else { 1 };
        Self {
            n: sign * n / g,
            d: sign * d / g,
        }
    }

    /// A whole number.
    pub fn int(n: i128) -> Self {
        Self { n, d: 1 }
    }

    fn add(self, o: Self) -> Option<Self> {
        let g = gcd(self.d, o.d);
        let d = (self.d / g).checked_mul(o.d)?;
        let n = self
            .n
            .checked_mul(d / self.d)?
            .checked_add(o.n.checked_mul(d / o.d)?)?;
        Some(Self::new(n, d))
    }

    fn sub(self, o: Self) -> Option<Self> {
        self.add(Self { n: -o.n, d: o.d })
    }

    fn mul(self, o: Self) -> Option<Self> {
        let (g1, g2) = (gcd(self.n, o.d).max(1), gcd(o.n, self.d).max(1));
        let n = (self.n / g1).checked_mul(o.n / g2)?;
        let d = (self.d / g2).checked_mul(o.d / g1)?;
        Some(Self::new(n, d))
    }

    fn cmp(self, o: Self) -> Option<Ordering> {
        Some(self.n.checked_mul(o.d)?.cmp(&o.n.checked_mul(self.d)?))
    }

    fn lt(self, o: Self) -> Option<bool> {
        Some(self.cmp(o)? == Ordering::Less)
    }

    fn is_positive(self) -> bool {
        self.n > 0
    }

    /// `⌊self⌋`.
    fn floor(self) -> i128 {
        self.n.div_euclid(self.d)
    }

    /// `self mod m` for `m > 0`: `self − ⌊self/m⌋·m`.
    fn rem(self, m: Self) -> Option<Self> {
        let quotient = Self::new(self.n.checked_mul(m.d)?, self.d.checked_mul(m.n)?).floor();
        self.sub(m.mul(Self::int(quotient))?)
    }
}

/// A source as the reference sees it: frame times in seconds.
enum Frames {
    /// Probed, or assumed with a known duration: every time, and the end.
    Listed { times: Vec<Q>, end: Q },
    /// Assumed without a duration: frame `i` at `i / rate`, no end.
    Unbounded { rate: Q },
}

impl Frames {
    fn of(facts: Option<&SourceFacts>) -> Option<Self> {
        if let Some(timeline) = facts.and_then(|f| f.timeline.as_ref()) {
            let tb = timeline.time_base();
            let tick = Q::new(i128::from(tb.num()), i128::from(tb.den()));
            let count = timeline.len().expect("a probed timeline has a length");
            if count > 1_000_000 {
                return None;
            }
            let times = (0..count)
                .map(|i| tick.mul(Q::int(i128::from(timeline.pts(i)))))
                .collect::<Option<Vec<_>>>()?;
            let end = tick.mul(Q::int(i128::from(timeline.end()?)))?;
            return Some(Frames::Listed { times, end });
        }
        let rate = facts
            .and_then(|f| f.frame_rate)
            .map_or(Q::int(30), |r| Q::new(r.num().into(), r.den().into()));
        match facts.and_then(|f| f.duration_us) {
            None => Some(Frames::Unbounded { rate }),
            Some(us) => {
                // ceil(duration × rate) frames, at least one.
                let exact = Q::new(i128::from(us), 1_000_000).mul(rate)?;
                let count = (-(Q::new(-exact.n, exact.d).floor())).max(1);
                let period = Q::new(rate.d, rate.n);
                if count > 1_000_000 {
                    return None;
                }
                let times = (0..count)
                    .map(|i| period.mul(Q::int(i)))
                    .collect::<Option<Vec<_>>>()?;
                Some(Frames::Listed {
                    times,
                    end: period.mul(Q::int(count))?,
                })
            }
        }
    }

    /// Half the lower median of the intervals between consecutive frames.
    fn epsilon(&self) -> Option<Q> {
        match self {
            Frames::Unbounded { rate } => Some(Q::new(rate.d, 2 * rate.n)),
            Frames::Listed { times, .. } => {
                let mut intervals = times
                    .windows(2)
                    .map(|w| w[1].sub(w[0]))
                    .collect::<Option<Vec<_>>>()?;
                if intervals.is_empty() {
                    return Some(Q::int(0));
                }
                intervals.sort_by(|a, b| a.cmp(*b).expect("intervals compare"));
                intervals[(intervals.len() - 1) / 2].mul(Q::new(1, 2))
            }
        }
    }

    /// The index of the last frame whose time is strictly before `limit`.
    fn last_before(&self, limit: Q) -> Option<Option<u64>> {
        match self {
            Frames::Unbounded { rate } => {
                // i / rate < limit ⇔ i < limit × rate: i = ⌈limit × rate⌉ − 1.
                let x = limit.mul(*rate)?;
                let ceil = -(Q::new(-x.n, x.d).floor());
                Some((ceil >= 1).then(|| (ceil - 1) as u64))
            }
            Frames::Listed { times, .. } => {
                // Bisection on "time < limit" (times increase).
                let (mut lo, mut hi) = (0usize, times.len());
                while lo < hi {
                    let mid = (lo + hi) / 2;
                    if times[mid].lt(limit)? {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                Some(lo.checked_sub(1).map(|i| i as u64))
            }
        }
    }
}

/// The frame every tick of `element` shows on the source described by
/// `facts` (`None`: known by name only), by the rule; `None` where the
/// reference's `i128` arithmetic overflows or the source has more than a
/// million frames (the reference keeps every time as a rational).
pub fn frames(element: &Element, facts: Option<&SourceFacts>) -> Option<Vec<u64>> {
    let source = Frames::of(facts)?;
    let us = |v: i64| Q::new(i128::from(v), 1_000_000);
    let start = us(element.start_us);
    let fps = Q::new(element.fps.num().into(), element.fps.den().into());
    let rate = Q::new(
        element.playback_rate.num().into(),
        element.playback_rate.den().into(),
    );
    let ticks = ticks(element);
    let step = rate.mul(Q::new(fps.d, fps.n))?;
    let epsilon = source.epsilon()?;
    // The last candidate: before the trim's end, else the last frame.
    let last_candidate = match element.media_duration_us {
        Some(md) => Some(source.last_before(start.add(us(md))?)?.unwrap_or(0)),
        None => match &source {
            Frames::Listed { times, .. } => Some(times.len() as u64 - 1),
            Frames::Unbounded { .. } => None,
        },
    };
    let pass = if element.looping {
        let pass = match (element.media_duration_us, &source) {
            (Some(md), _) => Some(us(md)),
            (None, Frames::Listed { end, .. }) => Some(end.sub(start)?),
            (None, Frames::Unbounded { .. }) => None,
        };
        pass.filter(|p| p.is_positive())
    } else {
        None
    };
    let mut shown = Vec::with_capacity(ticks.min(1 << 20) as usize);
    for j in 0..ticks {
        let mut offset = step.mul(Q::int(i128::from(j)))?;
        if let Some(pass) = pass {
            offset = offset.rem(pass)?;
        }
        let t = start.add(offset)?;
        let frame = source.last_before(t.add(epsilon)?)?.unwrap_or(0);
        shown.push(last_candidate.map_or(frame, |c| frame.min(c)));
    }
    Some(shown)
}

/// Ticks in the element's slot: `ceil(duration × fps)`, `duration` in
/// microseconds.
pub fn ticks(element: &Element) -> u64 {
    let n = i128::from(element.duration_us) * i128::from(element.fps.num());
    let d = i128::from(element.fps.den()) * 1_000_000;
    ((n + d - 1) / d) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use framex_core::{Fps, ImageFormat, PlaybackRate, SourceIdentity, TimeBase, Timeline};

    fn element(start_us: i64, duration_us: i64, fps: (u32, u32)) -> Element {
        Element {
            id: "e".into(),
            src: "x".into(),
            start_us,
            duration_us,
            timeline_start_us: None,
            media_duration_us: None,
            fps: Fps::new(fps.0, fps.1).unwrap(),
            playback_rate: PlaybackRate::NORMAL,
            looping: false,
            format: ImageFormat::Png,
            transfer: None,
        }
    }

    fn cfr(step: i64, count: i64) -> SourceFacts {
        let pts = (0..count).map(|i| i * step).collect();
        let timeline =
            Timeline::new(TimeBase::new(1, 15360).unwrap(), pts, step * count, vec![]).unwrap();
        SourceFacts {
            identity: SourceIdentity::Name { name: "x".into() },
            timeline: Some(timeline),
            ..SourceFacts::default()
        }
    }

    /// The issue's own examples.
    #[test]
    fn the_issue_examples() {
        let sixty = cfr(256, 120);
        let shown = frames(&element(0, 200_000, (30, 1)), Some(&sixty)).unwrap();
        assert_eq!(shown, [0, 2, 4, 6, 8, 10]);
        let thirty = cfr(512, 30);
        let shown = frames(&element(0, 100_000, (60, 1)), Some(&thirty)).unwrap();
        assert_eq!(shown, [0, 0, 1, 1, 2, 2]);
        // 0.91 s at 10 fps of a 30 fps source, in a 2 s slot.
        let mut trim = element(0, 2_000_000, (10, 1));
        trim.media_duration_us = Some(910_000);
        let shown = frames(&trim, Some(&cfr(512, 90))).unwrap();
        assert_eq!(&shown[..10], &[0, 3, 6, 9, 12, 15, 18, 21, 24, 27]);
        assert!(shown[10..].iter().all(|&f| f == 27));
        // Assumed 30 fps, unbounded: 0.05 s is half-way between 1 and 2.
        let shown = frames(&element(50_000, 100_000, (30, 1)), None).unwrap();
        assert_eq!(shown, [1, 2, 3]);
    }
}
