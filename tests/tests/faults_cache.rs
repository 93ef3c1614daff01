//! Faults around the frame cache (issue 7, items 1, 2, 6 and 7): `kill -9`
//! at random moments of a run, four extractions and a gc on one cache at
//! once, a tampered cache, a full disk. Real `framex` processes, real ffmpeg,
//! real signals, small lavfi clips; every test has its own temporary
//! directories. Nothing here asserts a duration: times only choose when to
//! kill and are printed as figures (`--nocapture`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use framex_tests::{framex_command, make_clip};

/// The tests of this file are heavy, and where a kill lands depends on the
/// load: they run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// 4 s of 640×360 testsrc2 at 30 fps, H.264, a keyframe every second.
fn clip_a() -> PathBuf {
    make_clip(
        "faults-a-640x360-30.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=30",
            "-t",
            "4",
            "-pix_fmt",
            "yuv420p",
            "-c:v",
            "libx264",
            "-g",
            "30",
        ],
    )
}

/// 3 s of 640×360 testsrc at 25 fps, H.264.
fn clip_b() -> PathBuf {
    make_clip(
        "faults-b-640x360-25.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=640x360:rate=25",
            "-t",
            "3",
            "-pix_fmt",
            "yuv420p",
            "-c:v",
            "libx264",
            "-g",
            "25",
        ],
    )
}

/// The composition's element ids.
const IDS: [&str; 6] = ["a-full", "a-dup", "a-overlap", "a-jpeg", "b-main", "b-dup"];

/// Writes the composition into `dir`: two sources; a duplicate of each;
/// `a-full` and `a-overlap` overlap (one superset unit, each published as an
/// entry of its own); PNG and JPEG. 4 unique works, 3 ffmpeg runs, 316 frames.
fn composition(dir: &Path) -> PathBuf {
    let (a, b) = (clip_a(), clip_b());
    let element = |id: &str, src: &Path, start: f64, duration: f64, fps: u32, format: &str| {
        serde_json::json!({
            "id": id, "src": src.to_str().expect("UTF-8 media path"), "mediaStart": start,
            "duration": duration, "fps": fps, "format": format,
        })
    };
    let elements = vec![
        element(IDS[0], &a, 0.0, 2.0, 30, "png"),
        element(IDS[1], &a, 0.0, 2.0, 30, "png"),
        element(IDS[2], &a, 1.5, 2.0, 30, "png"),
        element(IDS[3], &a, 0.5, 1.5, 24, "jpeg"),
        element(IDS[4], &b, 0.4, 2.0, 25, "png"),
        element(IDS[5], &b, 0.4, 2.0, 25, "png"),
    ];
    let path = dir.join("composition.json");
    let text = serde_json::to_string_pretty(&serde_json::json!({ "elements": elements }))
        .expect("JSON serializes");
    std::fs::write(&path, text).expect("write composition");
    path
}

/// `framex --quiet …`.
fn framex() -> Command {
    let mut command = framex_command();
    command.arg("--quiet");
    command
}

fn extract_command(composition: &Path, out: &Path, cache: Option<&Path>) -> Command {
    let mut command = framex();
    command
        .arg("extract")
        .arg(composition)
        .arg("--out")
        .arg(out);
    match cache {
        Some(cache) => command.arg("--cache-dir").arg(cache),
        None => command.arg("--no-cache"),
    };
    command
}

fn extract(composition: &Path, out: &Path, cache: Option<&Path>) -> Output {
    extract_command(composition, out, cache)
        .output()
        .expect("framex runs")
}

fn text(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Runs an extraction that must succeed; returns its report.
fn extract_ok(composition: &Path, out: &Path, cache: Option<&Path>) -> serde_json::Value {
    let output = extract(composition, out, cache);
    assert_eq!(output.status.code(), Some(0), "extract: {}", text(&output));
    let report = report(out).expect("a successful run writes its report");
    for id in IDS {
        assert_eq!(report["elements"][id]["status"], "ok", "{id}: {report}");
    }
    report
}

fn report(out: &Path) -> Option<serde_json::Value> {
    let bytes = std::fs::read(out.join("framex-report.json")).ok()?;
    Some(serde_json::from_slice(&bytes).expect("the report is JSON"))
}

fn metric(report: &serde_json::Value, name: &str) -> u64 {
    report["metrics"][name]
        .as_u64()
        .unwrap_or_else(|| panic!("metric {name} in {report}"))
}

/// Element id → frame file name → bytes.
type Frames = BTreeMap<String, BTreeMap<String, Vec<u8>>>;

fn read_frames(out: &Path, ids: &[&str]) -> Frames {
    ids.iter()
        .map(|id| {
            let dir = out.join(id);
            let files = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .map(|entry| {
                    let entry = entry.expect("a directory entry");
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let bytes = std::fs::read(entry.path()).expect("read frame");
                    (name, bytes)
                })
                .collect();
            (id.to_string(), files)
        })
        .collect()
}

/// Every element of `ids` in `out` has exactly the reference's frames, byte
/// for byte.
fn assert_frames(out: &Path, ids: &[&str], reference: &Frames, what: &str) {
    let got = read_frames(out, ids);
    for id in ids {
        let (got, want) = (&got[*id], &reference[*id]);
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "{what}: {id} has other frame files than the reference"
        );
        for (name, bytes) in want {
            assert!(
                got[name] == *bytes,
                "{what}: {id}/{name} differs from the reference"
            );
        }
    }
}

/// The clean reference: the composition extracted without a cache.
fn reference(composition: &Path, out: &Path) -> Frames {
    let output = extract(composition, out, None);
    assert_eq!(
        output.status.code(),
        Some(0),
        "reference: {}",
        text(&output)
    );
    let frames = read_frames(out, &IDS);
    let counts: Vec<usize> = IDS.iter().map(|id| frames[*id].len()).collect();
    assert_eq!(counts, [60, 60, 60, 36, 50, 50], "reference frame counts");
    frames
}

/// `framex cache verify` (deep unless `fast`): exit code, stdout, entries
/// checked, bad entries.
struct Verify {
    code: Option<i32>,
    stdout: String,
    entries: u64,
    bad: u64,
}

fn verify(cache: &Path, fast: bool) -> Verify {
    let mut command = framex();
    command.args(["cache", "verify", "--cache-dir"]).arg(cache);
    if fast {
        command.arg("--fast");
    }
    let output = command.output().expect("framex runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let last = stdout.lines().last().unwrap_or_default();
    // "<n> entries checked, <m> bad"
    let numbers: Vec<u64> = last
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    assert!(
        numbers.len() == 2 && last.ends_with(" bad"),
        "verify's summary line: {}",
        text(&output)
    );
    Verify {
        code: output.status.code(),
        stdout,
        entries: numbers[0],
        bad: numbers[1],
    }
}

/// A cache that `verify` finds fully good.
fn assert_verifies(cache: &Path, what: &str) -> Verify {
    let v = verify(cache, false);
    assert!(
        v.code == Some(0) && v.bad == 0,
        "{what}: verify: {:?}\n{}",
        v.code,
        v.stdout
    );
    v
}

/// Published entry directories: (shard, key, path), sorted.
fn entries(cache: &Path) -> Vec<(String, String, PathBuf)> {
    let mut out = Vec::new();
    let Ok(shards) = std::fs::read_dir(cache.join("v1")) else {
        return out;
    };
    for shard in shards {
        let shard = shard.expect("a shard").path();
        if !shard.is_dir() {
            continue;
        }
        let shard_name = shard.file_name().unwrap().to_string_lossy().into_owned();
        for entry in std::fs::read_dir(&shard).expect("read shard") {
            let path = entry.expect("an entry").path();
            let key = path.file_name().unwrap().to_string_lossy().into_owned();
            out.push((shard_name.clone(), key, path));
        }
    }
    out.sort();
    out
}

/// Names under `<cache>/tmp` (partials and their locks).
fn tmp_leftovers(cache: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(cache.join("tmp"))
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Temporary files left in `<cache>/probe` (remembered probes are written
/// to a temporary name and renamed).
fn probe_leftovers(cache: &Path) -> Vec<String> {
    std::fs::read_dir(cache.join("probe"))
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.contains(".tmp"))
                .collect()
        })
        .unwrap_or_default()
}

/// Live processes whose command line mentions `path` and `also` (an ffmpeg
/// writing into a partial of the cache at `path`, say). Zombies have no
/// command line.
fn processes_using(path: &Path, also: &str) -> Vec<u32> {
    let needle = path.as_os_str().as_encoded_bytes();
    let also = also.as_bytes();
    let mentions = |cmd: &[u8], what: &[u8]| cmd.windows(what.len()).any(|w| w == what);
    let me = std::process::id();
    let Ok(proc_dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    proc_dir
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmd| mentions(&cmd, needle) && mentions(&cmd, also))
        })
        .collect()
}

/// Waits until no process mentions `path` any more; returns how long that
/// took. A hang guard, not a timing assertion: a process still there after
/// a minute is a leak.
fn wait_for_no_processes(path: &Path, also: &str) -> Duration {
    let t = Instant::now();
    while !processes_using(path, also).is_empty() {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "processes {:?} still use {} a minute later",
            processes_using(path, also),
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    t.elapsed()
}

/// A small deterministic PRNG (xorshift64*): the same kill moments every run
/// on the same machine.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-ish in `0..=max`.
    fn below(&mut self, max: Duration) -> Duration {
        let micros = max.as_micros() as u64;
        Duration::from_micros(self.next() % (micros + 1))
    }
}

/// Where a kill landed, judged from what the killed run left behind.
fn landing(out: &Path, cache: &Path, entries_before: usize, exited: bool) -> &'static str {
    if exited {
        return "none (the run had finished)";
    }
    if out.join("framex-report.json").exists() {
        return "report written, exiting";
    }
    let out_names: Vec<String> = std::fs::read_dir(out)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    if out_names
        .iter()
        .any(|n| IDS.contains(&n.as_str()) || n.contains(".framex-partial."))
    {
        return "fan-out";
    }
    if entries(cache).len() > entries_before {
        return "extraction, some entries published";
    }
    if tmp_leftovers(cache).iter().any(|n| !n.ends_with(".lock")) {
        return "extraction, nothing published yet";
    }
    "startup, probe or plan"
}

/// Kills of a running `framex extract`.
const KILLS: usize = 20;

#[test]
fn kill_9_at_random_moments_then_a_rerun_completes_with_the_same_frames() {
    let _serial = serial();
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let composition = composition(dir.path());
    let reference = reference(&composition, &dir.path().join("reference"));

    // How long clean runs take, cold and warm, with a cache (the shorter
    // of two, as other work on the machine only lengthens them): the kill
    // moments are spread over these.
    let (mut cold, mut warm) = (Duration::MAX, Duration::MAX);
    for n in 0..2 {
        let scratch = dir.path().join(format!("scratch-cache-{n}"));
        let t = Instant::now();
        extract_ok(
            &composition,
            &dir.path().join(format!("cold-{n}")),
            Some(&scratch),
        );
        cold = cold.min(t.elapsed());
        let t = Instant::now();
        extract_ok(
            &composition,
            &dir.path().join(format!("warm-{n}")),
            Some(&scratch),
        );
        warm = warm.min(t.elapsed());
    }

    let cache = dir.path().join("cache");
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut landed: BTreeMap<&str, u32> = BTreeMap::new();
    let (mut killed, mut orphans, mut orphans_gone) = (0, 0, Duration::ZERO);
    let mut fanout_leftovers = 0;
    // 20 kills of a running framex; a run that finishes before its kill
    // moment does not count (the machine may be faster than measured).
    let mut attempts = 0;
    while killed < KILLS && attempts < 2 * KILLS {
        let i = attempts;
        attempts += 1;
        // Vary what the killed run finds: an empty cache (probe, ffmpeg,
        // publish, fan-out all happen), half the entries, or all of them.
        let (mode, span) = match i % 4 {
            0 | 1 => {
                let _ = std::fs::remove_dir_all(&cache);
                ("cold", cold)
            }
            2 => {
                for (_, _, path) in entries(&cache).iter().step_by(2) {
                    std::fs::remove_dir_all(path).expect("drop an entry");
                }
                ("half-warm", cold)
            }
            _ => ("warm", warm),
        };
        let delay = rng.below(span + span / 10);
        let entries_before = entries(&cache).len();
        let out = dir.path().join(format!("out-{i}"));
        let mut child: Child = extract_command(&composition, &out, Some(&cache))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("framex starts");
        std::thread::sleep(delay);
        let exited = child.try_wait().expect("try_wait").is_some();
        child.kill().expect("SIGKILL framex");
        let killed_at = Instant::now();
        let status = child.wait().expect("reap framex");
        if !exited {
            killed += 1;
        }
        let place = landing(&out, &cache, entries_before, exited);
        *landed.entry(place).or_default() += 1;
        // The dead run's ffmpeg children write into partials named after
        // its pid; nothing kills them: they end at their next failed write
        // (the progress pipe, or a frame into a partial swept away).
        let dead = format!(".{}.", child.id());
        let left_running = processes_using(&cache, &dead).len();
        orphans += left_running;

        // The rerun, at once (an orphaned ffmpeg may still be writing into
        // the dead run's partial), into the same output directory, while
        // this thread watches the orphans go.
        let (report, orphan_life) = std::thread::scope(|scope| {
            let rerun = scope.spawn(|| extract_ok(&composition, &out, Some(&cache)));
            wait_for_no_processes(&cache, &dead);
            let life = killed_at.elapsed();
            match rerun.join() {
                Ok(report) => (report, life),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        });
        if left_running > 0 {
            orphans_gone = orphans_gone.max(orphan_life);
        }
        println!(
            "attempt {i:2} ({mode}, after {:4} ms): {place}; {status}; {left_running} ffmpeg left running{}",
            delay.as_millis(),
            if left_running > 0 {
                format!(", gone {} ms after the kill", orphan_life.as_millis())
            } else {
                String::new()
            }
        );
        assert_eq!(metric(&report, "elements"), 6);
        assert_verifies(&cache, &format!("after kill {i}"));
        assert_frames(&out, &IDS, &reference, &format!("rerun after kill {i}"));
        fanout_leftovers += std::fs::read_dir(&out)
            .expect("read out")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains(".framex-partial."))
            .count();
        // The rerun swept what the dead run left in tmp/ (its locks are
        // free), even with an orphaned ffmpeg still writing into it.
        let tmp = tmp_leftovers(&cache);
        assert!(
            tmp.is_empty(),
            "after the rerun of kill {i}, left in tmp/: {tmp:?}"
        );
        let _ = std::fs::remove_dir_all(&out);
    }
    // A last run sweeps everything the dead runs left in tmp/.
    extract_ok(&composition, &dir.path().join("last"), Some(&cache));
    let tmp = tmp_leftovers(&cache);
    assert!(tmp.is_empty(), "partials left after the last run: {tmp:?}");

    let summary: Vec<String> = landed.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    println!(
        "crash summary: {killed} kills of a running framex in {attempts} attempts \
         ({} runs finished first); landed: {}; \
         {orphans} orphaned ffmpeg seen after kills, each gone within {} ms of its kill; \
         {fanout_leftovers} stale fan-out partial dirs left in rerun output dirs; \
         clean cold run {} ms, warm {} ms; test took {:.1} s",
        attempts - killed,
        summary.join(", "),
        orphans_gone.as_millis(),
        cold.as_millis(),
        warm.as_millis(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn four_extractions_and_a_gc_on_one_cache_all_get_correct_frames() {
    let _serial = serial();
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let composition = composition(dir.path());
    let reference = reference(&composition, &dir.path().join("reference"));
    let cache = dir.path().join("cache");

    const WORKERS: usize = 4;
    const ROUNDS: usize = 3;
    let done = AtomicBool::new(false);
    let (gc_runs, gc_evicting_runs, gc_evicted) =
        (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
    let cold_runs = AtomicU64::new(0);
    std::thread::scope(|scope| {
        // gc with a 1-byte cap and no age guard: it evicts everything it
        // may, whenever no extraction holds the cache.
        scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                let output = framex()
                    .args(["cache", "gc", "--max-size", "1", "--min-age", "0"])
                    .args(["--wait", "0", "--cache-dir"])
                    .arg(&cache)
                    .output()
                    .expect("framex runs");
                assert_eq!(output.status.code(), Some(0), "gc: {}", text(&output));
                gc_runs.fetch_add(1, Ordering::Relaxed);
                let stdout = String::from_utf8_lossy(&output.stdout);
                if let Some(n) = stdout
                    .strip_prefix("evicted ")
                    .and_then(|s| s.split(' ').next())
                    .and_then(|n| n.parse::<u64>().ok())
                {
                    if n > 0 {
                        gc_evicting_runs.fetch_add(1, Ordering::Relaxed);
                        gc_evicted.fetch_add(n, Ordering::Relaxed);
                    }
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        let workers: Vec<_> = (0..WORKERS)
            .map(|w| {
                let (composition, reference, cache, dir) =
                    (&composition, &reference, &cache, dir.path());
                let cold_runs = &cold_runs;
                scope.spawn(move || {
                    let mut rng = XorShift(0x1234_5678 + w as u64);
                    for round in 0..ROUNDS {
                        let out = dir.join(format!("out-{w}-{round}"));
                        let report = extract_ok(composition, &out, Some(cache));
                        if metric(&report, "ffmpegRuns") > 0 {
                            cold_runs.fetch_add(1, Ordering::Relaxed);
                        }
                        // Correct and complete frames prove no entry was
                        // evicted from under this reader: fan-out links
                        // from the entries.
                        assert_frames(&out, &IDS, reference, &format!("worker {w} round {round}"));
                        std::fs::remove_dir_all(&out).expect("clean out");
                        std::thread::sleep(rng.below(Duration::from_millis(400)));
                    }
                })
            })
            .collect();
        for worker in workers {
            if let Err(panic) = worker.join() {
                done.store(true, Ordering::Relaxed);
                std::panic::resume_unwind(panic);
            }
        }
        done.store(true, Ordering::Relaxed);
    });

    // Every key has one good entry, in its shard; nothing is left in tmp/.
    let v = assert_verifies(&cache, "after the concurrent runs");
    let found = entries(&cache);
    let mut keys: Vec<&str> = found.iter().map(|(_, k, _)| k.as_str()).collect();
    keys.dedup();
    assert_eq!(keys.len(), found.len(), "one directory per key");
    for (shard, key, _) in &found {
        assert!(
            key.len() == 64 && key.starts_with(shard.as_str()),
            "{shard}/{key}"
        );
    }
    assert!(found.len() <= 4 && v.entries as usize == found.len());
    let tmp = tmp_leftovers(&cache);
    assert!(tmp.is_empty(), "left in tmp/: {tmp:?}");

    // With nobody reading, gc empties the cache.
    let output = framex()
        .args([
            "cache",
            "gc",
            "--max-size",
            "1",
            "--min-age",
            "0",
            "--cache-dir",
        ])
        .arg(&cache)
        .output()
        .expect("framex runs");
    assert_eq!(output.status.code(), Some(0), "gc: {}", text(&output));
    assert!(entries(&cache).is_empty(), "gc left {:?}", entries(&cache));
    assert!(tmp_leftovers(&cache).is_empty());
    println!(
        "concurrency summary: {WORKERS} processes × {ROUNDS} rounds, all exit 0 with the \
         reference's frames ({} of the {} runs extracted); gc ran {} times beside them, \
         evicting {} entries in {} runs (skipped the rest: cache in use); {} entries, \
         0 bad, 0 partials after; test took {:.1} s",
        cold_runs.load(Ordering::Relaxed),
        WORKERS * ROUNDS,
        gc_runs.load(Ordering::Relaxed),
        gc_evicted.load(Ordering::Relaxed),
        gc_evicting_runs.load(Ordering::Relaxed),
        found.len(),
        started.elapsed().as_secs_f64()
    );
}

/// A way to damage a published entry.
struct Tamper {
    name: &'static str,
    /// Whether `verify --fast` (sizes only, as documented) must see it;
    /// `None` where that depends on the bytes hit.
    fast_sees: Option<bool>,
    apply: fn(&Path),
}

const FRAME: &str = "frame_000010.png";

fn flip_byte(path: &Path) {
    let mut bytes = std::fs::read(path).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    // In place: the same inode, the same size.
    std::fs::write(path, bytes).expect("write");
}

const TAMPERS: [Tamper; 7] = [
    Tamper {
        name: "frame deleted",
        fast_sees: Some(true),
        apply: |e| std::fs::remove_file(e.join(FRAME)).expect("delete frame"),
    },
    Tamper {
        name: "frame truncated",
        fast_sees: Some(true),
        apply: |e| {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(e.join(FRAME))
                .expect("open frame");
            let len = file.metadata().expect("stat").len();
            file.set_len(len / 2).expect("truncate");
        },
    },
    Tamper {
        name: "one byte flipped in a frame",
        fast_sees: Some(false),
        apply: |e| flip_byte(&e.join(FRAME)),
    },
    Tamper {
        name: "frame replaced by its neighbour",
        fast_sees: None,
        apply: |e| {
            let next = std::fs::read(e.join("frame_000011.png")).expect("read");
            std::fs::write(e.join(FRAME), next).expect("write");
        },
    },
    Tamper {
        name: "manifest.json corrupt (cut in half)",
        fast_sees: Some(true),
        apply: |e| {
            let bytes = std::fs::read(e.join("manifest.json")).expect("read");
            std::fs::write(e.join("manifest.json"), &bytes[..bytes.len() / 2]).expect("write");
        },
    },
    Tamper {
        name: "manifest.json with one byte flipped",
        fast_sees: None,
        apply: |e| flip_byte(&e.join("manifest.json")),
    },
    Tamper {
        name: "manifest.json deleted",
        fast_sees: Some(true),
        apply: |e| std::fs::remove_file(e.join("manifest.json")).expect("delete manifest"),
    },
];

#[test]
fn a_tampered_entry_is_reported_by_verify_and_re_extracted_not_served() {
    let _serial = serial();
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let composition = composition(dir.path());
    let reference = reference(&composition, &dir.path().join("reference"));
    let cache = dir.path().join("cache");
    let cold = extract_ok(&composition, &dir.path().join("populate"), Some(&cache));
    let unique = metric(&cold, "uniqueWorks");
    assert_eq!(unique, 4);
    let warm = extract_ok(&composition, &dir.path().join("warm"), Some(&cache));
    assert_eq!(metric(&warm, "cacheHits"), unique);
    assert_eq!(metric(&warm, "ffmpegRuns"), 0);

    // The entry of a-full (also a-dup's; a superset member of a-overlap's unit).
    let output = framex()
        .args(["plan", "--json", "--cache-dir"])
        .arg(&cache)
        .arg(&composition)
        .output()
        .expect("framex runs");
    assert_eq!(output.status.code(), Some(0), "plan: {}", text(&output));
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).expect("plan JSON");
    let key = plan["assignments"]
        .as_array()
        .expect("assignments")
        .iter()
        .find(|a| a["elementId"] == IDS[0])
        .and_then(|a| a["cacheKey"].as_str())
        .expect("a-full's cache key")
        .to_string();
    let entry = cache.join("v1").join(&key[..2]).join(&key);
    assert!(entry.join("manifest.json").is_file());

    let mut outcomes = Vec::new();
    for (n, tamper) in TAMPERS.iter().enumerate() {
        (tamper.apply)(&entry);

        let deep = verify(&cache, false);
        assert_eq!(
            deep.code,
            Some(1),
            "{}: verify must fail\n{}",
            tamper.name,
            deep.stdout
        );
        assert_eq!(deep.bad, 1, "{}: {}", tamper.name, deep.stdout);
        assert!(
            deep.stdout
                .lines()
                .any(|l| l.starts_with("bad entry: ") && l.contains(&key)),
            "{}: verify must name the entry\n{}",
            tamper.name,
            deep.stdout
        );
        let problem = deep
            .stdout
            .lines()
            .find(|l| l.starts_with("bad entry: "))
            .and_then(|l| l.split_once(&format!("{key}: ")))
            .map_or(String::new(), |(_, p)| p.to_string());
        // --fast only compares sizes (documented): it cannot see a flipped
        // byte in a frame.
        let fast = verify(&cache, true);
        if let Some(sees) = tamper.fast_sees {
            let code = Some(if sees { 1 } else { 0 });
            assert_eq!(fast.code, code, "{}: --fast\n{}", tamper.name, fast.stdout);
        }

        // The next run re-extracts that work instead of serving it.
        let out = dir.path().join(format!("out-{n}"));
        let report = extract_ok(&composition, &out, Some(&cache));
        let (hits, runs) = (metric(&report, "cacheHits"), metric(&report, "ffmpegRuns"));
        assert_eq!(
            hits,
            unique - 1,
            "{}: only the damaged work misses",
            tamper.name
        );
        assert!(runs >= 1, "{}: re-extracted", tamper.name);
        for id in [IDS[0], IDS[1]] {
            assert_eq!(
                report["elements"][id]["cacheHit"], false,
                "{}: {id}",
                tamper.name
            );
        }
        assert_frames(&out, &IDS, &reference, tamper.name);
        let after = assert_verifies(&cache, tamper.name);
        assert_eq!(
            after.entries, unique,
            "{}: the entry was replaced",
            tamper.name
        );
        assert!(tmp_leftovers(&cache).is_empty(), "{}: tmp/", tamper.name);
        outcomes.push(format!(
            "{} → verify: {problem}; --fast exit {:?}; next run: {hits}/{unique} hits, {runs} ffmpeg runs",
            tamper.name, fast.code
        ));
    }
    println!("tamper summary ({:.1} s):", started.elapsed().as_secs_f64());
    for line in outcomes {
        println!("  {line}");
    }
}

/// Unmounts on drop (also when the test fails).
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Mounts a tmpfs of `size` at `dir`, or says why not.
fn mount_tmpfs(dir: &Path, size: &str) -> Result<Mount, String> {
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .map_err(|e| format!("cannot run `id -u`: {e}"))?;
    let uid = String::from_utf8_lossy(&uid.stdout).trim().to_string();
    if uid != "0" {
        return Err(format!("not running as root (uid {uid})"));
    }
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let output = Command::new("mount")
        .args(["-t", "tmpfs", "-o"])
        .arg(format!("size={size}"))
        .arg("tmpfs")
        .arg(dir)
        .output()
        .map_err(|e| format!("cannot run mount: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "mount -t tmpfs failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(Mount(dir.to_path_buf()))
}

/// What a run on a full disk must leave in its cache: nothing half-done.
fn assert_nothing_half_published(cache: &Path, what: &str) {
    let v = assert_verifies(cache, what);
    assert_eq!(v.entries as usize, entries(cache).len());
    let tmp = tmp_leftovers(cache);
    assert!(tmp.is_empty(), "{what}: left in tmp/: {tmp:?}");
    let probe = probe_leftovers(cache);
    assert!(probe.is_empty(), "{what}: left in probe/: {probe:?}");
}

#[test]
fn a_full_disk_gives_a_clear_error_and_publishes_nothing_partial() {
    let _serial = serial();
    let dir = tempfile::tempdir().expect("temp dir");
    let composition = composition(dir.path());
    let reference = reference(&composition, &dir.path().join("reference"));

    // 1. A 2 MiB disk for cache and output: the PNG units run out of space
    // in ffmpeg (the frames are ~20 MB); the small JPEG unit may fit.
    let tiny = dir.path().join("tiny");
    let mount = match mount_tmpfs(&tiny, "2m") {
        Ok(mount) => mount,
        Err(why) => {
            println!("full-disk test skipped: {why}");
            return;
        }
    };
    let (cache, out) = (tiny.join("cache"), tiny.join("out"));
    let output = extract(&composition, &out, Some(&cache));
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let report = report(&out).expect("the report fits once the partials are gone");
    let mut failed = Vec::new();
    for id in IDS {
        let element = &report["elements"][id];
        if element["status"] == "ok" {
            assert_frames(&out, &[id], &reference, "full disk, an element that fit");
        } else {
            let error = element["error"].as_str().expect("an error message");
            assert!(
                error.contains("No space left on device"),
                "{id}: a clear error: {error}"
            );
            assert!(
                !out.join(id).exists(),
                "{id}: no directory for a failed element"
            );
            failed.push(format!("{id}: {error}"));
        }
    }
    assert!(failed.len() >= 5, "the 5 PNG elements cannot fit: {report}");
    assert_nothing_half_published(&cache, "full disk");
    println!(
        "full disk (2 MiB tmpfs): exit 1, {} of 6 elements failed, {} entries published \
         (all verify), e.g. {}",
        failed.len(),
        entries(&cache).len(),
        failed[0]
    );
    drop(mount);

    // 2. A disk with no byte free at all: not even the report fits.
    let full = dir.path().join("full");
    let _mount = mount_tmpfs(&full, "1m").expect("mounted once already");
    fill(&full.join("filler"));
    let (cache, out) = (full.join("cache"), full.join("out"));
    let output = extract(&composition, &out, Some(&cache));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        stderr.contains("No space left on device") && stderr.contains("report"),
        "a clear error: {stderr}"
    );
    assert!(
        !out.join("framex-report.json").exists(),
        "no half-written report is left"
    );
    assert_nothing_half_published(&cache, "completely full disk");
    assert!(entries(&cache).is_empty());
    println!("full disk (no byte free): exit 2, {}", stderr.trim());
}

/// Writes zeros to `path` until the disk is full.
fn fill(path: &Path) {
    use std::io::Write;
    let mut file = std::fs::File::create(path).expect("create filler");
    let block = vec![0u8; 64 * 1024];
    loop {
        match file.write(&block) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(28) => break,
            Err(e) => panic!("filling {}: {e}", path.display()),
        }
    }
    // The last partial block may have gone in; make sure nothing is left.
    let _ = file.write(&[0u8; 1]);
    let _ = file.sync_all();
}
