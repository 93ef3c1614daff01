//! The client: connecting with the credentials and retry policy, the
//! prefix every object lives under, and the two requests every other
//! operation is made of (a conditional or plain PUT, a GET read whole).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use framex_core::CACHE_SCHEMA_VERSION;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStoreExt, PutMode, PutOptions, PutPayload, RetryConfig,
};

use super::credentials as profile;
use super::{RemoteError, RemoteOptions, RemoteStore};

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

    pub(super) fn path(&self, rel: &str) -> ObjectPath {
        let full = if self.prefix.is_empty() {
            format!("v{CACHE_SCHEMA_VERSION}/{rel}")
        } else {
            format!("{}/v{CACHE_SCHEMA_VERSION}/{rel}", self.prefix)
        };
        ObjectPath::from(full)
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

    pub(super) async fn put(
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
    pub(super) async fn get(
        &self,
        path: &ObjectPath,
        op: &str,
    ) -> Result<Option<Vec<u8>>, RemoteError> {
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

pub(super) enum PutError {
    /// A conditional write lost: the object exists, or changed.
    Lost,
    Failed(RemoteError),
}

impl PutError {
    /// An unconditional write cannot lose: only its failure is an error.
    pub(super) fn overwritten(self) -> Result<Option<String>, RemoteError> {
        match self {
            Self::Lost => Ok(None),
            Self::Failed(err) => Err(err),
        }
    }
}
