//! The planner: validated elements → unique works → cache lookup → superset
//! units → one assignment per element.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::composition::{ImageFormat, Transfer};
use crate::error::PlanError;
use crate::key::DedupeKey;
use crate::request::{PlanOptions, Request, SourceFacts, SourceIdentity};
use crate::time::Fps;
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
    /// Frames over all elements, duplicates included.
    pub frames_requested: u64,
    /// Frames the units extract.
    pub frames_to_extract: u64,
    /// `frames_requested − frames_to_extract` (negative only when a superset
    /// gap makes units extract frames nobody asked for).
    pub frames_saved: i64,
}

/// One ffmpeg extraction: a range of one source at one rate and format.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtractionUnit {
    /// `u1`, `u2`, … in plan order.
    pub id: String,
    /// The `src` of the unit's leader, as written.
    pub src: String,
    /// The source's identity.
    pub source: SourceIdentity,
    /// First frame's source time, microseconds.
    pub start_us: i64,
    /// Frame rate.
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
type WorkKey = (u32, i64, i64, Fps, ImageFormat, Option<Transfer>);

/// A unique work while planning.
struct Work {
    key: DedupeKey,
    cache_key: String,
    /// Element indices, the leader first.
    elements: Vec<usize>,
    frame_count: u64,
    alpha: bool,
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

/// The frames an element needs: `ceil(duration × fps)`, clamped to the frames
/// whose time lies before the source's end when that is known.
pub fn element_frame_count(element: &Element, source_duration_us: Option<i64>) -> u64 {
    let wanted = element.fps.frames_in(element.duration_us);
    match source_duration_us {
        Some(end) => wanted.min(element.fps.frames_in(end - element.start_us)),
        None => wanted,
    }
}

/// Plans validated elements.
pub fn plan_elements(
    elements: &[Element],
    sources: &BTreeMap<String, SourceFacts>,
    cached_keys: &BTreeSet<String>,
    options: &PlanOptions,
) -> Plan {
    // 1. Unique works, in order of their leader's position. Each distinct
    // `src` is resolved to a source number once; sources with one identity
    // share a number, so the dedupe map compares small integers only.
    let mut facts_of_src: BTreeMap<&str, (u32, SourceFacts)> = BTreeMap::new();
    let mut number_of_identity: BTreeMap<SourceIdentity, u32> = BTreeMap::new();
    let mut works: Vec<Work> = Vec::new();
    let mut work_of_key: BTreeMap<WorkKey, usize> = BTreeMap::new();
    let mut work_of_element = Vec::with_capacity(elements.len());
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
        let frame_count = element_frame_count(element, facts.duration_us);
        frames_requested += frame_count;
        let work_key = (
            *source,
            element.start_us,
            element.duration_us,
            element.fps,
            element.format,
            element.transfer,
        );
        let work = *work_of_key.entry(work_key).or_insert_with(|| {
            let key = DedupeKey {
                source: facts.identity.clone(),
                start_us: element.start_us,
                duration_us: element.duration_us,
                fps: element.fps,
                format: element.format,
                transfer: element.transfer,
            };
            works.push(Work {
                cache_key: key.cache_key(),
                key,
                elements: Vec::new(),
                frame_count,
                alpha: facts.alpha,
            });
            works.len() - 1
        });
        works[work].elements.push(index);
        work_of_element.push(work);
    }

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
        let lead = group.iter().map(|m| m.work).min().unwrap_or_default();
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
                    leader: elements[works[m.work].elements[0]].id.clone(),
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
            src: elements[first.elements[0]].src.clone(),
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
            leader: elements[first.elements[0]].id.clone(),
            members,
        });
    }

    // 5. One assignment per element.
    let assignments = elements
        .iter()
        .enumerate()
        .map(|(index, element)| {
            let work = &works[work_of_element[index]];
            let leader = &elements[work.elements[0]].id;
            let placed = placement.get(&work_of_element[index]);
            let role = match placed {
                _ if work.elements[0] != index => Role::Duplicate {
                    leader: leader.clone(),
                },
                None => Role::CacheHit,
                Some(&(u, _)) if units[u].leader != *leader => Role::SupersetMember {
                    unit: units[u].id.clone(),
                    leader: units[u].leader.clone(),
                },
                Some(_) => Role::Leader,
            };
            Assignment {
                element_id: element.id.clone(),
                role,
                cache_key: work.cache_key.clone(),
                cache_hit: placed.is_none(),
                unit: placed.map(|&(u, _)| units[u].id.clone()),
                slice: placed.map_or(
                    Slice {
                        offset: 0,
                        count: work.frame_count,
                    },
                    |&(_, slice)| slice,
                ),
                start_us: element.start_us,
                fps: element.fps,
            }
        })
        .collect();

    let frames_to_extract: u64 = units.iter().map(|u| u.frame_count).sum();
    let totals = Totals {
        elements: elements.len() as u64,
        unique_works: works.len() as u64,
        dedupe_hits: (elements.len() - works.len()) as u64,
        superset_groups: units.iter().filter(|u| u.members.len() > 1).count() as u64,
        cache_hits: (works.len() - misses.len()) as u64,
        units: units.len() as u64,
        frames_requested,
        frames_to_extract,
        frames_saved: frames_requested as i64 - frames_to_extract as i64,
    };
    Plan {
        schema: PLAN_SCHEMA_VERSION,
        totals,
        units,
        assignments,
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
        let bucket = if options.superset {
            (&k.source, k.fps, k.format, k.transfer, phase)
        } else {
            // No grouping: every work is a bucket of its own.
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
    groups.sort_by_key(|g| g.iter().map(|m| m.work).min());
    groups
}
