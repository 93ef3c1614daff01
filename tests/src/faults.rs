//! The fault suite's shared fixture: two small clips, a composition full of
//! sharing (a duplicate of each source, two overlapping trims, PNG and
//! JPEG), its clean reference frames, and the checks every fault test makes
//! after a run (frames byte for byte, the output directory holding nothing
//! else).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::{framex_command, h264_clip};

/// 4 s of 320×180 testsrc2 at 30 fps, H.264, a keyframe every second.
pub fn clip_a() -> PathBuf {
    h264_clip(
        "faults-a-320x180-30.mp4",
        "testsrc2=size=320x180:rate=30",
        "4",
        &["-g", "30"],
    )
}

/// 3 s of 320×180 testsrc at 25 fps, H.264, a keyframe every second.
pub fn clip_b() -> PathBuf {
    h264_clip(
        "faults-b-320x180-25.mp4",
        "testsrc=size=320x180:rate=25",
        "3",
        &["-g", "25"],
    )
}

/// The composition's element ids.
pub const IDS: [&str; 6] = ["a-full", "a-dup", "a-overlap", "a-jpeg", "b-main", "b-dup"];

/// Files per element, in [`IDS`] order.
pub const FRAME_COUNTS: [usize; 6] = [60, 60, 60, 36, 50, 50];

/// Writes the composition into `dir`: two sources; a duplicate of each;
/// `a-full` and `a-overlap` overlap (their common half second is made once);
/// PNG and JPEG. Three recipes (one index file each), 316 files.
pub fn composition(dir: &Path) -> PathBuf {
    let (a, b) = (clip_a(), clip_b());
    let element = |id: &str, src: &Path, start: f64, duration: f64, fps: u32, format: &str| {
        serde_json::json!({
            "id": id, "src": src.to_str().expect("UTF-8 media path"), "mediaStart": start,
            "duration": duration, "fps": fps, "format": format,
        })
    };
    let elements = vec![
        element(IDS[0], &a, 0.0, 2.0, 30, "png"),
        element(IDS[1], &a, 0.0, 2.0, 30, "png"),
        element(IDS[2], &a, 1.5, 2.0, 30, "png"),
        element(IDS[3], &a, 0.5, 1.5, 24, "jpeg"),
        element(IDS[4], &b, 0.4, 2.0, 25, "png"),
        element(IDS[5], &b, 0.4, 2.0, 25, "png"),
    ];
    let path = dir.join("composition.json");
    let text = serde_json::to_string_pretty(&serde_json::json!({ "elements": elements }))
        .expect("JSON serializes");
    std::fs::write(&path, text).expect("write composition");
    path
}

/// `framex --quiet …`, clear of the caller's settings.
pub fn framex() -> Command {
    let mut command = framex_command();
    command.arg("--quiet");
    command
}

/// `framex --quiet extract COMPOSITION --out OUT` with `--cache-dir CACHE`,
/// or `--no-cache`.
pub fn extract_command(composition: &Path, out: &Path, cache: Option<&Path>) -> Command {
    let mut command = framex();
    command
        .arg("extract")
        .arg(composition)
        .arg("--out")
        .arg(out);
    match cache {
        Some(cache) => command.arg("--cache-dir").arg(cache),
        None => command.arg("--no-cache"),
    };
    command
}

/// Runs [`extract_command`] to the end.
pub fn extract(composition: &Path, out: &Path, cache: Option<&Path>) -> Output {
    extract_command(composition, out, cache)
        .output()
        .expect("framex runs")
}

/// Exit status, stdout and stderr, for assertion messages.
pub fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Runs an extraction of the composition that must succeed for every
/// element; returns its report.
pub fn extract_ok(composition: &Path, out: &Path, cache: Option<&Path>) -> serde_json::Value {
    let output = extract(composition, out, cache);
    assert_eq!(
        output.status.code(),
        Some(0),
        "extract: {}",
        describe(&output)
    );
    let report = read_report(out).expect("a successful run writes its report");
    for id in IDS {
        assert_eq!(report["elements"][id]["status"], "ok", "{id}: {report}");
    }
    report
}

/// The report in `out`, if there is one.
pub fn read_report(out: &Path) -> Option<serde_json::Value> {
    let bytes = std::fs::read(out.join("framex-report.json")).ok()?;
    Some(serde_json::from_slice(&bytes).expect("the report is JSON"))
}

/// A metric of a report (panics when absent).
pub fn metric(report: &serde_json::Value, name: &str) -> u64 {
    report["metrics"][name]
        .as_u64()
        .unwrap_or_else(|| panic!("metric {name} in {report}"))
}

/// Element id → frame file name → bytes.
pub type Frames = BTreeMap<String, BTreeMap<String, Vec<u8>>>;

/// The frames of elements `ids` in `out`.
pub fn read_frames(out: &Path, ids: &[&str]) -> Frames {
    ids.iter()
        .map(|id| {
            let dir = out.join(id);
            let files = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .map(|entry| {
                    let entry = entry.expect("a directory entry");
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let bytes = std::fs::read(entry.path()).expect("read frame");
                    (name, bytes)
                })
                .collect();
            (id.to_string(), files)
        })
        .collect()
}

/// Every element of `ids` in `out` has exactly the reference's frames, byte
/// for byte.
pub fn assert_frames(out: &Path, ids: &[&str], reference: &Frames, what: &str) {
    let got = read_frames(out, ids);
    for id in ids {
        let (got, want) = (&got[*id], &reference[*id]);
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "{what}: {id} has other frame files than the reference"
        );
        for (name, bytes) in want {
            assert!(
                got[name] == *bytes,
                "{what}: {id}/{name} differs from the reference"
            );
        }
    }
}

/// The clean reference: the composition extracted without a store.
pub fn reference(composition: &Path, out: &Path) -> Frames {
    let output = extract(composition, out, None);
    assert_eq!(
        output.status.code(),
        Some(0),
        "reference: {}",
        describe(&output)
    );
    let frames = read_frames(out, &IDS);
    let counts: Vec<usize> = IDS.iter().map(|id| frames[*id].len()).collect();
    assert_eq!(counts, FRAME_COUNTS, "reference frame counts");
    frames
}

/// The names in `dir`, sorted (hidden ones too).
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// `out` holds the directories of `ids` and the report, nothing else: no
/// half-built element directory, no temporary report, no scratch store.
pub fn assert_out_holds(out: &Path, ids: &[&str], what: &str) {
    let mut want: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    want.push("framex-report.json".into());
    want.sort();
    assert_eq!(names_in(out), want, "{what}: the output directory");
}

/// A small deterministic PRNG (xorshift64*): the same moments every run.
pub struct XorShift(pub u64);

impl XorShift {
    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-ish in `0..=max`.
    pub fn below(&mut self, max: std::time::Duration) -> std::time::Duration {
        let micros = max.as_micros() as u64;
        std::time::Duration::from_micros(self.next_u64() % (micros + 1))
    }
}
