//! Finding the wasm packages that `scripts/build-wasm.sh` writes, for the
//! parity and preview-page tests.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::workspace_root;

/// The build command, named in every message about a missing package.
pub const BUILD_COMMAND: &str = "scripts/build-wasm.sh";

/// Which of the two packages.
#[derive(Clone, Copy, Debug)]
pub enum Package {
    /// `wasm/pkg/node`: `--target nodejs`, for node.
    Node,
    /// `wasm/www/pkg`: `--target web`, for the preview page.
    Web,
}

impl Package {
    /// The package's directory.
    pub fn dir(self) -> PathBuf {
        match self {
            Package::Node => workspace_root().join("wasm/pkg/node"),
            Package::Web => workspace_root().join("wasm/www/pkg"),
        }
    }
}

/// The package's directory, checked: built, and not older than the sources
/// it was built from. Returns `None` (after saying so) when it is missing and
/// `FRAMEX_SKIP_WASM=1` is set; panics with the build command otherwise.
pub fn require_package(package: Package, test: &str) -> Option<PathBuf> {
    let dir = package.dir();
    let module = dir.join("framex_wasm_bg.wasm");
    let skip = std::env::var("FRAMEX_SKIP_WASM").is_ok_and(|v| v == "1");
    let Some(built) = modified(&module) else {
        if skip {
            println!(
                "{test}: SKIPPED (FRAMEX_SKIP_WASM=1 and no wasm package at {})",
                dir.display()
            );
            return None;
        }
        panic!(
            "{test}: the wasm package is not built ({} is missing): run {BUILD_COMMAND} \
             (or set FRAMEX_SKIP_WASM=1 to skip the wasm tests)",
            module.display()
        );
    };
    let root = workspace_root();
    let sources = ["core/src", "core/Cargo.toml", "wasm/src", "wasm/Cargo.toml"];
    if let Some(newer) = sources
        .iter()
        .flat_map(|s| files_under(&root.join(s)))
        .find(|f| modified(f).is_some_and(|m| m > built))
    {
        panic!(
            "{test}: the wasm package in {} is older than {}: run {BUILD_COMMAND} again",
            dir.display(),
            newer.display()
        );
    }
    Some(dir)
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn files_under(path: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(path) {
        Ok(entries) => entries
            .flatten()
            .flat_map(|e| files_under(&e.path()))
            .collect(),
        Err(_) => vec![path.to_path_buf()],
    }
}

/// `node`, or a panic that says how to install it.
pub fn node() -> PathBuf {
    which("node").unwrap_or_else(|| {
        panic!("node is not installed: {BUILD_COMMAND} installs it (apt-get install nodejs)")
    })
}

/// The first `name` on `PATH`.
pub fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// The TypeScript compiler that `scripts/build-wasm.sh` installs (pinned in
/// `wasm/tests/ts/package.json`). Returns `None` (after saying so) when it is
/// missing and `FRAMEX_SKIP_WASM=1` is set; panics with the build command
/// otherwise.
pub fn tsc(test: &str) -> Option<PathBuf> {
    let tsc = workspace_root().join("wasm/tests/ts/node_modules/.bin/tsc");
    if tsc.is_file() {
        return Some(tsc);
    }
    if std::env::var("FRAMEX_SKIP_WASM").is_ok_and(|v| v == "1") {
        println!(
            "{test}: SKIPPED (FRAMEX_SKIP_WASM=1 and no tsc at {})",
            tsc.display()
        );
        return None;
    }
    panic!(
        "{test}: tsc is not installed ({} is missing): run {BUILD_COMMAND} \
         (it runs `npm ci` in wasm/tests/ts)",
        tsc.display()
    );
}
