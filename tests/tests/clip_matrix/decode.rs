//! How plain ffmpeg decodes each clip: a full decode gives the probed frames
//! in presentation order, and a decode from a keyframe gives the frames from
//! it on, pixel for pixel, with the probed pts (and the known losses).

use framex_tests::clips::{self, Clip};
use framex_tests::framenum::{decode_frames, image_of, number_in, DecodedFrame};
use framex_tests::oracle::{probe_frames, SourceTimes};

/// Where to seek: the first frame (a keyframe, except in the edit-list clip
/// whose keyframe is discarded), the keyframe closest to the middle, and
/// every other keyframe (four, spread over the clip, when there are more
/// than ten).
pub(crate) fn seek_points(clip: &Clip, times: &SourceTimes) -> Vec<usize> {
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
pub(crate) fn check_full_decode(clip: &Clip, times: &SourceTimes) -> Vec<DecodedFrame> {
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
pub(crate) fn check_seek(
    clip: &Clip,
    times: &SourceTimes,
    full: &[DecodedFrame],
    key: usize,
    showall: bool,
) {
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
