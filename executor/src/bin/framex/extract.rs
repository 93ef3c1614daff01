//! `framex extract`: run a composition.

use std::process::ExitCode;
use std::time::Duration;

use framex_executor::events::EventSink;
use framex_executor::run::RunOptions;
use framex_executor::Tools;

use crate::args::{Command, ProgressMode};
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
        progress: mode,
        progress_file,
        cache,
        jobs,
        encoders,
        timeout,
        max_cache_size,
        planning,
        sources,
        farm,
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
    options.progress = progress && mode == ProgressMode::Auto;
    if mode == ProgressMode::Json {
        options.events = Some(json_events(progress_file.as_deref(), json)?);
    }
    options.plan = planning.options();
    options.max_cache_bytes = max_cache_size;
    options.sources = sources.options();
    options.farm = crate::farm::options(&farm, &mut options.sources);
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

/// A sink writing one JSON event per line to `file`, else to stdout (which
/// `--json` needs for the report).
fn json_events(file: Option<&std::path::Path>, json: bool) -> Result<EventSink, String> {
    use std::io::Write;
    let out: Box<dyn Write + Send> = match file {
        Some(path) => Box::new(
            std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(path)
                .map_err(|e| format!("cannot open {}: {e}", path.display()))?,
        ),
        None if json => {
            return Err(
                "--progress json and --json both write to stdout: give --progress-file PATH".into(),
            )
        }
        None => Box::new(std::io::stdout()),
    };
    let out = std::sync::Mutex::new(out);
    Ok(EventSink(std::sync::Arc::new(move |event| {
        let mut line = serde_json::to_vec(event).expect("events serialize");
        line.push(b'\n');
        let mut out = out.lock().unwrap_or_else(|e| e.into_inner());
        let _ = out.write_all(&line).and_then(|()| out.flush());
    })))
}
