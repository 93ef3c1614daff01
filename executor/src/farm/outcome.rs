//! What the farm stage hands back: every needed frame at hand, the runs
//! that lack one failed, and the farm's counts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::ExtractError;
use crate::extract::Extracted;

use super::{plan_timelines, Farm, NeededFrames};

/// What this machine did in the farm (the report's `metrics.farm`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FarmMetrics {
    /// `i/n`.
    pub shard: String,
    /// Distinct frames this run needed (its chunk's, with `--frames`).
    pub frames_needed: u64,
    /// Units of work in the farm's plan, and of those this shard's.
    pub units: u64,
    /// Units dealt to this shard.
    pub units_mine: u64,
    /// Units of other shards made here after the wait.
    pub units_covered: u64,
    /// Frames decoded and encoded here.
    pub frames_made: u64,
    /// Frames downloaded from the shared store.
    pub frames_fetched: u64,
    /// Frames uploaded to the shared store.
    pub frames_uploaded: u64,
    /// Objects written to the shared store (frames, index batches, claims).
    pub puts: u64,
    /// Objects read from it.
    pub gets: u64,
    /// Bytes sent to it.
    pub bytes_up: u64,
    /// Bytes received from it.
    pub bytes_down: u64,
    /// Downloaded frames whose bytes did not match their digest (dropped,
    /// never used).
    pub bad_downloads: u64,
    /// Time spent waiting on other shards' frames, milliseconds.
    pub wait_ms: u64,
}

/// What the farm stage hands back to the run.
#[derive(Debug, Default)]
pub struct FarmOutcome {
    /// As the extract stage's: runs of the run's plan (failed when a frame
    /// they make is missing), and every frame made or fetched.
    pub extracted: Extracted,
    /// The farm's counts.
    pub metrics: FarmMetrics,
    /// Per element id, the ticks its chunk shows (with `--frames`):
    /// the only ones its directory gets.
    pub ticks: Option<BTreeMap<String, Vec<u64>>>,
}

impl Farm<'_> {
    /// The outcome: every needed frame at hand, and the run plan's runs
    /// that lack one failed (with the error that kept it away).
    pub(super) fn finish(
        mut self,
        needed: &NeededFrames,
        error: Option<ExtractError>,
    ) -> FarmOutcome {
        if let Some(remote) = self.remote {
            let stats = &remote.stats;
            let get =
                |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
            self.metrics.puts = get(&stats.puts);
            self.metrics.gets = get(&stats.gets);
            self.metrics.bytes_up = get(&stats.bytes_up);
            self.metrics.bytes_down = get(&stats.bytes_down);
            self.metrics.bad_downloads = get(&stats.bad_blobs);
        }
        let plan = &self.planned.plan;
        let timelines = plan_timelines(plan, self.planned);
        let cancelled = self.cancel.is_cancelled();
        let missing_error = |key: &str, pts: i64| -> ExtractError {
            if let Some(err) = &error {
                return err.clone();
            }
            if let Some(err) = self.failures.get(&(key.to_string(), pts)) {
                return err.clone();
            }
            if cancelled {
                return ExtractError::Cancelled;
            }
            ExtractError::bad_output(format!(
                "the frame at {pts} was never made nor found in the shared store"
            ))
        };
        let mut errors = BTreeMap::new();
        for (source, recipe, run) in plan.runs() {
            let Some(timeline) = timelines.get(&source.id) else {
                continue;
            };
            let wanted = needed.get(&recipe.key);
            let mut result = Ok(());
            for pts in run.make.iter().map(|f| timeline.pts(f)) {
                if !wanted.is_some_and(|w| w.contains_key(&pts)) {
                    continue;
                }
                if !self.at_hand(&recipe.key, pts) {
                    result = Err(missing_error(&recipe.key, pts));
                    break;
                }
                if let Some(err) = self.unshared.get(&(recipe.key.clone(), pts)) {
                    result = Err(err.clone());
                    break;
                }
            }
            errors.insert(run.id.clone(), result);
        }
        self.extracted.runs = errors;
        self.extracted.made = std::mem::take(&mut self.local);
        FarmOutcome {
            extracted: self.extracted,
            metrics: self.metrics,
            ticks: self.ticks,
        }
    }
}
