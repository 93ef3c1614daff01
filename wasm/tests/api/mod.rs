//! Tests of the exported API, calling it the way JavaScript does: with plain
//! JS objects in, JS objects (or exceptions) out. Compared with framex-core
//! called directly in the same module. Included by `node.rs` and `browser.rs`.

use framex_core::{Composition, Request};
use js_sys::{BigInt, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

const TWO_SAME: &str = r#"{"composition": {"elements": [
  {"id": "a", "src": "loop.mp4", "mediaStart": 0, "duration": 2, "fps": 30, "format": "png"},
  {"id": "b", "src": "loop.mp4", "mediaStart": 0, "duration": 2, "fps": 30, "format": "png"},
  {"id": "c", "src": "loop.mp4", "mediaStart": 1, "duration": 2, "fps": 30, "format": "png"}
]}}"#;

const INVALID: &str = r#"{"composition": {"elements": [
  {"id": "ok", "src": "loop.mp4", "mediaStart": 0, "duration": 2, "fps": 30, "format": "png"},
  {"id": "../up", "src": "loop.mp4", "mediaStart": -1, "duration": 2, "fps": 30, "format": "gif"}
]}}"#;

fn js(text: &str) -> JsValue {
    JSON::parse(text).expect("test JSON parses")
}

fn get(value: &JsValue, path: &str) -> JsValue {
    path.split('.').fold(value.clone(), |v, key| {
        Reflect::get(&v, &key.into()).expect("property access")
    })
}

fn text(value: &JsValue, path: &str) -> String {
    get(value, path)
        .as_string()
        .unwrap_or_else(|| panic!("{path} is not a string"))
}

fn number(value: &JsValue, path: &str) -> f64 {
    get(value, path)
        .as_f64()
        .unwrap_or_else(|| panic!("{path} is not a number"))
}

/// A JS value as JSON text (BigInts written as plain digits), parsed back in Rust.
fn to_json(value: &JsValue) -> serde_json::Value {
    let stringify = js_sys::Function::new_with_args(
        "value",
        r#"return JSON.stringify(value, (k, v) => typeof v === "bigint" ? "@@big:" + v : v)
                   .replace(/"@@big:(-?\d+)"/g, "$1");"#,
    );
    let text = stringify
        .call1(&JsValue::NULL, value)
        .expect("stringify")
        .as_string()
        .expect("a string");
    serde_json::from_str(&text).expect("valid JSON")
}

fn native_plan(request: &str) -> Result<framex_core::Plan, framex_core::PlanError> {
    framex_core::plan(&Request::from_json(request).expect("test request parses"))
}

#[wasm_bindgen_test]
fn plan_returns_the_native_plan_with_plain_numbers() {
    let plan = framex_wasm::plan(js(TWO_SAME)).expect("plans");
    assert_eq!(number(&plan, "totals.elements"), 3.0);
    // a and b show frames 0–59, c 30–89 of the assumed 30 fps grid.
    assert_eq!(number(&plan, "totals.framesRequested"), 180.0);
    assert_eq!(number(&plan, "totals.distinctFrames"), 90.0);
    assert_eq!(number(&plan, "totals.framesToMake"), 90.0);
    assert_eq!(number(&plan, "totals.decodeRuns"), 1.0);
    assert_eq!(text(&plan, "elements.0.role.kind"), "leader");
    assert_eq!(text(&plan, "elements.1.role.kind"), "duplicate");
    assert_eq!(text(&plan, "elements.1.role.of"), "a");
    assert_eq!(text(&plan, "elements.2.role.kind"), "shares");
    assert_eq!(text(&plan, "elements.2.role.run"), "r1");
    assert_eq!(text(&plan, "sources.0.recipes.0.runs.0.make"), "0-89");
    assert_eq!(text(&plan, "sources.0.assumedRate"), "30/1");
    // Absent optionals are absent, not null, as in the native JSON.
    assert!(get(&plan, "sources.0.recipes.0.transfer").is_undefined());
    assert!(get(&plan, "warnings").is_undefined());
    let native = serde_json::to_value(native_plan(TWO_SAME).unwrap()).unwrap();
    assert_eq!(to_json(&plan), native);
}

#[wasm_bindgen_test]
fn plan_json_is_the_native_text() {
    let text = framex_wasm::plan_json(TWO_SAME).expect("plans");
    let native = serde_json::to_string(&native_plan(TWO_SAME).unwrap()).unwrap();
    assert_eq!(text, native);
}

#[wasm_bindgen_test]
fn file_identities_keep_64_bit_integers_exact() {
    let request = js(r#"{"composition": {"elements": [
        {"id": "a", "src": "clip.mp4", "mediaStart": 0, "duration": 1, "fps": "30000/1001", "format": "jpeg"}
    ]}, "sources": {"clip.mp4": {"identity": {"kind": "file", "path": "/media/clip.mp4", "size": 0, "mtimeNs": 0}, "durationUs": 5000000}}}"#);
    // "clip.mp4" has a dot: reach the identity by hand.
    let facts = Reflect::get(&get(&request, "sources"), &"clip.mp4".into()).unwrap();
    let identity = Reflect::get(&facts, &"identity".into()).unwrap();
    let mtime = BigInt::from(1_700_000_000_123_456_789_i64);
    Reflect::set(&identity, &"mtimeNs".into(), &mtime).unwrap();
    Reflect::set(&identity, &"size".into(), &BigInt::from(12_345_u64)).unwrap();

    let plan = framex_wasm::plan(request).expect("plans");
    let source = get(&plan, "sources.0.identity");
    assert_eq!(
        to_json(&source)["mtimeNs"],
        serde_json::json!(1_700_000_000_123_456_789_i64)
    );
    let mtime_out = Reflect::get(&source, &"mtimeNs".into()).unwrap();
    assert!(mtime_out.is_bigint(), "an unsafe integer stays a BigInt");
    assert_eq!(i64::try_from(mtime_out).unwrap(), 1_700_000_000_123_456_789);
    let size = Reflect::get(&source, &"size".into()).unwrap();
    assert_eq!(
        size.as_f64(),
        Some(12_345.0),
        "a safe integer becomes a number"
    );

    let native = native_plan(
        r#"{"composition": {"elements": [
        {"id": "a", "src": "clip.mp4", "mediaStart": 0, "duration": 1, "fps": "30000/1001", "format": "jpeg"}
    ]}, "sources": {"clip.mp4": {"identity": {"kind": "file", "path": "/media/clip.mp4", "size": 12345, "mtimeNs": 1700000000123456789}, "durationUs": 5000000}}}"#,
    )
    .unwrap();
    assert_eq!(text(&plan, "elements.0.recipe"), native.elements[0].recipe);
    assert_eq!(to_json(&plan), serde_json::to_value(&native).unwrap());
}

#[wasm_bindgen_test]
fn invalid_elements_throw_the_native_message_and_element() {
    let err = framex_wasm::plan(js(INVALID)).expect_err("refused");
    let native = native_plan(INVALID).unwrap_err();
    assert!(err.is_instance_of::<js_sys::Error>());
    assert_eq!(text(&err, "message"), native.to_string());
    assert_eq!(text(&err, "name"), "FramexError");
    assert_eq!(text(&err, "kind"), "invalid");
    assert_eq!(text(&err, "elementId"), "../up");
    assert_eq!(text(&err, "field"), "id");
    assert_eq!(number(&err, "index"), 1.0);
    let details = get(&err, "errors");
    assert_eq!(number(&details, "length"), 3.0);
    assert_eq!(text(&details, "1.field"), "mediaStart");
    assert_eq!(
        text(&details, "2.message"),
        native.element_errors()[2].to_string()
    );
}

#[wasm_bindgen_test]
fn misspelt_fields_are_refused_with_their_path() {
    let err = framex_wasm::plan(js(
        r#"{"composition": {"elements": [{"id": "a", "src": "x", "mediaStart": 0, "duration": 1, "fps": 30, "format": "png", "durration": 2}]}}"#,
    ))
    .expect_err("refused");
    assert_eq!(text(&err, "kind"), "parse");
    assert_eq!(text(&err, "path"), "composition.elements[0].durration");
    // The hint the native parser gives, in the same words.
    let reason = text(&err, "reason");
    assert!(
        reason.starts_with("unknown field `durration` (did you mean `duration`?), expected"),
        "{reason}"
    );
    assert_eq!(
        text(&err, "message"),
        format!("invalid composition: composition.elements[0].durration: {reason}")
    );
    let native = Request::from_json(
        r#"{"composition": {"elements": [{"id": "a", "src": "x", "mediaStart": 0, "duration": 1, "fps": 30, "format": "png", "durration": 2}]}}"#,
    )
    .unwrap_err();
    assert_eq!(reason, native.message);
}

#[wasm_bindgen_test]
fn plan_json_parse_errors_carry_line_and_column() {
    let err = framex_wasm::plan_json("{\n  \"composition\": {\"elements\": [\n    {,\n")
        .expect_err("refused");
    let native =
        Request::from_json("{\n  \"composition\": {\"elements\": [\n    {,\n").unwrap_err();
    assert_eq!(
        text(&err, "message"),
        framex_core::PlanError::from(native.clone()).to_string()
    );
    assert_eq!(number(&err, "line"), 3.0);
    assert_eq!(number(&err, "column"), 6.0);
    assert_eq!(text(&err, "reason"), native.message);
}

#[wasm_bindgen_test]
fn validate_lists_every_error_per_element() {
    let composition = get(&js(INVALID), "composition");
    let details = framex_wasm::validate(composition, None).expect("validates");
    assert_eq!(number(&details, "length"), 3.0);
    assert_eq!(number(&details, "0.index"), 1.0);
    assert_eq!(text(&details, "0.elementId"), "../up");
    assert_eq!(text(&details, "2.field"), "format");

    let valid = get(&js(TWO_SAME), "composition");
    let none = framex_wasm::validate(valid, None).expect("validates");
    assert_eq!(number(&none, "length"), 0.0);

    // Source facts take part: a loop needs the length of a pass, which a
    // known source duration gives.
    let looped = r#"{"elements": [{"id": "a", "src": "x", "mediaStart": 0, "duration": 5, "fps": 30, "loop": true, "format": "png"}]}"#;
    let details = framex_wasm::validate(js(looped), None).expect("validates");
    assert_eq!(text(&details, "0.field"), "loop");
    let sources =
        js(r#"{"x": {"identity": {"kind": "name", "name": "x"}, "durationUs": 2000000}}"#);
    let details = framex_wasm::validate(js(looped), Some(sources)).expect("validates");
    assert_eq!(number(&details, "length"), 0.0);

    // JSON text is parsed natively: errors carry line and column.
    let err = framex_wasm::validate("{\"elements\": [1]}".into(), None).expect_err("refused");
    assert_eq!(text(&err, "kind"), "parse");
    assert_eq!(number(&err, "line"), 1.0);
}

/// `{"element": <element>, "source": <facts>}` as a JS object.
fn element_input(element: &str, source: Option<&str>) -> JsValue {
    let source = source.map_or(String::new(), |s| format!(r#", "source": {s}"#));
    js(&format!(r#"{{"element": {element}{source}}}"#))
}

#[wasm_bindgen_test]
fn element_frames_match_the_plan_and_its_keys() {
    let element = r#"{"id": "c", "src": "loop.mp4", "mediaStart": 1, "duration": 2, "fps": 30, "format": "png"}"#;
    let result = framex_wasm::element_frames(element_input(element, None)).expect("frames");
    let plan = native_plan(TWO_SAME).unwrap();
    let c = &plan.elements[2];
    assert_eq!(text(&result, "recipeKey"), c.recipe);
    assert_eq!(
        to_json(&get(&result, "frames")),
        serde_json::to_value(&c.frames).unwrap()
    );
    assert_eq!(number(&result, "ticks"), 60.0);
    assert_eq!(text(&result, "timeBase"), "1/30");
    assert_eq!(text(&result, "assumedRate"), "30/1");
    assert_eq!(
        text(&result, "elementKey"),
        framex_core::element_key(&c.recipe, &c.frames)
    );

    // Rate 2 at 30 fps and rate 4 at 60 fps show the same 60 frames of a
    // 60 fps source (every other one): the same element key.
    let source = r#"{"identity": {"kind": "name", "name": "x"}, "frameRate": "60/1"}"#;
    let key_of = |element: &str| {
        let result =
            framex_wasm::element_frames(element_input(element, Some(source))).expect("frames");
        (text(&result, "elementKey"), result)
    };
    let (fast30, result) = key_of(
        r#"{"id": "a", "src": "x", "mediaStart": 0, "duration": 2, "fps": 30, "playbackRate": 2, "format": "png"}"#,
    );
    let (fast60, _) = key_of(
        r#"{"id": "b", "src": "x", "mediaStart": 0, "duration": 1, "fps": 60, "playbackRate": "4/1", "format": "png"}"#,
    );
    assert_eq!(fast30, fast60);
    assert_eq!(text(&result, "frames.0.step"), "4");
    assert_eq!(text(&result, "timeBase"), "1/60");

    let bad = element_input(
        r#"{"id": "", "src": "x", "mediaStart": 0, "duration": 1, "fps": 30, "format": "png"}"#,
        None,
    );
    let err = framex_wasm::element_frames(bad).expect_err("refused");
    assert_eq!(text(&err, "kind"), "invalid");
    assert_eq!(text(&err, "field"), "id");
}

#[wasm_bindgen_test]
fn recipe_and_frame_keys_are_the_native_keys() {
    let plan = native_plan(TWO_SAME).unwrap();
    let source = &plan.sources[0];
    let recipe = &source.recipes[0];
    let input = js(&format!(
        r#"{{"identity": {{"kind": "name", "name": "loop.mp4"}}, "timeBase": "{}",
            "recipe": {{"format": "png", "alpha": false}}}}"#,
        source.time_base
    ));
    let key = framex_wasm::recipe_key(input).expect("keys");
    assert_eq!(key, recipe.key);

    assert_eq!(
        framex_wasm::frame_key(&key, JsValue::from_f64(30.0)).unwrap(),
        framex_core::frame_key(&key, 30)
    );
    let big = BigInt::from(1_i64 << 60);
    assert_eq!(
        framex_wasm::frame_key(&key, big.into()).unwrap(),
        framex_core::frame_key(&key, 1 << 60)
    );

    let err = framex_wasm::recipe_key(js(
        r#"{"identity": {"kind": "name", "name": "x"}, "timeBase": "1/0", "recipe": {"format": "png", "alpha": false}}"#,
    ))
    .expect_err("no time base 1/0");
    assert_eq!(text(&err, "path"), "timeBase");
    assert!(err.dyn_ref::<js_sys::Error>().is_some());
    let err = framex_wasm::frame_key(&key, JsValue::from_f64(0.5)).expect_err("pts is an integer");
    assert_eq!(text(&err, "kind"), "parse");
}

#[wasm_bindgen_test]
fn fps_as_number_or_text_is_the_same_rate() {
    let as_text = r#"{"composition": {"elements": [{"id": "a", "src": "x", "mediaStart": 0, "duration": 1, "fps": "30000/1001", "format": "png"}]}}"#;
    let as_number = as_text.replace("\"30000/1001\"", "29.97");
    let a = framex_wasm::plan(js(as_text)).unwrap();
    let b = framex_wasm::plan(js(&as_number)).unwrap();
    assert_eq!(to_json(&a), to_json(&b));
    assert_eq!(text(&a, "elements.0.fps"), "30000/1001");
}

#[wasm_bindgen_test]
fn version_is_the_core_version() {
    assert_eq!(framex_wasm::version(), framex_core::VERSION);
    // The composition type is the core's: nothing re-declared here.
    let _ = Composition::default();
}

#[wasm_bindgen_test]
fn numbers_read_exactly_as_the_native_parser_reads_them() {
    // -0 keeps its sign; a long literal rounds to the same f64 (serde_json's
    // float_roundtrip and JSON.parse both take the nearest).
    let request = r#"{"composition": {"elements": [
        {"id": "a", "src": "x", "mediaStart": 0, "duration": -0, "fps": 30, "format": "png"},
        {"id": "b", "src": "x", "mediaStart": -1.2345678901234567e-7, "duration": 1, "fps": 30, "format": "png"}
    ]}}"#;
    let err = framex_wasm::plan(js(request)).expect_err("refused");
    assert_eq!(
        text(&err, "message"),
        native_plan(request).unwrap_err().to_string()
    );

    let huge = js(
        r#"{"composition": {"elements": []}, "sources": {"x": {"identity": {"kind": "file", "path": "/x", "size": 0, "mtimeNs": 1}}}}"#,
    );
    let identity = get(&huge, "sources.x.identity");
    let too_big = BigInt::from(u64::MAX) * BigInt::from(4_u32);
    Reflect::set(&identity, &"size".into(), &too_big).unwrap();
    let err = framex_wasm::plan(huge).expect_err("refused");
    assert_eq!(text(&err, "path"), "sources.x.identity.size");
    assert!(text(&err, "message").ends_with("does not fit in 64 bits"));
}
