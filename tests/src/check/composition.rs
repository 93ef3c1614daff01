//! Compositions for the end-to-end tests: [`el`] elements, changed [`with`]
//! other fields, written to a file by [`composition`].

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

/// One element: `id`, `src` (as given; absolute paths work), `mediaStart`,
/// `duration`, 30 fps, PNG. [`with`] changes or adds fields.
pub fn el(id: &str, src: &Path, start: f64, duration: f64) -> Value {
    json!({
        "id": id,
        "src": src.to_str().expect("a UTF-8 path"),
        "mediaStart": start,
        "duration": duration,
        "fps": 30,
        "format": "png",
    })
}

/// `element` with the fields of the object `fields` set.
pub fn with(mut element: Value, fields: Value) -> Value {
    let Value::Object(fields) = fields else {
        panic!("fields must be an object: {fields}");
    };
    for (key, value) in fields {
        element[key] = value;
    }
    element
}

/// Writes `dir/<name>`, a composition of `elements`; returns its path.
pub fn composition(dir: &Path, name: &str, elements: &[Value]) -> PathBuf {
    let path = dir.join(name);
    let text = serde_json::to_string_pretty(&json!({ "elements": elements })).expect("JSON");
    std::fs::write(&path, text).expect("composition written");
    path
}
