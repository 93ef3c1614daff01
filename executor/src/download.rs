//! Remote sources: a `src` that is an `https://` URL (or, with
//! `--allow-private-urls`, an `http://` URL on loopback, for tests) is
//! downloaded once per run into `<cache>/downloads/`, then keyed by content.
//!
//! - The body goes to a partial file under `downloads/partial/`, is synced,
//!   hashed (blake3) and published with one atomic rename as
//!   `downloads/<blake3>.<ext>`; `downloads/url-<hash of the URL>.json`
//!   remembers which file a URL gave and its validators, so a later run
//!   revalidates (`If-None-Match`/`If-Modified-Since`) instead of downloading
//!   again when the server allows.
//! - A transient failure (a 5xx, 408 or 429 status, a connection reset or
//!   closed early, a body shorter than its Content-Length or not matching its
//!   digest header, a timeout) is retried once: resumed with a `Range`
//!   request when the server advertised `Accept-Ranges: bytes` and a
//!   validator, restarted otherwise.
//! - Refused: HTML (a `text/html` Content-Type, or a body starting with
//!   `<!DOCTYPE` or `<html`), compressed bodies, and hosts that resolve to a
//!   private, loopback, link-local or otherwise non-public address (every
//!   address is checked, at connection time, redirects included) unless
//!   private URLs are allowed. Proxies from the environment are not used: the
//!   address check must see the real peer.
//! - Each request (headers and body) must finish within the download timeout.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use tokio::sync::OnceCell;
use ureq::config::Config;
use ureq::http::{HeaderMap, Uri};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use crate::error::IoError;

/// Default per-request timeout of downloads.
pub const DEFAULT_DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(300);

/// Attempts per URL: the first and one retry.
const ATTEMPTS: u32 = 2;

/// Version of the stored URL records.
const RECORD_VERSION: u32 = 1;

/// Whether `src` names a remote source (`http://` or `https://`, any case).
pub fn is_url(src: &str) -> bool {
    let starts = |prefix: &str| {
        src.len() >= prefix.len()
            && src.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    };
    starts("http://") || starts("https://")
}

/// How remote sources are fetched.
#[derive(Clone, Debug)]
pub struct DownloadOptions {
    /// Fetch from private, loopback and link-local addresses (and plain
    /// `http` from loopback). For tests and trusted networks only.
    pub allow_private: bool,
    /// Each request must complete (headers and body) within this.
    pub timeout: Duration,
}

impl Default for DownloadOptions {
    fn default() -> Self {
        Self {
            allow_private: false,
            timeout: DEFAULT_DOWNLOAD_TIMEOUT,
        }
    }
}

/// A downloaded source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Downloaded {
    /// The published file.
    pub path: PathBuf,
    /// Lower-case hex blake3 digest of its bytes.
    pub blake3: String,
    /// Its size in bytes.
    pub size: u64,
}

/// Counts of one run's downloads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DownloadStats {
    /// Bodies downloaded to completion.
    pub downloads: u64,
    /// Body bytes received (resumed parts counted once).
    pub bytes: u64,
    /// Attempts retried after a transient failure.
    pub retries: u64,
    /// URLs whose earlier download the server confirmed unchanged (304).
    pub revalidated: u64,
}

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

type Slot = Arc<OnceCell<Result<Downloaded, DownloadError>>>;

/// Downloads of one run: each URL at most once.
#[derive(Debug)]
pub struct Downloader {
    dir: PathBuf,
    agent: ureq::Agent,
    options: DownloadOptions,
    memo: Mutex<HashMap<String, Slot>>,
    downloads: AtomicU64,
    bytes: AtomicU64,
    retries: AtomicU64,
    revalidated: AtomicU64,
}

/// What `downloads/url-<hash>.json` remembers about a URL.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UrlRecord {
    version: u32,
    url: String,
    /// File name in the downloads directory.
    file: String,
    blake3: String,
    size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_modified: Option<String>,
}

impl Downloader {
    /// Downloads into `dir` (`<cache>/downloads`, or a directory that lives
    /// as long as the run), sweeping partial files older than an hour.
    pub fn new(dir: &Path, options: DownloadOptions) -> io::Result<Self> {
        fs::create_dir_all(dir.join("partial"))?;
        sweep_partials(&dir.join("partial"));
        let config = Config::builder()
            .http_status_as_error(false)
            .proxy(None)
            .max_redirects(5)
            .timeout_per_call(Some(options.timeout))
            .user_agent(concat!("framex/", env!("CARGO_PKG_VERSION")))
            .build();
        let resolver = CheckedResolver {
            allow_private: options.allow_private,
            inner: DefaultResolver::default(),
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            agent: ureq::Agent::with_parts(config, DefaultConnector::default(), resolver),
            options,
            memo: Mutex::default(),
            downloads: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            revalidated: AtomicU64::new(0),
        })
    }

    /// What this run downloaded.
    pub fn stats(&self) -> DownloadStats {
        DownloadStats {
            downloads: self.downloads.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            revalidated: self.revalidated.load(Ordering::Relaxed),
        }
    }

    /// Downloads `url` (once per run: concurrent callers share the result).
    pub async fn fetch(self: &Arc<Self>, url: &str) -> Result<Downloaded, DownloadError> {
        let slot = self
            .memo
            .lock()
            .expect("download memo lock")
            .entry(url.to_string())
            .or_default()
            .clone();
        slot.get_or_init(|| async {
            let (this, owned) = (self.clone(), url.to_string());
            tokio::task::spawn_blocking(move || this.fetch_blocking(&owned))
                .await
                .map_err(|_| DownloadError::Cancelled)?
        })
        .await
        .clone()
    }

    fn fetch_blocking(&self, url: &str) -> Result<Downloaded, DownloadError> {
        let uri: Uri = url.parse().map_err(|e| DownloadError::Failed {
            url: url.to_string(),
            detail: format!("not a valid URL: {e}"),
        })?;
        let url_key = blake3::hash(url.as_bytes()).to_hex()[..32].to_string();
        let record_path = self.dir.join(format!("url-{url_key}.json"));
        let previous = read_record(&record_path, url, &self.dir);
        let mut partial = PartialFile::create(&self.dir.join("partial"), &url_key)
            .map_err(|e| IoError::new("creating a partial download in", &self.dir, &e))?;
        let mut state = AttemptState::default();
        let mut attempt = 1;
        let complete = loop {
            let conditional = if attempt == 1 {
                previous.as_ref()
            } else {
                None
            };
            let result = self
                .attempt(url, &mut partial, conditional, &mut state)
                .and_then(|outcome| match outcome {
                    Outcome::NotModified => Ok(None),
                    Outcome::Complete(done) => self
                        .verify(url, &mut partial, &mut state)
                        .map(|()| Some(done)),
                });
            match result {
                Ok(Some(done)) => break done,
                Ok(None) => {
                    let previous = previous.expect("304 answers a conditional request");
                    self.revalidated.fetch_add(1, Ordering::Relaxed);
                    // Used now: the cache's gc evicts least recently used.
                    if let Ok(file) = fs::File::options()
                        .write(true)
                        .open(self.dir.join(&previous.file))
                    {
                        let _ = file.set_modified(std::time::SystemTime::now());
                    }
                    return Ok(Downloaded {
                        path: self.dir.join(&previous.file),
                        blake3: previous.blake3,
                        size: previous.size,
                    });
                }
                Err(err) if err.is_transient() && attempt < ATTEMPTS => {
                    tracing::warn!(%url, error = %err, "download failed transiently; retrying once");
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    attempt += 1;
                }
                Err(err) => return Err(err),
            }
        };
        self.downloads.fetch_add(1, Ordering::Relaxed);
        let (blake3, size) = (state.blake3.take().expect("verified"), partial.len);
        let file = format!("{blake3}.{}", extension(&uri));
        let target = self.dir.join(&file);
        partial
            .publish(&target)
            .map_err(|e| IoError::new("publishing", &target, &e))?;
        let record = UrlRecord {
            version: RECORD_VERSION,
            url: url.to_string(),
            file,
            blake3: blake3.clone(),
            size,
            etag: complete.etag,
            last_modified: complete.last_modified,
        };
        write_record(&record_path, &record);
        Ok(Downloaded {
            path: target,
            blake3,
            size,
        })
    }

    /// One request: the whole body, the rest of it (resuming), or a 304.
    fn attempt(
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
    fn verify(
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

    fn classify(&self, url: &str, err: ureq::Error) -> DownloadError {
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
fn with_progress(err: DownloadError, got: u64, total: Option<u64>) -> DownloadError {
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

enum Outcome {
    NotModified,
    Complete(Complete),
}

struct Complete {
    etag: Option<String>,
    last_modified: Option<String>,
}

/// What one attempt leaves for the next.
#[derive(Default)]
struct AttemptState {
    /// The validator to resume with (`If-Range`), when the server serves ranges.
    resume: Option<String>,
    /// Digests the server gave for the whole body.
    digests: Vec<(DigestAlgorithm, Vec<u8>)>,
    /// The verified body's blake3.
    blake3: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DigestAlgorithm {
    Sha256,
    Sha512,
}

impl DigestAlgorithm {
    fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha-256",
            Self::Sha512 => "sha-512",
        }
    }
}

/// Digests of the whole body from `Repr-Digest` (RFC 9530), the older
/// `Digest` (RFC 3230) and, for a complete (200) response, `Content-Digest`.
/// Algorithms other than sha-256 and sha-512 are ignored.
fn expected_digests(headers: &HeaderMap, whole_body: bool) -> Vec<(DigestAlgorithm, Vec<u8>)> {
    let mut names = vec!["repr-digest", "digest"];
    if whole_body {
        names.push("content-digest");
    }
    let mut out = Vec::new();
    for name in names {
        for value in headers.get_all(name).iter().filter_map(|v| v.to_str().ok()) {
            for item in value.split(',') {
                let Some((algorithm, encoded)) = item.trim().split_once('=') else {
                    continue;
                };
                let algorithm = match algorithm.trim().to_ascii_lowercase().as_str() {
                    "sha-256" => DigestAlgorithm::Sha256,
                    "sha-512" => DigestAlgorithm::Sha512,
                    _ => continue,
                };
                let encoded = encoded.trim().trim_matches(':');
                if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(encoded) {
                    out.push((algorithm, bytes));
                }
            }
        }
    }
    out
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
fn looks_like_html(head: &[u8]) -> bool {
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
fn content_range(value: &str) -> Option<(u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes")?.trim();
    let (range, total) = rest.split_once('/')?;
    let (start, _end) = range.split_once('-')?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    Some((start.trim().parse().ok()?, total))
}

/// The URL path's extension when it is a short alphanumeric one (`mp4`,
/// `webm`), so the published file keeps it; else `bin`.
fn extension(uri: &Uri) -> String {
    let last = uri.path().rsplit('/').next().unwrap_or("");
    match last.rsplit_once('.') {
        Some((_, ext))
            if (1..=8).contains(&ext.len()) && ext.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            ext.to_ascii_lowercase()
        }
        _ => "bin".into(),
    }
}

fn read_record(path: &Path, url: &str, dir: &Path) -> Option<UrlRecord> {
    let record: UrlRecord = serde_json::from_slice(&fs::read(path).ok()?).ok()?;
    let usable = record.version == RECORD_VERSION
        && record.url == url
        && (record.etag.is_some() || record.last_modified.is_some())
        && fs::metadata(dir.join(&record.file)).is_ok_and(|m| m.len() == record.size);
    usable.then_some(record)
}

/// Best effort: without it, the next run downloads again.
fn write_record(path: &Path, record: &UrlRecord) {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    if let Ok(json) = serde_json::to_vec_pretty(record) {
        if fs::write(&tmp, json).is_ok() {
            let _ = fs::rename(&tmp, path);
        }
    }
}

struct Sums {
    blake3: String,
    sha256: Vec<u8>,
    sha512: Vec<u8>,
}

/// blake3 of the file, and the SHA-2 digests in `wanted` (others are empty).
fn hash_file(path: &Path, wanted: &[DigestAlgorithm]) -> io::Result<Sums> {
    let mut file = File::open(path)?;
    let mut blake3 = blake3::Hasher::new();
    let mut sha256 = wanted
        .contains(&DigestAlgorithm::Sha256)
        .then(sha2::Sha256::new);
    let mut sha512 = wanted
        .contains(&DigestAlgorithm::Sha512)
        .then(sha2::Sha512::new);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        blake3.update(&buf[..n]);
        if let Some(h) = &mut sha256 {
            h.update(&buf[..n]);
        }
        if let Some(h) = &mut sha512 {
            h.update(&buf[..n]);
        }
    }
    Ok(Sums {
        blake3: blake3.finalize().to_hex().to_string(),
        sha256: sha256.map(|h| h.finalize().to_vec()).unwrap_or_default(),
        sha512: sha512.map(|h| h.finalize().to_vec()).unwrap_or_default(),
    })
}

/// A download in progress; removed on drop unless published.
struct PartialFile {
    path: PathBuf,
    file: File,
    len: u64,
    published: bool,
}

impl PartialFile {
    fn create(dir: &Path, label: &str) -> io::Result<Self> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!("{label}.{}.{n}.part", std::process::id()));
            match OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(file) => {
                    return Ok(Self {
                        path,
                        file,
                        len: 0,
                        published: false,
                    })
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn truncate(&mut self) -> io::Result<()> {
        self.file.set_len(0)?;
        self.file.rewind()?;
        self.len = 0;
        Ok(())
    }

    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes)?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Renames the (synced) file to `target`, or drops it when another
    /// download already published the same bytes there.
    fn publish(mut self, target: &Path) -> io::Result<()> {
        if fs::metadata(target).is_ok_and(|m| m.len() == self.len) {
            return Ok(());
        }
        fs::rename(&self.path, target)?;
        self.published = true;
        if let Some(parent) = target.parent() {
            File::open(parent)?.sync_all()?;
        }
        Ok(())
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if !self.published {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Removes partial downloads older than an hour (their writer is gone).
fn sweep_partials(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > Duration::from_secs(3600));
        if old {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Why the resolver refused a host; carried through ureq as an I/O error.
#[derive(Debug)]
struct Refusal(String);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refusal {}

/// Resolves like ureq does, then refuses hosts with a non-public address
/// (every address must pass) and plain `http` anywhere but on loopback.
/// The connection is made to exactly the addresses checked here, so a DNS
/// answer that changes between check and connect cannot slip through.
#[derive(Debug)]
struct CheckedResolver {
    allow_private: bool,
    inner: DefaultResolver,
}

impl Resolver for CheckedResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let refuse = |reason: String| {
            ureq::Error::Io(io::Error::new(
                io::ErrorKind::PermissionDenied,
                Refusal(reason),
            ))
        };
        let https = uri
            .scheme_str()
            .is_some_and(|s| s.eq_ignore_ascii_case("https"));
        let http = uri
            .scheme_str()
            .is_some_and(|s| s.eq_ignore_ascii_case("http"));
        let plain_http = || {
            refuse(
                "plain http is fetched only from loopback, with --allow-private-urls; use https"
                    .into(),
            )
        };
        if !https && !http {
            return Err(refuse(format!(
                "{} URLs are not fetched (only https)",
                uri.scheme_str().unwrap_or("scheme-less")
            )));
        }
        if http && !self.allow_private {
            return Err(plain_http());
        }
        let addrs = self.inner.resolve(uri, config, timeout)?;
        let host = uri.host().unwrap_or("");
        for addr in addrs.iter() {
            let ip = canonical_ip(addr.ip());
            if let Some(kind) = non_public(ip) {
                if !self.allow_private {
                    let which = if host.trim_matches(['[', ']']).parse::<IpAddr>().is_ok() {
                        format!("{ip} is")
                    } else {
                        format!("{host} resolves to {ip},")
                    };
                    return Err(refuse(format!(
                        "{which} a {kind} address (pass --allow-private-urls to allow it)"
                    )));
                }
            }
            if http && !ip.is_loopback() {
                return Err(plain_http());
            }
        }
        Ok(addrs)
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The kind of a non-public address, or `None` for a public one.
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match canonical_ip(ip) {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_loopback() {
                Some("loopback")
            } else if v4.is_private() {
                Some("private")
            } else if v4.is_link_local() {
                Some("link-local")
            } else if v4.is_unspecified() || a == 0 {
                Some("unspecified")
            } else if a == 100 && (64..128).contains(&b) {
                Some("shared (carrier-grade NAT)")
            } else if v4.is_broadcast() || v4.is_multicast() {
                Some("broadcast or multicast")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if v6.is_unique_local() {
                Some("private (unique local)")
            } else if v6.is_unicast_link_local() {
                Some("link-local")
            } else if v6.is_multicast() {
                Some("multicast")
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_recognized_in_any_case() {
        assert!(is_url("https://example.com/a.mp4"));
        assert!(is_url("HTTP://127.0.0.1:80/a.mp4"));
        assert!(!is_url("clips/https.mp4"));
        assert!(!is_url("ftp://example.com/a.mp4"));
        assert!(!is_url("http:"));
    }

    #[test]
    fn non_public_addresses_are_named() {
        for (ip, kind) in [
            ("127.0.0.1", Some("loopback")),
            ("10.1.2.3", Some("private")),
            ("172.16.0.1", Some("private")),
            ("192.168.1.1", Some("private")),
            ("169.254.169.254", Some("link-local")),
            ("0.0.0.0", Some("unspecified")),
            ("100.64.0.1", Some("shared (carrier-grade NAT)")),
            ("::1", Some("loopback")),
            ("fe80::1", Some("link-local")),
            ("fd00::1", Some("private (unique local)")),
            ("::ffff:10.0.0.1", Some("private")),
            ("8.8.8.8", None),
            ("2606:4700::1111", None),
        ] {
            assert_eq!(non_public(ip.parse().unwrap()), kind, "{ip}");
        }
    }

    #[test]
    fn html_bodies_are_recognized() {
        assert!(looks_like_html(b"<!DOCTYPE html><html>"));
        assert!(looks_like_html(b"\xEF\xBB\xBF  \n<HTML lang=en>"));
        assert!(!looks_like_html(b"\x00\x00\x00\x20ftypisom"));
        assert!(!looks_like_html(b""));
    }

    #[test]
    fn content_ranges_and_extensions_parse() {
        assert_eq!(content_range("bytes 100-199/200"), Some((100, Some(200))));
        assert_eq!(content_range("bytes 5-9/*"), Some((5, None)));
        assert_eq!(content_range("items 1-2/3"), None);
        let ext = |u: &str| extension(&u.parse().unwrap());
        assert_eq!(ext("https://h/a/clip.MP4?x=1"), "mp4");
        assert_eq!(ext("https://h/a/clip"), "bin");
        assert_eq!(ext("https://h/a/clip.tar.gz-../x"), "bin");
    }

    #[test]
    fn digest_headers_parse() {
        let mut headers = HeaderMap::new();
        let sha = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(b"x"));
        headers.insert(
            "repr-digest",
            format!("sha-256=:{sha}:, md5=:abc=:").parse().unwrap(),
        );
        headers.insert("digest", format!("SHA-256={sha}").parse().unwrap());
        let digests = expected_digests(&headers, true);
        assert_eq!(digests.len(), 2);
        assert!(digests
            .iter()
            .all(|(a, d)| *a == DigestAlgorithm::Sha256 && d.len() == 32));
    }
}
