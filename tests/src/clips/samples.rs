//! The plain sample clips of the end-to-end tests (`testsrc2`, no frame
//! numbers): CFR, VFR, alpha and NTSC.

use std::path::PathBuf;

use super::make_clip;

/// Makes (once) the clip `name`: `seconds` s of the lavfi `source`
/// (`testsrc2=size=320x240:rate=30`, …) as yuv420p H.264, with `encoder`'s
/// options (`-g 30`, …) after `-c:v libx264`.
pub fn h264_clip(name: &str, source: &str, seconds: &str, encoder: &[&str]) -> PathBuf {
    let mut args = vec![
        "-f", "lavfi", "-i", source, "-t", seconds, "-pix_fmt", "yuv420p", "-c:v", "libx264",
    ];
    args.extend_from_slice(encoder);
    make_clip(name, &args)
}

/// 3 s of 320×240 testsrc2 at 30 fps, H.264 (CFR).
pub fn cfr_clip() -> PathBuf {
    h264_clip(
        "cfr30.mp4",
        "testsrc2=size=320x240:rate=30",
        "3",
        &["-g", "30"],
    )
}

/// 3 s at a nominal 30 fps with frames 20–40 dropped and later frames
/// jittered: a variable frame rate, H.264.
pub fn vfr_clip() -> PathBuf {
    make_clip(
        "vfr.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=30",
            "-t",
            "3",
            "-vf",
            "select='not(between(n,20,40))',setpts='PTS+if(gt(N,10),0.01/TB,0)'",
            "-fps_mode",
            "vfr",
            "-pix_fmt",
            "yuv420p",
            "-c:v",
            "libx264",
        ],
    )
}

/// 2 s of half-transparent 160×120 video, VP9 with alpha in WebM.
pub fn alpha_clip() -> PathBuf {
    make_clip(
        "alpha.webm",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=30,format=yuva420p,colorchannelmixer=aa=0.5",
            "-t",
            "2",
            "-c:v",
            "libvpx-vp9",
            "-pix_fmt",
            "yuva420p",
        ],
    )
}

/// 3 s at 30000/1001 fps (29.97), H.264.
pub fn ntsc_clip() -> PathBuf {
    h264_clip(
        "ntsc.mp4",
        "testsrc2=size=320x240:rate=30000/1001",
        "3",
        &[],
    )
}
