//! Generated elements ([`ElementSpec`]): a `src` of [`SOURCES`], trims,
//! loops, rates and playback rates as a composition writes them.

use framex_core::{ElementInput, FpsInput, Transfer};
use proptest::prelude::*;
use proptest::sample::select;

/// The `src` names: `a.mp4` and `alias/a.mp4` are one file (one identity,
/// the facts of `a.mp4`); `n.mp4` has no facts (known by name only).
pub const SOURCES: [&str; 5] = ["a.mp4", "alias/a.mp4", "b.mp4", "c.webm", "n.mp4"];

/// One generated element, before it becomes an [`ElementInput`].
#[derive(Clone, Debug)]
pub struct ElementSpec {
    /// Index into [`SOURCES`].
    pub src: usize,
    /// `mediaStart`, µs.
    pub start_us: i64,
    /// `duration`, µs.
    pub duration_us: i64,
    /// `mediaDuration`, µs.
    pub media_duration_us: Option<i64>,
    /// `fps` as written.
    pub fps: FpsInput,
    /// `playbackRate` as written.
    pub playback_rate: Option<FpsInput>,
    /// `loop`.
    pub looping: bool,
    /// JPEG, else PNG.
    pub jpeg: bool,
    /// `sdrToHdrTransfer`.
    pub transfer: Option<Transfer>,
}

fn seconds(us: i64) -> f64 {
    us as f64 / 1e6
}

impl ElementSpec {
    /// The element as the composition writes it.
    pub fn input(&self, id: String) -> ElementInput {
        ElementInput {
            id,
            src: SOURCES[self.src].into(),
            media_start: seconds(self.start_us),
            duration: seconds(self.duration_us),
            start: None,
            media_duration: self.media_duration_us.map(seconds),
            fps: self.fps.clone(),
            playback_rate: self.playback_rate.clone(),
            looping: self.looping,
            format: if self.jpeg { "jpeg" } else { "png" }.into(),
            sdr_to_hdr_transfer: self.transfer.map(|t| t.as_str().into()),
            identity: None,
        }
    }
}

/// Element frame rates, written as numbers and as text.
pub fn fps() -> impl Strategy<Value = FpsInput> {
    select(vec![
        FpsInput::Number(24.0),
        FpsInput::Number(25.0),
        FpsInput::Number(30.0),
        FpsInput::Number(60.0),
        FpsInput::Number(29.97),
        FpsInput::Text("30000/1001".into()),
        FpsInput::Text("60000/1001".into()),
        FpsInput::Number(12.5),
        FpsInput::Number(10.0),
        FpsInput::Number(7.0),
        FpsInput::Text("60/2".into()),
        FpsInput::Number(120.0),
    ])
}

/// Playback rates (`None`: not written).
pub fn playback_rate() -> impl Strategy<Value = Option<FpsInput>> {
    prop_oneof![
        4 => Just(None),
        1 => select(vec![
            FpsInput::Number(2.0),
            FpsInput::Number(0.5),
            FpsInput::Number(1.5),
            FpsInput::Text("3/2".into()),
            FpsInput::Text("1000/1001".into()),
            FpsInput::Number(4.0),
            FpsInput::Text("1/3".into()),
            FpsInput::Number(1.0),
        ])
        .prop_map(Some),
    ]
}

/// An element: starts and trims on and off every grid, up to past the
/// sources' ends.
pub fn element_spec() -> impl Strategy<Value = ElementSpec> {
    (
        prop_oneof![6 => 0..4usize, 1 => Just(4usize)],
        prop_oneof![
            2 => (0..80i64).prop_map(|n| n * 100_000),
            2 => 0..9_000_000i64,
            1 => Just(0i64),
        ],
        prop_oneof![
            3 => (1..30i64).prop_map(|n| n * 100_000),
            2 => 1..3_000_000i64,
            1 => 1..2_000i64,
        ],
        prop::option::weighted(
            0.25,
            prop_oneof![(1..20i64).prop_map(|n| n * 50_000), 1..2_000_000i64],
        ),
        fps(),
        playback_rate(),
        prop::bool::weighted(0.25),
        prop::bool::weighted(0.2),
        prop_oneof![6 => Just(None), 1 => Just(Some(Transfer::Pq)), 1 => Just(Some(Transfer::Hlg))],
    )
        .prop_map(
            |(
                src,
                start_us,
                duration_us,
                media_duration_us,
                fps,
                playback_rate,
                looping,
                jpeg,
                transfer,
            )| {
                ElementSpec {
                    src,
                    start_us,
                    duration_us,
                    media_duration_us,
                    fps,
                    playback_rate,
                    looping,
                    jpeg,
                    transfer,
                }
            },
        )
}
