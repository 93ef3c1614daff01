//! `framex bench` end to end, kept small: one repetition of the small clip
//! and of `--quick`'s mixed scenario, as JSON. framex's frames must be the
//! rule's; the hand-written commands' frames are counted and compared.

use framex_tests::framex_command;
use serde_json::Value;

#[test]
fn bench_measures_both_sides_and_checks_every_frame() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = framex_command()
        .args(["bench", "--quick", "--repeat", "1", "--json"])
        .args(["--scenario", "small", "--scenario", "mixed", "--dir"])
        .arg(dir.path())
        .output()
        .expect("framex runs");
    assert!(
        output.status.success(),
        "framex bench failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("--json prints JSON");
    assert_eq!(report["framexFramesOk"], true);
    let scenarios = report["scenarios"].as_array().expect("scenarios");
    let names: Vec<&str> = scenarios
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["mixed", "small"]);
    for s in scenarios {
        let name = &s["name"];
        for figure in ["ffmpegMs", "coldMs", "warmMs", "coldRssMb"] {
            let samples = s[figure]["samples"].as_array().expect("samples");
            assert_eq!(samples.len(), 1, "{name} {figure}");
            assert!(s[figure]["min"].as_f64().unwrap() > 0.0, "{name} {figure}");
        }
        assert!(s["coldOverFfmpeg"]["ofMedians"].as_f64().unwrap() > 0.0);
        let framex = &s["framexCheck"];
        assert_eq!(framex["differ"], 0, "{name}: {framex}");
        assert_eq!(framex["found"], s["framesRequested"], "{name}: {framex}");
        assert_eq!(framex["compared"], s["framesRequested"], "{name}: {framex}");
        let ffmpeg = &s["ffmpegCheck"];
        assert_eq!(ffmpeg["expected"], s["ffmpegFrames"], "{name}: {ffmpeg}");
        assert_eq!(ffmpeg["compared"], ffmpeg["found"], "{name}: {ffmpeg}");
    }
    let mixed = &scenarios[0];
    // 3 × 1 s at 30 fps, 2 × 0.8 s at 24 fps, 3 × 0.8 s at 30 fps (JPEG).
    assert_eq!(mixed["framesRequested"], 90 + 40 + 72);
    assert_eq!(mixed["ffmpegCommands"].as_array().unwrap().len(), 3);
    let method = mixed["ffmpegCheck"]["method"].as_str().unwrap();
    assert!(
        method.contains("PNG") && method.contains("JPEG"),
        "{method}"
    );
    let small = &scenarios[1];
    assert_eq!(small["framesRequested"], 120);
    assert_eq!(small["ffmpegCheck"]["differ"], 0);
    assert!(report["planUs"].as_object().unwrap().is_empty());
    assert!(report["peakRss"].as_array().unwrap().is_empty());
}
