//! The planner: validated elements → unique works → cache lookup → superset
//! units → one assignment per element.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::composition::{ImageFormat, Transfer};
use crate::error::PlanError;
use crate::key::DedupeKey;
use crate::request::{PlanOptions, Request, SourceFacts, SourceIdentity};
use crate::time::{Fps, PlaybackRate};
use crate::timeline::{ElementFrames, FrameSource, HeldFrom};
use crate::validate::{validate, Element};

/// Version of the plan's serialized shape.
pub const PLAN_SCHEMA_VERSION: u32 = 1;

/// The plan: what to extract, and where each element's frames come from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// [`PLAN_SCHEMA_VERSION`].
    pub schema: u32,
    /// The numbers a person wants to see.
    pub totals: Totals,
    /// The extractions to run, in order of their leader's first appearance.
    pub units: Vec<ExtractionUnit>,
    /// One per element, in input order.
    pub assignments: Vec<Assignment>,
    /// What a person should know, per element (a slot that starts past its
    /// source's end). Absent when there is nothing to say.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
}

/// Something about an element that is no error but is likely a mistake.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Warning {
    /// The element.
    pub element_id: String,
    /// What is worth knowing.
    pub message: String,
}

/// Totals over the plan.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    /// Elements in the composition.
    pub elements: u64,
    /// Distinct dedupe keys.
    pub unique_works: u64,
    /// Elements that share a unique work led by an earlier element.
    pub dedupe_hits: u64,
    /// Units that cover more than one unique work.
    pub superset_groups: u64,
    /// Unique works with a good cache entry already.
    pub cache_hits: u64,
    /// Extraction units (ffmpeg runs) to perform.
    pub units: u64,
    /// Frames over all elements, duplicates included: `ceil(duration × fps)`
    /// each, held and looped frames too.
    pub frames_requested: u64,
    /// Frames the units extract.
    pub frames_to_extract: u64,
    /// `frames_requested − frames_to_extract` (negative only when a superset
    /// gap makes units extract frames nobody asked for).
    pub frames_saved: i64,
    /// Frames that hold a last frame (linked, not extracted).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub frames_held: u64,
    /// Frames of loops past their first cycle (linked, not extracted).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub frames_looped: u64,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// One ffmpeg extraction: a range of one source at one rate and format, or
/// (`last_frame`) the source's true last frame.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtractionUnit {
    /// `u1`, `u2`, … in plan order.
    pub id: String,
    /// The `src` of the unit's leader, as written.
    pub src: String,
    /// The source's identity.
    pub source: SourceIdentity,
    /// First frame's source time, microseconds (0 for a last-frame unit).
    pub start_us: i64,
    /// Frame rate on the source's timeline: an element's fps over its
    /// playback rate (`1/1` for a last-frame unit).
    pub fps: Fps,
    /// Image format.
    pub format: ImageFormat,
    /// SDR→HDR transfer, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<Transfer>,
    /// PNG frames keep an alpha channel (`rgba`).
    pub alpha: bool,
    /// Frames the extraction must produce, exactly.
    pub frame_count: u64,
    /// One frame: the source's true last frame, which the executor finds
    /// from the source's frame timestamps (the planner does not know them).
    #[serde(default, skip_serializing_if = "is_false")]
    pub last_frame: bool,
    /// The element whose extraction this is; failures are reported under it.
    pub leader: String,
    /// The unique works the unit covers, by frame offset.
    pub members: Vec<UnitMember>,
}

/// A unique work inside a unit: a slice of its frames.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitMember {
    /// The work's leading element.
    pub leader: String,
    /// The work's cache key.
    pub cache_key: String,
    /// The slice of the unit's frames.
    pub slice: Slice,
}

/// Frames `offset .. offset + count` of a unit (0-based).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Slice {
    /// First frame, 0-based.
    pub offset: u64,
    /// Number of frames.
    pub count: u64,
}

/// How an element gets its frames.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Role {
    /// Leads its own unit.
    Leader,
    /// Shares the work led by `leader`.
    Duplicate {
        /// The leading element.
        leader: String,
    },
    /// Leads a work that is a slice of a larger unit.
    SupersetMember {
        /// The unit.
        unit: String,
        /// The unit's leader.
        leader: String,
    },
    /// Leads a work whose frames are already cached.
    CacheHit,
}

/// Where one element's frames come from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    /// The element.
    pub element_id: String,
    /// Its role.
    pub role: Role,
    /// Cache key of its unique work.
    pub cache_key: String,
    /// The work's frames are in the cache: nothing to extract.
    pub cache_hit: bool,
    /// The unit that extracts its frames (none for a cache hit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Its frames within the unit (for a cache hit: within the entry).
    pub slice: Slice,
    /// First frame's source time, microseconds.
    pub start_us: i64,
    /// Frame rate.
    pub fps: Fps,
    /// Frames in the element's directory, when not `slice.count` (a loop, or
    /// held frames): see [`Assignment::frame_source`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frames: Option<u64>,
    /// The playback rate, when not 1: frame `j` shows source time
    /// `startUs + j × playbackRate / fps`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playback_rate: Option<PlaybackRate>,
    /// A loop longer than its pass: frame `j` is slice frame `j mod
    /// cycle.frames`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cycle: Option<Cycle>,
    /// Frames past the slice that hold a last frame.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<Held>,
}

/// One pass of a loop: the slice's frames, repeated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cycle {
    /// Frames per cycle (the slice's count).
    pub frames: u64,
}

/// The frames of an element past the end of its pass.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Held {
    /// How many.
    pub frames: u64,
    /// `trim`: the slice's last frame (the trim ended the pass); `source`:
    /// the source's true last frame, a work of its own.
    pub from: HeldFrom,
    /// For `source`: the last-frame work's cache key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_key: Option<String>,
    /// For `source`: the last frame is in the cache already.
    #[serde(default, skip_serializing_if = "is_false")]
    pub cache_hit: bool,
    /// For `source`: the unit that extracts it (none for a cache hit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

impl Assignment {
    /// Frames in the element's directory.
    pub fn frame_count(&self) -> u64 {
        self.frames.unwrap_or(self.slice.count)
    }

    /// Where the element's frame `j` (0-based, below [`Self::frame_count`])
    /// comes from: `Grid(k)` is frame `k` of its slice, `LastFrame` the only
    /// frame of the held last-frame work (`held.cache_key`).
    pub fn frame_source(&self, j: u64) -> FrameSource {
        if let Some(cycle) = self.cycle {
            return FrameSource::Grid(j % cycle.frames.max(1));
        }
        if j < self.slice.count {
            return FrameSource::Grid(j);
        }
        match &self.held {
            Some(held) if held.from == HeldFrom::Source => FrameSource::LastFrame,
            _ => FrameSource::Grid(self.slice.count.saturating_sub(1)),
        }
    }

    /// The cache keys of every work the element's frames come from.
    pub fn cache_keys(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.cache_key.as_str())
            .chain(self.held.as_ref().and_then(|h| h.cache_key.as_deref()))
    }
}

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

/// A work placed in a group, at a frame offset on the group's grid.
struct Placed {
    work: usize,
    /// Whole frames from the grid's origin (the group's first start after
    /// sorting); made relative to the unit's first frame later.
    offset: u64,
}

/// Groups cache-missing works into units. Works merge when they share source,
/// fps, format and transfer, their starts lie on one frame grid, and their
/// frame ranges overlap, touch, or lie within the configured gap. Returns the
/// groups ordered by their lowest work index (the leader's position).
fn group_works(works: &[Work], misses: &[usize], options: &PlanOptions) -> Vec<Vec<Placed>> {
    // Grouping key drops start and duration; the grid phase keeps off-grid
    // starts apart.
    type GroupKey<'a> = (&'a SourceIdentity, Fps, ImageFormat, Option<Transfer>, i64);
    let mut candidates: BTreeMap<GroupKey, Vec<usize>> = BTreeMap::new();
    for &w in misses {
        let k = &works[w].key;
        let phase = k.fps.grid_phase(k.start_us);
        let bucket = if options.superset && !k.last_frame {
            (&k.source, k.fps, k.format, k.transfer, phase)
        } else {
            // No grouping (a last frame never groups): every work is a
            // bucket of its own.
            (&k.source, k.fps, k.format, k.transfer, -(w as i64) - 1)
        };
        candidates.entry(bucket).or_default().push(w);
    }

    let mut groups: Vec<Vec<Placed>> = Vec::new();
    for (_, mut bucket) in candidates {
        bucket.sort_by_key(|&w| (works[w].key.start_us, w));
        let origin = works[bucket[0]].key.start_us;
        let fps = works[bucket[0]].key.fps;
        let gap_frames = fps.whole_frames_in(options.superset_gap_us);
        let mut current: Vec<Placed> = Vec::new();
        let mut current_end = 0u64;
        for w in bucket {
            let offset = fps
                .whole_frames_between(origin, works[w].key.start_us)
                .expect("works in one bucket share a frame grid") as u64;
            let end = offset + works[w].frame_count;
            if !current.is_empty() && offset > current_end + gap_frames {
                groups.push(std::mem::take(&mut current));
            }
            current_end = if current.is_empty() {
                end
            } else {
                current_end.max(end)
            };
            current.push(Placed { work: w, offset });
        }
        if !current.is_empty() {
            groups.push(current);
        }
    }
    // In order of their leaders (a work's own order breaks ties: an
    // element's frames before its source's last frame).
    groups.sort_by_key(|g| g.iter().map(|m| (works[m.work].leader(), m.work)).min());
    groups
}
