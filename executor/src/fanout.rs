//! Fan-out: one directory per element, filled with hard links.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use framex_core::ImageFormat;

use crate::cache::frame_name;

/// Fills `target` with `frames`, in order, numbered from 1, as hard links (a
/// copy only across filesystems): a slice of a unit, a loop's cycle over and
/// over, held last frames — one file may appear many times. The directory is
/// built beside `target` and renamed into place, so a reader never sees a
/// half-filled element directory. Returns frames placed.
pub fn link_frames(frames: &[PathBuf], format: ImageFormat, target: &Path) -> io::Result<u64> {
    let parent = target.parent().unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let building = parent.join(format!(".{name}.{BUILDING_MARKER}.{}", std::process::id()));
    if building.exists() {
        fs::remove_dir_all(&building)?;
    }
    fs::create_dir_all(&building)?;
    let result = (|| {
        for (n, src) in (1..).zip(frames) {
            let dst = building.join(frame_name(n, format));
            link_or_copy(src, &dst)?;
        }
        replace_dir(&building, target)
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(&building);
    }
    result.map(|()| frames.len() as u64)
}

/// Removes what runs that died left in `dir`: names ending in
/// `.<marker>.<pid>` (a fan-out's building directory, a remembered probe's
/// temporary file) whose process is gone; with `hidden`, only names starting
/// with `.` (never an element's directory: ids cannot start with `.`).
/// Returns how many were removed.
/// Knows a process is gone only through `/proc`; elsewhere it removes nothing
/// (the leftovers are hidden and harmless).
pub fn sweep_dead_leftovers(dir: &Path, marker: &str, hidden: bool) -> usize {
    if !Path::new("/proc/self").exists() {
        return 0;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut swept = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((rest, pid)) = name.rsplit_once('.') else {
            continue;
        };
        let ours = rest.ends_with(&format!(".{marker}")) && (!hidden || name.starts_with('.'));
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        if !ours || pid == std::process::id() || Path::new("/proc").join(pid.to_string()).exists() {
            continue;
        }
        let path = entry.path();
        let removed = if path.is_dir() && !path.is_symlink() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        swept += usize::from(removed.is_ok());
    }
    swept
}

/// The marker of a fan-out's building directory: `.<id>.framex-partial.<pid>`.
pub const BUILDING_MARKER: &str = "framex-partial";

/// Hard-links `src` to `dst`, copying only when they are on different filesystems.
pub fn link_or_copy(src: &Path, dst: &Path) -> io::Result<()> {
    match fs::hard_link(src, dst) {
        Ok(()) => Ok(()),
        Err(err) if err.raw_os_error() == Some(libc::EXDEV) => fs::copy(src, dst).map(|_| ()),
        Err(err) => Err(io::Error::new(
            err.kind(),
            format!("linking {} to {}: {err}", src.display(), dst.display()),
        )),
    }
}

/// Moves `from` to `target`, replacing an old `target` directory.
fn replace_dir(from: &Path, target: &Path) -> io::Result<()> {
    if target.is_dir() && !target.is_symlink() {
        fs::remove_dir_all(target)?;
    } else if target.exists() || target.is_symlink() {
        fs::remove_file(target)?;
    }
    fs::rename(from, target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeps_only_hidden_leftovers_of_dead_processes() {
        if !Path::new("/proc/self").exists() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        // Above any pid_max: no such process.
        let dead = "4294967295";
        let mine = std::process::id().to_string();
        let names = [
            format!(".a.{BUILDING_MARKER}.{dead}"),
            format!(".a.{BUILDING_MARKER}.{mine}"),
            format!("a.{BUILDING_MARKER}.{dead}"),
            format!(".a.other.{dead}"),
        ];
        for name in &names {
            fs::create_dir(dir.path().join(name)).unwrap();
        }
        assert_eq!(sweep_dead_leftovers(dir.path(), BUILDING_MARKER, true), 1);
        assert!(!dir.path().join(&names[0]).exists());
        assert!(names[1..].iter().all(|n| dir.path().join(n).exists()));
    }
}
