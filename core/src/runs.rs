//! Compact lists of frames.
//!
//! - [`FrameRun`]: which frame consecutive ticks of an element show. Tick `i`
//!   of a run shows `frame + ⌊(i × step + phase) / den⌋`: any resampling of
//!   a constant-rate stretch of a source (60 → 30, 30 → 60, 24 → 30, a
//!   playback rate) is one run; a held frame is a run with step 0.
//! - [`IndexRuns`]: a set of frame indices as arithmetic progressions
//!   `[first, count, step]`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::time::gcd;

mod builder;
mod index;

pub use builder::RunBuilder;
pub(crate) use index::progressions;
pub use index::IndexRuns;

/// A non-negative rational step `num/den`, reduced; serialized `"num/den"`,
/// or `"num"` when whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Step {
    num: u64,
    den: u64,
}

impl Step {
    /// Zero: a held frame.
    pub const ZERO: Self = Self { num: 0, den: 1 };

    /// `num/den` reduced (`den > 0`).
    pub fn new(num: u64, den: u64) -> Option<Self> {
        if den == 0 {
            return None;
        }
        let g = gcd(num, den).max(1);
        Some(Self {
            num: num / g,
            den: den / g,
        })
    }

    /// Numerator.
    pub fn num(self) -> u64 {
        self.num
    }

    /// Denominator.
    pub fn den(self) -> u64 {
        self.den
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}

serde_as_text!(Step, |text| {
    let (n, d) = text.split_once('/').unwrap_or((text, "1"));
    let step = match (n.parse(), d.parse()) {
        (Ok(n), Ok(d)) => Step::new(n, d),
        _ => None,
    };
    step.ok_or_else(|| format!("invalid step {text:?}"))
});

/// Consecutive ticks of an element: tick `i` (`0 ≤ i < ticks`) shows frame
/// `frame + ⌊(i × step.num + phase) / step.den⌋` of the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FrameRun {
    /// How many ticks.
    pub ticks: u64,
    /// The frame the first tick shows (an index into the source's frames).
    pub frame: u64,
    /// Frames per tick.
    pub step: Step,
    /// Where between frames the run starts, in `1/step.den` of a frame
    /// (`0 ≤ phase < step.den`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub phase: u64,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

impl FrameRun {
    /// The frame tick `i` of the run shows.
    pub fn frame_at(&self, i: u64) -> u64 {
        let (num, den) = (self.step.num, self.step.den);
        match i.checked_mul(num).and_then(|n| n.checked_add(self.phase)) {
            Some(n) => self.frame + n / den,
            None => {
                let n = u128::from(i) * u128::from(num) + u128::from(self.phase);
                self.frame + (n / u128::from(den)) as u64
            }
        }
    }

    /// The frame of every tick, in order.
    fn frames(&self) -> RunFrames {
        RunFrames::new(*self)
    }

    /// The frame of its last tick.
    pub fn last_frame(&self) -> u64 {
        self.frame_at(self.ticks.saturating_sub(1))
    }
}

/// Every tick's frame, from runs.
pub fn frames_of(runs: &[FrameRun]) -> impl Iterator<Item = u64> + '_ {
    runs.iter().flat_map(FrameRun::frames)
}

/// The frames of a run's ticks: [`FrameRun::frame_at`] of each, moving on
/// from one tick's frame to the next by the quotient and remainder of the
/// step (no division per tick) where every frame of the run fits in 64 bits.
struct RunFrames {
    run: FrameRun,
    /// The next tick.
    i: u64,
    /// Whether the frames are stepped, not computed one by one.
    stepped: bool,
    /// The frame of tick `i − 1` and the remainder `(i − 1)·num + phase mod
    /// den` of it, when stepped.
    frame: u64,
    r: u64,
    /// `num = q·den + rem`.
    q: u64,
    rem: u64,
}

impl RunFrames {
    fn new(run: FrameRun) -> Self {
        let (num, den) = (run.step.num, run.step.den);
        let last =
            u128::from(run.ticks.saturating_sub(1)) * u128::from(num) + u128::from(run.phase);
        let stepped = (last / u128::from(den))
            .checked_add(u128::from(run.frame))
            .is_some_and(|f| f <= u128::from(u64::MAX));
        Self {
            run,
            i: 0,
            stepped,
            // Fits when stepped (the frame of tick 0 is at most the last).
            frame: if stepped {
                run.frame + run.phase / den
            } else {
                0
            },
            r: run.phase % den,
            q: num / den,
            rem: num % den,
        }
    }
}

impl Iterator for RunFrames {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        if self.i >= self.run.ticks {
            return None;
        }
        let i = self.i;
        self.i += 1;
        if !self.stepped {
            return Some(self.run.frame_at(i));
        }
        if i > 0 {
            let den = self.run.step.den;
            self.frame += self.q;
            if self.r >= den - self.rem {
                self.r -= den - self.rem;
                self.frame += 1;
            } else {
                self.r += self.rem;
            }
        }
        Some(self.frame)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.run.ticks - self.i).ok();
        (left.unwrap_or(usize::MAX), left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_run() -> impl Strategy<Value = FrameRun> {
        let step = prop_oneof![
            (0u64..50, 1u64..50),
            // `i·num` overflows 64 bits: frame_at's 128-bit path.
            (1u64 << 40..1 << 63, 1u64 << 40..1 << 63),
        ];
        (0u64..300, 0u64..1 << 60, step, any::<u64>()).prop_map(
            |(ticks, frame, (num, den), phase)| {
                let step = Step::new(num, den).unwrap();
                FrameRun {
                    ticks,
                    frame,
                    step,
                    phase: phase % step.den(),
                }
            },
        )
    }

    proptest::proptest! {
        /// Stepping from tick to tick gives [`FrameRun::frame_at`] of each.
        #[test]
        fn stepped_frames_are_frame_at_each(run in any_run()) {
            let stepped: Vec<u64> = frames_of(&[run]).collect();
            let each: Vec<u64> = (0..run.ticks).map(|i| run.frame_at(i)).collect();
            proptest::prop_assert_eq!(stepped, each);
        }
    }
}
