//! Snapshots of the plan of every request in the corpus (`tests/cases/*.json`),
//! kept in `snapshots/`: the plan as pretty JSON, or for a refused request the
//! error's message and its element errors ([`framex_tests::error_text`]).
//!
//! The snapshots are the reviewed truth; see tests/README.md for how to add a
//! case and review its snapshot.

use framex_core::{Plan, Request};
use framex_tests::{case_files, cases_dir, plan_case_json, snapshots_dir};

/// The snapshot of a case: the plan in the field order of [`Plan`] (not the
/// key order of a `serde_json::Value`), or the error text.
fn snapshot_text(text: &str) -> String {
    match plan_case_json(text) {
        Ok(value) => {
            let plan: Plan = serde_json::from_value(value.clone()).expect("a plan reads back");
            assert_eq!(
                serde_json::to_value(&plan).unwrap(),
                value,
                "the plan round-trips through JSON"
            );
            serde_json::to_string_pretty(&plan).unwrap()
        }
        Err(error) => error,
    }
}

#[test]
fn plans() {
    insta::with_settings!({
        snapshot_path => snapshots_dir(),
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::glob!("../cases", "*.json", |path| {
            let text = std::fs::read_to_string(path).unwrap();
            insta::assert_snapshot!(snapshot_text(&text));
        });
    });
}

/// Error cases are named `error-*.json` and must be refused; every other case
/// must plan. A case that silently starts to plan (or to fail) is caught here
/// even before its snapshot is looked at.
#[test]
fn error_cases_and_only_they_are_refused() {
    let files = case_files();
    assert!(files.len() >= 24, "the corpus has {} cases", files.len());
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy();
        let text = std::fs::read_to_string(file).unwrap();
        let result = plan_case_json(&text);
        if name.starts_with("error-") {
            assert!(result.is_err(), "{name} must be refused: {result:?}");
        } else {
            assert!(result.is_ok(), "{name} must plan: {result:?}");
        }
    }
}

/// Every snapshot belongs to a case: a renamed or deleted case must take its
/// snapshot with it.
#[test]
fn no_orphaned_snapshots() {
    let cases: Vec<String> = case_files()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for entry in std::fs::read_dir(snapshots_dir()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(case) = name
            .strip_prefix("plans@")
            .and_then(|n| n.strip_suffix(".snap"))
        {
            assert!(
                cases.iter().any(|c| c == case),
                "snapshots/{name} has no case in {}",
                cases_dir().display()
            );
        }
    }
}

/// The example composition of the repository is in the corpus, unchanged.
#[test]
fn the_example_composition_is_a_case() {
    let root = framex_tests::workspace_root();
    let example = std::fs::read_to_string(root.join("examples/composition.json")).unwrap();
    let case = std::fs::read_to_string(cases_dir().join("example-composition.json")).unwrap();
    let composition = framex_core::Composition::from_json(&example).unwrap();
    assert_eq!(Request::from_json(&case).unwrap().composition, composition);
}

/// The cache case names real recipe keys: those of talk.mov in PNG and in
/// JPEG, computed here from the source's identity, time base and recipe, not
/// copied from a plan. When the key scheme changes (a schema or recipe
/// version bump), this says why the case stopped hitting.
#[test]
fn the_cache_case_names_the_keys_of_its_hits() {
    use framex_core::{recipe_key, ImageFormat, Recipe, Role, SourceIdentity, TimeBase};
    let text = std::fs::read_to_string(cases_dir().join("cache-hits-and-misses.json")).unwrap();
    let request = Request::from_json(&text).unwrap();
    let talk = SourceIdentity::File {
        path: "/media/talk.mov".into(),
        size: 73_400_320,
        mtime_ns: 1_732_500_000_123_456_789,
    };
    let time_base = TimeBase::new(1, 15360).unwrap();
    for format in [ImageFormat::Png, ImageFormat::Jpeg] {
        let key = recipe_key(&talk, time_base, Recipe::new(format, false, None));
        assert!(
            request.cached_frames.contains_key(&key),
            "cache-hits-and-misses.json must list talk.mov's {format:?} frames under {key}: \
             plan the case and copy the key"
        );
    }
    let plan = framex_core::plan(&request).unwrap();
    let roles: Vec<(&str, &Role)> = plan
        .elements
        .iter()
        .map(|e| (e.element_id.as_str(), &e.role))
        .collect();
    assert_eq!(roles[0], ("hit-a", &Role::CacheHit));
    assert_eq!(roles[4], ("hit-d", &Role::CacheHit));
    // hit-a's 60 frames, and hit-d's 24; the stray time 100 (no frame) and
    // the unknown key count for nothing.
    assert_eq!(plan.totals.cache_hits, 60 + 24);
}
