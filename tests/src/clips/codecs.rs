//! The matrix's other codecs and containers: HEVC with a B-pyramid, VP9 (also
//! with alpha), AV1, ProRes in MOV, MPEG-2 in MPEG-TS.

use super::numbered::{clip, make, number_filter, numbered_input, strings};
use super::{Clip, HEIGHT, WIDTH};

/// Lossless HEVC (x265) with a B-pyramid (4 B-frames), keyframes every 24
/// (x265's default open GOP: CRA keyframes with leading pictures), tagged
/// `hvc1`, in MP4. 24 fps, 3 s.
pub fn hevc_bpyramid() -> Clip {
    let mut args = numbered_input(WIDTH, HEIGHT, "24", 72, "");
    args.extend(strings(&[
        "-c:v",
        "libx265",
        "-x265-params",
        "log-level=error:lossless=1:bframes=4:b-pyramid=1:b-adapt=0:keyint=24:min-keyint=24:scenecut=0",
        "-tag:v",
        "hvc1",
    ]));
    let path = make("m_hevc_bpyramid.mp4", &args);
    clip(
        "m_hevc_bpyramid",
        path,
        "libx265",
        "mp4",
        (24, 1),
        72,
        "lossless, B-pyramid of 4, keyint 24 (open GOP: CRA with leading pictures), hvc1",
    )
}

/// Lossless VP9 in WebM, 30 fps, 2 s.
pub fn vp9_webm() -> Clip {
    let mut args = numbered_input(WIDTH, HEIGHT, "30", 60, "");
    args.extend(strings(&[
        "-c:v",
        "libvpx-vp9",
        "-lossless",
        "1",
        "-g",
        "30",
        "-deadline",
        "good",
        "-cpu-used",
        "8",
    ]));
    let path = make("m_vp9.webm", &args);
    clip(
        "m_vp9",
        path,
        "libvpx-vp9",
        "webm",
        (30, 1),
        60,
        "lossless, keyframe every 30 (alt-ref frames hidden in superframes)",
    )
}

/// Lossless VP9 with alpha (`yuva420p`) in WebM, 30 fps, 2 s. The top band
/// has alpha 64, the rest is opaque. Decode with `-c:v libvpx-vp9` to keep
/// alpha.
pub fn vp9_alpha() -> Clip {
    let vf = format!("format=yuva420p,{}", number_filter(0, true));
    let args = strings(&[
        "-f",
        "lavfi",
        "-i",
        &format!("testsrc2=size={WIDTH}x{HEIGHT}:rate=30"),
        "-frames:v",
        "60",
        "-vf",
        &vf,
        "-c:v",
        "libvpx-vp9",
        "-pix_fmt",
        "yuva420p",
        "-lossless",
        "1",
        "-g",
        "30",
        "-deadline",
        "good",
        "-cpu-used",
        "8",
    ]);
    let path = make("m_vp9_alpha.webm", &args);
    Clip {
        alpha: true,
        decoder: Some("libvpx-vp9"),
        ..clip(
            "m_vp9_alpha",
            path,
            "libvpx-vp9",
            "webm",
            (30, 1),
            60,
            "lossless, yuva420p (alpha 64 in the top band), decode with -c:v libvpx-vp9",
        )
    }
}

/// Lossless AV1 (libaom, `lossless=1`, `-cpu-used 8`) in MP4, 30 fps, 2 s.
pub fn av1_mp4() -> Clip {
    let mut args = numbered_input(WIDTH, HEIGHT, "30", 60, "");
    args.extend(strings(&[
        "-c:v",
        "libaom-av1",
        "-aom-params",
        "lossless=1",
        "-cpu-used",
        "8",
        "-row-mt",
        "1",
        "-g",
        "30",
    ]));
    let path = make("m_av1.mp4", &args);
    clip(
        "m_av1",
        path,
        "libaom-av1",
        "mp4",
        (30, 1),
        60,
        "lossless libaom, keyframe every 30 (libsvtav1 1.4 and librav1e are also built in)",
    )
}

/// ProRes 422 HQ (prores_ks, 10-bit 4:2:2, all intra) in MOV at 30000/1001
/// fps, 2 s.
pub fn prores_mov() -> Clip {
    let mut args = numbered_input(WIDTH, HEIGHT, "30000/1001", 60, "format=yuv422p10le");
    args.extend(strings(&["-c:v", "prores_ks", "-profile:v", "3"]));
    let path = make("m_prores.mov", &args);
    clip(
        "m_prores",
        path,
        "prores_ks",
        "mov",
        (30000, 1001),
        60,
        "profile 3 (HQ), yuv422p10le, every frame a keyframe",
    )
}

/// MPEG-2 in MPEG-TS whose first frame is at exactly 10 s (90 kHz ticks
/// 900000): `-muxdelay 0 -muxpreload 0 -output_ts_offset 10`. 25 fps, 3 s,
/// GOP 12 with 2 B-frames; ffmpeg's MPEG-2 GOPs are open by default, so the
/// B-frames after each later I-frame lead it.
pub fn mpeg2_ts() -> Clip {
    let mut args = numbered_input(WIDTH, HEIGHT, "25", 75, "");
    args.extend(strings(&[
        "-c:v",
        "mpeg2video",
        "-q:v",
        "2",
        "-g",
        "12",
        "-bf",
        "2",
        "-muxdelay",
        "0",
        "-muxpreload",
        "0",
        "-output_ts_offset",
        "10",
    ]));
    let path = make("m_mpeg2.ts", &args);
    clip(
        "m_mpeg2_ts",
        path,
        "mpeg2video",
        "mpegts",
        (25, 1),
        75,
        "-q:v 2, GOP 12, 2 B-frames (open GOP), first pts 10 s",
    )
}
