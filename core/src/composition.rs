//! The composition format: what a renderer hands framex, as JSON.
//!
//! ```json
//! { "elements": [
//!   { "id": "bg-1", "src": "clips/loop.mp4", "mediaStart": 0, "duration": 10, "fps": 30, "format": "png" },
//!   { "id": "title", "src": "clips/talk.mov", "mediaStart": 12.5, "duration": 4,
//!     "fps": "30000/1001", "format": "jpeg", "sdrToHdrTransfer": "pq" }
//! ] }
//! ```
//!
//! Optional timeline fields: `playbackRate` (number or `"num/den"`), `loop`
//! and `mediaDuration` (seconds of source per pass); see [`crate::timeline`].
//! `start` places the element on the composition's timeline (for chunked
//! renders, [`crate::chunk`]).
//!
//! Unknown fields are refused: a typo must not silently change a render.
//! [`Composition::from_json`] reports where a document is wrong (line, column
//! and the path of the field); [`crate::validate()`] then checks the values.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ParseError;

mod format;
mod objects_only;

pub use format::{ImageFormat, Transfer};
pub(crate) use objects_only::ObjectsOnly;

/// A composition: the video elements of a timeline. Read from a JSON object
/// only, unknown fields refused.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Composition {
    /// The elements, in timeline order. The first of a set of duplicates leads.
    pub elements: Vec<ElementInput>,
}

/// One element as written in the composition, before validation. Read from
/// a JSON object only, unknown fields refused.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ElementInput {
    /// Unique id; becomes the name of the element's output directory.
    pub id: String,
    /// The source clip: a path (resolved by the executor relative to the
    /// composition file) or any opaque name the caller gives facts for.
    pub src: String,
    /// Where in the source the element starts, in seconds.
    pub media_start: f64,
    /// How long the element lasts, in seconds.
    pub duration: f64,
    /// Optional: where the element starts on the composition's timeline, in
    /// seconds (default 0). A chunked render (`framex extract --frames`)
    /// makes only the ticks its chunk of output frames shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<f64>,
    /// Optional: seconds of source one pass plays (the trim's length); by
    /// default the pass runs to the source's end. A slot longer than the pass
    /// holds the pass's last frame, or with `loop` plays it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_duration: Option<f64>,
    /// Frames per second: a number (`30`, `29.97`) or `"num/den"`.
    pub fps: FpsInput,
    /// Optional playback rate, a number (`2`, `0.5`) or `"num/den"` in
    /// `[1/100, 100]`, read like `fps`; default 1. Output frame `j` shows
    /// source time `mediaStart + j × playbackRate / fps`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playback_rate: Option<FpsInput>,
    /// Optional: play the pass again and again for as long as the slot lasts
    /// (default false).
    #[serde(default, rename = "loop", skip_serializing_if = "is_false")]
    pub looping: bool,
    /// Image format of the frames.
    pub format: String,
    /// Optional SDR→HDR transfer conversion: `"pq"` or `"hlg"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sdr_to_hdr_transfer: Option<String>,
    /// Optional: how the executor keys the source, `"file"` (canonical path,
    /// size, mtime: the default) or `"content"` (a digest of its bytes, so
    /// copies at other paths share cache entries). The planner only checks
    /// the value; the identity itself arrives with the source's facts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
}

fn is_false(value: &bool) -> bool {
    !*value
}

// How the two are read. The mirrors must name every field (the derive
// builds the real type, so a field missing here does not compile).
objects_only!(Composition => CompositionDef, ElementInput => ElementInputDef);

#[derive(Deserialize)]
#[serde(remote = "Composition", rename_all = "camelCase", deny_unknown_fields)]
struct CompositionDef {
    elements: Vec<ElementInput>,
}

#[derive(Deserialize)]
#[serde(remote = "ElementInput", rename_all = "camelCase", deny_unknown_fields)]
struct ElementInputDef {
    id: String,
    src: String,
    media_start: f64,
    duration: f64,
    #[serde(default)]
    start: Option<f64>,
    #[serde(default)]
    media_duration: Option<f64>,
    fps: FpsInput,
    #[serde(default)]
    playback_rate: Option<FpsInput>,
    #[serde(default, rename = "loop")]
    looping: bool,
    format: String,
    #[serde(default)]
    sdr_to_hdr_transfer: Option<String>,
    #[serde(default)]
    identity: Option<String>,
}

/// A frame rate (or a playback rate) as written: a JSON number or a string
/// such as `"30000/1001"`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum FpsInput {
    /// A number, converted by [`crate::Fps::from_f64`]'s rounding rule.
    Number(f64),
    /// `"num/den"` or a decimal string.
    Text(String),
}

/// By hand rather than `#[serde(untagged)]`, so that a value of the wrong
/// type is named with what was expected instead of "did not match any
/// variant of untagged enum".
impl<'de> Deserialize<'de> for FpsInput {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = FpsInput;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a \"num/den\" string")
            }

            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<FpsInput, E> {
                Ok(FpsInput::Number(v))
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<FpsInput, E> {
                Ok(FpsInput::Number(v as f64))
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<FpsInput, E> {
                Ok(FpsInput::Number(v as f64))
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<FpsInput, E> {
                Ok(FpsInput::Text(v.to_string()))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl Default for FpsInput {
    fn default() -> Self {
        FpsInput::Number(0.0)
    }
}

impl fmt::Display for FpsInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FpsInput::Number(n) => write!(f, "{n}"),
            FpsInput::Text(t) => write!(f, "{t:?}"),
        }
    }
}

/// How a source is identified for dedupe and cache keys, as an element asks
/// for it (`"identity"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentityMode {
    /// Canonical path, size and modification time (cheap: one `stat`).
    File,
    /// A blake3 digest of the bytes (one read of the file per run).
    Content,
}

impl IdentityMode {
    /// Parses the composition spelling.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "file" => Some(Self::File),
            "content" => Some(Self::Content),
            _ => None,
        }
    }

    /// The name used in the composition.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Content => "content",
        }
    }
}

impl Composition {
    /// Parses a composition from JSON text. Syntax errors carry line and
    /// column; type errors and unknown fields also carry the path of the field
    /// (`elements[3].fps`).
    pub fn from_json(text: &str) -> Result<Self, ParseError> {
        parse_json(text)
    }
}

/// Parses JSON into `T`, reporting line, column and the path of the field.
pub fn parse_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, ParseError> {
    let error = |path: String, inner: serde_json::Error| ParseError {
        path: if path == "." { String::new() } else { path },
        line: inner.line() as u64,
        column: inner.column() as u64,
        message: crate::suggest::with_suggestion(&strip_position(&inner.to_string())),
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        error(path, err.into_inner())
    })?;
    de.end().map_err(|inner| error(String::new(), inner))?;
    Ok(value)
}

/// serde_json appends " at line L column C"; the error shows the position on
/// its own, so drop the suffix.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let c = Composition::from_json(
            r#"{ "elements": [
              { "id": "bg-1", "src": "clips/loop.mp4", "mediaStart": 0, "duration": 10, "fps": 30, "format": "png" },
              { "id": "title", "src": "clips/talk.mov", "mediaStart": 12.5, "duration": 4, "fps": "30000/1001", "format": "jpeg", "sdrToHdrTransfer": "pq" }
            ] }"#,
        )
        .unwrap();
        assert_eq!(c.elements.len(), 2);
        assert_eq!(c.elements[1].fps, FpsInput::Text("30000/1001".into()));
        assert_eq!(c.elements[1].sdr_to_hdr_transfer.as_deref(), Some("pq"));
        assert_eq!(c.elements[1].playback_rate, None);
        assert!(!c.elements[1].looping);
    }

    #[test]
    fn timeline_fields_are_optional_and_round_trip() {
        let text = r#"{"elements":[{"id":"a","src":"x","mediaStart":0,"duration":4,"mediaDuration":1.5,"fps":30,"playbackRate":"1/2","loop":true,"format":"png"}]}"#;
        let c = Composition::from_json(text).unwrap();
        let e = &c.elements[0];
        assert_eq!(e.media_duration, Some(1.5));
        assert_eq!(e.playback_rate, Some(FpsInput::Text("1/2".into())));
        assert!(e.looping);
        let written = serde_json::to_string(&c).unwrap();
        assert!(
            written.contains(r#""playbackRate":"1/2","loop":true"#),
            "{written}"
        );
        assert_eq!(Composition::from_json(&written).unwrap(), c);
        // The defaults are not written back.
        let plain = r#"{"elements":[{"id":"a","src":"x","mediaStart":0.0,"duration":1.0,"fps":30.0,"format":"png"}]}"#;
        let c = Composition::from_json(plain).unwrap();
        assert_eq!(serde_json::to_string(&c).unwrap(), plain);
        let err = Composition::from_json(
            r#"{"elements":[{"id":"a","src":"x","mediaStart":0,"duration":1,"fps":30,"format":"png","loop":"yes"}]}"#,
        )
        .unwrap_err();
        assert_eq!(err.path, "elements[0].loop");
    }

    #[test]
    fn unknown_fields_are_named_with_their_path() {
        let err = Composition::from_json(
            r#"{"elements":[{"id":"a","src":"x","mediaStart":0,"duration":1,"fps":30,"format":"png","durration":2}]}"#,
        )
        .unwrap_err();
        assert_eq!(err.path, "elements[0].durration");
        assert!(
            err.message.starts_with(
                "unknown field `durration` (did you mean `duration`?), expected one of"
            ),
            "{err}"
        );
        let err = crate::Request::from_json(
            r#"{"composition":{"elements":[]},"sources":{"x":{"identity":{"kind":"fil","path":"/x"}}}}"#,
        )
        .unwrap_err();
        assert!(
            err.message
                .contains("unknown variant `fil` (did you mean `file`?)"),
            "{err}"
        );
    }

    #[test]
    fn structs_are_objects_not_arrays_of_their_fields() {
        let err = Composition::from_json(r#"[[]]"#).unwrap_err();
        assert_eq!(
            err.message,
            "invalid type: sequence, expected struct Composition"
        );
        // The `Deserialize` impls themselves, not only `from_json`.
        assert!(serde_json::from_str::<Composition>("[[]]").is_err());
        assert!(serde_json::from_str::<crate::SourceIdentity>(r#"["name","x"]"#).is_err());
        let err =
            Composition::from_json(r#"{"elements":[["a","x.mp4",0,10,30,"png"]]}"#).unwrap_err();
        assert_eq!(err.path, "elements[0]");
        assert_eq!(
            err.message,
            "invalid type: sequence, expected struct ElementInput"
        );
        for request in [
            r#"{"composition":[[]]}"#,
            r#"{"composition":{"elements":[]},"options":[true,0]}"#,
            r#"{"composition":{"elements":[]},"sources":{"x":[{"kind":"name","name":"x"}]}}"#,
            r#"{"composition":{"elements":[]},"sources":{"x":{"identity":["name","x"]}}}"#,
        ] {
            let err = crate::Request::from_json(request).unwrap_err();
            assert!(
                err.message.starts_with("invalid type: sequence"),
                "{request}: {err}"
            );
        }
        // Objects still read as before, both ways.
        let text = r#"{"composition":{"elements":[{"id":"a","src":"x","mediaStart":0,"duration":1,"fps":30,"format":"png"}]},"sources":{"x":{"identity":{"kind":"name","name":"x"},"durationUs":5}},"options":{"seekCostFrames":3}}"#;
        let request = crate::Request::from_json(text).unwrap();
        let again: crate::Request =
            serde_json::from_str(&serde_json::to_string(&request).unwrap()).unwrap();
        assert_eq!(again, request);
        assert_eq!(request.options.seek_cost_frames, 3);
    }

    #[test]
    fn syntax_errors_have_line_and_column() {
        let err = Composition::from_json("{\n  \"elements\": [\n    {,\n").unwrap_err();
        assert_eq!((err.line, err.column), (3, 6));
        let err = Composition::from_json("{\"elements\":[]} trailing").unwrap_err();
        assert_eq!(err.line, 1);
    }
}
