//! `framex demo`: sample clips made with lavfi, a composition full of
//! repeats, a cold and a warm run, and what each saving was worth.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use framex_executor::report::Report;

use crate::table::{count, size};

/// Clip sizes: full (1080p loop) or small (for tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DemoSize {
    /// A 1080p loop, a 640×360 VFR clip and an alpha clip.
    Full,
    /// Everything at 320×240 and short.
    Small,
}

struct Clip {
    name: &'static str,
    args: Vec<String>,
}

fn clips(size: DemoSize) -> Vec<Clip> {
    let (big, mid, dur) = match size {
        DemoSize::Full => ("1920x1080", "640x360", 4),
        DemoSize::Small => ("320x240", "320x240", 2),
    };
    let s = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        Clip {
            name: "loop_cfr.mp4",
            args: [
                s(&["-f", "lavfi", "-i"]),
                vec![format!("testsrc2=size={big}:rate=30")],
                s(&[
                    "-t",
                    &dur.to_string(),
                    "-pix_fmt",
                    "yuv420p",
                    "-c:v",
                    "libx264",
                    "-g",
                    "30",
                ]),
            ]
            .concat(),
        },
        Clip {
            // Frames 20–40 dropped and later ones jittered: a variable frame rate.
            name: "talk_vfr.mp4",
            args: [
                s(&["-f", "lavfi", "-i"]),
                vec![format!("testsrc2=size={mid}:rate=30")],
                s(&["-t", &(dur + 2).to_string()]),
                s(&[
                    "-vf",
                    "select='not(between(n,20,40))',setpts='PTS+if(gt(N,10),0.01/TB,0)'",
                ]),
                s(&["-fps_mode", "vfr", "-pix_fmt", "yuv420p", "-c:v", "libx264"]),
            ]
            .concat(),
        },
        Clip {
            name: "logo_alpha.webm",
            args: [
                s(&["-f", "lavfi", "-i"]),
                vec![
                    "testsrc2=size=320x240:rate=30,format=yuva420p,colorchannelmixer=aa=0.5"
                        .to_string(),
                ],
                s(&[
                    "-t",
                    "2",
                    "-c:v",
                    "libvpx-vp9",
                    "-pix_fmt",
                    "yuva420p",
                    "-b:v",
                    "500k",
                ]),
            ]
            .concat(),
        },
    ]
}

/// Makes the sample clips in `dir/clips` (kept between runs) and writes
/// `dir/composition.json`. Returns the composition's path.
pub fn prepare_demo(ffmpeg: &Path, dir: &Path, size: DemoSize) -> Result<PathBuf, String> {
    let clips_dir = dir.join("clips");
    std::fs::create_dir_all(&clips_dir).map_err(|e| format!("{}: {e}", clips_dir.display()))?;
    for clip in clips(size) {
        let path = clips_dir.join(clip.name);
        if path.is_file() {
            continue;
        }
        let tmp = clips_dir.join(format!("partial-{}", clip.name));
        let output = Command::new(ffmpeg)
            .args(["-nostdin", "-v", "error", "-y"])
            .args(&clip.args)
            .arg(&tmp)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", ffmpeg.display()))?;
        if !output.status.success() {
            return Err(format!(
                "making {} failed: {}",
                clip.name,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        std::fs::rename(&tmp, &path).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let d = if size == DemoSize::Full { 4.0 } else { 2.0 };
    let with = |mut element: serde_json::Value, extra: serde_json::Value| {
        if let (Some(e), Some(x)) = (element.as_object_mut(), extra.as_object()) {
            e.extend(x.clone());
        }
        element
    };
    let el = |id: &str,
              src: &str,
              start: f64,
              duration: f64,
              fps: serde_json::Value,
              format: &str| {
        json!({"id": id, "src": src, "mediaStart": start, "duration": duration, "fps": fps, "format": format})
    };
    // A short ad of four scenes: the same background loop in every scene, a
    // talk cut into overlapping trims, a logo placed twice, and a thumbnail;
    // then the background at double speed (at 60 fps it shows the same
    // source frames as the scenes at 30), and an end card that loops the
    // logo's first half second (its frames made once, linked over the slot).
    let composition = json!({"elements": [
        el("scene1-bg", "clips/loop_cfr.mp4", 0.0, d, json!(30), "png"),
        el("scene2-bg", "clips/loop_cfr.mp4", 0.0, d, json!(30), "png"),
        el("scene3-bg", "clips/loop_cfr.mp4", 0.0, d, json!(30), "png"),
        el("scene4-bg", "clips/loop_cfr.mp4", 0.0, d, json!(30), "png"),
        el("talk-intro", "clips/talk_vfr.mp4", 0.0, d / 2.0 + 1.0, json!(24), "png"),
        el("talk-quote", "clips/talk_vfr.mp4", 1.0, d / 2.0 + 1.0, json!(24), "png"),
        el("talk-outro", "clips/talk_vfr.mp4", 2.0, d / 2.0, json!(24), "png"),
        el("talk-thumb", "clips/talk_vfr.mp4", 0.5, 1.0, json!("30000/1001"), "jpeg"),
        el("logo-open", "clips/logo_alpha.webm", 0.0, 2.0, json!(30), "png"),
        el("logo-close", "clips/logo_alpha.webm", 0.0, 2.0, json!(30), "png"),
        el("bg-60fps-jpeg", "clips/loop_cfr.mp4", 1.0, d / 2.0, json!(60), "jpeg"),
        with(
            el("bg-fast", "clips/loop_cfr.mp4", 0.0, d / 2.0, json!(60), "png"),
            json!({"playbackRate": 2}),
        ),
        with(
            el("end-card", "clips/logo_alpha.webm", 0.0, 2.0, json!(30), "png"),
            json!({"mediaDuration": 0.5, "loop": true}),
        ),
    ]});
    let path = dir.join("composition.json");
    let text = serde_json::to_string_pretty(&composition).expect("json");
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// The side-by-side table of a cold and a warm run.
pub fn demo_table(cold: &Report, warm: &Report) -> String {
    let (c, w) = (&cold.metrics, &warm.metrics);
    let mut out = String::new();
    let row = |out: &mut String, name: &str, a: String, b: String| {
        let _ = writeln!(out, "  {name:<30} {a:>12} {b:>12}");
    };
    row(&mut out, "", "cold".into(), "warm".into());
    let secs = |ms: u64| format!("{:.2} s", ms as f64 / 1000.0);
    row(
        &mut out,
        "wall time",
        secs(c.phases.total_ms),
        secs(w.phases.total_ms),
    );
    row(
        &mut out,
        "ffmpeg processes",
        c.ffmpeg_runs.to_string(),
        w.ffmpeg_runs.to_string(),
    );
    row(
        &mut out,
        "frames made (decoded + encoded)",
        c.frames_extracted.to_string(),
        w.frames_extracted.to_string(),
    );
    row(
        &mut out,
        "frames from the store",
        c.cache_hits.to_string(),
        w.cache_hits.to_string(),
    );
    row(
        &mut out,
        "files linked into place",
        c.frames_linked.to_string(),
        w.frames_linked.to_string(),
    );
    row(
        &mut out,
        "written",
        size(c.bytes_written),
        size(w.bytes_written),
    );
    let _ = writeln!(out);
    let requested = c.frames_requested;
    let _ = writeln!(
        out,
        "  {} ask for {}; one ffmpeg run per element would make all {requested}.",
        count(c.elements, "element", "elements"),
        count(requested, "frame", "frames"),
    );
    let percent = |part: u64| {
        if requested > 0 {
            100.0 * part as f64 / requested as f64
        } else {
            0.0
        }
    };
    let _ = writeln!(
        out,
        "  reuse:  those ticks show {} distinct source frames: {} ({:.0}%) reuse a frame",
        c.distinct_frames,
        c.dedupe_hits,
        percent(c.dedupe_hits),
    );
    let _ = writeln!(
        out,
        "          (duplicates, overlapping trims, the 2× background, held and looped frames)"
    );
    let _ = writeln!(
        out,
        "  cold:   {} made in {} ({:.0}% of the frames asked for)",
        count(c.frames_extracted, "frame", "frames"),
        count(c.decode_runs, "decode run", "decode runs"),
        percent(c.frames_extracted),
    );
    let speed = if w.phases.total_ms > 0 {
        format!(
            "{:.0}× faster",
            c.phases.total_ms as f64 / w.phases.total_ms as f64
        )
    } else {
        "instant".into()
    };
    let _ = writeln!(
        out,
        "  store:  the warm run made {} and started {} ({speed})",
        count(w.frames_extracted, "frame", "frames"),
        count(w.ffmpeg_runs, "ffmpeg process", "ffmpeg processes"),
    );
    out
}

/// Runs `framex demo`.
pub async fn demo(
    tools: &framex_executor::Tools,
    dir: Option<PathBuf>,
    small: bool,
    json: bool,
    quiet: bool,
    progress: bool,
) -> Result<std::process::ExitCode, String> {
    let dir = dir.unwrap_or_else(|| std::env::temp_dir().join("framex-demo"));
    let size = if small {
        DemoSize::Small
    } else {
        DemoSize::Full
    };
    let ffmpeg = tools.ffmpeg.clone().map_err(|e| e.to_string())?;
    tools.ffprobe.clone().map_err(|e| e.to_string())?;
    if !quiet {
        let clips = dir.join("clips");
        let verb = if clips.join(clips_of(size)).is_file() {
            "reusing"
        } else {
            "making"
        };
        eprintln!("framex demo: {verb} sample clips in {}", clips.display());
    }
    let composition = prepare_demo(&ffmpeg, &dir, size)?;
    let cache_dir = dir.join("cache");
    // A cold run must start from an empty store.
    let _ = std::fs::remove_dir_all(&cache_dir);
    let mut options =
        framex_executor::RunOptions::new(composition.clone(), dir.join("out"), tools.clone());
    options.cache_dir = Some(cache_dir);
    options.cancel = crate::cancel_on_ctrl_c();
    options.progress = progress;
    if !quiet {
        eprintln!("framex demo: cold run (empty store)…");
    }
    let cold = crate::run_or_explain(&options, false).await?;
    if !quiet {
        eprintln!("framex demo: warm run…");
    }
    let warm = crate::run_or_explain(&options, false).await?;
    if json {
        let both = json!({"cold": cold, "warm": warm});
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
        for (id, e) in &cold.elements {
            println!("  {id:<16} {:>5} frames  {}", e.frames, e.role);
        }
        println!();
        print!("{}", demo_table(&cold, &warm));
        let out = dir.join("out");
        println!(
            "\n  frames are in {}/<element id>/, the report in {}",
            out.display(),
            out.join(framex_executor::report::REPORT_FILE).display()
        );
    }
    for report in [&cold, &warm] {
        if !report.all_ok() {
            eprint!("{}", crate::table::report_summary(report, None));
            return Ok(std::process::ExitCode::FAILURE);
        }
    }
    Ok(crate::exit_code(&warm, &options.cancel))
}

/// The first clip of a size, to tell whether the clips were made before.
fn clips_of(size: DemoSize) -> &'static str {
    clips(size).first().map_or("loop_cfr.mp4", |c| c.name)
}
