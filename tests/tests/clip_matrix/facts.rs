//! What makes each clip what it is meant to be, as ffprobe sees it.

use framex_tests::clips::Clip;
use framex_tests::oracle::{leading_frames, probe_packets, Packet, SourceTimes};

/// ffprobe's value of one `stream=` or `stream_side_data=` entry of the
/// first video stream.
fn stream_entry(clip: &Clip, entry: &str) -> String {
    let output = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .arg(entry)
        .args(["-of", "default=nw=1:nk=1"])
        .arg(&clip.path)
        .output()
        .expect("ffprobe runs");
    assert!(output.status.success(), "ffprobe {entry} {}", clip.name);
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// What makes each clip what it is meant to be, as ffprobe sees it.
pub(crate) fn check_facts(clip: &Clip, times: &SourceTimes) {
    let packets = probe_packets(&clip.path);
    let leading = leading_frames(&packets);
    let reordered = packets
        .windows(2)
        .any(|w| w[1].pts < w[0].pts && !w[1].is_discard());
    let intervals: Vec<i64> = times.pts.windows(2).map(|w| w[1] - w[0]).collect();
    let open_gop = ["m_h264_open_gop", "m_hevc_bpyramid", "m_mpeg2_ts"];
    assert_eq!(
        !leading.is_empty(),
        open_gop.contains(&clip.name),
        "{}: leading frames after keyframes: {leading:?}",
        clip.name
    );
    let sar = stream_entry(clip, "stream=sample_aspect_ratio");
    assert_eq!(
        sar,
        format!("{}:{}", clip.sar.0, clip.sar.1),
        "{}: SAR",
        clip.name
    );
    let rotation = stream_entry(clip, "stream_side_data=rotation");
    let vfr = clip.name.starts_with("m_vfr");
    if !vfr {
        let rate = stream_entry(clip, "stream=r_frame_rate");
        assert_eq!(
            rate,
            format!("{}/{}", clip.rate.0, clip.rate.1),
            "{}",
            clip.name
        );
    }
    match clip.name {
        "m_h264_closed_gop" | "m_h264_open_gop" | "m_hevc_bpyramid" | "m_mpeg2_ts" => {
            assert!(
                reordered,
                "{}: B-frames (pts out of decode order)",
                clip.name
            );
        }
        "m_editlist" => {
            // The cut keeps the GOP from its keyframe: 9 packets before the
            // edit are flagged discard, the first of them the keyframe.
            let discarded: Vec<&Packet> = packets.iter().filter(|p| p.is_discard()).collect();
            assert_eq!(discarded.len(), 9, "{}: discarded packets", clip.name);
            assert!(packets[0].is_discard() && packets[0].is_key());
            assert!(discarded.iter().all(|p| p.pts.is_some_and(|t| t < 0)));
            assert_eq!(times.first, 0, "the edit starts at pts 0");
            assert!(reordered);
        }
        "m_vfr_jitter" => {
            assert_eq!(times.time_base, (1, 90000));
            assert!(intervals.iter().all(|&i| (2100..=3900).contains(&i)));
            assert!(intervals.iter().any(|&i| i != 3000), "jittered");
        }
        "m_vfr_gap" => {
            let (tb_num, tb_den) = times.time_base;
            let gap = intervals.iter().max().expect("intervals") * tb_num;
            assert!(gap >= tb_den, "{}: a gap of at least 1 s", clip.name);
        }
        "m_rotated" => assert_eq!(rotation, "-90", "{}: display matrix", clip.name),
        _ => {}
    }
    if clip.name != "m_rotated" {
        assert_eq!(rotation, "", "{}: no display matrix", clip.name);
    }
    if clip.name == "m_mpeg2_ts" {
        assert_eq!(times.time_base, (1, 90000));
        assert_eq!(times.first, 900_000, "{}: first pts at 10 s", clip.name);
    } else {
        assert_eq!(times.first, 0, "{}: first pts", clip.name);
    }
}
