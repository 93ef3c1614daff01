//! The table's vocabulary: a [`Case`] (composition text, [`Fixture`]s,
//! what to [`Expect`]) and the builders the tables write it with.

use std::path::Path;

use serde_json::{json, Value};

/// The element every composition starts with: 15 frames of a good clip.
pub fn good() -> Value {
    json!({"id": "ok", "src": "good.mp4", "mediaStart": 0, "duration": 0.5, "fps": 30, "format": "png"})
}

/// An element on the good clip with `changes` applied (a `null` removes a field).
pub fn element(changes: Value) -> Value {
    let mut e = json!({"id": "bad", "src": "good.mp4", "mediaStart": 0, "duration": 0.5, "fps": 30, "format": "png"});
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            e.as_object_mut().unwrap().remove(k);
        } else {
            e[k] = v.clone();
        }
    }
    e
}

/// The good element, then `bad`.
pub fn with(bad: Value) -> Text {
    Text::Json(json!({"elements": [good(), bad]}))
}

/// The good element, then an element on source `src`.
pub fn on_src(src: &str) -> Text {
    with(element(json!({"src": src})))
}

/// The composition file's contents.
pub enum Text {
    /// A JSON value.
    Json(Value),
    /// Text as is.
    Raw(&'static str),
    /// Text made at run time.
    Owned(String),
    /// Bytes as is (not UTF-8, say).
    Bytes(&'static [u8]),
    /// `{"elements": [...]}` with this many small elements, written in a stream.
    Many(usize),
}

/// Files next to the composition, besides `good.mp4`.
#[derive(Clone, Copy)]
pub enum Fixture {
    /// A directory (with a file in it).
    Dir(&'static str),
    /// A symlink, name → target.
    Symlink(&'static str, &'static str),
    /// A FIFO.
    Fifo(&'static str),
    /// An empty file.
    Empty(&'static str),
    /// A copy of the good clip with mode 000: framex runs unprivileged.
    Unreadable(&'static str),
    /// A file with this text.
    File(&'static str, &'static str),
    /// The first bytes of the good clip.
    Truncated(&'static str, usize),
}

/// What must happen.
pub enum Expect {
    /// Exit 2; stderr says all of these.
    Invalid(Vec<String>),
    /// Exit 1; element `bad` failed with this kind, its error saying all of
    /// these; `ok` succeeded.
    Element(&'static str, Vec<String>),
    /// Exit 0; every element ok.
    Fine,
}

/// One hostile input.
pub struct Case {
    /// What it is, for messages.
    pub name: &'static str,
    /// The composition.
    pub text: Text,
    /// Files beside it.
    pub fixtures: Vec<Fixture>,
    /// Set up the output directory before the run (booby traps), given the
    /// case's root and the output directory.
    pub trap: Option<fn(&Path, &Path)>,
    /// What must happen.
    pub expect: Expect,
}

/// The strings of `items`.
pub fn says(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// A composition refused whole: exit 2, stderr saying all of `items`.
pub fn invalid(name: &'static str, text: Text, items: &[&str]) -> Case {
    Case {
        name,
        text,
        fixtures: vec![],
        trap: None,
        expect: Expect::Invalid(says(items)),
    }
}

/// The good element and one on `src` (with `fixtures` beside it), which
/// fails with error kind `kind`, its error saying all of `items`.
pub fn bad_source(
    name: &'static str,
    src: &str,
    fixtures: Vec<Fixture>,
    kind: &'static str,
    items: &[&str],
) -> Case {
    Case {
        name,
        text: on_src(src),
        fixtures,
        trap: None,
        expect: Expect::Element(kind, says(items)),
    }
}
