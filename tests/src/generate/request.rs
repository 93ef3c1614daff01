//! Generated requests ([`RequestSpec`], [`request`]): the sources, elements
//! (some repeated, exactly or nearly), random cached frames and seek costs.

use std::collections::{BTreeMap, BTreeSet};

use framex_core::{
    recipe_key, Composition, Fps, FpsInput, ImageFormat, PlanOptions, Recipe, Request, SourceFacts,
    SourceIdentity, Transfer,
};
use proptest::prelude::*;
use proptest::sample::select;

use super::element::{element_spec, ElementSpec, SOURCES};
use super::source::{source_spec, SourceSpec};

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
