//! The extraction recipe and running ffmpeg.
//!
//! One ffmpeg pass per unit. Frames are anchored to the source's own
//! timeline so that any slice of a unit is byte-identical to extracting that
//! slice alone (TOOLCHAIN.md, "Exact frames across different seek points"):
//! seek to the last source frame at or before the start, keep absolute
//! timestamps (`-copyts`), move the start to time 0 in microseconds, and let
//! the `fps` filter pick the frame on screen at each tick `j/fps`. At the
//! source's end the filter passes the last frame through for a last tick
//! less than half a period before the end (`eof_action=pass`): with the
//! default rounding that tick was dropped, and a unit reaching the end
//! (`ceil((end − start) × fps)` frames) came out one frame short.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use framex_core::{format_us, Fps, ImageFormat, Transfer};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use crate::cache::{frame_name, FrameRecord};
use crate::error::{exit_error, spawn_error, stderr_tail, ExtractError};
use crate::probe::Probe;

/// JPEG quality (`-q:v`, 2 is near the best ffmpeg's mjpeg encoder gives).
pub const JPEG_QUALITY: u32 = 2;

/// What one ffmpeg run extracts.
#[derive(Clone, Debug)]
pub struct ExtractSpec<'a> {
    /// The source file.
    pub src: &'a Path,
    /// Its probe.
    pub probe: &'a Probe,
    /// Media time of the first frame, microseconds.
    pub start_us: i64,
    /// Output rate.
    pub fps: Fps,
    /// Frames to write, exactly.
    pub frame_count: u64,
    /// Image format.
    pub format: ImageFormat,
    /// Keep alpha (`rgba` PNG).
    pub alpha: bool,
    /// SDR→HDR transfer conversion.
    pub transfer: Option<Transfer>,
    /// Number of the first frame file written (1 unless this is a segment).
    pub first_number: u64,
}

/// Splits `count` frames at `fps` into at most `parts`
/// segments `(offset, count)` whose starts are whole microseconds, so each
/// segment is extracted exactly like a superset member: byte-identical to the
/// same frames of one pass.
pub fn segments(fps: framex_core::Fps, count: u64, parts: u64) -> Vec<(u64, u64)> {
    // Offsets that are whole microseconds: multiples of num / gcd(num, den·10⁶).
    let (num, den) = (u64::from(fps.num()), u64::from(fps.den()) * 1_000_000);
    let step = num / gcd(num, den);
    let parts = parts.max(1);
    let size = count.div_ceil(parts).div_ceil(step) * step;
    if parts == 1 || size == 0 || size >= count {
        return vec![(0, count)];
    }
    (0..count)
        .step_by(size as usize)
        .map(|o| (o, size.min(count - o)))
        .collect()
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Output frames that repeat a source frame can be made by encoding each
/// distinct source frame once. `shown[j]` is the source frame output frame
/// `j` shows ([`framex_core::shown_frames`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistinctFrames {
    /// Source frame per output frame.
    pub shown: Vec<u32>,
    /// The distinct source frames as inclusive index runs.
    pub runs: Vec<(u32, u32)>,
}

impl DistinctFrames {
    /// Worth it when at least a tenth of the output frames are repeats and
    /// the selection stays a short expression.
    pub fn plan(spec: &ExtractSpec<'_>) -> Option<Self> {
        let shown = framex_core::shown_frames(
            &spec.probe.frame_times_us,
            spec.start_us,
            spec.fps,
            spec.frame_count,
        );
        if shown.len() as u64 != spec.frame_count {
            return None;
        }
        let runs = framex_core::distinct_runs(&shown);
        let distinct: u64 = runs.iter().map(|&(a, b)| u64::from(b - a + 1)).sum();
        (distinct * 10 <= spec.frame_count * 9 && runs.len() <= 64).then_some(Self { shown, runs })
    }

    /// The source's true last frame alone: the frame with the latest
    /// timestamp, selected by its time (no `fps` filter, so nothing depends
    /// on where the stream's end falls). Extracted from `start_us` =
    /// [`Probe::last_frame_us`].
    pub fn last_frame(probe: &Probe) -> Option<Self> {
        let last = u32::try_from(probe.frame_times_us.len().checked_sub(1)?).ok()?;
        Some(Self {
            shown: vec![last],
            runs: vec![(last, last)],
        })
    }

    /// Number of distinct source frames.
    pub fn count(&self) -> u64 {
        self.runs.iter().map(|&(a, b)| u64::from(b - a + 1)).sum()
    }

    /// Position (0-based) of each output frame's source frame among the
    /// distinct frames, in order.
    pub fn ranks(&self) -> Vec<u64> {
        let mut rank_of = std::collections::BTreeMap::new();
        let mut next = 0u64;
        for &(a, b) in &self.runs {
            for i in a..=b {
                rank_of.insert(i, next);
                next += 1;
            }
        }
        self.shown.iter().map(|i| rank_of[i]).collect()
    }
}

/// File name prefix of distinct source frames before they are linked into place.
pub const DISTINCT_PREFIX: &str = "distinct_";

/// The ffmpeg arguments for `spec`, writing `frame_000001.<ext>`… into
/// `out_dir`; with `distinct`, only the distinct source frames, as
/// `distinct_000001.<ext>`….
pub fn ffmpeg_args(
    spec: &ExtractSpec<'_>,
    distinct: Option<&DistinctFrames>,
    out_dir: &Path,
) -> Vec<OsString> {
    let probe = spec.probe;
    let seek_abs = probe.start_us + probe.seek_point_us(spec.start_us);
    let start_abs = probe.start_us + spec.start_us;
    let mut args: Vec<OsString> = Vec::new();
    fn push(args: &mut Vec<OsString>, items: &[&str]) {
        args.extend(items.iter().map(OsString::from));
    }
    push(
        &mut args,
        &["-nostdin", "-hide_banner", "-loglevel", "error", "-y"],
    );
    push(&mut args, &["-progress", "pipe:1", "-nostats"]);
    if let Some(decoder) = probe.decoder() {
        push(&mut args, &["-c:v", decoder]);
    }
    if seek_abs > 0 {
        push(&mut args, &["-ss", &format_us(seek_abs)]);
    }
    push(&mut args, &["-copyts", "-i"]);
    args.push(spec.src.as_os_str().to_owned());
    let mut filters = vec![
        // Microsecond time base: the start shift below is exact integer math.
        "settb=1/1000000".to_string(),
        format!("setpts=PTS-{start_abs}"),
    ];
    match distinct {
        // Timestamps are now exact microseconds from the start: select the
        // distinct frames by their times.
        Some(d) => {
            let times = &probe.frame_times_us;
            let ranges: Vec<String> = d
                .runs
                .iter()
                .map(|&(a, b)| {
                    let (a, b) = (
                        times[a as usize] - spec.start_us,
                        times[b as usize] - spec.start_us,
                    );
                    format!("between(pts,{a},{b})")
                })
                .collect();
            filters.push(format!("select='{}'", ranges.join("+")));
        }
        // `eof_action=pass` rounds the end of the input *up* to a tick, so
        // the output has a frame for every tick before the source's end, as
        // the plan counts them (`ceil((end − start) × fps)`) and as the
        // distinct-frame path gives them. The default rounds to the nearest
        // tick and drops the last frame when the end lies less than half a
        // frame past a tick (a 29.97 fps clip at 30 fps, to its end), which
        // failed such extractions. Every other frame is the same, so no
        // published entry changes and the recipe version stays.
        None => filters.push(format!("fps=fps={}:start_time=0:eof_action=pass", spec.fps)),
    }
    if let Some(transfer) = spec.transfer {
        let t = match transfer {
            Transfer::Pq => "smpte2084",
            Transfer::Hlg => "arib-std-b67",
        };
        filters.push(format!(
            "zscale=tin=bt709:pin=bt709:min=bt709:t={t}:p=bt2020:m=bt2020nc:npl=203"
        ));
    }
    let pix_fmt = match (spec.format, spec.transfer.is_some(), spec.alpha) {
        (ImageFormat::Png, true, true) => "rgba64be",
        (ImageFormat::Png, true, false) => "rgb48be",
        (ImageFormat::Png, false, true) => "rgba",
        (ImageFormat::Png, false, false) => "rgb24",
        (ImageFormat::Jpeg, _, _) => "yuvj420p",
    };
    filters.push(format!("format={pix_fmt}"));
    let frames = distinct
        .map_or(spec.frame_count, DistinctFrames::count)
        .to_string();
    push(
        &mut args,
        &[
            "-map",
            "0:v:0",
            "-an",
            "-sn",
            "-dn",
            "-vf",
            &filters.join(","),
        ],
    );
    push(
        &mut args,
        &["-frames:v", &frames, "-fps_mode", "passthrough"],
    );
    match spec.format {
        ImageFormat::Png => push(&mut args, &["-c:v", "png", "-compression_level", "1"]),
        ImageFormat::Jpeg => push(
            &mut args,
            &["-c:v", "mjpeg", "-q:v", &JPEG_QUALITY.to_string()],
        ),
    }
    push(
        &mut args,
        &[
            "-start_number",
            &spec.first_number.to_string(),
            "-f",
            "image2",
        ],
    );
    args.push(
        out_dir
            .join(format!(
                "{}%06d.{}",
                if distinct.is_some() {
                    DISTINCT_PREFIX
                } else {
                    "frame_"
                },
                spec.format.extension()
            ))
            .into_os_string(),
    );
    args
}

/// Limits on one ffmpeg process.
#[derive(Clone, Debug)]
pub struct RunLimits {
    /// Kill it after this long.
    pub timeout: Duration,
    /// Kill it when this is cancelled.
    pub cancel: CancellationToken,
}

/// Kills a process group when dropped. ffmpeg (and ffprobe) run as the
/// leader of a group of their own, so a timeout or a cancellation also ends
/// what they started (the real ffmpeg behind a wrapper script set as
/// `FRAMEX_FFMPEG`), and nothing they started outlives their run to write
/// into a directory framex has already checked. A group's id is not reused
/// while any member lives; once the group is empty the kill finds nothing.
pub(crate) struct GroupKiller(Option<rustix::process::Pid>);

impl GroupKiller {
    /// For a child spawned with `process_group(0)`.
    pub(crate) fn new(child: &tokio::process::Child) -> Self {
        let pid = child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            // Never 0 or 1: those would signal our own group or every process.
            .filter(|&id| id > 1)
            .and_then(rustix::process::Pid::from_raw);
        Self(pid)
    }
}

impl Drop for GroupKiller {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    }
}

/// Runs ffmpeg with `args`, reporting frames written through `on_frames`
/// (the running total). Kills it, and every process it started, on timeout
/// or cancellation. Returns the tail of its stderr.
pub async fn run_ffmpeg(
    ffmpeg: &Path,
    args: &[OsString],
    limits: &RunLimits,
    on_frames: &(dyn Fn(u64) + Send + Sync),
) -> Result<String, ExtractError> {
    let mut child = Command::new(ffmpeg)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|err| spawn_error("ffmpeg", ffmpeg, &err))?;
    // Declared after `child`, so dropped before it: on a timeout or a
    // cancellation the group is killed while its leader is still unreaped;
    // after a normal exit it kills only stragglers, if any.
    let _group = GroupKiller::new(&child);
    let stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let progress = async move {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(n) = line
                .strip_prefix("frame=")
                .and_then(|n| n.trim().parse().ok())
            {
                on_frames(n);
            }
        }
    };
    // Kept where a timeout can still read it: what ffmpeg said before it hung
    // belongs in the error. Only the last STDERR_KEEP bytes are kept.
    let said = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let collect_stderr = {
        let said = said.clone();
        async move {
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = stderr.read(&mut chunk).await {
                let mut said = said.lock().unwrap_or_else(|e| e.into_inner());
                said.extend_from_slice(&chunk[..n]);
                let excess = said.len().saturating_sub(STDERR_KEEP);
                said.drain(..excess);
            }
        }
    };
    let said_so_far = || said.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let run = async {
        let (status, (), ()) = tokio::join!(child.wait(), progress, collect_stderr);
        status
    };
    tokio::select! {
        status = run => {
            let err = said_so_far();
            let status = status.map_err(|e| ExtractError::io("waiting for ffmpeg", ffmpeg, &e))?;
            if status.success() {
                Ok(stderr_tail(&err, 6))
            } else {
                Err(exit_error("ffmpeg", &status, &err, |status, stderr_tail| {
                    ExtractError::FfmpegFailed { status, stderr_tail }
                }))
            }
        }
        () = tokio::time::sleep(limits.timeout) => {
            Err(ExtractError::FfmpegTimeout {
                tool: "ffmpeg".into(),
                seconds: limits.timeout.as_secs(),
                stderr_tail: stderr_tail(&said_so_far(), 6),
            })
        }
        () = limits.cancel.cancelled() => Err(ExtractError::Cancelled),
    }
    // Leaving the select kills the group, then drops the child.
}

/// How much of ffmpeg's stderr is kept for its error (the tail is what counts).
const STDERR_KEEP: usize = 64 * 1024;

fn zero_output(expected: u64) -> ExtractError {
    ExtractError::ZeroOutput {
        expected,
        stderr_tail: "ffmpeg exited successfully without writing a frame".into(),
    }
}

/// Links distinct source frames into place as `frame_000001…`, one link per
/// output frame, then removes the distinct names. Fails when ffmpeg wrote a
/// different number of distinct frames than expected.
pub fn place_distinct(
    dir: &Path,
    distinct: &DistinctFrames,
    format: ImageFormat,
) -> Result<(), ExtractError> {
    let ext = format.extension();
    let name = |n: u64| dir.join(format!("{DISTINCT_PREFIX}{n:06}.{ext}"));
    let count = distinct.count();
    if count > 0 && !name(1).is_file() {
        return Err(zero_output(distinct.shown.len() as u64));
    }
    if !name(count).is_file() || name(count + 1).exists() {
        return Err(ExtractError::BadOutput {
            detail: format!("expected {count} distinct source frames from ffmpeg"),
        });
    }
    for (j, rank) in distinct.ranks().into_iter().enumerate() {
        let to = dir.join(frame_name(j as u64 + 1, format));
        std::fs::hard_link(name(rank + 1), &to)
            .map_err(|e| ExtractError::io("linking", &to, &e))?;
    }
    for n in 1..=count {
        let path = name(n);
        std::fs::remove_file(&path).map_err(|e| ExtractError::io("removing", &path, &e))?;
    }
    Ok(())
}

/// Checks what ffmpeg wrote: exactly `expected` frames numbered from 1, each
/// a complete image of the format (a PNG's every chunk checksum verified).
/// Hashes and syncs each frame (so a published entry survives a power cut),
/// returning their records in order. `stderr_tail` is ffmpeg's, for the
/// error when it wrote nothing.
pub fn check_frames(
    dir: &Path,
    expected: u64,
    format: ImageFormat,
    stderr_tail: &str,
) -> Result<Vec<(PathBuf, FrameRecord)>, ExtractError> {
    let written = std::fs::read_dir(dir)
        .map_err(|e| ExtractError::io("reading", dir, &e))?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("frame_"))
        .count() as u64;
    if written == 0 && expected > 0 {
        return Err(ExtractError::ZeroOutput {
            expected,
            stderr_tail: stderr_tail.to_string(),
        });
    }
    if written != expected {
        return Err(ExtractError::BadOutput {
            detail: format!("{written} frames written, {expected} expected"),
        });
    }
    // Output frames that are links to one distinct frame are checked once.
    let paths: Vec<PathBuf> = (1..=expected)
        .map(|n| dir.join(frame_name(n, format)))
        .collect();
    let inodes = paths
        .iter()
        .map(|path| {
            use std::os::unix::fs::MetadataExt;
            std::fs::metadata(path)
                .map(|m| m.ino())
                .map_err(|e| ExtractError::io("stat", path, &e))
        })
        .collect::<Result<Vec<u64>, _>>()?;
    let mut first_with_inode: std::collections::BTreeMap<u64, usize> =
        std::collections::BTreeMap::new();
    for (i, inode) in inodes.iter().enumerate() {
        first_with_inode.entry(*inode).or_insert(i);
    }
    let mut distinct: Vec<usize> = first_with_inode.values().copied().collect();
    distinct.sort_unstable();
    // Reading, checking, hashing and syncing hundreds of megabytes is worth
    // every core: ffmpeg has finished, and the run waits on this.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(distinct.len())
        .max(1);
    let chunk = distinct.len().div_ceil(threads).max(1);
    let checked: Vec<Result<FrameRecord, ExtractError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = distinct
            .chunks(chunk)
            .map(|part| {
                let paths = &paths;
                scope.spawn(move || {
                    part.iter()
                        .map(|&i| check_frame(&paths[i], format))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a frame check does not panic"))
            .collect()
    });
    // The first failure in frame order, whatever thread found it.
    let mut record_of: std::collections::BTreeMap<u64, FrameRecord> =
        std::collections::BTreeMap::new();
    for (&i, result) in distinct.iter().zip(checked) {
        record_of.insert(inodes[i], result?);
    }
    Ok(paths
        .into_iter()
        .zip(&inodes)
        .map(|(path, inode)| (path, record_of[inode].clone()))
        .collect())
}

/// Reads one frame, checks that it is a whole image, hashes it and syncs it
/// (so a published entry survives a power cut).
fn check_frame(path: &Path, format: ImageFormat) -> Result<FrameRecord, ExtractError> {
    let bytes = std::fs::read(path).map_err(|e| ExtractError::io("reading", path, &e))?;
    if !complete_image(format, &bytes) {
        return Err(ExtractError::BadOutput {
            detail: format!(
                "{} is not a complete {} image",
                path.display(),
                format.as_str()
            ),
        });
    }
    let blake3 = blake3::hash(&bytes).to_hex().to_string();
    let file = std::fs::File::open(path).map_err(|e| ExtractError::io("opening", path, &e))?;
    file.sync_data()
        .map_err(|e| ExtractError::io("syncing", path, &e))?;
    Ok(FrameRecord {
        size: bytes.len() as u64,
        blake3,
    })
}

/// Syncs the frames ffmpeg has finished while it is still writing the
/// others, so the sync that must come before publishing finds them clean:
/// the disk works while ffmpeg encodes. Purely an optimization —
/// [`check_frames`] still syncs and checks every frame — so it may guess:
/// a frame counts as finished once the next one exists (the image2 muxer
/// writes them in order).
pub struct WriteBehind {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl WriteBehind {
    /// Starts syncing `dir/<prefix>000001.<ext>`, … as they are finished.
    pub fn start(dir: PathBuf, prefix: &'static str, ext: &'static str) -> Self {
        use std::sync::atomic::Ordering;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let name = move |n: u64| dir.join(format!("{prefix}{n:06}.{ext}"));
        let thread = std::thread::Builder::new()
            .name("framex-write-behind".into())
            .spawn(move || {
                let mut next = 1;
                while !flag.load(Ordering::Relaxed) {
                    while !flag.load(Ordering::Relaxed) && name(next + 1).exists() {
                        if let Ok(file) = std::fs::File::open(name(next)) {
                            let _ = file.sync_data();
                        }
                        next += 1;
                    }
                    std::thread::sleep(Duration::from_millis(40));
                }
            })
            .ok();
        Self { stop, thread }
    }
}

impl Drop for WriteBehind {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A whole image: a PNG is its signature, then chunks each with a correct
/// CRC, `IHDR` first and `IEND` last, nothing after; a JPEG starts with SOI
/// and ends with EOI (JPEG has no checksum to check).
fn complete_image(format: ImageFormat, bytes: &[u8]) -> bool {
    match format {
        ImageFormat::Png => complete_png(bytes),
        ImageFormat::Jpeg => {
            bytes.len() >= 4 && bytes.starts_with(&[0xFF, 0xD8]) && bytes.ends_with(&[0xFF, 0xD9])
        }
    }
}

fn complete_png(bytes: &[u8]) -> bool {
    let Some(mut rest) = bytes.strip_prefix(b"\x89PNG\r\n\x1a\n") else {
        return false;
    };
    let mut first = true;
    while rest.len() >= 12 {
        let length = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        // Length, type and data, then the CRC of type and data.
        let Some(end) = length.checked_add(12).filter(|&end| end <= rest.len()) else {
            return false;
        };
        let (body, crc) = (&rest[4..end - 4], &rest[end - 4..end]);
        if crc32fast::hash(body) != u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]) {
            return false;
        }
        let kind = &body[..4];
        if first != (kind == b"IHDR") {
            return false;
        }
        first = false;
        rest = &rest[end..];
        if kind == b"IEND" {
            return rest.is_empty();
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32fast::hash(&body).to_be_bytes());
        out
    }

    #[test]
    fn only_whole_pngs_with_good_checksums_pass() {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]));
        png.extend(chunk(b"IDAT", b"not really zlib, but checksummed"));
        png.extend(chunk(b"IEND", b""));
        assert!(complete_image(ImageFormat::Png, &png));
        // A byte changed anywhere, a cut, or anything after IEND.
        for at in [0, 9, 20, 40, png.len() - 1] {
            let mut bad = png.clone();
            bad[at] ^= 0x20;
            assert!(!complete_image(ImageFormat::Png, &bad), "byte {at}");
        }
        assert!(!complete_image(ImageFormat::Png, &png[..png.len() - 1]));
        assert!(!complete_image(
            ImageFormat::Png,
            &[png.as_slice(), b"x"].concat()
        ));
        // IHDR must come first; a huge length does not overflow.
        let mut no_ihdr = b"\x89PNG\r\n\x1a\n".to_vec();
        no_ihdr.extend(chunk(b"IEND", b""));
        assert!(!complete_image(ImageFormat::Png, &no_ihdr));
        let mut huge = b"\x89PNG\r\n\x1a\n".to_vec();
        huge.extend([0xFF; 16]);
        assert!(!complete_image(ImageFormat::Png, &huge));
        assert!(complete_image(
            ImageFormat::Jpeg,
            &[0xFF, 0xD8, 1, 2, 0xFF, 0xD9]
        ));
        assert!(!complete_image(
            ImageFormat::Jpeg,
            &[0xFF, 0xD8, 1, 2, 0xFF]
        ));
        assert!(!complete_image(ImageFormat::Jpeg, &[0xFF, 0xD9]));
    }

    #[test]
    fn segment_starts_are_whole_microseconds() {
        let ntsc = framex_core::Fps::new(30000, 1001).unwrap();
        for (fps, count, parts) in [
            (ntsc, 100, 3),
            (framex_core::Fps::new(30, 1).unwrap(), 360, 2),
        ] {
            let segs = segments(fps, count, parts);
            assert_eq!(segs.iter().map(|s| s.1).sum::<u64>(), count);
            assert!(segs.len() as u64 <= parts);
            for (offset, _) in segs {
                assert!(
                    fps.whole_frames_between(0, fps.frame_time_us(0, offset))
                        == Some(offset as i64)
                );
            }
        }
        assert_eq!(
            segments(framex_core::Fps::new(25, 1).unwrap(), 10, 1),
            vec![(0, 10)]
        );
        assert_eq!(
            segments(framex_core::Fps::new(25, 1).unwrap(), 10, 4),
            vec![(0, 3), (3, 3), (6, 3), (9, 1)]
        );
    }
}
