//! The matrix's H.264 clips: lossless CFR at five rates, and near-lossless
//! with B-frames in closed and open GOPs.

use super::numbered::{clip, make, numbered_input, strings};
use super::{Clip, HEIGHT, WIDTH};

/// Lossless CFR H.264 (`-qp 0`; x264 then makes no B-frames) in MP4.
fn h264_cfr(name: &'static str, rate: (u32, u32), frames: u32, gop: u32) -> Clip {
    let rate_text = format!("{}/{}", rate.0, rate.1);
    let mut args = numbered_input(WIDTH, HEIGHT, &rate_text, frames, "");
    args.extend(strings(&[
        "-c:v",
        "libx264",
        "-qp",
        "0",
        "-g",
        &gop.to_string(),
    ]));
    let path = make(&format!("{name}.mp4"), &args);
    clip(
        name,
        path,
        "libx264",
        "mp4",
        rate,
        frames,
        "lossless (-qp 0: no B-frames), closed GOP",
    )
}

/// H.264 at 60 fps, 3 s.
pub fn h264_60() -> Clip {
    h264_cfr("m_h264_60", (60, 1), 180, 60)
}

/// H.264 at 60000/1001 fps, 3 s.
pub fn h264_5994() -> Clip {
    h264_cfr("m_h264_5994", (60000, 1001), 180, 60)
}

/// H.264 at 30 fps, 3 s.
pub fn h264_30() -> Clip {
    h264_cfr("m_h264_30", (30, 1), 90, 30)
}

/// H.264 at 25 fps, 3 s.
pub fn h264_25() -> Clip {
    h264_cfr("m_h264_25", (25, 1), 75, 25)
}

/// H.264 at 24 fps, 3 s.
pub fn h264_24() -> Clip {
    h264_cfr("m_h264_24", (24, 1), 72, 24)
}

/// Near-lossless H.264 with B-frames (3, forced by `b-adapt=0`) and closed
/// GOPs of 15 at 30 fps, 3 s.
pub fn h264_closed_gop() -> Clip {
    let mut args = numbered_input(WIDTH, HEIGHT, "30", 90, "");
    args.extend(strings(&[
        "-c:v",
        "libx264",
        "-qp",
        "4",
        "-g",
        "15",
        "-bf",
        "3",
        "-x264-params",
        "scenecut=0:b-adapt=0",
    ]));
    let path = make("m_h264_closed_gop.mp4", &args);
    clip(
        "m_h264_closed_gop",
        path,
        "libx264",
        "mp4",
        (30, 1),
        90,
        "-qp 4, 3 B-frames, closed GOP of 15",
    )
}

/// Near-lossless H.264, open GOP: keyframes every 12 frames after the first
/// are non-IDR I-frames (recovery point SEI) followed in decode order by
/// leading B-frames that reference the previous GOP. 30 fps, 3 s.
pub fn h264_open_gop() -> Clip {
    let mut args = numbered_input(WIDTH, HEIGHT, "30", 90, "");
    args.extend(strings(&[
        "-c:v",
        "libx264",
        "-qp",
        "4",
        "-g",
        "12",
        "-bf",
        "3",
        "-x264-params",
        "open-gop=1:scenecut=0:b-adapt=0",
    ]));
    let path = make("m_h264_open_gop.mp4", &args);
    clip(
        "m_h264_open_gop",
        path,
        "libx264",
        "mp4",
        (30, 1),
        90,
        "-qp 4, 3 B-frames, open GOP of 12: non-IDR keyframes with leading B-frames",
    )
}
