//! Run framex and check: what the end-to-end tests share.
//!
//! A test writes a composition of [`el`] elements, runs it with [`Extract`]
//! and checks what is on disk ([`frames`]: names, bytes, inodes;
//! [`png_pixels`]: decoded pixels) and in the report ([`crate::ExtractRun`]'s
//! accessors). Which source frame each tick must show comes from the
//! independent oracle ([`expected`]); [`assert_frame_inodes`] checks that the
//! element directories hold exactly one stored file per distinct frame.

mod composition;
mod extract;
mod frames;
mod pixels;
mod store;
mod tools;

pub use composition::{composition, el, with};
pub use extract::Extract;
pub use frames::{
    assert_frame_inodes, assert_numbered, assert_same_bytes, expected, frames, inodes, spec, Frame,
};
pub use pixels::{ffmpeg_png, png_pixels, true_last_frame, Pixels};
pub use store::{assert_verifies, blobs, cache_command, cache_stats};
pub use tools::{calls, fake_tool, real_tool};
