//! Watching processes from a test: whether a pid still runs, and waiting
//! for a set of them to be gone.

use std::process::Command;
use std::time::{Duration, Instant};

/// Whether `pid` is a live process (a zombie waiting for its parent to reap
/// it has ended: it counts as gone).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // `pid (comm) state …`: the state follows the last ')'.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Waits up to `limit` for every pid to be gone; panics (after killing
/// them, so that none outlives the test) naming the ones left.
pub fn assert_gone(pids: &[u32], limit: Duration, what: &str) {
    let deadline = Instant::now() + limit;
    while pids.iter().any(|&p| alive(p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let left: Vec<u32> = pids.iter().copied().filter(|&p| alive(p)).collect();
    if !left.is_empty() {
        for pid in &left {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        }
        panic!("{what}: processes {left:?} still run {limit:?} later");
    }
}

/// Sends `signal` (`-STOP`, `-KILL`, …) to `pid`.
pub fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .arg(signal)
        .arg(pid.to_string())
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill {signal} {pid}");
}

/// A process run under watch by [`run_watched`].
#[derive(Debug)]
pub struct Watched {
    /// Its exit status and output.
    pub output: std::process::Output,
    /// The highest resident set size seen (`VmHWM`), KiB.
    pub peak_kib: u64,
    /// Why it was killed, when it ran past a limit.
    pub killed: Option<String>,
}

/// The `VmHWM` (peak resident set) of a live process, KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `command` to the end, watching its peak memory (polled from
/// `/proc`), and kills it (SIGKILL) when it runs longer than `limit` or its
/// resident set passes `max_kib`: a test of a limit must not take the
/// machine down with the binary it tests (`FRAMEX_BIN` may be an old one).
pub fn run_watched(command: &mut Command, limit: Duration, max_kib: u64) -> Watched {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command starts");
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("piped")));
    let stderr = read(Box::new(child.stderr.take().expect("piped")));
    let started = Instant::now();
    let (mut peak_kib, mut killed) = (0, None);
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        peak_kib = peak_kib.max(peak_rss_kib(child.id()).unwrap_or(0));
        if killed.is_none() && peak_kib > max_kib {
            killed = Some(format!("its resident set passed {max_kib} KiB"));
        }
        if killed.is_none() && started.elapsed() > limit {
            killed = Some(format!("it ran longer than {limit:?}"));
        }
        if killed.is_some() {
            let _ = child.kill();
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let output = std::process::Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    };
    Watched {
        output,
        peak_kib,
        killed,
    }
}
