//! Dedupe keys and cache keys, with a stable canonical encoding.
//!
//! The encoding is length-prefixed text (`name=len:value;`), so no value can
//! run into the next whatever bytes it holds, and it is the same on every
//! platform. Cache keys are the blake3 digest of the encoding behind a
//! version header.

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
///
/// A key has one of three forms, told apart by `frames` and `last_frame`:
/// - a plain element's work (normal speed, no loop, no `mediaDuration`):
///   `(source, start, duration, fps, format, transfer)`, as framex always
///   keyed it, so its cache key never changed;
/// - any other element's work, `frames` set: `frames` frames of the source grid
///   `fps` (the element's fps over its playback rate) from `start`, whatever
///   the slot's duration, so that elements needing the same frames (loops of
///   one cycle, rate 2 at 30 fps and rate 4 at 60 fps) share them;
///   `duration_us` is 0;
/// - a source's true last frame, `last_frame` set: only source, format and
///   transfer count (`start_us` and `duration_us` are 0, `fps` is `1/1`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DedupeKey {
    /// The source's identity.
    pub source: SourceIdentity,
    /// Start in the source, microseconds.
    pub start_us: i64,
    /// Requested duration, microseconds (0 unless the key is a plain
    /// element's).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub duration_us: i64,
    /// Frame rate: the rate at which the source is sampled.
    pub fps: Fps,
    /// Image format.
    pub format: ImageFormat,
    /// SDR→HDR transfer, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<Transfer>,
    /// Frames of the source grid from `start_us`, for a work that is not a
    /// plain element's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frames: Option<u64>,
    /// The work is the source's true last frame.
    #[serde(default, skip_serializing_if = "is_false")]
    pub last_frame: bool,
}

fn is_zero(value: &i64) -> bool {
    *value == 0
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl DedupeKey {
    /// The key of a source's true last frame in `format` with `transfer`.
    pub fn last_frame(
        source: SourceIdentity,
        format: ImageFormat,
        transfer: Option<Transfer>,
    ) -> Self {
        Self {
            source,
            start_us: 0,
            duration_us: 0,
            fps: Fps::new(1, 1).expect("1/1 is a rate"),
            format,
            transfer,
            frames: None,
            last_frame: true,
        }
    }

    /// The canonical encoding: stable across versions of serde and platforms.
    /// A plain element's key encodes as it always did; the other forms name
    /// fields a plain key never has (`grid`, `frames`, `last_frame`), so no
    /// two forms share an encoding.
    pub fn canonical(&self) -> String {
        let mut out = String::with_capacity(160);
        self.write_canonical(&mut out);
        out
    }

    /// Appends [`Self::canonical`] to `out`. Integers go through `itoa`
    /// rather than `write!`: planning computes one key per unique work, and
    /// the formatting machinery was a third of the planner's time.
    fn write_canonical(&self, out: &mut String) {
        match &self.source {
            SourceIdentity::File {
                path,
                size,
                mtime_ns,
            } => {
                field(out, "source", "file");
                field(out, "path", path);
                field(out, "size", itoa::Buffer::new().format(*size));
                field(out, "mtime_ns", itoa::Buffer::new().format(*mtime_ns));
            }
            SourceIdentity::Content { blake3 } => {
                field(out, "source", "content");
                field(out, "blake3", blake3);
            }
            SourceIdentity::Name { name } => {
                field(out, "source", "name");
                field(out, "name", name);
            }
        }
        if self.last_frame {
            field(out, "last_frame", "true");
        } else if let Some(frames) = self.frames {
            field(out, "start_us", itoa::Buffer::new().format(self.start_us));
            fps_field(out, "grid", self.fps);
            field(out, "frames", itoa::Buffer::new().format(frames));
        } else {
            field(out, "start_us", itoa::Buffer::new().format(self.start_us));
            field(
                out,
                "duration_us",
                itoa::Buffer::new().format(self.duration_us),
            );
            fps_field(out, "fps", self.fps);
        }
        field(out, "format", self.format.as_str());
        field(
            out,
            "transfer",
            self.transfer.map_or("none", Transfer::as_str),
        );
    }

    /// The cache key: hex blake3 of the versioned canonical encoding.
    pub fn cache_key(&self) -> String {
        let mut text = String::with_capacity(224);
        field(&mut text, "framex", "cache-key");
        field(
            &mut text,
            "schema",
            itoa::Buffer::new().format(u64::from(CACHE_SCHEMA_VERSION)),
        );
        field(
            &mut text,
            "recipe",
            itoa::Buffer::new().format(u64::from(RECIPE_VERSION)),
        );
        self.write_canonical(&mut text);
        blake3::hash(text.as_bytes()).to_hex().to_string()
    }
}

/// Appends `name=<byte length>:value;`.
fn field(out: &mut String, name: &str, value: &str) {
    out.push_str(name);
    out.push('=');
    out.push_str(itoa::Buffer::new().format(value.len() as u64));
    out.push(':');
    out.push_str(value);
    out.push(';');
}

/// Appends a rate as `name=<len>:num/den;`.
fn fps_field(out: &mut String, name: &str, fps: Fps) {
    let (mut num, mut den) = (itoa::Buffer::new(), itoa::Buffer::new());
    let (num, den) = (num.format(fps.num()), den.format(fps.den()));
    out.push_str(name);
    out.push('=');
    out.push_str(itoa::Buffer::new().format((num.len() + 1 + den.len()) as u64));
    out.push(':');
    out.push_str(num);
    out.push('/');
    out.push_str(den);
    out.push(';');
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
            frames: None,
            last_frame: false,
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
    fn grid_and_last_frame_keys_have_encodings_of_their_own() {
        let grid = DedupeKey {
            duration_us: 0,
            fps: Fps::new(15, 1).unwrap(),
            frames: Some(30),
            ..key("/a")
        };
        assert_eq!(
            grid.canonical(),
            "source=4:file;path=2:/a;size=2:10;mtime_ns=1:7;start_us=1:0;\
             grid=4:15/1;frames=2:30;format=3:png;transfer=4:none;"
        );
        let last = DedupeKey::last_frame(key("/a").source, ImageFormat::Png, None);
        assert_eq!(
            last.canonical(),
            "source=4:file;path=2:/a;size=2:10;mtime_ns=1:7;last_frame=4:true;\
             format=3:png;transfer=4:none;"
        );
        let keys = [key("/a").cache_key(), grid.cache_key(), last.cache_key()];
        assert!(keys[0] != keys[1] && keys[1] != keys[2] && keys[0] != keys[2]);
        // The JSON of a plain key is as it was; the others name their form.
        let json = serde_json::to_string(&key("/a")).unwrap();
        assert!(
            !json.contains("frames") && !json.contains("lastFrame"),
            "{json}"
        );
        assert!(json.contains("\"durationUs\":1000000"));
        let json = serde_json::to_string(&grid).unwrap();
        assert!(
            json.contains("\"frames\":30") && !json.contains("durationUs"),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<DedupeKey>(&json).unwrap(), grid);
        let json = serde_json::to_string(&last).unwrap();
        assert_eq!(serde_json::from_str::<DedupeKey>(&json).unwrap(), last);
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
