//! Looking up the frames of consecutive ticks.

use super::{Frames, Timeline};

/// [`Timeline::last_at_or_below`] for a sequence of limits that mostly
/// grow by a few frames at a time (the ticks of an element): it remembers
/// where the last answer was and steps on from there, searching only when a
/// limit jumps far ahead or goes back (a loop's next pass).
pub(crate) struct Seeker<'a> {
    timeline: &'a Timeline,
    /// Frames at or below the last limit: `pts[..after]`.
    after: usize,
}

impl Timeline {
    /// A [`Seeker`] at the start of the timeline.
    pub(crate) fn seeker(&self) -> Seeker<'_> {
        Seeker {
            timeline: self,
            after: 0,
        }
    }
}

impl Seeker<'_> {
    /// Frames stepped over before searching instead.
    const STEPS: u32 = 4;

    /// The last frame whose time is at or below `limit` ticks, if any: the
    /// same answer as [`Timeline::last_at_or_below`].
    pub(crate) fn last_at_or_below(&mut self, limit: i64) -> Option<u64> {
        let Frames::Listed { pts, .. } = &self.timeline.frames else {
            return self.timeline.last_at_or_below(limit);
        };
        if limit < 0 {
            return None;
        }
        let mut after = self.after;
        if after > 0 && pts[after - 1] > limit {
            // Back: the answer lies before the last one.
            after = pts[..after].partition_point(|&p| p <= limit);
        } else {
            // Every frame before `after` is at or below the limit.
            let mut steps = 0;
            while after < pts.len() && pts[after] <= limit {
                after += 1;
                steps += 1;
                if steps == Self::STEPS {
                    after += pts[after..].partition_point(|&p| p <= limit);
                    break;
                }
            }
        }
        self.after = after;
        after.checked_sub(1).map(|i| i as u64)
    }
}
