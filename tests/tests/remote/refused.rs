//! What framex refuses to download: an HTML page, a body whose digest header
//! does not match, a private address without `--allow-private-urls`.

use std::path::PathBuf;

use base64::Engine as _;
use framex_tests::element;
use sha2::Digest as _;

use crate::server::{video, Reply, Server};
use crate::{clip_bytes, published, run, ALLOW};

#[test]
fn html_pages_are_refused() {
    let server = Server::start(|seen, _| {
        let page = b"<!DOCTYPE html><html><body>Sign in</body></html>".to_vec();
        match seen.path.as_str() {
            "/typed.mp4" => Reply::new(200, "text/html; charset=utf-8", page),
            _ => Reply::new(200, "application/octet-stream", page),
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let run = run(
        dir.path(),
        &[
            element("typed", &server.url("/typed.mp4"), 0.0, 1.0, ""),
            element("sniffed", &server.url("/sniffed.mp4"), 0.0, 1.0, ""),
        ],
        &[ALLOW],
    );
    assert_eq!(run.code, 1);
    for id in ["typed", "sniffed"] {
        let e = run.element(id);
        assert_eq!(e["errorKind"], "download_refused", "{id}: {e}");
        assert_eq!(e["retryable"], false);
        assert!(e["error"].as_str().unwrap().contains("HTML"), "{e}");
    }
    assert_eq!(published(dir.path()), Vec::<PathBuf>::new());
}

#[test]
fn a_digest_header_is_checked() {
    let body = clip_bytes();
    let good = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&body));
    let bad = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(b"other"));
    let server = Server::start(move |seen, _| {
        let digest = if seen.path == "/good.mp4" {
            &good
        } else {
            &bad
        };
        Reply::new(200, "video/mp4", body.clone())
            .header("Repr-Digest", &format!("sha-256=:{digest}:"))
    });
    let dir = tempfile::tempdir().unwrap();
    let run = run(
        dir.path(),
        &[
            element("good", &server.url("/good.mp4"), 0.0, 1.0, ""),
            element("bad", &server.url("/bad.mp4"), 0.0, 1.0, ""),
        ],
        &[ALLOW],
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.element("good")["status"], "ok", "{}", run.report);
    let bad = run.element("bad");
    assert_eq!(bad["errorKind"], "download_transient", "{bad}");
    assert!(bad["error"].as_str().unwrap().contains("sha-256"), "{bad}");
    assert_eq!(server.requests("/bad.mp4").len(), 2);
}

#[test]
fn a_private_address_is_refused_without_the_flag() {
    let server = Server::start(|seen, _| video(seen, b"never sent"));
    let dir = tempfile::tempdir().unwrap();
    // https to loopback: the address check refuses it before connecting;
    // plain http is refused outright without the flag.
    let https = server.url("/clip.mp4").replace("http://", "https://");
    let run = run(
        dir.path(),
        &[
            element("https", &https, 0.0, 1.0, ""),
            element("http", &server.url("/clip.mp4"), 0.0, 1.0, ""),
        ],
        &[],
    );
    assert_eq!(run.code, 1);
    for (id, expected) in [
        (
            "https",
            "127.0.0.1 is a loopback address (pass --allow-private-urls",
        ),
        (
            "http",
            "plain http is fetched only from loopback, with --allow-private-urls",
        ),
    ] {
        let e = run.element(id);
        assert_eq!(e["errorKind"], "download_refused", "{e}");
        assert_eq!(e["retryable"], false);
        let message = e["error"].as_str().unwrap();
        assert!(message.contains(expected), "{message}");
    }
    assert!(server.requests("/clip.mp4").is_empty(), "never connected");
}
