//! Blobs: frames named by the blake3 digest of their bytes.

use std::fs;
use std::io::{self, Write};
use std::path::PathBuf;

use super::Store;

/// A blob written but not yet published: its temporary file (none when the
/// blob existed already).
#[derive(Debug)]
pub struct PendingBlob {
    /// The blob it will be.
    pub blob: BlobRef,
    tmp: Option<PathBuf>,
}

impl PendingBlob {
    /// Removes the temporary file of a blob that will not be published.
    pub fn discard(self) {
        if let Some(tmp) = self.tmp {
            let _ = fs::remove_file(tmp);
        }
    }
}

/// A stored frame: its digest (the name), size and file extension. Small
/// and allocation-free: a run keeps one per frame it made until the fan-out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct BlobRef {
    /// The blake3 digest of the bytes (named in lower-case hex).
    pub digest: [u8; 32],
    /// Size in bytes.
    pub size: u64,
    /// `png` or `jpg`.
    pub ext: &'static str,
}

impl BlobRef {
    /// The blob of `bytes`.
    pub fn of(bytes: &[u8], ext: &'static str) -> Self {
        BlobRef {
            digest: *blake3::hash(bytes).as_bytes(),
            size: bytes.len() as u64,
            ext,
        }
    }

    /// A blob named by a lower-case hex digest and an extension (`png` or
    /// `jpg`), as files and index lines name it; `None` for any other name.
    pub fn parse(digest: &str, size: u64, ext: &str) -> Option<Self> {
        let ext = match ext {
            "png" => "png",
            "jpg" => "jpg",
            _ => return None,
        };
        let lower = digest.bytes().all(|b| !b.is_ascii_uppercase());
        let digest = blake3::Hash::from_hex(digest).ok().filter(|_| lower)?;
        Some(BlobRef {
            digest: *digest.as_bytes(),
            size,
            ext,
        })
    }

    /// The digest in lower-case hex.
    pub fn hex(&self) -> impl std::fmt::Display + std::ops::Deref<Target = str> {
        blake3::Hash::from_bytes(self.digest).to_hex()
    }

    /// Whether `hash` is this blob's digest (compared in constant time).
    pub fn is(&self, hash: blake3::Hash) -> bool {
        hash == blake3::Hash::from_bytes(self.digest)
    }
}

impl Store {
    /// Where a blob lives.
    pub fn blob_path(&self, blob: &BlobRef) -> PathBuf {
        let d = blob.hex();
        self.versioned()
            .join("blobs")
            .join(&d[..2])
            .join(format!("{d}.{}", blob.ext))
    }

    /// Stores `bytes` (synced to disk before they are visible under their
    /// name). A blob that exists already is kept when its bytes hash to its
    /// name; a damaged one is replaced (it may hold the right size and the
    /// wrong bytes).
    pub fn put_blob(&self, bytes: &[u8], ext: &'static str) -> io::Result<BlobRef> {
        let pending = self.write_blob(bytes, ext)?;
        let blob = pending.blob;
        self.publish_blobs(vec![pending])?;
        Ok(blob)
    }

    /// Writes `bytes` to a temporary file (not yet synced, not yet under its
    /// name): [`Store::publish_blobs`] makes a batch of them durable with
    /// one filesystem sync and renames them into place. Nothing is written
    /// when the blob exists already with the right bytes.
    pub fn write_blob(&self, bytes: &[u8], ext: &'static str) -> io::Result<PendingBlob> {
        let blob = BlobRef::of(bytes, ext);
        let path = self.blob_path(&blob);
        let present = fs::symlink_metadata(&path).is_ok_and(|m| m.is_file());
        if present && self.check_blob(&blob) {
            return Ok(PendingBlob { blob, tmp: None });
        }
        let tmp = self.temp_path();
        let written = fs::File::create(&tmp).and_then(|mut file| file.write_all(bytes));
        if let Err(err) = written {
            let _ = fs::remove_file(&tmp);
            return Err(err);
        }
        Ok(PendingBlob {
            blob,
            tmp: Some(tmp),
        })
    }

    /// Syncs the filesystem once (every pending blob's bytes reach the disk
    /// together), then renames each blob into place. Only then may index
    /// records name them.
    ///
    /// One `syncfs` per batch, measured against syncing the batch's own
    /// files (one `fsync` each, from 16 threads at once or one after
    /// another): on this project's 2-core machine the per-file syncs doubled
    /// the extract phase (`bench --quick`: 117 → 250 ms for 72 frames, 148
    /// → 362 ms for 120) and kept more memory waiting. `syncfs` also waits
    /// for other programs' dirty data on the same filesystem, which can cost
    /// more on a busy disk.
    pub fn publish_blobs(&self, pending: Vec<PendingBlob>) -> io::Result<()> {
        if pending.iter().all(|p| p.tmp.is_none()) {
            return Ok(());
        }
        let root = fs::File::open(self.tmp())?;
        if let Err(err) = rustix::fs::syncfs(&root) {
            for tmp in pending.iter().filter_map(|p| p.tmp.as_ref()) {
                let _ = fs::remove_file(tmp);
            }
            return Err(err.into());
        }
        let mut result = Ok(());
        for p in pending {
            let Some(tmp) = p.tmp else { continue };
            let path = self.blob_path(&p.blob);
            let renamed = path
                .parent()
                .map_or(Ok(()), fs::create_dir_all)
                .and_then(|()| fs::rename(&tmp, &path));
            if let Err(err) = renamed {
                let _ = fs::remove_file(&tmp);
                result = result.and(Err(err));
            }
        }
        result
    }

    /// Whether the blob is there and its bytes hash to its name.
    pub fn check_blob(&self, blob: &BlobRef) -> bool {
        let path = self.blob_path(blob);
        let Ok(file) = fs::File::open(&path) else {
            return false;
        };
        if file.metadata().map(|m| m.len()).ok() != Some(blob.size) {
            return false;
        }
        let mut hasher = blake3::Hasher::new();
        match hasher.update_reader(file) {
            Ok(_) => blob.is(hasher.finalize()),
            Err(_) => false,
        }
    }

    /// Removes a blob found bad, so no one links it again.
    pub fn discard_blob(&self, blob: &BlobRef) {
        let _ = fs::remove_file(self.blob_path(blob));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_synced_and_published_whole_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let old = store.put_blob(b"frame 0", "png").unwrap();
        let pending: Vec<PendingBlob> = (0..40)
            .map(|i| {
                store
                    .write_blob(format!("frame {i}").as_bytes(), "png")
                    .unwrap()
            })
            .collect();
        // The blob stored already is not written again.
        assert!(pending[0].tmp.is_none());
        let blobs: Vec<BlobRef> = pending.iter().map(|p| p.blob).collect();
        assert!(blobs[1..].iter().all(|b| !store.check_blob(b)));
        store.publish_blobs(pending).unwrap();
        assert_eq!(blobs[0], old);
        assert!(blobs.iter().all(|b| store.check_blob(b)));
        assert_eq!(fs::read_dir(store.tmp()).unwrap().count(), 0);
    }
}
