//! Remote sources end to end, against a real HTTP server on 127.0.0.1 in a
//! thread of this test: a download gives the local file's frames; a 404, a
//! 503 then 200, a body cut short (resumed with a Range request; refused when
//! it never completes), a server too slow for `--download-timeout`, an HTML
//! page, a wrong digest header, and a private address without
//! `--allow-private-urls`.
//!
//! The server is written on `std::net` rather than a server crate because
//! several cases need to misbehave on the wire (close the connection before
//! the promised Content-Length, stall before the headers).

mod failures;
mod refused;
mod server;

use std::path::{Path, PathBuf};

use framex_tests::{cfr_clip, element, extract_json, frames_in, write_composition, ExtractRun};

use crate::server::{video, Reply, Server};

fn clip_bytes() -> Vec<u8> {
    std::fs::read(cfr_clip()).unwrap()
}

/// Runs a composition of `elements` with a fresh cache in `dir` and the
/// private-URL flag (the server is on loopback) plus `flags`.
fn run(dir: &Path, elements: &[String], flags: &[&str]) -> ExtractRun {
    let composition = dir.join("composition.json");
    write_composition(&composition, elements);
    let cache = dir.join("cache");
    let mut args = vec!["--cache-dir", cache.to_str().unwrap()];
    args.extend_from_slice(flags);
    extract_json(&composition, &dir.join("out"), &args, &[])
}

const ALLOW: &str = "--allow-private-urls";

/// Files published in the cache's download area (not partials, not records).
fn published(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir.join("cache/downloads")) else {
        return vec![];
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && !p.file_name().unwrap().to_string_lossy().starts_with("url-"))
        .collect();
    files.sort();
    files
}

fn partials(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("cache/downloads/partial"))
        .map(|e| e.count())
        .unwrap_or(0)
}

#[test]
fn a_remote_clip_gives_the_local_files_frames_and_is_downloaded_once() {
    let body = clip_bytes();
    let served = body.clone();
    let server = Server::start(move |seen, _| {
        if seen.headers.get("if-none-match").map(String::as_str) == Some("\"v1\"") {
            return Reply::new(304, "video/mp4", vec![]);
        }
        video(seen, &served)
    });
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let url = server.url("/media/clip.mp4");
    let local = cfr_clip();
    let elements = [
        element("remote", &url, 0.5, 1.0, ""),
        element("remote-again", &url, 1.0, 1.0, ""),
        element("local", local.to_str().unwrap(), 0.5, 1.0, ""),
    ];
    let cold = run(d, &elements, &[ALLOW]);
    assert_eq!(cold.code, 0, "{}\n{}", cold.report, cold.stderr);
    assert_eq!(
        server.requests("/media/clip.mp4").len(),
        1,
        "downloaded once"
    );
    assert_eq!(cold.metric("downloads"), 1);
    assert_eq!(cold.metric("bytesDownloaded"), body.len() as u64);
    assert_eq!(
        frames_in(&d.join("out/remote")),
        frames_in(&d.join("out/local")),
        "the downloaded clip's frames are the local file's"
    );
    assert_eq!(frames_in(&d.join("out/remote")).len(), 30);
    // The two trims of the download share their common half second.
    assert_eq!(cold.role("remote-again"), "shares r1 (leader remote)");
    assert_eq!(cold.metric("framesExtracted"), 45 + 30);
    // Published by content digest, with the URL's extension; no partials.
    let digest = blake3::hash(&body).to_hex().to_string();
    assert_eq!(
        published(d),
        vec![d.join(format!("cache/downloads/{digest}.mp4"))]
    );
    assert_eq!(partials(d), 0);

    // A warm run revalidates (304) instead of downloading, and extracts nothing.
    let warm = run(d, &elements, &[ALLOW]);
    assert_eq!(warm.code, 0, "{}", warm.stderr);
    let requests = server.requests("/media/clip.mp4");
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].headers["if-none-match"], "\"v1\"");
    assert_eq!(warm.metric("downloads"), 0);
    assert_eq!(warm.metric("ffmpegRuns"), 0);
    assert_eq!(warm.metric("framesExtracted"), 0);
    assert_eq!(warm.metric("cacheHits"), cold.metric("distinctFrames"));
    assert_eq!(warm.element("remote-again")["cacheHit"], true);
}
