//! The in-process MP4 index reader (`framex_executor::probe::mp4`) against
//! ffprobe: on every clip of the matrix and the sample clips, and on MP4s
//! made to differ where the reader must be careful (no edit list, a
//! B-frame edit, square and non-square `pasp`, full range, 10-bit, several
//! video tracks, moov first or last, fragmented), it either gives exactly
//! ffprobe's probe, or declines; and it declines only where this test says
//! it may. A probe that differs would plan other frames.

use std::path::{Path, PathBuf};

use framex_executor::probe::{ffprobe, mp4, Probe};
use framex_executor::process::Limits;
use framex_tests::check::{composition, el, Extract};
use framex_tests::clips::{self, h264_clip, make_clip};
use std::time::Duration;

fn by_ffprobe(path: &Path) -> Probe {
    let limits = Limits {
        timeout: Duration::from_secs(60),
        cancel: Default::default(),
    };
    ffprobe(Path::new("ffprobe"), path, &limits)
        .unwrap_or_else(|e| panic!("ffprobe on {}: {e}", path.display()))
}

/// The index's probe equals ffprobe's, or it declines when `may_decline`.
/// Returns whether it answered.
fn agrees(path: &Path, may_decline: bool) -> bool {
    let expected = by_ffprobe(path);
    match mp4::read(path) {
        Ok(probe) => {
            assert_eq!(
                probe,
                expected,
                "the index of {} differs from ffprobe",
                path.display()
            );
            true
        }
        Err(why) => {
            assert!(
                may_decline,
                "the index of {} declined: {why}",
                path.display()
            );
            false
        }
    }
}

fn x264(name: &str, extra: &[&str]) -> PathBuf {
    let mut encoder = vec!["-g", "30"];
    encoder.extend_from_slice(extra);
    h264_clip(name, "testsrc2=size=160x120:rate=30", "2", &encoder)
}

#[test]
fn the_index_gives_ffprobes_probe_for_plain_h264_mp4s() {
    let answered: Vec<PathBuf> = [
        x264("ix_plain.mp4", &[]),
        // B-frames: an edit list starting at the first presentation time.
        x264("ix_bframes.mp4", &["-bf", "3"]),
        // No edit list: the offsets stand as they are.
        x264("ix_no_editlist.mp4", &["-bf", "2", "-use_editlist", "0"]),
        x264("ix_faststart.mp4", &["-bf", "2", "-movflags", "+faststart"]),
        // VFR (frames dropped, times jittered): the edit ends inside the
        // last frame, which ffmpeg shows whole.
        x264(
            "ix_vfr_edit.mp4",
            &[
                "-vf",
                "select='not(between(mod(n,90),20,40))',setpts='PTS+if(gt(mod(N,7),3),0.01/TB,0)'",
                "-fps_mode",
                "vfr",
            ],
        ),
        x264("ix_pasp.mp4", &["-vf", "setsar=4/3"]),
        x264("ix_pasp_square.mp4", &["-vf", "setsar=1"]),
        x264("ix_full_range.mp4", &["-color_range", "pc"]),
        x264(
            "ix_pq.mp4",
            &[
                "-color_trc",
                "smpte2084",
                "-color_primaries",
                "bt2020",
                "-colorspace",
                "bt2020nc",
            ],
        ),
        x264(
            "ix_444.mp4",
            &["-pix_fmt", "yuv444p", "-profile:v", "high444"],
        ),
        x264(
            "ix_10bit.mp4",
            &["-pix_fmt", "yuv420p10le", "-profile:v", "high10"],
        ),
        h264_clip(
            "ix_29.97.mp4",
            "testsrc2=size=160x120:rate=30000/1001",
            "2",
            &["-bf", "2"],
        ),
        clips::cfr_clip(),
        clips::vfr_clip(),
        clips::ntsc_clip(),
    ]
    .into_iter()
    .filter(|path| agrees(path, false))
    .collect();
    assert_eq!(answered.len(), 15);
}

#[test]
fn the_index_declines_what_ffprobe_must_read() {
    let two_tracks = make_clip(
        "ix_two_tracks.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=30",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=160x120:rate=30",
            "-t",
            "1",
            "-map",
            "0",
            "-map",
            "1",
            "-c:v",
            "libx264",
        ],
    );
    let fragmented = x264(
        "ix_fragmented.mp4",
        &["-movflags", "+frag_keyframe+empty_moov"],
    );
    let interlaced = x264("ix_interlaced.mp4", &["-flags", "+ilme+ildct"]);
    // QuickTime's data handler box in `minf`, which mp4-atom does not know.
    let mov = h264_clip(
        "ix_29.97.mov",
        "testsrc2=size=160x120:rate=30000/1001",
        "2",
        &[],
    );
    for path in [two_tracks, fragmented, interlaced, mov] {
        let why = mp4::read(&path).expect_err("declined");
        assert!(!why.is_empty());
        // ffprobe still reads it.
        by_ffprobe(&path);
    }
    // Not MP4 at all: declined without reading past the first box.
    let ts = clips::mpeg2_ts();
    assert_eq!(mp4::read(&ts.path).unwrap_err(), "not an MP4/MOV file");
}

#[test]
fn on_the_matrix_the_index_agrees_or_declines_and_answers_plain_h264() {
    for clip in clips::matrix() {
        // The reader answers for H.264 without rotation, edits that discard,
        // or an aspect taken from the track header; it may decline the rest.
        let plain_h264 = clip.codec == "libx264"
            && clip.rotation == 0
            && clip.name != "m_editlist"
            && clip.sar == (1, 1);
        let answered = agrees(&clip.path, !plain_h264);
        println!(
            "{}: {}",
            clip.name,
            if answered { "index" } else { "ffprobe" }
        );
    }
}

#[test]
fn a_cold_run_on_an_mp4_starts_no_ffprobe() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let clip = clips::cfr_clip();
    let c = composition(d, "composition.json", &[el("e", &clip, 0.5, 1.0)]);
    let out = d.join("out");
    // No ffprobe at all: the index is enough to plan and decode.
    let run = Extract::new(&c, &out, Some(&d.join("cache")))
        .with_env("FRAMEX_FFPROBE", "/nonexistent/ffprobe")
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.assert_ok(&out, "e", 30, "png");
    // A source only ffprobe reads still needs it, and says so.
    let ts = clips::mpeg2_ts().path;
    let c = composition(d, "ts.json", &[el("ts", &ts, 0.0, 1.0)]);
    let run = Extract::new(&c, &d.join("out-ts"), None)
        .with_env("FRAMEX_FFPROBE", "/nonexistent/ffprobe")
        .run();
    run.assert_failed(&d.join("out-ts"), "ts", "ffmpeg_unavailable", false);
}
