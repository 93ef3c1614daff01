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

mod digest;
mod error;
mod fetch;
mod layout;
mod resolver;
#[cfg(test)]
mod tests;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::DefaultConnector;

use crate::error::IoError;
use crate::memo::Memo;
pub use error::DownloadError;
use fetch::{AttemptState, Outcome};
use layout::{
    extension, read_record, sweep_partials, write_record, PartialFile, UrlRecord, RECORD_VERSION,
};
pub use resolver::non_public;
use resolver::CheckedResolver;

/// Default per-request timeout of downloads.
pub const DEFAULT_DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(300);

/// Attempts per URL: the first and one retry.
const ATTEMPTS: u32 = 2;

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

/// Downloads of one run: each URL at most once.
#[derive(Debug)]
pub struct Downloader {
    dir: PathBuf,
    agent: ureq::Agent,
    options: DownloadOptions,
    memo: Memo<String, Result<Downloaded, DownloadError>>,
    downloads: AtomicU64,
    bytes: AtomicU64,
    retries: AtomicU64,
    revalidated: AtomicU64,
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
            memo: Memo::default(),
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
        let url = url.to_string();
        self.memo
            .get_or_init(&url, || async {
                let (this, owned) = (self.clone(), url.to_string());
                tokio::task::spawn_blocking(move || this.fetch_blocking(&owned))
                    .await
                    .map_err(|_| DownloadError::Cancelled)?
            })
            .await
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
}
