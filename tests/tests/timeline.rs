//! Timeline semantics end to end, with real ffmpeg on clips made here: a loop
//! is extracted once and linked over its slot, a playback rate is a source
//! grid shared with plain elements on that grid, slots that outlast their
//! source hold its true last frame, and a slot starting past the end shows
//! only that frame (with a warning, not an error).

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use framex_tests::{cfr_clip, framex_bin};
use serde_json::Value;

/// One frame of an element's directory: name, bytes, inode.
type Frame = (String, Vec<u8>, u64);

/// Writes a composition of `elements` (JSON objects without `src`, which is
/// set to `clip`) next to a link to `clip`; returns its path.
fn composition(dir: &Path, clip: &Path, elements: &[Value]) -> PathBuf {
    let name = clip.file_name().unwrap();
    let src = dir.join(name);
    if !src.exists() {
        std::os::unix::fs::symlink(clip, &src).unwrap();
    }
    let elements: Vec<Value> = elements
        .iter()
        .map(|e| {
            let mut e = e.clone();
            e["src"] = Value::String(name.to_string_lossy().into_owned());
            e
        })
        .collect();
    let path = dir.join("composition.json");
    let text = serde_json::json!({ "elements": elements }).to_string();
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `framex extract` with a cache of its own in `dir`; asserts exit 0
/// and returns the report.
fn extract(composition: &Path, out: &Path) -> Value {
    let cache = composition.parent().unwrap().join("cache");
    let output = Command::new(framex_bin())
        .args(["--quiet", "extract"])
        .arg(composition)
        .arg("--out")
        .arg(out)
        .arg("--cache-dir")
        .arg(&cache)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "framex failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&std::fs::read(out.join("framex-report.json")).unwrap()).unwrap()
}

/// The frames of an element's directory, in order.
fn frames(dir: &Path) -> Vec<Frame> {
    let mut frames: Vec<Frame> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            let bytes = std::fs::read(e.path()).unwrap();
            (name, bytes, e.metadata().unwrap().ino())
        })
        .collect();
    frames.sort();
    frames
}

fn inodes(frames: &[Frame]) -> BTreeSet<u64> {
    frames.iter().map(|f| f.2).collect()
}

/// The source's true last frame, extracted on its own by plain ffmpeg: seek
/// near the end, decode to the end, keep the last image written.
fn true_last_frame(clip: &Path, dir: &Path) -> Vec<u8> {
    let path = dir.join("true-last.png");
    let output = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-sseof", "-0.5", "-i"])
        .arg(clip)
        .args(["-vf", "format=rgb24", "-update", "1"])
        .args(["-c:v", "png", "-compression_level", "1"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{:?}", output);
    std::fs::read(path).unwrap()
}

#[test]
fn a_loop_is_extracted_once_and_linked_over_its_slot() {
    let dir = tempfile::tempdir().unwrap();
    // One second from 0.5 s at 30 fps is a cycle of 30 frames; two slots of
    // 2.5 s and 1.5 s loop it.
    let c = composition(
        dir.path(),
        &cfr_clip(),
        &[
            serde_json::json!({"id": "loop", "mediaStart": 0.5, "mediaDuration": 1, "duration": 2.5,
                "fps": 30, "loop": true, "format": "png"}),
            serde_json::json!({"id": "loop-again", "mediaStart": 0.5, "mediaDuration": 1, "duration": 1.5,
                "fps": 30, "loop": true, "format": "png"}),
        ],
    );
    let out = dir.path().join("out");
    let report = extract(&c, &out);
    assert_eq!(report["metrics"]["ffmpegRuns"], 1, "{report:#}");
    assert_eq!(report["metrics"]["framesExtracted"], 30);
    assert_eq!(report["metrics"]["dedupeHits"], 1);
    assert_eq!(report["elements"]["loop"]["frames"], 75);
    assert_eq!(report["elements"]["loop-again"]["frames"], 45);
    let looped = frames(&out.join("loop"));
    assert_eq!(looped.len(), 75);
    for j in 0..45 {
        assert_eq!(
            looped[j].2,
            looped[j + 30].2,
            "frames {j} and {} are one file",
            j + 30
        );
    }
    assert_eq!(inodes(&looped).len(), 30);
    let again = frames(&out.join("loop-again"));
    assert_eq!(again.len(), 45);
    assert!(
        again.iter().zip(&looped).all(|(a, b)| a.2 == b.2),
        "one cycle for both"
    );

    // The cycle is the trim's frames: the same bytes as a plain element over it.
    let plain_dir = dir.path().join("plain");
    std::fs::create_dir_all(&plain_dir).unwrap();
    let c = composition(
        &plain_dir,
        &cfr_clip(),
        &[
            serde_json::json!({"id": "plain", "mediaStart": 0.5, "duration": 1, "fps": 30, "format": "png"}),
        ],
    );
    extract(&c, &plain_dir.join("out"));
    let plain = frames(&plain_dir.join("out").join("plain"));
    assert_eq!(plain.len(), 30);
    for (j, frame) in looped.iter().enumerate() {
        assert!(
            frame.1 == plain[j % 30].1,
            "loop frame {j} is plain frame {}",
            j % 30
        );
    }
}

#[test]
fn rate_two_at_30_fps_is_rate_one_at_15_fps() {
    let dir = tempfile::tempdir().unwrap();
    let fast = serde_json::json!({"id": "fast", "mediaStart": 0.5, "duration": 1, "fps": 30,
        "playbackRate": 2, "format": "png"});
    let slow = serde_json::json!({"id": "slow", "mediaStart": 0.5, "duration": 2, "fps": 15, "format": "png"});
    let c = composition(dir.path(), &cfr_clip(), &[fast.clone(), slow]);
    let out = dir.path().join("out");
    let report = extract(&c, &out);
    assert_eq!(report["metrics"]["ffmpegRuns"], 1, "one unit: {report:#}");
    assert_eq!(
        report["elements"]["fast"]["unit"],
        report["elements"]["slow"]["unit"]
    );
    let (f, s) = (frames(&out.join("fast")), frames(&out.join("slow")));
    assert_eq!((f.len(), s.len()), (30, 30));
    assert!(f.iter().zip(&s).all(|(a, b)| a.1 == b.1), "same bytes");

    // Alone, with nothing to share, the rate-2 element has the same bytes.
    let alone = dir.path().join("alone");
    std::fs::create_dir_all(&alone).unwrap();
    let c = composition(&alone, &cfr_clip(), &[fast]);
    extract(&c, &alone.join("out"));
    let f = frames(&alone.join("out").join("fast"));
    assert_eq!(f.len(), 30);
    assert!(
        f.iter().zip(&s).all(|(a, b)| a.1 == b.1),
        "same bytes alone"
    );
}

#[test]
fn frames_past_the_end_hold_the_true_last_frame() {
    let dir = tempfile::tempdir().unwrap();
    let clip = cfr_clip(); // 3 s at 30 fps
    let last = true_last_frame(&clip, dir.path());
    // 10 fps from 2 s for 3 s: 10 frames of source, then 20 held. The last
    // grid frame (2.9 s) shows source frame 88; the true last frame is 89.
    let c = composition(
        dir.path(),
        &clip,
        &[
            serde_json::json!({"id": "tail10", "mediaStart": 2, "duration": 3, "fps": 10, "format": "png"}),
            serde_json::json!({"id": "tail30", "mediaStart": 2.5, "duration": 1, "fps": 30, "format": "png"}),
        ],
    );
    let out = dir.path().join("out");
    let report = extract(&c, &out);
    // Two ranges and one last frame, shared by both elements.
    assert_eq!(report["metrics"]["ffmpegRuns"], 3, "{report:#}");
    let tail10 = frames(&out.join("tail10"));
    assert_eq!(tail10.len(), 30);
    assert!(
        tail10[9].1 != last,
        "the last grid frame is not the last frame"
    );
    for frame in &tail10[10..] {
        assert!(frame.1 == last, "{} is the true last frame", frame.0);
    }
    assert_eq!(
        inodes(&tail10[10..]).len(),
        1,
        "held frames are links of one file"
    );
    let tail30 = frames(&out.join("tail30"));
    assert_eq!(tail30.len(), 30);
    assert_eq!(
        tail30[15..].iter().map(|f| f.2).collect::<BTreeSet<_>>(),
        inodes(&tail10[10..])
    );
    assert!(
        tail30[14].1 == last,
        "15 frames from 2.5 s: the last one is frame 89"
    );

    // Warm: everything from the cache, the last frame too.
    let warm = extract(&c, &dir.path().join("warm"));
    assert_eq!(warm["metrics"]["ffmpegRuns"], 0);
    assert_eq!(warm["metrics"]["cacheHits"], 3);
    assert!(frames(&dir.path().join("warm").join("tail10"))[29].1 == last);
}

#[test]
fn a_slot_past_the_end_shows_only_the_last_frame_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let clip = cfr_clip();
    let last = true_last_frame(&clip, dir.path());
    let c = composition(
        dir.path(),
        &clip,
        &[
            serde_json::json!({"id": "late", "mediaStart": 4, "duration": 0.5, "fps": 10, "format": "png"}),
        ],
    );
    let out = dir.path().join("out");
    let report = extract(&c, &out);
    assert_eq!(report["elements"]["late"]["status"], "ok");
    assert_eq!(report["elements"]["late"]["frames"], 5);
    let warnings = report["warnings"].as_array().expect("warnings");
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0]["elementId"], "late");
    assert!(warnings[0]["message"]
        .as_str()
        .unwrap()
        .contains("past the end"));
    let late = frames(&out.join("late"));
    assert_eq!(late.len(), 5);
    assert!(
        late.iter().all(|f| f.1 == last),
        "every frame is the last frame"
    );
    assert_eq!(inodes(&late).len(), 1);
    assert_eq!(report["metrics"]["framesExtracted"], 1);
}

#[test]
fn a_trim_holds_its_own_last_frame() {
    let dir = tempfile::tempdir().unwrap();
    let c = composition(
        dir.path(),
        &cfr_clip(),
        &[
            serde_json::json!({"id": "trim", "mediaStart": 0.5, "mediaDuration": 0.5, "duration": 1,
            "fps": 30, "format": "png"}),
        ],
    );
    let out = dir.path().join("out");
    let report = extract(&c, &out);
    assert_eq!(report["metrics"]["ffmpegRuns"], 1, "{report:#}");
    assert_eq!(report["metrics"]["framesExtracted"], 15);
    let trim = frames(&out.join("trim"));
    assert_eq!(trim.len(), 30);
    assert_eq!(inodes(&trim).len(), 15);
    assert!(
        trim[15..].iter().all(|f| f.2 == trim[14].2),
        "held: links of frame 15"
    );
}

/// The last tick of a unit that reaches the source's end may lie less than
/// half a frame period before it: ffmpeg's `fps` filter dropped it by
/// default, and such a unit came out one frame short.
#[test]
fn a_range_reaching_the_end_has_every_planned_frame() {
    let dir = tempfile::tempdir().unwrap();
    let clip = cfr_clip();
    let last = true_last_frame(&clip, dir.path());
    // From 0.03 s at 24 fps, 2.97 s of source are 71.28 periods: 72 frames.
    let c = composition(
        dir.path(),
        &clip,
        &[
            serde_json::json!({"id": "e", "mediaStart": 0.03, "duration": 5, "fps": 24, "format": "png"}),
        ],
    );
    let out = dir.path().join("out");
    let report = extract(&c, &out);
    assert_eq!(
        report["metrics"]["framesExtracted"], 73,
        "72 and the last frame"
    );
    let e = frames(&out.join("e"));
    assert_eq!(e.len(), 120);
    // Ticks 70 and 71 (the one ffmpeg dropped) show the last frame, like
    // the 48 held after them; tick 69 shows frame 87.
    assert!(e[70..].iter().all(|f| f.1 == last));
    assert!(e[69].1 != last);
}
