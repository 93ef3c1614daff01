//! Honesty: the frames each side made, compared frame by frame with the
//! frames the rule names.
//!
//! The reference pixels of a source come from ffmpeg alone: every frame of
//! the range in use, selected by its index (`-vf select`), converted to
//! rgb24 and handed over raw. framex_core's plan says which source frame
//! each tick shows. A PNG (framex's or ffmpeg's) matches when its decoded
//! pixels (the `png` crate) equal the reference's. A framex JPEG matches
//! when its bytes equal framex's encoder's output for the reference pixels
//! (the encoder is deterministic, so this compares the pixels it was given).
//! ffmpeg's JPEGs are lossy in their own way: they are decoded (by ffmpeg)
//! and matched to the nearest of the reference frames around the rule's
//! frame, on a 16×9 grid of block means.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use framex_core::{ImageFormat, Recipe};
use framex_executor::encode::{encode, RawFrame};
use serde::Serialize;

/// Grid of the thumbnails JPEGs are matched on.
const GRID: (usize, usize) = (16, 9);

/// One reference frame.
#[derive(Clone, Debug)]
struct RefFrame {
    /// blake3 of its rgb24 pixels.
    rgb: blake3::Hash,
    /// blake3 of framex's JPEG of it, when a JPEG element shows it.
    jpeg: Option<blake3::Hash>,
    /// Block means on [`GRID`], r, g, b per block.
    thumb: Vec<u32>,
}

/// The reference frames of one source.
#[derive(Debug, Default)]
pub struct Reference {
    frames: BTreeMap<u64, RefFrame>,
    by_rgb: HashMap<blake3::Hash, u64>,
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
fn thumbnail(rgb: &[u8], width: usize, height: usize) -> Vec<u32> {
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

/// How a set of frames compared with the rule's.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FrameCheck {
    /// Frames the rule names (ticks).
    pub expected: u64,
    /// Frames found.
    pub found: u64,
    /// Frames compared (the first `min(expected, found)`).
    pub compared: u64,
    /// Of those, frames that are not the rule's.
    pub differ: u64,
    /// How they were compared.
    pub method: String,
    /// The first difference, for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_difference: Option<String>,
}

impl FrameCheck {
    /// Every frame is the rule's, and there are as many as ticks.
    pub fn ok(&self) -> bool {
        self.differ == 0 && self.found == self.expected
    }

    /// Frames that are not the rule's, counting missing and extra ones.
    pub fn wrong(&self) -> u64 {
        self.differ + self.expected.abs_diff(self.found)
    }

    /// Adds another directory's check.
    pub fn add(&mut self, other: FrameCheck) {
        self.expected += other.expected;
        self.found += other.found;
        self.compared += other.compared;
        self.differ += other.differ;
        if self.method.is_empty() {
            self.method = other.method;
        } else if !other.method.is_empty() && !self.method.contains(&other.method) {
            self.method = format!("{}; {}", self.method, other.method);
        }
        if self.first_difference.is_none() {
            self.first_difference = other.first_difference;
        }
    }

    /// "same frames (360)" or "differs in 12 of 360 frames (…)".
    pub fn text(&self) -> String {
        if self.ok() {
            return format!("same frames as the rule ({})", self.expected);
        }
        let mut text = format!("differs in {} of {} frames", self.wrong(), self.expected);
        if self.found != self.expected {
            text.push_str(&format!(" (made {})", self.found));
        }
        if let Some(first) = &self.first_difference {
            text.push_str(&format!("; first: {first}"));
        }
        text
    }
}

/// Who wrote the frames of a directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Maker {
    /// framex (`frame_000001.ext`, its own encoders).
    Framex,
    /// ffmpeg (`000001.ext`).
    Ffmpeg,
}

/// Compares the frames in `dir` with `shown` (the source frame of each
/// tick, by the rule).
pub fn check_dir(
    ffmpeg: &Path,
    dir: &Path,
    maker: Maker,
    format: ImageFormat,
    shown: &[u64],
    reference: &Reference,
) -> Result<FrameCheck, String> {
    let ext = format.extension();
    let name = |k: usize| match maker {
        Maker::Framex => format!("frame_{:06}.{ext}", k + 1),
        Maker::Ffmpeg => format!("{:06}.{ext}", k + 1),
    };
    let found = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(ext))
        .count();
    let compared = found.min(shown.len());
    let mut check = FrameCheck {
        expected: shown.len() as u64,
        found: found as u64,
        compared: compared as u64,
        ..FrameCheck::default()
    };
    let paths: Vec<PathBuf> = (0..compared).map(|k| dir.join(name(k))).collect();
    // Per tick: whether it is the rule's frame, and if not, which it is.
    let verdicts: Vec<Result<(), Option<u64>>> = match (format, maker) {
        (ImageFormat::Png, _) => {
            check.method = "decoded PNG pixels".into();
            let hashes = hash_pngs(&paths)?;
            hashes
                .iter()
                .zip(shown)
                .map(|(hash, frame)| match reference.frames.get(frame) {
                    Some(r) if r.rgb == *hash => Ok(()),
                    _ => Err(reference.by_rgb.get(hash).copied()),
                })
                .collect()
        }
        (ImageFormat::Jpeg, Maker::Framex) => {
            check.method = "JPEG bytes against framex's encoding of the reference pixels".into();
            let hashes = par_map(&paths, |p| std::fs::read(p).map(|b| blake3::hash(&b)));
            hashes
                .into_iter()
                .zip(shown)
                .map(|(hash, frame)| {
                    let hash = hash.map_err(|e| e.to_string())?;
                    Ok(match reference.frames.get(frame) {
                        Some(r) if r.jpeg == Some(hash) => Ok(()),
                        _ => Err(None),
                    })
                })
                .collect::<Result<_, String>>()?
        }
        (ImageFormat::Jpeg, Maker::Ffmpeg) => {
            check.method = "lossy JPEG matched to the nearest source frame".into();
            let thumbs = decoded_thumbnails(ffmpeg, dir, ext, compared)?;
            thumbs
                .iter()
                .zip(shown)
                .map(|(thumb, &frame)| nearest(reference, thumb, frame))
                .collect()
        }
    };
    for (k, verdict) in verdicts.into_iter().enumerate() {
        if let Err(actual) = verdict {
            check.differ += 1;
            if check.first_difference.is_none() {
                check.first_difference = Some(match actual {
                    Some(a) => format!(
                        "tick {} shows source frame {a}, the rule's is {}",
                        k + 1,
                        shown[k]
                    ),
                    None => format!(
                        "tick {} is not source frame {} (nor one near it)",
                        k + 1,
                        shown[k]
                    ),
                });
            }
        }
    }
    Ok(check)
}

/// Whether `thumb` is nearest to `frame` among the reference frames two on
/// either side of it (a tie counts as a match: still images repeat).
fn nearest(reference: &Reference, thumb: &[u32], frame: u64) -> Result<(), Option<u64>> {
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

/// blake3 of the decoded pixels of each PNG; files that are hard links to
/// one another are decoded once.
fn hash_pngs(paths: &[PathBuf]) -> Result<Vec<blake3::Hash>, String> {
    let keys: Vec<(u64, u64)> = paths
        .iter()
        .map(|p| {
            std::fs::metadata(p)
                .map(|m| (m.dev(), m.ino()))
                .map_err(|e| format!("{}: {e}", p.display()))
        })
        .collect::<Result<_, _>>()?;
    let mut unique: Vec<usize> = Vec::new();
    let mut first_of: HashMap<(u64, u64), usize> = HashMap::new();
    for (i, key) in keys.iter().enumerate() {
        first_of.entry(*key).or_insert_with(|| {
            unique.push(i);
            i
        });
    }
    let hashes = par_map(&unique, |&i| png_pixels_hash(&paths[i]));
    let mut by_first = HashMap::new();
    for (&i, hash) in unique.iter().zip(hashes) {
        by_first.insert(i, hash?);
    }
    Ok(keys.iter().map(|key| by_first[&first_of[key]]).collect())
}

/// blake3 of a PNG's pixels (8-bit RGB, as the reference; other layouts
/// hash as they decode and so never match).
fn png_pixels_hash(path: &Path) -> Result<blake3::Hash, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder
        .read_info()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| format!("{}: too large", path.display()))?;
    let mut pixels = vec![0; size];
    let info = reader
        .next_frame(&mut pixels)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    pixels.truncate(info.buffer_size());
    Ok(blake3::hash(&pixels))
}

/// Thumbnails of ffmpeg's decoding of `count` numbered images in `dir`.
fn decoded_thumbnails(
    ffmpeg: &Path,
    dir: &Path,
    ext: &str,
    count: usize,
) -> Result<Vec<Vec<u32>>, String> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let first = dir.join(format!("{:06}.{ext}", 1));
    let (width, height) = image_size(ffmpeg, &first)?;
    let mut child = Command::new(ffmpeg)
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(dir.join(format!("%06d.{ext}")))
        .args(["-frames:v", &count.to_string()])
        .args(["-pix_fmt", "rgb24", "-f", "rawvideo", "pipe:1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("running ffmpeg: {e}"))?;
    let mut stdout = child.stdout.take().expect("piped");
    let mut buffer = vec![0u8; width * height * 3];
    let mut thumbs = Vec::with_capacity(count);
    while thumbs.len() < count && stdout.read_exact(&mut buffer).is_ok() {
        thumbs.push(thumbnail(&buffer, width, height));
    }
    drop(stdout);
    let _ = child.wait();
    if thumbs.len() < count {
        return Err(format!(
            "ffmpeg decoded {} of the {count} images in {}",
            thumbs.len(),
            dir.display()
        ));
    }
    Ok(thumbs)
}

/// Width and height of an image, from ffmpeg's decoding of it.
fn image_size(ffmpeg: &Path, path: &Path) -> Result<(usize, usize), String> {
    // ffmpeg prints the stream's size on stderr at info level.
    let out = Command::new(ffmpeg)
        .args(["-nostdin", "-hide_banner", "-i"])
        .arg(path)
        .output()
        .map_err(|e| format!("running ffmpeg: {e}"))?;
    let text = String::from_utf8_lossy(&out.stderr);
    text.lines()
        .filter(|l| l.contains("Video:"))
        .flat_map(|l| l.split([' ', ',']))
        .find_map(|word| {
            let (w, h) = word.split_once('x')?;
            Some((w.parse().ok()?, h.parse().ok()?))
        })
        .ok_or_else(|| format!("no image size for {}", path.display()))
}

/// `f` over `items` on every core, in order.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(items.len().max(1));
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                let f = &f;
                scope.spawn(move || part.iter().map(f).collect::<Vec<R>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a check thread panicked"))
            .collect()
    })
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

    #[test]
    fn checks_add_up_and_say_what_differs() {
        let mut a = FrameCheck {
            expected: 10,
            found: 10,
            compared: 10,
            differ: 0,
            method: "m".into(),
            first_difference: None,
        };
        assert!(a.ok());
        assert_eq!(a.text(), "same frames as the rule (10)");
        a.add(FrameCheck {
            expected: 5,
            found: 4,
            compared: 4,
            differ: 1,
            method: "m".into(),
            first_difference: Some("tick 2 shows source frame 3, the rule's is 2".into()),
        });
        assert!(!a.ok());
        assert_eq!(a.wrong(), 2);
        assert_eq!(
            a.text(),
            "differs in 2 of 15 frames (made 14); first: tick 2 shows source frame 3, the rule's is 2"
        );
    }
}
