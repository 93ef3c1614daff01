//! The planner: validated elements → unique works → cache lookup → superset
//! units → one assignment per element.

use std::collections::{BTreeMap, BTreeSet};

use crate::composition::{ImageFormat, Transfer};
use crate::error::PlanError;
use crate::key::DedupeKey;
use crate::request::{PlanOptions, Request, SourceFacts, SourceIdentity};
use crate::time::Fps;
use crate::timeline::{ElementFrames, HeldFrom};
use crate::validate::{validate, Element};

mod group;
mod model;

use group::group_works;
pub use model::{
    Assignment, Cycle, ExtractionUnit, Held, Plan, Role, Slice, Totals, UnitMember, Warning,
    PLAN_SCHEMA_VERSION,
};

/// Plans a request: validates, dedupes, consults the cache, groups.
pub fn plan(request: &Request) -> Result<Plan, PlanError> {
    let elements = validate(&request.composition, &request.sources)?;
    Ok(plan_elements(
        &elements,
        &request.sources,
        &request.cached_keys,
        &request.options,
    ))
}

/// The dedupe key with the source as a number: equal exactly when the
/// [`DedupeKey`]s are equal.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum WorkKey {
    /// A plain element's work: source, start, duration, fps, format, transfer.
    Plain(u32, i64, i64, Fps, ImageFormat, Option<Transfer>),
    /// Frames of a source grid: source, start, grid, frames, format, transfer.
    Grid(u32, i64, Fps, u64, ImageFormat, Option<Transfer>),
    /// A source's last frame: source, format, transfer.
    LastFrame(u32, ImageFormat, Option<Transfer>),
}

/// A unique work while planning.
struct Work {
    key: DedupeKey,
    cache_key: String,
    /// Indices of the elements that take their slice from it, in input order.
    users: Vec<usize>,
    /// Indices of the elements that only hold its frame (a last frame).
    holders: Vec<usize>,
    frame_count: u64,
    alpha: bool,
}

impl Work {
    /// The element that leads the work: its first user, else (a last frame
    /// only held) its first holder.
    fn leader(&self) -> usize {
        let first = self.users.first().or(self.holders.first());
        first.copied().unwrap_or_default()
    }
}

/// The unique works of the plan, found by key.
#[derive(Default)]
struct Works {
    list: Vec<Work>,
    by_key: BTreeMap<WorkKey, usize>,
}

impl Works {
    /// The work for `key` (made by `make` the first time), now also needed
    /// by element `index`: for its slice (`use`), or for a held frame.
    fn need(
        &mut self,
        key: WorkKey,
        index: usize,
        use_slice: bool,
        make: impl FnOnce() -> (DedupeKey, u64, bool),
    ) -> usize {
        let list = &mut self.list;
        let w = *self.by_key.entry(key).or_insert_with(|| {
            let (key, frame_count, alpha) = make();
            list.push(Work {
                cache_key: key.cache_key(),
                key,
                users: Vec::new(),
                holders: Vec::new(),
                frame_count,
                alpha,
            });
            list.len() - 1
        });
        let work = &mut self.list[w];
        if use_slice {
            work.users.push(index);
        } else {
            work.holders.push(index);
        }
        w
    }
}

/// The facts for one source, or a name-only identity when none were given.
pub fn source_facts(src: &str, sources: &BTreeMap<String, SourceFacts>) -> SourceFacts {
    sources.get(src).cloned().unwrap_or_else(|| SourceFacts {
        identity: SourceIdentity::Name {
            name: src.to_string(),
        },
        ..SourceFacts::default()
    })
}

/// The dedupe key of the work an element takes its slice from: its own
/// frames, or the source's last frame when that is all it shows. (Held last
/// frames are [`DedupeKey::last_frame`].)
pub fn dedupe_key(element: &Element, facts: &SourceFacts) -> DedupeKey {
    let frames = ElementFrames::of(element, facts.duration_us);
    main_key(element, facts, &frames)
}

fn main_key(element: &Element, facts: &SourceFacts, frames: &ElementFrames) -> DedupeKey {
    let source = facts.identity.clone();
    if frames.extract == 0 {
        return DedupeKey::last_frame(source, element.format, element.transfer);
    }
    let plain = element.is_plain();
    DedupeKey {
        source,
        start_us: element.start_us,
        duration_us: if plain { element.duration_us } else { 0 },
        fps: element.grid,
        format: element.format,
        transfer: element.transfer,
        frames: (!plain).then_some(frames.extract),
        last_frame: false,
    }
}

/// Plans validated elements.
pub fn plan_elements(
    elements: &[Element],
    sources: &BTreeMap<String, SourceFacts>,
    cached_keys: &BTreeSet<String>,
    options: &PlanOptions,
) -> Plan {
    // 1. Unique works, in order of the first element that needs each. Each
    // distinct `src` is resolved to a source number once; sources with one
    // identity share a number, so the dedupe map compares small integers only.
    let mut facts_of_src: BTreeMap<&str, (u32, SourceFacts)> = BTreeMap::new();
    let mut number_of_identity: BTreeMap<SourceIdentity, u32> = BTreeMap::new();
    let mut works = Works::default();
    // Per element: its time model, its work, the work of its held last frame.
    let mut needs: Vec<(ElementFrames, usize, Option<usize>)> = Vec::with_capacity(elements.len());
    let mut warnings = Vec::new();
    let mut frames_requested = 0u64;
    for (index, element) in elements.iter().enumerate() {
        let (source, facts) = facts_of_src.entry(&element.src).or_insert_with(|| {
            let facts = source_facts(&element.src, sources);
            let next = number_of_identity.len() as u32;
            let number = *number_of_identity
                .entry(facts.identity.clone())
                .or_insert(next);
            (number, facts)
        });
        let (source, facts) = (*source, &*facts);
        let frames = ElementFrames::of(element, facts.duration_us);
        frames_requested += frames.frames;
        if let Some(message) = frames.warning(element, facts.duration_us) {
            warnings.push(Warning {
                element_id: element.id.clone(),
                message,
            });
        }
        let (format, transfer) = (element.format, element.transfer);
        let make = || {
            (
                main_key(element, facts, &frames),
                frames.extract.max(1),
                facts.alpha,
            )
        };
        let last_frame = WorkKey::LastFrame(source, format, transfer);
        let main = if frames.extract == 0 {
            works.need(last_frame, index, true, make)
        } else if element.is_plain() {
            let (start, duration) = (element.start_us, element.duration_us);
            let key = WorkKey::Plain(source, start, duration, element.fps, format, transfer);
            works.need(key, index, true, make)
        } else {
            let (start, grid) = (element.start_us, element.grid);
            let key = WorkKey::Grid(source, start, grid, frames.extract, format, transfer);
            works.need(key, index, true, make)
        };
        let held = frames.needs_last_frame().then(|| {
            works.need(last_frame, index, false, || {
                let key = DedupeKey::last_frame(facts.identity.clone(), format, transfer);
                (key, 1, facts.alpha)
            })
        });
        needs.push((frames, main, held));
    }
    let works = works.list;

    // 2. Cache lookup, then 3. superset groups over the misses.
    let misses: Vec<usize> = (0..works.len())
        .filter(|&w| !cached_keys.contains(&works[w].cache_key))
        .collect();
    let groups = group_works(&works, &misses, options);

    // 4. Units in order of their leader, and each work's place in one.
    let mut placement: BTreeMap<usize, (usize, Slice)> = BTreeMap::new();
    let mut units = Vec::with_capacity(groups.len());
    for (u, group) in groups.iter().enumerate() {
        let unit_id = format!("u{}", u + 1);
        let lead = group
            .iter()
            .map(|m| m.work)
            .min_by_key(|&w| (works[w].leader(), w))
            .unwrap_or_default();
        let first = &works[lead];
        let anchor = group.iter().map(|m| m.offset).min().unwrap_or_default();
        let members = group
            .iter()
            .map(|m| {
                let slice = Slice {
                    offset: m.offset - anchor,
                    count: works[m.work].frame_count,
                };
                placement.insert(m.work, (u, slice));
                UnitMember {
                    leader: elements[works[m.work].leader()].id.clone(),
                    cache_key: works[m.work].cache_key.clone(),
                    slice,
                }
            })
            .collect::<Vec<_>>();
        let start_work = group
            .iter()
            .find(|m| m.offset == anchor)
            .map_or(lead, |m| m.work);
        units.push(ExtractionUnit {
            id: unit_id,
            src: elements[first.leader()].src.clone(),
            source: first.key.source.clone(),
            start_us: works[start_work].key.start_us,
            fps: first.key.fps,
            format: first.key.format,
            transfer: first.key.transfer,
            alpha: first.alpha && first.key.format == ImageFormat::Png,
            frame_count: members
                .iter()
                .map(|m| m.slice.offset + m.slice.count)
                .max()
                .unwrap_or(0),
            last_frame: first.key.last_frame,
            leader: elements[first.leader()].id.clone(),
            members,
        });
    }

    // 5. One assignment per element.
    let (mut dedupe_hits, mut frames_held, mut frames_looped) = (0u64, 0u64, 0u64);
    let assignments = elements
        .iter()
        .zip(&needs)
        .enumerate()
        .map(|(index, (element, (frames, main, held)))| {
            let work = &works[*main];
            let leader = &elements[work.leader()].id;
            let placed = placement.get(main);
            let role = match placed {
                _ if work.leader() != index => Role::Duplicate {
                    leader: leader.clone(),
                },
                None => Role::CacheHit,
                Some(&(u, _)) if units[u].leader != *leader => Role::SupersetMember {
                    unit: units[u].id.clone(),
                    leader: units[u].leader.clone(),
                },
                Some(_) => Role::Leader,
            };
            dedupe_hits += u64::from(matches!(role, Role::Duplicate { .. }));
            let slice = placed.map_or(
                Slice {
                    offset: 0,
                    count: work.frame_count,
                },
                |&(_, slice)| slice,
            );
            let cycle = frames.cycle.then_some(Cycle {
                frames: slice.count,
            });
            let beyond = frames.frames.saturating_sub(slice.count);
            let held = match (cycle, held) {
                (Some(_), _) => {
                    frames_looped += beyond;
                    None
                }
                (None, _) if beyond == 0 => None,
                (None, Some(w)) => {
                    let placed = placement.get(w);
                    Some(Held {
                        frames: beyond,
                        from: HeldFrom::Source,
                        cache_key: Some(works[*w].cache_key.clone()),
                        cache_hit: placed.is_none(),
                        unit: placed.map(|&(u, _)| units[u].id.clone()),
                    })
                }
                (None, None) => Some(Held {
                    frames: beyond,
                    from: HeldFrom::Trim,
                    cache_key: None,
                    cache_hit: false,
                    unit: None,
                }),
            };
            frames_held += held.as_ref().map_or(0, |h| h.frames);
            Assignment {
                element_id: element.id.clone(),
                role,
                cache_key: work.cache_key.clone(),
                cache_hit: placed.is_none(),
                unit: placed.map(|&(u, _)| units[u].id.clone()),
                slice,
                start_us: element.start_us,
                fps: element.fps,
                frames: (frames.frames != slice.count).then_some(frames.frames),
                playback_rate: (!element.playback_rate.is_normal())
                    .then_some(element.playback_rate),
                cycle,
                held,
            }
        })
        .collect();

    let frames_to_extract: u64 = units.iter().map(|u| u.frame_count).sum();
    let totals = Totals {
        elements: elements.len() as u64,
        unique_works: works.len() as u64,
        dedupe_hits,
        superset_groups: units.iter().filter(|u| u.members.len() > 1).count() as u64,
        cache_hits: (works.len() - misses.len()) as u64,
        units: units.len() as u64,
        frames_requested,
        frames_to_extract,
        frames_saved: frames_requested as i64 - frames_to_extract as i64,
        frames_held,
        frames_looped,
    };
    Plan {
        schema: PLAN_SCHEMA_VERSION,
        totals,
        units,
        assignments,
        warnings,
    }
}
