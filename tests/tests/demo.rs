//! `framex demo --small` runs end to end: a cold run whose elements reuse
//! each other's frames, and a warm run that makes nothing and starts no
//! ffmpeg; its table says so.

use framex_tests::framex_command;
use serde_json::Value;

fn metric(report: &Value, name: &str) -> u64 {
    report["metrics"][name]
        .as_u64()
        .unwrap_or_else(|| panic!("no metric {name}: {:#}", report["metrics"]))
}

#[test]
fn demo_runs_cold_then_warm() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let output = framex_command()
        .args(["--quiet", "demo", "--small", "--json", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let both: Value = serde_json::from_slice(&output.stdout).unwrap();
    let (cold, warm) = (&both["cold"], &both["warm"]);
    let distinct = metric(cold, "distinctFrames");
    assert!(metric(cold, "elements") >= 10);
    assert_eq!(metric(cold, "cacheHits"), 0);
    assert_eq!(metric(cold, "framesExtracted"), distinct);
    assert!(
        distinct < metric(cold, "framesRequested"),
        "the elements reuse frames"
    );
    assert_eq!(
        metric(cold, "dedupeHits"),
        metric(cold, "framesRequested") - distinct
    );
    assert!(metric(cold, "decodeRuns") >= 1);
    assert!(metric(cold, "ffmpegRuns") >= metric(cold, "decodeRuns"));
    assert!(
        metric(cold, "decodeRuns") < metric(cold, "elements"),
        "fewer decode runs than elements"
    );
    assert_eq!(metric(warm, "ffmpegRuns"), 0);
    assert_eq!(metric(warm, "cacheHits"), distinct);
    assert_eq!(metric(warm, "framesExtracted"), 0);

    let elements = cold["elements"].as_object().unwrap();
    assert_eq!(elements.len() as u64, metric(cold, "elements"));
    let roles: Vec<&str> = elements
        .values()
        .map(|e| e["role"].as_str().unwrap())
        .collect();
    assert!(
        roles.iter().any(|r| r.starts_with("duplicate of ")),
        "{roles:?}"
    );
    assert!(roles.iter().any(|r| r.starts_with("shares ")), "{roles:?}");
    for (id, e) in elements {
        assert_eq!(e["status"], "ok", "{id}");
        assert_eq!(warm["elements"][id]["status"], "ok", "{id}");
        assert_eq!(warm["elements"][id]["cacheHit"], true, "{id}");
        let n = e["frames"].as_u64().unwrap();
        assert!(n > 0, "{id}");
        assert_eq!(warm["elements"][id]["frames"], n, "{id}");
        let on_disk = std::fs::read_dir(dir.join("out").join(id)).unwrap().count() as u64;
        assert_eq!(on_disk, n, "{id}: frames on disk");
    }

    // The table for people, on the clips made above.
    let output = framex_command()
        .args(["demo", "--small", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let table = String::from_utf8_lossy(&output.stdout);
    let row = |label: &str| -> Vec<String> {
        let line = table
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("a {label:?} row: {table}"));
        line[line.find(label).unwrap() + label.len()..]
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    let processes = row("ffmpeg processes");
    assert_eq!(
        processes,
        [metric(cold, "ffmpegRuns").to_string(), "0".to_string()],
        "cold and warm"
    );
    let made = row("frames made (decoded + encoded)");
    assert_eq!(made, [distinct.to_string(), "0".to_string()]);
    assert!(table.contains("cold") && table.contains("warm"), "{table}");
    assert!(
        table.contains("the warm run made 0 frames and started 0 ffmpeg processes"),
        "{table}"
    );
}
