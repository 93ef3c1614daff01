//! What the page must show: the native plan of the request it shows, and a
//! layout that holds at the window's width.

use std::path::PathBuf;

use framex_core::Request;
use framex_tests::target_dir;
use serde_json::{json, Value};

use crate::page::READ_LAYOUT;
use crate::webdriver::Browser;

/// Plans the request the page shows, natively, and checks the page's totals,
/// decode runs and lanes against it. Returns the request and its plan.
pub(crate) fn assert_page_matches_native(page: &Value, when: &str) -> (Request, framex_core::Plan) {
    let text = page["request"].as_str().expect("the request is shown");
    let request = Request::from_json(text).unwrap_or_else(|e| {
        panic!("{when}: the page's request is not a native request: {e}\n{text}")
    });
    let plan = framex_core::plan(&request).expect("natively plannable");
    let t = &plan.totals;
    let shown = &page["totals"];
    assert_eq!(page["totalsShown"], true, "{when}: totals shown");
    for (id, value) in [
        ("total-elements", t.elements),
        ("total-frames-requested", t.frames_requested),
        ("total-distinct-frames", t.distinct_frames),
        ("total-dedupe-hits", t.dedupe_hits),
        ("total-cache-hits", t.cache_hits),
        ("total-frames-to-make", t.frames_to_make),
        ("total-frames-saved", t.frames_saved),
        ("total-duplicates", t.duplicates),
        ("total-decode-runs", t.decode_runs),
        ("total-frames-to-decode", t.frames_to_decode),
    ] {
        assert_eq!(shown[id], json!(value), "{when}: {id}");
    }
    // Math.round of the percentage, as the page computes it.
    let percent = (t.frames_saved as f64 * 100.0 / t.frames_requested as f64 + 0.5).floor();
    assert_eq!(
        shown["total-percent-saved"],
        json!(percent as u64),
        "{when}: percent saved"
    );

    // One bar per decode run, under its source and recipe, numbered from 1.
    let runs = page["runs"].as_array().expect("runs");
    assert_eq!(runs.len() as u64, t.decode_runs, "{when}: one bar per run");
    for (source, recipe, run) in plan.runs() {
        let bar = runs
            .iter()
            .find(|r| r["run"] == run.id.as_str())
            .unwrap_or_else(|| panic!("{when}: no bar for {}", run.id));
        let expected = json!({
            "sourceId": source.id, "group": recipe.key, "leader": run.leader,
            "keyframe": run.keyframe.to_string(), "last": run.last.to_string(),
            "make": run.make.to_string(),
        });
        for (key, value) in expected.as_object().unwrap() {
            assert_eq!(&bar[key], value, "{when}: run {} {key}", run.id);
        }
        let decodes = format!("decodes frames {}–{}", run.keyframe + 1, run.last + 1);
        assert!(
            bar["title"].as_str().unwrap().contains(&decodes),
            "{when}: {} says {decodes}: {}",
            run.id,
            bar["title"]
        );
    }

    // One lane per element, under its source and recipe.
    let lanes = page["lanes"].as_array().expect("lanes");
    assert_eq!(
        lanes.len(),
        plan.elements.len(),
        "{when}: one lane per element"
    );
    for (e, input) in plan.elements.iter().zip(&request.composition.elements) {
        let lane = lanes
            .iter()
            .find(|l| l["elementId"] == e.element_id.as_str())
            .unwrap_or_else(|| panic!("{when}: no lane for {}", e.element_id));
        let role = serde_json::to_value(&e.role).unwrap();
        let text = |key: &str| role.get(key).cloned().unwrap_or(json!(""));
        let expected = json!({
            "src": input.src, "source": e.source, "sourceId": e.source,
            "recipe": e.recipe, "group": e.recipe,
            "role": role["kind"], "of": text("of"), "run": text("run"), "leader": text("leader"),
            "runs": e.runs.join(","), "ticks": e.ticks.to_string(),
            "distinct": e.distinct_frames.to_string(), "cacheHits": e.cache_hits.to_string(),
            "frames": serde_json::to_string(&e.frames).unwrap(),
            "startUs": e.start_us.to_string(),
        });
        for (key, value) in expected.as_object().unwrap() {
            assert_eq!(&lane[key], value, "{when}: lane {} {key}", e.element_id);
        }
    }
    // One frame-numbering convention: from 1, as the files are named.
    let body = page["text"].as_str().unwrap();
    assert!(
        !body.contains("frame 0") && !body.contains("frames 0"),
        "{when}: a frame numbered 0 on the page"
    );
    (request, plan)
}

/// Checks the layout at `width` and saves a screenshot named `name`.
pub(crate) fn check_layout(browser: &Browser, width: u32, when: &str, name: &str) -> PathBuf {
    let layout = browser.eval(READ_LAYOUT, json!([]));
    let inner = layout["innerWidth"].as_u64().unwrap();
    assert!(
        inner <= u64::from(width) && inner + 20 >= u64::from(width),
        "{when}: window {inner} px wide, wanted {width}"
    );
    assert!(
        layout["scrollWidth"].as_u64().unwrap() <= inner,
        "{when}: the page is wider than the window: {layout}"
    );
    assert_eq!(layout["overflowing"], json!([]), "{when}: {layout}");
    assert_eq!(
        layout["tableInside"], true,
        "{when}: elements table outside its panel"
    );
    assert_eq!(layout["cellsOutside"], json!([]), "{when}: {layout}");
    assert_eq!(
        layout["wrapped"],
        json!([]),
        "{when}: wrapped about a word per line"
    );
    for label in layout["contrast"].as_array().unwrap() {
        assert!(
            label["ratio"].as_f64().unwrap() >= 4.5 && label["opaque"] == true,
            "{when}: duplicate label hard to read: {label}"
        );
    }
    let path = target_dir().join("framex-artifacts").join(name);
    let shot = browser.screenshot(&path, width);
    println!("preview_page: screenshot {}", shot.display());
    shot
}
