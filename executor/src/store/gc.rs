//! Store upkeep: usage, verification and least-recently-used eviction.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::io::{self, BufRead};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::index::{parse_index, parse_line};
use super::{BlobRef, Store};

/// Store usage, for `framex cache stats`. Every file counts once.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Index files (one per source and recipe).
    pub indexes: u64,
    /// Frames recorded over all indexes.
    pub frames: u64,
    /// Blob files.
    pub blobs: u64,
    /// Bytes of blobs and indexes.
    pub bytes: u64,
    /// Downloaded sources, and their bytes.
    pub downloads: u64,
    /// Bytes of downloaded sources.
    pub download_bytes: u64,
    /// Blobs being written (or left by a writer that died).
    pub partials: u64,
}

/// What a gc did.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GcReport {
    /// Index files removed.
    pub evicted: u64,
    /// Blobs removed.
    pub blobs_removed: u64,
    /// Bytes before.
    pub bytes_before: u64,
    /// Bytes after.
    pub bytes_after: u64,
}

/// What [`Store::verify`] found.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verified {
    /// Index records checked.
    pub records: u64,
    /// What is wrong, one line each: a damaged index line, a record whose
    /// blob is missing or damaged (each blob once), a blob whose bytes do
    /// not match its name.
    pub problems: Vec<String>,
    /// Blobs that no index record names: left by a run that stopped before
    /// recording them, or by a record lost to damage. Never served; gc
    /// removes them.
    pub unreferenced: u64,
}

/// One index file with what it holds.
struct IndexFile {
    key: String,
    path: PathBuf,
    used: SystemTime,
    bytes: u64,
    /// Its distinct blobs, sorted.
    blobs: Vec<BlobKey>,
}

/// A blob as upkeep keys it, in 33 bytes rather than a path (a store holds
/// a file per frame): its digest and whether it is a JPEG. Every blob an
/// index names has one; a file under `blobs/` without one is named by no
/// index.
type BlobKey = ([u8; 32], bool);

/// The key of a blob.
fn blob_key(blob: &BlobRef) -> BlobKey {
    (blob.digest, blob.ext == "jpg")
}

impl Store {
    fn blob_files(&self) -> Vec<(PathBuf, fs::Metadata)> {
        files_under(&self.versioned().join("blobs"))
    }

    /// The key of the blob file at `path`, if it is where an index's blob
    /// would be (`blobs/<first two of digest>/<digest>.<ext>`).
    fn file_key(&self, path: &Path) -> Option<BlobKey> {
        let name = path.file_name()?.to_str()?;
        let (digest, ext) = name.split_once('.')?;
        let blob = BlobRef::parse(digest, 0, ext)?;
        (self.blob_path(&blob) == path).then_some(blob_key(&blob))
    }

    /// Where the blob of `key` lives.
    fn key_path(&self, (digest, jpg): &BlobKey) -> PathBuf {
        let blob = BlobRef {
            digest: *digest,
            size: 0,
            ext: if *jpg { "jpg" } else { "png" },
        };
        self.blob_path(&blob)
    }

    fn index_files(&self) -> Vec<IndexFile> {
        files_under(&self.versioned().join("index"))
            .into_iter()
            .filter(|(p, _)| p.extension().is_some_and(|e| e == "idx"))
            .map(|(path, meta)| {
                let key = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                // Read line by line: an index has a line per frame.
                let mut blobs = Vec::new();
                if let Ok(file) = fs::File::open(&path) {
                    let mut reader = io::BufReader::new(file);
                    let mut line = Vec::new();
                    while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                        let record = line
                            .strip_suffix(b"\n")
                            .and_then(|l| std::str::from_utf8(l).ok())
                            .and_then(parse_line);
                        if let Some((_, blob)) = record {
                            blobs.push(blob_key(&blob));
                        }
                        line.clear();
                    }
                }
                blobs.sort_unstable();
                blobs.dedup();
                IndexFile {
                    key,
                    used: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                    bytes: meta.len(),
                    path,
                    blobs,
                }
            })
            .collect()
    }

    fn downloads(&self) -> Vec<(PathBuf, fs::Metadata)> {
        files_under(&self.root.join("downloads"))
            .into_iter()
            .filter(|(p, _)| {
                let name = p.file_name().unwrap_or_default().to_string_lossy();
                !name.starts_with("url-")
                    && !name.contains(".tmp.")
                    && p.parent().is_some_and(|d| d.ends_with("downloads"))
            })
            .collect()
    }

    /// Usage.
    pub fn stats(&self) -> io::Result<Stats> {
        let mut stats = Stats::default();
        for (_, meta) in self.blob_files() {
            stats.blobs += 1;
            stats.bytes += meta.len();
        }
        for index in self.index_files() {
            stats.indexes += 1;
            stats.bytes += index.bytes;
            stats.frames += index.blobs.len() as u64;
        }
        for (_, meta) in self.downloads() {
            stats.downloads += 1;
            stats.download_bytes += meta.len();
        }
        stats.partials = fs::read_dir(self.tmp())?.count() as u64;
        Ok(stats)
    }

    /// Checks every index record's blob; `deep` re-hashes every blob (else
    /// sizes only).
    pub fn verify(&self, deep: bool) -> io::Result<Verified> {
        let mut verified = Verified::default();
        // Per blob: whether it is good (identical frames share one blob:
        // each is checked, and reported, once).
        let mut blobs: BTreeMap<PathBuf, bool> = BTreeMap::new();
        for index in self.index_files() {
            let bytes = fs::read(&index.path)?;
            let (records, damaged) = parse_index(&bytes);
            for n in damaged {
                verified
                    .problems
                    .push(format!("{}: line {n} is damaged", index.path.display()));
            }
            for (pts, blob) in records {
                verified.records += 1;
                let path = self.blob_path(&blob);
                if blobs.contains_key(&path) {
                    continue;
                }
                let good = if deep {
                    self.check_blob(&blob)
                } else {
                    fs::metadata(&path).is_ok_and(|m| m.len() == blob.size)
                };
                blobs.insert(path.clone(), good);
                if !good {
                    verified.problems.push(format!(
                        "{}: frame at {pts} of {}: blob missing or damaged",
                        path.display(),
                        index.key
                    ));
                }
            }
        }
        for (path, _) in self.blob_files() {
            if blobs.contains_key(&path) {
                continue;
            }
            verified.unreferenced += 1;
            if deep {
                let name = path.file_stem().unwrap_or_default().to_string_lossy();
                let digest = fs::File::open(&path).and_then(|f| {
                    let mut h = blake3::Hasher::new();
                    h.update_reader(f)
                        .map(|h| h.finalize().to_hex().to_string())
                });
                if digest.ok().as_deref() != Some(&*name) {
                    verified
                        .problems
                        .push(format!("{}: bytes do not match the name", path.display()));
                }
            }
        }
        verified.problems.sort();
        Ok(verified)
    }

    /// Evicts least-recently-used indexes (with the blobs only they use)
    /// and downloads until the store holds at most `max_bytes`, never one
    /// used within `min_age` or named in `protect` (recipe keys). Blobs no
    /// index names, and older schemas, go first. Skips (returns `None`) when
    /// a run holds the read lock for longer than `wait`.
    pub fn gc(
        &self,
        max_bytes: u64,
        min_age: Duration,
        protect: &BTreeSet<String>,
        wait: Duration,
    ) -> io::Result<Option<GcReport>> {
        let lock = self.lock_file()?;
        let deadline = std::time::Instant::now() + wait;
        while lock.try_lock().is_err() {
            if std::time::Instant::now() >= deadline {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Another schema's store is never read: it only takes room.
        if let Ok(entries) = fs::read_dir(&self.root) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let other_schema = name.strip_prefix('v').is_some_and(|n| {
                    n.parse::<u32>()
                        .is_ok_and(|n| n != framex_core::CACHE_SCHEMA_VERSION)
                });
                if other_schema && entry.path().is_dir() {
                    let _ = fs::remove_dir_all(entry.path());
                }
            }
        }
        crate::leftovers::sweep_dead_leftovers(&self.tmp(), "tmp", false);
        let now = SystemTime::now();
        let young = |t: SystemTime| now.duration_since(t).unwrap_or_default() < min_age;
        let indexes = self.index_files();
        let mut users: HashMap<BlobKey, u32> = HashMap::new();
        for index in &indexes {
            for blob in &index.blobs {
                *users.entry(*blob).or_default() += 1;
            }
        }
        // Blob files are walked, not listed (a store holds one per frame):
        // their bytes are summed, and the ones no index names are kept.
        let mut blob_bytes = 0u64;
        let mut unnamed: Vec<(PathBuf, u64, SystemTime)> = Vec::new();
        for_each_file_under(&self.versioned().join("blobs"), |path, meta| {
            blob_bytes += meta.len();
            let named = self.file_key(&path).is_some_and(|k| users.contains_key(&k));
            if !named {
                let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                unnamed.push((path, meta.len(), modified));
            }
        });
        let downloads = self.downloads();
        let mut total: u64 = blob_bytes
            + indexes.iter().map(|i| i.bytes).sum::<u64>()
            + downloads.iter().map(|(_, m)| m.len()).sum::<u64>();
        let mut report = GcReport {
            bytes_before: total,
            ..GcReport::default()
        };
        // Blobs no index names (their record was lost, or their index was
        // evicted by a gc that died): not served, only taking room.
        for (path, bytes, modified) in unnamed {
            if !young(modified) && fs::remove_file(&path).is_ok() {
                total -= bytes.min(total);
                report.blobs_removed += 1;
            }
        }
        enum Victim<'a> {
            Index(&'a IndexFile),
            Download(&'a Path, u64),
        }
        let mut victims: Vec<(SystemTime, Victim)> = indexes
            .iter()
            .filter(|i| !protect.contains(&i.key))
            .map(|i| (i.used, Victim::Index(i)))
            .chain(downloads.iter().map(|(p, m)| {
                let used = m.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                (used, Victim::Download(p.as_path(), m.len()))
            }))
            .collect();
        victims.sort_by_key(|(used, _)| *used);
        for (used, victim) in victims {
            if total <= max_bytes || young(used) {
                break;
            }
            match victim {
                Victim::Index(index) => {
                    if fs::remove_file(&index.path).is_err() {
                        continue;
                    }
                    report.evicted += 1;
                    total -= index.bytes.min(total);
                    for blob in &index.blobs {
                        let left = users.get_mut(blob).map(|n| {
                            *n -= 1;
                            *n
                        });
                        if left == Some(0) {
                            let path = self.key_path(blob);
                            if let Ok(bytes) = fs::metadata(&path).map(|m| m.len()) {
                                if fs::remove_file(&path).is_ok() {
                                    total -= bytes.min(total);
                                    report.blobs_removed += 1;
                                }
                            }
                        }
                    }
                }
                Victim::Download(path, bytes) => {
                    if fs::remove_file(path).is_ok() {
                        report.evicted += 1;
                        total -= bytes.min(total);
                    }
                }
            }
        }
        report.bytes_after = total;
        Ok(Some(report))
    }
}

/// Every file under `dir`, two levels deep at most (`<xx>/<name>`), sorted.
fn files_under(dir: &Path) -> Vec<(PathBuf, fs::Metadata)> {
    let mut out = Vec::new();
    for_each_file_under(dir, |path, meta| out.push((path, meta)));
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// `f` of every file under `dir`, two levels deep at most, as found.
fn for_each_file_under(dir: &Path, mut f: impl FnMut(PathBuf, fs::Metadata)) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_dir() {
            if let Ok(inner) = fs::read_dir(entry.path()) {
                for e in inner.flatten() {
                    if let Ok(m) = e.metadata() {
                        if m.is_file() {
                            f(e.path(), m);
                        }
                    }
                }
            }
        } else if meta.is_file() {
            f(entry.path(), meta);
        }
    }
}
