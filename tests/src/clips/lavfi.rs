//! Test media made with lavfi and the installed ffmpeg, once, under the
//! target directory ([`media_dir`]).

use std::path::PathBuf;
use std::process::Command;

use crate::target_dir;

/// A directory for test media made with lavfi, kept between runs under the
/// target directory so clips are made once.
pub fn media_dir() -> PathBuf {
    let dir = target_dir().join("framex-test-media");
    std::fs::create_dir_all(&dir).expect("media dir");
    dir
}

/// Makes (once) a clip named `name` in [`media_dir`] with ffmpeg and the given
/// arguments (inputs, filters and encoder options; the output path is
/// appended). Written to a temporary name and renamed, so concurrent tests
/// never see half a clip.
pub fn make_clip(name: &str, args: &[&str]) -> PathBuf {
    let path = media_dir().join(name);
    if path.is_file() {
        return path;
    }
    // Unique per call: tests of one process (one pid) may make the same clip
    // at once, and must not write into one file.
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = media_dir().join(format!("partial-{}-{call}-{name}", std::process::id()));
    crate::output_ok(
        Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-y"])
            .args(args)
            .arg(&tmp),
        &format!("making {name} with ffmpeg (install it with scripts/test.sh)"),
    );
    std::fs::rename(&tmp, &path).expect("publish clip");
    path
}
