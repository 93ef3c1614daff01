//! `framex extract`: run a composition.

use std::process::ExitCode;
use std::time::Duration;

use framex_executor::run::RunOptions;
use framex_executor::Tools;

use crate::args::Command;
use crate::table::report_summary;
use crate::{cancel_on_ctrl_c, exit_code, run_or_explain};

/// Runs `framex extract`.
pub async fn extract(
    command: Command,
    tools: Tools,
    quiet: bool,
    progress: bool,
) -> Result<ExitCode, String> {
    let Command::Extract {
        composition,
        out,
        json,
        cache,
        jobs,
        encoders,
        timeout,
        max_cache_size,
        planning,
        sources,
    } = command
    else {
        unreachable!("dispatched on Extract");
    };
    let mut options = RunOptions::new(composition, out, tools);
    options.cache_dir = cache.root();
    options.jobs = jobs.unwrap_or(options.jobs).max(1);
    options.encoders = encoders.unwrap_or(options.encoders).max(1);
    options.timeout = Duration::from_secs(timeout.max(1));
    options.cancel = cancel_on_ctrl_c();
    options.progress = progress;
    options.plan = planning.options();
    options.max_cache_bytes = max_cache_size;
    options.sources = sources.options();
    let report = run_or_explain(&options, json).await?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("reports serialize")
        );
    } else if !quiet {
        let out = std::fs::canonicalize(&options.out_dir).unwrap_or(options.out_dir.clone());
        eprint!("{}", report_summary(&report, Some(&out)));
    }
    Ok(exit_code(&report, &options.cancel))
}
