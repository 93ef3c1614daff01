//! One HTTP request of a download: conditional (revalidating an earlier
//! download), resumed with `Range` after a transient failure, the body
//! streamed to the partial file, checked (HTML refused, length and digest
//! headers verified).

use std::io::{self, Read};
use std::sync::atomic::Ordering;

use ureq::http::HeaderMap;

use crate::error::IoError;

use super::digest::{expected_digests, hash_file, DigestAlgorithm};
use super::error::with_progress;
use super::layout::{PartialFile, UrlRecord};
use super::{DownloadError, Downloader};

impl Downloader {
    /// One request: the whole body, the rest of it (resuming), or a 304.
    pub(super) fn attempt(
        &self,
        url: &str,
        partial: &mut PartialFile,
        conditional: Option<&UrlRecord>,
        state: &mut AttemptState,
    ) -> Result<Outcome, DownloadError> {
        let transient = |detail: String| DownloadError::Transient {
            url: url.to_string(),
            detail,
        };
        let path = partial.path.clone();
        let io_err = |op: &str, e: &io::Error| IoError::new(op, &path, e);
        let offset = partial.len;
        let mut request = self.agent.get(url);
        let ranged = match &state.resume {
            Some(validator) if offset > 0 => {
                request = request
                    .header("Range", format!("bytes={offset}-"))
                    .header("If-Range", validator.as_str());
                true
            }
            _ => {
                partial.truncate().map_err(|e| io_err("truncating", &e))?;
                false
            }
        };
        if let Some(previous) = conditional.filter(|_| !ranged) {
            if let Some(etag) = &previous.etag {
                request = request.header("If-None-Match", etag.as_str());
            }
            if let Some(date) = &previous.last_modified {
                request = request.header("If-Modified-Since", date.as_str());
            }
        }
        let response = request.call().map_err(|e| self.classify(url, e))?;
        let status = response.status().as_u16();
        match status {
            304 if conditional.is_some() => return Ok(Outcome::NotModified),
            404 | 410 => {
                return Err(DownloadError::NotFound {
                    url: url.to_string(),
                    status,
                })
            }
            408 | 429 | 500..=599 => return Err(transient(format!("HTTP {status}"))),
            200 => {}
            206 if ranged => {}
            _ => {
                return Err(DownloadError::Failed {
                    url: url.to_string(),
                    detail: format!("HTTP {status}"),
                })
            }
        }
        let headers = response.headers().clone();
        refuse_unusable(url, &headers)?;
        let content_length = header(&headers, "content-length").and_then(|v| v.parse::<u64>().ok());
        let total = if status == 206 {
            match header(&headers, "content-range").and_then(|r| content_range(&r)) {
                Some((start, total)) if start == offset => total,
                _ => {
                    // Not the bytes we asked for: start over next time.
                    state.resume = None;
                    return Err(transient("the server resumed at another offset".into()));
                }
            }
        } else {
            if ranged {
                // The resource changed (If-Range failed) or ranges are not served.
                partial.truncate().map_err(|e| io_err("truncating", &e))?;
            }
            let validator = header(&headers, "etag")
                .filter(|e| !e.starts_with("W/"))
                .or_else(|| header(&headers, "last-modified"));
            let ranges =
                header(&headers, "accept-ranges").is_some_and(|v| v.eq_ignore_ascii_case("bytes"));
            state.resume = validator.filter(|_| ranges);
            state.digests = expected_digests(&headers, true);
            content_length
        };
        if status == 206 {
            state.digests.extend(expected_digests(&headers, false));
        }
        let complete = Complete {
            etag: header(&headers, "etag"),
            last_modified: header(&headers, "last-modified"),
        };
        let mut body = response.into_body().into_reader();
        let mut buf = vec![0u8; 256 * 1024];
        let mut first = partial.len == 0;
        loop {
            let n = match body.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let err = self.classify(url, ureq::Error::from(e));
                    return Err(with_progress(err, partial.len, total));
                }
            };
            if n == 0 {
                break;
            }
            if first {
                if looks_like_html(&buf[..n]) {
                    return Err(DownloadError::Refused {
                        url: url.to_string(),
                        reason: "the body is an HTML page, not a video".into(),
                    });
                }
                first = false;
            }
            partial
                .append(&buf[..n])
                .map_err(|e| io_err("writing", &e))?;
            self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        }
        if let Some(total) = total {
            if partial.len != total {
                return Err(transient(format!(
                    "the body ended after {} of {total} bytes",
                    partial.len
                )));
            }
        }
        if partial.len == 0 {
            return Err(DownloadError::Failed {
                url: url.to_string(),
                detail: "the body is empty".into(),
            });
        }
        Ok(Outcome::Complete(complete))
    }

    /// Syncs and hashes the complete body and checks it against the digest
    /// headers; a mismatch is transient, and the next attempt starts over.
    pub(super) fn verify(
        &self,
        url: &str,
        partial: &mut PartialFile,
        state: &mut AttemptState,
    ) -> Result<(), DownloadError> {
        let path = partial.path.clone();
        partial
            .file
            .sync_all()
            .map_err(|e| IoError::new("syncing", &path, &e))?;
        let wanted: Vec<DigestAlgorithm> = state.digests.iter().map(|(a, _)| *a).collect();
        let sums = hash_file(&path, &wanted).map_err(|e| IoError::new("reading", &path, &e))?;
        for (algorithm, expected) in &state.digests {
            let actual = match algorithm {
                DigestAlgorithm::Sha256 => &sums.sha256,
                DigestAlgorithm::Sha512 => &sums.sha512,
            };
            if actual != expected {
                state.resume = None;
                partial
                    .truncate()
                    .map_err(|e| IoError::new("truncating", &path, &e))?;
                return Err(DownloadError::Transient {
                    url: url.to_string(),
                    detail: format!(
                        "the body does not match its {} digest header",
                        algorithm.name()
                    ),
                });
            }
        }
        state.blake3 = Some(sums.blake3);
        Ok(())
    }
}

pub(super) enum Outcome {
    NotModified,
    Complete(Complete),
}

pub(super) struct Complete {
    pub(super) etag: Option<String>,
    pub(super) last_modified: Option<String>,
}

/// What one attempt leaves for the next.
#[derive(Default)]
pub(super) struct AttemptState {
    /// The validator to resume with (`If-Range`), when the server serves ranges.
    pub(super) resume: Option<String>,
    /// Digests the server gave for the whole body.
    pub(super) digests: Vec<(DigestAlgorithm, Vec<u8>)>,
    /// The verified body's blake3.
    pub(super) blake3: Option<String>,
}

fn refuse_unusable(url: &str, headers: &HeaderMap) -> Result<(), DownloadError> {
    let refused = |reason: String| {
        Err(DownloadError::Refused {
            url: url.to_string(),
            reason,
        })
    };
    if let Some(kind) = header(headers, "content-type") {
        let essence = kind
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if essence == "text/html" || essence == "application/xhtml+xml" {
            return refused(format!(
                "the server sent an HTML page (Content-Type: {kind}), not a video"
            ));
        }
    }
    if let Some(encoding) = header(headers, "content-encoding") {
        if !encoding.eq_ignore_ascii_case("identity") {
            return refused(format!(
                "the body is encoded (Content-Encoding: {encoding})"
            ));
        }
    }
    Ok(())
}

/// A body that starts like an HTML document (after a BOM and whitespace).
pub(super) fn looks_like_html(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    let head = &head[start..];
    let starts = |p: &[u8]| head.len() >= p.len() && head[..p.len()].eq_ignore_ascii_case(p);
    starts(b"<!doctype") || starts(b"<html")
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
}

/// `bytes <start>-<end>/<total>` → (start, total); total is `None` for `*`.
pub(super) fn content_range(value: &str) -> Option<(u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes")?.trim();
    let (range, total) = rest.split_once('/')?;
    let (start, _end) = range.split_once('-')?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    Some((start.trim().parse().ok()?, total))
}
