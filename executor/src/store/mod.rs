//! The content-addressed frame store.
//!
//! Layout under the store root:
//! ```text
//! v2/blobs/<d[..2]>/<digest>.<png|jpg>   frames, named by the blake3 of their bytes
//! v2/index/<k[..2]>/<recipe key>.idx      per source and recipe: frame time → blob
//! v2/.lock                                runs hold it shared, gc exclusive
//! tmp/<pid>.<n>.tmp                       blobs being written
//! probe/<digest>.json                     remembered ffprobe results
//! downloads/                              remote sources
//! ```
//! Identical frames share one blob. Blobs are written to `tmp/`, synced
//! (a batch at once, its files synced concurrently) and renamed into place; only then
//! are their index records appended (and synced)
//! under an exclusive lock of the index file. Each record carries its own
//! checksum: a torn or garbled record is ignored, never trusted. A record
//! whose blob is missing or whose bytes no longer hash to its name is a miss
//! (every read checks the digest), so a crash at any moment leaves a store
//! that serves only whole, right frames. Older schemas (`v1/`) are never
//! read, and are removed by gc.

mod blob;
mod gc;
mod index;
pub mod remote;

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use framex_core::CACHE_SCHEMA_VERSION;

pub use blob::{BlobRef, PendingBlob};
pub use gc::{GcReport, Stats, Verified};
pub use index::{IndexRead, Record};

/// The frame store at one root.
#[derive(Clone, Debug)]
pub struct Store {
    root: PathBuf,
}

/// Held while a run reads the store: gc does not evict under it.
#[derive(Debug)]
pub struct ReadGuard {
    _lock: File,
}

impl Store {
    /// Opens (creating) the store at `root`, and removes blobs being written
    /// by processes that are gone.
    pub fn open(root: &Path) -> io::Result<Self> {
        let store = Self {
            root: root.to_path_buf(),
        };
        fs::create_dir_all(store.versioned().join("blobs"))?;
        fs::create_dir_all(store.versioned().join("index"))?;
        fs::create_dir_all(store.tmp())?;
        crate::leftovers::sweep_dead_leftovers(&store.tmp(), "tmp", false);
        crate::leftovers::sweep_dead_leftovers(&store.root.join("probe"), "tmp", false);
        Ok(store)
    }

    /// The store root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn versioned(&self) -> PathBuf {
        self.root.join(format!("v{CACHE_SCHEMA_VERSION}"))
    }

    fn tmp(&self) -> PathBuf {
        self.root.join("tmp")
    }

    fn lock_file(&self) -> io::Result<File> {
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.versioned().join(".lock"))
    }

    /// Takes the shared read lock (blocks while a gc is evicting).
    pub fn read_guard(&self) -> io::Result<ReadGuard> {
        let lock = self.lock_file()?;
        lock.lock_shared()?;
        Ok(ReadGuard { _lock: lock })
    }

    /// A fresh temporary path in `tmp/`, named so a sweep can tell when its
    /// writer is gone: `<unique>.tmp.<pid>`.
    fn temp_path(&self) -> PathBuf {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        self.tmp().join(format!("b{n}.tmp.{}", std::process::id()))
    }
}
