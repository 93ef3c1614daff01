//! The frame rule itself: which source frame each tick of an element shows
//! ([`expected_frames`]).

use super::times::SourceTimes;

/// One element as the rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElementSpec {
    /// `mediaStart` in microseconds, relative to the first frame.
    pub media_start_us: i64,
    /// The element's duration in microseconds.
    pub duration_us: i64,
    /// Output frames per second, `(num, den)`.
    pub fps: (u32, u32),
    /// `playbackRate`, `(num, den)`.
    pub rate: (u32, u32),
    /// `loop`.
    pub looping: bool,
    /// `mediaDuration` in microseconds.
    pub media_duration_us: Option<i64>,
}

impl ElementSpec {
    /// An element at `fps` (integer) from `media_start_us` for
    /// `duration_us`, rate 1, no loop, no trim.
    pub fn new(media_start_us: i64, duration_us: i64, fps: u32) -> ElementSpec {
        ElementSpec {
            media_start_us,
            duration_us,
            fps: (fps, 1),
            rate: (1, 1),
            looping: false,
            media_duration_us: None,
        }
    }

    /// The number of ticks: `ceil(duration × fps)`.
    pub fn ticks(&self) -> u64 {
        let num = i128::from(self.duration_us) * i128::from(self.fps.0);
        let den = i128::from(self.fps.1) * 1_000_000;
        assert!(num >= 0, "negative duration");
        u64::try_from((num + den - 1) / den).expect("tick count fits")
    }
}

/// The source frame (index into `times.pts`) that each tick of `element`
/// shows, by the rule.
pub fn expected_frames(times: &SourceTimes, element: &ElementSpec) -> Vec<usize> {
    let (tb_num, tb_den) = (i128::from(times.time_base.0), i128::from(times.time_base.1));
    assert!(
        tb_num > 0 && tb_den > 0,
        "bad time base {:?}",
        times.time_base
    );
    let (fps_num, fps_den) = (i128::from(element.fps.0), i128::from(element.fps.1));
    let (rate_num, rate_den) = (i128::from(element.rate.0), i128::from(element.rate.1));
    assert!(fps_num > 0 && fps_den > 0, "bad fps {:?}", element.fps);
    assert!(rate_num > 0 && rate_den > 0, "bad rate {:?}", element.rate);
    const MICROS: i128 = 1_000_000;

    // Every time below is an integer count of 1/D seconds, with
    // D = 2 · 10^6 · tb_den · rate_den · fps_num: it holds a frame time
    // (ticks · tb_num / tb_den), a microsecond time, a tick's elapsed time
    // (j · rate / fps) and ε (half a frame interval) exactly.
    let d = 2 * MICROS * tb_den * rate_den * fps_num;
    let from_ticks = |ticks: i64| i128::from(ticks) * tb_num * (d / tb_den);
    let from_micros = |us: i64| i128::from(us) * (d / MICROS);
    let eps = from_ticks(times.median_interval()) / 2; // exact: d is even per tick

    let frames: Vec<i128> = times.pts.iter().map(|&p| from_ticks(p)).collect();
    let start = from_micros(element.media_start_us);
    let candidates = match element.media_duration_us {
        Some(md) => {
            let trim_end = start + from_micros(md);
            frames.iter().take_while(|&&t| t < trim_end).count()
        }
        None => frames.len(),
    };
    assert!(
        candidates > 0,
        "no frame starts before the trim's end: {element:?}"
    );
    let pass = match element.media_duration_us {
        Some(md) => from_micros(md),
        None => from_ticks(times.end) - start,
    };
    // One tick's elapsed source time is rate / fps = (rate_num · fps_den) /
    // (rate_den · fps_num) seconds.
    let step = rate_num * fps_den * (d / (rate_den * fps_num));

    (0..element.ticks())
        .map(|j| {
            let elapsed = i128::from(j) * step;
            let elapsed = if element.looping && pass > 0 {
                elapsed % pass
            } else {
                elapsed
            };
            let t = start + elapsed;
            // The last candidate strictly before t + ε; the first when none.
            let shown = frames[..candidates].partition_point(|&f| f < t + eps);
            shown.saturating_sub(1)
        })
        .collect()
}
