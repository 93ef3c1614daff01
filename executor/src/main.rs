//! The `framex` command line.

// Planning allocates many small strings; mimalloc makes that markedly faster.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use framex_core::{PlanOptions, Request};
use framex_executor::cache::Cache;
use framex_executor::demo::{demo_table, prepare_demo, DemoSize};
use framex_executor::download::DownloadOptions;
use framex_executor::prepare::{prepare, read_composition, InputError, SourceOptions};
use framex_executor::run::{run, RunError, RunOptions, DEFAULT_MAX_CACHE_BYTES, GC_GUARD_AGE};
use framex_executor::table::{plan_table, report_summary, terminal_safe};
use framex_executor::{default_cache_dir, preview, Report, Tools};
use tokio_util::sync::CancellationToken;

/// Exit code for invalid input or usage.
const EXIT_INVALID: u8 = 2;
/// Exit code after Ctrl-C.
const EXIT_CANCELLED: u8 = 130;

/// framex: plan and run video frame extraction, each frame extracted once.
#[derive(Parser, Debug)]
#[command(name = "framex", version, about, propagate_version = true)]
struct Cli {
    /// No progress bars or summaries; errors still go to stderr.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// The ffmpeg to run (default: `ffmpeg` on PATH).
    #[arg(long, global = true, env = "FRAMEX_FFMPEG", value_name = "PATH")]
    ffmpeg: Option<PathBuf>,
    /// The ffprobe to run (default: `ffprobe` on PATH).
    #[arg(long, global = true, env = "FRAMEX_FFPROBE", value_name = "PATH")]
    ffprobe: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Make sample clips and a composition full of repeats; run it cold and
    /// warm, and show what dedupe, superset grouping and the cache saved.
    Demo {
        /// Working directory (clips, cache, output). Default: a `framex-demo`
        /// directory in the system's temporary directory.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Small clips (320×240), for a quick run.
        #[arg(long)]
        small: bool,
        /// Print the two reports as JSON instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Probe the sources and print the plan.
    Plan {
        /// The composition (or, with --request, a planner request) JSON file.
        composition: PathBuf,
        /// Print the plan as JSON.
        #[arg(long)]
        json: bool,
        /// The file is a planner request (composition + source facts +
        /// cached keys), planned as is without touching any source.
        #[arg(long)]
        request: bool,
        #[command(flatten)]
        cache: CacheArgs,
        #[command(flatten)]
        planning: PlanningArgs,
        #[command(flatten)]
        sources: SourceArgs,
        /// Kill an ffprobe process after this many seconds.
        #[arg(long, default_value_t = 300, env = "FRAMEX_TIMEOUT")]
        timeout: u64,
    },
    /// Extract every element's frames into `DIR/<id>/`.
    Extract {
        /// The composition JSON file.
        composition: PathBuf,
        /// The output directory.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[command(flatten)]
        cache: CacheArgs,
        /// At most this many ffmpeg processes at once (default: CPU cores).
        #[arg(long, short)]
        jobs: Option<usize>,
        /// Print the report as JSON on stdout.
        #[arg(long)]
        json: bool,
        /// Kill an ffmpeg or ffprobe process after this many seconds.
        #[arg(long, default_value_t = 300, env = "FRAMEX_TIMEOUT")]
        timeout: u64,
        /// Split each extraction into up to N segments run in parallel (each
        /// counts against --jobs); the frames are identical either way.
        #[arg(long, default_value_t = 1)]
        segments: usize,
        /// Encode every output frame, even when it repeats a source frame
        /// (by default repeats are encoded once and hard-linked).
        #[arg(long)]
        no_frame_reuse: bool,
        /// Cache size cap in bytes, applied after a run that extracted something.
        #[arg(long, env = "FRAMEX_CACHE_MAX_SIZE", default_value_t = DEFAULT_MAX_CACHE_BYTES)]
        max_cache_size: u64,
        #[command(flatten)]
        planning: PlanningArgs,
        #[command(flatten)]
        sources: SourceArgs,
    },
    /// Inspect or maintain the cache.
    Cache {
        #[command(subcommand)]
        action: CacheAction,
        #[command(flatten)]
        cache: CacheDirArg,
    },
    /// Measure: each scenario naive, as one hand-written ffmpeg command, and
    /// through framex cold and warm; medians and ratios side by side.
    Bench {
        /// Small media (320×240, 4 s) for a quick run.
        #[arg(long)]
        quick: bool,
        /// Repetitions per measurement (the median is reported).
        #[arg(long, default_value_t = 3)]
        repeat: usize,
        /// Only these scenarios (single, dup3, overlap, mixed, vfr, upsample).
        #[arg(long = "scenario")]
        scenarios: Vec<String>,
        /// Working directory (default: framex-bench in the temporary directory).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// ffmpeg processes at once (default: CPU cores).
        #[arg(long, short)]
        jobs: Option<usize>,
        /// Print the results as JSON.
        #[arg(long)]
        json: bool,
        /// The wasm package for node, to time `planJson` in WebAssembly
        /// (default: wasm/pkg/node of this checkout, from scripts/build-wasm.sh).
        #[arg(long)]
        wasm_pkg: Option<PathBuf>,
    },
    /// Serve the browser preview page on 127.0.0.1.
    Preview {
        /// Port (0 picks a free one).
        #[arg(long, default_value_t = 8765)]
        port: u16,
        /// The page's directory (default: wasm/www of this checkout).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum CacheAction {
    /// Entries, frames, bytes, partials.
    Stats {
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check every entry against its manifest; exit 1 if any is bad.
    Verify {
        /// Only check sizes, not frame digests.
        #[arg(long)]
        fast: bool,
    },
    /// Evict least-recently-used entries down to a size cap.
    Gc {
        /// The cap in bytes.
        #[arg(long, env = "FRAMEX_CACHE_MAX_SIZE", default_value_t = DEFAULT_MAX_CACHE_BYTES)]
        max_size: u64,
        /// Never evict entries used within this many seconds.
        #[arg(long, default_value_t = GC_GUARD_AGE.as_secs())]
        min_age: u64,
        /// Wait at most this many seconds for running extractions to finish.
        #[arg(long, default_value_t = 10)]
        wait: u64,
    },
}

#[derive(Args, Debug)]
struct CacheDirArg {
    /// Cache root (default: $FRAMEX_CACHE_DIR, else ~/.cache/framex).
    #[arg(long, global = true, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct CacheArgs {
    /// Cache root (default: $FRAMEX_CACHE_DIR, else ~/.cache/framex).
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    cache_dir: Option<PathBuf>,
    /// Run without the cache.
    #[arg(long)]
    no_cache: bool,
}

impl CacheArgs {
    fn root(&self) -> Option<PathBuf> {
        (!self.no_cache).then(|| self.cache_dir.clone().unwrap_or_else(default_cache_dir))
    }
}

#[derive(Args, Debug)]
struct PlanningArgs {
    /// Do not merge overlapping trims into superset extractions.
    #[arg(long)]
    no_superset: bool,
    /// Also merge trims this many seconds apart (their gap is extracted too).
    #[arg(long, default_value_t = 0.0)]
    superset_gap: f64,
}

impl PlanningArgs {
    fn options(&self) -> PlanOptions {
        PlanOptions {
            superset: !self.no_superset,
            superset_gap_us: framex_core::seconds_to_us(self.superset_gap)
                .unwrap_or(0)
                .max(0),
        }
    }
}

#[derive(Args, Debug)]
struct SourceArgs {
    /// Key every source under DIR by its content (a blake3 digest of its
    /// bytes, read once per run and remembered in the cache) instead of its
    /// path and mtime, so copies made per render share cache entries.
    /// Repeatable. An element's `"identity": "file"` opts out.
    #[arg(long = "content-identity", value_name = "DIR")]
    content_identity: Vec<PathBuf>,
    /// Allow URL sources that resolve to private, loopback or link-local
    /// addresses (and plain http:// on loopback). For tests and trusted
    /// networks only.
    #[arg(long)]
    allow_private_urls: bool,
    /// Each request downloading a URL source must finish within this many
    /// seconds (a timed-out download is retried once).
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 300,
        env = "FRAMEX_DOWNLOAD_TIMEOUT"
    )]
    download_timeout: u64,
}

impl SourceArgs {
    fn options(&self) -> SourceOptions {
        SourceOptions {
            content_dirs: self.content_identity.clone(),
            download: DownloadOptions {
                allow_private: self.allow_private_urls,
                timeout: Duration::from_secs(self.download_timeout.max(1)),
            },
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("framex: {}", terminal_safe(&message));
            ExitCode::from(EXIT_INVALID)
        }
    }
}

async fn dispatch(cli: Cli) -> Result<ExitCode, String> {
    let tools = Tools::find(cli.ffmpeg.as_deref(), cli.ffprobe.as_deref());
    let progress = !cli.quiet && std::io::stderr().is_terminal();
    match cli.command {
        Command::Demo { dir, small, json } => {
            let dir = dir.unwrap_or_else(|| std::env::temp_dir().join("framex-demo"));
            let size = if small {
                DemoSize::Small
            } else {
                DemoSize::Full
            };
            demo(&tools, &dir, size, json, cli.quiet, progress).await
        }
        Command::Plan {
            composition,
            json,
            request,
            cache,
            planning,
            sources,
            timeout,
        } => {
            let plan = if request {
                let text = std::fs::read_to_string(&composition)
                    .map_err(|e| format!("cannot read {}: {e}", composition.display()))?;
                let request = Request::from_json(&text)
                    .map_err(|e| format!("{}: invalid request: {e}", composition.display()))?;
                framex_core::plan(&request)
                    .map_err(|e| format!("{}: {e}", composition.display()))?
            } else {
                let cache = match cache.root() {
                    Some(root) if root.exists() => Some(open_cache(&root)?),
                    _ => None,
                };
                let jobs = default_jobs();
                let read = read_composition(&composition).map_err(|e| e.to_string())?;
                let prepared = prepare(
                    &composition,
                    read,
                    &tools,
                    cache.as_ref(),
                    jobs,
                    Duration::from_secs(timeout.max(1)),
                    &sources.options(),
                )
                .await
                .map_err(|e| e.to_string())?;
                for (id, err) in prepared.element_errors() {
                    let (kind, err) = (err.kind(), terminal_safe(&err.to_string()));
                    eprintln!("framex: element {id:?}: {kind} ({err})");
                }
                prepared
                    .plan_with_cache(cache.as_ref(), &planning.options())
                    .map_err(|e| format!("{}: {e}", composition.display()))?
            };
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&plan).expect("plans serialize")
                );
            } else {
                print!("{}", plan_table(&plan));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Extract {
            composition,
            out,
            cache,
            jobs,
            json,
            timeout,
            max_cache_size,
            segments,
            no_frame_reuse,
            planning,
            sources,
        } => {
            let options = RunOptions {
                composition,
                out_dir: out,
                cache_dir: cache.root(),
                jobs: jobs.unwrap_or_else(default_jobs).max(1),
                timeout: Duration::from_secs(timeout.max(1)),
                tools,
                cancel: cancel_on_ctrl_c(),
                progress,
                plan: planning.options(),
                max_cache_bytes: max_cache_size,
                segments: segments.max(1),
                reuse_frames: !no_frame_reuse,
                sources: sources.options(),
            };
            let report = run_or_explain(&options).await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).expect("reports serialize")
                );
            } else if !cli.quiet {
                eprint!("{}", report_summary(&report));
            }
            Ok(exit_code(&report, &options.cancel))
        }
        Command::Cache { action, cache } => {
            let root = cache.cache_dir.unwrap_or_else(default_cache_dir);
            cache_command(&root, action)
        }
        Command::Bench {
            quick,
            repeat,
            scenarios,
            dir,
            jobs,
            json,
            wasm_pkg,
        } => {
            let options = framex_executor::bench::BenchOptions {
                wasm_pkg: wasm_pkg.unwrap_or_else(framex_executor::bench::default_wasm_pkg),
                dir: dir.unwrap_or_else(|| std::env::temp_dir().join("framex-bench")),
                quick,
                repeat,
                only: scenarios,
                jobs: jobs.unwrap_or_else(default_jobs).max(1),
            };
            let report = framex_executor::bench::bench(&tools, &options).await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).expect("bench serializes")
                );
            } else {
                print!("{}", framex_executor::bench::bench_table(&report));
            }
            let all_match = report.scenarios.iter().all(|s| s.outputs_match);
            Ok(if all_match {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Preview { port, dir } => {
            let www = dir.unwrap_or_else(preview::default_www_dir);
            tokio::task::spawn_blocking(move || preview::serve(&www, port))
                .await
                .map_err(|e| e.to_string())??;
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn run_or_explain(options: &RunOptions) -> Result<Report, String> {
    match run(options).await {
        Ok(report) => Ok(report),
        Err(RunError::Input(InputError::Invalid { path, error })) => {
            Err(format!("{}: {error}", path.display()))
        }
        Err(err) => Err(err.to_string()),
    }
}

fn exit_code(report: &Report, cancel: &CancellationToken) -> ExitCode {
    if cancel.is_cancelled() {
        eprintln!("framex: cancelled; running ffmpeg processes were killed and nothing half-done was published");
        ExitCode::from(EXIT_CANCELLED)
    } else if report.all_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn cancel_on_ctrl_c() -> CancellationToken {
    let token = CancellationToken::new();
    let child = token.clone();
    tokio::spawn(async move {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let terminated = async {
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = terminated => {}
        }
        child.cancel();
    });
    token
}

fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

fn open_cache(root: &Path) -> Result<Cache, String> {
    Cache::open(root).map_err(|e| format!("cannot open cache {}: {e}", root.display()))
}

fn cache_command(root: &Path, action: CacheAction) -> Result<ExitCode, String> {
    let cache = open_cache(root)?;
    let io = |e: std::io::Error| format!("cache {}: {e}", root.display());
    match action {
        CacheAction::Stats { json } => {
            let stats = cache.stats().map_err(io)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&stats).expect("stats serialize")
                );
            } else {
                println!(
                    "cache {}: {} entries ({} broken), {} frames, {:.1} MB, {} partials",
                    root.display(),
                    stats.entries,
                    stats.broken,
                    stats.frames,
                    stats.bytes as f64 / 1e6,
                    stats.partials
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        CacheAction::Verify { fast } => {
            let (entries, problems) = cache.verify(!fast).map_err(io)?;
            for p in &problems {
                println!("bad entry: {p}");
            }
            println!("{entries} entries checked, {} bad", problems.len());
            Ok(if problems.is_empty() {
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
            let report = cache
                .gc(
                    max_size,
                    Duration::from_secs(min_age),
                    &BTreeSet::new(),
                    Duration::from_secs(wait),
                )
                .map_err(io)?;
            match report {
                Some(r) => println!(
                    "evicted {} entries: {:.1} MB → {:.1} MB",
                    r.evicted,
                    r.bytes_before as f64 / 1e6,
                    r.bytes_after as f64 / 1e6
                ),
                None => println!("cache in use by running extractions; gc skipped"),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn demo(
    tools: &Tools,
    dir: &Path,
    size: DemoSize,
    json: bool,
    quiet: bool,
    progress: bool,
) -> Result<ExitCode, String> {
    let ffmpeg = tools.ffmpeg.clone().map_err(|e| e.to_string())?;
    tools.ffprobe.clone().map_err(|e| e.to_string())?;
    if !quiet {
        eprintln!(
            "framex demo: making sample clips in {}",
            dir.join("clips").display()
        );
    }
    let composition = prepare_demo(&ffmpeg, dir, size)?;
    let cache_dir = dir.join("cache");
    // A cold run must start from an empty cache.
    let _ = std::fs::remove_dir_all(&cache_dir);
    let options = RunOptions {
        composition: composition.clone(),
        out_dir: dir.join("out"),
        cache_dir: Some(cache_dir),
        jobs: default_jobs(),
        timeout: Duration::from_secs(300),
        tools: tools.clone(),
        cancel: cancel_on_ctrl_c(),
        progress,
        plan: PlanOptions::default(),
        max_cache_bytes: DEFAULT_MAX_CACHE_BYTES,
        segments: 1,
        reuse_frames: true,
        sources: SourceOptions::default(),
    };
    if !quiet {
        eprintln!("framex demo: cold run (empty cache)…");
    }
    let cold = run_or_explain(&options).await?;
    if !quiet {
        eprintln!("framex demo: warm run…");
    }
    let warm = run_or_explain(&options).await?;
    let naive_frames = cold.metrics.frames_requested;
    if json {
        let both = serde_json::json!({"cold": cold, "warm": warm});
        println!(
            "{}",
            serde_json::to_string_pretty(&both).expect("reports serialize")
        );
    } else {
        println!(
            "framex demo: {} ({} elements)\n",
            composition.display(),
            cold.metrics.elements
        );
        print!("{}", demo_table(&cold, &warm, naive_frames));
        println!(
            "\n  frames are in {}/<element id>/",
            dir.join("out").display()
        );
    }
    for report in [&cold, &warm] {
        if !report.all_ok() {
            eprint!("{}", report_summary(report));
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(exit_code(&warm, &options.cancel))
}
