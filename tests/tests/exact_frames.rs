//! The speed paths give exactly the frames of the plain recipe: a unit split
//! into parallel segments, and a unit whose repeated source frames are encoded
//! once and hard-linked (upsampling, VFR gaps). Real ffmpeg, clips made here.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use framex_tests::{cfr_clip, framex_bin, vfr_clip};

/// Writes a one-element composition next to a link to `clip`; returns its path.
fn composition(dir: &Path, clip: &Path, start: f64, duration: f64, fps: &str) -> PathBuf {
    let src = dir.join(clip.file_name().unwrap());
    if !src.exists() {
        std::os::unix::fs::symlink(clip, &src).unwrap();
    }
    let path = dir.join("composition.json");
    let text = format!(
        r#"{{"elements":[{{"id":"e","src":{:?},"mediaStart":{start},"duration":{duration},"fps":"{fps}","format":"png"}}]}}"#,
        src.file_name().unwrap().to_str().unwrap()
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `framex extract --no-cache` with extra flags; returns the element's frames.
fn extract(composition: &Path, out: &Path, flags: &[&str]) -> Vec<(String, Vec<u8>, u64)> {
    let output = Command::new(framex_bin())
        .args(["--quiet", "extract"])
        .arg(composition)
        .arg("--out")
        .arg(out)
        .args(["--no-cache", "--json"])
        .args(flags)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "framex failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut frames: Vec<(String, Vec<u8>, u64)> = std::fs::read_dir(out.join("e"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            (
                name,
                std::fs::read(e.path()).unwrap(),
                e.metadata().unwrap().ino(),
            )
        })
        .collect();
    frames.sort();
    frames
}

fn assert_same(a: &[(String, Vec<u8>, u64)], b: &[(String, Vec<u8>, u64)], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: frame counts differ");
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x.0, y.0, "{what}: names differ");
        assert!(x.1 == y.1, "{what}: {} differs", x.0);
    }
}

fn distinct_inodes(frames: &[(String, Vec<u8>, u64)]) -> usize {
    frames
        .iter()
        .map(|f| f.2)
        .collect::<std::collections::BTreeSet<_>>()
        .len()
}

#[test]
fn parallel_segments_equal_one_pass_on_cfr_and_vfr() {
    for clip in [cfr_clip(), vfr_clip()] {
        let dir = tempfile::tempdir().unwrap();
        let c = composition(dir.path(), &clip, 0.5, 2.0, "24");
        let one = extract(&c, &dir.path().join("one"), &["--segments", "1"]);
        let split = extract(
            &c,
            &dir.path().join("split"),
            &["--segments", "3", "--jobs", "3"],
        );
        assert_eq!(one.len(), 48);
        assert_same(&one, &split, &format!("segments of {}", clip.display()));
    }
}

#[test]
fn upsampling_encodes_each_source_frame_once_with_identical_bytes() {
    let dir = tempfile::tempdir().unwrap();
    // 30 fps source at 60 fps: every source frame is shown twice.
    let c = composition(dir.path(), &cfr_clip(), 0.0, 2.0, "60");
    let reused = extract(&c, &dir.path().join("reused"), &[]);
    let plain = extract(&c, &dir.path().join("plain"), &["--no-frame-reuse"]);
    assert_eq!(reused.len(), 120);
    assert_same(&reused, &plain, "30 fps at 60 fps");
    assert_eq!(
        distinct_inodes(&reused),
        60,
        "each source frame encoded once"
    );
    assert_eq!(distinct_inodes(&plain), 120);
}

#[test]
fn a_vfr_gap_is_held_with_linked_frames_and_identical_bytes() {
    let dir = tempfile::tempdir().unwrap();
    // Frames 20-40 are missing from the VFR clip: the frame before the gap
    // stays on screen, so at 30 fps many output frames repeat it.
    let c = composition(dir.path(), &vfr_clip(), 0.0, 2.0, "30");
    let reused = extract(&c, &dir.path().join("reused"), &[]);
    let plain = extract(&c, &dir.path().join("plain"), &["--no-frame-reuse"]);
    assert_eq!(reused.len(), 60);
    assert_same(&reused, &plain, "VFR gap");
    assert!(
        distinct_inodes(&reused) < 50,
        "the gap's repeats are links ({} distinct files)",
        distinct_inodes(&reused)
    );
}
