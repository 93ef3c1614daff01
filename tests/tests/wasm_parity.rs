//! The same plan in wasm as natively, byte for byte: every case of the
//! snapshot corpus (`tests/cases/*.json`), and the edge cases below, go through
//! the wasm build in node (tests/js/wasm_parity.mjs) and through the native
//! planner; the plans, cache keys included, and the error messages must be
//! identical. Also: the `.wasm` modules import nothing but wasm-bindgen's glue.
//!
//! Needs `scripts/build-wasm.sh` first (the test command runs it); with
//! `FRAMEX_SKIP_WASM=1` and no package, these tests say so and pass.

use std::path::{Path, PathBuf};
use std::process::Command;

use framex_core::{PlanError, Request};
use framex_tests::wasm::{node, require_package, Package};
use framex_tests::{case_files, error_text, plan_case_json, workspace_root};
use serde_json::Value;

/// Requests where a careless binding would differ from the native planner:
/// 64-bit integers past 2^53, -0, long decimals, every kind of error.
const EDGE_CASES: &[(&str, &str)] = &[
    (
        "duplicates",
        r#"{"composition":{"elements":[
        {"id":"a","src":"x.mp4","mediaStart":0,"duration":2,"fps":30,"format":"png"},
        {"id":"b","src":"x.mp4","mediaStart":0,"duration":2,"fps":30,"format":"png"}]}}"#,
    ),
    (
        "superset-file-identity-u64-max",
        r#"{"composition":{"elements":[
        {"id":"a","src":"x.mp4","mediaStart":0,"duration":2,"fps":24,"format":"png"},
        {"id":"b","src":"x.mp4","mediaStart":1,"duration":2,"fps":24,"format":"png"},
        {"id":"c","src":"x.mp4","mediaStart":5.5,"duration":1,"fps":24,"format":"png"}]},
      "sources":{"x.mp4":{"identity":{"kind":"file","path":"/m/x.mp4","size":18446744073709551615,
        "mtimeNs":1732500000123456789},"durationUs":6000000,"alpha":true}},
      "options":{"supersetGapUs":3000000}}"#,
    ),
    (
        "cached-content-identity-ntsc-pq",
        r#"{"composition":{"elements":[
        {"id":"a","src":"x.mp4","mediaStart":0.1,"duration":0.3,"fps":"30000/1001","format":"jpeg","sdrToHdrTransfer":"pq"}]},
      "cachedKeys":["deadbeef"],"sources":{"x.mp4":{"identity":{"kind":"content","blake3":"ab12"}}}}"#,
    ),
    (
        "every-field-invalid",
        r#"{"composition":{"elements":[
        {"id":"../a","src":"","mediaStart":-0.30000000000000004,"duration":0,"fps":1001,"format":"gif","sdrToHdrTransfer":"x"},
        {"id":"../a","src":"x","mediaStart":1e300,"duration":1,"fps":29.97,"format":"png"}]}}"#,
    ),
    (
        "unknown-field",
        r#"{"composition":{"elements":[
        {"id":"a","src":"x","mediaStart":0,"duration":1,"fps":30,"format":"png","durration":2}]}}"#,
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
        "start-past-end",
        r#"{"composition":{"elements":[
        {"id":"a","src":"x","mediaStart":7,"duration":1,"fps":30,"format":"png"}]},
      "sources":{"x":{"identity":{"kind":"name","name":"x"},"durationUs":2000000}}}"#,
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

/// One line of the driver's output.
struct WasmResult {
    file: PathBuf,
    json: Value,
    object: Value,
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
    let files: Vec<PathBuf> = EDGE_CASES
        .iter()
        .map(|(name, text)| {
            let path = dir.path().join(format!("{name}.json"));
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect();
    let (plans, errors) = check_parity(&pkg, &files);
    assert!(plans >= 3 && errors >= 8, "{plans} plans, {errors} errors");
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
