//! Reading back the frame number that [`crate::clips`] writes into every
//! frame, from PNG or JPEG files or from raw frames that ffmpeg decodes.
//!
//! Regions are relative to the image size (so a frame scaled to its display
//! aspect still reads), and each is averaged over its inner part, away from
//! the edges where codecs and chroma subsampling bleed. A digit is
//! `round(15 · (mean − black) / (white − black))` with `black` and `white`
//! measured on the frame's own calibration patches; a block whose mean is not
//! close to one digit, or whose pixels are not flat, panics with a message
//! that says which and why (a frame that is rotated, scaled wrongly, blended
//! or not frame-numbered at all).

use std::path::Path;
use std::process::Command;

use crate::clips::Clip;

/// A decoded image reduced to what the reader needs: 8-bit grey (the mean of
/// R, G, B) and alpha when the image has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Grey level of every pixel, row by row.
    pub grey: Vec<u8>,
    /// Alpha of every pixel, when the image has an alpha channel.
    pub alpha: Option<Vec<u8>>,
}

impl Image {
    /// From interleaved 8-bit samples: 1 (grey), 2 (grey, alpha), 3 (RGB)
    /// or 4 (RGBA) channels.
    pub fn from_interleaved(width: u32, height: u32, channels: usize, data: &[u8]) -> Image {
        let pixels = width as usize * height as usize;
        assert_eq!(
            data.len(),
            pixels * channels,
            "{width}x{height}x{channels} needs {} bytes, got {}",
            pixels * channels,
            data.len()
        );
        let grey = data
            .chunks_exact(channels)
            .map(|p| match channels {
                1 | 2 => p[0],
                3 | 4 => ((u16::from(p[0]) + u16::from(p[1]) + u16::from(p[2]) + 1) / 3) as u8,
                _ => panic!("{channels} channels"),
            })
            .collect();
        let alpha = match channels {
            2 | 4 => Some(
                data.chunks_exact(channels)
                    .map(|p| p[channels - 1])
                    .collect(),
            ),
            _ => None,
        };
        Image {
            width,
            height,
            grey,
            alpha,
        }
    }

    /// Mean grey over `[x0, x1) × [y0, y1)`, and the share (per mille) of its
    /// pixels within `tolerance` of that mean.
    fn region(&self, x0: u32, x1: u32, y0: u32, y1: u32, tolerance: f64) -> (f64, u32) {
        let mut sum = 0u64;
        let mut count = 0u64;
        for y in y0..y1 {
            for x in x0..x1 {
                sum += u64::from(self.grey[(y * self.width + x) as usize]);
                count += 1;
            }
        }
        assert!(
            count > 0,
            "empty region in a {}x{} image",
            self.width,
            self.height
        );
        let mean = sum as f64 / count as f64;
        let mut close = 0u64;
        for y in y0..y1 {
            for x in x0..x1 {
                let v = f64::from(self.grey[(y * self.width + x) as usize]);
                if (v - mean).abs() <= tolerance {
                    close += 1;
                }
            }
        }
        (mean, (close * 1000 / count) as u32)
    }

    /// Mean alpha over the inner part of the top band (64 in
    /// [`crate::clips::vp9_alpha`], 255 where the frame is opaque), or `None`
    /// without alpha.
    pub fn top_band_alpha(&self) -> Option<u8> {
        let alpha = self.alpha.as_ref()?;
        let (w, h) = (self.width, self.height);
        let (mut sum, mut count) = (0u64, 0u64);
        for y in h / 24..h / 4 - h / 24 {
            for x in w / 12..w - w / 12 {
                sum += u64::from(alpha[(y * w + x) as usize]);
                count += 1;
            }
        }
        Some((sum / count.max(1)) as u8)
    }
}

/// Reads a PNG (8- or 16-bit; grey, grey+alpha, RGB, RGBA or palette) or a
/// JPEG file.
pub fn read_image(path: &Path) -> Image {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    if bytes.starts_with(b"\x89PNG") {
        read_png(&bytes).unwrap_or_else(|e| panic!("decoding PNG {}: {e}", path.display()))
    } else if bytes.starts_with(&[0xff, 0xd8]) {
        read_jpeg(&bytes).unwrap_or_else(|e| panic!("decoding JPEG {}: {e}", path.display()))
    } else {
        panic!("{} is neither PNG nor JPEG", path.display())
    }
}

fn read_png(bytes: &[u8]) -> Result<Image, String> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    // Palette to RGB, low bit depths to 8, tRNS to alpha; 16 bits stay.
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().map_err(|e| e.to_string())?;
    let size = reader
        .output_buffer_size()
        .ok_or("the PNG is too large to decode")?;
    let mut buf = vec![0; size];
    let info = reader.next_frame(&mut buf).map_err(|e| e.to_string())?;
    let channels = info.color_type.samples();
    let (width, height) = (info.width, info.height);
    let row = width as usize * channels;
    let mut data = Vec::with_capacity(row * height as usize);
    match info.bit_depth {
        png::BitDepth::Eight => {
            for line in buf.chunks(info.line_size).take(height as usize) {
                data.extend_from_slice(&line[..row]);
            }
        }
        png::BitDepth::Sixteen => {
            for line in buf.chunks(info.line_size).take(height as usize) {
                data.extend(line[..row * 2].chunks_exact(2).map(|s| {
                    let v = u32::from(u16::from_be_bytes([s[0], s[1]]));
                    ((v * 255 + 32767) / 65535) as u8
                }));
            }
        }
        other => return Err(format!("unexpected bit depth {other:?} after expansion")),
    }
    Ok(Image::from_interleaved(width, height, channels, &data))
}

fn read_jpeg(bytes: &[u8]) -> Result<Image, String> {
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    let pixels = decoder.decode().map_err(|e| e.to_string())?;
    let info = decoder.info().ok_or("no JPEG info")?;
    let channels = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => 1,
        jpeg_decoder::PixelFormat::RGB24 => 3,
        other => return Err(format!("unsupported JPEG pixel format {other:?}")),
    };
    Ok(Image::from_interleaved(
        u32::from(info.width),
        u32::from(info.height),
        channels,
        &pixels,
    ))
}

/// The frame number in an image file (PNG or JPEG); panics, naming the file,
/// when it cannot be read unambiguously.
pub fn frame_number(path: &Path) -> u32 {
    number_in(&read_image(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The frame number in `image`, or why it cannot be read.
pub fn number_in(image: &Image) -> Result<u32, String> {
    let (w, h) = (image.width, image.height);
    if w < 24 || h < 24 {
        return Err(format!("{w}x{h} is too small to hold a frame number"));
    }
    // Calibration: bottom quarter, inner part; black left, white right.
    let (cy0, cy1) = (3 * h / 4 + h / 24, h - h / 24);
    let (black, _) = image.region(w / 12, w / 2 - w / 12, cy0, cy1, 255.0);
    let (white, _) = image.region(w / 2 + w / 12, w - w / 12, cy0, cy1, 255.0);
    let span = white - black;
    if span < 100.0 {
        return Err(format!(
            "no calibration patches (black {black:.1}, white {white:.1}): \
             not a frame-numbered image, or rotated, flipped or cropped"
        ));
    }
    let step = span / 15.0;
    let mut number = 0u32;
    for block in 0..3u32 {
        let (x0, x1) = (block * w / 3 + w / 12, (block + 1) * w / 3 - w / 12);
        let (mean, flat) = image.region(x0, x1, h / 3, 2 * h / 3, step / 2.0);
        let exact = (mean - black) / step;
        let digit = exact.round();
        if !(0.0..=15.0).contains(&digit) || (exact - digit).abs() > 0.3 {
            return Err(format!(
                "block {block} is ambiguous: mean {mean:.1} is digit {exact:.2} \
                 (black {black:.1}, white {white:.1})"
            ));
        }
        if flat < 900 {
            return Err(format!(
                "block {block} is not flat: only {}‰ of its pixels lie within half a \
                 digit of its mean {mean:.1} (digit {exact:.2}): a blend of frames, \
                 or a rotated or misplaced frame",
                flat
            ));
        }
        number += (digit as u32) << (4 * block);
    }
    Ok(number)
}

/// A frame decoded by ffmpeg: its `showinfo` pts (in the stream time base)
/// and its pixels (`rgb24`, or `rgba` for a clip with alpha).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedFrame {
    /// The presentation time `showinfo` printed.
    pub pts: i64,
    /// Raw pixels, `clip.width × clip.height × (3 or 4)` bytes.
    pub pixels: Vec<u8>,
}

/// Decodes `clip` with plain ffmpeg to raw frames (`rgb24`, `rgba` for alpha
/// clips, autorotated), with `-fps_mode passthrough` and `-copyts`, each with
/// the pts that `showinfo` printed. `input_args` go before `-i` (a seek, for
/// example: `["-seek_timestamp", "1", "-noaccurate_seek", "-ss", "1.5"]`).
pub fn decode_frames(clip: &Clip, input_args: &[&str]) -> Vec<DecodedFrame> {
    let pix_fmt = if clip.alpha { "rgba" } else { "rgb24" };
    let mut command = Command::new("ffmpeg");
    command.args(["-nostdin", "-hide_banner", "-loglevel", "info", "-copyts"]);
    if let Some(decoder) = clip.decoder {
        command.args(["-c:v", decoder]);
    }
    command
        .args(input_args)
        .arg("-i")
        .arg(&clip.path)
        .args(["-map", "0:v:0", "-an", "-vf"])
        .arg(format!("format={pix_fmt},showinfo=checksum=0"))
        .args(["-fps_mode", "passthrough", "-f", "rawvideo", "-"]);
    let output = command.output().expect("ffmpeg runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "decoding {} failed: {stderr}",
        clip.path.display()
    );
    let pts = showinfo_pts(&stderr);
    let bytes_per_frame =
        clip.width as usize * clip.height as usize * if clip.alpha { 4 } else { 3 };
    assert_eq!(
        output.stdout.len() % bytes_per_frame,
        0,
        "{}: {} bytes of raw video is no whole number of {}x{} frames",
        clip.name,
        output.stdout.len(),
        clip.width,
        clip.height
    );
    let frames: Vec<&[u8]> = output.stdout.chunks_exact(bytes_per_frame).collect();
    assert_eq!(
        frames.len(),
        pts.len(),
        "{}: {} raw frames but showinfo printed {} pts",
        clip.name,
        frames.len(),
        pts.len()
    );
    frames
        .into_iter()
        .zip(pts)
        .map(|(pixels, pts)| DecodedFrame {
            pts,
            pixels: pixels.to_vec(),
        })
        .collect()
}

/// The `pts:` values of ffmpeg's `showinfo` lines, in output order.
pub fn showinfo_pts(stderr: &str) -> Vec<i64> {
    stderr
        .lines()
        .filter(|line| line.contains("Parsed_showinfo") && line.contains(" n:"))
        .map(|line| {
            let rest = line
                .split_once(" pts:")
                .unwrap_or_else(|| panic!("no pts in showinfo line {line:?}"))
                .1
                .trim_start();
            let value = rest.split_whitespace().next().unwrap_or("");
            value
                .parse()
                .unwrap_or_else(|_| panic!("pts {value:?} in showinfo line {line:?}"))
        })
        .collect()
}

/// The [`Image`] of one raw frame of `clip` (as [`decode_frames`] gives it).
pub fn image_of(clip: &Clip, frame: &DecodedFrame) -> Image {
    Image::from_interleaved(
        clip.width,
        clip.height,
        if clip.alpha { 4 } else { 3 },
        &frame.pixels,
    )
}

/// Decodes the whole clip with ffmpeg and reads every frame's number, in
/// presentation order; panics naming the frame that cannot be read.
pub fn decoded_numbers(clip: &Clip) -> Vec<u32> {
    decode_frames(clip, &[])
        .iter()
        .enumerate()
        .map(|(k, frame)| {
            number_in(&image_of(clip, frame))
                .unwrap_or_else(|e| panic!("{} frame {k} (pts {}): {e}", clip.name, frame.pts))
        })
        .collect()
}
