//! Progress events for programs that run framex as a child process
//! (`framex extract --progress json`): one JSON object per line.
//!
//! ```text
//! {"event":"started","elements":13,"framesRequested":690,"framesToMake":214,"decodeRuns":5}
//! {"event":"run","run":"r1","framesDone":12,"framesTotal":120}
//! {"event":"element","elementId":"scene1-bg","status":"ok","frames":60}
//! {"event":"element","elementId":"talk","status":"error","errorKind":"ffmpeg_failed","error":"…"}
//! {"event":"finished","ok":false,"report":"/abs/out/framex-report.json"}
//! ```

use std::sync::Arc;

use serde::Serialize;

/// One event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "camelCase")]
pub enum Event {
    /// The plan is made; frames are about to be made.
    #[serde(rename_all = "camelCase")]
    Started {
        /// Elements in the composition.
        elements: u64,
        /// Files the element directories will hold.
        frames_requested: u64,
        /// Distinct frames to decode and encode.
        frames_to_make: u64,
        /// Decode runs.
        decode_runs: u64,
    },
    /// A decode run stored another frame.
    #[serde(rename_all = "camelCase")]
    Run {
        /// The run (`r1`, …).
        run: String,
        /// Its frames stored so far.
        frames_done: u64,
        /// Its frames to make.
        frames_total: u64,
    },
    /// An element's directory is complete, or it failed.
    #[serde(rename_all = "camelCase")]
    Element {
        /// The element.
        element_id: String,
        /// `ok` or `error`.
        status: crate::report::Status,
        /// Frames in its directory.
        frames: u64,
        /// The error's kind, when it failed.
        #[serde(skip_serializing_if = "Option::is_none")]
        error_kind: Option<String>,
        /// The error, when it failed.
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// The run is over; the report is written.
    #[serde(rename_all = "camelCase")]
    Finished {
        /// Every element succeeded.
        ok: bool,
        /// The report's path.
        report: String,
    },
}

/// Where events go.
#[derive(Clone)]
pub struct EventSink(pub Arc<dyn Fn(&Event) + Send + Sync>);

impl EventSink {
    /// Sends one event.
    pub fn send(&self, event: &Event) {
        (self.0)(event);
    }
}

impl std::fmt::Debug for EventSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventSink")
    }
}
