//! End to end: the real `framex` binary on small clips made here with lavfi,
//! real ffmpeg and ffprobe. Every test has its own output and cache
//! directories, and checks what is on disk (frame bytes, inodes, file
//! headers) and in the report, not only exit codes.

use std::collections::BTreeSet;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use framex_tests::{
    alpha_clip, cfr_clip, framex_bin, framex_command, make_clip, ntsc_clip, vfr_clip,
};
use serde_json::{json, Value};

// ---------------------------------------------------------------- helpers

/// One element of a composition; `src` is used as given (absolute paths work).
fn element(id: &str, src: &Path, start: f64, duration: f64, fps: Value, format: &str) -> Value {
    json!({
        "id": id,
        "src": src.to_str().expect("UTF-8 path"),
        "mediaStart": start,
        "duration": duration,
        "fps": fps,
        "format": format,
    })
}

/// Writes `dir/<name>` holding a composition of `elements`; returns its path.
fn composition(dir: &Path, name: &str, elements: &[Value]) -> PathBuf {
    let path = dir.join(name);
    let text = serde_json::to_string_pretty(&json!({ "elements": elements })).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

/// What one `framex` invocation did.
#[derive(Debug)]
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Outcome {
    /// The report printed with `--json` (the same as `framex-report.json`).
    fn report(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "no JSON report ({e}); stdout: {}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }
}

/// The `framex extract` command for `composition` into `out`, with `cache`
/// as the cache root (`None`: `--no-cache`), `--json` and `--quiet`.
fn extract_command(composition: &Path, out: &Path, cache: Option<&Path>) -> Command {
    let mut command = framex_command();
    command
        .args(["--quiet", "extract"])
        .arg(composition)
        .arg("--out")
        .arg(out)
        .arg("--json");
    match cache {
        Some(dir) => command.arg("--cache-dir").arg(dir),
        None => command.arg("--no-cache"),
    };
    command
}

fn run(mut command: Command) -> Outcome {
    let output = command.output().expect("framex runs");
    Outcome {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `framex extract` and returns what it did.
fn extract(composition: &Path, out: &Path, cache: Option<&Path>) -> Outcome {
    run(extract_command(composition, out, cache))
}

/// Like [`extract`], but the run must succeed (exit 0); returns the report.
fn extract_ok(composition: &Path, out: &Path, cache: Option<&Path>) -> Value {
    let outcome = extract(composition, out, cache);
    assert_eq!(
        outcome.code,
        Some(0),
        "framex extract failed: {}\n{}",
        outcome.stderr,
        outcome.stdout
    );
    let report = outcome.report();
    let on_disk: Value = serde_json::from_slice(
        &std::fs::read(out.join("framex-report.json")).expect("framex-report.json written"),
    )
    .unwrap();
    assert_eq!(report, on_disk, "--json prints framex-report.json");
    report
}

/// A frame on disk: file name, bytes, inode.
#[derive(Debug)]
struct Frame {
    name: String,
    bytes: Vec<u8>,
    ino: u64,
}

/// Every file in `dir`, sorted by name.
fn frames(dir: &Path) -> Vec<Frame> {
    let mut frames: Vec<Frame> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| {
            let entry = entry.unwrap();
            Frame {
                name: entry.file_name().to_string_lossy().into_owned(),
                bytes: std::fs::read(entry.path()).unwrap(),
                ino: entry.metadata().unwrap().ino(),
            }
        })
        .collect();
    frames.sort_by(|a, b| a.name.cmp(&b.name));
    frames
}

/// Checks that `frames` are exactly `frame_000001.<ext>` … `frame_<count>.<ext>`.
fn assert_numbered(frames: &[Frame], count: u64, ext: &str, what: &str) {
    let names: Vec<&str> = frames.iter().map(|f| f.name.as_str()).collect();
    let expected: Vec<String> = (1..=count).map(|n| format!("frame_{n:06}.{ext}")).collect();
    assert_eq!(names, expected, "{what}: frame files");
    assert!(
        frames.iter().all(|f| !f.bytes.is_empty()),
        "{what}: an empty frame"
    );
}

/// Checks that two lists of frames have the same names and bytes.
fn assert_same_bytes(a: &[Frame], b: &[Frame], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: frame counts differ");
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x.name, y.name, "{what}: names differ");
        assert!(x.bytes == y.bytes, "{what}: {} differs", x.name);
    }
}

/// The report entry of element `id`.
fn element_report<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["elements"]
        .get(id)
        .unwrap_or_else(|| panic!("no report for {id}: {report:#}"))
}

fn metric(report: &Value, name: &str) -> u64 {
    report["metrics"][name]
        .as_u64()
        .unwrap_or_else(|| panic!("no metric {name}: {:#}", report["metrics"]))
}

/// Checks an element's report: ok, `frames` frames, in `out/<id>`.
fn assert_element_ok(report: &Value, out: &Path, id: &str, frames: u64) {
    let e = element_report(report, id);
    assert_eq!(e["status"], "ok", "{id}: {e:#}");
    assert_eq!(e["frames"], frames, "{id}: frames in the report");
    let dir = PathBuf::from(e["dir"].as_str().expect("an ok element has a dir"));
    assert_eq!(
        dir,
        out.canonicalize().unwrap().join(id),
        "{id}: its directory"
    );
    assert_eq!(dir.file_name().unwrap(), id, "id == basename(dir)");
}

/// `ceil(duration_us × num / (den × 1e6))`: the frames an element asks for.
fn frames_for(duration_us: u64, num: u64, den: u64) -> u64 {
    (duration_us * num).div_ceil(den * 1_000_000)
}

/// Every published entry (`<cache>/v1/<shard>/<key>`) of a cache.
fn cache_entries(cache: &Path) -> Vec<PathBuf> {
    let versioned = cache.join("v1");
    let Ok(shards) = std::fs::read_dir(&versioned) else {
        return Vec::new();
    };
    let mut entries = Vec::new();
    for shard in shards {
        let shard = shard.unwrap().path();
        if shard.is_dir() {
            for entry in std::fs::read_dir(&shard).unwrap() {
                entries.push(entry.unwrap().path());
            }
        }
    }
    entries
}

/// `framex cache <args> --cache-dir <cache>`.
fn cache_command(cache: &Path, args: &[&str]) -> Outcome {
    let mut command = Command::new(framex_bin());
    command
        .arg("cache")
        .args(args)
        .arg("--cache-dir")
        .arg(cache);
    run(command)
}

fn cache_stats(cache: &Path) -> Value {
    let outcome = cache_command(cache, &["stats", "--json"]);
    assert_eq!(outcome.code, Some(0), "cache stats: {}", outcome.stderr);
    serde_json::from_str(&outcome.stdout).unwrap()
}

/// Decodes an image to raw RGBA with ffmpeg.
fn decode_rgba(path: &Path) -> Vec<u8> {
    let output = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(path)
        .args(["-f", "rawvideo", "-pix_fmt", "rgba", "-"])
        .output()
        .expect("ffmpeg runs");
    assert!(
        output.status.success(),
        "decoding {}: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

// ------------------------------------------------------------------ tests

/// Three elements asking for the same frames: one extraction, and three
/// directories of hard links to one set of inodes.
#[test]
fn three_duplicates_share_one_extraction_and_one_inode_set() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, cache) = (tmp.path().join("out"), tmp.path().join("cache"));
    let clip = cfr_clip();
    let ids = ["first", "second", "third"];
    let elements: Vec<Value> = ids
        .iter()
        .map(|id| element(id, &clip, 0.5, 1.0, json!(30), "png"))
        .collect();
    let c = composition(tmp.path(), "dup3.json", &elements);
    let report = extract_ok(&c, &out, Some(&cache));

    assert_eq!(metric(&report, "elements"), 3);
    assert_eq!(metric(&report, "uniqueWorks"), 1);
    assert_eq!(metric(&report, "dedupeHits"), 2);
    assert_eq!(metric(&report, "ffmpegRuns"), 1);
    assert_eq!(metric(&report, "cacheMisses"), 1);
    assert_eq!(metric(&report, "framesRequested"), 90);
    assert_eq!(metric(&report, "framesExtracted"), 30);
    assert_eq!(metric(&report, "framesLinked"), 90);
    assert_eq!(element_report(&report, "first")["role"], "leader");
    for id in &ids[1..] {
        assert_eq!(element_report(&report, id)["role"], "duplicate of first");
    }

    let sets: Vec<Vec<Frame>> = ids.iter().map(|id| frames(&out.join(id))).collect();
    for (id, set) in ids.iter().zip(&sets) {
        assert_element_ok(&report, &out, id, 30);
        assert_numbered(set, 30, "png", id);
    }
    for j in 0..30 {
        let inodes: BTreeSet<u64> = sets.iter().map(|s| s[j].ino).collect();
        assert_eq!(inodes.len(), 1, "frame {} is one inode", j + 1);
        // Three element links and the cache entry's.
        let nlink = std::fs::metadata(out.join("first").join(&sets[0][j].name))
            .unwrap()
            .nlink();
        assert!(nlink >= 4, "frame {} has {nlink} links", j + 1);
    }
    // Thirty different pictures, not one frame linked thirty times.
    let distinct: BTreeSet<&[u8]> = sets[0].iter().map(|f| f.bytes.as_slice()).collect();
    assert_eq!(distinct.len(), 30);
    assert_eq!(cache_entries(&cache).len(), 1, "one cache entry");
}

/// Overlapping, grid-aligned trims [0,2) and [1,3) at 24 fps of a 30 fps
/// source make one extraction over the union, and each member's frames are
/// the bytes of extracting it alone — on a CFR and on a VFR clip.
#[test]
fn overlapping_trims_are_one_extraction_with_the_bytes_of_each_alone() {
    for (name, clip) in [("cfr", cfr_clip()), ("vfr", vfr_clip())] {
        let tmp = tempfile::tempdir().unwrap();
        let (out, cache) = (tmp.path().join("out"), tmp.path().join("cache"));
        let early = element("early", &clip, 0.0, 2.0, json!(24), "png");
        let late = element("late", &clip, 1.0, 2.0, json!(24), "png");
        let c = composition(tmp.path(), "overlap.json", &[early.clone(), late.clone()]);
        let report = extract_ok(&c, &out, Some(&cache));

        assert_eq!(metric(&report, "uniqueWorks"), 2, "{name}");
        assert_eq!(metric(&report, "supersetGroups"), 1, "{name}");
        assert_eq!(
            metric(&report, "ffmpegRuns"),
            1,
            "{name}: one run per source"
        );
        assert_eq!(metric(&report, "framesRequested"), 96, "{name}");
        assert_eq!(metric(&report, "framesExtracted"), 72, "{name}: the union");
        assert_element_ok(&report, &out, "early", 48);
        assert_element_ok(&report, &out, "late", 48);
        let unit = element_report(&report, "early")["unit"].as_str().unwrap();
        assert_eq!(
            element_report(&report, "late")["unit"],
            unit,
            "{name}: one unit"
        );
        assert_eq!(element_report(&report, "early")["role"], "leader", "{name}");
        assert_eq!(
            element_report(&report, "late")["role"],
            format!("superset member of {unit}"),
            "{name}"
        );

        let merged_early = frames(&out.join("early"));
        let merged_late = frames(&out.join("late"));
        assert_numbered(&merged_early, 48, "png", name);
        assert_numbered(&merged_late, 48, "png", name);
        // The overlap [1,2) is the same frames in both, and the same files.
        for j in 0..24 {
            assert!(merged_early[24 + j].bytes == merged_late[j].bytes);
            assert_eq!(merged_early[24 + j].ino, merged_late[j].ino);
        }

        for (id, el) in [("early", early), ("late", late)] {
            let alone = composition(tmp.path(), &format!("{id}-alone.json"), &[el]);
            let alone_out = tmp.path().join(format!("{id}-alone"));
            let r = extract_ok(&alone, &alone_out, None);
            assert_eq!(metric(&r, "ffmpegRuns"), 1);
            assert_eq!(metric(&r, "supersetGroups"), 0);
            assert_same_bytes(
                &frames(&out.join(id)),
                &frames(&alone_out.join(id)),
                &format!("{name} {id}: merged vs alone"),
            );
        }
        // Superset members are cache entries of their own.
        assert_eq!(cache_entries(&cache).len(), 2, "{name}");
    }
}

/// A second run with the same cache starts no ffmpeg (nor ffprobe) and links
/// the same bytes — the very same files — into place.
#[test]
fn warm_run_extracts_nothing_and_links_the_same_frames() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let (cfr, vfr) = (cfr_clip(), vfr_clip());
    let elements = [
        element("bg", &cfr, 0.0, 1.0, json!(30), "png"),
        element("bg-again", &cfr, 0.0, 1.0, json!(30), "png"),
        element("trim-a", &cfr, 1.0, 1.0, json!(24), "png"),
        element("trim-b", &cfr, 1.5, 1.0, json!(24), "png"),
        element("thumb", &cfr, 0.2, 0.5, json!("30000/1001"), "jpeg"),
        element("talk", &vfr, 0.5, 1.5, json!(30), "png"),
    ];
    let c = composition(tmp.path(), "mixed.json", &elements);
    let cold_out = tmp.path().join("cold");
    let cold = extract_ok(&c, &cold_out, Some(&cache));
    let unique = metric(&cold, "uniqueWorks");
    assert_eq!(unique, 5);
    assert_eq!(metric(&cold, "cacheHits"), 0);
    assert_eq!(metric(&cold, "cacheMisses"), unique);
    // Units: bg (bg-again duplicates it), trim-a + trim-b, thumb, talk.
    assert_eq!(metric(&cold, "supersetGroups"), 1);
    assert_eq!(metric(&cold, "ffmpegRuns"), 4);

    let ids = ["bg", "bg-again", "trim-a", "trim-b", "thumb", "talk"];
    // The warm run, and once more with neither ffmpeg nor ffprobe available:
    // a warm run needs neither.
    for (label, tools) in [("warm", None), ("no tools", Some("/nonexistent/ffmpeg"))] {
        let warm_out = tmp.path().join(label.replace(' ', "-"));
        let mut command = extract_command(&c, &warm_out, Some(&cache));
        if let Some(missing) = tools {
            command
                .env("FRAMEX_FFMPEG", missing)
                .env("FRAMEX_FFPROBE", "/nonexistent/ffprobe");
        }
        let outcome = run(command);
        assert_eq!(outcome.code, Some(0), "{label}: {}", outcome.stderr);
        let warm = outcome.report();
        assert_eq!(metric(&warm, "ffmpegRuns"), 0, "{label}");
        assert_eq!(metric(&warm, "uniqueWorks"), unique, "{label}");
        assert_eq!(metric(&warm, "cacheHits"), unique, "{label}");
        assert_eq!(metric(&warm, "cacheMisses"), 0, "{label}");
        assert_eq!(metric(&warm, "framesExtracted"), 0, "{label}");
        assert_eq!(metric(&warm, "bytesWritten"), 0, "{label}");
        assert_eq!(
            metric(&warm, "framesLinked"),
            metric(&cold, "framesLinked"),
            "{label}"
        );
        for id in ids {
            let (c_e, w_e) = (element_report(&cold, id), element_report(&warm, id));
            assert_eq!(w_e["cacheHit"], true, "{label} {id}");
            assert_eq!(c_e["cacheHit"], false, "{label} {id}");
            assert_element_ok(&warm, &warm_out, id, c_e["frames"].as_u64().unwrap());
            let (a, b) = (frames(&cold_out.join(id)), frames(&warm_out.join(id)));
            assert!(!a.is_empty());
            assert_same_bytes(&a, &b, &format!("{label} {id}"));
            for (x, y) in a.iter().zip(&b) {
                assert_eq!(x.ino, y.ino, "{label} {id}: {} is the cached file", x.name);
            }
        }
    }
}

/// 29.97 fps gives `ceil(duration × 30000/1001)` frames.
#[test]
fn ntsc_rate_gives_the_exact_frame_count() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, cache) = (tmp.path().join("out"), tmp.path().join("cache"));
    let clip = ntsc_clip();
    // 2.1 s at 30000/1001: 62.937… → 63 frames; 1 s → 29.97 → 30 frames.
    let c = composition(
        tmp.path(),
        "ntsc.json",
        &[
            element("long", &clip, 0.5, 2.1, json!("30000/1001"), "png"),
            element("short", &clip, 0.0, 1.0, json!(29.97), "png"),
        ],
    );
    let report = extract_ok(&c, &out, Some(&cache));
    for (id, duration_us) in [("long", 2_100_000), ("short", 1_000_000)] {
        let expected = frames_for(duration_us, 30_000, 1_001);
        assert_element_ok(&report, &out, id, expected);
        assert_numbered(&frames(&out.join(id)), expected, "png", id);
    }
    assert_eq!(frames_for(2_100_000, 30_000, 1_001), 63);
    assert_eq!(frames_for(1_000_000, 30_000, 1_001), 30);
}

/// JPEG elements write `.jpg` files that are whole JPEGs.
#[test]
fn jpeg_elements_write_whole_jpg_files() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, cache) = (tmp.path().join("out"), tmp.path().join("cache"));
    let c = composition(
        tmp.path(),
        "jpeg.json",
        &[element("still", &cfr_clip(), 0.25, 1.0, json!(24), "jpeg")],
    );
    let report = extract_ok(&c, &out, Some(&cache));
    assert_element_ok(&report, &out, "still", 24);
    let frames = frames(&out.join("still"));
    assert_numbered(&frames, 24, "jpg", "still");
    for f in &frames {
        assert_eq!(&f.bytes[..2], &[0xFF, 0xD8], "{}: SOI", f.name);
        assert_eq!(
            &f.bytes[f.bytes.len() - 2..],
            &[0xFF, 0xD9],
            "{}: EOI",
            f.name
        );
    }
}

/// A VP9 clip with alpha gives RGBA PNGs that really are half transparent.
#[test]
fn alpha_source_gives_rgba_png_with_real_transparency() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, cache) = (tmp.path().join("out"), tmp.path().join("cache"));
    let c = composition(
        tmp.path(),
        "alpha.json",
        &[element("logo", &alpha_clip(), 0.0, 1.0, json!(30), "png")],
    );
    let report = extract_ok(&c, &out, Some(&cache));
    assert_element_ok(&report, &out, "logo", 30);
    let frames = frames(&out.join("logo"));
    assert_numbered(&frames, 30, "png", "logo");
    for f in &frames {
        assert_eq!(&f.bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", f.name);
        assert_eq!(&f.bytes[12..16], b"IHDR", "{}", f.name);
        assert_eq!(f.bytes[24], 8, "{}: 8 bits per channel", f.name);
        assert_eq!(f.bytes[25], 6, "{}: colour type 6 (RGBA)", f.name);
    }
    // The source is 50% opaque (colorchannelmixer=aa=0.5): every pixel's
    // alpha is about 128, not 255.
    for f in [&frames[0], &frames[29]] {
        let rgba = decode_rgba(&out.join("logo").join(&f.name));
        assert_eq!(rgba.len(), 160 * 120 * 4, "{}: 160×120 RGBA", f.name);
        let alphas: BTreeSet<u8> = rgba.chunks_exact(4).map(|p| p[3]).collect();
        let (lo, hi) = (*alphas.first().unwrap(), *alphas.last().unwrap());
        assert!(
            (112..=144).contains(&lo) && (112..=144).contains(&hi),
            "{}: alpha in {lo}..={hi}",
            f.name
        );
    }
}

/// A duration that reaches past the end of the source gives only the frames
/// that start before the source's end.
#[test]
fn a_duration_past_the_source_end_holds_the_last_frame() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, cache) = (tmp.path().join("out"), tmp.path().join("cache"));
    let clip = cfr_clip(); // 3 s, 90 frames at 30 fps
    let c = composition(
        tmp.path(),
        "hold.json",
        &[
            // Asks for 5 s (150 frames) from 2 s: the source has 1 s (30
            // frames) left; the other 120 hold its last frame.
            element("tail", &clip, 2.0, 5.0, json!(30), "png"),
            // At 24 fps from 1.5 s: ticks at 1.5 + j/24 < 3 → 36 source
            // frames, then 204 held of the 240.
            element("tail24", &clip, 1.5, 10.0, json!(24), "png"),
        ],
    );
    let report = extract_ok(&c, &out, Some(&cache));
    assert_element_ok(&report, &out, "tail", 150);
    assert_element_ok(&report, &out, "tail24", 240);
    assert_eq!(metric(&report, "framesRequested"), 390);
    let tail = frames(&out.join("tail"));
    let tail24 = frames(&out.join("tail24"));
    assert_numbered(&tail, 150, "png", "tail");
    assert_numbered(&tail24, 240, "png", "tail24");

    // The frames before the end are the source's last second: the same bytes
    // as asking for exactly that second.
    let exact = composition(
        tmp.path(),
        "exact.json",
        &[element("tail", &clip, 2.0, 1.0, json!(30), "png")],
    );
    let exact_out = tmp.path().join("exact");
    extract_ok(&exact, &exact_out, None);
    let exact = frames(&exact_out.join("tail"));
    assert_same_bytes(&tail[..30], &exact, "before the end vs exact");
    // Past the end: the source's last frame (frame 90, the exact second's
    // last), extracted once and hard-linked into both elements.
    let last = &exact[29];
    let held = tail[30..].iter().chain(&tail24[36..]);
    for frame in held {
        assert!(
            frame.bytes == last.bytes,
            "{} is not the last frame",
            frame.name
        );
        assert_eq!(frame.ino, tail[30].ino, "{}: one held file", frame.name);
    }
}

/// A missing source fails its element only, naming the path; exit code 1.
#[test]
fn a_missing_source_fails_only_its_element() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, cache) = (tmp.path().join("out"), tmp.path().join("cache"));
    let c = composition(
        tmp.path(),
        "missing.json",
        &[
            json!({"id": "gone", "src": "no-such-clip.mp4", "mediaStart": 0, "duration": 1, "fps": 30, "format": "png"}),
            element("fine", &cfr_clip(), 0.0, 1.0, json!(30), "png"),
        ],
    );
    let outcome = extract(&c, &out, Some(&cache));
    assert_eq!(outcome.code, Some(1), "{}", outcome.stderr);
    let report = outcome.report();
    let gone = element_report(&report, "gone");
    assert_eq!(gone["status"], "error");
    assert_eq!(gone["errorKind"], "source_missing");
    assert_eq!(gone["frames"], 0);
    let missing_path = tmp.path().join("no-such-clip.mp4");
    assert!(
        gone["error"]
            .as_str()
            .unwrap()
            .contains(missing_path.to_str().unwrap()),
        "the error names the path: {gone:#}"
    );
    assert!(!out.join("gone").exists());
    assert_element_ok(&report, &out, "fine", 30);
    assert_numbered(&frames(&out.join("fine")), 30, "png", "fine");
}

/// A file that is not a video fails its element as invalid media; exit code 1.
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
            element("text", &fake, 0.0, 1.0, json!(30), "png"),
            element("fine", &cfr_clip(), 0.0, 0.5, json!(30), "png"),
        ],
    );
    let outcome = extract(&c, &out, Some(&cache));
    assert_eq!(outcome.code, Some(1), "{}", outcome.stderr);
    let report = outcome.report();
    let text = element_report(&report, "text");
    assert_eq!(text["status"], "error");
    assert_eq!(text["errorKind"], "invalid_media", "{text:#}");
    let message = text["error"].as_str().unwrap();
    assert!(
        message.contains(fake.canonicalize().unwrap().to_str().unwrap()),
        "the error names the path: {message}"
    );
    assert!(!out.join("text").exists());
    assert_element_ok(&report, &out, "fine", 15);
}

/// Elements whose frames must be extracted with no ffmpeg fail with an error
/// that says how to install it (exit code 1); a missing tool is a
/// per-element error, not a usage error.
#[test]
fn missing_ffmpeg_is_a_per_element_error_that_says_how_to_install_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, cache) = (tmp.path().join("out"), tmp.path().join("cache"));
    let clip = cfr_clip();
    let c = composition(
        tmp.path(),
        "noffmpeg.json",
        &[
            element("lead", &clip, 0.0, 1.0, json!(30), "png"),
            element("copy", &clip, 0.0, 1.0, json!(30), "png"),
        ],
    );
    let mut command = extract_command(&c, &out, Some(&cache));
    command.env("FRAMEX_FFMPEG", "/nonexistent/ffmpeg");
    let outcome = run(command);
    assert_eq!(outcome.code, Some(1), "{}", outcome.stderr);
    let report = outcome.report();
    assert_eq!(metric(&report, "ffmpegRuns"), 0);
    let lead = element_report(&report, "lead");
    assert_eq!(lead["status"], "error");
    assert_eq!(lead["errorKind"], "ffmpeg_unavailable");
    let message = lead["error"].as_str().unwrap();
    for needle in [
        "/nonexistent/ffmpeg",
        "apt-get install ffmpeg",
        "FRAMEX_FFMPEG",
    ] {
        assert!(message.contains(needle), "{needle:?} in {message}");
    }
    let copy = element_report(&report, "copy");
    assert_eq!(copy["status"], "error");
    assert_eq!(copy["errorKind"], "ffmpeg_unavailable");
    assert_eq!(
        copy["error"].as_str().unwrap(),
        format!("[shared extraction, leader lead] {message}")
    );
    assert!(cache_entries(&cache).is_empty(), "nothing published");
}

/// An ffmpeg that fails: the leader carries its exit status and stderr, the
/// duplicate and the superset member carry the leader's error with the
/// shared-extraction prefix, exit code 1, and nothing is published.
#[test]
fn a_failing_ffmpeg_fails_every_sharer_with_the_leader_prefix_and_publishes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, cache) = (tmp.path().join("out"), tmp.path().join("cache"));
    let fake = tmp.path().join("fake-ffmpeg");
    std::fs::write(&fake, "#!/bin/sh\necho boom >&2\nexit 1\n").unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let clip = cfr_clip();
    let c = composition(
        tmp.path(),
        "fail.json",
        &[
            element("lead", &clip, 0.0, 1.0, json!(30), "png"),
            element("copy", &clip, 0.0, 1.0, json!(30), "png"),
            element("overlap", &clip, 0.5, 1.0, json!(30), "png"),
        ],
    );
    let mut command = extract_command(&c, &out, Some(&cache));
    command.env("FRAMEX_FFMPEG", &fake);
    let outcome = run(command);
    assert_eq!(outcome.code, Some(1), "{}", outcome.stderr);
    let report = outcome.report();
    assert_eq!(metric(&report, "ffmpegRuns"), 1);
    assert_eq!(metric(&report, "framesExtracted"), 0);
    assert_eq!(metric(&report, "framesLinked"), 0);

    let lead = element_report(&report, "lead");
    assert_eq!(lead["status"], "error");
    assert_eq!(lead["errorKind"], "ffmpeg_failed");
    assert_eq!(lead["retryable"], false);
    let message = lead["error"].as_str().unwrap();
    assert!(message.contains("exit status 1"), "{message}");
    assert!(message.contains("boom"), "ffmpeg's stderr: {message}");
    assert!(!message.starts_with("[shared"), "{message}");
    for id in ["copy", "overlap"] {
        let e = element_report(&report, id);
        assert_eq!(e["status"], "error", "{id}");
        assert_eq!(e["errorKind"], "ffmpeg_failed", "{id}");
        assert_eq!(e["frames"], 0, "{id}");
        assert_eq!(
            e["error"].as_str().unwrap(),
            format!("[shared extraction, leader lead] {message}"),
            "{id}"
        );
    }
    assert_eq!(element_report(&report, "copy")["role"], "duplicate of lead");
    for id in ["lead", "copy", "overlap"] {
        assert!(!out.join(id).exists(), "{id}: no directory");
    }

    assert!(cache_entries(&cache).is_empty(), "nothing published");
    let leftovers: Vec<_> = std::fs::read_dir(cache.join("tmp"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(leftovers.is_empty(), "no partials left: {leftovers:?}");
    let stats = cache_stats(&cache);
    assert_eq!(stats["entries"], 0, "{stats}");
    assert_eq!(stats["partials"], 0, "{stats}");
}

/// A `framex extract` killed with SIGKILL in the middle of an extraction
/// leaves nothing that a rerun trusts: the rerun completes with the right
/// bytes and the cache verifies.
#[test]
fn a_run_killed_mid_extraction_is_completed_by_a_rerun() {
    let clip = make_clip(
        "big720.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1280x720:rate=30",
            "-t",
            "8",
            "-pix_fmt",
            "yuv420p",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "30",
        ],
    );
    let tmp = tempfile::tempdir().unwrap();
    let (out, cache) = (tmp.path().join("out"), tmp.path().join("cache"));
    let c = composition(
        tmp.path(),
        "big.json",
        &[
            element("big", &clip, 0.0, 8.0, json!(30), "png"),
            element("big-copy", &clip, 0.0, 8.0, json!(30), "png"),
        ],
    );

    let mut child = extract_command(&c, &out, Some(&cache))
        .args(["--jobs", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let frames_in_tmp = || -> usize {
        let Ok(dirs) = std::fs::read_dir(cache.join("tmp")) else {
            return 0;
        };
        dirs.filter_map(Result::ok)
            .filter(|d| d.path().is_dir())
            .map(|d| std::fs::read_dir(d.path()).map_or(0, |f| f.count()))
            .sum()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while frames_in_tmp() < 10 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "framex finished before it could be killed"
        );
        assert!(Instant::now() < deadline, "no frames in the cache's tmp/");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        cache_entries(&cache).is_empty(),
        "the killed run published nothing"
    );

    let report = extract_ok(&c, &out, Some(&cache));
    assert_eq!(metric(&report, "cacheHits"), 0);
    assert_eq!(metric(&report, "ffmpegRuns"), 1);
    assert_element_ok(&report, &out, "big", 240);
    assert_element_ok(&report, &out, "big-copy", 240);

    let reference_out = tmp.path().join("reference");
    extract_ok(&c, &reference_out, None);
    for id in ["big", "big-copy"] {
        let got = frames(&out.join(id));
        assert_numbered(&got, 240, "png", id);
        assert_same_bytes(&got, &frames(&reference_out.join(id)), id);
    }

    let verify = cache_command(&cache, &["verify"]);
    assert_eq!(verify.code, Some(0), "{}{}", verify.stdout, verify.stderr);
    assert!(
        verify.stdout.contains("1 entries checked, 0 bad"),
        "{}",
        verify.stdout
    );
    let stats = cache_stats(&cache);
    assert_eq!(stats["entries"], 1, "{stats}");
    assert_eq!(stats["frames"], 240, "{stats}");
    assert_eq!(
        stats["partials"], 0,
        "the killed run's partial was swept: {stats}"
    );
}

/// What a SIGKILLed run leaves behind in the worst case: a partial whose
/// lock is free while its ffmpeg, which outlived it, still adds frames. The
/// next framex to open the cache (here `cache stats`) sweeps it for good, and
/// the writer's next frame fails, so it stops.
#[test]
fn a_partial_still_filled_by_an_orphaned_writer_is_swept_and_the_writer_stops() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let partial = cache.join("tmp").join("unit-0123456789abcdef.4000000.0");
    std::fs::create_dir_all(&partial).unwrap();
    // The dead writer's lock file, unlocked.
    std::fs::write(
        cache
            .join("tmp")
            .join("unit-0123456789abcdef.4000000.0.lock"),
        b"",
    )
    .unwrap();

    /// How the writer ended.
    #[derive(Debug, PartialEq)]
    enum End {
        WriteFailed,
        GaveUp,
    }
    // Like ffmpeg's image2 muxer, each frame is opened by path; four writers
    // as fast as they can, to make a race with the sweep likely. Bounded, so
    // a sweep that never comes cannot hang the test.
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let dir = partial.clone();
            std::thread::spawn(move || {
                let give_up = Instant::now() + Duration::from_secs(30);
                let mut n = 0u64;
                while Instant::now() < give_up {
                    n += 1;
                    let frame = dir.join(format!("frame_{w}_{n:06}.png"));
                    if std::fs::write(frame, b"frame").is_err() {
                        return (End::WriteFailed, n);
                    }
                }
                (End::GaveUp, n)
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::read_dir(&partial).map_or(0, |d| d.count()) < 20 {
        assert!(Instant::now() < deadline, "the writers wrote nothing");
        std::thread::sleep(Duration::from_millis(1));
    }
    let stats = cache_stats(&cache);
    for writer in writers {
        let (end, written) = writer.join().unwrap();
        assert_eq!(
            end,
            End::WriteFailed,
            "a writer kept going ({written} frames)"
        );
    }
    assert_eq!(stats["partials"], 0, "{stats}");
    let left: Vec<_> = std::fs::read_dir(cache.join("tmp"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "tmp/ still holds {left:?}");
}

/// `framex demo --small` runs end to end: a cold run that extracts and a warm
/// run that starts no ffmpeg.
#[test]
fn demo_runs_cold_then_warm() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let mut command = framex_command();
    command
        .args(["--quiet", "demo", "--small", "--json", "--dir"])
        .arg(&dir);
    let outcome = run(command);
    assert_eq!(outcome.code, Some(0), "{}", outcome.stderr);
    let both: Value = serde_json::from_str(&outcome.stdout).unwrap();
    let (cold, warm) = (&both["cold"], &both["warm"]);
    let unique = metric(cold, "uniqueWorks");
    assert!(metric(cold, "elements") >= 10);
    assert!(metric(cold, "dedupeHits") >= 1);
    assert!(metric(cold, "supersetGroups") >= 1);
    assert_eq!(metric(cold, "cacheHits"), 0);
    assert!(metric(cold, "ffmpegRuns") >= 1);
    assert!(
        metric(cold, "ffmpegRuns") < unique,
        "superset grouping saved runs"
    );
    assert!(metric(cold, "framesExtracted") < metric(cold, "framesRequested"));
    assert_eq!(metric(warm, "ffmpegRuns"), 0);
    assert_eq!(metric(warm, "cacheHits"), unique);
    assert_eq!(metric(warm, "framesExtracted"), 0);
    let elements = cold["elements"].as_object().unwrap();
    assert_eq!(elements.len() as u64, metric(cold, "elements"));
    for (id, e) in elements {
        assert_eq!(e["status"], "ok", "{id}");
        assert_eq!(warm["elements"][id]["status"], "ok", "{id}");
        let n = e["frames"].as_u64().unwrap();
        assert!(n > 0, "{id}");
        assert_eq!(warm["elements"][id]["frames"], n, "{id}");
        let on_disk = std::fs::read_dir(dir.join("out").join(id)).unwrap().count() as u64;
        assert_eq!(on_disk, n, "{id}: frames on disk");
    }

    // The table for people, on the clips made above.
    let mut command = framex_command();
    command.args(["demo", "--small", "--dir"]).arg(&dir);
    let outcome = run(command);
    assert_eq!(outcome.code, Some(0), "{}", outcome.stderr);
    let table = &outcome.stdout;
    let runs_row = table
        .lines()
        .find(|l| l.trim_start().starts_with("ffmpeg runs"))
        .unwrap_or_else(|| panic!("an ffmpeg runs row: {table}"));
    let cells: Vec<&str> = runs_row.split_whitespace().collect();
    assert_eq!(cells.len(), 4, "{runs_row}");
    assert_eq!(
        cells[2],
        metric(cold, "ffmpegRuns").to_string(),
        "{runs_row}"
    );
    assert_eq!(cells[3], "0", "warm: {runs_row}");
    assert!(table.contains("cold") && table.contains("warm"), "{table}");
    assert!(table.contains("ran ffmpeg 0 times"), "{table}");
}
