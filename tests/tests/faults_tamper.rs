//! A tampered frame store (issue 7 item 6, on the content-addressed store):
//! a blob deleted, truncated, with a byte flipped, or holding another blob's
//! bytes; an index line cut short, garbled or deleted. `framex cache
//! verify` reports each; the next run checks every stored frame it uses
//! against its digest (`damagedFrames`), makes the lost or damaged frame
//! again and serves the right bytes; after it the store verifies clean and
//! a further run makes nothing. A damaged blob is never reused for a new
//! frame with the same bytes either.

use std::path::Path;

use framex_tests::faults::{
    assert_frames, composition, describe, extract_ok, metric, reference, IDS,
};
use framex_tests::store::{verify, Record, StoreDir};
use framex_tests::{element, h264_clip, write_composition};

/// What a tamper damages.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    /// The blob of the 11th record of a-full's index.
    Blob,
    /// An index line.
    Index,
}

/// A way to damage the store.
struct Tamper {
    name: &'static str,
    target: Target,
    /// Whether `verify` reports it as bad (exit 1); a deleted line only
    /// leaves a blob that no record names, which verify reports without
    /// failing (a crash leaves those too; gc removes them).
    bad: bool,
    /// Whether `verify --fast` (sizes only) fails; `None` where that
    /// depends on the bytes hit.
    fast_fails: Option<bool>,
    apply: fn(&StoreDir, &str),
}

/// The record a tamper aims at (source frame 10's, shown by a-full and
/// a-dup only), and the next frame's.
fn aimed(store: &StoreDir, key: &str) -> (Record, Record) {
    let mut records = store.records(key);
    records.sort_by_key(|r| r.pts);
    records.dedup_by_key(|r| r.pts);
    (records[10].clone(), records[11].clone())
}

/// Rewrites the index of `key`, changing each line of the aimed record
/// (there are two once a damaged copy of it has been made again).
fn edit_aimed_lines(store: &StoreDir, key: &str, change: fn(&mut Vec<u8>)) {
    let pts = aimed(store, key).0.pts;
    let path = store.index_path(key);
    let bytes = std::fs::read(&path).expect("read index");
    let mut out = Vec::new();
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let mut line = line.to_vec();
        if line.starts_with(format!("{pts} ").as_bytes()) {
            change(&mut line);
        }
        out.extend(line);
    }
    std::fs::write(&path, out).expect("write index");
}

fn flip_byte(path: &Path, at: usize) {
    let mut bytes = std::fs::read(path).expect("read");
    bytes[at] ^= 0x01;
    // In place: the same inode, the same size.
    std::fs::write(path, bytes).expect("write");
}

const TAMPERS: [Tamper; 7] = [
    // First: the last line's frame has no second record yet (a damaged
    // frame made again is recorded again, at the end).
    Tamper {
        name: "index line cut short (a torn append)",
        target: Target::Index,
        bad: true,
        fast_fails: Some(true),
        apply: |s, k| {
            let path = s.index_path(k);
            let len = std::fs::metadata(&path).expect("stat").len();
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .expect("open index");
            file.set_len(len - 30).expect("truncate");
        },
    },
    Tamper {
        name: "index line garbled",
        target: Target::Index,
        bad: true,
        fast_fails: Some(true),
        apply: |s, k| {
            // A byte of the digest becomes one that is not even UTF-8:
            // only that line may be lost.
            edit_aimed_lines(s, k, |line| {
                let at = line.iter().position(|&b| b == b' ').expect("a space") + 5;
                line[at] = 0xff;
            })
        },
    },
    Tamper {
        name: "index line deleted",
        target: Target::Index,
        bad: false,
        fast_fails: Some(false),
        apply: |s, k| edit_aimed_lines(s, k, Vec::clear),
    },
    Tamper {
        name: "blob deleted",
        target: Target::Blob,
        bad: true,
        fast_fails: Some(true),
        apply: |s, k| std::fs::remove_file(s.blob_path(&aimed(s, k).0)).expect("delete blob"),
    },
    Tamper {
        name: "blob truncated",
        target: Target::Blob,
        bad: true,
        fast_fails: Some(true),
        apply: |s, k| {
            let path = s.blob_path(&aimed(s, k).0);
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .expect("open blob");
            let len = file.metadata().expect("stat").len();
            file.set_len(len / 2).expect("truncate");
        },
    },
    Tamper {
        name: "one byte flipped in a blob",
        target: Target::Blob,
        bad: true,
        fast_fails: Some(false),
        apply: |s, k| {
            let record = aimed(s, k).0;
            flip_byte(&s.blob_path(&record), record.size as usize / 2);
        },
    },
    Tamper {
        name: "blob replaced by another blob",
        target: Target::Blob,
        bad: true,
        fast_fails: None,
        apply: |s, k| {
            let (record, other) = aimed(s, k);
            let bytes = std::fs::read(s.blob_path(&other)).expect("read");
            std::fs::write(s.blob_path(&record), bytes).expect("write");
        },
    },
];

/// a-full's recipe key, from `framex plan --json`.
fn recipe_of(composition: &Path, cache: &Path, id: &str) -> String {
    let plan =
        framex_tests::framex_plan_json(&["--cache-dir", cache.to_str().unwrap()], composition);
    plan["elements"]
        .as_array()
        .expect("elements")
        .iter()
        .find(|e| e["elementId"] == id)
        .and_then(|e| e["recipe"].as_str())
        .expect("the element's recipe key")
        .to_string()
}

#[test]
fn a_tampered_store_is_reported_by_verify_and_the_frame_made_again_not_served() {
    let dir = tempfile::tempdir().expect("temp dir");
    let composition = composition(dir.path());
    let reference = reference(&composition, &dir.path().join("reference"));
    let cache = dir.path().join("cache");
    let store = StoreDir::new(&cache);
    let cold = extract_ok(&composition, &dir.path().join("populate"), Some(&cache));
    let distinct = metric(&cold, "distinctFrames");
    let key = recipe_of(&composition, &cache, IDS[0]);
    let index = store.index_path(&key);

    let mut failures = Vec::new();
    for (n, tamper) in TAMPERS.iter().enumerate() {
        let what = tamper.name;
        let blob = store.blob_path(&aimed(&store, &key).0);
        (tamper.apply)(&store, &key);

        let deep = verify(&cache, false);
        let named = match tamper.target {
            Target::Blob => blob.display().to_string(),
            Target::Index => index.display().to_string(),
        };
        if tamper.bad {
            assert_eq!(deep.code, Some(1), "{what}: verify fails\n{}", deep.stdout);
            assert_eq!(deep.bad, 1, "{what}: one problem\n{}", deep.stdout);
            assert!(
                deep.problems().iter().any(|p| p.contains(&named)),
                "{what}: verify names {named}\n{}",
                deep.stdout
            );
        } else {
            assert_eq!(deep.code, Some(0), "{what}: verify\n{}", deep.stdout);
            assert!(
                deep.stdout.contains("1 blob that no index record names"),
                "{what}: verify reports the blob left without a record\n{}",
                deep.stdout
            );
        }
        // --fast only compares sizes (documented): it cannot see a flipped
        // byte in a blob.
        let fast = verify(&cache, true);
        if let Some(fails) = tamper.fast_fails {
            let code = Some(i32::from(fails));
            assert_eq!(fast.code, code, "{what}: --fast\n{}", fast.stdout);
        }

        // The next run makes that frame again instead of serving it.
        let out = dir.path().join(format!("out-{n}"));
        let report = extract_ok(&composition, &out, Some(&cache));
        let damaged = u64::from(tamper.target == Target::Blob);
        for (name, want) in [
            ("damagedFrames", damaged),
            ("cacheHits", distinct - 1),
            ("cacheMisses", 1),
            ("framesExtracted", 1),
        ] {
            let got = metric(&report, name);
            if got != want {
                failures.push(format!("{what}: {name} {got}, expected {want}"));
            }
        }
        // The elements that show the frame are no cache hits: a-full and its
        // duplicate for the 11th record; for the cut, whichever of the
        // elements on a-full's recipe shows the last record's frame.
        let missed: Vec<&str> = IDS
            .into_iter()
            .filter(|id| report["elements"][id]["cacheHit"] == false)
            .collect();
        if tamper.name.contains("cut") {
            assert!(
                !missed.is_empty() && missed.iter().all(|id| IDS[..3].contains(id)),
                "{what}: {missed:?}"
            );
        } else {
            assert_eq!(missed, IDS[..2], "{what}: the elements made again");
        }
        assert_frames(&out, &IDS, &reference, what);
        // The store healed: it verifies clean, and the next run makes nothing.
        let after = store.assert_clean(what);
        assert!(
            !after.stdout.contains("no index record names"),
            "{what}: {}",
            after.stdout
        );
        let again = extract_ok(
            &composition,
            &dir.path().join(format!("again-{n}")),
            Some(&cache),
        );
        assert_eq!(
            metric(&again, "cacheHits"),
            distinct,
            "{what}: a warm run after"
        );
        assert_eq!(metric(&again, "ffmpegRuns"), 0, "{what}: a warm run after");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// 2 s of one flat colour: every frame decodes to the same pixels, so every
/// frame of a recipe is one blob.
fn still_clip() -> std::path::PathBuf {
    h264_clip(
        "faults-still-64x48-30.mp4",
        "color=c=0x336699:size=64x48:rate=30",
        "2",
        &["-g", "30"],
    )
}

/// A blob found damaged is replaced, not kept, when a new frame has its
/// bytes: the first half second is stored (one blob), the blob damaged, and
/// a run that needs only later frames (the same pixels, never stored) must
/// not link the damaged file.
#[test]
fn a_damaged_blob_is_not_reused_for_a_new_frame_with_its_bytes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clip = still_clip();
    let src = clip.to_str().expect("UTF-8 path");
    let (first, later) = (dir.path().join("first.json"), dir.path().join("later.json"));
    write_composition(&first, &[element("first", src, 0.0, 0.5, "")]);
    write_composition(&later, &[element("later", src, 1.0, 0.5, "")]);
    let cache = dir.path().join("cache");
    let store = StoreDir::new(&cache);
    let run = |composition: &Path, out: &str, cache: Option<&Path>| {
        let mut command =
            framex_tests::faults::extract_command(composition, &dir.path().join(out), cache);
        let output = command.output().expect("framex runs");
        assert_eq!(
            output.status.code(),
            Some(0),
            "{out}: {}",
            describe(&output)
        );
    };
    run(&later, "reference", None);
    run(&first, "first", Some(&cache));
    let blobs = store.blob_files();
    assert_eq!(
        blobs.len(),
        1,
        "one blob for 15 identical frames: {blobs:?}"
    );
    let size = std::fs::metadata(&blobs[0]).expect("stat").len();
    flip_byte(&blobs[0], size as usize / 2);

    run(&later, "later", Some(&cache));
    let got = framex_tests::frames_in(&dir.path().join("later/later"));
    let want = framex_tests::frames_in(&dir.path().join("reference/later"));
    assert_eq!(got.len(), 15);
    assert!(got == want, "the later frames are the clean run's bytes");
    store.assert_clean("after the later run");
}
