//! Peak resident memory of `framex extract` by frames of work: one element
//! of the first N frames (30 fps, PNG) of a long 320×240 clip, cold, so
//! that every frame is decoded, encoded, stored and linked.

use std::path::Path;

use serde::Serialize;
use serde_json::json;

use super::runner::Framex;
use super::stats::Figure;

/// Frames of work measured.
pub const FRAMES: [u64; 3] = [30, 2_000, 20_000];

/// One point.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RssPoint {
    /// Frames of work: ticks, distinct frames and frames made alike.
    pub frames: u64,
    /// Frames framex made (last run).
    pub frames_made: u64,
    /// framex's own peak RSS, MB (its ffmpeg children not counted).
    pub peak_rss_mb: Figure,
    /// Wall time of the run, ms.
    pub wall_ms: Figure,
}

/// Measures every point of [`FRAMES`] on `clip`, `repeat` times each.
pub fn peak_rss(
    framex: &Framex,
    clip: &Path,
    dir: &Path,
    repeat: usize,
) -> Result<Vec<RssPoint>, String> {
    let mut points = Vec::new();
    for frames in FRAMES {
        eprintln!("bench: peak RSS at {frames} frames of work …");
        let work = dir.join("runs").join(format!("rss-{frames}"));
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
        let composition = work.join("composition.json");
        let element = json!({
            "id": "a",
            "src": clip.to_string_lossy(),
            "mediaStart": 0,
            // Whole microseconds just short of N/30 s: ceil(duration × 30) = N.
            "duration": (frames * 1_000_000 / 30) as f64 / 1e6,
            "fps": 30,
            "format": "png",
        });
        std::fs::write(&composition, json!({ "elements": [element] }).to_string())
            .map_err(|e| e.to_string())?;
        let (mut rss, mut wall, mut made) = (Vec::new(), Vec::new(), 0);
        for _ in 0..repeat.max(1) {
            let (out, cache) = (work.join("out"), work.join("store"));
            let _ = std::fs::remove_dir_all(&out);
            let _ = std::fs::remove_dir_all(&cache);
            let run = framex.extract(&composition, &out, &cache)?;
            if !run.report.all_ok() || run.report.metrics.frames_requested != frames {
                return Err(format!(
                    "the peak-RSS run of {frames} frames made {} of {} frames",
                    run.report.metrics.frames_linked, frames
                ));
            }
            made = run.report.metrics.frames_extracted;
            rss.push(run.peak_rss_kib as f64 / 1024.0);
            wall.push(run.wall);
        }
        let _ = std::fs::remove_dir_all(&work);
        points.push(RssPoint {
            frames,
            frames_made: made,
            peak_rss_mb: Figure::of(rss),
            wall_ms: Figure::ms(&wall),
        });
    }
    Ok(points)
}
