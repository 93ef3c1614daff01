//! Inputs that reach the planner: damaged valid requests, any numbers in
//! elements, planning twice; and how often the shaped documents get there.

use std::collections::BTreeMap;

use framex_core::{
    plan, plan_elements, validate, Composition, Request, SourceFacts, SourceIdentity,
};
use framex_tests::generate::{
    composition_like, element_like, request, request_like, source_spec, ELEMENT_FIELDS,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use serde_json::Value;

use crate::checks::{check_text, config, facts, plan_deterministically};
use crate::inputs::{any_element, damaged};

proptest! {
    #![proptest_config(config(200))]

    /// Valid requests, damaged by a few edits.
    #[test]
    fn damaged_requests_never_panic(
        request in request(4),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0..3usize, ".{0,3}"), 1..4),
    ) {
        let text = serde_json::to_string(&request).unwrap();
        check_text(&damaged(&text, edits))?;
    }

    /// Any `f64` and any rate text in the elements of a request with real
    /// sources; the elements that validate plan the same on their own.
    #[test]
    fn arbitrary_numbers_in_elements_never_panic(
        elements in prop::collection::vec(any_element(), 0..6),
        a in source_spec(),
        duration_us in prop::option::of(any::<i64>()),
        seek_cost in any::<u32>(),
    ) {
        let sources: BTreeMap<String, SourceFacts> = [
            ("a.mp4".to_string(), a.facts(SourceIdentity::Name { name: "a".into() }, true)),
            ("b.mp4".to_string(), SourceFacts {
                identity: SourceIdentity::Name { name: "b".into() },
                duration_us,
                ..SourceFacts::default()
            }),
        ]
        .into_iter()
        .collect();
        let mut request = Request {
            composition: Composition { elements },
            sources,
            ..Request::default()
        };
        request.options.seek_cost_frames = seek_cost;
        let planned = plan_deterministically(&request)?;
        if let Ok(valid) = validate(&request.composition, &request.sources) {
            let direct = plan_elements(&valid, &request.sources, &request.cached_frames, &request.options);
            prop_assert_eq!(direct.ok().map(|p| serde_json::to_string(&p).unwrap()), planned);
        }
    }

    /// Requests that plan: the same plan from their JSON, compact and
    /// pretty (other key order, other whitespace).
    #[test]
    fn planning_is_deterministic(request in request(8)) {
        let value = serde_json::to_value(&request).unwrap();
        let planned = check_text(&value.to_string())?;
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        prop_assert_eq!(planned, check_text(&pretty)?);
    }
}
/// The composition-shaped documents reach the planner often enough for the
/// fuzzing to test it and not only the parser (about a quarter parse and a
/// tenth plan; the rest are refused on a field's type, a missing field, an
/// unknown one or a value).
#[test]
fn composition_shaped_documents_reach_the_planner() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = composition_like();
    let (mut parsed, mut planned) = (0, 0);
    for _ in 0..1000 {
        let value = strategy.new_tree(&mut runner).unwrap().current();
        if let Ok(composition) = Composition::from_json(&value.to_string()) {
            parsed += 1;
            let request = Request {
                composition,
                sources: facts(),
                ..Request::default()
            };
            planned += usize::from(plan(&request).is_ok());
        }
    }
    assert!(
        parsed >= 150 && planned >= 60,
        "{parsed} of 1000 parsed, {planned} planned"
    );
}

/// So do the request-shaped ones, sources and timelines included.
#[test]
fn request_shaped_documents_reach_the_planner() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = request_like();
    let (mut parsed, mut planned, mut with_timeline) = (0, 0, 0);
    for _ in 0..2000 {
        let value = strategy.new_tree(&mut runner).unwrap().current();
        if let Ok(request) = Request::from_json(&value.to_string()) {
            parsed += 1;
            if plan(&request).is_ok() {
                planned += 1;
                with_timeline +=
                    usize::from(request.sources.values().any(|s| s.timeline.is_some()));
            }
        }
    }
    assert!(
        parsed >= 100 && planned >= 40 && with_timeline >= 10,
        "{parsed} of 2000 parsed, {planned} planned, {with_timeline} with a timeline"
    );
}

/// Every element field is generated.
#[test]
fn element_like_names_every_field() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = element_like();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..500 {
        if let Value::Object(map) = strategy.new_tree(&mut runner).unwrap().current() {
            seen.extend(map.keys().cloned());
        }
    }
    for field in ELEMENT_FIELDS {
        assert!(seen.contains(field), "{field} never generated");
    }
}
