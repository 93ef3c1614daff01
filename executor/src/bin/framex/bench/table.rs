//! The bench's results as text for people.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::stats::{ratio_text, spread, Figure, Ratio};
use super::BenchReport;

/// A target of issue 13, and what was measured for it.
pub struct Target {
    /// What is compared.
    pub what: String,
    /// The measured ratio or figure, as text.
    pub measured: String,
    /// The target, as text.
    pub target: String,
    /// Whether the median meets it.
    pub met: bool,
}

/// The targets the report can speak to.
pub fn targets(report: &BenchReport) -> Vec<Target> {
    let mut out = Vec::new();
    let get = |name: &str| report.scenarios.iter().find(|s| s.name == name);
    let mut ratio = |what: String, r: Option<&Ratio>, limit: f64| {
        if let Some(r) = r {
            out.push(Target {
                what,
                measured: ratio_text(Some(r)),
                target: format!("≤ {limit}"),
                met: r.of_medians <= limit,
            });
        }
    };
    for (name, limit) in [
        ("single", 0.5),
        ("real", 0.35),
        ("small", 1.0),
        ("upsample", 0.5),
    ] {
        if let Some(s) = get(name) {
            ratio(
                format!("{name} cold ÷ ffmpeg"),
                s.cold_over_ffmpeg.as_ref(),
                limit,
            );
        }
    }
    for (what, name) in [
        (
            "dup3 ÷ single (cold; single alongside)",
            "dup3 ÷ single (cold)",
        ),
        (
            "overlap ÷ union (cold; union as one element, alongside)",
            "overlap ÷ union (cold)",
        ),
    ] {
        ratio(what.into(), report.ratios.get(name), 1.05);
    }
    if let Some(worst) = report
        .scenarios
        .iter()
        .filter_map(|s| s.warm_over_cold.as_ref().map(|r| (s, r)))
        .max_by(|a, b| a.1.of_medians.total_cmp(&b.1.of_medians))
    {
        ratio(
            format!("worst warm ÷ cold ({})", worst.0.name),
            Some(worst.1),
            0.02,
        );
    }
    out
}

/// The whole report as text.
pub fn bench_table(report: &BenchReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "framex bench: {}", report.media);
    let _ = writeln!(
        out,
        "{} repetitions, figures as median (min–max); {} cores, load average {:.1} at start, {:.1} at end",
        report.repeat, report.cores, report.load_before, report.load_after
    );
    let _ = writeln!(out, "command: {}\n", report.command);
    let _ = writeln!(
        out,
        "{:<9} {:>9} {:>9}  {:<20} {:<20} {:<14} {:<19} {:<19} {:<14}",
        "scenario",
        "made/req",
        "ffmpeg fr",
        "ffmpeg ms",
        "framex cold ms",
        "warm ms",
        "cold ÷ ffmpeg",
        "warm ÷ cold",
        "cold RSS MB"
    );
    for s in &report.scenarios {
        let _ = writeln!(
            out,
            "{:<9} {:>9} {:>9}  {:<20} {:<20} {:<14} {:<19} {:<19} {:<14}",
            s.name,
            format!("{}/{}", s.frames_made, s.frames_requested),
            s.ffmpeg_frames,
            spread(&s.ffmpeg_ms, 0),
            spread(&s.cold_ms, 0),
            spread(&s.warm_ms, 0),
            ratio_text(s.cold_over_ffmpeg.as_ref()),
            ratio_text(s.warm_over_cold.as_ref()),
            spread(&s.cold_rss_mb, 1),
        );
    }
    for why in &report.skipped {
        let _ = writeln!(out, "skipped: {why}");
    }
    let _ = writeln!(
        out,
        "\nframes, each compared with the frame the rule names:"
    );
    for s in &report.scenarios {
        let _ = writeln!(out, "  {:<9} framex: {}", s.name, s.framex_check.text());
        let _ = writeln!(out, "  {:<9} ffmpeg: {}", "", s.ffmpeg_check.text());
    }
    let _ = writeln!(
        out,
        "\nhand-written ffmpeg commands (one per source, rate and format; at most {} at once):",
        report.jobs
    );
    for s in &report.scenarios {
        for (i, c) in s.ffmpeg_commands.iter().enumerate() {
            let name = if i == 0 { s.name.as_str() } else { "" };
            let _ = writeln!(out, "  {name:<9} {c}");
        }
    }
    let _ = writeln!(
        out,
        "\nwhere framex's cold time goes (its report's phases; wall of the process; CPU of framex with its ffmpeg decoders, of the framex process alone, and of the hand-written commands; ms, medians):"
    );
    let _ = writeln!(
        out,
        "  {:<9} {:>7} {:>7} {:>7} {:>8} {:>7} {:>7}  {:>6} {:>8}   {:>10} {:>10} {:>10}",
        "scenario",
        "probe",
        "lookup",
        "plan",
        "extract",
        "fanout",
        "total",
        "runs",
        "process",
        "CPU framex",
        "(own)",
        "CPU ffmpeg"
    );
    for s in &report.scenarios {
        let _ = writeln!(
            out,
            "  {:<9} {}  {:>6} {:>8}   {:>10} {:>10} {:>10}",
            s.name,
            phase_columns(&s.cold_phases_ms),
            s.framex_ffmpeg_runs,
            format!("{:.0}", s.cold_ms.median),
            format!("{:.0}", s.cold_cpu_ms.median),
            format!("{:.0}", s.cold_own_cpu_ms.median),
            format!("{:.0}", s.ffmpeg_cpu_ms.median),
        );
    }
    let _ = writeln!(
        out,
        "\nwarm runs (phases, ms, medians; lookup checks every stored frame's digest):"
    );
    let _ = writeln!(
        out,
        "  {:<9} {:>7} {:>7} {:>7} {:>8} {:>7} {:>7}  {:>8}",
        "scenario", "probe", "lookup", "plan", "extract", "fanout", "total", "process"
    );
    for s in &report.scenarios {
        let _ = writeln!(
            out,
            "  {:<9} {}  {:>8}",
            s.name,
            phase_columns(&s.warm_phases_ms),
            format!("{:.0}", s.warm_ms.median),
        );
    }
    let alongside: Vec<_> = report
        .scenarios
        .iter()
        .filter_map(|s| Some((s, s.alongside.as_ref()?, s.alongside_cold_ms.as_ref()?)))
        .collect();
    if !alongside.is_empty() {
        let _ = writeln!(
            out,
            "\nmeasured alongside (in the same repetitions, right after the scenario's cold run), framex cold ms:"
        );
    }
    for (s, name, ms) in alongside {
        let _ = writeln!(
            out,
            "  {:<9} {name}: {}   the scenario: {}",
            s.name,
            spread(ms, 0),
            spread(&s.cold_ms, 0)
        );
    }
    let _ = writeln!(out, "\ntargets (issue 13), on the medians:");
    for t in targets(report) {
        let _ = writeln!(
            out,
            "  {:<58} {:<20} {:<7} {}",
            t.what,
            t.measured,
            t.target,
            if t.met { "met" } else { "MISSED" }
        );
    }
    if !report.plan_us.is_empty() {
        let _ = writeln!(out, "\nplanning (framex_core, request parsed), ms:");
        for (n, f) in &report.plan_us {
            let ms = super::stats::Figure::of(f.samples.iter().map(|us| us / 1e3).collect());
            let _ = writeln!(out, "  {n:>7} elements  {}", spread(&ms, 2));
        }
    }
    for (n, t) in &report.plan_json_us {
        let to_ms = |f: &super::stats::Figure| {
            super::stats::Figure::of(f.samples.iter().map(|us| us / 1e3).collect())
        };
        let _ = writeln!(
            out,
            "  planJson {n:>7}: wasm in node {} ms, native parse + plan + serialize {} ms, wasm ÷ native {}",
            spread(&to_ms(&t.wasm_us), 1),
            spread(&to_ms(&t.native_us), 1),
            ratio_text(Ratio::of(&t.wasm_us, &t.native_us).as_ref()),
        );
    }
    if let Some(why) = &report.wasm_skipped {
        let _ = writeln!(out, "  planJson in wasm: skipped, {why}");
    }
    if !report.peak_rss.is_empty() {
        let _ = writeln!(
            out,
            "\npeak RSS of framex extract (its own VmHWM; ffmpeg not counted), 320x240 PNG frames:"
        );
        for p in &report.peak_rss {
            let _ = writeln!(
                out,
                "  {:>6} frames of work: {} MB, {} ms ({} made)",
                p.frames,
                spread(&p.peak_rss_mb, 1),
                spread(&p.wall_ms, 0),
                p.frames_made
            );
        }
    }
    if let Some(why) = &report.rss_skipped {
        let _ = writeln!(out, "  peak RSS: skipped, {why}");
    }
    out
}

/// A run's phase medians (ms) as the phase tables' six columns: probe,
/// lookup, plan, extract, fanout, total.
fn phase_columns(phases: &BTreeMap<String, Figure>) -> String {
    let phase = |name: &str| {
        phases
            .get(name)
            .map_or("-".to_string(), |f| format!("{:.0}", f.median))
    };
    format!(
        "{:>7} {:>7} {:>7} {:>8} {:>7} {:>7}",
        phase("probe"),
        phase("lookup"),
        phase("plan"),
        phase("extract"),
        phase("fanout"),
        phase("total"),
    )
}
