//! `framex plan --request --json` plans as the library does: the requests of
//! the property generator, planned in another process (another hash seed,
//! another allocator history), give exactly the library's plans.
//!
//! Runs the `framex` binary (built once per test process, or `FRAMEX_BIN`).

use framex_tests::generate::request;
use framex_tests::plan_case_json;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;

#[test]
fn plans_are_the_same_in_another_process() {
    let mut runner = TestRunner::deterministic();
    let strategy = request(8);
    let dir = tempfile::tempdir().unwrap();
    let mut compared = 0;
    for i in 0..24 {
        let request = strategy.new_tree(&mut runner).unwrap().current();
        let text = serde_json::to_string(&request).unwrap();
        let Ok(native) = plan_case_json(&text) else {
            continue;
        };
        let path = dir.path().join(format!("request-{i}.json"));
        std::fs::write(&path, &text).unwrap();
        let cli = framex_tests::framex_plan_json(&["--request"], &path);
        assert_eq!(cli, native, "request {i}: {text}");
        compared += 1;
    }
    assert!(compared >= 16, "only {compared} requests planned");
}
