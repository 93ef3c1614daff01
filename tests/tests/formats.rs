//! What framex writes: PNG frames whose pixels are ffmpeg's own PNG path's
//! for the same source frame (a CFR clip and an alpha clip, decoded from the
//! start and after a seek), RGBA PNGs with real alpha, whole JPEG files,
//! and the exact frame count at 29.97 fps. Real ffmpeg on clips made here.

use std::collections::BTreeSet;
use std::path::Path;

use framex_tests::check::{
    assert_frame_inodes, composition, el, expected, ffmpeg_png, frames, png_pixels, with, Extract,
};
use framex_tests::framenum::read_image;
use framex_tests::oracle::{expected_frames, probe_frames, ElementSpec};
use framex_tests::{alpha_clip, cfr_clip, clips, ntsc_clip};
use serde_json::{json, Value};

/// Checks that the frames `ks` that `element` shows (run alone, in `dir`)
/// have, pixel for pixel, what `ffmpeg [-c:v DECODER] -i clip -vf
/// "select=eq(n\,K),format=PIX_FMT" -frames:v 1 x.png` gives.
fn assert_pixels_are_ffmpegs(
    dir: &Path,
    clip: &Path,
    decoder: Option<&str>,
    pix_fmt: &str,
    element: &Value,
    ks: &[usize],
) {
    let id = element["id"].as_str().unwrap();
    let c = composition(dir, &format!("{id}.json"), std::slice::from_ref(element));
    let out = dir.join(id);
    let run = Extract::new(&c, &out, None).ok();
    let shown = expected(&probe_frames(clip), element);
    let files = frames(&out.join(id));
    assert_eq!(files.len(), shown.len(), "{id}: one file per tick");
    for &k in ks {
        let tick = shown
            .iter()
            .position(|&f| f == k)
            .unwrap_or_else(|| panic!("{id} does not show frame {k}: {shown:?}"));
        let framex = png_pixels(&out.join(id).join(&files[tick].name));
        let ffmpeg = ffmpeg_png(clip, decoder, k, pix_fmt, dir);
        assert_eq!(
            framex,
            ffmpeg,
            "{id}: frame {k} (tick {tick}, runs {})",
            run.element(id)["runs"]
        );
    }
}

#[test]
fn decoded_pixels_equal_ffmpegs_own_png_path_for_a_cfr_clip() {
    let dir = tempfile::tempdir().unwrap();
    let clip = cfr_clip(); // 30 fps, keyframes every 30 frames
                           // From the start, one run from keyframe 0.
    let all = el("all", &clip, 0.0, 3.0);
    assert_pixels_are_ffmpegs(
        dir.path(),
        &clip,
        None,
        "rgb24",
        &all,
        &[0, 1, 29, 30, 44, 89],
    );
    // From 2.5 s: decoded after a seek to keyframe 60.
    let late = el("late", &clip, 2.5, 0.5);
    assert_pixels_are_ffmpegs(dir.path(), &clip, None, "rgb24", &late, &[75, 89]);
}

#[test]
fn decoded_pixels_equal_ffmpegs_own_png_path_for_an_alpha_clip() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let decoder = Some("libvpx-vp9");
    let clip = alpha_clip(); // VP9, half transparent
    let all = el("alpha", &clip, 0.0, 2.0);
    assert_pixels_are_ffmpegs(d, &clip, decoder, "rgba", &all, &[0, 17, 59]);
    // Lossless VP9 with keyframes every 30 frames: from 1.5 s framex seeks
    // to frame 30.
    let numbered = clips::vp9_alpha();
    let late = el("numbered-late", &numbered.path, 1.5, 0.5);
    assert_pixels_are_ffmpegs(d, &numbered.path, decoder, "rgba", &late, &[45, 59]);
}

/// A VP9 clip with alpha gives RGBA PNGs that really are half transparent.
#[test]
fn an_alpha_source_gives_rgba_pngs_with_real_transparency() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let c = composition(
        tmp.path(),
        "alpha.json",
        &[el("logo", &alpha_clip(), 0.0, 1.0)],
    );
    let run = Extract::new(&c, &out, Some(&tmp.path().join("cache"))).ok();
    run.assert_ok(&out, "logo", 30, "png");
    for f in &frames(&out.join("logo")) {
        let pixels = png_pixels(&out.join("logo").join(&f.name));
        assert_eq!(pixels.color, png::ColorType::Rgba, "{}", f.name);
        assert_eq!(pixels.depth, png::BitDepth::Eight, "{}", f.name);
        assert_eq!((pixels.width, pixels.height), (160, 120), "{}", f.name);
        // The source is 50% opaque (colorchannelmixer=aa=0.5): every
        // pixel's alpha is about 128, not 255.
        let alphas: BTreeSet<u8> = pixels.data.chunks_exact(4).map(|p| p[3]).collect();
        let (lo, hi) = (*alphas.first().unwrap(), *alphas.last().unwrap());
        assert!(
            (112..=144).contains(&lo) && (112..=144).contains(&hi),
            "{}: alpha in {lo}..={hi}",
            f.name
        );
    }
}

/// JPEG elements write `.jpg` files that are whole JPEGs of the right
/// frames: each decodes to the picture of the PNG element's same tick, up to
/// JPEG's loss.
#[test]
fn jpeg_elements_write_whole_jpg_files_of_the_right_frames() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let clip = cfr_clip();
    let jpeg = with(
        el("still", &clip, 0.25, 1.0),
        json!({"fps": 24, "format": "jpeg"}),
    );
    let png = with(el("still-png", &clip, 0.25, 1.0), json!({"fps": 24}));
    let elements = [jpeg, png];
    let c = composition(tmp.path(), "jpeg.json", &elements);
    let run = Extract::new(&c, &out, Some(&tmp.path().join("cache"))).ok();
    run.assert_ok(&out, "still", 24, "jpg");
    run.assert_ok(&out, "still-png", 24, "png");
    // Another recipe: its frames are made apart from the PNG ones.
    assert_eq!(run.metric("framesExtracted"), 48);
    let times = probe_frames(&clip);
    assert_frame_inodes(&out, &[("still", expected(&times, &elements[0]))]);
    let jpgs = frames(&out.join("still"));
    let pngs = frames(&out.join("still-png"));
    for (j, p) in jpgs.iter().zip(&pngs) {
        assert_eq!(&j.bytes[..2], &[0xFF, 0xD8], "{}: SOI", j.name);
        assert_eq!(
            &j.bytes[j.bytes.len() - 2..],
            &[0xFF, 0xD9],
            "{}: EOI",
            j.name
        );
        let a = read_image(&out.join("still").join(&j.name));
        let b = read_image(&out.join("still-png").join(&p.name));
        assert_eq!((a.width, a.height), (320, 240), "{}", j.name);
        let diff: u64 = a
            .grey
            .iter()
            .zip(&b.grey)
            .map(|(&x, &y)| u64::from(x.abs_diff(y)))
            .sum();
        let mean = diff as f64 / a.grey.len() as f64;
        assert!(
            mean < 3.0,
            "{}: mean difference {mean} from the PNG",
            j.name
        );
    }
}

/// 29.97 fps gives `ceil(duration × 30000/1001)` frames, the oracle's.
#[test]
fn ntsc_rate_gives_the_exact_frame_count() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let clip = ntsc_clip();
    // 2.1 s at 30000/1001: 62.937… → 63 frames; 1 s → 29.97 → 30 frames.
    let c = composition(
        tmp.path(),
        "ntsc.json",
        &[
            with(el("long", &clip, 0.5, 2.1), json!({"fps": "30000/1001"})),
            with(el("short", &clip, 0.0, 1.0), json!({"fps": 29.97})),
        ],
    );
    let run = Extract::new(&c, &out, Some(&tmp.path().join("cache"))).ok();
    run.assert_ok(&out, "long", 63, "png");
    run.assert_ok(&out, "short", 30, "png");
    let times = probe_frames(&clip);
    let ntsc = |start_us, duration_us| ElementSpec {
        fps: (30_000, 1_001),
        ..ElementSpec::new(start_us, duration_us, 1)
    };
    let long = expected_frames(&times, &ntsc(500_000, 2_100_000));
    let short = expected_frames(&times, &ntsc(0, 1_000_000));
    assert_eq!((long.len(), short.len()), (63, 30));
    assert_eq!(short, (0..30).collect::<Vec<_>>());
    assert_frame_inodes(&out, &[("long", long), ("short", short)]);
}
