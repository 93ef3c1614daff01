//! Typed errors. Each names what was wrong and where: the element (by id and
//! position), the field, and the offending value.

use std::fmt;

use serde::Serialize;
use thiserror::Error;

/// Ids longer than this are shortened in messages (the full id is refused anyway).
const ID_SHOWN_MAX: usize = 64;

/// A composition that is not well-formed JSON of the right shape.
#[derive(Clone, Debug, PartialEq, Eq, Error, Serialize)]
#[serde(rename_all = "camelCase")]
#[error("{}line {line}, column {column}: {message}", path_prefix(path))]
pub struct ParseError {
    /// Path of the offending field (`elements[3].fps`), empty at top level.
    pub path: String,
    /// 1-based line of the error.
    pub line: u64,
    /// 1-based column of the error.
    pub column: u64,
    /// What serde_json said was wrong.
    pub message: String,
}

fn path_prefix(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    }
}

/// A field of an element, as spelled in the composition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Field {
    /// `id`
    Id,
    /// `src`
    Src,
    /// `mediaStart`
    MediaStart,
    /// `duration`
    Duration,
    /// `mediaDuration`
    MediaDuration,
    /// `start`
    Start,
    /// `fps`
    Fps,
    /// `playbackRate`
    PlaybackRate,
    /// `loop`
    Loop,
    /// `format`
    Format,
    /// `sdrToHdrTransfer`
    SdrToHdrTransfer,
    /// `identity`
    Identity,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Id => "id",
            Field::Src => "src",
            Field::MediaStart => "mediaStart",
            Field::Duration => "duration",
            Field::MediaDuration => "mediaDuration",
            Field::Start => "start",
            Field::Fps => "fps",
            Field::PlaybackRate => "playbackRate",
            Field::Loop => "loop",
            Field::Format => "format",
            Field::SdrToHdrTransfer => "sdrToHdrTransfer",
            Field::Identity => "identity",
        })
    }
}

/// What is wrong with one element's value.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum Problem {
    /// The id is the empty string.
    #[error("is empty")]
    EmptyId,
    /// Another element earlier in the composition has the same id.
    #[error("duplicates the id of element #{first}")]
    DuplicateId {
        /// Position of the first element with this id.
        first: u32,
    },
    /// The id cannot safely be used as a directory name.
    #[error("is not a safe directory name: {reason}")]
    UnsafeId {
        /// Why not (`contains '/'`, `is a reserved name`, …).
        reason: String,
    },
    /// `src` is empty.
    #[error("is empty")]
    EmptySource,
    /// A time is NaN-like, infinite or beyond the accepted range.
    #[error("{value} is not a usable time in seconds (must be finite and at most 10000000)")]
    TimeOutOfRange {
        /// The value as written.
        value: String,
    },
    /// `mediaStart` or `start` is below zero.
    #[error("must be zero or positive, got {value}")]
    NegativeStart {
        /// The value as written.
        value: String,
    },
    /// `duration` or `mediaDuration` is zero or negative (after rounding to
    /// microseconds).
    #[error("must be positive, got {value}")]
    NonPositiveDuration {
        /// The value as written.
        value: String,
    },
    /// `fps` is zero, negative, above 1000 or not a number.
    #[error("{value} is not a frame rate (expected a number or \"num/den\" in (0, 1000])")]
    InvalidFps {
        /// The value as written.
        value: String,
    },
    /// `format` is not one of the known formats.
    #[error("{value:?} is not a known format (expected \"png\" or \"jpeg\")")]
    UnknownFormat {
        /// The value as written.
        value: String,
    },
    /// `sdrToHdrTransfer` is not one of the known transfers.
    #[error("{value:?} is not a known transfer (expected \"pq\" or \"hlg\")")]
    UnknownTransfer {
        /// The value as written.
        value: String,
    },
    /// `playbackRate` is zero, negative, outside `[1/100, 100]` or not a number.
    #[error("{value} is not a playback rate (expected a number or \"num/den\" in [1/100, 100])")]
    InvalidPlaybackRate {
        /// The value as written.
        value: String,
    },
    /// `identity` is not one of the known source identities.
    #[error("{value:?} is not a known source identity (expected \"file\" or \"content\")")]
    UnknownIdentity {
        /// The value as written.
        value: String,
    },
    /// The slot has more frames than an element may have.
    #[error("makes {frames} frames at this fps; at most {max} are accepted per element")]
    TooManyFrames {
        /// `ceil(duration × fps)`.
        frames: u64,
        /// The limit.
        max: u64,
    },
    /// The exact arithmetic of the element's ticks on its source would
    /// overflow 128 bits (an extreme time base, rate and start together).
    #[error("its ticks cannot be computed exactly on this source (the arithmetic overflows)")]
    TimeOverflow,
    /// `loop` is set but the length of a pass is unknown: no `mediaDuration`
    /// and no known source duration.
    #[error(
        "needs the length of one pass: give `mediaDuration`, or a source whose duration is known"
    )]
    LoopNeedsPassLength,
}

/// One bad element: which one, which field, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("element {} (#{index}): `{field}` {problem}", shown_id(id))]
pub struct ElementError {
    /// Position of the element in the composition (0-based).
    pub index: u32,
    /// The element's id as written (may be empty or hostile).
    pub id: String,
    /// The offending field.
    pub field: Field,
    /// What is wrong with it.
    pub problem: Problem,
}

/// Quotes an id for a message, shortened when it is very long.
fn shown_id(id: &str) -> String {
    if id.len() <= ID_SHOWN_MAX {
        return format!("{id:?}");
    }
    let mut end = ID_SHOWN_MAX;
    while !id.is_char_boundary(end) {
        end -= 1;
    }
    format!("{:?}… ({} bytes)", &id[..end], id.len())
}

/// The serializable form of an [`ElementError`], for reports and JavaScript.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    /// Position of the element in the composition (0-based).
    pub index: u32,
    /// The element's id as written.
    pub element_id: String,
    /// The offending field.
    pub field: Field,
    /// The whole message.
    pub message: String,
}

impl ElementError {
    /// The serializable form.
    pub fn detail(&self) -> ErrorDetail {
        ErrorDetail {
            index: self.index,
            element_id: self.id.clone(),
            field: self.field,
            message: self.to_string(),
        }
    }
}

/// Why a request could not be planned.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum PlanError {
    /// The composition is not well-formed.
    #[error("invalid composition: {0}")]
    Parse(#[from] ParseError),
    /// One or more elements are invalid; every one is listed.
    #[error("{} invalid element{}:\n{}", .0.len(), if .0.len() == 1 { "" } else { "s" }, list(.0))]
    Invalid(Vec<ElementError>),
    /// A source's facts cannot be used.
    #[error("source {src:?}: timeline {problem}")]
    BadTimeline {
        /// The `src` as written.
        src: String,
        /// What is wrong.
        problem: crate::timeline::TimelineError,
    },
    /// More elements than a plan may hold.
    #[error("the composition has {count} elements; at most {max} are accepted")]
    TooManyElements {
        /// How many the composition has.
        count: u64,
        /// The limit.
        max: u64,
    },
}

fn list(errors: &[ElementError]) -> String {
    errors
        .iter()
        .map(|e| format!("  - {e}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl PlanError {
    /// The per-element errors, if this is a validation failure.
    pub fn element_errors(&self) -> &[ElementError] {
        match self {
            PlanError::Invalid(errors) => errors,
            _ => &[],
        }
    }
}
