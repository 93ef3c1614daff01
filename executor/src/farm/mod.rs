//! The farm stage: a run that shares its frames through a remote store
//! (`--store`), makes only its shard's share of them (`--shard i/n`), and
//! fetches the rest; or that makes only what one chunk of the composition
//! shows (`--frames`). It replaces the extract stage of a plain run; fan-out
//! and the report follow as usual.
//!
//! 1. The frames this run needs: every element's, or its chunk's.
//! 2. One plan of all of them whatever any store holds, cut into units and
//!    dealt out to the shards ([`crate::shard`]): the same on every machine.
//! 3. This shard's units whose frames neither store holds are claimed
//!    (`If-None-Match: *`), made, uploaded (blobs, then the index batch that
//!    names them) and released; a claim is renewed while it is worked on.
//! 4. Every needed frame not held locally is fetched (its digest checked)
//!    into the local store. Frames still missing are waited for; after
//!    `wait`, a unit nobody works on (no claim, or a claim not renewed
//!    within its lease) is claimed (`If-Match` on the stale claim) and made
//!    here. The lease only keeps two live machines from doing the same
//!    work: a duplicate makes the same bytes under the same names.

mod claims;
mod make;
mod outcome;
mod probes;
mod transfer;
mod units;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use framex_core::{ticks_shown, validate, OutputFrames, Plan, PlanOptions, Timeline};
use indicatif::ProgressBar;
use tokio_util::sync::CancellationToken;

use crate::error::ExtractError;
use crate::events::EventSink;
use crate::extract::{ExtractOptions, Extracted};
use crate::run::Planned;
use crate::shard::{Shard, Unit};
use crate::store::remote::{RemoteError, RemoteIndex, RemoteOptions, RemoteStore};
use crate::store::{BlobRef, Store};

pub use outcome::{FarmMetrics, FarmOutcome};
pub use probes::StoreProbes;

/// How a farm run goes.
#[derive(Clone, Debug)]
pub struct FarmOptions {
    /// The shared store, if any.
    pub remote: Option<RemoteOptions>,
    /// This machine's shard.
    pub shard: Shard,
    /// How long to wait for other shards' frames before making them here.
    pub wait: Duration,
    /// A claim not renewed for this long is taken over.
    pub lease: Duration,
    /// Only the ticks these output frames show, when a chunk is rendered.
    pub frames: Option<OutputFrames>,
}

impl Default for FarmOptions {
    fn default() -> Self {
        Self {
            remote: None,
            shard: Shard::ALONE,
            wait: Duration::from_secs(600),
            lease: Duration::from_secs(60),
            frames: None,
        }
    }
}

/// The shared store as a run found it.
#[derive(Debug)]
pub enum Shared {
    /// No `--store`.
    None,
    /// Reachable, credentials accepted.
    Ready(RemoteStore),
    /// Unreachable or failing (retryable): every frame not held locally
    /// fails with this error.
    Down(RemoteError),
}

/// Connects to the shared store and checks it with one request. Wrong
/// credentials, a missing bucket or a bad URL are an error, before any
/// work; a store that cannot be reached is [`Shared::Down`].
pub async fn connect(options: &FarmOptions) -> Result<Shared, RemoteError> {
    let Some(remote) = &options.remote else {
        return Ok(Shared::None);
    };
    let remote = RemoteStore::open(remote)?;
    match remote.check().await {
        Ok(()) => Ok(Shared::Ready(remote)),
        Err(err) if err.retryable() => Ok(Shared::Down(err)),
        Err(err) => Err(err),
    }
}

/// Where a farm run reports progress: the bar, and `run` events per unit
/// (named `r3`, or `r3.2` for a piece of a cut run).
#[derive(Clone, Debug)]
pub struct Progress {
    /// Ticked per frame made.
    pub bar: ProgressBar,
    /// `--progress json`.
    pub events: Option<EventSink>,
}

/// One needed frame: its source, its index there, and its time.
#[derive(Clone, Copy, Debug)]
struct Needed {
    index: u64,
    pts: i64,
}

/// Everything the steps share.
struct Farm<'a> {
    options: &'a FarmOptions,
    /// Per element id, the ticks of its chunk (with `--frames`).
    ticks: Option<BTreeMap<String, Vec<u64>>>,
    remote: Option<&'a RemoteStore>,
    store: &'a Store,
    planned: &'a Planned,
    extract_options: &'a ExtractOptions,
    plan_options: &'a PlanOptions,
    progress: &'a Progress,
    cancel: &'a CancellationToken,
    holder: String,
    /// Per recipe key: frame time → blob, of every frame at hand locally.
    local: BTreeMap<String, BTreeMap<i64, BlobRef>>,
    remote_index: RemoteIndex,
    /// Errors that kept a frame from being at hand: per recipe key, time.
    failures: BTreeMap<(String, i64), ExtractError>,
    /// Frames made here that could not be shared: the run that needs them
    /// fails (retryable), since the farm's other machines lack them.
    unshared: BTreeMap<(String, i64), ExtractError>,
    /// The first write that failed after its retries: later writes are not
    /// tried (each would wait out its retries too).
    down: Option<RemoteError>,
    /// Frames whose shared copy kept arriving wrong: made here at once.
    broken: BTreeSet<(String, i64)>,
    extracted: Extracted,
    metrics: FarmMetrics,
}

/// Runs the farm stage for `planned`: returns every needed frame made here
/// or fetched, and the runs of `planned`'s plan that lack a needed frame as
/// failed.
pub async fn make_and_fetch(
    options: &FarmOptions,
    shared: &Shared,
    planned: &Planned,
    store: &Store,
    extract_options: &ExtractOptions,
    plan_options: &PlanOptions,
    progress: &Progress,
) -> FarmOutcome {
    let cancel = extract_options.limits.cancel.clone();
    let remote = match shared {
        Shared::Ready(remote) => Some(remote),
        _ => None,
    };
    let mut farm = Farm {
        options,
        ticks: chunk_ticks(options, planned),
        remote,
        store,
        planned,
        extract_options,
        plan_options,
        progress,
        cancel: &cancel,
        holder: holder_id(),
        local: BTreeMap::new(),
        remote_index: RemoteIndex::default(),
        failures: BTreeMap::new(),
        unshared: BTreeMap::new(),
        down: None,
        broken: BTreeSet::new(),
        extracted: Extracted::default(),
        metrics: FarmMetrics {
            shard: options.shard.to_string(),
            ..FarmMetrics::default()
        },
    };
    let timelines = plan_timelines(&planned.plan, planned);
    let needed = farm.needed(&timelines);
    farm.metrics.frames_needed = needed.values().map(|m| m.len() as u64).sum();
    farm.take_local(&needed);
    if let Shared::Down(err) = shared {
        return farm.finish(&needed, Some(ExtractError::Remote(err.clone())));
    }
    let (units, owners) = match farm.units(&needed, &timelines) {
        Ok(units) => units,
        Err(err) => {
            return farm.finish(&needed, Some(err));
        }
    };
    farm.metrics.units = units.len() as u64;
    // What the shared store holds.
    let missing_keys: Vec<String> = needed.keys().cloned().collect();
    farm.refresh_index(&missing_keys).await;

    // This shard's units.
    let mine: Vec<&Unit> = units
        .iter()
        .zip(&owners)
        .filter(|(_, &o)| o == options.shard.index)
        .map(|(u, _)| u)
        .collect();
    farm.metrics.units_mine = mine.len() as u64;
    let mut claimed = Vec::new();
    for unit in mine {
        if !farm.unit_missing(unit, &needed).is_empty() && farm.claim(unit, None).await {
            claimed.push(unit);
        }
    }
    farm.make_units(&claimed, &needed).await;
    // Units made (or tried) here: never made again by this run, so a unit
    // that fails here fails once.
    let mut tried: BTreeSet<&str> = claimed.iter().map(|u| u.key.as_str()).collect();

    // Everything else: fetched, waited for, or covered.
    let started = Instant::now();
    let mut covering = Duration::ZERO;
    let mut observed: BTreeMap<String, (Option<String>, Instant)> = BTreeMap::new();
    loop {
        farm.fetch(&needed).await;
        let missing = farm.missing(&needed);
        if missing.is_empty() || farm.cancel.is_cancelled() {
            break;
        }
        if farm.remote.is_none() {
            // Alone, every unit was ours: what is missing failed.
            break;
        }
        let waited = started.elapsed() >= options.wait;
        if waited || !farm.broken.is_empty() {
            let open: Vec<&Unit> = units
                .iter()
                .filter(|u| !tried.contains(u.key.as_str()))
                .filter(|u| {
                    let missing = farm.unit_missing(u, &needed);
                    !missing.is_empty() && (waited || farm.has_broken(u, &missing, &needed))
                })
                .collect();
            if open.is_empty() && waited {
                // What is still missing failed here: nothing to wait for.
                break;
            }
            let mut won = Vec::new();
            for unit in open {
                if farm.take_over(unit, &mut observed).await {
                    won.push(unit);
                }
            }
            if !won.is_empty() {
                tried.extend(won.iter().map(|u| u.key.as_str()));
                let t = Instant::now();
                farm.metrics.units_covered += farm.make_units(&won, &needed).await;
                covering += t.elapsed();
                continue;
            }
        }
        let poll = (options.wait / 4).clamp(Duration::from_millis(100), Duration::from_secs(2));
        tokio::select! {
            () = tokio::time::sleep(poll) => {}
            () = farm.cancel.cancelled() => {}
        }
        let keys: Vec<String> = farm
            .missing(&needed)
            .iter()
            .map(|(k, _)| k.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        farm.refresh_index(&keys).await;
    }
    // Time waiting on other shards: fetching and polling, not covering.
    farm.metrics.wait_ms = started.elapsed().saturating_sub(covering).as_millis() as u64;
    farm.finish(&needed, None)
}

/// Per element id, the ticks `options.frames` shows.
fn chunk_ticks(options: &FarmOptions, planned: &Planned) -> Option<BTreeMap<String, Vec<u64>>> {
    let frames = options.frames.as_ref()?;
    let prepared = &planned.prepared;
    let elements = validate(&prepared.usable_composition(), &prepared.facts()).ok()?;
    Some(
        elements
            .iter()
            .map(|e| (e.id.clone(), ticks_shown(e, frames)))
            .collect(),
    )
}

/// A random name for this process's claims.
fn holder_id() -> String {
    let seed = format!(
        "{}:{:?}:{:?}",
        std::process::id(),
        std::time::SystemTime::now(),
        std::thread::current().id()
    );
    blake3::hash(seed.as_bytes()).to_hex()[..16].to_string()
}

/// Each plan source's timeline (by plan source id).
fn plan_timelines<'a>(plan: &Plan, planned: &'a Planned) -> BTreeMap<String, &'a Timeline> {
    plan.sources
        .iter()
        .filter_map(|s| {
            let ready = planned.prepared.sources.get(&s.src)?.as_ref().ok()?;
            Some((s.id.clone(), &ready.probe.timeline))
        })
        .collect()
}

type NeededFrames = BTreeMap<String, BTreeMap<i64, Needed>>;
