//! The scenarios, and how one is measured: the hand-written ffmpeg commands
//! for the same frames, framex cold (empty store) and warm, repeated; then
//! every frame of both checked against the rule.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use framex_core::{format_us, seconds_to_us, ImageFormat, Plan};
use framex_executor::run::{plan_composition, PlanSettings};
use framex_executor::store::Store;
use framex_executor::Tools;
use serde::Serialize;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::check::{check_dir, reference, FrameCheck, Maker, Reference};
use super::media::Media;
use super::runner::{run_commands, FfmpegCommand, Framex, FramexRun};
use super::stats::{Figure, Ratio};

/// One element of a scenario.
#[derive(Clone, Debug)]
pub struct Spec {
    /// Its id.
    pub id: String,
    /// Its source.
    pub src: PathBuf,
    /// `mediaStart`, seconds.
    pub start: f64,
    /// `duration`, seconds.
    pub duration: f64,
    /// `fps` (whole frames per second).
    pub fps: u32,
    /// Image format.
    pub format: ImageFormat,
}

impl Spec {
    fn json(&self) -> serde_json::Value {
        json!({
            "id": self.id,
            "src": self.src.to_string_lossy(),
            "mediaStart": self.start,
            "duration": self.duration,
            "fps": self.fps,
            "format": self.format.as_str(),
        })
    }
}

/// A composition to measure.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Its name (`--scenario`).
    pub name: &'static str,
    /// What it is, for people.
    pub about: String,
    /// Its elements.
    pub elements: Vec<Spec>,
    /// One element spanning the union of the elements' ranges, measured
    /// with framex cold too (`overlap ÷ union`).
    pub union: Option<Spec>,
}

fn spec(id: &str, src: &Path, start: f64, duration: f64, fps: u32, format: ImageFormat) -> Spec {
    Spec {
        id: id.to_string(),
        src: src.to_path_buf(),
        start,
        duration,
        fps,
        format,
    }
}

/// The real footage a scenario can use: the file, its whole seconds (at
/// most 20) and its frame rate rounded.
#[derive(Clone, Debug)]
pub struct RealClip {
    /// The file.
    pub path: PathBuf,
    /// Seconds to use.
    pub seconds: f64,
    /// Its frame rate, whole frames per second.
    pub fps: u32,
    /// Its description, for people.
    pub about: String,
}

/// Every scenario on `media` (and `real`, when there is real footage).
pub fn scenarios(media: &Media, real: Option<&RealClip>) -> Vec<Scenario> {
    use ImageFormat::{Jpeg, Png};
    let d = media.seconds;
    let (main, vfr) = (media.main.as_path(), media.vfr.as_path());
    let on = |what: &str| format!("{what}, {} H.264 30 fps", media.size);
    let mut list = vec![
        Scenario {
            name: "single",
            about: on(&format!("one element, {} s at 30 fps, PNG", d * 0.6)),
            elements: vec![spec("a", main, 0.0, d * 0.6, 30, Png)],
            union: None,
        },
        Scenario {
            name: "dup3",
            about: on("the single element three times"),
            elements: (1..=3)
                .map(|i| spec(&format!("a{i}"), main, 0.0, d * 0.6, 30, Png))
                .collect(),
            union: None,
        },
        Scenario {
            name: "overlap",
            about: on(&format!("two {} s trims overlapping by half", d * 0.6)),
            elements: vec![
                spec("a", main, 0.0, d * 0.6, 30, Png),
                spec("b", main, d * 0.3, d * 0.6, 30, Png),
            ],
            union: Some(spec("union", main, 0.0, d * 0.9, 30, Png)),
        },
        Scenario {
            name: "mixed",
            about: on("8 elements: a repeated background, 24 fps trims, JPEG"),
            elements: vec![
                spec("bg1", main, 0.0, d * 0.25, 30, Png),
                spec("bg2", main, 0.0, d * 0.25, 30, Png),
                spec("bg3", main, 0.0, d * 0.25, 30, Png),
                spec("t1", main, d * 0.2, d * 0.2, 24, Png),
                spec("t2", main, d * 0.3, d * 0.2, 24, Png),
                spec("j1", main, d * 0.5, d * 0.2, 30, Jpeg),
                spec("j2", main, d * 0.5, d * 0.2, 30, Jpeg),
                spec("j3", main, d * 0.6, d * 0.2, 30, Jpeg),
            ],
            union: None,
        },
        Scenario {
            name: "vfr",
            about: format!(
                "two overlapping {} s trims of a VFR clip (0.7 s gaps, 10 ms jitter), {}",
                d * 0.5,
                media.size
            ),
            elements: vec![
                spec("a", vfr, 0.0, d * 0.5, 30, Png),
                spec("b", vfr, d * 0.25, d * 0.5, 30, Png),
            ],
            union: None,
        },
        Scenario {
            name: "upsample",
            about: on(&format!("one element, {} s at 60 fps", d * 0.3)),
            elements: vec![spec("a", main, 0.0, d * 0.3, 60, Png)],
            union: None,
        },
        Scenario {
            name: "small",
            about: "one element, 4 s at 30 fps, PNG, 320x240 H.264 30 fps".into(),
            elements: vec![spec("a", &media.small, 0.0, 4.0, 30, Png)],
            union: None,
        },
    ];
    if let Some(real) = real {
        list.push(Scenario {
            name: "real",
            about: format!(
                "real footage: {}; one element, {} s at {} fps, PNG",
                real.about, real.seconds, real.fps
            ),
            elements: vec![spec("a", &real.path, 0.0, real.seconds, real.fps, Png)],
            union: None,
        });
    }
    list
}

/// What a scenario measured.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioResult {
    /// Its name.
    pub name: String,
    /// What it is.
    pub about: String,
    /// Elements.
    pub elements: usize,
    /// Ticks over all elements.
    pub frames_requested: u64,
    /// Distinct source frames they show.
    pub distinct_frames: u64,
    /// Frames framex made cold.
    pub frames_made: u64,
    /// ffmpeg processes framex ran cold.
    pub framex_ffmpeg_runs: u64,
    /// The hand-written ffmpeg commands (run at most `jobs` at once).
    pub ffmpeg_commands: Vec<String>,
    /// Frames the hand-written commands encode.
    pub ffmpeg_frames: u64,
    /// The hand-written commands, wall time, ms.
    pub ffmpeg_ms: Figure,
    /// framex with an empty store, ms.
    pub cold_ms: Figure,
    /// framex again with the store it filled, ms.
    pub warm_ms: Figure,
    /// framex cold on one element spanning the union of the elements'
    /// ranges, ms (overlap only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub union_cold_ms: Option<Figure>,
    /// CPU time of the hand-written commands, ms.
    pub ffmpeg_cpu_ms: Figure,
    /// CPU time of framex cold, its ffmpeg decoders included, ms.
    pub cold_cpu_ms: Figure,
    /// CPU time of the framex process alone cold (encoders, store, …), ms.
    pub cold_own_cpu_ms: Figure,
    /// framex's peak RSS cold, MB (its ffmpeg children not counted).
    pub cold_rss_mb: Figure,
    /// framex's peak RSS warm, MB.
    pub warm_rss_mb: Figure,
    /// framex's phase times cold, ms (from its report).
    pub cold_phases_ms: BTreeMap<String, Figure>,
    /// framex's phase times warm, ms (from its report).
    pub warm_phases_ms: BTreeMap<String, Figure>,
    /// cold ÷ ffmpeg.
    pub cold_over_ffmpeg: Option<Ratio>,
    /// warm ÷ cold.
    pub warm_over_cold: Option<Ratio>,
    /// cold ÷ union cold (overlap only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cold_over_union: Option<Ratio>,
    /// framex's frames against the rule.
    pub framex_check: FrameCheck,
    /// The hand-written commands' frames against the rule.
    pub ffmpeg_check: FrameCheck,
}

/// What every scenario shares.
pub struct Context {
    /// ffmpeg.
    pub ffmpeg: PathBuf,
    /// framex as a child process.
    pub framex: Framex,
    /// ffmpeg and ffprobe, for planning in process.
    pub tools: Tools,
    /// The working directory.
    pub dir: PathBuf,
    /// Repetitions.
    pub repeat: usize,
    /// Hand-written commands at once.
    pub jobs: usize,
}

/// One hand-written command's work: the elements of one source, rate and
/// format, over the union of their ranges.
struct Unit {
    id: String,
    spec: Spec,
}

fn units(elements: &[Spec]) -> Vec<Unit> {
    let mut groups: BTreeMap<(PathBuf, u32, &str), (f64, f64)> = BTreeMap::new();
    let mut order = Vec::new();
    for e in elements {
        let key = (e.src.clone(), e.fps, e.format.as_str());
        let end = e.start + e.duration;
        groups
            .entry(key.clone())
            .and_modify(|r| *r = (r.0.min(e.start), r.1.max(end)))
            .or_insert_with(|| {
                order.push((key, e.format));
                (e.start, end)
            });
    }
    order
        .into_iter()
        .enumerate()
        .map(|(i, ((src, fps, _), format))| {
            let (start, end) = groups[&(src.clone(), fps, format.as_str())];
            let id = format!("u{}", i + 1);
            Unit {
                spec: spec(&id, &src, start, end - start, fps, format),
                id,
            }
        })
        .collect()
}

/// The hand-written command for a unit of `ticks` frames.
fn command(unit: &Spec, ticks: u64, dir: &Path) -> FfmpegCommand {
    let mut args: Vec<OsString> = ["-nostdin", "-v", "error", "-y"]
        .iter()
        .map(OsString::from)
        .collect();
    let mut text = vec!["ffmpeg".to_string()];
    let start = seconds_to_us(unit.start).unwrap_or(0);
    if start > 0 {
        let s = seconds_text(start);
        args.extend(["-ss".into(), s.clone().into()]);
        text.extend(["-ss".into(), s]);
    }
    args.extend(["-i".into(), unit.src.clone().into_os_string()]);
    let name = unit
        .src
        .file_name()
        .map_or_else(|| unit.src.to_string_lossy(), |n| n.to_string_lossy());
    text.extend(["-i".into(), name.into_owned()]);
    let ext = unit.format.extension();
    let mut rest: Vec<String> = vec![
        "-an".into(),
        "-vf".into(),
        format!("fps={}", unit.fps),
        "-frames:v".into(),
        ticks.to_string(),
    ];
    match unit.format {
        ImageFormat::Png => rest.extend(["-compression_level".into(), "1".into()]),
        ImageFormat::Jpeg => rest.extend(["-q:v".into(), "2".into()]),
    }
    args.extend(rest.iter().map(OsString::from));
    args.push(dir.join(format!("%06d.{ext}")).into_os_string());
    text.extend(rest);
    text.push(format!("{}/%06d.{ext}", unit.id));
    FfmpegCommand {
        args,
        dir: dir.to_path_buf(),
        text: text.join(" "),
    }
}

/// Microseconds as seconds, without trailing zeros: `4`, `4.5`.
fn seconds_text(us: i64) -> String {
    let text = format_us(us);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn write_composition(path: &Path, specs: &[&Spec]) -> Result<(), String> {
    let elements: Vec<serde_json::Value> = specs.iter().map(|s| s.json()).collect();
    std::fs::write(path, json!({ "elements": elements }).to_string())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// What the rule says, planned in process (framex_core, through the
/// executor's probe): per element id, its source and the frame each tick
/// shows; per source, its frame size and frame count.
struct Rule {
    shown: BTreeMap<String, (String, Vec<u64>)>,
    sources: BTreeMap<String, ((u32, u32), u64)>,
}

fn plan_rule(ctx: &Context, path: &Path) -> Result<Rule, String> {
    let composition =
        framex_executor::prepare::read_composition(path).map_err(|e| e.to_string())?;
    let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
    let store = Store::open(scratch.path()).map_err(|e| e.to_string())?;
    let settings = PlanSettings {
        tools: ctx.tools.clone(),
        jobs: 2,
        timeout: Duration::from_secs(300),
        cancel: CancellationToken::new(),
        plan: framex_core::PlanOptions::default(),
        sources: framex_executor::prepare::SourceOptions::default(),
    };
    let planned = tokio::runtime::Handle::current()
        .block_on(plan_composition(
            path,
            composition,
            &store,
            false,
            &settings,
        ))
        .map_err(|e| e.to_string())?;
    if let Some((id, err)) = planned.prepared.element_errors().into_iter().next() {
        return Err(format!("{id}: {err}"));
    }
    let plan: &Plan = &planned.plan;
    let mut rule = Rule {
        shown: BTreeMap::new(),
        sources: BTreeMap::new(),
    };
    for element in &plan.elements {
        let src = plan
            .source(&element.source)
            .map(|s| s.src.clone())
            .unwrap_or_default();
        rule.shown
            .insert(element.element_id.clone(), (src, element.shown().collect()));
    }
    for (src, ready) in &planned.prepared.sources {
        let ready = ready.as_ref().map_err(|e| e.to_string())?;
        let probe = &ready.probe;
        if probe.sar.is_some_and(|(n, d)| n != d) {
            return Err(format!(
                "{src}: non-square pixels; the reference decode does not scale them"
            ));
        }
        let frames = probe.timeline.len().unwrap_or(0);
        rule.sources
            .insert(src.clone(), ((probe.width, probe.height), frames));
    }
    Ok(rule)
}

/// Measures one scenario.
pub fn run_scenario(ctx: &Context, scenario: &Scenario) -> Result<ScenarioResult, String> {
    let work = ctx.dir.join("runs").join(scenario.name);
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let composition = work.join("composition.json");
    write_composition(&composition, &scenario.elements.iter().collect::<Vec<_>>())?;
    let union_composition = work.join("union.json");
    if let Some(union) = &scenario.union {
        write_composition(&union_composition, &[union])?;
    }
    // The rule's frames for every element and every hand-written unit.
    let units = units(&scenario.elements);
    let check_composition = work.join("rule.json");
    let all: Vec<&Spec> = scenario
        .elements
        .iter()
        .chain(units.iter().map(|u| &u.spec))
        .collect();
    write_composition(&check_composition, &all)?;
    let rule = plan_rule(ctx, &check_composition)?;
    let commands: Vec<FfmpegCommand> = units
        .iter()
        .map(|u| {
            let ticks = rule.shown[&u.id].1.len() as u64;
            command(&u.spec, ticks, &work.join("ffmpeg").join(&u.id))
        })
        .collect();

    let (out, cache) = (work.join("framex"), work.join("store"));
    let (union_out, union_cache) = (work.join("union-out"), work.join("union-store"));
    let mut times: [Vec<Duration>; 4] = Default::default();
    let mut rss: [Vec<f64>; 2] = Default::default();
    let mut cpu: [Vec<f64>; 3] = Default::default();
    let mut phases: [BTreeMap<String, Vec<f64>>; 2] = Default::default();
    let mut last_cold: Option<FramexRun> = None;
    for _ in 0..ctx.repeat.max(1) {
        let baseline = run_commands(&ctx.ffmpeg, &commands, ctx.jobs)?;
        times[0].push(baseline.wall);
        cpu[0].push(baseline.cpu_ms);
        let _ = std::fs::remove_dir_all(&out);
        let _ = std::fs::remove_dir_all(&cache);
        let cold = ctx.framex.extract(&composition, &out, &cache)?;
        let warm = ctx.framex.extract(&composition, &out, &cache)?;
        if !cold.report.all_ok() || !warm.report.all_ok() {
            return Err(format!("{}: an element failed", scenario.name));
        }
        if warm.report.metrics.ffmpeg_runs != 0 {
            return Err(format!(
                "{}: the warm run ran ffmpeg {} times",
                scenario.name, warm.report.metrics.ffmpeg_runs
            ));
        }
        times[1].push(cold.wall);
        times[2].push(warm.wall);
        rss[0].push(cold.peak_rss_kib as f64 / 1024.0);
        rss[1].push(warm.peak_rss_kib as f64 / 1024.0);
        cpu[1].push(cold.cpu_ms);
        cpu[2].push(cold.own_cpu_ms);
        for (run, phases) in [&cold, &warm].into_iter().zip(&mut phases) {
            let p = &run.report.metrics.phases;
            for (name, ms) in [
                ("probe", p.probe_ms),
                ("lookup", p.lookup_ms),
                ("plan", p.plan_ms),
                ("extract", p.extract_ms),
                ("fanout", p.fanout_ms),
                ("total", p.total_ms),
            ] {
                phases.entry(name.into()).or_default().push(ms as f64);
            }
        }
        last_cold = Some(cold);
        if scenario.union.is_some() {
            let _ = std::fs::remove_dir_all(&union_out);
            let _ = std::fs::remove_dir_all(&union_cache);
            times[3].push(
                ctx.framex
                    .extract(&union_composition, &union_out, &union_cache)?
                    .wall,
            );
        }
    }
    let cold = last_cold.expect("at least one repetition");
    let m = &cold.report.metrics;
    let mut result = ScenarioResult {
        name: scenario.name.into(),
        about: scenario.about.clone(),
        elements: scenario.elements.len(),
        frames_requested: m.frames_requested,
        distinct_frames: m.distinct_frames,
        frames_made: m.frames_extracted,
        framex_ffmpeg_runs: m.ffmpeg_runs,
        ffmpeg_commands: commands.iter().map(|c| c.text.clone()).collect(),
        ffmpeg_frames: units.iter().map(|u| rule.shown[&u.id].1.len() as u64).sum(),
        ffmpeg_ms: Figure::ms(&times[0]),
        cold_ms: Figure::ms(&times[1]),
        warm_ms: Figure::ms(&times[2]),
        union_cold_ms: scenario.union.as_ref().map(|_| Figure::ms(&times[3])),
        ffmpeg_cpu_ms: Figure::of(std::mem::take(&mut cpu[0])),
        cold_cpu_ms: Figure::of(std::mem::take(&mut cpu[1])),
        cold_own_cpu_ms: Figure::of(std::mem::take(&mut cpu[2])),
        cold_rss_mb: Figure::of(std::mem::take(&mut rss[0])),
        warm_rss_mb: Figure::of(std::mem::take(&mut rss[1])),
        cold_phases_ms: figures(std::mem::take(&mut phases[0])),
        warm_phases_ms: figures(std::mem::take(&mut phases[1])),
        ..ScenarioResult::default()
    };
    result.cold_over_ffmpeg = Ratio::of(&result.cold_ms, &result.ffmpeg_ms);
    result.warm_over_cold = Ratio::of(&result.warm_ms, &result.cold_ms);
    result.cold_over_union = result
        .union_cold_ms
        .as_ref()
        .and_then(|u| Ratio::of(&result.cold_ms, u));

    // Every frame of both sides against the rule.
    let references = references(ctx, &rule, scenario, &units)?;
    for e in &scenario.elements {
        let (src, shown) = &rule.shown[&e.id];
        result.framex_check.add(check_dir(
            &ctx.ffmpeg,
            &out.join(&e.id),
            Maker::Framex,
            e.format,
            shown,
            &references[src],
        )?);
    }
    for (unit, command) in units.iter().zip(&commands) {
        let (src, shown) = &rule.shown[&unit.id];
        result.ffmpeg_check.add(check_dir(
            &ctx.ffmpeg,
            &command.dir,
            Maker::Ffmpeg,
            unit.spec.format,
            shown,
            &references[src],
        )?);
    }
    Ok(result)
}

fn figures(samples: BTreeMap<String, Vec<f64>>) -> BTreeMap<String, Figure> {
    samples
        .into_iter()
        .map(|(k, v)| (k, Figure::of(v)))
        .collect()
}

/// The reference frames of every source the scenario uses.
fn references(
    ctx: &Context,
    rule: &Rule,
    scenario: &Scenario,
    units: &[Unit],
) -> Result<BTreeMap<String, Reference>, String> {
    let mut needed: BTreeMap<&str, BTreeSet<u64>> = BTreeMap::new();
    let mut jpeg: BTreeMap<&str, BTreeSet<u64>> = BTreeMap::new();
    let formats = scenario
        .elements
        .iter()
        .map(|e| (&e.id, e.format))
        .chain(units.iter().map(|u| (&u.id, u.spec.format)));
    for (id, format) in formats {
        let (src, shown) = &rule.shown[id];
        needed.entry(src).or_default().extend(shown);
        if format == ImageFormat::Jpeg {
            jpeg.entry(src).or_default().extend(shown);
        }
    }
    let mut out = BTreeMap::new();
    for (src, frames) in needed {
        let (size, count) = rule.sources[src];
        let empty = BTreeSet::new();
        let r = reference(
            &ctx.ffmpeg,
            Path::new(src),
            size,
            count,
            &frames,
            jpeg.get(src).unwrap_or(&empty),
        )?;
        out.insert(src.to_string(), r);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_cover_the_union_per_source_rate_and_format() {
        let m = Path::new("/m/main.mp4");
        let elements = vec![
            spec("a", m, 0.0, 12.0, 30, ImageFormat::Png),
            spec("b", m, 6.0, 12.0, 30, ImageFormat::Png),
            spec("t", m, 4.0, 4.0, 24, ImageFormat::Png),
            spec("j", m, 10.0, 4.0, 30, ImageFormat::Jpeg),
        ];
        let u = units(&elements);
        assert_eq!(u.len(), 3);
        assert_eq!((u[0].spec.start, u[0].spec.duration), (0.0, 18.0));
        assert_eq!(u[1].spec.fps, 24);
        assert_eq!(u[2].spec.format, ImageFormat::Jpeg);
        let c = command(&u[1].spec, 96, Path::new("/w/u2"));
        assert_eq!(
            c.text,
            "ffmpeg -ss 4 -i main.mp4 -an -vf fps=24 -frames:v 96 -compression_level 1 u2/%06d.png"
        );
        let c = command(&u[0].spec, 540, Path::new("/w/u1"));
        assert!(c.text.starts_with("ffmpeg -i main.mp4 "));
    }
}
