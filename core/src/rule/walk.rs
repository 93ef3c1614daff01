//! Walking an element's ticks: the rule, one tick after another.

use super::TickRule;
use crate::timeline::{Seeker, Timeline};

/// The frames of an element's ticks, in order. Each tick's time moves on by
/// one step from the last: `z = ⌊(2x − 1)/d⌋` moves on by the quotient and
/// remainder of `2·step / d` (no division per tick, but where a loop starts
/// its pass again), and the frame is looked up from the last one's.
pub(super) struct Shown<'a> {
    rule: &'a TickRule,
    seeker: Seeker<'a>,
    /// The next tick.
    j: u64,
    /// `time_of(j − 1) − start`, in units.
    offset: i128,
    /// `⌊(2x − 1)/d⌋` and its remainder, for `x = time_of(j − 1)`.
    z: i128,
    r: i128,
    /// `2·step = q·d + rem`.
    q: i128,
    rem: i128,
}

impl<'a> Shown<'a> {
    pub(super) fn new(rule: &'a TickRule, timeline: &'a Timeline) -> Self {
        // With two ticks or more, `2·step` fits (`TickRule::new` checks
        // `2·(start + step·(ticks − 1))`); with one it is never used.
        let two_steps = rule.step.checked_mul(2).unwrap_or(0);
        Self {
            rule,
            seeker: timeline.seeker(),
            j: 0,
            offset: 0,
            z: 0,
            r: 0,
            q: two_steps.div_euclid(rule.d),
            rem: two_steps.rem_euclid(rule.d),
        }
    }

    /// `z` and `r` for the time `start + offset`.
    fn at_offset(&mut self) {
        let y = 2 * (self.rule.start + self.offset) - 1;
        (self.z, self.r) = (y.div_euclid(self.rule.d), y.rem_euclid(self.rule.d));
    }

    /// On from tick `j − 1` to tick `j` (`j ≥ 1`).
    fn step(&mut self) {
        let rule = self.rule;
        if let Some(pass) = rule.pass {
            self.offset = match self.offset.checked_add(rule.step) {
                Some(next) if next < pass => next,
                // The pass starts again: as `time_of` computes it.
                _ => {
                    self.offset = (rule.step * i128::from(self.j)).rem_euclid(pass);
                    return self.at_offset();
                }
            };
        }
        self.z += self.q;
        if self.r >= rule.d - self.rem {
            self.r -= rule.d - self.rem;
            self.z += 1;
        } else {
            self.r += self.rem;
        }
    }
}

impl Iterator for Shown<'_> {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        if self.j >= self.rule.ticks {
            return None;
        }
        if self.j == 0 {
            self.at_offset();
        } else {
            self.step();
        }
        self.j += 1;
        let limit = self.rule.limit_of(self.z);
        Some(self.rule.frame_for(self.seeker.last_at_or_below(limit)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::tests::element;
    use crate::time::Fps;
    use crate::timeline::TimeBase;
    use crate::validate::Element;
    use proptest::prelude::*;

    /// A timeline of `intervals` (ticks of 1/`den`), or an assumed one.
    fn any_timeline() -> impl Strategy<Value = Timeline> {
        let listed = (
            prop::sample::select(vec![1000u32, 15_360, 90_000, 30, 24_000]),
            prop::collection::vec((1i64..40, 0u8..10), 1..150),
        )
            .prop_map(|(den, steps)| {
                // Mostly one interval, with jitter, gaps and rate changes.
                let base = i64::from(den / 30).max(1);
                let mut pts = vec![0i64];
                for &(jitter, kind) in &steps {
                    let interval = match kind {
                        0 => base * jitter,          // a gap
                        1 => (base / 2).max(1),      // a faster stretch
                        2..=4 => base + jitter - 20, // jitter
                        _ => base,
                    };
                    pts.push(pts.last().unwrap() + interval.max(1));
                }
                let end = pts.last().unwrap() + base;
                Timeline::new(TimeBase::new(1, den).unwrap(), pts, end, vec![0]).unwrap()
            });
        let assumed = (
            prop::sample::select(vec![(30u32, 1u32), (30000, 1001), (24, 1), (60, 1)]),
            prop::option::of(1i64..5_000_000),
        )
            .prop_map(|((n, d), duration)| Timeline::uniform(Fps::new(n, d).unwrap(), duration));
        prop_oneof![3 => listed, 1 => assumed]
    }

    fn any_element() -> impl Strategy<Value = Element> {
        (
            0i64..4_000_000,
            1i64..3_000_000,
            prop::sample::select(vec![(30u32, 1u32), (30000, 1001), (24, 1), (60, 1), (7, 3)]),
            prop::sample::select(vec![(1u32, 1u32), (2, 1), (1, 2), (3, 2), (7, 5)]),
            prop::option::of(1i64..2_000_000),
            any::<bool>(),
        )
            .prop_map(|(start, duration, fps, rate, trim, looping)| Element {
                media_duration_us: trim,
                looping,
                ..element(start, duration, fps, rate)
            })
    }

    proptest::proptest! {
        /// The incremental walk over the ticks gives every tick the frame
        /// [`TickRule::shown_at`] computes from scratch: on jittered, gapped
        /// and rate-changing timelines, assumed ones, with trims, loops and
        /// playback rates.
        #[test]
        fn the_walk_over_the_ticks_is_shown_at_each(t in any_timeline(), e in any_element()) {
            if let Ok(rule) = TickRule::new(&e, &t) {
                let walked: Vec<u64> = rule.shown(&t).collect();
                let each: Vec<u64> = (0..rule.ticks()).map(|j| rule.shown_at(&t, j)).collect();
                proptest::prop_assert_eq!(walked, each);
            }
        }
    }
}
