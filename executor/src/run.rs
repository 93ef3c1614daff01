//! Running a plan: extraction units under bounded concurrency, publishing to
//! the cache, fan-out to one directory per element, and the report.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use framex_core::{
    Assignment, ExtractionUnit, FrameSource, ImageFormat, Plan, PlanOptions, Role,
    CACHE_SCHEMA_VERSION, RECIPE_VERSION,
};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::cache::{frame_name, partial_in, Cache, FrameRecord, Manifest, Partial};
use crate::error::ExtractError;
use crate::extract::{
    check_frames, ffmpeg_args, place_distinct, run_ffmpeg, DistinctFrames, ExtractSpec, RunLimits,
    WriteBehind, DISTINCT_PREFIX,
};
use crate::fanout::{link_frames, link_or_copy};
use crate::prepare::{prepare, InputError, Prepared, ReadySource, SourceOptions};
use crate::report::{ElementReport, Metrics, Report, Status, REPORT_FILE};
use crate::tools::Tools;

/// Default cache size cap: 2 GiB.
pub const DEFAULT_MAX_CACHE_BYTES: u64 = 2 << 30;

/// Entries used more recently than this are never evicted automatically.
pub const GC_GUARD_AGE: Duration = Duration::from_secs(3600);

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The composition file.
    pub composition: PathBuf,
    /// Where element directories and the report go.
    pub out_dir: PathBuf,
    /// The cache root; `None` runs without a cache.
    pub cache_dir: Option<PathBuf>,
    /// Most ffmpeg processes at once.
    pub jobs: usize,
    /// Per-process timeout for ffmpeg and ffprobe.
    pub timeout: Duration,
    /// ffmpeg and ffprobe.
    pub tools: Tools,
    /// Cancels the run (Ctrl-C).
    pub cancel: CancellationToken,
    /// Draw progress bars (on a terminal).
    pub progress: bool,
    /// Planning options.
    pub plan: PlanOptions,
    /// Cache size cap applied after a run that extracted something.
    pub max_cache_bytes: u64,
    /// Split each unit into up to this many segments extracted in parallel
    /// (each counts against `jobs`); 1 runs one ffmpeg per unit.
    pub segments: usize,
    /// Encode each distinct source frame once when a unit repeats source
    /// frames (upsampling, VFR gaps), linking the repeats.
    pub reuse_frames: bool,
    /// Content identity directories and how remote sources are fetched.
    pub sources: SourceOptions,
}

/// Why a run did not produce a report.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Invalid input (exit code 2).
    #[error(transparent)]
    Input(#[from] InputError),
    /// The output or cache directory is unusable.
    #[error("{0}")]
    Setup(String),
}

/// Frames of one unique work, once extracted or found: `count` frames from
/// `offset + 1` in `dir`.
#[derive(Clone, Debug)]
struct WorkFrames {
    dir: PathBuf,
    offset: u64,
}

/// What a unit produced.
struct UnitDone {
    /// Per member cache key.
    works: BTreeMap<String, WorkFrames>,
    frames: u64,
    bytes: u64,
    publish: Duration,
    /// Keeps a no-cache work directory alive until fan-out is done.
    _scratch: Option<Partial>,
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
    crate::fanout::sweep_dead_leftovers(&out_dir, crate::fanout::BUILDING_MARKER, true);
    let cache = match &options.cache_dir {
        Some(dir) => Some(Cache::open(dir).map_err(|e| setup("cannot open cache", dir, e))?),
        None => None,
    };
    let guard = match &cache {
        Some(c) => Some(
            c.read_guard()
                .map_err(|e| setup("cannot lock cache", c.root(), e))?,
        ),
        None => None,
    };

    let t = Instant::now();
    let prepared = prepare(
        &options.composition,
        composition,
        &options.tools,
        cache.as_ref(),
        options.jobs,
        options.timeout,
        &options.sources,
    )
    .await?;
    metrics.phases.probe_ms = ms(t.elapsed());

    let t = Instant::now();
    let plan = prepared
        .plan_with_cache(cache.as_ref(), &options.plan)
        .map_err(|error| InputError::Invalid {
            path: options.composition.clone(),
            error,
        })?;
    metrics.phases.plan_ms = ms(t.elapsed());

    let t = Instant::now();
    let bar = progress_bar(options.progress, plan.totals.frames_to_extract);
    let scratch_root = out_dir.join(".framex-tmp");
    let (outcomes, runs, unit_retries) = run_units(
        &plan,
        &prepared,
        cache.as_ref(),
        &scratch_root,
        options,
        &bar,
    )
    .await;
    bar.finish_and_clear();
    metrics.phases.extract_ms = ms(t.elapsed());
    metrics.ffmpeg_runs = runs;
    let prep = prepared.stats;
    metrics.retries = unit_retries + prep.probe_retries + prep.downloads.retries;
    metrics.sources_hashed = prep.sources_hashed;
    metrics.bytes_hashed = prep.bytes_hashed;
    metrics.downloads = prep.downloads.downloads;
    metrics.bytes_downloaded = prep.downloads.bytes;

    // Where every unique work's frames are, or why they are not.
    let mut works: BTreeMap<String, Result<WorkFrames, ExtractError>> = BTreeMap::new();
    let mut publish = Duration::ZERO;
    for (unit, outcome) in plan.units.iter().zip(&outcomes) {
        match outcome {
            Ok(done) => {
                metrics.frames_extracted += done.frames;
                metrics.bytes_written += done.bytes;
                publish += done.publish;
                works.extend(done.works.iter().map(|(k, w)| (k.clone(), Ok(w.clone()))));
            }
            Err(err) => {
                for member in &unit.members {
                    works.insert(member.cache_key.clone(), Err(err.clone()));
                }
            }
        }
    }
    if let Some(cache) = &cache {
        let held_hits = plan
            .assignments
            .iter()
            .filter_map(|a| a.held.as_ref().filter(|h| h.cache_hit)?.cache_key.as_ref());
        let hits = plan.assignments.iter().filter(|a| a.cache_hit);
        for key in hits.map(|a| &a.cache_key).chain(held_hits) {
            works.entry(key.clone()).or_insert_with(|| {
                Ok(WorkFrames {
                    dir: cache.entry_dir(key),
                    offset: 0,
                })
            });
        }
    }
    metrics.phases.publish_ms = ms(publish);

    let t = Instant::now();
    let mut report = Report::default();
    let units: BTreeMap<&str, &ExtractionUnit> =
        plan.units.iter().map(|u| (u.id.as_str(), u)).collect();
    let formats: BTreeMap<&str, ImageFormat> = prepared
        .composition
        .elements
        .iter()
        .filter_map(|e| Some((e.id.as_str(), ImageFormat::parse(&e.format)?)))
        .collect();
    for a in &plan.assignments {
        let target = out_dir.join(&a.element_id);
        let mut entry = ElementReport {
            role: role_text(&a.role),
            unit: a.unit.clone(),
            cache_hit: a.cache_hit,
            ..ElementReport::default()
        };
        let result =
            element_frames(a, &works, &units, formats[a.element_id.as_str()]).and_then(|frames| {
                link_frames(&frames, formats[a.element_id.as_str()], &target)
                    .map_err(|e| ExtractError::io("filling", &target, &e))
            });
        match result {
            Ok(n) => {
                metrics.frames_linked += n;
                entry.frames = n;
                entry.dir = Some(target.to_string_lossy().into_owned());
            }
            Err(err) => {
                // No stale frames from an earlier run may pass for this run's.
                let _ = std::fs::remove_dir_all(&target);
                entry.status = Status::Error;
                entry.error_kind = Some(err.kind().to_string());
                entry.retryable = Some(err.retryable());
                entry.error = Some(err.to_string());
            }
        }
        report.elements.insert(a.element_id.clone(), entry);
    }
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
    drop(outcomes);
    let _ = std::fs::remove_dir(&scratch_root);
    metrics.phases.fanout_ms = ms(t.elapsed());

    let totals = &plan.totals;
    metrics.elements = prepared.composition.elements.len() as u64;
    metrics.unique_works = totals.unique_works;
    metrics.dedupe_hits = totals.dedupe_hits;
    metrics.superset_groups = totals.superset_groups;
    metrics.cache_hits = if cache.is_some() {
        totals.cache_hits
    } else {
        0
    };
    metrics.cache_misses = totals.unique_works - metrics.cache_hits;
    metrics.frames_requested = totals.frames_requested;
    drop(guard);
    if let Some(cache) = &cache {
        if metrics.cache_misses > 0 {
            let protect: BTreeSet<String> = plan
                .assignments
                .iter()
                .flat_map(|a| a.cache_keys().map(str::to_string))
                .collect();
            // Never fatal, never waits: another run holding the cache defers it.
            let _ = cache.gc(
                options.max_cache_bytes,
                GC_GUARD_AGE,
                &protect,
                Duration::ZERO,
            );
        }
    }
    metrics.phases.total_ms = ms(started.elapsed());
    report.metrics = metrics;
    let json = serde_json::to_vec_pretty(&report).expect("reports serialize");
    let report_path = out_dir.join(REPORT_FILE);
    // Written beside and renamed, so no reader (and no crash) sees half a
    // report. When it cannot be written (a full disk), an older run's
    // report must not pass for this run's either.
    let tmp = out_dir.join(format!(".{REPORT_FILE}.{}", std::process::id()));
    std::fs::write(&tmp, json)
        .and_then(|()| std::fs::rename(&tmp, &report_path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            let _ = std::fs::remove_file(&report_path);
            setup("cannot write report", &report_path, e)
        })?;
    Ok(report)
}

/// The files of an element's frames, in order: its slice (over and over for a
/// loop) and its held last frame, or the error of the work that failed, as
/// this element reports it.
fn element_frames(
    a: &Assignment,
    works: &BTreeMap<String, Result<WorkFrames, ExtractError>>,
    units: &BTreeMap<&str, &ExtractionUnit>,
    format: ImageFormat,
) -> Result<Vec<PathBuf>, ExtractError> {
    let frames_of = |key: &str, unit: Option<&str>| match works.get(key) {
        Some(Ok(frames)) => Ok(frames),
        Some(Err(err)) => {
            let leader = unit.and_then(|u| units.get(u)).map(|u| u.leader.as_str());
            Err(match leader {
                Some(leader) if leader != a.element_id => err.shared(leader),
                _ => err.clone(),
            })
        }
        None => Err(ExtractError::Cancelled),
    };
    let main = frames_of(&a.cache_key, a.unit.as_deref())?;
    let held = match &a.held {
        Some(held) => match &held.cache_key {
            Some(key) => Some(frames_of(key, held.unit.as_deref())?),
            None => None,
        },
        None => None,
    };
    (0..a.frame_count())
        .map(|j| match a.frame_source(j) {
            FrameSource::Grid(k) => Ok(main.dir.join(frame_name(main.offset + k + 1, format))),
            FrameSource::LastFrame => held
                .map(|h| h.dir.join(frame_name(h.offset + 1, format)))
                .ok_or_else(|| ExtractError::BadOutput {
                    detail: format!("the plan names no last frame for {}", a.element_id),
                }),
        })
        .collect()
}

async fn run_units(
    plan: &Plan,
    prepared: &Prepared,
    cache: Option<&Cache>,
    scratch_root: &Path,
    options: &RunOptions,
    bar: &ProgressBar,
) -> (Vec<Result<UnitDone, ExtractError>>, u64, u64) {
    let limit = Arc::new(tokio::sync::Semaphore::new(options.jobs.max(1)));
    let runs = Arc::new(AtomicU64::new(0));
    let retries = Arc::new(AtomicU64::new(0));
    let mut tasks = JoinSet::new();
    for (index, unit) in plan.units.iter().enumerate() {
        let ready = prepared.sources[&unit.src]
            .clone()
            .expect("planned units have usable sources");
        let (unit, cache, limit, runs, retries) = (
            unit.clone(),
            cache.cloned(),
            limit.clone(),
            runs.clone(),
            retries.clone(),
        );
        let (options, bar, scratch_root) =
            (options.clone(), bar.clone(), scratch_root.to_path_buf());
        tasks.spawn(async move {
            let parts = unit_segments(&unit, &options).len() as u32;
            let _permit = limit.acquire_many_owned(parts).await;
            let result = if options.cancel.is_cancelled() {
                Err(ExtractError::Cancelled)
            } else {
                run_unit(
                    &unit,
                    &ready,
                    cache.as_ref(),
                    &scratch_root,
                    &options,
                    &bar,
                    &Counters {
                        runs: &runs,
                        retries: &retries,
                    },
                )
                .await
            };
            (index, result)
        });
    }
    let mut outcomes: Vec<Option<Result<UnitDone, ExtractError>>> =
        (0..plan.units.len()).map(|_| None).collect();
    while let Some(done) = tasks.join_next().await {
        let (index, result) = done.expect("unit tasks do not panic");
        outcomes[index] = Some(result);
    }
    let outcomes = outcomes
        .into_iter()
        .map(|o| o.expect("every unit ran"))
        .collect();
    (
        outcomes,
        runs.load(Ordering::Relaxed),
        retries.load(Ordering::Relaxed),
    )
}

/// What a run counts across units.
struct Counters<'a> {
    /// ffmpeg processes spawned.
    runs: &'a AtomicU64,
    /// Units retried after a transient failure.
    retries: &'a AtomicU64,
}

/// Extracts a unit, retrying it once (in a fresh work directory: the failed
/// attempt's partial output is removed first) after a transient failure,
/// then publishes its members.
async fn run_unit(
    unit: &ExtractionUnit,
    ready: &ReadySource,
    cache: Option<&Cache>,
    scratch_root: &Path,
    options: &RunOptions,
    bar: &ProgressBar,
    counters: &Counters<'_>,
) -> Result<UnitDone, ExtractError> {
    let ffmpeg = options.tools.ffmpeg.clone()?;
    let label = format!("unit-{}", &unit.members[0].cache_key[..16]);
    let mut attempt = 1;
    let (work, records) = loop {
        let work = match cache {
            Some(cache) => cache.partial(&label),
            None => partial_in(scratch_root, &label),
        }
        .map_err(|e| ExtractError::io("creating a work directory in", scratch_root, &e))?;
        let progress = AttemptProgress::new(bar);
        match extract_unit(
            unit,
            ready,
            &ffmpeg,
            work.dir(),
            options,
            &progress,
            counters.runs,
        )
        .await
        {
            Ok(records) => break (work, records),
            Err(err) if err.is_transient() && attempt == 1 && !options.cancel.is_cancelled() => {
                tracing::warn!(unit = %unit.id, error = %err, "extraction failed transiently; retrying once");
                progress.take_back();
                drop(work);
                counters.retries.fetch_add(1, Ordering::Relaxed);
                attempt += 1;
            }
            Err(err) => return Err(err),
        }
    };
    if options.cancel.is_cancelled() {
        return Err(ExtractError::Cancelled);
    }
    let frames = records.len() as u64;
    let bytes = records.iter().map(|(_, r)| r.size).sum();
    let t = Instant::now();
    let Some(cache) = cache else {
        let works = unit
            .members
            .iter()
            .map(|m| {
                let frames = WorkFrames {
                    dir: work.dir().to_path_buf(),
                    offset: m.slice.offset,
                };
                (m.cache_key.clone(), frames)
            })
            .collect();
        return Ok(UnitDone {
            works,
            frames,
            bytes,
            publish: Duration::ZERO,
            _scratch: Some(work),
        });
    };
    let records: Vec<FrameRecord> = records.into_iter().map(|(_, r)| r).collect();
    let start_us = unit_start_us(unit, ready);
    let mut works = BTreeMap::new();
    let mut whole = Some(work);
    for member in &unit.members {
        let slice = member.slice;
        let manifest = Manifest {
            schema: CACHE_SCHEMA_VERSION,
            recipe: RECIPE_VERSION,
            key: member.cache_key.clone(),
            format: unit.format,
            source: unit.source.clone(),
            fps: unit.fps.to_string(),
            start_us: unit.fps.frame_time_us(start_us, slice.offset),
            frames: records[slice.offset as usize..(slice.offset + slice.count) as usize].to_vec(),
            total_bytes: 0,
        };
        let manifest = Manifest {
            total_bytes: manifest.frames.iter().map(|f| f.size).sum(),
            ..manifest
        };
        let covers_unit =
            unit.members.len() == 1 && slice.offset == 0 && slice.count == unit.frame_count;
        let entry = if covers_unit {
            whole
                .take()
                .expect("a lone member takes the unit's directory")
        } else {
            let source_dir = whole
                .as_ref()
                .expect("unit directory kept for slicing")
                .dir()
                .to_path_buf();
            let entry = cache
                .partial("entry")
                .map_err(|e| ExtractError::io("creating a partial entry in", cache.root(), &e))?;
            for n in 1..=slice.count {
                let from = source_dir.join(frame_name(slice.offset + n, unit.format));
                let to = entry.dir().join(frame_name(n, unit.format));
                link_or_copy(&from, &to).map_err(|e| ExtractError::io("linking", &to, &e))?;
            }
            entry
        };
        cache
            .publish(entry, &manifest)
            .map_err(|e| ExtractError::io("publishing", cache.entry_dir(&member.cache_key), &e))?;
        works.insert(
            member.cache_key.clone(),
            WorkFrames {
                dir: cache.entry_dir(&member.cache_key),
                offset: 0,
            },
        );
    }
    Ok(UnitDone {
        works,
        frames,
        bytes,
        publish: t.elapsed(),
        _scratch: None,
    })
}

/// One attempt at a unit: its ffmpeg runs into `dir`, then the frames
/// checked (and distinct frames linked into place).
async fn extract_unit(
    unit: &ExtractionUnit,
    ready: &ReadySource,
    ffmpeg: &Path,
    dir: &Path,
    options: &RunOptions,
    progress: &AttemptProgress,
    runs: &AtomicU64,
) -> Result<Vec<(PathBuf, FrameRecord)>, ExtractError> {
    let start_us = unit_start_us(unit, ready);
    let spec = ExtractSpec {
        src: &ready.resolved.path,
        probe: &ready.probe,
        start_us,
        fps: unit.fps,
        frame_count: unit.frame_count,
        format: unit.format,
        alpha: unit.alpha,
        transfer: unit.transfer,
        first_number: 1,
    };
    let distinct = if unit.last_frame {
        DistinctFrames::last_frame(&ready.probe)
    } else if options.reuse_frames {
        DistinctFrames::plan(&spec)
    } else {
        None
    };
    let limits = RunLimits {
        timeout: options.timeout,
        cancel: options.cancel.clone(),
    };
    let parts = if distinct.is_some() {
        vec![(0, unit.frame_count)]
    } else {
        unit_segments(unit, options)
    };
    // Syncs finished frames while ffmpeg writes the others; stopped (and
    // joined) when dropped, before the frames are checked.
    let write_behind = WriteBehind::start(
        dir.to_path_buf(),
        if distinct.is_some() {
            DISTINCT_PREFIX
        } else {
            "frame_"
        },
        unit.format.extension(),
    );
    let mut running = JoinSet::new();
    for (offset, count) in parts {
        let segment = ExtractSpec {
            start_us: unit.fps.frame_time_us(start_us, offset),
            frame_count: count,
            first_number: offset + 1,
            ..spec.clone()
        };
        let args = ffmpeg_args(&segment, distinct.as_ref(), dir);
        let (ffmpeg, limits, progress) = (ffmpeg.to_path_buf(), limits.clone(), progress.clone());
        runs.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(unit = %unit.id, ?args, "running ffmpeg");
        running.spawn(async move {
            let seen = AtomicU64::new(0);
            let on_frames = |n: u64| {
                progress.add(n.saturating_sub(seen.swap(n, Ordering::Relaxed)));
            };
            run_ffmpeg(&ffmpeg, &args, &limits, &on_frames).await
        });
    }
    // The first failure wins; dropping the set kills the other segments.
    let mut stderr = Vec::new();
    while let Some(done) = running.join_next().await {
        stderr.push(done.map_err(|_| ExtractError::Cancelled)??);
    }
    drop(write_behind);
    let stderr = stderr.join(" | ");
    let dir = dir.to_path_buf();
    let (expected, format) = (unit.frame_count, unit.format);
    tokio::task::spawn_blocking(move || {
        if let Some(distinct) = &distinct {
            place_distinct(&dir, distinct, format)?;
        }
        check_frames(&dir, expected, format, &stderr)
    })
    .await
    .map_err(|_| ExtractError::Cancelled)?
}

/// Where an extraction attempt reports its frames: the run's progress bar,
/// and a count of what this attempt added there, taken back if it is retried.
#[derive(Clone)]
struct AttemptProgress {
    bar: ProgressBar,
    shown: Arc<AtomicU64>,
}

impl AttemptProgress {
    fn new(bar: &ProgressBar) -> Self {
        Self {
            bar: bar.clone(),
            shown: Arc::default(),
        }
    }

    fn add(&self, frames: u64) {
        self.bar.inc(frames);
        self.shown.fetch_add(frames, Ordering::Relaxed);
    }

    fn take_back(&self) {
        let shown = self.shown.swap(0, Ordering::Relaxed);
        self.bar
            .set_position(self.bar.position().saturating_sub(shown));
    }
}

/// Where a unit's first frame lies in its source. A last-frame unit starts on
/// the source's last frame, which only the probe knows; the recipe is the
/// same, so its bytes equal that frame's in any extraction that shows it.
fn unit_start_us(unit: &ExtractionUnit, ready: &ReadySource) -> i64 {
    if unit.last_frame {
        ready.probe.last_frame_us()
    } else {
        unit.start_us
    }
}

/// The segments a unit is extracted in: one unless `--segments` asks for
/// more and the unit is long enough.
fn unit_segments(unit: &ExtractionUnit, options: &RunOptions) -> Vec<(u64, u64)> {
    if unit.last_frame {
        return vec![(0, unit.frame_count)];
    }
    let parts = options.segments.clamp(1, options.jobs.max(1)) as u64;
    crate::extract::segments(unit.fps, unit.frame_count, parts)
}

/// The report's role text.
pub fn role_text(role: &Role) -> String {
    match role {
        Role::Leader => "leader".into(),
        Role::Duplicate { leader } => format!("duplicate of {leader}"),
        Role::SupersetMember { unit, .. } => format!("superset member of {unit}"),
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
            "{spinner} extracting {bar:40} {pos}/{len} frames  {per_sec}  eta {eta}",
        )
        .expect("valid template"),
    );
    bar
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}
