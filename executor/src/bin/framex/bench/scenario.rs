//! The scenarios: the compositions `framex bench` measures, on the media it
//! makes (and real footage when there is some), and what every scenario
//! shares.

use std::path::{Path, PathBuf};

use framex_core::ImageFormat;
use framex_executor::Tools;
use serde_json::json;

use super::media::Media;
use super::runner::Framex;

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
    /// Another composition measured with framex cold in the same
    /// repetitions, right after the scenario's own cold run, so that the
    /// machine's drift over a bench falls on both alike (`overlap ÷ union`,
    /// `dup3 ÷ single`).
    pub alongside: Option<Alongside>,
}

/// The composition measured alongside a scenario.
#[derive(Clone, Debug)]
pub struct Alongside {
    /// What the ratio calls it (`union`, `single`).
    pub name: &'static str,
    /// Its elements.
    pub elements: Vec<Spec>,
}

pub(super) fn spec(
    id: &str,
    src: &Path,
    start: f64,
    duration: f64,
    fps: u32,
    format: ImageFormat,
) -> Spec {
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
            alongside: None,
        },
        Scenario {
            name: "dup3",
            about: on("the single element three times"),
            elements: (1..=3)
                .map(|i| spec(&format!("a{i}"), main, 0.0, d * 0.6, 30, Png))
                .collect(),
            alongside: Some(Alongside {
                name: "single",
                elements: vec![spec("a1", main, 0.0, d * 0.6, 30, Png)],
            }),
        },
        Scenario {
            name: "overlap",
            about: on(&format!("two {} s trims overlapping by half", d * 0.6)),
            elements: vec![
                spec("a", main, 0.0, d * 0.6, 30, Png),
                spec("b", main, d * 0.3, d * 0.6, 30, Png),
            ],
            alongside: Some(Alongside {
                name: "union",
                elements: vec![spec("union", main, 0.0, d * 0.9, 30, Png)],
            }),
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
            alongside: None,
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
            alongside: None,
        },
        Scenario {
            name: "upsample",
            about: on(&format!("one element, {} s at 60 fps", d * 0.3)),
            elements: vec![spec("a", main, 0.0, d * 0.3, 60, Png)],
            alongside: None,
        },
        Scenario {
            name: "small",
            about: "one element, 4 s at 30 fps, PNG, 320x240 H.264 30 fps".into(),
            elements: vec![spec("a", &media.small, 0.0, 4.0, 30, Png)],
            alongside: None,
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
            alongside: None,
        });
    }
    list
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
pub(super) fn write_composition(path: &Path, specs: &[&Spec]) -> Result<(), String> {
    let elements: Vec<serde_json::Value> = specs.iter().map(|s| s.json()).collect();
    std::fs::write(path, json!({ "elements": elements }).to_string())
        .map_err(|e| format!("{}: {e}", path.display()))
}
