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

impl Serialize for Step {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let (n, d) = text.split_once('/').unwrap_or((&text, "1"));
        let step = match (n.parse(), d.parse()) {
            (Ok(n), Ok(d)) => Step::new(n, d),
            _ => None,
        };
        step.ok_or_else(|| serde::de::Error::custom(format!("invalid step {text:?}")))
    }
}

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
        let left = usize::try_from(self.run.ticks - self.i).unwrap_or(usize::MAX);
        (left, usize::try_from(self.run.ticks - self.i).ok())
    }
}

/// One stride a run may follow, and the phases still possible for it.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    step: Step,
    /// Phases `lo..hi` that fit every tick so far (never empty).
    lo: i128,
    hi: i128,
    /// Ticks it has fitted so far; it fits no more once `dead`.
    fitted: u64,
    dead: bool,
}

impl Candidate {
    fn new(step: Step) -> Self {
        Self {
            step,
            lo: 0,
            hi: i128::from(step.den),
            fitted: 0,
            dead: false,
        }
    }

    /// Tick `i` of the run shows `frame + d`: keep the phases with
    /// `⌊(i·num + phase)/den⌋ = d`, or die when none is left.
    fn fit(&mut self, i: u64, d: i128) {
        let (num, den) = (i128::from(self.step.num), i128::from(self.step.den));
        let base = i128::from(i) * num;
        let lo = self.lo.max(d * den - base);
        let hi = self.hi.min((d + 1) * den - base);
        if lo < hi {
            (self.lo, self.hi) = (lo, hi);
            self.fitted += 1;
        } else {
            self.dead = true;
        }
    }
}

/// Builds the shortest list of [`FrameRun`]s it finds for a sequence of
/// frames, greedily: each run takes as many ticks as one of the candidate
/// strides (the element's frames per tick, and 0 for held frames) fits.
#[derive(Clone, Debug)]
pub struct RunBuilder {
    runs: Vec<FrameRun>,
    strides: [Step; 2],
    current: Option<(u64, [Candidate; 2])>,
}

impl RunBuilder {
    /// A builder trying `stride` (frames per tick) and 0.
    pub fn new(stride: Step) -> Self {
        Self {
            runs: Vec::new(),
            strides: [stride, Step::ZERO],
            current: None,
        }
    }

    /// Appends the frame of the next tick.
    pub fn push(&mut self, frame: u64) {
        if let Some((first, candidates)) = &mut self.current {
            let i = candidates.iter().map(|c| c.fitted).max().unwrap_or(0);
            let d = i128::from(frame) - i128::from(*first);
            for c in candidates.iter_mut().filter(|c| !c.dead) {
                c.fit(i, d);
            }
            if candidates.iter().any(|c| !c.dead) {
                return;
            }
            self.close();
        }
        let mut candidates = self.strides.map(Candidate::new);
        for c in &mut candidates {
            c.fit(0, 0);
        }
        self.current = Some((frame, candidates));
    }

    /// Ends the current run with the candidate that fitted longest.
    fn close(&mut self) {
        let Some((frame, candidates)) = self.current.take() else {
            return;
        };
        // The element's own stride wins a tie.
        let [stride, zero] = candidates;
        let best = if zero.fitted > stride.fitted {
            zero
        } else {
            stride
        };
        // Any phase left in the winner's range fits all its ticks.
        let (step, phase) = if best.fitted <= 1 {
            (Step::ZERO, 0)
        } else {
            (best.step, best.lo as u64)
        };
        self.runs.push(FrameRun {
            ticks: best.fitted,
            frame,
            step,
            phase,
        });
    }

    /// The runs.
    pub fn finish(mut self) -> Vec<FrameRun> {
        self.close();
        self.runs
    }
}

/// A set of frame indices: arithmetic progressions `[first, count, step]`,
/// ascending and disjoint. Serialized as text for people to read:
/// `"0-89"` (0 to 89), `"0-118/2"` (every other), `"3,7,12-20"`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndexRuns(pub Vec<[u64; 3]>);

impl IndexRuns {
    /// Collects ascending, distinct indices.
    pub fn from_ascending(indices: impl IntoIterator<Item = u64>) -> Self {
        let mut runs: Vec<[u64; 3]> = Vec::new();
        for i in indices {
            match runs.last_mut() {
                Some(run) if run[1] == 1 => {
                    run[2] = i - run[0];
                    run[1] = 2;
                }
                Some(run) if run[0] + run[2] * run[1] == i => run[1] += 1,
                _ => runs.push([i, 1, 0]),
            }
        }
        // Two-element progressions read better as two numbers.
        let mut split = Vec::with_capacity(runs.len());
        for [first, count, step] in runs {
            if count == 2 && step > 1 {
                split.push([first, 1, 0]);
                split.push([first + step, 1, 0]);
            } else {
                split.push([first, count, step]);
            }
        }
        Self(split)
    }

    /// The indices, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.0
            .iter()
            .flat_map(|&[first, count, step]| (0..count).map(move |k| first + k * step))
    }

    /// How many indices.
    pub fn count(&self) -> u64 {
        self.0.iter().map(|r| r[1]).sum()
    }
}

impl fmt::Display for IndexRuns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, &[first, count, step]) in self.0.iter().enumerate() {
            if n > 0 {
                f.write_str(",")?;
            }
            let last = first + step * count.saturating_sub(1);
            match (count, step) {
                (1, _) => write!(f, "{first}")?,
                (_, 1) => write!(f, "{first}-{last}")?,
                _ => write!(f, "{first}-{last}/{step}")?,
            }
        }
        Ok(())
    }
}

impl std::str::FromStr for IndexRuns {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || format!("invalid frame list {text:?}");
        let mut runs = Vec::new();
        let mut next = 0u64;
        for item in text.split(',').filter(|i| !i.is_empty()) {
            let (range, step) = match item.split_once('/') {
                Some((r, s)) => (r, s.parse::<u64>().map_err(|_| bad())?),
                None => (item, 1),
            };
            let (first, last) = match range.split_once('-') {
                Some((a, b)) => (
                    a.parse::<u64>().map_err(|_| bad())?,
                    b.parse::<u64>().map_err(|_| bad())?,
                ),
                None => {
                    let a = range.parse::<u64>().map_err(|_| bad())?;
                    (a, a)
                }
            };
            if step == 0 || last < first || (last - first) % step != 0 || first < next {
                return Err(bad());
            }
            let count = (last - first) / step + 1;
            runs.push([first, count, if count == 1 { 0 } else { step }]);
            next = last + 1;
        }
        Ok(Self(runs))
    }
}

impl Serialize for IndexRuns {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IndexRuns {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn build(stride: (u64, u64), frames: &[u64]) -> Vec<FrameRun> {
        let mut b = RunBuilder::new(Step::new(stride.0, stride.1).unwrap());
        for &f in frames {
            b.push(f);
        }
        let runs = b.finish();
        assert_eq!(frames_of(&runs).collect::<Vec<_>>(), frames, "{runs:?}");
        runs
    }

    #[test]
    fn a_resampling_is_one_run() {
        let every_other: Vec<u64> = (0..30).map(|i| 2 * i).collect();
        assert_eq!(build((2, 1), &every_other).len(), 1);
        let twice: Vec<u64> = (0..30).map(|i| i / 2).collect();
        let runs = build((1, 2), &twice);
        assert_eq!(runs.len(), 1);
        assert_eq!(
            serde_json::to_string(&runs[0]).unwrap(),
            r#"{"ticks":30,"frame":0,"step":"1/2"}"#
        );
        // 24 → 30 nearest frames: 0 1 2 2 3 4 5 6 6 7 …
        let frames = [0, 1, 2, 2, 3, 4, 5, 6, 6, 7, 8, 9, 10, 10, 11];
        assert_eq!(build((4, 5), &frames).len(), 1);
        // Starting mid-pattern needs a phase.
        let runs = build((4, 5), &frames[1..]);
        assert_eq!(runs.len(), 1);
        assert_ne!(runs[0].phase, 0);
    }

    #[test]
    fn held_frames_and_loops_split_runs() {
        let mut frames: Vec<u64> = (10..20).collect();
        frames.extend([19; 8]);
        frames.extend(0..5);
        let runs = build((1, 1), &frames);
        assert_eq!(runs.len(), 3, "{runs:?}");
        assert_eq!(runs[1].step, Step::ZERO);
        assert_eq!(build((1, 1), &[7]).len(), 1);
        assert!(build((1, 1), &[]).is_empty());
    }

    #[test]
    fn irregular_sequences_still_round_trip() {
        let frames = [0, 5, 5, 6, 30, 31, 2, 2, 2, 9, 100, 101, 103, 103];
        build((1, 1), &frames);
        build((7, 3), &frames);
        build((0, 1), &frames);
    }

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

    #[test]
    fn index_runs_are_arithmetic_progressions() {
        let runs = IndexRuns::from_ascending([0, 2, 4, 6, 7, 8, 9, 20, 25, 27, 30]);
        assert_eq!(
            runs.0,
            vec![
                [0, 4, 2],
                [7, 3, 1],
                [20, 1, 0],
                [25, 1, 0],
                [27, 1, 0],
                [30, 1, 0]
            ]
        );
        assert_eq!(runs.count(), 11);
        let all = vec![0, 2, 4, 6, 7, 8, 9, 20, 25, 27, 30];
        assert_eq!(runs.iter().collect::<Vec<_>>(), all);
        let json = serde_json::to_string(&runs).unwrap();
        assert_eq!(json, r#""0-6/2,7-9,20,25,27,30""#);
        assert_eq!(serde_json::from_str::<IndexRuns>(&json).unwrap(), runs);
        for bad in ["5,3", "1-0", "0-5/2", "x", "0-4/0"] {
            assert!(bad.parse::<IndexRuns>().is_err(), "{bad}");
        }
    }
}
