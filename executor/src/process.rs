//! The one process runner for every external tool (ffmpeg, ffprobe).
//!
//! A tool runs as the leader of a process group of its own, so a timeout, a
//! cancellation or a deliberate stop also ends what it started (the real
//! ffmpeg behind a wrapper script). Its stderr is read as it arrives: a line
//! handler may claim lines (ffmpeg's `showinfo`), the rest is kept, its last
//! 64 KiB, for error messages, including those of a process that hung.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::error::{exit_error, spawn_error, stderr_tail, IoError};

/// How much of a tool's stderr is kept (the tail is what counts).
const STDERR_KEEP: usize = 64 * 1024;

/// Limits on one process.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Kill it after this long.
    pub timeout: Duration,
    /// Kill it when this is cancelled.
    pub cancel: CancellationToken,
}

/// Handles the stderr lines it claims (returns `true`); other lines are
/// kept for errors.
pub type LineHandler = Box<dyn FnMut(&str) -> bool + Send>;

/// A running tool.
pub struct Process {
    tool: &'static str,
    program: PathBuf,
    child: Child,
    group: Option<rustix::process::Pid>,
    said: Arc<Mutex<Vec<u8>>>,
    stderr_reader: Option<JoinHandle<()>>,
    watchdog: Option<(mpsc::Sender<()>, JoinHandle<()>)>,
    timed_out: Arc<AtomicBool>,
    cancelled: Arc<AtomicBool>,
    limits: Limits,
}

impl Process {
    /// Starts `program` (`tool` names it in errors) with `args`, stdout
    /// piped, stdin closed.
    pub fn spawn(
        tool: &'static str,
        program: &Path,
        args: &[OsString],
        limits: &Limits,
        mut on_line: Option<LineHandler>,
    ) -> Result<Self, ToolError> {
        use std::os::unix::process::CommandExt;
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(|err| spawn_error(tool, program, &err))?;
        let group = i32::try_from(child.id())
            .ok()
            // Never 0 or 1: those would signal our own group or every process.
            .filter(|&id| id > 1)
            .and_then(rustix::process::Pid::from_raw);
        let said = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("piped");
        let stderr_reader = {
            let said = said.clone();
            std::thread::Builder::new()
                .name(format!("{tool}-stderr"))
                .spawn(move || {
                    let mut reader = BufReader::new(stderr);
                    let mut line = Vec::new();
                    while let Ok(n @ 1..) = reader.read_until(b'\n', &mut line) {
                        let text = String::from_utf8_lossy(&line[..n]);
                        let claimed = on_line.as_mut().is_some_and(|f| f(text.trim_end()));
                        if !claimed {
                            let mut said = said.lock().unwrap_or_else(|e| e.into_inner());
                            said.extend_from_slice(&line[..n]);
                            let excess = said.len().saturating_sub(STDERR_KEEP);
                            said.drain(..excess);
                        }
                        line.clear();
                    }
                })
                .map_err(|e| IoError::new("starting a thread for", program, &e))?
        };
        let timed_out = Arc::new(AtomicBool::new(false));
        let cancelled = Arc::new(AtomicBool::new(false));
        let (stop, stopped) = mpsc::channel::<()>();
        let watchdog = {
            let (timed_out, cancelled, limits) =
                (timed_out.clone(), cancelled.clone(), limits.clone());
            std::thread::Builder::new()
                .name(format!("{tool}-watchdog"))
                .spawn(move || {
                    let deadline = Instant::now() + limits.timeout;
                    loop {
                        let now = Instant::now();
                        if now >= deadline {
                            timed_out.store(true, Ordering::SeqCst);
                            break;
                        }
                        let wait = (deadline - now).min(Duration::from_millis(50));
                        match stopped.recv_timeout(wait) {
                            Err(mpsc::RecvTimeoutError::Timeout) => {}
                            _ => return,
                        }
                        if limits.cancel.is_cancelled() {
                            cancelled.store(true, Ordering::SeqCst);
                            break;
                        }
                    }
                    if let Some(pid) = group {
                        let _ =
                            rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
                    }
                })
                .map_err(|e| IoError::new("starting a thread for", program, &e))?
        };
        Ok(Self {
            tool,
            program: program.to_path_buf(),
            child,
            group,
            said,
            stderr_reader: Some(stderr_reader),
            watchdog: Some((stop, watchdog)),
            timed_out,
            cancelled,
            limits: limits.clone(),
        })
    }

    /// Its stdout.
    pub fn stdout(&mut self) -> &mut ChildStdout {
        self.child.stdout.as_mut().expect("piped")
    }

    /// The stderr kept so far, as a short tail for messages.
    pub fn stderr_tail(&self) -> String {
        stderr_tail(&self.said.lock().unwrap_or_else(|e| e.into_inner()), 6)
    }

    /// Why it was killed, if the watchdog killed it.
    fn killed_error(&self) -> Option<ToolError> {
        if self.cancelled.load(Ordering::SeqCst) {
            return Some(ToolError::Cancelled);
        }
        self.timed_out
            .load(Ordering::SeqCst)
            .then(|| ToolError::Timeout {
                tool: self.tool.to_string(),
                seconds: self.limits.timeout.as_secs(),
                stderr_tail: self.stderr_tail(),
            })
    }

    /// Waits for it to exit and for its stderr to end; its exit classified.
    pub fn finish(mut self) -> Result<Finished, ToolError> {
        let status = self.wait()?;
        if let Some(err) = self.killed_error() {
            return Err(err);
        }
        let said = self.said.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if status.success() {
            Ok(Finished {
                stderr_tail: stderr_tail(&said, 6),
            })
        } else {
            Err(exit_error(self.tool, &status, &said))
        }
    }

    /// Ends it now, deliberately (its output is complete or no longer
    /// wanted): the group is killed, the process reaped.
    pub fn stop(mut self) {
        self.kill_group();
        let _ = self.wait();
    }

    fn kill_group(&self) {
        if let Some(pid) = self.group {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    }

    fn wait(&mut self) -> Result<ExitStatus, ToolError> {
        // Its stdout is closed first: a process blocked writing to it ends.
        drop(self.child.stdout.take());
        let status = self
            .child
            .wait()
            .map_err(|e| IoError::new(&format!("waiting for {}", self.tool), &self.program, &e))?;
        if let Some(reader) = self.stderr_reader.take() {
            let _ = reader.join();
        }
        if let Some((stop, watchdog)) = self.watchdog.take() {
            let _ = stop.send(());
            let _ = watchdog.join();
        }
        Ok(status)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if self.watchdog.is_some() {
            self.kill_group();
            let _ = self.wait();
        }
    }
}

/// A process that exited successfully.
#[derive(Clone, Debug)]
pub struct Finished {
    /// The last lines of its stderr.
    pub stderr_tail: String,
}

/// Runs a tool to completion, returning its whole stdout.
pub fn output(
    tool: &'static str,
    program: &Path,
    args: &[OsString],
    limits: &Limits,
) -> Result<Vec<u8>, ToolError> {
    use std::io::Read;
    let mut process = Process::spawn(tool, program, args, limits, None)?;
    let mut out = Vec::new();
    let read = process.stdout().read_to_end(&mut out);
    process.finish()?;
    read.map_err(|e| IoError::new(&format!("reading the output of {tool}"), program, &e))?;
    Ok(out)
}

/// Why a tool (ffmpeg or ffprobe) did not run to a successful exit.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ToolError {
    /// ffmpeg or ffprobe is not installed (or not executable).
    #[error("{tool} is not available ({reason}); install it (Debian/Ubuntu: `apt-get install ffmpeg`, macOS: `brew install ffmpeg`) or point FRAMEX_{} at it", .tool.to_uppercase())]
    Unavailable {
        /// `ffmpeg` or `ffprobe`.
        tool: String,
        /// Why it could not be run.
        reason: String,
    },
    /// It exited unsuccessfully or crashed (a failure that would happen
    /// again: bad input, a decoder crash such as SIGSEGV or SIGABRT).
    #[error("ffmpeg failed ({status}): {stderr_tail}")]
    Failed {
        /// Exit status as text (`exit status 1`, `killed by signal 11`).
        status: String,
        /// The last lines of its stderr.
        stderr_tail: String,
    },
    /// It failed in a way that says nothing about the input: killed from
    /// outside (SIGKILL, as the OOM killer does, SIGTERM, SIGINT, SIGHUP) or
    /// out of resources ("Resource temporarily unavailable", "Cannot
    /// allocate memory", or the process could not be started for that
    /// reason). Retried once.
    #[error("{tool} failed transiently ({status}): {stderr_tail}")]
    Transient {
        /// `ffmpeg` or `ffprobe`.
        tool: String,
        /// Exit status as text.
        status: String,
        /// The last lines of its stderr.
        stderr_tail: String,
    },
    /// It ran past the per-process timeout and was killed.
    #[error("{tool} timed out after {seconds} s and was killed: {stderr_tail}")]
    Timeout {
        /// `ffmpeg` or `ffprobe`.
        tool: String,
        /// The timeout.
        seconds: u64,
        /// The last lines of its stderr.
        stderr_tail: String,
    },
    /// It was killed because the run was cancelled.
    #[error("cancelled")]
    Cancelled,
    /// Waiting for it or reading its output failed.
    #[error(transparent)]
    Io(#[from] IoError),
}
