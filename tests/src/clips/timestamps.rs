//! The matrix's clips with unusual timestamps: an MP4 edit list that starts
//! on a non-keyframe, phone-style jitter, and a gap.

use super::numbered::{clip, make, number_filter, numbered_input, strings};
use super::{Clip, HEIGHT, WIDTH};

/// An MP4 cut by stream copy at 0.3 s from a 4 s 30 fps H.264 clip with
/// B-frames and 1 s GOPs: the cut starts on a non-keyframe (source frame 9)
/// through an edit list; the packets before it are flagged discard. The
/// source's numbers are offset by −9 (mod 4096), so the cut's frame `k`
/// reads `k`; the discarded frames read 4087…4095.
pub fn mp4_edit_list() -> Clip {
    let mut args = strings(&[
        "-f",
        "lavfi",
        "-i",
        &format!("testsrc2=size={WIDTH}x{HEIGHT}:rate=30"),
        "-frames:v",
        "120",
        "-vf",
        &format!("format=yuv420p,{}", number_filter(4096 - 9, false)),
    ]);
    args.extend(strings(&[
        "-c:v",
        "libx264",
        "-qp",
        "4",
        "-g",
        "30",
        "-bf",
        "3",
        "-x264-params",
        "scenecut=0:b-adapt=0",
    ]));
    let long = make("m_editlist_source.mp4", &args);
    let cut = strings(&[
        "-ss",
        "0.3",
        "-i",
        long.to_str().expect("utf-8 path"),
        "-c",
        "copy",
    ]);
    let path = make("m_editlist.mp4", &cut);
    clip(
        "m_editlist",
        path,
        "libx264",
        "mp4",
        (30, 1),
        111,
        "`-ss 0.3 -i src -c copy` of a 4 s clip (GOP 30, 3 B-frames): edit list, first 9 packets discard",
    )
}

/// Phone-style VFR: 30 fps with each frame's time jittered by −5…+5 ms
/// (deterministic, `mod(N*7+5,11)-5` ms; the first frame on 0), time base
/// 1/90000, lossless H.264 in MP4. 3 s.
pub fn vfr_jitter() -> Clip {
    let mut args = numbered_input(
        WIDTH,
        HEIGHT,
        "30",
        90,
        "settb=1/90000,setpts='N*3000+(mod(N*7+5,11)-5)*90'",
    );
    args.extend(strings(&[
        "-fps_mode",
        "vfr",
        "-enc_time_base",
        "1/90000",
        "-video_track_timescale",
        "90000",
        "-c:v",
        "libx264",
        "-qp",
        "0",
        "-g",
        "30",
    ]));
    let path = make("m_vfr_jitter.mp4", &args);
    clip(
        "m_vfr_jitter",
        path,
        "libx264",
        "mp4",
        (30, 1),
        90,
        "30 fps ±5 ms jitter, time base 1/90000 (-enc_time_base 1/90000 is needed, or x264 rounds to 1/30)",
    )
}

/// VFR with a gap: 4 s of 30 fps with source frames 30–62 dropped (a gap of
/// 34/30 s between frames 29 and 30 of the clip), numbered after the drop so
/// the clip's frames read 0, 1, 2, … Lossless H.264 in MP4, 87 frames.
pub fn vfr_gap() -> Clip {
    let args = strings(&[
        "-f",
        "lavfi",
        "-i",
        &format!("testsrc2=size={WIDTH}x{HEIGHT}:rate=30"),
        "-frames:v",
        "87",
        "-vf",
        &format!(
            "select='not(between(n,30,62))',format=yuv420p,{}",
            number_filter(0, false)
        ),
        "-fps_mode",
        "vfr",
        "-c:v",
        "libx264",
        "-qp",
        "0",
        "-g",
        "30",
    ]);
    let path = make("m_vfr_gap.mp4", &args);
    clip(
        "m_vfr_gap",
        path,
        "libx264",
        "mp4",
        (30, 1),
        87,
        "30 fps with a 34/30 s gap after frame 29 (source frames 30-62 dropped)",
    )
}
