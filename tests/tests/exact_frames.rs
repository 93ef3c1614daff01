//! Frame identity: every frame `framex extract` writes is the source frame
//! the rule names. Clips carry their frame number in their pixels (the
//! matrix of `framex_tests::clips`: H.264 at 60, 59.94, 30, 25 and 24 fps,
//! closed and open GOP, HEVC, VP9 with and without alpha, AV1, ProRes,
//! MPEG-2 in a TS starting at 10 s, an edit list, VFR with jitter and with a
//! gap, rotation, non-square pixels); the expected frames come from the
//! independent oracle (`framex_tests::oracle`), computed from ffprobe's
//! timestamps. Elements cover the same rate, other rates, a start between
//! two frames, playback rates, loops with a non-integer cycle, trims and a
//! held end. Each composition runs twice: with decode runs merged as
//! planned, and with every run started at its own keyframe.

use std::path::Path;

use framex_tests::clips::{matrix, Clip};
use framex_tests::framenum::read_image;
use framex_tests::oracle::{expected_frames, probe_frames, ElementSpec, SourceTimes};
use framex_tests::{extract_json, write_composition};

/// One element: its id, its JSON fields after `src`, and what the oracle
/// needs to know of it.
struct Case {
    id: &'static str,
    json: String,
    spec: ElementSpec,
}

fn case(id: &'static str, spec: ElementSpec, format: &str) -> Case {
    let mut json = format!(
        r#""mediaStart": {}, "duration": {}, "fps": "{}/{}", "format": "{format}""#,
        spec.media_start_us as f64 / 1e6,
        spec.duration_us as f64 / 1e6,
        spec.fps.0,
        spec.fps.1
    );
    if spec.rate != (1, 1) {
        json.push_str(&format!(
            r#", "playbackRate": "{}/{}""#,
            spec.rate.0, spec.rate.1
        ));
    }
    if spec.looping {
        json.push_str(r#", "loop": true"#);
    }
    if let Some(md) = spec.media_duration_us {
        json.push_str(&format!(r#", "mediaDuration": {}"#, md as f64 / 1e6));
    }
    Case { id, json, spec }
}

/// The elements checked on every clip.
fn cases(clip: &Clip, times: &SourceTimes) -> Vec<Case> {
    let rate = clip.rate;
    let other = if rate == (24, 1) { (30, 1) } else { (24, 1) };
    // A start 0.4 of a frame past frame 5: between two frames.
    let between = 5_400_000 * i64::from(rate.1) / i64::from(rate.0);
    let interval_us = 1_000_000 * times.median_interval() * times.time_base.0 / times.time_base.1;
    let end_us = 1_000_000 * times.end * times.time_base.0 / times.time_base.1;
    let mut cases = vec![
        case(
            "same-rate",
            ElementSpec {
                fps: rate,
                ..ElementSpec::new(0, 1_000_000, 1)
            },
            "png",
        ),
        case(
            "other-rate",
            ElementSpec {
                fps: other,
                ..ElementSpec::new(0, 1_000_000, 1)
            },
            "png",
        ),
        case("sixty", ElementSpec::new(100_000, 500_000, 60), "png"),
        case(
            "between",
            ElementSpec {
                fps: rate,
                ..ElementSpec::new(between, 600_000, 1)
            },
            "png",
        ),
        case(
            "rate-1.5",
            ElementSpec {
                rate: (3, 2),
                ..ElementSpec::new(0, 600_000, 30)
            },
            "png",
        ),
        case(
            "rate-2-at-60",
            ElementSpec {
                rate: (2, 1),
                ..ElementSpec::new(0, 500_000, 60)
            },
            "png",
        ),
        case(
            "loop-0.51",
            ElementSpec {
                looping: true,
                media_duration_us: Some(510_000),
                ..ElementSpec::new(200_000, 1_500_000, 30)
            },
            "png",
        ),
        case(
            "trim-0.37",
            ElementSpec {
                media_duration_us: Some(370_000),
                ..ElementSpec::new(0, 1_000_000, 10)
            },
            "png",
        ),
        case(
            "held-end",
            ElementSpec::new(end_us - 300_000, 900_000, 30),
            "png",
        ),
        case("jpeg", ElementSpec::new(interval_us, 400_000, 30), "jpeg"),
    ];
    // The alpha clip's frames keep alpha in PNG only; JPEG is checked elsewhere.
    if clip.alpha {
        cases.retain(|c| c.id != "jpeg");
    }
    cases
}

/// The frame numbers in an element's directory, in order.
fn numbers_in(dir: &Path) -> Vec<u32> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| {
            let image = read_image(f);
            framex_tests::framenum::number_in(&image)
                .unwrap_or_else(|e| panic!("{}: {e}", f.display()))
        })
        .collect()
}

#[test]
fn every_clip_of_the_matrix_gives_the_rules_frames() {
    let mut failures = Vec::new();
    for clip in matrix() {
        let times = probe_frames(&clip.path);
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join(clip.path.file_name().unwrap());
        std::os::unix::fs::symlink(&clip.path, &src).unwrap();
        let cases = cases(&clip, &times);
        let elements: Vec<String> = cases
            .iter()
            .map(|c| {
                format!(
                    r#"{{"id": "{}", "src": {:?}, {}}}"#,
                    c.id,
                    src.file_name().unwrap().to_str().unwrap(),
                    c.json
                )
            })
            .collect();
        let composition = dir.path().join("composition.json");
        write_composition(&composition, &elements);
        let out = dir.path().join("out");
        let run = extract_json(&composition, &out, &["--no-cache"], &[]);
        if run.code != 0 {
            failures.push(format!(
                "{}: framex failed ({}): {}",
                clip.name, run.code, run.stderr
            ));
            continue;
        }
        for c in &cases {
            let expected: Vec<u32> = expected_frames(&times, &c.spec)
                .into_iter()
                .map(|i| i as u32)
                .collect();
            let got = numbers_in(&out.join(c.id));
            if got != expected {
                failures.push(format!(
                    "{} / {}: expected {expected:?}\n   got {got:?}",
                    clip.name, c.id
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Frames come out as a `<video>` element shows them: rotated by the
/// clip's display matrix, and scaled to the display aspect when pixels are
/// not square (an `<img>` ignores a PNG's aspect).
#[test]
fn rotation_and_non_square_pixels_come_out_as_a_video_shows_them() {
    use framex_tests::clips::{anamorphic, rotated};
    let dir = tempfile::tempdir().unwrap();
    let mut elements = Vec::new();
    let clips = [rotated(), anamorphic()];
    for (n, clip) in clips.iter().enumerate() {
        let src = dir.path().join(clip.path.file_name().unwrap());
        std::os::unix::fs::symlink(&clip.path, &src).unwrap();
        elements.push(format!(
            r#"{{"id": "c{n}", "src": {:?}, "mediaStart": 0, "duration": 0.1, "fps": 30, "format": "png"}}"#,
            src.file_name().unwrap().to_str().unwrap()
        ));
    }
    let composition = dir.path().join("composition.json");
    write_composition(&composition, &elements);
    let out = dir.path().join("out");
    let run = extract_json(&composition, &out, &["--no-cache"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for (n, clip) in clips.iter().enumerate() {
        let frame = out.join(format!("c{n}")).join("frame_000001.png");
        let image = read_image(&frame);
        // Rotated 90°: the stored 192×144 shows as 144×192. Pixels 4:3 wide:
        // 192×144 shows as 256×144.
        let display_width = clip.width * clip.sar.0 / clip.sar.1;
        assert_eq!(
            (image.width, image.height),
            (display_width, clip.height),
            "{}: rotation {}, sar {:?}",
            clip.name,
            clip.rotation,
            clip.sar
        );
    }
    assert_eq!(
        clips[0].rotation % 180,
        90,
        "the rotated clip is on its side"
    );
    assert_ne!(
        clips[1].sar.0, clips[1].sar.1,
        "the anamorphic clip has wide pixels"
    );
}
