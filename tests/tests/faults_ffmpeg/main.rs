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

mod fixture;
mod hangs;

use crate::fixture::{check_fault_run, fault_case, Expect, Fixture, BAD_SRC, REPLAY_CUT};

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
