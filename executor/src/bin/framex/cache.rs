//! `framex cache stats|verify|gc`.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::Duration;

use framex_executor::default_cache_dir;
use framex_executor::store::Store;

use crate::args::{CacheAction, CacheDirArg};
use crate::table::{count, size};

/// Runs `framex cache …`.
pub fn cache(action: CacheAction, dir: CacheDirArg) -> Result<ExitCode, String> {
    let root = dir.cache_dir.unwrap_or_else(default_cache_dir);
    let store =
        Store::open(&root).map_err(|e| format!("cannot open store {}: {e}", root.display()))?;
    let io = |e: std::io::Error| format!("store {}: {e}", root.display());
    match action {
        CacheAction::Stats { json } => {
            let stats = store.stats().map_err(io)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&stats).expect("stats serialize")
                );
            } else {
                println!(
                    "store {}: {} in {} ({}, {}), {}, {} being written",
                    root.display(),
                    count(stats.frames, "frame", "frames"),
                    count(stats.blobs, "blob", "blobs"),
                    size(stats.bytes),
                    count(
                        stats.indexes,
                        "source/recipe index",
                        "source/recipe indexes"
                    ),
                    count(stats.downloads, "download", "downloads"),
                    stats.partials
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        CacheAction::Verify { fast } => {
            let verified = store.verify(!fast).map_err(io)?;
            for p in &verified.problems {
                println!("bad: {p}");
            }
            if verified.unreferenced > 0 {
                println!(
                    "{} that no index record names (never served; gc removes them)",
                    count(verified.unreferenced, "blob", "blobs")
                );
            }
            println!(
                "{} checked, {} bad",
                count(verified.records, "record", "records"),
                verified.problems.len()
            );
            Ok(if verified.problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        CacheAction::Gc {
            max_size,
            min_age,
            wait,
        } => {
            let report = store
                .gc(
                    max_size,
                    Duration::from_secs(min_age),
                    &BTreeSet::new(),
                    Duration::from_secs(wait),
                )
                .map_err(io)?;
            match report {
                Some(r) => println!(
                    "evicted {} and {}: {} → {}",
                    count(r.evicted, "index or download", "indexes or downloads"),
                    count(r.blobs_removed, "blob", "blobs"),
                    size(r.bytes_before),
                    size(r.bytes_after)
                ),
                None => println!("store in use by running extractions; gc skipped"),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
