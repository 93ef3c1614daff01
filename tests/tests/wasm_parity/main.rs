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

mod edge_cases;
mod imports;
mod plans;
mod typescript;

use std::path::{Path, PathBuf};
use std::process::Command;

use framex_tests::wasm::node;
use framex_tests::{output_ok, workspace_root};
use serde_json::Value;

/// One line of the driver's output.
struct WasmResult {
    file: PathBuf,
    json: Value,
    object: Value,
    /// `elementFrames` of each element, when the object path planned.
    elements: Vec<Value>,
}

fn run_driver(pkg: &Path, files: &[PathBuf]) -> Vec<WasmResult> {
    let output = output_ok(
        Command::new(node())
            .arg(workspace_root().join("tests/js/wasm_parity.mjs"))
            .arg(pkg)
            .args(files),
        "the node driver",
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
