//! Readable tables for people: the plan, and a run's summary.

use std::fmt::Write as _;

use framex_core::{format_us, Assignment, HeldFrom, Plan};

use crate::report::Report;
use crate::run::role_text;

/// The plan as text: totals, units, then elements.
pub fn plan_table(plan: &Plan) -> String {
    let t = &plan.totals;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} elements → {} unique works ({} dedupe hits, {} cache hits) → {} extraction units ({} superset groups)",
        t.elements, t.unique_works, t.dedupe_hits, t.cache_hits, t.units, t.superset_groups
    );
    let percent = if t.frames_requested > 0 {
        100.0 * t.frames_saved as f64 / t.frames_requested as f64
    } else {
        0.0
    };
    let _ = writeln!(
        out,
        "frames requested {}, to extract {}, saved {} ({percent:.1}%)\n",
        t.frames_requested, t.frames_to_extract, t.frames_saved
    );
    if t.frames_looped + t.frames_held > 0 {
        let _ = writeln!(
            out,
            "of which linked, not extracted: {} looped, {} held\n",
            t.frames_looped, t.frames_held
        );
    }
    let _ = writeln!(
        out,
        "{:<5} {:<28} {:>12} {:>11} {:>6} {:>7}  members",
        "unit", "source", "start (s)", "fps", "format", "frames"
    );
    for u in &plan.units {
        let members: Vec<String> = u
            .members
            .iter()
            .map(|m| format!("{}[{}+{}]", m.leader, m.slice.offset, m.slice.count))
            .collect();
        let _ = writeln!(
            out,
            "{:<5} {:<28} {:>12} {:>11} {:>6} {:>7}  {}",
            u.id,
            shorten(&u.src, 28),
            if u.last_frame {
                "last frame".to_string()
            } else {
                format_us(u.start_us)
            },
            u.fps.to_string(),
            u.format.as_str(),
            u.frame_count,
            members.join(" ")
        );
    }
    let _ = writeln!(
        out,
        "\n{:<24} {:<30} {:<5} {:>8} {:>7}  cache key",
        "element", "role", "unit", "offset", "frames"
    );
    for a in &plan.assignments {
        let _ = writeln!(
            out,
            "{:<24} {:<30} {:<5} {:>8} {:>7}  {}{}",
            shorten(&a.element_id, 24),
            shorten(&role_text(&a.role), 30),
            a.unit.as_deref().unwrap_or("-"),
            a.slice.offset,
            a.frame_count(),
            &a.cache_key[..16],
            timeline_note(a)
        );
    }
    for w in &plan.warnings {
        let _ = writeln!(out, "\nwarning: {}: {}", w.element_id, w.message);
    }
    out
}

/// How an element's frames differ from its slice: rate, loop, held frames.
fn timeline_note(a: &Assignment) -> String {
    let mut notes = Vec::new();
    if let Some(rate) = a.playback_rate {
        notes.push(format!("rate {rate}"));
    }
    if let Some(cycle) = a.cycle {
        notes.push(format!("loops a cycle of {}", cycle.frames));
    }
    if let Some(held) = &a.held {
        let from = match (held.from, &held.unit) {
            (HeldFrom::Trim, _) => "the trim's last frame".to_string(),
            (HeldFrom::Source, Some(unit)) => format!("the source's last frame ({unit})"),
            (HeldFrom::Source, None) => "the source's last frame (cached)".to_string(),
        };
        notes.push(format!("{} held on {from}", held.frames));
    }
    if notes.is_empty() {
        String::new()
    } else {
        format!("  {}", notes.join(", "))
    }
}

/// `text` with control characters other than newlines and tabs escaped
/// (`\u{1b}`), so that a name or path taken from a composition (a NUL, a
/// terminal escape sequence) is shown, never obeyed, by a terminal.
pub fn terminal_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// One line per element and the metrics of a run.
pub fn report_summary(report: &Report) -> String {
    let mut out = String::new();
    for (id, e) in &report.elements {
        match &e.error {
            None => {
                let _ = writeln!(out, "ok     {id:<24} {:>6} frames  {}", e.frames, e.role);
            }
            Some(err) => {
                let _ = writeln!(out, "error  {id:<24} {}", terminal_safe(err));
            }
        }
    }
    for w in &report.warnings {
        let _ = writeln!(out, "warning {:<22} {}", w.element_id, w.message);
    }
    let m = &report.metrics;
    let _ = writeln!(
        out,
        "\n{} elements, {} unique works, {} dedupe hits, {} superset groups; cache {} hits / {} misses",
        m.elements, m.unique_works, m.dedupe_hits, m.superset_groups, m.cache_hits, m.cache_misses
    );
    let _ = writeln!(
        out,
        "{} ffmpeg runs, {} frames extracted, {} linked, {} bytes written, {} ms",
        m.ffmpeg_runs, m.frames_extracted, m.frames_linked, m.bytes_written, m.phases.total_ms
    );
    out
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let tail: String = text
        .chars()
        .rev()
        .take(max - 1)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(
            terminal_safe("a\u{1b}[2Jb\0c\nd\te"),
            "a\\u{1b}[2Jb\\u{0}c\nd\te"
        );
        assert_eq!(terminal_safe("plain é"), "plain é");
    }
}
