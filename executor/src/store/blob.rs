//! Blobs: frames named by the blake3 digest of their bytes.

use std::fs;
use std::io::{self, Write};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Store;

/// A stored frame: its digest (the name), size and file extension.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BlobRef {
    /// Lower-case hex blake3 digest of the bytes.
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
    /// `png` or `jpg`.
    pub ext: String,
}

impl Store {
    /// Where a blob lives.
    pub fn blob_path(&self, blob: &BlobRef) -> PathBuf {
        let d = &blob.digest;
        self.versioned()
            .join("blobs")
            .join(&d[..2.min(d.len())])
            .join(format!("{d}.{}", blob.ext))
    }

    /// Stores `bytes` (synced to disk before they are visible under their
    /// name). A blob that exists already is kept when its bytes hash to its
    /// name; a damaged one is replaced (it may hold the right size and the
    /// wrong bytes).
    pub fn put_blob(&self, bytes: &[u8], ext: &str) -> io::Result<BlobRef> {
        let blob = BlobRef {
            digest: blake3::hash(bytes).to_hex().to_string(),
            size: bytes.len() as u64,
            ext: ext.to_string(),
        };
        let path = self.blob_path(&blob);
        let present = fs::symlink_metadata(&path).is_ok_and(|m| m.is_file());
        if present && self.check_blob(&blob) {
            return Ok(blob);
        }
        let tmp = self.temp_path();
        let written = (|| {
            let mut file = fs::File::create(&tmp)?;
            file.write_all(bytes)?;
            file.sync_data()?;
            drop(file);
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir)?;
            }
            fs::rename(&tmp, &path)
        })();
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written.map(|()| blob)
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
            Ok(_) => hasher.finalize().to_hex().as_str() == blob.digest,
            Err(_) => false,
        }
    }

    /// Removes a blob found bad, so no one links it again.
    pub fn discard_blob(&self, blob: &BlobRef) {
        let _ = fs::remove_file(self.blob_path(blob));
    }
}
