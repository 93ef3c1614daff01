//! A faulty ffmpeg (issue 7 item 3, on the decode → encode pipeline): a real
//! executable, set through `FRAMEX_FFMPEG`, that misbehaves only for one
//! source and runs the real ffmpeg for the other. Each fault must give
//! per-element errors of the right kind (the leader's error, with the
//! "[shared extraction, leader …]" prefix for its duplicate and for the
//! element that shares its decode run), exit code 1, no directory for a
//! failed element, the good source's elements complete, and a clean store
//! that holds only right frames (the frames decoded before a failure are
//! kept). A rerun with the real ffmpeg then completes everything from the
//! same store, the bad source's frames byte-identical to the good one's
//! (the two files are copies).
//!
//! The faults: exits 1 after complaining on stderr; killed by SIGKILL after
//! a few frames (transient: retried once); killed by SIGSEGV before any;
//! exits 0 without a frame; exits 0 with its raw output cut short; a frame
//! at a time the probe does not know; hangs (with no output, after a few
//! frames, and as a wrapper whose child hangs), killed by `--timeout`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use framex_tests::fake_ffmpeg::{logged_pids, write_fake_ffmpeg};
use framex_tests::faults::{describe, names_in};
use framex_tests::processes::assert_gone;
use framex_tests::store::StoreDir;
use framex_tests::{cfr_clip, framex_command};
use serde_json::Value;

/// The faulty source's file name: the fake misbehaves only when its input
/// (`-i`) ends with it.
const BAD_SRC: &str = "framex-fault-bad.mp4";
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
const REPLAY_CUT: &str = "\"$REAL\" \"$@\" > \"$LOG.out\" 2> \"$LOG.err\" || exit $?\n\
     cat \"$LOG.err\" >&2\n\
     head -c 1000000 \"$LOG.out\"";

/// A composition over two copies of the test clip, an output and a store
/// directory, and a fake ffmpeg, all in one temporary directory.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    /// `fault` is shell code run instead of ffmpeg for the faulty source
    /// ([`write_fake_ffmpeg`]: `$REAL`, `$LOG`).
    fn new(fault: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clip = cfr_clip();
        // Copies, not links: the source's canonical path must keep its name.
        std::fs::copy(&clip, dir.path().join(BAD_SRC)).unwrap();
        std::fs::copy(&clip, dir.path().join(GOOD_SRC)).unwrap();
        std::fs::write(dir.path().join("composition.json"), COMPOSITION).unwrap();
        write_fake_ffmpeg(&dir.path().join("fake-ffmpeg"), Some(BAD_SRC), fault);
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn out(&self) -> PathBuf {
        self.path("out")
    }

    fn cache(&self) -> PathBuf {
        self.path("cache")
    }

    /// Runs `framex extract --jobs 1` (one decoder: the process counts are
    /// exact) with the fake ffmpeg or the real one; returns the report.
    fn extract(&self, fake: bool, extra: &[&str]) -> (Output, Value, Duration) {
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

    fn with_store(&self) -> [String; 2] {
        ["--cache-dir".into(), path_str(&self.cache()).into()]
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// What a fault must look like in the report.
struct Expect<'a> {
    kind: &'a str,
    /// Substrings of the leader's error.
    says: &'a [&'a str],
    retryable: bool,
}

fn expected_frames(count: usize) -> Vec<String> {
    (1..=count).map(|n| format!("frame_{n:06}.png")).collect()
}

/// Checks the report, the output directory and the store after a faulty run.
fn check_fault_run(fx: &Fixture, output: &Output, report: &Value, expect: &Expect<'_>) {
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
fn check_rerun(fx: &Fixture) {
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
fn fault_case(fault: &str, expect: &Expect<'_>) -> Fixture {
    let fx = Fixture::new(fault);
    // Stale output of an earlier run must not survive as this run's.
    std::fs::create_dir_all(fx.out().join("bad-dup")).unwrap();
    std::fs::write(fx.out().join("bad-dup/frame_000001.png"), b"stale").unwrap();
    let (output, report, _) = fx.extract(true, &fx.with_store().each_ref().map(String::as_str));
    check_fault_run(&fx, &output, &report, expect);
    check_rerun(&fx);
    fx
}

#[test]
fn ffmpeg_exits_1() {
    fault_case(
        "echo 'fake ffmpeg: decoding frame 17: simulated failure' >&2\n\
         echo 'fake ffmpeg: giving up (marker 7f3a)' >&2\n\
         exit 1",
        &Expect {
            kind: "ffmpeg_failed",
            says: &[
                "exit status 1",
                "decoding frame 17: simulated failure",
                "giving up (marker 7f3a)",
            ],
            retryable: false,
        },
    );
}

#[test]
fn ffmpeg_killed_by_sigkill_after_a_few_frames() {
    // Killed from outside (as the OOM killer does): transient, so the run
    // is retried once for the frames it lacks, killed again, and reported
    // retryable. The frames it handed over before are kept.
    fault_case(
        &format!("{REPLAY_CUT}\nkill -9 $$"),
        &Expect {
            kind: "ffmpeg_transient",
            says: &["ffmpeg failed transiently (killed by signal 9)"],
            retryable: true,
        },
    );
}

#[test]
fn ffmpeg_killed_by_sigsegv() {
    fault_case(
        // No core file: the signal's default action would dump one.
        "ulimit -c 0\necho 'fake ffmpeg: about to crash' >&2\nkill -s SEGV $$",
        // A crash would recur on the same input: not retried, not retryable.
        &Expect {
            kind: "ffmpeg_failed",
            says: &["killed by signal 11", "about to crash"],
            retryable: false,
        },
    );
}

#[test]
fn ffmpeg_exits_0_without_a_frame() {
    fault_case(
        "echo 'fake ffmpeg: nothing to do' >&2\nexit 0",
        &Expect {
            kind: "zero_output",
            says: &["ffmpeg wrote no frames (expected 45): fake ffmpeg: nothing to do"],
            retryable: false,
        },
    );
}

#[test]
fn ffmpeg_exits_0_with_its_output_cut_short() {
    fault_case(
        &format!("{REPLAY_CUT}\nexit 0"),
        &Expect {
            kind: "bad_output",
            // The fifth frame (0-based 4) of a 1/15360 time base at 30 fps.
            says: &[
                "ffmpeg ended before the frame at 2048 (time base 1/15360)",
                BAD_SRC,
            ],
            retryable: false,
        },
    );
}

#[test]
fn ffmpeg_gives_a_frame_at_a_time_the_probe_does_not_know() {
    // Every showinfo time gets a digit appended: 0 → 1, 512 → 5121, …
    fault_case(
        "\"$REAL\" \"$@\" > \"$LOG.out\" 2> \"$LOG.err\" || exit $?\n\
         sed 's/ pts: *\\([0-9][0-9]*\\)/ pts:\\11/' \"$LOG.err\" >&2\n\
         cat \"$LOG.out\"",
        &Expect {
            kind: "bad_output",
            says: &[
                "the frame at 0 (time base 1/15360)",
                "a planned frame was not decoded",
                "(the next was at 1)",
            ],
            retryable: false,
        },
    );
}

/// `said`: what the fake prints on stderr before it hangs, which the
/// timeout's error must carry; `processes`: how many pids it notes.
fn hang_case(fault: &str, processes: usize, said: &str) {
    let fx = Fixture::new(fault);
    let mut args = fx.with_store().to_vec();
    args.extend(["--timeout".into(), "5".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (output, report, took) = fx.extract(true, &args);
    let pids = logged_pids(&fx.path("fake-ffmpeg"));
    assert_eq!(pids.len(), processes, "the fake noted its pids");
    assert_gone(&pids, Duration::from_secs(5), "the hung ffmpeg");
    assert!(
        took < Duration::from_secs(60),
        "the timeout ends the run ({took:?})"
    );
    check_fault_run(
        &fx,
        &output,
        &report,
        &Expect {
            kind: "ffmpeg_timeout",
            says: &["ffmpeg timed out after 5 s and was killed", said],
            retryable: true,
        },
    );
    check_rerun(&fx);
}

#[test]
fn ffmpeg_hangs_without_a_frame() {
    hang_case(
        "echo $$ >> \"$LOG\"\necho 'fake ffmpeg: now hanging' >&2\nexec sleep 1000",
        1,
        "fake ffmpeg: now hanging",
    );
}

/// ffmpeg hands over a few frames and hangs: killed at the timeout; the
/// frames it handed over are kept.
#[test]
fn ffmpeg_hangs_after_a_few_frames() {
    hang_case(
        &format!(
            "echo $$ >> \"$LOG\"\n{REPLAY_CUT}\n\
             echo 'fake ffmpeg: some frames written, now hanging' >&2\nexec sleep 1000"
        ),
        1,
        "fake ffmpeg: some frames written, now hanging",
    );
}

/// A wrapper script whose ffmpeg hangs: the timeout kills the wrapper and
/// what it started, not only the process framex spawned.
#[test]
fn wrapped_ffmpeg_hangs() {
    hang_case(
        "echo $$ >> \"$LOG\"\nsleep 1000 &\necho $! >> \"$LOG\"\n\
         echo 'fake ffmpeg: waiting on a stuck child' >&2\nwait\nexit 1",
        2,
        "fake ffmpeg: waiting on a stuck child",
    );
}

/// Without a store: the same per-element errors, the good run completes,
/// and the run's private store in the output is removed.
#[test]
fn ffmpeg_fault_without_a_store() {
    let fx = Fixture::new("echo 'fake ffmpeg: no' >&2\nexit 1");
    let (output, report, _) = fx.extract(true, &["--no-cache"]);
    check_fault_run(
        &fx,
        &output,
        &report,
        &Expect {
            kind: "ffmpeg_failed",
            says: &["ffmpeg failed (exit status 1): fake ffmpeg: no"],
            retryable: false,
        },
    );
    assert!(!fx.cache().exists(), "--no-cache makes no store");
}
