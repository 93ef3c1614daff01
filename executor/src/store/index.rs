//! Index files: per recipe key, which blob holds the frame at each time.
//!
//! One text line per record, `<pts> <digest> <size> <ext> <check>`, where
//! `check` is the first 16 hex digits of the blake3 of the rest of the line:
//! a line cut short by a crash, or damaged, fails its check and is ignored.
//! Appends take an exclusive lock on the file and are synced before the
//! lock is released; readers take a shared lock.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::path::PathBuf;

use super::{BlobRef, Store};

/// One frame of an index: its time and its blob.
pub type Record = (i64, BlobRef);

impl Store {
    /// The index file of a recipe key.
    pub fn index_path(&self, recipe_key: &str) -> PathBuf {
        self.versioned()
            .join("index")
            .join(&recipe_key[..2.min(recipe_key.len())])
            .join(format!("{recipe_key}.idx"))
    }

    /// The records of a recipe key, by frame time (later records win).
    /// Marks the index used now (gc evicts least recently used first).
    pub fn read_index(&self, recipe_key: &str) -> io::Result<BTreeMap<i64, BlobRef>> {
        let path = self.index_path(recipe_key);
        let mut file = match fs::File::open(&path) {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(err) => return Err(err),
        };
        file.lock_shared()?;
        let mut text = String::new();
        // Invalid UTF-8 (a damaged file) reads as nothing trusted.
        let _ = file.read_to_string(&mut text);
        drop(file);
        let _ = fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(std::time::SystemTime::now()));
        Ok(text.lines().filter_map(parse_line).collect())
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
        let mut text = String::with_capacity(records.len() * 110);
        for (pts, blob) in records {
            text.push_str(&line(*pts, blob));
        }
        let mut file = OpenOptions::new().create(true).append(true).open(&path)?;
        file.lock()?;
        file.write_all(text.as_bytes())?;
        file.sync_data()
    }
}

fn body(pts: i64, blob: &BlobRef) -> String {
    format!("{pts} {} {} {}", blob.digest, blob.size, blob.ext)
}

fn check(body: &str) -> String {
    blake3::hash(body.as_bytes()).to_hex()[..16].to_string()
}

fn line(pts: i64, blob: &BlobRef) -> String {
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
    let valid = digest.len() == 64
        && digest
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        && matches!(ext, "png" | "jpg")
        && parts.next().is_none();
    valid.then(|| {
        (
            pts,
            BlobRef {
                digest: digest.to_string(),
                size,
                ext: ext.to_string(),
            },
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_damaged_lines_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let blob = store.put_blob(b"frame bytes", "png").unwrap();
        store
            .append_index("ab12", &[(0, blob.clone()), (512, blob.clone())])
            .unwrap();
        let index = store.read_index("ab12").unwrap();
        assert_eq!(index.len(), 2);
        assert!(store.check_blob(&index[&512]));
        // A torn last line and a flipped digit are not trusted.
        let path = store.index_path("ab12");
        let text = fs::read_to_string(&path).unwrap();
        let torn = &text[..text.len() - 10];
        fs::write(&path, torn).unwrap();
        assert_eq!(store.read_index("ab12").unwrap().len(), 1);
        let flipped = text.replacen("0 ", "1 ", 1);
        fs::write(&path, flipped).unwrap();
        assert_eq!(
            store.read_index("ab12").unwrap().keys().collect::<Vec<_>>(),
            vec![&512]
        );
        assert!(store.read_index("none").unwrap().is_empty());
    }
}
