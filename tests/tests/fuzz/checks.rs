//! The checks every fuzzed input goes through: parse, validate and plan
//! without a panic, refusals with a message, plans that pass `check_plan`
//! and come out the same every time.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use framex_core::{plan, validate, Composition, PlanError, Request, SourceFacts};
use framex_tests::generate::request;
use framex_tests::plan_case_json;
use framex_tests::plan_check::{check_plan, Depth};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use serde_json::Value;

pub(crate) fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

/// The reference rule is slow on huge slots; the structure is checked on
/// every plan.
const DEPTH: Depth = Depth {
    reference_ticks: 20_000,
};

/// Facts for the names the generators use as `src` (but `n.mp4`): the
/// sources of one generated request.
pub(crate) fn facts() -> BTreeMap<String, SourceFacts> {
    static FACTS: OnceLock<BTreeMap<String, SourceFacts>> = OnceLock::new();
    FACTS
        .get_or_init(|| {
            let mut runner = proptest::test_runner::TestRunner::deterministic();
            request(0).new_tree(&mut runner).unwrap().current().sources
        })
        .clone()
}

/// Plans `request` twice and on another thread: the same result each time,
/// a plan that passes `check_plan`, or an error that says what is wrong.
pub(crate) fn plan_deterministically(request: &Request) -> Result<Option<String>, TestCaseError> {
    let first = plan(request);
    let again = plan(request);
    let elsewhere = {
        let request = request.clone();
        std::thread::spawn(move || plan(&request))
            .join()
            .expect("planning does not panic")
    };
    prop_assert_eq!(&first, &again);
    prop_assert_eq!(&first, &elsewhere);
    match first {
        Ok(plan) => {
            let checked = check_plan(request, &plan, DEPTH);
            prop_assert!(checked.is_ok(), "{}", checked.unwrap_err());
            let text = serde_json::to_string(&plan).expect("a plan serializes");
            prop_assert_eq!(
                &text,
                &serde_json::to_string(&again.unwrap()).unwrap(),
                "same plan, same bytes"
            );
            Ok(Some(text))
        }
        Err(error) => {
            check_plan_error(&error, request)?;
            Ok(None)
        }
    }
}

fn check_plan_error(error: &PlanError, request: &Request) -> Result<(), TestCaseError> {
    prop_assert!(!error.to_string().is_empty());
    match error {
        PlanError::Invalid(errors) => {
            prop_assert!(!errors.is_empty());
            for e in errors {
                let element = request.composition.elements.get(e.index as usize);
                prop_assert!(element.is_some(), "error for a missing element: {}", e);
                prop_assert_eq!(&element.unwrap().id, &e.id);
                prop_assert!(!e.detail().message.is_empty());
            }
        }
        PlanError::TooManyElements { .. } => {}
        other => prop_assert!(false, "only element errors after parsing: {}", other),
    }
    Ok(())
}

/// Everything a text goes through: as a composition (validated and planned
/// with and without source facts) and as a request. Returns the plan JSON of
/// the text as a request, if it planned.
pub(crate) fn check_text(text: &str) -> Result<Option<String>, TestCaseError> {
    match Composition::from_json(text) {
        Ok(composition) => check_composition(&composition)?,
        Err(error) => {
            prop_assert!(error.line >= 1, "a parse error has a line: {}", error);
            prop_assert!(!error.message.is_empty());
        }
    }
    match Request::from_json(text) {
        Ok(request) => {
            let planned = plan_deterministically(&request)?;
            // The shared helper (snapshots, wasm parity) agrees.
            match (&planned, plan_case_json(text)) {
                (Some(text), Ok(value)) => {
                    prop_assert_eq!(serde_json::from_str::<Value>(text).unwrap(), value)
                }
                (None, Err(message)) => prop_assert!(!message.is_empty()),
                (planned, helper) => prop_assert!(false, "{:?} vs {:?}", planned, helper),
            }
            Ok(planned)
        }
        Err(error) => {
            prop_assert!(error.line >= 1, "a parse error has a line: {}", error);
            prop_assert!(plan_case_json(text).is_err());
            Ok(None)
        }
    }
}

fn check_composition(composition: &Composition) -> Result<(), TestCaseError> {
    for sources in [BTreeMap::new(), facts()] {
        let validated = validate(composition, &sources);
        let request = Request {
            composition: composition.clone(),
            sources,
            ..Request::default()
        };
        let planned = plan_deterministically(&request)?;
        // `plan` refuses what `validate` refuses, and plans what it accepts
        // unless an element's exact arithmetic would overflow.
        match (&validated, &planned) {
            (Ok(_), None) => prop_assert!(
                plan(&request)
                    .unwrap_err()
                    .element_errors()
                    .iter()
                    .all(|e| e.problem == framex_core::Problem::TimeOverflow),
                "plan refuses only what validate refuses"
            ),
            (Err(_), Some(_)) => prop_assert!(false, "a refused composition planned"),
            _ => {}
        }
        // A composition that parsed round-trips through JSON to the same
        // composition and the same plan.
        let text = serde_json::to_string(composition).expect("a composition serializes");
        let again = Composition::from_json(&text);
        prop_assert!(again.is_ok(), "{} does not parse back: {:?}", text, again);
        let again = again.unwrap();
        prop_assert_eq!(&again, composition);
        let replanned = plan_deterministically(&Request {
            composition: again,
            ..request
        })?;
        prop_assert_eq!(planned, replanned);
    }
    Ok(())
}
