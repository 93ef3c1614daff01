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
//!
//! Also the maker every test clip goes through ([`make_clip`]) and the plain
//! sample clips of the end-to-end tests ([`cfr_clip`] and the others).

use std::path::PathBuf;

mod codecs;
mod geometry;
mod h264;
mod lavfi;
mod numbered;
mod samples;
mod timestamps;

pub use codecs::{av1_mp4, hevc_bpyramid, mpeg2_ts, prores_mov, vp9_alpha, vp9_webm};
pub use geometry::{anamorphic, rotated};
pub use h264::{h264_24, h264_25, h264_30, h264_5994, h264_60, h264_closed_gop, h264_open_gop};
pub use lavfi::{make_clip, media_dir};
pub use numbered::number_filter;
pub use samples::{alpha_clip, cfr_clip, h264_clip, ntsc_clip, vfr_clip};
pub use timestamps::{mp4_edit_list, vfr_gap, vfr_jitter};

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
