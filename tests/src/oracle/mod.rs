//! The frame rule, computed independently of framex from ffprobe's packet
//! timestamps: the oracle that `framex extract` output is checked against.
//!
//! Every decision is exact integer arithmetic (`i128`); no float is involved.
//!
//! The rule (issue 12): tick `j` of an element asks for the source time
//! `t_j = mediaStart + j × rate / fps` (with `loop`:
//! `mediaStart + ((j × rate / fps) mod passDuration)`), relative to the first
//! frame's presentation time, and shows the last candidate frame whose time is
//! strictly before `t_j + ε`, `ε` being half the lower median of the intervals
//! between consecutive frames (0 for a one-frame source). Before the first
//! candidate, the first; with `mediaDuration` only frames before
//! `mediaStart + mediaDuration` are candidates; past the last candidate it is
//! held. An element has `ceil(duration × fps)` ticks.

mod probe;
mod rule;
mod times;

pub use probe::{leading_frames, parse_ratio, probe_frames, probe_packets, Packet};
pub use rule::{expected_frames, ElementSpec};
pub use times::SourceTimes;

#[cfg(test)]
mod tests;
