//! Why a remote operation failed, told from `object_store`'s errors: the
//! credentials refused, the store unreachable or failing past its retries,
//! or a configuration that cannot work.

use super::RemoteStore;

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

impl RemoteStore {
    pub(super) fn error(&self, op: &str, err: object_store::Error) -> RemoteError {
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
