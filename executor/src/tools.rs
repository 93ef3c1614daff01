//! Finding ffmpeg and ffprobe.

use std::path::{Path, PathBuf};

use crate::process::ToolError;

/// The external programs framex runs.
#[derive(Clone, Debug)]
pub struct Tools {
    /// ffmpeg, or why it is unavailable.
    pub ffmpeg: Result<PathBuf, ToolError>,
    /// ffprobe, or why it is unavailable.
    pub ffprobe: Result<PathBuf, ToolError>,
}

impl Tools {
    /// Finds the tools: an explicit path (flag or `FRAMEX_FFMPEG` /
    /// `FRAMEX_FFPROBE`) wins, else `PATH`. A missing tool is not fatal here:
    /// warm runs need neither, so each use reports it.
    pub fn find(ffmpeg: Option<&Path>, ffprobe: Option<&Path>) -> Self {
        Self {
            ffmpeg: locate("ffmpeg", ffmpeg),
            ffprobe: locate("ffprobe", ffprobe),
        }
    }
}

fn locate(tool: &str, explicit: Option<&Path>) -> Result<PathBuf, ToolError> {
    let unavailable = |reason: String| ToolError::Unavailable {
        tool: tool.to_string(),
        reason,
    };
    match explicit {
        Some(path) => {
            which::which(path).map_err(|e| unavailable(format!("{}: {e}", path.display())))
        }
        None => which::which(tool).map_err(|_| unavailable("not found on PATH".to_string())),
    }
}
