//! The planner: validated elements → the frame every tick shows → distinct
//! frames per source and recipe → store lookup → decode runs → one plan per
//! element.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{ElementError, Field, PlanError, Problem};
use crate::request::{PlanOptions, Request, SourceFacts};
use crate::rule::TickRule;
use crate::runs::{frames_of, FrameRun, IndexRuns};
use crate::time::format_us;
use crate::timeline::Timeline;
use crate::validate::{validate, Element};

mod decode;
mod lists;
mod model;
mod needs;
mod sources;

use lists::{runs_of, timeline_classes, Lists, TickKey};
pub use model::{
    DecodeRun, ElementPlan, Plan, RecipePlan, Role, SourcePlan, Totals, Warning,
    PLAN_SCHEMA_VERSION,
};
pub use sources::source_facts;
use sources::sources_and_groups;

/// Plans a request: validates, resolves every tick to a source frame, finds
/// the distinct frames, looks them up in the store's index, groups the rest
/// into decode runs.
pub fn plan(request: &Request) -> Result<Plan, PlanError> {
    let elements = validate(&request.composition, &request.sources)?;
    plan_elements(
        &elements,
        &request.sources,
        &request.cached_frames,
        &request.options,
    )
}

/// The frame each tick of `element` shows on `timeline`, as runs.
pub fn element_frames(element: &Element, timeline: &Timeline) -> Result<Vec<FrameRun>, PlanError> {
    let rule = TickRule::new(element, timeline).map_err(|_| overflow(element))?;
    Ok(runs_of(&rule, timeline).0)
}

fn overflow(element: &Element) -> PlanError {
    PlanError::Invalid(vec![ElementError {
        index: 0,
        id: element.id.clone(),
        field: Field::Src,
        problem: Problem::TimeOverflow,
    }])
}

/// What the planner found for one element.
struct Shown {
    group: usize,
    /// Its frames: a list of [`Lists`].
    list: usize,
    /// The earlier element with the same frames.
    duplicate_of: Option<usize>,
}

/// Plans validated elements. `cached` holds, per recipe key, the frame
/// times the store holds.
pub fn plan_elements(
    elements: &[Element],
    sources: &BTreeMap<String, SourceFacts>,
    cached: &BTreeMap<String, BTreeSet<i64>>,
    options: &PlanOptions,
) -> Result<Plan, PlanError> {
    let (source_list, mut groups, element_group) = sources_and_groups(elements, sources);

    // 2. The frame every tick shows; duplicates; the distinct frames of each
    // group and the first element showing each.
    let mut by_ticks: BTreeMap<TickKey, usize> = BTreeMap::new();
    let class = timeline_classes(&source_list);
    let mut lists = Lists::default();
    let mut shown: Vec<Shown> = Vec::with_capacity(elements.len());
    let mut errors = Vec::new();
    for (index, element) in elements.iter().enumerate() {
        let group = element_group[index];
        let source = groups[group].source;
        let key: TickKey = (
            class[source],
            element.start_us,
            element.duration_us,
            element.media_duration_us,
            element.fps,
            element.playback_rate,
            element.looping,
        );
        let list = match by_ticks.get(&key) {
            Some(&list) => list,
            None => match TickRule::new(element, &source_list[source].timeline) {
                Ok(rule) => {
                    let list = lists.push(runs_of(&rule, &source_list[source].timeline));
                    by_ticks.insert(key, list);
                    list
                }
                Err(_) => {
                    errors.push(ElementError {
                        index: index as u32,
                        id: element.id.clone(),
                        field: Field::Src,
                        problem: Problem::TimeOverflow,
                    });
                    continue;
                }
            },
        };
        shown.push(Shown {
            group,
            list,
            duplicate_of: None,
        });
    }
    if !errors.is_empty() {
        return Err(PlanError::Invalid(errors));
    }
    // A duplicate shows the frames of an earlier element of its group on
    // every tick, however the runs of the two are written: a 29.97 fps and a
    // 30 fps element can show the same frames with different strides.
    let mut firsts: BTreeMap<(usize, u64), Vec<usize>> = BTreeMap::new();
    for index in 0..shown.len() {
        let (group, list) = (shown[index].group, shown[index].list);
        let candidates = firsts.entry((group, lists.print(list))).or_default();
        let first = candidates
            .iter()
            .copied()
            .find(|&c| lists.same(shown[c].list, list));
        match first {
            Some(first) => shown[index].duplicate_of = Some(first),
            None => {
                candidates.push(index);
                groups[group]
                    .needs
                    .mark_all(frames_of(lists.runs(list)), index as u32);
            }
        }
    }

    // 3. Store lookup, then 4. decode runs over the frames to make.
    for group in &mut groups {
        let timeline = &source_list[group.source].timeline;
        group.cached = match cached.get(&group.key) {
            Some(stored) if !stored.is_empty() => group
                .needs
                .mark_cached(|index| stored.contains(&timeline.pts(index))),
            _ => 0,
        };
        let to_make = group
            .needs
            .iter()
            .filter(|&(_, _, stored)| !stored)
            .map(|(index, element, _)| (index, element));
        group.runs = decode::group(to_make, timeline, options.seek_cost_frames);
    }
    // Runs are numbered in order of their leaders, then by source, recipe
    // and keyframe.
    let mut order: Vec<(u32, usize, usize)> = groups
        .iter()
        .enumerate()
        .flat_map(|(g, group)| (0..group.runs.len()).map(move |r| (g, r)))
        .map(|(g, r)| (groups[g].runs[r].leader(), g, r))
        .collect();
    order.sort_unstable();
    for group in &mut groups {
        group.run_ids = vec![0; group.runs.len()];
    }
    for (number, &(_, g, r)) in order.iter().enumerate() {
        groups[g].run_ids[r] = number;
    }
    let run_name = |number: usize| format!("r{}", number + 1);
    let source_names: Vec<String> = (1..=source_list.len()).map(|n| format!("s{n}")).collect();

    // 5. One plan per element.
    let mut plans: Vec<ElementPlan> = Vec::with_capacity(elements.len());
    // The runs each element but a duplicate needs, by number, ascending.
    let mut element_runs: Vec<Vec<usize>> = Vec::with_capacity(elements.len());
    let mut warnings = Vec::new();
    let mut frames_requested = 0u64;
    let mut distinct: Vec<u64> = Vec::new();
    for (element, s) in elements.iter().zip(&shown) {
        let group = &groups[s.group];
        let source = &source_list[group.source];
        let frames = lists.runs(s.list);
        let ticks: u64 = frames.iter().map(|r| r.ticks).sum();
        frames_requested += ticks;
        if let Some(warning) = start_warning(element, &source.timeline, ticks) {
            warnings.push(warning);
        }
        let (distinct, hits, runs) = match s.duplicate_of {
            // (A duplicate's role needs no run numbers.)
            Some(first) => {
                let p = &plans[first];
                (p.distinct_frames, p.cache_hits, Vec::new())
            }
            None => {
                // Its distinct frames, ascending: without a loop the frames
                // never go back and come sorted; a loop's are sorted here.
                distinct.clear();
                for frame in frames_of(frames) {
                    if distinct.last() != Some(&frame) {
                        distinct.push(frame);
                    }
                }
                if distinct.windows(2).any(|w| w[1] < w[0]) {
                    distinct.sort_unstable();
                    distinct.dedup();
                }
                let (mut hits, mut runs) = (0u64, Vec::<usize>::new());
                // The run making `frame` is the first ending at or after it;
                // the frames ascend, so each search starts at the last run.
                let mut r = 0;
                let stored = group.needs.stored(distinct.iter().copied());
                for (&frame, stored) in distinct.iter().zip(stored) {
                    if stored {
                        hits += 1;
                        continue;
                    }
                    if group.runs[r].last < frame {
                        r += group.runs[r..].partition_point(|run| run.last < frame);
                    }
                    let id = group.run_ids[r];
                    if !runs.contains(&id) {
                        runs.push(id);
                    }
                }
                runs.sort_unstable();
                (distinct.len() as u64, hits, runs)
            }
        };
        plans.push(ElementPlan {
            element_id: element.id.clone(),
            role: Role::CacheHit,
            source: source_names[group.source].clone(),
            recipe: group.key.clone(),
            start_us: element.start_us,
            fps: element.fps,
            playback_rate: (!element.playback_rate.is_normal()).then_some(element.playback_rate),
            ticks,
            distinct_frames: distinct,
            cache_hits: hits,
            runs: match s.duplicate_of {
                Some(first) => plans[first].runs.clone(),
                None => runs.iter().copied().map(run_name).collect(),
            },
            frames: frames.to_vec(),
        });
        element_runs.push(runs);
    }
    // Roles, now that every run's leader is known.
    for (index, s) in shown.iter().enumerate() {
        let runs = &element_runs[index];
        let leader = |run: usize| order[run].0 as usize;
        let role = if let Some(first) = s.duplicate_of {
            Role::Duplicate {
                of: elements[first].id.clone(),
            }
        } else if runs.is_empty() {
            Role::CacheHit
        } else if runs.iter().any(|&r| leader(r) == index) {
            Role::Leader
        } else {
            Role::Shares {
                run: run_name(runs[0]),
                leader: elements[leader(runs[0])].id.clone(),
            }
        };
        plans[index].role = role;
    }

    // 6. Sources, recipes and totals.
    let mut source_plans = Vec::with_capacity(source_list.len());
    let mut totals = Totals {
        elements: elements.len() as u64,
        frames_requested,
        duplicates: shown.iter().filter(|s| s.duplicate_of.is_some()).count() as u64,
        decode_runs: order.len() as u64,
        ..Totals::default()
    };
    for (number, source) in source_list.iter().enumerate() {
        let recipes = source
            .groups
            .iter()
            .map(|&g| {
                let group = &groups[g];
                totals.distinct_frames += group.needs.count();
                totals.cache_hits += group.cached;
                let runs = group
                    .runs
                    .iter()
                    .zip(&group.run_ids)
                    .map(|(run, &id)| {
                        totals.frames_to_decode += run.last - run.keyframe + 1;
                        DecodeRun {
                            id: run_name(id),
                            leader: elements[run.leader() as usize].id.clone(),
                            keyframe: run.keyframe,
                            last: run.last,
                            make: IndexRuns::from_ascending(run.make.iter().map(|&(i, _)| i)),
                        }
                    })
                    .collect();
                RecipePlan {
                    key: group.key.clone(),
                    format: group.recipe.format,
                    alpha: group.recipe.alpha,
                    transfer: group.recipe.transfer,
                    distinct_frames: group.needs.count(),
                    cache_hits: group.cached,
                    runs,
                }
            })
            .collect();
        source_plans.push(SourcePlan {
            id: format!("s{}", number + 1),
            src: source.src.to_string(),
            identity: source.facts.identity.clone(),
            time_base: source.timeline.time_base(),
            frames: source.timeline.len(),
            assumed_rate: source.timeline.is_assumed().then(|| {
                source
                    .facts
                    .frame_rate
                    .unwrap_or(crate::request::DEFAULT_ASSUMED_RATE)
            }),
            recipes,
        });
    }
    totals.dedupe_hits = totals.frames_requested - totals.distinct_frames;
    totals.frames_to_make = totals.distinct_frames - totals.cache_hits;
    totals.frames_saved = totals.frames_requested - totals.frames_to_make;
    Ok(Plan {
        schema: PLAN_SCHEMA_VERSION,
        totals,
        sources: source_plans,
        elements: plans,
        warnings,
    })
}

/// The warning for a slot that starts at or past its source's known end.
fn start_warning(element: &Element, timeline: &Timeline, ticks: u64) -> Option<Warning> {
    let end = timeline.end_us()?;
    if element.start_us < end {
        return None;
    }
    let shown = match ticks {
        1 => "its frame shows".to_string(),
        n => format!("all {n} frames show"),
    };
    Some(Warning {
        element_id: element.id.clone(),
        message: format!(
            "mediaStart {}s is at or past the end of the source ({}s): {shown} the source's last frame",
            format_us(element.start_us),
            format_us(end),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned(json: &str) -> Plan {
        plan(&Request::from_json(json).unwrap()).unwrap()
    }

    #[test]
    fn the_same_frames_written_as_other_runs_are_a_duplicate() {
        // On a 30 fps source, 2 s at 29.97 fps shows frames 30..=89 (stride
        // 1001/1000), exactly what 2 s at 30 fps shows (stride 1).
        let plan = planned(
            r#"{"composition": {"elements": [
                {"id": "at-30", "src": "a.mp4", "mediaStart": 1, "duration": 2, "fps": 30, "format": "png"},
                {"id": "at-ntsc", "src": "a.mp4", "mediaStart": 1, "duration": 2, "fps": "30000/1001", "format": "png"},
                {"id": "jpeg", "src": "a.mp4", "mediaStart": 1, "duration": 2, "fps": "30000/1001", "format": "jpeg"}
            ]}, "sources": {"a.mp4": {"identity": {"kind": "name", "name": "a"},
                "timeline": {"timeBase": "1/15360", "pts": [[0, 512, 300]], "end": 153600}}}}"#,
        );
        let [a, b, jpeg] = &plan.elements[..] else {
            panic!("three elements")
        };
        assert_ne!(a.frames, b.frames, "written with other strides");
        assert!(a.shown().eq(b.shown()));
        assert_eq!(b.role, Role::Duplicate { of: "at-30".into() });
        // Another recipe is no duplicate.
        assert_eq!(jpeg.role, Role::Leader);
        assert_eq!(plan.totals.duplicates, 1);
    }
}
