//! Encoding raw frames into image files: framex encodes, on every core, with
//! the recipe's settings (`framex_core::ENCODE`).

use std::sync::Mutex;

use framex_core::{ImageFormat, RawFormat, Recipe, ENCODE};

/// One decoded frame: its presentation time (relative ticks) and pixels.
#[derive(Debug)]
pub struct RawFrame {
    /// Presentation time, ticks relative to the source's first frame.
    pub pts: i64,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Rows top to bottom, no padding, in the recipe's [`RawFormat`].
    pub data: Vec<u8>,
}

/// Raw-frame buffers handed back by the encoders for the decoders to fill
/// again: a 1080p rgb24 frame is 6 MB, not worth allocating and zeroing per
/// frame. Keeps at most as many as can be in flight at once.
#[derive(Debug)]
pub struct FramePool {
    free: Mutex<Vec<Vec<u8>>>,
    keep: usize,
}

impl FramePool {
    /// A pool that keeps at most `keep` free buffers.
    pub fn new(keep: usize) -> Self {
        Self {
            free: Mutex::new(Vec::with_capacity(keep)),
            keep,
        }
    }

    /// A free buffer (its contents are stale), or a new, empty one.
    pub fn take(&self) -> Vec<u8> {
        self.free
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_default()
    }

    /// Hands a buffer back (dropped when the pool is full).
    pub fn give(&self, buffer: Vec<u8>) {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        if free.len() < self.keep {
            free.push(buffer);
        }
    }
}

/// Encodes a frame in `recipe`'s format.
pub fn encode(frame: &RawFrame, recipe: Recipe) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    encode_into(frame, recipe, &mut out)?;
    Ok(out)
}

/// Encodes a frame in `recipe`'s format into `out` (cleared first), so one
/// output buffer serves frame after frame.
pub fn encode_into(frame: &RawFrame, recipe: Recipe, out: &mut Vec<u8>) -> Result<(), String> {
    out.clear();
    let raw = RawFormat::of(recipe);
    let expected =
        u64::from(frame.width) * u64::from(frame.height) * u64::from(raw.bytes_per_pixel());
    if frame.data.len() as u64 != expected {
        return Err(format!(
            "a {}x{} {} frame has {} bytes, not {expected}",
            frame.width,
            frame.height,
            raw.pix_fmt(),
            frame.data.len()
        ));
    }
    out.reserve(frame.data.len() / 4);
    match recipe.format {
        ImageFormat::Png => {
            let mut encoder = png::Encoder::new(&mut *out, frame.width, frame.height);
            encoder.set_color(if raw.channels() == 4 {
                png::ColorType::Rgba
            } else {
                png::ColorType::Rgb
            });
            encoder.set_depth(if raw.bit_depth() == 16 {
                png::BitDepth::Sixteen
            } else {
                png::BitDepth::Eight
            });
            debug_assert_eq!((ENCODE.png_compression, ENCODE.png_filter), ("fast", "up"));
            encoder.set_compression(png::Compression::Fast);
            encoder.set_filter(png::Filter::Up);
            let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
            writer
                .write_image_data(&frame.data)
                .map_err(|e| e.to_string())?;
            writer.finish().map_err(|e| e.to_string())?;
        }
        ImageFormat::Jpeg => {
            if raw != RawFormat::Rgb24 {
                return Err(format!("JPEG frames are rgb24, not {}", raw.pix_fmt()));
            }
            let width = u16::try_from(frame.width).map_err(|_| "too wide for JPEG".to_string())?;
            let height =
                u16::try_from(frame.height).map_err(|_| "too tall for JPEG".to_string())?;
            let mut encoder = jpeg_encoder::Encoder::new(&mut *out, ENCODE.jpeg_quality);
            encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
            encoder
                .encode(&frame.data, width, height, jpeg_encoder::ColorType::Rgb)
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_and_jpeg_frames_decode_back() {
        let frame = RawFrame {
            pts: 0,
            width: 4,
            height: 2,
            data: (0..24).map(|i| i * 10).collect(),
        };
        let png = encode(&frame, Recipe::new(ImageFormat::Png, false, None)).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(&png));
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut pixels).unwrap();
        assert_eq!(pixels, frame.data);
        let jpeg = encode(&frame, Recipe::new(ImageFormat::Jpeg, false, None)).unwrap();
        assert_eq!(&jpeg[..2], &[0xff, 0xd8]);
        let short = RawFrame {
            data: vec![0; 5],
            ..frame
        };
        assert!(encode(&short, Recipe::new(ImageFormat::Png, false, None)).is_err());
    }
}
