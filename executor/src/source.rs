//! Resolving an element's `src` to a file and its identity.
//!
//! A `src` that starts with `http://` or `https://` is a URL
//! ([`crate::download`]); anything else is a path relative to the composition.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use framex_core::SourceIdentity;

use crate::content::FileStamp;

/// A source file found on disk.
#[derive(Clone, Debug)]
pub struct ResolvedSource {
    /// Canonical absolute path (symlinks resolved).
    pub path: PathBuf,
    /// Identity for dedupe and cache keys.
    pub identity: SourceIdentity,
    /// Size in bytes.
    pub size: u64,
    /// The file's state when it was resolved (for content digests).
    pub stamp: FileStamp,
}

/// Resolves `src` relative to `base` (the composition's directory), follows
/// symlinks, and checks that the result is a readable, non-empty regular file.
pub fn resolve(base: &Path, src: &str) -> Result<ResolvedSource, SourceError> {
    let joined = base.join(src);
    let unreadable = |reason: &str| SourceError::Unreadable {
        path: joined.clone(),
        reason: reason.to_string(),
    };
    let path = match std::fs::canonicalize(&joined) {
        Ok(path) => path,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(SourceError::Missing { path: joined })
        }
        Err(err) => return Err(unreadable(&err.to_string())),
    };
    let meta = std::fs::metadata(&path).map_err(|e| unreadable(&e.to_string()))?;
    if meta.is_dir() {
        return Err(unreadable("it is a directory"));
    }
    if !meta.is_file() {
        return Err(unreadable(
            "it is not a regular file (a device, FIFO or socket)",
        ));
    }
    if meta.len() == 0 {
        return Err(unreadable("it is empty (0 bytes)"));
    }
    // Opening proves we may read it, before ffprobe says something vaguer.
    std::fs::File::open(&path).map_err(|e| unreadable(&e.to_string()))?;
    let mtime_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i64);
    Ok(ResolvedSource {
        stamp: FileStamp::of(&path, &meta),
        identity: SourceIdentity::File {
            path: path.to_string_lossy().into_owned(),
            size: meta.len(),
            mtime_ns,
        },
        size: meta.len(),
        path,
    })
}

/// Why a source path cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// The source file does not exist.
    #[error("source {} does not exist", .path.display())]
    Missing {
        /// The resolved path.
        path: PathBuf,
    },
    /// The source exists but cannot be used as a file (a directory, a FIFO,
    /// a device) or cannot be read.
    #[error("source {} cannot be read: {reason}", .path.display())]
    Unreadable {
        /// The resolved path.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}
