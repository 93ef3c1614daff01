//! The preview page in a real headless Chromium. On a first visit it loads
//! the example (the demo's composition); the totals, the decode runs and the
//! element lanes it shows must match the native plan of the request it shows,
//! before and after marking a decode run as cached, setting a source's frame
//! rate and choosing a video file. Its layout must hold at 1400 and 700 px:
//! nothing wider than the window, the elements table inside its panel, no
//! label wrapped a word per line, the duplicate labels readable. A
//! composition with a misspelt field and invalid values shows every error at
//! once, each under its element, and is not called "not well-formed"; text
//! that is not JSON is. Screenshots are saved under
//! `target/framex-artifacts/` for a person to look at.
//!
//! The page is served by a small static file server here (what `framex
//! preview` does); with `FRAMEX_TEST_PREVIEW=framex` it is served by `framex
//! preview` itself. Needs the web package (`scripts/build-wasm.sh`), Chromium,
//! ChromeDriver and ffmpeg. Without Chromium the test is skipped, except
//! under CI.

#[path = "../support/static_files.rs"]
mod static_files;
#[path = "../support/webdriver.rs"]
mod webdriver;

mod checks;
mod page;

use std::path::{Path, PathBuf};
use std::time::Duration;

use framex_core::{Composition, Request};
use framex_tests::wasm::{require_package, which, Package};
use framex_tests::{alpha_clip, framex_bin, workspace_root};
use serde_json::{json, Value};
use webdriver::{start_preview, Browser, Process};

use crate::checks::{assert_page_matches_native, check_layout};
use crate::page::{edit_composition, updates, wait_render, wait_render_where};

const WIDE: u32 = 1400;
const NARROW: u32 = 700;
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

/// Serves `www`; the server lives as long as the box. Returns its URL.
fn serve(www: &Path) -> (Box<dyn std::any::Any>, String) {
    if std::env::var("FRAMEX_TEST_PREVIEW").is_ok_and(|v| v == "framex") {
        let (process, url): (Process, String) = start_preview(&framex_bin(), www);
        return (Box::new(process), url);
    }
    let server = static_files::StaticFiles::start(www);
    let url = server.url.clone();
    (Box::new(server), url)
}

#[test]
fn the_preview_page_shows_frame_level_reuse_at_both_widths_and_every_error() {
    let Some(www_pkg) = require_package(Package::Web, "preview_page") else {
        return;
    };
    let Some((chromium, chromedriver)) = browser_tools() else {
        return;
    };
    let www = www_pkg.parent().expect("wasm/www").to_path_buf();
    let (_server, url) = serve(&www);
    let browser = Browser::start(&chromium, &chromedriver, WIDE, 1000);

    // 1. A first visit loads the example, the demo's composition, and plans it.
    browser.open(&url);
    let page = wait_render(&browser, 0, "planned");
    let (request, plan) = assert_page_matches_native(&page, "example");
    let example =
        std::fs::read_to_string(workspace_root().join("examples/composition.json")).unwrap();
    assert_eq!(
        request.composition,
        Composition::from_json(&example).unwrap(),
        "the example is examples/composition.json"
    );
    assert!(request.sources.is_empty() && request.cached_frames.is_empty());
    let elements = &request.composition.elements;
    assert!(
        elements.iter().any(|e| e.looping) && elements.iter().any(|e| e.playback_rate.is_some())
    );
    let kinds: Vec<Value> = plan
        .elements
        .iter()
        .map(|e| serde_json::to_value(&e.role).unwrap()["kind"].clone())
        .collect();
    for kind in ["leader", "duplicate", "shares"] {
        assert!(
            kinds.contains(&json!(kind)),
            "the example shows a {kind}: {kinds:?}"
        );
    }
    assert!(plan.totals.distinct_frames < plan.totals.frames_requested);
    let rows = page["sourceRows"].as_array().unwrap();
    assert_eq!(
        rows.len(),
        plan.sources.len(),
        "one row per source: {rows:?}"
    );

    // 2. Marking r1 as cached re-plans its frames as cache hits.
    let r1 = plan.runs().find(|(_, _, r)| r.id == "r1").unwrap();
    let (r1_key, r1_frames) = (r1.1.key.clone(), r1.2.make.count());
    browser.click(&browser.find("[data-testid=toggle-cached][data-run=r1]"));
    let page = wait_render(&browser, updates(&page), "planned");
    let (request, _) = assert_page_matches_native(&page, "r1 cached");
    assert_eq!(request.cached_frames[&r1_key].len() as u64, r1_frames);
    assert_eq!(page["totals"]["total-cache-hits"], json!(r1_frames));

    // 3. A source's frame rate, set on the page, is the rate the planner assumes.
    let talk = "clips/talk_vfr.mp4";
    let rate = browser.find(&format!("[data-testid=source-rate][data-src={talk:?}]"));
    browser.clear(&rate);
    browser.type_into(&rate, "24");
    let page = wait_render_where(
        &browser,
        updates(&page),
        "planned",
        r#"document.getElementById("request").textContent.includes('"frameRate": "24"')"#,
    );
    let (request, plan) = assert_page_matches_native(&page, "talk at 24 fps");
    assert_eq!(
        request.sources[talk].frame_rate,
        framex_core::Fps::new(24, 1)
    );
    let source = plan.sources.iter().find(|s| s.src == talk).unwrap();
    assert_eq!(source.assumed_rate, framex_core::Fps::new(24, 1));

    // 4. Choosing a video file reads its facts; unused by any element, it becomes one.
    let clip = alpha_clip();
    browser.type_into(
        &browser.find("[data-testid=file-input]"),
        clip.to_str().unwrap(),
    );
    let page = wait_render_where(
        &browser,
        updates(&page),
        "planned",
        r#"document.getElementById("request").textContent.includes("alpha.webm")"#,
    );
    let (request, _) = assert_page_matches_native(&page, "a file chosen");
    let file_rows: Vec<&Value> = page["sourceRows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["testid"] == "source-file")
        .collect();
    assert_eq!(file_rows.len(), 1, "{file_rows:?}");
    assert_eq!(file_rows[0]["name"], "alpha.webm");
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

    // 5. The layout, wide and narrow.
    let wide = check_layout(&browser, WIDE, "1400 px", "preview-1400.png");
    browser.resize(NARROW, 1000);
    let narrow = check_layout(&browser, NARROW, "700 px", "preview-700.png");

    // 6. A misspelt field and invalid values: every error at once, each under
    // its element; the composition is well-formed, and the page says so.
    let mut composition = serde_json::to_value(&request.composition).unwrap();
    composition["elements"][2]["durration"] = json!(4);
    composition["elements"][4]["fps"] = json!(0);
    composition["elements"][6]["id"] = json!("../talk-outro");
    composition["elements"][6]["mediaStart"] = json!(-1);
    composition["elements"][9]["id"] = composition["elements"][8]["id"].clone();
    let text = serde_json::to_string_pretty(&composition).unwrap();
    edit_composition(&browser, &text);
    let page = wait_render(&browser, updates(&page), "invalid");
    let status = page["status"].as_str().unwrap();
    assert!(!status.contains("not well-formed"), "{status}");
    let shape = Request::from_json(&format!(r#"{{"composition": {text}}}"#)).unwrap_err();
    assert!(
        shape.message.contains("did you mean `duration`?"),
        "{shape}"
    );
    let parse_box = page["parseError"]
        .as_str()
        .expect("the parser's message is shown");
    assert!(
        parse_box.contains("elements[2].durration") && parse_box.contains("line "),
        "{parse_box}"
    );
    // What the planner says of the rest, once the misspelt field is fixed.
    let mut fixed = composition.clone();
    fixed["elements"][2]
        .as_object_mut()
        .unwrap()
        .remove("durration");
    let fixed = Composition::from_json(&fixed.to_string()).unwrap();
    let native = framex_core::validate(&fixed, &request.sources).expect_err("invalid");
    let errors = page["errors"].as_array().unwrap();
    assert_eq!(
        errors.len(),
        native.element_errors().len() + 1,
        "every error at once: {errors:?}"
    );
    let misspelt = &errors[0];
    assert_eq!(misspelt["index"], 2, "{misspelt}");
    assert_eq!(misspelt["field"], "durration", "{misspelt}");
    assert_eq!(
        misspelt["rowElementId"], misspelt["elementId"],
        "{misspelt}"
    );
    assert!(
        misspelt["text"].as_str().unwrap().contains(&shape.message),
        "{misspelt} vs {shape}"
    );
    for (shown, expected) in errors[1..].iter().zip(native.element_errors()) {
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
    let invalid = check_layout(
        &browser,
        NARROW,
        "700 px, invalid",
        "preview-invalid-700.png",
    );

    // 7. Text that is not JSON: the parser's message, with its line, and the
    // page says it is not well-formed.
    edit_composition(
        &browser,
        "{ \"elements\": [ { \"id\": \"a\", \"fps\": \"x\" ] }",
    );
    let page = wait_render(&browser, updates(&page), "invalid");
    let message = page["parseError"].as_str().expect("a parse error is shown");
    assert!(message.contains("line 1, column"), "{message}");
    assert!(
        page["status"].as_str().unwrap().contains("not well-formed"),
        "{}",
        page["status"]
    );
    println!(
        "preview_page: screenshots {}, {} and {}",
        wide.display(),
        narrow.display(),
        invalid.display()
    );
}
