//! The `framex` command line: `main` parses and dispatches; each command
//! lives in a file of its own.

// Planning allocates many small strings; mimalloc makes that markedly faster.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod args;
mod bench;
mod cache;
mod demo;
mod extract;
mod farm;
mod plan;
mod preview;
mod table;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use framex_executor::prepare::InputError;
use framex_executor::run::{run, RunError, RunOptions};
use framex_executor::{Report, Tools};
use tokio_util::sync::CancellationToken;

use crate::args::{Cli, Command};
use crate::table::terminal_safe;

/// Exit code for invalid input or usage.
pub const EXIT_INVALID: u8 = 2;
/// Exit code after Ctrl-C.
pub const EXIT_CANCELLED: u8 = 130;

fn main() -> ExitCode {
    // mimalloc asks for transparent huge pages, so each first touch of its
    // memory zeroes 2 MB: that doubled framex's peak RSS (33 MB against 15
    // at 30 frames of work, `framex bench --scenario rss`) and bought no
    // measurable speed. The flag is inherited by ffmpeg, whose allocator
    // asks for none.
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // mp4-atom reports each box it does not know as an error;
                // for framex that only means ffprobe reads the file.
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,mp4_atom=off")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("framex: {}", terminal_safe(&message));
            ExitCode::from(EXIT_INVALID)
        }
    }
}

async fn dispatch(cli: Cli) -> Result<ExitCode, String> {
    let tools = Tools::find(cli.ffmpeg.as_deref(), cli.ffprobe.as_deref());
    let progress = !cli.quiet && std::io::stderr().is_terminal();
    match cli.command {
        Command::Demo { dir, small, json } => {
            demo::demo(&tools, dir, small, json, cli.quiet, progress).await
        }
        command @ Command::Plan { .. } => plan::plan(command, &tools).await,
        command @ Command::Extract { .. } => {
            extract::extract(command, tools, cli.quiet, progress).await
        }
        Command::Cache { action, cache } => cache::cache(action, cache),
        Command::Bench(args) => tokio::task::spawn_blocking(move || bench::bench(&args, &tools))
            .await
            .map_err(|e| e.to_string())?,
        Command::Preview { port, dir } => {
            let www = dir.unwrap_or_else(preview::default_www_dir);
            tokio::task::spawn_blocking(move || preview::serve(&www, port))
                .await
                .map_err(|e| e.to_string())??;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Runs, turning a run that could not start into its message; with
/// `json`, an invalid input is also printed as JSON on stdout.
pub async fn run_or_explain(options: &RunOptions, json: bool) -> Result<Report, String> {
    match run(options).await {
        Ok(report) => Ok(report),
        Err(RunError::Input(err)) => Err(explain_input_error(&err, json)),
        Err(err) => Err(err.to_string()),
    }
}

/// The message for input refused as invalid (exit 2): the first
/// [`table::ERRORS_SHOWN`] element errors, then how many more. With `json`,
/// prints every one on stdout (`{"error": …, "errors": [ErrorDetail…]}`).
pub fn explain_input_error(err: &InputError, json: bool) -> String {
    let message = table::invalid_message(err);
    if json {
        let errors: Vec<framex_core::ErrorDetail> = match err {
            InputError::Invalid { error, .. } => {
                error.element_errors().iter().map(|e| e.detail()).collect()
            }
            _ => Vec::new(),
        };
        let value = serde_json::json!({ "error": message, "errors": errors });
        println!(
            "{}",
            serde_json::to_string_pretty(&value).expect("errors serialize")
        );
    }
    message
}

/// 0 when every element succeeded, 1 when any failed, 130 after Ctrl-C.
pub fn exit_code(report: &Report, cancel: &CancellationToken) -> ExitCode {
    if cancel.is_cancelled() {
        eprintln!(
            "framex: cancelled; running ffmpeg processes were killed and nothing half-done was published"
        );
        ExitCode::from(EXIT_CANCELLED)
    } else if report.all_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// A token cancelled by Ctrl-C or SIGTERM.
pub fn cancel_on_ctrl_c() -> CancellationToken {
    let token = CancellationToken::new();
    let child = token.clone();
    tokio::spawn(async move {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let terminated = async {
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = terminated => {}
        }
        child.cancel();
    });
    token
}
