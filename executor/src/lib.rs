//! # framex-executor
//!
//! The native half of framex: it builds the planner's request from the
//! filesystem (stat, ffprobe, the frame store's index), has ffmpeg decode
//! the plan's runs, encodes the planned frames itself on every core, keeps
//! them in a crash-safe content-addressed frame store, and gives every
//! element a directory of hard links. [`run`] is the one entry point; the
//! `framex` binary is its command line.
//!
//! A run, stage by stage (one module each): [`plan`] ([`prepare`]: resolve,
//! hash, download, [`probe`]; [`lookup`]: the [`store`]'s index, digests
//! checked; the plan from `framex_core`) → [`extract`] ([`decode`] →
//! [`encode`] → [`store`]) → [`fanout`] → [`report`]; [`run`] sequences
//! them with [`options`]. Every external tool runs through [`process`].
#![warn(missing_docs)]

pub mod content;
pub mod decode;
pub mod download;
pub mod encode;
pub mod error;
pub mod events;
pub mod extract;
pub mod fanout;
pub mod farm;
pub mod leftovers;
pub mod lookup;
mod memo;
pub mod options;
pub mod plan;
pub mod prepare;
pub mod probe;
pub mod process;
mod remember;
pub mod report;
pub mod run;
pub mod shard;
pub mod source;
pub mod store;
pub mod tools;

pub use error::ExtractError;
pub use report::{Metrics, Report};
pub use run::{run, RunError, RunOptions};
pub use tools::Tools;

/// The default store root: `$FRAMEX_CACHE_DIR`, else `$XDG_CACHE_HOME/framex`,
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
