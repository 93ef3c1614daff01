//! proptest generators shared by the property and fuzz tests.
//!
//! - [`request`]: requests that mostly plan: a few sources with random
//!   timelines (constant rate in various time bases, jittered, gapped, one
//!   frame, random VFR, assumed from a rate), one of them under two `src`
//!   spellings, elements at many rates, playback rates, trims and loops,
//!   random cached frames and seek costs.
//! - [`request_like`] and its parts: JSON values shaped like requests whose
//!   fields hold values of every type, for the fuzz tests.

use std::collections::{BTreeMap, BTreeSet};

use framex_core::{
    recipe_key, Composition, ElementInput, Fps, FpsInput, ImageFormat, PlanOptions, Recipe,
    Request, SourceFacts, SourceIdentity, TimeBase, Timeline, Transfer,
};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Map, Value};

// ---------------------------------------------------------------------------
// Timelines.

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

// ---------------------------------------------------------------------------
// Requests.

/// The `src` names: `a.mp4` and `alias/a.mp4` are one file (one identity,
/// the facts of `a.mp4`); `n.mp4` has no facts (known by name only).
pub const SOURCES: [&str; 5] = ["a.mp4", "alias/a.mp4", "b.mp4", "c.webm", "n.mp4"];

/// One generated element, before it becomes an [`ElementInput`].
#[derive(Clone, Debug)]
pub struct ElementSpec {
    /// Index into [`SOURCES`].
    pub src: usize,
    /// `mediaStart`, µs.
    pub start_us: i64,
    /// `duration`, µs.
    pub duration_us: i64,
    /// `mediaDuration`, µs.
    pub media_duration_us: Option<i64>,
    /// `fps` as written.
    pub fps: FpsInput,
    /// `playbackRate` as written.
    pub playback_rate: Option<FpsInput>,
    /// `loop`.
    pub looping: bool,
    /// JPEG, else PNG.
    pub jpeg: bool,
    /// `sdrToHdrTransfer`.
    pub transfer: Option<Transfer>,
}

fn seconds(us: i64) -> f64 {
    us as f64 / 1e6
}

impl ElementSpec {
    /// The element as the composition writes it.
    pub fn input(&self, id: String) -> ElementInput {
        ElementInput {
            id,
            src: SOURCES[self.src].into(),
            media_start: seconds(self.start_us),
            duration: seconds(self.duration_us),
            start: None,
            media_duration: self.media_duration_us.map(seconds),
            fps: self.fps.clone(),
            playback_rate: self.playback_rate.clone(),
            looping: self.looping,
            format: if self.jpeg { "jpeg" } else { "png" }.into(),
            sdr_to_hdr_transfer: self.transfer.map(|t| t.as_str().into()),
            identity: None,
        }
    }
}

/// Element frame rates, written as numbers and as text.
pub fn fps() -> impl Strategy<Value = FpsInput> {
    select(vec![
        FpsInput::Number(24.0),
        FpsInput::Number(25.0),
        FpsInput::Number(30.0),
        FpsInput::Number(60.0),
        FpsInput::Number(29.97),
        FpsInput::Text("30000/1001".into()),
        FpsInput::Text("60000/1001".into()),
        FpsInput::Number(12.5),
        FpsInput::Number(10.0),
        FpsInput::Number(7.0),
        FpsInput::Text("60/2".into()),
        FpsInput::Number(120.0),
    ])
}

/// Playback rates (`None`: not written).
pub fn playback_rate() -> impl Strategy<Value = Option<FpsInput>> {
    prop_oneof![
        4 => Just(None),
        1 => select(vec![
            FpsInput::Number(2.0),
            FpsInput::Number(0.5),
            FpsInput::Number(1.5),
            FpsInput::Text("3/2".into()),
            FpsInput::Text("1000/1001".into()),
            FpsInput::Number(4.0),
            FpsInput::Text("1/3".into()),
            FpsInput::Number(1.0),
        ])
        .prop_map(Some),
    ]
}

/// An element: starts and trims on and off every grid, up to past the
/// sources' ends.
pub fn element_spec() -> impl Strategy<Value = ElementSpec> {
    (
        prop_oneof![6 => 0..4usize, 1 => Just(4usize)],
        prop_oneof![
            2 => (0..80i64).prop_map(|n| n * 100_000),
            2 => 0..9_000_000i64,
            1 => Just(0i64),
        ],
        prop_oneof![
            3 => (1..30i64).prop_map(|n| n * 100_000),
            2 => 1..3_000_000i64,
            1 => 1..2_000i64,
        ],
        prop::option::weighted(
            0.25,
            prop_oneof![(1..20i64).prop_map(|n| n * 50_000), 1..2_000_000i64],
        ),
        fps(),
        playback_rate(),
        prop::bool::weighted(0.25),
        prop::bool::weighted(0.2),
        prop_oneof![6 => Just(None), 1 => Just(Some(Transfer::Pq)), 1 => Just(Some(Transfer::Hlg))],
    )
        .prop_map(
            |(
                src,
                start_us,
                duration_us,
                media_duration_us,
                fps,
                playback_rate,
                looping,
                jpeg,
                transfer,
            )| {
                ElementSpec {
                    src,
                    start_us,
                    duration_us,
                    media_duration_us,
                    fps,
                    playback_rate,
                    looping,
                    jpeg,
                    transfer,
                }
            },
        )
}

/// What a generated request is made of, kept for shrinking and messages.
#[derive(Clone, Debug)]
pub struct RequestSpec {
    /// Sources of `a.mp4` (also `alias/a.mp4`), `b.mp4`, `c.webm`.
    pub sources: [SourceSpec; 3],
    /// Whether `c.webm` has alpha.
    pub alpha: bool,
    /// The elements.
    pub elements: Vec<ElementSpec>,
    /// Which needed-looking frames are cached: a seed and a share in
    /// quarters (0: none, 4: all).
    pub cache: (u64, u8),
    /// `seekCostFrames`.
    pub seek_cost: u32,
}

fn identity(n: usize) -> SourceIdentity {
    match n {
        0 => SourceIdentity::File {
            path: "/media/a.mp4".into(),
            size: 1 << 20,
            mtime_ns: 1_700_000_000_000_000_000,
        },
        1 => SourceIdentity::Content {
            blake3: "ab".repeat(32),
        },
        _ => SourceIdentity::Name {
            name: "c.webm".into(),
        },
    }
}

/// A small fixed-seed mixer (splitmix64), for choosing cached frames.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl RequestSpec {
    /// The request.
    pub fn request(&self) -> Request {
        let mut sources: BTreeMap<String, SourceFacts> = BTreeMap::new();
        for (n, spec) in self.sources.iter().enumerate() {
            let facts = spec.facts(identity(n), n == 2 && self.alpha);
            if n == 0 {
                sources.insert(SOURCES[1].into(), facts.clone());
            }
            sources.insert(SOURCES[[0, 2, 3][n]].into(), facts);
        }
        let elements = self
            .elements
            .iter()
            .enumerate()
            .map(|(i, e)| e.input(format!("e{i}")))
            .collect();
        // Cached frames: for every recipe of every source, a share of its
        // first 300 frames, a time that is no frame, and a key nobody has.
        let (seed, quarters) = self.cache;
        let mut cached_frames: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
        if quarters > 0 {
            for (n, spec) in self.sources.iter().enumerate() {
                let facts = spec.facts(identity(n), n == 2 && self.alpha);
                let timeline = facts.timeline();
                let frames = timeline.len().unwrap_or(300).min(300);
                for format in [ImageFormat::Png, ImageFormat::Jpeg] {
                    for transfer in [None, Some(Transfer::Pq), Some(Transfer::Hlg)] {
                        let recipe = Recipe::new(format, facts.alpha, transfer);
                        let key = recipe_key(&facts.identity, timeline.time_base(), recipe);
                        let salt = key.bytes().fold(seed, |h, b| mix(h ^ u64::from(b)));
                        let set: BTreeSet<i64> = (0..frames)
                            .filter(|&i| mix(salt ^ i) % 4 < u64::from(quarters))
                            .map(|i| timeline.pts(i))
                            .chain([-1])
                            .collect();
                        cached_frames.insert(key, set);
                    }
                }
            }
            cached_frames.insert("0".repeat(64), [0, 1, 2].into());
        }
        Request {
            composition: Composition { elements },
            sources,
            cached_frames,
            options: PlanOptions {
                seek_cost_frames: self.seek_cost,
            },
        }
    }
}

/// A rate as written, exactly (`None`: not written, 1).
fn exact(rate: Option<&FpsInput>) -> Option<(u32, u32)> {
    let fps = match rate {
        None => Fps::new(1, 1),
        Some(FpsInput::Number(n)) => Fps::from_f64(*n),
        Some(FpsInput::Text(t)) => Fps::parse(t),
    }?;
    Some((fps.num(), fps.den()))
}

/// Places an element again: as it is (a duplicate), at twice the fps and
/// twice the playback rate for half the duration (the same times asked
/// for, written otherwise: a duplicate too), at the NTSC twin of its rate,
/// or in the other format.
fn repeat(element: &ElementSpec, how: u8) -> ElementSpec {
    let mut copy = element.clone();
    match how {
        0 => {}
        1 => {
            let fps = exact(Some(&element.fps));
            let rate = exact(element.playback_rate.as_ref());
            if let (Some((fn_, fd)), Some((rn, rd))) = (fps, rate) {
                if element.duration_us % 2 == 0 && fn_ <= 500 * fd && rn <= 50 * rd {
                    copy.fps = FpsInput::Text(format!("{}/{fd}", 2 * fn_));
                    copy.playback_rate = Some(FpsInput::Text(format!("{}/{rd}", 2 * rn)));
                    copy.duration_us /= 2;
                }
            }
        }
        2 => {
            // The NTSC twin of its rate (30 ↔ 29.97): on a short slot it
            // often shows the same frames through runs of another stride.
            if let Some((n, d)) = exact(Some(&element.fps)) {
                copy.fps = FpsInput::Text(match d {
                    1001 => format!("{}/1", n / 1000),
                    _ => format!("{}/{}", n * 1000, d * 1001),
                });
            }
        }
        _ => copy.jpeg = !copy.jpeg,
    }
    copy
}

/// Requests that mostly plan (a loop on the name-only `n.mp4` without a
/// `mediaDuration` is refused), with up to `max_elements` elements, some of
/// them placed again.
pub fn request_spec(max_elements: usize) -> impl Strategy<Value = RequestSpec> {
    (
        [source_spec(), source_spec(), source_spec()],
        any::<bool>(),
        prop::collection::vec(element_spec(), 0..=max_elements),
        prop::collection::vec(
            (
                any::<prop::sample::Index>(),
                any::<prop::sample::Index>(),
                0..4u8,
            ),
            0..3,
        ),
        (
            any::<u64>(),
            prop_oneof![1 => Just(0u8), 2 => 1..=3u8, 1 => Just(4u8)],
        ),
        select(vec![0u32, 1, 5, 24, 100, 100_000]),
    )
        .prop_map(
            |(sources, alpha, mut elements, repeats, cache, seek_cost)| {
                if elements.len() > 1 {
                    for (from, to, how) in repeats {
                        let (from, to) = (from.index(elements.len()), to.index(elements.len()));
                        let copy = repeat(&elements[from], how);
                        elements[to] = copy;
                    }
                }
                RequestSpec {
                    sources,
                    alpha,
                    elements,
                    cache,
                    seek_cost,
                }
            },
        )
}

/// [`request_spec`]'s requests.
pub fn request(max_elements: usize) -> impl Strategy<Value = Request> {
    request_spec(max_elements).prop_map(|spec| spec.request())
}

// ---------------------------------------------------------------------------
// JSON shaped like requests, with values of every type in every field.

/// Element fields.
pub const ELEMENT_FIELDS: [&str; 11] = [
    "id",
    "src",
    "mediaStart",
    "duration",
    "mediaDuration",
    "fps",
    "playbackRate",
    "loop",
    "format",
    "sdrToHdrTransfer",
    "identity",
];

/// Every other name a request uses.
pub const REQUEST_FIELDS: [&str; 20] = [
    "composition",
    "elements",
    "sources",
    "cachedFrames",
    "options",
    "seekCostFrames",
    "identity",
    "kind",
    "file",
    "content",
    "name",
    "path",
    "size",
    "mtimeNs",
    "blake3",
    "alpha",
    "timeline",
    "timeBase",
    "pts",
    "keyframes",
];

/// Numbers at the edges: integers of every size, any `f64` (NaN and the
/// infinities serialize as `null`), and the values rules turn on.
pub fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        select(vec![
            0.0,
            -0.0,
            1e-7,
            4e-7,
            5e-7,
            0.5,
            2.5,
            3.003,
            29.97,
            59.94,
            1000.0,
            1000.0001,
            1e7,
            1e7 + 1.0,
            1e308,
            -1.0,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::EPSILON,
        ])
        .prop_map(Value::from),
        (0..200u32).prop_map(|n| json!(f64::from(n) / 8.0)),
    ]
}

/// Strings: anything short, names the generators use, rates, hostile ids.
pub fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,12}",
        "[a-z0-9./ -]{0,8}",
        select(vec![
            "",
            "png",
            "jpeg",
            "gif",
            "pq",
            "hlg",
            "a.mp4",
            "alias/a.mp4",
            "b.mp4",
            "30000/1001",
            "24000/1001",
            "29.97",
            "1/0",
            "0/0",
            "4294967295/1",
            "1/4294967295",
            "1/15360",
            "1/90000",
            "1001/30000",
            "NaN",
            "inf",
            "-0",
            ".",
            "..",
            "../../x",
            "a/b",
            "con",
            "CON.txt",
            "framex-report.json",
            "\u{0}",
            "\u{1b}[2J",
            "é",
            "\u{202e}",
        ])
        .prop_map(String::from),
        (any::<u32>(), any::<u32>()).prop_map(|(n, d)| format!("{n}/{d}")),
        (1usize..300).prop_map(|n| "x".repeat(n)),
    ]
}

/// Any JSON value, small, with the request's names as keys now and then.
pub fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        string().prop_map(Value::String),
    ];
    let key = prop_oneof![
        select(ELEMENT_FIELDS.to_vec()).prop_map(String::from),
        select(REQUEST_FIELDS.to_vec()).prop_map(String::from),
        ".{0,6}",
    ];
    leaf.prop_recursive(3, 24, 4, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A value for element field `field`: of the right type most of the time.
pub fn field_value(field: &'static str) -> BoxedStrategy<Value> {
    let right: BoxedStrategy<Value> = match field {
        "id" => prop_oneof![
            3 => (0..6u32).prop_map(|n| json!(format!("e{n}"))),
            1 => string().prop_map(Value::String),
        ]
        .boxed(),
        "src" => prop_oneof![
            3 => select(SOURCES.to_vec()).prop_map(|s| json!(s)),
            1 => string().prop_map(Value::String),
        ]
        .boxed(),
        "fps" | "playbackRate" => prop_oneof![
            number(),
            select(vec![24, 25, 30, 60]).prop_map(|n| json!(n)),
            string().prop_map(Value::String),
        ]
        .boxed(),
        "format" => prop_oneof![
            3 => select(vec!["png", "jpeg"]).prop_map(|s| json!(s)),
            1 => string().prop_map(Value::String),
        ]
        .boxed(),
        "sdrToHdrTransfer" => prop_oneof![
            select(vec!["pq", "hlg"]).prop_map(|s| json!(s)),
            string().prop_map(Value::String),
        ]
        .boxed(),
        "identity" => prop_oneof![
            select(vec!["file", "content"]).prop_map(|s| json!(s)),
            string().prop_map(Value::String),
        ]
        .boxed(),
        "loop" => any::<bool>().prop_map(Value::Bool).boxed(),
        // mediaStart, duration, mediaDuration
        _ => prop_oneof![
            3 => (0..40u32).prop_map(|n| json!(f64::from(n) / 10.0)),
            2 => number(),
        ]
        .boxed(),
    };
    prop_oneof![20 => right, 1 => any_value()].boxed()
}

/// An element: the required fields present most of the time, the optional
/// ones now and then, now and then an unknown one or no object at all.
pub fn element_like() -> BoxedStrategy<Value> {
    let fields: Vec<_> = ELEMENT_FIELDS
        .iter()
        .map(|&f| {
            let weight = match f {
                "id" | "src" | "mediaStart" | "duration" | "fps" | "format" => 0.97,
                _ => 0.15,
            };
            prop::option::weighted(weight, field_value(f)).prop_map(move |v| (f, v))
        })
        .collect();
    let object = (
        fields,
        prop::option::weighted(0.05, (".{1,10}", any_value())),
    )
        .prop_map(|(fields, extra)| {
            let mut map: Map<String, Value> = fields
                .into_iter()
                .filter_map(|(f, v)| Some((f.to_string(), v?)))
                .collect();
            if let Some((k, v)) = extra {
                map.insert(k, v);
            }
            Value::Object(map)
        });
    prop_oneof![20 => object, 1 => any_value()].boxed()
}

/// `{"elements": [...]}`, now and then with something else in it.
pub fn composition_like() -> impl Strategy<Value = Value> {
    let elements = prop_oneof![
        20 => prop::collection::vec(element_like(), 0..8).prop_map(Value::Array),
        1 => any_value(),
    ];
    (
        elements,
        prop::option::weighted(0.05, (".{1,8}", any_value())),
    )
        .prop_map(|(elements, extra)| {
            let mut map = Map::new();
            map.insert("elements".into(), elements);
            if let Some((k, v)) = extra {
                map.insert(k, v);
            }
            Value::Object(map)
        })
}

/// Source identities of the three kinds, and anything.
pub fn identity_like() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => (string(), any::<u64>(), any::<i64>()).prop_map(|(path, size, mtime)| {
            json!({"kind": "file", "path": path, "size": size, "mtimeNs": mtime})
        }),
        3 => string().prop_map(|b| json!({"kind": "content", "blake3": b})),
        3 => string().prop_map(|n| json!({"kind": "name", "name": n})),
        1 => any_value(),
    ]
}

/// Runs `[first, step, count]` of any integers.
fn runs_like() -> impl Strategy<Value = Value> {
    let int = prop_oneof![
        3 => -2..100i64,
        1 => any::<i64>(),
        1 => select(vec![i64::MIN, i64::MAX, 4_611_686_018_427_387_904, 10_000_001]),
    ];
    prop_oneof![
        4 => prop::collection::vec((int.clone(), int.clone(), int), 0..4)
            .prop_map(|runs| json!(runs.into_iter().map(|(a, b, c)| vec![a, b, c]).collect::<Vec<_>>())),
        1 => any_value(),
    ]
}

/// Timelines: real ones (from [`source_spec`]) as JSON, and damaged ones:
/// runs of any integers, odd time bases and ends, missing or extra fields.
pub fn timeline_like() -> impl Strategy<Value = Value> {
    let real = source_spec().prop_filter_map("probed", |spec| {
        spec.timeline()
            .map(|t| serde_json::to_value(t).expect("a timeline serializes"))
    });
    let damaged = (
        prop_oneof![string().prop_map(Value::String), any_value()],
        runs_like(),
        prop_oneof![number(), any_value()],
        prop::option::of(runs_like()),
    )
        .prop_map(|(time_base, pts, end, keyframes)| {
            let mut t = json!({"timeBase": time_base, "pts": pts, "end": end});
            if let Some(k) = keyframes {
                t["keyframes"] = k;
            }
            t
        });
    let edited = (source_spec(), any::<prop::sample::Index>(), any_value()).prop_filter_map(
        "probed",
        |(spec, field, value)| {
            let mut t = serde_json::to_value(spec.timeline()?).ok()?;
            let fields = ["timeBase", "pts", "end", "keyframes", "extra"];
            t[fields[field.index(fields.len())]] = value;
            Some(t)
        },
    );
    prop_oneof![3 => real, 2 => damaged, 2 => edited]
}

/// A source's facts: an identity, and a timeline, or a rate and duration.
pub fn facts_like() -> impl Strategy<Value = Value> {
    (
        identity_like(),
        prop::option::weighted(0.6, timeline_like()),
        prop::option::weighted(
            0.2,
            prop_oneof![
                select(vec!["30/1", "24/1", "30000/1001", "0/1", "1/0", "x"])
                    .prop_map(|s| json!(s)),
                number(),
            ],
        ),
        prop::option::weighted(
            0.2,
            prop_oneof![(0..5_000_000i64).prop_map(Value::from), number()],
        ),
        prop_oneof![10 => any::<bool>().prop_map(Value::Bool), 1 => any_value()],
    )
        .prop_map(|(identity, timeline, rate, duration, alpha)| {
            let mut facts = json!({"identity": identity, "alpha": alpha});
            if let Some(t) = timeline {
                facts["timeline"] = t;
            }
            if let Some(r) = rate {
                facts["frameRate"] = r;
            }
            if let Some(d) = duration {
                facts["durationUs"] = d;
            }
            facts
        })
}

/// Requests of roughly the right shape, with any values in their fields.
pub fn request_like() -> impl Strategy<Value = Value> {
    let cached = prop::collection::btree_map(
        prop_oneof![string(), Just("0".repeat(64))],
        prop_oneof![
            4 => prop::collection::vec(prop_oneof![0..100_000i64, any::<i64>()], 0..6).prop_map(|v| json!(v)),
            1 => any_value(),
        ],
        0..3,
    );
    let options = prop_oneof![
        (0..100_000u32).prop_map(|n| json!({"seekCostFrames": n})),
        number().prop_map(|n| json!({"seekCostFrames": n})),
        any_value(),
    ];
    (
        composition_like(),
        prop::collection::btree_map(
            select(SOURCES.to_vec()).prop_map(String::from),
            facts_like(),
            0..3,
        ),
        prop::option::of(cached),
        prop::option::of(options),
    )
        .prop_map(|(composition, sources, cached, options)| {
            let mut request = json!({"composition": composition, "sources": sources});
            if let Some(c) = cached {
                request["cachedFrames"] = json!(c);
            }
            if let Some(o) = options {
                request["options"] = o;
            }
            request
        })
}
