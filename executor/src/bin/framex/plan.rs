//! `framex plan`: probe the sources and print the plan, with every
//! element's error when its source cannot be used (exit 1, like `extract`).

use std::process::ExitCode;
use std::time::Duration;

use framex_core::{Plan, Request};
use framex_executor::prepare::read_composition;
use framex_executor::run::{plan_composition, PlanSettings, RunError};
use framex_executor::store::Store;
use framex_executor::Tools;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::args::Command;
use crate::table::{plan_table, terminal_safe, ERRORS_SHOWN};

/// An element that has no plan: its source cannot be used.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ElementFailure {
    element_id: String,
    error_kind: String,
    retryable: bool,
    error: String,
}

/// What `framex plan --json` prints: the plan, and the elements left out of
/// it (when there are any).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PlanOutput<'a> {
    #[serde(flatten)]
    plan: &'a Plan,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    element_errors: Vec<ElementFailure>,
}

/// Runs `framex plan`.
pub async fn plan(command: Command, tools: &Tools) -> Result<ExitCode, String> {
    let Command::Plan {
        composition,
        json,
        request,
        cache,
        planning,
        sources,
        timeout,
    } = command
    else {
        unreachable!("dispatched on Plan");
    };
    let (plan, failures) = if request {
        let text = std::fs::read_to_string(&composition)
            .map_err(|e| format!("cannot read {}: {e}", composition.display()))?;
        let request = Request::from_json(&text)
            .map_err(|e| format!("{}: invalid request: {e}", composition.display()))?;
        let plan = framex_core::plan(&request).map_err(|error| {
            let err = framex_executor::prepare::InputError::Invalid {
                path: composition.clone(),
                error,
            };
            crate::explain_input_error(&err, json)
        })?;
        (plan, Vec::new())
    } else {
        // An invalid composition is refused before anything is made or read.
        let read =
            read_composition(&composition).map_err(|e| crate::explain_input_error(&e, json))?;
        // Planning reads the store but never creates it: without one, an
        // empty store of its own for the moment.
        let scratch;
        let (store, remember) = match cache.root() {
            Some(root) if root.exists() => (
                Store::open(&root)
                    .map_err(|e| format!("cannot open store {}: {e}", root.display()))?,
                true,
            ),
            _ => {
                scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
                (
                    Store::open(scratch.path()).map_err(|e| e.to_string())?,
                    false,
                )
            }
        };
        let settings = PlanSettings {
            tools: tools.clone(),
            jobs: framex_executor::run::default_decoders(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            ) * 4,
            timeout: Duration::from_secs(timeout.max(1)),
            cancel: CancellationToken::new(),
            plan: planning.options(),
            sources: sources.options(),
        };
        let planned = plan_composition(&composition, read, &store, remember, &settings)
            .await
            .map_err(|e| match e {
                RunError::Input(err) => crate::explain_input_error(&err, json),
                other => other.to_string(),
            })?;
        let failures = planned
            .prepared
            .element_errors()
            .into_iter()
            .map(|(id, err)| ElementFailure {
                element_id: id,
                error_kind: err.kind().to_string(),
                retryable: err.retryable(),
                error: err.to_string(),
            })
            .collect();
        (planned.plan, failures)
    };
    let failed = !failures.is_empty();
    if json {
        let output = PlanOutput {
            plan: &plan,
            element_errors: failures,
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&output).expect("plans serialize")
        );
    } else {
        print!("{}", plan_table(&plan));
        for f in failures.iter().take(ERRORS_SHOWN) {
            println!(
                "{:<24} error: {} ({})",
                terminal_safe(&f.element_id),
                f.error_kind,
                terminal_safe(&f.error)
            );
        }
        if failures.len() > ERRORS_SHOWN {
            println!(
                "… and {} more elements with errors (--json lists them all)",
                failures.len() - ERRORS_SHOWN
            );
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
