//! Index files: per recipe key, which blob holds the frame at each time.
//!
//! One text line per record, `<pts> <digest> <size> <ext> <check>`, where
//! `check` is the first 16 hex digits of the blake3 of the rest of the line:
//! a line cut short by a crash, or damaged, fails its check and is ignored
//! (only that line: the others are read whatever bytes it holds). Appends
//! take an exclusive lock on the file and are synced before the lock is
//! released; an append that fails part way (a full disk) is taken back, and
//! one that follows a torn line starts on a line of its own. Readers take a
//! shared lock. A run that finds damaged lines rewrites the file without
//! them ([`Store::drop_damaged_lines`]).

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::PathBuf;

use super::{BlobRef, Store};

/// One frame of an index: its time and its blob.
pub type Record = (i64, BlobRef);

/// An index file as read.
#[derive(Clone, Debug, Default)]
pub struct IndexRead {
    /// The records, by frame time (later records win).
    pub records: BTreeMap<i64, BlobRef>,
    /// Lines that are not whole, well-formed records (torn or garbled).
    pub damaged_lines: u64,
}

impl Store {
    /// The index file of a recipe key.
    pub fn index_path(&self, recipe_key: &str) -> PathBuf {
        self.versioned()
            .join("index")
            .join(&recipe_key[..2.min(recipe_key.len())])
            .join(format!("{recipe_key}.idx"))
    }

    /// The records of a recipe key. Marks the index used now (gc evicts
    /// least recently used first).
    pub fn read_index(&self, recipe_key: &str) -> io::Result<IndexRead> {
        let path = self.index_path(recipe_key);
        let mut file = match fs::File::open(&path) {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(IndexRead::default()),
            Err(err) => return Err(err),
        };
        file.lock_shared()?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        drop(file);
        let _ = fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(std::time::SystemTime::now()));
        let (records, damaged) = parse_index(&bytes);
        Ok(IndexRead {
            records: records.into_iter().collect(),
            damaged_lines: damaged.len() as u64,
        })
    }

    /// Appends records to a recipe key's index, synced.
    pub fn append_index(&self, recipe_key: &str, records: &[Record]) -> io::Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let path = self.index_path(recipe_key);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let mut text = String::with_capacity(records.len() * 110 + 1);
        for (pts, blob) in records {
            text.push_str(&line(*pts, blob));
        }
        let open = || {
            OpenOptions::new()
                .create(true)
                .read(true)
                .append(true)
                .open(&path)
        };
        let mut file = open()?;
        file.lock()?;
        // A rewrite renamed a new file into place while this one waited for
        // the lock: append to that one.
        while !same_file(&file, &path) {
            file = open()?;
            file.lock()?;
        }
        let len = file.metadata()?.len();
        // A line torn by a crash must not swallow the first record after it.
        let mut last = [b'\n'];
        if len > 0 {
            file.read_exact_at(&mut last, len - 1)?;
        }
        if last[0] != b'\n' {
            text.insert(0, '\n');
        }
        let written = file
            .write_all(text.as_bytes())
            .and_then(|()| file.sync_data());
        if written.is_err() {
            // Part of the text may be in (a full disk): take it back, so
            // that no torn line is left.
            let _ = file.set_len(len).and_then(|()| file.sync_data());
        }
        written
    }

    /// Rewrites a recipe key's index without its damaged lines (torn or
    /// garbled), under its exclusive lock; appenders waiting for the lock
    /// then append to the new file. Returns the lines dropped.
    pub fn drop_damaged_lines(&self, recipe_key: &str) -> io::Result<u64> {
        let path = self.index_path(recipe_key);
        let mut file = match fs::File::open(&path) {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(err) => return Err(err),
        };
        file.lock()?;
        if !same_file(&file, &path) {
            // Another run rewrote it meanwhile.
            return Ok(0);
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let (records, damaged) = parse_index(&bytes);
        if damaged.is_empty() {
            return Ok(0);
        }
        let text: String = records.iter().map(|(pts, blob)| line(*pts, blob)).collect();
        let tmp = self.temp_path();
        let written = (|| {
            let mut new = fs::File::create(&tmp)?;
            new.write_all(text.as_bytes())?;
            new.sync_data()?;
            fs::rename(&tmp, &path)
        })();
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written.map(|()| damaged.len() as u64)
    }
}

/// Whether `file` is still the file at `path`.
fn same_file(file: &fs::File, path: &std::path::Path) -> bool {
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// The records of an index file's bytes, in file order, and the 1-based
/// numbers of its damaged lines (a last line without its newline is torn).
pub(super) fn parse_index(bytes: &[u8]) -> (Vec<Record>, Vec<usize>) {
    let (mut records, mut damaged) = (Vec::new(), Vec::new());
    for (n, raw) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
        let record = raw
            .strip_suffix(b"\n")
            .and_then(|l| std::str::from_utf8(l).ok())
            .and_then(parse_line);
        match record {
            Some(record) => records.push(record),
            None => damaged.push(n + 1),
        }
    }
    (records, damaged)
}

fn body(pts: i64, blob: &BlobRef) -> String {
    format!("{pts} {} {} {}", blob.hex(), blob.size, blob.ext)
}

fn check(body: &str) -> String {
    blake3::hash(body.as_bytes()).to_hex()[..16].to_string()
}

pub(super) fn line(pts: i64, blob: &BlobRef) -> String {
    let body = body(pts, blob);
    let check = check(&body);
    format!("{body} {check}\n")
}

/// A record, if the line is whole and its check matches.
pub(super) fn parse_line(line: &str) -> Option<Record> {
    let (body, sum) = line.rsplit_once(' ')?;
    if check(body) != sum {
        return None;
    }
    let mut parts = body.split(' ');
    let pts = parts.next()?.parse().ok()?;
    let digest = parts.next()?;
    let size = parts.next()?.parse().ok()?;
    let ext = parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    Some((pts, BlobRef::parse(digest, size, ext)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts_of(store: &Store, key: &str) -> Vec<i64> {
        store
            .read_index(key)
            .unwrap()
            .records
            .keys()
            .copied()
            .collect()
    }

    #[test]
    fn records_round_trip_and_damaged_lines_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let blob = store.put_blob(b"frame bytes", "png").unwrap();
        store
            .append_index("ab12", &[(0, blob), (512, blob)])
            .unwrap();
        let index = store.read_index("ab12").unwrap().records;
        assert_eq!(index.len(), 2);
        assert!(store.check_blob(&index[&512]));
        // A torn last line and a flipped digit are not trusted.
        let path = store.index_path("ab12");
        let text = fs::read_to_string(&path).unwrap();
        let torn = &text[..text.len() - 10];
        fs::write(&path, torn).unwrap();
        assert_eq!(pts_of(&store, "ab12"), vec![0]);
        assert_eq!(store.read_index("ab12").unwrap().damaged_lines, 1);
        let flipped = text.replacen("0 ", "1 ", 1);
        fs::write(&path, flipped).unwrap();
        assert_eq!(pts_of(&store, "ab12"), vec![512]);
        assert!(store.read_index("none").unwrap().records.is_empty());
        // Bytes that are not UTF-8 cost only their own line.
        let mut bytes = text.clone().into_bytes();
        bytes[3] = 0xff;
        fs::write(&path, bytes).unwrap();
        assert_eq!(pts_of(&store, "ab12"), vec![512]);
    }

    #[test]
    fn an_append_after_a_torn_line_keeps_its_records_and_the_damage_can_be_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let blob = store.put_blob(b"frame bytes", "png").unwrap();
        store.append_index("cd34", &[(0, blob)]).unwrap();
        store.append_index("cd34", &[(1, blob)]).unwrap();
        let path = store.index_path("cd34");
        let len = fs::metadata(&path).unwrap().len();
        fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(len - 20)
            .unwrap();
        store.append_index("cd34", &[(2, blob), (3, blob)]).unwrap();
        let read = store.read_index("cd34").unwrap();
        assert_eq!(read.records.keys().copied().collect::<Vec<_>>(), [0, 2, 3]);
        assert_eq!(read.damaged_lines, 1);
        assert_eq!(store.drop_damaged_lines("cd34").unwrap(), 1);
        assert_eq!(store.drop_damaged_lines("cd34").unwrap(), 0);
        let read = store.read_index("cd34").unwrap();
        assert_eq!((read.records.len(), read.damaged_lines), (3, 0));
        store.append_index("cd34", &[(4, blob)]).unwrap();
        assert_eq!(pts_of(&store, "cd34"), [0, 2, 3, 4]);
    }
}
