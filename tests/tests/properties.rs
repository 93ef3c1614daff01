//! Properties of the planner over random compositions: every element gets
//! exactly the frames it asks for, from a unit that really produces them, at
//! exactly the same source times (with playback rates, trims, loops and
//! held last frames); duplicates share work; input order changes nothing but
//! who leads; plans round-trip through JSON. And the planner never panics,
//! whatever it is handed.
//!
//! The expectations are computed here, independently of the planner: dedupe
//! keys from the generated values, frame counts and frame times in exact
//! integer arithmetic (i128), never with `Fps::frame_time_us`'s rounding.

use std::collections::{BTreeMap, BTreeSet};

use framex_core::{
    plan, plan_elements, validate, Composition, ElementInput, FpsInput, FrameSource, HeldFrom,
    Plan, PlanError, PlanOptions, Request, Role, SourceFacts, SourceIdentity,
};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Map, Value};

const US: i128 = 1_000_000;

// ---------------------------------------------------------------------------
// Random compositions with a model of what each element asks for.

/// A frame rate as the composition writes it, and the exact rate it means.
#[derive(Clone, Debug)]
struct Rate {
    input: FpsInput,
    num: i128,
    den: i128,
}

fn rate() -> impl Strategy<Value = Rate> {
    let number = |value: f64, num, den| Rate {
        input: FpsInput::Number(value),
        num,
        den,
    };
    let text = |value: &str, num, den| Rate {
        input: FpsInput::Text(value.into()),
        num,
        den,
    };
    select(vec![
        number(24.0, 24, 1),
        number(25.0, 25, 1),
        number(30.0, 30, 1),
        number(60.0, 60, 1),
        text("30000/1001", 30_000, 1001),
        number(29.97, 30_000, 1001),
        text("59.94", 60_000, 1001),
        number(12.5, 25, 2),
        text("60/2", 30, 1),
    ])
}

/// A playback rate as the composition writes it (`None`: not written, 1),
/// and the exact rate it means.
fn playback() -> impl Strategy<Value = Rate> {
    let number = |value: f64, num, den| Rate {
        input: FpsInput::Number(value),
        num,
        den,
    };
    let text = |value: &str, num, den| Rate {
        input: FpsInput::Text(value.into()),
        num,
        den,
    };
    prop_oneof![
        6 => Just(Rate { input: FpsInput::Text(String::new()), num: 1, den: 1 }),
        1 => select(vec![
            number(1.0, 1, 1),
            number(2.0, 2, 1),
            text("1/2", 1, 2),
            number(1.5, 3, 2),
            text("4/2", 2, 1),
            number(0.25, 1, 4),
            text("1000/1001", 1000, 1001),
        ]),
    ]
}

/// The sources a composition may use: `a.mp4` and `alias/a.mp4` are one file
/// (one identity, one set of facts), `b.mp4` is known by its contents,
/// `n.mp4` by its name only.
const SRCS: [&str; 4] = ["a.mp4", "alias/a.mp4", "b.mp4", "n.mp4"];

#[derive(Clone, Debug)]
struct Sources {
    /// Known durations of the file `a` and the content `b`.
    a_end: Option<i64>,
    b_end: Option<i64>,
    a_alpha: bool,
}

impl Sources {
    fn facts(&self, src: usize) -> Option<SourceFacts> {
        match src {
            0 | 1 => Some(SourceFacts {
                identity: SourceIdentity::File {
                    path: "/media/a.mp4".into(),
                    size: 1234,
                    mtime_ns: 1_700_000_000_000_000_000,
                },
                duration_us: self.a_end,
                alpha: self.a_alpha,
                vfr: false,
            }),
            2 => Some(SourceFacts {
                identity: SourceIdentity::Content {
                    blake3: "b3".repeat(32),
                },
                duration_us: self.b_end,
                alpha: false,
                vfr: true,
            }),
            _ => None,
        }
    }

    fn identity(&self, src: usize) -> SourceIdentity {
        self.facts(src).map_or(
            SourceIdentity::Name {
                name: SRCS[src].into(),
            },
            |f| f.identity,
        )
    }

    fn end(&self, src: usize) -> Option<i64> {
        self.facts(src).and_then(|f| f.duration_us)
    }
}

#[derive(Clone, Debug)]
struct ElementSpec {
    src: usize,
    start_us: i64,
    duration_us: i64,
    rate: Rate,
    jpeg: bool,
    transfer: Option<&'static str>,
    /// The playback rate; an empty text input means none is written.
    playback: Rate,
    media_duration_us: Option<i64>,
    /// Asks for a loop (kept only where the pass has a known length).
    looping: bool,
    /// The start is folded into a known source (else it may lie past its end).
    fold: bool,
}

#[derive(Clone, Debug)]
struct Case {
    sources: Sources,
    elements: Vec<ElementSpec>,
    options: PlanOptions,
    /// Which unique works (by position) are already cached.
    cache_mask: u64,
}

fn start_us() -> impl Strategy<Value = i64> {
    // Whole steps on the 30, 29.97 and 24 fps grids (3 frames each), and
    // anything at all.
    prop_oneof![
        (0..16i64).prop_map(|k| k * 100_000),
        (0..16i64).prop_map(|k| k * 100_100),
        (0..16i64).prop_map(|k| k * 125_000),
        0..20_000_000i64,
    ]
}

fn duration_us() -> impl Strategy<Value = i64> {
    prop_oneof![
        (1..20i64).prop_map(|k| k * 100_000),
        (1..12i64).prop_map(|k| k * 250_000),
        (1..10i64).prop_map(|k| k * 100_100),
        1..3_000_000i64,
    ]
}

fn element_spec() -> impl Strategy<Value = ElementSpec> {
    (
        (
            0..SRCS.len(),
            start_us(),
            duration_us(),
            rate(),
            prop::bool::weighted(0.2),
            select(vec![None, None, None, None, Some("pq"), Some("hlg")]),
        ),
        (
            playback(),
            prop::option::weighted(0.15, duration_us()),
            prop::bool::weighted(0.15),
            prop::bool::weighted(0.9),
        ),
    )
        .prop_map(
            |(
                (src, start_us, duration_us, rate, jpeg, transfer),
                (playback, media_duration_us, looping, fold),
            )| ElementSpec {
                src,
                start_us,
                duration_us,
                rate,
                jpeg,
                transfer,
                playback,
                media_duration_us,
                looping,
                fold,
            },
        )
}

/// How an element differs from the pool entry it was drawn from.
#[derive(Clone, Debug)]
enum Tweak {
    None,
    Transfer(Option<&'static str>),
    Format,
    Rate(Rate),
    Src(usize),
    /// Moves the start by whole steps on a 30, 29.97 or 24 fps grid.
    Shift(i64),
    Duration(i64),
    Playback(Rate),
    Loop,
}

fn tweak() -> impl Strategy<Value = Tweak> {
    prop_oneof![
        4 => Just(Tweak::None),
        1 => select(vec![None, Some("pq"), Some("hlg")]).prop_map(Tweak::Transfer),
        1 => Just(Tweak::Format),
        1 => rate().prop_map(Tweak::Rate),
        1 => (0..SRCS.len()).prop_map(Tweak::Src),
        3 => (select(vec![100_000i64, 100_100, 125_000, 33_333]), -6..6i64)
            .prop_map(|(step, k)| Tweak::Shift(step * k)),
        2 => duration_us().prop_map(Tweak::Duration),
        1 => playback().prop_map(Tweak::Playback),
        1 => Just(Tweak::Loop),
    ]
}

impl Tweak {
    fn apply(&self, mut e: ElementSpec) -> ElementSpec {
        match self {
            Tweak::None => {}
            Tweak::Transfer(t) => e.transfer = *t,
            Tweak::Format => e.jpeg = !e.jpeg,
            Tweak::Rate(r) => e.rate = r.clone(),
            Tweak::Src(s) => e.src = *s,
            Tweak::Shift(by) => e.start_us = (e.start_us + by).max(0),
            Tweak::Duration(d) => e.duration_us = *d,
            Tweak::Playback(r) => e.playback = r.clone(),
            Tweak::Loop => e.looping = !e.looping,
        }
        e
    }
}

/// Elements drawn from a small pool, each as it is or changed in one way:
/// duplicates, near-duplicates that must not share work, and trims of one
/// source on one grid that overlap, touch or nest.
fn elements(max: usize) -> impl Strategy<Value = Vec<ElementSpec>> {
    (
        prop::collection::vec(element_spec(), 1..6),
        prop::collection::vec((any::<prop::sample::Index>(), tweak()), 0..max),
    )
        .prop_map(|(pool, picks)| {
            picks
                .into_iter()
                .map(|(i, t)| t.apply(pool[i.index(pool.len())].clone()))
                .collect()
        })
}

fn case_with(max_elements: usize) -> impl Strategy<Value = Case> {
    let end = prop::option::weighted(0.5, 1_000_000..30_000_000i64);
    (
        end.clone(),
        end,
        any::<bool>(),
        prop_oneof![
            3 => elements(max_elements),
            1 => prop::collection::vec(element_spec(), 0..max_elements),
        ],
        prop::bool::weighted(0.9),
        select(vec![0i64, 0, 0, 1, 33_367, 500_000, 2_000_000]),
        any::<u64>(),
    )
        .prop_map(
            |(a_end, b_end, a_alpha, elements, superset, gap, cache_mask)| Case {
                sources: Sources {
                    a_end,
                    b_end,
                    a_alpha,
                },
                elements,
                options: PlanOptions {
                    superset,
                    superset_gap_us: gap,
                },
                cache_mask,
            },
        )
}

fn case() -> impl Strategy<Value = Case> {
    case_with(40)
}

/// What one element asks for, from the generated values alone.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Wanted {
    id: String,
    identity: SourceIdentity,
    start_us: i64,
    duration_us: i64,
    num: i128,
    den: i128,
    jpeg: bool,
    transfer: Option<&'static str>,
    /// The source has an alpha channel.
    alpha: bool,
    /// The playback rate `(num, den)`, and whether the composition writes one.
    rate: (i128, i128),
    rate_written: bool,
    media_duration_us: Option<i64>,
    looping: bool,
    /// The source grid `fps / rate`, reduced.
    grid: (i128, i128),
    /// The slot's frames: `j/fps < duration`.
    frames: u64,
    /// Grid frames taken from the element's extraction (0: only the source's
    /// last frame is shown).
    extract: u64,
    /// The slot loops over the extracted frames.
    cycle: bool,
    /// Frames past the pass, and which last frame they hold.
    held: Option<(u64, HeldFrom)>,
}

/// `ceil(span × num / den)` frames of `span_us` at `num/den` fps; 0 when
/// the span is empty.
fn frames_in(span_us: i128, num: i128, den: i128) -> u64 {
    if span_us <= 0 {
        return 0;
    }
    let (n, d) = (span_us * num, den * US);
    ((n + d - 1) / d) as u64
}

fn gcd(a: i128, b: i128) -> i128 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

impl Wanted {
    /// A plain element: normal speed, no loop, no trim.
    fn plain(&self) -> bool {
        self.rate == (1, 1) && !self.looping && self.media_duration_us.is_none()
    }

    /// Where frame `j` comes from: grid frame `k`, or the source's last frame.
    fn source_of(&self, j: u64) -> FrameSource {
        if self.extract == 0 {
            FrameSource::LastFrame
        } else if self.cycle {
            FrameSource::Grid(j % self.extract)
        } else if j < self.extract {
            FrameSource::Grid(j)
        } else if self.held.is_some_and(|h| h.1 == HeldFrom::Trim) {
            FrameSource::Grid(self.extract - 1)
        } else {
            FrameSource::LastFrame
        }
    }
}

impl Case {
    /// The elements as the request will hold them (ids `e<i>` follow an
    /// element wherever it goes), with most starts folded into a known
    /// source, and loops only where a pass has a known length.
    fn wanted(&self) -> Vec<Wanted> {
        self.elements
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let end = self.sources.end(e.src);
                let start_us = match end {
                    Some(end) if e.fold => e.start_us % end,
                    _ => e.start_us,
                };
                let looping = e.looping && (e.media_duration_us.is_some() || end.is_some());
                let rate = (e.playback.num, e.playback.den);
                let (gn, gd) = (e.rate.num * rate.1, e.rate.den * rate.0);
                let g = gcd(gn, gd);
                let grid = (gn / g, gd / g);
                let frames = frames_in(e.duration_us.into(), e.rate.num, e.rate.den);
                // The pass ends at the trim's end or the source's, the earlier.
                let trim_end = e.media_duration_us.map(|d| start_us + d);
                let pass_end = match (trim_end, end) {
                    (Some(t), Some(s)) => Some(t.min(s)),
                    (t, s) => t.or(s),
                };
                let pass = pass_end
                    .map(|p| frames_in(i128::from(p) - i128::from(start_us), grid.0, grid.1));
                let extract = pass.map_or(frames, |p| p.min(frames));
                let beyond = frames - extract;
                let source_ended = end.is_some_and(|s| trim_end.is_none_or(|t| s <= t));
                let (cycle, held) = match () {
                    _ if beyond == 0 => (false, None),
                    _ if extract == 0 => (false, Some((frames, HeldFrom::Source))),
                    _ if looping => (true, None),
                    _ if source_ended => (false, Some((beyond, HeldFrom::Source))),
                    _ => (false, Some((beyond, HeldFrom::Trim))),
                };
                Wanted {
                    id: format!("e{i}"),
                    identity: self.sources.identity(e.src),
                    start_us,
                    duration_us: e.duration_us,
                    num: e.rate.num,
                    den: e.rate.den,
                    jpeg: e.jpeg,
                    transfer: e.transfer,
                    alpha: self.sources.facts(e.src).is_some_and(|f| f.alpha),
                    rate,
                    rate_written: !matches!(&e.playback.input, FpsInput::Text(t) if t.is_empty()),
                    media_duration_us: e.media_duration_us,
                    looping,
                    grid,
                    frames,
                    extract,
                    cycle,
                    held,
                }
            })
            .collect()
    }

    fn request(&self, order: &[usize], cached_keys: BTreeSet<String>) -> Request {
        let wanted = self.wanted();
        let elements = order
            .iter()
            .map(|&i| {
                let (e, w) = (&self.elements[i], &wanted[i]);
                ElementInput {
                    id: w.id.clone(),
                    src: SRCS[e.src].into(),
                    // Exact: a whole number of microseconds survives
                    // seconds and back.
                    media_start: w.start_us as f64 / 1e6,
                    duration: e.duration_us as f64 / 1e6,
                    media_duration: w.media_duration_us.map(|d| d as f64 / 1e6),
                    fps: e.rate.input.clone(),
                    playback_rate: w.rate_written.then(|| e.playback.input.clone()),
                    looping: w.looping,
                    format: if e.jpeg { "jpeg" } else { "png" }.into(),
                    sdr_to_hdr_transfer: e.transfer.map(Into::into),
                    identity: None,
                }
            })
            .collect();
        let sources = (0..SRCS.len())
            .filter_map(|s| Some((SRCS[s].to_string(), self.sources.facts(s)?)))
            .collect();
        Request {
            composition: Composition { elements },
            sources,
            cached_keys,
            options: self.options.clone(),
        }
    }

    fn in_order(&self) -> Vec<usize> {
        (0..self.elements.len()).collect()
    }

    /// Plans once without a cache, then marks the unique works picked by
    /// `cache_mask` (and a key nobody has) as cached.
    fn cached_keys(&self) -> BTreeSet<String> {
        let cold = plan(&self.request(&self.in_order(), BTreeSet::new())).expect("valid");
        let mut keys: Vec<&String> = Vec::new();
        for a in &cold.assignments {
            if !keys.contains(&&a.cache_key) {
                keys.push(&a.cache_key);
            }
        }
        let mut cached: BTreeSet<String> = keys
            .into_iter()
            .enumerate()
            .filter(|(i, _)| self.cache_mask >> (i % 64) & 1 == 1)
            .map(|(_, k)| k.clone())
            .collect();
        cached.insert("f".repeat(64));
        cached
    }
}

// ---------------------------------------------------------------------------
// The checks.

/// The source time `start_us + index/fps`, exactly, as the fraction
/// `(start_us·num + index·den·10⁶) / num` microseconds.
fn frame_time(start_us: i64, index: u64, num: i128, den: i128) -> (i128, i128) {
    (
        i128::from(start_us) * num + i128::from(index) * den * US,
        num,
    )
}

fn same_time(a: (i128, i128), b: (i128, i128)) -> bool {
    a.0 * b.1 == b.0 * a.1
}

fn parse_fps(text: &str) -> (i128, i128) {
    let (n, d) = text.split_once('/').expect("plans write fps as num/den");
    (n.parse().unwrap(), d.parse().unwrap())
}

/// Checks that hold for every plan, whatever the request: one assignment per
/// element in input order, slices inside their units, consistent roles,
/// members and totals, and a lossless JSON form.
fn check_structure(request: &Request, plan: &Plan) -> Result<(), TestCaseError> {
    let elements = &request.composition.elements;
    prop_assert_eq!(plan.assignments.len(), elements.len());
    for (a, e) in plan.assignments.iter().zip(elements) {
        prop_assert_eq!(&a.element_id, &e.id);
    }
    let units: BTreeMap<&str, _> = plan.units.iter().map(|u| (u.id.as_str(), u)).collect();
    prop_assert_eq!(units.len(), plan.units.len(), "unit ids are unique");
    let position: BTreeMap<&str, usize> = plan
        .assignments
        .iter()
        .enumerate()
        .map(|(i, a)| (a.element_id.as_str(), i))
        .collect();
    // Where each work is: its unit and slice (from the unit's members).
    let mut placed: BTreeMap<&str, (&str, framex_core::Slice, &str)> = BTreeMap::new();
    for unit in &plan.units {
        for m in &unit.members {
            let before = placed.insert(&m.cache_key, (&unit.id, m.slice, &m.leader));
            prop_assert!(before.is_none(), "a work is in one unit");
        }
    }
    // A work is led by the first element that takes its slice from it, else
    // (a last frame that is only held) by the first element that holds it.
    let mut first_need: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, a) in plan.assignments.iter().enumerate() {
        first_need.entry(&a.cache_key).or_insert(i);
    }
    for (i, a) in plan.assignments.iter().enumerate() {
        for key in a.cache_keys() {
            first_need.entry(key).or_insert(i);
        }
    }
    let mut duplicates = 0u64;
    for (i, a) in plan.assignments.iter().enumerate() {
        prop_assert_eq!(a.cache_hit, request.cached_keys.contains(&a.cache_key));
        prop_assert_eq!(a.cache_hit, a.unit.is_none(), "cache hits have no unit");
        prop_assert!(a.slice.count > 0);
        prop_assert!(a.frame_count() > 0);
        match (&a.unit, placed.get(a.cache_key.as_str())) {
            (Some(id), Some(&(unit, slice, _))) => {
                prop_assert_eq!(id.as_str(), unit);
                prop_assert_eq!(a.slice, slice);
                let unit = units[unit];
                prop_assert!(
                    a.slice.offset + a.slice.count <= unit.frame_count,
                    "slice {:?} inside unit {} of {} frames",
                    a.slice,
                    unit.id,
                    unit.frame_count
                );
            }
            (None, None) => {}
            (unit, place) => prop_assert!(false, "{:?} vs members {:?}", unit, place),
        }
        let lead = first_need[a.cache_key.as_str()];
        if lead != i {
            duplicates += 1;
            let leader = plan.assignments[lead].element_id.clone();
            prop_assert_eq!(&a.role, &Role::Duplicate { leader });
        } else {
            match (&a.unit, &a.role) {
                (None, Role::CacheHit) => {}
                (Some(id), role) => {
                    let unit = units[id.as_str()];
                    let (_, _, member_leader) = placed[a.cache_key.as_str()];
                    prop_assert_eq!(member_leader, a.element_id.as_str());
                    let expected = if unit.leader == a.element_id {
                        Role::Leader
                    } else {
                        Role::SupersetMember {
                            unit: unit.id.clone(),
                            leader: unit.leader.clone(),
                        }
                    };
                    prop_assert_eq!(role, &expected);
                }
                (None, role) => prop_assert!(false, "a cache hit with role {:?}", role),
            }
        }
        // Loops and held frames account for every frame past the slice.
        let beyond = a.frame_count().saturating_sub(a.slice.count);
        match (&a.cycle, &a.held) {
            (Some(cycle), None) => {
                prop_assert_eq!(cycle.frames, a.slice.count);
                prop_assert!(beyond > 0);
            }
            (None, Some(held)) => {
                prop_assert_eq!(held.frames, beyond);
                prop_assert!(beyond > 0);
                match held.from {
                    HeldFrom::Trim => prop_assert!(held.cache_key.is_none() && held.unit.is_none()),
                    HeldFrom::Source => {
                        let key = held.cache_key.as_deref().expect("a last-frame work");
                        prop_assert_eq!(held.cache_hit, request.cached_keys.contains(key));
                        prop_assert_eq!(held.cache_hit, held.unit.is_none());
                        if let Some(id) = &held.unit {
                            let unit = units[id.as_str()];
                            prop_assert!(unit.last_frame && unit.frame_count == 1);
                            prop_assert_eq!(Some(&id.as_str()), placed.get(key).map(|p| &p.0));
                        }
                    }
                }
            }
            (None, None) => prop_assert_eq!(beyond, 0),
            (Some(_), Some(_)) => prop_assert!(false, "a loop holds nothing"),
        }
        prop_assert_eq!(a.frames.is_some(), a.frame_count() != a.slice.count);
    }
    let mut leaders = Vec::new();
    for unit in &plan.units {
        prop_assert!(!unit.members.is_empty());
        let end = unit.members.iter().map(|m| m.slice.offset + m.slice.count);
        prop_assert_eq!(
            end.max(),
            Some(unit.frame_count),
            "no frames past the last member"
        );
        prop_assert!(unit.members.iter().any(|m| m.slice.offset == 0));
        if unit.last_frame {
            prop_assert_eq!((unit.frame_count, unit.members.len()), (1, 1));
        }
        let lead = unit
            .members
            .iter()
            .map(|m| first_need[m.cache_key.as_str()])
            .min();
        prop_assert_eq!(
            lead,
            Some(position[unit.leader.as_str()]),
            "the first leads"
        );
        leaders.push(position[unit.leader.as_str()]);
        for m in &unit.members {
            let leader = &plan.assignments[first_need[m.cache_key.as_str()]].element_id;
            prop_assert_eq!(&m.leader, leader);
        }
    }

    prop_assert!(leaders.is_sorted(), "units in order of their leaders");

    // Totals say what the plan holds.
    let t = &plan.totals;
    let keys: BTreeSet<&str> = plan
        .assignments
        .iter()
        .flat_map(|a| a.cache_keys())
        .collect();
    let hits = keys.iter().filter(|k| !placed.contains_key(**k)).count();
    let requested: u64 = plan.assignments.iter().map(|a| a.frame_count()).sum();
    let extracted: u64 = plan.units.iter().map(|u| u.frame_count).sum();
    let held: u64 = plan
        .assignments
        .iter()
        .filter_map(|a| a.held.as_ref())
        .map(|h| h.frames)
        .sum();
    let looped: u64 = plan
        .assignments
        .iter()
        .filter(|a| a.cycle.is_some())
        .map(|a| a.frame_count() - a.slice.count)
        .sum();
    prop_assert_eq!(t.elements, elements.len() as u64);
    prop_assert_eq!(t.unique_works, keys.len() as u64);
    prop_assert_eq!(t.dedupe_hits, duplicates);
    prop_assert_eq!(t.cache_hits, hits as u64);
    prop_assert_eq!(t.units, plan.units.len() as u64);
    let groups = plan.units.iter().filter(|u| u.members.len() > 1).count();
    prop_assert_eq!(t.superset_groups, groups as u64);
    prop_assert_eq!(t.frames_requested, requested);
    prop_assert_eq!(t.frames_to_extract, extracted);
    prop_assert_eq!(t.frames_saved, requested as i64 - extracted as i64);
    prop_assert_eq!((t.frames_held, t.frames_looped), (held, looped));
    if request.options.superset_gap_us <= 0 {
        prop_assert!(t.frames_to_extract <= t.frames_requested);
    }
    if !request.options.superset {
        prop_assert!(plan.units.iter().all(|u| u.members.len() == 1));
    }

    // The JSON form is lossless.
    let text = serde_json::to_string(plan).unwrap();
    let back: Plan = serde_json::from_str(&text).unwrap();
    prop_assert_eq!(&back, plan);
    prop_assert_eq!(serde_json::to_string(&back).unwrap(), text);
    Ok(())
}

/// The dedupe key of a work, from the generated values: a plain element's
/// range, frames of a source grid, or a source's last frame.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key<'a> {
    Plain(
        &'a SourceIdentity,
        i64,
        i64,
        i128,
        i128,
        bool,
        Option<&'a str>,
    ),
    Grid(
        &'a SourceIdentity,
        i64,
        (i128, i128),
        u64,
        bool,
        Option<&'a str>,
    ),
    LastFrame(&'a SourceIdentity, bool, Option<&'a str>),
}

/// The key of the work an element's slice comes from.
fn key(w: &Wanted) -> Key<'_> {
    if w.extract == 0 {
        last_frame_key(w)
    } else if w.plain() {
        Key::Plain(
            &w.identity,
            w.start_us,
            w.duration_us,
            w.num,
            w.den,
            w.jpeg,
            w.transfer,
        )
    } else {
        Key::Grid(
            &w.identity,
            w.start_us,
            w.grid,
            w.extract,
            w.jpeg,
            w.transfer,
        )
    }
}

fn last_frame_key(w: &Wanted) -> Key<'_> {
    Key::LastFrame(&w.identity, w.jpeg, w.transfer)
}

/// Checks a plan against what the elements asked for.
fn check_against_model(
    request: &Request,
    wanted: &[&Wanted],
    plan: &Plan,
) -> Result<(), TestCaseError> {
    check_structure(request, plan)?;
    let units: BTreeMap<&str, _> = plan.units.iter().map(|u| (u.id.as_str(), u)).collect();
    let mut cache_key_of: BTreeMap<Key, &str> = BTreeMap::new();
    let mut key_of_cache_key: BTreeMap<&str, Key> = BTreeMap::new();
    for (a, w) in plan.assignments.iter().zip(wanted) {
        prop_assert_eq!(&a.element_id, &w.id);
        prop_assert_eq!(a.start_us, w.start_us);
        prop_assert_eq!(parse_fps(&a.fps.to_string()), (w.num, w.den));
        prop_assert_eq!(a.frame_count(), w.frames, "{}: frame count", w.id);
        prop_assert_eq!(
            a.playback_rate
                .map(|r| (i128::from(r.num()), i128::from(r.den()))),
            (w.rate != (1, 1)).then_some(w.rate)
        );
        prop_assert_eq!(
            a.slice.count,
            w.extract.max(1),
            "{}: frames extracted",
            w.id
        );
        prop_assert_eq!(a.cycle.is_some(), w.cycle, "{}: loop", w.id);
        let held = a.held.as_ref().map(|h| (h.frames, h.from));
        let expected = match w.held {
            // The source's last frame is the slice, and the other frames hold it.
            Some((frames, HeldFrom::Source)) if w.extract == 0 => {
                (frames > 1).then_some((frames - 1, HeldFrom::Source))
            }
            other => other,
        };
        prop_assert_eq!(held, expected, "{}: held frames", w.id);
        // Equal dedupe keys, and only they, share a cache key.
        let mut pairs = vec![(key(w), a.cache_key.as_str())];
        if let Some(key) = a.held.as_ref().and_then(|h| h.cache_key.as_deref()) {
            pairs.push((last_frame_key(w), key));
        }
        for (k, cache_key) in pairs {
            let ck = *cache_key_of.entry(k.clone()).or_insert(cache_key);
            prop_assert_eq!(ck, cache_key, "{}: same key, same work", w.id);
            let back = key_of_cache_key
                .entry(cache_key)
                .or_insert(k.clone())
                .clone();
            prop_assert_eq!(back, k, "{}: one cache key, one dedupe key", w.id);
        }

        let unit = a.unit.as_deref().map(|u| units[u]);
        if let Some(unit) = unit {
            // The unit extracts this element's source, format and transfer ...
            prop_assert_eq!(&unit.source, &w.identity);
            prop_assert_eq!(unit.format.as_str(), if w.jpeg { "jpeg" } else { "png" });
            prop_assert_eq!(unit.transfer.map(|t| t.as_str()), w.transfer);
            prop_assert_eq!(unit.alpha, w.alpha && !w.jpeg, "alpha only in PNG");
            prop_assert_eq!(unit.last_frame, w.extract == 0);
        }
        let held_unit = a
            .held
            .as_ref()
            .and_then(|h| h.unit.as_deref())
            .map(|u| units[u]);
        if let Some(held_unit) = held_unit {
            prop_assert!(held_unit.last_frame);
            prop_assert_eq!(&held_unit.source, &w.identity);
            prop_assert_eq!(
                held_unit.format.as_str(),
                if w.jpeg { "jpeg" } else { "png" }
            );
            prop_assert_eq!(held_unit.transfer.map(|t| t.as_str()), w.transfer);
        }
        // ... and the element's frame `j` shows what the time model says:
        // grid frame `k` at exactly `start + k × rate / fps`, or the last frame.
        for j in 0..w.frames {
            let planned = match a.frame_source(j) {
                FrameSource::Grid(_) if w.extract == 0 => FrameSource::LastFrame,
                other => other,
            };
            prop_assert_eq!(planned, w.source_of(j), "{}: frame {}", w.id, j);
            let (FrameSource::Grid(k), Some(unit)) = (planned, unit) else {
                continue;
            };
            let (num, den) = parse_fps(&unit.fps.to_string());
            let by_unit = frame_time(unit.start_us, a.slice.offset + k, num, den);
            // k × rate / fps = k / grid.
            let by_element = frame_time(w.start_us, k, w.grid.0, w.grid.1);
            prop_assert!(
                same_time(by_unit, by_element),
                "{}: frame {} is at {:?} in unit {} but {:?} for the element",
                w.id,
                j,
                by_unit,
                unit.id,
                by_element
            );
        }
    }

    // Superset groups are as large as allowed: two units that could merge
    // (same source, rate, format, transfer, one grid) are further apart than
    // the gap.
    if request.options.superset {
        let ranges = plan.units.iter().filter(|u| !u.last_frame);
        for (i, u) in ranges.clone().enumerate() {
            for v in ranges.clone().skip(i + 1) {
                if (&u.source, u.fps, u.format, u.transfer)
                    != (&v.source, v.fps, v.format, v.transfer)
                {
                    continue;
                }
                let (num, den) = parse_fps(&u.fps.to_string());
                let between = (i128::from(v.start_us) - i128::from(u.start_us)) * num;
                if between % (den * US) != 0 {
                    continue; // off the grid: never merged
                }
                let offset = between / (den * US);
                let gap_frames =
                    i128::from(request.options.superset_gap_us.max(0)) * num / (den * US);
                let (first_end, second_start) = if offset >= 0 {
                    (i128::from(u.frame_count), offset)
                } else {
                    (i128::from(v.frame_count), -offset)
                };
                prop_assert!(
                    second_start > first_end + gap_frames,
                    "units {} and {} could be one",
                    u.id,
                    v.id
                );
            }
        }
    }
    // Without a gap a unit extracts no frame nobody asked for.
    if request.options.superset_gap_us <= 0 {
        for unit in &plan.units {
            let mut covered = vec![false; unit.frame_count as usize];
            for m in &unit.members {
                let range = m.slice.offset as usize..(m.slice.offset + m.slice.count) as usize;
                covered[range].iter_mut().for_each(|c| *c = true);
            }
            prop_assert!(covered.iter().all(|&c| c), "unit {} has a hole", unit.id);
        }
    }
    Ok(())
}

/// What must not depend on input order, per element: its cache key, frame
/// count and whether it is a cache hit; and the units as a multiset.
type Outcome = (
    BTreeMap<String, (String, u64, bool)>,
    Vec<(String, i64, String, String, Option<String>, bool, u64)>,
    String,
);

fn outcome(plan: &Plan) -> Outcome {
    let per_element = plan
        .assignments
        .iter()
        .map(|a| {
            (
                a.element_id.clone(),
                (a.cache_key.clone(), a.slice.count, a.cache_hit),
            )
        })
        .collect();
    let mut units: Vec<_> = plan
        .units
        .iter()
        .map(|u| {
            (
                serde_json::to_string(&u.source).unwrap(),
                u.start_us,
                u.fps.to_string(),
                u.format.as_str().to_string(),
                u.transfer.map(|t| t.as_str().to_string()),
                u.alpha,
                u.frame_count,
            )
        })
        .collect();
    units.sort();
    (
        per_element,
        units,
        serde_json::to_string(&plan.totals).unwrap(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn plans_give_every_element_exactly_its_frames(case in case()) {
        let cached = case.cached_keys();
        let order = case.in_order();
        let wanted = case.wanted();
        let wanted: Vec<&Wanted> = wanted.iter().collect();
        for cached in [BTreeSet::new(), cached] {
            let request = case.request(&order, cached);
            let plan = plan(&request).expect("valid requests plan");
            check_against_model(&request, &wanted, &plan)?;
            // Same input, same plan.
            prop_assert_eq!(&framex_core::plan(&request).unwrap(), &plan);
        }
    }

    #[test]
    fn order_changes_only_who_leads(
        (case, order) in case().prop_flat_map(|case| {
            let order = Just(case.in_order()).prop_shuffle();
            (Just(case), order)
        })
    ) {
        let cached = case.cached_keys();
        let wanted = case.wanted();
        let first = plan(&case.request(&case.in_order(), cached.clone())).unwrap();
        let request = case.request(&order, cached);
        let shuffled = plan(&request).unwrap();
        let wanted: Vec<&Wanted> = order.iter().map(|&i| &wanted[i]).collect();
        check_against_model(&request, &wanted, &shuffled)?;
        prop_assert_eq!(outcome(&first), outcome(&shuffled));
    }
}

// ---------------------------------------------------------------------------
// Never a panic.

/// Plans whatever parsed; a plan that comes back must be well-formed.
fn plan_anything(text: &str) -> Result<(), TestCaseError> {
    let _ = Composition::from_json(text);
    if let Ok(request) = Request::from_json(text) {
        plan_request(&request)?;
    }
    Ok(())
}

fn plan_request(request: &Request) -> Result<(), TestCaseError> {
    match plan(request) {
        Ok(plan) => check_structure(request, &plan),
        Err(PlanError::Invalid(errors)) => {
            prop_assert!(!errors.is_empty());
            for e in &errors {
                prop_assert!((e.index as usize) < request.composition.elements.len());
                prop_assert_eq!(&request.composition.elements[e.index as usize].id, &e.id);
            }
            Ok(())
        }
        Err(other) => {
            prop_assert!(false, "only element errors after parsing: {}", other);
            Ok(())
        }
    }
}

const FIELDS: &[&str] = &[
    "composition",
    "elements",
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
    "sources",
    "identity",
    "kind",
    "file",
    "content",
    "name",
    "path",
    "size",
    "mtimeNs",
    "blake3",
    "durationUs",
    "alpha",
    "vfr",
    "cachedKeys",
    "options",
    "superset",
    "supersetGapUs",
];

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from), // NaN and infinities become null
        select(vec![
            0.0,
            -0.0,
            1e-7,
            0.5,
            29.97,
            1000.0,
            1000.0001,
            1e7,
            1e7 + 1.0,
            1e300,
            -1.0,
            f64::MAX,
            f64::MIN_POSITIVE,
        ])
        .prop_map(Value::from),
        (0..100u32).prop_map(|n| json!(f64::from(n) / 4.0)),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        ".{0,12}".prop_map(Value::String),
        select(FIELDS.to_vec()).prop_map(|s| Value::String(s.into())),
        select(vec![
            "png",
            "jpeg",
            "gif",
            "pq",
            "hlg",
            "30000/1001",
            "1/0",
            "29.97"
        ])
        .prop_map(|s| Value::String(s.into())),
        (any::<u32>(), any::<u32>()).prop_map(|(n, d)| Value::String(format!("{n}/{d}"))),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![select(FIELDS.to_vec()).prop_map(String::from), ".{0,6}"];
    leaf().prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A value in a field of the right name: mostly of a plausible kind, now and
/// then anything at all.
fn field_value(field: &'static str) -> BoxedStrategy<Value> {
    let plausible: BoxedStrategy<Value> = match field {
        "id" => prop_oneof![
            "[a-z0-9_.-]{1,8}".prop_map(Value::String),
            select(vec!["", ".", "..", "../x", "a/b", "con", "a\u{0}b"])
                .prop_map(|s| Value::String(s.into())),
        ]
        .boxed(),
        "src" => select(vec!["a.mp4", "b.mp4", "", "n.mp4"])
            .prop_map(|s| Value::String(s.into()))
            .boxed(),
        "format" => select(vec!["png", "jpeg", "gif"])
            .prop_map(|s| Value::String(s.into()))
            .boxed(),
        "sdrToHdrTransfer" => select(vec!["pq", "hlg", "sdr"])
            .prop_map(|s| Value::String(s.into()))
            .boxed(),
        "fps" | "playbackRate" => prop_oneof![
            number(),
            (any::<u32>(), any::<u32>()).prop_map(|(n, d)| Value::String(format!("{n}/{d}"))),
        ]
        .boxed(),
        "loop" => any::<bool>().prop_map(Value::Bool).boxed(),
        _ => number().boxed(),
    };
    prop_oneof![4 => plausible, 1 => leaf()].boxed()
}

/// Objects with the given fields, each present most of the time, the
/// `optional` ones now and then, and now and then a field nobody knows.
fn object(
    fields: &'static [&'static str],
    optional: &'static [&'static str],
) -> BoxedStrategy<Value> {
    let present =
        |f: &'static str, p| prop::option::weighted(p, field_value(f)).prop_map(move |v| (f, v));
    let values: Vec<_> = fields
        .iter()
        .map(|&f| present(f, 0.9))
        .chain(optional.iter().map(|&f| present(f, 0.2)))
        .collect();
    (values, prop::option::weighted(0.05, (".{1,8}", leaf())))
        .prop_map(|(values, extra)| {
            let mut map: Map<String, Value> = values
                .into_iter()
                .filter_map(|(f, v)| Some((f.to_string(), v?)))
                .collect();
            if let Some((k, v)) = extra {
                map.insert(k, v);
            }
            Value::Object(map)
        })
        .boxed()
}

/// Requests of roughly the right shape, with any values in their fields.
fn request_like() -> impl Strategy<Value = Value> {
    let element = object(
        &["id", "src", "mediaStart", "duration", "fps", "format"],
        &["sdrToHdrTransfer", "mediaDuration", "playbackRate", "loop"],
    );
    let identity = prop_oneof![
        (any::<u64>(), any::<i64>()).prop_map(|(size, mtime)| {
            json!({"kind": "file", "path": "/m/a.mp4", "size": size, "mtimeNs": mtime})
        }),
        Just(json!({"kind": "content", "blake3": "ab"})),
        Just(json!({"kind": "name", "name": "a.mp4"})),
        leaf(),
    ];
    let facts = (identity, prop::option::of(number()), any::<bool>()).prop_map(
        |(identity, duration, alpha)| {
            let mut facts = json!({"identity": identity, "alpha": alpha});
            if let Some(d) = duration {
                facts["durationUs"] = d;
            }
            facts
        },
    );
    let sources = prop::collection::btree_map(select(vec!["a.mp4", "b.mp4"]), facts, 0..3);
    let options = (any::<bool>(), number())
        .prop_map(|(superset, gap)| json!({"superset": superset, "supersetGapUs": gap}));
    (
        prop::collection::vec(element, 0..8),
        sources,
        prop::option::of(options),
        prop::collection::vec(prop_oneof![".{0,4}".prop_map(Value::String), leaf()], 0..3),
    )
        .prop_map(|(elements, sources, options, cached)| {
            let mut request = json!({
                "composition": {"elements": elements},
                "sources": sources,
                "cachedKeys": cached,
            });
            if let Some(options) = options {
                request["options"] = options;
            }
            request
        })
}

/// `-0`, NaN, the infinities, the limits, and anything at all.
fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        select(vec![
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            0.0,
            1e-9,
            0.0000005,
            1e7,
            1e7 + 1e-3,
            -1e7,
            1e300,
            f64::MAX,
            f64::MIN,
            f64::EPSILON,
            999.9999999,
            1000.0,
            1000.0005,
        ]),
        -10.0..10_000.0f64,
    ]
}

fn any_fps() -> impl Strategy<Value = FpsInput> {
    prop_oneof![
        any_f64().prop_map(FpsInput::Number),
        (any::<u32>(), any::<u32>()).prop_map(|(n, d)| FpsInput::Text(format!("{n}/{d}"))),
        (0..2000u32, 1..4_294_967_295u32).prop_map(|(n, d)| FpsInput::Text(format!("{n}/{d}"))),
        any_f64().prop_map(|v| FpsInput::Text(v.to_string())),
        ".{0,8}".prop_map(FpsInput::Text),
    ]
}

fn any_element() -> impl Strategy<Value = ElementInput> {
    (
        select(vec!["a", "b", "c", "d", "e", ""]),
        select(vec!["a.mp4", "b.mp4", "n.mp4", ""]),
        any_f64(),
        any_f64(),
        any_fps(),
        select(vec!["png", "jpeg", "gif"]),
        select(vec![None, Some("pq"), Some("x")]),
        (
            prop::option::weighted(0.3, any_f64()),
            prop::option::weighted(0.3, any_fps()),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                id,
                src,
                media_start,
                duration,
                fps,
                format,
                transfer,
                (media_duration, playback_rate, looping),
            )| ElementInput {
                id: id.into(),
                src: src.into(),
                media_start,
                duration,
                media_duration,
                fps,
                playback_rate,
                looping,
                format: format.into(),
                sdr_to_hdr_transfer: transfer.map(Into::into),
                identity: None,
            },
        )
}

fn any_i64() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        select(vec![
            i64::MIN,
            i64::MAX,
            -1,
            0,
            1,
            1_000_000,
            10_000_000_000_000
        ]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in prop_oneof![
        any::<String>(),
        r#"[\[\]{}",:0-9a-zA-Z./ eE+-]{0,80}"#,
    ]) {
        plan_anything(&text)?;
    }

    #[test]
    fn damaged_requests_never_panic(
        text in select(vec![
            r#"{"composition":{"elements":[{"id":"a","src":"x.mp4","mediaStart":0,"duration":2,"fps":30,"format":"png"},{"id":"b","src":"x.mp4","mediaStart":1,"duration":2,"fps":"30000/1001","format":"jpeg","sdrToHdrTransfer":"pq"}]},"sources":{"x.mp4":{"identity":{"kind":"file","path":"/x","size":1,"mtimeNs":2},"durationUs":2500000}},"cachedKeys":[],"options":{"superset":true,"supersetGapUs":0}}"#,
        ]),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0..3usize, ".{0,3}"), 1..4),
    ) {
        let mut text = text.to_string();
        for (at, cut, insert) in edits {
            let mut at = at.index(text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let mut end = (at + cut).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            text.replace_range(at..end, &insert);
        }
        plan_anything(&text)?;
    }

    #[test]
    fn arbitrary_json_values_never_panic(value in json_value()) {
        plan_anything(&value.to_string())?;
        plan_anything(&json!({"composition": {"elements": [value]}}).to_string())?;
    }

    #[test]
    fn request_shaped_json_never_panics(value in request_like()) {
        plan_anything(&value.to_string())?;
    }

    #[test]
    fn arbitrary_numbers_in_elements_never_panic(
        elements in prop::collection::vec(any_element(), 0..6),
        a_end in prop::option::of(any_i64()),
        gap in any_i64(),
        superset in any::<bool>(),
    ) {
        let facts = SourceFacts {
            identity: SourceIdentity::Name { name: "a".into() },
            duration_us: a_end,
            alpha: true,
            vfr: false,
        };
        let request = Request {
            composition: Composition { elements },
            sources: [("a.mp4".to_string(), facts)].into_iter().collect(),
            cached_keys: BTreeSet::new(),
            options: PlanOptions { superset, superset_gap_us: gap },
        };
        plan_request(&request)?;
        // The elements that validate also plan on their own.
        if let Ok(valid) = validate(&request.composition, &request.sources) {
            let direct = plan_elements(&valid, &request.sources, &request.cached_keys, &request.options);
            prop_assert_eq!(direct, plan(&request).unwrap());
        }
    }

    /// An id that passes the check is one plain path component: it cannot
    /// leave the output directory or name something else.
    #[test]
    fn accepted_ids_are_plain_directory_names(id in prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9 ./\\\\:*?<>|\"\u{0}\t-]{0,10}",
        select(vec!["con", "CON.txt", "com1", "lpt9.x", "aux", "nul", "prn", "framex-report.json"])
            .prop_map(String::from),
    ]) {
        if framex_core::check_id(&id).is_ok() {
            use std::path::{Component, Path};
            let components: Vec<_> = Path::new(&id).components().collect();
            prop_assert_eq!(components, vec![Component::Normal(id.as_ref())]);
            prop_assert!(!id.is_empty() && id.len() <= 128);
            prop_assert!(!id.chars().any(|c| c.is_control() || "/\\:*?\"<>|".contains(c)));
            // Windows drops trailing dots and spaces (ASCII only) from names.
            prop_assert!(!id.starts_with('.') && !id.ends_with('.'));
            prop_assert!(!id.starts_with(' ') && !id.ends_with(' '));
            let stem = id.split('.').next().unwrap().to_ascii_lowercase();
            let reserved = ["con", "prn", "aux", "nul"].contains(&stem.as_str())
                || (stem.len() == 4
                    && (stem.starts_with("com") || stem.starts_with("lpt"))
                    && stem.as_bytes()[3].is_ascii_digit());
            prop_assert!(!reserved && id != "framex-report.json", "{:?} is reserved", id);
        }
    }
}

/// The invalid elements of one composition are all reported, and only they:
/// a composition made of valid elements with some broken ones reports exactly
/// the broken ones.
#[test]
fn every_invalid_element_is_reported() {
    let good = |id: &str| ElementInput {
        id: id.into(),
        src: "a.mp4".into(),
        media_start: 0.0,
        duration: 1.0,
        media_duration: None,
        fps: FpsInput::Number(30.0),
        playback_rate: None,
        looping: false,
        format: "png".into(),
        sdr_to_hdr_transfer: None,
        identity: None,
    };
    let bad = [
        ElementInput {
            media_start: -1.0,
            ..good("neg")
        },
        ElementInput {
            duration: 0.0,
            ..good("zero")
        },
        ElementInput {
            fps: FpsInput::Text("30/0".into()),
            ..good("fps")
        },
        ElementInput {
            format: "gif".into(),
            ..good("gif")
        },
        ElementInput {
            media_start: f64::NAN,
            ..good("nan")
        },
        ElementInput {
            playback_rate: Some(FpsInput::Number(0.0)),
            ..good("rate")
        },
        ElementInput {
            // 30 fps at a hundredth of the speed samples 3000 frames a second.
            playback_rate: Some(FpsInput::Text("1/100".into())),
            ..good("grid")
        },
        ElementInput {
            media_duration: Some(-1.0),
            ..good("trim")
        },
        ElementInput {
            // No source facts: no pass length.
            looping: true,
            ..good("loop")
        },
    ];
    let mut elements = Vec::new();
    for (i, b) in bad.iter().enumerate() {
        elements.push(good(&format!("ok{i}")));
        elements.push(b.clone());
    }
    let request = Request {
        composition: Composition { elements },
        ..Request::default()
    };
    let error = plan(&request).unwrap_err();
    let reported: Vec<(u32, &str)> = error
        .element_errors()
        .iter()
        .map(|e| (e.index, e.id.as_str()))
        .collect();
    assert_eq!(
        reported,
        [
            (1, "neg"),
            (3, "zero"),
            (5, "fps"),
            (7, "gif"),
            (9, "nan"),
            (11, "rate"),
            (13, "grid"),
            (15, "trim"),
            (17, "loop")
        ]
    );
    let fields: Vec<String> = error.element_errors()[5..]
        .iter()
        .map(|e| e.field.to_string())
        .collect();
    assert_eq!(
        fields,
        ["playbackRate", "playbackRate", "mediaDuration", "loop"]
    );
}
