//! A matrix of frame-numbered clips (issue 18), made at test time with lavfi
//! and the installed ffmpeg, cached under the target directory
//! ([`crate::make_clip`]).
//!
//! Every clip carries its frame number `N` (0-based, in presentation order)
//! in its pixels, laid out for [`crate::framenum`]:
//!
//! - top quarter: `testsrc2` (moving content, so that codecs really predict
//!   across frames; its own counter is for people, not for the reader);
//! - middle half: three flat grey blocks, left to right `N mod 16`,
//!   `⌊N/16⌋ mod 16`, `⌊N/256⌋ mod 16` (so 4096 frames can be told apart),
//!   each digit `k` as luma `16 + 14k` (limited range) with neutral chroma;
//! - bottom quarter: calibration patches, luma 16 (digit 0) on the left half
//!   and 226 (digit 15) on the right, so the reader does not depend on the
//!   range conversion (limited or full) that made the image.
//!
//! Frames are 192×144 (the rotated clip is displayed 144×192), 2–4 s long.
//! [`Clip::width`]/[`Clip::height`] are the size that ffmpeg's decoder
//! outputs (after autorotation).

use std::path::PathBuf;

use crate::make_clip;

/// One clip of the matrix and what is known about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clip {
    /// Short name, also the file name's stem.
    pub name: &'static str,
    /// The file (in [`crate::media_dir`]).
    pub path: PathBuf,
    /// The codec (ffmpeg's encoder).
    pub codec: &'static str,
    /// The container.
    pub container: &'static str,
    /// The nominal frame rate, `(num, den)`.
    pub rate: (u32, u32),
    /// Frames a full decode outputs (presentation order, after edit lists).
    pub frames: u32,
    /// Width of the decoded (and autorotated) frames.
    pub width: u32,
    /// Height of the decoded (and autorotated) frames.
    pub height: u32,
    /// The sample (pixel) aspect ratio as stored, `(num, den)`.
    pub sar: (u32, u32),
    /// Display rotation, clockwise degrees (as a `<video>` shows it).
    pub rotation: u32,
    /// Whether the clip has an alpha channel (decode with [`Clip::decoder`]).
    pub alpha: bool,
    /// The decoder to name before `-i` (`-c:v …`), if any: alpha in VP8/VP9
    /// survives only through libvpx.
    pub decoder: Option<&'static str>,
    /// How the clip is made and what is special about it.
    pub notes: &'static str,
}

/// The frame size of every clip before rotation.
pub const WIDTH: u32 = 192;
/// The frame size of every clip before rotation.
pub const HEIGHT: u32 = 144;

/// The `geq` filter that writes the frame number, `N + offset` (mod 4096),
/// over `testsrc2` (see the module docs). With `alpha`, the top band is
/// alpha 64 and the rest opaque.
pub fn number_filter(offset: u32, alpha: bool) -> String {
    let digit = format!("16+14*mod(floor((N+{offset})/pow(16,floor(3*X/W))),16)");
    let lum = format!("if(lt(Y,H/4),lum(X,Y),if(lt(Y,3*H/4),{digit},if(lt(X,W/2),16,226)))");
    let mut filter =
        format!("geq=lum='{lum}':cb='if(lt(Y,H/4),cb(X,Y),128)':cr='if(lt(Y,H/4),cr(X,Y),128)'");
    if alpha {
        filter.push_str(":a='if(lt(Y,H/4),64,255)'");
    }
    filter
}

/// `ffmpeg` arguments for `frames` numbered frames of `width`×`height` at
/// `rate` (lavfi input, `-frames:v`, and `-vf` with the numbering followed by
/// `extra_filters`).
fn numbered_input(
    width: u32,
    height: u32,
    rate: &str,
    frames: u32,
    extra_filters: &str,
) -> Vec<String> {
    let mut vf = format!("format=yuv420p,{}", number_filter(0, false));
    if !extra_filters.is_empty() {
        vf.push(',');
        vf.push_str(extra_filters);
    }
    strings(&[
        "-f",
        "lavfi",
        "-i",
        &format!("testsrc2=size={width}x{height}:rate={rate}"),
        "-frames:v",
        &frames.to_string(),
        "-vf",
        &vf,
    ])
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

fn make(name: &str, args: &[String]) -> PathBuf {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    make_clip(name, &args)
}

/// A clip with the defaults (192×144, square pixels, no rotation or alpha).
fn clip(
    name: &'static str,
    path: PathBuf,
    codec: &'static str,
    container: &'static str,
    rate: (u32, u32),
    frames: u32,
    notes: &'static str,
) -> Clip {
    Clip {
        name,
        path,
        codec,
        container,
        rate,
        frames,
        width: WIDTH,
        height: HEIGHT,
        sar: (1, 1),
        rotation: 0,
        alpha: false,
        decoder: None,
        notes,
    }
}

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

/// A phone-style portrait clip: stored 192×144 with a display matrix of 90°
/// clockwise (as phones write), displayed 144×192 upright. Made as upright
/// 144×192 content turned counter-clockwise (`transpose=cclock`), encoded
/// losslessly, then remuxed with `-metadata:s:v:0 rotate=270`: in ffmpeg
/// 5.1, `rotate` given while encoding writes no matrix at all, and on a
/// remux `rotate=90` writes a 90° *counter-clockwise* matrix; 270 writes the
/// phones' matrix (ffprobe: `rotation: -90`). 30 fps, 2 s.
pub fn rotated() -> Clip {
    let mut args = numbered_input(HEIGHT, WIDTH, "30", 60, "transpose=cclock");
    args.extend(strings(&["-c:v", "libx264", "-qp", "0", "-g", "30"]));
    let stored = make("m_rotated_source.mp4", &args);
    let remux = strings(&[
        "-i",
        stored.to_str().expect("utf-8 path"),
        "-c",
        "copy",
        "-metadata:s:v:0",
        "rotate=270",
    ]);
    let path = make("m_rotated.mp4", &remux);
    Clip {
        width: HEIGHT,
        height: WIDTH,
        rotation: 90,
        ..clip(
            "m_rotated",
            path,
            "libx264",
            "mp4",
            (30, 1),
            60,
            "stored 192x144, display matrix 90° clockwise (remux with rotate=270), shown 144x192",
        )
    }
}

/// Non-square pixels: 192×144 with SAR 4/3 (as HDV's 1440×1080), displayed
/// 256×144 (16:9). Lossless H.264 in MP4, 30 fps, 2 s.
pub fn anamorphic() -> Clip {
    let mut args = numbered_input(WIDTH, HEIGHT, "30", 60, "setsar=4/3");
    args.extend(strings(&["-c:v", "libx264", "-qp", "0", "-g", "30"]));
    let path = make("m_anamorphic.mp4", &args);
    Clip {
        sar: (4, 3),
        ..clip(
            "m_anamorphic",
            path,
            "libx264",
            "mp4",
            (30, 1),
            60,
            "SAR 4:3 (DAR 16:9), decoded at the stored 192x144",
        )
    }
}

/// Every clip of the matrix (made on first use).
pub fn matrix() -> Vec<Clip> {
    vec![
        h264_60(),
        h264_5994(),
        h264_30(),
        h264_25(),
        h264_24(),
        h264_closed_gop(),
        h264_open_gop(),
        hevc_bpyramid(),
        vp9_webm(),
        vp9_alpha(),
        av1_mp4(),
        prores_mov(),
        mpeg2_ts(),
        mp4_edit_list(),
        vfr_jitter(),
        vfr_gap(),
        rotated(),
        anamorphic(),
    ]
}
