//! The clip matrix (issue 18) is well-formed, and plain ffmpeg behaves on it
//! the way framex's pipeline relies on:
//!
//! - a full decode outputs exactly the frames that ffprobe's non-discarded
//!   packets announce, in presentation order, frame `k` reading `k`, with
//!   `showinfo` pts equal to the probed pts;
//! - decoding from a mid-stream keyframe (`-copyts -seek_timestamp 1
//!   -noaccurate_seek -ss <its pts>`) outputs the frames from that keyframe
//!   on, with the probed pts, pixel for pixel as a decode from the start
//!   gives them.
//!
//! Clips are made once and kept under the target directory.

use framex_tests::clips::{self, Clip};
use framex_tests::framenum::{
    decode_frames, decoded_numbers, frame_number, image_of, number_in, read_image, DecodedFrame,
};
use framex_tests::oracle::{leading_frames, probe_frames, probe_packets, Packet, SourceTimes};

/// Where to seek: the first frame (a keyframe, except in the edit-list clip
/// whose keyframe is discarded), the keyframe closest to the middle, and
/// every other keyframe (four, spread over the clip, when there are more
/// than ten).
fn seek_points(clip: &Clip, times: &SourceTimes) -> Vec<usize> {
    let later: Vec<usize> = times.keyframes.iter().copied().filter(|&k| k > 0).collect();
    assert!(
        !later.is_empty(),
        "{}: no keyframe after the first",
        clip.name
    );
    let middle = times.pts.len() / 2;
    let mid = *later
        .iter()
        .min_by_key(|&&k| k.abs_diff(middle))
        .expect("a keyframe");
    let mut points = vec![0, mid];
    let step = if later.len() <= 10 {
        1
    } else {
        later.len().div_ceil(4)
    };
    points.extend(later.iter().step_by(step));
    points.sort_unstable();
    points.dedup();
    points
}

/// `pts` (ticks of `time_base`) as seconds with 6 decimals, rounded up, so
/// that a seek to it never lands on the keyframe before.
fn seconds_ceil(pts: i64, time_base: (i64, i64)) -> String {
    let num = i128::from(pts) * i128::from(time_base.0) * 1_000_000;
    let den = i128::from(time_base.1);
    let micros = num.div_euclid(den) + i128::from(num.rem_euclid(den) != 0);
    format!(
        "{}{}.{:06}",
        if micros < 0 { "-" } else { "" },
        micros.abs() / 1_000_000,
        micros.abs() % 1_000_000
    )
}

/// Checks the whole decode of `clip`; returns its frames.
fn check_full_decode(clip: &Clip, times: &SourceTimes) -> Vec<DecodedFrame> {
    assert_eq!(
        times.pts.len(),
        clip.frames as usize,
        "{}: ffprobe's non-discarded packets",
        clip.name
    );
    let frames = decode_frames(clip, &[]);
    assert_eq!(
        frames.len(),
        times.pts.len(),
        "{}: frames decoded vs non-discarded packets probed",
        clip.name
    );
    let numbers: Vec<u32> = frames
        .iter()
        .enumerate()
        .map(|(k, f)| {
            number_in(&image_of(clip, f))
                .unwrap_or_else(|e| panic!("{} frame {k} (pts {}): {e}", clip.name, f.pts))
        })
        .collect();
    let want: Vec<u32> = (0..clip.frames).collect();
    assert_eq!(numbers, want, "{}: frame k reads k", clip.name);
    let shown: Vec<i64> = frames.iter().map(|f| f.pts).collect();
    let probed: Vec<i64> = (0..times.pts.len()).map(|i| times.absolute(i)).collect();
    assert_eq!(shown, probed, "{}: showinfo pts vs probed pts", clip.name);
    if clip.alpha {
        let alpha = image_of(clip, &frames[0]).top_band_alpha();
        assert!(
            alpha.is_some_and(|a| a.abs_diff(64) <= 2),
            "{}: alpha of the top band {alpha:?}, 64 expected",
            clip.name
        );
    }
    frames
}

/// Frames that a plain seek (no `-flags2 +showall`) to keyframe `key` of a
/// clip does not output although they follow the keyframe: ffmpeg 5.1's
/// H.264 decoder drops the P-frame of the last, partial open GOP (frames
/// 84–89; P 88 comes right after the leading B-frames in decode order). A
/// seek to any other keyframe gives every frame.
fn known_plain_seek_losses(clip: &Clip, key: usize) -> &'static [usize] {
    match (clip.name, key) {
        ("m_h264_open_gop", 84) => &[88],
        _ => &[],
    }
}

/// Decodes `clip` from frame `key` (a keyframe, or the first frame) with
/// `-copyts -seek_timestamp 1 -noaccurate_seek -ss <its pts>` and compares
/// with `full`: same pts, same pixels, from `key` on.
///
/// - plain: exactly `full[key..]`, less [`known_plain_seek_losses`];
/// - with `-flags2 +showall`: exactly `full[key..]` once the frames before
///   the keyframe are dropped. Those are the leading frames of an open GOP,
///   decoded from missing references: H.264 shows them (broken) only with
///   showall; HEVC (RASL) and MPEG-2 drop them either way.
fn check_seek(clip: &Clip, times: &SourceTimes, full: &[DecodedFrame], key: usize, showall: bool) {
    let ss = seconds_ceil(times.absolute(key), times.time_base);
    let mut args = vec!["-seek_timestamp", "1", "-noaccurate_seek", "-ss", &ss];
    if showall {
        args.splice(0..0, ["-flags2", "+showall"]);
    }
    let seeked = decode_frames(clip, &args);
    let key_pts = times.absolute(key);
    let (leading, from_key): (Vec<&DecodedFrame>, Vec<&DecodedFrame>) =
        seeked.iter().partition(|f| f.pts < key_pts);
    let want: Vec<&DecodedFrame> = if showall {
        assert!(
            leading.is_empty() || (key > 0 && clip.name == "m_h264_open_gop"),
            "{}: {} frames before keyframe {key} with showall",
            clip.name,
            leading.len()
        );
        full[key..].iter().collect()
    } else {
        assert!(
            leading.is_empty(),
            "{}: a plain seek to keyframe {key} output frames before it: {:?}",
            clip.name,
            leading.iter().map(|f| f.pts).collect::<Vec<_>>()
        );
        let lost = known_plain_seek_losses(clip, key);
        full.iter()
            .enumerate()
            .skip(key)
            .filter(|(i, _)| !lost.contains(i))
            .map(|(_, f)| f)
            .collect()
    };
    let got_pts: Vec<i64> = from_key.iter().map(|f| f.pts).collect();
    let want_pts: Vec<i64> = want.iter().map(|f| f.pts).collect();
    let mode = if showall { "with showall" } else { "plain" };
    assert_eq!(
        got_pts, want_pts,
        "{}: pts after a seek ({mode}) to keyframe {key} (-ss {ss})",
        clip.name
    );
    for (a, b) in from_key.iter().zip(&want) {
        assert!(
            a.pixels == b.pixels,
            "{}: the frame at pts {} differs after a seek ({mode}) to keyframe {key}",
            clip.name,
            a.pts
        );
    }
}

fn check(clip: Clip) {
    let times = probe_frames(&clip.path);
    let full = check_full_decode(&clip, &times);
    for key in seek_points(&clip, &times) {
        check_seek(&clip, &times, &full, key, false);
        check_seek(&clip, &times, &full, key, true);
    }
    check_facts(&clip, &times);
}

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
fn check_facts(clip: &Clip, times: &SourceTimes) {
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

macro_rules! clip_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check(clips::$name());
            }
        )*
    };
}

clip_tests!(
    h264_60,
    h264_5994,
    h264_30,
    h264_25,
    h264_24,
    h264_closed_gop,
    h264_open_gop,
    hevc_bpyramid,
    vp9_webm,
    vp9_alpha,
    av1_mp4,
    prores_mov,
    mpeg2_ts,
    mp4_edit_list,
    vfr_jitter,
    vfr_gap,
    rotated,
    anamorphic,
);

#[test]
fn matrix_lists_every_clip_once() {
    let names: std::collections::BTreeSet<&str> = clips::matrix().iter().map(|c| c.name).collect();
    assert_eq!(names.len(), 18);
}

/// ffmpeg 5.1's accurate seek (no `-noaccurate_seek`) with `-copyts
/// -seek_timestamp 1` on a source that starts at 10 s: the demuxer seeks to
/// the absolute time, but the trim after the decoder adds the start time
/// again, so `-ss 10.48` (absolute) outputs nothing at all and `-ss 0.48`
/// decodes from the start and outputs the frames from 10.48 s. With
/// `-noaccurate_seek` the absolute time is the whole story.
#[test]
fn accurate_seek_with_seek_timestamp_counts_a_non_zero_start_twice() {
    let clip = clips::mpeg2_ts();
    let times = probe_frames(&clip.path);
    let key = times
        .pts
        .iter()
        .position(|&p| p == 43_200)
        .expect("a frame at 10.48 s");
    assert!(times.keyframes.contains(&key));
    let decode = |args: &[&str]| -> Vec<i64> {
        let mut all = vec!["-seek_timestamp", "1"];
        all.extend_from_slice(args);
        decode_frames(&clip, &all).iter().map(|f| f.pts).collect()
    };
    let from_key: Vec<i64> = (key..times.pts.len()).map(|i| times.absolute(i)).collect();
    assert_eq!(decode(&["-noaccurate_seek", "-ss", "10.48"]), from_key);
    assert_eq!(decode(&["-ss", "10.48"]), Vec::<i64>::new());
    assert_eq!(decode(&["-ss", "0.48"]), from_key);
}

/// Writes frame `index` of `clip` to `dir/name` with ffmpeg, `filters`
/// appended to the frame selection and `args` before the output.
fn frame_file(
    clip: &Clip,
    dir: &std::path::Path,
    name: &str,
    index: u32,
    input_args: &[&str],
    filters: &str,
    args: &[&str],
) -> std::path::PathBuf {
    let out = dir.join(name);
    let vf = if filters.is_empty() {
        format!("select=eq(n\\,{index})")
    } else {
        format!("select=eq(n\\,{index}),{filters}")
    };
    let mut command = std::process::Command::new("ffmpeg");
    command.args(["-nostdin", "-v", "error", "-y"]);
    if let Some(decoder) = clip.decoder {
        command.args(["-c:v", decoder]);
    }
    let status = command
        .args(input_args)
        .arg("-i")
        .arg(&clip.path)
        .args(["-vf", &vf, "-frames:v", "1"])
        .args(args)
        .arg(&out)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success(), "writing {name}");
    out
}

#[test]
fn frame_numbers_read_back_from_png_and_jpeg_files() {
    let dir = tempfile::tempdir().unwrap();
    let clip = clips::h264_closed_gop();
    for (name, args) in [
        ("rgb24.png", &["-pix_fmt", "rgb24"][..]),
        ("rgba.png", &["-pix_fmt", "rgba"]),
        ("rgb48.png", &["-pix_fmt", "rgb48be"]),
        ("rgba64.png", &["-pix_fmt", "rgba64be"]),
        ("gray.png", &["-pix_fmt", "gray"]),
        ("gray16.png", &["-pix_fmt", "gray16be"]),
        ("q2.jpg", &["-q:v", "2"]),
        ("q10.jpg", &["-q:v", "10"]),
        ("gray.jpg", &["-pix_fmt", "gray", "-q:v", "5"]),
    ] {
        let path = frame_file(&clip, dir.path(), name, 77, &[], "", args);
        assert_eq!(frame_number(&path), 77, "{name}");
    }
    // Alpha survives (decoded with libvpx) and does not disturb the number.
    let alpha = clips::vp9_alpha();
    let path = frame_file(
        &alpha,
        dir.path(),
        "alpha.png",
        41,
        &[],
        "",
        &["-pix_fmt", "rgba"],
    );
    let image = read_image(&path);
    assert_eq!(number_in(&image), Ok(41));
    assert!(image.top_band_alpha().is_some_and(|a| a.abs_diff(64) <= 2));
    // A frame scaled to its display aspect still reads.
    let anamorphic = clips::anamorphic();
    let path = frame_file(
        &anamorphic,
        dir.path(),
        "square.png",
        33,
        &[],
        "scale=iw*sar:ih,setsar=1",
        &[],
    );
    assert_eq!(read_image(&path).width, 256);
    assert_eq!(frame_number(&path), 33);
}

#[test]
fn wrong_frames_do_not_read_as_numbers() {
    let dir = tempfile::tempdir().unwrap();
    // The rotated clip read without autorotation: no calibration where the
    // reader looks.
    let rotated = clips::rotated();
    let path = frame_file(&rotated, dir.path(), "upright.png", 5, &[], "", &[]);
    assert_eq!(frame_number(&path), 5);
    let path = frame_file(
        &rotated,
        dir.path(),
        "stored.png",
        5,
        &["-noautorotate"],
        "",
        &[],
    );
    let error = number_in(&read_image(&path)).expect_err("an unrotated frame");
    assert!(
        error.contains("calibration") || error.contains("block"),
        "{error}"
    );
    // A blend of frames 1 and 2 (digit 1.5): ambiguous.
    let clip = clips::h264_30();
    let path = frame_file(&clip, dir.path(), "blend.png", 2, &[], "", &[]);
    assert_eq!(frame_number(&path), 2);
    let path = dir.path().join("blend2.png");
    let status = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-i"])
        .arg(&clip.path)
        .args([
            "-vf",
            "tblend=all_mode=average,select=eq(n\\,1)",
            "-frames:v",
            "1",
        ])
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    let error = number_in(&read_image(&path)).expect_err("a blend");
    assert!(error.contains("ambiguous"), "{error}");
}

#[test]
fn decoded_numbers_count_in_presentation_order() {
    assert_eq!(
        decoded_numbers(&clips::vfr_gap()),
        (0..87).collect::<Vec<u32>>()
    );
}
