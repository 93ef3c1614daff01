//! The frame-number reader: numbers read back from PNG and JPEG files, wrong
//! frames do not read as numbers, decoded numbers count in presentation
//! order.

use framex_tests::clips::{self, Clip};
use framex_tests::framenum::{decoded_numbers, frame_number, number_in, read_image};

/// Writes frame `index` of `clip` to `dir/name` with ffmpeg, `filters`
/// appended to the frame selection and `args` before the output.
fn frame_file(
    clip: &Clip,
    dir: &std::path::Path,
    name: &str,
    index: u32,
    input_args: &[&str],
    filters: &str,
    args: &[&str],
) -> std::path::PathBuf {
    let out = dir.join(name);
    let vf = if filters.is_empty() {
        format!("select=eq(n\\,{index})")
    } else {
        format!("select=eq(n\\,{index}),{filters}")
    };
    let mut command = std::process::Command::new("ffmpeg");
    command.args(["-nostdin", "-v", "error", "-y"]);
    if let Some(decoder) = clip.decoder {
        command.args(["-c:v", decoder]);
    }
    let status = command
        .args(input_args)
        .arg("-i")
        .arg(&clip.path)
        .args(["-vf", &vf, "-frames:v", "1"])
        .args(args)
        .arg(&out)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success(), "writing {name}");
    out
}

#[test]
fn frame_numbers_read_back_from_png_and_jpeg_files() {
    let dir = tempfile::tempdir().unwrap();
    let clip = clips::h264_closed_gop();
    for (name, args) in [
        ("rgb24.png", &["-pix_fmt", "rgb24"][..]),
        ("rgba.png", &["-pix_fmt", "rgba"]),
        ("rgb48.png", &["-pix_fmt", "rgb48be"]),
        ("rgba64.png", &["-pix_fmt", "rgba64be"]),
        ("gray.png", &["-pix_fmt", "gray"]),
        ("gray16.png", &["-pix_fmt", "gray16be"]),
        ("q2.jpg", &["-q:v", "2"]),
        ("q10.jpg", &["-q:v", "10"]),
        ("gray.jpg", &["-pix_fmt", "gray", "-q:v", "5"]),
    ] {
        let path = frame_file(&clip, dir.path(), name, 77, &[], "", args);
        assert_eq!(frame_number(&path), 77, "{name}");
    }
    // Alpha survives (decoded with libvpx) and does not disturb the number.
    let alpha = clips::vp9_alpha();
    let path = frame_file(
        &alpha,
        dir.path(),
        "alpha.png",
        41,
        &[],
        "",
        &["-pix_fmt", "rgba"],
    );
    let image = read_image(&path);
    assert_eq!(number_in(&image), Ok(41));
    assert!(image.top_band_alpha().is_some_and(|a| a.abs_diff(64) <= 2));
    // A frame scaled to its display aspect still reads.
    let anamorphic = clips::anamorphic();
    let path = frame_file(
        &anamorphic,
        dir.path(),
        "square.png",
        33,
        &[],
        "scale=iw*sar:ih,setsar=1",
        &[],
    );
    assert_eq!(read_image(&path).width, 256);
    assert_eq!(frame_number(&path), 33);
}

#[test]
fn wrong_frames_do_not_read_as_numbers() {
    let dir = tempfile::tempdir().unwrap();
    // The rotated clip read without autorotation: no calibration where the
    // reader looks.
    let rotated = clips::rotated();
    let path = frame_file(&rotated, dir.path(), "upright.png", 5, &[], "", &[]);
    assert_eq!(frame_number(&path), 5);
    let path = frame_file(
        &rotated,
        dir.path(),
        "stored.png",
        5,
        &["-noautorotate"],
        "",
        &[],
    );
    let error = number_in(&read_image(&path)).expect_err("an unrotated frame");
    assert!(
        error.contains("calibration") || error.contains("block"),
        "{error}"
    );
    // A blend of frames 1 and 2 (digit 1.5): ambiguous.
    let clip = clips::h264_30();
    let path = frame_file(&clip, dir.path(), "blend.png", 2, &[], "", &[]);
    assert_eq!(frame_number(&path), 2);
    let path = dir.path().join("blend2.png");
    let status = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-i"])
        .arg(&clip.path)
        .args([
            "-vf",
            "tblend=all_mode=average,select=eq(n\\,1)",
            "-frames:v",
            "1",
        ])
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    let error = number_in(&read_image(&path)).expect_err("a blend");
    assert!(error.contains("ambiguous"), "{error}");
}

#[test]
fn decoded_numbers_count_in_presentation_order() {
    assert_eq!(
        decoded_numbers(&clips::vfr_gap()),
        (0..87).collect::<Vec<u32>>()
    );
}
