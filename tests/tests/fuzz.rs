//! Fuzzing the request parser and the planner with proptest: arbitrary
//! bytes and text, soups of JSON tokens, damaged requests, and JSON values
//! shaped like compositions and requests (objects with the real field names
//! holding values of every type; timelines with runs of any integers) go
//! through `Composition::from_json`, `validate`, `Request::from_json` and
//! `plan`. No input may make them panic: what they refuse is an `Err` with a
//! message (and, for syntax, a line), and a plan that comes back passes
//! `framex_tests::plan_check::check_plan`. Planning is deterministic: the same
//! input planned twice, on another thread, or after a round trip through
//! JSON gives the same plan. (`tests/plan_cli.rs` compares with the plans of
//! the `framex` binary, another process.)
//!
//! The generators are shared with `tests/properties.rs`
//! (`framex_tests::generate`). Sized to run in seconds.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use framex_core::{
    plan, plan_elements, validate, Composition, ElementInput, FpsInput, PlanError, Request,
    SourceFacts, SourceIdentity,
};
use framex_tests::generate::{
    composition_like, element_like, request, request_like, source_spec, ELEMENT_FIELDS,
};
use framex_tests::plan_case_json;
use framex_tests::plan_check::{check_plan, Depth};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::ValueTree;
use serde_json::{json, Map, Value};

fn config(cases: u32) -> ProptestConfig {
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

// ---------------------------------------------------------------------------
// The checks.

/// Facts for the names the generators use as `src` (but `n.mp4`): the
/// sources of one generated request.
fn facts() -> BTreeMap<String, SourceFacts> {
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
fn plan_deterministically(request: &Request) -> Result<Option<String>, TestCaseError> {
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
fn check_text(text: &str) -> Result<Option<String>, TestCaseError> {
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

// ---------------------------------------------------------------------------
// Generators of this file: token soups, damaged text, any numbers.

/// JSON fragments: structure, the real names, values near the edges, and
/// things JSON parsers trip on.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    " ",
    "\n",
    "\"",
    "\\",
    "\"elements\"",
    "\"composition\"",
    "\"sources\"",
    "\"cachedFrames\"",
    "\"options\"",
    "\"seekCostFrames\"",
    "\"identity\"",
    "\"kind\"",
    "\"file\"",
    "\"name\"",
    "\"content\"",
    "\"path\"",
    "\"size\"",
    "\"mtimeNs\"",
    "\"blake3\"",
    "\"timeline\"",
    "\"timeBase\"",
    "\"pts\"",
    "\"end\"",
    "\"keyframes\"",
    "\"frameRate\"",
    "\"durationUs\"",
    "\"alpha\"",
    "\"id\"",
    "\"src\"",
    "\"mediaStart\"",
    "\"duration\"",
    "\"mediaDuration\"",
    "\"fps\"",
    "\"playbackRate\"",
    "\"loop\"",
    "\"format\"",
    "\"sdrToHdrTransfer\"",
    "\"png\"",
    "\"jpeg\"",
    "\"pq\"",
    "\"hlg\"",
    "\"a.mp4\"",
    "\"b.mp4\"",
    "\"30000/1001\"",
    "\"1/15360\"",
    "\"1/0\"",
    "\"0/1\"",
    "\"-30/1\"",
    "\"NaN\"",
    "\"Infinity\"",
    "\"../x\"",
    "\"con\"",
    "\"\"",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"\\udc00\\ud800\"",
    "\"\\uffff\"",
    "\"é\"",
    "[0,512,90]",
    "[0,0,1]",
    "[[0,1,3]]",
    "0",
    "-0",
    "1",
    "-1",
    "0.5",
    "30",
    "29.97",
    "1000",
    "1000.0005",
    "1e7",
    "1e308",
    "-1e308",
    "1e400",
    "4.9e-324",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775809",
    "123456789012345678901234567890",
    "0.30000000000000004",
    "1E2",
    "1e",
    "01",
    ".5",
    "+1",
    "true",
    "false",
    "null",
    "nul",
    "NaN",
    "Infinity",
    "\u{feff}",
    "/*",
    "//",
    "'",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(select(TOKENS), 0..48).prop_map(|tokens| tokens.concat())
}

/// `-0`, NaN, the infinities, the limits, and anything at all.
fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        select(vec![
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            0.0,
            1e-9,
            0.0000005,
            1e7,
            1e7 + 1e-3,
            -1e7,
            1e300,
            f64::MAX,
            f64::MIN,
            f64::EPSILON,
            999.9999999,
            1000.0,
            1000.0005,
        ]),
        -10.0..10_000.0f64,
    ]
}

fn any_fps() -> impl Strategy<Value = FpsInput> {
    prop_oneof![
        any_f64().prop_map(FpsInput::Number),
        (any::<u32>(), any::<u32>()).prop_map(|(n, d)| FpsInput::Text(format!("{n}/{d}"))),
        (0..2000u32, 1..4_294_967_295u32).prop_map(|(n, d)| FpsInput::Text(format!("{n}/{d}"))),
        any_f64().prop_map(|v| FpsInput::Text(v.to_string())),
        ".{0,8}".prop_map(FpsInput::Text),
    ]
}

fn any_element() -> impl Strategy<Value = ElementInput> {
    (
        select(vec!["a", "b", "c", "d", "e", ""]),
        select(vec!["a.mp4", "b.mp4", "n.mp4", ""]),
        any_f64(),
        any_f64(),
        any_fps(),
        select(vec!["png", "jpeg", "gif"]),
        select(vec![None, Some("pq"), Some("x")]),
        (
            prop::option::weighted(0.3, any_f64()),
            prop::option::weighted(0.3, any_fps()),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                id,
                src,
                media_start,
                duration,
                fps,
                format,
                transfer,
                (media_duration, rate, looping),
            )| {
                ElementInput {
                    id: id.into(),
                    src: src.into(),
                    media_start,
                    duration,
                    start: None,
                    media_duration,
                    fps,
                    playback_rate: rate,
                    looping,
                    format: format.into(),
                    sdr_to_hdr_transfer: transfer.map(Into::into),
                    identity: None,
                }
            },
        )
}

/// Applies up to three edits (cut a few characters, insert a few) to `text`.
fn damaged(text: &str, edits: Vec<(prop::sample::Index, usize, String)>) -> String {
    let mut text = text.to_string();
    for (at, cut, insert) in edits {
        let mut at = at.index(text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        let mut end = (at + cut).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        text.replace_range(at..end, &insert);
    }
    text
}

// ---------------------------------------------------------------------------
// The properties.

proptest! {
    #![proptest_config(config(600))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        // What a file of these bytes reads as (the executor refuses non-UTF-8
        // before parsing; the lossy text still exercises the parser).
        check_text(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn arbitrary_text_never_panics(text in prop_oneof![
        any::<String>(),
        r#"[\[\]{}",:0-9a-zA-Z./ eE+-]{0,80}"#,
    ]) {
        check_text(&text)?;
    }

    #[test]
    fn json_token_soups_never_panic(text in token_soup()) {
        check_text(&text)?;
        check_text(&format!("{{\"elements\":[{text}]}}"))?;
        check_text(&format!("{{\"composition\":{{\"elements\":[{{\"id\":{text}}}]}}}}"))?;
        check_text(&format!(
            "{{\"composition\":{{\"elements\":[]}},\"sources\":{{\"a.mp4\":{{\"identity\":{{\"kind\":\"name\",\"name\":\"a\"}},\"timeline\":{text}}}}}}}"
        ))?;
    }

    #[test]
    fn composition_shaped_json_never_panics(value in composition_like()) {
        check_text(&value.to_string())?;
        check_text(&serde_json::to_string_pretty(&value).unwrap())?;
        check_text(&json!({"composition": value}).to_string())?;
    }

    #[test]
    fn request_shaped_json_never_panics(value in request_like()) {
        check_text(&value.to_string())?;
    }
}

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

/// Inputs far beyond what the generators reach: deep nesting everywhere a
/// value can go, a megabyte of one string, an id of 100 000 characters,
/// every number JSON can write, timelines of ten million frames and runs
/// that overflow. Errors or plans, never a crash.
#[test]
fn extreme_documents_are_errors_not_crashes() {
    let element = |field: &str, value: &str| {
        let mut e: Map<String, Value> = serde_json::from_str(
            r#"{"id":"a","src":"a.mp4","mediaStart":0,"duration":1,"fps":30,"format":"png"}"#,
        )
        .unwrap();
        e.remove(field);
        let fields: Vec<String> = e
            .iter()
            .map(|(k, v)| format!("{}:{}", json!(k), v))
            .chain([format!("{}:{value}", json!(field))])
            .collect();
        format!(r#"{{"elements":[{{{}}}]}}"#, fields.join(","))
    };
    let with_timeline = |timeline: &str| {
        format!(
            r#"{{"composition":{{"elements":[{{"id":"a","src":"a.mp4","mediaStart":9999999,"duration":1000,"fps":1000,"format":"png","loop":true}}]}},
                "sources":{{"a.mp4":{{"identity":{{"kind":"name","name":"a"}},"timeline":{timeline}}}}}}}"#
        )
    };
    let deep_array = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
    let deep_object = format!("{}1{}", r#"{"a":"#.repeat(200_000), "}".repeat(200_000));
    let mut texts = vec![
        deep_array.clone(),
        deep_object.clone(),
        format!(r#"{{"elements":{deep_array}}}"#),
        format!(r#"{{"composition":{deep_object}}}"#),
        format!(r#"{{"composition":{{"elements":[]}},"sources":{{"a.mp4":{deep_object}}}}}"#),
        format!(r#"{{"composition":{{"elements":[]}},"cachedFrames":{deep_array}}}"#),
        "\"".to_string() + &"x".repeat(1 << 20),
        format!("\"{}\"", "\\u0000".repeat(100_000)),
        " ".repeat(1 << 20),
        with_timeline(r#"{"timeBase":"1/4294967295","pts":[[0,1,10000000]],"end":10000000}"#),
        with_timeline(r#"{"timeBase":"4294967295/1","pts":[[0,1,2]],"end":9223372036854775807}"#),
        with_timeline(
            r#"{"timeBase":"1/4294967295","pts":[[0,4294967295,2]],"end":9223372036854775807}"#,
        ),
        with_timeline(r#"{"timeBase":"1/1","pts":[[0,1,10000001]],"end":10000001}"#),
        with_timeline(r#"{"timeBase":"1/1","pts":[[0,9223372036854775807,2]],"end":1}"#),
        with_timeline(r#"{"timeBase":"1/1","pts":[[0,1,1]],"end":2,"keyframes":[[0,1,10000000]]}"#),
    ];
    for field in ELEMENT_FIELDS {
        texts.push(element(field, &deep_array));
        texts.push(element(field, &deep_object));
        texts.push(element(field, &json!("y".repeat(100_000)).to_string()));
        for number in [
            "1e400",
            "-1e400",
            "1e-400",
            "18446744073709551616",
            "-9223372036854775809",
            "0.0000000000000000000000000000000000001",
            &"9".repeat(10_000),
        ] {
            texts.push(element(field, number));
        }
    }
    for text in &texts {
        let result = std::panic::catch_unwind(|| {
            let _ = Composition::from_json(text).map(|c| {
                plan(&Request {
                    composition: c,
                    sources: facts(),
                    ..Request::default()
                })
            });
            let _ = plan_case_json(text);
        });
        assert!(
            result.is_ok(),
            "panicked on {}…",
            &text[..text.len().min(80)]
        );
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
