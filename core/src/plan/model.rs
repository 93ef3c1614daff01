//! The plan's shape: what the planner returns and what it serializes to
//! (`framex plan --json`, wasm's `plan`).

use serde::{Deserialize, Serialize};

use crate::composition::{ImageFormat, Transfer};
use crate::request::SourceIdentity;
use crate::runs::{frames_of, FrameRun, IndexRuns};
use crate::time::{Fps, PlaybackRate};
use crate::timeline::TimeBase;

/// Version of the plan's serialized shape.
pub const PLAN_SCHEMA_VERSION: u32 = 2;

/// The plan: which source frame every tick of every element shows, and the
/// decode runs that make each distinct frame not yet stored, once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// [`PLAN_SCHEMA_VERSION`].
    pub schema: u32,
    /// The numbers a person wants to see.
    pub totals: Totals,
    /// Each distinct source, in order of the first element using it.
    pub sources: Vec<SourcePlan>,
    /// One per element, in input order.
    pub elements: Vec<ElementPlan>,
    /// What a person should know, per element (a slot that starts at or past
    /// its source's end). Absent when there is nothing to say.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
}

/// Something about an element that is no error but is likely a mistake.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Warning {
    /// The element.
    pub element_id: String,
    /// What is worth knowing.
    pub message: String,
}

/// Totals over the plan, counted in frames: a frame is one source frame in
/// one recipe.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    /// Elements in the composition.
    pub elements: u64,
    /// Ticks over all elements (`ceil(duration × fps)` each, duplicates,
    /// held and looped ticks included): the frames the element directories
    /// hold.
    pub frames_requested: u64,
    /// Distinct frames those ticks show.
    pub distinct_frames: u64,
    /// Ticks that show a frame another tick also shows:
    /// `frames_requested − distinct_frames`.
    pub dedupe_hits: u64,
    /// Distinct frames the store already holds.
    pub cache_hits: u64,
    /// Distinct frames to decode and encode: `distinct_frames − cache_hits`.
    pub frames_to_make: u64,
    /// `frames_requested − frames_to_make`.
    pub frames_saved: u64,
    /// Decode runs (one ffmpeg pass each, or more when split at keyframes).
    pub decode_runs: u64,
    /// Frames the decode runs decode, from their keyframes on: the frames to
    /// make and those decoded only to reach them.
    pub frames_to_decode: u64,
    /// Elements with the same frames as an earlier one.
    pub duplicates: u64,
}

/// One distinct source (one identity, however many `src` spellings).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourcePlan {
    /// `s1`, `s2`, … in plan order.
    pub id: String,
    /// The `src` of the first element using it, as written.
    pub src: String,
    /// Its identity.
    pub identity: SourceIdentity,
    /// The time base frame times are counted in.
    pub time_base: TimeBase,
    /// Frames in the source, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frames: Option<u64>,
    /// Set when the source's frames were not probed: the constant rate they
    /// are assumed to have (every frame a keyframe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assumed_rate: Option<Fps>,
    /// One entry per recipe its elements ask for.
    pub recipes: Vec<RecipePlan>,
}

/// The frames of one source in one recipe.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecipePlan {
    /// The recipe key: names every frame of this source in this recipe.
    pub key: String,
    /// Image format.
    pub format: ImageFormat,
    /// RGBA PNG.
    pub alpha: bool,
    /// SDR→HDR transfer, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<Transfer>,
    /// Distinct frames its elements show.
    pub distinct_frames: u64,
    /// Of those, frames the store holds.
    pub cache_hits: u64,
    /// Frames to make, in decode runs.
    pub runs: Vec<DecodeRun>,
}

/// One pass of the decoder: from a keyframe through the last frame to
/// make, keeping the frames to make.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecodeRun {
    /// `r1`, `r2`, … in order of their leaders.
    pub id: String,
    /// The first element (in input order) that needs one of its frames:
    /// failures are reported under its id.
    pub leader: String,
    /// The keyframe decoding starts from (frame index).
    pub keyframe: u64,
    /// The last frame decoded (frame index).
    pub last: u64,
    /// The frames to make (indices, ascending).
    pub make: IndexRuns,
}

impl DecodeRun {
    /// Frames decoded: from the keyframe through the last.
    pub fn decoded(&self) -> u64 {
        self.last - self.keyframe + 1
    }
}

/// How an element gets its frames.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Role {
    /// Leads at least one decode run.
    Leader,
    /// Shows exactly the frames of an earlier element.
    Duplicate {
        /// That element.
        of: String,
    },
    /// Needs frames that runs led by other elements make.
    Shares {
        /// The first such run.
        run: String,
        /// Its leader.
        leader: String,
    },
    /// Every frame it shows is stored already.
    CacheHit,
}

/// Where one element's frames come from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElementPlan {
    /// The element.
    pub element_id: String,
    /// Its role.
    pub role: Role,
    /// Its source (`s1`, …).
    pub source: String,
    /// Its recipe key.
    pub recipe: String,
    /// Start in the source, microseconds.
    pub start_us: i64,
    /// Frame rate.
    pub fps: Fps,
    /// The playback rate, when not 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playback_rate: Option<PlaybackRate>,
    /// Ticks in its slot: files in its directory.
    pub ticks: u64,
    /// Distinct frames it shows.
    pub distinct_frames: u64,
    /// Of those, frames the store holds.
    pub cache_hits: u64,
    /// The decode runs that make its other frames.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<String>,
    /// The frame each tick shows (source frame indices), compactly.
    pub frames: Vec<FrameRun>,
}

impl ElementPlan {
    /// The frame index each tick shows, in order.
    pub fn shown(&self) -> impl Iterator<Item = u64> + '_ {
        frames_of(&self.frames)
    }
}

impl Plan {
    /// The source an element plan names.
    pub fn source(&self, id: &str) -> Option<&SourcePlan> {
        self.sources.iter().find(|s| s.id == id)
    }

    /// Every decode run, with its source and recipe.
    pub fn runs(&self) -> impl Iterator<Item = (&SourcePlan, &RecipePlan, &DecodeRun)> {
        self.sources.iter().flat_map(|s| {
            s.recipes
                .iter()
                .flat_map(move |r| r.runs.iter().map(move |run| (s, r, run)))
        })
    }
}
