//! Names of the files a run leaves, and the sweep of those a dead run left:
//! a leaf module, used by the store and the fan-out alike.

use std::fs;
use std::path::Path;

/// The file name of element frame `number` (1-based).
pub fn frame_name(number: u64, ext: &str) -> String {
    format!("frame_{number:06}.{ext}")
}

/// Removes what runs that died left in `dir`: names ending in
/// `.<marker>.<pid>` (a fan-out's building directory, a remembered probe's
/// temporary file) whose process is gone; with `hidden`, only names starting
/// with `.` (never an element's directory: ids cannot start with `.`).
/// Returns how many were removed.
/// Knows a process is gone only through `/proc`; elsewhere it removes nothing
/// (the leftovers are hidden and harmless).
pub fn sweep_dead_leftovers(dir: &Path, marker: &str, hidden: bool) -> usize {
    if !Path::new("/proc/self").exists() {
        return 0;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut swept = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((rest, pid)) = name.rsplit_once('.') else {
            continue;
        };
        let ours = rest.ends_with(&format!(".{marker}")) && (!hidden || name.starts_with('.'));
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        if !ours || pid == std::process::id() || Path::new("/proc").join(pid.to_string()).exists() {
            continue;
        }
        let path = entry.path();
        let removed = if path.is_dir() && !path.is_symlink() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        swept += usize::from(removed.is_ok());
    }
    swept
}

/// The marker of a fan-out's building directory: `.<id>.framex-partial.<pid>`.
pub const BUILDING_MARKER: &str = "framex-partial";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeps_only_hidden_leftovers_of_dead_processes() {
        if !Path::new("/proc/self").exists() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        // Above any pid_max: no such process.
        let dead = "4294967295";
        let mine = std::process::id().to_string();
        let names = [
            format!(".a.{BUILDING_MARKER}.{dead}"),
            format!(".a.{BUILDING_MARKER}.{mine}"),
            format!("a.{BUILDING_MARKER}.{dead}"),
            format!(".a.other.{dead}"),
        ];
        for name in &names {
            fs::create_dir(dir.path().join(name)).unwrap();
        }
        assert_eq!(sweep_dead_leftovers(dir.path(), BUILDING_MARKER, true), 1);
        assert!(!dir.path().join(&names[0]).exists());
        assert!(names[1..].iter().all(|n| dir.path().join(n).exists()));
    }
}
