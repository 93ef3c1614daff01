//! JSON shaped like requests ([`request_like`]) and their parts: the real
//! field names holding values of every type.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Map, Value};

use super::element::SOURCES;
use super::source::source_spec;
use super::values::{any_value, number, string, ELEMENT_FIELDS};

pub fn field_value(field: &'static str) -> BoxedStrategy<Value> {
    let right: BoxedStrategy<Value> = match field {
        "id" => prop_oneof![
            3 => (0..6u32).prop_map(|n| json!(format!("e{n}"))),
            1 => string().prop_map(Value::String),
        ]
        .boxed(),
        "src" => prop_oneof![
            3 => select(SOURCES.to_vec()).prop_map(|s| json!(s)),
            1 => string().prop_map(Value::String),
        ]
        .boxed(),
        "fps" | "playbackRate" => prop_oneof![
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
        "identity" => prop_oneof![
            select(vec!["file", "content"]).prop_map(|s| json!(s)),
            string().prop_map(Value::String),
        ]
        .boxed(),
        "loop" => any::<bool>().prop_map(Value::Bool).boxed(),
        // mediaStart, duration, mediaDuration
        _ => prop_oneof![
            3 => (0..40u32).prop_map(|n| json!(f64::from(n) / 10.0)),
            2 => number(),
        ]
        .boxed(),
    };
    prop_oneof![20 => right, 1 => any_value()].boxed()
}

/// An element: the required fields present most of the time, the optional
/// ones now and then, now and then an unknown one or no object at all.
pub fn element_like() -> BoxedStrategy<Value> {
    let fields: Vec<_> = ELEMENT_FIELDS
        .iter()
        .map(|&f| {
            let weight = match f {
                "id" | "src" | "mediaStart" | "duration" | "fps" | "format" => 0.97,
                _ => 0.15,
            };
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

/// `{"elements": [...]}`, now and then with something else in it.
pub fn composition_like() -> impl Strategy<Value = Value> {
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

/// Source identities of the three kinds, and anything.
pub fn identity_like() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => (string(), any::<u64>(), any::<i64>()).prop_map(|(path, size, mtime)| {
            json!({"kind": "file", "path": path, "size": size, "mtimeNs": mtime})
        }),
        3 => string().prop_map(|b| json!({"kind": "content", "blake3": b})),
        3 => string().prop_map(|n| json!({"kind": "name", "name": n})),
        1 => any_value(),
    ]
}

/// Runs `[first, step, count]` of any integers.
fn runs_like() -> impl Strategy<Value = Value> {
    let int = prop_oneof![
        3 => -2..100i64,
        1 => any::<i64>(),
        1 => select(vec![i64::MIN, i64::MAX, 4_611_686_018_427_387_904, 10_000_001]),
    ];
    prop_oneof![
        4 => prop::collection::vec((int.clone(), int.clone(), int), 0..4)
            .prop_map(|runs| json!(runs.into_iter().map(|(a, b, c)| vec![a, b, c]).collect::<Vec<_>>())),
        1 => any_value(),
    ]
}

/// Timelines: real ones (from [`source_spec`]) as JSON, and damaged ones:
/// runs of any integers, odd time bases and ends, missing or extra fields.
pub fn timeline_like() -> impl Strategy<Value = Value> {
    let real = source_spec().prop_filter_map("probed", |spec| {
        spec.timeline()
            .map(|t| serde_json::to_value(t).expect("a timeline serializes"))
    });
    let damaged = (
        prop_oneof![string().prop_map(Value::String), any_value()],
        runs_like(),
        prop_oneof![number(), any_value()],
        prop::option::of(runs_like()),
    )
        .prop_map(|(time_base, pts, end, keyframes)| {
            let mut t = json!({"timeBase": time_base, "pts": pts, "end": end});
            if let Some(k) = keyframes {
                t["keyframes"] = k;
            }
            t
        });
    let edited = (source_spec(), any::<prop::sample::Index>(), any_value()).prop_filter_map(
        "probed",
        |(spec, field, value)| {
            let mut t = serde_json::to_value(spec.timeline()?).ok()?;
            let fields = ["timeBase", "pts", "end", "keyframes", "extra"];
            t[fields[field.index(fields.len())]] = value;
            Some(t)
        },
    );
    prop_oneof![3 => real, 2 => damaged, 2 => edited]
}

/// A source's facts: an identity, and a timeline, or a rate and duration.
pub fn facts_like() -> impl Strategy<Value = Value> {
    (
        identity_like(),
        prop::option::weighted(0.6, timeline_like()),
        prop::option::weighted(
            0.2,
            prop_oneof![
                select(vec!["30/1", "24/1", "30000/1001", "0/1", "1/0", "x"])
                    .prop_map(|s| json!(s)),
                number(),
            ],
        ),
        prop::option::weighted(
            0.2,
            prop_oneof![(0..5_000_000i64).prop_map(Value::from), number()],
        ),
        prop_oneof![10 => any::<bool>().prop_map(Value::Bool), 1 => any_value()],
    )
        .prop_map(|(identity, timeline, rate, duration, alpha)| {
            let mut facts = json!({"identity": identity, "alpha": alpha});
            if let Some(t) = timeline {
                facts["timeline"] = t;
            }
            if let Some(r) = rate {
                facts["frameRate"] = r;
            }
            if let Some(d) = duration {
                facts["durationUs"] = d;
            }
            facts
        })
}

/// Requests of roughly the right shape, with any values in their fields.
pub fn request_like() -> impl Strategy<Value = Value> {
    let cached = prop::collection::btree_map(
        prop_oneof![string(), Just("0".repeat(64))],
        prop_oneof![
            4 => prop::collection::vec(prop_oneof![0..100_000i64, any::<i64>()], 0..6).prop_map(|v| json!(v)),
            1 => any_value(),
        ],
        0..3,
    );
    let options = prop_oneof![
        (0..100_000u32).prop_map(|n| json!({"seekCostFrames": n})),
        number().prop_map(|n| json!({"seekCostFrames": n})),
        any_value(),
    ];
    (
        composition_like(),
        prop::collection::btree_map(
            select(SOURCES.to_vec()).prop_map(String::from),
            facts_like(),
            0..3,
        ),
        prop::option::of(cached),
        prop::option::of(options),
    )
        .prop_map(|(composition, sources, cached, options)| {
            let mut request = json!({"composition": composition, "sources": sources});
            if let Some(c) = cached {
                request["cachedFrames"] = json!(c);
            }
            if let Some(o) = options {
                request["options"] = o;
            }
            request
        })
}
