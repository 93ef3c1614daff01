//! Reading the frames a side made: the decoded pixels of PNGs, ffmpeg's
//! decoding of JPEGs into thumbnails, on every core.

use std::collections::HashMap;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::reference::thumbnail;

/// blake3 of the decoded pixels of each PNG; files that are hard links to
/// one another are decoded once.
pub(super) fn hash_pngs(paths: &[PathBuf]) -> Result<Vec<blake3::Hash>, String> {
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
pub(super) fn decoded_thumbnails(
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
