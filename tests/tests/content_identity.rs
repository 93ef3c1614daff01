//! Content identity end to end: copies of one clip at other paths, with
//! other mtimes (as a renderer makes them per render), hit the cache when
//! keyed by content (`"identity": "content"` or `--content-identity DIR`),
//! and miss it when keyed by path. Each file is hashed once per run, and a
//! warm run hashes nothing. Real ffmpeg, clips made here.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use framex_tests::cfr_clip;
use framex_tests::check::{composition, el, frames, inodes, with, Extract};
use framex_tests::ExtractRun;
use serde_json::{json, Value};

/// Copies the test clip to `dir/<name>/clip.mp4` with its mtime set
/// `age_s` seconds in the past: same bytes, another path and mtime.
fn copy(dir: &Path, name: &str, age_s: u64) -> PathBuf {
    let target = dir.join(name).join("clip.mp4");
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::copy(cfr_clip(), &target).unwrap();
    let mtime = SystemTime::now() - Duration::from_secs(age_s);
    File::options()
        .write(true)
        .open(&target)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    target
}

/// `"identity": …` on an element, or nothing.
fn identity(kind: Option<&str>) -> Value {
    kind.map_or(json!({}), |k| json!({ "identity": k }))
}

/// A render's composition: a 1 s trim and an overlapping one of `src`
/// (45 distinct frames), with `identity` set when given.
fn render(dir: &Path, name: &str, src: &Path, kind: Option<&str>) -> PathBuf {
    composition(
        dir,
        &format!("{name}.json"),
        &[
            with(el("a", src, 0.0, 1.0), identity(kind)),
            with(el("b", src, 0.5, 1.0), identity(kind)),
        ],
    )
}

/// Runs with the store `dir/cache`, into `dir/out`, with `flags`; must succeed.
fn extract(dir: &Path, composition: &Path, out: &str, flags: &[&str]) -> ExtractRun {
    Extract::new(composition, &dir.join(out), Some(&dir.join("cache")))
        .with_args(flags)
        .ok()
}

#[test]
fn a_copy_keyed_by_content_is_a_cache_hit_and_by_path_a_miss() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (first, second) = (copy(d, "render-1", 3600), copy(d, "render-2", 60));
    let content = Some("content");

    let cold = extract(d, &render(d, "r1", &first, content), "out1", &[]);
    assert_eq!(cold.metric("framesExtracted"), 45);
    assert_eq!(cold.metric("cacheHits"), 0);

    let warm = extract(d, &render(d, "r2", &second, content), "out2", &[]);
    assert_eq!(warm.metric("ffmpegRuns"), 0, "{}", warm.report);
    assert_eq!(warm.metric("framesExtracted"), 0);
    assert_eq!(warm.metric("cacheHits"), 45);
    assert_eq!(warm.metric("cacheMisses"), 0);
    assert_eq!(warm.element("a")["cacheHit"], true);
    for id in ["a", "b"] {
        let (one, two) = (
            frames(&d.join("out1").join(id)),
            frames(&d.join("out2").join(id)),
        );
        assert_eq!(inodes(&one), inodes(&two), "{id}: the stored files");
    }

    // The same copy keyed by path (the default) is a source never seen.
    let by_path = extract(d, &render(d, "r2-path", &second, None), "out3", &[]);
    assert_eq!(by_path.metric("framesExtracted"), 45);
    assert_eq!(by_path.metric("cacheHits"), 0);
    assert_eq!(
        by_path.metric("sourcesHashed"),
        0,
        "nothing asked for a digest"
    );
}

#[test]
fn a_content_identity_directory_keys_every_source_under_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (first, second) = (copy(d, "renders/1", 600), copy(d, "renders/2", 30));
    let renders = d.join("renders");
    let flag = ["--content-identity", renders.to_str().unwrap()];

    let cold = extract(d, &render(d, "r1", &first, None), "out1", &flag);
    assert_eq!(cold.metric("framesExtracted"), 45);
    let warm = extract(d, &render(d, "r2", &second, None), "out2", &flag);
    assert_eq!(warm.metric("ffmpegRuns"), 0, "{}", warm.report);
    assert_eq!(warm.metric("cacheHits"), 45);

    // `"identity": "file"` opts an element out of the directory's rule.
    let opted_out = render(d, "r2-file", &second, Some("file"));
    let run = extract(d, &opted_out, "out3", &flag);
    assert_eq!(run.metric("framesExtracted"), 45);
    assert_eq!(run.metric("cacheHits"), 0);

    // Without the flag the copy is keyed by path: a miss.
    let third = copy(d, "renders/3", 10);
    let run = extract(d, &render(d, "r3", &third, None), "out4", &[]);
    assert_eq!(run.metric("framesExtracted"), 45);

    // A directory that does not exist is a usage error.
    let missing = d.join("nowhere");
    let bad = Extract::new(&render(d, "r1", &first, None), &d.join("out5"), None)
        .with_args(&["--content-identity", missing.to_str().unwrap()])
        .run();
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("content identity directory"),
        "{}",
        bad.stderr
    );
}

#[test]
fn each_file_is_hashed_once_per_run_and_remembered_in_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let first = copy(d, "one", 100);
    let second = copy(d, "two", 200);
    let size = std::fs::metadata(&first).unwrap().len();
    let content = identity(Some("content"));
    // Four elements over three spellings of two files.
    let composition = composition(
        d,
        "c.json",
        &[
            with(
                el("a", Path::new("one/clip.mp4"), 0.0, 1.0),
                content.clone(),
            ),
            with(
                el("b", Path::new("./one/../one/clip.mp4"), 1.0, 1.0),
                content.clone(),
            ),
            with(el("c", &first, 2.0, 0.5), content.clone()),
            with(el("d", Path::new("two/clip.mp4"), 0.0, 1.0), content),
        ],
    );
    let cold = extract(d, &composition, "out1", &[]);
    assert_eq!(cold.metric("sourcesHashed"), 2, "{}", cold.report);
    assert_eq!(cold.metric("bytesHashed"), 2 * size);
    // Same bytes: "d" duplicates "a" across the two files.
    assert_eq!(cold.element("d")["role"], "duplicate of a");
    // One source in all: frames 0–74, each made once.
    assert_eq!(cold.metric("framesExtracted"), 75);

    let warm = extract(d, &composition, "out2", &[]);
    assert_eq!(warm.metric("sourcesHashed"), 0, "digests are remembered");
    assert_eq!(warm.metric("ffmpegRuns"), 0);

    // A rewrite of the file (new mtime) is read again; without a cache,
    // every run reads each file once.
    std::fs::copy(cfr_clip(), &second).unwrap();
    let rewritten = extract(d, &composition, "out3", &[]);
    assert_eq!(rewritten.metric("sourcesHashed"), 1);
    assert_eq!(rewritten.metric("ffmpegRuns"), 0, "same bytes, same keys");
    let uncached = Extract::new(&composition, &d.join("out4"), None).ok();
    assert_eq!(uncached.metric("sourcesHashed"), 2);
}

#[test]
fn the_plan_shows_the_content_digest() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let first = copy(d, "one", 100);
    let composition = render(d, "r1", &first, Some("content"));
    let plan = framex_tests::framex_plan_json(&["--no-cache"], &composition);
    let identity = &plan["sources"][0]["identity"];
    assert_eq!(identity["kind"], "content", "{plan}");
    let bytes = std::fs::read(&first).unwrap();
    assert_eq!(identity["blake3"], blake3::hash(&bytes).to_hex().as_str());
}
