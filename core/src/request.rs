//! What the caller hands the planner: the composition, what it knows about
//! each source, and which cache entries already exist.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::composition::Composition;

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
    /// Cache keys that already have a good entry.
    pub cached_keys: BTreeSet<String>,
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
    /// Merge overlapping trims of one source into superset extractions.
    pub superset: bool,
    /// Also merge trims separated by at most this gap (microseconds); the gap's
    /// frames are extracted and not used. 0 merges overlapping or touching trims only.
    pub superset_gap_us: i64,
}

impl Default for PlanOptions {
    fn default() -> Self {
        Self {
            superset: true,
            superset_gap_us: 0,
        }
    }
}

/// What the caller knows about one source.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceFacts {
    /// Who the source is, for dedupe and cache keys.
    pub identity: SourceIdentity,
    /// Probed duration in microseconds (end of the last frame), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_us: Option<i64>,
    /// The source has an alpha channel (PNG frames are then `rgba`).
    pub alpha: bool,
    /// The source has a variable frame rate.
    pub vfr: bool,
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
    cached_keys: BTreeSet<String>,
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
    superset: bool,
    superset_gap_us: i64,
}

#[derive(Deserialize)]
#[serde(remote = "SourceFacts", rename_all = "camelCase", deny_unknown_fields)]
struct SourceFactsDef {
    identity: SourceIdentity,
    #[serde(default)]
    duration_us: Option<i64>,
    #[serde(default)]
    alpha: bool,
    #[serde(default)]
    vfr: bool,
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
