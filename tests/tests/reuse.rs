//! Every source frame is made once: duplicates, overlapping trims, loops,
//! other frame rates and playback rates, and a later render with a moved
//! trim share each frame they have in common. Checked on disk (every tick
//! of every element directory is the one stored file of the frame the
//! oracle names: one inode per distinct frame) and in the report
//! (`framesExtracted` is exactly the distinct frames not stored before).
//! Real ffmpeg on clips made here.

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use framex_tests::check::{
    assert_frame_inodes, assert_same_bytes, cache_stats, composition, el, expected, frames, inodes,
    with, Extract,
};
use framex_tests::oracle::probe_frames;
use framex_tests::{cfr_clip, clips, vfr_clip};
use serde_json::{json, Value};

/// The distinct frames of the oracle's lists.
fn distinct(shown: &[(&str, Vec<usize>)]) -> BTreeSet<usize> {
    shown.iter().flat_map(|(_, f)| f.iter().copied()).collect()
}

/// Each element's id and the oracle's frames for it, on `clip`.
fn oracle<'a>(clip: &Path, elements: &'a [Value]) -> Vec<(&'a str, Vec<usize>)> {
    let times = probe_frames(clip);
    elements
        .iter()
        .map(|e| (e["id"].as_str().expect("an id"), expected(&times, e)))
        .collect()
}

/// Three elements asking for the same frames: one decode run, and three
/// directories of hard links to one set of stored files.
#[test]
fn three_duplicates_share_one_decode_and_one_inode_set() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, cache) = (tmp.path().join("out"), tmp.path().join("cache"));
    let clip = cfr_clip();
    let ids = ["first", "second", "third"];
    let elements: Vec<Value> = ids.iter().map(|id| el(id, &clip, 0.5, 1.0)).collect();
    let c = composition(tmp.path(), "dup3.json", &elements);
    let run = Extract::new(&c, &out, Some(&cache))
        .with_args(&["--jobs", "1"])
        .ok();

    assert_eq!(run.metric("elements"), 3);
    assert_eq!(run.metric("framesRequested"), 90);
    assert_eq!(run.metric("distinctFrames"), 30);
    assert_eq!(run.metric("dedupeHits"), 60);
    assert_eq!(run.metric("cacheMisses"), 30);
    assert_eq!(run.metric("framesExtracted"), 30);
    assert_eq!(run.metric("framesLinked"), 90);
    assert_eq!(run.metric("decodeRuns"), 1);
    assert_eq!(run.metric("ffmpegRuns"), 1);
    assert_eq!(run.role("first"), "leader");
    for id in &ids[1..] {
        assert_eq!(run.role(id), "duplicate of first");
    }
    for id in ids {
        run.assert_ok(&out, id, 30, "png");
        assert_eq!(run.element(id)["runs"], json!(["r1"]), "{id}");
    }

    let shown = oracle(&clip, &elements);
    assert_eq!(shown[0].1, (15..45).collect::<Vec<_>>(), "the oracle");
    assert_frame_inodes(&out, &shown);
    let first = frames(&out.join("first"));
    for f in &first {
        // Three element links and the store's blob.
        let nlink = std::fs::metadata(out.join("first").join(&f.name))
            .unwrap()
            .nlink();
        assert!(nlink >= 4, "{} has {nlink} links", f.name);
    }
    // Thirty different pictures, not one frame linked thirty times.
    let pictures: BTreeSet<&[u8]> = first.iter().map(|f| f.bytes.as_slice()).collect();
    assert_eq!(pictures.len(), 30);
    let stats = cache_stats(&cache);
    assert_eq!(stats["frames"], 30, "{stats}");
    assert_eq!(stats["blobs"], 30, "{stats}");
}

/// Overlapping trims [0,2) and [1,3) at 24 fps of a 30 fps source are one
/// decode run over the union; their common frames are one file each, and
/// each trim's frames are the bytes of extracting it alone: on a CFR and on
/// a VFR clip.
#[test]
fn overlapping_trims_make_their_union_once_with_the_bytes_of_each_alone() {
    for (name, clip) in [("cfr", cfr_clip()), ("vfr", vfr_clip())] {
        let tmp = tempfile::tempdir().unwrap();
        let (out, cache) = (tmp.path().join("out"), tmp.path().join("cache"));
        let early = with(el("early", &clip, 0.0, 2.0), json!({"fps": 24}));
        let late = with(el("late", &clip, 1.0, 2.0), json!({"fps": 24}));
        let elements = [early.clone(), late.clone()];
        let c = composition(tmp.path(), "overlap.json", &elements);
        let run = Extract::new(&c, &out, Some(&cache))
            .with_args(&["--jobs", "1"])
            .ok();

        let shown = oracle(&clip, &elements);
        let union = distinct(&shown);
        let late_frames: BTreeSet<usize> = shown[1].1.iter().copied().collect();
        let common: BTreeSet<usize> = shown[0]
            .1
            .iter()
            .copied()
            .filter(|f| late_frames.contains(f))
            .collect();
        assert!(common.len() >= 15, "{name}: the trims overlap: {common:?}");
        assert_eq!(run.metric("framesRequested"), 96, "{name}");
        assert_eq!(run.metric("distinctFrames"), union.len() as u64, "{name}");
        assert_eq!(
            run.metric("framesExtracted"),
            union.len() as u64,
            "{name}: the union, once"
        );
        assert_eq!(run.metric("decodeRuns"), 1, "{name}");
        assert_eq!(run.metric("ffmpegRuns"), 1, "{name}: one pass");
        run.assert_ok(&out, "early", 48, "png");
        run.assert_ok(&out, "late", 48, "png");
        assert_eq!(run.role("early"), "leader", "{name}");
        assert_eq!(run.role("late"), "shares r1 (leader early)", "{name}");
        let inode_of = assert_frame_inodes(&out, &shown);
        assert_eq!(inode_of.len(), union.len(), "{name}");

        for (id, element) in [("early", early), ("late", late)] {
            let alone = composition(tmp.path(), &format!("{id}-alone.json"), &[element]);
            let alone_out = tmp.path().join(format!("{id}-alone"));
            let r = Extract::new(&alone, &alone_out, None).ok();
            assert_eq!(r.metric("decodeRuns"), 1);
            assert_same_bytes(
                &frames(&out.join(id)),
                &frames(&alone_out.join(id)),
                &format!("{name} {id}: shared vs alone"),
            );
        }
        assert_eq!(cache_stats(&cache)["frames"], union.len() as u64, "{name}");
    }
}

/// Issue 12: a 30 fps element and a `playbackRate: 2` element at 60 fps on
/// the same clip and start ask for source times j/30 and 2j/60: the same
/// frames, encoded once. On a 30 fps source the rate-2 element's first 30
/// ticks are the 30 fps element's files; on a 60 fps source both show the
/// even frames.
#[test]
fn a_30_fps_element_and_a_rate_2_element_at_60_fps_encode_their_frames_once() {
    for (name, clip, step) in [
        ("30 fps source", cfr_clip(), 1),
        ("60 fps source", clips::h264_60().path, 2),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let (out, cache) = (tmp.path().join("out"), tmp.path().join("cache"));
        let normal = el("normal", &clip, 0.0, 1.0);
        let fast = with(
            el("fast", &clip, 0.0, 1.0),
            json!({"fps": 60, "playbackRate": 2}),
        );
        let elements = [normal, fast];
        let c = composition(tmp.path(), "rates.json", &elements);
        let run = Extract::new(&c, &out, Some(&cache)).ok();

        let shown = oracle(&clip, &elements);
        let want: Vec<usize> = (0..60).map(|j| j * step).collect();
        assert_eq!(shown[0].1, want[..30], "{name}: the oracle, 30 fps");
        assert_eq!(shown[1].1, want, "{name}: the oracle, rate 2 at 60 fps");
        assert_eq!(run.metric("framesRequested"), 90, "{name}");
        assert_eq!(run.metric("distinctFrames"), 60, "{name}");
        assert_eq!(run.metric("dedupeHits"), 30, "{name}");
        assert_eq!(
            run.metric("framesExtracted"),
            60,
            "{name}: each distinct frame encoded once"
        );
        run.assert_ok(&out, "normal", 30, "png");
        run.assert_ok(&out, "fast", 60, "png");
        assert_eq!(run.role("fast"), "shares r1 (leader normal)", "{name}");

        assert_frame_inodes(&out, &shown);
        let (normal, fast) = (frames(&out.join("normal")), frames(&out.join("fast")));
        assert_eq!(
            inodes(&normal),
            inodes(&fast)[..30],
            "{name}: tick j of both is one file"
        );
        let all: BTreeSet<u64> = inodes(&fast).into_iter().collect();
        assert_eq!(
            all.len(),
            60,
            "{name}: the rate-2 element's 60 frames differ"
        );
        assert_eq!(cache_stats(&cache)["blobs"], 60, "{name}");
    }
}

/// Issue 12: a second render whose trim moved by one second makes only the
/// new second's frames; the second they share is the first render's files.
#[test]
fn a_trim_moved_by_one_second_makes_only_the_new_seconds_frames() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let clip = cfr_clip(); // 3 s at 30 fps
    let before = [el("clip", &clip, 0.0, 2.0)];
    let after = [el("clip", &clip, 1.0, 2.0)];
    let (out1, out2) = (tmp.path().join("render-1"), tmp.path().join("render-2"));
    let first = Extract::new(
        &composition(tmp.path(), "render-1.json", &before),
        &out1,
        Some(&cache),
    )
    .ok();
    assert_eq!(first.metric("framesExtracted"), 60);

    let render_2 = composition(tmp.path(), "render-2.json", &after);
    let second = Extract::new(&render_2, &out2, Some(&cache)).ok();
    let (old, new) = (&oracle(&clip, &before)[0].1, &oracle(&clip, &after)[0].1);
    let old: BTreeSet<usize> = old.iter().copied().collect();
    let fresh: Vec<usize> = new.iter().copied().filter(|f| !old.contains(f)).collect();
    assert_eq!(fresh, (60..90).collect::<Vec<_>>(), "the oracle");
    assert_eq!(
        second.metric("framesExtracted"),
        30,
        "only the new second's frames: {}",
        second.report
    );
    assert_eq!(second.metric("cacheHits"), 30);
    assert_eq!(second.metric("cacheMisses"), 30);
    assert_eq!(second.metric("decodeRuns"), 1);
    assert_eq!(second.element("clip")["cacheHit"], false);
    second.assert_ok(&out2, "clip", 60, "png");

    let (a, b) = (frames(&out1.join("clip")), frames(&out2.join("clip")));
    assert_eq!(
        inodes(&b[..30]),
        inodes(&a[30..]),
        "the shared second is the first render's files"
    );
    let earlier: BTreeSet<u64> = inodes(&a).into_iter().collect();
    assert!(
        b[30..].iter().all(|f| !earlier.contains(&f.ino)),
        "the new second is new files"
    );
    // And they are the right frames: the bytes of a render without a store.
    let cold = tmp.path().join("cold");
    Extract::new(&render_2, &cold, None).ok();
    assert_same_bytes(&b, &frames(&cold.join("clip")), "reused vs made anew");
    assert_eq!(cache_stats(&cache)["frames"], 90);
}

/// Overlapping trims, a loop inside them and a 24 fps element over them on
/// one clip: each source frame is made once and is one file, however many
/// ticks of however many elements show it.
#[test]
fn overlapping_trims_and_a_loop_make_each_frame_once() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, cache) = (tmp.path().join("out"), tmp.path().join("cache"));
    let clip = cfr_clip();
    let elements = [
        el("trim-a", &clip, 0.5, 1.0),
        el("trim-b", &clip, 1.0, 1.0),
        with(
            el("loop", &clip, 0.8, 2.0),
            json!({"loop": true, "mediaDuration": 0.5}),
        ),
        with(el("slow", &clip, 1.2, 0.5), json!({"fps": 24})),
    ];
    let c = composition(tmp.path(), "mix.json", &elements);
    let run = Extract::new(&c, &out, Some(&cache)).ok();

    let shown = oracle(&clip, &elements);
    let union = distinct(&shown);
    assert_eq!(union, (15..60).collect(), "the oracle: frames 15–59");
    let requested: usize = shown.iter().map(|(_, f)| f.len()).sum();
    assert_eq!(requested, 30 + 30 + 60 + 12);
    assert_eq!(run.metric("framesRequested"), requested as u64);
    assert_eq!(run.metric("distinctFrames"), 45);
    assert_eq!(run.metric("dedupeHits"), requested as u64 - 45);
    assert_eq!(run.metric("framesExtracted"), 45, "each frame once");
    assert_eq!(run.metric("framesLinked"), requested as u64);
    for (id, f) in &shown {
        run.assert_ok(&out, id, f.len() as u64, "png");
    }
    let inode_of = assert_frame_inodes(&out, &shown);
    assert_eq!(inode_of.len(), 45, "45 files in all");
    // The loop's 60 ticks cycle through 15 frames.
    let looped = inodes(&frames(&out.join("loop")));
    assert_eq!(looped.iter().collect::<BTreeSet<_>>().len(), 15);
    assert!((0..45).all(|j| looped[j] == looped[j + 15]));
    assert_eq!(cache_stats(&cache)["blobs"], 45);
}
