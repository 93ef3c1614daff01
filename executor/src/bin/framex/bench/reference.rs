//! The reference frames of a source, from ffmpeg alone: every frame of the
//! range in use, selected by its index (`-vf select`), converted to rgb24
//! and handed over raw; kept as digests of their pixels (and of framex's
//! JPEG of them) and as thumbnails, to match lossy frames to the nearest.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use framex_core::{ImageFormat, Recipe};
use framex_executor::encode::{encode, RawFrame};

/// Grid of the thumbnails JPEGs are matched on.
const GRID: (usize, usize) = (16, 9);

/// One reference frame.
#[derive(Clone, Debug)]
pub(super) struct RefFrame {
    /// blake3 of its rgb24 pixels.
    pub(super) rgb: blake3::Hash,
    /// blake3 of framex's JPEG of it, when a JPEG element shows it.
    pub(super) jpeg: Option<blake3::Hash>,
    /// Block means on [`GRID`], r, g, b per block.
    pub(super) thumb: Vec<u32>,
}

/// The reference frames of one source.
#[derive(Debug, Default)]
pub struct Reference {
    pub(super) frames: BTreeMap<u64, RefFrame>,
    pub(super) by_rgb: HashMap<blake3::Hash, u64>,
}

/// Decodes frames `needed` of `src` (and two on either side, for matching
/// lossy frames), `width`×`height`, with ffmpeg; `jpeg` are the frames a
/// JPEG element shows.
pub fn reference(
    ffmpeg: &Path,
    src: &Path,
    (width, height): (u32, u32),
    frames_in_source: u64,
    needed: &BTreeSet<u64>,
    jpeg: &BTreeSet<u64>,
) -> Result<Reference, String> {
    let mut out = Reference::default();
    let (Some(&first), Some(&last)) = (needed.first(), needed.last()) else {
        return Ok(out);
    };
    let lo = first.saturating_sub(2);
    let hi = (last + 2).min(frames_in_source.saturating_sub(1)).max(last);
    let count = hi - lo + 1;
    let mut child = Command::new(ffmpeg)
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(src)
        .args(["-map", "0:v:0", "-an", "-sn", "-dn", "-vf"])
        .arg(format!("select='between(n,{lo},{hi})',format=rgb24"))
        .args(["-fps_mode", "passthrough", "-frames:v"])
        .arg(count.to_string())
        .args(["-f", "rawvideo", "pipe:1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("running ffmpeg: {e}"))?;
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let len = width as usize * height as usize * 3;
    let mut buffer = vec![0u8; len];
    let mut short = None;
    for index in lo..=hi {
        if stdout.read_exact(&mut buffer).is_err() {
            short = Some(index);
            break;
        }
        let rgb = blake3::hash(&buffer);
        let jpeg = if jpeg.contains(&index) {
            let frame = RawFrame {
                pts: 0,
                width,
                height,
                data: std::mem::take(&mut buffer),
            };
            let bytes = encode(&frame, Recipe::new(ImageFormat::Jpeg, false, None))?;
            buffer = frame.data;
            Some(blake3::hash(&bytes))
        } else {
            None
        };
        let thumb = thumbnail(&buffer, width as usize, height as usize);
        out.by_rgb.entry(rgb).or_insert(index);
        out.frames.insert(index, RefFrame { rgb, jpeg, thumb });
    }
    drop(stdout);
    let status = child.wait().map_err(|e| e.to_string())?;
    let errors = errors.join().unwrap_or_default();
    if let Some(index) = short {
        return Err(format!(
            "the reference decode of {} ended before frame {index} ({status}): {}",
            src.display(),
            errors.trim()
        ));
    }
    Ok(out)
}

/// Block means of an rgb24 image on [`GRID`].
pub(super) fn thumbnail(rgb: &[u8], width: usize, height: usize) -> Vec<u32> {
    let (gw, gh) = GRID;
    let mut sums = vec![0u64; gw * gh * 3];
    let mut counts = vec![0u64; gw * gh];
    let column: Vec<usize> = (0..width).map(|x| x * gw / width).collect();
    for (y, row) in rgb.chunks_exact(width * 3).take(height).enumerate() {
        let base = y * gh / height * gw;
        for (x, px) in row.chunks_exact(3).enumerate() {
            let cell = base + column[x];
            counts[cell] += 1;
            sums[cell * 3] += u64::from(px[0]);
            sums[cell * 3 + 1] += u64::from(px[1]);
            sums[cell * 3 + 2] += u64::from(px[2]);
        }
    }
    sums.iter()
        .enumerate()
        .map(|(i, s)| (s / counts[i / 3].max(1)) as u32)
        .collect()
}

fn distance(a: &[u32], b: &[u32]) -> u64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum()
}

/// Whether `thumb` is nearest to `frame` among the reference frames two on
/// either side of it (a tie counts as a match: still images repeat).
pub(super) fn nearest(reference: &Reference, thumb: &[u32], frame: u64) -> Result<(), Option<u64>> {
    let Some(own) = reference.frames.get(&frame) else {
        return Err(None);
    };
    let own = distance(thumb, &own.thumb);
    let best = reference
        .frames
        .range(frame.saturating_sub(2)..=frame + 2)
        .map(|(&i, r)| (distance(thumb, &r.thumb), i))
        .min();
    match best {
        Some((d, i)) if d < own => Err(Some(i)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnails_average_blocks() {
        // 32×18: every block 2×2 pixels of one colour per block column.
        let (w, h) = (32usize, 18usize);
        let mut rgb = vec![0u8; w * h * 3];
        for y in 0..h {
            for x in 0..w {
                rgb[(y * w + x) * 3] = (x / 2 * 10) as u8;
            }
        }
        let t = thumbnail(&rgb, w, h);
        assert_eq!(t.len(), 16 * 9 * 3);
        assert_eq!(t[0], 0);
        assert_eq!(t[3], 10);
        assert_eq!(t[15 * 3], 150);
        assert_eq!(distance(&t, &t), 0);
    }
}
