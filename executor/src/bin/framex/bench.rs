//! `framex bench`: each scenario run naive, as one hand-written ffmpeg
//! command, and through framex cold and warm, back to back in one process;
//! medians and ratios side by side, with outputs checked for equality.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use framex_core::{
    plan, validate_fields, Composition, ElementFrames, ImageFormat, PlanOptions, Request,
};
use serde::Serialize;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::cache::hash_file;
use crate::extract::{ffmpeg_args, run_ffmpeg, ExtractSpec, RunLimits};
use crate::prepare::{prepare, read_composition, SourceOptions};
use crate::run::{run, RunOptions, DEFAULT_MAX_CACHE_BYTES};
use crate::tools::Tools;

/// How big a bench to run.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// Working directory (media, caches, outputs).
    pub dir: PathBuf,
    /// 320×240 × 4 s media instead of 1080p × 20 s.
    pub quick: bool,
    /// Repetitions per measurement (median reported).
    pub repeat: usize,
    /// Only these scenarios (all when empty).
    pub only: Vec<String>,
    /// ffmpeg processes at once, for naive and framex alike.
    pub jobs: usize,
    /// The wasm package for node (`scripts/build-wasm.sh` writes it).
    pub wasm_pkg: PathBuf,
}

/// Where `scripts/build-wasm.sh` puts the node package of this checkout.
pub fn default_wasm_pkg() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../wasm/pkg/node")
}

/// One scenario's medians, milliseconds, and whether outputs matched.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioResult {
    /// Scenario name.
    pub name: String,
    /// Elements in it.
    pub elements: usize,
    /// One ffmpeg run per element, no sharing.
    pub naive_ms: u64,
    /// The best hand-written ffmpeg command(s) for the union of the work.
    pub ffmpeg_ms: u64,
    /// framex with an empty cache.
    pub cold_ms: u64,
    /// framex again, cache warm.
    pub warm_ms: u64,
    /// framex cold with each unit split into `jobs` parallel segments
    /// (measured for `single` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split_ms: Option<u64>,
    /// ffmpeg processes framex spawned cold.
    pub framex_ffmpeg_runs: u64,
    /// Frames framex extracted cold.
    pub frames_extracted: u64,
    /// Frames the elements asked for.
    pub frames_requested: u64,
    /// Naive and framex outputs have the same frame counts and bytes.
    pub outputs_match: bool,
}

/// Planning a request given as JSON text, natively and in wasm (node).
#[derive(Clone, Copy, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanJsonTimes {
    /// `framex_core` natively: parse, plan, serialize.
    pub native_us: u64,
    /// `planJson` of the node package.
    pub wasm_us: u64,
}

/// Everything `framex bench` measured.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BenchReport {
    /// Media description.
    pub media: String,
    /// Per scenario.
    pub scenarios: Vec<ScenarioResult>,
    /// Planning time (median, microseconds) by element count.
    pub plan_us: BTreeMap<u64, u64>,
    /// The same request as JSON text through `planJson` in node's
    /// WebAssembly, and natively (parse, plan, serialize), microseconds;
    /// empty when node or the wasm package is missing.
    pub plan_json_us: BTreeMap<u64, PlanJsonTimes>,
    /// Why the wasm timing was skipped, if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wasm_skipped: Option<String>,
    /// Peak RSS of the framex process (KiB) by frames of work.
    pub peak_rss_kib: BTreeMap<u64, u64>,
}

struct Scenario {
    name: &'static str,
    /// (id, src, start s, duration s, fps, format)
    elements: Vec<(
        String,
        &'static str,
        f64,
        f64,
        serde_json::Value,
        &'static str,
    )>,
}

fn scenarios(d: f64) -> Vec<Scenario> {
    let e =
        |id: &str, src: &'static str, s: f64, dur: f64, fps: serde_json::Value, f: &'static str| {
            (id.to_string(), src, s, dur, fps, f)
        };
    let main = "main.mp4";
    vec![
        Scenario {
            name: "single",
            elements: vec![e("a", main, 0.0, d * 0.6, json!(30), "png")],
        },
        Scenario {
            name: "dup3",
            elements: (1..=3)
                .map(|i| e(&format!("a{i}"), main, 0.0, d * 0.6, json!(30), "png"))
                .collect(),
        },
        Scenario {
            name: "overlap",
            elements: vec![
                e("a", main, 0.0, d * 0.6, json!(30), "png"),
                e("b", main, d * 0.3, d * 0.6, json!(30), "png"),
            ],
        },
        Scenario {
            name: "mixed",
            elements: vec![
                e("bg1", main, 0.0, d * 0.25, json!(30), "png"),
                e("bg2", main, 0.0, d * 0.25, json!(30), "png"),
                e("bg3", main, 0.0, d * 0.25, json!(30), "png"),
                e("t1", main, d * 0.2, d * 0.2, json!(24), "png"),
                e("t2", main, d * 0.3, d * 0.2, json!(24), "png"),
                e("j1", main, d * 0.5, d * 0.2, json!(30), "jpeg"),
                e("j2", main, d * 0.5, d * 0.2, json!(30), "jpeg"),
                e("j3", main, d * 0.6, d * 0.2, json!(30), "jpeg"),
            ],
        },
        Scenario {
            name: "vfr",
            elements: vec![
                e("a", "vfr.mp4", 0.0, d * 0.5, json!(30), "png"),
                e("b", "vfr.mp4", d * 0.25, d * 0.5, json!(30), "png"),
            ],
        },
        Scenario {
            name: "upsample",
            elements: vec![e("a", main, 0.0, d * 0.3, json!(60), "png")],
        },
    ]
}

/// Runs the bench.
pub async fn bench(tools: &Tools, options: &BenchOptions) -> Result<BenchReport, String> {
    let ffmpeg = tools.ffmpeg.clone().map_err(|e| e.to_string())?;
    let (size, d) = if options.quick {
        ("320x240", 4.0)
    } else {
        ("1920x1080", 20.0)
    };
    let media = options.dir.join(format!("media-{size}-{d}"));
    std::fs::create_dir_all(&media).map_err(|e| e.to_string())?;
    make_media(&ffmpeg, &media, size, d)?;
    let mut report = BenchReport {
        media: format!("{size} H.264 at 30 fps, {d} s (and a VFR clip of the same size)"),
        ..BenchReport::default()
    };
    for scenario in scenarios(d) {
        if !options.only.is_empty() && !options.only.iter().any(|o| o == scenario.name) {
            continue;
        }
        eprintln!("bench: {} …", scenario.name);
        report
            .scenarios
            .push(run_scenario(tools, &ffmpeg, &media, &scenario, options).await?);
    }
    for n in [10_000u64, 100_000] {
        report
            .plan_us
            .insert(n, plan_time_us(n, options.repeat.max(1)));
    }
    match wasm_plan_times(&options.dir, &options.wasm_pkg, options.repeat.max(1)) {
        Ok(times) => report.plan_json_us = times,
        Err(why) => report.wasm_skipped = Some(why),
    }
    for frames in [30u64, 2000] {
        let kib = peak_rss_kib(&media, &options.dir, d, frames)?;
        report.peak_rss_kib.insert(frames, kib);
    }
    Ok(report)
}

/// Peak resident memory of a `framex extract` process (this same binary)
/// extracting `frames` JPEG frames of one element, from /proc's VmHWM.
fn peak_rss_kib(media: &Path, dir: &Path, d: f64, frames: u64) -> Result<u64, String> {
    let work = dir.join("runs").join(format!("rss-{frames}"));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let fps = format!("{frames}/{}", d as u64);
    let src = media.join("main.mp4").to_string_lossy().into_owned();
    let composition = json!({"elements": [
        {"id": "a", "src": src, "mediaStart": 0, "duration": d, "fps": fps, "format": "jpeg"}
    ]});
    let path = work.join("composition.json");
    std::fs::write(&path, composition.to_string()).map_err(|e| e.to_string())?;
    // /proc/self/exe runs this very binary even after a rebuild replaced the
    // file on disk (current_exe() would then name a deleted path).
    let self_exe = Path::new("/proc/self/exe");
    let exe = if self_exe.exists() {
        self_exe.to_path_buf()
    } else {
        std::env::current_exe().map_err(|e| e.to_string())?
    };
    let mut child = Command::new(exe)
        .args(["--quiet", "extract"])
        .arg(&path)
        .arg("--out")
        .arg(work.join("out"))
        .arg("--cache-dir")
        .arg(work.join("cache"))
        .stdout(std::process::Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status_file) {
            if let Some(kib) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak = peak.max(kib);
            }
        }
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            if !status.success() {
                return Err(format!(
                    "framex extract for the RSS measurement failed: {status}"
                ));
            }
            return Ok(peak);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn make_media(ffmpeg: &Path, dir: &Path, size: &str, d: f64) -> Result<(), String> {
    let clips: [(&str, Vec<String>); 2] = [
        ("main.mp4", vec![format!("testsrc2=size={size}:rate=30")]),
        ("vfr.mp4", vec![format!("testsrc2=size={size}:rate=30")]),
    ];
    for (name, input) in clips {
        let path = dir.join(name);
        if path.is_file() {
            continue;
        }
        let mut cmd = Command::new(ffmpeg);
        cmd.args(["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i"])
            .args(&input);
        cmd.args(["-t", &d.to_string()]);
        if name == "vfr.mp4" {
            cmd.args([
                "-vf",
                "select='not(between(mod(n,90),20,40))',setpts='PTS+if(gt(mod(N,7),3),0.01/TB,0)'",
            ]);
            cmd.args(["-fps_mode", "vfr"]);
        }
        let tmp = dir.join(format!("partial-{name}"));
        let out = cmd
            .args(["-pix_fmt", "yuv420p", "-c:v", "libx264", "-g", "60"])
            .arg(&tmp)
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!(
                "making {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        std::fs::rename(&tmp, &path).map_err(|e| e.to_string())?;
    }
    Ok(())
}

async fn run_scenario(
    tools: &Tools,
    ffmpeg: &Path,
    media: &Path,
    scenario: &Scenario,
    options: &BenchOptions,
) -> Result<ScenarioResult, String> {
    let work = options.dir.join("runs").join(scenario.name);
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let elements: Vec<serde_json::Value> = scenario
        .elements
        .iter()
        .map(|(id, src, s, dur, fps, f)| {
            let src = media.join(src).to_string_lossy().into_owned();
            json!({"id": id, "src": src, "mediaStart": s, "duration": dur, "fps": fps, "format": f})
        })
        .collect();
    let composition_path = work.join("composition.json");
    let composition = json!({ "elements": elements });
    std::fs::write(&composition_path, composition.to_string()).map_err(|e| e.to_string())?;

    let mut result = ScenarioResult {
        name: scenario.name.to_string(),
        elements: scenario.elements.len(),
        ..ScenarioResult::default()
    };
    let (mut naive, mut hand, mut cold, mut warm) = (vec![], vec![], vec![], vec![]);
    for _ in 0..options.repeat.max(1) {
        let out = work.join("naive");
        let _ = std::fs::remove_dir_all(&out);
        naive.push(naive_run(tools, ffmpeg, &composition_path, &out, options.jobs).await?);
        let out = work.join("ffmpeg");
        let _ = std::fs::remove_dir_all(&out);
        hand.push(handwritten_run(ffmpeg, &composition_path, &out).await?);
        let cache = work.join("cache");
        let _ = std::fs::remove_dir_all(&cache);
        let run_options = RunOptions {
            composition: composition_path.clone(),
            out_dir: work.join("framex"),
            cache_dir: Some(cache),
            jobs: options.jobs,
            timeout: Duration::from_secs(600),
            tools: tools.clone(),
            cancel: CancellationToken::new(),
            progress: false,
            plan: PlanOptions::default(),
            max_cache_bytes: DEFAULT_MAX_CACHE_BYTES * 8,
            segments: 1,
            reuse_frames: true,
            sources: SourceOptions::default(),
        };
        let t = Instant::now();
        let report = run(&run_options).await.map_err(|e| e.to_string())?;
        cold.push(t.elapsed());
        if !report.all_ok() {
            return Err(format!(
                "{}: framex cold run failed: {report:?}",
                scenario.name
            ));
        }
        result.framex_ffmpeg_runs = report.metrics.ffmpeg_runs;
        result.frames_extracted = report.metrics.frames_extracted;
        result.frames_requested = report.metrics.frames_requested;
        let t = Instant::now();
        let report = run(&run_options).await.map_err(|e| e.to_string())?;
        warm.push(t.elapsed());
        if report.metrics.ffmpeg_runs != 0 {
            return Err(format!("{}: the warm run ran ffmpeg", scenario.name));
        }
    }
    result.outputs_match = same_outputs(
        &work.join("naive"),
        &work.join("framex"),
        &scenario.elements,
    )?;
    if scenario.name == "single" && options.jobs > 1 {
        let mut split = vec![];
        for _ in 0..options.repeat.max(1) {
            let out = work.join("split");
            let _ = std::fs::remove_dir_all(&out);
            let run_options = RunOptions {
                composition: composition_path.clone(),
                out_dir: out.clone(),
                cache_dir: None,
                jobs: options.jobs,
                timeout: Duration::from_secs(600),
                tools: tools.clone(),
                cancel: CancellationToken::new(),
                progress: false,
                plan: PlanOptions::default(),
                max_cache_bytes: DEFAULT_MAX_CACHE_BYTES,
                segments: options.jobs,
                reuse_frames: true,
                sources: SourceOptions::default(),
            };
            let t = Instant::now();
            run(&run_options).await.map_err(|e| e.to_string())?;
            split.push(t.elapsed());
        }
        result.outputs_match &=
            same_outputs(&work.join("naive"), &work.join("split"), &scenario.elements)?;
        result.split_ms = Some(median_ms(split));
    }
    result.naive_ms = median_ms(naive);
    result.ffmpeg_ms = median_ms(hand);
    result.cold_ms = median_ms(cold);
    result.warm_ms = median_ms(warm);
    Ok(result)
}

/// One ffmpeg run per element with framex's recipe, `jobs` at a time.
async fn naive_run(
    tools: &Tools,
    ffmpeg: &Path,
    composition: &Path,
    out: &Path,
    jobs: usize,
) -> Result<Duration, String> {
    let t = Instant::now();
    let read = read_composition(composition).map_err(|e| e.to_string())?;
    let prepared = prepare(
        composition,
        read,
        tools,
        None,
        jobs,
        Duration::from_secs(60),
        &SourceOptions::default(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let elements = validate_fields(&prepared.composition).map_err(|e| e.to_string())?;
    let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for element in elements {
        let ready = prepared.sources[&element.src]
            .clone()
            .map_err(|e| e.to_string())?;
        let (ffmpeg, dir, limit) = (ffmpeg.to_path_buf(), out.join(&element.id), limit.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            let spec = ExtractSpec {
                src: &ready.resolved.path,
                probe: &ready.probe,
                start_us: element.start_us,
                fps: element.grid,
                // What a naive renderer extracts: the element's pass, alone.
                frame_count: ElementFrames::of(&element, Some(ready.probe.duration_us)).extract,
                format: element.format,
                alpha: ready.probe.alpha && element.format == ImageFormat::Png,
                transfer: element.transfer,
                first_number: 1,
            };
            let limits = RunLimits {
                timeout: Duration::from_secs(600),
                cancel: CancellationToken::new(),
            };
            run_ffmpeg(&ffmpeg, &ffmpeg_args(&spec, None, &dir), &limits, &|_| {})
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.map_err(|e| e.to_string())??;
    }
    Ok(t.elapsed())
}

/// The best hand-written command: per (source, fps, format), one pass over
/// the union of the elements' ranges, PNG at compression level 1.
async fn handwritten_run(
    ffmpeg: &Path,
    composition: &Path,
    out: &Path,
) -> Result<Duration, String> {
    let text = std::fs::read_to_string(composition).map_err(|e| e.to_string())?;
    let composition = Composition::from_json(&text).map_err(|e| e.to_string())?;
    let elements = validate_fields(&composition).map_err(|e| e.to_string())?;
    let mut unions: BTreeMap<(String, String, &str), (i64, i64)> = BTreeMap::new();
    for e in &elements {
        let key = (e.src.clone(), e.fps.to_string(), e.format.extension());
        let range = unions
            .entry(key)
            .or_insert((e.start_us, e.start_us + e.duration_us));
        range.0 = range.0.min(e.start_us);
        range.1 = range.1.max(e.start_us + e.duration_us);
    }
    let t = Instant::now();
    for (i, ((src, fps, ext), (start, end))) in unions.into_iter().enumerate() {
        let dir = out.join(format!("u{i}"));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let mut cmd = tokio::process::Command::new(ffmpeg);
        cmd.args([
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-ss",
            &framex_core::format_us(start),
        ]);
        cmd.args([
            "-t",
            &framex_core::format_us(end - start),
            "-i",
            &src,
            "-an",
        ]);
        cmd.args(["-fps_mode", "cfr", "-r", &fps]);
        if ext == "png" {
            cmd.args(["-compression_level", "1"]);
        } else {
            cmd.args(["-q:v", "2"]);
        }
        let status = cmd
            .arg(dir.join(format!("%06d.{ext}")))
            .status()
            .await
            .map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!("hand-written ffmpeg failed: {status}"));
        }
    }
    Ok(t.elapsed())
}

type ScenarioElement = (
    String,
    &'static str,
    f64,
    f64,
    serde_json::Value,
    &'static str,
);

fn same_outputs(naive: &Path, framex: &Path, elements: &[ScenarioElement]) -> Result<bool, String> {
    for (id, ..) in elements {
        let list = |dir: &Path| -> Result<Vec<String>, String> {
            let mut names: Vec<String> = std::fs::read_dir(dir)
                .map_err(|e| format!("{}: {e}", dir.display()))?
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            Ok(names)
        };
        let (a, b) = (list(&naive.join(id))?, list(&framex.join(id))?);
        if a != b || a.is_empty() {
            return Ok(false);
        }
        for name in &a {
            let hash = |dir: &Path| {
                hash_file(&dir.join(id).join(name))
                    .map(|h| h.0)
                    .map_err(|e| e.to_string())
            };
            if hash(naive)? != hash(framex)? {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// Median time to plan `n` elements over `n / 50` sources with realistic repeats.
pub fn plan_time_us(n: u64, repeat: usize) -> u64 {
    let request = plan_request(n);
    let mut times = Vec::new();
    for _ in 0..repeat {
        let t = Instant::now();
        let plan = plan(&request).expect("plans");
        times.push(t.elapsed());
        std::hint::black_box(plan);
    }
    median_ms_us(times)
}

/// The node script: plans the request file `repeat` times with `planJson`
/// and prints the median in microseconds.
const WASM_PLAN_SCRIPT: &str = r#"
const [pkg, file, repeat] = process.argv.slice(2);
const { planJson } = require(pkg);
const text = require("fs").readFileSync(file, "utf8");
planJson(text); // warm up: compile and grow memory once
const times = [];
for (let i = 0; i < Number(repeat); i++) {
  const t = process.hrtime.bigint();
  planJson(text);
  times.push(Number(process.hrtime.bigint() - t) / 1000);
}
times.sort((a, b) => a - b);
console.log(Math.round(times[Math.floor(times.length / 2)]));
"#;

/// `planJson` in node's wasm against the native parse + plan + serialize,
/// for the requests [`plan_time_us`] plans.
fn wasm_plan_times(
    dir: &Path,
    pkg: &Path,
    repeat: usize,
) -> Result<BTreeMap<u64, PlanJsonTimes>, String> {
    let module = pkg.join("framex_wasm.js");
    if !module.is_file() {
        return Err(format!(
            "no wasm package at {} (run scripts/build-wasm.sh)",
            pkg.display()
        ));
    }
    let node = which::which("node").map_err(|_| "node is not installed".to_string())?;
    let script = dir.join("plan-wasm.js");
    std::fs::write(&script, WASM_PLAN_SCRIPT).map_err(|e| e.to_string())?;
    let mut out = BTreeMap::new();
    for n in [10_000u64, 100_000] {
        let text = serde_json::to_string(&plan_request(n)).expect("a request serializes");
        let file = dir.join(format!("plan-request-{n}.json"));
        std::fs::write(&file, &text).map_err(|e| e.to_string())?;
        let mut times = Vec::new();
        for _ in 0..repeat {
            let t = Instant::now();
            let request = Request::from_json(&text).expect("parses");
            let plan = plan(&request).expect("plans");
            std::hint::black_box(serde_json::to_string(&plan).expect("serializes"));
            times.push(t.elapsed());
        }
        let output = Command::new(&node)
            .arg(&script)
            .arg(module.canonicalize().map_err(|e| e.to_string())?)
            .arg(&file)
            .arg(repeat.to_string())
            .output()
            .map_err(|e| format!("running node: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "node failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        let wasm_us = String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .map_err(|e| format!("node printed no time: {e}"))?;
        out.insert(
            n,
            PlanJsonTimes {
                native_us: median_ms_us(times),
                wasm_us,
            },
        );
    }
    Ok(out)
}

/// The request [`plan_time_us`] plans: `n` elements over `n / 50` sources.
fn plan_request(n: u64) -> Request {
    let sources = (n / 50).max(1);
    let elements: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let src = format!("clips/source-{}.mp4", i % sources);
            let start = ((i / sources) % 8) as f64 * 0.5;
            let fps = if i % 7 == 0 { json!("30000/1001") } else { json!(30) };
            json!({"id": format!("e{i}"), "src": src, "mediaStart": start, "duration": 2.0, "fps": fps, "format": "png"})
        })
        .collect();
    let composition: Composition =
        serde_json::from_value(json!({ "elements": elements })).expect("valid composition");
    Request {
        composition,
        ..Request::default()
    }
}

fn median_ms(mut times: Vec<Duration>) -> u64 {
    times.sort();
    times
        .get(times.len() / 2)
        .map_or(0, |d| d.as_millis() as u64)
}

fn median_ms_us(mut times: Vec<Duration>) -> u64 {
    times.sort();
    times
        .get(times.len() / 2)
        .map_or(0, |d| d.as_micros() as u64)
}

/// The table a person reads.
pub fn bench_table(report: &BenchReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "media: {}\n", report.media);
    let _ = writeln!(
        out,
        "{:<9} {:>9} {:>9} {:>9} {:>8} {:>10} {:>10} {:>10}  {:>5} {:>13}  same bytes",
        "scenario",
        "naive ms",
        "ffmpeg ms",
        "cold ms",
        "warm ms",
        "cold/naive",
        "cold/ffmpeg",
        "warm/cold",
        "runs",
        "frames ex/req"
    );
    let ratio = |a: u64, b: u64| {
        if b == 0 {
            "-".to_string()
        } else {
            format!("{:.3}", a as f64 / b as f64)
        }
    };
    for s in &report.scenarios {
        let _ = writeln!(
            out,
            "{:<9} {:>9} {:>9} {:>9} {:>8} {:>10} {:>10} {:>10}  {:>5} {:>13}  {}",
            s.name,
            s.naive_ms,
            s.ffmpeg_ms,
            s.cold_ms,
            s.warm_ms,
            ratio(s.cold_ms, s.naive_ms),
            ratio(s.cold_ms, s.ffmpeg_ms),
            ratio(s.warm_ms, s.cold_ms),
            s.framex_ffmpeg_runs,
            format!("{}/{}", s.frames_extracted, s.frames_requested),
            if s.outputs_match { "yes" } else { "NO" }
        );
    }
    let get = |name: &str| report.scenarios.iter().find(|s| s.name == name);
    let _ = writeln!(out, "\ntargets:");
    if let (Some(dup), Some(single)) = (get("dup3"), get("single")) {
        let _ = writeln!(
            out,
            "  dup3 cold / single cold       {} (target <= 1.05)",
            ratio(dup.cold_ms, single.cold_ms)
        );
    }
    if let Some(o) = get("overlap") {
        let _ = writeln!(
            out,
            "  overlap cold / union once     {} (target <= 1.05)",
            ratio(o.cold_ms, o.ffmpeg_ms)
        );
    }
    if let Some(s) = get("single") {
        let _ = writeln!(
            out,
            "  single cold / ffmpeg          {} (target <= 0.80)",
            ratio(s.cold_ms, s.ffmpeg_ms)
        );
        if let Some(split) = s.split_ms {
            let _ = writeln!(
                out,
                "  single split / ffmpeg         {} (unit split into --jobs parallel segments, no cache)",
                ratio(split, s.ffmpeg_ms)
            );
        }
    }
    if let Some(u) = get("upsample") {
        let _ = writeln!(
            out,
            "  upsample cold / ffmpeg -r 60  {} (target <= 0.60)",
            ratio(u.cold_ms, u.ffmpeg_ms)
        );
    }
    let worst = report
        .scenarios
        .iter()
        .map(|s| s.warm_ms as f64 / s.cold_ms.max(1) as f64)
        .fold(0.0, f64::max);
    let _ = writeln!(
        out,
        "  worst warm / cold             {worst:.3} (target <= 0.02)"
    );
    for (n, us) in &report.plan_us {
        let _ = writeln!(
            out,
            "  plan {n:>6} elements          {:.2} ms (target < 10 ms for 10 000)",
            *us as f64 / 1000.0
        );
    }
    for (n, t) in &report.plan_json_us {
        let _ = writeln!(
            out,
            "  planJson {n:>6}, wasm / native {} ({:.2} ms in node, {:.2} ms native; text in, text out)",
            ratio(t.wasm_us, t.native_us),
            t.wasm_us as f64 / 1000.0,
            t.native_us as f64 / 1000.0
        );
    }
    if let Some(why) = &report.wasm_skipped {
        let _ = writeln!(out, "  planJson in wasm: skipped, {why}");
    }
    for (frames, kib) in &report.peak_rss_kib {
        let _ = writeln!(
            out,
            "  peak RSS, {frames:>5} frames of work {:.1} MB (target <= 64 MB, flat)",
            *kib as f64 / 1024.0
        );
    }
    out
}
