//! The time model of one element: which source frame each of its frames
//! shows, with a playback rate, a trim (`mediaDuration`), a loop, and a slot
//! that outlasts its source. Integers only.
//!
//! - The slot has `n = ceil(duration × fps)` frames.
//! - Output frame `j` shows source time `mediaStart + j × rate / fps`: frame
//!   `j` of an extraction at the source grid `G = fps / rate` from
//!   `mediaStart`. Elements on one grid can share frames; elements on
//!   different grids never do, even where their times coincide, since the
//!   frame on screen at a tick depends on the grid (ffmpeg's `fps` filter
//!   picks the frame at or before `t + ½/G`).
//! - A pass ends at `mediaStart + mediaDuration` or at the source's end,
//!   whichever comes first (when either is known), and has
//!   `P = ceil((passEnd − mediaStart) × G)` grid frames: a last partial frame
//!   period counts whole, as for `n`.
//! - Without `loop`, frames `j < min(n, P)` are grid frames; the frames past
//!   the pass hold a last frame: the trim's (grid frame `P − 1`) when
//!   `mediaDuration` ended the pass before the source's end, else the
//!   source's true last frame (which the grid's last frame may not show: a 30
//!   fps source sampled at 10 fps). A slot starting at or past the source's
//!   end shows only the source's last frame.
//! - With `loop`, frame `j` shows grid frame `j mod P`: one cycle of `P`
//!   frames, extracted once.

use serde::{Deserialize, Serialize};

use crate::time::format_us;
use crate::validate::Element;

/// Which last frame the frames past a pass hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HeldFrom {
    /// The trim's last frame: the pass's grid frame `P − 1`, already extracted.
    Trim,
    /// The source's true last frame, extracted on its own.
    Source,
}

/// How one element's frames come from its source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElementFrames {
    /// `n = ceil(duration × fps)`: the frames of the slot.
    pub frames: u64,
    /// `P`: grid frames in one pass, when the pass has a known end.
    pub pass: Option<u64>,
    /// Grid frames from `mediaStart` the element takes from its extraction:
    /// `min(n, P)`. 0 when the slot starts at or past the source's end.
    pub extract: u64,
    /// The slot loops over the `extract` frames (a loop longer than its pass).
    pub cycle: bool,
    /// Frames past the pass that hold a last frame, and which one.
    pub held: Option<(u64, HeldFrom)>,
}

/// Where frame `j` of an element comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameSource {
    /// Grid frame `k` of the element's extraction (`0 ≤ k < extract`).
    Grid(u64),
    /// The source's true last frame.
    LastFrame,
}

impl ElementFrames {
    /// The time model of `element` on a source whose end (microseconds, from
    /// the probe) is `source_end_us` when known. A `loop` without a known
    /// pass length (refused by validation) plays once.
    pub fn of(element: &Element, source_end_us: Option<i64>) -> Self {
        let frames = element.fps.frames_in(element.duration_us);
        let start = element.start_us;
        let trim_end = element.media_duration_us.map(|d| start.saturating_add(d));
        let pass_end = match (trim_end, source_end_us) {
            (Some(t), Some(s)) => Some(t.min(s)),
            (t, s) => t.or(s),
        };
        let pass = pass_end.map(|end| element.grid.frames_in(end.saturating_sub(start)));
        let extract = pass.map_or(frames, |p| p.min(frames));
        // The source's end cut the pass (or there was none to play).
        let cut_by_source = match (trim_end, source_end_us) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(t), Some(s)) => s <= t,
        };
        let missing = frames - extract;
        let (cycle, held) = if missing == 0 {
            (false, None)
        } else if extract == 0 {
            (false, Some((frames, HeldFrom::Source)))
        } else if element.looping {
            (true, None)
        } else if cut_by_source {
            (false, Some((missing, HeldFrom::Source)))
        } else {
            (false, Some((missing, HeldFrom::Trim)))
        };
        Self {
            frames,
            pass,
            extract,
            cycle,
            held,
        }
    }

    /// Where the element's frame `j` (`0 ≤ j < frames`) comes from.
    pub fn source_of(&self, j: u64) -> FrameSource {
        if self.cycle {
            return FrameSource::Grid(j % self.extract);
        }
        if j < self.extract {
            return FrameSource::Grid(j);
        }
        match self.held {
            Some((_, HeldFrom::Trim)) => FrameSource::Grid(self.extract - 1),
            _ => FrameSource::LastFrame,
        }
    }

    /// The source's last frame is needed (held, or all there is).
    pub fn needs_last_frame(&self) -> bool {
        matches!(self.held, Some((_, HeldFrom::Source)))
    }

    /// The warning for a slot that starts at or past the source's end, if
    /// this is one.
    pub fn warning(&self, element: &Element, source_end_us: Option<i64>) -> Option<String> {
        if self.extract != 0 || self.frames == 0 {
            return None;
        }
        let end = source_end_us.unwrap_or_default();
        let shown = match self.frames {
            1 => "its frame shows".to_string(),
            n => format!("all {n} frames show"),
        };
        Some(format!(
            "mediaStart {}s is at or past the end of the source ({}s): {shown} the source's last frame",
            format_us(element.start_us),
            format_us(end),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::composition::ImageFormat;
    use crate::time::{source_grid, Fps, PlaybackRate};

    fn element(start_s: f64, duration_s: f64, fps: u32, rate: (u32, u32)) -> Element {
        let fps = Fps::new(fps, 1).unwrap();
        let playback_rate = PlaybackRate::new(rate.0, rate.1).unwrap();
        Element {
            id: "e".into(),
            src: "x".into(),
            start_us: (start_s * 1e6) as i64,
            duration_us: (duration_s * 1e6) as i64,
            media_duration_us: None,
            fps,
            playback_rate,
            grid: source_grid(fps, playback_rate).unwrap(),
            looping: false,
            format: ImageFormat::Png,
            transfer: None,
        }
    }

    fn trimmed(mut e: Element, media_duration_s: f64) -> Element {
        e.media_duration_us = Some((media_duration_s * 1e6) as i64);
        e
    }

    fn looping(mut e: Element) -> Element {
        e.looping = true;
        e
    }

    #[test]
    fn an_unbounded_pass_takes_every_frame() {
        let f = ElementFrames::of(&element(1.0, 2.0, 30, (1, 1)), None);
        assert_eq!(
            (f.frames, f.pass, f.extract, f.cycle, f.held),
            (60, None, 60, false, None)
        );
        // Twice as fast: 60 frames at 30 fps are 60 source frames at 15 fps,
        // 4 s of source.
        let f = ElementFrames::of(&element(0.0, 2.0, 30, (2, 1)), Some(10_000_000));
        assert_eq!((f.frames, f.pass, f.extract), (60, Some(150), 60));
        assert_eq!(f.held, None);
    }

    #[test]
    fn the_source_end_holds_its_true_last_frame() {
        // 3 s source, 5 s slot at 10 fps from 0: 30 frames, then 20 held.
        let f = ElementFrames::of(&element(0.0, 5.0, 10, (1, 1)), Some(3_000_000));
        assert_eq!((f.frames, f.pass, f.extract), (50, Some(30), 30));
        assert_eq!(f.held, Some((20, HeldFrom::Source)));
        assert_eq!(f.source_of(29), FrameSource::Grid(29));
        assert_eq!(f.source_of(30), FrameSource::LastFrame);
        assert_eq!(f.source_of(49), FrameSource::LastFrame);
        assert!(f.needs_last_frame());
        // At double speed the source lasts half as many slot frames.
        let f = ElementFrames::of(&element(0.0, 5.0, 10, (2, 1)), Some(3_000_000));
        assert_eq!((f.pass, f.extract), (Some(15), 15));
        assert_eq!(f.held, Some((35, HeldFrom::Source)));
    }

    #[test]
    fn a_trim_holds_its_own_last_frame() {
        // 1 s of a 10 s source at 30 fps, in a 2 s slot.
        let f = ElementFrames::of(
            &trimmed(element(2.0, 2.0, 30, (1, 1)), 1.0),
            Some(10_000_000),
        );
        assert_eq!((f.frames, f.pass, f.extract), (60, Some(30), 30));
        assert_eq!(f.held, Some((30, HeldFrom::Trim)));
        assert_eq!(f.source_of(45), FrameSource::Grid(29));
        assert!(!f.needs_last_frame());
        // Unknown source end: the trim still bounds the pass.
        let f = ElementFrames::of(&trimmed(element(2.0, 2.0, 30, (1, 1)), 1.0), None);
        assert_eq!(f.held, Some((30, HeldFrom::Trim)));
        // A trim reaching exactly the source's end (or past it): the source
        // ended the pass, its true last frame is held.
        let f = ElementFrames::of(
            &trimmed(element(9.0, 2.0, 30, (1, 1)), 1.0),
            Some(10_000_000),
        );
        assert_eq!(f.held, Some((30, HeldFrom::Source)));
        let f = ElementFrames::of(
            &trimmed(element(9.0, 2.0, 30, (1, 1)), 5.0),
            Some(10_000_000),
        );
        assert_eq!((f.extract, f.held), (30, Some((30, HeldFrom::Source))));
        // A trim longer than the slot changes nothing.
        let f = ElementFrames::of(&trimmed(element(0.0, 1.0, 30, (1, 1)), 5.0), None);
        assert_eq!((f.extract, f.held), (30, None));
    }

    #[test]
    fn a_slot_past_the_end_is_all_last_frame() {
        let e = element(7.25, 1.0, 30, (1, 1));
        let f = ElementFrames::of(&e, Some(5_000_000));
        assert_eq!((f.frames, f.pass, f.extract), (30, Some(0), 0));
        assert_eq!(f.held, Some((30, HeldFrom::Source)));
        assert_eq!(f.source_of(0), FrameSource::LastFrame);
        assert!(f
            .warning(&e, Some(5_000_000))
            .unwrap()
            .contains("7.250000s"));
        // Exactly at the end, too; and a loop there has nothing to repeat.
        let f = ElementFrames::of(&element(5.0, 1.0, 30, (1, 1)), Some(5_000_000));
        assert_eq!((f.extract, f.held), (0, Some((30, HeldFrom::Source))));
        let f = ElementFrames::of(&looping(element(5.0, 1.0, 30, (1, 1))), Some(5_000_000));
        assert_eq!(
            (f.extract, f.cycle, f.held),
            (0, false, Some((30, HeldFrom::Source)))
        );
        assert_eq!(ElementFrames::of(&e, None).warning(&e, None), None);
    }

    #[test]
    fn a_loop_repeats_one_cycle() {
        // A 2 s source looped over 5 s at 30 fps: a cycle of 60 frames.
        let f = ElementFrames::of(&looping(element(0.0, 5.0, 30, (1, 1))), Some(2_000_000));
        assert_eq!(
            (f.frames, f.pass, f.extract, f.cycle),
            (150, Some(60), 60, true)
        );
        assert_eq!(f.held, None);
        assert_eq!(f.source_of(59), FrameSource::Grid(59));
        assert_eq!(f.source_of(60), FrameSource::Grid(0));
        assert_eq!(f.source_of(149), FrameSource::Grid(29));
        // A trimmed loop: 0.5 s from 1 s, at half speed: 30 frames per cycle.
        let e = looping(trimmed(element(1.0, 3.0, 30, (1, 2)), 0.5));
        let f = ElementFrames::of(&e, Some(2_000_000));
        assert_eq!(
            (f.frames, f.pass, f.extract, f.cycle),
            (90, Some(30), 30, true)
        );
        // A cycle that is not whole frames: 1.05 s at 10 fps is 10.5 periods,
        // the partial one shown whole: 11 frames.
        let e = looping(trimmed(element(0.0, 3.0, 10, (1, 1)), 1.05));
        let f = ElementFrames::of(&e, None);
        assert_eq!((f.pass, f.extract), (Some(11), 11));
        assert_eq!(f.source_of(11), FrameSource::Grid(0));
        // A loop shorter than its pass is a plain extraction.
        let f = ElementFrames::of(&looping(element(0.0, 1.0, 30, (1, 1))), Some(2_000_000));
        assert_eq!((f.extract, f.cycle, f.held), (30, false, None));
    }
}
