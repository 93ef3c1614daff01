//! The extraction recipe and running ffmpeg.
//!
//! One ffmpeg pass per unit. Frames are anchored to the source's own
//! timeline so that any slice of a unit is byte-identical to extracting that
//! slice alone (TOOLCHAIN.md, "Exact frames across different seek points"):
//! seek to the last source frame at or before the start, keep absolute
//! timestamps (`-copyts`), move the start to time 0 in microseconds, and let
//! the `fps` filter pick the frame on screen at each tick `j/fps`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use framex_core::{format_us, Fps, ImageFormat, Transfer};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use crate::cache::{frame_name, hash_file, FrameRecord};
use crate::error::{stderr_tail, ExtractError};
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
}

/// The ffmpeg arguments for `spec`, writing `frame_000001.<ext>`… into `out_dir`.
pub fn ffmpeg_args(spec: &ExtractSpec<'_>, out_dir: &Path) -> Vec<OsString> {
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
        format!("fps=fps={}:start_time=0", spec.fps),
    ];
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
    let frames = spec.frame_count.to_string();
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
    push(&mut args, &["-start_number", "1", "-f", "image2"]);
    args.push(
        out_dir
            .join(format!("frame_%06d.{}", spec.format.extension()))
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

/// Runs ffmpeg with `args`, reporting frames written through `on_frames`
/// (the running total). Kills it on timeout or cancellation.
pub async fn run_ffmpeg(
    ffmpeg: &Path,
    args: &[OsString],
    limits: &RunLimits,
    on_frames: &(dyn Fn(u64) + Send + Sync),
) -> Result<(), ExtractError> {
    let mut child = Command::new(ffmpeg)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|err| ExtractError::ToolUnavailable {
            tool: "ffmpeg".into(),
            reason: format!("{}: {err}", ffmpeg.display()),
        })?;
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
    let collect_stderr = async move {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf).await;
        buf
    };
    let run = async {
        let (status, (), err) = tokio::join!(child.wait(), progress, collect_stderr);
        (status, err)
    };
    tokio::select! {
        (status, err) = run => {
            let status = status.map_err(|e| ExtractError::io("waiting for ffmpeg", ffmpeg, &e))?;
            if status.success() {
                Ok(())
            } else {
                Err(ExtractError::FfmpegFailed {
                    status: describe_status(&status),
                    stderr_tail: stderr_tail(&err, 6),
                })
            }
        }
        () = tokio::time::sleep(limits.timeout) => {
            Err(ExtractError::FfmpegTimeout {
                seconds: limits.timeout.as_secs(),
                stderr_tail: "(killed)".into(),
            })
        }
        () = limits.cancel.cancelled() => Err(ExtractError::Cancelled),
    }
    // Leaving the select drops the child; kill_on_drop kills a running one.
}

fn describe_status(status: &std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        _ => status.to_string(),
    }
}

/// Checks what ffmpeg wrote: exactly `expected` frames numbered from 1, each
/// a complete image of the format. Hashes and syncs each frame (so a
/// published entry survives a power cut), returning their records in order.
pub fn check_frames(
    dir: &Path,
    expected: u64,
    format: ImageFormat,
) -> Result<Vec<(PathBuf, FrameRecord)>, ExtractError> {
    let written = std::fs::read_dir(dir)
        .map_err(|e| ExtractError::io("reading", dir, &e))?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("frame_"))
        .count() as u64;
    if written != expected {
        return Err(ExtractError::BadOutput {
            detail: format!("{written} frames written, {expected} expected"),
        });
    }
    (1..=expected)
        .map(|n| {
            let path = dir.join(frame_name(n, format));
            let (blake3, ends) =
                hash_file(&path).map_err(|e| ExtractError::io("reading", &path, &e))?;
            if !complete_image(format, &ends) {
                return Err(ExtractError::BadOutput {
                    detail: format!(
                        "{} is not a complete {} image",
                        path.display(),
                        format.as_str()
                    ),
                });
            }
            let file =
                std::fs::File::open(&path).map_err(|e| ExtractError::io("opening", &path, &e))?;
            file.sync_data()
                .map_err(|e| ExtractError::io("syncing", &path, &e))?;
            let size = file
                .metadata()
                .map_err(|e| ExtractError::io("stat", &path, &e))?
                .len();
            Ok((path, FrameRecord { size, blake3 }))
        })
        .collect()
}

/// `ends` holds the first 8 and the last 12 bytes of a file.
fn complete_image(format: ImageFormat, ends: &[u8]) -> bool {
    if ends.len() < 20 {
        return false;
    }
    let (head, tail) = (&ends[..8], &ends[ends.len() - 12..]);
    match format {
        ImageFormat::Png => head == b"\x89PNG\r\n\x1a\n" && &tail[4..8] == b"IEND",
        ImageFormat::Jpeg => head[..2] == [0xFF, 0xD8] && tail[10..] == [0xFF, 0xD9],
    }
}
