//! Fuzzing the composition parser and the planner (issue 7, item 5), with
//! proptest: arbitrary bytes, soups of JSON tokens, and JSON values shaped
//! like compositions and requests (objects with the real field names holding
//! values of every type) go through `Composition::from_json`, `validate`,
//! `Request::from_json` and `plan`. No input may make them panic: what they
//! refuse is an `Err` with a message (and, for syntax, a line). And planning
//! is deterministic: the same input planned twice, on another thread, after
//! a round trip through JSON, or by the `framex` binary in another process
//! (other hash seeds, other allocator state) gives the same JSON.
//!
//! `tests/properties.rs` fuzzes the planner's inputs too, with its own
//! generators; this file adds raw bytes, token soups, composition-shaped
//! documents, and the determinism checks. Sized to run in seconds.

use std::collections::{BTreeMap, BTreeSet};

use framex_core::{
    plan, validate, Composition, PlanError, PlanOptions, Request, SourceFacts, SourceIdentity,
};
use framex_tests::plan_case_json;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Map, Value};

const CASES: u32 = 2000;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------
// The checks.

/// Facts for some of the names the generators use as `src`.
fn facts() -> BTreeMap<String, SourceFacts> {
    let file = SourceFacts {
        identity: SourceIdentity::File {
            path: "/media/a.mp4".into(),
            size: 1 << 20,
            mtime_ns: 1_700_000_000_000_000_000,
        },
        duration_us: Some(3_003_000),
        alpha: false,
        vfr: false,
    };
    let content = SourceFacts {
        identity: SourceIdentity::Content {
            blake3: "ab".repeat(32),
        },
        duration_us: Some(10_000_000),
        alpha: true,
        vfr: true,
    };
    [
        ("a.mp4".to_string(), file.clone()),
        ("alias/a.mp4".to_string(), file),
        ("b.mp4".to_string(), content),
    ]
    .into_iter()
    .collect()
}

/// Plans `request` twice and on another thread: the same result each time,
/// and a result that is well-formed.
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
            prop_assert_eq!(plan.assignments.len(), request.composition.elements.len());
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
    if let PlanError::Invalid(errors) = error {
        prop_assert!(!errors.is_empty());
        for e in errors {
            let element = request.composition.elements.get(e.index as usize);
            prop_assert!(element.is_some(), "error for a missing element: {}", e);
            prop_assert_eq!(&element.unwrap().id, &e.id);
            prop_assert!(!e.detail().message.is_empty());
        }
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
    let facts = facts();
    for sources in [BTreeMap::new(), facts] {
        let validated = validate(composition, &sources);
        let request = Request {
            composition: composition.clone(),
            sources,
            cached_keys: BTreeSet::new(),
            options: PlanOptions::default(),
        };
        let planned = plan_deterministically(&request)?;
        // `plan` refuses exactly what `validate` refuses.
        prop_assert_eq!(validated.is_ok(), planned.is_some());
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
// The generators.

const FIELDS: [&str; 7] = [
    "id",
    "src",
    "mediaStart",
    "duration",
    "fps",
    "format",
    "sdrToHdrTransfer",
];

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
    "\"cachedKeys\"",
    "\"options\"",
    "\"superset\"",
    "\"supersetGapUs\"",
    "\"identity\"",
    "\"kind\"",
    "\"file\"",
    "\"name\"",
    "\"content\"",
    "\"path\"",
    "\"size\"",
    "\"mtimeNs\"",
    "\"blake3\"",
    "\"durationUs\"",
    "\"alpha\"",
    "\"vfr\"",
    "\"id\"",
    "\"src\"",
    "\"mediaStart\"",
    "\"duration\"",
    "\"fps\"",
    "\"format\"",
    "\"sdrToHdrTransfer\"",
    "\"png\"",
    "\"jpeg\"",
    "\"pq\"",
    "\"hlg\"",
    "\"a.mp4\"",
    "\"b.mp4\"",
    "\"30000/1001\"",
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

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from), // NaN and infinities become null
        select(vec![
            0.0,
            -0.0,
            1e-7,
            4e-7,
            5e-7,
            0.5,
            2.5,
            3.003,
            29.97,
            59.94,
            1000.0,
            1000.0001,
            1e7,
            1e7 + 1.0,
            1e308,
            -1.0,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::EPSILON,
        ])
        .prop_map(Value::from),
        (0..200u32).prop_map(|n| json!(f64::from(n) / 8.0)),
    ]
}

fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,12}",
        "[a-z0-9./ -]{0,8}",
        select(vec![
            "",
            "png",
            "jpeg",
            "gif",
            "pq",
            "hlg",
            "a.mp4",
            "alias/a.mp4",
            "b.mp4",
            "30000/1001",
            "24000/1001",
            "29.97",
            "1/0",
            "0/0",
            "4294967295/1",
            "1/4294967295",
            "NaN",
            "inf",
            "-0",
            ".",
            "..",
            "../../x",
            "a/b",
            "con",
            "CON.txt",
            "framex-report.json",
            "\u{0}",
            "\u{1b}[2J",
            "é",
            "\u{202e}",
        ])
        .prop_map(String::from),
        (any::<u32>(), any::<u32>()).prop_map(|(n, d)| format!("{n}/{d}")),
        (1usize..300).prop_map(|n| "x".repeat(n)),
    ]
}

/// Any JSON value, small.
fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        string().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![select(FIELDS.to_vec()).prop_map(String::from), ".{0,6}"],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A value for field `field`: of the right type most of the time, of any
/// type now and then.
fn field_value(field: &'static str) -> BoxedStrategy<Value> {
    let right: BoxedStrategy<Value> = match field {
        "id" => prop_oneof![
            3 => (0..6u32).prop_map(|n| json!(format!("e{n}"))),
            1 => string().prop_map(Value::String),
        ]
        .boxed(),
        "src" => prop_oneof![
            3 => select(vec!["a.mp4", "alias/a.mp4", "b.mp4", "n.mp4"]).prop_map(|s| json!(s)),
            1 => string().prop_map(Value::String),
        ]
        .boxed(),
        "fps" => prop_oneof![
            number(),
            select(vec![24, 25, 30, 60]).prop_map(|n| json!(n)),
            string().prop_map(Value::String),
        ]
        .boxed(),
        "format" => prop_oneof![
            3 => select(vec!["png", "jpeg"]).prop_map(|s| json!(s)),
            1 => string().prop_map(Value::String),
        ]
        .boxed(),
        "sdrToHdrTransfer" => prop_oneof![
            select(vec!["pq", "hlg"]).prop_map(|s| json!(s)),
            string().prop_map(Value::String),
        ]
        .boxed(),
        // mediaStart, duration
        _ => prop_oneof![
            3 => (0..40u32).prop_map(|n| json!(f64::from(n) / 10.0)),
            2 => number(),
        ]
        .boxed(),
    };
    prop_oneof![20 => right, 1 => any_value()].boxed()
}

/// An element: each real field present most of the time, now and then an
/// unknown one, now and then not an object at all.
fn element_like() -> BoxedStrategy<Value> {
    let fields: Vec<_> = FIELDS
        .iter()
        .map(|&f| {
            let weight = if f == "sdrToHdrTransfer" { 0.2 } else { 0.98 };
            prop::option::weighted(weight, field_value(f)).prop_map(move |v| (f, v))
        })
        .collect();
    let object = (
        fields,
        prop::option::weighted(0.05, (".{1,10}", any_value())),
    )
        .prop_map(|(fields, extra)| {
            let mut map: Map<String, Value> = fields
                .into_iter()
                .filter_map(|(f, v)| Some((f.to_string(), v?)))
                .collect();
            if let Some((k, v)) = extra {
                map.insert(k, v);
            }
            Value::Object(map)
        });
    prop_oneof![20 => object, 1 => any_value()].boxed()
}

fn composition_like() -> impl Strategy<Value = Value> {
    let elements = prop_oneof![
        20 => prop::collection::vec(element_like(), 0..8).prop_map(Value::Array),
        1 => any_value(),
    ];
    (
        elements,
        prop::option::weighted(0.05, (".{1,8}", any_value())),
    )
        .prop_map(|(elements, extra)| {
            let mut map = Map::new();
            map.insert("elements".into(), elements);
            if let Some((k, v)) = extra {
                map.insert(k, v);
            }
            Value::Object(map)
        })
}

fn identity_like() -> impl Strategy<Value = Value> {
    prop_oneof![
        (string(), any::<u64>(), any::<i64>()).prop_map(|(path, size, mtime)| {
            json!({"kind": "file", "path": path, "size": size, "mtimeNs": mtime})
        }),
        string().prop_map(|b| json!({"kind": "content", "blake3": b})),
        string().prop_map(|n| json!({"kind": "name", "name": n})),
        any_value(),
    ]
}

fn request_like() -> impl Strategy<Value = Value> {
    let facts = (
        identity_like(),
        prop::option::of(prop_oneof![
            (0..5_000_000i64).prop_map(Value::from),
            number()
        ]),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(identity, duration, alpha, vfr)| {
            let mut facts = json!({"identity": identity, "alpha": alpha, "vfr": vfr});
            if let Some(d) = duration {
                facts["durationUs"] = d;
            }
            facts
        });
    (
        composition_like(),
        prop::collection::btree_map(
            select(vec!["a.mp4", "alias/a.mp4", "b.mp4"]).prop_map(String::from),
            facts,
            0..3,
        ),
        prop::option::of((any::<bool>(), number())),
        prop::collection::vec(string(), 0..3),
    )
        .prop_map(|(composition, sources, options, cached)| {
            let mut request =
                json!({"composition": composition, "sources": sources, "cachedKeys": cached});
            if let Some((superset, gap)) = options {
                request["options"] = json!({"superset": superset, "supersetGapUs": gap});
            }
            request
        })
}

/// Compositions that mostly plan: few ids, sources and rates, starts and
/// durations on and off the frame grids, so that dedupe, superset groups and
/// clamping at a source's end all happen.
fn valid_request() -> impl Strategy<Value = Value> {
    let element = (
        select(vec!["a.mp4", "alias/a.mp4", "b.mp4", "n.mp4"]),
        prop_oneof![(0..30u32).prop_map(|n| f64::from(n) / 10.0), 0.0..3.0f64],
        prop_oneof![(1..30u32).prop_map(|n| f64::from(n) / 10.0), 0.001..4.0f64],
        select(vec![
            json!(30),
            json!(24),
            json!(29.97),
            json!("30000/1001"),
            json!(60),
            json!(7),
            json!(0.4),
        ]),
        select(vec!["png", "jpeg"]),
        select(vec![None, None, Some("pq"), Some("hlg")]),
    );
    (
        prop::collection::vec(element, 0..12),
        any::<bool>(),
        select(vec![0i64, 100_000, 1_000_000]),
    )
        .prop_map(|(elements, superset, gap)| {
            let elements: Vec<Value> = elements
                .into_iter()
                .enumerate()
                .map(|(i, (src, start, duration, fps, format, transfer))| {
                    let mut e = json!({"id": format!("e{i}"), "src": src, "mediaStart": start,
                        "duration": duration, "fps": fps, "format": format});
                    if let Some(t) = transfer {
                        e["sdrToHdrTransfer"] = json!(t);
                    }
                    e
                })
                .collect();
            json!({
                "composition": {"elements": elements},
                "sources": serde_json::to_value(facts()).unwrap(),
                "options": {"superset": superset, "supersetGapUs": gap},
            })
        })
}

// ---------------------------------------------------------------------------
// The properties.

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        // What a file of these bytes reads as (the executor refuses non-UTF-8
        // before parsing; the lossy text still exercises the parser).
        check_text(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn json_token_soups_never_panic(text in token_soup()) {
        check_text(&text)?;
        check_text(&format!("{{\"elements\":[{text}]}}"))?;
        check_text(&format!("{{\"composition\":{{\"elements\":[{{\"id\":{text}}}]}}}}"))?;
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

    #[test]
    fn planning_is_deterministic(value in valid_request()) {
        let text = value.to_string();
        let planned = check_text(&text)?;
        // Reordering the keys of the document changes nothing.
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        prop_assert_eq!(planned, check_text(&pretty)?);
    }
}

/// Enough of the valid requests plan for the determinism property to mean
/// something.
#[test]
fn most_generated_requests_plan() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = valid_request();
    let planned = (0..200)
        .filter(|_| {
            let value = strategy.new_tree(&mut runner).unwrap().current();
            plan_case_json(&value.to_string()).is_ok()
        })
        .count();
    assert!(planned >= 150, "only {planned} of 200 planned");
}

/// Inputs far beyond what the generators reach: deep nesting everywhere a
/// value can go, a megabyte of one string, an id of 100 000 characters,
/// every number JSON can write. Errors or plans, never a crash.
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
    let deep_array = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
    let deep_object = format!("{}1{}", r#"{"a":"#.repeat(200_000), "}".repeat(200_000));
    let mut texts = vec![
        deep_array.clone(),
        deep_object.clone(),
        format!(r#"{{"elements":{deep_array}}}"#),
        format!(r#"{{"composition":{deep_object}}}"#),
        format!(r#"{{"composition":{{"elements":[]}},"sources":{{"a.mp4":{deep_object}}}}}"#),
        format!(r#"{{"composition":{{"elements":[]}},"cachedKeys":{deep_array}}}"#),
        "\"".to_string() + &"x".repeat(1 << 20),
        format!("\"{}\"", "\\u0000".repeat(100_000)),
        " ".repeat(1 << 20),
    ];
    for field in FIELDS {
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
            let _ = Composition::from_json(text).map(|c| check_composition_plain(&c));
            let _ = plan_case_json(text);
        });
        assert!(
            result.is_ok(),
            "panicked on {}…",
            &text[..text.len().min(80)]
        );
    }
}

fn check_composition_plain(composition: &Composition) {
    let request = Request {
        composition: composition.clone(),
        sources: facts(),
        ..Request::default()
    };
    let _ = plan(&request);
}

/// The same requests planned by `framex plan --request --json` (another
/// process: another hash seed, another allocator history) give exactly the
/// library's plans.
#[test]
fn plans_are_the_same_in_another_process() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = valid_request();
    let dir = tempfile::tempdir().unwrap();
    let mut compared = 0;
    for i in 0..24 {
        let value = strategy.new_tree(&mut runner).unwrap().current();
        let text = value.to_string();
        let Ok(native) = plan_case_json(&text) else {
            continue;
        };
        let path = dir.path().join(format!("request-{i}.json"));
        std::fs::write(&path, &text).unwrap();
        let cli = framex_tests::framex_plan_json(&["--request"], &path);
        assert_eq!(cli, native, "request {i}: {text}");
        compared += 1;
    }
    assert!(compared >= 12, "only {compared} requests planned");
}

/// The composition-shaped documents reach the planner often enough for the
/// fuzzing to test it and not only the parser (about a quarter parse and an
/// eighth plan; the rest are refused on a field's type, a missing field, an
/// unknown one or a value).
#[test]
fn composition_shaped_documents_reach_the_planner() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
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
