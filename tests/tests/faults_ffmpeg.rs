//! A faulty ffmpeg (issue 7, item 3): a real executable, set through
//! `FRAMEX_FFMPEG`, that misbehaves only for one source and runs the real
//! ffmpeg for the others. Each fault must give per-element errors of the
//! right kind (the leader's error, with the "[shared extraction, leader …]"
//! prefix for its duplicate and superset member), exit code 1, nothing
//! published in the cache for the faulty unit, no leftovers, and the elements
//! of the good source complete with their frames. A rerun with the real
//! ffmpeg then completes everything from the same cache.
//!
//! The faults: exits 1 after complaining on stderr; killed by SIGKILL after
//! writing every frame (transient: retried once); killed by SIGSEGV before writing any; exits 0
//! without writing a frame; writes one frame fewer; writes one frame more;
//! truncates a PNG; garbles bytes inside a PNG; hangs (as itself, after
//! writing frames, and as a wrapper whose child hangs), killed by
//! `--timeout`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use framex_tests::{cfr_clip, framex_bin, framex_command};
use serde_json::Value;

/// The faulty source's file name: the fake ffmpeg misbehaves only when its
/// input (`-i`) ends with it.
const BAD_SRC: &str = "framex-fault-bad.mp4";
const GOOD_SRC: &str = "good.mp4";

/// The elements: three on the faulty source (a leader, its duplicate and a
/// superset member of its unit), three on the good one.
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

/// The ffmpeg on `PATH` (the one the fake runs for good inputs).
fn real_ffmpeg() -> PathBuf {
    let path = std::env::var_os("PATH").expect("PATH is set");
    std::env::split_paths(&path)
        .map(|dir| dir.join("ffmpeg"))
        .find(|p| p.is_file())
        .expect("ffmpeg on PATH (install it with scripts/test.sh)")
}

/// A composition over two copies of the test clip, an output and a cache
/// directory, and a fake ffmpeg, all in one temporary directory.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    /// `fault` is shell code run instead of ffmpeg for the faulty source;
    /// `$REAL` is the real ffmpeg, `$dir` the output directory, `$PIDFILE` a
    /// file for the test to find processes in.
    fn new(fault: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clip = cfr_clip();
        // Copies, not links: the source's canonical path must keep its name.
        std::fs::copy(&clip, dir.path().join(BAD_SRC)).unwrap();
        std::fs::copy(&clip, dir.path().join(GOOD_SRC)).unwrap();
        std::fs::write(dir.path().join("composition.json"), COMPOSITION).unwrap();
        let script = format!(
            r#"#!/bin/sh
# A faulty ffmpeg for framex's fault tests.
REAL='{real}'
PIDFILE='{pidfile}'
prev=''; bad=0; out=''
for a in "$@"; do
  if [ "$prev" = "-i" ]; then
    case "$a" in */{BAD_SRC}) bad=1 ;; esac
  fi
  prev="$a"; out="$a"
done
[ "$bad" = 1 ] || exec "$REAL" "$@"
dir=$(dirname "$out")
{fault}
"#,
            real = real_ffmpeg().display(),
            pidfile = dir.path().join("pids").display(),
        );
        let fake = dir.path().join("fake-ffmpeg");
        std::fs::write(&fake, script).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
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

    /// Runs `framex extract` with the fake ffmpeg (or the real one).
    fn extract(&self, fake: bool, extra: &[&str]) -> (Output, Value, Duration) {
        let mut command = framex_command();
        if fake {
            command.env("FRAMEX_FFMPEG", self.path("fake-ffmpeg"));
        }
        let started = Instant::now();
        let output = command
            .current_dir(self.dir.path())
            .args(["--quiet", "extract"])
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

    /// Pids the fake wrote to its pid file.
    fn pids(&self) -> Vec<u32> {
        std::fs::read_to_string(self.path("pids"))
            .unwrap_or_default()
            .split_whitespace()
            .map(|p| p.parse().unwrap())
            .collect()
    }
}

fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// What a fault must look like in the report.
struct Expect<'a> {
    kind: &'a str,
    /// Substrings of the leader's error.
    says: &'a [&'a str],
    retryable: bool,
}

/// Frame files of an element directory, sorted.
fn frames(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn expected_frames(count: usize) -> Vec<String> {
    (1..=count).map(|n| format!("frame_{n:06}.png")).collect()
}

/// Checks the report, the output directory and the cache after a faulty run.
fn check_fault_run(fx: &Fixture, output: &Output, report: &Value, expect: &Expect<'_>) {
    assert_eq!(
        output.status.code(),
        Some(1),
        "a failed unit exits 1: {}",
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
    // The good source's unit completes: every frame, in every directory.
    for id in GOOD_IDS {
        let e = &elements[id];
        assert_eq!(e["status"], "ok", "{id}: {e}");
        assert_eq!(e["frames"], 30, "{id}: {e}");
        assert_eq!(frames(&fx.out().join(id)), expected_frames(30), "{id}");
    }
    // good-b starts 15 frames into good-a.
    assert_eq!(
        std::fs::read(fx.out().join("good-b/frame_000001.png")).unwrap(),
        std::fs::read(fx.out().join("good-a/frame_000016.png")).unwrap()
    );
    // Two units; a transient failure is retried once (once per unit, not
    // per follower), and the retry is an ffmpeg run too.
    let retries = u64::from(expect.kind == "ffmpeg_transient");
    assert_eq!(report["metrics"]["retries"], retries);
    assert_eq!(report["metrics"]["ffmpegRuns"], 2 + retries);
    // Nothing else in the output: no directory for a failed element (the
    // stale one planted before the run is gone), no scratch or partial.
    let mut expected: BTreeSet<String> = GOOD_IDS.iter().map(|s| s.to_string()).collect();
    expected.insert("framex-report.json".into());
    let listed: BTreeSet<String> = frames(&fx.out()).into_iter().collect();
    assert_eq!(listed, expected, "the output directory");
    check_cache(fx, 2, 0);
}

/// The cache holds exactly `entries` complete entries, `bad` of them for the
/// faulty source, no partial is left behind, and `framex cache verify` is
/// clean.
fn check_cache(fx: &Fixture, entries: usize, bad: usize) {
    let v1 = fx.cache().join("v1");
    let (mut found, mut found_bad) = (0, 0);
    for shard in std::fs::read_dir(&v1).unwrap() {
        let shard = shard.unwrap().path();
        if !shard.is_dir() {
            continue;
        }
        for entry in std::fs::read_dir(&shard).unwrap() {
            let entry = entry.unwrap().path();
            let manifest = std::fs::read_to_string(entry.join("manifest.json"))
                .unwrap_or_else(|e| panic!("{}: entry without a manifest: {e}", entry.display()));
            let manifest: Value = serde_json::from_str(&manifest).unwrap();
            if manifest["source"]["path"]
                .as_str()
                .is_some_and(|p| p.ends_with(BAD_SRC))
            {
                found_bad += 1;
            }
            found += 1;
        }
    }
    assert_eq!(found, entries, "published entries");
    assert_eq!(found_bad, bad, "published entries of the faulty source");
    let leftovers: Vec<_> = std::fs::read_dir(fx.cache().join("tmp"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(leftovers.is_empty(), "partials left: {leftovers:?}");
    let verify = Command::new(framex_bin())
        .args(["cache", "verify", "--cache-dir"])
        .arg(fx.cache())
        .output()
        .unwrap();
    assert!(verify.status.success(), "verify: {}", describe(&verify));
}

/// After the fault, the real ffmpeg completes everything from the same cache:
/// the good works are hits, the faulty one is extracted and identical to the
/// good source's frames (the two files are copies).
fn check_rerun(fx: &Fixture) {
    let (output, report, _) = fx.extract(false, &["--cache-dir", path_str(&fx.cache())]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    for id in BAD_IDS.iter().chain(&GOOD_IDS) {
        assert_eq!(report["elements"][id]["status"], "ok", "{id}");
        assert_eq!(frames(&fx.out().join(id)), expected_frames(30), "{id}");
    }
    assert_eq!(report["elements"]["good-a"]["cacheHit"], true);
    assert_eq!(report["elements"]["bad-lead"]["cacheHit"], false);
    for n in [1, 30] {
        let name = format!("frame_{n:06}.png");
        assert_eq!(
            std::fs::read(fx.out().join("bad-lead").join(&name)).unwrap(),
            std::fs::read(fx.out().join("good-a").join(&name)).unwrap()
        );
    }
    check_cache(fx, 4, 2);
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Runs the composition with `fault`, checks everything, reruns with the
/// real ffmpeg.
fn fault_case(fault: &str, expect: &Expect<'_>) -> Fixture {
    let fx = Fixture::new(fault);
    // Stale output of an earlier run must not survive as this run's.
    std::fs::create_dir_all(fx.out().join("bad-dup")).unwrap();
    std::fs::write(fx.out().join("bad-dup/frame_000001.png"), b"stale").unwrap();
    let (output, report, _) = fx.extract(true, &["--cache-dir", path_str(&fx.cache())]);
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
fn ffmpeg_killed_by_sigkill_after_writing_every_frame() {
    fault_case(
        // Killed from outside (as the OOM killer does): transient, so the
        // unit is retried once, killed again, and reported retryable.
        "\"$REAL\" \"$@\" || exit $?\nkill -9 $$",
        &Expect {
            kind: "ffmpeg_transient",
            says: &["killed by signal 9"],
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
fn ffmpeg_exits_0_without_writing_a_frame() {
    fault_case(
        "echo 'fake ffmpeg: nothing to do' >&2\nexit 0",
        &Expect {
            kind: "zero_output",
            says: &["wrote no frames (expected 45): fake ffmpeg: nothing to do"],
            retryable: false,
        },
    );
}

#[test]
fn ffmpeg_writes_one_frame_fewer() {
    fault_case(
        "\"$REAL\" \"$@\" || exit $?\n\
         last=$(ls \"$dir\" | grep '^frame_' | sort | tail -n 1)\n\
         rm -f \"$dir/$last\"",
        &Expect {
            kind: "bad_output",
            says: &["44 frames written, 45 expected"],
            retryable: false,
        },
    );
}

#[test]
fn ffmpeg_writes_one_frame_more() {
    fault_case(
        "\"$REAL\" \"$@\" || exit $?\n\
         n=$(ls \"$dir\" | grep -c '^frame_')\n\
         cp \"$dir/$(printf 'frame_%06d.png' \"$n\")\" \"$dir/$(printf 'frame_%06d.png' $((n + 1)))\"",
        &Expect {
            kind: "bad_output",
            says: &["46 frames written, 45 expected"],
            retryable: false,
        },
    );
}

#[test]
fn ffmpeg_writes_a_truncated_png() {
    fault_case(
        "\"$REAL\" \"$@\" || exit $?\n\
         f=\"$dir/frame_000003.png\"\n\
         head -c 1000 \"$f\" > \"$dir/cut\" && mv \"$dir/cut\" \"$f\"",
        &Expect {
            kind: "bad_output",
            says: &["frame_000003.png is not a complete png image"],
            retryable: false,
        },
    );
}

/// Bytes changed inside a PNG, its signature and `IEND` intact: only the
/// chunk checksums show it.
#[test]
fn ffmpeg_writes_a_garbled_png() {
    fault_case(
        "\"$REAL\" \"$@\" || exit $?\n\
         printf 'GARBAGE-GARBAGE-GARBAGE' | dd of=\"$dir/frame_000003.png\" bs=1 seek=2000 conv=notrunc 2>/dev/null",
        &Expect {
            kind: "bad_output",
            says: &["frame_000003.png is not a complete png image"],
            retryable: false,
        },
    );
}

/// Whether `pid` is still a live process (a zombie waiting for its reaper
/// counts as gone).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // `pid (comm) state …`: the state follows the last ')'.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Waits up to 5 s for every pid to be gone.
fn assert_gone(pids: &[u32]) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while pids.iter().any(|&p| alive(p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left: Vec<u32> = pids.iter().copied().filter(|&p| alive(p)).collect();
    if !left.is_empty() {
        // Do not leave them running after the test either.
        for pid in &left {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        }
        panic!("processes of the hung ffmpeg are still running: {left:?}");
    }
}

/// `said`: what the fake prints on stderr before it hangs, which the
/// timeout's error must carry.
fn hang_case(fault: &str, processes: usize, said: &str) {
    let fx = Fixture::new(fault);
    let (output, report, took) = fx.extract(
        true,
        &["--cache-dir", path_str(&fx.cache()), "--timeout", "5"],
    );
    let pids = fx.pids();
    assert_eq!(pids.len(), processes, "the fake wrote its pids");
    assert_gone(&pids);
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

/// ffmpeg writes its frames and then hangs: killed at the timeout, and its
/// frames are not published.
#[test]
fn ffmpeg_hangs_after_writing_frames() {
    hang_case(
        "\"$REAL\" \"$@\" || exit $?\necho $$ > \"$PIDFILE\"\n\
         echo 'fake ffmpeg: all frames written, now hanging' >&2\nexec sleep 1000",
        1,
        "fake ffmpeg: all frames written, now hanging",
    );
}

/// A wrapper script whose ffmpeg hangs: the timeout kills the wrapper and
/// what it started, not only the process framex spawned.
#[test]
fn wrapped_ffmpeg_hangs() {
    hang_case(
        "echo $$ > \"$PIDFILE\"\nsleep 1000 &\necho $! >> \"$PIDFILE\"\n\
         echo 'fake ffmpeg: waiting on a stuck child' >&2\nwait\nexit 1",
        2,
        "fake ffmpeg: waiting on a stuck child",
    );
}

/// Without a cache: the same per-element errors, the good unit completes,
/// and the scratch directory in the output is removed.
#[test]
fn ffmpeg_fault_without_cache() {
    let fx = Fixture::new("echo 'fake ffmpeg: no' >&2\nexit 1");
    let (output, report, _) = fx.extract(true, &["--no-cache"]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert_eq!(report["elements"]["bad-lead"]["errorKind"], "ffmpeg_failed");
    assert_eq!(
        report["elements"]["bad-member"]["error"],
        "[shared extraction, leader bad-lead] ffmpeg failed (exit status 1): fake ffmpeg: no"
    );
    for id in GOOD_IDS {
        assert_eq!(report["elements"][id]["status"], "ok", "{id}");
        assert_eq!(frames(&fx.out().join(id)), expected_frames(30), "{id}");
    }
    let mut expected: BTreeSet<String> = GOOD_IDS.iter().map(|s| s.to_string()).collect();
    expected.insert("framex-report.json".into());
    let listed: BTreeSet<String> = frames(&fx.out()).into_iter().collect();
    assert_eq!(listed, expected, "the output directory");
    assert!(!fx.cache().exists(), "--no-cache makes no cache");
}
