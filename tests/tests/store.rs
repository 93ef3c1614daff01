//! The frame store across runs: a warm run starts no ffmpeg (and needs
//! neither ffmpeg nor ffprobe) and links the very files of the cold run; a
//! run killed with SIGKILL leaves a store that a rerun completes with the
//! right bytes and that verifies, and its ffmpeg does not outlive it; what
//! dead processes leave behind is swept. Real ffmpeg on clips made here.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use framex_tests::check::{
    assert_same_bytes, assert_verifies, blobs, cache_stats, composition, el, frames, inodes, with,
    Extract,
};
use framex_tests::{cfr_clip, h264_clip, ntsc_clip, vfr_clip};
use serde_json::json;

/// A second run with the same store starts no ffmpeg (nor ffprobe) and
/// links the same files into place: every element a cache hit.
#[test]
fn a_warm_run_makes_nothing_and_links_the_same_files() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let (cfr, vfr) = (cfr_clip(), vfr_clip());
    let elements = [
        el("bg", &cfr, 0.0, 1.0),
        el("bg-again", &cfr, 0.0, 1.0),
        with(el("trim-a", &cfr, 1.0, 1.0), json!({"fps": 24})),
        with(el("trim-b", &cfr, 1.5, 1.0), json!({"fps": 24})),
        with(
            el("thumb", &ntsc_clip(), 0.2, 0.5),
            json!({"fps": "30000/1001", "format": "jpeg"}),
        ),
        el("talk", &vfr, 0.5, 1.5),
    ];
    let ids: Vec<&str> = elements.iter().map(|e| e["id"].as_str().unwrap()).collect();
    let c = composition(tmp.path(), "mixed.json", &elements);
    let cold_out = tmp.path().join("cold");
    let cold = Extract::new(&c, &cold_out, Some(&cache)).ok();
    let distinct = cold.metric("distinctFrames");
    assert_eq!(cold.metric("cacheHits"), 0);
    assert_eq!(cold.metric("cacheMisses"), distinct);
    assert_eq!(cold.metric("framesExtracted"), distinct);
    assert!(cold.metric("ffmpegRuns") >= 3, "three sources");
    assert_eq!(cache_stats(&cache)["frames"], distinct);

    // The warm run, and once more with neither ffmpeg nor ffprobe: a warm
    // run needs neither (probes are remembered in the store).
    for (label, tools) in [("warm", false), ("no-tools", true)] {
        let warm_out = tmp.path().join(label);
        let mut extract = Extract::new(&c, &warm_out, Some(&cache));
        if tools {
            extract = extract
                .with_env("FRAMEX_FFMPEG", "/nonexistent/ffmpeg")
                .with_env("FRAMEX_FFPROBE", "/nonexistent/ffprobe");
        }
        let warm = extract.ok();
        assert_eq!(warm.metric("ffmpegRuns"), 0, "{label}");
        assert_eq!(warm.metric("decodeRuns"), 0, "{label}");
        assert_eq!(warm.metric("distinctFrames"), distinct, "{label}");
        assert_eq!(warm.metric("cacheHits"), distinct, "{label}");
        assert_eq!(warm.metric("cacheMisses"), 0, "{label}");
        assert_eq!(warm.metric("framesExtracted"), 0, "{label}");
        assert_eq!(warm.metric("bytesWritten"), 0, "{label}");
        assert_eq!(
            warm.metric("framesLinked"),
            cold.metric("framesLinked"),
            "{label}"
        );
        for id in &ids {
            assert_eq!(cold.element(id)["cacheHit"], false, "{label} {id}");
            assert_eq!(warm.element(id)["cacheHit"], true, "{label} {id}");
            let ext = if *id == "thumb" { "jpg" } else { "png" };
            let count = cold.element(id)["frames"].as_u64().unwrap();
            warm.assert_ok(&warm_out, id, count, ext);
            let (a, b) = (frames(&cold_out.join(id)), frames(&warm_out.join(id)));
            assert_same_bytes(&a, &b, &format!("{label} {id}"));
            assert_eq!(inodes(&a), inodes(&b), "{label} {id}: the stored files");
        }
        assert_eq!(warm.role("bg-again"), "duplicate of bg", "{label}");
        assert_eq!(warm.role("bg"), "cache hit", "{label}");
    }
}

/// 4 s of 640×360 at 30 fps (120 frames): long enough to kill a run in
/// the middle.
fn big_clip() -> PathBuf {
    h264_clip(
        "big360.mp4",
        "testsrc2=size=640x360:rate=30",
        "4",
        &["-preset", "ultrafast", "-g", "30"],
    )
}

/// Processes whose command line mentions `needle`.
fn processes_mentioning(needle: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(needle))
        })
        .collect()
}

/// A `framex extract` killed with SIGKILL in the middle of making frames:
/// its ffmpeg ends too, the store it leaves verifies (what is indexed is
/// whole), and a rerun completes it, making only what is not stored, with
/// the bytes of a run without a store.
#[test]
fn a_run_killed_mid_extraction_is_completed_by_a_rerun() {
    let big = big_clip();
    let tmp = tempfile::tempdir().unwrap();
    // A copy of its own, so its ffmpeg is told apart from other tests'.
    let clip = tmp.path().join("killed-clip.mp4");
    std::fs::copy(&big, &clip).unwrap();
    let (out, cache) = (tmp.path().join("out"), tmp.path().join("cache"));
    let c = composition(
        tmp.path(),
        "big.json",
        &[el("big", &clip, 0.0, 4.0), el("big-copy", &clip, 0.0, 4.0)],
    );

    let mut child = start_until_blobs(
        &Extract::new(&c, &out, Some(&cache)),
        |_| cache.clone(),
        10,
        Duration::from_secs(120),
        "no frames stored",
    );
    let needle = clip.to_str().unwrap();
    // Killed while one of its ffmpeg processes decodes (between two of a
    // run's segments there is a moment with none: wait it out).
    let deadline = Instant::now() + Duration::from_secs(60);
    while processes_mentioning(needle).is_empty() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "framex finished before it could be killed"
        );
        assert!(
            Instant::now() < deadline,
            "no ffmpeg decoding when framex is killed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !processes_mentioning(needle).is_empty() {
        assert!(
            Instant::now() < deadline,
            "ffmpeg outlived the killed framex: {:?}",
            processes_mentioning(needle)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!out.join("big").exists(), "no element directory");
    let kept = assert_verifies(&cache);
    assert!(
        kept < 120,
        "the killed run did not finish: {kept} frames indexed"
    );

    let rerun = Extract::new(&c, &out, Some(&cache)).ok();
    assert_eq!(rerun.metric("distinctFrames"), 120);
    assert_eq!(
        rerun.metric("cacheHits"),
        kept,
        "what the killed run indexed"
    );
    assert_eq!(rerun.metric("framesExtracted"), 120 - kept);
    rerun.assert_ok(&out, "big", 120, "png");
    rerun.assert_ok(&out, "big-copy", 120, "png");

    let reference = tmp.path().join("reference");
    Extract::new(&c, &reference, None).ok();
    for id in ["big", "big-copy"] {
        assert_same_bytes(&frames(&out.join(id)), &frames(&reference.join(id)), id);
    }
    assert_eq!(assert_verifies(&cache), 120);
    let stats = cache_stats(&cache);
    assert_eq!(stats["frames"], 120, "{stats}");
    assert_eq!(stats["blobs"], 120, "{stats}");
    assert_eq!(stats["partials"], 0, "{stats}");
}

/// What dead processes leave: a blob being written to the store's `tmp/`
/// and an element directory being built (`.<id>.framex-partial.<pid>`). The
/// next framex to open the store, or to write into the output directory,
/// removes them; those of a live process are kept.
#[test]
fn leftovers_of_dead_processes_are_swept() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, cache) = (tmp.path().join("out"), tmp.path().join("cache"));
    // Above any pid_max: no such process.
    let dead = "4294967295";
    let live = std::process::id().to_string();
    let tmp_dir = cache.join("tmp");
    std::fs::create_dir_all(&tmp_dir).unwrap();
    let blob = |pid: &str| -> PathBuf { tmp_dir.join(format!("b7.tmp.{pid}")) };
    std::fs::write(blob(dead), b"half a frame").unwrap();
    std::fs::write(blob(&live), b"a frame being written").unwrap();
    let stats = cache_stats(&cache);
    assert!(!blob(dead).exists(), "a dead writer's blob is swept");
    assert!(blob(&live).exists(), "a live writer's blob is kept");
    assert_eq!(stats["partials"], 1, "{stats}");
    std::fs::remove_file(blob(&live)).unwrap();

    // In the output directory: an element directory being built, and the
    // private store of a run without a store (`--no-cache`), which holds
    // every frame it made.
    let building = |pid: &str| -> PathBuf { out.join(format!(".e.framex-partial.{pid}")) };
    let scratch = |pid: &str| -> PathBuf { out.join(format!(".framex-tmp.{pid}")) };
    for pid in [dead, live.as_str()] {
        for dir in [building(pid), scratch(pid)] {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("frame_000001.png"), b"x").unwrap();
        }
    }
    let c = composition(tmp.path(), "c.json", &[el("e", &cfr_clip(), 0.0, 0.2)]);
    let run = Extract::new(&c, &out, Some(&cache)).ok();
    run.assert_ok(&out, "e", 6, "png");
    assert!(!building(dead).exists(), "a dead run's element directory");
    assert!(building(&live).exists(), "a live run's element directory");
    assert!(!scratch(dead).exists(), "a dead run's private store");
    assert!(scratch(&live).exists(), "a live run's private store");
    assert_eq!(dir_names(&tmp_dir), Vec::<String>::new());
}

/// A run without a store killed mid-run leaves its private store in the
/// output directory; the next run into that directory removes it.
#[test]
fn a_killed_run_without_a_store_leaves_nothing_for_long() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let c = composition(tmp.path(), "c.json", &[el("e", &big_clip(), 0.0, 4.0)]);
    let scratch_of = |child: &Child| out.join(format!(".framex-tmp.{}", child.id()));
    let mut child = start_until_blobs(
        &Extract::new(&c, &out, None),
        scratch_of,
        5,
        Duration::from_secs(60),
        "no frames made",
    );
    let scratch = scratch_of(&child);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(scratch.exists());
    let run = Extract::new(&c, &out, None).ok();
    run.assert_ok(&out, "e", 120, "png");
    assert_eq!(dir_names(&out), ["e", "framex-report.json"]);
}

/// Starts `extract` with one encoder and its output discarded, and waits
/// until the directory `dir` names for the child holds `count` blobs;
/// panics with `what` after `timeout`, or when framex finishes first.
fn start_until_blobs(
    extract: &Extract,
    dir: impl Fn(&Child) -> PathBuf,
    count: usize,
    timeout: Duration,
    what: &str,
) -> Child {
    let mut child = extract
        .clone()
        .with_args(&["--encoders", "1"])
        .command()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + timeout;
    while blobs(&dir(&child)).len() < count {
        assert!(
            child.try_wait().unwrap().is_none(),
            "framex finished before it could be killed"
        );
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(10));
    }
    child
}

fn dir_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Identical frames share one blob. A blob damaged in place (same size,
/// other bytes) is never linked again: not through its own index (the
/// digest check on reading), and not when another source makes the same
/// frame anew (the blob already there must hold the frame's bytes).
#[test]
fn a_damaged_blob_is_replaced_when_its_frame_is_made_again() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    // Two copies of one clip: two sources by path, the same frames.
    let (a, b) = (tmp.path().join("a.mp4"), tmp.path().join("b.mp4"));
    std::fs::copy(cfr_clip(), &a).unwrap();
    std::fs::copy(cfr_clip(), &b).unwrap();
    let first = composition(tmp.path(), "a.json", &[el("e", &a, 0.0, 0.2)]);
    let out_a = tmp.path().join("out-a");
    Extract::new(&first, &out_a, Some(&cache)).ok();
    let made = frames(&out_a.join("e"));
    let stored = blobs(&cache);
    assert_eq!(stored.len(), 6);
    // Flip a byte of one stored frame, in place.
    let damaged = &stored[2];
    let mut bytes = std::fs::read(damaged).unwrap();
    bytes[100] ^= 0xff;
    std::fs::OpenOptions::new()
        .write(true)
        .open(damaged)
        .and_then(|mut f| std::io::Write::write_all(&mut f, &bytes))
        .unwrap();

    let second = composition(tmp.path(), "b.json", &[el("e", &b, 0.0, 0.2)]);
    let out_b = tmp.path().join("out-b");
    let run = Extract::new(&second, &out_b, Some(&cache)).ok();
    assert_eq!(run.metric("framesExtracted"), 6);
    assert_same_bytes(&frames(&out_b.join("e")), &made, "the frames made again");
    // And the first source's index serves the repaired blob.
    let again = Extract::new(&first, &tmp.path().join("out-a2"), Some(&cache)).ok();
    assert_eq!(again.metric("framesExtracted"), 0, "{}", again.report);
    assert_same_bytes(&frames(&tmp.path().join("out-a2/e")), &made, "served");
    assert_eq!(assert_verifies(&cache), 12);
}
