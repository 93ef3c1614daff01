//! Chunked renders: which ticks of each element a range of the
//! composition's output frames shows.
//!
//! Output frame `k` (counted from 0) of a composition rendered at `fps` is
//! the picture at time `k / fps`. An element placed at `start` (seconds on
//! the composition's timeline, 0 by default) for `duration` is on screen at
//! times `start ≤ t < start + duration`, where it shows its tick
//! `floor((t − start) × element fps)`: the tick whose interval holds `t`.
//! All of it is exact (integer microseconds, rational rates).

use serde::{Deserialize, Serialize};

use crate::time::{Fps, US_PER_SEC};
use crate::validate::Element;

/// Output frames `from..to` (`to` excluded) of a composition rendered at
/// `fps`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputFrames {
    /// The first output frame.
    pub from: u64,
    /// One past the last output frame.
    pub to: u64,
    /// The composition's output frame rate.
    pub fps: Fps,
}

/// The ticks of `element` that output frames `frames` show, ascending and
/// distinct.
pub fn ticks_shown(element: &Element, frames: &OutputFrames) -> Vec<u64> {
    let us = i128::from(US_PER_SEC);
    let (out_num, out_den) = (i128::from(frames.fps.num()), i128::from(frames.fps.den()));
    let (num, den) = (i128::from(element.fps.num()), i128::from(element.fps.den()));
    let start = i128::from(element.timeline_start_us.unwrap_or(0));
    let duration = i128::from(element.duration_us);
    let ticks = i128::from(element.ticks());
    let mut shown: Vec<u64> = Vec::new();
    for k in frames.from..frames.to {
        // (t − start) in units of 1 / (out_num × 1e6) seconds.
        let x = i128::from(k) * out_den * us - start * out_num;
        if x < 0 || x >= duration * out_num {
            continue;
        }
        let tick = (x * num).div_euclid(out_num * us * den);
        if tick < ticks && shown.last() != Some(&(tick as u64)) {
            shown.push(tick as u64);
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::composition::ImageFormat;
    use crate::time::PlaybackRate;

    fn element(start_us: Option<i64>, duration_us: i64, fps: (u32, u32)) -> Element {
        Element {
            id: "e".into(),
            src: "x".into(),
            start_us: 0,
            duration_us,
            timeline_start_us: start_us,
            media_duration_us: None,
            fps: Fps::new(fps.0, fps.1).unwrap(),
            playback_rate: PlaybackRate::NORMAL,
            looping: false,
            format: ImageFormat::Png,
            transfer: None,
        }
    }

    fn frames(from: u64, to: u64, fps: (u32, u32)) -> OutputFrames {
        OutputFrames {
            from,
            to,
            fps: Fps::new(fps.0, fps.1).unwrap(),
        }
    }

    #[test]
    fn a_chunk_shows_the_ticks_on_screen_in_it() {
        // At the element's own rate, frame k shows tick k − start.
        let e = element(Some(1_000_000), 2_000_000, (30, 1));
        assert_eq!(ticks_shown(&e, &frames(0, 30, (30, 1))), Vec::<u64>::new());
        assert_eq!(
            ticks_shown(&e, &frames(25, 35, (30, 1))),
            vec![0, 1, 2, 3, 4]
        );
        assert_eq!(
            ticks_shown(&e, &frames(85, 95, (30, 1))),
            vec![55, 56, 57, 58, 59]
        );
        // A 60 fps element in a 30 fps render: every other tick.
        let e = element(None, 1_000_000, (60, 1));
        assert_eq!(ticks_shown(&e, &frames(0, 3, (30, 1))), vec![0, 2, 4]);
        // A 24 fps element in a 30 fps render: some ticks twice (once listed).
        let e = element(None, 1_000_000, (24, 1));
        assert_eq!(ticks_shown(&e, &frames(0, 6, (30, 1))), vec![0, 1, 2, 3, 4]);
        // NTSC against whole rates, exactly: 30000/1001 output, 30 fps element.
        let e = element(None, 10_000_000, (30, 1));
        let ticks = ticks_shown(&e, &frames(0, 300, (30000, 1001)));
        assert_eq!(ticks.len(), 300);
        assert_eq!(ticks.last(), Some(&299));
    }

    #[test]
    fn chunks_cover_the_element_exactly_once() {
        let e = element(Some(333_333), 2_500_000, (25, 1));
        let whole = ticks_shown(&e, &frames(0, 200, (25, 1)));
        let mut parts = ticks_shown(&e, &frames(0, 37, (25, 1)));
        parts.extend(ticks_shown(&e, &frames(37, 200, (25, 1))));
        assert_eq!(parts, whole);
        // 63 ticks; the last is on screen for 20 ms only, between frames.
        assert_eq!(e.ticks(), 63);
        assert_eq!(whole, (0..62).collect::<Vec<u64>>());
    }
}
