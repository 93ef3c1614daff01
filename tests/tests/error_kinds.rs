//! Every per-element error has a stable `errorKind` and `retryable` in the
//! report; transient ffmpeg failures are retried once per unit (not per
//! follower) after wiping the partial output; ffprobe is bounded by
//! `--timeout`. Real ffmpeg behind fake ones: shell scripts given as
//! `FRAMEX_FFMPEG` / `FRAMEX_FFPROBE` that count their calls in a file.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use framex_tests::{cfr_clip, element, extract_json, frames_in, write_composition, ExtractRun};

/// The real ffmpeg or ffprobe on PATH.
fn real(tool: &str) -> PathBuf {
    let out = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .unwrap();
    let path = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(
        !path.is_empty(),
        "{tool} is on PATH (scripts/test.sh installs it)"
    );
    PathBuf::from(path)
}

/// Writes an executable shell script `name` in `dir` that first appends a
/// line to `dir/calls`, then runs `body`.
fn fake(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    let script = format!(
        "#!/bin/sh\necho call >> '{}/calls'\n{body}\n",
        dir.display()
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn calls(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("calls"))
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

/// A composition of three elements on one clip that make one unit: a
/// leader, its duplicate and an overlapping trim (a superset member).
fn one_unit(dir: &Path) -> PathBuf {
    let clip = cfr_clip();
    let src = clip.to_str().unwrap();
    let path = dir.join("composition.json");
    write_composition(
        &path,
        &[
            element("lead", src, 0.0, 1.0, ""),
            element("dup", src, 0.0, 1.0, ""),
            element("member", src, 0.5, 1.0, ""),
        ],
    );
    path
}

fn run_with_ffmpeg(dir: &Path, composition: &Path, ffmpeg: &Path, out: &str) -> ExtractRun {
    let cache = dir.join("cache");
    extract_json(
        composition,
        &dir.join(out),
        &["--cache-dir", cache.to_str().unwrap()],
        &[("FRAMEX_FFMPEG", ffmpeg.as_os_str())],
    )
}

#[test]
fn a_transient_failure_is_retried_once_for_the_unit_in_a_wiped_directory() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The first call leaves junk where the frames go (an extra frame that
    // would fail the frame count if it survived) and fails as ffmpeg does
    // when it cannot get memory; later calls are the real ffmpeg.
    let ffmpeg = fake(
        d,
        "ffmpeg",
        &format!(
            r#"if [ ! -e '{d}/failed-once' ]; then
  : > '{d}/failed-once'
  for last; do :; done
  out="$(dirname "$last")"
  echo junk > "$out/frame_000001.png"
  echo junk > "$out/frame_999999.png"
  echo "Error while filtering: Resource temporarily unavailable" >&2
  exit 1
fi
exec '{real}' "$@""#,
            d = d.display(),
            real = real("ffmpeg").display()
        ),
    );
    let composition = one_unit(d);
    let run = run_with_ffmpeg(d, &composition, &ffmpeg, "out");
    assert_eq!(run.code, 0, "{}\n{}", run.report, run.stderr);
    assert_eq!(
        calls(d),
        2,
        "one failed attempt and one retry, for three elements"
    );
    assert_eq!(run.metric("retries"), 1);
    assert_eq!(run.metric("ffmpegRuns"), 2);
    for id in ["lead", "dup", "member"] {
        assert_eq!(run.element(id)["status"], "ok", "{id}: {}", run.report);
    }
    // The frames are the real ones: equal to a run with the real ffmpeg.
    let plain = extract_json(
        &composition,
        &d.join("plain"),
        &["--no-cache"],
        &[("FRAMEX_FFMPEG", real("ffmpeg").as_os_str())],
    );
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    for id in ["lead", "dup", "member"] {
        assert_eq!(
            frames_in(&d.join("out").join(id)),
            frames_in(&d.join("plain").join(id)),
            "{id}"
        );
    }
    assert_eq!(frames_in(&d.join("out/lead")).len(), 30);
    // Nothing half-done is left in the cache's work area.
    let partials = std::fs::read_dir(d.join("cache/tmp")).unwrap().count();
    assert_eq!(partials, 0, "the failed attempt's partial was removed");
}

#[test]
fn a_failure_that_stays_transient_ends_after_exactly_two_attempts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ffmpeg = fake(
        d,
        "ffmpeg",
        "echo 'av_malloc: Cannot allocate memory' >&2\nexit 1",
    );
    let composition = one_unit(d);
    let run = run_with_ffmpeg(d, &composition, &ffmpeg, "out");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(calls(d), 2, "two attempts in all, however many followers");
    assert_eq!(run.metric("retries"), 1);
    for id in ["lead", "dup", "member"] {
        let e = run.element(id);
        assert_eq!(e["status"], "error");
        assert_eq!(e["errorKind"], "ffmpeg_transient", "{id}: {e}");
        assert_eq!(e["retryable"], true);
        assert!(!d.join("out").join(id).exists(), "no directory for {id}");
    }
    let message = run.element("dup")["error"].as_str().unwrap();
    assert!(
        message.starts_with("[shared extraction, leader lead] ffmpeg failed transiently"),
        "{message}"
    );
    assert!(message.contains("Cannot allocate memory"), "{message}");
}

#[test]
fn killed_by_sigkill_is_transient_and_a_crash_is_not() {
    let real_ffmpeg = real("ffmpeg");
    // SIGKILL (what the OOM killer sends) the first time: retried, succeeds.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ffmpeg = fake(
        d,
        "ffmpeg",
        &format!(
            "if [ ! -e '{d}/killed' ]; then : > '{d}/killed'; kill -KILL $$; fi\nexec '{}' \"$@\"",
            real_ffmpeg.display(),
            d = d.display()
        ),
    );
    let run = run_with_ffmpeg(d, &one_unit(d), &ffmpeg, "out");
    assert_eq!(run.code, 0, "{}\n{}", run.report, run.stderr);
    assert_eq!((calls(d), run.metric("retries")), (2, 1));

    // SIGSEGV: a crash on this input would recur; not retried, not retryable.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ffmpeg = fake(d, "ffmpeg", "kill -SEGV $$");
    let run = run_with_ffmpeg(d, &one_unit(d), &ffmpeg, "out");
    assert_eq!(run.code, 1);
    assert_eq!((calls(d), run.metric("retries")), (1, 0));
    let lead = run.element("lead");
    assert_eq!(lead["errorKind"], "ffmpeg_failed", "{lead}");
    assert_eq!(lead["retryable"], false);
    assert!(lead["error"]
        .as_str()
        .unwrap()
        .contains("killed by signal 11"));
}

#[test]
fn every_per_element_error_has_a_stable_kind_and_the_others_still_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let clip = cfr_clip();
    let src = clip.to_str().unwrap();
    std::fs::write(d.join("notes.mp4"), "not a video at all").unwrap();
    let composition = d.join("composition.json");
    write_composition(
        &composition,
        &[
            element("ok", src, 0.0, 0.5, ""),
            // The clip is 3 s long: past its end is no error, the element
            // shows the last frame, with a warning.
            element("past-end", src, 3.5, 1.0, ""),
            element("missing", "nowhere.mp4", 0.0, 1.0, ""),
            element("not-video", "notes.mp4", 0.0, 1.0, ""),
        ],
    );
    let cache = d.join("cache");
    let run = extract_json(
        &composition,
        &d.join("out"),
        &["--cache-dir", cache.to_str().unwrap()],
        &[],
    );
    assert_eq!(run.code, 1, "some elements failed: {}", run.stderr);
    assert_eq!(run.element("ok")["status"], "ok");
    assert_eq!(run.element("ok")["frames"], 15);
    assert_eq!(run.element("past-end")["status"], "ok");
    assert_eq!(run.element("past-end")["frames"], 30);
    let warnings = &run.report["warnings"];
    assert_eq!(warnings[0]["elementId"], "past-end", "{warnings}");
    for (id, kind) in [
        ("missing", "source_missing"),
        ("not-video", "invalid_media"),
    ] {
        let e = run.element(id);
        assert_eq!(e["status"], "error", "{id}");
        assert_eq!(e["errorKind"], kind, "{id}: {e}");
        assert_eq!(e["retryable"], false, "{id}");
    }

    // ffmpeg that is not there, and ffmpeg that writes nothing.
    let ffmpeg_less = extract_json(
        &composition,
        &d.join("out2"),
        &["--no-cache"],
        &[("FRAMEX_FFMPEG", OsStr::new("/nonexistent/ffmpeg"))],
    );
    assert_eq!(ffmpeg_less.element("ok")["errorKind"], "ffmpeg_unavailable");
    let silent = fake(d, "ffmpeg", "exit 0");
    let zero = extract_json(
        &composition,
        &d.join("out3"),
        &["--no-cache"],
        &[("FRAMEX_FFMPEG", silent.as_os_str())],
    );
    let ok = zero.element("ok");
    assert_eq!(ok["errorKind"], "zero_output", "{ok}");
    assert_eq!(ok["retryable"], false);
}

#[test]
fn ffprobe_is_killed_at_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ffprobe = fake(d, "ffprobe", "exec sleep 60");
    let clip = cfr_clip();
    let composition = d.join("composition.json");
    write_composition(
        &composition,
        &[element("e", clip.to_str().unwrap(), 0.0, 1.0, "")],
    );
    let started = Instant::now();
    let run = extract_json(
        &composition,
        &d.join("out"),
        &["--no-cache", "--timeout", "1"],
        &[("FRAMEX_FFPROBE", ffprobe.as_os_str())],
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let e = run.element("e");
    assert_eq!(e["errorKind"], "ffmpeg_timeout", "{e}");
    assert_eq!(e["retryable"], true);
    assert!(
        e["error"]
            .as_str()
            .unwrap()
            .starts_with("ffprobe timed out after 1 s"),
        "{e}"
    );
    assert_eq!(calls(d), 1, "a timeout is not retried within the run");
}
