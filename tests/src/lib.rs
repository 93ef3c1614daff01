//! Helpers shared by the framex cross-crate tests.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use framex_core::{ErrorDetail, PlanError, Request};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The cargo target directory (honours `CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| {
            if p.is_absolute() {
                p
            } else {
                workspace_root().join(p)
            }
        })
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// The `framex` binary, built once per test process (debug profile) with the
/// same cargo that runs the tests. `FRAMEX_BIN` overrides it.
pub fn framex_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("FRAMEX_BIN") {
            return PathBuf::from(bin);
        }
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "-p",
                "framex-executor",
                "--bin",
                "framex",
            ])
            .current_dir(workspace_root())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building framex failed");
        target_dir().join("debug").join("framex")
    })
    .clone()
}

/// The environment variables `framex` reads its settings from.
pub const FRAMEX_ENV: &[&str] = &[
    "FRAMEX_FFMPEG",
    "FRAMEX_FFPROBE",
    "FRAMEX_CACHE_DIR",
    "FRAMEX_CACHE_MAX_SIZE",
    "FRAMEX_TIMEOUT",
    "FRAMEX_DOWNLOAD_TIMEOUT",
    "FRAMEX_STORE",
    "FRAMEX_STORE_ENDPOINT",
    "FRAMEX_STORE_TIMEOUT",
];

/// A `framex` command that ignores the caller's [`FRAMEX_ENV`] settings, so a
/// test runs the same from any shell; a test sets what it needs itself.
pub fn framex_command() -> Command {
    let mut command = Command::new(framex_bin());
    for var in FRAMEX_ENV {
        command.env_remove(var);
    }
    command
}

/// Runs `framex --quiet plan --json <args…> <file>` and returns the plan it
/// prints; panics with framex's stderr when it fails.
pub fn framex_plan_json(args: &[&str], file: &Path) -> serde_json::Value {
    let output = framex_command()
        .args(["--quiet", "plan", "--json"])
        .args(args)
        .arg(file)
        .output()
        .expect("framex runs");
    assert!(
        output.status.success(),
        "framex plan {args:?} {} failed ({}): {}",
        file.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("framex plan --json prints JSON")
}

/// A directory for test media made with lavfi, kept between runs under the
/// target directory so clips are made once.
pub fn media_dir() -> PathBuf {
    let dir = target_dir().join("framex-test-media");
    std::fs::create_dir_all(&dir).expect("media dir");
    dir
}

/// Makes (once) a clip named `name` in [`media_dir`] with ffmpeg and the given
/// arguments (inputs, filters and encoder options; the output path is
/// appended). Written to a temporary name and renamed, so concurrent tests
/// never see half a clip.
pub fn make_clip(name: &str, args: &[&str]) -> PathBuf {
    let path = media_dir().join(name);
    if path.is_file() {
        return path;
    }
    // Unique per call: tests of one process (one pid) may make the same clip
    // at once, and must not write into one file.
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = media_dir().join(format!("partial-{}-{call}-{name}", std::process::id()));
    let output = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(args)
        .arg(&tmp)
        .output()
        .expect("ffmpeg runs (install it with scripts/test.sh)");
    assert!(
        output.status.success(),
        "making {name} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::rename(&tmp, &path).expect("publish clip");
    path
}

/// 3 s of 320×240 testsrc2 at 30 fps, H.264 (CFR).
pub fn cfr_clip() -> PathBuf {
    make_clip(
        "cfr30.mp4",
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
            "30",
        ],
    )
}

/// 3 s at a nominal 30 fps with frames 20–40 dropped and later frames
/// jittered: a variable frame rate, H.264.
pub fn vfr_clip() -> PathBuf {
    make_clip(
        "vfr.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=30",
            "-t",
            "3",
            "-vf",
            "select='not(between(n,20,40))',setpts='PTS+if(gt(N,10),0.01/TB,0)'",
            "-fps_mode",
            "vfr",
            "-pix_fmt",
            "yuv420p",
            "-c:v",
            "libx264",
        ],
    )
}

/// 2 s of half-transparent 160×120 video, VP9 with alpha in WebM.
pub fn alpha_clip() -> PathBuf {
    make_clip(
        "alpha.webm",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=30,format=yuva420p,colorchannelmixer=aa=0.5",
            "-t",
            "2",
            "-c:v",
            "libvpx-vp9",
            "-pix_fmt",
            "yuva420p",
        ],
    )
}

/// 3 s at 30000/1001 fps (29.97), H.264.
pub fn ntsc_clip() -> PathBuf {
    make_clip(
        "ntsc.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=30000/1001",
            "-t",
            "3",
            "-pix_fmt",
            "yuv420p",
            "-c:v",
            "libx264",
        ],
    )
}

/// One `framex extract --json` run: exit code, report (`null` when none was
/// printed) and stderr.
#[derive(Debug)]
pub struct ExtractRun {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    /// The report printed on stdout.
    pub report: serde_json::Value,
    /// What framex said on stderr.
    pub stderr: String,
}

impl ExtractRun {
    /// The report entry of element `id`.
    pub fn element(&self, id: &str) -> &serde_json::Value {
        &self.report["elements"][id]
    }

    /// A metric as a number (panics when absent).
    pub fn metric(&self, name: &str) -> u64 {
        self.report["metrics"][name]
            .as_u64()
            .unwrap_or_else(|| panic!("metric {name} in {}", self.report))
    }
}

/// Runs `framex --quiet extract COMPOSITION --out OUT --json ARGS…` with
/// extra environment variables.
pub fn extract_json(
    composition: &Path,
    out: &Path,
    args: &[&str],
    env: &[(&str, &std::ffi::OsStr)],
) -> ExtractRun {
    let output = Command::new(framex_bin())
        .args(["--quiet", "extract"])
        .arg(composition)
        .arg("--out")
        .arg(out)
        .arg("--json")
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, *v)))
        .output()
        .expect("framex runs");
    ExtractRun {
        code: output.status.code().unwrap_or(-1),
        report: serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The frames in an element's directory, `(file name, bytes)`, sorted.
pub fn frames_in(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut frames: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let e = e.expect("a directory entry");
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(e.path()).expect("a frame reads"))
        })
        .collect();
    frames.sort();
    frames
}

/// Writes `{"elements": [...]}` of `elements` (JSON object texts) to `path`.
pub fn write_composition(path: &Path, elements: &[String]) {
    let text = format!("{{\"elements\": [\n  {}\n]}}\n", elements.join(",\n  "));
    std::fs::write(path, text).expect("composition written");
}

/// One element as JSON text: `id`, `src`, start, duration, fps 30, PNG, and
/// `extra` fields (`, "identity": "content"`) appended verbatim.
pub fn element(id: &str, src: &str, start: f64, duration: f64, extra: &str) -> String {
    let (id, src) = (serde_json::json!(id), serde_json::json!(src));
    format!(
        r#"{{"id": {id}, "src": {src}, "mediaStart": {start}, "duration": {duration}, "fps": 30, "format": "png"{extra}}}"#
    )
}

/// The snapshot corpus: `tests/cases`, one request (`framex_core::Request`
/// JSON) per file.
pub fn cases_dir() -> PathBuf {
    workspace_root().join("tests").join("cases")
}

/// The committed snapshots of the corpus: `snapshots/` at the workspace root.
pub fn snapshots_dir() -> PathBuf {
    workspace_root().join("snapshots")
}

/// Every `*.json` in [`cases_dir`], sorted by path.
pub fn case_files() -> Vec<PathBuf> {
    let dir = cases_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
}

/// The native result for the text of a case, as the snapshots pin it and as
/// every other planner (wasm) must reproduce it: `Ok` with the plan as JSON,
/// or `Err` with [`error_text`] of the error.
pub fn plan_case_json(text: &str) -> Result<serde_json::Value, String> {
    let request = Request::from_json(text).map_err(|e| plan_error_text(&PlanError::from(e)))?;
    let plan = framex_core::plan(&request).map_err(|e| plan_error_text(&e))?;
    Ok(serde_json::to_value(plan).expect("a plan serializes"))
}

/// [`error_text`] of a native error: its message and its element errors.
pub fn plan_error_text(error: &PlanError) -> String {
    let details: Vec<ErrorDetail> = error.element_errors().iter().map(|e| e.detail()).collect();
    let details = serde_json::to_value(details).expect("error details serialize");
    error_text(&error.to_string(), Some(&details))
}

/// How a refused case reads: the error's message, then, when the error lists
/// invalid elements, a blank line and the list of `ErrorDetail`s as pretty
/// JSON. `errors` is that list as serialized (natively, or the `errors` of a
/// wasm error); `None` or an empty list adds nothing.
pub fn error_text(message: &str, errors: Option<&serde_json::Value>) -> String {
    match errors {
        Some(list) if list.as_array().is_some_and(|l| !l.is_empty()) => {
            let list = serde_json::to_string_pretty(list).expect("JSON values serialize");
            format!("{message}\n\n{list}")
        }
        _ => message.to_string(),
    }
}

pub mod check;
pub mod clips;
pub mod fake_ffmpeg;
pub mod faults;
pub mod framenum;
pub mod generate;
pub mod host;
pub mod hostile;
pub mod oracle;
pub mod plan_check;
pub mod processes;
pub mod reference;
pub mod store;
pub mod wasm;
