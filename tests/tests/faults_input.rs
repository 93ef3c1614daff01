//! Hostile compositions (issue 7 item 4), table-driven
//! (`framex_tests::hostile`): malformed JSON, wrong types, unknown fields,
//! huge and NaN-like numbers, ids that are not directory names. Each is
//! refused whole with exit code 2 and a message that names the line and
//! column, the field, the element or the value, and nothing is written
//! anywhere: no output or store directory, no report.

use framex_tests::hostile::{element, good, invalid, on_src, run_all, with, Case, Text};
use serde_json::json;

/// The malformed and invalid compositions: each refused whole, exit 2.
fn invalid_cases() -> Vec<Case> {
    let long_id = "x".repeat(10 * 1024);
    let deep = format!(
        r#"{{"elements":[{{"id":"a","src":"good.mp4","mediaStart":0,"duration":1,"fps":{}1{},"format":"png"}}]}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    vec![
        invalid(
            "syntax error",
            Text::Raw("{\"elements\": [\n  {\"id\": \"a\",, \"src\": \"x\"}\n]}"),
            &["line 2, column 14", "key must be a string"],
        ),
        invalid(
            "truncated",
            Text::Raw(r#"{"elements": [{"id": "a""#),
            &["line 1, column 24", "EOF while parsing"],
        ),
        invalid(
            "trailing garbage",
            Text::Raw("{\"elements\": []}\n;rm -rf /"),
            &["line 2, column 1", "trailing characters"],
        ),
        invalid(
            "top level is an array",
            Text::Raw("[[]]"),
            &[
                "line 1, column 1",
                "invalid type: sequence, expected struct Composition",
            ],
        ),
        invalid(
            "element is an array of its values",
            Text::Raw(r#"{"elements": [["a", "good.mp4", 0, 1, 30, "png"]]}"#),
            &[
                "elements[0]: line 1, column 15",
                "invalid type: sequence, expected struct ElementInput",
            ],
        ),
        invalid(
            "empty file",
            Text::Raw(""),
            &["line 1, column 0", "EOF while parsing a value"],
        ),
        invalid(
            "not UTF-8",
            Text::Bytes(b"{\"elements\": [{\"id\": \"\xff\xfe\"}]}"),
            &["cannot read composition", "did not contain valid UTF-8"],
        ),
        invalid(
            "byte order mark",
            Text::Raw("\u{feff}{\"elements\": []}"),
            &["line 1, column 1", "expected value"],
        ),
        invalid(
            "id is a number",
            with(element(json!({"id": 42}))),
            &[
                "elements[1].id",
                "invalid type: integer `42`, expected a string",
            ],
        ),
        invalid(
            "duration is a string",
            with(element(json!({"duration": "10"}))),
            &["elements[1].duration", "invalid type: string \"10\""],
        ),
        invalid(
            "elements is an object",
            Text::Json(json!({"elements": {"0": good()}})),
            &["elements", "invalid type: map, expected a sequence"],
        ),
        invalid(
            "missing fps",
            with(element(json!({"fps": null}))),
            &["elements[1]", "missing field `fps`"],
        ),
        invalid(
            "unknown field",
            with(element(json!({"durration": 2}))),
            &["elements[1].durration", "unknown field `durration`"],
        ),
        invalid(
            "unknown top-level field",
            Text::Json(json!({"elements": [good()], "version": 2})),
            &["version", "unknown field `version`, expected `elements`"],
        ),
        invalid(
            "duration 1e308",
            with(element(json!({"duration": 1e308}))),
            &[
                r#"element "bad" (#1): `duration`"#,
                "is not a usable time in seconds",
            ],
        ),
        invalid(
            "number beyond f64",
            Text::Raw(
                r#"{"elements":[{"id":"a","src":"good.mp4","mediaStart":0,"duration":1e400,"fps":30,"format":"png"}]}"#,
            ),
            &["elements[0].duration", "number out of range"],
        ),
        invalid(
            "fps 1e9",
            with(element(json!({"fps": 1e9}))),
            &[r#"element "bad" (#1): `fps` 1000000000 is not a frame rate"#],
        ),
        invalid(
            "fps 1/4294967296",
            with(element(json!({"fps": "1/4294967296"}))),
            &[r#"`fps` "1/4294967296" is not a frame rate"#],
        ),
        invalid(
            "mediaStart \"NaN\"",
            with(element(json!({"mediaStart": "NaN"}))),
            &[
                "elements[1].mediaStart",
                "invalid type: string \"NaN\", expected f64",
            ],
        ),
        invalid(
            "duration null",
            Text::Raw(
                r#"{"elements":[{"id":"a","src":"good.mp4","mediaStart":0,"duration":null,"fps":30,"format":"png"}]}"#,
            ),
            &["elements[0].duration", "invalid type: null, expected f64"],
        ),
        invalid(
            "fps \"NaN\"",
            with(element(json!({"fps": "NaN"}))),
            &[r#"`fps` "NaN" is not a frame rate"#],
        ),
        invalid(
            "fps \"Infinity\"",
            with(element(json!({"fps": "Infinity"}))),
            &[r#"`fps` "Infinity" is not a frame rate"#],
        ),
        invalid(
            "fps 1/0",
            with(element(json!({"fps": "1/0"}))),
            &[r#"`fps` "1/0" is not a frame rate"#],
        ),
        invalid(
            "fps zero",
            with(element(json!({"fps": 0}))),
            &["`fps` 0 is not a frame rate"],
        ),
        invalid(
            "negative duration",
            with(element(json!({"duration": -1}))),
            &[r#"element "bad" (#1): `duration` must be positive, got -1"#],
        ),
        invalid(
            "zero duration",
            with(element(json!({"duration": 0}))),
            &["`duration` must be positive, got 0"],
        ),
        invalid(
            "duration below a microsecond",
            with(element(json!({"duration": 1e-7}))),
            &["`duration` must be positive"],
        ),
        invalid(
            "negative start",
            with(element(json!({"mediaStart": -0.5}))),
            &["`mediaStart` must be zero or positive, got -0.5"],
        ),
        // A start past the source's end is no longer invalid: the element
        // shows the source's last frame, with a warning (tests/timeline.rs).
        invalid(
            "id ../../x",
            with(element(json!({"id": "../../x"}))),
            &[r#"element "../../x" (#1): `id` is not a safe directory name: contains '/'"#],
        ),
        invalid(
            "id a/b",
            with(element(json!({"id": "a/b"}))),
            &[r#"element "a/b" (#1): `id` is not a safe directory name"#],
        ),
        invalid(
            "id a\\b",
            with(element(json!({"id": "a\\b"}))),
            &[r#"`id` is not a safe directory name: contains '\\'"#],
        ),
        invalid(
            "id .",
            with(element(json!({"id": "."}))),
            &[
                r#"element "." (#1): `id` is not a safe directory name: is a relative path component"#,
            ],
        ),
        invalid(
            "id ..",
            with(element(json!({"id": ".."}))),
            &[
                r#"element ".." (#1): `id` is not a safe directory name: is a relative path component"#,
            ],
        ),
        invalid(
            "id /abs",
            with(element(json!({"id": "/tmp/framex-escape"}))),
            &["`id` is not a safe directory name: contains '/'"],
        ),
        invalid(
            "id con (a Windows device name)",
            with(element(json!({"id": "con"}))),
            &[r#"element "con" (#1): `id` is not a safe directory name: is a reserved name"#],
        ),
        invalid(
            "id LPT1.txt",
            with(element(json!({"id": "LPT1.txt"}))),
            &["is a reserved name"],
        ),
        invalid(
            "id framex-report.json",
            with(element(json!({"id": "framex-report.json"}))),
            &["is a reserved name"],
        ),
        invalid(
            "id .hidden",
            with(element(json!({"id": ".framex-tmp"}))),
            &["starts with '.'"],
        ),
        invalid(
            "id of 10 KB",
            with(element(json!({"id": long_id}))),
            // Shortened in the message.
            &["… (10240 bytes) (#1): `id`", "longer than 128 bytes"],
        ),
        invalid(
            "id with NUL",
            with(element(json!({"id": "a\u{0}b"}))),
            &[
                r#"element "a\0b" (#1): `id`"#,
                "contains a control character",
            ],
        ),
        invalid(
            "id with a terminal escape",
            with(element(json!({"id": "\u{1b}]0;pwned\u{7}\u{1b}[2J"}))),
            &[
                r#""\u{1b}]0;pwned\u{7}\u{1b}[2J" (#1)"#,
                "contains a control character",
            ],
        ),
        invalid(
            "empty id",
            with(element(json!({"id": ""}))),
            &[r#"element "" (#1): `id` is empty"#],
        ),
        invalid(
            "duplicate id",
            with(element(json!({"id": "ok"}))),
            &[r#"element "ok" (#1): `id` duplicates the id of element #0"#],
        ),
        invalid(
            "empty src",
            on_src(""),
            &[r#"element "bad" (#1): `src` is empty"#],
        ),
        invalid(
            "format gif",
            with(element(json!({"format": "gif"}))),
            &[r#"`format` "gif" is not a known format"#],
        ),
        invalid(
            "format PNG",
            with(element(json!({"format": "PNG"}))),
            &[r#"`format` "PNG" is not a known format"#],
        ),
        invalid(
            "transfer sdr",
            with(element(json!({"sdrToHdrTransfer": "sdr"}))),
            &[r#"`sdrToHdrTransfer` "sdr" is not a known transfer"#],
        ),
        invalid(
            "nesting 100000 deep",
            Text::Owned(deep),
            // Refused at the first '[', never recursed into.
            &[
                "elements[0].fps",
                "invalid type: sequence, expected a number or a \"num/den\" string",
            ],
        ),
        invalid(
            "every field wrong at once",
            Text::Json(json!({"elements": [good(), {
                "id": "../x", "src": "", "mediaStart": -1, "duration": 0, "fps": 2000,
                "format": "bmp", "sdrToHdrTransfer": "x"}]})),
            &[
                "7 invalid elements",
                "`id` is not a safe directory name",
                "`src` is empty",
                "`mediaStart` must be zero or positive",
                "`duration` must be positive",
                "`fps` 2000 is not a frame rate",
                "`format` \"bmp\"",
                "`sdrToHdrTransfer` \"x\"",
            ],
        ),
    ]
}

#[test]
fn invalid_compositions_exit_2_naming_what_is_wrong() {
    let cases = invalid_cases();
    assert!(cases.len() >= 30);
    run_all(&cases);
}
