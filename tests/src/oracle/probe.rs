//! What the oracle reads from ffprobe: a clip's frame times
//! ([`probe_frames`]) and packets in file order ([`probe_packets`]).

use std::path::Path;
use std::process::Command;

use super::times::{lower_median_interval, SourceTimes};

/// Probes the first video stream of `path` with ffprobe: its frame times from
/// the packets (pts, duration, flags), discarded packets (flag `D`) excluded.
pub fn probe_frames(path: &Path) -> SourceTimes {
    let json = ffprobe_json(path, "packet=pts,duration,flags:stream=time_base");
    let time_base = json["streams"][0]["time_base"]
        .as_str()
        .and_then(parse_ratio)
        .unwrap_or_else(|| panic!("no time base for {}: {json}", path.display()));
    // (pts, duration, keyframe) of every packet that is not discarded.
    let mut packets: Vec<(i64, Option<i64>, bool)> = json["packets"]
        .as_array()
        .unwrap_or_else(|| panic!("no packets in {}", path.display()))
        .iter()
        .filter(|p| !p["flags"].as_str().unwrap_or("").contains('D'))
        .map(|p| {
            let pts = p["pts"]
                .as_i64()
                .unwrap_or_else(|| panic!("a packet without pts in {}: {p}", path.display()));
            let duration = p["duration"].as_i64().filter(|&d| d > 0);
            let key = p["flags"].as_str().unwrap_or("").contains('K');
            (pts, duration, key)
        })
        .collect();
    assert!(!packets.is_empty(), "no frames in {}", path.display());
    packets.sort_by_key(|p| p.0);
    for w in packets.windows(2) {
        assert!(
            w[0].0 != w[1].0,
            "two frames at pts {} in {}",
            w[0].0,
            path.display()
        );
    }
    let first = packets[0].0;
    let pts: Vec<i64> = packets.iter().map(|p| p.0 - first).collect();
    let last = packets[packets.len() - 1];
    let end = pts[pts.len() - 1] + last.1.unwrap_or_else(|| lower_median_interval(&pts));
    let keyframes = packets
        .iter()
        .enumerate()
        .filter(|(_, p)| p.2)
        .map(|(i, _)| i)
        .collect();
    SourceTimes {
        time_base,
        pts,
        end,
        first,
        keyframes,
    }
}

/// One packet of the first video stream as ffprobe lists it, in decode
/// (file) order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// Presentation time in ticks, if any.
    pub pts: Option<i64>,
    /// Decode time in ticks, if any.
    pub dts: Option<i64>,
    /// ffprobe's flags: `K` keyframe, `D` discard, `_` neither.
    pub flags: String,
}

impl Packet {
    /// Flagged keyframe.
    pub fn is_key(&self) -> bool {
        self.flags.contains('K')
    }

    /// Flagged discard (before an edit list's start, for example).
    pub fn is_discard(&self) -> bool {
        self.flags.contains('D')
    }
}

/// ffprobe's JSON of `entries` (`-show_entries`) of the first video stream.
fn ffprobe_json(path: &Path, entries: &str) -> serde_json::Value {
    let output = crate::output_ok(
        Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
            .arg(entries)
            .args(["-of", "json"])
            .arg(path),
        &format!("ffprobe {}", path.display()),
    );
    serde_json::from_slice(&output.stdout).expect("ffprobe prints JSON")
}

/// The packets of the first video stream of `path`, in decode order.
pub fn probe_packets(path: &Path) -> Vec<Packet> {
    let json = ffprobe_json(path, "packet=pts,dts,flags");
    json["packets"]
        .as_array()
        .unwrap_or_else(|| panic!("no packets in {}", path.display()))
        .iter()
        .map(|p| Packet {
            pts: p["pts"].as_i64(),
            dts: p["dts"].as_i64(),
            flags: p["flags"].as_str().unwrap_or("").to_string(),
        })
        .collect()
}

/// Leading frames: packets that follow a keyframe in decode order (up to
/// the next keyframe) but precede it in presentation order, as
/// `(keyframe pts, leading pts)`. In H.264 only a non-IDR keyframe can have
/// them (an IDR resets picture order), so they mark open GOPs.
pub fn leading_frames(packets: &[Packet]) -> Vec<(i64, i64)> {
    let mut leading = Vec::new();
    let mut key: Option<i64> = None;
    for p in packets.iter().filter(|p| !p.is_discard()) {
        if p.is_key() {
            key = p.pts;
        } else if let (Some(k), Some(pts)) = (key, p.pts) {
            if pts < k {
                leading.push((k, pts));
            }
        }
    }
    leading
}

/// `"num/den"` as a pair.
pub fn parse_ratio(text: &str) -> Option<(i64, i64)> {
    let (num, den) = text.split_once('/')?;
    Some((num.trim().parse().ok()?, den.trim().parse().ok()?))
}
