//! Per-element errors of a run, each with a stable kind for reports.

use std::path::PathBuf;

use thiserror::Error;

/// Why an element did not get its frames.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ExtractError {
    /// The source file does not exist.
    #[error("source {} does not exist", .path.display())]
    SourceMissing {
        /// The resolved path.
        path: PathBuf,
    },
    /// The source exists but cannot be used as a file (a directory, a FIFO,
    /// a device) or cannot be read.
    #[error("source {} cannot be read: {reason}", .path.display())]
    SourceUnreadable {
        /// The resolved path.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// ffprobe could not find a video stream in the source.
    #[error("source {} is not a readable video: {detail}", .path.display())]
    InvalidMedia {
        /// The resolved path.
        path: PathBuf,
        /// ffprobe's complaint.
        detail: String,
    },
    /// ffmpeg or ffprobe is not installed (or not executable).
    #[error("{tool} is not available ({reason}); install it (Debian/Ubuntu: `apt-get install ffmpeg`, macOS: `brew install ffmpeg`) or point FRAMEX_{} at it", .tool.to_uppercase())]
    ToolUnavailable {
        /// `ffmpeg` or `ffprobe`.
        tool: String,
        /// Why it could not be run.
        reason: String,
    },
    /// ffmpeg exited unsuccessfully or crashed (a failure that would happen
    /// again: bad input, a decoder crash such as SIGSEGV or SIGABRT).
    #[error("ffmpeg failed ({status}): {stderr_tail}")]
    FfmpegFailed {
        /// Exit status as text (`exit status 1`, `killed by signal 11`).
        status: String,
        /// The last lines of ffmpeg's stderr.
        stderr_tail: String,
    },
    /// ffmpeg or ffprobe failed in a way that says nothing about the input:
    /// killed from outside (SIGKILL, as the OOM killer does, SIGTERM, SIGINT,
    /// SIGHUP) or out of resources ("Resource temporarily unavailable",
    /// "Cannot allocate memory", or the process could not be started for
    /// that reason). Retried once.
    #[error("{tool} failed transiently ({status}): {stderr_tail}")]
    FfmpegTransient {
        /// `ffmpeg` or `ffprobe`.
        tool: String,
        /// Exit status as text.
        status: String,
        /// The last lines of its stderr.
        stderr_tail: String,
    },
    /// ffmpeg or ffprobe ran past the per-process timeout and was killed.
    #[error("{tool} timed out after {seconds} s and was killed: {stderr_tail}")]
    FfmpegTimeout {
        /// `ffmpeg` or `ffprobe`.
        tool: String,
        /// The timeout.
        seconds: u64,
        /// The last lines of its stderr.
        stderr_tail: String,
    },
    /// The server says the URL does not exist (404 or 410).
    #[error("downloading {url}: not found (HTTP {status})")]
    DownloadNotFound {
        /// The URL as written.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// A download failed in a way that may pass: a 5xx, 408 or 429 status, a
    /// connection reset or closed early, a body shorter than its
    /// Content-Length, or a body that does not match its digest header.
    /// Retried once (resumed with a Range request when the server allows).
    #[error("downloading {url}: {detail}")]
    DownloadTransient {
        /// The URL as written.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// A download request ran past `--download-timeout`. Retried once.
    #[error("downloading {url}: no complete response within {seconds} s")]
    DownloadTimeout {
        /// The URL as written.
        url: String,
        /// The per-request timeout.
        seconds: u64,
    },
    /// framex will not fetch or use what the URL gives: a private, loopback
    /// or link-local address (without `--allow-private-urls`), plain `http`
    /// to anything but loopback, an HTML page, a compressed body.
    #[error("downloading {url}: refused: {reason}")]
    DownloadRefused {
        /// The URL as written.
        url: String,
        /// Why.
        reason: String,
    },
    /// Any other download failure (a 4xx status other than 404/410, an
    /// unknown host, a malformed URL).
    #[error("downloading {url}: {detail}")]
    DownloadFailed {
        /// The URL as written.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// ffmpeg succeeded but wrote no frames.
    #[error("ffmpeg wrote no frames (expected {expected}): {stderr_tail}")]
    ZeroOutput {
        /// Frames the plan expects.
        expected: u64,
        /// The last lines of ffmpeg's stderr.
        stderr_tail: String,
    },
    /// ffmpeg wrote a different number of frames than the plan expects, or a
    /// frame that is not a valid image.
    #[error("ffmpeg output does not match the plan: {detail}")]
    BadOutput {
        /// What differs.
        detail: String,
    },
    /// ffmpeg went past a planned frame without decoding it (after a seek, a
    /// decoder may drop frames it considers unreachable). The run is tried
    /// again from an earlier keyframe; if that fails too, this is reported.
    #[error("a planned frame was not decoded: {detail}")]
    MissedFrame {
        /// Which frame, of which source.
        detail: String,
    },
    /// The run was cancelled (Ctrl-C).
    #[error("cancelled")]
    Cancelled,
    /// A filesystem operation failed.
    #[error("{op} {}: {message}", .path.display())]
    Io {
        /// What was being done.
        op: String,
        /// Where.
        path: PathBuf,
        /// The OS error.
        message: String,
    },
    /// The shared store (`--store`) failed: denied, unreachable, or failing
    /// until its retries ran out (kinds `store_denied`, `store_unavailable`,
    /// `store_invalid`).
    #[error(transparent)]
    Remote(crate::store::remote::RemoteError),
    /// The element shares an extraction whose leader failed.
    #[error("[shared extraction, leader {leader}] {error}")]
    Shared {
        /// The leader of the failed extraction.
        leader: String,
        /// The leader's error.
        error: Box<ExtractError>,
    },
}

impl ExtractError {
    /// A stable, machine-readable kind (the report's `errorKind`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::SourceMissing { .. } => "source_missing",
            Self::SourceUnreadable { .. } => "source_unreadable",
            Self::InvalidMedia { .. } => "invalid_media",
            Self::ToolUnavailable { .. } => "ffmpeg_unavailable",
            Self::FfmpegFailed { .. } => "ffmpeg_failed",
            Self::FfmpegTransient { .. } => "ffmpeg_transient",
            Self::FfmpegTimeout { .. } => "ffmpeg_timeout",
            Self::DownloadNotFound { .. } => "download_not_found",
            Self::DownloadTransient { .. } => "download_transient",
            Self::DownloadTimeout { .. } => "download_timeout",
            Self::DownloadRefused { .. } => "download_refused",
            Self::DownloadFailed { .. } => "download_failed",
            Self::ZeroOutput { .. } => "zero_output",
            Self::BadOutput { .. } | Self::MissedFrame { .. } => "bad_output",
            Self::Cancelled => "cancelled",
            Self::Io { .. } => "io",
            Self::Remote(err) => err.kind(),
            Self::Shared { error, .. } => error.kind(),
        }
    }

    /// Whether trying again (a later run, unchanged) might succeed.
    pub fn retryable(&self) -> bool {
        match self {
            Self::FfmpegTimeout { .. } | Self::Io { .. } => true,
            Self::Shared { error, .. } => error.retryable(),
            Self::Remote(err) => err.retryable(),
            _ => self.is_transient(),
        }
    }

    /// Whether the run itself retries the failed step once: ffmpeg or
    /// ffprobe failing transiently, a transient download failure or a
    /// download timeout. (An ffmpeg timeout is retryable but not retried: a
    /// second wait of `--timeout` seconds is rarely what a caller wants.)
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::FfmpegTransient { .. }
                | Self::DownloadTransient { .. }
                | Self::DownloadTimeout { .. }
        )
    }

    /// Wraps an I/O error with what was being done and where.
    pub fn io(op: &str, path: impl Into<PathBuf>, err: &std::io::Error) -> Self {
        Self::Io {
            op: op.to_string(),
            path: path.into(),
            message: err.to_string(),
        }
    }

    /// The error as reported for a follower of `leader`.
    pub fn shared(&self, leader: &str) -> Self {
        Self::Shared {
            leader: leader.to_string(),
            error: Box::new(self.clone()),
        }
    }
}

/// Signals that kill a process from outside, whatever its input: the OOM
/// killer's SIGKILL, SIGTERM, SIGINT, SIGHUP. A crash (SIGSEGV, SIGABRT,
/// SIGBUS, SIGILL, SIGFPE) would recur on the same input and is a failure.
const TRANSIENT_SIGNALS: &[i32] = &[libc::SIGKILL, libc::SIGTERM, libc::SIGINT, libc::SIGHUP];

/// Messages of a process that ran out of resources rather than met bad input.
const TRANSIENT_MESSAGES: &[&str] = &["Resource temporarily unavailable", "Cannot allocate memory"];

/// The error for `tool` (`ffmpeg` or `ffprobe`) having exited with `status`
/// and `stderr`: [`ExtractError::FfmpegTransient`] when the failure says
/// nothing about the input (see [`TRANSIENT_SIGNALS`] and
/// [`TRANSIENT_MESSAGES`]), else `failed`'s error.
pub fn exit_error(
    tool: &str,
    status: &std::process::ExitStatus,
    stderr: &[u8],
    failed: impl FnOnce(String, String) -> ExtractError,
) -> ExtractError {
    use std::os::unix::process::ExitStatusExt;
    let text = match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        _ => status.to_string(),
    };
    let tail = stderr_tail(stderr, 6);
    let killed = status
        .signal()
        .is_some_and(|s| TRANSIENT_SIGNALS.contains(&s));
    let stderr_text = String::from_utf8_lossy(stderr);
    let starved = TRANSIENT_MESSAGES.iter().any(|m| stderr_text.contains(m));
    if killed || starved {
        ExtractError::FfmpegTransient {
            tool: tool.to_string(),
            status: text,
            stderr_tail: tail,
        }
    } else {
        failed(text, tail)
    }
}

/// The error for `tool` that could not be started: unavailable when it is
/// missing or not executable, transient when the system is out of processes
/// or memory (EAGAIN, ENOMEM).
pub fn spawn_error(tool: &str, path: &std::path::Path, err: &std::io::Error) -> ExtractError {
    let starved = matches!(err.raw_os_error(), Some(libc::EAGAIN) | Some(libc::ENOMEM));
    if starved {
        ExtractError::FfmpegTransient {
            tool: tool.to_string(),
            status: "could not start".to_string(),
            stderr_tail: format!("{}: {err}", path.display()),
        }
    } else {
        ExtractError::ToolUnavailable {
            tool: tool.to_string(),
            reason: format!("{}: {err}", path.display()),
        }
    }
}

/// Keeps the last `max_lines` non-empty lines of a process's stderr (at most
/// 2 KiB), for error messages.
pub fn stderr_tail(stderr: &[u8], max_lines: usize) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = lines[lines.len().saturating_sub(max_lines)..].join(" | ");
    if tail.len() > 2048 {
        let mut start = tail.len() - 2048;
        while !tail.is_char_boundary(start) {
            start += 1;
        }
        format!("…{}", &tail[start..])
    } else if tail.is_empty() {
        "(no output on stderr)".to_string()
    } else {
        tail
    }
}
