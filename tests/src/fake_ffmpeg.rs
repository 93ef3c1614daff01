//! Fake ffmpegs: real shell scripts that `framex` runs through
//! `FRAMEX_FFMPEG`, misbehaving (or only taking notes) for one source and
//! running the real ffmpeg for the others.

use std::path::{Path, PathBuf};

/// The ffmpeg on `PATH` (the one a fake runs for good inputs).
pub fn real_ffmpeg() -> PathBuf {
    let path = std::env::var_os("PATH").expect("PATH is set");
    std::env::split_paths(&path)
        .map(|dir| dir.join("ffmpeg"))
        .find(|p| p.is_file())
        .expect("ffmpeg on PATH (install it with scripts/test.sh)")
}

/// Writes an executable script at `path` that runs the shell code `body`
/// when its input (the argument after `-i`) ends with `/<only_for>` (or
/// always, with `None`), and `exec`s the real ffmpeg otherwise. In `body`,
/// `$REAL` is the real ffmpeg and `$LOG` a file beside the script
/// ([`log_path`]) for notes the test reads.
pub fn write_fake_ffmpeg(path: &Path, only_for: Option<&str>, body: &str) {
    let select = match only_for {
        Some(name) => format!(
            r#"prev=''; hit=0
for a in "$@"; do
  if [ "$prev" = "-i" ]; then
    case "$a" in */{name}) hit=1 ;; esac
  fi
  prev="$a"
done
[ "$hit" = 1 ] || exec "$REAL" "$@""#
        ),
        None => String::new(),
    };
    let script = format!(
        "#!/bin/sh\n# A fake ffmpeg for framex's fault tests.\nREAL='{real}'\nLOG='{log}'\n{select}\n{body}\n",
        real = real_ffmpeg().display(),
        log = log_path(path).display(),
    );
    std::fs::write(path, script).expect("write the fake ffmpeg");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .expect("make the fake ffmpeg executable");
}

/// The notes file of the fake at `path`.
pub fn log_path(path: &Path) -> PathBuf {
    path.with_extension("log")
}

/// The pids the fake at `path` wrote to its notes (`echo $$ >> "$LOG"`).
pub fn logged_pids(path: &Path) -> Vec<u32> {
    std::fs::read_to_string(log_path(path))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}
