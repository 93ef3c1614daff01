//! One `framex extract` to run ([`Extract`]) and what its report says
//! ([`ExtractRun`]'s accessors and assertions).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::assert_numbered;
use crate::{framex_command, ExtractRun};

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
        ExtractRun::from_output(&self.command().output().expect("framex runs"))
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
        assert_numbered(&super::frames(&dir), frames, ext, id);
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
