//! What every plan must satisfy, checked from the request alone: the frames
//! of every element against [`crate::reference`], decode runs, roles, cache
//! facts and totals recomputed here. Shared by the property and fuzz tests.

use std::collections::BTreeSet;

use framex_core::{plan_elements, validate, Plan, Request};

/// Fails the check with a message when `cond` is false.
macro_rules! ensure {
    ($cond:expr, $($what:tt)+) => {
        if !$cond {
            return Err(format!($($what)+));
        }
    };
}

mod elements;
mod roles;
mod runs;
mod sources;

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

/// What the element checks learnt: the sources in order of first use, by
/// identity, with the `src` that first named each, its timeline and facts
/// and its recipes in order of first use.
#[derive(Default)]
struct Sources<'a> {
    order: Vec<framex_core::SourceIdentity>,
    first_src: Vec<&'a str>,
    timelines: Vec<framex_core::Timeline>,
    facts: Vec<framex_core::SourceFacts>,
    recipes: Vec<Vec<framex_core::Recipe>>,
}

/// Whether `frame` of recipe `r` of source `s` is in the request's cached
/// frames.
fn cached(
    request: &Request,
    plan: &Plan,
    sources: &Sources<'_>,
    s: usize,
    r: usize,
    frame: u64,
) -> bool {
    let key = &plan.sources[s].recipes[r].key;
    request
        .cached_frames
        .get(key)
        .is_some_and(|set| set.contains(&sources.timelines[s].pts(frame)))
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

    let total_ticks: u64 = elements.iter().map(crate::reference::ticks).sum();
    let compare = total_ticks <= depth.reference_ticks;
    let (sources, seen) = elements::check_elements(request, plan, &elements, compare)?;
    let runs_by_id = sources::check_sources(plan, &sources)?;
    let made = runs::check_runs(request, plan, &elements, &sources, &seen)?;
    let duplicates = roles::check_roles(request, plan, &elements, &sources, &seen, &runs_by_id)?;

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
            sources.timelines[e.source]
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
    ensure!(t.distinct_frames == made.distinct, "totals.distinctFrames");
    ensure!(
        t.dedupe_hits == t.frames_requested - t.distinct_frames,
        "totals.dedupeHits"
    );
    ensure!(t.cache_hits == made.hits, "totals.cacheHits");
    ensure!(
        t.frames_to_make == made.make && made.make == made.distinct - made.hits,
        "totals.framesToMake"
    );
    ensure!(
        t.frames_saved == t.frames_requested - t.frames_to_make,
        "totals.framesSaved"
    );
    ensure!(
        t.decode_runs == runs_by_id.len() as u64,
        "totals.decodeRuns"
    );
    ensure!(t.frames_to_decode == made.decode, "totals.framesToDecode");
    ensure!(t.duplicates == duplicates, "totals.duplicates");

    // The plan reads back from its JSON as itself.
    let json = serde_json::to_string(plan).map_err(|e| e.to_string())?;
    let back: Plan = serde_json::from_str(&json).map_err(|e| format!("{e}: {json}"))?;
    ensure!(back == *plan, "the plan round-trips through JSON");
    Ok(())
}
