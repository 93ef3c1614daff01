//! Generated sources: how their frames fall ([`Shape`]: constant rate in
//! various time bases, jittered, gapped, one frame, random VFR, assumed from
//! a rate) and the timeline and facts each gives ([`SourceSpec`]).

use framex_core::{Fps, SourceFacts, SourceIdentity, TimeBase, Timeline};
use proptest::prelude::*;
use proptest::sample::select;

/// How a generated source's frames fall.
#[derive(Clone, Debug)]
pub enum Shape {
    /// Frame `i` at `⌊i × period⌋` ticks: exact, or off by a tick where the
    /// time base does not hold the period (a millisecond time base at 30 fps).
    Constant,
    /// Constant, each time moved by up to a third of a period.
    Jittered {
        /// Pseudo-random jitter of each frame, as a fraction of a third of a
        /// period in thousandths (−1000..=1000).
        offsets: Vec<i32>,
    },
    /// Constant with the frames `from..from + len` missing (a screen
    /// recording that emits frames on change only).
    Gapped {
        /// First missing frame.
        from: usize,
        /// How many are missing.
        len: usize,
    },
    /// Any increasing times: intervals of 1..3 periods in thousandths.
    Variable {
        /// Each interval, in thousandths of a period (334..3000).
        intervals: Vec<u32>,
    },
}

/// A source as generated: probed (a timeline) or assumed (a rate).
#[derive(Clone, Debug)]
pub enum SourceSpec {
    /// A probed timeline.
    Probed {
        /// Time base `num/den`.
        time_base: (u32, u32),
        /// Nominal rate `num/den`.
        rate: (u32, u32),
        /// Frames.
        count: usize,
        /// How they fall.
        shape: Shape,
        /// Every `gop` frames a keyframe (`0`: only frame 0), starting at
        /// `first_key` (frames before it decode from frame 0).
        gop: u64,
        /// The first listed keyframe.
        first_key: u64,
    },
    /// Assumed from a rate, with or without a duration.
    Assumed {
        /// `frameRate`; `None` for the default 30/1.
        rate: Option<(u32, u32)>,
        /// `durationUs`.
        duration_us: Option<i64>,
    },
}

impl SourceSpec {
    /// The timeline (probed) or `None` (assumed).
    pub fn timeline(&self) -> Option<Timeline> {
        let SourceSpec::Probed {
            time_base,
            rate,
            count,
            shape,
            gop,
            first_key,
        } = self
        else {
            return None;
        };
        let tb = TimeBase::new(time_base.0, time_base.1).unwrap();
        // Ticks per frame: den_tb × den_rate / (num_tb × num_rate).
        let (pn, pd) = (
            i128::from(time_base.1) * i128::from(rate.1),
            i128::from(time_base.0) * i128::from(rate.0),
        );
        let at = |i: i128| (i * pn / pd) as i64;
        let period = (pn / pd).max(1) as i64;
        let mut pts: Vec<i64> = match shape {
            Shape::Constant => (0..*count as i128).map(at).collect(),
            Shape::Jittered { offsets } => (0..*count)
                .map(|i| {
                    let jitter = i64::from(offsets[i % offsets.len()]) * (period / 3) / 1000;
                    at(i as i128) + if i == 0 { 0 } else { jitter }
                })
                .collect(),
            Shape::Gapped { from, len } => (0..*count as i128)
                .filter(|&i| i < *from as i128 || i >= (*from + *len) as i128)
                .map(at)
                .collect(),
            Shape::Variable { intervals } => {
                let mut t = 0i64;
                (0..*count)
                    .map(|i| {
                        if i > 0 {
                            let step = i64::from(intervals[i % intervals.len()]);
                            t += (period * step / 1000).max(1);
                        }
                        t
                    })
                    .collect()
            }
        };
        // Times count from the first frame (a gap may have removed frame 0),
        // and jitter may reorder close frames: keep them strictly increasing.
        let first = pts[0];
        pts.iter_mut().for_each(|t| *t -= first);
        for i in 1..pts.len() {
            if pts[i] <= pts[i - 1] {
                pts[i] = pts[i - 1] + 1;
            }
        }
        let last = *pts.last().unwrap();
        let end = last + period;
        let n = pts.len() as u64;
        let keyframes: Vec<u64> = if *gop == 0 {
            Vec::new()
        } else {
            (0..)
                .map(|k| first_key + k * gop)
                .take_while(|&k| k < n)
                .collect()
        };
        Some(Timeline::new(tb, pts, end, keyframes).expect("generated timelines are valid"))
    }

    /// The facts a caller would hand over for this source.
    pub fn facts(&self, identity: SourceIdentity, alpha: bool) -> SourceFacts {
        match self {
            SourceSpec::Probed { .. } => SourceFacts {
                identity,
                alpha,
                timeline: self.timeline(),
                ..SourceFacts::default()
            },
            SourceSpec::Assumed { rate, duration_us } => SourceFacts {
                identity,
                alpha,
                timeline: None,
                frame_rate: rate.map(|(n, d)| Fps::new(n, d).unwrap()),
                duration_us: *duration_us,
            },
        }
    }
}

/// Time bases seen in the wild: MP4 defaults (1/15360, 1/12800, 1/12288),
/// MPEG-TS (1/90000), Matroska/WebM (1/1000), QuickTime (1/600, 1/30000),
/// and one tick per NTSC frame.
const TIME_BASES: [(u32, u32); 8] = [
    (1, 15360),
    (1, 12800),
    (1, 12288),
    (1, 90000),
    (1, 1000),
    (1, 600),
    (1, 30000),
    (1001, 30000),
];

/// Source rates: film, PAL, NTSC, phones, and a slow one.
const SOURCE_RATES: [(u32, u32); 9] = [
    (24, 1),
    (25, 1),
    (30, 1),
    (60, 1),
    (30000, 1001),
    (60000, 1001),
    (24000, 1001),
    (50, 1),
    (12, 1),
];

fn shape(count: usize) -> impl Strategy<Value = Shape> {
    prop_oneof![
        4 => Just(Shape::Constant),
        2 => prop::collection::vec(-1000..=1000i32, 1..16).prop_map(|offsets| Shape::Jittered { offsets }),
        2 => (0..count.max(1), 1..count.max(2)).prop_map(|(from, len)| Shape::Gapped { from, len }),
        1 => prop::collection::vec(334..3000u32, 1..16).prop_map(|intervals| Shape::Variable { intervals }),
    ]
}

/// A source: mostly probed, sometimes assumed.
pub fn source_spec() -> impl Strategy<Value = SourceSpec> {
    let probed = (
        select(TIME_BASES.to_vec()),
        select(SOURCE_RATES.to_vec()),
        prop_oneof![1 => Just(1usize), 8 => 2..240usize],
        select(vec![0u64, 1, 12, 30, 48, 60, 250]),
        prop_oneof![3 => Just(0u64), 1 => 1..20u64],
    )
        .prop_flat_map(|(time_base, rate, count, gop, first_key)| {
            // A time base too coarse for the rate (1001/30000 at 60 fps)
            // would put two frames on one tick: use 1/90000 there.
            let per_frame = u64::from(time_base.1) * u64::from(rate.1)
                / (u64::from(time_base.0) * u64::from(rate.0));
            let time_base = if per_frame >= 1 {
                time_base
            } else {
                (1, 90000)
            };
            shape(count).prop_map(move |shape| {
                // A gap leaves at least one frame.
                let shape = match shape {
                    Shape::Gapped { from, len } if len >= count => Shape::Gapped {
                        from,
                        len: count - 1,
                    },
                    other => other,
                };
                SourceSpec::Probed {
                    time_base,
                    rate,
                    count,
                    shape,
                    gop,
                    first_key,
                }
            })
        });
    let assumed = (
        prop::option::of(select(vec![
            (24, 1),
            (25, 1),
            (30, 1),
            (30000, 1001),
            (60, 1),
        ])),
        prop::option::of(prop_oneof![1..100_000i64, 100_000..8_000_000i64]),
    )
        .prop_map(|(rate, duration_us)| SourceSpec::Assumed { rate, duration_us });
    prop_oneof![5 => probed, 1 => assumed]
}
