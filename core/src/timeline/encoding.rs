//! The serialized form of a timeline: presentation times and keyframe
//! indices as runs of arithmetic progressions.

use serde::{Deserialize, Serialize};

use super::{Frames, TimeBase, Timeline, TimelineError, MAX_TIMELINE_FRAMES};
use crate::runs::progressions;

/// Expands runs `[first, step, count]`, refusing malformed ones.
fn from_runs(runs: &[[i64; 3]], max: u64) -> Result<Vec<i64>, TimelineError> {
    let mut total = 0u64;
    for (index, &[_, step, count]) in runs.iter().enumerate() {
        let bad = |problem| TimelineError::BadRun {
            index: index as u32,
            problem,
        };
        if count < 1 {
            return Err(bad("has a count below 1"));
        }
        if count > 1 && step < 1 {
            return Err(bad("has a step below 1"));
        }
        total = total.saturating_add(count as u64);
        if total > max {
            return Err(TimelineError::TooManyFrames { count: total, max });
        }
    }
    let mut values = Vec::with_capacity(total as usize);
    for (index, &[first, step, count]) in runs.iter().enumerate() {
        let last = step
            .checked_mul(count - 1)
            .and_then(|s| s.checked_add(first));
        if last.is_none() {
            return Err(TimelineError::BadRun {
                index: index as u32,
                problem: "overflows",
            });
        }
        values.extend((0..count).map(|i| first + step * i));
    }
    Ok(values)
}

/// The serialized form: `{"timeBase": "1/15360", "pts": [[0, 512, 90]],
/// "end": 46080, "keyframes": [[0, 30, 3]]}`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TimelineDef {
    time_base: TimeBase,
    pts: Vec<[i64; 3]>,
    end: i64,
    #[serde(default)]
    keyframes: Vec<[i64; 3]>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    decode_from: Vec<[u64; 2]>,
}

impl Serialize for Timeline {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Frames::Listed { pts, end } = &self.frames else {
            return Err(serde::ser::Error::custom(
                "an assumed timeline is not serialized (give its rate instead)",
            ));
        };
        TimelineDef {
            time_base: self.time_base,
            pts: progressions(pts.iter().copied()),
            end: *end,
            keyframes: progressions(self.keyframes.iter().map(|&k| k as i64)),
            decode_from: self.decode_from.iter().map(|(&f, &k)| [f, k]).collect(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Timeline {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let def = TimelineDef::deserialize(crate::composition::ObjectsOnly(deserializer))?;
        let pts = from_runs(&def.pts, MAX_TIMELINE_FRAMES).map_err(D::Error::custom)?;
        let keyframes = from_runs(&def.keyframes, MAX_TIMELINE_FRAMES).map_err(D::Error::custom)?;
        if keyframes.iter().any(|&k| k < 0) {
            return Err(D::Error::custom("keyframe indices must not be negative"));
        }
        let keyframes = keyframes.into_iter().map(|k| k as u64).collect();
        let decode_from = def.decode_from.iter().map(|&[f, k]| (f, k)).collect();
        Timeline::new(def.time_base, pts, def.end, keyframes)
            .and_then(|t| t.with_decode_from(decode_from))
            .map_err(D::Error::custom)
    }
}
