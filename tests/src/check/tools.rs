//! The real ffmpeg/ffprobe on PATH and fake ones written as shell scripts.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

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
