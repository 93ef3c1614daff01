//! The run-level error of an element and the one place where every stage's
//! error gets its stable kind for reports.
//!
//! Each stage owns its error: [`ToolError`] (the process runner, ffmpeg and
//! ffprobe alike), [`SourceError`] (resolving and hashing a path),
//! [`ProbeError`], [`DownloadError`], [`DecodeError`] (ffmpeg's frames),
//! [`IoError`] (the store, fan-out and other file steps) and
//! [`RemoteError`] (the shared store). They compose into [`ExtractError`];
//! the `kind`, `retryable` and `is_transient` of all of them are defined
//! here, below, and nowhere else.

use std::path::PathBuf;

use thiserror::Error;

pub use crate::decode::DecodeError;
pub use crate::download::DownloadError;
pub use crate::probe::ProbeError;
pub use crate::process::ToolError;
pub use crate::source::SourceError;
pub use crate::store::remote::RemoteError;

/// Why an element did not get its frames.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ExtractError {
    /// The source path is missing or unusable.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// ffprobe found no usable video, or could not run.
    #[error(transparent)]
    Probe(#[from] ProbeError),
    /// ffmpeg or ffprobe could not run or failed.
    #[error(transparent)]
    Tool(#[from] ToolError),
    /// A URL source could not be downloaded.
    #[error(transparent)]
    Download(#[from] DownloadError),
    /// ffmpeg's frames are missing or wrong.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The run was cancelled (Ctrl-C).
    #[error("cancelled")]
    Cancelled,
    /// A filesystem operation failed.
    #[error(transparent)]
    Io(#[from] IoError),
    /// The shared store (`--store`) failed: denied, unreachable, or failing
    /// until its retries ran out (kinds `store_denied`, `store_unavailable`,
    /// `store_invalid`).
    #[error(transparent)]
    Remote(#[from] RemoteError),
    /// The element shares an extraction whose leader failed.
    #[error("[shared extraction, leader {leader}] {error}")]
    Shared {
        /// The leader of the failed extraction.
        leader: String,
        /// The leader's error.
        error: Box<ExtractError>,
    },
}

/// A filesystem operation that failed: what, where, and the OS's words.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{op} {}: {message}", .path.display())]
pub struct IoError {
    /// What was being done.
    pub op: String,
    /// Where.
    pub path: PathBuf,
    /// The OS error.
    pub message: String,
}

impl IoError {
    /// Wraps an I/O error with what was being done and where.
    pub fn new(op: &str, path: impl Into<PathBuf>, err: &std::io::Error) -> Self {
        Self {
            op: op.to_string(),
            path: path.into(),
            message: err.to_string(),
        }
    }
}

impl ExtractError {
    /// A stable, machine-readable kind (the report's `errorKind`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Source(err) => err.kind(),
            Self::Probe(err) => err.kind(),
            Self::Tool(err) => err.kind(),
            Self::Download(err) => err.kind(),
            Self::Decode(err) => err.kind(),
            Self::Cancelled => "cancelled",
            Self::Io(_) => "io",
            Self::Remote(err) => err.kind(),
            Self::Shared { error, .. } => error.kind(),
        }
    }

    /// Whether trying again (a later run, unchanged) might succeed.
    pub fn retryable(&self) -> bool {
        match self {
            Self::Probe(ProbeError::Tool(err))
            | Self::Tool(err)
            | Self::Decode(DecodeError::Tool(err)) => err.retryable(),
            Self::Download(err) => err.retryable(),
            Self::Io(_) => true,
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
        match self {
            Self::Probe(err) => err.is_transient(),
            Self::Tool(err) => err.is_transient(),
            Self::Download(err) => err.is_transient(),
            Self::Decode(err) => err.is_transient(),
            _ => false,
        }
    }

    /// Wraps an I/O error with what was being done and where.
    pub fn io(op: &str, path: impl Into<PathBuf>, err: &std::io::Error) -> Self {
        Self::Io(IoError::new(op, path, err))
    }

    /// ffmpeg's output does not match the plan (kind `bad_output`).
    pub fn bad_output(detail: String) -> Self {
        Self::Decode(DecodeError::BadOutput { detail })
    }

    /// The error as reported for a follower of `leader`.
    pub fn shared(&self, leader: &str) -> Self {
        Self::Shared {
            leader: leader.to_string(),
            error: Box::new(self.clone()),
        }
    }
}

impl SourceError {
    /// Its `errorKind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Missing { .. } => "source_missing",
            Self::Unreadable { .. } => "source_unreadable",
        }
    }
}

impl ToolError {
    /// Its `errorKind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Unavailable { .. } => "ffmpeg_unavailable",
            Self::Failed { .. } => "ffmpeg_failed",
            Self::Transient { .. } => "ffmpeg_transient",
            Self::Timeout { .. } => "ffmpeg_timeout",
            Self::Cancelled => "cancelled",
            Self::Io(_) => "io",
        }
    }

    /// Whether a later run might succeed: a timeout, an I/O error, or a
    /// transient failure.
    pub fn retryable(&self) -> bool {
        matches!(self, Self::Timeout { .. } | Self::Io(_)) || self.is_transient()
    }

    /// Whether the run retries it once.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient { .. })
    }
}

impl ProbeError {
    /// Its `errorKind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidMedia { .. } => "invalid_media",
            Self::Tool(err) => err.kind(),
        }
    }

    /// Whether the run retries it once.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Tool(err) if err.is_transient())
    }
}

impl DownloadError {
    /// Its `errorKind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "download_not_found",
            Self::Transient { .. } => "download_transient",
            Self::Timeout { .. } => "download_timeout",
            Self::Refused { .. } => "download_refused",
            Self::Failed { .. } => "download_failed",
            Self::Cancelled => "cancelled",
            Self::Io(_) => "io",
        }
    }

    /// Whether a later run might succeed.
    pub fn retryable(&self) -> bool {
        matches!(self, Self::Io(_)) || self.is_transient()
    }

    /// Whether the download is tried once more (resumed where possible).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient { .. } | Self::Timeout { .. })
    }
}

impl DecodeError {
    /// Its `errorKind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Tool(err) => err.kind(),
            Self::ZeroOutput { .. } => "zero_output",
            Self::BadOutput { .. } | Self::MissedFrame { .. } => "bad_output",
        }
    }

    /// Whether the run retries the decode once.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Tool(err) if err.is_transient())
    }
}

impl RemoteError {
    /// Its `errorKind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Denied { .. } => "store_denied",
            Self::Unavailable { .. } => "store_unavailable",
            Self::Invalid { .. } => "store_invalid",
        }
    }

    /// Whether trying again might help.
    pub fn retryable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }
}

/// Signals that kill a process from outside, whatever its input: the OOM
/// killer's SIGKILL, SIGTERM, SIGINT, SIGHUP. A crash (SIGSEGV, SIGABRT,
/// SIGBUS, SIGILL, SIGFPE) would recur on the same input and is a failure.
const TRANSIENT_SIGNALS: &[i32] = &[libc::SIGKILL, libc::SIGTERM, libc::SIGINT, libc::SIGHUP];

/// Messages of a process that ran out of resources rather than met bad input.
const TRANSIENT_MESSAGES: &[&str] = &["Resource temporarily unavailable", "Cannot allocate memory"];

/// The error for `tool` (`ffmpeg` or `ffprobe`) having exited with `status`
/// and `stderr`: [`ToolError::Transient`] when the failure says nothing
/// about the input (see [`TRANSIENT_SIGNALS`] and [`TRANSIENT_MESSAGES`]),
/// else [`ToolError::Failed`].
pub fn exit_error(tool: &str, status: &std::process::ExitStatus, stderr: &[u8]) -> ToolError {
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
        ToolError::Transient {
            tool: tool.to_string(),
            status: text,
            stderr_tail: tail,
        }
    } else {
        ToolError::Failed {
            status: text,
            stderr_tail: tail,
        }
    }
}

/// The error for `tool` that could not be started: unavailable when it is
/// missing or not executable, transient when the system is out of processes
/// or memory (EAGAIN, ENOMEM).
pub fn spawn_error(tool: &str, path: &std::path::Path, err: &std::io::Error) -> ToolError {
    let starved = matches!(err.raw_os_error(), Some(libc::EAGAIN) | Some(libc::ENOMEM));
    if starved {
        ToolError::Transient {
            tool: tool.to_string(),
            status: "could not start".to_string(),
            stderr_tail: format!("{}: {err}", path.display()),
        }
    } else {
        ToolError::Unavailable {
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
