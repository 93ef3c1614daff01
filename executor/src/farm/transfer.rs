//! Moving frames through the shared store: reading its index, uploading
//! what was made here (blobs, then the index batch that names them), and
//! fetching what others made (each blob checked) into the local store.

use std::collections::BTreeMap;

use futures::StreamExt;

use crate::error::ExtractError;
use crate::extract::RunWork;
use crate::store::remote::RemoteError;
use crate::store::BlobRef;

use super::{Farm, NeededFrames};

/// Downloads and uploads at once.
const TRANSFERS: usize = 8;

/// A download's outcome: recipe key, time, the blob the index names, and
/// the blob stored locally (`None`: missing or wrong).
type Fetched = (String, i64, BlobRef, Result<Option<BlobRef>, RemoteError>);

impl Farm<'_> {
    /// Reads what is new in the shared index of `keys`. A failure is
    /// logged: the frames are then waited for, and made here in the end.
    pub(super) async fn refresh_index(&mut self, keys: &[String]) {
        let Some(remote) = self.remote else { return };
        for key in keys {
            if let Err(err) = remote.read_index(key, &mut self.remote_index).await {
                tracing::warn!(error = %err, "reading the shared index failed");
            }
        }
    }

    /// Uploads what `works` made: the blobs, then per unit the index batch
    /// that names them; then releases the units' claims. A unit whose
    /// upload failed records the error for its frames.
    pub(super) async fn upload(&mut self, works: &[RunWork]) {
        let Some(remote) = self.remote else { return };
        for work in works {
            if let Some(err) = &self.down {
                for &f in &work.make {
                    let pts = work.probe.timeline.pts(f);
                    self.unshared.insert(
                        (work.recipe_key.clone(), pts),
                        ExtractError::Remote(err.clone()),
                    );
                }
                continue;
            }
            let records: Vec<(i64, BlobRef)> = work
                .make
                .iter()
                .filter_map(|&f| {
                    let pts = work.probe.timeline.pts(f);
                    let blob = self.local.get(&work.recipe_key)?.get(&pts)?;
                    Some((pts, *blob))
                })
                .collect();
            let store = self.store;
            let results: Vec<Result<(), RemoteError>> = futures::stream::iter(records.iter())
                .map(|(_, blob)| async move {
                    let bytes = std::fs::read(store.blob_path(blob)).map_err(|e| {
                        RemoteError::Unavailable {
                            store: remote.url().to_string(),
                            op: "reading a frame to upload".into(),
                            detail: e.to_string(),
                        }
                    })?;
                    remote.put_blob(blob, bytes).await
                })
                .buffer_unordered(TRANSFERS)
                .collect()
                .await;
            let uploaded = results.iter().filter(|r| r.is_ok()).count() as u64;
            let failed = results.into_iter().find_map(Result::err);
            let result = match failed {
                Some(err) => Err(err),
                None => remote.put_index(&work.recipe_key, &records).await,
            };
            match result {
                Ok(()) => {
                    self.metrics.frames_uploaded += uploaded;
                    remote.release_claim(&work.id).await;
                }
                Err(err) => {
                    tracing::warn!(error = %err, "uploading frames failed");
                    self.down.get_or_insert(err.clone());
                    for (pts, _) in &records {
                        self.unshared.insert(
                            (work.recipe_key.clone(), *pts),
                            ExtractError::Remote(err.clone()),
                        );
                    }
                }
            }
        }
    }

    /// Downloads every needed frame the shared index names and the local
    /// store lacks, checks it, and keeps it in the local store.
    pub(super) async fn fetch(&mut self, needed: &NeededFrames) {
        let Some(remote) = self.remote else { return };
        let wanted: Vec<(String, i64, BlobRef)> = self
            .missing(needed)
            .into_iter()
            .filter_map(|(key, pts)| {
                let blob = *self.remote_index.blob(&key, pts)?;
                Some((key, pts, blob))
            })
            .collect();
        if wanted.is_empty() {
            return;
        }
        let store = self.store;
        let results: Vec<Fetched> = futures::stream::iter(wanted)
            .map(|(key, pts, blob)| async move {
                // A copy that arrives wrong is fetched again, twice.
                let mut got = remote.get_blob(&blob).await;
                for _ in 0..2 {
                    if !matches!(got, Ok(None)) {
                        break;
                    }
                    got = remote.get_blob(&blob).await;
                }
                let result = match got {
                    Ok(Some(bytes)) => store.put_blob(&bytes, blob.ext).map(Some).map_err(|e| {
                        RemoteError::Unavailable {
                            store: store.root().display().to_string(),
                            op: "storing a fetched frame".into(),
                            detail: e.to_string(),
                        }
                    }),
                    Ok(None) => Ok(None),
                    Err(err) => Err(err),
                };
                (key, pts, blob, result)
            })
            .buffer_unordered(TRANSFERS)
            .collect()
            .await;
        let mut records: BTreeMap<String, Vec<(i64, BlobRef)>> = BTreeMap::new();
        for (key, pts, blob, result) in results {
            match result {
                Ok(Some(stored)) if stored == blob => {
                    self.metrics.frames_fetched += 1;
                    self.local
                        .entry(key.clone())
                        .or_default()
                        .insert(pts, stored);
                    records.entry(key).or_default().push((pts, stored));
                }
                // Missing or wrong: never used; made here.
                Ok(_) => {
                    self.remote_index.forget(&key, pts);
                    self.broken.insert((key, pts));
                }
                Err(err) => {
                    tracing::warn!(error = %err, "fetching a frame failed");
                    self.remote_index.forget(&key, pts);
                }
            }
        }
        for (key, records) in records {
            // The local store is a read-through cache of the shared one.
            if let Err(e) = self.store.append_index(&key, &records) {
                tracing::warn!(error = %e, "recording fetched frames in the local index failed");
            }
        }
    }
}
