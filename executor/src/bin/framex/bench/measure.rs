//! How one scenario is measured: the hand-written ffmpeg commands for the
//! same frames, framex cold (empty store) and warm, repeated; then every
//! frame of both checked against the rule.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::baseline::{command, units};
use super::check::{check_dir, FrameCheck, Maker};
use super::rule::{plan_rule, references};
use super::runner::{run_commands, FfmpegCommand, FramexRun};
use super::scenario::{write_composition, Context, Scenario, Spec};
use super::stats::{Figure, Ratio};

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
    /// The composition measured alongside (`union`, `single`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alongside: Option<String>,
    /// framex cold on the composition measured alongside, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alongside_cold_ms: Option<Figure>,
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
    /// cold ÷ the cold of the composition measured alongside.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cold_over_alongside: Option<Ratio>,
    /// framex's frames against the rule.
    pub framex_check: FrameCheck,
    /// The hand-written commands' frames against the rule.
    pub ffmpeg_check: FrameCheck,
}
/// Measures one scenario.
pub fn run_scenario(ctx: &Context, scenario: &Scenario) -> Result<ScenarioResult, String> {
    let work = ctx.dir.join("runs").join(scenario.name);
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let composition = work.join("composition.json");
    write_composition(&composition, &scenario.elements.iter().collect::<Vec<_>>())?;
    let alongside_composition = work.join("alongside.json");
    if let Some(alongside) = &scenario.alongside {
        let elements: Vec<&Spec> = alongside.elements.iter().collect();
        write_composition(&alongside_composition, &elements)?;
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
    let (alongside_out, alongside_cache) =
        (work.join("alongside-out"), work.join("alongside-store"));
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
        if scenario.alongside.is_some() {
            let _ = std::fs::remove_dir_all(&alongside_out);
            let _ = std::fs::remove_dir_all(&alongside_cache);
            times[3].push(
                ctx.framex
                    .extract(&alongside_composition, &alongside_out, &alongside_cache)?
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
        alongside: scenario.alongside.as_ref().map(|a| a.name.to_string()),
        alongside_cold_ms: scenario.alongside.as_ref().map(|_| Figure::ms(&times[3])),
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
    result.cold_over_alongside = result
        .alongside_cold_ms
        .as_ref()
        .and_then(|a| Ratio::of(&result.cold_ms, a));

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
