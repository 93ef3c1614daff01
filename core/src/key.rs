//! Dedupe keys and cache keys, with a stable canonical encoding.
//!
//! The encoding is length-prefixed text (`name=len:value;`), so no value can
//! run into the next whatever bytes it holds, and it is the same on every
//! platform. Cache keys are the blake3 digest of the encoding behind a
//! version header.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::composition::{ImageFormat, Transfer};
use crate::request::SourceIdentity;
use crate::time::Fps;

/// Version of the cache-key encoding. Bump it when the encoding changes.
pub const CACHE_SCHEMA_VERSION: u32 = 1;

/// Version of the extraction recipe (the ffmpeg command the executor runs).
/// Bump it whenever a recipe change can change frame bytes, so old cache
/// entries are never served for the new recipe.
pub const RECIPE_VERSION: u32 = 1;

/// Elements with equal keys need exactly the same frames: they share one
/// extraction.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DedupeKey {
    /// The source's identity.
    pub source: SourceIdentity,
    /// Start in the source, microseconds.
    pub start_us: i64,
    /// Requested duration, microseconds.
    pub duration_us: i64,
    /// Frame rate.
    pub fps: Fps,
    /// Image format.
    pub format: ImageFormat,
    /// SDR→HDR transfer, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<Transfer>,
}

impl DedupeKey {
    /// The canonical encoding: stable across versions of serde and platforms.
    pub fn canonical(&self) -> String {
        let mut out = String::new();
        match &self.source {
            SourceIdentity::File {
                path,
                size,
                mtime_ns,
            } => {
                field(&mut out, "source", "file");
                field(&mut out, "path", path);
                field(&mut out, "size", &size.to_string());
                field(&mut out, "mtime_ns", &mtime_ns.to_string());
            }
            SourceIdentity::Content { blake3 } => {
                field(&mut out, "source", "content");
                field(&mut out, "blake3", blake3);
            }
            SourceIdentity::Name { name } => {
                field(&mut out, "source", "name");
                field(&mut out, "name", name);
            }
        }
        field(&mut out, "start_us", &self.start_us.to_string());
        field(&mut out, "duration_us", &self.duration_us.to_string());
        field(&mut out, "fps", &self.fps.to_string());
        field(&mut out, "format", self.format.as_str());
        field(
            &mut out,
            "transfer",
            self.transfer.map_or("none", Transfer::as_str),
        );
        out
    }

    /// The cache key: hex blake3 of the versioned canonical encoding.
    pub fn cache_key(&self) -> String {
        let mut text = String::new();
        field(&mut text, "framex", "cache-key");
        field(&mut text, "schema", &CACHE_SCHEMA_VERSION.to_string());
        field(&mut text, "recipe", &RECIPE_VERSION.to_string());
        text.push_str(&self.canonical());
        blake3::hash(text.as_bytes()).to_hex().to_string()
    }
}

fn field(out: &mut String, name: &str, value: &str) {
    // Writing to a String cannot fail.
    let _ = write!(out, "{name}={}:{value};", value.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(path: &str) -> DedupeKey {
        DedupeKey {
            source: SourceIdentity::File {
                path: path.into(),
                size: 10,
                mtime_ns: 7,
            },
            start_us: 0,
            duration_us: 1_000_000,
            fps: Fps::new(30, 1).unwrap(),
            format: ImageFormat::Png,
            transfer: None,
        }
    }

    #[test]
    fn canonical_encoding_is_length_prefixed() {
        assert_eq!(
            key("/a;b").canonical(),
            "source=4:file;path=4:/a;b;size=2:10;mtime_ns=1:7;start_us=1:0;\
             duration_us=7:1000000;fps=4:30/1;format=3:png;transfer=4:none;"
        );
    }

    #[test]
    fn cache_keys_are_stable_and_distinct() {
        // Pinned: a change here invalidates every cache entry; bump the schema.
        assert_eq!(
            key("/clip.mp4").cache_key(),
            key("/clip.mp4").cache_key(),
            "deterministic"
        );
        assert_ne!(key("/a").cache_key(), key("/b").cache_key());
        assert_eq!(key("/a").cache_key().len(), 64);
    }
}
