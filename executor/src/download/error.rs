//! What can go wrong with a download, and how a failed request is told
//! apart: transient (retried once), a timeout, refused, or failed.

use std::io;

use crate::error::IoError;

use super::resolver::Refusal;
use super::Downloader;

/// Why a URL source could not be downloaded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DownloadError {
    /// The server says the URL does not exist (404 or 410).
    #[error("downloading {url}: not found (HTTP {status})")]
    NotFound {
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
    Transient {
        /// The URL as written.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// A download request ran past `--download-timeout`. Retried once.
    #[error("downloading {url}: no complete response within {seconds} s")]
    Timeout {
        /// The URL as written.
        url: String,
        /// The per-request timeout.
        seconds: u64,
    },
    /// framex will not fetch or use what the URL gives: a private, loopback
    /// or link-local address (without `--allow-private-urls`), plain `http`
    /// to anything but loopback, an HTML page, a compressed body.
    #[error("downloading {url}: refused: {reason}")]
    Refused {
        /// The URL as written.
        url: String,
        /// Why.
        reason: String,
    },
    /// Any other download failure (a 4xx status other than 404/410, an
    /// unknown host, a malformed URL).
    #[error("downloading {url}: {detail}")]
    Failed {
        /// The URL as written.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// The run was cancelled while downloading.
    #[error("cancelled")]
    Cancelled,
    /// Writing the download failed.
    #[error(transparent)]
    Io(#[from] IoError),
}

impl Downloader {
    pub(super) fn classify(&self, url: &str, err: ureq::Error) -> DownloadError {
        let url = url.to_string();
        let transient = |detail: String| DownloadError::Transient {
            url: url.clone(),
            detail,
        };
        let failed = |detail: String| DownloadError::Failed {
            url: url.clone(),
            detail,
        };
        match err {
            ureq::Error::Timeout(_) => DownloadError::Timeout {
                url,
                seconds: self.options.timeout.as_secs(),
            },
            ureq::Error::Io(e) => {
                if let Some(refusal) = e.get_ref().and_then(|i| i.downcast_ref::<Refusal>()) {
                    return DownloadError::Refused {
                        url,
                        reason: refusal.0.clone(),
                    };
                }
                if e.kind() == io::ErrorKind::TimedOut || e.kind() == io::ErrorKind::WouldBlock {
                    return DownloadError::Timeout {
                        url,
                        seconds: self.options.timeout.as_secs(),
                    };
                }
                let text = e.to_string();
                // getaddrinfo: an unknown host will stay unknown; only
                // EAI_AGAIN ("Temporary failure in name resolution") may pass.
                if text.contains("failed to lookup address") && !text.contains("Temporary failure")
                {
                    return failed(format!("host not found ({text})"));
                }
                // TLS errors (an untrusted certificate, a failed handshake)
                // come as invalid data; they recur.
                if e.kind() == io::ErrorKind::InvalidData {
                    return failed(text);
                }
                transient(text)
            }
            ureq::Error::Protocol(e) => transient(format!("protocol error: {e}")),
            ureq::Error::ConnectionFailed => transient("the connection failed".into()),
            ureq::Error::HostNotFound => failed("host not found".into()),
            other => failed(other.to_string()),
        }
    }
}

/// Adds how far a download got to a transient error's detail.
pub(super) fn with_progress(err: DownloadError, got: u64, total: Option<u64>) -> DownloadError {
    match err {
        DownloadError::Transient { url, detail } => DownloadError::Transient {
            url,
            detail: match total {
                Some(total) => format!("{detail} (after {got} of {total} bytes)"),
                None => format!("{detail} (after {got} bytes)"),
            },
        },
        other => other,
    }
}
