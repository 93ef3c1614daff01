//! A 1-hour source: a few seconds from its middle, cold, against the
//! hand-written `ffmpeg -ss` command for the same frames. What it shows is
//! the fixed cost of a long source: framex probes every packet's time (the
//! frame rule needs them), where `-ss` seeks straight to the middle.

use std::path::{Path, PathBuf};

use framex_core::ImageFormat;

use super::media::make;
use super::scenario::{Scenario, Spec};

/// The scenario's name (`--scenario hour`).
pub const NAME: &str = "hour";

/// Length of the clip, seconds.
const SECONDS: u32 = 3600;

/// Makes (or finds) the 1-hour clip under `dir`: testsrc2, 160×120 H.264,
/// 30 fps, a keyframe every 2 s (about 20 s to make on 2 cores, once).
pub fn hour_clip(ffmpeg: &Path, dir: &Path) -> Result<PathBuf, String> {
    let path = dir.join("media-hour").join("hour.mp4");
    make(ffmpeg, &path, |cmd| {
        cmd.args(["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30"])
            .args(["-t", &SECONDS.to_string()])
            .args(["-pix_fmt", "yuv420p", "-c:v", "libx264", "-g", "60"])
            .args(["-preset", "ultrafast", "-crf", "30"]);
    })?;
    Ok(path)
}

/// 3 s at 30 fps, PNG, from the middle of the 1-hour clip.
pub fn scenario(clip: &Path) -> Scenario {
    let start = f64::from(SECONDS / 2);
    Scenario {
        name: NAME,
        about: format!("1-hour 160x120 H.264 30 fps clip; 3 s at 30 fps from {start} s, PNG"),
        elements: vec![Spec {
            id: "a".into(),
            src: clip.to_path_buf(),
            start,
            duration: 3.0,
            fps: 30,
            format: ImageFormat::Png,
        }],
        alongside: None,
    }
}
