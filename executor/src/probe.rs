//! Probing sources with ffprobe: once per source identity, remembered on disk.

use std::path::{Path, PathBuf};
use std::time::Duration;

use framex_core::{rescale_near, Fps, SourceFacts, SourceIdentity};
use serde::{Deserialize, Serialize};
use tokio::process::Command;

use crate::error::{exit_error, spawn_error, stderr_tail, ExtractError};
use crate::extract::GroupKiller;

/// Version of the stored probe format; bump when [`Probe`] changes meaning.
const PROBE_VERSION: u32 = 1;

/// What framex needs to know about a source's first video stream. Times are
/// microseconds relative to the stream's first timestamp (media time 0).
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
    /// `r_frame_rate` (the stream's base rate).
    pub r_frame_rate: String,
    /// `avg_frame_rate`.
    pub avg_frame_rate: String,
    /// Variable frame rate: `|r − avg| / max(r, avg) > 0.1`, as in hyperframes.
    pub vfr: bool,
    /// Color transfer, when tagged.
    pub color_transfer: Option<String>,
    /// Absolute time of media time 0 (the first frame's pts), microseconds.
    pub start_us: i64,
    /// End of the last frame (pts + duration), relative, microseconds.
    pub duration_us: i64,
    /// Every frame's presentation time, relative, sorted; decides seek points.
    pub frame_times_us: Vec<i64>,
}

impl Probe {
    /// The facts the planner is given.
    pub fn facts(&self, identity: SourceIdentity) -> SourceFacts {
        SourceFacts {
            identity,
            duration_us: Some(self.duration_us),
            alpha: self.alpha,
            vfr: self.vfr,
        }
    }

    /// The decoder to force so that alpha survives (ffmpeg's native vp8/vp9
    /// decoders drop the alpha plane).
    pub fn decoder(&self) -> Option<&'static str> {
        match (self.alpha, self.codec.as_str()) {
            (true, "vp9") => Some("libvpx-vp9"),
            (true, "vp8") => Some("libvpx"),
            _ => None,
        }
    }

    /// The presentation time of the source's true last frame (relative,
    /// microseconds): the latest frame timestamp, not the container's
    /// duration, which can end later (or earlier) than the last frame.
    pub fn last_frame_us(&self) -> i64 {
        self.frame_times_us.last().copied().unwrap_or(0)
    }

    /// The input seek point for frames from relative time `t_us`: the last
    /// frame at or before `t_us`, so the frame on screen at `t_us` is decoded
    /// and every seek gives the same frames (see TOOLCHAIN.md).
    pub fn seek_point_us(&self, t_us: i64) -> i64 {
        let i = self.frame_times_us.partition_point(|&p| p <= t_us);
        if i == 0 {
            0
        } else {
            self.frame_times_us[i - 1]
        }
    }
}

/// Runs ffprobe on `path` (bounded by `timeout`).
pub async fn probe(ffprobe: &Path, path: &Path, timeout: Duration) -> Result<Probe, ExtractError> {
    let mut command = Command::new(ffprobe);
    command
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .arg("stream=codec_name,pix_fmt,r_frame_rate,avg_frame_rate,color_transfer,time_base,start_pts:stream_tags=alpha_mode:packet=pts,duration")
        .args(["-of", "json"])
        .arg(path)
        .kill_on_drop(true)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        // Its own group, killed as a whole on timeout (see GroupKiller).
        .process_group(0);
    let child = command
        .spawn()
        .map_err(|err| spawn_error("ffprobe", ffprobe, &err))?;
    let _group = GroupKiller::new(&child);
    let output = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Err(_) => {
            return Err(ExtractError::FfmpegTimeout {
                tool: "ffprobe".into(),
                seconds: timeout.as_secs(),
                stderr_tail: "(killed)".into(),
            })
        }
        Ok(Err(err)) => return Err(ExtractError::io("waiting for ffprobe", ffprobe, &err)),
        Ok(Ok(output)) => output,
    };
    let invalid = |detail: String| ExtractError::InvalidMedia {
        path: path.to_path_buf(),
        detail,
    };
    if !output.status.success() {
        return Err(exit_error(
            "ffprobe",
            &output.status,
            &output.stderr,
            |_, _| invalid(stderr_tail(&output.stderr, 3)),
        ));
    }
    parse(&output.stdout).map_err(invalid)
}

#[derive(Deserialize)]
struct Raw {
    #[serde(default)]
    streams: Vec<RawStream>,
    #[serde(default)]
    packets: Vec<RawPacket>,
}

#[derive(Deserialize)]
struct RawStream {
    codec_name: Option<String>,
    pix_fmt: Option<String>,
    r_frame_rate: Option<String>,
    avg_frame_rate: Option<String>,
    color_transfer: Option<String>,
    time_base: Option<String>,
    start_pts: Option<i64>,
    #[serde(default)]
    tags: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RawPacket {
    pts: Option<i64>,
    duration: Option<i64>,
}

/// Parses ffprobe's JSON (exposed for tests).
pub fn parse(json: &[u8]) -> Result<Probe, String> {
    let raw: Raw =
        serde_json::from_slice(json).map_err(|e| format!("unreadable ffprobe output: {e}"))?;
    let stream = raw.streams.into_iter().next().ok_or("no video stream")?;
    let (tb_num, tb_den) = stream
        .time_base
        .as_deref()
        .and_then(parse_ratio)
        .ok_or("no usable time base")?;
    // Rounded to nearest, as ffmpeg's `settb` does in the recipe, so frame
    // times here equal the timestamps the fps filter sees.
    let to_us = |ticks: i64| -> i64 { rescale_near(ticks, (tb_num, tb_den), (1, 1_000_000)) };
    let mut pts: Vec<(i64, i64)> = raw
        .packets
        .iter()
        .filter_map(|p| p.pts.map(|t| (t, p.duration.unwrap_or(0))))
        .collect();
    if pts.is_empty() {
        return Err("the video stream has no frames".into());
    }
    pts.sort_unstable();
    let first = stream.start_pts.unwrap_or(pts[0].0).min(pts[0].0);
    let r = stream.r_frame_rate.clone().unwrap_or_default();
    let avg = stream.avg_frame_rate.clone().unwrap_or_default();
    let fallback_frame = parse_ratio(&avg)
        .or_else(|| parse_ratio(&r))
        .and_then(|(n, d)| Fps::new(n as u32, d as u32))
        .map_or(0, |f| f.frame_time_us(0, 1));
    let end = pts
        .iter()
        .map(|&(t, d)| to_us(t) - to_us(first) + if d > 0 { to_us(d) } else { fallback_frame })
        .max()
        .unwrap_or(0);
    let frame_times_us: Vec<i64> = pts.iter().map(|&(t, _)| to_us(t) - to_us(first)).collect();
    let codec = stream.codec_name.unwrap_or_default();
    let pix_fmt = stream.pix_fmt.unwrap_or_default();
    let alpha = pix_fmt_has_alpha(&pix_fmt)
        || (matches!(codec.as_str(), "vp8" | "vp9")
            && stream.tags.get("alpha_mode").map(String::as_str) == Some("1"));
    Ok(Probe {
        version: PROBE_VERSION,
        vfr: is_vfr(&r, &avg),
        codec,
        pix_fmt,
        alpha,
        r_frame_rate: r,
        avg_frame_rate: avg,
        color_transfer: stream.color_transfer.filter(|t| t != "unknown"),
        start_us: to_us(first),
        duration_us: end.max(1),
        frame_times_us,
    })
}

fn parse_ratio(text: &str) -> Option<(i64, i64)> {
    let (n, d) = text.split_once('/')?;
    let (n, d) = (n.parse::<i64>().ok()?, d.parse::<i64>().ok()?);
    (n > 0 && d > 0).then_some((n, d))
}

fn is_vfr(r: &str, avg: &str) -> bool {
    match (parse_ratio(r), parse_ratio(avg)) {
        (Some((rn, rd)), Some((an, ad))) => {
            let (r, a) = (rn as f64 / rd as f64, an as f64 / ad as f64);
            (r - a).abs() / r.max(a) > 0.1
        }
        _ => false,
    }
}

fn pix_fmt_has_alpha(pix_fmt: &str) -> bool {
    pix_fmt.starts_with("yuva")
        || pix_fmt.starts_with("rgba")
        || pix_fmt.starts_with("bgra")
        || pix_fmt.starts_with("argb")
        || pix_fmt.starts_with("abgr")
        || pix_fmt.starts_with("gbrap")
        || pix_fmt.starts_with("ya")
}

/// Where a probe is remembered: next to the cache, keyed by source identity.
pub fn stored_probe_path(cache_root: &Path, identity: &SourceIdentity) -> PathBuf {
    let text = serde_json::to_string(identity).unwrap_or_default();
    let digest = blake3::hash(format!("probe-v{PROBE_VERSION}\0{text}").as_bytes()).to_hex();
    cache_root
        .join("probe")
        .join(format!("{}.json", &digest[..32]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ffprobe_json() {
        let json = br#"{"packets":[{"pts":0,"duration":512},{"pts":1024,"duration":512},{"pts":512,"duration":512}],
          "streams":[{"codec_name":"vp9","pix_fmt":"yuv420p","r_frame_rate":"30/1","avg_frame_rate":"20/1","time_base":"1/15360","start_pts":0,"tags":{"alpha_mode":"1"}}]}"#;
        let p = parse(json).unwrap();
        assert!(p.alpha && p.vfr);
        assert_eq!(p.frame_times_us, vec![0, 33_333, 66_667]);
        assert_eq!(p.duration_us, 100_000);
        assert_eq!(p.decoder(), Some("libvpx-vp9"));
        assert_eq!(p.seek_point_us(50_000), 33_333);
        assert_eq!(p.seek_point_us(0), 0);
        // Packets come in decode order; the last frame is the latest pts.
        assert_eq!(p.last_frame_us(), 66_667);
    }

    #[test]
    fn no_stream_is_an_error() {
        assert!(parse(br#"{"streams":[],"packets":[]}"#).is_err());
        assert!(parse(b"garbage").is_err());
    }
}
