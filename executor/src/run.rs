//! The conductor: read → probe → look up → plan → extract → fan out →
//! report. Each stage lives in its own module; this one only sequences
//! them and keeps the metrics.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use framex_core::{plan_elements, validate, ElementPlan, Plan, PlanOptions, Role, Timeline};
use indicatif::{ProgressBar, ProgressStyle};
use tokio_util::sync::CancellationToken;

use crate::error::ExtractError;
use crate::extract::{extract, ExtractOptions, RunWork};
use crate::fanout::{fill_element_dir, LinkSources};
use crate::lookup::Stored;
use crate::prepare::{prepare, InputError, Prepared, SourceOptions};
use crate::process::Limits;
use crate::report::{ElementReport, Metrics, Report, Status, REPORT_FILE};
use crate::store::Store;
use crate::tools::Tools;

/// Default store size cap: 2 GiB.
pub const DEFAULT_MAX_CACHE_BYTES: u64 = 2 << 30;

/// Store entries used more recently than this are never evicted automatically.
pub const GC_GUARD_AGE: Duration = Duration::from_secs(3600);

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The composition file.
    pub composition: PathBuf,
    /// Where element directories and the report go.
    pub out_dir: PathBuf,
    /// The store root; `None` runs without one (a private store for the run).
    pub cache_dir: Option<PathBuf>,
    /// Most ffmpeg processes at once (decoders; probes).
    pub jobs: usize,
    /// Encoder threads.
    pub encoders: usize,
    /// Per-process timeout for ffmpeg and ffprobe.
    pub timeout: Duration,
    /// ffmpeg and ffprobe.
    pub tools: Tools,
    /// Cancels the run (Ctrl-C).
    pub cancel: CancellationToken,
    /// Draw a progress bar (on a terminal).
    pub progress: bool,
    /// Planning options.
    pub plan: PlanOptions,
    /// Store size cap applied after a run that made frames.
    pub max_cache_bytes: u64,
    /// Content identity directories and how remote sources are fetched.
    pub sources: SourceOptions,
}

impl RunOptions {
    /// Options for `composition` → `out_dir` with every default: the
    /// default store, decoders and encoders sized to the machine.
    pub fn new(composition: PathBuf, out_dir: PathBuf, tools: Tools) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            composition,
            out_dir,
            cache_dir: Some(crate::default_cache_dir()),
            jobs: default_decoders(cores),
            encoders: cores,
            timeout: Duration::from_secs(300),
            tools,
            cancel: CancellationToken::new(),
            progress: false,
            plan: PlanOptions::default(),
            max_cache_bytes: DEFAULT_MAX_CACHE_BYTES,
            sources: SourceOptions::default(),
        }
    }
}

/// Decoders for `cores` cores: ffmpeg's decoders are threaded themselves,
/// so one process keeps two cores busy; more only pay off with more cores.
pub fn default_decoders(cores: usize) -> usize {
    (cores / 4).clamp(1, 8)
}

/// Why a run did not produce a report.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Invalid input (exit code 2).
    #[error(transparent)]
    Input(#[from] InputError),
    /// The output directory or the store is unusable.
    #[error("{0}")]
    Setup(String),
}

/// Runs a composition end to end.
pub async fn run(options: &RunOptions) -> Result<Report, RunError> {
    let started = Instant::now();
    let mut metrics = Metrics::default();
    let setup = |what: &str, path: &Path, e: std::io::Error| {
        RunError::Setup(format!("{what} {}: {e}", path.display()))
    };
    // An invalid composition is refused before any directory is made.
    let composition = crate::prepare::read_composition(&options.composition)?;
    std::fs::create_dir_all(&options.out_dir)
        .map_err(|e| setup("cannot create output directory", &options.out_dir, e))?;
    let out_dir = std::fs::canonicalize(&options.out_dir)
        .map_err(|e| setup("cannot resolve output directory", &options.out_dir, e))?;
    // Element directories, private stores and reports half-built by a run
    // that was killed.
    crate::fanout::sweep_dead_leftovers(&out_dir, crate::fanout::BUILDING_MARKER, true);
    // Without a store of its own, a run keeps its frames in a private one
    // beside the element directories (hard links need one filesystem),
    // named so that a later run sweeps it when this one is killed.
    let scratch = out_dir.join(format!(
        ".framex-store.{}.{}",
        crate::fanout::BUILDING_MARKER,
        std::process::id()
    ));
    let store_root = options.cache_dir.clone().unwrap_or_else(|| scratch.clone());
    let store = Store::open(&store_root).map_err(|e| setup("cannot open store", &store_root, e))?;
    let guard = store
        .read_guard()
        .map_err(|e| setup("cannot lock store", store.root(), e))?;

    let planned = plan_composition(
        &options.composition,
        composition,
        &store,
        options.cache_dir.is_some(),
        &PlanSettings::of(options),
    )
    .await?;
    let Planned {
        prepared,
        stored,
        plan,
        ..
    } = &planned;
    metrics.phases.probe_ms = ms(planned.probe_time);
    metrics.phases.lookup_ms = ms(planned.lookup_time);
    metrics.phases.plan_ms = ms(planned.plan_time);
    metrics.damaged_frames = planned.damaged;
    // Torn or garbled index lines go, now that this run holds the store
    // (best effort: they are ignored anyway).
    for key in &stored.damaged_indexes {
        let _ = store.drop_damaged_lines(key);
    }
    let timelines = plan_timelines(plan, prepared);

    // Extract.
    let t = Instant::now();
    let runs = run_works(plan, prepared);
    let bar = progress_bar(options.progress, plan.totals.frames_to_make);
    let extract_options = ExtractOptions {
        ffmpeg: options.tools.ffmpeg.clone(),
        decoders: options.jobs.max(1),
        encoders: options.encoders.max(1),
        limits: Limits {
            timeout: options.timeout,
            cancel: options.cancel.clone(),
        },
    };
    let extracted = {
        let (store, runs, bar) = (store.clone(), runs, bar.clone());
        tokio::task::spawn_blocking(move || {
            extract(&store, &runs, &extract_options, &|| bar.inc(1))
        })
        .await
        .map_err(|_| RunError::Setup("the extraction stage panicked".into()))?
    };
    bar.finish_and_clear();
    metrics.phases.extract_ms = ms(t.elapsed());
    metrics.frames_extracted = extracted.frames_encoded;
    metrics.bytes_written = extracted.bytes_encoded;
    metrics.ffmpeg_runs = extracted.ffmpeg_runs;
    let prep = prepared.stats;
    metrics.retries = extracted.retries + prep.probe_retries + prep.downloads.retries;
    metrics.sources_hashed = prep.sources_hashed;
    metrics.bytes_hashed = prep.bytes_hashed;
    metrics.downloads = prep.downloads.downloads;
    metrics.bytes_downloaded = prep.downloads.bytes;

    // Fan out.
    let t = Instant::now();
    let mut report = Report::default();
    let run_leaders: BTreeMap<&str, &str> = plan
        .runs()
        .map(|(_, _, run)| (run.id.as_str(), run.leader.as_str()))
        .collect();
    let mut links = LinkSources::default();
    for element in &plan.elements {
        let target = out_dir.join(&element.element_id);
        let mut entry = ElementReport {
            role: role_text(&element.role),
            runs: element.runs.clone(),
            cache_hit: element.runs.is_empty(),
            frames: element.ticks,
            ..ElementReport::default()
        };
        let result = element_error(element, &extracted.runs, &run_leaders).map_or_else(
            || {
                let timeline = timelines[&element.source];
                fan_out(
                    element,
                    timeline,
                    &store,
                    stored,
                    &extracted.made,
                    &target,
                    &mut links,
                )
            },
            Err,
        );
        match result {
            Ok(n) => {
                metrics.frames_linked += n;
                entry.dir = Some(target.to_string_lossy().into_owned());
            }
            Err(err) => {
                // No stale frames from an earlier run may pass for this run's.
                let _ = std::fs::remove_dir_all(&target);
                entry.frames = 0;
                entry.status = Status::Error;
                entry.error_kind = Some(err.kind().to_string());
                entry.retryable = Some(err.retryable());
                entry.error = Some(err.to_string());
            }
        }
        report.elements.insert(element.element_id.clone(), entry);
    }
    metrics.fresh_copies = links.fresh_copies;
    report.warnings = plan.warnings.clone();
    for (id, err) in prepared.element_errors() {
        let _ = std::fs::remove_dir_all(out_dir.join(&id));
        report.elements.insert(
            id,
            ElementReport {
                status: Status::Error,
                role: "none".into(),
                error_kind: Some(err.kind().to_string()),
                retryable: Some(err.retryable()),
                error: Some(err.to_string()),
                ..ElementReport::default()
            },
        );
    }
    metrics.phases.fanout_ms = ms(t.elapsed());

    let totals = &plan.totals;
    metrics.elements = prepared.composition.elements.len() as u64;
    metrics.frames_requested = totals.frames_requested;
    metrics.distinct_frames = totals.distinct_frames;
    metrics.dedupe_hits = totals.dedupe_hits;
    metrics.cache_hits = if options.cache_dir.is_some() {
        totals.cache_hits
    } else {
        0
    };
    metrics.cache_misses = totals.frames_to_make;
    metrics.decode_runs = totals.decode_runs;
    drop(guard);
    if options.cache_dir.is_some() {
        if metrics.cache_misses > 0 {
            let protect: BTreeSet<String> =
                plan.elements.iter().map(|e| e.recipe.clone()).collect();
            // Never fatal, never waits: another run holding the store defers it.
            let _ = store.gc(
                options.max_cache_bytes,
                GC_GUARD_AGE,
                &protect,
                Duration::ZERO,
            );
        }
    } else {
        let _ = std::fs::remove_dir_all(&scratch);
    }
    metrics.phases.total_ms = ms(started.elapsed());
    report.metrics = metrics;
    write_report(&out_dir, &report)
        .map_err(|e| setup("cannot write report", &out_dir.join(REPORT_FILE), e))?;
    Ok(report)
}

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
        Self {
            tools: options.tools.clone(),
            jobs: options.jobs.max(1),
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

/// Writes the report beside and renames it, so no reader (and no crash)
/// sees half a report. When it cannot be written (a full disk), an older
/// run's report must not pass for this run's either.
fn write_report(out_dir: &Path, report: &Report) -> std::io::Result<()> {
    let json = serde_json::to_vec_pretty(report).expect("reports serialize");
    let path = out_dir.join(REPORT_FILE);
    let tmp = out_dir.join(format!(
        ".{REPORT_FILE}.{}.{}",
        crate::fanout::BUILDING_MARKER,
        std::process::id()
    ));
    std::fs::write(&tmp, json)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
            let _ = std::fs::remove_file(&path);
        })
}

/// Each plan source's timeline (by plan source id).
fn plan_timelines<'a>(plan: &Plan, prepared: &'a Prepared) -> BTreeMap<String, &'a Timeline> {
    plan.sources
        .iter()
        .filter_map(|s| {
            let ready = prepared.sources.get(&s.src)?.as_ref().ok()?;
            Some((s.id.clone(), &ready.probe.timeline))
        })
        .collect()
}

/// The plan's decode runs, with their sources.
fn run_works(plan: &Plan, prepared: &Prepared) -> Vec<RunWork> {
    let mut works = Vec::new();
    for (source, recipe, run) in plan.runs() {
        let Some(Ok(ready)) = prepared.sources.get(&source.src) else {
            continue;
        };
        works.push(RunWork {
            id: run.id.clone(),
            src: ready.resolved.path.clone(),
            probe: Arc::clone(&ready.probe),
            recipe: framex_core::Recipe {
                format: recipe.format,
                alpha: recipe.alpha,
                transfer: recipe.transfer,
            },
            recipe_key: recipe.key.clone(),
            keyframe: run.keyframe,
            make: run.make.iter().collect(),
        });
    }
    works
}

/// The error of the first failed run the element needs, as it reports it:
/// `[shared extraction, leader <id>] …` when another element leads that run.
fn element_error(
    element: &ElementPlan,
    runs: &BTreeMap<String, Result<(), ExtractError>>,
    leaders: &BTreeMap<&str, &str>,
) -> Option<ExtractError> {
    element.runs.iter().find_map(|id| {
        let err = runs.get(id)?.as_ref().err()?;
        let leader = leaders.get(id.as_str()).copied().unwrap_or_default();
        Some(if leader == element.element_id {
            err.clone()
        } else {
            err.shared(leader)
        })
    })
}

/// Fills an element's directory: for each tick, the blob of the frame it
/// shows (made by this run, or stored before).
fn fan_out(
    element: &ElementPlan,
    timeline: &Timeline,
    store: &Store,
    stored: &Stored,
    made: &BTreeMap<String, BTreeMap<i64, crate::store::BlobRef>>,
    target: &Path,
    links: &mut LinkSources,
) -> Result<u64, ExtractError> {
    let made = made.get(&element.recipe);
    let blob_of = |pts: i64| {
        made.and_then(|m| m.get(&pts))
            .or_else(|| stored.blob(&element.recipe, pts))
    };
    let mut missing = None;
    let frames = element.shown().map(|frame| {
        let pts = timeline.pts(frame);
        match blob_of(pts) {
            Some(blob) => Ok(store.blob_path(blob)),
            None => {
                missing.get_or_insert(pts);
                Err(std::io::Error::other(format!("no stored frame at {pts}")))
            }
        }
    });
    // Every blob of a recipe has the recipe's extension.
    let first_ext = element
        .shown()
        .next()
        .and_then(|f| blob_of(timeline.pts(f)))
        .map_or("png".to_string(), |b| b.ext.clone());
    let result = fill_element_dir(target, &first_ext, frames, links);
    result.map_err(|e| match missing {
        Some(pts) => ExtractError::BadOutput {
            detail: format!(
                "the frame at {pts} (time base {}) of element {} was never made",
                timeline.time_base(),
                element.element_id
            ),
        },
        None => ExtractError::io("filling", target, &e),
    })
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

fn progress_bar(enabled: bool, total: u64) -> ProgressBar {
    if !enabled || total == 0 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} making frames {bar:40} {pos}/{len}  {per_sec}  eta {eta}",
        )
        .expect("valid template"),
    );
    bar
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}
