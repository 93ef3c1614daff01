//! Grouping the frames to make into decode runs.
//!
//! A run starts at the keyframe at or before its first frame (in
//! presentation order, so an open-GOP frame that precedes its keyframe is
//! reached from the GOP before) and decodes through its last frame. The next
//! frame to make joins the run when decoding through to it is cheaper than
//! a new run: when its keyframe lies within the run already, or when fewer
//! than `seek_cost` frames lie between the run's last frame and that
//! keyframe (those would be decoded and dropped; a new run instead costs
//! about `seek_cost` frames of decoding: a process, a seek, a decoder
//! warming up).

use crate::timeline::Timeline;

/// A run while planning: frame indices `keyframe..=last`, keeping `make`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Run {
    pub keyframe: u64,
    pub last: u64,
    /// `(frame index, first element showing it)`, ascending.
    pub make: Vec<(u64, u32)>,
}

impl Run {
    /// The first element (input order) that needs a frame of the run.
    pub fn leader(&self) -> u32 {
        self.make.iter().map(|&(_, e)| e).min().unwrap_or(0)
    }
}

/// Groups `frames` (ascending `(index, first element)`) into runs.
pub(crate) fn group(
    frames: impl Iterator<Item = (u64, u32)>,
    timeline: &Timeline,
    seek_cost: u32,
) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    for (index, element) in frames {
        let keyframe = timeline.keyframe_for(index);
        match runs.last_mut() {
            Some(run) if keyframe <= run.last || keyframe - run.last - 1 < u64::from(seek_cost) => {
                run.last = index;
                run.make.push((index, element));
            }
            _ => runs.push(Run {
                keyframe,
                last: index,
                make: vec![(index, element)],
            }),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::TimeBase;

    fn timeline(frames: i64, keyframes: Vec<u64>) -> Timeline {
        let tb = TimeBase::new(1, 30).unwrap();
        Timeline::new(tb, (0..frames).collect(), frames, keyframes).unwrap()
    }

    fn spans(runs: &[Run]) -> Vec<(u64, u64, usize)> {
        runs.iter()
            .map(|r| (r.keyframe, r.last, r.make.len()))
            .collect()
    }

    #[test]
    fn runs_start_at_keyframes_and_merge_when_decoding_through_is_cheaper() {
        let t = timeline(300, vec![0, 60, 120, 180, 240]);
        let frames = |r: std::ops::Range<u64>| r.map(|i| (i, 0)).collect::<Vec<_>>();
        // 70..80 and 100..110: keyframe 60 for both: one run.
        let f = [frames(70..80), frames(100..110)].concat();
        assert_eq!(spans(&group(f.into_iter(), &t, 24)), vec![(60, 109, 20)]);
        // 10..20 and 130..140: keyframe 120 lies 100 frames past 19: two runs.
        let f = [frames(10..20), frames(130..140)].concat();
        assert_eq!(
            spans(&group(f.into_iter(), &t, 24)),
            vec![(0, 19, 10), (120, 139, 10)]
        );
        // 40..50 and 61..70: keyframe 60, 10 frames after 49: merged at cost 24,
        // not at cost 5.
        let f = [frames(40..50), frames(61..70)].concat();
        assert_eq!(
            spans(&group(f.clone().into_iter(), &t, 24)),
            vec![(0, 69, 19)]
        );
        assert_eq!(
            spans(&group(f.into_iter(), &t, 5)),
            vec![(0, 49, 10), (60, 69, 9)]
        );
    }

    #[test]
    fn a_run_leader_is_the_earliest_element() {
        let t = timeline(30, vec![0]);
        let runs = group([(3, 7), (4, 2), (9, 5)].into_iter(), &t, 24);
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].leader(), 2);
    }
}
