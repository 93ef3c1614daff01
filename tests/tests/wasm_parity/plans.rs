//! Plans, element frames and errors: every corpus case and every edge case
//! the same in wasm as natively, also when passed as a JS object.

use std::path::{Path, PathBuf};

use framex_core::{PlanError, Request};
use framex_tests::wasm::{require_package, Package};
use framex_tests::{case_files, error_text, plan_case_json};
use serde_json::Value;

use crate::edge_cases::{x_key, EDGE_CASES};
use crate::{run_driver, wasm_error, wasm_plan};

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
