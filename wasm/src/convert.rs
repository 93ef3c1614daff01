//! Values across the boundary: one serializer configuration for every output,
//! one deserializer for every input, and errors as JavaScript exceptions.

use framex_core::{ErrorDetail, PlanError};
use js_sys::{Array, Object, Reflect};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Number, Value};
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
/// The value goes through a `serde_json::Value`, read by [`json_of`], for two
/// reasons: serde-wasm-bindgen reads only the fields a struct names, so
/// `deny_unknown_fields` would never see a misspelt one (this way a typo is
/// refused as it is natively, with serde_json's own messages), and it reads
/// `-0` as the integer 0, where the native parser keeps the sign.
pub(crate) fn from_js<T: DeserializeOwned>(value: JsValue, context: &str) -> Result<T, JsValue> {
    let fail = |path: String, message: String| -> JsValue {
        let text = if path.is_empty() {
            format!("{context}: {message}")
        } else {
            format!("{context}: {path}: {message}")
        };
        let error = framex_error(&text, "parse", &[]);
        set(&error, "path", &path.into());
        error.into()
    };
    let mut path = String::new();
    let value = json_of(&value, &mut path).map_err(|message| fail(path.clone(), message))?;
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let path = if path == "." { String::new() } else { path };
        fail(path, err.into_inner().to_string())
    })
}

/// A JavaScript value as JSON, exactly: an integral number within 2^53 is an
/// integer (as serde_json reads `30`), any other number a float (`-0` keeps its
/// sign), a `BigInt` an integer, `undefined` is `null`. On error, `path` is
/// where the offending value is.
fn json_of(value: &JsValue, path: &mut String) -> Result<Value, String> {
    if value.is_null() || value.is_undefined() {
        return Ok(Value::Null);
    }
    if let Some(b) = value.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Some(n) = value.as_f64() {
        let integral = n.fract() == 0.0 && n.abs() <= MAX_SAFE_INTEGER as f64;
        return Ok(if integral && !(n == 0.0 && n.is_sign_negative()) {
            if n >= 0.0 {
                Value::from(n as u64)
            } else {
                Value::from(n as i64)
            }
        } else {
            Value::Number(Number::from_f64(n).ok_or_else(|| format!("{n} is not a JSON number"))?)
        });
    }
    if value.is_bigint() {
        return i64::try_from(value.clone())
            .map(Value::from)
            .or_else(|v| u64::try_from(v).map(Value::from))
            .map_err(|_| {
                let digits = value.unchecked_ref::<js_sys::BigInt>().to_string(10);
                format!(
                    "{}n does not fit in 64 bits",
                    digits.map(String::from).unwrap_or_default()
                )
            });
    }
    if let Some(s) = value.as_string() {
        return Ok(Value::String(s));
    }
    let base = path.len();
    if let Some(array) = value.dyn_ref::<Array>() {
        let mut items = Vec::with_capacity(array.length() as usize);
        for (i, item) in array.iter().enumerate() {
            path.truncate(base);
            path.push_str(&format!("[{i}]"));
            items.push(json_of(&item, path)?);
        }
        path.truncate(base);
        return Ok(Value::Array(items));
    }
    if value.is_object() && !value.is_function() {
        let mut map = Map::new();
        for entry in Object::entries(value.unchecked_ref::<Object>()) {
            let entry: Array = entry.unchecked_into();
            let key = entry.get(0).as_string().unwrap_or_default();
            path.truncate(base);
            if base > 0 {
                path.push('.');
            }
            path.push_str(&key);
            let item = json_of(&entry.get(1), path)?;
            map.insert(key, item);
        }
        path.truncate(base);
        return Ok(Value::Object(map));
    }
    Err(format!(
        "{} is not a JSON value",
        value.js_typeof().as_string().unwrap_or_default()
    ))
}

/// A [`PlanError`] as a JavaScript exception: the native message, plus its
/// kind, the per-element errors, and the first element's id and field.
pub(crate) fn plan_error(err: &PlanError) -> JsValue {
    let kind = match err {
        PlanError::Parse(_) => "parse",
        PlanError::Invalid(_) => "invalid",
        PlanError::TooManyElements { .. } => "tooManyElements",
    };
    let details: Vec<ErrorDetail> = err.element_errors().iter().map(|e| e.detail()).collect();
    let error = framex_error(&err.to_string(), kind, &details);
    if let PlanError::Parse(parse) = err {
        set(&error, "path", &parse.path.as_str().into());
        set(&error, "line", &JsValue::from_f64(parse.line as f64));
        set(&error, "column", &JsValue::from_f64(parse.column as f64));
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
