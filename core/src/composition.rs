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
//! Unknown fields are refused: a typo must not silently change a render.
//! [`Composition::from_json`] reports where a document is wrong (line, column
//! and the path of the field); [`crate::validate`] then checks the values.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ParseError;

/// A composition: the video elements of a timeline.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Composition {
    /// The elements, in timeline order. The first of a set of duplicates leads.
    pub elements: Vec<ElementInput>,
}

/// One element as written in the composition, before validation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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
    /// Frames per second: a number (`30`, `29.97`) or `"num/den"`.
    pub fps: FpsInput,
    /// Image format of the frames.
    pub format: String,
    /// Optional SDR→HDR transfer conversion: `"pq"` or `"hlg"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdr_to_hdr_transfer: Option<String>,
    /// Optional: how the executor keys the source, `"file"` (canonical path,
    /// size, mtime: the default) or `"content"` (a digest of its bytes, so
    /// copies at other paths share cache entries). The planner only checks
    /// the value; the identity itself arrives with the source's facts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
}

/// A frame rate as written: a JSON number or a string such as `"30000/1001"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FpsInput {
    /// A number, converted by [`crate::Fps::from_f64`]'s rounding rule.
    Number(f64),
    /// `"num/den"` or a decimal string.
    Text(String),
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

/// The image format of extracted frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    /// Lossless PNG (`rgba` when the source has alpha).
    Png,
    /// JPEG at a fixed high quality.
    Jpeg,
}

impl ImageFormat {
    /// Parses the composition spelling.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "png" => Some(Self::Png),
            "jpeg" => Some(Self::Jpeg),
            _ => None,
        }
    }

    /// The name used in the composition and the cache key.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpeg",
        }
    }

    /// The file extension of a frame: `png` or `jpg`.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
        }
    }
}

/// The SDR→HDR transfer a frame is converted to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transfer {
    /// SMPTE ST 2084 (PQ).
    Pq,
    /// ARIB STD-B67 (HLG).
    Hlg,
}

impl Transfer {
    /// Parses the composition spelling.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pq" => Some(Self::Pq),
            "hlg" => Some(Self::Hlg),
            _ => None,
        }
    }

    /// The name used in the composition and the cache key.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pq => "pq",
            Self::Hlg => "hlg",
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
        message: strip_position(&inner.to_string()),
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
    }

    #[test]
    fn unknown_fields_are_named_with_their_path() {
        let err = Composition::from_json(
            r#"{"elements":[{"id":"a","src":"x","mediaStart":0,"duration":1,"fps":30,"format":"png","durration":2}]}"#,
        )
        .unwrap_err();
        assert_eq!(err.path, "elements[0].durration");
        assert!(err.message.contains("unknown field `durration`"), "{err}");
    }

    #[test]
    fn syntax_errors_have_line_and_column() {
        let err = Composition::from_json("{\n  \"elements\": [\n    {,\n").unwrap_err();
        assert_eq!((err.line, err.column), (3, 6));
        let err = Composition::from_json("{\"elements\":[]} trailing").unwrap_err();
        assert_eq!(err.line, 1);
    }
}
