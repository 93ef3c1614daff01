//! The planner: validated elements → the frame every tick shows → distinct
//! frames per source and recipe → store lookup → decode runs → one plan per
//! element.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use crate::error::{ElementError, Field, PlanError, Problem};
use crate::key::{recipe_key, Recipe};
use crate::request::{PlanOptions, Request, SourceFacts, SourceIdentity};
use crate::rule::TickRule;
use crate::runs::{frames_of, FrameRun, IndexRuns, RunBuilder, Step};
use crate::str_map::StrMap;
use crate::time::{format_us, Fps, PlaybackRate};
use crate::timeline::{TimeBase, Timeline};
use crate::validate::{validate, Element};

mod decode;
mod model;
mod needs;

pub use model::{
    DecodeRun, ElementPlan, Plan, RecipePlan, Role, SourcePlan, Totals, Warning,
    PLAN_SCHEMA_VERSION,
};
use needs::FrameNeeds;

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

/// The facts for one source, or a name-only identity when none were given.
pub fn source_facts(src: &str, sources: &BTreeMap<String, SourceFacts>) -> SourceFacts {
    sources.get(src).cloned().unwrap_or_else(|| SourceFacts {
        identity: SourceIdentity::Name {
            name: src.to_string(),
        },
        ..SourceFacts::default()
    })
}

/// The frame each tick of `element` shows on `timeline`, as runs.
pub fn element_frames(element: &Element, timeline: &Timeline) -> Result<Vec<FrameRun>, PlanError> {
    let rule = TickRule::new(element, timeline).map_err(|_| overflow(element))?;
    Ok(runs_of(&rule, timeline).0)
}

/// The frames of every tick as runs, and a fingerprint of them (FNV-1a over
/// the frame of every tick), to find elements that may show the same frames;
/// equal frames are then checked tick by tick.
fn runs_of(rule: &TickRule, timeline: &Timeline) -> (Vec<FrameRun>, u64) {
    let (num, den) = rule.stride();
    let mut builder = RunBuilder::new(Step::new(num, den).unwrap_or(Step::ZERO));
    let mut print = FINGERPRINT_START;
    for frame in rule.shown(timeline) {
        print = fingerprint_step(print, frame);
        builder.push(frame);
    }
    (builder.finish(), print)
}

/// The fingerprint [`runs_of`] computes, from the runs.
#[cfg(test)]
fn fingerprint(runs: &[FrameRun]) -> u64 {
    frames_of(runs).fold(FINGERPRINT_START, fingerprint_step)
}

const FINGERPRINT_START: u64 = 0xcbf2_9ce4_8422_2325;

fn fingerprint_step(hash: u64, frame: u64) -> u64 {
    (hash ^ frame).wrapping_mul(0x0100_0000_01b3)
}

fn overflow(element: &Element) -> PlanError {
    PlanError::Invalid(vec![ElementError {
        index: 0,
        id: element.id.clone(),
        field: Field::Src,
        problem: Problem::TimeOverflow,
    }])
}

/// One distinct source while planning.
struct Source<'a> {
    src: &'a str,
    facts: Cow<'a, SourceFacts>,
    timeline: Cow<'a, Timeline>,
    /// Its recipes (group numbers), in order of first use.
    groups: Vec<usize>,
}

/// One source in one recipe while planning.
struct Group {
    source: usize,
    recipe: Recipe,
    key: String,
    needs: FrameNeeds,
    cached: u64,
    runs: Vec<decode::Run>,
    /// Plan-wide run number of each of `runs`.
    run_ids: Vec<usize>,
}

/// What the planner found for one element.
struct Shown {
    group: usize,
    /// Its frames: a list of [`Lists`].
    list: usize,
    /// The earlier element with the same frames.
    duplicate_of: Option<usize>,
}

/// The distinct frame lists of the elements (elements with equal
/// [`TickKey`]s share one): the runs, and their fingerprint (see
/// [`runs_of`]).
#[derive(Default)]
struct Lists {
    lists: Vec<(Vec<FrameRun>, u64)>,
    /// Whether two lists (`a < b`) show the same frames, once compared.
    same: BTreeMap<(usize, usize), bool>,
}

impl Lists {
    fn runs(&self, list: usize) -> &[FrameRun] {
        &self.lists[list].0
    }

    fn print(&self, list: usize) -> u64 {
        self.lists[list].1
    }

    fn push(&mut self, list: (Vec<FrameRun>, u64)) -> usize {
        self.lists.push(list);
        self.lists.len() - 1
    }

    /// Whether lists `a` and `b` show the same frame on every tick, however
    /// their runs are written.
    fn same(&mut self, a: usize, b: usize) -> bool {
        if a == b {
            return true;
        }
        let (a, b) = (a.min(b), a.max(b));
        let lists = &self.lists;
        *self.same.entry((a, b)).or_insert_with(|| {
            let (x, y) = (&lists[a].0, &lists[b].0);
            x == y || frames_of(x).eq(frames_of(y))
        })
    }
}

/// The parameters that decide an element's frames: equal parameters, equal
/// frames. The first is the source's [`timeline_classes`] class.
type TickKey = (usize, i64, i64, Option<i64>, Fps, PlaybackRate, bool);

/// Per source, the first source whose frames are the same (whose ticks
/// therefore show the same frames): sources assumed at one rate and
/// length are alike; a probed timeline is its own.
fn timeline_classes(sources: &[Source]) -> Vec<usize> {
    let mut assumed: BTreeMap<(TimeBase, Option<u64>), usize> = BTreeMap::new();
    (0..sources.len())
        .map(|s| {
            let timeline = &sources[s].timeline;
            if timeline.is_assumed() {
                *assumed
                    .entry((timeline.time_base(), timeline.len()))
                    .or_insert(s)
            } else {
                s
            }
        })
        .collect()
}

/// Plans validated elements. `cached` holds, per recipe key, the frame
/// times the store holds.
pub fn plan_elements(
    elements: &[Element],
    sources: &BTreeMap<String, SourceFacts>,
    cached: &BTreeMap<String, BTreeSet<i64>>,
    options: &PlanOptions,
) -> Result<Plan, PlanError> {
    // 1. Distinct sources (by identity) and groups (source × recipe).
    let mut source_list: Vec<Source> = Vec::new();
    let mut source_of_src: StrMap<usize> = StrMap::with_capacity(sources.len());
    let mut source_of_identity: BTreeMap<SourceIdentity, usize> = BTreeMap::new();
    let mut groups: Vec<Group> = Vec::new();
    let mut element_group = Vec::with_capacity(elements.len());
    for element in elements {
        let source = match source_of_src.get(&element.src) {
            Some(source) => source,
            None => {
                let facts = match sources.get(&element.src) {
                    Some(facts) => Cow::Borrowed(facts),
                    None => Cow::Owned(source_facts(&element.src, sources)),
                };
                let source = *source_of_identity
                    .entry(facts.identity.clone())
                    .or_insert_with(|| {
                        let timeline = match &facts {
                            Cow::Borrowed(f) => f.timeline(),
                            Cow::Owned(f) => Cow::Owned(f.timeline().into_owned()),
                        };
                        source_list.push(Source {
                            src: &element.src,
                            facts,
                            timeline,
                            groups: Vec::new(),
                        });
                        source_list.len() - 1
                    });
                source_of_src.insert(&element.src, source);
                source
            }
        };
        let s = &mut source_list[source];
        let recipe = Recipe::new(element.format, s.facts.alpha, element.transfer);
        // A source has a few recipes at most.
        let group = match s.groups.iter().find(|&&g| groups[g].recipe == recipe) {
            Some(&group) => group,
            None => {
                let key = recipe_key(&s.facts.identity, s.timeline.time_base(), recipe);
                s.groups.push(groups.len());
                groups.push(Group {
                    source,
                    recipe,
                    key,
                    needs: FrameNeeds::default(),
                    cached: 0,
                    runs: Vec::new(),
                    run_ids: Vec::new(),
                });
                groups.len() - 1
            }
        };
        element_group.push(group);
    }

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

    #[test]
    fn equal_fingerprints_are_checked_tick_by_tick() {
        let run = |ticks, frame| FrameRun {
            ticks,
            frame,
            step: Step::new(1, 1).unwrap(),
            phase: 0,
        };
        let held = |ticks, frame| FrameRun {
            step: Step::ZERO,
            ..run(ticks, frame)
        };
        // 0 1 2 and 0 1 | 2: the same frames in other runs.
        assert_eq!(
            fingerprint(&[run(3, 0)]),
            fingerprint(&[run(2, 0), held(1, 2)])
        );
        assert_ne!(fingerprint(&[run(3, 0)]), fingerprint(&[run(3, 1)]));
    }
}
