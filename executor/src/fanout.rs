//! Fan-out: one directory per element, filled with hard links to the
//! store's blobs (no frame bytes copied on the happy path).

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::store::frame_name;

/// Where links to each blob come from: the blob itself, or, once its link
/// count is exhausted (ext4 allows 65 000 links per file: a frame held for
/// a long slot, a loop's frame over hours), a fresh copy made in an element
/// directory, which takes the next 65 000.
#[derive(Debug, Default)]
pub struct LinkSources {
    current: BTreeMap<PathBuf, PathBuf>,
    /// Copies made because a link count was exhausted.
    pub fresh_copies: u64,
}

impl LinkSources {
    /// Links (or, across filesystems or past the link limit, copies) `blob`
    /// to `dst`.
    pub fn place(&mut self, blob: &Path, dst: &Path) -> io::Result<()> {
        let from = self.current.get(blob).map_or(blob, PathBuf::as_path);
        match fs::hard_link(from, dst) {
            Ok(()) => Ok(()),
            Err(err) if err.raw_os_error() == Some(libc::EXDEV) => fs::copy(from, dst).map(|_| ()),
            Err(err) if err.raw_os_error() == Some(libc::EMLINK) => {
                fs::copy(from, dst)?;
                self.fresh_copies += 1;
                self.current.insert(blob.to_path_buf(), dst.to_path_buf());
                Ok(())
            }
            Err(err) => Err(io::Error::new(
                err.kind(),
                format!("linking {} to {}: {err}", from.display(), dst.display()),
            )),
        }
    }
}

/// Fills `target` with `frames` (blob paths, one per tick, in order),
/// numbered from 1. The directory is built beside `target` and renamed into
/// place, so a reader never sees a half-filled element directory. Returns
/// frames placed. `frames` is walked once: no list of the slot's frames is
/// kept.
pub fn fill_element_dir(
    target: &Path,
    ext: &str,
    frames: impl Iterator<Item = io::Result<PathBuf>>,
    links: &mut LinkSources,
) -> io::Result<u64> {
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
    let mut placed = 0u64;
    let result = (|| {
        for frame in frames {
            placed += 1;
            links.place(&frame?, &building.join(frame_name(placed, ext)))?;
        }
        replace_dir(&building, target)
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(&building);
    }
    result.map(|()| placed)
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

/// The marker of what a run builds in the output directory before it
/// renames it into place or removes it: `.<id>.framex-partial.<pid>` (an
/// element directory), `.framex-store.framex-partial.<pid>` (the private
/// store of a run without one), `.framex-report.json.framex-partial.<pid>`.
pub const BUILDING_MARKER: &str = "framex-partial";

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
