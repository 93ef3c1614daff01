//! Elements that run past a source's end at rates off its frame grid get
//! every frame the plan counts, the held ones the true last frame.

use framex_tests::faults::describe;
use framex_tests::{framex_command, ntsc_clip};
use serde_json::{json, Value};

/// Found by the hostile `fps "1/4294968"` (one frame, from a 3 s clip):
/// elements that run past the end of a source whose end is not on their
/// frame grid — a 29.97 fps clip at 30, 25, 24, 7 or 0.4 fps, a whole clip
/// at one frame per 50 days, 60 fps — get every frame the plan counts, and
/// every tick past the end shows the true last frame.
#[test]
fn extractions_past_the_source_end_give_the_planned_frames() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(ntsc_clip(), dir.path().join("ntsc.mp4")).unwrap();
    let rates = [
        json!(30),
        json!(25),
        json!(24),
        json!(7),
        json!(0.4),
        json!("1/4294968"),
        json!(60),
    ];
    let mut elements = Vec::new();
    for (i, fps) in rates.iter().enumerate() {
        for (j, start) in [0.0, 2.5].into_iter().enumerate() {
            elements.push(json!({"id": format!("e{i}-{j}"), "src": "ntsc.mp4",
                "mediaStart": start, "duration": 5, "fps": fps, "format": "png"}));
        }
    }
    let composition = dir.path().join("composition.json");
    std::fs::write(&composition, json!({ "elements": elements }).to_string()).unwrap();
    let plan = framex_tests::framex_plan_json(&["--no-cache"], &composition);
    let ticks = |id: &str| {
        plan["elements"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["elementId"] == id)
            .and_then(|e| e["ticks"].as_u64())
            .unwrap()
    };
    assert_eq!(ticks("e0-0"), 150, "5 s at 30 fps");
    assert_eq!(ticks("e5-0"), 1, "5 s at one frame per 50 days");
    let out = dir.path().join("out");
    let output = framex_command()
        .args(["--quiet", "extract", "--no-cache", "--out"])
        .arg(&out)
        .arg(&composition)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let last_frame = |id: &str| {
        let n = ticks(id);
        std::fs::read(out.join(id).join(format!("frame_{n:06}.png"))).unwrap()
    };
    let held = last_frame("e0-0");
    for (i, fps) in rates.iter().enumerate() {
        for (j, start) in [0.0, 2.5].into_iter().enumerate() {
            let id = format!("e{i}-{j}");
            let n = ticks(&id);
            let files = std::fs::read_dir(out.join(&id)).unwrap().count() as u64;
            assert_eq!(files, n, "{id}");
            // Its last tick lies past the 3.003 s source's end: it holds the
            // source's last frame.
            let per_second = match fps {
                Value::String(_) => 1.0 / 4_294_968.0,
                v => v.as_f64().unwrap(),
            };
            if start + (n - 1) as f64 / per_second > 3.01 {
                assert!(last_frame(&id) == held, "{id} holds the true last frame");
            }
        }
    }
}
