//! JSON values of every type for the fuzz tests: numbers at the edges,
//! strings of every kind, and any small value keyed by the request's names.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Value};

/// Element fields.
pub const ELEMENT_FIELDS: [&str; 11] = [
    "id",
    "src",
    "mediaStart",
    "duration",
    "mediaDuration",
    "fps",
    "playbackRate",
    "loop",
    "format",
    "sdrToHdrTransfer",
    "identity",
];

/// Every other name a request uses.
pub const REQUEST_FIELDS: [&str; 20] = [
    "composition",
    "elements",
    "sources",
    "cachedFrames",
    "options",
    "seekCostFrames",
    "identity",
    "kind",
    "file",
    "content",
    "name",
    "path",
    "size",
    "mtimeNs",
    "blake3",
    "alpha",
    "timeline",
    "timeBase",
    "pts",
    "keyframes",
];

/// Numbers at the edges: integers of every size, any `f64` (NaN and the
/// infinities serialize as `null`), and the values rules turn on.
pub fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
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

/// Strings: anything short, names the generators use, rates, hostile ids.
pub fn string() -> impl Strategy<Value = String> {
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
            "1/15360",
            "1/90000",
            "1001/30000",
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

/// Any JSON value, small, with the request's names as keys now and then.
pub fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        string().prop_map(Value::String),
    ];
    let key = prop_oneof![
        select(ELEMENT_FIELDS.to_vec()).prop_map(String::from),
        select(REQUEST_FIELDS.to_vec()).prop_map(String::from),
        ".{0,6}",
    ];
    leaf.prop_recursive(3, 24, 4, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
