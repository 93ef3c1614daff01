//! Generators of this test only: token soups, damaged text, any numbers
//! and rates in elements.

use framex_core::{ElementInput, FpsInput};
use proptest::prelude::*;
use proptest::sample::select;

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

pub(crate) fn token_soup() -> impl Strategy<Value = String> {
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

pub(crate) fn any_element() -> impl Strategy<Value = ElementInput> {
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
pub(crate) fn damaged(text: &str, edits: Vec<(prop::sample::Index, usize, String)>) -> String {
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
