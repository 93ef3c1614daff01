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
    /// ffmpeg exited unsuccessfully or was killed by a signal.
    #[error("ffmpeg failed ({status}): {stderr_tail}")]
    FfmpegFailed {
        /// Exit status as text (`exit status: 1`, `signal: 9 (SIGKILL)`).
        status: String,
        /// The last lines of ffmpeg's stderr.
        stderr_tail: String,
    },
    /// ffmpeg ran past the per-process timeout and was killed.
    #[error("ffmpeg timed out after {seconds} s and was killed: {stderr_tail}")]
    FfmpegTimeout {
        /// The timeout.
        seconds: u64,
        /// The last lines of ffmpeg's stderr.
        stderr_tail: String,
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
    /// A stable, machine-readable kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::SourceMissing { .. } => "source_missing",
            Self::SourceUnreadable { .. } => "source_unreadable",
            Self::InvalidMedia { .. } => "invalid_media",
            Self::ToolUnavailable { .. } => "ffmpeg_unavailable",
            Self::FfmpegFailed { .. } => "ffmpeg_failed",
            Self::FfmpegTimeout { .. } => "ffmpeg_timeout",
            Self::ZeroOutput { .. } => "zero_output",
            Self::BadOutput { .. } => "bad_output",
            Self::Cancelled => "cancelled",
            Self::Io { .. } => "io",
            Self::Shared { error, .. } => error.kind(),
        }
    }

    /// Whether trying again might succeed without changing anything.
    pub fn retryable(&self) -> bool {
        match self {
            Self::FfmpegTimeout { .. } | Self::Io { .. } => true,
            Self::FfmpegFailed { status, .. } => status.contains("signal"),
            Self::Shared { error, .. } => error.retryable(),
            _ => false,
        }
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
