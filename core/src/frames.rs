//! Which source frame each output frame shows.
//!
//! This models, exactly and in integers, what the executor's recipe does:
//! source timestamps moved to microseconds (rounded to nearest), the range's
//! start moved to 0, then ffmpeg's `fps` filter with `round=near` — output
//! tick `j` shows the last input frame whose rounded tick is `<= j` (the first
//! input frame when none is). In time: output frame `j` is stamped
//! `start + j/fps` and shows the last source frame at or before
//! `start + (j + ½)/fps`, exactly as `ffmpeg -r` resamples. Knowing it, an extraction that repeats source
//! frames (a 30 fps clip at 60 fps, a VFR gap) can encode each distinct source
//! frame once and hard-link the repeats.

use crate::time::{Fps, US_PER_SEC};

/// Rescales `value` from time base `from_num/from_den` to `to_num/to_den`,
/// rounding to nearest with halves away from zero (ffmpeg's
/// `AV_ROUND_NEAR_INF`).
pub fn rescale_near(value: i64, from: (i64, i64), to: (i64, i64)) -> i64 {
    let num = i128::from(value) * i128::from(from.0) * i128::from(to.1);
    let den = i128::from(from.1) * i128::from(to.0);
    let q = (num.abs() * 2 + den) / (den * 2);
    (if num < 0 { -q } else { q }) as i64
}

/// For output frames `0..count` of a range starting at `start_us` at `fps`,
/// the index into `frame_times_us` (sorted source frame times, microseconds,
/// relative to the source's start) of the frame each shows. The extraction
/// decodes from the last frame at or before `start_us`; earlier frames are
/// never shown. Empty when there are no source frames.
pub fn shown_frames(frame_times_us: &[i64], start_us: i64, fps: Fps, count: u64) -> Vec<u32> {
    if frame_times_us.is_empty() {
        return Vec::new();
    }
    let first = frame_times_us
        .partition_point(|&t| t <= start_us)
        .saturating_sub(1);
    let tick = |t: i64| {
        rescale_near(
            t - start_us,
            (1, US_PER_SEC),
            (i64::from(fps.den()), i64::from(fps.num())),
        )
    };
    let mut shown = Vec::with_capacity(count as usize);
    let mut current = first;
    for j in 0..count as i64 {
        // Advance while the next frame's tick is due: the last one due wins.
        while current + 1 < frame_times_us.len() && tick(frame_times_us[current + 1]) <= j {
            current += 1;
        }
        shown.push(current as u32);
    }
    shown
}

/// Runs of consecutive source frame indices `(first, last)` (inclusive) that
/// together are exactly the distinct frames of `shown`.
pub fn distinct_runs(shown: &[u32]) -> Vec<(u32, u32)> {
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for &i in shown {
        match runs.last_mut() {
            Some((_, last)) if *last == i => {}
            Some((_, last)) if *last + 1 == i => *last = i,
            _ => runs.push((i, i)),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fps(n: u32, d: u32) -> Fps {
        Fps::new(n, d).unwrap()
    }

    #[test]
    fn rescaling_rounds_half_away_from_zero() {
        assert_eq!(rescale_near(1, (1, 2), (1, 1)), 1);
        assert_eq!(rescale_near(-1, (1, 2), (1, 1)), -1);
        assert_eq!(rescale_near(512, (1, 15360), (1, 1_000_000)), 33_333);
        assert_eq!(rescale_near(1024, (1, 15360), (1, 1_000_000)), 66_667);
    }

    #[test]
    fn thirty_fps_at_sixty_shows_each_frame_twice() {
        let times: Vec<i64> = (0..30)
            .map(|i| rescale_near(i * 512, (1, 15360), (1, 1_000_000)))
            .collect();
        let shown = shown_frames(&times, 0, fps(60, 1), 10);
        assert_eq!(shown, vec![0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
        assert_eq!(distinct_runs(&shown), vec![(0, 4)]);
    }

    #[test]
    fn a_gap_holds_the_last_frame() {
        let times = vec![0, 100_000, 200_000, 900_000, 1_000_000];
        let shown = shown_frames(&times, 0, fps(10, 1), 11);
        assert_eq!(shown, vec![0, 1, 2, 2, 2, 2, 2, 2, 2, 3, 4]);
        assert_eq!(distinct_runs(&shown), vec![(0, 4)]);
    }

    #[test]
    fn downsampling_skips_frames_and_starts_at_the_frame_on_screen() {
        let times: Vec<i64> = (0..60).map(|i| i * 1_000_000 / 60).collect();
        let shown = shown_frames(&times, 500_000, fps(10, 1), 3);
        // Tick j shows the last frame at or before start + (j + 1/2)/fps.
        assert_eq!(shown, vec![32, 38, 44]);
        assert_eq!(distinct_runs(&shown), vec![(32, 32), (38, 38), (44, 44)]);
        assert!(shown_frames(&[], 0, fps(10, 1), 3).is_empty());
    }
}
