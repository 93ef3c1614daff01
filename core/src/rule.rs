//! The frame rule: which source frame each tick of an element shows.
//!
//! - **Source time.** Times are relative to the presentation time of the
//!   stream's first frame: at `mediaStart: 0` an element shows that frame.
//! - **Ticks.** Tick `j` asks for `t_j = mediaStart + j × playbackRate / fps`;
//!   with `loop`, `t_j = mediaStart + ((j × playbackRate / fps) mod
//!   passDuration)`, where `passDuration` is `mediaDuration`, or without it
//!   the time from `mediaStart` to the source's end (its last frame's time
//!   plus that frame's duration).
//! - **Frame shown.** The last frame whose presentation time is strictly
//!   before `t_j + ε`, where `ε` is half the lower median of the intervals
//!   between consecutive frames (0 for a one-frame source). On a constant
//!   rate source that is the nearest frame, ties to the earlier one; jitter
//!   below half a frame changes nothing; across a gap the frame after it
//!   appears at most half a (median) frame early. Before the first
//!   candidate, the first candidate is shown.
//! - **Trims.** With `mediaDuration`, only frames whose time is before
//!   `mediaStart + mediaDuration` are candidates.
//! - **Past the end.** Past the last candidate, the last candidate is held.
//!
//! Everything is exact: times are rationals brought to one integer unit per
//! element, nothing is rounded but the composition's own inputs (integer
//! microseconds).

use crate::time::US_PER_SEC;
use crate::timeline::Timeline;

mod walk;

use crate::validate::Element;
use walk::Shown;

/// The arithmetic of an element's ticks would overflow 128 bits: a time
/// base, a rate and a start so extreme that no real source has them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("its ticks cannot be computed exactly on this source (the arithmetic overflows)")]
pub struct Overflow;

/// The frame rule applied to one element on one source: constants in one
/// integer unit `U = 1/D` of a tick of the source's time base.
#[derive(Clone, Debug)]
pub struct TickRule {
    /// Ticks in the element's slot, `ceil(duration × fps)`.
    ticks: u64,
    /// Units per source tick.
    d: i128,
    /// `mediaStart`, in units.
    start: i128,
    /// `playbackRate / fps`, in units.
    step: i128,
    /// The length of one pass, in units, for a loop with a pass to repeat.
    pass: Option<i128>,
    /// The median frame interval, in source ticks.
    median: i64,
    /// The last candidate frame.
    last_candidate: u64,
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.abs()
}

/// `num/den` reduced, `den > 0`.
fn reduced(num: i128, den: i128) -> (i128, i128) {
    let g = gcd(num, den).max(1);
    (num / g, den / g)
}

fn lcm(a: i128, b: i128) -> Option<i128> {
    (a / gcd(a, b)).checked_mul(b)
}

impl TickRule {
    /// The rule for `element` on `timeline`.
    pub fn new(element: &Element, timeline: &Timeline) -> Result<Self, Overflow> {
        let tb = timeline.time_base();
        let (a, b) = (i128::from(tb.num()), i128::from(tb.den()));
        let (fps, rate) = (element.fps, element.playback_rate);
        let us = i128::from(US_PER_SEC);
        // Seconds to ticks: × b / a.
        let start = reduced(i128::from(element.start_us) * b, us * a);
        let step = reduced(
            i128::from(rate.num()) * i128::from(fps.den()) * b,
            i128::from(rate.den()) * i128::from(fps.num()) * a,
        );
        let trim = element
            .media_duration_us
            .map(|md| reduced(i128::from(md) * b, us * a));
        let mut d = lcm(start.1, step.1).ok_or(Overflow)?;
        if let Some(trim) = trim {
            d = lcm(d, trim.1).ok_or(Overflow)?;
        }
        let units = |(n, den): (i128, i128)| n.checked_mul(d / den).ok_or(Overflow);
        let start_u = units(start)?;
        let step_u = units(step)?;
        let trim_u = trim.map(units).transpose()?;
        let end_u = match timeline.end() {
            Some(end) => Some(i128::from(end).checked_mul(d).ok_or(Overflow)?),
            None => None,
        };
        let ticks = element.fps.frames_in(element.duration_us);
        // An overflow check only: the latest time asked for, doubled, must
        // fit (see `limit`).
        step_u
            .checked_mul(i128::from(ticks.saturating_sub(1)))
            .and_then(|s| s.checked_add(start_u))
            .and_then(|s| s.checked_mul(2))
            .ok_or(Overflow)?;
        let last_frame = timeline.len().map_or(u64::MAX, |n| n - 1);
        let last_candidate = match trim_u {
            // Candidates start before `start + trim`: time × d < start + trim.
            Some(trim) => {
                let limit = (start_u + trim - 1).div_euclid(d);
                let limit = i64::try_from(limit).unwrap_or(i64::MAX);
                timeline.last_at_or_below(limit).unwrap_or(0)
            }
            None => last_frame,
        };
        let pass = if element.looping {
            match (trim_u, end_u) {
                (Some(trim), _) => Some(trim),
                (None, Some(end)) => Some(end - start_u),
                (None, None) => None,
            }
            .filter(|&p| p > 0)
        } else {
            None
        };
        Ok(Self {
            ticks,
            d,
            start: start_u,
            step: step_u,
            pass,
            median: timeline.median_interval(),
            last_candidate,
        })
    }

    /// Ticks in the element's slot.
    pub fn ticks(&self) -> u64 {
        self.ticks
    }

    /// Whether the element loops over a pass (a loop without a pass to
    /// repeat, starting at or past the end, holds the last frame instead).
    pub fn loops(&self) -> bool {
        self.pass.is_some()
    }

    /// The time tick `j` asks for, in units.
    fn time_of(&self, j: u64) -> i128 {
        let offset = self.step * i128::from(j);
        match self.pass {
            Some(pass) => self.start + offset.rem_euclid(pass),
            None => self.start + offset,
        }
    }

    /// The highest presentation time (source ticks) a frame may have to be
    /// shown at time `x` (units): `time < x/d + median/2`.
    fn limit(&self, x: i128) -> i64 {
        // time < x/d + m/2  ⇔  2·time − m < 2x/d  ⇔  2·time − m ≤ ⌊(2x − 1)/d⌋.
        self.limit_of((2 * x - 1).div_euclid(self.d))
    }

    /// [`limit`](Self::limit) from `z = ⌊(2x − 1)/d⌋`.
    fn limit_of(&self, z: i128) -> i64 {
        let limit = (z + i128::from(self.median)).div_euclid(2);
        i64::try_from(limit).unwrap_or(if limit < 0 { -1 } else { i64::MAX })
    }

    /// The frame shown, from the last frame at or below the tick's limit.
    fn frame_for(&self, below: Option<u64>) -> u64 {
        below.unwrap_or(0).min(self.last_candidate)
    }

    /// The frame tick `j` shows.
    pub fn shown_at(&self, timeline: &Timeline, j: u64) -> u64 {
        self.frame_for(timeline.last_at_or_below(self.limit(self.time_of(j))))
    }

    /// The frames of every tick in order: [`shown_at`](Self::shown_at) of
    /// each, computed incrementally.
    pub fn shown<'a>(&'a self, timeline: &'a Timeline) -> impl Iterator<Item = u64> + 'a {
        Shown::new(self, timeline)
    }

    /// Frames per tick on a constant-rate stretch of the source, `(num,
    /// den)` reduced: `playbackRate / fps` over the median frame interval. 0
    /// for a one-frame source.
    pub fn stride(&self) -> (u64, u64) {
        if self.median == 0 {
            return (0, 1);
        }
        let den = self.d * i128::from(self.median);
        let (num, den) = reduced(self.step, den);
        match (u64::try_from(num), u64::try_from(den)) {
            (Ok(n), Ok(d)) => (n, d),
            _ => (0, 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::composition::ImageFormat;
    use crate::time::{Fps, PlaybackRate};
    use crate::timeline::TimeBase;

    pub(super) fn element(
        start_us: i64,
        duration_us: i64,
        fps: (u32, u32),
        rate: (u32, u32),
    ) -> Element {
        Element {
            id: "e".into(),
            src: "x".into(),
            start_us,
            duration_us,
            timeline_start_us: None,
            media_duration_us: None,
            fps: Fps::new(fps.0, fps.1).unwrap(),
            playback_rate: PlaybackRate::new(rate.0, rate.1).unwrap(),
            looping: false,
            format: ImageFormat::Png,
            transfer: None,
        }
    }

    /// A constant-rate timeline: `count` frames at `rate` fps in a 1/90000
    /// time base (as MPEG-TS and many MP4s have).
    fn cfr(rate: (u32, u32), count: u64) -> Timeline {
        let interval = 90_000 * i64::from(rate.1) / i64::from(rate.0);
        assert_eq!(interval * i64::from(rate.0), 90_000 * i64::from(rate.1));
        let pts = (0..count as i64).map(|i| i * interval).collect();
        let tb = TimeBase::new(1, 90_000).unwrap();
        Timeline::new(tb, pts, count as i64 * interval, vec![0]).unwrap()
    }

    fn shown(e: &Element, t: &Timeline) -> Vec<u64> {
        TickRule::new(e, t).unwrap().shown(t).collect()
    }

    #[test]
    fn sixty_at_thirty_shows_every_other_frame() {
        let t = cfr((60, 1), 120);
        let e = element(0, 1_000_000, (30, 1), (1, 1));
        assert_eq!(shown(&e, &t), (0..30).map(|i| 2 * i).collect::<Vec<_>>());
    }

    #[test]
    fn thirty_at_sixty_shows_each_frame_twice() {
        let t = cfr((30, 1), 30);
        let e = element(0, 200_000, (60, 1), (1, 1));
        assert_eq!(shown(&e, &t), vec![0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    }

    #[test]
    fn ties_go_to_the_earlier_frame() {
        // 24 → 48: tick 1 asks for 1/48 s, exactly half-way between frames 0
        // and 1: frame 0.
        let t = cfr((24, 1), 24);
        let e = element(0, 125_000, (48, 1), (1, 1));
        assert_eq!(shown(&e, &t), vec![0, 0, 1, 1, 2, 2]);
        // 24 → 30: 0 .8 1.6 2.4 3.2 4.0 frames → nearest 0 1 2 2 3 4.
        let e = element(0, 200_000, (30, 1), (1, 1));
        assert_eq!(shown(&e, &t), vec![0, 1, 2, 2, 3, 4]);
    }

    #[test]
    fn a_start_between_frames_shows_the_nearest() {
        // 29.97 at 29.97 from 0.2 s (5.994 frames in): frame 6, then 7, 8…
        // (never 5, 7, 7, 9: a steady sequence at the same rate).
        let t = cfr((30000, 1001), 90);
        let e = element(200_000, 200_200, (30000, 1001), (1, 1));
        assert_eq!(shown(&e, &t), vec![6, 7, 8, 9, 10, 11]);
    }

    #[test]
    fn playback_rates_step_through_the_source() {
        let t = cfr((30, 1), 90);
        let twice = element(0, 200_000, (30, 1), (2, 1));
        assert_eq!(shown(&twice, &t), vec![0, 2, 4, 6, 8, 10]);
        // 1.5 at 30: 0 1.5 3 4.5 6 → 0 1 3 4 6 (ties down).
        let e = element(0, 166_667, (30, 1), (3, 2));
        assert_eq!(shown(&e, &t), vec![0, 1, 3, 4, 6, 7]);
        // A 2× element at 60 fps asks for the same times as 1× at 30 fps on
        // its even ticks, and the frames between on its odd ones.
        let e = element(0, 100_000, (60, 1), (2, 1));
        assert_eq!(shown(&e, &t), vec![0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn jitter_below_half_a_frame_changes_nothing() {
        let clean = cfr((30, 1), 60);
        // Jitter of at most 150 ticks (1.7 ms): far below half a frame, and
        // below the distance of every tick here from a frame midpoint.
        let jitter = [0, 100, -100, 150, -150, 50];
        let pts: Vec<i64> = (0..60)
            .map(|i: i64| (i * 3000 + jitter[i as usize % 6]).max(0))
            .collect();
        let tb = TimeBase::new(1, 90_000).unwrap();
        let jittered = Timeline::new(tb, pts, 180_000, vec![0]).unwrap();
        for (fps, rate) in [((30, 1), (1, 1)), ((25, 1), (1, 1)), ((35, 1), (1, 1))] {
            let e = element(100_000, 1_000_000, fps, rate);
            assert_eq!(shown(&e, &jittered), shown(&e, &clean), "{fps:?} {rate:?}");
        }
    }

    #[test]
    fn across_a_gap_the_next_frame_appears_at_most_half_a_frame_early() {
        // 10 fps, frames at 0 .1 .2, a gap, then 1.0 1.1.
        let tb = TimeBase::new(1, 1000).unwrap();
        let t = Timeline::new(tb, vec![0, 100, 200, 1000, 1100], 1200, vec![0]).unwrap();
        // At 20 fps: ticks every 50 ms (ε = 50 ms); frame 3, at 1.0 s, shows
        // from the first tick whose time plus ε passes 1.0 s.
        let e = element(0, 1_200_000, (20, 1), (1, 1));
        let s = shown(&e, &t);
        assert_eq!(&s[..5], &[0, 0, 1, 1, 2]);
        assert!(s[5..20].iter().all(|&f| f == 2), "{s:?}");
        // At 0.95 s, 1.0 is not strictly before 0.95 + 0.05: still frame 2.
        assert_eq!(&s[20..], &[3, 3, 4, 4]);
    }

    #[test]
    fn a_trim_never_shows_a_frame_after_it_and_holds_its_last() {
        // 0.91 s of a 30 fps source at 10 fps, in a 2 s slot.
        let t = cfr((30, 1), 90);
        let mut e = element(0, 2_000_000, (10, 1), (1, 1));
        e.media_duration_us = Some(910_000);
        let s = shown(&e, &t);
        assert_eq!(&s[..10], &[0, 3, 6, 9, 12, 15, 18, 21, 24, 27]);
        // Frame 27 starts at 0.9 s < 0.91: the last candidate, held.
        assert!(s[10..].iter().all(|&f| f == 27), "{s:?}");
    }

    #[test]
    fn past_the_end_the_last_frame_is_held() {
        let t = cfr((30, 1), 30);
        let e = element(500_000, 1_000_000, (30, 1), (1, 1));
        let s = shown(&e, &t);
        assert_eq!(&s[..15], &(15..30).collect::<Vec<_>>()[..]);
        assert!(s[15..].iter().all(|&f| f == 29));
        // A start past the end shows only the last frame.
        let e = element(5_000_000, 100_000, (30, 1), (1, 1));
        assert_eq!(shown(&e, &t), vec![29, 29, 29]);
    }

    #[test]
    fn loops_repeat_the_pass_exactly() {
        // A 1.01 s loop of a 30 fps source at 30 fps: 30.3 frames per pass,
        // so the cycle shifts: tick 31 asks for 31/30 − 1.01 = 0.0233 s.
        let t = cfr((30, 1), 90);
        let mut e = element(0, 2_000_000, (30, 1), (1, 1));
        e.looping = true;
        e.media_duration_us = Some(1_010_000);
        let s = shown(&e, &t);
        assert_eq!(&s[..31], &(0..31).collect::<Vec<_>>()[..]);
        assert_eq!(&s[31..34], &[1, 2, 3]);
        assert!(TickRule::new(&e, &t).unwrap().loops());
        // Without mediaDuration the pass runs to the source's end.
        let mut e = element(1_000_000, 3_000_000, (30, 1), (1, 1));
        e.looping = true;
        let s = shown(&e, &t);
        assert_eq!(s[59], 89);
        assert_eq!(s[60], 30);
    }

    #[test]
    fn a_one_frame_source_shows_its_frame() {
        let tb = TimeBase::new(1, 25).unwrap();
        let t = Timeline::new(tb, vec![0], 1, vec![0]).unwrap();
        let e = element(0, 200_000, (25, 1), (1, 1));
        assert_eq!(shown(&e, &t), vec![0; 5]);
    }

    #[test]
    fn strides_are_frames_per_tick() {
        let t = cfr((60, 1), 120);
        let rule = TickRule::new(&element(0, 1_000_000, (30, 1), (1, 1)), &t).unwrap();
        assert_eq!(rule.stride(), (2, 1));
        let t = cfr((30000, 1001), 120);
        let rule = TickRule::new(&element(0, 1_000_000, (30, 1), (1, 1)), &t).unwrap();
        assert_eq!(rule.stride(), (1000, 1001));
    }
}
