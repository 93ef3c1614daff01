//! The command line as a person and a program meet it: `plan` lists every
//! element and fails like `extract` when a source is missing, typos get a
//! hint, `--help` says what framex is, and `--progress json` events follow
//! their schema.

use framex_tests::clips::h264_30;
use framex_tests::{framex_command, write_composition};

fn element(id: &str, src: &str) -> String {
    format!(
        r#"{{"id": "{id}", "src": "{src}", "mediaStart": 0, "duration": 0.5, "fps": 30, "format": "png"}}"#
    )
}

/// A composition next to a link to the 30 fps clip, plus one missing source.
fn composition(dir: &std::path::Path) -> std::path::PathBuf {
    let clip = h264_30();
    std::os::unix::fs::symlink(&clip.path, dir.join("clip.mp4")).unwrap();
    let path = dir.join("composition.json");
    write_composition(
        &path,
        &[
            element("a", "clip.mp4"),
            element("b", "clip.mp4"),
            element("gone", "missing.mp4"),
        ],
    );
    path
}

#[test]
fn plan_lists_an_element_whose_source_is_missing_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = composition(dir.path());
    let table = framex_command()
        .args(["plan", "--no-cache"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(table.status.code(), Some(1));
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("gone") && text.contains("source_missing"),
        "{text}"
    );
    let json = framex_command()
        .args(["plan", "--no-cache", "--json"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(json.status.code(), Some(1));
    let plan: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let errors = plan["elementErrors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["elementId"], "gone");
    assert_eq!(errors[0]["errorKind"], "source_missing");
    assert_eq!(plan["elements"].as_array().unwrap().len(), 2);
    assert_eq!(plan["elements"][1]["role"]["kind"], "duplicate");
}

#[test]
fn a_misspelt_field_gets_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.json");
    std::fs::write(
        &path,
        r#"{"elements": [{"id": "a", "src": "x.mp4", "mediaStart": 0, "durration": 1, "fps": 30, "format": "png"}]}"#,
    )
    .unwrap();
    for command in ["plan", "extract"] {
        let mut framex = framex_command();
        framex.arg(command).arg(&path);
        if command == "extract" {
            framex.arg("--out").arg(dir.path().join("out"));
        }
        let output = framex.output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{command}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("durration") && stderr.contains("did you mean `duration`?"),
            "{command}: {stderr}"
        );
    }
}

#[test]
fn help_says_what_framex_is_before_how() {
    let output = framex_command().arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let first = text.lines().next().unwrap_or_default();
    assert!(first.starts_with("framex makes the frames"), "{text}");
    assert!(
        text.contains("framex extract composition.json --out out"),
        "{text}"
    );
    // Each command's own options come before the shared ones.
    let output = framex_command()
        .args(["extract", "--help"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let own = text.find("--out").expect("--out listed");
    let shared = text
        .find("--content-identity")
        .expect("--content-identity listed");
    assert!(own < shared, "{text}");
}

#[test]
fn progress_json_events_follow_their_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = composition(dir.path());
    let events_path = dir.path().join("events.jsonl");
    let output = framex_command()
        .args([
            "--quiet",
            "extract",
            "--no-cache",
            "--json",
            "--progress",
            "json",
        ])
        .arg("--progress-file")
        .arg(&events_path)
        .arg(&path)
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "one source is missing");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let text = std::fs::read_to_string(&events_path).unwrap();
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    let kind = |e: &serde_json::Value| e["event"].as_str().unwrap().to_string();
    assert_eq!(kind(&events[0]), "started");
    assert_eq!(events[0]["elements"], 3);
    assert_eq!(events[0]["framesRequested"], 30);
    let to_make = events[0]["framesToMake"].as_u64().unwrap();
    assert_eq!(to_make, 15);
    let last = events.last().unwrap();
    assert_eq!(kind(last), "finished");
    assert_eq!(last["ok"], false);
    assert!(last["report"]
        .as_str()
        .unwrap()
        .ends_with("framex-report.json"));
    // Run events count up to each run's total; together they are the frames made.
    let runs: Vec<&serde_json::Value> = events.iter().filter(|e| kind(e) == "run").collect();
    assert_eq!(runs.len() as u64, to_make);
    for pair in runs.windows(2) {
        if pair[0]["run"] == pair[1]["run"] {
            assert!(pair[1]["framesDone"].as_u64() > pair[0]["framesDone"].as_u64());
        }
    }
    assert!(runs.iter().any(|r| r["framesDone"] == r["framesTotal"]));
    // One element event per element, as the report has it.
    let elements: Vec<&serde_json::Value> =
        events.iter().filter(|e| kind(e) == "element").collect();
    assert_eq!(elements.len(), 3);
    for e in elements {
        let id = e["elementId"].as_str().unwrap();
        assert_eq!(e["status"], report["elements"][id]["status"], "{id}");
        if id == "gone" {
            assert_eq!(e["errorKind"], "source_missing");
        } else {
            assert_eq!(e["frames"], 15);
        }
    }
    // Both on stdout cannot be told apart: refused with a usage error.
    let both = framex_command()
        .args(["extract", "--no-cache", "--json", "--progress", "json"])
        .arg(&path)
        .arg("--out")
        .arg(dir.path().join("out2"))
        .output()
        .unwrap();
    assert_eq!(both.status.code(), Some(2));
}
