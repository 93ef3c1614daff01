//! The frame store as the fault tests see it from outside: its files
//! (`v<schema>/blobs/<xx>/<digest>.<ext>`, `v<schema>/index/<xx>/<recipe
//! key>.idx`, `tmp/`, `probe/`), its index records as written, and
//! `framex cache verify`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::framex_command;

/// One index line as written: `<pts> <digest> <size> <ext> <check>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Frame time.
    pub pts: i64,
    /// The blob's digest.
    pub digest: String,
    /// The blob's size.
    pub size: u64,
    /// The blob's extension.
    pub ext: String,
}

/// A store root.
#[derive(Clone, Debug)]
pub struct StoreDir {
    /// The root (`--cache-dir`).
    pub root: PathBuf,
}

impl StoreDir {
    /// The store at `root`.
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
        }
    }

    /// `<root>/v<schema>`.
    pub fn versioned(&self) -> PathBuf {
        self.root
            .join(format!("v{}", framex_core::CACHE_SCHEMA_VERSION))
    }

    /// The index file of a recipe key.
    pub fn index_path(&self, key: &str) -> PathBuf {
        self.versioned()
            .join("index")
            .join(&key[..2])
            .join(format!("{key}.idx"))
    }

    /// Every index file, sorted.
    pub fn index_files(&self) -> Vec<PathBuf> {
        files_two_deep(&self.versioned().join("index"))
    }

    /// Every blob file, sorted.
    pub fn blob_files(&self) -> Vec<PathBuf> {
        files_two_deep(&self.versioned().join("blobs"))
    }

    /// Where the blob of a record lives.
    pub fn blob_path(&self, record: &Record) -> PathBuf {
        self.versioned()
            .join("blobs")
            .join(&record.digest[..2])
            .join(format!("{}.{}", record.digest, record.ext))
    }

    /// The whole (newline-ended) lines of a recipe's index that parse as
    /// records, in file order. The check field is not verified: a test that
    /// damages a line reads what it damaged.
    pub fn records(&self, key: &str) -> Vec<Record> {
        let text = std::fs::read_to_string(self.index_path(key)).unwrap_or_default();
        whole_lines(&text).filter_map(parse_record).collect()
    }

    /// Whole lines over every index file: the records published so far (a
    /// line being appended, not yet ended, does not count).
    pub fn published_lines(&self) -> usize {
        self.index_files()
            .iter()
            .map(|p| {
                let text = std::fs::read(p).unwrap_or_default();
                text.iter().filter(|&&b| b == b'\n').count()
            })
            .sum()
    }

    /// Names under `tmp/` (blobs being written, or left by a writer that
    /// died).
    pub fn tmp_leftovers(&self) -> Vec<String> {
        names(&self.root.join("tmp"), |_| true)
    }

    /// Temporary files in `probe/` (remembered probes are written to a
    /// temporary name and renamed).
    pub fn probe_leftovers(&self) -> Vec<String> {
        names(&self.root.join("probe"), |n| n.contains(".tmp"))
    }

    /// Nothing half-done is left: `cache verify` (deep) is clean, and
    /// neither `tmp/` nor `probe/` holds a temporary file.
    pub fn assert_clean(&self, what: &str) -> Verify {
        let v = assert_verifies(&self.root, what);
        let tmp = self.tmp_leftovers();
        assert!(tmp.is_empty(), "{what}: left in tmp/: {tmp:?}");
        let probe = self.probe_leftovers();
        assert!(probe.is_empty(), "{what}: left in probe/: {probe:?}");
        v
    }
}

fn whole_lines(text: &str) -> impl Iterator<Item = &str> {
    text.split_inclusive('\n')
        .filter_map(|l| l.strip_suffix('\n'))
}

fn parse_record(line: &str) -> Option<Record> {
    let mut parts = line.split(' ');
    let record = Record {
        pts: parts.next()?.parse().ok()?,
        digest: parts.next()?.to_string(),
        size: parts.next()?.parse().ok()?,
        ext: parts.next()?.to_string(),
    };
    (record.digest.len() == 64).then_some(record)
}

fn files_two_deep(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            for inner in std::fs::read_dir(&path).into_iter().flatten().flatten() {
                out.push(inner.path());
            }
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn names(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| keep(n))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// What `framex cache verify` said.
#[derive(Debug)]
pub struct Verify {
    /// Its exit code.
    pub code: Option<i32>,
    /// Its stdout: a `bad: …` line per problem, then the summary.
    pub stdout: String,
    /// Records checked.
    pub records: u64,
    /// Problems found.
    pub bad: u64,
}

impl Verify {
    /// The `bad: …` lines.
    pub fn problems(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter_map(|l| l.strip_prefix("bad: "))
            .collect()
    }
}

/// Runs `framex cache verify` (deep, unless `fast`: sizes only).
pub fn verify(root: &Path, fast: bool) -> Verify {
    let mut command: Command = framex_command();
    command
        .args(["--quiet", "cache", "verify", "--cache-dir"])
        .arg(root);
    if fast {
        command.arg("--fast");
    }
    let output = command.output().expect("framex runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let last = stdout.lines().last().unwrap_or_default();
    // "<n> records checked, <m> bad"
    let numbers: Vec<u64> = last
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    assert!(
        numbers.len() == 2 && last.ends_with(" bad"),
        "verify's summary line: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Verify {
        code: output.status.code(),
        records: numbers[0],
        bad: numbers[1],
        stdout,
    }
}

/// A store that `verify` finds fully good.
pub fn assert_verifies(root: &Path, what: &str) -> Verify {
    let v = verify(root, false);
    assert!(
        v.code == Some(0) && v.bad == 0,
        "{what}: verify: {:?}\n{}",
        v.code,
        v.stdout
    );
    v
}
