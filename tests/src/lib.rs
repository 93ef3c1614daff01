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

/// Runs `command`, which must succeed, and returns its output; panics
/// naming `what`, with the exit status and stderr, when it cannot run or
/// fails.
pub fn output_ok(command: &mut Command, what: &str) -> std::process::Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{what} cannot run: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs `framex --quiet plan --json <args…> <file>` and returns the plan it
/// prints; panics with framex's stderr when it fails.
pub fn framex_plan_json(args: &[&str], file: &Path) -> serde_json::Value {
    let output = output_ok(
        framex_command()
            .args(["--quiet", "plan", "--json"])
            .args(args)
            .arg(file),
        &format!("framex plan {args:?} {}", file.display()),
    );
    serde_json::from_slice(&output.stdout).expect("framex plan --json prints JSON")
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
    /// What a finished `framex extract --json` process gave.
    pub fn from_output(output: &std::process::Output) -> ExtractRun {
        ExtractRun {
            code: output.status.code().unwrap_or(-1),
            report: serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

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
    ExtractRun::from_output(&output)
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
pub use clips::{alpha_clip, cfr_clip, h264_clip, make_clip, media_dir, ntsc_clip, vfr_clip};
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
