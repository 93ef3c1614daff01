//! Fuzzing the request parser and the planner with proptest: arbitrary
//! bytes and text, soups of JSON tokens, damaged requests, and JSON values
//! shaped like compositions and requests (objects with the real field names
//! holding values of every type; timelines with runs of any integers) go
//! through `Composition::from_json`, `validate`, `Request::from_json` and
//! `plan`. No input may make them panic: what they refuse is an `Err` with a
//! message (and, for syntax, a line), and a plan that comes back passes
//! `framex_tests::plan_check::check_plan`. Planning is deterministic: the same
//! input planned twice, on another thread, or after a round trip through
//! JSON gives the same plan. (`tests/plan_cli.rs` compares with the plans of
//! the `framex` binary, another process.)
//!
//! The generators are shared with `tests/properties.rs`
//! (`framex_tests::generate`). Sized to run in seconds.

mod checks;
mod inputs;
mod planner;
mod text;
