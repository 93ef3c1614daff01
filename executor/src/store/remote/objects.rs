//! The shared objects: frames (blobs, checked against their digest when
//! read), index batches and the remote index read from them, and probes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;

use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutMode};

use super::client::PutError;
use super::{RemoteError, RemoteStore};
use crate::store::index::{line, parse_line};
use crate::store::BlobRef;

impl RemoteStore {
    pub(super) fn blob_path(&self, blob: &BlobRef) -> ObjectPath {
        let d = blob.hex();
        self.path(&format!("blobs/{}/{d}.{}", &d[..2], blob.ext))
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
        if bytes.len() as u64 != blob.size || !blob.is(blake3::hash(&bytes)) {
            self.stats.bad_blobs.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(store = %self.url, digest = %blob.hex(), "a downloaded frame does not match its digest; ignoring it");
            return Ok(None);
        }
        Ok(Some(bytes))
    }

    pub(super) fn index_dir(&self, recipe_key: &str) -> ObjectPath {
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

    pub(super) fn probe_path(&self, name: &str) -> ObjectPath {
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
