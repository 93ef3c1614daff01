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
//! | `elementFrames({element, source?}): ElementFrames` | the frame each tick of one element shows ([`framex_core::element_frames`]), its recipe key and [`framex_core::element_key`] |
//! | `recipeKey({identity, timeBase, recipe}): string` | [`framex_core::recipe_key`] |
//! | `frameKey(recipeKey, pts): string` | [`framex_core::frame_key`] |
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
//!   { id: "b", src: "loop.mp4", mediaStart: 1, duration: 2, fps: 30, format: "png" },
//! ] } });
//! p.totals.framesRequested; // 120
//! p.totals.distinctFrames;  // 90: the second shares 30 of the first's frames
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod convert;

use std::collections::BTreeMap;

use framex_core::{
    Composition, ElementInput, Fps, FrameRun, PlanError, Recipe, Request, SourceFacts,
    SourceIdentity, TimeBase,
};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::convert::{from_js, plan_error, to_js};

// The TypeScript types of every input and output, published in the
// package's `.d.ts` next to the functions that use them. Checked against
// what the Rust code really reads and writes by `tsc` in
// tests/tests/wasm_parity/ (every request and plan of the corpus).
#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = include_str!("types.d.ts");

/// Plans a request: validates, resolves every tick to a source frame, finds
/// the distinct frames, leaves out those the store holds, groups the rest
/// into decode runs. Throws a `FramexError` for an invalid request.
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
/// `FramexError` only when the composition is not well-formed or not of the
/// right shape (a misspelt field, a value of the wrong type).
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

/// The input of `elementFrames`: an element as written in a composition, and
/// what is known about its source (a name-only identity at 30 fps when
/// absent).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ElementFramesInput {
    element: ElementInput,
    #[serde(default)]
    source: Option<SourceFacts>,
}

/// The result of `elementFrames`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ElementFrames {
    /// The key of every frame of its source in its recipe.
    recipe_key: String,
    /// The key of what it shows: elements with equal keys are duplicates.
    element_key: String,
    /// The time base frame times are counted in.
    time_base: TimeBase,
    /// Set when the source's frames were not probed: the rate assumed.
    #[serde(skip_serializing_if = "Option::is_none")]
    assumed_rate: Option<Fps>,
    /// Ticks in its slot.
    ticks: u64,
    /// The frame each tick shows, as runs (as in the plan's `frames`).
    frames: Vec<FrameRun>,
}

/// The frames one element shows (validated first: throws a `FramexError`
/// naming the element when it is invalid), as the planner finds them, with
/// its recipe key and element key.
#[wasm_bindgen(js_name = elementFrames, unchecked_return_type = "ElementFrames")]
pub fn element_frames(
    #[wasm_bindgen(unchecked_param_type = "ElementFramesInput")] input: JsValue,
) -> Result<JsValue, JsValue> {
    let input: ElementFramesInput = from_js(input, "invalid elementFrames input")?;
    let src = input.element.src.clone();
    let sources: BTreeMap<String, SourceFacts> = input
        .source
        .map(|facts| BTreeMap::from([(src.clone(), facts)]))
        .unwrap_or_default();
    let composition = Composition {
        elements: vec![input.element],
    };
    let elements = framex_core::validate(&composition, &sources).map_err(|e| plan_error(&e))?;
    let element = &elements[0];
    let facts = framex_core::source_facts(&src, &sources);
    let timeline = facts.timeline();
    let frames = framex_core::element_frames(element, &timeline).map_err(|e| plan_error(&e))?;
    let recipe = Recipe::new(element.format, facts.alpha, element.transfer);
    let recipe_key = framex_core::recipe_key(&facts.identity, timeline.time_base(), recipe);
    to_js(&ElementFrames {
        element_key: framex_core::element_key(&recipe_key, &frames),
        recipe_key,
        time_base: timeline.time_base(),
        assumed_rate: timeline.is_assumed().then(|| {
            facts
                .frame_rate
                .unwrap_or(framex_core::DEFAULT_ASSUMED_RATE)
        }),
        ticks: frames.iter().map(|r| r.ticks).sum(),
        frames,
    })
}

/// The input of `recipeKey`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RecipeKeyInput {
    identity: SourceIdentity,
    time_base: TimeBase,
    recipe: Recipe,
}

/// The recipe key (64 hex digits) of a source's frames in one recipe: the
/// `key` of a plan's `sources[].recipes[]`, and the key of
/// `Request.cachedFrames`.
#[wasm_bindgen(js_name = recipeKey)]
pub fn recipe_key(
    #[wasm_bindgen(unchecked_param_type = "RecipeKeyInput")] input: JsValue,
) -> Result<String, JsValue> {
    let input: RecipeKeyInput = from_js(input, "invalid recipeKey input")?;
    Ok(framex_core::recipe_key(
        &input.identity,
        input.time_base,
        input.recipe,
    ))
}

/// The key (64 hex digits) of one frame: its recipe key and presentation
/// time (ticks of the source's time base, from its first frame).
#[wasm_bindgen(js_name = frameKey)]
pub fn frame_key(
    recipe_key: &str,
    #[wasm_bindgen(unchecked_param_type = "number | bigint")] pts: JsValue,
) -> Result<String, JsValue> {
    let pts: i64 = from_js(pts, "invalid frameKey pts")?;
    Ok(framex_core::frame_key(recipe_key, pts))
}

/// The version of framex-core this package was built from.
#[wasm_bindgen(js_name = version)]
pub fn version() -> String {
    framex_core::VERSION.to_string()
}
