//! Properties of the planner over random requests (`framex_tests::generate`):
//! sources with random timelines (constant rate in many time bases,
//! jittered, gapped, one frame, variable, assumed from a rate), elements at
//! many rates, playback rates, trims and loops, random cached frames and
//! seek costs.
//!
//! Every plan is checked by `framex_tests::plan_check::check_plan`: each
//! element's frames equal the rule as `framex_tests::reference` computes it
//! (plain `i128` rationals, written from the words); every frame to
//! make lies in exactly one decode run of its recipe, runs start at the
//! keyframe at or before their first frame, are disjoint, ascending and
//! merged exactly when the seek cost says; every needed frame is cached or
//! made, never both; roles, cache facts and totals add up; the plan
//! round-trips through JSON. Beyond that: plans are deterministic, refused
//! exactly when `validate` refuses, independent of input order but for who
//! leads, and a full cache leaves nothing to make.

use std::collections::{BTreeMap, BTreeSet};

use framex_core::{plan, validate, Plan, Request, Role};
use framex_tests::generate::{request, request_spec};
use framex_tests::plan_check::{check_plan, Depth};
use proptest::prelude::*;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

/// Plans `request`, checking what holds for any request: `plan` fails
/// exactly when `validate` does, twice gives the same plan, and so does the
/// request after a round trip through JSON.
fn planned(request: &Request) -> Result<Option<Plan>, TestCaseError> {
    let result = plan(request);
    prop_assert_eq!(
        result.is_ok(),
        validate(&request.composition, &request.sources).is_ok(),
        "plan fails exactly when validate does: {:?}",
        result.as_ref().err()
    );
    prop_assert_eq!(&plan(request), &result, "the same request, the same plan");
    let text = serde_json::to_string(request).expect("a request serializes");
    let back = Request::from_json(&text);
    prop_assert!(back.is_ok(), "{} does not read back: {:?}", text, back);
    prop_assert_eq!(&plan(&back.unwrap()), &result, "after a JSON round trip");
    Ok(result.ok())
}

/// What a plan says, independently of input order: per source identity and
/// recipe key, its distinct frames, cached frames and the frames each run
/// makes; per element id, its frames.
type Outcome = (
    BTreeMap<String, (u64, u64, Vec<(u64, u64, String)>)>,
    BTreeMap<String, Vec<u64>>,
);

fn outcome(plan: &Plan) -> Outcome {
    let recipes = plan
        .sources
        .iter()
        .flat_map(|s| {
            s.recipes.iter().map(move |r| {
                let runs = r
                    .runs
                    .iter()
                    .map(|run| (run.keyframe, run.last, run.make.to_string()))
                    .collect();
                (
                    format!("{:?} {}", s.identity, r.key),
                    (r.distinct_frames, r.cache_hits, runs),
                )
            })
        })
        .collect();
    let elements = plan
        .elements
        .iter()
        .map(|e| (e.element_id.clone(), e.shown().collect()))
        .collect();
    (recipes, elements)
}

proptest! {
    #![proptest_config(config(256))]

    /// Every plan follows the rule and adds up (see `check_plan`).
    #[test]
    fn plans_follow_the_rule_and_add_up(spec in request_spec(8)) {
        let request = spec.request();
        if let Some(plan) = planned(&request)? {
            let checked = check_plan(&request, &plan, Depth::default());
            prop_assert!(checked.is_ok(), "{}", checked.unwrap_err());
        }
    }

    /// Reordering the elements changes who leads and how runs and sources
    /// are numbered, nothing else.
    #[test]
    fn input_order_changes_only_who_leads(
        request in request(8),
        order in any::<prop::sample::Index>(),
    ) {
        let Some(first) = planned(&request)? else { return Ok(()) };
        let mut shuffled = request.clone();
        let n = shuffled.composition.elements.len();
        if n > 1 {
            shuffled.composition.elements.reverse();
            let k = order.index(n);
            shuffled.composition.elements.rotate_left(k);
        }
        let second = plan(&shuffled).expect("the same elements plan in any order");
        prop_assert_eq!(outcome(&first), outcome(&second));
        let (a, b) = (&first.totals, &second.totals);
        prop_assert_eq!(
            (a.frames_requested, a.distinct_frames, a.cache_hits, a.frames_to_make),
            (b.frames_requested, b.distinct_frames, b.cache_hits, b.frames_to_make)
        );
        prop_assert_eq!(
            (a.decode_runs, a.frames_to_decode, a.duplicates),
            (b.decode_runs, b.frames_to_decode, b.duplicates)
        );
    }

    /// With every frame it shows in the store, a request makes nothing: no
    /// run, every element a cache hit or a duplicate.
    #[test]
    fn a_full_cache_leaves_nothing_to_make(request in request(6)) {
        let Some(cold) = planned(&request)? else { return Ok(()) };
        let mut warm = request.clone();
        for (e, input) in cold.elements.iter().zip(&request.composition.elements) {
            let timeline = framex_core::source_facts(&input.src, &request.sources).timeline().into_owned();
            let set = warm.cached_frames.entry(e.recipe.clone()).or_default();
            set.extend(e.shown().map(|f| timeline.pts(f)));
        }
        let plan = plan(&warm).expect("more cached frames, still a plan");
        let checked = check_plan(&warm, &plan, Depth::default());
        prop_assert!(checked.is_ok(), "{}", checked.unwrap_err());
        prop_assert_eq!(plan.totals.frames_to_make, 0);
        prop_assert_eq!(plan.totals.decode_runs, 0);
        prop_assert_eq!(plan.totals.cache_hits, cold.totals.distinct_frames);
        for e in &plan.elements {
            prop_assert!(
                matches!(e.role, Role::CacheHit | Role::Duplicate { .. }),
                "{} is {:?}", e.element_id, e.role
            );
        }
    }

    /// A dearer seek merges more: never more runs, the same frames made.
    #[test]
    fn a_dearer_seek_never_adds_runs(request in request(8), extra in 1..200u32) {
        let Some(cheap) = planned(&request)? else { return Ok(()) };
        let mut dear = request.clone();
        dear.options.seek_cost_frames = request.options.seek_cost_frames.saturating_add(extra);
        let dear = plan(&dear).unwrap();
        prop_assert!(dear.totals.decode_runs <= cheap.totals.decode_runs);
        prop_assert!(dear.totals.frames_to_decode >= cheap.totals.frames_to_decode);
        prop_assert_eq!(dear.totals.frames_to_make, cheap.totals.frames_to_make);
        let made = |p: &Plan| -> BTreeSet<(String, u64)> {
            p.runs().flat_map(|(_, r, run)| run.make.iter().map(move |f| (r.key.clone(), f))).collect()
        };
        prop_assert_eq!(made(&dear), made(&cheap));
    }
}

/// Enough generated requests plan, and enough of them share, cache, loop,
/// hold and split runs, for the properties to mean something.
#[test]
fn the_generated_requests_exercise_the_planner() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = request(8);
    let (mut planned, mut shared, mut cached, mut several_runs, mut duplicates) = (0, 0, 0, 0, 0);
    for _ in 0..300 {
        let request = strategy.new_tree(&mut runner).unwrap().current();
        let Ok(plan) = plan(&request) else { continue };
        planned += 1;
        let t = &plan.totals;
        shared += usize::from(t.dedupe_hits > 0);
        cached += usize::from(t.cache_hits > 0);
        several_runs += usize::from(
            plan.sources
                .iter()
                .any(|s| s.recipes.iter().any(|r| r.runs.len() > 1)),
        );
        duplicates += usize::from(t.duplicates > 0);
    }
    assert!(planned >= 240, "only {planned} of 300 planned");
    for (what, n) in [
        ("shared frames", shared),
        ("cache hits", cached),
        ("split runs", several_runs),
        ("duplicates", duplicates),
    ] {
        assert!(n >= 30, "only {n} of {planned} plans have {what}");
    }
}
