//! The same plan in wasm as natively, byte for byte: every case of the
//! snapshot corpus (`tests/cases/*.json`), and the edge cases below, go through
//! the wasm build in node (tests/js/wasm_parity.mjs) and through the native
//! planner; the plans, keys included, and the error messages must be
//! identical, and `elementFrames` must give every element the frames and
//! recipe key of its plan. Also: the `.wasm` modules import nothing but
//! wasm-bindgen's glue, and `tsc` accepts every request, plan, element
//! frames and error of the corpus as the published TypeScript types say.
//!
//! Needs `scripts/build-wasm.sh` first (the test command runs it); with
//! `FRAMEX_SKIP_WASM=1` and no package, these tests say so and pass.

use std::path::{Path, PathBuf};
use std::process::Command;

use framex_core::{ImageFormat, PlanError, Recipe, Request, SourceIdentity, TimeBase};
use framex_tests::wasm::{node, require_package, tsc, Package};
use framex_tests::{case_files, error_text, plan_case_json, workspace_root};
use serde_json::Value;

/// Requests where a careless binding would differ from the native planner:
/// 64-bit integers past 2^53, -0, long decimals, probed timelines, cached
/// frames, every kind of error. `{X_KEY}` is replaced by the recipe key of
/// `x.mp4` (a name) at 30 fps in PNG, so that its cached frames hit.
const EDGE_CASES: &[(&str, &str)] = &[
    (
        "duplicates",
        r#"{"composition":{"elements":[
        {"id":"a","src":"x.mp4","mediaStart":0,"duration":2,"fps":30,"format":"png"},
        {"id":"b","src":"x.mp4","mediaStart":0,"duration":2,"fps":30,"format":"png"}]}}"#,
    ),
    (
        "file-identity-u64-max-alpha",
        r#"{"composition":{"elements":[
        {"id":"a","src":"x.mp4","mediaStart":0,"duration":2,"fps":24,"format":"png"},
        {"id":"b","src":"x.mp4","mediaStart":1,"duration":2,"fps":24,"format":"png"},
        {"id":"c","src":"x.mp4","mediaStart":5.5,"duration":1,"fps":24,"format":"jpeg"}]},
      "sources":{"x.mp4":{"identity":{"kind":"file","path":"/m/x.mp4","size":18446744073709551615,
        "mtimeNs":1732500000123456789},"durationUs":6000000,"alpha":true,"frameRate":"24"}},
      "options":{"seekCostFrames":0}}"#,
    ),
    (
        "cached-frames-hit-and-miss",
        r#"{"composition":{"elements":[
        {"id":"a","src":"x.mp4","mediaStart":0,"duration":1,"fps":30,"format":"png"},
        {"id":"b","src":"x.mp4","mediaStart":0.5,"duration":1,"fps":60,"format":"png"},
        {"id":"c","src":"x.mp4","mediaStart":0,"duration":0.5,"fps":30,"format":"png"}]},
      "cachedFrames":{"{X_KEY}":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,20,9007199254740993],"0000":[1]}}"#,
    ),
    (
        "content-identity-ntsc-pq",
        r#"{"composition":{"elements":[
        {"id":"a","src":"x.mp4","mediaStart":0.1,"duration":0.3,"fps":"30000/1001","format":"jpeg","sdrToHdrTransfer":"pq"}]},
      "sources":{"x.mp4":{"identity":{"kind":"content","blake3":"ab12"},"frameRate":"29.97","durationUs":1000000}}}"#,
    ),
    (
        "probed-vfr-timeline-loop-rate-trim",
        r#"{"composition":{"elements":[
        {"id":"loop","src":"v.mp4","mediaStart":0.2,"duration":3,"mediaDuration":0.7,"loop":true,"fps":24,"format":"png"},
        {"id":"fast","src":"v.mp4","mediaStart":0,"duration":1,"fps":30,"playbackRate":"3/2","format":"png"},
        {"id":"slow","src":"v.mp4","mediaStart":0.5,"duration":2,"fps":60,"playbackRate":0.25,"format":"png"},
        {"id":"past","src":"v.mp4","mediaStart":9,"duration":0.5,"fps":30,"format":"png"},
        {"id":"placed","src":"v.mp4","mediaStart":0,"duration":1,"start":2.5,"fps":30,"format":"png"}]},
      "sources":{"v.mp4":{"identity":{"kind":"name","name":"v.mp4"},"timeline":{"timeBase":"1/15360",
        "pts":[[0,512,20],[10752,0,1],[30720,517,40],[51400,512,30]],"end":66760,"keyframes":[[0,30,2],[61,0,1]]}}}}"#,
    ),
    (
        "timeline-past-2-to-the-53",
        r#"{"composition":{"elements":[
        {"id":"a","src":"v.mp4","mediaStart":0,"duration":1,"fps":30,"format":"png"}]},
      "sources":{"v.mp4":{"identity":{"kind":"name","name":"v.mp4"},"timeline":{"timeBase":"1/90000",
        "pts":[[0,3002399751580331,4]],"end":12009599006321324}}}}"#,
    ),
    (
        "every-field-invalid",
        r#"{"composition":{"elements":[
        {"id":"../a","src":"","mediaStart":-0.30000000000000004,"duration":0,"fps":1001,"format":"gif","sdrToHdrTransfer":"x"},
        {"id":"../a","src":"x","mediaStart":1e300,"duration":1,"fps":29.97,"format":"png"},
        {"id":"b","src":"x","mediaStart":0,"duration":1,"start":-1,"fps":30,"format":"png"}]}}"#,
    ),
    (
        "unknown-field-did-you-mean",
        r#"{"composition":{"elements":[
        {"id":"a","src":"x","mediaStart":0,"duration":1,"fps":30,"format":"png","durration":2}]}}"#,
    ),
    (
        "unknown-variant-did-you-mean",
        r#"{"composition":{"elements":[]},"sources":{"x":{"identity":{"kind":"fil","path":"/x"}}}}"#,
    ),
    ("not-json", r#"{"composition":{"elements":[{,]}}"#),
    (
        "wrong-type",
        r#"{"composition":{"elements":[
        {"id":"a","src":"x","mediaStart":"0","duration":1,"fps":30,"format":"png"}]}}"#,
    ),
    (
        "missing-field",
        r#"{"composition":{"elements":[{"id":"a","src":"x","duration":1,"fps":30,"format":"png"}]}}"#,
    ),
    (
        "bad-timeline",
        r#"{"composition":{"elements":[]},"sources":{"v":{"identity":{"kind":"name","name":"v"},
        "timeline":{"timeBase":"1/30","pts":[[0,1,3],[2,1,1]],"end":4}}}}"#,
    ),
    (
        "loop-without-pass-length",
        r#"{"composition":{"elements":[
        {"id":"a","src":"x","mediaStart":7,"duration":1,"fps":30,"loop":true,"format":"png"}]}}"#,
    ),
    (
        "negative-zero-and-half-microseconds",
        r#"{"composition":{"elements":[
        {"id":"a","src":"x","mediaStart":-0,"duration":1.0000005,"fps":12.5,"format":"png"},
        {"id":"b","src":"x","mediaStart":-0.0,"duration":0.0000004,"fps":30,"format":"png"},
        {"id":"c","src":"x","mediaStart":0,"duration":-0,"fps":-0,"format":"png"}]}}"#,
    ),
    (
        "negative-size",
        r#"{"composition":{"elements":[]},
      "sources":{"x":{"identity":{"kind":"file","path":"/x","size":-1,"mtimeNs":1}}}}"#,
    ),
    (
        "long-decimals",
        r#"{"composition":{"elements":[
        {"id":"a","src":"x","mediaStart":0.1234567890123456789,"duration":2.00000049999999999,"fps":23.976023976023978,"format":"png"},
        {"id":"b","src":"x","mediaStart":-1.2345678901234567e-7,"duration":1,"fps":30,"format":"png"}]}}"#,
    ),
];

/// The recipe key `{X_KEY}` stands for.
fn x_key() -> String {
    let identity = SourceIdentity::Name {
        name: "x.mp4".into(),
    };
    let recipe = Recipe::new(ImageFormat::Png, false, None);
    framex_core::recipe_key(&identity, TimeBase::new(1, 30).unwrap(), recipe)
}

/// One line of the driver's output.
struct WasmResult {
    file: PathBuf,
    json: Value,
    object: Value,
    /// `elementFrames` of each element, when the object path planned.
    elements: Vec<Value>,
}

fn run_driver(pkg: &Path, files: &[PathBuf]) -> Vec<WasmResult> {
    let output = Command::new(node())
        .arg(workspace_root().join("tests/js/wasm_parity.mjs"))
        .arg(pkg)
        .args(files)
        .output()
        .expect("node runs");
    assert!(
        output.status.success(),
        "the node driver failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("UTF-8")
        .lines()
        .map(|line| {
            let mut v: Value = serde_json::from_str(line).expect("driver prints JSON lines");
            WasmResult {
                file: PathBuf::from(v["file"].as_str().expect("file")),
                json: v["json"].take(),
                object: v["object"].take(),
                elements: v["elements"]
                    .as_array_mut()
                    .map(std::mem::take)
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// The plan text of a successful wasm result, parsed exactly.
fn wasm_plan(result: &Value, how: &str, case: &str) -> Value {
    let text = result["ok"]
        .as_str()
        .unwrap_or_else(|| panic!("{case}: native planned it, wasm ({how}) did not: {result}"));
    serde_json::from_str(text).expect("wasm plan is JSON")
}

fn wasm_error<'a>(result: &'a Value, how: &str, case: &str, native: &str) -> &'a Value {
    let error = &result["error"];
    assert!(
        error.is_object(),
        "{case}: native refused it ({native}), wasm ({how}) did not: {result}"
    );
    assert_eq!(error["name"], "FramexError", "{case} ({how})");
    error
}

#[test]
fn every_corpus_case_plans_the_same_in_wasm_and_natively() {
    let Some(pkg) = require_package(Package::Node, "wasm_parity") else {
        return;
    };
    let files = case_files();
    assert!(
        !files.is_empty(),
        "tests/cases has no cases: nothing to compare"
    );
    let (plans, errors) = check_parity(&pkg, &files);
    println!("wasm_parity: {plans} plans and {errors} errors of the corpus identical in wasm and natively");
}

#[test]
fn edge_cases_plan_the_same_in_wasm_and_natively() {
    let Some(pkg) = require_package(Package::Node, "wasm_parity") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key = x_key();
    let files: Vec<PathBuf> = EDGE_CASES
        .iter()
        .map(|(name, text)| {
            let path = dir.path().join(format!("{name}.json"));
            std::fs::write(&path, text.replace("{X_KEY}", &key)).unwrap();
            path
        })
        .collect();
    let (plans, errors) = check_parity(&pkg, &files);
    assert!(plans >= 6 && errors >= 10, "{plans} plans, {errors} errors");
    // The edge cases do what they are named for.
    let plan_of = |name: &str| {
        let text = std::fs::read_to_string(dir.path().join(format!("{name}.json"))).unwrap();
        framex_core::plan(&Request::from_json(&text).unwrap()).unwrap()
    };
    let cached = plan_of("cached-frames-hit-and-miss");
    assert_eq!(cached.sources[0].recipes[0].key, key);
    assert_eq!(cached.totals.cache_hits, 16, "{:?}", cached.totals);
    assert!(cached.totals.frames_to_make > 0);
    assert!(matches!(
        cached.elements[2].role,
        framex_core::Role::CacheHit
    ));
    let probed = plan_of("probed-vfr-timeline-loop-rate-trim");
    assert!(probed.sources[0].assumed_rate.is_none());
    assert_eq!(probed.warnings.len(), 1, "{:?}", probed.warnings);
    for (name, words) in [
        ("unknown-field-did-you-mean", "(did you mean `duration`?)"),
        ("unknown-variant-did-you-mean", "(did you mean `file`?)"),
    ] {
        let text = std::fs::read_to_string(dir.path().join(format!("{name}.json"))).unwrap();
        let error = Request::from_json(&text).unwrap_err();
        assert!(error.message.contains(words), "{name}: {error}");
    }
}

/// Runs `files` through wasm and natively; returns how many planned and how
/// many were refused (identically).
fn check_parity(pkg: &Path, files: &[PathBuf]) -> (usize, usize) {
    let results = run_driver(pkg, files);
    assert_eq!(results.len(), files.len(), "one result per case");
    let (mut plans, mut errors) = (0, 0);
    for (file, result) in files.iter().zip(&results) {
        assert_eq!(&result.file, file);
        let case = file.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(file).unwrap();
        match plan_case_json(&text) {
            Ok(native) => {
                plans += 1;
                let json = wasm_plan(&result.json, "planJson", &case);
                assert_eq!(json, native, "{case}: planJson");
                let object = wasm_plan(&result.object, "plan", &case);
                assert_eq!(object, native, "{case}: plan");
                // Byte for byte: the very text the native planner writes.
                let request = Request::from_json(&text).expect("native parsed it");
                let plan = framex_core::plan(&request).expect("native planned it");
                let native_text = serde_json::to_string(&plan).unwrap();
                assert_eq!(result.json["ok"], native_text, "{case}: planJson text");
                assert_eq!(
                    result.object["ok"], native_text,
                    "{case}: plan, written back"
                );
                check_element_frames(&case, &plan, &result.elements);
            }
            Err(message) => {
                errors += 1;
                let error = wasm_error(&result.json, "planJson", &case, &message);
                let wasm_text = error_text(
                    error["message"].as_str().expect("a message"),
                    error.get("errors"),
                );
                assert_eq!(wasm_text, message, "{case}: planJson");
                check_object_error(&case, &text, &message, &result.object);
            }
        }
    }
    (plans, errors)
}

/// `elementFrames` of every element: the recipe key and frames of its plan,
/// and the element key of those.
fn check_element_frames(case: &str, plan: &framex_core::Plan, results: &[Value]) {
    assert_eq!(
        results.len(),
        plan.elements.len(),
        "{case}: one per element"
    );
    for (element, result) in plan.elements.iter().zip(results) {
        let id = &element.element_id;
        let text = result["ok"]
            .as_str()
            .unwrap_or_else(|| panic!("{case}: elementFrames of {id} failed: {result}"));
        let frames: Value = serde_json::from_str(text).expect("JSON");
        assert_eq!(frames["recipeKey"], element.recipe.as_str(), "{case}: {id}");
        assert_eq!(
            frames["frames"],
            serde_json::to_value(&element.frames).unwrap(),
            "{case}: {id}"
        );
        assert_eq!(frames["ticks"], element.ticks, "{case}: {id}");
        let key = framex_core::element_key(&element.recipe, &element.frames);
        assert_eq!(frames["elementKey"], key.as_str(), "{case}: {id}");
    }
}

/// The object path: element errors are identical, message and element alike.
/// A request of the wrong shape fails on the same field with the same words;
/// only the line and column are missing, since a JS object has none.
fn check_object_error(case: &str, text: &str, message: &str, object: &Value) {
    match Request::from_json(text) {
        // Not JSON at all: JSON.parse refused it too, nothing reached wasm.
        Err(_) if object.get("syntaxError").is_some() => {}
        Err(parse) => {
            let error = wasm_error(object, "plan", case, message);
            assert_eq!(error["kind"], "parse", "{case}");
            assert_eq!(error["path"], parse.path.as_str(), "{case}: path");
            let expected = if parse.path.is_empty() {
                format!("invalid composition: {}", parse.message)
            } else {
                format!("invalid composition: {}: {}", parse.path, parse.message)
            };
            assert_eq!(error["message"], expected.as_str(), "{case}: plan");
        }
        Ok(request) => {
            let error = wasm_error(object, "plan", case, message);
            let text = error_text(
                error["message"].as_str().expect("a message"),
                error.get("errors"),
            );
            assert_eq!(text, message, "{case}: plan");
            let native = framex_core::plan(&request).expect_err("native refused it");
            if let Some(first) = native.element_errors().first() {
                assert_eq!(error["kind"], "invalid", "{case}");
                assert_eq!(error["elementId"], first.id.as_str(), "{case}: elementId");
                assert_eq!(error["field"], first.field.to_string(), "{case}: field");
                let details: Vec<_> = native.element_errors().iter().map(|e| e.detail()).collect();
                let details = serde_json::to_value(details).unwrap();
                assert_eq!(error["errors"], details, "{case}: errors");
            } else {
                assert!(
                    matches!(native, PlanError::TooManyElements { .. }),
                    "{case}: {native}"
                );
            }
        }
    }
}

/// Whether `tsc` must refuse a request that the native parser refused with
/// `message`: a misspelt or missing field, an unknown variant, a value of the
/// wrong JSON type. Not: a float where an integer belongs, nor a value of the
/// right type that the parser's own rules refuse (a time base of 1/0).
fn types_refuse(message: &str) -> bool {
    [
        "unknown field",
        "missing field",
        "unknown variant",
        "invalid type: ",
    ]
    .iter()
    .any(|start| message.starts_with(start))
        && !message.starts_with("invalid type: floating point")
}

/// One `export const` per value, on one line, so that `@ts-expect-error`
/// covers all of it.
fn ts_const(out: &mut String, name: &str, ty: &str, value: &Value) {
    out.push_str(&format!("export const {name}: {ty} = {value};\n"));
}

#[test]
fn typescript_types_accept_every_corpus_request_plan_and_error() {
    let (Some(pkg), Some(tsc)) = (
        require_package(Package::Node, "wasm_types"),
        tsc("wasm_types"),
    ) else {
        return;
    };
    let files = case_files();
    let results = run_driver(&pkg, &files);
    let types = pkg.join("framex_wasm.js");
    let mut ts = format!(
        "// Generated by tests/tests/wasm_parity.rs from tests/cases: the values the Rust code\n\
         // reads and writes, under the types the package publishes.\n\
         import type {{ ElementFrames, ErrorDetail, FramexError, Plan, Request }} from {:?};\n",
        types.display().to_string()
    );
    let (mut accepted, mut refused) = (0, 0);
    for (n, (file, result)) in files.iter().zip(&results).enumerate() {
        let text = std::fs::read_to_string(file).unwrap();
        let case = file.file_name().unwrap().to_string_lossy();
        ts.push_str(&format!("\n// {case}\n"));
        let Ok(value) = serde_json::from_str::<Value>(&text) else {
            continue; // not JSON: nothing to type
        };
        match Request::from_json(&text) {
            Ok(request) => {
                accepted += 1;
                ts_const(&mut ts, &format!("request_{n}"), "Request", &value);
                match framex_core::plan(&request) {
                    Ok(plan) => {
                        let plan = serde_json::to_value(&plan).unwrap();
                        ts_const(&mut ts, &format!("plan_{n}"), "Plan", &plan);
                        let frames: Vec<Value> = result
                            .elements
                            .iter()
                            .map(|r| {
                                serde_json::from_str(r["ok"].as_str().expect("frames")).unwrap()
                            })
                            .collect();
                        ts_const(
                            &mut ts,
                            &format!("frames_{n}"),
                            "ElementFrames[]",
                            &Value::from(frames),
                        );
                    }
                    Err(error) => {
                        let details: Vec<_> =
                            error.element_errors().iter().map(|e| e.detail()).collect();
                        let details = serde_json::to_value(details).unwrap();
                        ts_const(&mut ts, &format!("errors_{n}"), "ErrorDetail[]", &details);
                    }
                }
            }
            Err(error) if types_refuse(&error.message) => {
                refused += 1;
                ts.push_str(&format!(
                    "// @ts-expect-error: {}\n",
                    error.message.replace('\n', " ")
                ));
                ts_const(&mut ts, &format!("refused_{n}"), "Request", &value);
            }
            Err(_) => {}
        }
        for (how, thrown) in [("json", &result.json), ("object", &result.object)] {
            if thrown["error"].is_object() {
                ts_const(
                    &mut ts,
                    &format!("thrown_{how}_{n}"),
                    "FramexError",
                    &thrown["error"],
                );
            }
        }
    }
    assert!(
        accepted > 0 && refused > 0,
        "{accepted} accepted, {refused} refused"
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("corpus.ts"), ts).unwrap();
    let ts_dir = workspace_root().join("wasm/tests/ts");
    let config = serde_json::json!({
        "extends": ts_dir.join("tsconfig.json"),
        "files": [ts_dir.join("api.ts"), dir.path().join("corpus.ts")],
    });
    std::fs::write(dir.path().join("tsconfig.json"), config.to_string()).unwrap();
    let output = Command::new(node())
        .arg(&tsc)
        .arg("-p")
        .arg(dir.path())
        .output()
        .expect("tsc runs");
    if !output.status.success() {
        let kept = dir.keep();
        panic!(
            "tsc refused the published types (wasm/src/types.d.ts) against the corpus \
             (files kept in {}):\n{}{}",
            kept.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    println!("wasm_types: tsc accepts api.ts and {accepted} requests (with their plans or errors); refuses {refused} misshapen ones");
}

fn check_imports(files: &[PathBuf]) -> std::process::Output {
    Command::new(node())
        .arg(workspace_root().join("scripts/check-wasm-imports.mjs"))
        .args(files)
        .output()
        .expect("node runs")
}

#[test]
fn wasm_modules_import_only_wasm_bindgen_glue() {
    let (Some(node_pkg), Some(web_pkg)) = (
        require_package(Package::Node, "wasm_imports"),
        require_package(Package::Web, "wasm_imports"),
    ) else {
        return;
    };
    let modules = [
        node_pkg.join("framex_wasm_bg.wasm"),
        web_pkg.join("framex_wasm_bg.wasm"),
    ];
    let output = check_imports(&modules);
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_import_check_refuses_an_env_import() {
    if require_package(Package::Node, "wasm_imports").is_none() {
        return;
    }
    // The smallest module that imports a function `env.now`: what a
    // dependency reaching for the host would add.
    #[rustfmt::skip]
    let module: &[u8] = &[
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
        0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: () -> ()
        0x02, 0x0b, 0x01, 0x03, b'e', b'n', b'v', 0x03, b'n', b'o', b'w', 0x00, 0x00, // import env.now
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("env_import.wasm");
    std::fs::write(&path, module).unwrap();
    let output = check_imports(&[path]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("env :: now (function)"), "{stderr}");
}
