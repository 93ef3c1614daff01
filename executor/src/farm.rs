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

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use framex_core::{
    plan_elements, ticks_shown, validate, OutputFrames, Plan, PlanOptions, SourceIdentity, Timeline,
};
use futures::future::BoxFuture;
use futures::StreamExt;
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::error::ExtractError;
use crate::events::{Event, EventSink};
use crate::extract::{extract, ExtractOptions, Extracted, RunWork};
use crate::prepare::SharedProbes;
use crate::probe::{stored_probe_path, Probe};
use crate::run::Planned;
use crate::shard::{assign, units, Shard, Unit};
use crate::store::remote::{ClaimBody, RemoteError, RemoteIndex, RemoteOptions, RemoteStore};
use crate::store::{BlobRef, Store};

/// Downloads and uploads at once.
const TRANSFERS: usize = 8;

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

/// Probes shared through the farm's store (`v2/probes/`), named like the
/// local store's.
#[derive(Debug)]
pub struct StoreProbes(pub RemoteStore);

impl StoreProbes {
    fn name(identity: &SourceIdentity) -> String {
        let path = stored_probe_path(std::path::Path::new(""), identity);
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        stem.unwrap_or_default()
    }

    async fn read(&self, identity: &SourceIdentity) -> Option<Probe> {
        let bytes = self.0.get_probe(&Self::name(identity)).await.ok()??;
        serde_json::from_slice(&bytes).ok()
    }
}

impl SharedProbes for StoreProbes {
    fn fetch<'a>(&'a self, identity: &'a SourceIdentity) -> BoxFuture<'a, Option<Probe>> {
        Box::pin(self.read(identity))
    }

    fn publish<'a>(&'a self, identity: &'a SourceIdentity, probe: Probe) -> BoxFuture<'a, Probe> {
        Box::pin(async move {
            let bytes = serde_json::to_vec(&probe).expect("probes serialize");
            match self.0.create_probe(&Self::name(identity), bytes).await {
                Ok(false) => self.read(identity).await.unwrap_or(probe),
                _ => probe,
            }
        })
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

/// A download's outcome: recipe key, time, the blob the index names, and
/// the blob stored locally (`None`: missing or wrong).
type Fetched = (String, i64, BlobRef, Result<Option<BlobRef>, RemoteError>);

impl Farm<'_> {
    /// Per recipe key, the frames the elements show (in their chunk).
    fn needed(&self, timelines: &BTreeMap<String, &Timeline>) -> NeededFrames {
        let mut needed: NeededFrames = BTreeMap::new();
        for element in &self.planned.plan.elements {
            let Some(timeline) = timelines.get(&element.source) else {
                continue;
            };
            let frames = needed.entry(element.recipe.clone()).or_default();
            let ticks = self
                .ticks
                .as_ref()
                .map(|t| t.get(&element.element_id).cloned().unwrap_or_default());
            let mut add = |index: u64| {
                let pts = timeline.pts(index);
                frames.insert(pts, Needed { index, pts });
            };
            match &ticks {
                None => element.shown().for_each(&mut add),
                Some(ticks) => {
                    let wanted: BTreeSet<u64> = ticks.iter().copied().collect();
                    element
                        .shown()
                        .enumerate()
                        .filter(|(j, _)| wanted.contains(&(*j as u64)))
                        .for_each(|(_, f)| add(f));
                }
            }
        }
        needed
    }

    /// The farm's plan of every needed frame (whatever any store holds),
    /// cut into units, and each unit's shard.
    fn units(
        &self,
        needed: &NeededFrames,
        timelines: &BTreeMap<String, &Timeline>,
    ) -> Result<(Vec<Unit>, Vec<u32>), ExtractError> {
        let prepared = &self.planned.prepared;
        let usable = prepared.usable_composition();
        let facts = prepared.facts();
        let planning = |e: framex_core::PlanError| {
            ExtractError::bad_output(format!("planning the farm's work failed: {e}"))
        };
        let elements = validate(&usable, &facts).map_err(planning)?;
        // Frames shown but outside the chunk count as held: not planned.
        let mut elsewhere: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
        if self.ticks.is_some() {
            for element in &self.planned.plan.elements {
                let Some(timeline) = timelines.get(&element.source) else {
                    continue;
                };
                let wanted = needed.get(&element.recipe);
                let set = elsewhere.entry(element.recipe.clone()).or_default();
                for f in element.shown() {
                    let pts = timeline.pts(f);
                    if !wanted.is_some_and(|w| w.contains_key(&pts)) {
                        set.insert(pts);
                    }
                }
            }
        }
        let plan =
            plan_elements(&elements, &facts, &elsewhere, self.plan_options).map_err(planning)?;
        let timelines = plan_timelines(&plan, self.planned);
        let units = units(&plan, &timelines, self.options.shard.count);
        let owners = assign(&units, self.options.shard.count);
        Ok((units, owners))
    }

    /// Takes the needed frames the local store holds (checked by the lookup).
    fn take_local(&mut self, needed: &NeededFrames) {
        for (key, frames) in needed {
            let local = self.local.entry(key.clone()).or_default();
            for n in frames.values() {
                if let Some(blob) = self.planned.stored.blob(key, n.pts) {
                    local.insert(n.pts, blob.clone());
                }
            }
        }
    }

    fn at_hand(&self, key: &str, pts: i64) -> bool {
        self.local.get(key).is_some_and(|m| m.contains_key(&pts))
    }

    /// The unit's frames held by neither store.
    fn unit_missing(&self, unit: &Unit, needed: &NeededFrames) -> Vec<u64> {
        let Some(frames) = needed.get(&unit.recipe_key) else {
            return Vec::new();
        };
        let pts_of: BTreeMap<u64, i64> = frames.values().map(|n| (n.index, n.pts)).collect();
        unit.frames
            .iter()
            .copied()
            .filter(|f| {
                let Some(&pts) = pts_of.get(f) else {
                    return false;
                };
                !self.at_hand(&unit.recipe_key, pts)
                    && self.remote_index.blob(&unit.recipe_key, pts).is_none()
            })
            .collect()
    }

    /// Whether one of the unit's `missing` frames arrived wrong from the
    /// shared store.
    fn has_broken(&self, unit: &Unit, missing: &[u64], needed: &NeededFrames) -> bool {
        let Some(frames) = needed.get(&unit.recipe_key) else {
            return false;
        };
        frames.values().any(|n| {
            missing.contains(&n.index) && self.broken.contains(&(unit.recipe_key.clone(), n.pts))
        })
    }

    /// Needed frames not at hand locally.
    fn missing(&self, needed: &NeededFrames) -> Vec<(String, i64)> {
        needed
            .iter()
            .flat_map(|(key, frames)| {
                frames
                    .keys()
                    .filter(|pts| !self.at_hand(key, **pts))
                    .map(|pts| (key.clone(), *pts))
            })
            .collect()
    }

    /// Reads what is new in the shared index of `keys`. A failure is
    /// logged: the frames are then waited for, and made here in the end.
    async fn refresh_index(&mut self, keys: &[String]) {
        let Some(remote) = self.remote else { return };
        for key in keys {
            if let Err(err) = remote.read_index(key, &mut self.remote_index).await {
                tracing::warn!(error = %err, "reading the shared index failed");
            }
        }
    }

    fn claim_body(&self, renewal: u64) -> ClaimBody {
        ClaimBody {
            holder: self.holder.clone(),
            shard: self.options.shard.to_string(),
            renewal,
            lease_ms: self.options.lease.as_millis() as u64,
        }
    }

    /// Claims a unit (creating the claim, or replacing the stale version
    /// `stale`). True when this process holds it now, or when the store
    /// cannot say (correctness never depends on claims).
    async fn claim(&mut self, unit: &Unit, stale: Option<String>) -> bool {
        let Some(remote) = self.remote.filter(|_| self.down.is_none()) else {
            return true;
        };
        match remote
            .write_claim(&unit.key, &self.claim_body(0), stale)
            .await
        {
            Ok(Some(_)) => true,
            // Someone else's, or ours from a write whose answer was lost.
            Ok(None) => match remote.read_claim(&unit.key).await {
                Ok(Some(claim)) => claim.body.holder == self.holder,
                Ok(None) => false,
                Err(_) => true,
            },
            Err(err) => {
                tracing::warn!(error = %err, unit = %unit.key, "claiming failed; making the unit anyway");
                self.down.get_or_insert(err);
                true
            }
        }
    }

    /// After the wait: whether this process may make `unit` now (no claim,
    /// or one whose version did not change for a lease, seen from here).
    async fn take_over(
        &mut self,
        unit: &Unit,
        observed: &mut BTreeMap<String, (Option<String>, Instant)>,
    ) -> bool {
        let Some(remote) = self.remote else {
            return true;
        };
        let claim = match remote.read_claim(&unit.key).await {
            Ok(claim) => claim,
            Err(err) => {
                tracing::warn!(error = %err, "reading a claim failed; making the unit anyway");
                return true;
            }
        };
        let Some(claim) = claim else {
            return self.claim(unit, None).await;
        };
        if claim.body.holder == self.holder {
            return true;
        }
        let now = Instant::now();
        let seen = observed
            .entry(unit.key.clone())
            .or_insert((claim.e_tag.clone(), now));
        if seen.0 != claim.e_tag {
            *seen = (claim.e_tag.clone(), now);
        }
        let lease = Duration::from_millis(claim.body.lease_ms);
        if now.duration_since(seen.1) < lease {
            return false;
        }
        tracing::info!(unit = %unit.key, holder = %claim.body.holder, shard = %claim.body.shard, "a claim was not renewed within its lease; taking the unit over");
        match claim.e_tag {
            Some(e_tag) => self.claim(unit, Some(e_tag)).await,
            None => true,
        }
    }

    /// Makes the missing frames of `units` here, uploads them, and releases
    /// the claims, renewing them until then. Returns the units made (those
    /// another machine published meanwhile are not).
    async fn make_units(&mut self, units: &[&Unit], needed: &NeededFrames) -> u64 {
        // Another machine may have published them since the index was read
        // (a coverer that won the claim first, then released it).
        let keys: BTreeSet<String> = units.iter().map(|u| u.recipe_key.clone()).collect();
        self.refresh_index(&keys.into_iter().collect::<Vec<_>>())
            .await;
        let prepared = &self.planned.prepared;
        let mut works = Vec::new();
        let mut labels = Vec::new();
        for unit in units {
            let make = self.unit_missing(unit, needed);
            if make.is_empty() {
                if let Some(remote) = self.remote {
                    remote.release_claim(&unit.key).await;
                }
                continue;
            }
            let source = self.planned.plan.source(&unit.source);
            let ready = source.and_then(|s| prepared.sources.get(&s.src)?.as_ref().ok());
            let recipe = source.and_then(|s| s.recipes.iter().find(|r| r.key == unit.recipe_key));
            let (Some(ready), Some(recipe)) = (ready, recipe) else {
                continue;
            };
            labels.push(unit.id.clone());
            works.push(RunWork {
                id: unit.key.clone(),
                src: ready.resolved.path.clone(),
                probe: Arc::clone(&ready.probe),
                recipe: framex_core::Recipe {
                    format: recipe.format,
                    alpha: recipe.alpha,
                    transfer: recipe.transfer,
                },
                recipe_key: recipe.key.clone(),
                keyframe: unit.keyframe,
                make,
            });
        }
        if works.is_empty() {
            return 0;
        }
        let renewing = self.renew_claims(&works);
        let extracted = {
            let (store, works, options, progress) = (
                self.store.clone(),
                works.clone(),
                self.extract_options.clone(),
                self.progress.clone(),
            );
            tokio::task::spawn_blocking(move || {
                let done: Vec<AtomicU64> = works.iter().map(|_| AtomicU64::new(0)).collect();
                let on_frame = |i: usize| {
                    progress.bar.inc(1);
                    if let Some(sink) = &progress.events {
                        sink.send(&Event::Run {
                            run: labels[i].clone(),
                            frames_done: done[i].fetch_add(1, Ordering::Relaxed) + 1,
                            frames_total: works[i].make.len() as u64,
                        });
                    }
                };
                extract(&store, &works, &options, &on_frame)
            })
            .await
            .unwrap_or_default()
        };
        self.metrics.frames_made += extracted.frames_encoded;
        self.extracted.frames_encoded += extracted.frames_encoded;
        self.extracted.bytes_encoded += extracted.bytes_encoded;
        self.extracted.ffmpeg_runs += extracted.ffmpeg_runs;
        self.extracted.retries += extracted.retries;
        for (key, made) in &extracted.made {
            self.local
                .entry(key.clone())
                .or_default()
                .extend(made.iter().map(|(p, b)| (*p, b.clone())));
        }
        for work in &works {
            if let Some(Err(err)) = extracted.runs.get(&work.id) {
                for &f in &work.make {
                    let pts = work.probe.timeline.pts(f);
                    if !self.at_hand(&work.recipe_key, pts) {
                        self.failures
                            .insert((work.recipe_key.clone(), pts), err.clone());
                    }
                }
            }
        }
        self.upload(&works).await;
        // Held until the frames are published: a long upload is still work.
        renewing.cancel();
        works.len() as u64
    }

    /// Renews the claims of `works` every third of a lease until the
    /// returned token is cancelled.
    fn renew_claims(&self, works: &[RunWork]) -> CancellationToken {
        let stop = CancellationToken::new();
        let Some(remote) = self.remote.cloned() else {
            return stop;
        };
        let units: Vec<String> = works.iter().map(|w| w.id.clone()).collect();
        let (every, holder, body) = (
            self.options.lease / 3,
            self.holder.clone(),
            self.claim_body(0),
        );
        let token = stop.clone();
        tokio::spawn(async move {
            let mut renewal = 0;
            loop {
                tokio::select! {
                    () = tokio::time::sleep(every) => {}
                    () = token.cancelled() => return,
                }
                renewal += 1;
                for unit in &units {
                    let Ok(Some(claim)) = remote.read_claim(unit).await else {
                        continue;
                    };
                    if claim.body.holder != holder {
                        continue;
                    }
                    let body = ClaimBody {
                        renewal,
                        ..body.clone()
                    };
                    let _ = remote.write_claim(unit, &body, claim.e_tag).await;
                }
            }
        });
        stop
    }

    /// Uploads what `works` made: the blobs, then per unit the index batch
    /// that names them; then releases the units' claims. A unit whose
    /// upload failed records the error for its frames.
    async fn upload(&mut self, works: &[RunWork]) {
        let Some(remote) = self.remote else { return };
        for work in works {
            if let Some(err) = &self.down {
                for &f in &work.make {
                    let pts = work.probe.timeline.pts(f);
                    self.unshared.insert(
                        (work.recipe_key.clone(), pts),
                        ExtractError::Remote(err.clone()),
                    );
                }
                continue;
            }
            let records: Vec<(i64, BlobRef)> = work
                .make
                .iter()
                .filter_map(|&f| {
                    let pts = work.probe.timeline.pts(f);
                    let blob = self.local.get(&work.recipe_key)?.get(&pts)?;
                    Some((pts, blob.clone()))
                })
                .collect();
            let store = self.store;
            let results: Vec<Result<(), RemoteError>> = futures::stream::iter(records.iter())
                .map(|(_, blob)| async move {
                    let bytes = std::fs::read(store.blob_path(blob)).map_err(|e| {
                        RemoteError::Unavailable {
                            store: remote.url().to_string(),
                            op: "reading a frame to upload".into(),
                            detail: e.to_string(),
                        }
                    })?;
                    remote.put_blob(blob, bytes).await
                })
                .buffer_unordered(TRANSFERS)
                .collect()
                .await;
            let uploaded = results.iter().filter(|r| r.is_ok()).count() as u64;
            let failed = results.into_iter().find_map(Result::err);
            let result = match failed {
                Some(err) => Err(err),
                None => remote.put_index(&work.recipe_key, &records).await,
            };
            match result {
                Ok(()) => {
                    self.metrics.frames_uploaded += uploaded;
                    remote.release_claim(&work.id).await;
                }
                Err(err) => {
                    tracing::warn!(error = %err, "uploading frames failed");
                    self.down.get_or_insert(err.clone());
                    for (pts, _) in &records {
                        self.unshared.insert(
                            (work.recipe_key.clone(), *pts),
                            ExtractError::Remote(err.clone()),
                        );
                    }
                }
            }
        }
    }

    /// Downloads every needed frame the shared index names and the local
    /// store lacks, checks it, and keeps it in the local store.
    async fn fetch(&mut self, needed: &NeededFrames) {
        let Some(remote) = self.remote else { return };
        let wanted: Vec<(String, i64, BlobRef)> = self
            .missing(needed)
            .into_iter()
            .filter_map(|(key, pts)| {
                let blob = self.remote_index.blob(&key, pts)?.clone();
                Some((key, pts, blob))
            })
            .collect();
        if wanted.is_empty() {
            return;
        }
        let store = self.store;
        let results: Vec<Fetched> = futures::stream::iter(wanted)
            .map(|(key, pts, blob)| async move {
                // A copy that arrives wrong is fetched again, twice.
                let mut got = remote.get_blob(&blob).await;
                for _ in 0..2 {
                    if !matches!(got, Ok(None)) {
                        break;
                    }
                    got = remote.get_blob(&blob).await;
                }
                let result = match got {
                    Ok(Some(bytes)) => store.put_blob(&bytes, &blob.ext).map(Some).map_err(|e| {
                        RemoteError::Unavailable {
                            store: store.root().display().to_string(),
                            op: "storing a fetched frame".into(),
                            detail: e.to_string(),
                        }
                    }),
                    Ok(None) => Ok(None),
                    Err(err) => Err(err),
                };
                (key, pts, blob, result)
            })
            .buffer_unordered(TRANSFERS)
            .collect()
            .await;
        let mut records: BTreeMap<String, Vec<(i64, BlobRef)>> = BTreeMap::new();
        for (key, pts, blob, result) in results {
            match result {
                Ok(Some(stored)) if stored == blob => {
                    self.metrics.frames_fetched += 1;
                    self.local
                        .entry(key.clone())
                        .or_default()
                        .insert(pts, stored.clone());
                    records.entry(key).or_default().push((pts, stored));
                }
                // Missing or wrong: never used; made here.
                Ok(_) => {
                    self.remote_index.forget(&key, pts);
                    self.broken.insert((key, pts));
                }
                Err(err) => {
                    tracing::warn!(error = %err, "fetching a frame failed");
                    self.remote_index.forget(&key, pts);
                }
            }
        }
        for (key, records) in records {
            // The local store is a read-through cache of the shared one.
            if let Err(e) = self.store.append_index(&key, &records) {
                tracing::warn!(error = %e, "recording fetched frames in the local index failed");
            }
        }
    }

    /// The outcome: every needed frame at hand, and the run plan's runs
    /// that lack one failed (with the error that kept it away).
    fn finish(mut self, needed: &NeededFrames, error: Option<ExtractError>) -> FarmOutcome {
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
