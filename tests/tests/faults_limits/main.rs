//! The limits a long or large composition hits (issue 7 item 4, issue 14
//! items 5–7):
//!
//! - a million elements are refused quickly, and an element of 10^10 frames
//!   (1e7 s at 1000 fps) at validation, naming the element (exit 2), before
//!   any directory is made; the cap itself (`MAX_FRAMES_PER_ELEMENT`) is
//!   accepted;
//! - memory does not grow with the frames of a slot (fan-out streams);
//! - `framex plan` and `framex extract` refuse invalid input alike: the same
//!   message, exit 2, and neither makes a store or output directory;
//! - thousands of invalid or failed elements print the first few, then a
//!   count, while `--json` and the report keep every one;
//! - elements that run past a source's end, at fps off its grid, get every
//!   frame the plan counts, the held ones the true last frame.

mod messages;
mod past_end;
mod size;

use std::path::PathBuf;
use std::time::Duration;

use framex_tests::processes::run_watched;
use framex_tests::{cfr_clip, framex_command};
use serde_json::{json, Value};

/// A directory with the good clip and `elements` as `composition.json`.
fn composition_dir(elements: Value) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(cfr_clip(), dir.path().join("good.mp4")).unwrap();
    let path = dir.path().join("composition.json");
    std::fs::write(&path, json!({ "elements": elements }).to_string()).unwrap();
    (dir, path)
}

/// `framex <args…>`, killed if it runs past a minute or 2 GiB: an old
/// binary (`FRAMEX_BIN`) may try to hold every frame of a huge slot.
fn framex_watched(args: &[&std::ffi::OsStr]) -> std::process::Output {
    let watched = run_watched(
        framex_command().args(args),
        Duration::from_secs(60),
        2 << 20,
    );
    assert!(
        watched.killed.is_none(),
        "framex {args:?} was killed: {}",
        watched.killed.unwrap_or_default()
    );
    watched.output
}
