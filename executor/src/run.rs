//! The conductor: read → probe → look up → plan → extract → fan out →
//! report. Each stage lives in its own module; this one only sequences
//! them and keeps the metrics.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::error::ExtractError;
use crate::events::Event;
use crate::extract::{extract, ExtractOptions};
use crate::fanout::{element_error, fan_out, LinkSources};
use crate::prepare::InputError;
use crate::process::Limits;
use crate::report::{write_report, ElementReport, Metrics, Report, Status, REPORT_FILE};
use crate::store::Store;

pub use crate::options::{default_decoders, RunOptions, DEFAULT_MAX_CACHE_BYTES, GC_GUARD_AGE};
pub use crate::plan::{plan_composition, role_text, PlanSettings, Planned};
use crate::plan::{plan_timelines, run_works};

/// The private store of a run without one: `<out>/.framex-tmp.<pid>`.
const SCRATCH_MARKER: &str = "framex-tmp";

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
    // Element directories half-built by a run that was killed.
    crate::leftovers::sweep_dead_leftovers(&out_dir, crate::leftovers::BUILDING_MARKER, true);
    // Private stores of `--no-cache` runs that were killed.
    crate::leftovers::sweep_dead_leftovers(&out_dir, SCRATCH_MARKER, true);
    // Without a store of its own, a run keeps its frames in a private one
    // beside the element directories (hard links need one filesystem).
    let scratch = out_dir.join(format!(".{SCRATCH_MARKER}.{}", std::process::id()));
    let store_root = options.cache_dir.clone().unwrap_or_else(|| scratch.clone());
    let store = Store::open(&store_root).map_err(|e| setup("cannot open store", &store_root, e))?;
    let guard = store
        .read_guard()
        .map_err(|e| setup("cannot lock store", store.root(), e))?;
    // The shared store, checked before any work: wrong credentials fail here.
    let shared = match &options.farm {
        Some(farm) => crate::farm::connect(farm)
            .await
            .map_err(|e| RunError::Setup(e.to_string()))?,
        None => crate::farm::Shared::None,
    };

    let mut settings = PlanSettings::of(options);
    if let crate::farm::Shared::Ready(remote) = &shared {
        let probes = crate::farm::StoreProbes(remote.clone());
        settings.sources.shared_probes = Some(std::sync::Arc::new(probes));
    }
    let planned = plan_composition(
        &options.composition,
        composition,
        &store,
        options.cache_dir.is_some(),
        &settings,
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
        ffmpeg: options.tools.ffmpeg.clone().map_err(ExtractError::from),
        decoders: options.jobs.max(1),
        encoders: options.encoders.max(1),
        limits: Limits {
            timeout: options.timeout,
            cancel: options.cancel.clone(),
        },
    };
    options.emit(Event::Started {
        elements: prepared.composition.elements.len() as u64,
        frames_requested: plan.totals.frames_requested,
        frames_to_make: plan.totals.frames_to_make,
        decode_runs: plan.totals.decode_runs,
    });
    let mut chunk_ticks = None;
    let extracted = if let Some(farm) = &options.farm {
        let outcome = crate::farm::make_and_fetch(
            farm,
            &shared,
            &planned,
            &store,
            &extract_options,
            &options.plan,
            &crate::farm::Progress {
                bar: bar.clone(),
                events: options.events.clone(),
            },
        )
        .await;
        metrics.farm = Some(outcome.metrics);
        chunk_ticks = outcome.ticks;
        outcome.extracted
    } else {
        let (store, runs, bar, events) = (store.clone(), runs, bar.clone(), options.events.clone());
        tokio::task::spawn_blocking(move || {
            let done: Vec<std::sync::atomic::AtomicU64> = runs
                .iter()
                .map(|_| std::sync::atomic::AtomicU64::new(0))
                .collect();
            let on_frame = |run: usize| {
                bar.inc(1);
                if let Some(sink) = &events {
                    let n = done[run].fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    sink.send(&Event::Run {
                        run: runs[run].id.clone(),
                        frames_done: n,
                        frames_total: runs[run].make.len() as u64,
                    });
                }
            };
            extract(&store, &runs, &extract_options, &on_frame)
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
        let ticks = chunk_ticks.as_ref();
        let ticks = ticks.map(|t| t.get(&element.element_id).map_or(&[][..], Vec::as_slice));
        // Ctrl-C during fan-out: the elements not yet linked are cancelled.
        let cancelled = options
            .cancel
            .is_cancelled()
            .then_some(ExtractError::Cancelled);
        let result = cancelled
            .or_else(|| element_error(element, &extracted.runs, &run_leaders))
            .map_or_else(
                || {
                    let timeline = timelines[&element.source];
                    fan_out(
                        element,
                        ticks,
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
                entry.frames = n;
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
        options.emit(Event::Element {
            element_id: element.element_id.clone(),
            status: entry.status,
            frames: entry.frames,
            error_kind: entry.error_kind.clone(),
            error: entry.error.clone(),
        });
        report.elements.insert(element.element_id.clone(), entry);
    }
    metrics.fresh_copies = links.fresh_copies;
    report.warnings = plan.warnings.clone();
    for (id, err) in prepared.element_errors() {
        let _ = std::fs::remove_dir_all(out_dir.join(&id));
        options.emit(Event::Element {
            element_id: id.clone(),
            status: Status::Error,
            frames: 0,
            error_kind: Some(err.kind().to_string()),
            error: Some(err.to_string()),
        });
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
    // The records of the frames made (one per frame) are not needed by gc.
    drop(extracted);
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
    options.emit(Event::Finished {
        ok: report.all_ok(),
        report: out_dir.join(REPORT_FILE).to_string_lossy().into_owned(),
    });
    Ok(report)
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
