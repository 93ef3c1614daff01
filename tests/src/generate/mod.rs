//! proptest generators shared by the property and fuzz tests.
//!
//! - [`request`]: requests that mostly plan: a few sources with random
//!   timelines (constant rate in various time bases, jittered, gapped, one
//!   frame, random VFR, assumed from a rate), one of them under two `src`
//!   spellings, elements at many rates, playback rates, trims and loops,
//!   random cached frames and seek costs.
//! - [`request_like`] and its parts: JSON values shaped like requests whose
//!   fields hold values of every type, for the fuzz tests.

mod element;
mod request;
mod request_like;
mod source;
mod values;

pub use element::{element_spec, fps, playback_rate, ElementSpec, SOURCES};
pub use request::{request, request_spec, RequestSpec};
pub use request_like::{
    composition_like, element_like, facts_like, field_value, identity_like, request_like,
    timeline_like,
};
pub use source::{source_spec, Shape, SourceSpec};
pub use values::{any_value, number, string, ELEMENT_FIELDS, REQUEST_FIELDS};
