//! A render farm sharing one frame store (`--store s3://…`, `--shard i/n`),
//! against a real S3-compatible server (s3s over s3s-fs) started in this
//! process on 127.0.0.1, with real framex processes and the real ffmpeg.
//! Run with `--nocapture` to see the figures the README quotes.

#[path = "support/s3.rs"]
mod s3;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use framex_tests::{cfr_clip, frames_in, framex_command, make_clip, write_composition, ExtractRun};
use s3::{files_under, store_env, Fault, FaultProxy, S3Server, SECRET_KEY};

const STORE: &str = "s3://farm/render";

/// 3 s of 320×240 at 30 fps with a keyframe every 10 frames: runs that can
/// be cut between shards.
fn gop10_clip() -> PathBuf {
    make_clip(
        "farm-gop10.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=30",
            "-t",
            "3",
            "-pix_fmt",
            "yuv420p",
            "-c:v",
            "libx264",
            "-g",
            "10",
            "-keyint_min",
            "10",
            "-sc_threshold",
            "0",
        ],
    )
}

/// Two sources, overlapping trims and a duplicate: 180 distinct frames.
fn composition(dir: &Path) -> PathBuf {
    let (a, b) = (gop10_clip(), cfr_clip());
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let el = |id: &str, src: &str, start: f64, duration: f64| {
        format!(
            r#"{{"id": "{id}", "src": "{src}", "mediaStart": {start}, "duration": {duration}, "fps": 30, "format": "png"}}"#
        )
    };
    let path = dir.join("composition.json");
    write_composition(
        &path,
        &[
            el("intro", a, 0.0, 2.0),
            el("middle", a, 1.0, 2.0),
            el("intro-again", a, 0.0, 2.0),
            el("talk", b, 0.0, 3.0),
        ],
    );
    path
}

const DISTINCT: u64 = 180;
const IDS: [&str; 4] = ["intro", "middle", "intro-again", "talk"];

/// `framex --quiet extract … --json` as a child process.
fn spawn(
    dir: &Path,
    out: &str,
    cache: &str,
    endpoint: &str,
    extra: &[&str],
    env: &[(&str, std::ffi::OsString)],
) -> Child {
    framex_command()
        .args(["--quiet", "extract"])
        .arg(dir.join("composition.json"))
        .arg("--out")
        .arg(dir.join(out))
        .arg("--json")
        .arg("--cache-dir")
        .arg(dir.join(cache))
        .args(["--store", STORE, "--store-endpoint", endpoint])
        .args(extra)
        .envs(env.iter().map(|(k, v)| (*k, v)))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("framex starts")
}

fn finish(child: Child) -> ExtractRun {
    let output = child.wait_with_output().expect("framex runs");
    ExtractRun {
        code: output.status.code().unwrap_or(-1),
        report: serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn run(
    dir: &Path,
    out: &str,
    cache: &str,
    endpoint: &str,
    extra: &[&str],
    env: &[(&str, std::ffi::OsString)],
) -> ExtractRun {
    finish(spawn(dir, out, cache, endpoint, extra, env))
}

fn farm_metric(run: &ExtractRun, name: &str) -> u64 {
    run.report["metrics"]["farm"][name]
        .as_u64()
        .unwrap_or_else(|| panic!("farm metric {name} in {}\n{}", run.report, run.stderr))
}

/// The single-machine reference: no shared store.
fn reference(dir: &Path) -> BTreeMap<String, Vec<(String, Vec<u8>)>> {
    let run = framex_tests::extract_json(
        &dir.join("composition.json"),
        &dir.join("reference"),
        &["--cache-dir", dir.join("reference-cache").to_str().unwrap()],
        &[],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.report, run.stderr);
    assert_eq!(run.metric("framesExtracted"), DISTINCT);
    outputs(&dir.join("reference"))
}

fn outputs(out: &Path) -> BTreeMap<String, Vec<(String, Vec<u8>)>> {
    IDS.iter()
        .map(|id| (id.to_string(), frames_in(&out.join(id))))
        .collect()
}

fn assert_same(dir: &Path, out: &str, expected: &BTreeMap<String, Vec<(String, Vec<u8>)>>) {
    let got = outputs(&dir.join(out));
    for (id, frames) in expected {
        assert_eq!(got[id].len(), frames.len(), "{out}/{id}: frame count");
        assert!(
            got[id] == *frames,
            "{out}/{id}: frames differ from the reference"
        );
    }
}

/// Every blob in the bucket hashes to its name: nothing wrong was stored.
fn assert_blobs_sound(server: &S3Server) -> usize {
    let blobs: Vec<PathBuf> = files_under(&server.bucket_dir())
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("/blobs/"))
        .collect();
    for rel in &blobs {
        let bytes = std::fs::read(server.bucket_dir().join(rel)).unwrap();
        let name = rel.file_stem().unwrap().to_string_lossy().into_owned();
        assert_eq!(
            blake3::hash(&bytes).to_hex().as_str(),
            name,
            "{}",
            rel.display()
        );
    }
    blobs.len()
}

#[test]
fn three_shards_make_each_frame_once_and_a_fresh_machine_fetches_everything() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    composition(d);
    let expected = reference(d);
    let server = S3Server::start();
    let env = store_env(d, SECRET_KEY);

    let t = Instant::now();
    let shards: Vec<Child> = (1..=3)
        .map(|i| {
            let shard = format!("{i}/3");
            let events = d.join(format!("events-{i}.jsonl"));
            let events = events.to_str().unwrap();
            let flags = ["--shard", &shard, "--shard-wait", "120"];
            let progress = ["--progress", "json", "--progress-file", events];
            let flags = [&flags[..], &progress[..]].concat();
            spawn(
                d,
                &format!("out-{i}"),
                &format!("cache-{i}"),
                &server.endpoint,
                &flags,
                &env,
            )
        })
        .collect();
    let runs: Vec<ExtractRun> = shards.into_iter().map(finish).collect();
    let farm_time = t.elapsed();
    let mut made = 0;
    for (i, run) in runs.iter().enumerate() {
        assert_eq!(
            run.code,
            0,
            "shard {}: {}\n{}",
            i + 1,
            run.report,
            run.stderr
        );
        assert_same(d, &format!("out-{}", i + 1), &expected);
        let (m, f) = (
            farm_metric(run, "framesMade"),
            farm_metric(run, "framesFetched"),
        );
        assert!(m > 0, "shard {} made nothing: {}", i + 1, run.report);
        assert_eq!(m + f, DISTINCT, "shard {}: made + fetched", i + 1);
        assert_eq!(farm_metric(run, "framesUploaded"), m);
        assert_eq!(farm_metric(run, "unitsCovered"), 0);
        // `run` events per unit made: the last of each counts its frames.
        let text = std::fs::read_to_string(d.join(format!("events-{}.jsonl", i + 1))).unwrap();
        let mut last: BTreeMap<String, u64> = BTreeMap::new();
        for event in text
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        {
            if event["event"] == "run" {
                let unit = event["run"].as_str().unwrap().to_string();
                last.insert(unit, event["framesDone"].as_u64().unwrap());
            }
        }
        assert_eq!(last.values().sum::<u64>(), m, "{text}");
        made += m;
        eprintln!(
            "shard {}/3: made {m}, fetched {f}, uploaded {}, {} B up, {} B down, waited {} ms, {} PUTs, {} GETs",
            i + 1,
            farm_metric(run, "framesUploaded"),
            farm_metric(run, "bytesUp"),
            farm_metric(run, "bytesDown"),
            farm_metric(run, "waitMs"),
            farm_metric(run, "puts"),
            farm_metric(run, "gets"),
        );
    }
    // Each distinct frame made once across the farm, and PUT once.
    assert_eq!(made, DISTINCT);
    let blob_puts = server.puts_of("/blobs/");
    assert_eq!(blob_puts.len() as u64, DISTINCT, "{blob_puts:?}");
    assert!(blob_puts.values().all(|&n| n == 1), "{blob_puts:?}");
    assert_eq!(assert_blobs_sound(&server) as u64, DISTINCT);
    eprintln!("3 shards: {farm_time:?} wall on this machine");

    // A fresh machine: empty local store, everything fetched, nothing made;
    // it plans from the shared probes, so it needs neither ffprobe nor ffmpeg.
    let mut bare = env.clone();
    bare.push(("FRAMEX_FFPROBE", "/bin/false".into()));
    bare.push(("FRAMEX_FFMPEG", "/bin/false".into()));
    let fresh = run(d, "out-fresh", "cache-fresh", &server.endpoint, &[], &bare);
    assert_eq!(fresh.code, 0, "{}\n{}", fresh.report, fresh.stderr);
    assert_same(d, "out-fresh", &expected);
    assert_eq!(fresh.metric("framesExtracted"), 0);
    assert_eq!(fresh.metric("ffmpegRuns"), 0);
    assert_eq!(farm_metric(&fresh, "framesFetched"), DISTINCT);
    assert_eq!(farm_metric(&fresh, "framesUploaded"), 0);
    eprintln!(
        "fresh machine: fetched {} frames ({} B) in {} ms",
        farm_metric(&fresh, "framesFetched"),
        farm_metric(&fresh, "bytesDown"),
        fresh.report["metrics"]["phases"]["totalMs"],
    );
    // Again on it: the local store is a read-through cache.
    let again = run(d, "out-again", "cache-fresh", &server.endpoint, &[], &bare);
    assert_eq!(again.code, 0, "{}\n{}", again.report, again.stderr);
    assert_eq!(farm_metric(&again, "framesFetched"), 0);
    assert_eq!(again.metric("cacheHits"), DISTINCT);
}

/// An ffmpeg that sleeps before it starts: a shard that is slow to make
/// its units, so it can be killed while it holds their claims.
fn slow_ffmpeg(dir: &Path) -> PathBuf {
    let ffmpeg = which_ffmpeg();
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

fn which_ffmpeg() -> PathBuf {
    let out = Command::new("sh")
        .args(["-c", "command -v ffmpeg"])
        .output()
        .unwrap();
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

#[test]
fn a_shard_killed_mid_run_is_covered_by_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    composition(d);
    let expected = reference(d);
    let server = S3Server::start();
    let env = store_env(d, SECRET_KEY);
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

/// Chunk workers (`--frames A..B --fps 30`) make and link only the ticks
/// their chunk of output frames shows; together they are the whole render.
#[test]
fn chunks_make_only_what_they_show_and_add_up_to_the_whole() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (a, b) = (gop10_clip(), cfr_clip());
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let el = |id: &str, src: &str, media_start: f64, start: f64| {
        format!(
            r#"{{"id": "{id}", "src": "{src}", "mediaStart": {media_start}, "duration": 2, "start": {start}, "fps": 30, "format": "png"}}"#
        )
    };
    // On the timeline: intro 0–2 s, middle 2–4 s, talk 1–3 s.
    let composition = d.join("composition.json");
    write_composition(
        &composition,
        &[
            el("intro", a, 0.0, 0.0),
            el("middle", a, 1.0, 2.0),
            el("talk", b, 0.0, 1.0),
        ],
    );
    let whole = framex_tests::extract_json(&composition, &d.join("whole"), &["--no-cache"], &[]);
    assert_eq!(whole.code, 0, "{}\n{}", whole.report, whole.stderr);
    let mut made = Vec::new();
    for (i, range) in ["0..45", "45..120"].into_iter().enumerate() {
        let out = d.join(format!("chunk-{i}"));
        let args = ["--no-cache", "--frames", range, "--fps", "30"];
        let chunk = framex_tests::extract_json(&composition, &out, &args, &[]);
        assert_eq!(chunk.code, 0, "{}\n{}", chunk.report, chunk.stderr);
        made.push(chunk.metric("framesExtracted"));
        eprintln!(
            "chunk {range}: made {} of {} frames",
            chunk.metric("framesExtracted"),
            whole.metric("framesExtracted")
        );
    }
    // Frames 0..45 show intro's ticks 0–44 and talk's 0–14: 60 frames. The
    // rest show intro's 45–59, middle's 0–59 (source frames 30–89) and
    // talk's 15–59: 105, of which source frames 30–44 were made by the
    // first chunk too (no store shared here).
    assert_eq!(whole.metric("framesExtracted"), 150);
    assert_eq!(made, [60, 105]);
    for id in ["intro", "middle", "talk"] {
        let mut joined = frames_in(&d.join("chunk-0").join(id));
        joined.extend(frames_in(&d.join("chunk-1").join(id)));
        joined.sort();
        assert!(joined == frames_in(&d.join("whole").join(id)), "{id}");
    }
    assert_eq!(frames_in(&d.join("chunk-0").join("middle")).len(), 0);
    assert_eq!(frames_in(&d.join("chunk-0").join("talk")).len(), 15);

    // Chunk workers sharing a store share what their chunks have in
    // common: the second fetches source frames 30–44 instead of making them.
    let server = S3Server::start();
    let env = store_env(d, SECRET_KEY);
    let mut counts = Vec::new();
    for (i, range) in ["0..45", "45..120"].into_iter().enumerate() {
        let args = ["--frames", range, "--fps", "30"];
        let chunk = run(
            d,
            &format!("shared-{i}"),
            &format!("cache-{i}"),
            &server.endpoint,
            &args,
            &env,
        );
        assert_eq!(chunk.code, 0, "{}\n{}", chunk.report, chunk.stderr);
        counts.push((
            farm_metric(&chunk, "framesMade"),
            farm_metric(&chunk, "framesFetched"),
        ));
        for id in ["intro", "middle", "talk"] {
            let name = format!("chunk-{i}");
            assert!(
                frames_in(&d.join(format!("shared-{i}")).join(id))
                    == frames_in(&d.join(name).join(id))
            );
        }
    }
    assert_eq!(counts, [(60, 0), (90, 15)]);
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
