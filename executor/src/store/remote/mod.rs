//! The remote tier: the frame store on an S3-compatible object store
//! (`--store s3://bucket/prefix`), shared by the machines of a farm.
//!
//! Layout under the prefix, beside the local store's:
//! ```text
//! v2/blobs/<d[..2]>/<digest>.<png|jpg>     frames, named by the blake3 of their bytes
//! v2/index/<k[..2]>/<recipe key>/<b>.idx    index batches: records of the local format,
//!                                           named by the blake3 of their text
//! v2/claims/<unit key>.json                 who is making a unit of work, and until when
//! v2/probes/<identity key>.json             the probe every machine plans a source from
//! ```
//! Objects publish whole (a PUT either lands or does not), so a torn upload is
//! never visible. Blobs and index batches are named by their content: writing
//! one twice is harmless. Every blob downloaded is hashed before it is used;
//! every index record carries its own checksum. Requests are retried with
//! backoff (by `object_store`) under a per-request timeout and an overall
//! deadline, and a failure that outlasts them is a [`RemoteError`] with a
//! kind a caller can act on.

mod claims;
mod client;
mod credentials;
mod error;
mod objects;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use object_store::ObjectStore;

pub use claims::{Claim, ClaimBody};
pub use error::RemoteError;
pub use objects::RemoteIndex;

/// How to reach the remote store.
#[derive(Clone, Debug)]
pub struct RemoteOptions {
    /// `s3://bucket/prefix`.
    pub url: String,
    /// An S3-compatible server's endpoint (`http://127.0.0.1:9000`); AWS
    /// when absent.
    pub endpoint: Option<String>,
    /// The region (default: `AWS_REGION`, the profile's, else `us-east-1`).
    pub region: Option<String>,
    /// Each request must complete within this.
    pub request_timeout: Duration,
    /// A request and its retries give up after this.
    pub retry_timeout: Duration,
}

impl RemoteOptions {
    /// Options for `url` with the default timeouts (30 s per request, 2 min
    /// with retries).
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_string(),
            endpoint: None,
            region: None,
            request_timeout: Duration::from_secs(30),
            retry_timeout: Duration::from_secs(120),
        }
    }
}

/// Counts of what the remote tier did.
#[derive(Debug, Default)]
pub struct RemoteStats {
    /// Objects written (blobs, index batches, claims).
    pub puts: AtomicU64,
    /// Blobs written.
    pub blob_puts: AtomicU64,
    /// Objects read.
    pub gets: AtomicU64,
    /// Bytes sent.
    pub bytes_up: AtomicU64,
    /// Bytes received.
    pub bytes_down: AtomicU64,
    /// Downloaded blobs whose bytes did not hash to their name (dropped).
    pub bad_blobs: AtomicU64,
}

/// The remote store.
#[derive(Clone, Debug)]
pub struct RemoteStore {
    inner: Arc<dyn ObjectStore>,
    url: String,
    prefix: String,
    /// What it did.
    pub stats: Arc<RemoteStats>,
}

impl RemoteStore {
    /// The store's URL as given.
    pub fn url(&self) -> &str {
        &self.url
    }
}
