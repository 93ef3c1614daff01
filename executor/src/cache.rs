//! The crash-safe frame cache.
//!
//! Layout under the cache root:
//! ```text
//! v1/<key[..2]>/<key>/frame_000001.png …  manifest.json   published entries
//! v1/.lock                                                 readers shared, gc exclusive
//! tmp/<name>/  tmp/<name>.lock                             partials, each locked by its writer
//! probe/<digest>.json                                      remembered ffprobe results
//! ```
//! A writer fills a private partial directory on the same filesystem, syncs
//! it, writes the manifest last, and publishes it with one atomic rename. A
//! writer that dies loses its lock with it, so the next run can tell its
//! partial is orphaned and sweep it. Readers trust an entry only after its
//! manifest checks out against the files.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use framex_core::{ImageFormat, SourceIdentity, CACHE_SCHEMA_VERSION, RECIPE_VERSION};
use serde::{Deserialize, Serialize};

/// Name of an entry's manifest; written last, it marks the entry complete.
pub const MANIFEST: &str = "manifest.json";

/// The file name of frame `number` (1-based).
pub fn frame_name(number: u64, format: ImageFormat) -> String {
    format!("frame_{number:06}.{}", format.extension())
}

/// What a published entry holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Cache schema version.
    pub schema: u32,
    /// Recipe version the frames were made with.
    pub recipe: u32,
    /// The cache key (the entry's directory name).
    pub key: String,
    /// Image format.
    pub format: ImageFormat,
    /// The source the frames come from.
    pub source: SourceIdentity,
    /// Frame rate, as `num/den`.
    pub fps: String,
    /// Start in the source, microseconds.
    pub start_us: i64,
    /// Per frame, in order: size and blake3 digest.
    pub frames: Vec<FrameRecord>,
    /// Sum of the frames' sizes.
    pub total_bytes: u64,
}

/// One frame of an entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameRecord {
    /// Size in bytes.
    pub size: u64,
    /// Lower-case hex blake3 digest of the bytes.
    pub blake3: String,
}

/// The frame cache at one root.
#[derive(Clone, Debug)]
pub struct Cache {
    root: PathBuf,
}

/// A partial directory with its writer's lock; removed on drop unless published.
#[derive(Debug)]
pub struct Partial {
    dir: PathBuf,
    lock_path: PathBuf,
    _lock: File,
    published: bool,
}

impl Partial {
    /// The directory to write into.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.published {
            let _ = fs::remove_dir_all(&self.dir);
        }
        let _ = fs::remove_file(&self.lock_path);
    }
}

/// How a publish ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Published {
    /// Our entry is now the published one.
    Ours,
    /// Another writer published a good entry first; ours was discarded.
    Adopted,
}

/// Held while a run reads entries: `gc` will not evict under it.
#[derive(Debug)]
pub struct ReadGuard {
    _lock: File,
}

impl Cache {
    /// Opens (creating) the cache at `root` and sweeps orphaned partials.
    pub fn open(root: &Path) -> io::Result<Self> {
        let cache = Self {
            root: root.to_path_buf(),
        };
        fs::create_dir_all(cache.versioned())?;
        fs::create_dir_all(cache.tmp())?;
        cache.sweep_partials()?;
        // Remembered probes half-written by a run that was killed.
        crate::fanout::sweep_dead_leftovers(&cache.root.join("probe"), "tmp", false);
        Ok(cache)
    }

    /// The cache root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn versioned(&self) -> PathBuf {
        self.root.join(format!("v{CACHE_SCHEMA_VERSION}"))
    }

    fn tmp(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Where the entry for `key` lives once published.
    pub fn entry_dir(&self, key: &str) -> PathBuf {
        self.versioned().join(&key[..2.min(key.len())]).join(key)
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

    /// Removes partials whose writer is gone (its lock is free).
    pub fn sweep_partials(&self) -> io::Result<usize> {
        let mut swept = 0;
        for entry in fs::read_dir(self.tmp())? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "lock") {
                let Ok(file) = File::open(&path) else {
                    continue;
                };
                if file.try_lock().is_ok() && remove_orphaned_partial(&path.with_extension("")) {
                    let _ = fs::remove_file(&path);
                    swept += 1;
                }
            } else if path.is_dir() && !lock_path_of(&path).exists() && older_than_an_hour(&path) {
                // A partial whose lock file is gone: its writer died between
                // the two removals (or lost a race with a sweeper). The age
                // guard keeps us off a writer that is still running.
                let _ = fs::remove_dir_all(&path);
                swept += 1;
            }
        }
        Ok(swept)
    }

    /// Creates a locked partial directory named after `label`.
    pub fn partial(&self, label: &str) -> io::Result<Partial> {
        partial_in(&self.tmp(), label)
    }

    /// Returns the entry's manifest if the entry is complete and every frame
    /// matches it (size and blake3 digest), and marks it recently used.
    ///
    /// The digests are checked on every lookup, not only by `cache verify`:
    /// element directories are hard links to the entries' frames, so a frame
    /// rewritten in place (by a tool editing an output frame, say) or
    /// damaged on disk keeps its size, and only its digest tells. Hashing is
    /// cheap next to extracting: about 0.1 s for 150 MB of 1080p frames in
    /// a release build, where extracting them took 12 s.
    pub fn lookup(&self, key: &str) -> Option<Manifest> {
        let dir = self.entry_dir(key);
        let manifest = check_entry(&dir, key, true).ok()?;
        // LRU: the manifest's mtime is the entry's last use.
        if let Ok(file) = File::options().write(true).open(dir.join(MANIFEST)) {
            let _ = file.set_modified(SystemTime::now());
        }
        Some(manifest)
    }

    /// Publishes a partial as the entry for `manifest.key`: writes the
    /// manifest, syncs, and renames. If a good entry appeared first, ours is
    /// discarded and theirs adopted; a broken one is replaced.
    pub fn publish(&self, mut partial: Partial, manifest: &Manifest) -> io::Result<Published> {
        let path = partial.dir.join(MANIFEST);
        let mut file = File::create(&path)?;
        file.write_all(&serde_json::to_vec_pretty(manifest).map_err(io::Error::other)?)?;
        file.sync_all()?;
        File::open(&partial.dir)?.sync_all()?;
        let target = self.entry_dir(&manifest.key);
        let parent = target.parent().expect("entry has a parent");
        fs::create_dir_all(parent)?;
        for _ in 0..2 {
            match fs::rename(&partial.dir, &target) {
                Ok(()) => {
                    partial.published = true;
                    File::open(parent)?.sync_all()?;
                    return Ok(Published::Ours);
                }
                Err(_) if target.exists() => {
                    // Adopt only what a lookup would serve (digests too).
                    if check_entry(&target, &manifest.key, true).is_ok() {
                        return Ok(Published::Adopted);
                    }
                    // A broken entry (tampered, or from a foreign writer):
                    // move it aside, then try again.
                    let trash = self.partial("trash")?;
                    fs::remove_dir(trash.dir())?;
                    if fs::rename(&target, trash.dir()).is_err() {
                        // Someone else moved it first; loop and retry.
                    }
                }
                Err(err) => return Err(err),
            }
        }
        Err(io::Error::other(format!(
            "could not publish {}: the entry keeps changing",
            target.display()
        )))
    }

    /// Every published entry directory, with its key.
    pub fn entries(&self) -> io::Result<Vec<(String, PathBuf)>> {
        let mut out = Vec::new();
        for shard in fs::read_dir(self.versioned())? {
            let shard = shard?.path();
            if !shard.is_dir() {
                continue;
            }
            for entry in fs::read_dir(&shard)? {
                let path = entry?.path();
                if let Some(key) = path.file_name().and_then(|n| n.to_str()) {
                    out.push((key.to_string(), path.clone()));
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// The downloaded sources in `downloads/` (not their URL records, not
    /// partial downloads), by file name.
    fn downloads(&self) -> Vec<(String, PathBuf)> {
        let Ok(dir) = fs::read_dir(self.root.join("downloads")) else {
            return Vec::new();
        };
        let mut out: Vec<(String, PathBuf)> = dir
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
            .filter(|(name, _)| !name.starts_with("url-") && !name.contains(".tmp."))
            .collect();
        out.sort();
        out
    }

    /// Checks every entry; `deep` also re-hashes every frame. Returns the
    /// problems found (empty when all is well) and the number of entries.
    pub fn verify(&self, deep: bool) -> io::Result<(usize, Vec<String>)> {
        let entries = self.entries()?;
        let problems = entries
            .iter()
            .filter_map(|(key, dir)| {
                check_entry(dir, key, deep)
                    .err()
                    .map(|e| format!("{}: {e}", dir.display()))
            })
            .collect();
        Ok((entries.len(), problems))
    }

    /// Usage: entries, bytes, partials.
    pub fn stats(&self) -> io::Result<Stats> {
        let mut stats = Stats::default();
        for (key, dir) in self.entries()? {
            stats.entries += 1;
            match read_manifest(&dir, &key) {
                Ok(m) => {
                    stats.bytes += m.total_bytes;
                    stats.frames += m.frames.len() as u64;
                }
                Err(_) => stats.broken += 1,
            }
        }
        stats.partials = fs::read_dir(self.tmp())?
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir())
            .count() as u64;
        Ok(stats)
    }

    /// Evicts least-recently-used entries until the cache holds at most
    /// `max_bytes`, never touching entries used within `min_age` or named in
    /// `protect`. Broken entries go first. Skips (returns `None`) when a run
    /// holds the read lock for longer than `wait`.
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
        self.sweep_partials()?;
        let now = SystemTime::now();
        let mut candidates = Vec::new();
        let mut total = 0u64;
        for (key, dir) in self.entries()? {
            let used = fs::metadata(dir.join(MANIFEST))
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            let (bytes, broken) = match read_manifest(&dir, &key) {
                Ok(m) => (m.total_bytes, false),
                Err(_) => (dir_size(&dir), true),
            };
            total += bytes;
            candidates.push((!broken, used, key, dir, bytes));
        }
        // Downloaded sources count against the cap too, least recently used
        // first like entries (a run touches the ones it reuses); the URL's
        // record then no longer finds its file, and the next run downloads it
        // again.
        for (name, path) in self.downloads() {
            let Ok(meta) = fs::symlink_metadata(&path) else {
                continue;
            };
            let used = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            total += meta.len();
            candidates.push((true, used, format!("download:{name}"), path, meta.len()));
        }
        // Broken first, then oldest use first.
        candidates.sort();
        let mut report = GcReport {
            bytes_before: total,
            ..GcReport::default()
        };
        for (good, used, key, dir, bytes) in candidates {
            let young = now.duration_since(used).unwrap_or_default() < min_age;
            if good && (total <= max_bytes || young || protect.contains(&key)) {
                continue;
            }
            let removed = if dir.is_dir() {
                let trash = self.partial("evict")?;
                fs::remove_dir(trash.dir())?;
                fs::rename(&dir, trash.dir()).is_ok()
            } else {
                fs::remove_file(&dir).is_ok()
            };
            if removed {
                total -= bytes.min(total);
                report.evicted += 1;
            }
        }
        report.bytes_after = total;
        Ok(Some(report))
    }
}

/// Cache usage, for `framex cache stats`.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Published entries.
    pub entries: u64,
    /// Entries whose manifest is missing or unreadable.
    pub broken: u64,
    /// Frames over all entries.
    pub frames: u64,
    /// Bytes over all entries (hard-linked frames counted per entry).
    pub bytes: u64,
    /// Partial directories present (in progress, or orphaned).
    pub partials: u64,
}

/// What a gc did.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GcReport {
    /// Entries removed.
    pub evicted: u64,
    /// Bytes before.
    pub bytes_before: u64,
    /// Bytes after.
    pub bytes_after: u64,
}

/// The lock file of the partial directory `dir`: `<name>.lock` beside it
/// (not `with_extension`, which would replace the counter after the last dot).
fn lock_path_of(dir: &Path) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    dir.with_file_name(name)
}

/// Creates a locked partial directory `<parent>/<label>.<pid>.<n>`.
pub fn partial_in(parent: &Path, label: &str) -> io::Result<Partial> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    fs::create_dir_all(parent)?;
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("{label}.{}.{n}", std::process::id());
        let dir = parent.join(&name);
        let lock_path = lock_path_of(&dir);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)?;
        lock.lock()?;
        match fs::create_dir(&dir) {
            Ok(()) => {
                return Ok(Partial {
                    dir,
                    lock_path,
                    _lock: lock,
                    published: false,
                })
            }
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(err),
        }
    }
}

fn read_manifest(dir: &Path, key: &str) -> Result<Manifest, String> {
    let bytes = fs::read(dir.join(MANIFEST)).map_err(|e| format!("manifest: {e}"))?;
    let manifest: Manifest =
        serde_json::from_slice(&bytes).map_err(|e| format!("manifest is corrupt: {e}"))?;
    if manifest.key != key {
        return Err(format!("manifest names key {}", manifest.key));
    }
    if manifest.schema != CACHE_SCHEMA_VERSION || manifest.recipe != RECIPE_VERSION {
        return Err("manifest is from another schema or recipe version".into());
    }
    Ok(manifest)
}

/// Checks an entry against its manifest: every frame present at its size,
/// and with `deep`, with its digest. Extra frames are an error too.
pub fn check_entry(dir: &Path, key: &str, deep: bool) -> Result<Manifest, String> {
    let manifest = read_manifest(dir, key)?;
    if manifest.frames.is_empty() {
        return Err("entry has no frames".into());
    }
    for (i, record) in manifest.frames.iter().enumerate() {
        let path = dir.join(frame_name(i as u64 + 1, manifest.format));
        let meta = fs::metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if meta.len() != record.size {
            return Err(format!(
                "{} has {} bytes, the manifest says {}",
                path.display(),
                meta.len(),
                record.size
            ));
        }
        if deep {
            let (digest, _) = hash_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            if digest != record.blake3 {
                return Err(format!("{} does not match its digest", path.display()));
            }
        }
    }
    let extra = manifest.frames.len() as u64 + 1;
    if dir.join(frame_name(extra, manifest.format)).exists() {
        return Err(format!(
            "entry has more frames than its manifest ({})",
            extra - 1
        ));
    }
    Ok(manifest)
}

/// Hashes a file with blake3; returns the hex digest and the first and last
/// bytes (for format checks).
pub fn hash_file(path: &Path) -> io::Result<(String, Vec<u8>)> {
    let mut file = File::open(path)?;
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut head = Vec::new();
    let mut tail = Vec::new();
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if head.len() < 8 {
            head.extend_from_slice(&buf[..n.min(8 - head.len())]);
        }
        tail.extend_from_slice(&buf[n.saturating_sub(12)..n]);
        if tail.len() > 12 {
            tail.drain(..tail.len() - 12);
        }
        hasher.update(&buf[..n]);
    }
    head.extend_from_slice(&tail);
    Ok((hasher.finalize().to_hex().to_string(), head))
}

/// Removes the partial directory of a writer that is gone. A SIGKILLed
/// writer's ffmpeg outlives it and may still be adding frames (by path), so
/// the directory is first renamed away: that ffmpeg's next frame fails and it
/// exits, instead of racing `remove_dir_all` (a frame created before the final
/// `rmdir` fails it, and the partial would linger). Returns whether the
/// partial is gone from its place: if not, the caller keeps the lock file so
/// the next sweep tries again. A renamed directory that still cannot be
/// removed has no lock file, so the age rule of the sweep takes it later.
fn remove_orphaned_partial(dir: &Path) -> bool {
    let mut doomed = dir.as_os_str().to_owned();
    doomed.push(format!(".swept.{}", std::process::id()));
    let doomed = PathBuf::from(doomed);
    let target = match fs::rename(dir, &doomed) {
        Ok(()) => doomed.as_path(),
        Err(err) if err.kind() == io::ErrorKind::NotFound => return true,
        Err(_) => dir,
    };
    // A frame whose creation began before the rename may still land: retry.
    for _ in 0..20 {
        match fs::remove_dir_all(target) {
            Ok(()) => break,
            Err(err) if err.kind() == io::ErrorKind::NotFound => break,
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    !dir.exists()
}

fn older_than_an_hour(path: &Path) -> bool {
    fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age > Duration::from_secs(3600))
}

fn dir_size(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gc_evicts_old_downloads_past_the_cap_and_keeps_young_ones() {
        let root = tempfile::tempdir().unwrap();
        let cache = Cache::open(root.path()).unwrap();
        let downloads = root.path().join("downloads");
        fs::create_dir_all(downloads.join("partial")).unwrap();
        let old = downloads.join("aaaa.mp4");
        let young = downloads.join("bbbb.mp4");
        let record = downloads.join("url-1234.json");
        fs::write(&old, vec![0u8; 1000]).unwrap();
        fs::write(&young, vec![0u8; 1000]).unwrap();
        fs::write(&record, b"{}").unwrap();
        let two_hours_ago = SystemTime::now() - Duration::from_secs(7200);
        File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
        let report = cache
            .gc(
                0,
                Duration::from_secs(3600),
                &BTreeSet::new(),
                Duration::ZERO,
            )
            .unwrap()
            .expect("nobody holds the cache");
        assert_eq!(report.bytes_before, 2000);
        assert_eq!((report.evicted, report.bytes_after), (1, 1000));
        assert!(!old.exists(), "least recently used, past the cap");
        assert!(young.exists(), "younger than the guard age");
        assert!(record.exists() && downloads.join("partial").is_dir());
    }
}
