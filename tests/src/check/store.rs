//! The cache directory seen through `framex cache`: stats, `verify`, blobs.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::framex_command;

/// `framex cache ARGS --cache-dir CACHE`: exit code, stdout, stderr.
pub fn cache_command(cache: &Path, args: &[&str]) -> (i32, String, String) {
    let output = framex_command()
        .arg("cache")
        .args(args)
        .arg("--cache-dir")
        .arg(cache)
        .output()
        .expect("framex runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `framex cache stats --json` of a store.
pub fn cache_stats(cache: &Path) -> Value {
    let (code, stdout, stderr) = cache_command(cache, &["stats", "--json"]);
    assert_eq!(code, 0, "cache stats: {stderr}");
    serde_json::from_str(&stdout).expect("cache stats --json prints JSON")
}

/// `framex cache verify` of a store must pass; returns the records checked.
pub fn assert_verifies(cache: &Path) -> u64 {
    let (code, stdout, stderr) = cache_command(cache, &["verify"]);
    assert_eq!(code, 0, "cache verify: {stdout}{stderr}");
    // The count is on the last line (a line about blobs no record names,
    // left by a killed run, may come before it).
    let (checked, bad) = stdout
        .trim()
        .lines()
        .last()
        .unwrap_or_default()
        .strip_suffix(" bad")
        .and_then(|s| s.split_once(" records checked, "))
        .unwrap_or_else(|| panic!("cache verify said: {stdout}"));
    assert_eq!(bad, "0", "{stdout}");
    checked.parse().expect("a count")
}

/// The blob files of a store (`v2/blobs/<xx>/<digest>.<ext>`).
pub fn blobs(cache: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(shards) = std::fs::read_dir(cache.join("v2").join("blobs")) else {
        return files;
    };
    for shard in shards {
        let shard = shard.expect("a directory entry").path();
        for entry in std::fs::read_dir(&shard).expect("a shard reads") {
            files.push(entry.expect("a directory entry").path());
        }
    }
    files.sort();
    files
}
