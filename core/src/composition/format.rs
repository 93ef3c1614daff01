//! What frames are written as: the image format, and an SDR→HDR transfer.

use serde::{Deserialize, Serialize};

/// The image format of extracted frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    /// Lossless PNG (`rgba` when the source has alpha).
    Png,
    /// JPEG at a fixed high quality.
    Jpeg,
}

impl ImageFormat {
    /// Parses the composition spelling.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "png" => Some(Self::Png),
            "jpeg" => Some(Self::Jpeg),
            _ => None,
        }
    }

    /// The name used in the composition and the cache key.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpeg",
        }
    }

    /// The file extension of a frame: `png` or `jpg`.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
        }
    }
}

/// The SDR→HDR transfer a frame is converted to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transfer {
    /// SMPTE ST 2084 (PQ).
    Pq,
    /// ARIB STD-B67 (HLG).
    Hlg,
}

impl Transfer {
    /// Parses the composition spelling.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pq" => Some(Self::Pq),
            "hlg" => Some(Self::Hlg),
            _ => None,
        }
    }

    /// The name used in the composition and the cache key.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pq => "pq",
            Self::Hlg => "hlg",
        }
    }
}
