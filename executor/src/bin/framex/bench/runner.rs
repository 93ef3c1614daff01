//! Running what is measured: the hand-written ffmpeg commands (several at
//! once, as framex runs its decoders), and `framex extract` as a child
//! process, timed from spawn to exit, with its peak resident memory.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use framex_executor::report::{Report, REPORT_FILE};

/// One hand-written ffmpeg command.
#[derive(Clone, Debug)]
pub struct FfmpegCommand {
    /// Its arguments (after `ffmpeg`).
    pub args: Vec<OsString>,
    /// The directory it writes to (emptied before each run).
    pub dir: PathBuf,
    /// The command as a person would type it (file names, no directories).
    pub text: String,
}

/// Wall time and CPU time of a measured run.
#[derive(Clone, Copy, Debug)]
pub struct Timed {
    /// Wall time.
    pub wall: Duration,
    /// CPU time (user + system) of the processes it ran, ms.
    pub cpu_ms: f64,
}

/// Runs `commands`, at most `jobs` at once; the wall time of them all and
/// the CPU time of the ffmpeg processes.
pub fn run_commands(
    ffmpeg: &Path,
    commands: &[FfmpegCommand],
    jobs: usize,
) -> Result<Timed, String> {
    for c in commands {
        let _ = std::fs::remove_dir_all(&c.dir);
        std::fs::create_dir_all(&c.dir).map_err(|e| format!("{}: {e}", c.dir.display()))?;
    }
    let next = AtomicUsize::new(0);
    let failure = Mutex::new(None);
    let cpu = children_cpu_ms();
    let t = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1).min(commands.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(c) = commands.get(i) else { break };
                let result = Command::new(ffmpeg)
                    .args(&c.args)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .output();
                let error = match result {
                    Ok(out) if out.status.success() => continue,
                    Ok(out) => format!(
                        "`{}` failed ({}): {}",
                        c.text,
                        out.status,
                        String::from_utf8_lossy(&out.stderr).trim()
                    ),
                    Err(e) => format!("running ffmpeg: {e}"),
                };
                failure.lock().expect("not poisoned").get_or_insert(error);
            });
        }
    });
    let wall = t.elapsed();
    let cpu_ms = children_cpu_ms() - cpu;
    match failure.into_inner().expect("not poisoned") {
        Some(error) => Err(error),
        None => Ok(Timed { wall, cpu_ms }),
    }
}

/// One `framex extract` run.
#[derive(Debug)]
pub struct FramexRun {
    /// From spawn to exit.
    pub wall: Duration,
    /// The framex process's own peak resident set (VmHWM), KiB: its
    /// ffmpeg children are not counted.
    pub peak_rss_kib: u64,
    /// CPU time of the framex process and its ffmpeg children, ms.
    pub cpu_ms: f64,
    /// CPU time of the framex process alone (planning, encoding, storing,
    /// linking; read up to 2 ms before it ended), ms.
    pub own_cpu_ms: f64,
    /// Its report.
    pub report: Report,
}

/// How to start `framex extract` as a child.
#[derive(Clone, Debug)]
pub struct Framex {
    /// This very binary.
    pub exe: PathBuf,
    /// The ffmpeg and ffprobe the bench uses, passed on.
    pub ffmpeg: PathBuf,
    /// ffprobe.
    pub ffprobe: PathBuf,
}

impl Framex {
    /// This binary, with the bench's tools. `/proc/self/exe` runs this very
    /// binary even after a rebuild replaced the file on disk.
    pub fn new(ffmpeg: PathBuf, ffprobe: PathBuf) -> Result<Self, String> {
        let self_exe = Path::new("/proc/self/exe");
        let exe = if self_exe.exists() {
            self_exe.to_path_buf()
        } else {
            std::env::current_exe().map_err(|e| e.to_string())?
        };
        Ok(Self {
            exe,
            ffmpeg,
            ffprobe,
        })
    }

    /// Runs `framex extract composition --out out --cache-dir cache` with
    /// every other option at its default, as a user would.
    pub fn extract(
        &self,
        composition: &Path,
        out: &Path,
        cache: &Path,
    ) -> Result<FramexRun, String> {
        let mut cmd = Command::new(&self.exe);
        cmd.arg("--quiet")
            .arg("--ffmpeg")
            .arg(&self.ffmpeg)
            .arg("--ffprobe")
            .arg(&self.ffprobe)
            .arg("extract")
            .arg(composition)
            .arg("--out")
            .arg(out)
            .arg("--cache-dir")
            .arg(cache)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let cpu = children_cpu_ms();
        let t = Instant::now();
        let child = cmd.spawn().map_err(|e| format!("starting framex: {e}"))?;
        let (output, watched) = watch(child)?;
        let wall = t.elapsed();
        let cpu_ms = children_cpu_ms() - cpu;
        let report: Option<Report> = std::fs::read(out.join(REPORT_FILE))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        match report {
            Some(report) if output.status.success() => Ok(FramexRun {
                wall,
                peak_rss_kib: watched.peak_rss_kib,
                cpu_ms,
                own_cpu_ms: watched.own_cpu_ms,
                report,
            }),
            _ => Err(format!(
                "framex extract {} failed ({}): {}",
                composition.display(),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )),
        }
    }
}

/// What watching a child process found.
struct Watched {
    peak_rss_kib: u64,
    own_cpu_ms: f64,
}

/// Waits for `child`, reading its high-water mark of resident memory
/// (`VmHWM`) and its own CPU time from /proc every 2 ms meanwhile. A
/// high-water mark only grows, so only growth in the last 2 ms of its life
/// could be missed. (`wait4`'s rusage, as `/usr/bin/time -v` reports it,
/// would fold in the largest of its ffmpeg children.)
fn watch(child: std::process::Child) -> Result<(std::process::Output, Watched), String> {
    let status_file = format!("/proc/{}/status", child.id());
    let stat_file = format!("/proc/{}/stat", child.id());
    let done = AtomicBool::new(false);
    let peak = AtomicU64::new(0);
    let own_ticks = AtomicU64::new(0);
    let output = std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                if let Some(kib) = std::fs::read_to_string(&status_file)
                    .ok()
                    .as_deref()
                    .and_then(vm_hwm_kib)
                {
                    peak.fetch_max(kib, Ordering::Relaxed);
                }
                if let Some(times) = std::fs::read_to_string(&stat_file)
                    .ok()
                    .as_deref()
                    .and_then(cpu_ticks)
                {
                    own_ticks.fetch_max(times.own, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        let output = child.wait_with_output();
        done.store(true, Ordering::Relaxed);
        output
    });
    let output = output.map_err(|e| format!("waiting for framex: {e}"))?;
    Ok((
        output,
        Watched {
            peak_rss_kib: peak.into_inner(),
            own_cpu_ms: own_ticks.into_inner() as f64 * MS_PER_TICK,
        },
    ))
}

/// Milliseconds per clock tick of /proc's CPU times (`USER_HZ`, 100 on
/// Linux).
const MS_PER_TICK: f64 = 10.0;

/// CPU times of a /proc stat line, in clock ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct CpuTicks {
    /// utime + stime.
    own: u64,
    /// cutime + cstime: children waited for.
    children: u64,
}

/// Parses `/proc/<pid>/stat` (fields 14–17; the name in parentheses may
/// hold spaces, so fields are counted after its closing parenthesis).
fn cpu_ticks(stat: &str) -> Option<CpuTicks> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(4)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    (fields.len() == 4).then(|| CpuTicks {
        own: fields[0] + fields[1],
        children: fields[2] + fields[3],
    })
}

/// CPU time of this process's children that have been waited for, ms.
fn children_cpu_ms() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .as_deref()
        .and_then(cpu_ticks)
        .map_or(0.0, |t| t.children as f64 * MS_PER_TICK)
}

/// `VmHWM` of a /proc status file, KiB.
fn vm_hwm_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_high_water_mark() {
        let status = "Name:\tframex\nVmPeak:\t  100 kB\nVmHWM:\t   17408 kB\nVmRSS:\t 9 kB\n";
        assert_eq!(vm_hwm_kib(status), Some(17408));
        assert_eq!(vm_hwm_kib("Name: x\n"), None);
        let own = std::fs::read_to_string("/proc/self/status").unwrap();
        assert!(vm_hwm_kib(&own).unwrap() > 0);
    }

    #[test]
    fn reads_cpu_times() {
        let stat = "4242 (a (b) c) S 1 2 3 4 5 6 7 8 9 10 110 20 33 4 20 0 1";
        assert_eq!(
            cpu_ticks(stat),
            Some(CpuTicks {
                own: 130,
                children: 37
            })
        );
        assert_eq!(cpu_ticks("1 (x) S 1"), None);
        assert!(cpu_ticks(&std::fs::read_to_string("/proc/self/stat").unwrap()).is_some());
    }
}
