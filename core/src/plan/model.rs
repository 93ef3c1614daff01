//! The plan's shape: what the planner returns and what it serializes to
//! (`framex plan --json`, wasm's `plan`): units, assignments, totals.

use serde::{Deserialize, Serialize};

use crate::composition::{ImageFormat, Transfer};
use crate::request::SourceIdentity;
use crate::time::{Fps, PlaybackRate};
use crate::timeline::{FrameSource, HeldFrom};

/// Version of the plan's serialized shape.
pub const PLAN_SCHEMA_VERSION: u32 = 1;

/// The plan: what to extract, and where each element's frames come from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// [`PLAN_SCHEMA_VERSION`].
    pub schema: u32,
    /// The numbers a person wants to see.
    pub totals: Totals,
    /// The extractions to run, in order of their leader's first appearance.
    pub units: Vec<ExtractionUnit>,
    /// One per element, in input order.
    pub assignments: Vec<Assignment>,
    /// What a person should know, per element (a slot that starts past its
    /// source's end). Absent when there is nothing to say.
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

/// Totals over the plan.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    /// Elements in the composition.
    pub elements: u64,
    /// Distinct dedupe keys.
    pub unique_works: u64,
    /// Elements that share a unique work led by an earlier element.
    pub dedupe_hits: u64,
    /// Units that cover more than one unique work.
    pub superset_groups: u64,
    /// Unique works with a good cache entry already.
    pub cache_hits: u64,
    /// Extraction units (ffmpeg runs) to perform.
    pub units: u64,
    /// Frames over all elements, duplicates included: `ceil(duration × fps)`
    /// each, held and looped frames too.
    pub frames_requested: u64,
    /// Frames the units extract.
    pub frames_to_extract: u64,
    /// `frames_requested − frames_to_extract` (negative only when a superset
    /// gap makes units extract frames nobody asked for).
    pub frames_saved: i64,
    /// Frames that hold a last frame (linked, not extracted).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub frames_held: u64,
    /// Frames of loops past their first cycle (linked, not extracted).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub frames_looped: u64,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// One ffmpeg extraction: a range of one source at one rate and format, or
/// (`last_frame`) the source's true last frame.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtractionUnit {
    /// `u1`, `u2`, … in plan order.
    pub id: String,
    /// The `src` of the unit's leader, as written.
    pub src: String,
    /// The source's identity.
    pub source: SourceIdentity,
    /// First frame's source time, microseconds (0 for a last-frame unit).
    pub start_us: i64,
    /// Frame rate on the source's timeline: an element's fps over its
    /// playback rate (`1/1` for a last-frame unit).
    pub fps: Fps,
    /// Image format.
    pub format: ImageFormat,
    /// SDR→HDR transfer, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<Transfer>,
    /// PNG frames keep an alpha channel (`rgba`).
    pub alpha: bool,
    /// Frames the extraction must produce, exactly.
    pub frame_count: u64,
    /// One frame: the source's true last frame, which the executor finds
    /// from the source's frame timestamps (the planner does not know them).
    #[serde(default, skip_serializing_if = "is_false")]
    pub last_frame: bool,
    /// The element whose extraction this is; failures are reported under it.
    pub leader: String,
    /// The unique works the unit covers, by frame offset.
    pub members: Vec<UnitMember>,
}

/// A unique work inside a unit: a slice of its frames.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitMember {
    /// The work's leading element.
    pub leader: String,
    /// The work's cache key.
    pub cache_key: String,
    /// The slice of the unit's frames.
    pub slice: Slice,
}

/// Frames `offset .. offset + count` of a unit (0-based).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Slice {
    /// First frame, 0-based.
    pub offset: u64,
    /// Number of frames.
    pub count: u64,
}

/// How an element gets its frames.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Role {
    /// Leads its own unit.
    Leader,
    /// Shares the work led by `leader`.
    Duplicate {
        /// The leading element.
        leader: String,
    },
    /// Leads a work that is a slice of a larger unit.
    SupersetMember {
        /// The unit.
        unit: String,
        /// The unit's leader.
        leader: String,
    },
    /// Leads a work whose frames are already cached.
    CacheHit,
}

/// Where one element's frames come from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    /// The element.
    pub element_id: String,
    /// Its role.
    pub role: Role,
    /// Cache key of its unique work.
    pub cache_key: String,
    /// The work's frames are in the cache: nothing to extract.
    pub cache_hit: bool,
    /// The unit that extracts its frames (none for a cache hit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Its frames within the unit (for a cache hit: within the entry).
    pub slice: Slice,
    /// First frame's source time, microseconds.
    pub start_us: i64,
    /// Frame rate.
    pub fps: Fps,
    /// Frames in the element's directory, when not `slice.count` (a loop, or
    /// held frames): see [`Assignment::frame_source`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frames: Option<u64>,
    /// The playback rate, when not 1: frame `j` shows source time
    /// `startUs + j × playbackRate / fps`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playback_rate: Option<PlaybackRate>,
    /// A loop longer than its pass: frame `j` is slice frame `j mod
    /// cycle.frames`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cycle: Option<Cycle>,
    /// Frames past the slice that hold a last frame.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<Held>,
}

/// One pass of a loop: the slice's frames, repeated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cycle {
    /// Frames per cycle (the slice's count).
    pub frames: u64,
}

/// The frames of an element past the end of its pass.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Held {
    /// How many.
    pub frames: u64,
    /// `trim`: the slice's last frame (the trim ended the pass); `source`:
    /// the source's true last frame, a work of its own.
    pub from: HeldFrom,
    /// For `source`: the last-frame work's cache key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_key: Option<String>,
    /// For `source`: the last frame is in the cache already.
    #[serde(default, skip_serializing_if = "is_false")]
    pub cache_hit: bool,
    /// For `source`: the unit that extracts it (none for a cache hit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

impl Assignment {
    /// Frames in the element's directory.
    pub fn frame_count(&self) -> u64 {
        self.frames.unwrap_or(self.slice.count)
    }

    /// Where the element's frame `j` (0-based, below [`Self::frame_count`])
    /// comes from: `Grid(k)` is frame `k` of its slice, `LastFrame` the only
    /// frame of the held last-frame work (`held.cache_key`).
    pub fn frame_source(&self, j: u64) -> FrameSource {
        if let Some(cycle) = self.cycle {
            return FrameSource::Grid(j % cycle.frames.max(1));
        }
        if j < self.slice.count {
            return FrameSource::Grid(j);
        }
        match &self.held {
            Some(held) if held.from == HeldFrom::Source => FrameSource::LastFrame,
            _ => FrameSource::Grid(self.slice.count.saturating_sub(1)),
        }
    }

    /// The cache keys of every work the element's frames come from.
    pub fn cache_keys(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.cache_key.as_str())
            .chain(self.held.as_ref().and_then(|h| h.cache_key.as_deref()))
    }
}
