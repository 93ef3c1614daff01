//! The plan stage: probe the sources, read what the store holds, plan, and
//! check the stored frames the plan uses.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use framex_core::{plan_elements, validate, Plan, PlanOptions, RecipePlan, Role, Timeline};
use tokio_util::sync::CancellationToken;

use crate::extract::RunWork;
use crate::lookup::Stored;
use crate::options::RunOptions;
use crate::prepare::{prepare, InputError, Prepared, ReadySource, SourceOptions};
use crate::run::RunError;
use crate::store::Store;
use crate::tools::Tools;

/// What planning needs besides the composition.
#[derive(Clone, Debug)]
pub struct PlanSettings {
    /// ffmpeg and ffprobe.
    pub tools: Tools,
    /// Probes at once.
    pub jobs: usize,
    /// Per-process timeout.
    pub timeout: Duration,
    /// Cancels probing.
    pub cancel: CancellationToken,
    /// Planning options.
    pub plan: PlanOptions,
    /// Content identity directories and how remote sources are fetched.
    pub sources: SourceOptions,
}

impl PlanSettings {
    /// The planning part of run options.
    pub fn of(options: &RunOptions) -> Self {
        // Probes read little and decode nothing: several per core.
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            tools: options.tools.clone(),
            jobs: options.jobs.max(2 * cores),
            timeout: options.timeout,
            cancel: options.cancel.clone(),
            plan: options.plan.clone(),
            sources: options.sources.clone(),
        }
    }
}

/// A composition planned against its probed sources and the store.
#[derive(Debug)]
pub struct Planned {
    /// Sources resolved and probed.
    pub prepared: Prepared,
    /// What the store holds of the plan's recipes (digests of the frames
    /// the plan uses checked).
    pub stored: Stored,
    /// The plan.
    pub plan: Plan,
    /// Stored frames found damaged (dropped, and made again).
    pub damaged: u64,
    /// Resolving and probing.
    pub probe_time: Duration,
    /// Reading the index and checking digests.
    pub lookup_time: Duration,
    /// Planning.
    pub plan_time: Duration,
}

/// Probes `composition`'s sources, reads what the store holds, and plans.
/// Stored frames the plan uses are checked against their digests; a
/// damaged one is dropped and the plan made again without it. With
/// `remember` false, probes and downloads are not kept in the store.
pub async fn plan_composition(
    composition_path: &Path,
    composition: framex_core::Composition,
    store: &Store,
    remember: bool,
    settings: &PlanSettings,
) -> Result<Planned, RunError> {
    let t = Instant::now();
    let prepared = prepare(
        composition_path,
        composition,
        &settings.tools,
        remember.then_some(store),
        settings.jobs,
        settings.timeout,
        &settings.cancel,
        &settings.sources,
    )
    .await?;
    let probe_time = t.elapsed();
    let invalid = |error| InputError::Invalid {
        path: composition_path.to_path_buf(),
        error,
    };
    let usable = prepared.usable_composition();
    let facts = prepared.facts();
    let elements = validate(&usable, &facts).map_err(invalid)?;
    let t = Instant::now();
    let mut stored = Stored::read(store, &usable, &facts).map_err(invalid)?;
    let mut lookup_time = t.elapsed();
    let t = Instant::now();
    let mut plan = plan_elements(&elements, &facts, &stored.cached_frames(), &settings.plan)
        .map_err(invalid)?;
    let mut plan_time = t.elapsed();
    let t = Instant::now();
    let damaged = stored.verify_used(store, &plan, &plan_timelines(&plan, &prepared));
    lookup_time += t.elapsed();
    if damaged > 0 {
        let t = Instant::now();
        plan = plan_elements(&elements, &facts, &stored.cached_frames(), &settings.plan)
            .map_err(invalid)?;
        plan_time += t.elapsed();
    }
    Ok(Planned {
        prepared,
        stored,
        plan,
        damaged,
        probe_time,
        lookup_time,
        plan_time,
    })
}

/// Each plan source's timeline (by plan source id).
pub fn plan_timelines<'a>(plan: &Plan, prepared: &'a Prepared) -> BTreeMap<String, &'a Timeline> {
    plan.sources
        .iter()
        .filter_map(|s| {
            let ready = prepared.sources.get(&s.src)?.as_ref().ok()?;
            Some((s.id.clone(), &ready.probe.timeline))
        })
        .collect()
}

/// The plan's decode runs, with their sources.
pub fn run_works(plan: &Plan, prepared: &Prepared) -> Vec<RunWork> {
    let mut works = Vec::new();
    for (source, recipe, run) in plan.runs() {
        let Some(Ok(ready)) = prepared.sources.get(&source.src) else {
            continue;
        };
        let make = run.make.iter().collect();
        works.push(run_work(run.id.clone(), ready, recipe, run.keyframe, make));
    }
    works
}

/// The work of making the frames `make` (ascending frame indices) of
/// `ready` in `recipe`, decoding from `keyframe`.
pub fn run_work(
    id: String,
    ready: &ReadySource,
    recipe: &RecipePlan,
    keyframe: u64,
    make: Vec<u64>,
) -> RunWork {
    RunWork {
        id,
        src: ready.resolved.path.clone(),
        probe: Arc::clone(&ready.probe),
        recipe: framex_core::Recipe {
            format: recipe.format,
            alpha: recipe.alpha,
            transfer: recipe.transfer,
        },
        recipe_key: recipe.key.clone(),
        keyframe,
        make,
    }
}

/// The report's role text.
pub fn role_text(role: &Role) -> String {
    match role {
        Role::Leader => "leader".into(),
        Role::Duplicate { of } => format!("duplicate of {of}"),
        Role::Shares { run, leader } => format!("shares {run} (leader {leader})"),
        Role::CacheHit => "cache hit".into(),
    }
}
