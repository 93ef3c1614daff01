//! Decoded pixels: a stored PNG as is ([`png_pixels`]) and what ffmpeg
//! itself decodes ([`ffmpeg_png`], [`true_last_frame`]).

use std::path::Path;
use std::process::Command;

/// A PNG decoded as stored: no conversion.
#[derive(Clone, PartialEq, Eq)]
pub struct Pixels {
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// RGB, RGBA, …
    pub color: png::ColorType,
    /// Bits per sample.
    pub depth: png::BitDepth,
    /// The samples, row by row, without padding.
    pub data: Vec<u8>,
}

impl std::fmt::Debug for Pixels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}x{} {:?} {:?} ({} bytes, sum {})",
            self.width,
            self.height,
            self.color,
            self.depth,
            self.data.len(),
            self.data.iter().map(|&b| u64::from(b)).sum::<u64>()
        )
    }
}

/// Decodes a PNG file.
pub fn png_pixels(path: &Path) -> Pixels {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .unwrap_or_else(|e| panic!("{} is no PNG: {e}", path.display()));
    let mut data = vec![0; reader.output_buffer_size().expect("a sane PNG")];
    let info = reader
        .next_frame(&mut data)
        .unwrap_or_else(|e| panic!("decoding {}: {e}", path.display()));
    data.truncate(info.buffer_size());
    Pixels {
        width: info.width,
        height: info.height,
        color: info.color_type,
        depth: info.bit_depth,
        data,
    }
}

/// Frame `n` (0-based, in presentation order) of `clip` as ffmpeg's own PNG
/// path gives it: `ffmpeg [-c:v DECODER] -i clip -vf
/// "select=eq(n\,K),format=PIX_FMT" -frames:v 1 DIR/x.png`, decoded.
pub fn ffmpeg_png(
    clip: &Path,
    decoder: Option<&str>,
    n: usize,
    pix_fmt: &str,
    dir: &Path,
) -> Pixels {
    let png = dir.join(format!("ffmpeg-frame-{n}.png"));
    let mut command = Command::new("ffmpeg");
    command.args(["-nostdin", "-v", "error", "-y"]);
    if let Some(decoder) = decoder {
        command.args(["-c:v", decoder]);
    }
    let output = command
        .arg("-i")
        .arg(clip)
        .args(["-vf", &format!("select=eq(n\\,{n}),format={pix_fmt}")])
        .args(["-frames:v", "1"])
        .arg(&png)
        .output()
        .expect("ffmpeg runs");
    assert!(
        output.status.success() && png.is_file(),
        "ffmpeg gave no frame {n} of {}: {}",
        clip.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    png_pixels(&png)
}

/// The source's true last frame as plain ffmpeg decodes it (seek near the
/// end, decode to the end, keep the last image), as RGB; `dir` holds the
/// PNG.
pub fn true_last_frame(clip: &Path, dir: &Path) -> Pixels {
    let png = dir.join("ffmpeg-last.png");
    let output = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-sseof", "-0.5", "-i"])
        .arg(clip)
        .args(["-vf", "format=rgb24", "-update", "1"])
        .arg(&png)
        .output()
        .expect("ffmpeg runs");
    assert!(output.status.success(), "{output:?}");
    png_pixels(&png)
}
