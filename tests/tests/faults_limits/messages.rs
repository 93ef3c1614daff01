//! How refusals and failures read: `framex plan` and `framex extract` refuse
//! invalid input alike and make nothing; thousands of invalid or failed
//! elements print the first few, then a count, and `--json` and the report
//! keep every one.

use std::path::{Path, PathBuf};

use framex_tests::faults::describe;
use framex_tests::hostile::{good, tree};
use framex_tests::{cfr_clip, framex_command};
use serde_json::{json, Value};

use crate::composition_dir;

/// What one command did to the filesystem around it.
struct Outcome {
    code: Option<i32>,
    stderr: String,
}

#[test]
fn plan_and_extract_refuse_invalid_input_alike_and_make_nothing() {
    let fps_zero = json!({"elements": [good(), {"id": "bad", "src": "good.mp4",
        "mediaStart": 0, "duration": 1, "fps": 0, "format": "png"}]})
    .to_string();
    let huge = json!({"elements": [{"id": "huge", "src": "good.mp4", "mediaStart": 0,
        "duration": 1e7, "fps": 1000, "format": "png"}]})
    .to_string();
    let cases: [(&str, Option<String>); 4] = [
        ("a syntax error", Some("{\"elements\": [,]}".into())),
        ("an invalid element", Some(fps_zero)),
        ("a slot over the frame cap", Some(huge)),
        ("no composition file", None),
    ];
    for (what, text) in cases {
        for store_exists in [false, true] {
            let root = tempfile::tempdir().unwrap();
            let root = root.path();
            let (cwd, home, tmp) = (root.join("cwd"), root.join("home"), root.join("tmp"));
            for d in [&cwd, &home, &tmp] {
                std::fs::create_dir(d).unwrap();
            }
            std::fs::copy(cfr_clip(), root.join("good.mp4")).unwrap();
            let composition = root.join("composition.json");
            if let Some(text) = &text {
                std::fs::write(&composition, text).unwrap();
            }
            let (out, cache) = (root.join("out"), root.join("cache"));
            if store_exists {
                std::fs::create_dir(&cache).unwrap();
            }
            let before = tree(root);
            let run = |args: &[&str]| {
                let output = framex_command()
                    .current_dir(&cwd)
                    .env("HOME", &home)
                    .env("XDG_CACHE_HOME", &home)
                    .env("TMPDIR", &tmp)
                    .args(args)
                    .arg(&composition)
                    .arg("--cache-dir")
                    .arg(&cache)
                    .output()
                    .unwrap();
                Outcome {
                    code: output.status.code(),
                    stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
                }
            };
            let out_arg = out.to_str().unwrap();
            let extract = run(&["--quiet", "extract", "--out", out_arg]);
            let plan = run(&["--quiet", "plan"]);
            let what = format!("{what} (store directory there before: {store_exists})");
            assert_eq!(extract.code, Some(2), "{what}: extract: {}", extract.stderr);
            assert_eq!(plan.code, Some(2), "{what}: plan: {}", plan.stderr);
            assert_eq!(extract.stderr, plan.stderr, "{what}: the same message");
            assert!(extract.stderr.starts_with("framex: "), "{what}");
            assert_eq!(tree(root), before, "{what}: nothing made or changed");
        }
    }
}

/// 3000 elements, each made by `element(i)`, in a fresh directory with the
/// good clip.
fn thousands(element: impl Fn(usize) -> Value) -> (tempfile::TempDir, PathBuf) {
    composition_dir((0..3000).map(element).collect())
}

/// Runs framex (not quiet: its summaries are the point) with `args` then
/// the composition.
fn run_loud(args: &[&str], composition: &Path) -> std::process::Output {
    framex_command()
        .args(args)
        .arg(composition)
        .output()
        .unwrap()
}

#[test]
fn thousands_of_invalid_elements_print_the_first_few_and_json_lists_them_all() {
    let (dir, composition) = thousands(|i| {
        json!({"id": format!("e{i}"), "src": "good.mp4", "mediaStart": 0, "duration": 1,
            "fps": 0, "format": "png"})
    });
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    for command in [&["extract", "--out", out][..], &["plan"][..]] {
        for json in [false, true] {
            let mut args = command.to_vec();
            if json {
                args.push("--json");
            }
            let output = run_loud(&args, &composition);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(
                stderr.lines().count() <= 20
                    && stderr.contains("3000 invalid elements")
                    && stderr.contains("element \"e9\" (#9)")
                    && !stderr.contains("element \"e10\" (#10)")
                    && stderr.contains("… and 2990 more invalid elements"),
                "{args:?}: the first few, then a count:\n{stderr}"
            );
            if json {
                let printed: Value = serde_json::from_slice(&output.stdout)
                    .unwrap_or_else(|e| panic!("{args:?}: JSON on stdout ({e})"));
                let errors = printed["errors"].as_array().expect("errors");
                assert_eq!(errors.len(), 3000, "{args:?}");
                assert_eq!(errors[2999]["elementId"], "e2999");
                assert_eq!(errors[2999]["field"], "fps");
            }
        }
    }
}

#[test]
fn thousands_of_failed_elements_print_the_first_few_and_the_report_keeps_them_all() {
    let (dir, composition) = thousands(|i| {
        json!({"id": format!("e{i}"), "src": format!("missing-{i}.mp4"), "mediaStart": 0,
            "duration": 1, "fps": 30, "format": "png"})
    });
    let out = dir.path().join("out");
    let out_arg = out.to_str().unwrap();
    let cache = dir.path().join("cache");
    let cache_arg = cache.to_str().unwrap();
    let bounded = |text: &str, what: &str| {
        assert!(
            text.lines().count() <= 40 && text.contains("2990 more"),
            "{what}: the first few, then a count:\n{text}"
        );
    };

    let output = run_loud(
        &["extract", "--out", out_arg, "--cache-dir", cache_arg],
        &composition,
    );
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    bounded(&String::from_utf8_lossy(&output.stderr), "extract");
    let report: Value =
        serde_json::from_slice(&std::fs::read(out.join("framex-report.json")).unwrap()).unwrap();
    let failed = |report: &Value| {
        report["elements"]
            .as_object()
            .unwrap()
            .values()
            .filter(|e| e["errorKind"] == "source_missing")
            .count()
    };
    assert_eq!(failed(&report), 3000, "the report keeps every error");
    let output = run_loud(
        &[
            "extract",
            "--json",
            "--out",
            out_arg,
            "--cache-dir",
            cache_arg,
        ],
        &composition,
    );
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(failed(&printed), 3000, "--json keeps every error");

    let output = run_loud(&["plan", "--cache-dir", cache_arg], &composition);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    bounded(&String::from_utf8_lossy(&output.stdout), "plan");
    let output = run_loud(&["plan", "--json", "--cache-dir", cache_arg], &composition);
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(printed["elementErrors"].as_array().unwrap().len(), 3000);
}
