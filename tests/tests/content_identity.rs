//! Content identity end to end: copies of one clip at other paths, with
//! other mtimes (as a renderer makes them per render), hit the cache when
//! keyed by content (`"identity": "content"` or `--content-identity DIR`),
//! and miss it when keyed by path. Each file is hashed once per run, and a
//! warm run hashes nothing. Real ffmpeg, clips made here.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use framex_tests::{cfr_clip, element, extract_json, frames_in, write_composition, ExtractRun};

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

/// A render's composition: a 1 s trim and an overlapping one of `src`.
fn render(dir: &Path, name: &str, src: &Path, extra: &str) -> PathBuf {
    let path = dir.join(format!("{name}.json"));
    let src = src.to_str().unwrap();
    write_composition(
        &path,
        &[
            element("a", src, 0.0, 1.0, extra),
            element("b", src, 0.5, 1.0, extra),
        ],
    );
    path
}

fn extract(dir: &Path, composition: &Path, out: &str, flags: &[&str]) -> ExtractRun {
    let cache = dir.join("cache");
    let mut args = vec!["--cache-dir", cache.to_str().unwrap()];
    args.extend_from_slice(flags);
    let run = extract_json(composition, &dir.join(out), &args, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.report, run.stderr);
    run
}

#[test]
fn a_copy_keyed_by_content_is_a_cache_hit_and_by_path_a_miss() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (first, second) = (copy(d, "render-1", 3600), copy(d, "render-2", 60));
    let content = r#", "identity": "content""#;

    let cold = extract(d, &render(d, "r1", &first, content), "out1", &[]);
    assert!(cold.metric("ffmpegRuns") > 0);
    assert_eq!(cold.metric("cacheHits"), 0);

    let warm = extract(d, &render(d, "r2", &second, content), "out2", &[]);
    assert_eq!(warm.metric("ffmpegRuns"), 0, "{}", warm.report);
    assert_eq!(warm.metric("cacheHits"), 2);
    assert_eq!(warm.metric("cacheMisses"), 0);
    assert_eq!(warm.element("a")["cacheHit"], true);
    for id in ["a", "b"] {
        assert_eq!(
            frames_in(&d.join("out1").join(id)),
            frames_in(&d.join("out2").join(id))
        );
    }

    // The same copy keyed by path (the default) is a source never seen.
    let by_path = extract(d, &render(d, "r2-path", &second, ""), "out3", &[]);
    assert!(by_path.metric("ffmpegRuns") > 0);
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

    let cold = extract(d, &render(d, "r1", &first, ""), "out1", &flag);
    assert!(cold.metric("ffmpegRuns") > 0);
    let warm = extract(d, &render(d, "r2", &second, ""), "out2", &flag);
    assert_eq!(warm.metric("ffmpegRuns"), 0, "{}", warm.report);
    assert_eq!(warm.metric("cacheHits"), 2);

    // `"identity": "file"` opts an element out of the directory's rule.
    let opted_out = render(d, "r2-file", &second, r#", "identity": "file""#);
    let run = extract(d, &opted_out, "out3", &flag);
    assert!(run.metric("ffmpegRuns") > 0);
    assert_eq!(run.metric("cacheHits"), 0);

    // Without the flag the copy is keyed by path: a miss.
    let third = copy(d, "renders/3", 10);
    let run = extract(d, &render(d, "r3", &third, ""), "out4", &[]);
    assert!(run.metric("ffmpegRuns") > 0);

    // A directory that does not exist is a usage error.
    let missing = d.join("nowhere");
    let bad = extract_json(
        &render(d, "r1", &first, ""),
        &d.join("out5"),
        &[
            "--no-cache",
            "--content-identity",
            missing.to_str().unwrap(),
        ],
        &[],
    );
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
    let composition = d.join("c.json");
    let content = r#", "identity": "content""#;
    // Four elements over three spellings of two files.
    write_composition(
        &composition,
        &[
            element("a", "one/clip.mp4", 0.0, 1.0, content),
            element("b", "./one/../one/clip.mp4", 1.0, 1.0, content),
            element("c", first.to_str().unwrap(), 2.0, 0.5, content),
            element("d", "two/clip.mp4", 0.0, 1.0, content),
        ],
    );
    let cold = extract(d, &composition, "out1", &[]);
    assert_eq!(cold.metric("sourcesHashed"), 2, "{}", cold.report);
    assert_eq!(cold.metric("bytesHashed"), 2 * size);
    // Same bytes: "d" duplicates "a" across the two files.
    assert_eq!(cold.element("d")["role"], "duplicate of a");

    let warm = extract(d, &composition, "out2", &[]);
    assert_eq!(warm.metric("sourcesHashed"), 0, "digests are remembered");
    assert_eq!(warm.metric("ffmpegRuns"), 0);

    // A rewrite of the file (new mtime) is read again; without a cache,
    // every run reads each file once.
    std::fs::copy(cfr_clip(), &second).unwrap();
    let rewritten = extract(d, &composition, "out3", &[]);
    assert_eq!(rewritten.metric("sourcesHashed"), 1);
    assert_eq!(rewritten.metric("ffmpegRuns"), 0, "same bytes, same keys");
    let uncached = extract_json(&composition, &d.join("out4"), &["--no-cache"], &[]);
    assert_eq!(uncached.code, 0, "{}", uncached.stderr);
    assert_eq!(uncached.metric("sourcesHashed"), 2);
}

#[test]
fn the_plan_shows_the_content_digest() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let first = copy(d, "one", 100);
    let composition = render(d, "r1", &first, r#", "identity": "content""#);
    let plan = framex_tests::framex_plan_json(&["--no-cache"], &composition);
    let source = &plan["units"][0]["source"];
    assert_eq!(source["kind"], "content", "{plan}");
    let bytes = std::fs::read(&first).unwrap();
    assert_eq!(source["blake3"], blake3::hash(&bytes).to_hex().as_str());
}
