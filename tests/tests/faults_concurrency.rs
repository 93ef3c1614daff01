//! Four extractions at once on one store, beside a loop of `framex cache gc
//! --max-size 1 --min-age 0` (issue 7 item 2, issue 14 item 2). Every run
//! exits 0 with the clean run's frames: gc never evicts from under a run
//! (runs hold the store's lock shared, gc exclusive). gc does evict while
//! the extractions go on: after the first round the workers wait until the
//! gc loop has evicted something, and the next round makes every frame
//! again. At the end the store verifies, `tmp/` is empty, and gc with nobody
//! reading empties the store.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use framex_tests::faults::{
    assert_frames, composition, describe, extract_ok, framex, metric, reference, XorShift, IDS,
};
use framex_tests::store::StoreDir;

const WORKERS: usize = 4;
const ROUNDS: usize = 3;

/// What one `cache gc` printed: `evicted <n> indexes or downloads and <m>
/// blobs: …`, or that the store was in use.
enum Gc {
    Evicted(u64),
    Skipped,
}

fn gc_once(cache: &std::path::Path) -> Gc {
    let output = framex()
        .args(["cache", "gc", "--max-size", "1", "--min-age", "0"])
        .args(["--wait", "0", "--cache-dir"])
        .arg(cache)
        .output()
        .expect("framex runs");
    assert_eq!(output.status.code(), Some(0), "gc: {}", describe(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    if stdout.contains("gc skipped") {
        return Gc::Skipped;
    }
    let evicted = stdout
        .strip_prefix("evicted ")
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("gc's output: {stdout}"));
    Gc::Evicted(evicted)
}

#[test]
fn four_extractions_and_a_gc_loop_on_one_store_all_get_correct_frames() {
    let dir = tempfile::tempdir().expect("temp dir");
    let composition = composition(dir.path());
    let reference = reference(&composition, &dir.path().join("reference"));
    let cache = dir.path().join("cache");
    let store = StoreDir::new(&cache);

    let done = AtomicBool::new(false);
    let (evictions, skips) = (AtomicU64::new(0), AtomicU64::new(0));
    // Per round: frames made over the workers' runs of that round.
    let made: [AtomicU64; ROUNDS] = Default::default();
    let distinct = AtomicU64::new(0);
    let between_rounds = Barrier::new(WORKERS + 1);
    let (mut emptied, mut evictions_between) = (false, 0);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                match gc_once(&cache) {
                    Gc::Evicted(0) => {}
                    Gc::Evicted(_) => {
                        evictions.fetch_add(1, Ordering::Relaxed);
                    }
                    Gc::Skipped => {
                        skips.fetch_add(1, Ordering::Relaxed);
                    }
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        let workers: Vec<_> = (0..WORKERS)
            .map(|w| {
                let (composition, reference, cache) = (&composition, &reference, &cache);
                let (made, distinct, between_rounds) = (&made, &distinct, &between_rounds);
                let dir = dir.path();
                scope.spawn(move || {
                    let mut rng = XorShift(0x1234_5678 + w as u64);
                    for (round, made) in made.iter().enumerate() {
                        let checked = std::panic::catch_unwind(AssertUnwindSafe(|| {
                            let out = dir.join(format!("out-{w}-{round}"));
                            let report = extract_ok(composition, &out, Some(cache));
                            made.fetch_add(metric(&report, "framesExtracted"), Ordering::Relaxed);
                            distinct.store(metric(&report, "distinctFrames"), Ordering::Relaxed);
                            // Complete, right frames: nothing was evicted
                            // from under this run (fan-out links the
                            // store's blobs).
                            let what = format!("worker {w} round {round}");
                            assert_frames(&out, &IDS, reference, &what);
                            std::fs::remove_dir_all(&out).expect("clean out");
                        }));
                        // A failed round still meets the others between
                        // rounds: the test fails instead of waiting forever.
                        if round == 0 {
                            between_rounds.wait();
                            between_rounds.wait();
                        }
                        if let Err(panic) = checked {
                            std::panic::resume_unwind(panic);
                        }
                        std::thread::sleep(rng.below(Duration::from_millis(300)));
                    }
                })
            })
            .collect();
        // Every worker finished its first round: wait for the gc loop to
        // empty the store (only gc removes index files) and to say so (it
        // removes the files before it prints what it did).
        between_rounds.wait();
        let waited = Instant::now();
        loop {
            emptied = store.index_files().is_empty();
            evictions_between = evictions.load(Ordering::Relaxed);
            if (emptied && evictions_between > 0) || waited.elapsed() > Duration::from_secs(120) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        between_rounds.wait();
        for worker in workers {
            if let Err(panic) = worker.join() {
                done.store(true, Ordering::Relaxed);
                std::panic::resume_unwind(panic);
            }
        }
        done.store(true, Ordering::Relaxed);
    });

    let distinct = distinct.into_inner();
    let made = made.map(AtomicU64::into_inner);
    assert!(
        emptied && evictions_between > 0,
        "gc did not empty the store between the rounds ({evictions_between} evicting gc runs)"
    );
    assert!(
        made[0] >= distinct && made[1] >= distinct,
        "the first round, and the round after gc emptied the store, make every \
         frame: {made:?} frames made per round, {distinct} distinct"
    );
    assert!(
        skips.load(Ordering::Relaxed) > 0,
        "gc never found the store in use by a run"
    );
    // One index per recipe, every record good, nothing left being written.
    store.assert_clean("after the concurrent runs");
    assert!(store.index_files().len() <= 3, "{:?}", store.index_files());

    // With nobody reading, gc empties the store.
    assert!(matches!(gc_once(&cache), Gc::Evicted(_)));
    assert!(store.index_files().is_empty(), "{:?}", store.index_files());
    assert!(store.blob_files().is_empty(), "{:?}", store.blob_files());
    assert!(store.tmp_leftovers().is_empty());
}
