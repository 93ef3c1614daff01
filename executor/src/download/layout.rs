//! The downloads directory: partial files under `partial/` (swept when
//! their writer is gone), published `<blake3>.<ext>` files, and the
//! `url-<hash>.json` records that let a later run revalidate.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use ureq::http::Uri;

/// Version of the stored URL records.
pub(super) const RECORD_VERSION: u32 = 1;

/// What `downloads/url-<hash>.json` remembers about a URL.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UrlRecord {
    pub(super) version: u32,
    pub(super) url: String,
    /// File name in the downloads directory.
    pub(super) file: String,
    pub(super) blake3: String,
    pub(super) size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) last_modified: Option<String>,
}

/// The URL path's extension when it is a short alphanumeric one (`mp4`,
/// `webm`), so the published file keeps it; else `bin`.
pub(super) fn extension(uri: &Uri) -> String {
    let last = uri.path().rsplit('/').next().unwrap_or("");
    match last.rsplit_once('.') {
        Some((_, ext))
            if (1..=8).contains(&ext.len()) && ext.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            ext.to_ascii_lowercase()
        }
        _ => "bin".into(),
    }
}

pub(super) fn read_record(path: &Path, url: &str, dir: &Path) -> Option<UrlRecord> {
    let record: UrlRecord = serde_json::from_slice(&fs::read(path).ok()?).ok()?;
    let usable = record.version == RECORD_VERSION
        && record.url == url
        && (record.etag.is_some() || record.last_modified.is_some())
        && fs::metadata(dir.join(&record.file)).is_ok_and(|m| m.len() == record.size);
    usable.then_some(record)
}

/// Best effort: without it, the next run downloads again.
pub(super) fn write_record(path: &Path, record: &UrlRecord) {
    crate::remember::remember_json(path, record);
}

/// A download in progress; removed on drop unless published.
pub(super) struct PartialFile {
    pub(super) path: PathBuf,
    pub(super) file: File,
    pub(super) len: u64,
    published: bool,
}

impl PartialFile {
    pub(super) fn create(dir: &Path, label: &str) -> io::Result<Self> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!("{label}.{}.{n}.part", std::process::id()));
            match OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(file) => {
                    return Ok(Self {
                        path,
                        file,
                        len: 0,
                        published: false,
                    })
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    pub(super) fn truncate(&mut self) -> io::Result<()> {
        self.file.set_len(0)?;
        self.file.rewind()?;
        self.len = 0;
        Ok(())
    }

    pub(super) fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes)?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Renames the (synced) file to `target`, or drops it when another
    /// download already published the same bytes there.
    pub(super) fn publish(mut self, target: &Path) -> io::Result<()> {
        if fs::metadata(target).is_ok_and(|m| m.len() == self.len) {
            return Ok(());
        }
        fs::rename(&self.path, target)?;
        self.published = true;
        if let Some(parent) = target.parent() {
            File::open(parent)?.sync_all()?;
        }
        Ok(())
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if !self.published {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Removes partial downloads older than an hour (their writer is gone).
pub(super) fn sweep_partials(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > Duration::from_secs(3600));
        if old {
            let _ = fs::remove_file(entry.path());
        }
    }
}
