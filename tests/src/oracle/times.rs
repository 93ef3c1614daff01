//! A source's frame presentation times ([`SourceTimes`]) and the lower
//! median interval between them that the rule's `ε` is half of.

/// A source's frame presentation times, as probed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceTimes {
    /// The stream time base `(num, den)`: one tick is `num / den` seconds.
    pub time_base: (i64, i64),
    /// Presentation times of the frames, sorted, relative to the first frame
    /// (so `pts[0] == 0`), in ticks. Discarded packets are excluded.
    pub pts: Vec<i64>,
    /// The source's end relative to the first frame, in ticks: the last
    /// frame's time plus its duration (packet duration, or the median
    /// interval when the packet has none).
    pub end: i64,
    /// The absolute presentation time of the first frame, in ticks (what
    /// ffmpeg's `showinfo` prints for it with `-copyts`).
    pub first: i64,
    /// Indices into `pts` of the frames whose packets are keyframes.
    pub keyframes: Vec<usize>,
}

impl SourceTimes {
    /// A hand-made timeline (absolute times; sorted and made relative here),
    /// without keyframe facts. `end` is absolute too; `None`: the last frame
    /// plus the lower median interval.
    pub fn from_pts(time_base: (i64, i64), pts: &[i64], end: Option<i64>) -> SourceTimes {
        assert!(!pts.is_empty(), "a timeline needs a frame");
        let mut pts = pts.to_vec();
        pts.sort_unstable();
        let first = pts[0];
        let rel: Vec<i64> = pts.iter().map(|p| p - first).collect();
        let end = match end {
            Some(end) => end - first,
            None => rel[rel.len() - 1] + lower_median_interval(&rel),
        };
        SourceTimes {
            time_base,
            pts: rel,
            end,
            first,
            keyframes: vec![0],
        }
    }

    /// The lower median of the intervals between consecutive frames, in ticks
    /// (0 for a one-frame source).
    pub fn median_interval(&self) -> i64 {
        lower_median_interval(&self.pts)
    }

    /// The absolute presentation time of frame `index`, in ticks.
    pub fn absolute(&self, index: usize) -> i64 {
        self.first + self.pts[index]
    }

    /// Frame `index`'s absolute time as decimal seconds, exact when the time
    /// base's denominator has only the factors 2 and 5 (else rounded down
    /// at 1 ns); for `-ss`.
    pub fn seconds_text(&self, index: usize) -> String {
        let (num, den) = self.time_base;
        let nanos =
            i128::from(self.absolute(index)) * i128::from(num) * 1_000_000_000 / i128::from(den);
        let sign = if nanos < 0 { "-" } else { "" };
        let nanos = nanos.abs();
        format!(
            "{sign}{}.{:09}",
            nanos / 1_000_000_000,
            nanos % 1_000_000_000
        )
    }
}

pub(super) fn lower_median_interval(sorted: &[i64]) -> i64 {
    let mut intervals: Vec<i64> = sorted.windows(2).map(|w| w[1] - w[0]).collect();
    if intervals.is_empty() {
        return 0;
    }
    intervals.sort_unstable();
    intervals[(intervals.len() - 1) / 2]
}
