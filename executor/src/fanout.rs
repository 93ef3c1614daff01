//! Fan-out: one directory per element, filled with hard links to the
//! store's blobs (no frame bytes copied on the happy path).

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use framex_core::{ElementPlan, Timeline};

use crate::error::ExtractError;
use crate::leftovers::{frame_name, BUILDING_MARKER};
use crate::lookup::Stored;
use crate::store::Store;

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

/// Fills `target` with `frames` (per tick: its number, counted from 1, and
/// the blob path). The directory is built beside `target` and renamed into
/// place, so a reader never sees a half-filled element directory. Returns
/// frames placed. `frames` is walked once: no list of the slot's frames is
/// kept.
pub fn fill_element_dir(
    target: &Path,
    ext: &str,
    frames: impl Iterator<Item = (u64, io::Result<PathBuf>)>,
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
        for (number, frame) in frames {
            placed += 1;
            links.place(&frame?, &building.join(frame_name(number, ext)))?;
        }
        replace_dir(&building, target)
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(&building);
    }
    result.map(|()| placed)
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

/// The error of the first failed run the element needs, as it reports it:
/// `[shared extraction, leader <id>] …` when another element leads that run.
pub fn element_error(
    element: &ElementPlan,
    runs: &BTreeMap<String, Result<(), ExtractError>>,
    leaders: &BTreeMap<&str, &str>,
) -> Option<ExtractError> {
    element.runs.iter().find_map(|id| {
        let err = runs.get(id)?.as_ref().err()?;
        let leader = leaders.get(id.as_str()).copied().unwrap_or_default();
        Some(if leader == element.element_id {
            err.clone()
        } else {
            err.shared(leader)
        })
    })
}

/// Fills an element's directory: for each tick (of `ticks` only, when
/// given: a chunk), the blob of the frame it shows (made by this run, or
/// stored before), numbered by its tick.
#[allow(clippy::too_many_arguments)]
pub fn fan_out(
    element: &ElementPlan,
    ticks: Option<&[u64]>,
    timeline: &Timeline,
    store: &Store,
    stored: &Stored,
    made: &BTreeMap<String, BTreeMap<i64, crate::store::BlobRef>>,
    target: &Path,
    links: &mut LinkSources,
) -> Result<u64, ExtractError> {
    let made = made.get(&element.recipe);
    let blob_of = |pts: i64| {
        made.and_then(|m| m.get(&pts))
            .or_else(|| stored.blob(&element.recipe, pts))
    };
    let mut missing = None;
    let wanted = |j: u64| ticks.is_none_or(|t| t.binary_search(&j).is_ok());
    let frames = (1..).zip(element.shown()).filter(|&(n, _)| wanted(n - 1));
    let frames = frames.map(|(number, frame)| {
        let pts = timeline.pts(frame);
        let path = match blob_of(pts) {
            Some(blob) => Ok(store.blob_path(blob)),
            None => {
                missing.get_or_insert(pts);
                Err(std::io::Error::other(format!("no stored frame at {pts}")))
            }
        };
        (number, path)
    });
    // Every blob of a recipe has the recipe's extension.
    let first_ext = (0..)
        .zip(element.shown())
        .find(|&(j, _)| wanted(j))
        .and_then(|(_, f)| blob_of(timeline.pts(f)))
        .map_or("png", |b| b.ext);
    let result = fill_element_dir(target, first_ext, frames, links);
    result.map_err(|e| match missing {
        Some(pts) => ExtractError::bad_output(format!(
            "the frame at {pts} (time base {}) of element {} was never made",
            timeline.time_base(),
            element.element_id
        )),
        None => ExtractError::io("filling", target, &e),
    })
}
