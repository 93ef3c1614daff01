//! The clip matrix (issue 18) is well-formed, and plain ffmpeg behaves on it
//! the way framex's pipeline relies on:
//!
//! - a full decode outputs exactly the frames that ffprobe's non-discarded
//!   packets announce, in presentation order, frame `k` reading `k`, with
//!   `showinfo` pts equal to the probed pts;
//! - decoding from a mid-stream keyframe (`-copyts -seek_timestamp 1
//!   -noaccurate_seek -ss <its pts>`) outputs the frames from that keyframe
//!   on, with the probed pts, pixel for pixel as a decode from the start
//!   gives them.
//!
//! Clips are made once and kept under the target directory.

mod decode;
mod facts;
mod framenum;

use framex_tests::clips::{self, Clip};
use framex_tests::oracle::probe_frames;

use crate::decode::{check_full_decode, check_seek, seek_points};
use crate::facts::check_facts;

fn check(clip: Clip) {
    let times = probe_frames(&clip.path);
    let full = check_full_decode(&clip, &times);
    for key in seek_points(&clip, &times) {
        check_seek(&clip, &times, &full, key, false);
        check_seek(&clip, &times, &full, key, true);
    }
    check_facts(&clip, &times);
}

macro_rules! clip_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check(clips::$name());
            }
        )*
    };
}

clip_tests!(
    h264_60,
    h264_5994,
    h264_30,
    h264_25,
    h264_24,
    h264_closed_gop,
    h264_open_gop,
    hevc_bpyramid,
    vp9_webm,
    vp9_alpha,
    av1_mp4,
    prores_mov,
    mpeg2_ts,
    mp4_edit_list,
    vfr_jitter,
    vfr_gap,
    rotated,
    anamorphic,
);

#[test]
fn matrix_lists_every_clip_once() {
    let names: std::collections::BTreeSet<&str> = clips::matrix().iter().map(|c| c.name).collect();
    assert_eq!(names.len(), 18);
}
