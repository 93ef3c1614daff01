//! Content identity: a blake3 digest of a source file's bytes, so copies of
//! one clip at other paths (made per render, with new mtimes) share dedupe
//! and cache keys.
//!
//! Each file is hashed at most once per run, however many elements and `src`
//! spellings use it (the run's memo is keyed by the file's stamp, not by the
//! spelling). A digest is also remembered in the cache's probe area, keyed
//! by (canonical path, device, inode, size, mtime, ctime), so a warm run
//! does not read the file again. The ctime is there because a rewrite that
//! restores size and mtime (`cp -p`, `rsync -t`) cannot restore it.

use std::fs::{File, Metadata};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::error::ExtractError;
use crate::memo::Memo;
use crate::source::SourceError;

/// Version of the stored digest format.
const DIGEST_VERSION: u32 = 1;

/// What identifies one state of a file on disk.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileStamp {
    /// Canonical path.
    pub path: String,
    /// Device and inode.
    pub dev: u64,
    /// Inode number.
    pub inode: u64,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, ns since the epoch.
    pub mtime_ns: i64,
    /// Status change time, ns since the epoch.
    pub ctime_ns: i64,
}

impl FileStamp {
    /// The stamp of `path` (canonical) as `meta` describes it.
    pub fn of(path: &Path, meta: &Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        Self {
            path: path.to_string_lossy().into_owned(),
            dev: meta.dev(),
            inode: meta.ino(),
            size: meta.len(),
            mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
            ctime_ns: meta.ctime() * 1_000_000_000 + meta.ctime_nsec(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct StoredDigest {
    version: u32,
    stamp: FileStamp,
    blake3: String,
}

/// The digests of one run.
#[derive(Debug, Default)]
pub struct ContentDigests {
    /// Where digests are remembered between runs (`<cache>/probe/digests`).
    store: Option<PathBuf>,
    memo: Memo<FileStamp, Result<String, ExtractError>>,
    files: AtomicU64,
    bytes: AtomicU64,
}

impl ContentDigests {
    /// Digests remembered under `cache_root` (none without a cache).
    pub fn new(cache_root: Option<&Path>) -> Self {
        Self {
            store: cache_root.map(|root| root.join("probe").join("digests")),
            ..Self::default()
        }
    }

    /// Files read and hashed in this run, and their bytes.
    pub fn hashed(&self) -> (u64, u64) {
        (
            self.files.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        )
    }

    /// The lower-case hex blake3 digest of the file `stamp` describes:
    /// remembered, or read once (concurrent callers for one file wait for
    /// the same read).
    pub async fn digest(&self, stamp: &FileStamp) -> Result<String, ExtractError> {
        self.memo
            .get_or_init(stamp, || async {
                if let Some(digest) = self.stored(stamp) {
                    return Ok(digest);
                }
                let owned = stamp.clone();
                let digest = tokio::task::spawn_blocking(move || hash_unchanged(&owned))
                    .await
                    .map_err(|_| ExtractError::Cancelled)??;
                self.files.fetch_add(1, Ordering::Relaxed);
                self.bytes.fetch_add(stamp.size, Ordering::Relaxed);
                self.remember(stamp, &digest);
                Ok(digest)
            })
            .await
    }

    fn stored_path(&self, stamp: &FileStamp) -> Option<PathBuf> {
        let text = serde_json::to_string(stamp).ok()?;
        let key = blake3::hash(format!("digest-v{DIGEST_VERSION}\0{text}").as_bytes()).to_hex();
        Some(self.store.as_ref()?.join(format!("{}.json", &key[..32])))
    }

    fn stored(&self, stamp: &FileStamp) -> Option<String> {
        let bytes = std::fs::read(self.stored_path(stamp)?).ok()?;
        let stored: StoredDigest = serde_json::from_slice(&bytes).ok()?;
        (stored.version == DIGEST_VERSION && &stored.stamp == stamp).then_some(stored.blake3)
    }

    /// Best effort: a failed write only costs a read of the file next time.
    fn remember(&self, stamp: &FileStamp, digest: &str) {
        let Some(path) = self.stored_path(stamp) else {
            return;
        };
        let stored = StoredDigest {
            version: DIGEST_VERSION,
            stamp: stamp.clone(),
            blake3: digest.to_string(),
        };
        crate::remember::remember_json(&path, &stored);
    }
}

/// Hashes the file, and checks it did not change while being read.
fn hash_unchanged(stamp: &FileStamp) -> Result<String, SourceError> {
    let path = Path::new(&stamp.path);
    let unreadable = |reason: String| SourceError::Unreadable {
        path: path.to_path_buf(),
        reason,
    };
    let digest = hash_file(path).map_err(|e| unreadable(e.to_string()))?;
    let after = std::fs::metadata(path).map_err(|e| unreadable(e.to_string()))?;
    if &FileStamp::of(path, &after) != stamp {
        return Err(unreadable("it changed while it was being hashed".into()));
    }
    Ok(digest)
}

/// The lower-case hex blake3 digest of a file's bytes.
pub fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(File::open(path)?)?;
    Ok(hasher.finalize().to_hex().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn copies_share_a_digest_and_each_file_is_read_once() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.bin"), dir.path().join("b.bin"));
        std::fs::write(&a, b"same bytes").unwrap();
        std::fs::write(&b, b"same bytes").unwrap();
        let stamp = |p: &Path| {
            let p = std::fs::canonicalize(p).unwrap();
            FileStamp::of(&p, &std::fs::metadata(&p).unwrap())
        };
        let digests = ContentDigests::new(Some(dir.path()));
        let da = digests.digest(&stamp(&a)).await.unwrap();
        let again = digests.digest(&stamp(&a)).await.unwrap();
        let db = digests.digest(&stamp(&b)).await.unwrap();
        assert_eq!(da, blake3::hash(b"same bytes").to_hex().to_string());
        assert_eq!((da.as_str(), da.as_str()), (again.as_str(), db.as_str()));
        assert_eq!(digests.hashed(), (2, 20), "a once, b once");
        // A later run finds both remembered.
        let warm = ContentDigests::new(Some(dir.path()));
        assert_eq!(warm.digest(&stamp(&b)).await.unwrap(), db);
        assert_eq!(warm.hashed(), (0, 0));
        // A rewrite is a new stamp, hashed again.
        std::fs::write(&b, b"other bytes").unwrap();
        assert_ne!(warm.digest(&stamp(&b)).await.unwrap(), db);
        assert_eq!(warm.hashed().0, 1);
    }
}
