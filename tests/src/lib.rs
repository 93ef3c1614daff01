//! Helpers shared by the framex cross-crate tests.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The cargo target directory (honours `CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { workspace_root().join(p) })
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// The `framex` binary, built once per test process (debug profile) with the
/// same cargo that runs the tests. `FRAMEX_BIN` overrides it.
pub fn framex_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("FRAMEX_BIN") {
            return PathBuf::from(bin);
        }
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", "framex-executor", "--bin", "framex"])
            .current_dir(workspace_root())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building framex failed");
        target_dir().join("debug").join("framex")
    })
    .clone()
}

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
    let tmp = media_dir().join(format!("partial-{}-{name}", std::process::id()));
    let output = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(args)
        .arg(&tmp)
        .output()
        .expect("ffmpeg runs (install it with scripts/test.sh)");
    assert!(
        output.status.success(),
        "making {name} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::rename(&tmp, &path).expect("publish clip");
    path
}

/// 3 s of 320×240 testsrc2 at 30 fps, H.264 (CFR).
pub fn cfr_clip() -> PathBuf {
    make_clip(
        "cfr30.mp4",
        &["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "3", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-g", "30"],
    )
}

/// 3 s at a nominal 30 fps with frames 20–40 dropped and later frames
/// jittered: a variable frame rate, H.264.
pub fn vfr_clip() -> PathBuf {
    make_clip(
        "vfr.mp4",
        &[
            "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "3",
            "-vf", "select='not(between(n,20,40))',setpts='PTS+if(gt(N,10),0.01/TB,0)'",
            "-fps_mode", "vfr", "-pix_fmt", "yuv420p", "-c:v", "libx264",
        ],
    )
}

/// 2 s of half-transparent 160×120 video, VP9 with alpha in WebM.
pub fn alpha_clip() -> PathBuf {
    make_clip(
        "alpha.webm",
        &[
            "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30,format=yuva420p,colorchannelmixer=aa=0.5",
            "-t", "2", "-c:v", "libvpx-vp9", "-pix_fmt", "yuva420p",
        ],
    )
}

/// 3 s at 30000/1001 fps (29.97), H.264.
pub fn ntsc_clip() -> PathBuf {
    make_clip(
        "ntsc.mp4",
        &["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30000/1001", "-t", "3", "-pix_fmt", "yuv420p", "-c:v", "libx264"],
    )
}

pub mod wasm;
