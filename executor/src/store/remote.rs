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

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload,
    RetryConfig, UpdateVersion,
};
use serde::{Deserialize, Serialize};

use super::index::{line, parse_line};
use super::BlobRef;
use framex_core::CACHE_SCHEMA_VERSION;

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

/// Why a remote operation failed (after its retries).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RemoteError {
    /// The server refused the credentials or the request (401, 403).
    #[error("store {store}: access denied ({detail}); check the credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE and ~/.aws/credentials)")]
    Denied {
        /// The store's URL.
        store: String,
        /// The server's answer.
        detail: String,
    },
    /// The store could not be reached or kept failing (5xx, resets,
    /// timeouts) until the retries ran out. Trying again later may work.
    #[error("store {store}: {op} failed after retries: {detail}")]
    Unavailable {
        /// The store's URL.
        store: String,
        /// What was being done.
        op: String,
        /// The last failure.
        detail: String,
    },
    /// The URL or the configuration cannot work (no bucket, a bad URL).
    #[error("store {store}: {detail}")]
    Invalid {
        /// The store's URL as given.
        store: String,
        /// What is wrong.
        detail: String,
    },
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

/// A claim on a unit of work: who makes it, renewed while they do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimBody {
    /// A random id of the claiming process.
    pub holder: String,
    /// Its shard (`2/3`), for people reading the bucket.
    pub shard: String,
    /// Bumped on every renewal, so the object's ETag changes.
    pub renewal: u64,
    /// How long the holder promises to renew within, milliseconds.
    pub lease_ms: u64,
}

/// A claim as read: its body and the version to replace it conditionally.
#[derive(Clone, Debug)]
pub struct Claim {
    /// What it says.
    pub body: ClaimBody,
    /// Its ETag.
    pub e_tag: Option<String>,
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
    /// Connects (lazily: [`Self::check`] makes the first request). The
    /// credentials come from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`
    /// (`AWS_SESSION_TOKEN`), else from the shared credentials file
    /// (`AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`, profile
    /// `AWS_PROFILE` or `default`); never printed.
    pub fn open(options: &RemoteOptions) -> Result<Self, RemoteError> {
        let invalid = |detail: String| RemoteError::Invalid {
            store: options.url.clone(),
            detail,
        };
        let rest = options
            .url
            .strip_prefix("s3://")
            .ok_or_else(|| invalid("the URL must look like s3://bucket/prefix".into()))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(invalid("the URL names no bucket".into()));
        }
        let prefix = prefix.trim_matches('/').to_string();
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
            if let Some(profile) = profile::credentials() {
                builder = builder
                    .with_access_key_id(profile.access_key_id)
                    .with_secret_access_key(profile.secret_access_key);
                if let Some(token) = profile.session_token {
                    builder = builder.with_token(token);
                }
            }
        }
        let region = options
            .region
            .clone()
            .or_else(|| std::env::var("AWS_REGION").ok())
            .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
            .or_else(profile::region);
        if let Some(region) = region {
            builder = builder.with_region(region);
        }
        let mut client = ClientOptions::new()
            .with_timeout(options.request_timeout)
            .with_connect_timeout(options.request_timeout.min(Duration::from_secs(10)));
        if let Some(endpoint) = &options.endpoint {
            builder = builder.with_endpoint(endpoint.trim_end_matches('/'));
            // S3-compatible servers are addressed by path, and may be local.
            builder = builder.with_virtual_hosted_style_request(false);
            client = client.with_allow_http(endpoint.starts_with("http://"));
        }
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(5),
                base: 2.0,
            },
            max_retries: 10,
            retry_timeout: options.retry_timeout,
        };
        let inner = builder
            .with_client_options(client)
            .with_retry(retry)
            .build()
            .map_err(|e| invalid(e.to_string()))?;
        Ok(Self {
            inner: Arc::new(inner),
            url: options.url.clone(),
            prefix,
            stats: Arc::default(),
        })
    }

    /// The store's URL as given.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn path(&self, rel: &str) -> ObjectPath {
        let full = if self.prefix.is_empty() {
            format!("v{CACHE_SCHEMA_VERSION}/{rel}")
        } else {
            format!("{}/v{CACHE_SCHEMA_VERSION}/{rel}", self.prefix)
        };
        ObjectPath::from(full)
    }

    fn error(&self, op: &str, err: object_store::Error) -> RemoteError {
        match err {
            object_store::Error::PermissionDenied { source, .. }
            | object_store::Error::Unauthenticated { source, .. } => RemoteError::Denied {
                store: self.url.clone(),
                detail: source.to_string(),
            },
            // Listing reports a refusal as a generic error: read its status
            // and S3 code.
            other if is_refusal(&other.to_string()) => RemoteError::Denied {
                store: self.url.clone(),
                detail: other.to_string(),
            },
            other => RemoteError::Unavailable {
                store: self.url.clone(),
                op: op.to_string(),
                detail: other.to_string(),
            },
        }
    }

    /// One request that tells whether the store can be used at all: wrong
    /// credentials or a missing bucket are found here, before any work.
    pub async fn check(&self) -> Result<(), RemoteError> {
        let prefix = self.path("claims");
        match self.inner.list_with_delimiter(Some(&prefix)).await {
            Ok(_) => Ok(()),
            Err(object_store::Error::NotFound { source, .. }) => Err(RemoteError::Invalid {
                store: self.url.clone(),
                detail: format!("the bucket does not exist: {source}"),
            }),
            Err(err) => Err(self.error("listing", err)),
        }
    }

    fn blob_path(&self, blob: &BlobRef) -> ObjectPath {
        let d = &blob.digest;
        self.path(&format!("blobs/{}/{d}.{}", &d[..2.min(d.len())], blob.ext))
    }

    /// Uploads a blob (its bytes must hash to its digest). A blob that is
    /// there already holds the same bytes, so it is simply written again.
    pub async fn put_blob(&self, blob: &BlobRef, bytes: Vec<u8>) -> Result<(), RemoteError> {
        self.put(
            &self.blob_path(blob),
            bytes,
            PutMode::Overwrite,
            "uploading a frame",
        )
        .await
        .or_else(PutError::overwritten)?;
        self.stats.blob_puts.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Downloads a blob and checks it against its digest: `None` when the
    /// store has no such object, or when its bytes are wrong (counted in
    /// `bad_blobs`; never used).
    pub async fn get_blob(&self, blob: &BlobRef) -> Result<Option<Vec<u8>>, RemoteError> {
        let Some(bytes) = self
            .get(&self.blob_path(blob), "downloading a frame")
            .await?
        else {
            return Ok(None);
        };
        if bytes.len() as u64 != blob.size || blake3::hash(&bytes).to_hex().as_str() != blob.digest
        {
            self.stats.bad_blobs.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(store = %self.url, digest = %blob.digest, "a downloaded frame does not match its digest; ignoring it");
            return Ok(None);
        }
        Ok(Some(bytes))
    }

    fn index_dir(&self, recipe_key: &str) -> ObjectPath {
        let k = recipe_key;
        self.path(&format!("index/{}/{k}", &k[..2.min(k.len())]))
    }

    /// Publishes index records of one recipe key as one batch object.
    pub async fn put_index(
        &self,
        recipe_key: &str,
        records: &[(i64, BlobRef)],
    ) -> Result<(), RemoteError> {
        if records.is_empty() {
            return Ok(());
        }
        let text: String = records.iter().map(|(pts, blob)| line(*pts, blob)).collect();
        let name = &blake3::hash(text.as_bytes()).to_hex()[..32];
        let path = ObjectPath::from(format!("{}/{name}.idx", self.index_dir(recipe_key)));
        self.put(
            &path,
            text.into_bytes(),
            PutMode::Overwrite,
            "publishing index records",
        )
        .await
        .or_else(PutError::overwritten)?;
        Ok(())
    }

    /// Reads the batches of a recipe key's index that `index` has not seen
    /// yet, and adds their records (a damaged line is ignored).
    pub async fn read_index(
        &self,
        recipe_key: &str,
        index: &mut RemoteIndex,
    ) -> Result<(), RemoteError> {
        let dir = self.index_dir(recipe_key);
        let listed: Vec<_> = self
            .inner
            .list(Some(&dir))
            .try_collect()
            .await
            .map_err(|e| self.error("listing the index", e))?;
        let seen = index.batches.entry(recipe_key.to_string()).or_default();
        let new: Vec<ObjectPath> = listed
            .into_iter()
            .map(|m| m.location)
            .filter(|p| p.as_ref().ends_with(".idx") && !seen.contains(p.as_ref()))
            .collect();
        let texts = futures::future::try_join_all(
            new.iter()
                .map(|path| async move { self.get(path, "reading the index").await }),
        )
        .await?;
        let records = index.records.entry(recipe_key.to_string()).or_default();
        for (path, text) in new.iter().zip(texts) {
            seen.insert(path.to_string());
            let Some(text) = text else { continue };
            let text = String::from_utf8_lossy(&text);
            records.extend(text.lines().filter_map(parse_line));
        }
        Ok(())
    }

    fn probe_path(&self, name: &str) -> ObjectPath {
        self.path(&format!("probes/{name}.json"))
    }

    /// A shared probe's bytes, if published.
    pub async fn get_probe(&self, name: &str) -> Result<Option<Vec<u8>>, RemoteError> {
        self.get(&self.probe_path(name), "reading a probe").await
    }

    /// Publishes a probe unless one is there (`If-None-Match: *`): false
    /// when another was published first.
    pub async fn create_probe(&self, name: &str, bytes: Vec<u8>) -> Result<bool, RemoteError> {
        match self
            .put(
                &self.probe_path(name),
                bytes,
                PutMode::Create,
                "publishing a probe",
            )
            .await
        {
            Ok(_) => Ok(true),
            Err(PutError::Lost) => Ok(false),
            Err(PutError::Failed(err)) => Err(err),
        }
    }

    fn claim_path(&self, unit: &str) -> ObjectPath {
        self.path(&format!("claims/{unit}.json"))
    }

    /// Reads a claim, if there is one.
    pub async fn read_claim(&self, unit: &str) -> Result<Option<Claim>, RemoteError> {
        let path = self.claim_path(unit);
        let result = match self.inner.get(&path).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(err) => return Err(self.error("reading a claim", err)),
        };
        self.stats.gets.fetch_add(1, Ordering::Relaxed);
        let e_tag = result.meta.e_tag.clone();
        let bytes = result
            .bytes()
            .await
            .map_err(|e| self.error("reading a claim", e))?;
        self.stats
            .bytes_down
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        // A claim that does not parse is one nobody renews: treat it as stale.
        let body = serde_json::from_slice(&bytes).unwrap_or(ClaimBody {
            holder: String::new(),
            shard: String::new(),
            renewal: 0,
            lease_ms: 0,
        });
        Ok(Some(Claim { body, e_tag }))
    }

    /// Writes a claim: `replace` `None` creates it only if there is none
    /// (`If-None-Match: *`), `Some(etag)` replaces exactly that version
    /// (`If-Match`). Returns the new ETag, or `None` when another writer
    /// got there first.
    pub async fn write_claim(
        &self,
        unit: &str,
        body: &ClaimBody,
        replace: Option<String>,
    ) -> Result<Option<String>, RemoteError> {
        let mode = match replace {
            None => PutMode::Create,
            Some(e_tag) => PutMode::Update(UpdateVersion {
                e_tag: Some(e_tag),
                version: None,
            }),
        };
        let bytes = serde_json::to_vec(body).expect("claims serialize");
        match self
            .put(&self.claim_path(unit), bytes, mode, "writing a claim")
            .await
        {
            Ok(e_tag) => Ok(Some(e_tag.unwrap_or_default())),
            Err(PutError::Lost) => Ok(None),
            Err(PutError::Failed(err)) => Err(err),
        }
    }

    /// Removes a claim whose work is published (best effort).
    pub async fn release_claim(&self, unit: &str) {
        let _ = self.inner.delete(&self.claim_path(unit)).await;
    }

    async fn put(
        &self,
        path: &ObjectPath,
        bytes: Vec<u8>,
        mode: PutMode,
        op: &str,
    ) -> Result<Option<String>, PutError> {
        let size = bytes.len() as u64;
        let options = PutOptions {
            mode,
            ..PutOptions::default()
        };
        match self
            .inner
            .put_opts(path, PutPayload::from(bytes), options)
            .await
        {
            Ok(result) => {
                self.stats.puts.fetch_add(1, Ordering::Relaxed);
                self.stats.bytes_up.fetch_add(size, Ordering::Relaxed);
                Ok(result.e_tag)
            }
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => Err(PutError::Lost),
            Err(err) => Err(PutError::Failed(self.error(op, err))),
        }
    }

    /// Reads an object; `None` when there is none. A body cut short is
    /// read again (the request itself is retried by the client).
    async fn get(&self, path: &ObjectPath, op: &str) -> Result<Option<Vec<u8>>, RemoteError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = match self.inner.get(path).await {
                Ok(result) => result,
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                Err(err) => return Err(self.error(op, err)),
            };
            self.stats.gets.fetch_add(1, Ordering::Relaxed);
            match result.bytes().await {
                Ok(bytes) => {
                    self.stats
                        .bytes_down
                        .fetch_add(bytes.len() as u64, Ordering::Relaxed);
                    return Ok(Some(bytes.to_vec()));
                }
                Err(err) if attempt < 3 => {
                    tracing::debug!(store = %self.url, error = %err, "a download broke off; reading it again");
                }
                Err(err) => return Err(self.error(op, err)),
            }
        }
    }
}

/// Whether an error's text says the server refused the request's
/// credentials (401, 403, or the S3 codes for them).
fn is_refusal(text: &str) -> bool {
    [
        "401 Unauthorized",
        "403 Forbidden",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
        "AccessDenied",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}

enum PutError {
    /// A conditional write lost: the object exists, or changed.
    Lost,
    Failed(RemoteError),
}

impl PutError {
    /// An unconditional write cannot lose: only its failure is an error.
    fn overwritten(self) -> Result<Option<String>, RemoteError> {
        match self {
            Self::Lost => Ok(None),
            Self::Failed(err) => Err(err),
        }
    }
}

/// What has been read of the remote index: per recipe key, the batches read
/// and the records they hold (later batches win for a frame time; any of
/// them names a right frame, since blobs are checked when fetched).
#[derive(Clone, Debug, Default)]
pub struct RemoteIndex {
    batches: BTreeMap<String, BTreeSet<String>>,
    /// Per recipe key, frame time → blob.
    pub records: BTreeMap<String, BTreeMap<i64, BlobRef>>,
}

impl RemoteIndex {
    /// The blob of a frame, if the remote index names one.
    pub fn blob(&self, recipe_key: &str, pts: i64) -> Option<&BlobRef> {
        self.records.get(recipe_key)?.get(&pts)
    }

    /// Forgets a record whose blob turned out missing or wrong.
    pub fn forget(&mut self, recipe_key: &str, pts: i64) {
        if let Some(records) = self.records.get_mut(recipe_key) {
            records.remove(&pts);
        }
    }
}

/// The AWS shared credentials and config files (the part framex needs).
mod profile {
    use std::path::PathBuf;

    /// Keys of one profile.
    pub struct Credentials {
        pub access_key_id: String,
        pub secret_access_key: String,
        pub session_token: Option<String>,
    }

    fn home_file(var: &str, rel: &str) -> Option<PathBuf> {
        std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(rel)))
    }

    fn profile_name() -> String {
        std::env::var("AWS_PROFILE").unwrap_or_else(|_| "default".into())
    }

    /// The `key = value` pairs of section `name` of an INI file.
    fn section(text: &str, names: &[String]) -> Vec<(String, String)> {
        let mut inside = false;
        let mut out = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
                continue;
            }
            if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                inside = names.iter().any(|n| n == header.trim());
                continue;
            }
            if inside {
                if let Some((k, v)) = line.split_once('=') {
                    out.push((k.trim().to_string(), v.trim().to_string()));
                }
            }
        }
        out
    }

    /// The profile's keys from `~/.aws/credentials`.
    pub fn credentials() -> Option<Credentials> {
        let path = home_file("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials")?;
        let text = std::fs::read_to_string(path).ok()?;
        let pairs = section(&text, &[profile_name()]);
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        Some(Credentials {
            access_key_id: get("aws_access_key_id")?,
            secret_access_key: get("aws_secret_access_key")?,
            session_token: get("aws_session_token"),
        })
    }

    /// The profile's region from `~/.aws/config`.
    pub fn region() -> Option<String> {
        let path = home_file("AWS_CONFIG_FILE", ".aws/config")?;
        let text = std::fs::read_to_string(path).ok()?;
        let name = profile_name();
        let names = [format!("profile {name}"), name];
        section(&text, &names)
            .into_iter()
            .find(|(k, _)| k == "region")
            .map(|(_, v)| v)
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn sections_are_read_by_name() {
            let text = "[default]\naws_access_key_id = A\n# c\n[profile x]\nregion=eu-west-1\n";
            assert_eq!(
                super::section(text, &["default".into()]),
                vec![("aws_access_key_id".into(), "A".into())]
            );
            assert_eq!(
                super::section(text, &["profile x".into()]),
                vec![("region".into(), "eu-west-1".into())]
            );
        }
    }
}
