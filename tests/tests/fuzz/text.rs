//! Text and JSON of any shape through the parser: arbitrary bytes and
//! text, token soups, composition- and request-shaped values, and documents
//! far beyond what the generators reach.

use framex_core::{plan, Composition, Request};
use framex_tests::generate::{composition_like, request_like, ELEMENT_FIELDS};
use framex_tests::plan_case_json;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

use crate::checks::{check_text, config, facts};
use crate::inputs::token_soup;

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
