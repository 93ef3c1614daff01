//! Values across the boundary: one serializer configuration for every output,
//! one deserializer for every input, and errors as JavaScript exceptions.

use framex_core::{ErrorDetail, PlanError};
use js_sys::{Array, Object, Reflect};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Number;
use serde_wasm_bindgen::Serializer;
use wasm_bindgen::{JsCast, JsValue};

/// The one serializer configuration: JSON-compatible shapes (plain objects,
/// `null` for a missing value), and 64-bit integers exact. They are produced
/// as `BigInt`s so that nothing is rounded, then [`small_bigints_to_numbers`]
/// turns every one that is a safe integer back into a plain number: in
/// practice only a file identity's `mtimeNs` stays a `BigInt`.
const SERIALIZER: Serializer =
    Serializer::json_compatible().serialize_large_number_types_as_bigints(true);

/// `Number.MAX_SAFE_INTEGER`: the largest integer a JavaScript number holds exactly.
const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// Converts an output value to JavaScript.
pub(crate) fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsValue> {
    let js = value.serialize(&SERIALIZER)?;
    Ok(small_bigints_to_numbers(js))
}

/// Replaces, in place and recursively, every `BigInt` within the safe integer
/// range by a number.
fn small_bigints_to_numbers(value: JsValue) -> JsValue {
    if value.is_bigint() {
        return match i64::try_from(value.clone()) {
            Ok(n) if (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&n) => {
                JsValue::from_f64(n as f64)
            }
            _ => value,
        };
    }
    if Array::is_array(&value) {
        let array: &Array = value.unchecked_ref();
        for i in 0..array.length() {
            let item = array.get(i);
            if item.is_object() || item.is_bigint() {
                array.set(i, small_bigints_to_numbers(item));
            }
        }
    } else if value.is_object() {
        let object: &Object = value.unchecked_ref();
        for key in Object::keys(object) {
            let item = Reflect::get(object, &key).unwrap_or(JsValue::UNDEFINED);
            if item.is_object() || item.is_bigint() {
                // Setting an own data property of a plain object cannot fail.
                let _ = Reflect::set(object, &key, &small_bigints_to_numbers(item));
            }
        }
    }
    value
}

/// Converts an input from JavaScript. Numbers and `BigInt`s are both accepted
/// for integers. A value of the wrong shape becomes a `FramexError` of kind
/// `parse` whose message is `"{context}: {path}: {what is wrong}"`.
///
/// The value is written as JSON text ([`write_json`]) and read by the native
/// parser, [`framex_core::parse_json`], so that it is refused exactly as the
/// same text is natively: the same words ("did you mean" included), and the
/// first problem in the object's own key order (a `serde_json::Value` would
/// sort the keys). serde-wasm-bindgen could not do it: it reads only the
/// fields a struct names, so `deny_unknown_fields` would never see a misspelt
/// one, and it reads `-0` as the integer 0, where the native parser keeps the
/// sign.
pub(crate) fn from_js<T: DeserializeOwned>(value: JsValue, context: &str) -> Result<T, JsValue> {
    let fail = |path: &str, message: &str| -> JsValue {
        let text = if path.is_empty() {
            format!("{context}: {message}")
        } else {
            format!("{context}: {path}: {message}")
        };
        let error = framex_error(&text, "parse", &[]);
        set(&error, "path", &path.into());
        set(&error, "reason", &message.into());
        error.into()
    };
    let (mut text, mut path) = (String::new(), String::new());
    write_json(&value, &mut path, &mut text).map_err(|message| fail(&path, &message))?;
    // Line and column are those of the text written here: of no use to the
    // caller, who handed an object.
    framex_core::parse_json(&text).map_err(|e| fail(&e.path, &e.message))
}

/// Writes a JavaScript value as JSON text, exactly: an integral number within
/// 2^53 as an integer (as serde_json reads `30`), any other number as the
/// shortest float text that reads back to it (`-0` keeps its sign), a
/// `BigInt` as its digits; `undefined` as `null` in an array, and an object's
/// property set to `undefined` left out (as `JSON.stringify` does). On error,
/// `path` is where the offending value is.
fn write_json(value: &JsValue, path: &mut String, out: &mut String) -> Result<(), String> {
    if value.is_null() || value.is_undefined() {
        out.push_str("null");
        return Ok(());
    }
    if let Some(b) = value.as_bool() {
        out.push_str(if b { "true" } else { "false" });
        return Ok(());
    }
    if let Some(n) = value.as_f64() {
        let integral = n.fract() == 0.0 && n.abs() <= MAX_SAFE_INTEGER as f64;
        if integral && !(n == 0.0 && n.is_sign_negative()) {
            out.push_str(&(n as i64).to_string());
        } else {
            let number = Number::from_f64(n).ok_or_else(|| format!("{n} is not a JSON number"))?;
            out.push_str(&number.to_string());
        }
        return Ok(());
    }
    if value.is_bigint() {
        let fits = i64::try_from(value.clone())
            .map(|n| n.to_string())
            .or_else(|v| u64::try_from(v).map(|n| n.to_string()));
        return match fits {
            Ok(digits) => {
                out.push_str(&digits);
                Ok(())
            }
            Err(_) => {
                let digits = value.unchecked_ref::<js_sys::BigInt>().to_string(10);
                Err(format!(
                    "{}n does not fit in 64 bits",
                    digits.map(String::from).unwrap_or_default()
                ))
            }
        };
    }
    if let Some(s) = value.as_string() {
        write_string(&s, out);
        return Ok(());
    }
    let base = path.len();
    if let Some(array) = value.dyn_ref::<Array>() {
        out.push('[');
        for (i, item) in array.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            path.truncate(base);
            path.push_str(&format!("[{i}]"));
            write_json(&item, path, out)?;
        }
        out.push(']');
        path.truncate(base);
        return Ok(());
    }
    if value.is_object() && !value.is_function() {
        out.push('{');
        let mut first = true;
        for entry in Object::entries(value.unchecked_ref::<Object>()) {
            let entry: Array = entry.unchecked_into();
            let item = entry.get(1);
            if item.is_undefined() {
                continue;
            }
            let key = entry.get(0).as_string().unwrap_or_default();
            if !first {
                out.push(',');
            }
            first = false;
            write_string(&key, out);
            out.push(':');
            path.truncate(base);
            if base > 0 {
                path.push('.');
            }
            path.push_str(&key);
            write_json(&item, path, out)?;
        }
        out.push('}');
        path.truncate(base);
        return Ok(());
    }
    Err(format!(
        "{} is not a JSON value",
        value.js_typeof().as_string().unwrap_or_default()
    ))
}

/// A string as a JSON string literal.
fn write_string(s: &str, out: &mut String) {
    // Serializing a `str` cannot fail.
    out.push_str(&serde_json::to_string(s).unwrap_or_default());
}

/// A [`PlanError`] as a JavaScript exception: the native message, plus its
/// kind, the per-element errors, and the first element's id and field; for a
/// parse error, where it is (path, line, column) and the parser's own words
/// (`reason`).
pub(crate) fn plan_error(err: &PlanError) -> JsValue {
    let kind = match err {
        PlanError::Parse(_) => "parse",
        PlanError::Invalid(_) => "invalid",
        PlanError::BadTimeline { .. } => "badTimeline",
        PlanError::TooManyElements { .. } => "tooManyElements",
    };
    let details: Vec<ErrorDetail> = err.element_errors().iter().map(|e| e.detail()).collect();
    let error = framex_error(&err.to_string(), kind, &details);
    if let PlanError::Parse(parse) = err {
        set(&error, "path", &parse.path.as_str().into());
        set(&error, "line", &JsValue::from_f64(parse.line as f64));
        set(&error, "column", &JsValue::from_f64(parse.column as f64));
        set(&error, "reason", &parse.message.as_str().into());
    }
    error.into()
}

fn framex_error(message: &str, kind: &str, details: &[ErrorDetail]) -> js_sys::Error {
    let error = js_sys::Error::new(message);
    error.set_name("FramexError");
    set(&error, "kind", &kind.into());
    let errors = to_js(details).unwrap_or_else(|_| Array::new().into());
    set(&error, "errors", &errors);
    if let Some(first) = details.first() {
        set(&error, "elementId", &first.element_id.as_str().into());
        set(&error, "field", &first.field.to_string().into());
        set(&error, "index", &JsValue::from_f64(f64::from(first.index)));
    }
    error
}

fn set(error: &js_sys::Error, key: &str, value: &JsValue) {
    // Setting a property of a fresh Error object cannot fail.
    let _ = Reflect::set(error, &key.into(), value);
}
