//! The run report: per-element results and metrics (`framex-report.json`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Name of the report file written next to the element directories.
pub const REPORT_FILE: &str = "framex-report.json";

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Per element id.
    pub elements: BTreeMap<String, ElementReport>,
    /// Counts and phase times.
    pub metrics: Metrics,
    /// The plan's warnings (a slot that starts past its source's end), when
    /// there are any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<framex_core::Warning>,
}

/// One element's outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElementReport {
    /// `ok` or `error`.
    pub status: Status,
    /// Frames in its directory: `ceil(duration × fps)`, looped and held
    /// frames included.
    pub frames: u64,
    /// Its directory (absolute), when it succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    /// Its role in the plan (`leader`, `duplicate of <id>`, `shares r2
    /// (leader <id>)`, `cache hit`).
    pub role: String,
    /// The decode runs that made its frames (none for a cache hit).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<String>,
    /// Every frame it shows came from the store.
    pub cache_hit: bool,
    /// What went wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A stable kind for the error (`source_missing`, `ffmpeg_failed`, …;
    /// the list is [`crate::ExtractError::kind`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
    /// Whether trying again might help.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retryable: Option<bool>,
}

/// Success or failure.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every frame is in place.
    #[default]
    Ok,
    /// See `error`.
    Error,
}

/// Counts and phase times of a run. Frames are source frames in one recipe
/// unless said otherwise.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metrics {
    /// Elements in the composition.
    pub elements: u64,
    /// Ticks over all elements: files in the element directories.
    pub frames_requested: u64,
    /// Distinct frames those ticks show.
    pub distinct_frames: u64,
    /// Ticks served by a frame another tick also shows.
    pub dedupe_hits: u64,
    /// Distinct frames found in the store (digest checked).
    pub cache_hits: u64,
    /// Distinct frames not found in the store: to make.
    pub cache_misses: u64,
    /// Frames decoded and encoded by this run.
    pub frames_extracted: u64,
    /// Files placed in element directories (hard links, or copies across
    /// filesystems or past a link limit).
    pub frames_linked: u64,
    /// Bytes of the frames encoded.
    pub bytes_written: u64,
    /// Decode runs planned.
    pub decode_runs: u64,
    /// ffmpeg processes started (segments and retries included).
    pub ffmpeg_runs: u64,
    /// Stored frames whose digest check failed: made again.
    #[serde(default)]
    pub damaged_frames: u64,
    /// Fresh copies made because a blob's hard-link count was exhausted.
    #[serde(default)]
    pub fresh_copies: u64,
    /// Transient failures retried (once each): decode segments, ffprobe
    /// runs, downloads.
    #[serde(default)]
    pub retries: u64,
    /// Source files read to compute their content digest (each file at most
    /// once per run; none when the digest is remembered in the store).
    #[serde(default)]
    pub sources_hashed: u64,
    /// Bytes of those files.
    #[serde(default)]
    pub bytes_hashed: u64,
    /// Remote sources downloaded (not counting ones the server confirmed
    /// unchanged since an earlier run).
    #[serde(default)]
    pub downloads: u64,
    /// Body bytes received from remote sources.
    #[serde(default)]
    pub bytes_downloaded: u64,
    /// Phase times.
    pub phases: Phases,
    /// What this machine did in a farm (`--store`, `--shard`, `--frames`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub farm: Option<crate::farm::FarmMetrics>,
}

/// Wall time per phase, milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Phases {
    /// Resolving and probing sources.
    pub probe_ms: u64,
    /// Reading the store's index and checking the stored frames' digests.
    pub lookup_ms: u64,
    /// Planning.
    pub plan_ms: u64,
    /// Decoding, encoding and storing frames.
    pub extract_ms: u64,
    /// Filling element directories.
    pub fanout_ms: u64,
    /// The whole run.
    pub total_ms: u64,
}

impl Report {
    /// Whether every element succeeded.
    pub fn all_ok(&self) -> bool {
        self.elements.values().all(|e| e.status == Status::Ok)
    }
}

/// Writes the report beside and renames it, so no reader (and no crash)
/// sees half a report. When it cannot be written (a full disk), an older
/// run's report must not pass for this run's either.
pub fn write_report(out_dir: &std::path::Path, report: &Report) -> std::io::Result<()> {
    let json = serde_json::to_vec_pretty(report).expect("reports serialize");
    let path = out_dir.join(REPORT_FILE);
    let tmp = out_dir.join(format!(
        ".{REPORT_FILE}.{}.{}",
        crate::leftovers::BUILDING_MARKER,
        std::process::id()
    ));
    std::fs::write(&tmp, json)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
            let _ = std::fs::remove_file(&path);
        })
}
