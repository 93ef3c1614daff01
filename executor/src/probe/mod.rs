//! Probing sources: the stream's facts and every frame's presentation time,
//! once per source identity, remembered in the store.
//!
//! Frame times come from the packets (no decoding): presentation order,
//! relative to the first frame, with packets the demuxer flags to discard
//! (edit lists) left out. Two frames at one time, or a stream without
//! timestamps, cannot be planned exactly: that is an `invalid_media` error,
//! never a guess.
//!
//! Two readers give the same packets ([`Raw`]), read by one [`from_raw`]:
//! - [`mp4`]: the index of an MP4/MOV file with one H.264 video track, read
//!   in-process from its sample tables (no process, no packet read; an hour
//!   of video in milliseconds). It answers only where it knows what ffprobe
//!   would say, and otherwise declines with the reason;
//! - [`compact`]: ffprobe, for everything else and for every error.

use std::path::{Path, PathBuf};

use framex_core::{DecodeSource, SourceFacts, SourceIdentity, TimeBase, Timeline};
use serde::{Deserialize, Serialize};

use crate::process::{Limits, ToolError};

mod compact;
pub mod mp4;

pub use compact::{ffprobe, parse};

/// Version of the stored probe format; bump when [`Probe`] changes meaning.
const PROBE_VERSION: u32 = 2;

/// What framex needs to know about a source's first video stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    /// The format version of this record (`PROBE_VERSION`); a stored probe of
    /// another version is probed again.
    pub version: u32,
    /// Codec name (`h264`, `vp9`, …).
    pub codec: String,
    /// Pixel format as ffprobe reports it.
    pub pix_fmt: String,
    /// The frames carry alpha (an `a` pixel format, or vp8/vp9 `alpha_mode=1`).
    pub alpha: bool,
    /// Stored width and height.
    pub width: u32,
    /// Stored height.
    pub height: u32,
    /// Sample aspect ratio, when the pixels are not square.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sar: Option<(u32, u32)>,
    /// Color transfer, when tagged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color_transfer: Option<String>,
    /// Presentation time of the first frame, absolute, in time-base ticks.
    pub first_pts: i64,
    /// Every frame's time (relative), the end and the keyframes.
    pub timeline: Timeline,
}

impl Probe {
    /// The facts the planner is given.
    pub fn facts(&self, identity: SourceIdentity) -> SourceFacts {
        SourceFacts {
            identity,
            alpha: self.alpha,
            timeline: Some(self.timeline.clone()),
            frame_rate: None,
            duration_us: None,
        }
    }

    /// What the decode recipe needs.
    pub fn decode_source(&self) -> DecodeSource {
        DecodeSource {
            codec: self.codec.clone(),
            alpha: self.alpha,
            sar: self.sar,
            time_base: Some(self.timeline.time_base()),
            first_pts: self.first_pts,
        }
    }

    /// The source's duration in microseconds (end of its last frame).
    pub fn duration_us(&self) -> i64 {
        self.timeline.end_us().unwrap_or(0)
    }
}

/// Probes `path`: from its MP4 index when [`mp4::read`] can, else with
/// ffprobe (`ffprobe` is asked for only then).
pub fn probe(
    ffprobe: impl FnOnce() -> Result<PathBuf, ToolError>,
    path: &Path,
    limits: &Limits,
) -> Result<Probe, ProbeError> {
    match mp4::read(path) {
        Ok(probe) => return Ok(probe),
        Err(why) => tracing::debug!(path = %path.display(), %why, "ffprobe reads this source"),
    }
    compact::ffprobe(&ffprobe()?, path, limits)
}

/// A source's packets and its video stream's facts, as ffprobe names them.
#[derive(Default)]
pub(crate) struct Raw {
    pub(crate) streams: Vec<RawStream>,
    /// In decode order.
    pub(crate) packets: Vec<RawPacket>,
}

#[derive(Default)]
pub(crate) struct RawStream {
    pub(crate) codec_name: Option<String>,
    pub(crate) pix_fmt: Option<String>,
    pub(crate) width: Option<u32>,
    pub(crate) height: Option<u32>,
    /// `n:d`.
    pub(crate) sample_aspect_ratio: Option<String>,
    pub(crate) color_transfer: Option<String>,
    /// `n/d`.
    pub(crate) time_base: Option<String>,
    pub(crate) tags: std::collections::BTreeMap<String, String>,
}

pub(crate) struct RawPacket {
    pub(crate) pts: Option<i64>,
    pub(crate) duration: Option<i64>,
    /// `K` keyframe, `D` discard (ffprobe's letters).
    pub(crate) flags: String,
}

pub(crate) fn from_raw(raw: Raw) -> Result<Probe, String> {
    let stream = raw.streams.into_iter().next().ok_or("no video stream")?;
    let time_base = stream
        .time_base
        .as_deref()
        .and_then(|t| parse_ratio(t, '/'))
        .and_then(|(n, d)| TimeBase::new(n, d))
        .ok_or("no usable time base")?;
    // Frames in presentation order; packets the demuxer marks to discard
    // (before an edit list's start) are decoded but never shown.
    // In decode order: the last keyframe decoded before each frame.
    let mut decode_order: Vec<(i64, Option<i64>)> = Vec::with_capacity(raw.packets.len());
    let mut last_key = None;
    let mut packets: Vec<(i64, Option<i64>, bool)> = Vec::with_capacity(raw.packets.len());
    for p in &raw.packets {
        if p.flags.contains('D') {
            continue;
        }
        let Some(pts) = p.pts else {
            return Err("a frame has no presentation time: its timing cannot be planned".into());
        };
        if p.flags.contains('K') {
            last_key = Some(pts);
        }
        decode_order.push((pts, last_key));
        packets.push((pts, p.duration.filter(|&d| d > 0), p.flags.contains('K')));
    }
    if packets.is_empty() {
        return Err("the video stream has no frames".into());
    }
    packets.sort_unstable_by_key(|p| p.0);
    if let Some(w) = packets.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(format!(
            "two frames share the presentation time {} (time base {time_base}): \
             which one a tick shows cannot be decided",
            w[0].0
        ));
    }
    let first_pts = packets[0].0;
    let pts: Vec<i64> = packets.iter().map(|p| p.0 - first_pts).collect();
    let keyframes: Vec<u64> = packets
        .iter()
        .enumerate()
        .filter(|(_, p)| p.2)
        .map(|(i, _)| i as u64)
        .collect();
    let (last_pts, last_duration, _) = *packets.last().expect("not empty");
    let median = {
        let mut intervals: Vec<i64> = pts.windows(2).map(|w| w[1] - w[0]).collect();
        intervals.sort_unstable();
        intervals
            .get(intervals.len().saturating_sub(1) / 2)
            .copied()
            .unwrap_or(1)
    };
    let end = last_pts - first_pts + last_duration.unwrap_or(median).max(1);
    let timeline = Timeline::new(time_base, pts, end, keyframes).map_err(|e| e.to_string())?;
    // A frame is decoded from the earlier of two keyframes: the last one
    // before it in presentation order, and the last one before it in
    // decode order (open GOPs: a frame shown after a keyframe may be decoded
    // before it, and then depends on the GOP before).
    let index_of = |pts: i64| timeline.index_of(pts - first_pts);
    let decode_from = decode_order
        .iter()
        .filter_map(|&(pts, key)| {
            let frame = index_of(pts)?;
            let by_decode = key.and_then(index_of).unwrap_or(0);
            let by_presentation = timeline.keyframe_for(frame);
            (by_decode < by_presentation).then(|| (frame, timeline.keyframe_for(by_decode)))
        })
        .collect();
    let timeline = timeline
        .with_decode_from(decode_from)
        .map_err(|e| e.to_string())?;
    let codec = stream.codec_name.unwrap_or_default();
    let pix_fmt = stream.pix_fmt.unwrap_or_default();
    let alpha = pix_fmt_has_alpha(&pix_fmt)
        || (matches!(codec.as_str(), "vp8" | "vp9")
            && stream.tags.get("alpha_mode").map(String::as_str) == Some("1"));
    let sar = stream
        .sample_aspect_ratio
        .as_deref()
        .and_then(|s| parse_ratio(s, ':'))
        .filter(|(n, d)| n != d);
    Ok(Probe {
        version: PROBE_VERSION,
        codec,
        pix_fmt,
        alpha,
        width: stream.width.unwrap_or(0),
        height: stream.height.unwrap_or(0),
        sar,
        color_transfer: stream.color_transfer.filter(|t| t != "unknown"),
        first_pts,
        timeline,
    })
}

fn parse_ratio(text: &str, separator: char) -> Option<(u32, u32)> {
    let (n, d) = text.split_once(separator)?;
    let (n, d) = (n.trim().parse::<u32>().ok()?, d.trim().parse::<u32>().ok()?);
    (n > 0 && d > 0).then_some((n, d))
}

fn pix_fmt_has_alpha(pix_fmt: &str) -> bool {
    ["yuva", "rgba", "bgra", "argb", "abgr", "gbrap", "ya"]
        .iter()
        .any(|p| pix_fmt.starts_with(p))
}

/// Where a probe is remembered: in the store, keyed by source identity.
pub fn stored_probe_path(store_root: &Path, identity: &SourceIdentity) -> PathBuf {
    let text = serde_json::to_string(identity).unwrap_or_default();
    let digest = blake3::hash(format!("probe-v{PROBE_VERSION}\0{text}").as_bytes()).to_hex();
    store_root
        .join("probe")
        .join(format!("{}.json", &digest[..32]))
}

/// Why a source could not be probed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    /// ffprobe could not find a video stream in the source, or its frames
    /// cannot be planned exactly.
    #[error("source {} is not a readable video: {detail}", .path.display())]
    InvalidMedia {
        /// The resolved path.
        path: PathBuf,
        /// ffprobe's complaint.
        detail: String,
    },
    /// ffprobe could not run, or was stopped.
    #[error(transparent)]
    Tool(#[from] ToolError),
}
