//! Decoding: one ffmpeg process per decode segment hands over raw frames,
//! each with its presentation time (from `showinfo`), and framex keeps
//! exactly the planned ones.
//!
//! ffmpeg never chooses a frame here: it decodes from a keyframe with
//! timestamps passed through, and a frame is kept only when its time is the
//! next planned time. A planned frame that does not come (the decoder
//! skipped it, or the stream's timing is not what the probe said) is a
//! `bad_output` error, never a wrong frame.

use std::ffi::OsString;
use std::io::Read;
use std::path::Path;
use std::sync::mpsc;

use framex_core::{decode_args, Arg, RawFormat, Recipe};

use crate::encode::{FramePool, RawFrame};
use crate::probe::Probe;
use crate::process::{Limits, Process, ToolError};

/// What one ffmpeg process decodes: from a keyframe, the planned frames.
#[derive(Clone, Debug)]
pub struct Segment {
    /// Keyframe to start from (frame index).
    pub keyframe: u64,
    /// Frames to keep: presentation times relative to the first frame,
    /// ascending.
    pub want: Vec<i64>,
}

/// One `showinfo` line's facts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FrameInfo {
    pts: Option<i64>,
    width: u32,
    height: u32,
}

/// Parses a `showinfo` frame line (`… n:  3 pts:  1536 pts_time:0.1 … s:320x240 …`).
fn parse_showinfo(line: &str) -> Option<FrameInfo> {
    let value = |key: &str| -> Option<&str> {
        let start = line.find(key)? + key.len();
        line[start..].split_whitespace().next()
    };
    value(" n:")?;
    let pts = value(" pts:")?.parse().ok();
    let (w, h) = value(" s:")?.split_once('x')?;
    Some(FrameInfo {
        pts,
        width: w.parse().ok()?,
        height: h.parse().ok()?,
    })
}

/// Decodes `segment` of `src` in `recipe`, handing each planned frame (in
/// a buffer from `buffers`) to `deliver` in order; `deliver` returns
/// `false` to stop early (the run is cancelled). Returns how many frames
/// were delivered.
#[allow(clippy::too_many_arguments)]
pub fn decode(
    ffmpeg: &Path,
    src: &Path,
    probe: &Probe,
    recipe: Recipe,
    segment: &Segment,
    limits: &Limits,
    buffers: &FramePool,
    mut deliver: impl FnMut(RawFrame) -> bool,
) -> Result<u64, DecodeError> {
    if segment.want.is_empty() {
        return Ok(0);
    }
    let timeline = &probe.timeline;
    let seek = (segment.keyframe > 0).then(|| probe.first_pts + timeline.pts(segment.keyframe));
    let args: Vec<OsString> = decode_args(&probe.decode_source(), recipe, seek)
        .into_iter()
        .map(|a| match a {
            Arg::Text(t) => OsString::from(t),
            Arg::Input => src.as_os_str().to_owned(),
        })
        .collect();
    tracing::debug!(?args, "decoding");
    let (infos, frames_seen) = mpsc::channel::<FrameInfo>();
    let on_line = Box::new(move |line: &str| {
        if !line.contains("Parsed_showinfo") {
            return false;
        }
        if let Some(info) = parse_showinfo(line) {
            let _ = infos.send(info);
        }
        true
    });
    let mut process = Process::spawn("ffmpeg", ffmpeg, &args, limits, Some(on_line))?;
    // Bigger pipe buffers: fewer wake-ups while moving megabytes of pixels.
    let _ = rustix::pipe::fcntl_setpipe_size(&*process.stdout(), 1 << 20);
    let bytes_per_pixel = u64::from(RawFormat::of(recipe).bytes_per_pixel());
    let mut scratch = Vec::new();
    let mut delivered = 0u64;
    // Its own failure (exit status, signal, timeout) when it has one; else
    // it stopped short, and what it said on stderr tells why.
    let ended_early = |process: Process, want: i64, delivered: u64| match process.finish() {
        Err(err) => err.into(),
        Ok(finished) if delivered == 0 => DecodeError::ZeroOutput {
            expected: segment.want.len() as u64,
            stderr_tail: finished.stderr_tail,
        },
        Ok(_) => DecodeError::MissedFrame {
            detail: format!(
                "ffmpeg ended before the frame at {want} (time base {}) of {}",
                timeline.time_base(),
                src.display()
            ),
        },
    };
    for &want in &segment.want {
        loop {
            let Ok(info) = frames_seen.recv() else {
                return Err(ended_early(process, want, delivered));
            };
            let Some(pts) = info.pts else {
                process.stop();
                return Err(DecodeError::BadOutput {
                    detail: format!(
                        "ffmpeg decoded a frame without a time from {}",
                        src.display()
                    ),
                });
            };
            let pts = pts - probe.first_pts;
            if pts > want {
                process.stop();
                return Err(DecodeError::MissedFrame {
                    detail: format!(
                        "the frame at {want} (time base {}) of {} (the next was at {pts})",
                        timeline.time_base(),
                        src.display()
                    ),
                });
            }
            let len = u64::from(info.width) * u64::from(info.height) * bytes_per_pixel;
            let keep = pts == want;
            let mut buffer = if keep {
                buffers.take()
            } else {
                std::mem::take(&mut scratch)
            };
            buffer.resize(len as usize, 0);
            if process.stdout().read_exact(&mut buffer).is_err() {
                return Err(ended_early(process, want, delivered));
            }
            if !keep {
                scratch = buffer;
                continue;
            }
            delivered += 1;
            let frame = RawFrame {
                pts,
                width: info.width,
                height: info.height,
                data: buffer,
            };
            if !deliver(frame) {
                process.stop();
                return Err(ToolError::Cancelled.into());
            }
            break;
        }
    }
    // Every planned frame is in: what ffmpeg would decode next is not needed.
    process.stop();
    Ok(delivered)
}

/// Why a decode segment did not give its planned frames.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// ffmpeg could not run, failed, or was stopped.
    #[error(transparent)]
    Tool(#[from] ToolError),
    /// ffmpeg succeeded but wrote no frames.
    #[error("ffmpeg wrote no frames (expected {expected}): {stderr_tail}")]
    ZeroOutput {
        /// Frames the plan expects.
        expected: u64,
        /// The last lines of ffmpeg's stderr.
        stderr_tail: String,
    },
    /// ffmpeg wrote a different number of frames than the plan expects, or a
    /// frame that is not a valid image.
    #[error("ffmpeg output does not match the plan: {detail}")]
    BadOutput {
        /// What differs.
        detail: String,
    },
    /// ffmpeg went past a planned frame without decoding it (after a seek, a
    /// decoder may drop frames it considers unreachable). The run is tried
    /// again from an earlier keyframe; if that fails too, this is reported.
    #[error("a planned frame was not decoded: {detail}")]
    MissedFrame {
        /// Which frame, of which source.
        detail: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn showinfo_lines_give_time_and_size() {
        let line = "[Parsed_showinfo_1 @ 0x55e14b70abc0] n:   0 pts:   4096 pts_time:0.266667 pos:     1457 fmt:rgb24 sar:1/1 s:320x240 i:P iskey:1 type:I";
        assert_eq!(
            parse_showinfo(line),
            Some(FrameInfo {
                pts: Some(4096),
                width: 320,
                height: 240
            })
        );
        let config = "[Parsed_showinfo_1 @ 0x55e] config in time_base: 1/15360, frame_rate: 60/1";
        assert_eq!(parse_showinfo(config), None);
        let nopts = "[Parsed_showinfo_1 @ 0x1] n:   2 pts:NOPTS pts_time:NOPTS s:2x2 i:P";
        assert_eq!(parse_showinfo(nopts).map(|i| i.pts), Some(None));
    }
}
