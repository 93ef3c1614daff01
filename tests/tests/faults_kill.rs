//! `kill -9` of a running `framex extract` (issue 7 item 1, issue 14 item
//! 1), then a rerun into the same output directory: the rerun must give the
//! clean run's frames byte for byte, serve every frame the killed run
//! published and no other, leave the store clean (`cache verify`, nothing in
//! `tmp/` or `probe/`) and the output directory holding nothing but the
//! elements and the report.
//!
//! Kill moments are random moments of cold, warm and store-less runs, and
//! moments chosen by what the run is doing: just after its first ffmpeg
//! started (the decoders run through a recording wrapper), and just after
//! its first index records were published. Where a kill landed is observed,
//! not guessed: the run is stopped (SIGSTOP), the test looks at its ffmpeg
//! processes and the store, then kills it (SIGKILL). The test asserts how
//! many kills happened and where they landed; it prints nothing.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use framex_tests::fake_ffmpeg::{log_path, logged_pids, write_fake_ffmpeg};
use framex_tests::faults::{
    assert_frames, assert_out_holds, composition, extract_command, extract_ok, metric, reference,
    XorShift, IDS,
};
use framex_tests::processes::{alive, assert_gone, signal};
use framex_tests::store::StoreDir;

/// Kills of a running `framex` the test makes.
const KILLS: usize = 20;
/// Of those, at least this many land while one of its ffmpeg processes runs…
const MIN_WHILE_FFMPEG_RUNS: usize = 4;
/// …and at least this many after it published index records.
const MIN_AFTER_RECORDS: usize = 4;
/// Tries per kill: a run that finishes before its moment is not a kill.
const TRIES: u32 = 5;
const SIGKILL: i32 = 9;

/// How a kill's moment is chosen.
#[derive(Clone, Copy, Debug)]
enum Moment {
    /// A random moment of a run on an empty store.
    RandomCold,
    /// A random moment within 30 ms of the run's first ffmpeg starting.
    AfterFfmpegStarts,
    /// As soon as the run published its first index records (on a store
    /// holding the first half of each index).
    AfterRecords,
    /// A random moment of a run on a full store (probe, plan, fan-out).
    RandomWarm,
    /// A random moment of a run without a store.
    RandomNoStore,
}

const MOMENTS: [Moment; 5] = [
    Moment::RandomCold,
    Moment::AfterFfmpegStarts,
    Moment::AfterRecords,
    Moment::RandomWarm,
    Moment::RandomNoStore,
];

/// What the run was doing when it was killed, seen while it was stopped.
#[derive(Clone, Copy, Debug)]
struct Landing {
    /// One of its ffmpeg processes was running.
    ffmpeg_running: bool,
    /// Index records it appended (whole lines in the store's index files).
    records_published: usize,
}

/// Keeps the first half of the lines of every index file.
fn keep_half(store: &StoreDir) {
    for path in store.index_files() {
        let text = std::fs::read_to_string(&path).expect("read index");
        let lines: Vec<&str> = text.lines().collect();
        let kept: String = lines[..lines.len() / 2]
            .iter()
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&path, kept).expect("write index");
    }
}

/// Waits until `ready` or the child exits; false when it exited first.
fn wait_until(child: &mut std::process::Child, ready: impl Fn() -> bool) -> bool {
    loop {
        if ready() {
            return true;
        }
        if child.try_wait().expect("try_wait").is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn kill_9_at_chosen_and_random_moments_then_a_rerun_completes_with_the_same_frames() {
    let dir = tempfile::tempdir().expect("temp dir");
    let composition = composition(dir.path());
    let t = Instant::now();
    let reference = reference(&composition, &dir.path().join("reference"));
    let no_store = t.elapsed();
    let cache = dir.path().join("cache");
    let store = StoreDir::new(&cache);
    let t = Instant::now();
    let clean = extract_ok(&composition, &dir.path().join("cold"), Some(&cache));
    let cold = t.elapsed();
    let t = Instant::now();
    extract_ok(&composition, &dir.path().join("warm"), Some(&cache));
    let warm = t.elapsed();
    let distinct = metric(&clean, "distinctFrames");
    assert_eq!(
        store.published_lines() as u64,
        distinct,
        "one record per frame"
    );

    let recorder = dir.path().join("ffmpeg-recorder");
    write_fake_ffmpeg(
        &recorder,
        None,
        "echo $$ >> \"$LOG\"\nexec \"$REAL\" \"$@\"",
    );
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    // How long each kind of run takes (cold, warm, without a store): random
    // moments are drawn within it. A run that finishes before its moment
    // (the machine got faster) is tried again, its kind's span set to how
    // long that run took.
    let mut spans = [cold, warm, no_store];
    let (mut kills, mut while_ffmpeg, mut after_records) = (0, 0, 0);
    for n in 0..KILLS {
        let moment = MOMENTS[n % MOMENTS.len()];
        let with_store = !matches!(moment, Moment::RandomNoStore);
        let out = dir.path().join(format!("out-{n}"));
        let mut landing = None;
        for _ in 0..TRIES {
            match moment {
                Moment::RandomCold | Moment::AfterFfmpegStarts => {
                    let _ = std::fs::remove_dir_all(&cache);
                }
                Moment::AfterRecords => keep_half(&store),
                Moment::RandomWarm | Moment::RandomNoStore => {}
            }
            let before = store.published_lines();
            let _ = std::fs::remove_file(log_path(&recorder));
            let started = Instant::now();
            let mut child = extract_command(&composition, &out, with_store.then_some(&*cache))
                .env("FRAMEX_FFMPEG", &recorder)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("framex starts");
            let mut random = |kind: usize| {
                let at = rng.below(spans[kind] * 9 / 10);
                let reached = wait_until(&mut child, || started.elapsed() >= at);
                if !reached {
                    spans[kind] = started.elapsed();
                }
                reached
            };
            let reached = match moment {
                Moment::RandomCold => random(0),
                Moment::RandomWarm => random(1),
                Moment::RandomNoStore => random(2),
                Moment::AfterFfmpegStarts => {
                    let ran = wait_until(&mut child, || !logged_pids(&recorder).is_empty());
                    let at = started.elapsed() + rng.below(Duration::from_millis(30));
                    ran && wait_until(&mut child, || started.elapsed() >= at)
                }
                Moment::AfterRecords => wait_until(&mut child, || store.published_lines() > before),
            };
            if !reached {
                // The run finished first (and was reaped): not a kill.
                let _ = std::fs::remove_dir_all(&out);
                continue;
            }
            // Stopped, the run cannot change anything: what the test sees
            // is where the kill lands.
            signal(child.id(), "-STOP");
            let seen = Landing {
                ffmpeg_running: logged_pids(&recorder).into_iter().any(alive),
                records_published: store.published_lines().saturating_sub(before),
            };
            child.kill().expect("SIGKILL framex");
            let status = child.wait().expect("reap framex");
            // Its ffmpeg processes (a group of their own) end at their next
            // write into the dead run's pipe.
            assert_gone(
                &logged_pids(&recorder),
                Duration::from_secs(20),
                "ffmpeg of a killed run",
            );
            if status.signal() == Some(SIGKILL) {
                landing = Some((seen, before));
                break;
            }
            // It finished between its moment and the signal: not a kill.
            let _ = std::fs::remove_dir_all(&out);
        }
        let Some((seen, before)) = landing else {
            panic!(
                "kill {n} ({moment:?}): the run finished before its moment {TRIES} times \
                 (spans now {spans:?})"
            );
        };
        kills += 1;
        while_ffmpeg += usize::from(seen.ffmpeg_running);
        after_records += usize::from(seen.records_published > 0);

        // The rerun, at once, into the same output directory.
        let what = format!("rerun after kill {n} ({moment:?}, {seen:?})");
        let report = extract_ok(&composition, &out, with_store.then_some(&*cache));
        assert_frames(&out, &IDS, &reference, &what);
        assert_out_holds(&out, &IDS, &what);
        if with_store {
            // Every record the killed run published is served, and only
            // the frames it did not publish are made.
            let stored = (before + seen.records_published) as u64;
            assert_eq!(metric(&report, "cacheMisses"), distinct - stored, "{what}");
            assert_eq!(
                metric(&report, "framesExtracted"),
                distinct - stored,
                "{what}"
            );
            assert_eq!(store.published_lines() as u64, distinct, "{what}");
            store.assert_clean(&what);
        }
        remove_out(&out);
    }
    assert_eq!(kills, KILLS, "kills of a running framex");
    assert!(
        while_ffmpeg >= MIN_WHILE_FFMPEG_RUNS,
        "{while_ffmpeg} of {KILLS} kills landed while ffmpeg ran"
    );
    assert!(
        after_records >= MIN_AFTER_RECORDS,
        "{after_records} of {KILLS} kills landed after index records were published"
    );
}

fn remove_out(out: &Path) {
    std::fs::remove_dir_all(out).expect("clean the output");
}
