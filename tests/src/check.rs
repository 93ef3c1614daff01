//! Run framex and check: what the end-to-end tests share.
//!
//! A test writes a composition of [`el`] elements, runs it with [`Extract`]
//! and checks what is on disk ([`frames`]: names, bytes, inodes;
//! [`png_pixels`]: decoded pixels) and in the report ([`ExtractRun`]'s
//! accessors). Which source frame each tick must show comes from the
//! independent oracle ([`expected`]); [`assert_frame_inodes`] checks that the
//! element directories hold exactly one stored file per distinct frame.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::oracle::{expected_frames, ElementSpec, SourceTimes};
use crate::{framex_command, ExtractRun};

// ------------------------------------------------------------ compositions

/// One element: `id`, `src` (as given; absolute paths work), `mediaStart`,
/// `duration`, 30 fps, PNG. [`with`] changes or adds fields.
pub fn el(id: &str, src: &Path, start: f64, duration: f64) -> Value {
    json!({
        "id": id,
        "src": src.to_str().expect("a UTF-8 path"),
        "mediaStart": start,
        "duration": duration,
        "fps": 30,
        "format": "png",
    })
}

/// `element` with the fields of the object `fields` set.
pub fn with(mut element: Value, fields: Value) -> Value {
    let Value::Object(fields) = fields else {
        panic!("fields must be an object: {fields}");
    };
    for (key, value) in fields {
        element[key] = value;
    }
    element
}

/// Writes `dir/<name>`, a composition of `elements`; returns its path.
pub fn composition(dir: &Path, name: &str, elements: &[Value]) -> PathBuf {
    let path = dir.join(name);
    let text = serde_json::to_string_pretty(&json!({ "elements": elements })).expect("JSON");
    std::fs::write(&path, text).expect("composition written");
    path
}

// ------------------------------------------------------------------- runs

/// One `framex --quiet extract COMPOSITION --out OUT --json` to run: with
/// `--cache-dir CACHE`, or `--no-cache` when `cache` is `None`, plus `args`
/// and `env`.
#[derive(Clone, Debug, Default)]
pub struct Extract {
    /// The composition file.
    pub composition: PathBuf,
    /// The output directory.
    pub out: PathBuf,
    /// The store root; `None`: `--no-cache`.
    pub cache: Option<PathBuf>,
    /// More arguments.
    pub args: Vec<OsString>,
    /// Environment variables set for framex.
    pub env: Vec<(OsString, OsString)>,
}

impl Extract {
    /// `composition` into `out` with the store at `cache` (`None`: none).
    pub fn new(composition: &Path, out: &Path, cache: Option<&Path>) -> Self {
        Self {
            composition: composition.to_path_buf(),
            out: out.to_path_buf(),
            cache: cache.map(Path::to_path_buf),
            ..Self::default()
        }
    }

    /// With more arguments.
    pub fn with_args<S: Into<OsString> + Clone>(mut self, args: &[S]) -> Self {
        self.args.extend(args.iter().cloned().map(Into::into));
        self
    }

    /// With an environment variable (`FRAMEX_FFMPEG`, …).
    pub fn with_env(mut self, name: &str, value: impl Into<OsString>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// The command, not started.
    pub fn command(&self) -> Command {
        let mut command = framex_command();
        command
            .args(["--quiet", "extract"])
            .arg(&self.composition)
            .arg("--out")
            .arg(&self.out)
            .arg("--json");
        match &self.cache {
            Some(dir) => command.arg("--cache-dir").arg(dir),
            None => command.arg("--no-cache"),
        };
        command.args(&self.args);
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    /// Runs it, whatever the outcome.
    pub fn run(&self) -> ExtractRun {
        let output = self.command().output().expect("framex runs");
        ExtractRun {
            code: output.status.code().unwrap_or(-1),
            report: serde_json::from_slice(&output.stdout).unwrap_or(Value::Null),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs it; it must exit 0, and print the report it wrote to
    /// `framex-report.json`.
    pub fn ok(&self) -> ExtractRun {
        let run = self.run();
        assert_eq!(
            run.code, 0,
            "framex extract failed: {}\n{}",
            run.stderr, run.report
        );
        let on_disk: Value = serde_json::from_slice(
            &std::fs::read(self.out.join("framex-report.json")).expect("framex-report.json"),
        )
        .expect("the report is JSON");
        assert_eq!(run.report, on_disk, "--json prints framex-report.json");
        run
    }
}

impl ExtractRun {
    /// An element's role text (`leader`, `duplicate of a`, …).
    pub fn role(&self, id: &str) -> &str {
        self.element(id)["role"]
            .as_str()
            .unwrap_or_else(|| panic!("no role for {id}: {}", self.report))
    }

    /// An element's error message.
    pub fn error(&self, id: &str) -> &str {
        self.element(id)["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error for {id}: {}", self.report))
    }

    /// Checks an element's report: ok, `frames` frames, in `out/<id>`
    /// (absolute), and that directory holds `frame_000001.<ext>` … and
    /// nothing else.
    pub fn assert_ok(&self, out: &Path, id: &str, frames: u64, ext: &str) {
        let e = self.element(id);
        assert_eq!(e["status"], "ok", "{id}: {e:#}");
        assert_eq!(e["frames"], frames, "{id}: frames in the report");
        let dir = PathBuf::from(e["dir"].as_str().expect("an ok element has a dir"));
        let expected = out.canonicalize().expect("out exists").join(id);
        assert_eq!(dir, expected, "{id}: its directory");
        assert_numbered(&self::frames(&dir), frames, ext, id);
    }

    /// Checks an element's error: status, kind, retryable, no frames, no
    /// directory in `out`.
    pub fn assert_failed(&self, out: &Path, id: &str, kind: &str, retryable: bool) {
        let e = self.element(id);
        assert_eq!(e["status"], "error", "{id}: {e:#}");
        assert_eq!(e["errorKind"], kind, "{id}: {e:#}");
        assert_eq!(e["retryable"], retryable, "{id}: {e:#}");
        assert_eq!(e["frames"], 0, "{id}: {e:#}");
        assert!(!out.join(id).exists(), "{id}: no directory");
    }
}

// ------------------------------------------------------------------ frames

/// A file in an element directory.
#[derive(Debug, Clone)]
pub struct Frame {
    /// `frame_000001.png`, …
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Its inode: files that are links of one stored frame share it.
    pub ino: u64,
}

/// Every file in `dir`, sorted by name.
pub fn frames(dir: &Path) -> Vec<Frame> {
    let mut frames: Vec<Frame> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| {
            let entry = entry.expect("a directory entry");
            Frame {
                name: entry.file_name().to_string_lossy().into_owned(),
                bytes: std::fs::read(entry.path()).expect("a frame reads"),
                ino: entry.metadata().expect("metadata").ino(),
            }
        })
        .collect();
    frames.sort_by(|a, b| a.name.cmp(&b.name));
    frames
}

/// The inodes of `frames`, in order.
pub fn inodes(frames: &[Frame]) -> Vec<u64> {
    frames.iter().map(|f| f.ino).collect()
}

/// Checks that `frames` are exactly `frame_000001.<ext>` …
/// `frame_<count>.<ext>`, none empty.
pub fn assert_numbered(frames: &[Frame], count: u64, ext: &str, what: &str) {
    let names: Vec<&str> = frames.iter().map(|f| f.name.as_str()).collect();
    let expected: Vec<String> = (1..=count).map(|n| format!("frame_{n:06}.{ext}")).collect();
    assert_eq!(names, expected, "{what}: frame files");
    assert!(
        frames.iter().all(|f| !f.bytes.is_empty()),
        "{what}: an empty frame"
    );
}

/// Checks that two lists of frames have the same names and bytes.
pub fn assert_same_bytes(a: &[Frame], b: &[Frame], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: frame counts differ");
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x.name, y.name, "{what}: names differ");
        assert!(x.bytes == y.bytes, "{what}: {} differs", x.name);
    }
}

/// The oracle's view of one of [`el`]'s elements (fps an integer or a
/// `"n/d"` text; times in seconds).
pub fn spec(element: &Value) -> ElementSpec {
    let us = |field: &str| -> Option<i64> {
        element[field]
            .as_f64()
            .map(|s| (s * 1_000_000.0).round() as i64)
    };
    let ratio = |field: &str| -> Option<(u32, u32)> {
        match &element[field] {
            Value::Number(n) => Some((n.as_u64().expect("an integer") as u32, 1)),
            Value::String(s) => {
                let (n, d) = s.split_once('/').unwrap_or((s, "1"));
                Some((n.parse().expect("a ratio"), d.parse().expect("a ratio")))
            }
            _ => None,
        }
    };
    ElementSpec {
        media_start_us: us("mediaStart").unwrap_or(0),
        duration_us: us("duration").expect("a duration"),
        fps: ratio("fps").expect("an fps"),
        rate: ratio("playbackRate").unwrap_or((1, 1)),
        looping: element["loop"].as_bool().unwrap_or(false),
        media_duration_us: us("mediaDuration"),
    }
}

/// The source frame each tick of `element` shows, by the oracle.
pub fn expected(times: &SourceTimes, element: &Value) -> Vec<usize> {
    expected_frames(times, &spec(element))
}

/// Checks that the directories `out/<id>` of elements on one source and
/// recipe hold, tick by tick, the one stored file of the source frame the
/// oracle names (`shown`, per element): a frame's ticks are one inode in
/// every directory, and different frames are different inodes. Returns
/// source frame → inode.
pub fn assert_frame_inodes(out: &Path, shown: &[(&str, Vec<usize>)]) -> BTreeMap<usize, u64> {
    let mut inode_of: BTreeMap<usize, u64> = BTreeMap::new();
    for (id, expected) in shown {
        let files = frames(&out.join(id));
        assert_eq!(files.len(), expected.len(), "{id}: one file per tick");
        for (tick, (file, &frame)) in files.iter().zip(expected).enumerate() {
            let ino = *inode_of.entry(frame).or_insert(file.ino);
            assert_eq!(
                file.ino, ino,
                "{id}: tick {tick} shows source frame {frame}, which is another file elsewhere"
            );
        }
    }
    let mut frame_of: BTreeMap<u64, usize> = BTreeMap::new();
    for (&frame, &ino) in &inode_of {
        if let Some(other) = frame_of.insert(ino, frame) {
            panic!("source frames {other} and {frame} are one file");
        }
    }
    inode_of
}

// ------------------------------------------------------------------ pixels

/// A PNG decoded as stored: no conversion.
#[derive(Clone, PartialEq, Eq)]
pub struct Pixels {
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// RGB, RGBA, …
    pub color: png::ColorType,
    /// Bits per sample.
    pub depth: png::BitDepth,
    /// The samples, row by row, without padding.
    pub data: Vec<u8>,
}

impl std::fmt::Debug for Pixels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}x{} {:?} {:?} ({} bytes, sum {})",
            self.width,
            self.height,
            self.color,
            self.depth,
            self.data.len(),
            self.data.iter().map(|&b| u64::from(b)).sum::<u64>()
        )
    }
}

/// Decodes a PNG file.
pub fn png_pixels(path: &Path) -> Pixels {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .unwrap_or_else(|e| panic!("{} is no PNG: {e}", path.display()));
    let mut data = vec![0; reader.output_buffer_size().expect("a sane PNG")];
    let info = reader
        .next_frame(&mut data)
        .unwrap_or_else(|e| panic!("decoding {}: {e}", path.display()));
    data.truncate(info.buffer_size());
    Pixels {
        width: info.width,
        height: info.height,
        color: info.color_type,
        depth: info.bit_depth,
        data,
    }
}

/// Frame `n` (0-based, in presentation order) of `clip` as ffmpeg's own PNG
/// path gives it: `ffmpeg [-c:v DECODER] -i clip -vf
/// "select=eq(n\,K),format=PIX_FMT" -frames:v 1 DIR/x.png`, decoded.
pub fn ffmpeg_png(
    clip: &Path,
    decoder: Option<&str>,
    n: usize,
    pix_fmt: &str,
    dir: &Path,
) -> Pixels {
    let png = dir.join(format!("ffmpeg-frame-{n}.png"));
    let mut command = Command::new("ffmpeg");
    command.args(["-nostdin", "-v", "error", "-y"]);
    if let Some(decoder) = decoder {
        command.args(["-c:v", decoder]);
    }
    let output = command
        .arg("-i")
        .arg(clip)
        .args(["-vf", &format!("select=eq(n\\,{n}),format={pix_fmt}")])
        .args(["-frames:v", "1"])
        .arg(&png)
        .output()
        .expect("ffmpeg runs");
    assert!(
        output.status.success() && png.is_file(),
        "ffmpeg gave no frame {n} of {}: {}",
        clip.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    png_pixels(&png)
}

/// The source's true last frame as plain ffmpeg decodes it (seek near the
/// end, decode to the end, keep the last image), as RGB; `dir` holds the
/// PNG.
pub fn true_last_frame(clip: &Path, dir: &Path) -> Pixels {
    let png = dir.join("ffmpeg-last.png");
    let output = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-sseof", "-0.5", "-i"])
        .arg(clip)
        .args(["-vf", "format=rgb24", "-update", "1"])
        .arg(&png)
        .output()
        .expect("ffmpeg runs");
    assert!(output.status.success(), "{output:?}");
    png_pixels(&png)
}

// ------------------------------------------------------------------- store

/// `framex cache ARGS --cache-dir CACHE`: exit code, stdout, stderr.
pub fn cache_command(cache: &Path, args: &[&str]) -> (i32, String, String) {
    let output = framex_command()
        .arg("cache")
        .args(args)
        .arg("--cache-dir")
        .arg(cache)
        .output()
        .expect("framex runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `framex cache stats --json` of a store.
pub fn cache_stats(cache: &Path) -> Value {
    let (code, stdout, stderr) = cache_command(cache, &["stats", "--json"]);
    assert_eq!(code, 0, "cache stats: {stderr}");
    serde_json::from_str(&stdout).expect("cache stats --json prints JSON")
}

/// `framex cache verify` of a store must pass; returns the records checked.
pub fn assert_verifies(cache: &Path) -> u64 {
    let (code, stdout, stderr) = cache_command(cache, &["verify"]);
    assert_eq!(code, 0, "cache verify: {stdout}{stderr}");
    // The count is on the last line (a line about blobs no record names,
    // left by a killed run, may come before it).
    let (checked, bad) = stdout
        .trim()
        .lines()
        .last()
        .unwrap_or_default()
        .strip_suffix(" bad")
        .and_then(|s| s.split_once(" records checked, "))
        .unwrap_or_else(|| panic!("cache verify said: {stdout}"));
    assert_eq!(bad, "0", "{stdout}");
    checked.parse().expect("a count")
}

/// The blob files of a store (`v2/blobs/<xx>/<digest>.<ext>`).
pub fn blobs(cache: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(shards) = std::fs::read_dir(cache.join("v2").join("blobs")) else {
        return files;
    };
    for shard in shards {
        let shard = shard.expect("a directory entry").path();
        for entry in std::fs::read_dir(&shard).expect("a shard reads") {
            files.push(entry.expect("a directory entry").path());
        }
    }
    files.sort();
    files
}

// ------------------------------------------------------------------- tools

/// The real ffmpeg or ffprobe on PATH.
pub fn real_tool(tool: &str) -> PathBuf {
    let out = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .expect("sh runs");
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        !path.is_empty(),
        "{tool} is on PATH (scripts/test.sh installs it)"
    );
    PathBuf::from(path)
}

/// Writes an executable shell script `dir/name` that appends a line to
/// `dir/calls`, then runs `body` (`"$@"` are framex's arguments).
pub fn fake_tool(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    let script = format!(
        "#!/bin/sh\necho call >> '{}/calls'\n{body}\n",
        dir.display()
    );
    std::fs::write(&path, script).expect("script written");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

/// How many times the fake tools of `dir` were called.
pub fn calls(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("calls"))
        .map(|t| t.lines().count())
        .unwrap_or(0)
}
