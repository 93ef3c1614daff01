//! Honesty: the frames each side made, compared frame by frame with the
//! frames the rule names.
//!
//! The reference pixels of a source come from ffmpeg alone: every frame of
//! the range in use, selected by its index (`-vf select`), converted to
//! rgb24 and handed over raw. framex_core's plan says which source frame
//! each tick shows. A PNG (framex's or ffmpeg's) matches when its decoded
//! pixels (the `png` crate) equal the reference's. A framex JPEG matches
//! when its bytes equal framex's encoder's output for the reference pixels
//! (the encoder is deterministic, so this compares the pixels it was given).
//! ffmpeg's JPEGs are lossy in their own way: they are decoded (by ffmpeg)
//! and matched to the nearest of the reference frames around the rule's
//! frame, on a 16×9 grid of block means.

use std::path::{Path, PathBuf};

use framex_core::ImageFormat;
use serde::Serialize;

use super::images::{decoded_thumbnails, hash_pngs, par_map};
use super::reference::{nearest, Reference};

/// How a set of frames compared with the rule's.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FrameCheck {
    /// Frames the rule names (ticks).
    pub expected: u64,
    /// Frames found.
    pub found: u64,
    /// Frames compared (the first `min(expected, found)`).
    pub compared: u64,
    /// Of those, frames that are not the rule's.
    pub differ: u64,
    /// How they were compared.
    pub method: String,
    /// The first difference, for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_difference: Option<String>,
}

impl FrameCheck {
    /// Every frame is the rule's, and there are as many as ticks.
    pub fn ok(&self) -> bool {
        self.differ == 0 && self.found == self.expected
    }

    /// Frames that are not the rule's, counting missing and extra ones.
    pub fn wrong(&self) -> u64 {
        self.differ + self.expected.abs_diff(self.found)
    }

    /// Adds another directory's check.
    pub fn add(&mut self, other: FrameCheck) {
        self.expected += other.expected;
        self.found += other.found;
        self.compared += other.compared;
        self.differ += other.differ;
        if self.method.is_empty() {
            self.method = other.method;
        } else if !other.method.is_empty() && !self.method.contains(&other.method) {
            self.method = format!("{}; {}", self.method, other.method);
        }
        if self.first_difference.is_none() {
            self.first_difference = other.first_difference;
        }
    }

    /// "same frames (360)" or "differs in 12 of 360 frames (…)".
    pub fn text(&self) -> String {
        if self.ok() {
            return format!("same frames as the rule ({})", self.expected);
        }
        let mut text = format!("differs in {} of {} frames", self.wrong(), self.expected);
        if self.found != self.expected {
            text.push_str(&format!(" (made {})", self.found));
        }
        if let Some(first) = &self.first_difference {
            text.push_str(&format!("; first: {first}"));
        }
        text
    }
}

/// Who wrote the frames of a directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Maker {
    /// framex (`frame_000001.ext`, its own encoders).
    Framex,
    /// ffmpeg (`000001.ext`).
    Ffmpeg,
}

/// Compares the frames in `dir` with `shown` (the source frame of each
/// tick, by the rule).
pub fn check_dir(
    ffmpeg: &Path,
    dir: &Path,
    maker: Maker,
    format: ImageFormat,
    shown: &[u64],
    reference: &Reference,
) -> Result<FrameCheck, String> {
    let ext = format.extension();
    let name = |k: usize| match maker {
        Maker::Framex => format!("frame_{:06}.{ext}", k + 1),
        Maker::Ffmpeg => format!("{:06}.{ext}", k + 1),
    };
    let found = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(ext))
        .count();
    let compared = found.min(shown.len());
    let mut check = FrameCheck {
        expected: shown.len() as u64,
        found: found as u64,
        compared: compared as u64,
        ..FrameCheck::default()
    };
    let paths: Vec<PathBuf> = (0..compared).map(|k| dir.join(name(k))).collect();
    // Per tick: whether it is the rule's frame, and if not, which it is.
    let verdicts: Vec<Result<(), Option<u64>>> = match (format, maker) {
        (ImageFormat::Png, _) => {
            check.method = "decoded PNG pixels".into();
            let hashes = hash_pngs(&paths)?;
            hashes
                .iter()
                .zip(shown)
                .map(|(hash, frame)| match reference.frames.get(frame) {
                    Some(r) if r.rgb == *hash => Ok(()),
                    _ => Err(reference.by_rgb.get(hash).copied()),
                })
                .collect()
        }
        (ImageFormat::Jpeg, Maker::Framex) => {
            check.method = "JPEG bytes against framex's encoding of the reference pixels".into();
            let hashes = par_map(&paths, |p| std::fs::read(p).map(|b| blake3::hash(&b)));
            hashes
                .into_iter()
                .zip(shown)
                .map(|(hash, frame)| {
                    let hash = hash.map_err(|e| e.to_string())?;
                    Ok(match reference.frames.get(frame) {
                        Some(r) if r.jpeg == Some(hash) => Ok(()),
                        _ => Err(None),
                    })
                })
                .collect::<Result<_, String>>()?
        }
        (ImageFormat::Jpeg, Maker::Ffmpeg) => {
            check.method = "lossy JPEG matched to the nearest source frame".into();
            let thumbs = decoded_thumbnails(ffmpeg, dir, ext, compared)?;
            thumbs
                .iter()
                .zip(shown)
                .map(|(thumb, &frame)| nearest(reference, thumb, frame))
                .collect()
        }
    };
    for (k, verdict) in verdicts.into_iter().enumerate() {
        if let Err(actual) = verdict {
            check.differ += 1;
            if check.first_difference.is_none() {
                check.first_difference = Some(match actual {
                    Some(a) => format!(
                        "tick {} shows source frame {a}, the rule's is {}",
                        k + 1,
                        shown[k]
                    ),
                    None => format!(
                        "tick {} is not source frame {} (nor one near it)",
                        k + 1,
                        shown[k]
                    ),
                });
            }
        }
    }
    Ok(check)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_add_up_and_say_what_differs() {
        let mut a = FrameCheck {
            expected: 10,
            found: 10,
            compared: 10,
            differ: 0,
            method: "m".into(),
            first_difference: None,
        };
        assert!(a.ok());
        assert_eq!(a.text(), "same frames as the rule (10)");
        a.add(FrameCheck {
            expected: 5,
            found: 4,
            compared: 4,
            differ: 1,
            method: "m".into(),
            first_difference: Some("tick 2 shows source frame 3, the rule's is 2".into()),
        });
        assert!(!a.ok());
        assert_eq!(a.wrong(), 2);
        assert_eq!(
            a.text(),
            "differs in 2 of 15 frames (made 14); first: tick 2 shows source frame 3, the rule's is 2"
        );
    }
}
