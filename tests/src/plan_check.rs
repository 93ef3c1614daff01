//! What every plan must satisfy, checked from the request alone: the frames
//! of every element against [`crate::reference`], decode runs, roles, cache
//! facts and totals recomputed here. Shared by the property and fuzz tests.

use std::collections::{BTreeMap, BTreeSet};

use framex_core::{
    plan_elements, recipe_key, source_facts, validate, Plan, Recipe, Request, Role, SourceIdentity,
    Timeline,
};

/// Fails the check with a message when `cond` is false.
macro_rules! ensure {
    ($cond:expr, $($what:tt)+) => {
        if !$cond {
            return Err(format!($($what)+));
        }
    };
}

/// How much of a plan to check.
#[derive(Clone, Copy, Debug)]
pub struct Depth {
    /// Compare every element's frames with the reference rule when the
    /// plan's ticks add up to at most this many (the reference is slower
    /// than the planner).
    pub reference_ticks: u64,
}

impl Default for Depth {
    fn default() -> Self {
        Self {
            reference_ticks: 200_000,
        }
    }
}

/// One element as the checks see it.
struct Seen {
    frames: Vec<u64>,
    distinct: BTreeSet<u64>,
    /// Index of its source plan and of its recipe in it.
    source: usize,
    recipe: usize,
}

/// The last keyframe at or before `index` (frame 0 when none is listed
/// before it); every frame of an assumed timeline is one.
fn keyframe_for(timeline: &Timeline, index: u64) -> u64 {
    if timeline.is_assumed() {
        return index;
    }
    let keyframes = timeline.keyframes();
    let after = keyframes.partition_point(|&k| k <= index);
    after.checked_sub(1).map_or(0, |i| keyframes[i])
}

/// Checks `plan`, the plan of `request`. `Err` says what is wrong.
pub fn check_plan(request: &Request, plan: &Plan, depth: Depth) -> Result<(), String> {
    let elements = validate(&request.composition, &request.sources)
        .map_err(|e| format!("a request that planned must validate: {e}"))?;
    ensure!(
        plan.elements.len() == elements.len(),
        "one element plan per element"
    );
    ensure!(
        plan_elements(
            &elements,
            &request.sources,
            &request.cached_frames,
            &request.options
        )
        .as_ref()
            == Ok(plan),
        "plan_elements over the validated elements gives the same plan"
    );

    // Sources in order of first use, by identity; recipes in order of first use.
    let mut source_order: Vec<SourceIdentity> = Vec::new();
    let mut first_src: Vec<&str> = Vec::new();
    let mut timelines: Vec<Timeline> = Vec::new();
    let mut facts_of: Vec<framex_core::SourceFacts> = Vec::new();
    let mut recipe_order: Vec<Vec<Recipe>> = Vec::new();
    let mut seen: Vec<Seen> = Vec::with_capacity(elements.len());
    let total_ticks: u64 = elements.iter().map(crate::reference::ticks).sum();
    let compare = total_ticks <= depth.reference_ticks;
    for (element, p) in elements.iter().zip(&plan.elements) {
        ensure!(p.element_id == element.id, "element plans in input order");
        let facts = source_facts(&element.src, &request.sources);
        let source = match source_order.iter().position(|i| *i == facts.identity) {
            Some(s) => s,
            None => {
                source_order.push(facts.identity.clone());
                first_src.push(&element.src);
                timelines.push(facts.timeline().into_owned());
                facts_of.push(facts.clone());
                recipe_order.push(Vec::new());
                source_order.len() - 1
            }
        };
        // The facts of a source are those of the first `src` naming it.
        let alpha = facts_of[source].alpha;
        let recipe = Recipe::new(element.format, alpha, element.transfer);
        let recipe_index = match recipe_order[source].iter().position(|r| *r == recipe) {
            Some(r) => r,
            None => {
                recipe_order[source].push(recipe);
                recipe_order[source].len() - 1
            }
        };
        let key = recipe_key(
            &facts_of[source].identity,
            timelines[source].time_base(),
            recipe,
        );
        ensure!(p.recipe == key, "{}: recipe key", element.id);
        ensure!(
            p.source == format!("s{}", source + 1),
            "{}: source id",
            element.id
        );
        ensure!(
            p.start_us == element.start_us && p.fps == element.fps,
            "{}: start and fps",
            element.id
        );
        let ticks = crate::reference::ticks(element);
        ensure!(
            p.ticks == ticks,
            "{}: ticks {} ≠ ceil(duration × fps) = {ticks}",
            element.id,
            p.ticks
        );
        let frames: Vec<u64> = p.shown().collect();
        ensure!(
            frames.len() as u64 == ticks,
            "{}: its runs expand to {} frames for {ticks} ticks",
            element.id,
            frames.len()
        );
        if let Some(len) = timelines[source].len() {
            ensure!(
                frames.iter().all(|&f| f < len),
                "{}: a frame past the source's last",
                element.id
            );
        }
        if compare {
            let first_facts = &facts_of[source];
            if let Some(want) = crate::reference::frames(element, Some(first_facts)) {
                ensure!(
                    frames == want,
                    "{}: frames differ from the rule\n  plan: {:?}\n  rule: {:?}",
                    element.id,
                    frames,
                    want
                );
            }
        }
        let distinct: BTreeSet<u64> = frames.iter().copied().collect();
        ensure!(
            p.distinct_frames == distinct.len() as u64,
            "{}: distinct frames",
            element.id
        );
        seen.push(Seen {
            frames,
            distinct,
            source,
            recipe: recipe_index,
        });
    }

    // Sources and recipes.
    ensure!(
        plan.sources.len() == source_order.len(),
        "one source plan per identity"
    );
    let mut runs_by_id: BTreeMap<&str, (usize, usize, &framex_core::DecodeRun)> = BTreeMap::new();
    for (s, sp) in plan.sources.iter().enumerate() {
        ensure!(sp.id == format!("s{}", s + 1), "source ids in order");
        ensure!(sp.identity == source_order[s], "{}: identity", sp.id);
        ensure!(
            sp.src == first_src[s],
            "{}: the src of its first element",
            sp.id
        );
        ensure!(
            sp.time_base == timelines[s].time_base(),
            "{}: time base",
            sp.id
        );
        ensure!(sp.frames == timelines[s].len(), "{}: frame count", sp.id);
        ensure!(
            sp.assumed_rate.is_some() == facts_of[s].timeline.is_none(),
            "{}: assumed exactly when no timeline was given",
            sp.id
        );
        ensure!(
            sp.recipes.len() == recipe_order[s].len(),
            "{}: recipes",
            sp.id
        );
        for (r, rp) in sp.recipes.iter().enumerate() {
            let recipe = recipe_order[s][r];
            ensure!(
                rp.format == recipe.format
                    && rp.alpha == recipe.alpha
                    && rp.transfer == recipe.transfer,
                "{}: recipe {r}",
                sp.id
            );
            ensure!(
                rp.key == recipe_key(&sp.identity, sp.time_base, recipe),
                "{}: recipe key",
                sp.id
            );
            for run in &rp.runs {
                ensure!(
                    runs_by_id.insert(&run.id, (s, r, run)).is_none(),
                    "run ids are unique"
                );
            }
        }
    }
    let run_count = runs_by_id.len();
    for n in 1..=run_count {
        ensure!(
            runs_by_id.contains_key(format!("r{n}").as_str()),
            "runs are r1..r{run_count}"
        );
    }

    // Per recipe: the frames needed, cached, made.
    let mut needed: BTreeMap<(usize, usize), BTreeMap<u64, usize>> = BTreeMap::new();
    for (index, e) in seen.iter().enumerate() {
        let frames = needed.entry((e.source, e.recipe)).or_default();
        for &f in &e.distinct {
            frames.entry(f).or_insert(index);
        }
    }
    let cached = |s: usize, r: usize, frame: u64| {
        let key = &plan.sources[s].recipes[r].key;
        request
            .cached_frames
            .get(key)
            .is_some_and(|set| set.contains(&timelines[s].pts(frame)))
    };
    let (mut distinct_total, mut hits_total, mut make_total, mut decode_total) = (0, 0, 0, 0);
    // Runs sorted by (leader, source, recipe, keyframe) must be r1, r2, ….
    let mut run_order: Vec<(usize, usize, usize, u64, String)> = Vec::new();
    for (s, sp) in plan.sources.iter().enumerate() {
        let timeline = &timelines[s];
        for (r, rp) in sp.recipes.iter().enumerate() {
            let needs = needed.get(&(s, r)).cloned().unwrap_or_default();
            let hits = needs.keys().filter(|&&f| cached(s, r, f)).count() as u64;
            ensure!(
                rp.distinct_frames == needs.len() as u64,
                "{} {}: distinct frames",
                sp.id,
                rp.key
            );
            ensure!(rp.cache_hits == hits, "{} {}: cache hits", sp.id, rp.key);
            distinct_total += needs.len() as u64;
            hits_total += hits;
            let to_make: Vec<u64> = needs
                .keys()
                .copied()
                .filter(|&f| !cached(s, r, f))
                .collect();
            let mut made: Vec<u64> = Vec::new();
            let mut previous_last: Option<u64> = None;
            for run in &rp.runs {
                let make: Vec<u64> = run.make.iter().collect();
                ensure!(!make.is_empty(), "{}: a run makes frames", run.id);
                ensure!(
                    make.windows(2).all(|w| w[0] < w[1]),
                    "{}: frames ascending",
                    run.id
                );
                let (first, last) = (make[0], *make.last().unwrap());
                ensure!(run.last == last, "{}: ends at its last frame", run.id);
                ensure!(
                    run.keyframe == keyframe_for(timeline, first),
                    "{}: starts at keyframe {} ≠ the keyframe at or before frame {first}",
                    run.id,
                    run.keyframe
                );
                ensure!(
                    run.decoded() == last - run.keyframe + 1,
                    "{}: decoded",
                    run.id
                );
                // Merged exactly when decoding through is cheaper than a seek.
                let seek = u64::from(request.options.seek_cost_frames);
                for w in make.windows(2) {
                    let k = keyframe_for(timeline, w[1]);
                    ensure!(
                        k <= w[0] || k - w[0] - 1 < seek,
                        "{}: frames {} and {} should be two runs",
                        run.id,
                        w[0],
                        w[1]
                    );
                }
                if let Some(before) = previous_last {
                    ensure!(
                        run.keyframe > before && run.keyframe - before > seek,
                        "{}: should have merged with the run before (ends {before})",
                        run.id
                    );
                }
                previous_last = Some(last);
                let leader = make
                    .iter()
                    .map(|f| needs.get(f).copied())
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| format!("{}: makes a frame nobody shows", run.id))?
                    .into_iter()
                    .min()
                    .unwrap();
                ensure!(
                    run.leader == elements[leader].id,
                    "{}: led by {}, not the first element needing it ({})",
                    run.id,
                    run.leader,
                    elements[leader].id
                );
                run_order.push((leader, s, r, run.keyframe, run.id.clone()));
                decode_total += run.decoded();
                made.extend(make);
            }
            ensure!(
                made == to_make,
                "{} {}: runs make exactly the needed frames not cached",
                sp.id,
                rp.key
            );
            make_total += made.len() as u64;
        }
    }
    run_order.sort();
    for (n, (.., id)) in run_order.iter().enumerate() {
        ensure!(
            *id == format!("r{}", n + 1),
            "runs numbered in order of their leaders"
        );
    }

    // Per element: cache facts, runs, roles.
    let run_of = |s: usize, r: usize, frame: u64| {
        plan.sources[s].recipes[r]
            .runs
            .iter()
            .find(|run| {
                run.keyframe <= frame && frame <= run.last && run.make.iter().any(|f| f == frame)
            })
            .map(|run| run.id.clone())
    };
    let mut duplicates = 0;
    for (index, (e, p)) in seen.iter().zip(&plan.elements).enumerate() {
        let id = &elements[index].id;
        let hits = e
            .distinct
            .iter()
            .filter(|&&f| cached(e.source, e.recipe, f))
            .count() as u64;
        ensure!(p.cache_hits == hits, "{id}: cache hits");
        let mut runs: Vec<String> = e
            .distinct
            .iter()
            .filter(|&&f| !cached(e.source, e.recipe, f))
            .map(|&f| {
                run_of(e.source, e.recipe, f).ok_or_else(|| format!("{id}: frame {f} is in no run"))
            })
            .collect::<Result<BTreeSet<_>, _>>()?
            .into_iter()
            .collect();
        runs.sort_by_key(|r| r[1..].parse::<u64>().unwrap());
        ensure!(p.runs == runs, "{id}: runs {:?} ≠ {:?}", p.runs, runs);
        let earlier = seen[..index]
            .iter()
            .position(|o| o.source == e.source && o.recipe == e.recipe && o.frames == e.frames);
        match (&p.role, earlier) {
            (Role::Duplicate { of }, Some(first)) => {
                ensure!(
                    *of == elements[first].id,
                    "{id}: duplicate of the first with its frames"
                );
                duplicates += 1;
            }
            (role, Some(first)) => {
                return Err(format!(
                    "{id}: shows the frames of {} but is {role:?}",
                    elements[first].id
                ))
            }
            (Role::Duplicate { of }, None) => {
                return Err(format!("{id}: duplicate of {of}, whose frames differ"))
            }
            (Role::CacheHit, None) => ensure!(runs.is_empty(), "{id}: a cache hit uses no run"),
            (Role::Leader, None) => ensure!(
                runs.iter().any(|r| runs_by_id[r.as_str()].2.leader == *id),
                "{id}: a leader leads a run it uses"
            ),
            (Role::Shares { run, leader }, None) => {
                ensure!(runs.contains(run), "{id}: shares a run it uses");
                ensure!(
                    runs_by_id[run.as_str()].2.leader == *leader && leader != id,
                    "{id}: shares {run} led by {leader}"
                );
                ensure!(
                    !runs.iter().any(|r| runs_by_id[r.as_str()].2.leader == *id),
                    "{id}: leads a run, so it is a leader"
                );
            }
        }
    }

    // Warnings: a start at or past a known end.
    let warned: Vec<&str> = plan
        .warnings
        .iter()
        .map(|w| w.element_id.as_str())
        .collect();
    let expected: Vec<&str> = elements
        .iter()
        .zip(&seen)
        .filter(|(element, e)| {
            timelines[e.source]
                .end_us()
                .is_some_and(|end| element.start_us >= end)
        })
        .map(|(element, _)| element.id.as_str())
        .collect();
    ensure!(warned == expected, "warnings {warned:?} ≠ {expected:?}");

    // Totals.
    let t = &plan.totals;
    ensure!(t.elements == elements.len() as u64, "totals.elements");
    ensure!(t.frames_requested == total_ticks, "totals.framesRequested");
    ensure!(t.distinct_frames == distinct_total, "totals.distinctFrames");
    ensure!(
        t.dedupe_hits == t.frames_requested - t.distinct_frames,
        "totals.dedupeHits"
    );
    ensure!(t.cache_hits == hits_total, "totals.cacheHits");
    ensure!(
        t.frames_to_make == make_total && make_total == distinct_total - hits_total,
        "totals.framesToMake"
    );
    ensure!(
        t.frames_saved == t.frames_requested - t.frames_to_make,
        "totals.framesSaved"
    );
    ensure!(t.decode_runs == run_count as u64, "totals.decodeRuns");
    ensure!(t.frames_to_decode == decode_total, "totals.framesToDecode");
    ensure!(t.duplicates == duplicates, "totals.duplicates");

    // The plan reads back from its JSON as itself.
    let json = serde_json::to_string(plan).map_err(|e| e.to_string())?;
    let back: Plan = serde_json::from_str(&json).map_err(|e| format!("{e}: {json}"))?;
    ensure!(back == *plan, "the plan round-trips through JSON");
    Ok(())
}
