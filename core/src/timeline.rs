//! A source's frames: every frame's presentation time, exactly, in the
//! stream's own time base, relative to the first frame; where the source
//! ends; which frames are keyframes.
//!
//! The executor builds a [`Timeline`] from the probe (packet timestamps in
//! presentation order, discarded and edit-list packets left out). A caller
//! that knows only a nominal rate (the browser preview) gets an *assumed*
//! one: [`Timeline::uniform`], a constant-rate grid at that rate.
//!
//! Serialized compactly: presentation times and keyframe indices as runs of
//! arithmetic progressions `[first, step, count]`, so an hour of a constant
//! rate source is one run.

use std::collections::BTreeMap;

use crate::time::Fps;

mod encoding;
mod seeker;
mod time_base;

pub(crate) use seeker::Seeker;
pub use time_base::TimeBase;

/// The frames of one source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeline {
    time_base: TimeBase,
    frames: Frames,
    /// Frame indices that decoding can start from, ascending; never empty
    /// (frame 0 counts as one when the probe names none before it).
    keyframes: Vec<u64>,
    /// Frames that the last keyframe before them in presentation order does
    /// not reach: with open GOPs, a frame shown after a keyframe but decoded
    /// before it. Frame → the keyframe to decode it from.
    decode_from: BTreeMap<u64, u64>,
    /// The lower median of the intervals between consecutive frames, in
    /// ticks; 0 for a one-frame source.
    median_interval: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Frames {
    /// Probed presentation times, strictly increasing from 0, and the end of
    /// the last frame (its time plus its duration), all in ticks.
    Listed { pts: Vec<i64>, end: i64 },
    /// A constant-rate grid assumed from a nominal rate: frame `i` at tick
    /// `i` (the time base is one frame period), `count` frames when known.
    Assumed { count: Option<u64> },
}

/// Why a timeline cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TimelineError {
    /// No frame at all.
    #[error("has no frames")]
    Empty,
    /// A run of presentation times or keyframes is malformed.
    #[error("run #{index} {problem}")]
    BadRun {
        /// Position of the run.
        index: u32,
        /// What is wrong.
        problem: &'static str,
    },
    /// Presentation times are not strictly increasing from 0 (two frames at
    /// one time, or out of order): framex cannot tell which frame a tick shows.
    #[error("presentation times must increase strictly from 0 (frame {index} at {pts})")]
    NotIncreasing {
        /// The offending frame.
        index: u64,
        /// Its time.
        pts: i64,
    },
    /// The end is not after the last frame's time.
    #[error("end {end} is not after the last frame's time {last}")]
    EndBeforeLastFrame {
        /// The end given.
        end: i64,
        /// The last frame's time.
        last: i64,
    },
    /// A keyframe index names no frame, or keyframes are not ascending.
    #[error("keyframe {index} is out of range or out of order")]
    BadKeyframe {
        /// The offending index.
        index: u64,
    },
    /// More frames than a timeline may list.
    #[error("lists {count} frames; at most {max} are accepted")]
    TooManyFrames {
        /// How many it lists.
        count: u64,
        /// The limit.
        max: u64,
    },
}

/// The most frames a listed timeline may have (about 46 hours at 60 fps).
pub const MAX_TIMELINE_FRAMES: u64 = 10_000_000;

impl Timeline {
    /// A probed timeline: `pts` strictly increasing from 0 (ticks of
    /// `time_base`), `end` after the last, `keyframes` ascending indices.
    pub fn new(
        time_base: TimeBase,
        pts: Vec<i64>,
        end: i64,
        keyframes: Vec<u64>,
    ) -> Result<Self, TimelineError> {
        let Some(&last) = pts.last() else {
            return Err(TimelineError::Empty);
        };
        if pts.len() as u64 > MAX_TIMELINE_FRAMES {
            return Err(TimelineError::TooManyFrames {
                count: pts.len() as u64,
                max: MAX_TIMELINE_FRAMES,
            });
        }
        if pts[0] != 0 {
            return Err(TimelineError::NotIncreasing {
                index: 0,
                pts: pts[0],
            });
        }
        if let Some(i) = pts.windows(2).position(|w| w[1] <= w[0]) {
            return Err(TimelineError::NotIncreasing {
                index: i as u64 + 1,
                pts: pts[i + 1],
            });
        }
        if end <= last {
            return Err(TimelineError::EndBeforeLastFrame { end, last });
        }
        let keyframes = checked_keyframes(keyframes, pts.len() as u64)?;
        let median_interval = lower_median_interval(&pts);
        Ok(Self {
            time_base,
            frames: Frames::Listed { pts, end },
            keyframes,
            decode_from: BTreeMap::new(),
            median_interval,
        })
    }

    /// A constant-rate timeline assumed from a nominal `rate`: `duration_us`
    /// long when known (`ceil(duration × rate)` frames), else unbounded.
    /// Every frame counts as a keyframe (nothing is known of the GOPs).
    pub fn uniform(rate: Fps, duration_us: Option<i64>) -> Self {
        let count = duration_us.map(|d| rate.frames_in(d).max(1));
        Self {
            time_base: TimeBase {
                num: rate.den(),
                den: rate.num(),
            },
            frames: Frames::Assumed { count },
            keyframes: Vec::new(),
            decode_from: BTreeMap::new(),
            median_interval: i64::from(count != Some(1)),
        }
    }

    /// The stream's time base.
    pub fn time_base(&self) -> TimeBase {
        self.time_base
    }

    /// Whether this timeline was assumed from a nominal rate, not probed.
    pub fn is_assumed(&self) -> bool {
        matches!(self.frames, Frames::Assumed { .. })
    }

    /// Number of frames; `None` for an unbounded assumed timeline.
    pub fn len(&self) -> Option<u64> {
        match &self.frames {
            Frames::Listed { pts, .. } => Some(pts.len() as u64),
            Frames::Assumed { count } => *count,
        }
    }

    /// Never true: a timeline has at least one frame.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Presentation time of frame `index` (ticks, relative to frame 0).
    pub fn pts(&self, index: u64) -> i64 {
        match &self.frames {
            Frames::Listed { pts, .. } => pts[index as usize],
            Frames::Assumed { .. } => index as i64,
        }
    }

    /// The index of the frame at exactly `pts`, if there is one.
    pub fn index_of(&self, pts: i64) -> Option<u64> {
        match &self.frames {
            Frames::Listed { pts: all, .. } => all.binary_search(&pts).ok().map(|i| i as u64),
            Frames::Assumed { count } => {
                (pts >= 0 && count.is_none_or(|c| (pts as u64) < c)).then_some(pts as u64)
            }
        }
    }

    /// The end of the last frame (its time plus its duration), in ticks;
    /// `None` for an unbounded assumed timeline.
    pub fn end(&self) -> Option<i64> {
        match &self.frames {
            Frames::Listed { end, .. } => Some(*end),
            Frames::Assumed { count } => count.map(|c| c as i64),
        }
    }

    /// The end in microseconds, rounded up, when known.
    pub fn end_us(&self) -> Option<i64> {
        self.end().map(|e| self.time_base.ticks_to_us_ceil(e))
    }

    /// The lower median of the intervals between consecutive frames, ticks.
    pub fn median_interval(&self) -> i64 {
        self.median_interval
    }

    /// The last frame whose time is at or below `limit` ticks, if any.
    pub fn last_at_or_below(&self, limit: i64) -> Option<u64> {
        if limit < 0 {
            return None;
        }
        match &self.frames {
            Frames::Listed { pts, .. } => {
                let after = pts.partition_point(|&p| p <= limit);
                after.checked_sub(1).map(|i| i as u64)
            }
            Frames::Assumed { count } => Some(match count {
                Some(c) => (limit as u64).min(c - 1),
                None => limit as u64,
            }),
        }
    }

    /// The same timeline, where each frame in `decode_from` is decoded from
    /// the keyframe it names instead of the last keyframe before it in
    /// presentation order (which must be later: these are the exceptions).
    pub fn with_decode_from(
        mut self,
        decode_from: BTreeMap<u64, u64>,
    ) -> Result<Self, TimelineError> {
        for (&frame, &keyframe) in &decode_from {
            let listed = self.keyframes.binary_search(&keyframe).is_ok();
            if !listed || keyframe >= frame || self.len().is_some_and(|n| frame >= n) {
                return Err(TimelineError::BadKeyframe { index: keyframe });
            }
        }
        self.decode_from = decode_from;
        Ok(self)
    }

    /// The keyframe decoding starts from to reach frame `index`: the last
    /// keyframe at or before it in presentation order (0 when none is), or,
    /// for a frame decoded before that keyframe (open GOPs), the one the
    /// probe named.
    pub fn keyframe_for(&self, index: u64) -> u64 {
        if self.is_assumed() {
            return index;
        }
        if let Some(&k) = self.decode_from.get(&index) {
            return k;
        }
        let after = self.keyframes.partition_point(|&k| k <= index);
        after.checked_sub(1).map_or(0, |i| self.keyframes[i])
    }

    /// The keyframe indices (frame 0 first when no other is listed before it).
    pub fn keyframes(&self) -> &[u64] {
        &self.keyframes
    }
}

fn checked_keyframes(mut keyframes: Vec<u64>, len: u64) -> Result<Vec<u64>, TimelineError> {
    if let Some(i) = keyframes.windows(2).position(|w| w[1] <= w[0]) {
        return Err(TimelineError::BadKeyframe {
            index: keyframes[i + 1],
        });
    }
    if let Some(&k) = keyframes.iter().find(|&&k| k >= len) {
        return Err(TimelineError::BadKeyframe { index: k });
    }
    if keyframes.first() != Some(&0) {
        keyframes.insert(0, 0);
    }
    Ok(keyframes)
}

/// The lower median of the intervals between consecutive times (element
/// `(len − 1) / 2` of them sorted); 0 for a single time.
fn lower_median_interval(pts: &[i64]) -> i64 {
    let mut intervals: Vec<i64> = pts.windows(2).map(|w| w[1] - w[0]).collect();
    if intervals.is_empty() {
        return 0;
    }
    let middle = (intervals.len() - 1) / 2;
    *intervals.select_nth_unstable(middle).1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tb(n: u32, d: u32) -> TimeBase {
        TimeBase::new(n, d).unwrap()
    }

    #[test]
    fn a_constant_rate_timeline_is_one_run() {
        let pts: Vec<i64> = (0..90).map(|i| i * 512).collect();
        let t = Timeline::new(tb(1, 15360), pts, 90 * 512, vec![0, 30, 60]).unwrap();
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(
            json,
            r#"{"timeBase":"1/15360","pts":[[0,512,90]],"end":46080,"keyframes":[[0,30,3]]}"#
        );
        assert_eq!(serde_json::from_str::<Timeline>(&json).unwrap(), t);
        assert_eq!(t.median_interval(), 512);
        assert_eq!(t.end_us(), Some(3_000_000));
        assert_eq!(t.keyframe_for(29), 0);
        assert_eq!(t.keyframe_for(30), 30);
        assert_eq!(t.keyframe_for(89), 60);
        // A frame shown after keyframe 60 but decoded before it.
        let t = t.with_decode_from([(62, 30)].into()).unwrap();
        assert_eq!((t.keyframe_for(61), t.keyframe_for(62)), (60, 30));
        let json = serde_json::to_string(&t).unwrap();
        assert!(json.ends_with(r#""decodeFrom":[[62,30]]}"#), "{json}");
        assert_eq!(serde_json::from_str::<Timeline>(&json).unwrap(), t);
        assert!(t.clone().with_decode_from([(62, 61)].into()).is_err());
        assert_eq!(t.last_at_or_below(1023), Some(1));
        assert_eq!(t.last_at_or_below(1024), Some(2));
        assert_eq!(t.last_at_or_below(-1), None);
        assert_eq!(t.index_of(1024), Some(2));
        assert_eq!(t.index_of(1000), None);
    }

    #[test]
    fn the_median_is_the_lower_one_and_ignores_a_gap() {
        // Intervals 10, 10, 12, 300, 9: sorted 9 10 10 12 300, lower median 10.
        let t = Timeline::new(tb(1, 1000), vec![0, 10, 20, 32, 332, 341], 351, vec![]).unwrap();
        assert_eq!(t.median_interval(), 10);
        // Two intervals: the lower of the two.
        let t = Timeline::new(tb(1, 1000), vec![0, 10, 30], 40, vec![]).unwrap();
        assert_eq!(t.median_interval(), 10);
        let t = Timeline::new(tb(1, 1000), vec![0], 40, vec![]).unwrap();
        assert_eq!(t.median_interval(), 0);
        assert_eq!(t.keyframes(), &[0]);
    }

    #[test]
    fn malformed_timelines_are_refused() {
        let t = |pts: Vec<i64>, end, keys| Timeline::new(tb(1, 30), pts, end, keys);
        assert_eq!(t(vec![], 1, vec![]), Err(TimelineError::Empty));
        assert!(matches!(
            t(vec![0, 2, 2], 3, vec![]),
            Err(TimelineError::NotIncreasing { index: 2, .. })
        ));
        assert!(matches!(
            t(vec![1, 2], 3, vec![]),
            Err(TimelineError::NotIncreasing { index: 0, .. })
        ));
        assert!(matches!(
            t(vec![0, 2], 2, vec![]),
            Err(TimelineError::EndBeforeLastFrame { .. })
        ));
        assert!(matches!(
            t(vec![0, 2], 3, vec![2]),
            Err(TimelineError::BadKeyframe { index: 2 })
        ));
        for json in [
            r#"{"timeBase":"1/30","pts":[[0,1,0]],"end":1}"#,
            r#"{"timeBase":"1/30","pts":[[0,0,2]],"end":1}"#,
            r#"{"timeBase":"0/30","pts":[[0,1,1]],"end":1}"#,
            r#"{"timeBase":"1/30","pts":[[0,1,1]],"end":1,"keyframes":[[-1,1,1]]}"#,
            r#"{"timeBase":"1/30","pts":[[0,1,20000000]],"end":1}"#,
            r#"{"timeBase":"1/30","pts":[[0,4611686018427387904,3]],"end":1}"#,
            r#"["1/30",[[0,1,1]],1]"#,
        ] {
            assert!(serde_json::from_str::<Timeline>(json).is_err(), "{json}");
        }
    }

    #[test]
    fn an_assumed_timeline_is_a_grid_at_its_rate() {
        let t = Timeline::uniform(Fps::new(30, 1).unwrap(), Some(2_000_000));
        assert!(t.is_assumed());
        assert_eq!(t.len(), Some(60));
        assert_eq!(t.time_base().to_string(), "1/30");
        assert_eq!(t.last_at_or_below(100), Some(59));
        assert_eq!(t.keyframe_for(17), 17);
        assert_eq!(t.end_us(), Some(2_000_000));
        let open = Timeline::uniform(Fps::new(24, 1).unwrap(), None);
        assert_eq!(open.len(), None);
        assert_eq!(open.last_at_or_below(1_000_000), Some(1_000_000));
        assert!(serde_json::to_string(&open).is_err());
    }
}
