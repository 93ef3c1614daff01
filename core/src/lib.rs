//! # framex-core
//!
//! Pure planning of video frame extraction. Given a composition (video
//! elements on a timeline) and what the caller knows about each source (its
//! frames' presentation times and keyframes, from a probe), it decides which
//! source frame every tick of every element shows, by one rule
//! ([`rule`](crate::TickRule)), and plans to make each distinct source frame
//! once: across elements, rates, loops, held frames and, through the
//! caller's frame store, renders.
//!
//! The crate does no I/O, reads no clock, starts no threads and uses no
//! randomness (`clippy.toml` enforces it): the same request gives the same
//! plan, byte for byte, natively and in WebAssembly.
//!
//! ```
//! use framex_core::{plan, Composition, Request};
//!
//! let composition = Composition::from_json(r#"{"elements": [
//!   {"id": "a", "src": "loop.mp4", "mediaStart": 0, "duration": 2, "fps": 30, "format": "png"},
//!   {"id": "b", "src": "loop.mp4", "mediaStart": 1, "duration": 2, "fps": 30, "format": "png"}
//! ]}"#).unwrap();
//! let plan = plan(&Request { composition, ..Request::default() }).unwrap();
//! // 120 ticks show 90 distinct frames (a 30 fps source is assumed here).
//! assert_eq!(plan.totals.frames_requested, 120);
//! assert_eq!(plan.totals.distinct_frames, 90);
//! assert_eq!(plan.totals.decode_runs, 1);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// `Deserialize` for a type through its private mirror `$def`, which derives
/// it with `#[serde(remote = "$ty")]` and the type's field rules: read only
/// from a JSON object ([`composition::ObjectsOnly`]).
macro_rules! objects_only {
    ($($ty:ident => $def:ident),* $(,)?) => {$(
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $def::deserialize(crate::composition::ObjectsOnly(deserializer))
            }
        }
    )*};
}

/// `Serialize` as the type's `Display` text, and `Deserialize` from a
/// string through `$parse` (`fn(&str) -> Result<Self, String>`, the error
/// being the message).
macro_rules! serde_as_text {
    ($ty:ty, $parse:expr) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let parse: fn(&str) -> Result<$ty, String> = $parse;
                let text = <String as serde::Deserialize>::deserialize(deserializer)?;
                parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

mod chunk;
mod composition;
mod error;
mod key;
mod plan;
mod recipe;
mod request;
mod rule;
mod runs;
mod str_map;
mod suggest;
mod time;
mod timeline;
mod validate;

pub use chunk::{ticks_shown, OutputFrames};
pub use composition::{
    parse_json, Composition, ElementInput, FpsInput, IdentityMode, ImageFormat, Transfer,
};
pub use error::{ElementError, ErrorDetail, Field, ParseError, PlanError, Problem};
pub use key::{element_key, frame_key, recipe_key, recipe_key_text, Recipe, CACHE_SCHEMA_VERSION};
pub use plan::{
    element_frames, plan, plan_elements, source_facts, DecodeRun, ElementPlan, Plan, RecipePlan,
    Role, SourcePlan, Totals, Warning, PLAN_SCHEMA_VERSION,
};
pub use recipe::{
    alpha_decoder, decode_args, describe as describe_recipe, Arg, DecodeSource, EncodeSettings,
    RawFormat, ENCODE, RECIPE_VERSION,
};
pub use request::{
    PlanOptions, Request, SourceFacts, SourceIdentity, DEFAULT_ASSUMED_RATE,
    DEFAULT_SEEK_COST_FRAMES,
};
pub use rule::{Overflow, TickRule};
pub use runs::{frames_of, FrameRun, IndexRuns, RunBuilder, Step};
pub use suggest::with_suggestion;
pub use time::{format_us, seconds_to_us, Fps, PlaybackRate, MAX_FPS, US_PER_SEC};
pub use timeline::{TimeBase, Timeline, TimelineError, MAX_TIMELINE_FRAMES};
pub use validate::{
    check_id, validate, validate_fields, Element, MAX_ELEMENTS, MAX_FRAMES_PER_ELEMENT,
    MAX_ID_BYTES,
};

/// The version of this crate.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
