//! Timeline semantics end to end, with real ffmpeg on clips made here: a
//! loop's frames are made once and linked over its slot, a playback rate
//! shares its frames with a plain element showing the same ones, slots that
//! outlast their source hold its true last frame (as plain ffmpeg decodes
//! it), a slot starting past the end shows only that frame (with a warning,
//! not an error), and a trim holds its own last frame. Which frame each
//! tick shows comes from the oracle (`framex_tests::oracle`).

use std::collections::BTreeSet;
use std::path::Path;

use framex_tests::cfr_clip;
use framex_tests::check::{
    assert_frame_inodes, composition, el, expected, frames, inodes, png_pixels, true_last_frame,
    with, Extract, Frame,
};
use framex_tests::oracle::probe_frames;
use serde_json::{json, Value};

/// Runs `elements` with a store in `dir/cache`; must succeed.
fn extract(dir: &Path, name: &str, elements: &[Value]) -> framex_tests::ExtractRun {
    let c = composition(dir, &format!("{name}.json"), elements);
    Extract::new(&c, &dir.join(name), Some(&dir.join("cache"))).ok()
}

/// The oracle's frames of `elements` on `clip`, by id.
fn shown<'a>(clip: &Path, elements: &'a [Value]) -> Vec<(&'a str, Vec<usize>)> {
    let times = probe_frames(clip);
    elements
        .iter()
        .map(|e| (e["id"].as_str().unwrap(), expected(&times, e)))
        .collect()
}

fn distinct(frames: &[Frame]) -> usize {
    inodes(frames).into_iter().collect::<BTreeSet<_>>().len()
}

#[test]
fn a_loop_is_made_once_and_linked_over_its_slot() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let clip = cfr_clip();
    // One second from 0.5 s at 30 fps is a cycle of 30 frames; two slots of
    // 2.5 s and 1.5 s loop it.
    let cycle = json!({"loop": true, "mediaDuration": 1});
    let elements = [
        with(el("loop", &clip, 0.5, 2.5), cycle.clone()),
        with(el("loop-again", &clip, 0.5, 1.5), cycle),
    ];
    let run = extract(d, "out", &elements);
    assert_eq!(run.metric("decodeRuns"), 1, "{}", run.report);
    assert_eq!(run.metric("framesExtracted"), 30);
    assert_eq!(run.metric("framesRequested"), 120);
    assert_eq!(run.metric("dedupeHits"), 90);
    run.assert_ok(&d.join("out"), "loop", 75, "png");
    run.assert_ok(&d.join("out"), "loop-again", 45, "png");
    let shown = shown(&clip, &elements);
    assert_eq!(shown[0].1[..30], (15..45).collect::<Vec<_>>());
    assert_frame_inodes(&d.join("out"), &shown);
    let looped = frames(&d.join("out/loop"));
    for j in 0..45 {
        assert_eq!(
            looped[j].ino,
            looped[j + 30].ino,
            "ticks {j} and {}",
            j + 30
        );
    }
    assert_eq!(distinct(&looped), 30);
    let again = frames(&d.join("out/loop-again"));
    assert_eq!(inodes(&again), inodes(&looped)[..45], "one cycle for both");

    // The cycle is the trim's frames: the bytes of a plain element over it.
    let plain_dir = d.join("plain");
    std::fs::create_dir_all(&plain_dir).unwrap();
    let c = composition(&plain_dir, "plain.json", &[el("plain", &clip, 0.5, 1.0)]);
    Extract::new(&c, &plain_dir.join("out"), None).ok();
    let plain = frames(&plain_dir.join("out/plain"));
    assert_eq!(plain.len(), 30);
    for (j, frame) in looped.iter().enumerate() {
        assert!(frame.bytes == plain[j % 30].bytes, "loop tick {j}");
    }
}

#[test]
fn rate_two_at_30_fps_is_rate_one_at_15_fps() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let clip = cfr_clip();
    let fast = with(el("fast", &clip, 0.5, 1.0), json!({"playbackRate": 2}));
    let slow = with(el("slow", &clip, 0.5, 2.0), json!({"fps": 15}));
    let run = extract(d, "out", &[fast.clone(), slow]);
    assert_eq!(run.role("slow"), "duplicate of fast", "{}", run.report);
    assert_eq!(run.metric("framesExtracted"), 30);
    let (f, s) = (frames(&d.join("out/fast")), frames(&d.join("out/slow")));
    assert_eq!((f.len(), s.len()), (30, 30));
    assert_eq!(inodes(&f), inodes(&s), "one set of files");

    // Alone, with nothing to share, the rate-2 element has the same bytes.
    let alone = d.join("alone");
    std::fs::create_dir_all(&alone).unwrap();
    let c = composition(&alone, "fast.json", &[fast]);
    Extract::new(&c, &alone.join("out"), None).ok();
    let a = frames(&alone.join("out/fast"));
    assert_eq!(a.len(), 30);
    assert!(
        a.iter().zip(&s).all(|(a, b)| a.bytes == b.bytes),
        "same bytes alone"
    );
}

#[test]
fn frames_past_the_end_hold_the_true_last_frame() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let clip = cfr_clip(); // 3 s at 30 fps: frames 0–89
    let last = true_last_frame(&clip, d);
    // 10 fps from 2 s for 3 s: 10 ticks inside the source (frames 60, 63,
    // …, 87), then 20 that hold frame 89. 30 fps from 2.5 s for 1 s: frames
    // 75–89, then 15 held.
    let elements = [
        with(el("tail10", &clip, 2.0, 3.0), json!({"fps": 10})),
        el("tail30", &clip, 2.5, 1.0),
    ];
    let run = extract(d, "out", &elements);
    let shown = shown(&clip, &elements);
    assert_eq!(shown[0].1[9..11], [87, 89], "the oracle");
    let inode_of = assert_frame_inodes(&d.join("out"), &shown);
    assert_eq!(run.metric("framesExtracted"), inode_of.len() as u64);
    // Frames 60, 63, …, 72 and 75–89: the 10 fps ticks from 75 on are
    // frames the 30 fps element shows too.
    assert_eq!(run.metric("framesExtracted"), 5 + 15);

    let tail10 = frames(&d.join("out/tail10"));
    assert_eq!(tail10.len(), 30);
    let pixels = |f: &Frame| png_pixels(&d.join("out/tail10").join(&f.name));
    assert_ne!(
        pixels(&tail10[9]),
        last,
        "the last 10 fps tick inside is not the end"
    );
    assert_eq!(pixels(&tail10[10]), last, "held: the true last frame");
    assert_eq!(
        distinct(&tail10[10..]),
        1,
        "held ticks are links of one file"
    );
    let tail30 = frames(&d.join("out/tail30"));
    assert_eq!(
        tail30[14].ino, tail10[10].ino,
        "15 frames from 2.5 s end on frame 89"
    );
    assert!(tail30[15..].iter().all(|f| f.ino == tail10[10].ino));

    // Warm: every frame from the store, the last one too.
    let warm = extract(d, "warm", &elements);
    assert_eq!(warm.metric("ffmpegRuns"), 0);
    assert_eq!(warm.metric("cacheHits"), 20);
    let held = &frames(&d.join("warm/tail10"))[29];
    assert_eq!(held.ino, tail10[10].ino);
}

/// A duration that reaches past the end of the source: the ticks inside it
/// show its frames (the bytes of asking for exactly those), the others hold
/// its last frame, one file for both elements.
#[test]
fn a_duration_past_the_source_end_holds_the_last_frame() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let clip = cfr_clip();
    let elements = [
        // 5 s (150 ticks) from 2 s: 30 ticks of source, 120 held.
        el("tail", &clip, 2.0, 5.0),
        // 10 s (240 ticks) at 24 fps from 1.5 s.
        with(el("tail24", &clip, 1.5, 10.0), json!({"fps": 24})),
    ];
    let run = extract(d, "out", &elements);
    run.assert_ok(&d.join("out"), "tail", 150, "png");
    run.assert_ok(&d.join("out"), "tail24", 240, "png");
    assert_eq!(run.metric("framesRequested"), 390);
    let shown = shown(&clip, &elements);
    assert_eq!(shown[0].1[..30], (60..90).collect::<Vec<_>>());
    assert!(shown.iter().all(|(_, f)| f.last() == Some(&89)));
    let inode_of = assert_frame_inodes(&d.join("out"), &shown);
    // 60–89, and the 24 fps element's 12 of 45–59.
    assert_eq!(inode_of.len(), 42);
    assert_eq!(run.metric("framesExtracted"), 42);

    let exact = composition(d, "exact.json", &[el("tail", &clip, 2.0, 1.0)]);
    Extract::new(&exact, &d.join("exact"), None).ok();
    let exact = frames(&d.join("exact/tail"));
    let tail = frames(&d.join("out/tail"));
    framex_tests::check::assert_same_bytes(&tail[..30], &exact, "inside the source");
    assert!(tail[30..].iter().all(|f| f.bytes == exact[29].bytes));
}

#[test]
fn a_slot_past_the_end_shows_only_the_last_frame_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let clip = cfr_clip();
    let last = true_last_frame(&clip, d);
    let run = extract(
        d,
        "out",
        &[with(el("late", &clip, 4.0, 0.5), json!({"fps": 10}))],
    );
    run.assert_ok(&d.join("out"), "late", 5, "png");
    let warnings = run.report["warnings"].as_array().expect("warnings");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["elementId"], "late");
    let message = warnings[0]["message"].as_str().unwrap();
    assert!(message.contains("past the end"), "{message}");
    let late = frames(&d.join("out/late"));
    assert_eq!(distinct(&late), 1);
    assert_eq!(png_pixels(&d.join("out/late").join(&late[0].name)), last);
    assert_eq!(run.metric("framesExtracted"), 1);
}

#[test]
fn a_trim_holds_its_own_last_frame() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let clip = cfr_clip();
    let trim = with(el("trim", &clip, 0.5, 1.0), json!({"mediaDuration": 0.5}));
    let run = extract(d, "out", std::slice::from_ref(&trim));
    assert_eq!(run.metric("framesExtracted"), 15);
    let shown = shown(&clip, std::slice::from_ref(&trim));
    assert_eq!(shown[0].1[..15], (15..30).collect::<Vec<_>>());
    assert!(
        shown[0].1[15..].iter().all(|&f| f == 29),
        "held inside the trim"
    );
    assert_frame_inodes(&d.join("out"), &shown);
    let trim = frames(&d.join("out/trim"));
    assert_eq!(trim.len(), 30);
    assert_eq!(distinct(&trim), 15);
}

/// The last ticks before a source's end may lie less than half a frame
/// before it; they show the last frame (ffmpeg's `fps` filter once dropped
/// such a tick and left the element one frame short).
#[test]
fn a_range_reaching_the_end_has_every_planned_frame() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let clip = cfr_clip();
    let last = true_last_frame(&clip, d);
    // From 0.03 s at 24 fps, for 5 s: 120 ticks.
    let element = with(el("e", &clip, 0.03, 5.0), json!({"fps": 24}));
    let run = extract(d, "out", std::slice::from_ref(&element));
    let shown = shown(&clip, std::slice::from_ref(&element));
    let e = &shown[0].1;
    let first_held = e.iter().position(|&f| f == 89).expect("the end is reached");
    assert_eq!(first_held, 71, "tick 71 (3.0 s) is the last frame, {e:?}");
    assert_eq!(e[70], 88);
    assert_frame_inodes(&d.join("out"), &shown);
    let distinct_frames = e.iter().collect::<BTreeSet<_>>().len() as u64;
    assert_eq!(run.metric("framesExtracted"), distinct_frames);
    let files = frames(&d.join("out/e"));
    assert_eq!(files.len(), 120);
    let pixels = |j: usize| png_pixels(&d.join("out/e").join(&files[j].name));
    assert_eq!(pixels(71), last);
    assert_ne!(pixels(70), last);
    assert!(files[71..].iter().all(|f| f.ino == files[71].ino));
}
