//! The limits a long or large composition hits (issue 7 item 4, issue 14
//! items 5–7):
//!
//! - a million elements are refused quickly, and an element of 10^10 frames
//!   (1e7 s at 1000 fps) at validation, naming the element (exit 2), before
//!   any directory is made; the cap itself (`MAX_FRAMES_PER_ELEMENT`) is
//!   accepted;
//! - memory does not grow with the frames of a slot (fan-out streams);
//! - `framex plan` and `framex extract` refuse invalid input alike: the same
//!   message, exit 2, and neither makes a store or output directory;
//! - thousands of invalid or failed elements print the first few, then a
//!   count, while `--json` and the report keep every one;
//! - elements that run past a source's end, at fps off its grid, get every
//!   frame the plan counts, the held ones the true last frame.

use std::path::{Path, PathBuf};
use std::time::Duration;

use framex_core::{MAX_ELEMENTS, MAX_FRAMES_PER_ELEMENT};
use framex_tests::faults::describe;
use framex_tests::hostile::{good, run_all, says, tree, Case, Expect, Text};
use framex_tests::processes::run_watched;
use framex_tests::{cfr_clip, framex_command, h264_clip, ntsc_clip};
use serde_json::{json, Value};

/// A million elements: refused with the limit, quickly, without planning.
#[test]
fn a_million_elements_are_refused_quickly() {
    let count = 1_000_000;
    assert!(count > MAX_ELEMENTS);
    run_all(&[Case {
        name: "10^6 elements",
        text: Text::Many(count),
        fixtures: vec![],
        trap: None,
        expect: Expect::Invalid(says(&[&format!(
            "the composition has {count} elements; at most {MAX_ELEMENTS} are accepted"
        )])),
    }]);
}

/// A directory with the good clip and `elements` as `composition.json`.
fn composition_dir(elements: Value) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(cfr_clip(), dir.path().join("good.mp4")).unwrap();
    let path = dir.path().join("composition.json");
    std::fs::write(&path, json!({ "elements": elements }).to_string()).unwrap();
    (dir, path)
}

/// `framex <args…>`, killed if it runs past a minute or 2 GiB: an old
/// binary (`FRAMEX_BIN`) may try to hold every frame of a huge slot.
fn framex_watched(args: &[&std::ffi::OsStr]) -> std::process::Output {
    let watched = run_watched(
        framex_command().args(args),
        Duration::from_secs(60),
        2 << 20,
    );
    assert!(
        watched.killed.is_none(),
        "framex {args:?} was killed: {}",
        watched.killed.unwrap_or_default()
    );
    watched.output
}

#[test]
fn a_slot_of_ten_billion_frames_is_refused_before_anything_is_made() {
    let huge = json!({"id": "huge", "src": "good.mp4", "mediaStart": 0, "duration": 1e7,
        "fps": 1000, "format": "png"});
    let (dir, composition) = composition_dir(json!([good(), huge]));
    let (out, cache) = (dir.path().join("out"), dir.path().join("cache"));
    let says = format!(
        "element \"huge\" (#1): `duration` makes 10000000000 frames at this fps; \
         at most {MAX_FRAMES_PER_ELEMENT} are accepted per element"
    );
    let extract = [
        "--quiet".as_ref(),
        "extract".as_ref(),
        composition.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--cache-dir".as_ref(),
        cache.as_os_str(),
    ];
    let plan = [
        "--quiet".as_ref(),
        "plan".as_ref(),
        composition.as_os_str(),
        "--cache-dir".as_ref(),
        cache.as_os_str(),
    ];
    for args in [&extract[..], &plan[..]] {
        let output = framex_watched(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            describe(&output)
        );
        assert!(stderr.contains(&says), "{args:?}: {stderr}");
        assert!(
            !out.exists() && !cache.exists(),
            "{args:?} made a directory"
        );
    }

    // The cap itself is accepted; a frame more is not.
    for (duration, ok) in [(1000.0, true), (1000.001, false)] {
        let at = json!({"id": "at-cap", "src": "good.mp4", "mediaStart": 0,
            "duration": duration, "fps": 1000, "format": "png"});
        let (_dir, composition) = composition_dir(json!([at]));
        let output = framex_watched(&[
            "--quiet".as_ref(),
            "plan".as_ref(),
            "--json".as_ref(),
            "--no-cache".as_ref(),
            composition.as_os_str(),
        ]);
        if ok {
            assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
            let plan: Value = serde_json::from_slice(&output.stdout).unwrap();
            assert_eq!(plan["elements"][0]["ticks"], MAX_FRAMES_PER_ELEMENT);
        } else {
            assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(stderr.contains("makes 1000001 frames"), "{stderr}");
        }
    }
}

/// 1 s of 64×48 testsrc2 at 30 fps.
fn small_clip() -> PathBuf {
    h264_clip(
        "limits-1s-64x48-30.mp4",
        "testsrc2=size=64x48:rate=30",
        "1",
        &[],
    )
}

/// The peak resident set (KiB) of an extraction of one element showing a
/// 1 s clip for `ticks` ticks (the last frame held), without a store.
fn peak_of_a_slot(dir: &Path, ticks: u64) -> u64 {
    let clip = small_clip();
    let element = json!({"id": "slot", "src": clip.to_str().unwrap(), "mediaStart": 0,
        "duration": ticks as f64 / 30.0, "fps": 30, "format": "png"});
    let composition = dir.join(format!("slot-{ticks}.json"));
    std::fs::write(&composition, json!({ "elements": [element] }).to_string()).unwrap();
    let out = dir.join(format!("out-{ticks}"));
    let watched = run_watched(
        framex_command()
            .args(["--quiet", "extract", "--no-cache", "--out"])
            .arg(&out)
            .arg(&composition),
        Duration::from_secs(600),
        4 << 20,
    );
    assert!(watched.killed.is_none(), "{:?}", watched.killed);
    assert_eq!(
        watched.output.status.code(),
        Some(0),
        "{}",
        describe(&watched.output)
    );
    let files = std::fs::read_dir(out.join("slot")).unwrap().count() as u64;
    assert_eq!(files, ticks);
    std::fs::remove_dir_all(&out).unwrap();
    watched.peak_kib
}

/// Fan-out streams: 600 000 files take no more memory than 30 000 (a path
/// kept per file is some 45 MiB more: 107 MB against 62 MB before the
/// exact-frames rewrite).
#[test]
fn memory_does_not_grow_with_the_frames_of_a_slot() {
    let dir = tempfile::tempdir().unwrap();
    let small = peak_of_a_slot(dir.path(), 30_000);
    let large = peak_of_a_slot(dir.path(), 600_000);
    assert!(
        large < small + 16 * 1024,
        "peak resident set: {small} KiB for 30 000 files, {large} KiB for 600 000"
    );
}

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

/// Found by the hostile `fps "1/4294968"` (one frame, from a 3 s clip):
/// elements that run past the end of a source whose end is not on their
/// frame grid — a 29.97 fps clip at 30, 25, 24, 7 or 0.4 fps, a whole clip
/// at one frame per 50 days, 60 fps — get every frame the plan counts, and
/// every tick past the end shows the true last frame.
#[test]
fn extractions_past_the_source_end_give_the_planned_frames() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(ntsc_clip(), dir.path().join("ntsc.mp4")).unwrap();
    let rates = [
        json!(30),
        json!(25),
        json!(24),
        json!(7),
        json!(0.4),
        json!("1/4294968"),
        json!(60),
    ];
    let mut elements = Vec::new();
    for (i, fps) in rates.iter().enumerate() {
        for (j, start) in [0.0, 2.5].into_iter().enumerate() {
            elements.push(json!({"id": format!("e{i}-{j}"), "src": "ntsc.mp4",
                "mediaStart": start, "duration": 5, "fps": fps, "format": "png"}));
        }
    }
    let composition = dir.path().join("composition.json");
    std::fs::write(&composition, json!({ "elements": elements }).to_string()).unwrap();
    let plan = framex_tests::framex_plan_json(&["--no-cache"], &composition);
    let ticks = |id: &str| {
        plan["elements"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["elementId"] == id)
            .and_then(|e| e["ticks"].as_u64())
            .unwrap()
    };
    assert_eq!(ticks("e0-0"), 150, "5 s at 30 fps");
    assert_eq!(ticks("e5-0"), 1, "5 s at one frame per 50 days");
    let out = dir.path().join("out");
    let output = framex_command()
        .args(["--quiet", "extract", "--no-cache", "--out"])
        .arg(&out)
        .arg(&composition)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let last_frame = |id: &str| {
        let n = ticks(id);
        std::fs::read(out.join(id).join(format!("frame_{n:06}.png"))).unwrap()
    };
    let held = last_frame("e0-0");
    for (i, fps) in rates.iter().enumerate() {
        for (j, start) in [0.0, 2.5].into_iter().enumerate() {
            let id = format!("e{i}-{j}");
            let n = ticks(&id);
            let files = std::fs::read_dir(out.join(&id)).unwrap().count() as u64;
            assert_eq!(files, n, "{id}");
            // Its last tick lies past the 3.003 s source's end: it holds the
            // source's last frame.
            let per_second = match fps {
                Value::String(_) => 1.0 / 4_294_968.0,
                v => v.as_f64().unwrap(),
            };
            if start + (n - 1) as f64 / per_second > 3.01 {
                assert!(last_frame(&id) == held, "{id} holds the true last frame");
            }
        }
    }
}
