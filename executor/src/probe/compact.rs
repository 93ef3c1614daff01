//! ffprobe's view of a source: its `-of compact` output, read into [`Raw`].

use std::ffi::OsString;
use std::path::Path;

use super::{from_raw, Probe, ProbeError, Raw, RawPacket, RawStream};
use crate::process::{self, Limits, ToolError};

/// Runs ffprobe on `path`.
pub fn ffprobe(ffprobe: &Path, path: &Path, limits: &Limits) -> Result<Probe, ProbeError> {
    let args: Vec<OsString> = [
        "-v",
        "error",
        "-select_streams",
        "v:0",
        "-show_entries",
        "stream=codec_name,pix_fmt,width,height,sample_aspect_ratio,color_transfer,time_base:\
         stream_tags=alpha_mode:packet=pts,duration,flags",
        // One line per section, `key=value|…`: a fifth less of ffprobe's
        // time than JSON on a long source, and quicker to read.
        "-of",
        "compact",
    ]
    .iter()
    .map(OsString::from)
    .chain([path.as_os_str().to_owned()])
    .collect();
    let invalid = |detail: String| ProbeError::InvalidMedia {
        path: path.to_path_buf(),
        detail,
    };
    let out = process::output("ffprobe", ffprobe, &args, limits).map_err(|e| match e {
        ToolError::Failed { stderr_tail, .. } => invalid(stderr_tail),
        other => other.into(),
    })?;
    parse(&out).map_err(invalid)
}

/// Parses ffprobe's `-of compact` output: a `stream|key=value|…` line and
/// one `packet|…` line per packet; `N/A` is no value.
pub fn parse(text: &[u8]) -> Result<Probe, String> {
    let text = std::str::from_utf8(text).map_err(|_| "unreadable ffprobe output: not UTF-8")?;
    let mut raw = Raw::default();
    for line in text.lines() {
        let mut fields = line.split('|');
        let section = fields.next().unwrap_or_default();
        let pairs = fields
            .filter_map(|f| f.split_once('='))
            .filter(|(_, v)| *v != "N/A");
        match section {
            "stream" => {
                let mut stream = RawStream::default();
                for (key, value) in pairs {
                    let value = value.to_string();
                    match key {
                        "codec_name" => stream.codec_name = Some(value),
                        "pix_fmt" => stream.pix_fmt = Some(value),
                        "width" => stream.width = Some(number(&value, line)?),
                        "height" => stream.height = Some(number(&value, line)?),
                        "sample_aspect_ratio" => stream.sample_aspect_ratio = Some(value),
                        "color_transfer" => stream.color_transfer = Some(value),
                        "time_base" => stream.time_base = Some(value),
                        _ => {
                            if let Some(tag) = key.strip_prefix("tag:") {
                                stream.tags.insert(tag.to_string(), value);
                            }
                        }
                    }
                }
                raw.streams.push(stream);
            }
            "packet" => {
                let mut packet = RawPacket {
                    pts: None,
                    duration: None,
                    flags: String::new(),
                };
                for (key, value) in pairs {
                    match key {
                        "pts" => packet.pts = Some(number(value, line)?),
                        "duration" => packet.duration = Some(number(value, line)?),
                        "flags" => packet.flags = value.to_string(),
                        _ => {}
                    }
                }
                raw.packets.push(packet);
            }
            _ => {}
        }
    }
    from_raw(raw)
}

/// A number in a line of `-of compact` output.
fn number<T: std::str::FromStr>(value: &str, line: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("unreadable ffprobe output: {line:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ffprobe_output_in_presentation_order_without_discarded_packets() {
        let out = b"packet|pts=-512|duration=512|flags=_D_\n\
            packet|pts=0|duration=512|flags=K__\n\
            packet|pts=1024|duration=N/A|flags=___\n\
            packet|pts=512|duration=512|flags=___\n\
            stream|codec_name=vp9|pix_fmt=yuv420p|width=320|height=240|sample_aspect_ratio=1:1|\
            color_transfer=unknown|time_base=1/15360|tag:alpha_mode=1\n";
        let p = parse(out).unwrap();
        assert!(p.alpha);
        assert_eq!(p.sar, None);
        assert_eq!(p.first_pts, 0);
        assert_eq!(p.timeline.len(), Some(3));
        assert_eq!(p.timeline.pts(2), 1024);
        assert_eq!(p.timeline.end(), Some(1536));
        assert_eq!(p.duration_us(), 100_000);
        assert_eq!(p.decode_source().codec, "vp9");
    }

    #[test]
    fn a_stream_starting_late_is_relative_to_its_first_frame() {
        let out = b"packet|pts=903003|duration=3003|flags=K_\n\
            packet|pts=900000|duration=3003|flags=K_\n\
            stream|codec_name=mpeg2video|pix_fmt=yuv420p|sample_aspect_ratio=16:15|time_base=1/90000\n";
        let p = parse(out).unwrap();
        assert_eq!(p.first_pts, 900_000);
        assert_eq!(p.timeline.pts(1), 3003);
        assert_eq!(p.sar, Some((16, 15)));
    }

    #[test]
    fn untimed_ambiguous_or_unreadable_streams_are_refused() {
        assert!(parse(b"").is_err());
        assert!(parse(b"garbage").is_err());
        assert!(parse(b"packet|pts=x|flags=K_\nstream|time_base=1/30\n").is_err());
        let same = b"packet|pts=0|flags=K_\npacket|pts=0|flags=__\n\
            stream|codec_name=h264|time_base=1/30\n";
        assert!(parse(same)
            .unwrap_err()
            .contains("share the presentation time"));
        let untimed = b"packet|pts=N/A|flags=K_\nstream|codec_name=h264|time_base=1/30\n";
        assert!(parse(untimed).is_err());
        let no_pts = b"packet|flags=K_\nstream|codec_name=h264|time_base=1/30\n";
        assert!(parse(no_pts).is_err());
    }
}
