//! The files of an element directory ([`frames`]): names, bytes and inodes,
//! and the source frame each tick must show ([`expected`], from the oracle).

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use serde_json::Value;

use crate::oracle::{expected_frames, ElementSpec, SourceTimes};

/// A file in an element directory.
#[derive(Debug, Clone)]
pub struct Frame {
    /// `frame_000001.png`, …
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Its inode: files that are links of one stored frame share it.
    pub ino: u64,
}

/// Every file in `dir`, sorted by name.
pub fn frames(dir: &Path) -> Vec<Frame> {
    let mut frames: Vec<Frame> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| {
            let entry = entry.expect("a directory entry");
            Frame {
                name: entry.file_name().to_string_lossy().into_owned(),
                bytes: std::fs::read(entry.path()).expect("a frame reads"),
                ino: entry.metadata().expect("metadata").ino(),
            }
        })
        .collect();
    frames.sort_by(|a, b| a.name.cmp(&b.name));
    frames
}

/// The inodes of `frames`, in order.
pub fn inodes(frames: &[Frame]) -> Vec<u64> {
    frames.iter().map(|f| f.ino).collect()
}

/// Checks that `frames` are exactly `frame_000001.<ext>` …
/// `frame_<count>.<ext>`, none empty.
pub fn assert_numbered(frames: &[Frame], count: u64, ext: &str, what: &str) {
    let names: Vec<&str> = frames.iter().map(|f| f.name.as_str()).collect();
    let expected: Vec<String> = (1..=count).map(|n| format!("frame_{n:06}.{ext}")).collect();
    assert_eq!(names, expected, "{what}: frame files");
    assert!(
        frames.iter().all(|f| !f.bytes.is_empty()),
        "{what}: an empty frame"
    );
}

/// Checks that two lists of frames have the same names and bytes.
pub fn assert_same_bytes(a: &[Frame], b: &[Frame], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: frame counts differ");
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x.name, y.name, "{what}: names differ");
        assert!(x.bytes == y.bytes, "{what}: {} differs", x.name);
    }
}

/// The oracle's view of one of [`el`]'s elements (fps an integer or a
/// `"n/d"` text; times in seconds).
pub fn spec(element: &Value) -> ElementSpec {
    let us = |field: &str| -> Option<i64> {
        element[field]
            .as_f64()
            .map(|s| (s * 1_000_000.0).round() as i64)
    };
    let ratio = |field: &str| -> Option<(u32, u32)> {
        match &element[field] {
            Value::Number(n) => Some((n.as_u64().expect("an integer") as u32, 1)),
            Value::String(s) => {
                let (n, d) = s.split_once('/').unwrap_or((s, "1"));
                Some((n.parse().expect("a ratio"), d.parse().expect("a ratio")))
            }
            _ => None,
        }
    };
    ElementSpec {
        media_start_us: us("mediaStart").unwrap_or(0),
        duration_us: us("duration").expect("a duration"),
        fps: ratio("fps").expect("an fps"),
        rate: ratio("playbackRate").unwrap_or((1, 1)),
        looping: element["loop"].as_bool().unwrap_or(false),
        media_duration_us: us("mediaDuration"),
    }
}

/// The source frame each tick of `element` shows, by the oracle.
pub fn expected(times: &SourceTimes, element: &Value) -> Vec<usize> {
    expected_frames(times, &spec(element))
}

/// Checks that the directories `out/<id>` of elements on one source and
/// recipe hold, tick by tick, the one stored file of the source frame the
/// oracle names (`shown`, per element): a frame's ticks are one inode in
/// every directory, and different frames are different inodes. Returns
/// source frame → inode.
pub fn assert_frame_inodes(out: &Path, shown: &[(&str, Vec<usize>)]) -> BTreeMap<usize, u64> {
    let mut inode_of: BTreeMap<usize, u64> = BTreeMap::new();
    for (id, expected) in shown {
        let files = frames(&out.join(id));
        assert_eq!(files.len(), expected.len(), "{id}: one file per tick");
        for (tick, (file, &frame)) in files.iter().zip(expected).enumerate() {
            let ino = *inode_of.entry(frame).or_insert(file.ino);
            assert_eq!(
                file.ino, ino,
                "{id}: tick {tick} shows source frame {frame}, which is another file elsewhere"
            );
        }
    }
    let mut frame_of: BTreeMap<u64, usize> = BTreeMap::new();
    for (&frame, &ino) in &inode_of {
        if let Some(other) = frame_of.insert(ino, frame) {
            panic!("source frames {other} and {frame} are one file");
        }
    }
    inode_of
}
