//! Body digests: the ones a server states in its headers (sha-256,
//! sha-512), and the file's own (blake3 names it; SHA-2 checks it).

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use base64::Engine as _;
use sha2::Digest as _;
use ureq::http::HeaderMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum DigestAlgorithm {
    Sha256,
    Sha512,
}

impl DigestAlgorithm {
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha-256",
            Self::Sha512 => "sha-512",
        }
    }
}

/// Digests of the whole body from `Repr-Digest` (RFC 9530), the older
/// `Digest` (RFC 3230) and, for a complete (200) response, `Content-Digest`.
/// Algorithms other than sha-256 and sha-512 are ignored.
pub(super) fn expected_digests(
    headers: &HeaderMap,
    whole_body: bool,
) -> Vec<(DigestAlgorithm, Vec<u8>)> {
    let mut names = vec!["repr-digest", "digest"];
    if whole_body {
        names.push("content-digest");
    }
    let mut out = Vec::new();
    for name in names {
        for value in headers.get_all(name).iter().filter_map(|v| v.to_str().ok()) {
            for item in value.split(',') {
                let Some((algorithm, encoded)) = item.trim().split_once('=') else {
                    continue;
                };
                let algorithm = match algorithm.trim().to_ascii_lowercase().as_str() {
                    "sha-256" => DigestAlgorithm::Sha256,
                    "sha-512" => DigestAlgorithm::Sha512,
                    _ => continue,
                };
                let encoded = encoded.trim().trim_matches(':');
                if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(encoded) {
                    out.push((algorithm, bytes));
                }
            }
        }
    }
    out
}

pub(super) struct Sums {
    pub(super) blake3: String,
    pub(super) sha256: Vec<u8>,
    pub(super) sha512: Vec<u8>,
}

/// blake3 of the file, and the SHA-2 digests in `wanted` (others are empty).
pub(super) fn hash_file(path: &Path, wanted: &[DigestAlgorithm]) -> io::Result<Sums> {
    let mut file = File::open(path)?;
    let mut blake3 = blake3::Hasher::new();
    let mut sha256 = wanted
        .contains(&DigestAlgorithm::Sha256)
        .then(sha2::Sha256::new);
    let mut sha512 = wanted
        .contains(&DigestAlgorithm::Sha512)
        .then(sha2::Sha512::new);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        blake3.update(&buf[..n]);
        if let Some(h) = &mut sha256 {
            h.update(&buf[..n]);
        }
        if let Some(h) = &mut sha512 {
            h.update(&buf[..n]);
        }
    }
    Ok(Sums {
        blake3: blake3.finalize().to_hex().to_string(),
        sha256: sha256.map(|h| h.finalize().to_vec()).unwrap_or_default(),
        sha512: sha512.map(|h| h.finalize().to_vec()).unwrap_or_default(),
    })
}
