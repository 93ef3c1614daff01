//! The fixture of every fault: a composition over a bad and a good copy of
//! the test clip, a fake ffmpeg bad for one source only, and the checks of
//! a faulty run and of the rerun with the real ffmpeg.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use framex_tests::fake_ffmpeg::write_fake_ffmpeg;
use framex_tests::faults::{describe, names_in};
use framex_tests::store::StoreDir;
use framex_tests::{cfr_clip, framex_command};
use serde_json::Value;

/// The faulty source's file name: the fake misbehaves only when its input
/// (`-i`) ends with it.
pub(crate) const BAD_SRC: &str = "framex-fault-bad.mp4";
const GOOD_SRC: &str = "good.mp4";

/// Three elements on the faulty source (a leader, its duplicate, and one
/// that shares its decode run), three on the good one.
const COMPOSITION: &str = r#"{"elements": [
  {"id": "bad-lead",   "src": "framex-fault-bad.mp4", "mediaStart": 0,   "duration": 1, "fps": 30, "format": "png"},
  {"id": "bad-dup",    "src": "framex-fault-bad.mp4", "mediaStart": 0,   "duration": 1, "fps": 30, "format": "png"},
  {"id": "bad-member", "src": "framex-fault-bad.mp4", "mediaStart": 0.5, "duration": 1, "fps": 30, "format": "png"},
  {"id": "good-a",     "src": "good.mp4",             "mediaStart": 0,   "duration": 1, "fps": 30, "format": "png"},
  {"id": "good-dup",   "src": "good.mp4",             "mediaStart": 0,   "duration": 1, "fps": 30, "format": "png"},
  {"id": "good-b",     "src": "good.mp4",             "mediaStart": 0.5, "duration": 1, "fps": 30, "format": "png"}
]}"#;

const BAD_IDS: [&str; 3] = ["bad-lead", "bad-dup", "bad-member"];
const GOOD_IDS: [&str; 3] = ["good-a", "good-dup", "good-b"];

/// The frames the bad source's decode run makes (0–44).
const BAD_RUN_FRAMES: u64 = 45;

/// Shell code that runs the real ffmpeg to files, then hands framex every
/// stderr line but only the first `BYTES` bytes of the raw frames (320×240
/// rgb24 frames are 230 400 bytes: 4 whole frames and part of a fifth).
pub(crate) const REPLAY_CUT: &str = "\"$REAL\" \"$@\" > \"$LOG.out\" 2> \"$LOG.err\" || exit $?\n\
     cat \"$LOG.err\" >&2\n\
     head -c 1000000 \"$LOG.out\"";

/// A composition over two copies of the test clip, an output and a store
/// directory, and a fake ffmpeg, all in one temporary directory.
pub(crate) struct Fixture {
    pub(crate) dir: tempfile::TempDir,
}

impl Fixture {
    /// `fault` is shell code run instead of ffmpeg for the faulty source
    /// ([`write_fake_ffmpeg`]: `$REAL`, `$LOG`).
    pub(crate) fn new(fault: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clip = cfr_clip();
        // Copies, not links: the source's canonical path must keep its name.
        std::fs::copy(&clip, dir.path().join(BAD_SRC)).unwrap();
        std::fs::copy(&clip, dir.path().join(GOOD_SRC)).unwrap();
        std::fs::write(dir.path().join("composition.json"), COMPOSITION).unwrap();
        write_fake_ffmpeg(&dir.path().join("fake-ffmpeg"), Some(BAD_SRC), fault);
        Self { dir }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(crate) fn out(&self) -> PathBuf {
        self.path("out")
    }

    pub(crate) fn cache(&self) -> PathBuf {
        self.path("cache")
    }

    /// Runs `framex extract --jobs 1` (one decoder: the process counts are
    /// exact) with the fake ffmpeg or the real one; returns the report.
    pub(crate) fn extract(&self, fake: bool, extra: &[&str]) -> (Output, Value, Duration) {
        let mut command = framex_command();
        if fake {
            command.env("FRAMEX_FFMPEG", self.path("fake-ffmpeg"));
        }
        let started = Instant::now();
        let output = command
            .current_dir(self.dir.path())
            .args(["--quiet", "extract", "--jobs", "1"])
            .arg(self.path("composition.json"))
            .arg("--out")
            .arg(self.out())
            .args(extra)
            .output()
            .unwrap();
        let took = started.elapsed();
        let report = std::fs::read(self.out().join("framex-report.json"))
            .unwrap_or_else(|e| panic!("no report ({e}): {}", describe(&output)));
        (output, serde_json::from_slice(&report).unwrap(), took)
    }

    pub(crate) fn with_store(&self) -> [String; 2] {
        ["--cache-dir".into(), path_str(&self.cache()).into()]
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// What a fault must look like in the report.
pub(crate) struct Expect<'a> {
    pub(crate) kind: &'a str,
    /// Substrings of the leader's error.
    pub(crate) says: &'a [&'a str],
    pub(crate) retryable: bool,
}

fn expected_frames(count: usize) -> Vec<String> {
    (1..=count).map(|n| format!("frame_{n:06}.png")).collect()
}

/// Checks the report, the output directory and the store after a faulty run.
pub(crate) fn check_fault_run(fx: &Fixture, output: &Output, report: &Value, expect: &Expect<'_>) {
    assert_eq!(
        output.status.code(),
        Some(1),
        "a failed run exits 1: {}",
        describe(output)
    );
    let elements = &report["elements"];
    let lead = &elements["bad-lead"];
    assert_eq!(lead["status"], "error", "{lead}");
    assert_eq!(lead["errorKind"], expect.kind, "{lead}");
    assert_eq!(lead["retryable"], expect.retryable, "{lead}");
    assert_eq!(lead["frames"], 0, "{lead}");
    assert!(lead.get("dir").is_none(), "{lead}");
    let error = lead["error"].as_str().expect("an error message");
    for says in expect.says {
        assert!(error.contains(says), "{error:?} should say {says:?}");
    }
    for follower in ["bad-dup", "bad-member"] {
        let e = &elements[follower];
        assert_eq!(e["status"], "error", "{e}");
        assert_eq!(e["errorKind"], expect.kind, "{e}");
        assert_eq!(e["retryable"], expect.retryable, "{e}");
        assert_eq!(
            e["error"].as_str().unwrap(),
            format!("[shared extraction, leader bad-lead] {error}"),
            "{follower} reports the leader's error with the prefix"
        );
    }
    assert_eq!(elements["bad-dup"]["role"], "duplicate of bad-lead");
    let member_role = elements["bad-member"]["role"].as_str().unwrap();
    assert!(
        member_role.starts_with("shares ") && member_role.ends_with("(leader bad-lead)"),
        "{member_role}"
    );
    // The good source's run completes: every frame, in every directory.
    for id in GOOD_IDS {
        let e = &elements[id];
        assert_eq!(e["status"], "ok", "{id}: {e}");
        assert_eq!(e["frames"], 30, "{id}: {e}");
        assert_eq!(names_in(&fx.out().join(id)), expected_frames(30), "{id}");
    }
    // good-b starts 15 frames into good-a.
    assert_eq!(
        std::fs::read(fx.out().join("good-b/frame_000001.png")).unwrap(),
        std::fs::read(fx.out().join("good-a/frame_000016.png")).unwrap()
    );
    // Two decode runs; a transient failure is retried once (once per run,
    // not per follower), and the retry is an ffmpeg process too.
    let retries = u64::from(expect.kind == "ffmpeg_transient");
    assert_eq!(report["metrics"]["retries"], retries, "{report}");
    assert_eq!(report["metrics"]["ffmpegRuns"], 2 + retries, "{report}");
    // Nothing else in the output: no directory for a failed element (the
    // stale one planted before the run is gone), nothing half-built.
    let mut expected: BTreeSet<String> = GOOD_IDS.iter().map(|s| s.to_string()).collect();
    expected.insert("framex-report.json".into());
    let listed: BTreeSet<String> = names_in(&fx.out()).into_iter().collect();
    assert_eq!(listed, expected, "the output directory");
    if fx.cache().exists() {
        StoreDir::new(&fx.cache()).assert_clean("after the faulty run");
    }
}

/// After the fault, the real ffmpeg completes everything from the same
/// store: the good elements are hits, the faulty run's frames are made (but
/// for those it stored before failing), identical to the good source's.
pub(crate) fn check_rerun(fx: &Fixture) {
    let (output, report, _) = fx.extract(false, &fx.with_store().each_ref().map(String::as_str));
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    for id in BAD_IDS.iter().chain(&GOOD_IDS) {
        assert_eq!(report["elements"][id]["status"], "ok", "{id}");
        assert_eq!(names_in(&fx.out().join(id)), expected_frames(30), "{id}");
    }
    assert_eq!(report["elements"]["good-a"]["cacheHit"], true);
    assert_eq!(report["elements"]["bad-lead"]["cacheHit"], false);
    let made = report["metrics"]["framesExtracted"].as_u64().unwrap();
    assert!(made > 0 && made <= BAD_RUN_FRAMES, "{report}");
    for n in 1..=30 {
        let name = format!("frame_{n:06}.png");
        assert!(
            std::fs::read(fx.out().join("bad-lead").join(&name)).unwrap()
                == std::fs::read(fx.out().join("good-a").join(&name)).unwrap(),
            "bad-lead/{name}"
        );
    }
    StoreDir::new(&fx.cache()).assert_clean("after the rerun");
}

/// Runs the composition with `fault`, checks everything, reruns with the
/// real ffmpeg.
pub(crate) fn fault_case(fault: &str, expect: &Expect<'_>) -> Fixture {
    let fx = Fixture::new(fault);
    // Stale output of an earlier run must not survive as this run's.
    std::fs::create_dir_all(fx.out().join("bad-dup")).unwrap();
    std::fs::write(fx.out().join("bad-dup/frame_000001.png"), b"stale").unwrap();
    let (output, report, _) = fx.extract(true, &fx.with_store().each_ref().map(String::as_str));
    check_fault_run(&fx, &output, &report, expect);
    check_rerun(&fx);
    fx
}
