//! # framex-executor
//!
//! The native half of framex: builds the planner's request from the
//! filesystem (stat, ffprobe, the cache index), runs the plan's extraction
//! units with ffmpeg under bounded concurrency, publishes their frames into a
//! crash-safe disk cache, and gives every element a directory of its own.
//! The `framex` binary is its command line.
#![warn(missing_docs)]

pub mod bench;
pub mod cache;
pub mod content;
pub mod demo;
pub mod download;
pub mod error;
pub mod extract;
pub mod fanout;
pub mod prepare;
pub mod preview;
pub mod probe;
pub mod report;
pub mod run;
pub mod source;
pub mod table;
pub mod tools;

pub use error::ExtractError;
pub use report::{Metrics, Report};
pub use run::{run, RunError, RunOptions};
pub use tools::Tools;

/// The default cache root: `$FRAMEX_CACHE_DIR`, else `$XDG_CACHE_HOME/framex`,
/// else `~/.cache/framex`.
pub fn default_cache_dir() -> std::path::PathBuf {
    use std::path::PathBuf;
    if let Some(dir) = std::env::var_os("FRAMEX_CACHE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("framex");
    }
    let home = std::env::var_os("HOME").map_or_else(std::env::temp_dir, PathBuf::from);
    home.join(".cache").join("framex")
}
