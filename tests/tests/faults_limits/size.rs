//! Sizes: a million elements and an element of 10^10 frames refused at
//! validation (the cap itself accepted), and memory flat however many frames
//! a slot holds.

use std::path::{Path, PathBuf};
use std::time::Duration;

use framex_core::{MAX_ELEMENTS, MAX_FRAMES_PER_ELEMENT};
use framex_tests::faults::describe;
use framex_tests::hostile::{good, run_all, says, Case, Expect, Text};
use framex_tests::processes::run_watched;
use framex_tests::{framex_command, h264_clip};
use serde_json::{json, Value};

use crate::{composition_dir, framex_watched};

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
