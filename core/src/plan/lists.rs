//! The frames elements show, as lists of runs: one list per distinct set
//! of parameters, and which lists show the same frames.

use std::collections::BTreeMap;

use super::sources::Source;
use crate::rule::TickRule;
use crate::runs::{frames_of, FrameRun, RunBuilder, Step};
use crate::time::{Fps, PlaybackRate};
use crate::timeline::{TimeBase, Timeline};

/// The frames of every tick as runs, and a fingerprint of them (FNV-1a over
/// the frame of every tick), to find elements that may show the same frames;
/// equal frames are then checked tick by tick.
pub(super) fn runs_of(rule: &TickRule, timeline: &Timeline) -> (Vec<FrameRun>, u64) {
    let (num, den) = rule.stride();
    let mut builder = RunBuilder::new(Step::new(num, den).unwrap_or(Step::ZERO));
    let mut print = FINGERPRINT_START;
    for frame in rule.shown(timeline) {
        print = fingerprint_step(print, frame);
        builder.push(frame);
    }
    (builder.finish(), print)
}

/// The fingerprint [`runs_of`] computes, from the runs.
#[cfg(test)]
fn fingerprint(runs: &[FrameRun]) -> u64 {
    frames_of(runs).fold(FINGERPRINT_START, fingerprint_step)
}

const FINGERPRINT_START: u64 = 0xcbf2_9ce4_8422_2325;

fn fingerprint_step(hash: u64, frame: u64) -> u64 {
    (hash ^ frame).wrapping_mul(0x0100_0000_01b3)
}

/// The distinct frame lists of the elements (elements with equal
/// [`TickKey`]s share one): the runs, and their fingerprint (see
/// [`runs_of`]).
#[derive(Default)]
pub(super) struct Lists {
    lists: Vec<(Vec<FrameRun>, u64)>,
    /// Whether two lists (`a < b`) show the same frames, once compared.
    same: BTreeMap<(usize, usize), bool>,
}

impl Lists {
    pub(super) fn runs(&self, list: usize) -> &[FrameRun] {
        &self.lists[list].0
    }

    pub(super) fn print(&self, list: usize) -> u64 {
        self.lists[list].1
    }

    pub(super) fn push(&mut self, list: (Vec<FrameRun>, u64)) -> usize {
        self.lists.push(list);
        self.lists.len() - 1
    }

    /// Whether lists `a` and `b` show the same frame on every tick, however
    /// their runs are written.
    pub(super) fn same(&mut self, a: usize, b: usize) -> bool {
        if a == b {
            return true;
        }
        let (a, b) = (a.min(b), a.max(b));
        let lists = &self.lists;
        *self.same.entry((a, b)).or_insert_with(|| {
            let (x, y) = (&lists[a].0, &lists[b].0);
            x == y || frames_of(x).eq(frames_of(y))
        })
    }
}

/// The parameters that decide an element's frames: equal parameters, equal
/// frames. The first is the source's [`timeline_classes`] class.
pub(super) type TickKey = (usize, i64, i64, Option<i64>, Fps, PlaybackRate, bool);

/// Per source, the first source whose frames are the same (whose ticks
/// therefore show the same frames): sources assumed at one rate and
/// length are alike; a probed timeline is its own.
pub(super) fn timeline_classes(sources: &[Source]) -> Vec<usize> {
    let mut assumed: BTreeMap<(TimeBase, Option<u64>), usize> = BTreeMap::new();
    (0..sources.len())
        .map(|s| {
            let timeline = &sources[s].timeline;
            if timeline.is_assumed() {
                *assumed
                    .entry((timeline.time_base(), timeline.len()))
                    .or_insert(s)
            } else {
                s
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_fingerprints_are_checked_tick_by_tick() {
        let run = |ticks, frame| FrameRun {
            ticks,
            frame,
            step: Step::new(1, 1).unwrap(),
            phase: 0,
        };
        let held = |ticks, frame| FrameRun {
            step: Step::ZERO,
            ..run(ticks, frame)
        };
        // 0 1 2 and 0 1 | 2: the same frames in other runs.
        assert_eq!(
            fingerprint(&[run(3, 0)]),
            fingerprint(&[run(2, 0), held(1, 2)])
        );
        assert_ne!(fingerprint(&[run(3, 0)]), fingerprint(&[run(3, 1)]));
    }
}
