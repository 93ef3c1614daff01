//! Readable tables for people: the plan, and a run's summary.

use std::fmt::Write as _;

use framex_core::{format_us, ElementPlan, Plan, PlanError};
use framex_executor::prepare::InputError;
use framex_executor::report::{Report, Status};
use framex_executor::run::role_text;

/// `n` and the noun, singular or plural: "1 frame", "2 frames".
pub fn count(n: u64, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
}

/// Bytes for people: "8.3 MB".
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// The source frames an element shows, numbered from 1 as on the preview
/// page and as frame files are: "1–60", "1–119 step 2", "30 held ×15".
fn shown(e: &ElementPlan) -> String {
    let mut runs: Vec<String> = e
        .frames
        .iter()
        .take(3)
        .map(|r| {
            let step = r.step.to_string();
            let (first, last) = (r.frame + 1, r.last_frame() + 1);
            match (r.ticks, step.as_str()) {
                (1, _) => format!("{first}"),
                (_, "0") => format!("{first} held ×{}", r.ticks),
                (_, "1") => format!("{first}–{last}"),
                _ => format!("{first}–{last} step {step}"),
            }
        })
        .collect();
    if e.frames.len() > 3 {
        runs.push(format!("… ({} runs)", e.frames.len()));
    }
    runs.join(", ")
}

/// The plan as text: totals, sources and their decode runs, then elements.
pub fn plan_table(plan: &Plan) -> String {
    let t = &plan.totals;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} → {} requested → {} distinct → {} cached → {} to make in {}",
        count(t.elements, "element", "elements"),
        count(t.frames_requested, "frame", "frames"),
        t.distinct_frames,
        t.cache_hits,
        t.frames_to_make,
        count(t.decode_runs, "decode run", "decode runs"),
    );
    let percent = if t.frames_requested > 0 {
        100.0 * t.frames_saved as f64 / t.frames_requested as f64
    } else {
        0.0
    };
    let _ = writeln!(
        out,
        "saved {} ({percent:.1}%): {} reused within the render, {} from the store\n",
        count(t.frames_saved, "frame", "frames"),
        t.dedupe_hits,
        t.cache_hits
    );
    for source in &plan.sources {
        let assumed = source
            .assumed_rate
            .map(|r| format!(" (frames not probed: {r} fps assumed)"))
            .unwrap_or_default();
        let _ = writeln!(out, "{} {}{assumed}", source.id, terminal_safe(&source.src));
        for recipe in &source.recipes {
            let mut kind = recipe.format.as_str().to_string();
            if recipe.alpha {
                kind.push_str("+alpha");
            }
            if let Some(transfer) = recipe.transfer {
                kind.push('+');
                kind.push_str(transfer.as_str());
            }
            let _ = writeln!(
                out,
                "  {kind}: {}, {} cached",
                count(recipe.distinct_frames, "distinct frame", "distinct frames"),
                recipe.cache_hits
            );
            for run in &recipe.runs {
                let _ = writeln!(
                    out,
                    "    {:<4} from keyframe {:<6} decode {:>6}, make {:>6}  (leader {})",
                    run.id,
                    run.keyframe + 1,
                    run.decoded(),
                    run.make.count(),
                    terminal_safe(&run.leader)
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "\n{:<24} {:<30} {:>7} {:>8}  source frames shown (numbered from 1)",
        "element", "role", "frames", "distinct"
    );
    for e in &plan.elements {
        let rate = e
            .playback_rate
            .map(|r| format!(" at {r}×"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{:<24} {:<30} {:>7} {:>8}  {} from {}s{rate}",
            shorten(&terminal_safe(&e.element_id), 24),
            shorten(&terminal_safe(&role_text(&e.role)), 30),
            e.ticks,
            e.distinct_frames,
            shown(e),
            format_us(e.start_us),
        );
    }
    for w in &plan.warnings {
        let _ = writeln!(
            out,
            "\nwarning: {}: {}",
            terminal_safe(&w.element_id),
            terminal_safe(&w.message)
        );
    }
    out
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

/// An invalid input's message: as [`InputError`]'s, but with at most
/// [`ERRORS_SHOWN`] of its element errors, then how many more there are.
pub fn invalid_message(err: &InputError) -> String {
    let (path, errors) = match err {
        InputError::Invalid {
            path,
            error: PlanError::Invalid(errors),
        } if errors.len() > ERRORS_SHOWN => (path, errors),
        _ => return err.to_string(),
    };
    let mut out = format!("{}: {} invalid elements:", path.display(), errors.len());
    for e in &errors[..ERRORS_SHOWN] {
        let _ = write!(out, "\n  - {e}");
    }
    let _ = write!(
        out,
        "\n  … and {} more invalid elements (--json lists them all)",
        errors.len() - ERRORS_SHOWN
    );
    out
}

/// How many element errors are printed before the rest are counted.
pub const ERRORS_SHOWN: usize = 10;

/// One line per element and the metrics of a run.
pub fn report_summary(report: &Report, out_dir: Option<&std::path::Path>) -> String {
    let mut out = String::new();
    let mut errors = 0usize;
    for (id, e) in &report.elements {
        let id = terminal_safe(id);
        match (&e.status, &e.error) {
            (Status::Ok, _) => {
                let _ = writeln!(out, "ok     {id:<24} {:>6} frames  {}", e.frames, e.role);
            }
            (_, err) => {
                errors += 1;
                if errors <= ERRORS_SHOWN {
                    let err = err.as_deref().unwrap_or("failed");
                    let _ = writeln!(out, "error  {id:<24} {}", terminal_safe(err));
                }
            }
        }
    }
    if errors > ERRORS_SHOWN {
        let _ = writeln!(
            out,
            "error  … and {} more (all of them are in the report)",
            errors - ERRORS_SHOWN
        );
    }
    for w in &report.warnings {
        let _ = writeln!(
            out,
            "warning {:<22} {}",
            terminal_safe(&w.element_id),
            terminal_safe(&w.message)
        );
    }
    let m = &report.metrics;
    let _ = writeln!(
        out,
        "\n{}: {} requested, {} distinct; {} reused within the render, {} from the store, {} made",
        count(m.elements, "element", "elements"),
        count(m.frames_requested, "frame", "frames"),
        m.distinct_frames,
        m.dedupe_hits,
        m.cache_hits,
        m.frames_extracted
    );
    let _ = writeln!(
        out,
        "{}, {}, {} written, {} linked, {} ms",
        count(m.decode_runs, "decode run", "decode runs"),
        count(m.ffmpeg_runs, "ffmpeg process", "ffmpeg processes"),
        size(m.bytes_written),
        count(m.frames_linked, "frame", "frames"),
        m.phases.total_ms
    );
    if let Some(dir) = out_dir {
        let _ = writeln!(
            out,
            "frames in {}/<element id>/, report in {}",
            dir.display(),
            dir.join(framex_executor::report::REPORT_FILE).display()
        );
    }
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

    #[test]
    fn counts_and_sizes_read_as_english() {
        assert_eq!(count(1, "decode run", "decode runs"), "1 decode run");
        assert_eq!(count(2, "decode run", "decode runs"), "2 decode runs");
        assert_eq!(count(0, "frame", "frames"), "0 frames");
        assert_eq!(size(8_327_880), "8.3 MB");
        assert_eq!(size(999), "999 B");
        assert_eq!(size(1_500), "1.5 kB");
    }
}
