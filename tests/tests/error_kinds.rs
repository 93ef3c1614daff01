//! Every per-element error has a stable `errorKind` and `retryable` in the
//! report; a decode run that fails transiently is retried once (not once
//! per element sharing it), for the frames it had not yet delivered; ffprobe
//! is bounded by `--timeout`. Real ffmpeg behind fake ones: shell scripts
//! given as `FRAMEX_FFMPEG` / `FRAMEX_FFPROBE` that count their calls.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use framex_tests::cfr_clip;
use framex_tests::check::{
    assert_same_bytes, assert_verifies, cache_stats, calls, composition, el, fake_tool, frames,
    real_tool, Extract,
};
use framex_tests::ExtractRun;

/// Three elements on one clip whose frames one decode run makes: a leader,
/// its duplicate and an overlapping trim that shares the run.
fn one_run(dir: &Path) -> PathBuf {
    let clip = cfr_clip();
    composition(
        dir,
        "composition.json",
        &[
            el("lead", &clip, 0.0, 1.0),
            el("dup", &clip, 0.0, 1.0),
            el("member", &clip, 0.5, 1.0),
        ],
    )
}

/// Runs `composition` with `ffmpeg`, one decoder (one ffmpeg per run), and
/// a store in `dir/cache`.
fn run_with_ffmpeg(dir: &Path, composition: &Path, ffmpeg: &Path, out: &str) -> ExtractRun {
    Extract::new(composition, &dir.join(out), Some(&dir.join("cache")))
        .with_args(&["--jobs", "1"])
        .with_env("FRAMEX_FFMPEG", ffmpeg)
        .run()
}

#[test]
fn a_transient_failure_is_retried_once_for_the_frames_not_yet_made() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The first call hands over ten whole 320×240 RGB frames, then fails as
    // ffmpeg does when it cannot get memory; later calls are the real
    // ffmpeg.
    let frame_bytes = 320 * 240 * 3;
    let ffmpeg = fake_tool(
        d,
        "ffmpeg",
        &format!(
            r#"if [ ! -e '{d}/failed-once' ]; then
  : > '{d}/failed-once'
  '{real}' "$@" | head -c {bytes}
  echo "Error while filtering: Resource temporarily unavailable" >&2
  exit 1
fi
exec '{real}' "$@""#,
            d = d.display(),
            real = real_tool("ffmpeg").display(),
            bytes = 10 * frame_bytes,
        ),
    );
    let composition = one_run(d);
    let run = run_with_ffmpeg(d, &composition, &ffmpeg, "out");
    assert_eq!(run.code, 0, "{}\n{}", run.report, run.stderr);
    assert_eq!(
        calls(d),
        2,
        "one failed attempt and one retry, for three elements"
    );
    assert_eq!(run.metric("retries"), 1);
    assert_eq!(run.metric("ffmpegRuns"), 2);
    assert_eq!(run.metric("distinctFrames"), 45);
    assert_eq!(
        run.metric("framesExtracted"),
        45,
        "the ten frames of the first attempt are not made again"
    );
    for id in ["lead", "dup", "member"] {
        run.assert_ok(&d.join("out"), id, 30, "png");
    }
    // The frames are the real ones: a run with the real ffmpeg's bytes.
    let plain = Extract::new(&composition, &d.join("plain"), None).ok();
    assert_eq!(plain.metric("retries"), 0);
    for id in ["lead", "dup", "member"] {
        assert_same_bytes(
            &frames(&d.join("out").join(id)),
            &frames(&d.join("plain").join(id)),
            id,
        );
    }
    // Nothing half-done is left in the store, and what is there is whole.
    assert_eq!(cache_stats(&d.join("cache"))["partials"], 0);
    assert_eq!(assert_verifies(&d.join("cache")), 45);
}

/// Each attempt hands over ten frames, then fails transiently: two attempts
/// in all, every element fails as transient, and the ten frames the first
/// attempt made are kept (the retry skips them), so a rerun makes only the
/// other 35.
#[test]
fn a_failure_that_stays_transient_ends_after_two_attempts_and_keeps_what_it_made() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ffmpeg = fake_tool(
        d,
        "ffmpeg",
        &format!(
            r#"'{real}' "$@" | head -c {bytes}
echo 'av_malloc: Cannot allocate memory' >&2
exit 1"#,
            real = real_tool("ffmpeg").display(),
            bytes = 10 * 320 * 240 * 3,
        ),
    );
    let composition = one_run(d);
    let run = run_with_ffmpeg(d, &composition, &ffmpeg, "out");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(calls(d), 2, "two attempts in all, however many elements");
    assert_eq!(run.metric("retries"), 1);
    assert_eq!(run.metric("framesExtracted"), 10, "{}", run.report);
    for id in ["lead", "dup", "member"] {
        run.assert_failed(&d.join("out"), id, "ffmpeg_transient", true);
    }
    let message = run.error("dup");
    assert!(
        message.starts_with("[shared extraction, leader lead] ffmpeg failed transiently"),
        "{message}"
    );
    assert!(message.contains("Cannot allocate memory"), "{message}");
    assert_eq!(assert_verifies(&d.join("cache")), 10);

    let rerun = run_with_ffmpeg(d, &composition, &real_tool("ffmpeg"), "rerun");
    assert_eq!(rerun.code, 0, "{}", rerun.stderr);
    assert_eq!(rerun.metric("cacheHits"), 10);
    assert_eq!(rerun.metric("framesExtracted"), 35);
}

#[test]
fn killed_by_sigkill_is_transient_and_a_crash_is_not() {
    let real_ffmpeg = real_tool("ffmpeg");
    // SIGKILL (what the OOM killer sends) the first time: retried, succeeds.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ffmpeg = fake_tool(
        d,
        "ffmpeg",
        &format!(
            "if [ ! -e '{d}/killed' ]; then : > '{d}/killed'; kill -KILL $$; fi\nexec '{}' \"$@\"",
            real_ffmpeg.display(),
            d = d.display()
        ),
    );
    let run = run_with_ffmpeg(d, &one_run(d), &ffmpeg, "out");
    assert_eq!(run.code, 0, "{}\n{}", run.report, run.stderr);
    assert_eq!((calls(d), run.metric("retries")), (2, 1));
    assert_eq!(run.metric("framesExtracted"), 45);

    // SIGSEGV: a crash on this input would recur; not retried, not retryable.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ffmpeg = fake_tool(d, "ffmpeg", "kill -SEGV $$");
    let run = run_with_ffmpeg(d, &one_run(d), &ffmpeg, "out");
    assert_eq!(run.code, 1);
    assert_eq!((calls(d), run.metric("retries")), (1, 0));
    run.assert_failed(&d.join("out"), "lead", "ffmpeg_failed", false);
    assert!(
        run.error("lead").contains("killed by signal 11"),
        "{}",
        run.error("lead")
    );
}

#[test]
fn every_per_element_error_has_a_stable_kind_and_the_others_still_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let clip = cfr_clip();
    std::fs::write(d.join("notes.mp4"), "not a video at all").unwrap();
    let composition = composition(
        d,
        "composition.json",
        &[
            el("ok", &clip, 0.0, 0.5),
            // The clip is 3 s long: past its end is no error, the element
            // shows the last frame, with a warning.
            el("past-end", &clip, 3.5, 1.0),
            el("missing", &d.join("nowhere.mp4"), 0.0, 1.0),
            el("not-video", &d.join("notes.mp4"), 0.0, 1.0),
        ],
    );
    let out = d.join("out");
    let run = Extract::new(&composition, &out, Some(&d.join("cache"))).run();
    assert_eq!(run.code, 1, "some elements failed: {}", run.stderr);
    run.assert_ok(&out, "ok", 15, "png");
    run.assert_ok(&out, "past-end", 30, "png");
    let warnings = &run.report["warnings"];
    assert_eq!(warnings[0]["elementId"], "past-end", "{warnings}");
    run.assert_failed(&out, "missing", "source_missing", false);
    run.assert_failed(&out, "not-video", "invalid_media", false);

    // ffmpeg that is not there, and ffmpeg that writes nothing.
    let ffmpeg_less = Extract::new(&composition, &d.join("out2"), None)
        .with_env("FRAMEX_FFMPEG", "/nonexistent/ffmpeg")
        .run();
    ffmpeg_less.assert_failed(&d.join("out2"), "ok", "ffmpeg_unavailable", false);
    let silent = fake_tool(d, "ffmpeg", "exit 0");
    let zero = Extract::new(&composition, &d.join("out3"), None)
        .with_env("FRAMEX_FFMPEG", &silent)
        .run();
    zero.assert_failed(&d.join("out3"), "ok", "zero_output", false);
}

#[test]
fn ffprobe_is_killed_at_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ffprobe = fake_tool(d, "ffprobe", "exec sleep 60");
    // MPEG-TS: only ffprobe reads it (an MP4's index is read in-process).
    let ts = framex_tests::clips::mpeg2_ts().path;
    let composition = composition(d, "composition.json", &[el("e", &ts, 0.0, 1.0)]);
    let started = Instant::now();
    let run = Extract::new(&composition, &d.join("out"), None)
        .with_args(&["--timeout", "1"])
        .with_env("FRAMEX_FFPROBE", &ffprobe)
        .run();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    run.assert_failed(&d.join("out"), "e", "ffmpeg_timeout", true);
    assert!(
        run.error("e").starts_with("ffprobe timed out after 1 s"),
        "{}",
        run.error("e")
    );
    assert_eq!(calls(d), 1, "a timeout is not retried within the run");
}
