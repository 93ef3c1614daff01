//! The oracle's unit tests: the rule on hand-made timelines.

use super::*;

/// A CFR timeline of `n` frames at `fps` in time base 1/`tb_den`.
fn cfr(n: i64, fps: i64, tb_den: i64) -> SourceTimes {
    assert_eq!(tb_den % fps, 0);
    let pts: Vec<i64> = (0..n).map(|i| i * tb_den / fps).collect();
    SourceTimes::from_pts((1, tb_den), &pts, None)
}

fn spec(start_us: i64, duration_us: i64, fps: u32) -> ElementSpec {
    ElementSpec::new(start_us, duration_us, fps)
}

#[test]
fn tick_count_is_the_ceiling() {
    assert_eq!(spec(0, 1_000_000, 30).ticks(), 30);
    assert_eq!(spec(0, 1_000_001, 30).ticks(), 31);
    assert_eq!(spec(0, 910_000, 10).ticks(), 10); // 9.1 → 10
    let ntsc = ElementSpec {
        fps: (30000, 1001),
        ..spec(0, 1_001_000, 1)
    };
    assert_eq!(ntsc.ticks(), 30);
    assert_eq!(spec(0, 0, 30).ticks(), 0);
}

#[test]
fn sixty_to_thirty_takes_every_other_frame() {
    let src = cfr(120, 60, 15360);
    let got = expected_frames(&src, &spec(0, 1_000_000, 30));
    assert_eq!(got, (0..30).map(|i| 2 * i).collect::<Vec<_>>());
}

#[test]
fn thirty_to_sixty_doubles_each_frame() {
    let src = cfr(60, 30, 15360);
    let got = expected_frames(&src, &spec(0, 1_000_000, 60));
    assert_eq!(got, (0..60).map(|i| i / 2).collect::<Vec<_>>());
}

#[test]
fn sixty_to_twenty_four_is_the_nearest_frame() {
    // 60/24 = 2.5 source frames a tick: ticks land on 0, 2.5, 5, 7.5, …
    // and the ties at .5 go to the earlier frame.
    let src = cfr(120, 60, 15360);
    let got = expected_frames(&src, &spec(0, 1_000_000, 24));
    let want: Vec<usize> = (0..24).map(|j| (j * 5) / 2).collect();
    assert_eq!(got, want);
}

#[test]
fn ties_go_to_the_earlier_frame() {
    // A tick exactly half-way between frames 0 and 1 (t = 1/60 s on a 30
    // fps source) shows frame 0; a hair later, frame 1.
    let src = cfr(30, 30, 90000);
    assert_eq!(expected_frames(&src, &spec(16_666, 1, 1_000_000))[0], 0);
    let half = SourceTimes::from_pts((1, 1000), &[0, 40, 80], None);
    assert_eq!(expected_frames(&half, &spec(20_000, 1, 1_000_000))[0], 0);
    assert_eq!(expected_frames(&half, &spec(20_001, 1, 1_000_000))[0], 1);
}

#[test]
fn same_rate_from_a_start_between_frames_is_steady() {
    // 29.97 fps source, element at 29.97 fps from 0.2 s: a steady
    // sequence (issue 18 saw 5, 7, 7, 9, 9, 11).
    let pts: Vec<i64> = (0..90).map(|i| i * 1001).collect();
    let src = SourceTimes::from_pts((1, 30000), &pts, None);
    let element = ElementSpec {
        fps: (30000, 1001),
        ..spec(200_000, 1_000_000, 1)
    };
    let got = expected_frames(&src, &element);
    assert_eq!(got.len(), 30);
    // 0.2 s = 5.994 frames: the nearest is frame 6.
    assert_eq!(got, (6..36).collect::<Vec<_>>());
}

#[test]
fn jitter_below_half_a_frame_does_not_matter() {
    let clean = cfr(90, 30, 90000);
    // Deterministic jitter around each 1/30 s, none on the first frame:
    // ±1 ms (0.03 frames) and ±5 ms (0.15 frames). Jitter also moves ε
    // (the lower median interval is 3090 and 2640 ticks here, not 3000).
    let small: Vec<i64> = (0..90i64)
        .map(|i| i * 3000 + ((i * 7 + 2) % 5 - 2) * 45)
        .collect();
    let small = SourceTimes::from_pts((1, 90000), &small, None);
    let large: Vec<i64> = (0..90i64)
        .map(|i| i * 3000 + ((i * 7 + 5) % 11 - 5) * 90)
        .collect();
    let large = SourceTimes::from_pts((1, 90000), &large, None);
    assert_eq!((small.first, large.first), (0, 0));
    assert_eq!(
        (small.median_interval(), large.median_interval()),
        (3090, 2640)
    );
    // Elements whose ticks stay far enough from a half-way point between
    // two frames (at an exact tie, a frame jittered early does win: ties
    // are a clean-timeline notion): t + ε at least 0.1 frames from a
    // frame for the small jitter, 0.5 for the large.
    for (fps, start) in [
        (30, 0),
        (30, 100_000),
        (15, 0),
        (60, 8_333),
        (24, 20_833),
        (25, 20_000),
    ] {
        let e = spec(start, 2_000_000, fps);
        assert_eq!(
            expected_frames(&clean, &e),
            expected_frames(&small, &e),
            "±1 ms, fps {fps}, start {start}"
        );
    }
    for (fps, start) in [(30, 0), (30, 100_000), (15, 0), (10, 0)] {
        let e = spec(start, 2_000_000, fps);
        assert_eq!(
            expected_frames(&clean, &e),
            expected_frames(&large, &e),
            "±5 ms, fps {fps}, start {start}"
        );
    }
}

#[test]
fn across_a_gap_the_next_frame_is_at_most_half_a_frame_early() {
    // 30 fps, frames 0..=9, then a 2 s gap, then frames again.
    let mut pts: Vec<i64> = (0..10).map(|i| i * 3000).collect();
    let after = 9 * 3000 + 2 * 90000;
    pts.extend((0..10).map(|i| after + i * 3000));
    let src = SourceTimes::from_pts((1, 90000), &pts, None);
    assert_eq!(src.median_interval(), 3000);
    let got = expected_frames(&src, &spec(0, 3_000_000, 100));
    // Tick j is at j/100 s. Frame 10 is at 2.3 s; ε = 1/60 s, so it
    // shows from the first tick strictly after 2.3 − 1/60 = 2.28333 s.
    for (j, &frame) in got.iter().enumerate() {
        let t_us = j as i64 * 10_000;
        if t_us <= 2_283_333 {
            assert!(frame <= 9, "tick {j} ({t_us} µs) shows {frame}");
        }
        if (300_000..=2_283_333).contains(&t_us) {
            assert_eq!(frame, 9, "tick {j}: the frame before the gap stays");
        }
    }
    assert_eq!(got[228], 9);
    assert_eq!(got[229], 10);
}

#[test]
fn a_trim_never_shows_a_frame_from_after_it() {
    // 30 fps source, a 0.91 s trim at 10 fps (issue 12: frame 1 shown
    // where frame 0 is on screen, 4 where 3 is).
    let src = cfr(90, 30, 15360);
    let element = ElementSpec {
        media_duration_us: Some(910_000),
        ..spec(0, 910_000, 10)
    };
    let got = expected_frames(&src, &element);
    assert_eq!(got, vec![0, 3, 6, 9, 12, 15, 18, 21, 24, 27]);
    // A trim ending before frame 3 starts (0.1 s) at a slower rate:
    // frames 0, 1 and 2 are the candidates; the last one is held.
    let element = ElementSpec {
        media_duration_us: Some(100_000),
        ..spec(0, 500_000, 30)
    };
    let got = expected_frames(&src, &element);
    assert_eq!(&got[..3], &[0, 1, 2]);
    assert!(got[3..].iter().all(|&f| f == 2), "{got:?}");
    // A frame that starts exactly at the trim's end is not a candidate.
    let element = ElementSpec {
        media_duration_us: Some(1_000_000),
        ..spec(0, 2_000_000, 30)
    };
    let got = expected_frames(&src, &element);
    assert_eq!(*got.iter().max().unwrap(), 29);
}

#[test]
fn playback_rates_step_through_the_source() {
    let src = cfr(120, 30, 15360);
    let double = ElementSpec {
        rate: (2, 1),
        ..spec(0, 1_000_000, 30)
    };
    assert_eq!(
        expected_frames(&src, &double),
        (0..30).map(|i| 2 * i).collect::<Vec<_>>()
    );
    // 1.5× at 30 fps: 0, 1.5, 3, 4.5, … → ties to the earlier frame.
    let one_half = ElementSpec {
        rate: (3, 2),
        ..spec(0, 1_000_000, 30)
    };
    let want: Vec<usize> = (0..30).map(|j| (3 * j) / 2).collect();
    assert_eq!(expected_frames(&src, &one_half), want);
    // 2× at 60 fps asks for the same source times as 1× at 30 fps, twice
    // as often.
    let fast = ElementSpec {
        rate: (2, 1),
        ..spec(0, 1_000_000, 60)
    };
    let got = expected_frames(&src, &fast);
    assert_eq!(got, (0..60).collect::<Vec<_>>());
}

#[test]
fn loops_with_non_integer_cycles() {
    // 30 fps source of 3 s, a loop of 1.01 s from 0.5 s, at 30 fps for 4 s.
    let src = cfr(90, 30, 15360);
    let element = ElementSpec {
        looping: true,
        media_duration_us: Some(1_010_000),
        ..spec(500_000, 4_000_000, 30)
    };
    let got = expected_frames(&src, &element);
    assert_eq!(got.len(), 120);
    // Frames 15 (0.5 s) up to the last one before 1.51 s (frame 45 at
    // 1.5 s), then back to the start; each pass is 1.01 s = 30.3 ticks,
    // so the cycle drifts.
    for (j, &frame) in got.iter().enumerate() {
        assert!((15..=45).contains(&frame), "tick {j}: {frame}");
        let elapsed_us = (j as i64 * 1_000_000 / 30) % 1_010_000;
        let t_us = 500_000 + elapsed_us;
        // The nearest frame, checked with floats only in the test.
        let nearest = ((t_us as f64) * 30.0 / 1e6).round() as usize;
        // (No tick of this element lies near a tie.)
        assert_eq!(frame, nearest, "tick {j} at {t_us} µs");
    }
    assert_eq!(&got[..3], &[15, 16, 17]);
    // Tick 31 is at 31/30 s mod 1.01 = 0.02333 s after the start: 1 frame.
    assert_eq!(got[30], 45); // 1.0 s in: 1.5 s
    assert_eq!(got[31], 16);
    // Without mediaDuration a loop wraps at the source's end (3 s): a
    // pass from 2.5 s is 0.5 s long.
    let tail = ElementSpec {
        looping: true,
        ..spec(2_500_000, 2_000_000, 30)
    };
    let got = expected_frames(&src, &tail);
    assert_eq!(
        &got[..16],
        &[75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 75]
    );
}

#[test]
fn past_the_end_the_last_frame_is_held() {
    let src = cfr(30, 30, 15360);
    let got = expected_frames(&src, &spec(500_000, 2_000_000, 30));
    assert_eq!(&got[..15], &(15..30).collect::<Vec<_>>()[..]);
    assert!(got[15..].iter().all(|&f| f == 29));
    // A start past the end holds the last frame from the first tick.
    let got = expected_frames(&src, &spec(5_000_000, 100_000, 30));
    assert_eq!(got, vec![29, 29, 29]);
}

#[test]
fn before_the_first_frame_the_first_is_shown() {
    let src = SourceTimes::from_pts((1, 1000), &[0, 100, 200], None);
    // mediaStart is relative to the first frame, so no tick is before
    // it; a negative start (not something the core accepts) still
    // shows frame 0.
    let got = expected_frames(&src, &spec(-300_000, 300_000, 10));
    assert_eq!(got, vec![0, 0, 0]);
}

#[test]
fn one_frame_sources_have_no_epsilon() {
    let src = SourceTimes::from_pts((1, 90000), &[900_000], Some(903_000));
    assert_eq!(src.median_interval(), 0);
    assert_eq!(src.end, 3000);
    assert_eq!(expected_frames(&src, &spec(0, 1_000_000, 30)), vec![0; 30]);
}

#[test]
fn times_are_relative_to_the_first_frame() {
    // A TS-like timeline starting at 10 s (90 kHz) gives the same frames
    // as one starting at 0.
    let at_ten: Vec<i64> = (0..75).map(|i| 900_000 + i * 3600).collect();
    let at_zero: Vec<i64> = (0..75).map(|i| i * 3600).collect();
    let a = SourceTimes::from_pts((1, 90000), &at_ten, None);
    let b = SourceTimes::from_pts((1, 90000), &at_zero, None);
    assert_eq!(a.pts, b.pts);
    assert_eq!(a.first, 900_000);
    assert_eq!(a.seconds_text(1), "10.040000000");
    let e = spec(200_000, 1_000_000, 30);
    assert_eq!(expected_frames(&a, &e), expected_frames(&b, &e));
}

#[test]
fn unsorted_pts_are_sorted() {
    // Presentation order from decode order (B-frames).
    let src = SourceTimes::from_pts((1, 30), &[0, 3, 1, 2, 6, 4, 5], None);
    assert_eq!(src.pts, vec![0, 1, 2, 3, 4, 5, 6]);
    assert_eq!(src.end, 7);
}
