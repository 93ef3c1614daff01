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
    let building = parent.join(format!(".{name}.framex-partial.{}", std::process::id()));
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
