//! # framex-core
//!
//! Pure planning of video frame extraction. Given a composition (video
//! elements on a timeline) and what the caller knows about each source, it
//! returns the smallest set of extractions that covers every element, and
//! where each element's frames come from.
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
//!   {"id": "b", "src": "loop.mp4", "mediaStart": 0, "duration": 2, "fps": 30, "format": "png"}
//! ]}"#).unwrap();
//! let plan = plan(&Request { composition, ..Request::default() }).unwrap();
//! assert_eq!(plan.totals.units, 1);
//! assert_eq!(plan.totals.dedupe_hits, 1);
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

pub mod composition;
pub mod error;
pub mod frames;
pub mod key;
pub mod plan;
pub mod request;
pub mod time;
pub mod timeline;
pub mod validate;

pub use composition::{
    parse_json, Composition, ElementInput, FpsInput, IdentityMode, ImageFormat, Transfer,
};
pub use error::{ElementError, ErrorDetail, Field, ParseError, PlanError, Problem};
pub use frames::{distinct_runs, rescale_near, shown_frames};
pub use key::{DedupeKey, CACHE_SCHEMA_VERSION, RECIPE_VERSION};
pub use plan::{
    dedupe_key, plan, plan_elements, source_facts, Assignment, Cycle, ExtractionUnit, Held, Plan,
    Role, Slice, Totals, UnitMember, Warning, PLAN_SCHEMA_VERSION,
};
pub use request::{PlanOptions, Request, SourceFacts, SourceIdentity};
pub use time::{format_us, seconds_to_us, source_grid, Fps, PlaybackRate};
pub use timeline::{ElementFrames, FrameSource, HeldFrom};
pub use validate::{check_id, validate, validate_fields, Element};

/// The version of this crate.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
