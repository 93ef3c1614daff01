//! Real filesystems at their limits (issue 7 item 7, issue 14 items 3 and
//! 4), on small ext4 images (`framex_tests::host::SmallDisk`: loop-mounted
//! as root, `fuse2fs` otherwise; under `CI=true` a test that cannot mount
//! one fails unless `FRAMEX_ALLOW_SKIP` names it):
//!
//! - a full disk: the elements whose frames do not fit fail with a clear
//!   error, the run exits 1 (2 when not even its report fits), and nothing
//!   is half-published: the store verifies, `tmp/` and `probe/` hold no
//!   temporary file, the output holds no half-built directory;
//! - ext4's limit of 65 000 links per file: a held frame and a looped frame
//!   shown 72 000 times each are linked from fresh copies once a file's
//!   links run out (`freshCopies`), and every one of the 144 000 files is
//!   the right frame.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use framex_tests::clips::number_filter;
use framex_tests::faults::{
    assert_frames, assert_out_holds, composition, describe, extract, extract_command, metric,
    names_in, read_report, reference, Frames, IDS,
};
use framex_tests::host::{skip, SmallDisk};
use framex_tests::make_clip;
use framex_tests::store::StoreDir;

/// The skip rule's name for these tests.
const SKIP_NAME: &str = "full_disk";

/// A 2 MiB ext4 disk (1 KiB blocks, no journal) at `dir`, or `None` after
/// the skip rule.
fn tiny_disk(dir: &Path, bytes: u64) -> Option<SmallDisk> {
    let args = ["-b", "1024", "-N", "256", "-O", "^has_journal"];
    match SmallDisk::mount(dir, bytes, &args) {
        Ok(disk) => Some(disk),
        Err(why) => {
            skip(SKIP_NAME, &why);
            None
        }
    }
}

/// Every element of the report either succeeded with the reference's
/// frames or failed saying the disk is full, with no directory; returns the
/// ids that succeeded.
fn check_elements(out: &Path, report: &serde_json::Value, reference: &Frames) -> Vec<&'static str> {
    let mut ok = Vec::new();
    for id in IDS {
        let element = &report["elements"][id];
        if element["status"] == "ok" {
            assert_frames(out, &[id], reference, "an element that fit");
            ok.push(id);
        } else {
            let error = element["error"].as_str().expect("an error message");
            assert!(
                error.contains("No space left on device"),
                "{id}: a clear error: {error}"
            );
            assert_eq!(element["errorKind"], "io", "{id}");
            assert!(
                !out.join(id).exists(),
                "{id}: no directory for a failed element"
            );
        }
    }
    ok
}

/// The store on a 2 MiB disk, the output elsewhere: the frames (~4 MB) do
/// not fit, every element they do not fit for fails, the report says so.
#[test]
fn a_full_store_disk_fails_the_elements_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let composition = composition(dir.path());
    let reference = reference(&composition, &dir.path().join("reference"));
    let Some(disk) = tiny_disk(&dir.path().join("disk"), 2 << 20) else {
        return;
    };
    let (cache, out) = (disk.dir.join("cache"), dir.path().join("out"));
    let output = extract(&composition, &out, Some(&cache));
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let report = read_report(&out).expect("the report is written");
    let ok = check_elements(&out, &report, &reference);
    assert!(ok.len() < IDS.len(), "the frames cannot all fit: {report}");
    assert_out_holds(&out, &ok, "full store disk");
    let store = StoreDir::new(&cache);
    // Frames stored before the disk filled are recorded when their records
    // fit too (else their blobs are unreferenced, and gc removes them).
    let verified = store.assert_clean("full store disk");
    assert!(verified.records <= metric(&report, "framesExtracted"));
}

/// Store and output on one 2 MiB disk: as above, but the report may not fit
/// either; then the run exits 2 saying so, and leaves no report.
#[test]
fn one_full_disk_for_store_and_output_publishes_nothing_half_done() {
    let dir = tempfile::tempdir().expect("temp dir");
    let composition = composition(dir.path());
    let reference = reference(&composition, &dir.path().join("reference"));
    let Some(disk) = tiny_disk(&dir.path().join("disk"), 2 << 20) else {
        return;
    };
    let (cache, out) = (disk.dir.join("cache"), disk.dir.join("out"));
    let output = extract(&composition, &out, Some(&cache));
    let stderr = String::from_utf8_lossy(&output.stderr);
    match output.status.code() {
        Some(1) => {
            let report = read_report(&out).expect("exit 1 comes with a report");
            let ok = check_elements(&out, &report, &reference);
            assert!(ok.len() < IDS.len(), "the frames cannot all fit: {report}");
            assert_out_holds(&out, &ok, "one full disk");
        }
        Some(2) => {
            assert!(
                stderr.contains("cannot write report") && stderr.contains("No space left"),
                "{}",
                describe(&output)
            );
            assert!(
                read_report(&out).is_none(),
                "no report, not even an old one"
            );
            // Element directories that were filled are whole and right.
            let ids: Vec<&str> = IDS
                .into_iter()
                .filter(|id| names_in(&out).iter().any(|n| n == id))
                .collect();
            assert_frames(&out, &ids, &reference, "one full disk, exit 2");
            assert_eq!(names_in(&out), ids, "nothing but whole element directories");
        }
        _ => panic!("exit 1 or 2: {}", describe(&output)),
    }
    StoreDir::new(&cache).assert_clean("one full disk");
}

/// Writes zeros to `path` until the disk is full, to the last byte.
fn fill(path: &Path) {
    use std::io::Write;
    let mut file = std::fs::File::create(path).expect("create filler");
    for size in [64 * 1024, 1024, 1] {
        let block = vec![0u8; size];
        loop {
            match file.write(&block) {
                Ok(n) if n == size => {}
                Ok(_) => break,
                Err(e) if e.raw_os_error() == Some(28) => break,
                Err(e) => panic!("filling {}: {e}", path.display()),
            }
        }
    }
    file.sync_all().expect("sync filler");
}

/// A disk with no byte free: not even a directory can be made. The run
/// exits 2 with the reason and leaves nothing.
#[test]
fn a_disk_with_no_byte_free_exits_2_and_leaves_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let composition = composition(dir.path());
    let Some(disk) = tiny_disk(&dir.path().join("disk"), 1 << 20) else {
        return;
    };
    fill(&disk.dir.join("filler"));
    let (cache, out) = (disk.dir.join("cache"), disk.dir.join("out"));
    let output = extract(&composition, &out, Some(&cache));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    assert!(
        stderr.starts_with("framex: ") && stderr.contains("No space left on device"),
        "a clear error: {stderr}"
    );
    assert!(read_report(&out).is_none(), "no report");
    let left: Vec<String> = names_in(&disk.dir)
        .into_iter()
        .filter(|n| n != "filler" && n != "lost+found")
        .collect();
    // What framex made before it failed is empty directories at most.
    for name in &left {
        let path = disk.dir.join(name);
        let files = walk_files(&path);
        assert!(files.is_empty(), "{name} holds {files:?}");
    }
}

fn walk_files(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk_files(&path));
        } else if path.file_name().is_some_and(|n| n != ".lock") {
            files.push(path.display().to_string());
        }
    }
    files
}

/// 1 s of 64×48 at 30 fps, every frame numbered in its pixels
/// (`clips::number_filter`): 30 distinct frames.
fn one_second_clip() -> std::path::PathBuf {
    let vf = format!("format=yuv420p,{}", number_filter(0, false));
    make_clip(
        "faults-1s-64x48-30-numbered.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=64x48:rate=30",
            "-t",
            "1",
            "-vf",
            &vf,
            "-c:v",
            "libx264",
            "-qp",
            "0",
        ],
    )
}

/// Two elements on a 1 s clip: `held` plays it and holds its last frame for
/// the rest of 2400 s; `looped` loops a one-frame pass (`mediaDuration` of
/// 1/30 s) for 2400 s. 72 000 files each.
fn long_slots(dir: &Path, clip: &Path, duration: f64) -> std::path::PathBuf {
    let src = clip.to_str().expect("UTF-8 path");
    let elements = serde_json::json!([
        {"id": "held", "src": src, "mediaStart": 0, "duration": duration, "fps": 30, "format": "png"},
        {"id": "looped", "src": src, "mediaStart": 0, "duration": duration, "fps": 30, "format": "png",
         "loop": true, "mediaDuration": 0.033},
    ]);
    let path = dir.join(format!("long-{duration}.json"));
    std::fs::write(
        &path,
        serde_json::json!({ "elements": elements }).to_string(),
    )
    .unwrap();
    path
}

#[test]
fn a_frame_shown_72000_times_is_linked_from_fresh_copies_past_the_link_limit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clip = one_second_clip();
    // The reference: 1.2 s, on the ordinary filesystem: frames 1–30 are
    // source frames 0–29, the rest hold frame 29.
    let short = long_slots(dir.path(), &clip, 1.2);
    let ref_out = dir.path().join("reference");
    let output = extract_command(&short, &ref_out, None).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let source_frame =
        |k: usize| std::fs::read(ref_out.join("held").join(format!("frame_{:06}.png", k + 1)));
    let frames: Vec<Vec<u8>> = (0..30).map(|k| source_frame(k).unwrap()).collect();
    let mut distinct = frames.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 30, "30 distinct frames");
    assert_eq!(
        source_frame(35).unwrap(),
        frames[29],
        "the reference holds frame 29"
    );

    let Some(disk) = SmallDisk::mount_loop(&dir.path().join("ext4"), 256 << 20, &[])
        .map_err(|why| skip("link_limit", &why))
        .ok()
    else {
        return;
    };
    let long = long_slots(dir.path(), &clip, 2400.0);
    let (cache, out) = (disk.dir.join("cache"), disk.dir.join("out"));
    let output = extract_command(&long, &out, Some(&cache)).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let report = read_report(&out).expect("a report");
    // ext4 allows 65 000 links per file: frame 29 (held) and frame 0
    // (looped, and the held element's first) each run out once.
    assert_eq!(metric(&report, "freshCopies"), 2, "{}", report["metrics"]);
    assert_eq!(metric(&report, "framesLinked"), 144_000);

    // Every file is the right frame: files of one inode have one content,
    // checked once per inode.
    let mut inodes: BTreeMap<u64, (usize, u64, std::path::PathBuf)> = BTreeMap::new();
    let held: fn(usize) -> usize = |n| n.min(29);
    let looped: fn(usize) -> usize = |_| 0;
    for (id, shown) in [("held", held), ("looped", looped)] {
        let names = names_in(&out.join(id));
        assert_eq!(names.len(), 72_000, "{id}");
        for (n, name) in names.iter().enumerate() {
            assert_eq!(*name, format!("frame_{:06}.png", n + 1), "{id}");
            let path = out.join(id).join(name);
            let meta = std::fs::metadata(&path).unwrap();
            let (frame, _, _) = inodes
                .entry(meta.ino())
                .or_insert((shown(n), meta.nlink(), path));
            assert_eq!(
                *frame,
                shown(n),
                "{id}/{name} shares an inode with another frame"
            );
        }
    }
    for (ino, (frame, nlink, path)) in &inodes {
        assert!(*nlink <= 65_000, "inode {ino}: {nlink} links");
        assert!(
            std::fs::read(path).unwrap() == frames[*frame],
            "{} is not source frame {frame}",
            path.display()
        );
    }
    // 30 blobs, and one fresh copy each of frames 0 and 29.
    assert_eq!(inodes.len(), 32);
    StoreDir::new(&cache).assert_clean("after the long slots");
}
