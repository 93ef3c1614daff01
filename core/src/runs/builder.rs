//! Writing a sequence of frames as [`FrameRun`]s.

use super::{FrameRun, Step};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runs::frames_of;

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
}
