//! `framex bench`: every scenario as the hand-written ffmpeg command(s) for
//! the same frames and through framex cold (empty store) and warm, repeated
//! side by side in one run; min, median and max of every figure, ratios;
//! every frame of both sides compared with the frame the rule names.
//! Then planning speed (natively, and in wasm when built) and framex's
//! peak memory by frames of work.

mod baseline;
mod check;
mod hour;
mod images;
mod measure;
mod media;
mod planning;
mod reference;
mod rss;
mod rule;
mod runner;
mod scenario;
mod stats;
mod table;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use framex_executor::Tools;
use serde::Serialize;

use crate::args::BenchArgs;
use measure::{run_scenario, ScenarioResult};
use planning::PlanJsonTimes;
use rss::RssPoint;
use runner::Framex;
use scenario::{scenarios, Context, RealClip};
use stats::Figure;

/// What `--scenario` can name.
const NAMES: [&str; 11] = [
    "single", "dup3", "overlap", "mixed", "vfr", "upsample", "small", "real", "hour", "plan", "rss",
];

/// Everything one `framex bench` measured.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BenchReport {
    /// The command line that made it.
    pub command: String,
    /// The media, for people.
    pub media: String,
    /// CPU cores.
    pub cores: usize,
    /// The 1-minute load average before and after: other work on the
    /// machine makes every figure noisier.
    pub load_before: f64,
    /// After.
    pub load_after: f64,
    /// Repetitions of each measurement.
    pub repeat: usize,
    /// Hand-written ffmpeg commands at once.
    pub jobs: usize,
    /// Per scenario.
    pub scenarios: Vec<ScenarioResult>,
    /// Ratios of a scenario to the composition measured alongside it:
    /// `dup3 ÷ single`, `overlap ÷ union` (cold).
    pub ratios: BTreeMap<String, stats::Ratio>,
    /// Scenarios or sections left out, and why.
    pub skipped: Vec<String>,
    /// Planning time by element count, µs.
    pub plan_us: BTreeMap<u64, Figure>,
    /// `planJson` in node's WebAssembly against native, by element count.
    pub plan_json_us: BTreeMap<u64, PlanJsonTimes>,
    /// Why the wasm timing was skipped, if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wasm_skipped: Option<String>,
    /// framex's peak RSS by frames of work.
    pub peak_rss: Vec<RssPoint>,
    /// Why the peak-RSS section was skipped, if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rss_skipped: Option<String>,
    /// Every frame framex made is the rule's.
    pub framex_frames_ok: bool,
}

/// Where `scripts/build-wasm.sh` puts the node package of this checkout.
fn default_wasm_pkg() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../wasm/pkg/node")
}

/// The 1-minute load average.
fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// Runs `framex bench` (blocking; planning runs on the current tokio
/// runtime). Exit 1 when any frame framex made is not the rule's.
pub fn bench(args: &BenchArgs, tools: &Tools) -> Result<ExitCode, String> {
    let ffmpeg = tools.ffmpeg.clone().map_err(|e| e.to_string())?;
    let ffprobe = tools.ffprobe.clone().map_err(|e| e.to_string())?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("framex-bench"));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let dir = dir.canonicalize().map_err(|e| e.to_string())?;
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    if let Some(unknown) = args.scenarios.iter().find(|s| !NAMES.contains(&s.as_str())) {
        return Err(format!(
            "no scenario or section {unknown:?} (there are {})",
            NAMES.join(", ")
        ));
    }
    let wanted = |name: &str| args.scenarios.is_empty() || args.scenarios.iter().any(|s| s == name);
    let mut report = BenchReport {
        command: std::iter::once("framex".to_string())
            .chain(std::env::args().skip(1))
            .collect::<Vec<_>>()
            .join(" "),
        cores,
        load_before: load_average(),
        repeat: args.repeat.max(1),
        jobs: args.jobs.unwrap_or(cores).max(1),
        framex_frames_ok: true,
        ..BenchReport::default()
    };
    let media = media::prepare_media(&ffmpeg, &dir, args.quick)?;
    report.media = format!(
        "testsrc2 {} H.264 30 fps, {} s (and a VFR clip of it); a 320x240 4 s clip",
        media.size, media.seconds
    );
    let real = if wanted("real") {
        match media::real_footage(args.real_footage.as_deref())
            .and_then(|path| describe_real(&ffprobe, &path))
        {
            Ok(real) => {
                report
                    .media
                    .push_str(&format!("; real footage: {}", real.about));
                Some(real)
            }
            Err(why) => {
                eprintln!("bench: skipping the real-footage scenario: {why}");
                report.skipped.push(format!("real: {why}"));
                None
            }
        }
    } else {
        None
    };
    let ctx = Context {
        ffmpeg: ffmpeg.clone(),
        framex: Framex::new(ffmpeg.clone(), ffprobe)?,
        tools: tools.clone(),
        dir: dir.clone(),
        repeat: report.repeat,
        jobs: report.jobs,
    };
    let hour = if wanted(hour::NAME) {
        Some(hour::scenario(&hour::hour_clip(&ffmpeg, &dir)?))
    } else {
        None
    };
    for scenario in scenarios(&media, real.as_ref()).into_iter().chain(hour) {
        if !wanted(scenario.name) {
            continue;
        }
        eprintln!("bench: {} …", scenario.name);
        let result = run_scenario(&ctx, &scenario)?;
        if !result.framex_check.ok() {
            eprintln!(
                "bench: {}: framex's frames are not the rule's: {}",
                scenario.name,
                result.framex_check.text()
            );
            report.framex_frames_ok = false;
        }
        report.scenarios.push(result);
    }
    for s in &report.scenarios {
        if let (Some(name), Some(r)) = (&s.alongside, &s.cold_over_alongside) {
            let what = format!("{} ÷ {name} (cold)", s.name);
            report.ratios.insert(what, r.clone());
        }
    }
    if wanted("plan") {
        eprintln!("bench: planning …");
        for n in planning::SIZES {
            report
                .plan_us
                .insert(n, planning::plan_time_us(n, report.repeat));
        }
        let pkg = args.wasm_pkg.clone().unwrap_or_else(default_wasm_pkg);
        match planning::wasm_plan_times(&dir.join("plan"), &pkg, report.repeat) {
            Ok(times) => report.plan_json_us = times,
            Err(why) => report.wasm_skipped = Some(why),
        }
    }
    if wanted("rss") {
        let clip = media::rss_clip(&ffmpeg, &dir)?;
        report.peak_rss = rss::peak_rss(&ctx.framex, &clip, &dir, report.repeat)?;
    }
    report.load_after = load_average();
    let json = serde_json::to_string_pretty(&report).expect("the report serializes");
    // Kept beside the media, whatever was printed.
    let saved = dir.join("bench-report.json");
    std::fs::write(&saved, &json).map_err(|e| format!("{}: {e}", saved.display()))?;
    if args.json {
        println!("{json}");
    } else {
        print!("{}", table::bench_table(&report));
        println!("\n(as JSON: {})", saved.display());
    }
    Ok(if report.framex_frames_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The real clip's length (whole seconds, at most 20) and rate, from ffprobe.
fn describe_real(ffprobe: &Path, path: &Path) -> Result<RealClip, String> {
    let out = Command::new(ffprobe)
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .args([
            "stream=codec_name,width,height,avg_frame_rate:format=duration",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .map_err(|e| format!("running ffprobe: {e}"))?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("ffprobe said nothing usable about {}: {e}", path.display()))?;
    let stream = &v["streams"][0];
    let rate = stream["avg_frame_rate"].as_str().unwrap_or("");
    let fps = rate
        .split_once('/')
        .and_then(|(n, d)| Some(n.parse::<f64>().ok()? / d.parse::<f64>().ok()?))
        .filter(|f| f.is_finite() && *f > 0.0)
        .ok_or_else(|| format!("{}: no frame rate", path.display()))?;
    let duration: f64 = v["format"]["duration"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| format!("{}: no duration", path.display()))?;
    let seconds = duration.floor().min(20.0);
    if seconds < 1.0 {
        return Err(format!("{} is shorter than a second", path.display()));
    }
    Ok(RealClip {
        path: path.to_path_buf(),
        seconds,
        fps: fps.round() as u32,
        about: format!(
            "{} ({} {}x{}, {rate} fps, {duration} s)",
            path.file_name().unwrap_or_default().to_string_lossy(),
            stream["codec_name"].as_str().unwrap_or("?"),
            stream["width"],
            stream["height"],
        ),
    })
}
