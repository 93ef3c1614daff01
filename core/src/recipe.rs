//! The recipe: how a source frame becomes image bytes. ffmpeg decodes a run
//! of frames (its argv is [`decode_args`]) and hands them over as raw
//! pixels in [`RawFormat`]; framex encodes each one with [`ENCODE`].
//!
//! Every part of this module can change frame bytes. A test pins its whole
//! description ([`describe`]) to [`RECIPE_VERSION`]: changing the recipe
//! without bumping the version fails it, so no stored frame made by an older
//! recipe is ever served for a newer one.

use crate::composition::{ImageFormat, Transfer};
use crate::key::Recipe;
use crate::timeline::TimeBase;

/// Version of the recipe: part of every frame's key. Bump it whenever
/// anything in this module changes what a frame's bytes are.
pub const RECIPE_VERSION: u32 = 2;

/// The pixels ffmpeg hands over for a recipe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawFormat {
    /// 8-bit RGB (PNG, JPEG).
    Rgb24,
    /// 8-bit RGBA (PNG of a source with alpha).
    Rgba,
    /// 16-bit big-endian RGB (PNG with an HDR transfer).
    Rgb48,
    /// 16-bit big-endian RGBA (PNG with an HDR transfer and alpha).
    Rgba64,
}

impl RawFormat {
    /// The format of a recipe.
    pub fn of(recipe: Recipe) -> Self {
        match (recipe.transfer.is_some(), recipe.alpha) {
            (false, false) => Self::Rgb24,
            (false, true) => Self::Rgba,
            (true, false) => Self::Rgb48,
            (true, true) => Self::Rgba64,
        }
    }

    /// ffmpeg's name for it.
    pub fn pix_fmt(self) -> &'static str {
        match self {
            Self::Rgb24 => "rgb24",
            Self::Rgba => "rgba",
            Self::Rgb48 => "rgb48be",
            Self::Rgba64 => "rgba64be",
        }
    }

    /// Bytes per pixel.
    pub fn bytes_per_pixel(self) -> u32 {
        match self {
            Self::Rgb24 => 3,
            Self::Rgba => 4,
            Self::Rgb48 => 6,
            Self::Rgba64 => 8,
        }
    }

    /// Channels per pixel.
    pub fn channels(self) -> u32 {
        match self {
            Self::Rgb24 | Self::Rgb48 => 3,
            Self::Rgba | Self::Rgba64 => 4,
        }
    }

    /// Bits per channel.
    pub fn bit_depth(self) -> u32 {
        match self {
            Self::Rgb24 | Self::Rgba => 8,
            Self::Rgb48 | Self::Rgba64 => 16,
        }
    }
}

/// How framex encodes frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncodeSettings {
    /// PNG: the `png` crate's `Compression::Fast` (fdeflate).
    pub png_compression: &'static str,
    /// PNG: one filter for every row.
    pub png_filter: &'static str,
    /// JPEG quality (1–100), 4:2:0 chroma.
    pub jpeg_quality: u8,
}

/// The encoder settings of this recipe version.
pub const ENCODE: EncodeSettings = EncodeSettings {
    png_compression: "fast",
    png_filter: "up",
    jpeg_quality: 92,
};

/// What the decode recipe needs to know about a source.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecodeSource {
    /// The codec name, as ffprobe reports it (`h264`, `vp9`, …).
    pub codec: String,
    /// The frames carry alpha.
    pub alpha: bool,
    /// The sample aspect ratio, when the pixels are not square.
    pub sar: Option<(u32, u32)>,
    /// The stream's time base.
    pub time_base: Option<TimeBase>,
    /// Presentation time of the stream's first frame, ticks (absolute).
    pub first_pts: i64,
}

/// One argument of ffmpeg's command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    /// Literal text.
    Text(String),
    /// The source file's path (not text: a path need not be UTF-8).
    Input,
}

/// The decoder to force so that alpha survives: ffmpeg's native vp8/vp9
/// decoders drop the alpha plane.
pub fn alpha_decoder(source: &DecodeSource) -> Option<&'static str> {
    match (source.alpha, source.codec.as_str()) {
        (true, "vp9") => Some("libvpx-vp9"),
        (true, "vp8") => Some("libvpx"),
        _ => None,
    }
}

/// The `-vf` chain: display geometry (rotation is applied by ffmpeg itself,
/// as a `<video>` element does), the transfer, the pixel format, and
/// `showinfo` last, so each frame's presentation time is printed as it
/// leaves the graph.
pub fn filters(source: &DecodeSource, recipe: Recipe) -> String {
    let mut filters = Vec::new();
    if source.sar.is_some_and(|(n, d)| n != d && n > 0 && d > 0) {
        // Non-square pixels: scaled to the display aspect, as a browser
        // shows the video (an <img> ignores a PNG's pHYs aspect).
        filters.push("scale=w='round(iw*sar)':h=ih:flags=bicubic,setsar=1".to_string());
    }
    if let Some(transfer) = recipe.transfer {
        let t = match transfer {
            Transfer::Pq => "smpte2084",
            Transfer::Hlg => "arib-std-b67",
        };
        filters.push(format!(
            "zscale=tin=bt709:pin=bt709:min=bt709:t={t}:p=bt2020:m=bt2020nc:npl=203"
        ));
    }
    filters.push(format!("format={}", RawFormat::of(recipe).pix_fmt()));
    filters.push("showinfo=checksum=0".to_string());
    filters.join(",")
}

/// ffmpeg's arguments to decode `source` from the keyframe at `seek_pts`
/// (absolute, ticks; `None` from the start) to the end, writing raw frames
/// in [`RawFormat::of`]`(recipe)` to stdout and one `showinfo` line per
/// frame to stderr. Timestamps pass through untouched (`-copyts`, no frame
/// rate conversion); the caller keeps the frames it planned, by their
/// presentation time, and stops ffmpeg after the last one.
pub fn decode_args(source: &DecodeSource, recipe: Recipe, seek_pts: Option<i64>) -> Vec<Arg> {
    let mut args: Vec<Arg> = Vec::new();
    let push = |args: &mut Vec<Arg>, items: &[&str]| {
        args.extend(items.iter().map(|s| Arg::Text(s.to_string())));
    };
    push(
        &mut args,
        &["-nostdin", "-hide_banner", "-nostats", "-loglevel", "info"],
    );
    if let Some(decoder) = alpha_decoder(source) {
        push(&mut args, &["-c:v", decoder]);
    }
    if let (Some(pts), Some(tb)) = (seek_pts, source.time_base) {
        // An absolute timestamp (not offset by the file's start), rounded up
        // to the microsecond so the demuxer picks this keyframe and not the
        // one before; frames are not trimmed at the seek point (the caller
        // keeps frames by their times).
        let us = tb.ticks_to_us_ceil(pts);
        push(&mut args, &["-seek_timestamp", "1", "-noaccurate_seek"]);
        push(&mut args, &["-ss", &crate::time::format_us(us)]);
    }
    push(&mut args, &["-copyts", "-i"]);
    args.push(Arg::Input);
    let filters = filters(source, recipe);
    push(
        &mut args,
        &["-map", "0:v:0", "-an", "-sn", "-dn", "-vf", &filters],
    );
    push(
        &mut args,
        &[
            "-fps_mode",
            "passthrough",
            "-c:v",
            "rawvideo",
            "-f",
            "rawvideo",
            "pipe:1",
        ],
    );
    args
}

/// The whole recipe as text: the version, the encoder settings and the
/// decode command for a set of sources that exercises every branch. A test
/// pins it to [`RECIPE_VERSION`].
pub fn describe() -> String {
    let tb = TimeBase::new(1, 15360);
    let sources = [
        DecodeSource {
            codec: "h264".into(),
            time_base: tb,
            first_pts: 0,
            ..DecodeSource::default()
        },
        DecodeSource {
            codec: "vp9".into(),
            alpha: true,
            time_base: tb,
            first_pts: 0,
            sar: None,
        },
        DecodeSource {
            codec: "mpeg2video".into(),
            sar: Some((16, 15)),
            time_base: TimeBase::new(1, 90000),
            first_pts: 900_000,
            ..DecodeSource::default()
        },
    ];
    let recipes = [
        Recipe::new(ImageFormat::Png, false, None),
        Recipe::new(ImageFormat::Png, true, None),
        Recipe::new(ImageFormat::Png, true, Some(Transfer::Pq)),
        Recipe::new(ImageFormat::Png, false, Some(Transfer::Hlg)),
        Recipe::new(ImageFormat::Jpeg, false, None),
    ];
    let mut out = format!("recipe version {RECIPE_VERSION}\nencode {ENCODE:?}\n");
    for source in &sources {
        for recipe in recipes {
            for seek in [None, Some(source.first_pts + 7680)] {
                let argv: Vec<String> = decode_args(source, recipe, seek)
                    .into_iter()
                    .map(|a| match a {
                        Arg::Text(t) => t,
                        Arg::Input => "<input>".into(),
                    })
                    .collect();
                out.push_str(&format!(
                    "{} {recipe:?} seek {seek:?}: {}\n",
                    source.codec,
                    argv.join(" ")
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each recipe version and the blake3 of [`describe`] at that version.
    /// A change to the recipe changes the digest: bump [`RECIPE_VERSION`] and
    /// add a line (never edit an old one).
    const HISTORY: &[(u32, &str)] = &[(2, "")];

    #[test]
    fn the_recipe_is_pinned_to_its_version() {
        let digest = blake3::hash(describe().as_bytes()).to_hex().to_string();
        let pinned = HISTORY.iter().find(|(v, _)| *v == RECIPE_VERSION);
        assert_eq!(
            pinned.map(|(_, d)| *d),
            Some(digest.as_str()),
            "the recipe changed: bump RECIPE_VERSION and add ({}, \"{digest}\") to HISTORY\n{}",
            RECIPE_VERSION + 1,
            describe()
        );
    }

    #[test]
    fn a_seek_rounds_up_to_the_keyframe_and_alpha_forces_libvpx() {
        let source = DecodeSource {
            codec: "vp9".into(),
            alpha: true,
            time_base: TimeBase::new(1, 90000),
            ..DecodeSource::default()
        };
        let args: Vec<Arg> =
            decode_args(&source, Recipe::new(ImageFormat::Png, true, None), Some(1));
        let text: Vec<String> = args
            .iter()
            .map(|a| match a {
                Arg::Text(t) => t.clone(),
                Arg::Input => "<in>".into(),
            })
            .collect();
        let line = text.join(" ");
        assert!(line.contains("-c:v libvpx-vp9 -seek_timestamp 1"), "{line}");
        // 1/90000 s is 11.1 µs: rounded up to 12 µs.
        assert!(line.contains("-ss 0.000012"), "{line}");
        assert!(line.contains("format=rgba,showinfo=checksum=0"), "{line}");
    }
}
