//! A farm under failure: a shard killed mid-run, a faulty network, a failing
//! store or wrong credentials, a unit whose ffmpeg fails.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use framex_tests::check::real_tool;
use framex_tests::{cfr_clip, write_composition, ExtractRun};

use crate::s3::{files_under, store_env, Fault, FaultProxy, S3Server, SECRET_KEY};
use crate::{
    assert_blobs_sound, assert_same, composition, farm_metric, finish, reference, run, spawn, Farm,
    DISTINCT, STORE,
};

/// An ffmpeg that sleeps before it starts: a shard that is slow to make
/// its units, so it can be killed while it holds their claims.
fn slow_ffmpeg(dir: &Path) -> PathBuf {
    let ffmpeg = real_tool("ffmpeg");
    let path = dir.join("slow-ffmpeg.sh");
    std::fs::write(
        &path,
        format!("#!/bin/sh\nsleep 15\nexec {} \"$@\"\n", ffmpeg.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn a_shard_killed_mid_run_is_covered_by_the_others() {
    let Farm(dir, expected, server, env) = Farm::start();
    let d = dir.path();
    let flags = |shard: &str| -> Vec<String> {
        ["--shard", shard, "--shard-wait", "2", "--lease", "2"]
            .map(String::from)
            .to_vec()
    };
    let spawn_shard = |i: u32, extra_env: &[(&str, std::ffi::OsString)]| {
        let f = flags(&format!("{i}/3"));
        let f: Vec<&str> = f.iter().map(String::as_str).collect();
        let mut env = env.clone();
        env.extend(extra_env.iter().cloned());
        spawn(
            d,
            &format!("out-{i}"),
            &format!("cache-{i}"),
            &server.endpoint,
            &f,
            &env,
        )
    };
    let slow = slow_ffmpeg(d);
    let mut doomed = spawn_shard(2, &[("FRAMEX_FFMPEG", slow.into_os_string())]);
    // Killed once it holds claims (its ffmpeg is asleep by then).
    let claims = server.bucket_dir().join("render/v2/claims");
    let t = Instant::now();
    loop {
        let held = files_under(&claims)
            .iter()
            .any(|p| std::fs::read_to_string(claims.join(p)).is_ok_and(|s| s.contains("\"2/3\"")));
        if held {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "shard 2 never claimed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let others: Vec<Child> = [1, 3].into_iter().map(|i| spawn_shard(i, &[])).collect();
    std::thread::sleep(Duration::from_millis(300));
    doomed.kill().unwrap();
    let _ = doomed.wait();
    let runs: Vec<ExtractRun> = others.into_iter().map(finish).collect();
    let mut covered = 0;
    for (run, i) in runs.iter().zip([1, 3]) {
        assert_eq!(run.code, 0, "shard {i}: {}\n{}", run.report, run.stderr);
        assert_same(d, &format!("out-{i}"), &expected);
        covered += farm_metric(run, "unitsCovered");
        eprintln!(
            "shard {i}/3 (shard 2 killed): made {}, fetched {}, covered {} units, waited {} ms",
            farm_metric(run, "framesMade"),
            farm_metric(run, "framesFetched"),
            farm_metric(run, "unitsCovered"),
            farm_metric(run, "waitMs"),
        );
    }
    assert!(covered > 0, "nobody covered the dead shard's units");
    // The dead shard made nothing (its ffmpeg was asleep); the claims kept
    // the two live ones from making the same unit twice.
    let made: u64 = runs.iter().map(|r| farm_metric(r, "framesMade")).sum();
    assert_eq!(made, DISTINCT);
    assert_eq!(assert_blobs_sound(&server) as u64, DISTINCT);
}

/// 500s, dropped connections, one hang, and wrong bytes in blob downloads,
/// between framex and the server: survived, nothing wrong served.
#[test]
fn a_faulty_network_is_survived_and_nothing_wrong_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    composition(d);
    let expected = reference(d);
    let server = S3Server::start();
    let proxy = FaultProxy::start(
        &server.endpoint,
        Box::new(|n, method, path| match n {
            0 => Fault::Pass,
            7 => Fault::Hang,
            _ if n % 9 == 2 => Fault::Error500,
            _ if n % 9 == 5 => Fault::Reset,
            _ if method == "GET" && path.contains("/blobs/") && n % 5 == 0 => Fault::Corrupt,
            _ => Fault::Pass,
        }),
    );
    let env = store_env(d, SECRET_KEY);
    let flags = ["--store-timeout", "2", "--shard-wait", "5"];
    let first = run(d, "out-1", "cache-1", &proxy.endpoint, &flags, &env);
    assert_eq!(first.code, 0, "{}\n{}", first.report, first.stderr);
    assert_same(d, "out-1", &expected);
    assert_eq!(farm_metric(&first, "framesUploaded"), DISTINCT);
    let fresh = run(d, "out-2", "cache-2", &proxy.endpoint, &flags, &env);
    assert_eq!(fresh.code, 0, "{}\n{}", fresh.report, fresh.stderr);
    assert_same(d, "out-2", &expected);
    let made = farm_metric(&fresh, "framesMade");
    assert_eq!(made + farm_metric(&fresh, "framesFetched"), DISTINCT);
    // Every wrong download was caught by its digest.
    assert_eq!(
        farm_metric(&fresh, "badDownloads"),
        proxy.injected(Fault::Corrupt)
    );
    assert!(proxy.injected(Fault::Corrupt) > 0);
    assert_eq!(assert_blobs_sound(&server) as u64, DISTINCT);
    eprintln!(
        "through the faulty proxy: {} requests, {} × 500, {} resets, {} hang, {} corrupted downloads (all caught; {made} frames made again)",
        proxy.requests.load(std::sync::atomic::Ordering::Relaxed),
        proxy.injected(Fault::Error500),
        proxy.injected(Fault::Reset),
        proxy.injected(Fault::Hang),
        proxy.injected(Fault::Corrupt),
    );
}

/// A store that fails every write, or never answers, is reported with a
/// retryable kind; wrong credentials with a clear error naming the store.
#[test]
fn a_failing_store_is_reported_retryable_and_wrong_credentials_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // One element: each failing request waits out its retries.
    let path = d.join("composition.json");
    let clip = cfr_clip();
    write_composition(
        &path,
        &[framex_tests::element(
            "talk",
            clip.to_str().unwrap(),
            0.0,
            0.5,
            "",
        )],
    );
    let server = S3Server::start();
    let env = store_env(d, SECRET_KEY);
    let flags = ["--store-timeout", "1", "--shard-wait", "1"];

    let puts_fail = FaultProxy::start(
        &server.endpoint,
        Box::new(|_, method, _| {
            if method == "PUT" {
                Fault::Error500
            } else {
                Fault::Pass
            }
        }),
    );
    let failed = run(d, "out-1", "cache-1", &puts_fail.endpoint, &flags, &env);
    assert_eq!(failed.code, 1, "{}\n{}", failed.report, failed.stderr);
    let talk = failed.element("talk");
    assert_eq!(talk["errorKind"], "store_unavailable", "{talk}");
    assert_eq!(talk["retryable"], true);
    assert!(talk["error"].as_str().unwrap().contains(STORE), "{talk}");

    let silent = FaultProxy::start(&server.endpoint, Box::new(|_, _, _| Fault::Hang));
    let t = Instant::now();
    let hung = run(d, "out-2", "cache-2", &silent.endpoint, &flags, &env);
    assert_eq!(hung.code, 1, "{}\n{}", hung.report, hung.stderr);
    assert_eq!(hung.element("talk")["errorKind"], "store_unavailable");
    assert_eq!(hung.element("talk")["retryable"], true);
    eprintln!("a silent store is reported after {:?}", t.elapsed());

    let wrong = store_env(d, "not-the-secret");
    let denied = run(d, "out-3", "cache-3", &server.endpoint, &flags, &wrong);
    assert_eq!(denied.code, 2, "{}", denied.stderr);
    assert!(
        denied.stderr.contains(STORE) && denied.stderr.contains("access denied"),
        "{}",
        denied.stderr
    );
    assert!(!denied.stderr.contains("not-the-secret"));
    eprintln!("wrong credentials: {}", denied.stderr.trim());
    eprintln!("failing writes: {}", talk["error"]);
    assert!(!d.join("out-3").join("talk").exists());
}

/// A unit whose ffmpeg fails fails its elements once, with ffmpeg's kind:
/// the wait for other shards does not make it again and again.
#[test]
fn a_failing_unit_fails_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let path = d.join("composition.json");
    let clip = cfr_clip();
    let src = clip.to_str().unwrap();
    write_composition(&path, &[framex_tests::element("talk", src, 0.0, 0.5, "")]);
    let server = S3Server::start();
    let mut env = store_env(d, SECRET_KEY);
    env.push(("FRAMEX_FFMPEG", "/bin/false".into()));
    let flags = ["--shard", "1/2", "--shard-wait", "1", "--lease", "1"];
    let t = Instant::now();
    let failed = run(d, "out", "cache", &server.endpoint, &flags, &env);
    assert_eq!(failed.code, 1, "{}\n{}", failed.report, failed.stderr);
    assert_eq!(failed.element("talk")["errorKind"], "ffmpeg_failed");
    assert!(failed.metric("ffmpegRuns") <= 2, "{}", failed.report);
    assert!(t.elapsed() < Duration::from_secs(120));
}
