//! Hostile inputs, table-driven: the machinery of the `faults_input*`
//! tests. A [`Case`] is a composition (text), files beside it
//! ([`Fixture`]), an optional booby trap in the output directory, and what
//! must happen ([`Expect`]).
//!
//! [`run_case`] checks the outcome — a clear error and exit code 2 when the
//! composition is invalid (the message names the line and column, the
//! field, the element or the value), or a per-element error in the report
//! and exit code 1 when only one element's source is bad (the good element
//! next to it still gets its frames) — and, for every case, that nothing
//! is written outside the output and store directories. framex runs from a
//! fresh current directory with fresh `HOME`, `XDG_CACHE_HOME` and
//! `TMPDIR`, which must stay empty; the composition's directory is the same
//! before and after; nothing appears anywhere else in the case's directory
//! tree (an id like `../../x` has room to escape into). A case with an
//! unreadable source runs `framex` unprivileged ([`crate::host`]), so that
//! it runs as root too.

mod case;
mod run;

pub use case::{
    bad_source, element, good, invalid, on_src, says, with, Case, Expect, Fixture, Text,
};
pub use run::{read_report, run_all, run_case, tree, Ran};
