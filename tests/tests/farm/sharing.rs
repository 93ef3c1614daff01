//! Shards and chunks share the work: three shards make each frame once and
//! a fresh machine fetches everything; chunk workers make only what their
//! chunk shows.

use std::collections::BTreeMap;
use std::process::Child;
use std::time::Instant;

use framex_tests::{cfr_clip, element, frames_in, write_composition, ExtractRun};

use crate::s3::{store_env, S3Server, SECRET_KEY};
use crate::{
    assert_blobs_sound, assert_same, farm_metric, finish, gop10_clip, run, spawn, Farm, DISTINCT,
};

#[test]
fn three_shards_make_each_frame_once_and_a_fresh_machine_fetches_everything() {
    let Farm(dir, expected, server, env) = Farm::start();
    let d = dir.path();

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

/// Chunk workers (`--frames A..B --fps 30`) make and link only the ticks
/// their chunk of output frames shows; together they are the whole render.
#[test]
fn chunks_make_only_what_they_show_and_add_up_to_the_whole() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (a, b) = (gop10_clip(), cfr_clip());
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let el = |id: &str, src: &str, media_start: f64, start: f64| {
        element(id, src, media_start, 2.0, &format!(r#", "start": {start}"#))
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
