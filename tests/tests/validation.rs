//! Validation beyond the snapshot corpus: every invalid element of a
//! composition is reported, and only those; an id that passes the check is
//! one plain path component on every platform.

use framex_core::{plan, Composition, ElementInput, FpsInput, Request};
use proptest::prelude::*;
use proptest::sample::select;

fn good(id: &str) -> ElementInput {
    ElementInput {
        id: id.into(),
        src: "a.mp4".into(),
        media_start: 0.0,
        duration: 1.0,
        start: None,
        media_duration: None,
        fps: FpsInput::Number(30.0),
        playback_rate: None,
        looping: false,
        format: "png".into(),
        sdr_to_hdr_transfer: None,
        identity: None,
    }
}

/// A composition of valid elements with broken ones between them reports
/// exactly the broken ones, each with its field.
#[test]
fn every_invalid_element_is_reported() {
    let bad = [
        ElementInput {
            media_start: -1.0,
            ..good("neg")
        },
        ElementInput {
            duration: 0.0,
            ..good("zero")
        },
        ElementInput {
            fps: FpsInput::Text("30/0".into()),
            ..good("fps")
        },
        ElementInput {
            format: "gif".into(),
            ..good("gif")
        },
        ElementInput {
            media_start: f64::NAN,
            ..good("nan")
        },
        ElementInput {
            playback_rate: Some(FpsInput::Number(0.0)),
            ..good("rate")
        },
        ElementInput {
            // 1000 fps for 1001 s: one tick over the cap.
            fps: FpsInput::Number(1000.0),
            duration: 1000.001,
            ..good("ticks")
        },
        ElementInput {
            media_duration: Some(-1.0),
            ..good("trim")
        },
        ElementInput {
            // No source facts: no pass length.
            looping: true,
            ..good("loop")
        },
    ];
    let mut elements = Vec::new();
    for (i, b) in bad.iter().enumerate() {
        elements.push(good(&format!("ok{i}")));
        elements.push(b.clone());
    }
    // Valid in the frame model: a slow rate at a high fps (the old planner
    // refused its fine source grid), and a loop with a trim on an unknown source.
    elements.push(ElementInput {
        fps: FpsInput::Number(1000.0),
        playback_rate: Some(FpsInput::Text("1/100".into())),
        ..good("slow")
    });
    elements.push(ElementInput {
        looping: true,
        media_duration: Some(0.5),
        ..good("trimmed-loop")
    });
    let request = Request {
        composition: Composition { elements },
        ..Request::default()
    };
    let error = plan(&request).unwrap_err();
    let reported: Vec<(u32, &str, String)> = error
        .element_errors()
        .iter()
        .map(|e| (e.index, e.id.as_str(), e.field.to_string()))
        .collect();
    let expected = [
        (1, "neg", "mediaStart"),
        (3, "zero", "duration"),
        (5, "fps", "fps"),
        (7, "gif", "format"),
        (9, "nan", "mediaStart"),
        (11, "rate", "playbackRate"),
        (13, "ticks", "duration"),
        (15, "trim", "mediaDuration"),
        (17, "loop", "loop"),
    ];
    let expected: Vec<(u32, &str, String)> = expected
        .iter()
        .map(|&(i, id, field)| (i, id, field.to_string()))
        .collect();
    assert_eq!(reported, expected);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// An id that passes the check is one plain path component: it cannot
    /// leave the output directory or name something else.
    #[test]
    fn accepted_ids_are_plain_directory_names(id in prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9 ./\\\\:*?<>|\"\u{0}\t-]{0,10}",
        select(vec!["con", "CON.txt", "com1", "lpt9.x", "aux", "nul", "prn", "framex-report.json"])
            .prop_map(String::from),
    ]) {
        if framex_core::check_id(&id).is_ok() {
            use std::path::{Component, Path};
            let components: Vec<_> = Path::new(&id).components().collect();
            prop_assert_eq!(components, vec![Component::Normal(id.as_ref())]);
            prop_assert!(!id.is_empty() && id.len() <= 128);
            prop_assert!(!id.chars().any(|c| c.is_control() || "/\\:*?\"<>|".contains(c)));
            // Windows drops trailing dots and spaces (ASCII only) from names.
            prop_assert!(!id.starts_with('.') && !id.ends_with('.'));
            prop_assert!(!id.starts_with(' ') && !id.ends_with(' '));
            let stem = id.split('.').next().unwrap().to_ascii_lowercase();
            let reserved = ["con", "prn", "aux", "nul"].contains(&stem.as_str())
                || (stem.len() == 4
                    && (stem.starts_with("com") || stem.starts_with("lpt"))
                    && stem.as_bytes()[3].is_ascii_digit());
            prop_assert!(!reserved && id != "framex-report.json", "{:?} is reserved", id);
        }
    }
}
