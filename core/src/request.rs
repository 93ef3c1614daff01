//! What the caller hands the planner: the composition, what it knows about
//! each source, and which cache entries already exist.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::composition::Composition;
use crate::time::Fps;
use crate::timeline::Timeline;

/// Everything the planner needs, and nothing it would have to fetch itself.
/// Read from a JSON object only, unknown fields refused (as the other
/// request types).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    /// The composition to plan.
    pub composition: Composition,
    /// Facts about sources, keyed by the element's `src` exactly as written.
    /// A source without an entry is known by its name alone.
    pub sources: BTreeMap<String, SourceFacts>,
    /// Frames the store already holds: per recipe key
    /// ([`crate::recipe_key`]), their presentation times (ticks, relative
    /// to the source's first frame).
    pub cached_frames: BTreeMap<String, BTreeSet<i64>>,
    /// Planning options.
    pub options: PlanOptions,
}

impl Request {
    /// Parses a request from JSON text, with the same error positions as
    /// [`Composition::from_json`].
    pub fn from_json(text: &str) -> Result<Self, crate::ParseError> {
        crate::composition::parse_json(text)
    }
}

/// Planning options; a missing field keeps its default.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanOptions {
    /// What starting a new decode run costs, in frames decoded: two runs of
    /// one source and recipe merge when the frames between them (up to the
    /// next run's keyframe) are fewer, since decoding through them is
    /// cheaper than a new seek.
    pub seek_cost_frames: u32,
}

/// The default [`PlanOptions::seek_cost_frames`]: starting an ffmpeg process
/// and seeking costs about as much as decoding this many 1080p frames.
pub const DEFAULT_SEEK_COST_FRAMES: u32 = 24;

impl Default for PlanOptions {
    fn default() -> Self {
        Self {
            seek_cost_frames: DEFAULT_SEEK_COST_FRAMES,
        }
    }
}

/// The rate assumed for a source whose frames are unknown and whose facts
/// name no `frameRate`.
pub const DEFAULT_ASSUMED_RATE: Fps = Fps::whole(30);

/// What the caller knows about one source.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceFacts {
    /// Who the source is, for keys.
    pub identity: SourceIdentity,
    /// The source has an alpha channel (PNG frames are then `rgba`).
    pub alpha: bool,
    /// Every frame's presentation time and the keyframes, from the probe.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Timeline>,
    /// Without a timeline: the nominal rate to assume (a constant-rate grid;
    /// default 30/1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame_rate: Option<Fps>,
    /// Without a timeline: the duration in microseconds, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_us: Option<i64>,
}

impl SourceFacts {
    /// The source's timeline: the probed one, or one assumed from the
    /// nominal rate and duration.
    pub fn timeline(&self) -> Cow<'_, Timeline> {
        match &self.timeline {
            Some(t) => Cow::Borrowed(t),
            None => Cow::Owned(Timeline::uniform(
                self.frame_rate.unwrap_or(DEFAULT_ASSUMED_RATE),
                self.duration_us,
            )),
        }
    }

    /// Whether the length of the source is known (a probed timeline, or a
    /// duration).
    pub fn has_end(&self) -> bool {
        self.timeline.is_some() || self.duration_us.is_some()
    }
}

/// The identity of a source: two elements share work only if their sources
/// have the same identity.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum SourceIdentity {
    /// A file on disk: canonical path, size and modification time. Any change
    /// of the file changes its identity.
    #[serde(rename_all = "camelCase")]
    File {
        /// Canonical absolute path.
        path: String,
        /// Size in bytes.
        size: u64,
        /// Modification time, nanoseconds since the Unix epoch.
        mtime_ns: i64,
    },
    /// The bytes themselves: a blake3 digest (hex) of the file's contents.
    /// Copies of one file at other paths share it.
    #[serde(rename_all = "camelCase")]
    Content {
        /// Lower-case hex blake3 digest.
        blake3: String,
    },
    /// Only a name is known (a plan made without touching the files).
    #[serde(rename_all = "camelCase")]
    Name {
        /// The `src` as written.
        name: String,
    },
}

impl Default for SourceIdentity {
    fn default() -> Self {
        SourceIdentity::Name {
            name: String::new(),
        }
    }
}

// How the request types are read: only from JSON objects (see
// `composition::ObjectsOnly`), unknown fields refused, missing optional
// fields defaulted. The mirrors must name every field: the derive builds the
// real type, so a field missing here does not compile.
objects_only!(
    Request => RequestDef,
    PlanOptions => PlanOptionsDef,
    SourceFacts => SourceFactsDef,
    SourceIdentity => SourceIdentityDef,
);

#[derive(Deserialize)]
#[serde(remote = "Request", rename_all = "camelCase", deny_unknown_fields)]
struct RequestDef {
    composition: Composition,
    #[serde(default)]
    sources: BTreeMap<String, SourceFacts>,
    #[serde(default)]
    cached_frames: BTreeMap<String, BTreeSet<i64>>,
    #[serde(default)]
    options: PlanOptions,
}

#[derive(Deserialize)]
#[serde(
    remote = "PlanOptions",
    rename_all = "camelCase",
    deny_unknown_fields,
    default = "PlanOptions::default"
)]
struct PlanOptionsDef {
    seek_cost_frames: u32,
}

#[derive(Deserialize)]
#[serde(remote = "SourceFacts", rename_all = "camelCase", deny_unknown_fields)]
struct SourceFactsDef {
    identity: SourceIdentity,
    #[serde(default)]
    alpha: bool,
    #[serde(default)]
    timeline: Option<Timeline>,
    #[serde(default)]
    frame_rate: Option<Fps>,
    #[serde(default)]
    duration_us: Option<i64>,
}

#[derive(Deserialize)]
#[serde(
    remote = "SourceIdentity",
    tag = "kind",
    rename_all = "camelCase",
    deny_unknown_fields
)]
enum SourceIdentityDef {
    #[serde(rename_all = "camelCase")]
    File {
        path: String,
        size: u64,
        mtime_ns: i64,
    },
    #[serde(rename_all = "camelCase")]
    Content { blake3: String },
    #[serde(rename_all = "camelCase")]
    Name { name: String },
}
