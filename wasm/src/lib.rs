//! # framex-wasm
//!
//! framex-core's planning, for JavaScript: the same plan in a browser or in
//! node as natively, byte for byte. This crate has no logic of its own; it
//! only converts values at the boundary (`convert.rs`) and exports:
//!
//! | JavaScript | does |
//! | --- | --- |
//! | `plan(request: Request): Plan` | [`framex_core::plan`] |
//! | `planJson(requestJson: string): string` | the same, JSON text in and out (what `framex plan --json` prints) |
//! | `validate(composition: Composition \| string, sources?): ErrorDetail[]` | [`framex_core::validate`]: every problem, per element |
//! | `dedupeKey({element, source?}): DedupeKeyResult` | an element's [`framex_core::DedupeKey`], its canonical encoding and cache key |
//! | `cacheKey(key: DedupeKey): string` | [`framex_core::DedupeKey::cache_key`] |
//! | `version(): string` | [`framex_core::VERSION`] |
//!
//! Errors are thrown as JavaScript `Error`s whose `message` is the native
//! error's text; see `FramexError` in `types.d.ts` for their properties.
//!
//! ```js
//! import init, { plan } from "./pkg/framex_wasm.js";
//! await init();
//! const p = plan({ composition: { elements: [
//!   { id: "a", src: "loop.mp4", mediaStart: 0, duration: 2, fps: 30, format: "png" },
//!   { id: "b", src: "loop.mp4", mediaStart: 0, duration: 2, fps: 30, format: "png" },
//! ] } });
//! p.totals.units; // 1
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod convert;

use std::collections::BTreeMap;

use framex_core::{Composition, DedupeKey, ElementInput, PlanError, Request, SourceFacts};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::convert::{from_js, plan_error, to_js};

// The TypeScript types of every input and output, published in the
// package's `.d.ts` next to the functions that use them.
#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = include_str!("types.d.ts");

/// Plans a request: validates, dedupes, consults the cache keys given,
/// groups overlapping trims. Throws a `FramexError` for an invalid request.
#[wasm_bindgen(js_name = plan, unchecked_return_type = "Plan")]
pub fn plan(
    #[wasm_bindgen(unchecked_param_type = "Request")] request: JsValue,
) -> Result<JsValue, JsValue> {
    let request: Request = from_js(request, "invalid composition")?;
    let plan = framex_core::plan(&request).map_err(|e| plan_error(&e))?;
    to_js(&plan)
}

/// Plans a request given as JSON text and returns the plan as JSON text,
/// exactly as the native planner writes it. Parse errors carry the line and
/// column in the text.
#[wasm_bindgen(js_name = planJson)]
pub fn plan_json(request_json: &str) -> Result<String, JsValue> {
    let request = Request::from_json(request_json).map_err(|e| plan_error(&e.into()))?;
    let plan = framex_core::plan(&request).map_err(|e| plan_error(&e))?;
    serde_json::to_string(&plan).map_err(|e| JsError::new(&e.to_string()).into())
}

/// Validates a composition (an object, or JSON text parsed natively so that
/// errors carry line and column) against optional source facts. Returns every
/// element error (empty when the composition is valid); throws a
/// `FramexError` only when the composition is not well-formed.
#[wasm_bindgen(js_name = validate, unchecked_return_type = "ErrorDetail[]")]
pub fn validate(
    #[wasm_bindgen(unchecked_param_type = "Composition | string")] composition: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "Record<string, SourceFacts>")] sources: Option<
        JsValue,
    >,
) -> Result<JsValue, JsValue> {
    let composition: Composition = match composition.as_string() {
        Some(text) => Composition::from_json(&text).map_err(|e| plan_error(&e.into()))?,
        None => from_js(composition, "invalid composition")?,
    };
    let sources: BTreeMap<String, SourceFacts> = match sources {
        Some(sources) if !sources.is_undefined() && !sources.is_null() => {
            from_js(sources, "invalid composition: sources")?
        }
        _ => BTreeMap::new(),
    };
    match framex_core::validate(&composition, &sources) {
        Ok(_) => to_js::<[framex_core::ErrorDetail]>(&[]),
        Err(error @ PlanError::Invalid(_)) => {
            let details: Vec<_> = error.element_errors().iter().map(|e| e.detail()).collect();
            to_js(&details)
        }
        Err(error) => Err(plan_error(&error)),
    }
}

/// The input of `dedupeKey`: an element as written in a composition, and
/// what is known about its source (a name-only identity when absent).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DedupeKeyInput {
    element: ElementInput,
    #[serde(default)]
    source: Option<SourceFacts>,
}

/// The result of `dedupeKey`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DedupeKeyResult {
    key: DedupeKey,
    canonical: String,
    cache_key: String,
}

/// The dedupe key of one element (validated first: throws a `FramexError`
/// naming the element when it is invalid), its canonical encoding and its
/// cache key. Elements with equal keys share one extraction.
#[wasm_bindgen(
    js_name = dedupeKey,
    unchecked_return_type = "DedupeKeyResult"
)]
pub fn dedupe_key(
    #[wasm_bindgen(unchecked_param_type = "DedupeKeyInput")] input: JsValue,
) -> Result<JsValue, JsValue> {
    let input: DedupeKeyInput = from_js(input, "invalid dedupeKey input")?;
    let src = input.element.src.clone();
    let sources: BTreeMap<String, SourceFacts> = input
        .source
        .map(|facts| BTreeMap::from([(src.clone(), facts)]))
        .unwrap_or_default();
    let composition = Composition {
        elements: vec![input.element],
    };
    let elements = framex_core::validate(&composition, &sources).map_err(|e| plan_error(&e))?;
    // The key of the work the element's slice comes from, as the planner makes it.
    let key = framex_core::dedupe_key(&elements[0], &framex_core::source_facts(&src, &sources));
    to_js(&DedupeKeyResult {
        canonical: key.canonical(),
        cache_key: key.cache_key(),
        key,
    })
}

/// The cache key (64 hex digits) of a unique work, given its dedupe key as
/// `dedupeKey` returns it (`fps` as `"num/den"`).
#[wasm_bindgen(js_name = cacheKey)]
pub fn cache_key(
    #[wasm_bindgen(unchecked_param_type = "DedupeKey")] key: JsValue,
) -> Result<String, JsValue> {
    let key: DedupeKey = from_js(key, "invalid dedupe key")?;
    Ok(key.cache_key())
}

/// The version of framex-core this package was built from.
#[wasm_bindgen(js_name = version)]
pub fn version() -> String {
    framex_core::VERSION.to_string()
}
