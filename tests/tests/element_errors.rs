//! Failures are per element: a missing source, a file that is not a video,
//! a missing ffmpeg or one that fails each fail only the elements that need
//! them, with a stable `errorKind`; elements whose frames a failed decode
//! run was to make report the leader's error with the prefix `[shared
//! extraction, leader <id>]`; nothing half-made is stored; and the exit code
//! says how the run went (0 all ok, 1 some element failed, 2 unusable
//! input). Real ffmpeg behind fake ones (shell scripts given as
//! `FRAMEX_FFMPEG`).

use framex_tests::cfr_clip;
use framex_tests::check::{
    assert_verifies, cache_stats, calls, composition, el, fake_tool, real_tool, Extract,
};
use framex_tests::{framex_command, framex_plan_json};
use serde_json::json;

/// A missing source fails its element only, naming the path; exit code 1.
#[test]
fn a_missing_source_fails_only_its_element() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, cache) = (tmp.path().join("out"), tmp.path().join("cache"));
    let gone = tmp.path().join("no-such-clip.mp4");
    let c = composition(
        tmp.path(),
        "missing.json",
        &[
            json!({"id": "gone", "src": "no-such-clip.mp4", "mediaStart": 0, "duration": 1, "fps": 30, "format": "png"}),
            el("fine", &cfr_clip(), 0.0, 1.0),
        ],
    );
    let run = Extract::new(&c, &out, Some(&cache)).run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    run.assert_failed(&out, "gone", "source_missing", false);
    assert!(
        run.error("gone").contains(gone.to_str().unwrap()),
        "the error names the path: {}",
        run.error("gone")
    );
    run.assert_ok(&out, "fine", 30, "png");
    assert_eq!(run.metric("framesExtracted"), 30);
}

/// A file that is not a video fails its element as invalid media; exit 1.
#[test]
fn a_source_that_is_not_video_is_invalid_media() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, cache) = (tmp.path().join("out"), tmp.path().join("cache"));
    let fake = tmp.path().join("x.mp4");
    std::fs::write(&fake, "this is not a video, only text\n".repeat(20)).unwrap();
    let c = composition(
        tmp.path(),
        "text.json",
        &[
            el("text", &fake, 0.0, 1.0),
            el("fine", &cfr_clip(), 0.0, 0.5),
        ],
    );
    let run = Extract::new(&c, &out, Some(&cache)).run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    run.assert_failed(&out, "text", "invalid_media", false);
    let path = fake.canonicalize().unwrap();
    assert!(
        run.error("text").contains(path.to_str().unwrap()),
        "the error names the path: {}",
        run.error("text")
    );
    run.assert_ok(&out, "fine", 15, "png");
}

/// Elements whose frames must be made with no ffmpeg fail with an error
/// that says how to install it (exit code 1): a missing tool is a
/// per-element error, not a usage error. The duplicate and the element
/// that shares the run carry the leader's error with the prefix.
#[test]
fn missing_ffmpeg_is_a_per_element_error_that_says_how_to_install_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, cache) = (tmp.path().join("out"), tmp.path().join("cache"));
    let clip = cfr_clip();
    let c = composition(
        tmp.path(),
        "noffmpeg.json",
        &[
            el("lead", &clip, 0.0, 1.0),
            el("copy", &clip, 0.0, 1.0),
            el("overlap", &clip, 0.5, 1.0),
        ],
    );
    let run = Extract::new(&c, &out, Some(&cache))
        .with_env("FRAMEX_FFMPEG", "/nonexistent/ffmpeg")
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.metric("ffmpegRuns"), 0);
    assert_eq!(run.metric("framesExtracted"), 0);
    run.assert_failed(&out, "lead", "ffmpeg_unavailable", false);
    let message = run.error("lead");
    for needle in [
        "/nonexistent/ffmpeg",
        "apt-get install ffmpeg",
        "FRAMEX_FFMPEG",
    ] {
        assert!(message.contains(needle), "{needle:?} in {message}");
    }
    for id in ["copy", "overlap"] {
        run.assert_failed(&out, id, "ffmpeg_unavailable", false);
        assert_eq!(
            run.error(id),
            format!("[shared extraction, leader lead] {message}"),
            "{id}"
        );
    }
    assert_eq!(cache_stats(&cache)["frames"], 0, "nothing stored");
}

/// An ffmpeg that fails: the leader carries its exit status and stderr; the
/// duplicate and the element sharing the run carry the leader's error with
/// the prefix; exit code 1; nothing is stored, nothing is left half-written.
#[test]
fn a_failing_ffmpeg_fails_every_sharer_with_the_leader_prefix_and_stores_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, cache) = (tmp.path().join("out"), tmp.path().join("cache"));
    let fake = fake_tool(tmp.path(), "ffmpeg", "echo boom >&2\nexit 1");
    let clip = cfr_clip();
    let c = composition(
        tmp.path(),
        "fail.json",
        &[
            el("lead", &clip, 0.0, 1.0),
            el("copy", &clip, 0.0, 1.0),
            el("overlap", &clip, 0.5, 1.0),
        ],
    );
    let run = Extract::new(&c, &out, Some(&cache))
        .with_args(&["--jobs", "1"])
        .with_env("FRAMEX_FFMPEG", &fake)
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.metric("decodeRuns"), 1);
    assert_eq!((run.metric("ffmpegRuns"), calls(tmp.path())), (1, 1));
    assert_eq!(run.metric("framesExtracted"), 0);
    assert_eq!(run.metric("framesLinked"), 0);
    assert_eq!(run.role("lead"), "leader");
    assert_eq!(run.role("copy"), "duplicate of lead");
    assert_eq!(run.role("overlap"), "shares r1 (leader lead)");

    run.assert_failed(&out, "lead", "ffmpeg_failed", false);
    let message = run.error("lead");
    assert!(message.contains("exit status 1"), "{message}");
    assert!(message.contains("boom"), "ffmpeg's stderr: {message}");
    assert!(!message.starts_with("[shared"), "{message}");
    for id in ["copy", "overlap"] {
        run.assert_failed(&out, id, "ffmpeg_failed", false);
        assert_eq!(
            run.error(id),
            format!("[shared extraction, leader lead] {message}"),
            "{id}"
        );
    }
    let stats = cache_stats(&cache);
    assert_eq!(stats["frames"], 0, "{stats}");
    assert_eq!(stats["blobs"], 0, "{stats}");
    assert_eq!(stats["partials"], 0, "{stats}");
    assert_eq!(assert_verifies(&cache), 0);
}

/// A decode run that fails does not stop the others: the elements of
/// another source get their frames.
#[test]
fn a_failed_run_does_not_stop_the_others() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, cache) = (tmp.path().join("out"), tmp.path().join("cache"));
    let bad = tmp.path().join("bad-source.mp4");
    std::fs::copy(cfr_clip(), &bad).unwrap();
    let fake = fake_tool(
        tmp.path(),
        "ffmpeg",
        &format!(
            "case \"$*\" in *bad-source*) echo 'broken decoder' >&2; exit 1;; esac\nexec '{}' \"$@\"",
            real_tool("ffmpeg").display()
        ),
    );
    let clip = cfr_clip();
    let c = composition(
        tmp.path(),
        "two.json",
        &[
            el("bad", &bad, 0.0, 1.0),
            el("bad-too", &bad, 0.5, 1.0),
            el("good", &clip, 0.0, 1.0),
            el("good-too", &clip, 1.0, 1.0),
        ],
    );
    let run = Extract::new(&c, &out, Some(&cache))
        .with_env("FRAMEX_FFMPEG", &fake)
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    run.assert_failed(&out, "bad", "ffmpeg_failed", false);
    run.assert_failed(&out, "bad-too", "ffmpeg_failed", false);
    assert!(run
        .error("bad-too")
        .starts_with("[shared extraction, leader bad] "));
    run.assert_ok(&out, "good", 30, "png");
    run.assert_ok(&out, "good-too", 30, "png");
    assert_eq!(run.metric("framesExtracted"), 60);
    assert_eq!(run.metric("framesLinked"), 60);
    assert_eq!(cache_stats(&cache)["frames"], 60);
}

/// Exit codes: 0 when every element succeeded, 1 when one failed, 2 for an
/// input framex cannot use (an invalid or missing composition, an unknown
/// flag), before any output directory is made. `framex plan --json` lists
/// the elements whose source cannot be used and exits 1.
#[test]
fn exit_codes_say_how_the_run_went() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let clip = cfr_clip();
    let good = composition(d, "good.json", &[el("ok", &clip, 0.0, 0.2)]);
    assert_eq!(Extract::new(&good, &d.join("out0"), None).run().code, 0);

    let broken = composition(
        d,
        "broken.json",
        &[
            el("ok", &clip, 0.0, 0.2),
            el("gone", &d.join("gone.mp4"), 0.0, 0.2),
        ],
    );
    let run = Extract::new(&broken, &d.join("out1"), None).run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.element("ok")["status"], "ok");

    let invalid = d.join("invalid.json");
    std::fs::write(
        &invalid,
        json!({"elements": [{"id": "a", "src": "x.mp4", "fps": 30}]}).to_string(),
    )
    .unwrap();
    for (what, composition) in [("invalid", invalid), ("missing", d.join("nowhere.json"))] {
        let out = d.join(format!("out-{what}"));
        let run = Extract::new(&composition, &out, None).run();
        assert_eq!(run.code, 2, "{what}: {}", run.stderr);
        assert!(run.stderr.starts_with("framex: "), "{what}: {}", run.stderr);
        assert!(!out.exists(), "{what}: no output directory");
    }
    let run = Extract::new(&good, &d.join("out-flag"), None)
        .with_args(&["--segments", "4"])
        .run();
    assert_eq!(run.code, 2, "an unknown flag: {}", run.stderr);

    // The plan of a composition with an unusable source names it.
    let output = framex_command()
        .args(["--quiet", "plan", "--json", "--no-cache"])
        .arg(&broken)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let errors = plan["elementErrors"].as_array().expect("elementErrors");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["elementId"], "gone");
    assert_eq!(errors[0]["errorKind"], "source_missing");
    assert_eq!(plan["elements"].as_array().unwrap().len(), 1);
    // And without one, plans and exits 0.
    assert_eq!(
        framex_plan_json(&["--no-cache"], &good)["totals"]["elements"],
        1
    );
}
