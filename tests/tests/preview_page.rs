//! The preview page in a real headless Chromium: served by `framex preview`,
//! it loads the example on a first visit; the totals and the lanes it shows
//! must match the native plan of the request it shows; marking a work as
//! cached and choosing a video file re-plan it, still matching; an invalid
//! composition shows each error next to its element. Screenshots are saved
//! under `target/framex-artifacts/` for a person to look at.
//!
//! Needs the web package (`scripts/build-wasm.sh`), Chromium, ChromeDriver
//! and ffmpeg. Without Chromium the test is skipped, except under CI.

#[path = "support/webdriver.rs"]
mod webdriver;

use std::path::PathBuf;
use std::time::Duration;

use framex_core::{Composition, Request};
use framex_tests::wasm::{require_package, which, Package};
use framex_tests::{alpha_clip, framex_bin, target_dir, workspace_root};
use serde_json::{json, Value};
use webdriver::{start_preview, Browser};

const WIDTH: u32 = 1400;
const LOAD: Duration = Duration::from_secs(60);

/// Chromium and ChromeDriver, or `None` (after saying why) where they are
/// absent and this is not CI.
fn browser_tools() -> Option<(PathBuf, PathBuf)> {
    let chromium = [PathBuf::from("/usr/bin/chromium")]
        .into_iter()
        .find(|p| p.is_file())
        .or_else(|| which("chromium"));
    let chromedriver = which("chromedriver");
    match (chromium, chromedriver) {
        (Some(chromium), Some(driver)) => Some((chromium, driver)),
        _ if std::env::var_os("CI").is_some() => {
            panic!("CI must run the preview-page test: install chromium and chromium-driver (scripts/build-wasm.sh does)")
        }
        _ => {
            println!("preview_page: SKIPPED: chromium or chromedriver is not installed (scripts/build-wasm.sh installs them)");
            None
        }
    }
}

/// What the page shows: state, the request, totals, lanes, errors.
const READ_PAGE: &str = r#"
const q = (s) => [...document.querySelectorAll(s)];
const totals = {};
for (const n of q('#totals [data-testid^="total-"]')) totals[n.dataset.testid] = Number(n.dataset.value);
return {
  state: document.body.dataset.state,
  updates: Number(document.body.dataset.updates || 0),
  request: document.getElementById("request").textContent,
  totalsShown: getComputedStyle(document.getElementById("totals")).display !== "none",
  totals,
  lanes: q('[data-testid="lane"]').map((l) => ({
    ...l.dataset,
    source: l.closest('[data-testid="source"]').dataset.src,
    group: l.closest('[data-testid="group"]').dataset.unit || "",
  })),
  unitLanes: q('[data-testid="unit-lane"]').map((l) => l.dataset.unit),
  errors: q('[data-testid="element-error"]').map((e) => {
    let row = e.previousElementSibling;
    while (row && row.dataset.testid !== "element-row") row = row.previousElementSibling;
    return { index: Number(e.dataset.index), elementId: e.dataset.elementId, field: e.dataset.field,
             text: e.textContent, rowElementId: row ? row.dataset.elementId : null };
  }),
  parseError: getComputedStyle(document.getElementById("parse-error")).display === "none"
    ? null : document.getElementById("parse-error").textContent,
  sourceFiles: q('[data-testid="source-file"]').map((s) => s.dataset.name),
};
"#;

fn read_page(browser: &Browser) -> Value {
    browser.eval(READ_PAGE, json!([]))
}

/// Waits for the render after `updates`, in `state`.
fn wait_render(browser: &Browser, after: u64, state: &str) -> Value {
    let script = format!(
        "return Number(document.body.dataset.updates || 0) > {after} && document.body.dataset.state === {state:?}"
    );
    browser.wait_for(&format!("the page to be {state}"), &script, LOAD);
    read_page(browser)
}

fn updates(page: &Value) -> u64 {
    page["updates"].as_u64().unwrap_or(0)
}

/// Plans the request the page shows, natively, and checks the page's totals
/// and lanes against it. Returns the request.
fn assert_page_matches_native(page: &Value, when: &str) -> Request {
    let text = page["request"].as_str().expect("the request is shown");
    let request = Request::from_json(text).unwrap_or_else(|e| {
        panic!("{when}: the page's request is not a native request: {e}\n{text}")
    });
    let plan = framex_core::plan(&request).expect("natively plannable");
    let t = &plan.totals;
    let shown = &page["totals"];
    assert_eq!(page["totalsShown"], true, "{when}: totals shown");
    for (id, value) in [
        ("total-elements", t.elements as i64),
        ("total-unique-works", t.unique_works as i64),
        ("total-dedupe-hits", t.dedupe_hits as i64),
        ("total-units", t.units as i64),
        ("total-superset-groups", t.superset_groups as i64),
        ("total-cache-hits", t.cache_hits as i64),
        ("total-frames-requested", t.frames_requested as i64),
        ("total-frames-to-extract", t.frames_to_extract as i64),
        ("total-frames-saved", t.frames_saved),
    ] {
        assert_eq!(shown[id], json!(value), "{when}: {id}");
    }
    // Math.round of the percentage, as the page computes it.
    let percent = (t.frames_saved as f64 * 100.0 / t.frames_requested as f64 + 0.5).floor();
    assert_eq!(
        shown["total-percent-saved"],
        json!(percent as i64),
        "{when}: percent saved"
    );

    let lanes = page["lanes"].as_array().expect("lanes");
    assert_eq!(
        lanes.len(),
        plan.assignments.len(),
        "{when}: one lane per element"
    );
    for (a, element) in plan.assignments.iter().zip(&request.composition.elements) {
        let lane = lanes
            .iter()
            .find(|l| l["elementId"] == a.element_id.as_str())
            .unwrap_or_else(|| panic!("{when}: no lane for {}", a.element_id));
        let role = serde_json::to_value(&a.role).unwrap();
        let unit = a.unit.clone().unwrap_or_default();
        let expected = json!({
            "source": element.src, "group": unit, "unit": unit, "role": role["kind"],
            "leader": role.get("leader").cloned().unwrap_or(json!("")),
            "cacheHit": a.cache_hit.to_string(), "cacheKey": a.cache_key,
            "offset": a.slice.offset.to_string(), "count": a.slice.count.to_string(),
            "startUs": a.start_us.to_string(),
        });
        for (key, value) in expected.as_object().unwrap() {
            assert_eq!(&lane[key], value, "{when}: lane {} {key}", a.element_id);
        }
    }
    let units: Vec<&str> = plan.units.iter().map(|u| u.id.as_str()).collect();
    let mut shown_units: Vec<&str> = page["unitLanes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    shown_units.sort_by_key(|u| u[1..].parse::<u32>().unwrap_or(0));
    assert_eq!(shown_units, units, "{when}: one group per extraction unit");
    request
}

/// Replaces the composition the way a paste does, then types one more
/// character as a person would.
fn edit_composition(browser: &Browser, text: &str) {
    browser.eval(
        "const t = document.getElementById('composition'); t.value = arguments[0]; \
         t.dispatchEvent(new Event('input', { bubbles: true }));",
        json!([text]),
    );
    let textarea = browser.find("[data-testid=composition]");
    browser.type_into(&textarea, "\n");
}

#[test]
fn the_preview_page_shows_the_native_plan_and_errors_next_to_elements() {
    let Some(www_pkg) = require_package(Package::Web, "preview_page") else {
        return;
    };
    let Some((chromium, chromedriver)) = browser_tools() else {
        return;
    };
    let www = www_pkg.parent().expect("wasm/www").to_path_buf();
    let artifacts = target_dir().join("framex-artifacts");
    let (_server, url) = start_preview(&framex_bin(), &www);
    let browser = Browser::start(&chromium, &chromedriver, WIDTH, 1000);

    // 1. A first visit loads the example and plans it.
    browser.open(&url);
    let page = wait_render(&browser, 0, "planned");
    let request = assert_page_matches_native(&page, "example");
    let example =
        std::fs::read_to_string(workspace_root().join("examples/composition.json")).unwrap();
    assert_eq!(
        request.composition,
        Composition::from_json(&example).unwrap(),
        "the example is examples/composition.json"
    );
    assert!(request.sources.is_empty() && request.cached_keys.is_empty());
    let plan = framex_core::plan(&request).unwrap();
    assert!(
        plan.totals.dedupe_hits > 0 && plan.totals.superset_groups > 0,
        "the example shows both kinds of saving"
    );

    // 2. Marking the first extraction as cached re-plans it as cache hits.
    browser.click(&browser.find("[data-testid=group][data-unit=u1] [data-testid=toggle-cached]"));
    let page = wait_render(&browser, updates(&page), "planned");
    let request = assert_page_matches_native(&page, "u1 cached");
    assert_eq!(request.cached_keys.len(), 1);
    assert_eq!(page["totals"]["total-cache-hits"], 1);

    // 3. Choosing a video file reads its facts; unused by any element, it becomes one.
    let clip = alpha_clip();
    browser.type_into(
        &browser.find("[data-testid=file-input]"),
        clip.to_str().unwrap(),
    );
    let page = wait_render(&browser, updates(&page), "planned");
    assert_eq!(page["sourceFiles"], json!(["alpha.webm"]));
    let request = assert_page_matches_native(&page, "a file chosen");
    let facts = &request.sources["alpha.webm"];
    let duration = facts
        .duration_us
        .expect("the <video> element read a duration");
    assert!(
        (duration - 2_000_000).abs() < 100_000,
        "duration {duration} µs of a 2 s clip"
    );
    match &facts.identity {
        framex_core::SourceIdentity::File { size, mtime_ns, .. } => {
            let meta = std::fs::metadata(&clip).unwrap();
            assert_eq!(*size, meta.len());
            assert!(
                *mtime_ns > 1_000_000_000_000_000_000,
                "mtime in ns: {mtime_ns}"
            );
        }
        other => panic!("a chosen file has a file identity, not {other:?}"),
    }
    let added = request.composition.elements.last().unwrap();
    assert_eq!(
        (added.id.as_str(), added.src.as_str()),
        ("alpha", "alpha.webm")
    );
    let shot = browser.screenshot(&artifacts.join("preview.png"), WIDTH);
    println!("preview_page: screenshot {}", shot.display());

    // 4. An invalid composition: every error next to its element.
    let mut composition = serde_json::to_value(&request.composition).unwrap();
    composition["elements"][4]["fps"] = json!(0);
    composition["elements"][6]["id"] = json!("../logo");
    composition["elements"][6]["mediaStart"] = json!(-1);
    let text = serde_json::to_string_pretty(&composition).unwrap();
    edit_composition(&browser, &text);
    let page = wait_render(&browser, updates(&page), "invalid");
    let invalid = Composition::from_json(&text).unwrap();
    let native = framex_core::validate(&invalid, &request.sources).expect_err("invalid");
    let errors = page["errors"].as_array().unwrap();
    assert_eq!(errors.len(), native.element_errors().len(), "{errors:?}");
    for (shown, expected) in errors.iter().zip(native.element_errors()) {
        let detail = expected.detail();
        assert_eq!(shown["index"], detail.index, "{shown}");
        assert_eq!(shown["elementId"], detail.element_id.as_str(), "{shown}");
        assert_eq!(
            shown["rowElementId"],
            detail.element_id.as_str(),
            "shown under its element: {shown}"
        );
        assert_eq!(shown["field"], detail.field.to_string(), "{shown}");
        assert!(
            shown["text"].as_str().unwrap().contains(&detail.message),
            "{shown} vs {}",
            detail.message
        );
    }
    assert_eq!(
        page["totalsShown"], false,
        "no totals for an invalid composition"
    );
    let shot = browser.screenshot(&artifacts.join("preview-invalid.png"), WIDTH);
    println!("preview_page: screenshot {}", shot.display());

    // 5. Text that is not JSON of the right shape: the parser's message, with its line.
    edit_composition(
        &browser,
        "{ \"elements\": [ { \"id\": \"a\", \"fps\": \"x\" ] }",
    );
    let page = wait_render(&browser, updates(&page), "invalid");
    let message = page["parseError"].as_str().expect("a parse error is shown");
    assert!(message.contains("line 1, column"), "{message}");
}
