//! Hostile compositions (issue 7, item 4), table-driven: malformed JSON,
//! wrong types, unknown fields, huge and NaN-like numbers, ids that are not
//! directory names, sources that are directories, devices, FIFOs, empty,
//! unreadable or missing files, a million elements, and an output directory
//! booby-trapped with symlinks.
//!
//! Each case gets its outcome checked: a clear error and exit code 2 when
//! the composition is invalid (the message names the line and column, the
//! field, the element or the value), or a per-element error in the report
//! and exit code 1 when only one element's source is bad (the good element
//! next to it still gets its frames). And for every case: nothing is written
//! outside the output and cache directories. framex runs from a fresh
//! current directory with fresh `HOME`, `XDG_CACHE_HOME` and `TMPDIR`, which
//! must stay empty; the composition's directory is the same before and
//! after; nothing appears anywhere else in the case's directory tree (an id
//! like `../../x` has room to escape into).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use framex_tests::{cfr_clip, framex_bin, framex_command};
use serde_json::{json, Value};

/// The element every composition starts with: 15 frames of a good clip.
fn good() -> Value {
    json!({"id": "ok", "src": "good.mp4", "mediaStart": 0, "duration": 0.5, "fps": 30, "format": "png"})
}

/// An element on the good clip with `changes` applied (a `null` removes a field).
fn element(changes: Value) -> Value {
    let mut e = json!({"id": "bad", "src": "good.mp4", "mediaStart": 0, "duration": 0.5, "fps": 30, "format": "png"});
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            e.as_object_mut().unwrap().remove(k);
        } else {
            e[k] = v.clone();
        }
    }
    e
}

/// The good element, then `bad`.
fn with(bad: Value) -> Text {
    Text::Json(json!({"elements": [good(), bad]}))
}

/// The good element, then an element on source `src`.
fn on_src(src: &str) -> Text {
    with(element(json!({"src": src})))
}

/// The composition file's contents.
enum Text {
    Json(Value),
    Raw(&'static str),
    Owned(String),
    Bytes(&'static [u8]),
    /// `{"elements": [...]}` with this many small elements, written in a stream.
    Many(usize),
}

/// Files next to the composition, besides `good.mp4`.
#[derive(Clone, Copy)]
enum Fixture {
    Dir(&'static str),
    Symlink(&'static str, &'static str),
    Fifo(&'static str),
    Empty(&'static str),
    Unreadable(&'static str),
    File(&'static str, &'static str),
    /// The first bytes of the good clip.
    Truncated(&'static str, usize),
}

/// What must happen.
enum Expect {
    /// Exit 2; stderr says all of these.
    Invalid(Vec<String>),
    /// Exit 1; element `bad` failed with this kind, its error saying all of
    /// these; `ok` succeeded.
    Element(&'static str, Vec<String>),
    /// Exit 0; every element ok.
    Fine,
}

struct Case {
    name: &'static str,
    text: Text,
    fixtures: Vec<Fixture>,
    /// Set up the output directory before the run (booby traps), given the
    /// case's root and the output directory.
    trap: Option<fn(&Path, &Path)>,
    expect: Expect,
}

fn says(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn invalid(name: &'static str, text: Text, items: &[&str]) -> Case {
    Case {
        name,
        text,
        fixtures: vec![],
        trap: None,
        expect: Expect::Invalid(says(items)),
    }
}

fn bad_source(
    name: &'static str,
    src: &str,
    fixtures: Vec<Fixture>,
    kind: &'static str,
    items: &[&str],
) -> Case {
    Case {
        name,
        text: on_src(src),
        fixtures,
        trap: None,
        expect: Expect::Element(kind, says(items)),
    }
}

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

/// Sources only one element uses: that element fails, exit 1.
fn bad_source_cases() -> Vec<Case> {
    use Fixture::*;
    vec![
        bad_source(
            "src is a directory",
            "clips",
            vec![Dir("clips")],
            "source_unreadable",
            &["clips cannot be read: it is a directory"],
        ),
        bad_source(
            "src is a symlink to /dev/zero",
            "zero.mp4",
            vec![Symlink("zero.mp4", "/dev/zero")],
            "source_unreadable",
            &["zero.mp4 cannot be read", "not a regular file"],
        ),
        bad_source(
            "src is /dev/null",
            "/dev/null",
            vec![],
            "source_unreadable",
            &["/dev/null cannot be read", "not a regular file"],
        ),
        bad_source(
            "src is a FIFO",
            "pipe.mp4",
            vec![Fifo("pipe.mp4")],
            "source_unreadable",
            &["pipe.mp4 cannot be read", "not a regular file"],
        ),
        bad_source(
            "src is unreadable",
            "secret.mp4",
            vec![Unreadable("secret.mp4")],
            "source_unreadable",
            &["secret.mp4 cannot be read", "Permission denied"],
        ),
        bad_source(
            "src is a zero-byte file",
            "empty.mp4",
            vec![Empty("empty.mp4")],
            "source_unreadable",
            &["empty.mp4 cannot be read: it is empty (0 bytes)"],
        ),
        bad_source(
            "src is an absolute path to nothing",
            "/nonexistent/framex/clip.mp4",
            vec![],
            "source_missing",
            &["source /nonexistent/framex/clip.mp4 does not exist"],
        ),
        bad_source(
            "src climbs out to nothing",
            "../../../../../../nonexistent-framex-clip.mp4",
            vec![],
            "source_missing",
            &["nonexistent-framex-clip.mp4 does not exist"],
        ),
        bad_source(
            "src is a dangling symlink",
            "gone.mp4",
            vec![Symlink("gone.mp4", "nowhere.mp4")],
            "source_missing",
            &["gone.mp4 does not exist"],
        ),
        bad_source(
            "src is a symlink loop",
            "loop.mp4",
            vec![Symlink("loop.mp4", "loop.mp4")],
            "source_unreadable",
            &["loop.mp4 cannot be read"],
        ),
        bad_source(
            "src goes through a file",
            "good.mp4/x.mp4",
            vec![],
            "source_unreadable",
            &["good.mp4/x.mp4 cannot be read", "Not a directory"],
        ),
        bad_source(
            "src has a NUL",
            "a\u{0}.mp4",
            vec![],
            "source_unreadable",
            &["a\u{0}.mp4 cannot be read", "unexpected NUL byte"],
        ),
        bad_source(
            "src is text",
            "notes.mp4",
            vec![File("notes.mp4", "not a video at all\n")],
            "invalid_media",
            &["notes.mp4 is not a readable video"],
        ),
        bad_source(
            "src is a cut-off video",
            "cut.mp4",
            vec![Truncated("cut.mp4", 2000)],
            "invalid_media",
            &["cut.mp4 is not a readable video"],
        ),
    ]
}

/// The output directory holds symlinks named like elements, pointing out of
/// it: framex replaces the links and never writes through them.
fn trap_cases() -> Vec<Case> {
    vec![
        Case {
            name: "output has a symlink named like an element",
            text: Text::Json(json!({"elements": [good()]})),
            fixtures: vec![],
            trap: Some(|root, out| {
                let outside = root.join("outside");
                std::fs::create_dir_all(&outside).unwrap();
                std::fs::write(outside.join("keep.txt"), "keep").unwrap();
                std::os::unix::fs::symlink(&outside, out.join("ok")).unwrap();
            }),
            expect: Expect::Fine,
        },
        Case {
            name: "output has a symlink named like a failing element",
            text: on_src("missing.mp4"),
            fixtures: vec![],
            trap: Some(|root, out| {
                let outside = root.join("outside");
                std::fs::create_dir_all(&outside).unwrap();
                std::fs::write(outside.join("keep.txt"), "keep").unwrap();
                std::os::unix::fs::symlink(&outside, out.join("bad")).unwrap();
                std::os::unix::fs::symlink(&outside, out.join("framex-report.json")).unwrap();
            }),
            expect: Expect::Element("source_missing", says(&["missing.mp4 does not exist"])),
        },
    ]
}

/// Every path under `dir` (not following symlinks) with its kind.
fn tree(dir: &Path) -> BTreeSet<(String, &'static str)> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeSet<(String, &'static str)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let entry = entry.unwrap();
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let kind = if meta.is_symlink() {
                "link"
            } else if meta.is_dir() {
                "dir"
            } else if meta.is_file() {
                "file"
            } else {
                "special"
            };
            let rel = path
                .strip_prefix(base)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            out.insert((rel, kind));
            if kind == "dir" {
                walk(base, &path, out);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

/// What one case ran into, or why it could not run.
enum Ran {
    Done,
    Skipped(String),
}

fn run_case(case: &Case) -> Result<Ran, String> {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let comp = root.join("comp");
    let (cwd, home, xdg, tmp) = (
        root.join("cwd"),
        root.join("home"),
        root.join("xdg"),
        root.join("tmp"),
    );
    // Deep enough that `../../x` from the output stays inside the root.
    let out = root.join("o1/o2/out");
    let cache = root.join("cache");
    for dir in [&comp, &cwd, &home, &xdg, &tmp, &out] {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::copy(cfr_clip(), comp.join("good.mp4")).unwrap();
    for fixture in &case.fixtures {
        match *fixture {
            Fixture::Dir(name) => {
                std::fs::create_dir(comp.join(name)).unwrap();
                std::fs::write(comp.join(name).join("inside.mp4"), "x").unwrap();
            }
            Fixture::Symlink(name, to) => std::os::unix::fs::symlink(to, comp.join(name)).unwrap(),
            Fixture::Fifo(name) => {
                let status = Command::new("mkfifo")
                    .arg(comp.join(name))
                    .status()
                    .unwrap();
                assert!(status.success(), "mkfifo");
            }
            Fixture::Empty(name) => std::fs::write(comp.join(name), "").unwrap(),
            Fixture::File(name, text) => std::fs::write(comp.join(name), text).unwrap(),
            Fixture::Truncated(name, len) => {
                let bytes = std::fs::read(cfr_clip()).unwrap();
                std::fs::write(comp.join(name), &bytes[..len]).unwrap();
            }
            Fixture::Unreadable(name) => {
                use std::os::unix::fs::PermissionsExt;
                let path = comp.join(name);
                std::fs::copy(cfr_clip(), &path).unwrap();
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
                if std::fs::File::open(&path).is_ok() {
                    return Ok(Ran::Skipped(
                        "a file with mode 000 is still readable here (running as root or with \
                         CAP_DAC_OVERRIDE)"
                            .into(),
                    ));
                }
            }
        }
    }
    let composition = comp.join("composition.json");
    match &case.text {
        Text::Json(value) => std::fs::write(&composition, value.to_string()).unwrap(),
        Text::Raw(text) => std::fs::write(&composition, text).unwrap(),
        Text::Owned(text) => std::fs::write(&composition, text).unwrap(),
        Text::Bytes(bytes) => std::fs::write(&composition, bytes).unwrap(),
        Text::Many(count) => {
            use std::io::Write;
            let mut file = std::io::BufWriter::new(std::fs::File::create(&composition).unwrap());
            write!(file, "{{\"elements\":[").unwrap();
            for i in 0..*count {
                let sep = if i == 0 { "" } else { "," };
                write!(
                    file,
                    r#"{sep}{{"id":"e{i}","src":"good.mp4","mediaStart":0,"duration":1,"fps":30,"format":"png"}}"#
                )
                .unwrap();
            }
            write!(file, "]}}").unwrap();
        }
    }
    if let Some(trap) = case.trap {
        trap(root, &out);
    }
    let comp_before = tree(&comp);
    let outside_before = root
        .join("outside")
        .exists()
        .then(|| tree(&root.join("outside")));

    let started = Instant::now();
    let mut command = framex_command();
    let output = command
        .current_dir(&cwd)
        .env("HOME", &home)
        .env("XDG_CACHE_HOME", &xdg)
        .env("TMPDIR", &tmp)
        .args(["--quiet", "extract"])
        .arg(&composition)
        .arg("--out")
        .arg(&out)
        .arg("--cache-dir")
        .arg(&cache)
        .args(["--timeout", "60"])
        .output()
        .unwrap();
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let fail = |what: String| {
        Err(format!(
            "{what}\n    exit {:?}, stderr: {stderr}",
            output.status.code()
        ))
    };
    if took > Duration::from_secs(120) {
        return fail(format!("took {took:?}"));
    }

    // The outcome.
    let mut ok_ids: BTreeSet<String> = BTreeSet::new();
    match &case.expect {
        Expect::Invalid(items) => {
            if output.status.code() != Some(2) {
                return fail("an invalid composition exits 2".into());
            }
            for item in items {
                if !stderr.contains(item.as_str()) {
                    return fail(format!("stderr does not say {item:?}"));
                }
            }
            if !stderr.starts_with("framex: ")
                || !stderr.contains(&composition.display().to_string())
            {
                return fail("the error names the composition file".into());
            }
            if stderr.len() > 8192 {
                return fail(format!("a {} byte error is not a clear one", stderr.len()));
            }
            if out.join("framex-report.json").exists() {
                return fail("an invalid composition writes no report".into());
            }
            if cache.exists() {
                return fail("an invalid composition makes no cache directory".into());
            }
        }
        Expect::Element(kind, items) => {
            if output.status.code() != Some(1) {
                return fail("one bad element exits 1".into());
            }
            let report = read_report(&out)?;
            let bad = &report["elements"]["bad"];
            if bad["status"] != "error" || bad["errorKind"] != *kind {
                return fail(format!("element bad: {bad}"));
            }
            let error = bad["error"].as_str().unwrap_or_default();
            for item in items {
                if !error.contains(item.as_str()) {
                    return fail(format!("the error {error:?} does not say {item:?}"));
                }
            }
            if out.join("bad").exists() || out.join("bad").is_symlink() {
                return fail("a failed element has no directory".into());
            }
            ok_ids.insert("ok".into());
        }
        Expect::Fine => {
            if output.status.code() != Some(0) {
                return fail("exit 0 expected".into());
            }
            read_report(&out)?;
            ok_ids.insert("ok".into());
        }
    }
    for id in &ok_ids {
        let report = read_report(&out)?;
        let e = &report["elements"][id];
        let dir = out.join(id);
        let meta = std::fs::symlink_metadata(&dir).map_err(|e| e.to_string())?;
        let frames = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
        if e["status"] != "ok" || e["frames"] != 15 || !meta.is_dir() || frames != 15 {
            return fail(format!(
                "element {id}: {e}, {frames} frames in a real directory"
            ));
        }
    }

    // Nothing written anywhere else.
    for (name, dir) in [
        ("cwd", &cwd),
        ("HOME", &home),
        ("XDG_CACHE_HOME", &xdg),
        ("TMPDIR", &tmp),
    ] {
        let left = tree(dir);
        if !left.is_empty() {
            return fail(format!("{name} is not empty: {left:?}"));
        }
    }
    if tree(&comp) != comp_before {
        return fail(format!(
            "the composition's directory changed: {:?} → {:?}",
            comp_before,
            tree(&comp)
        ));
    }
    if let Some(before) = outside_before {
        if tree(&root.join("outside")) != before {
            return fail("something was written through a symlink in the output".into());
        }
    }
    let mut allowed: BTreeSet<String> = [
        "comp",
        "cwd",
        "home",
        "xdg",
        "tmp",
        "o1",
        "o1/o2",
        "o1/o2/out",
        "cache",
        "outside",
        "outside/keep.txt",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for id in &ok_ids {
        allowed.insert(format!("o1/o2/out/{id}"));
    }
    if out.join("framex-report.json").exists() {
        allowed.insert("o1/o2/out/framex-report.json".into());
    }
    for (path, kind) in tree(root) {
        let inside = |dir: &str| path.starts_with(&format!("{dir}/"));
        let known = allowed.contains(&path)
            || inside("comp")
            || inside("cache")
            || ok_ids.iter().any(|id| inside(&format!("o1/o2/out/{id}")));
        if !known {
            return fail(format!("unexpected {kind} {path}"));
        }
    }
    if cache.join("tmp").exists() && !tree(&cache.join("tmp")).is_empty() {
        return fail("partials left in the cache".into());
    }
    Ok(Ran::Done)
}

fn read_report(out: &Path) -> Result<Value, String> {
    let bytes =
        std::fs::read(out.join("framex-report.json")).map_err(|e| format!("report: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("report: {e}"))
}

/// Runs every case, then fails with every failing case listed.
fn run_all(cases: &[Case]) {
    let mut failures = Vec::new();
    for case in cases {
        match run_case(case) {
            Ok(Ran::Done) => {
                let code = match case.expect {
                    Expect::Invalid(_) => 2,
                    Expect::Element(..) => 1,
                    Expect::Fine => 0,
                };
                println!("hostile input: {:<45} exit {code} as expected", case.name);
            }
            Ok(Ran::Skipped(why)) => println!("hostile input: {:<45} SKIPPED: {why}", case.name),
            Err(why) => failures.push(format!("{}: {why}", case.name)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn invalid_compositions_exit_2_naming_what_is_wrong() {
    let cases = invalid_cases();
    assert!(cases.len() >= 30);
    run_all(&cases);
}

#[test]
fn bad_sources_fail_only_their_element() {
    run_all(&bad_source_cases());
}

#[test]
fn symlinks_in_the_output_are_replaced_not_followed() {
    run_all(&trap_cases());
}

/// A million elements: refused with the limit, quickly, without planning.
#[test]
fn a_million_elements_are_refused_quickly() {
    let count = 1_000_000;
    assert!(count > framex_core::MAX_ELEMENTS);
    let case = Case {
        name: "10^6 elements",
        text: Text::Many(count),
        fixtures: vec![],
        trap: None,
        expect: Expect::Invalid(says(&[&format!(
            "the composition has {count} elements; at most {} are accepted",
            framex_core::MAX_ELEMENTS
        )])),
    };
    let started = Instant::now();
    run_all(&[case]);
    println!("10^6 elements refused in {:?}", started.elapsed());
}

/// Per element: the frames its extraction gives (the slice: those before the
/// source's end) and the frames of its slot (the rest hold the last frame).
fn planned_frames(composition: &Path) -> std::collections::BTreeMap<String, (u64, u64)> {
    let plan = framex_tests::framex_plan_json(&["--no-cache"], composition);
    plan["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let slice = a["slice"]["count"].as_u64().unwrap();
            let slot = a["frames"].as_u64().unwrap_or(slice);
            (a["elementId"].as_str().unwrap().to_string(), (slice, slot))
        })
        .collect()
}

/// Found by the hostile `fps "1/4294968"` (one frame, from a 3 s clip):
/// elements that run to the end of a source whose end is not on their frame
/// grid — a 29.97 fps clip at 30, 25, 24, 7 or 0.4 fps, a whole clip at one
/// frame per 50 days — get every frame the plan counts (a tick before the
/// end is a frame), and the fps-filter path gives the same bytes as the
/// distinct-frame path, which already counted them so.
#[test]
fn extractions_to_the_source_end_give_the_planned_frames() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(framex_tests::ntsc_clip(), dir.path().join("ntsc.mp4")).unwrap();
    let mut elements = Vec::new();
    for (i, fps) in [
        json!(30),
        json!(25),
        json!(24),
        json!(7),
        json!(0.4),
        json!("1/4294968"),
        json!(60),
    ]
    .into_iter()
    .enumerate()
    {
        for (j, start) in [0.0, 2.5].into_iter().enumerate() {
            elements.push(
                json!({"id": format!("e{i}-{j}"), "src": "ntsc.mp4", "mediaStart": start,
                "duration": 5, "fps": fps, "format": "png"}),
            );
        }
    }
    let composition = dir.path().join("composition.json");
    std::fs::write(&composition, json!({"elements": elements}).to_string()).unwrap();
    let planned = planned_frames(&composition);
    assert_eq!(
        planned["e0-0"],
        (91, 150),
        "3.003 s at 30 fps: ticks 0..=90 lie before the end, the rest of 5 s hold"
    );
    assert_eq!(planned["e5-0"], (1, 1));
    let mut outputs = Vec::new();
    for flags in [&[][..], &["--no-frame-reuse"][..]] {
        let out = dir.path().join(format!("out{}", flags.len()));
        let output = Command::new(framex_bin())
            .args(["--quiet", "extract", "--no-cache", "--superset-gap", "0"])
            .arg(&composition)
            .arg("--out")
            .arg(&out)
            .args(flags)
            .output()
            .unwrap();
        let report = std::fs::read_to_string(out.join("framex-report.json")).unwrap_or_default();
        assert_eq!(output.status.code(), Some(0), "{flags:?}: {report}");
        for (id, (_, slot)) in &planned {
            let frames = std::fs::read_dir(out.join(id)).unwrap().count() as u64;
            assert_eq!(frames, *slot, "{flags:?}: {id}");
        }
        outputs.push(out);
    }
    // 60 fps repeats source frames: by default each is encoded once and
    // linked; with --no-frame-reuse the fps filter makes every frame.
    for n in [1, 180, 181] {
        let name = format!("frame_{n:06}.png");
        assert_eq!(
            std::fs::read(outputs[0].join("e6-0").join(&name)).unwrap(),
            std::fs::read(outputs[1].join("e6-0").join(&name)).unwrap(),
            "{name}"
        );
    }
}
