//! Claims on units of work: who makes a unit, renewed while they do,
//! written conditionally (`If-None-Match: *`, `If-Match`).

use std::sync::atomic::Ordering;

use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutMode, UpdateVersion};
use serde::{Deserialize, Serialize};

use super::client::PutError;
use super::{RemoteError, RemoteStore};

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

impl RemoteStore {
    pub(super) fn claim_path(&self, unit: &str) -> ObjectPath {
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
}
