//! An ffmpeg that hangs (with no output, after a few frames, or as the child
//! of a wrapper) is killed by `--timeout`, with everything it started.

use std::time::Duration;

use framex_tests::fake_ffmpeg::logged_pids;
use framex_tests::processes::assert_gone;

use crate::fixture::{check_fault_run, check_rerun, Expect, Fixture, REPLAY_CUT};

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
