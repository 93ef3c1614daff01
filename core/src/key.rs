//! Keys with a stable canonical encoding: the same bytes natively and in
//! WebAssembly, on every platform, pinned by tests.
//!
//! The unit of work is the source frame: a frame is known by its source's
//! identity, its presentation time and the [`Recipe`] it is rendered with.
//! - a **recipe key** names every frame of one source in one recipe (the
//!   frame store keeps one index per recipe key);
//! - a **frame key** adds the presentation time;
//! - an **element key** names what an element shows (its recipe key and
//!   every tick's frame): elements with equal keys are duplicates.
//!
//! Encodings are length-prefixed text (`name=len:value;`), so no value can
//! run into the next whatever bytes it holds, behind a header with the
//! schema and recipe versions; keys are their hex blake3 digests.

use serde::{Deserialize, Serialize};

use crate::composition::{ImageFormat, Transfer};
use crate::recipe::RECIPE_VERSION;
use crate::request::SourceIdentity;
use crate::runs::{frames_of, FrameRun};
use crate::timeline::TimeBase;

/// Version of the key encodings. Bump it when an encoding changes.
pub const CACHE_SCHEMA_VERSION: u32 = 2;

/// How a frame is rendered: the part of its identity beyond source and time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipe {
    /// Image format.
    pub format: ImageFormat,
    /// PNG with an alpha channel (RGBA), for sources with alpha.
    pub alpha: bool,
    /// SDR→HDR transfer (16-bit PNG in BT.2020), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<Transfer>,
}

impl Recipe {
    /// The recipe of an element in `format` with `transfer` on a source that
    /// has alpha or not: alpha survives in PNG only.
    pub fn new(format: ImageFormat, source_alpha: bool, transfer: Option<Transfer>) -> Self {
        Self {
            format,
            alpha: source_alpha && format == ImageFormat::Png,
            transfer,
        }
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

fn number(out: &mut String, name: &str, value: impl itoa::Integer) {
    field(out, name, itoa::Buffer::new().format(value));
}

fn header(out: &mut String, kind: &str) {
    field(out, "framex", kind);
    number(out, "schema", CACHE_SCHEMA_VERSION);
    number(out, "recipe", RECIPE_VERSION);
}

/// Appends the canonical encoding of a source identity.
fn source(out: &mut String, identity: &SourceIdentity) {
    match identity {
        SourceIdentity::File {
            path,
            size,
            mtime_ns,
        } => {
            field(out, "source", "file");
            field(out, "path", path);
            number(out, "size", *size);
            number(out, "mtime_ns", *mtime_ns);
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
}

/// The canonical encoding behind [`recipe_key`].
pub fn recipe_key_text(identity: &SourceIdentity, time_base: TimeBase, recipe: Recipe) -> String {
    let mut out = String::with_capacity(192);
    header(&mut out, "recipe-key");
    source(&mut out, identity);
    field(&mut out, "time_base", &time_base.to_string());
    field(&mut out, "format", recipe.format.as_str());
    field(
        &mut out,
        "alpha",
        if recipe.alpha { "true" } else { "false" },
    );
    field(
        &mut out,
        "transfer",
        recipe.transfer.map_or("none", Transfer::as_str),
    );
    out
}

/// The key of every frame of a source (its identity, and the time base its
/// frame times are counted in) rendered with `recipe`: 64 hex digits.
pub fn recipe_key(identity: &SourceIdentity, time_base: TimeBase, recipe: Recipe) -> String {
    hex(&recipe_key_text(identity, time_base, recipe))
}

/// The key of one frame: its recipe key and presentation time (ticks of the
/// source's time base, relative to its first frame).
pub fn frame_key(recipe_key: &str, pts: i64) -> String {
    let mut out = String::with_capacity(128);
    header(&mut out, "frame-key");
    field(&mut out, "recipe_key", recipe_key);
    number(&mut out, "pts", pts);
    hex(&out)
}

/// The key of what an element shows: its recipe key and the frame of every
/// tick. The frames are encoded as themselves, not as the runs that write
/// them (two elements can show the same frames through runs of other
/// strides): as the longest arithmetic progressions `first, step, count`
/// from the first tick on.
pub fn element_key(recipe_key: &str, runs: &[FrameRun]) -> String {
    let mut out = String::with_capacity(128 + 48 * runs.len());
    header(&mut out, "element-key");
    field(&mut out, "recipe_key", recipe_key);
    let mut progression: Option<(i128, i128, u64)> = None;
    let push = |out: &mut String, (first, step, count): (i128, i128, u64)| {
        number(out, "first", first);
        number(out, "step", step);
        number(out, "count", count);
    };
    for frame in frames_of(runs).map(i128::from) {
        progression = match progression {
            None => Some((frame, 0, 1)),
            Some((first, _, 1)) => Some((first, frame - first, 2)),
            Some((first, step, count)) if first + step * i128::from(count) == frame => {
                Some((first, step, count + 1))
            }
            Some(done) => {
                push(&mut out, done);
                Some((frame, 0, 1))
            }
        };
    }
    if let Some(last) = progression {
        push(&mut out, last);
    }
    hex(&out)
}

fn hex(text: &str) -> String {
    blake3::hash(text.as_bytes()).to_hex().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runs::Step;

    fn file() -> SourceIdentity {
        SourceIdentity::File {
            path: "/a;b".into(),
            size: 10,
            mtime_ns: 7,
        }
    }

    #[test]
    fn recipe_keys_are_length_prefixed_and_pinned() {
        let tb = TimeBase::new(1, 15360).unwrap();
        let recipe = Recipe::new(ImageFormat::Png, true, None);
        assert_eq!(
            recipe_key_text(&file(), tb, recipe),
            "framex=10:recipe-key;schema=1:2;recipe=1:2;source=4:file;path=4:/a;b;size=2:10;\
             mtime_ns=1:7;time_base=7:1/15360;format=3:png;alpha=4:true;transfer=4:none;"
        );
        // Pinned: a change here orphans every stored frame; bump the schema.
        assert_eq!(
            recipe_key(&file(), tb, recipe),
            "c02f011b5ce87967a853a77eb1d8fade4e5e2955335bdcdad2b81a37cf4665b4"
        );
        let jpeg = Recipe::new(ImageFormat::Jpeg, true, None);
        assert!(!jpeg.alpha, "alpha survives in PNG only");
        assert_ne!(
            recipe_key(&file(), tb, jpeg),
            recipe_key(&file(), tb, recipe)
        );
    }

    #[test]
    fn frame_and_element_keys_differ_by_time_and_frames() {
        let k = recipe_key(
            &SourceIdentity::Content {
                blake3: "ab".into(),
            },
            TimeBase::new(1, 90000).unwrap(),
            Recipe::new(ImageFormat::Png, false, Some(Transfer::Pq)),
        );
        assert_eq!(frame_key(&k, 3000), frame_key(&k, 3000));
        assert_ne!(frame_key(&k, 3000), frame_key(&k, 3001));
        assert_eq!(frame_key(&k, 0).len(), 64);
        let run = |ticks, frame| FrameRun {
            ticks,
            frame,
            step: Step::new(1, 1).unwrap(),
            phase: 0,
        };
        assert_ne!(
            element_key(&k, &[run(30, 0)]),
            element_key(&k, &[run(30, 1)])
        );
        assert_ne!(
            element_key(&k, &[run(30, 0)]),
            element_key(&k, &[run(31, 0)])
        );
        // The same frames written as other runs: the same key.
        let ntsc = FrameRun {
            step: Step::new(1001, 1000).unwrap(),
            ..run(30, 0)
        };
        assert_eq!(element_key(&k, &[run(30, 0)]), element_key(&k, &[ntsc]));
        assert_eq!(
            element_key(&k, &[run(30, 0)]),
            element_key(&k, &[run(10, 0), run(20, 10)])
        );
        // A loop back to frame 0 is no progression.
        assert_ne!(
            element_key(&k, &[run(2, 0), run(2, 0)]),
            element_key(&k, &[run(4, 0)])
        );
    }
}
