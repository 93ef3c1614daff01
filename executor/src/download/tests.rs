use base64::Engine as _;
use sha2::Digest as _;
use ureq::http::HeaderMap;

use super::digest::{expected_digests, DigestAlgorithm};
use super::fetch::{content_range, looks_like_html};
use super::layout::extension;
use super::*;

#[test]
fn urls_are_recognized_in_any_case() {
    assert!(is_url("https://example.com/a.mp4"));
    assert!(is_url("HTTP://127.0.0.1:80/a.mp4"));
    assert!(!is_url("clips/https.mp4"));
    assert!(!is_url("ftp://example.com/a.mp4"));
    assert!(!is_url("http:"));
}

#[test]
fn non_public_addresses_are_named() {
    for (ip, kind) in [
        ("127.0.0.1", Some("loopback")),
        ("10.1.2.3", Some("private")),
        ("172.16.0.1", Some("private")),
        ("192.168.1.1", Some("private")),
        ("169.254.169.254", Some("link-local")),
        ("0.0.0.0", Some("unspecified")),
        ("100.64.0.1", Some("shared (carrier-grade NAT)")),
        ("::1", Some("loopback")),
        ("fe80::1", Some("link-local")),
        ("fd00::1", Some("private (unique local)")),
        ("::ffff:10.0.0.1", Some("private")),
        ("8.8.8.8", None),
        ("2606:4700::1111", None),
    ] {
        assert_eq!(non_public(ip.parse().unwrap()), kind, "{ip}");
    }
}

#[test]
fn html_bodies_are_recognized() {
    assert!(looks_like_html(b"<!DOCTYPE html><html>"));
    assert!(looks_like_html(b"\xEF\xBB\xBF  \n<HTML lang=en>"));
    assert!(!looks_like_html(b"\x00\x00\x00\x20ftypisom"));
    assert!(!looks_like_html(b""));
}

#[test]
fn content_ranges_and_extensions_parse() {
    assert_eq!(content_range("bytes 100-199/200"), Some((100, Some(200))));
    assert_eq!(content_range("bytes 5-9/*"), Some((5, None)));
    assert_eq!(content_range("items 1-2/3"), None);
    let ext = |u: &str| extension(&u.parse().unwrap());
    assert_eq!(ext("https://h/a/clip.MP4?x=1"), "mp4");
    assert_eq!(ext("https://h/a/clip"), "bin");
    assert_eq!(ext("https://h/a/clip.tar.gz-../x"), "bin");
}

#[test]
fn digest_headers_parse() {
    let mut headers = HeaderMap::new();
    let sha = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(b"x"));
    headers.insert(
        "repr-digest",
        format!("sha-256=:{sha}:, md5=:abc=:").parse().unwrap(),
    );
    headers.insert("digest", format!("SHA-256={sha}").parse().unwrap());
    let digests = expected_digests(&headers, true);
    assert_eq!(digests.len(), 2);
    assert!(digests
        .iter()
        .all(|(a, d)| *a == DigestAlgorithm::Sha256 && d.len() == 32));
}
