//! How a run is set up: [`RunOptions`], built in one place with every
//! default ([`RunOptions::new`]).

use std::path::PathBuf;
use std::time::Duration;

use framex_core::PlanOptions;
use tokio_util::sync::CancellationToken;

use crate::events::{Event, EventSink};
use crate::farm::FarmOptions;
use crate::prepare::SourceOptions;
use crate::tools::Tools;

/// Default store size cap: 2 GiB.
pub const DEFAULT_MAX_CACHE_BYTES: u64 = 2 << 30;

/// Store entries used more recently than this are never evicted automatically.
pub const GC_GUARD_AGE: Duration = Duration::from_secs(3600);

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The composition file.
    pub composition: PathBuf,
    /// Where element directories and the report go.
    pub out_dir: PathBuf,
    /// The store root; `None` runs without one (a private store for the run).
    pub cache_dir: Option<PathBuf>,
    /// Most ffmpeg processes at once (decoders; probes).
    pub jobs: usize,
    /// Encoder threads.
    pub encoders: usize,
    /// Per-process timeout for ffmpeg and ffprobe.
    pub timeout: Duration,
    /// ffmpeg and ffprobe.
    pub tools: Tools,
    /// Cancels the run (Ctrl-C).
    pub cancel: CancellationToken,
    /// Draw a progress bar (on a terminal).
    pub progress: bool,
    /// Planning options.
    pub plan: PlanOptions,
    /// Store size cap applied after a run that made frames.
    pub max_cache_bytes: u64,
    /// Content identity directories and how remote sources are fetched.
    pub sources: SourceOptions,
    /// Where progress events go, if anywhere.
    pub events: Option<EventSink>,
    /// A farm run (`--store`, `--shard`, `--frames`): the farm stage
    /// replaces the extract stage.
    pub farm: Option<FarmOptions>,
}

impl RunOptions {
    /// Options for `composition` → `out_dir` with every default: the
    /// default store, decoders and encoders sized to the machine.
    pub fn new(composition: PathBuf, out_dir: PathBuf, tools: Tools) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            composition,
            out_dir,
            cache_dir: Some(crate::default_cache_dir()),
            jobs: default_decoders(cores),
            encoders: cores,
            timeout: Duration::from_secs(300),
            tools,
            cancel: CancellationToken::new(),
            progress: false,
            plan: PlanOptions::default(),
            max_cache_bytes: DEFAULT_MAX_CACHE_BYTES,
            sources: SourceOptions::default(),
            events: None,
            farm: None,
        }
    }

    pub(crate) fn emit(&self, event: Event) {
        if let Some(sink) = &self.events {
            sink.send(&event);
        }
    }
}

/// Decoders for `cores` cores: a quarter of them (ffmpeg's decoders are
/// threaded themselves), but two from two cores on: one decoder alone
/// leaves cores idle while it starts and while it waits on the encoders.
/// Measured on 2 cores, `--jobs 2` against 1, cold, three runs each: 1080p
/// H.264 2577–2954 ms against 2891–4487, MPEG-2 real footage 734–819
/// against 836–884, a 320×240 clip 216–243 against 232–249.
pub fn default_decoders(cores: usize) -> usize {
    (cores / 4).clamp(cores.clamp(1, 2), 8)
}

#[cfg(test)]
mod tests {
    #[test]
    fn decoders_are_a_quarter_of_the_cores_but_two_from_two_cores() {
        let d = super::default_decoders;
        assert_eq!(
            [d(0), d(1), d(2), d(4), d(8), d(12), d(16), d(64)],
            [1, 1, 2, 2, 2, 3, 4, 8]
        );
    }
}
