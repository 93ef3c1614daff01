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

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use framex_tests::{cfr_clip, element, extract_json, frames_in, write_composition, ExtractRun};
use sha2::Digest as _;

/// A request as the server saw it.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    headers: BTreeMap<String, String>,
}

/// What the server answers.
#[derive(Clone, Debug, Default)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Send only this many body bytes (after a full Content-Length), then close.
    cut_at: Option<usize>,
    /// Wait this long before answering.
    delay: Duration,
}

impl Reply {
    fn new(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body,
            ..Self::default()
        }
    }

    fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

type Handler = dyn Fn(&Seen, usize) -> Reply + Send + Sync;

/// An HTTP/1.1 server on 127.0.0.1 answering every request with
/// `handler(request, how many requests that path had before)`, one
/// connection per request.
struct Server {
    port: u16,
    log: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    fn start(handler: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(handler);
        let shared = log.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (log, handler) = (shared.clone(), handler.clone());
                std::thread::spawn(move || serve(stream, &log, &*handler));
            }
        });
        Self { port, log }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn requests(&self, path: &str) -> Vec<Seen> {
        let log = self.log.lock().unwrap();
        log.iter().filter(|s| s.path == path).cloned().collect()
    }
}

fn serve(stream: TcpStream, log: &Mutex<Vec<Seen>>, handler: &Handler) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let seen = Seen { path, headers };
    let before = {
        let mut log = log.lock().unwrap();
        let n = log.iter().filter(|s| s.path == seen.path).count();
        log.push(seen.clone());
        n
    };
    let reply = handler(&seen, before);
    std::thread::sleep(reply.delay);
    let mut out = stream;
    let mut head = format!("HTTP/1.1 {} X\r\n", reply.status);
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        reply.body.len()
    ));
    let body = &reply.body[..reply.cut_at.unwrap_or(reply.body.len())];
    let _ = out.write_all(head.as_bytes());
    let _ = out.write_all(body);
    let _ = out.flush();
    let _ = out.shutdown(Shutdown::Both);
}

/// A 200 (or, for a `Range: bytes=N-` request, a 206) with `body`, ranges
/// and a strong ETag advertised.
fn video(seen: &Seen, body: &[u8]) -> Reply {
    if let Some(start) = seen
        .headers
        .get("range")
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<usize>().ok())
    {
        return Reply::new(206, "video/mp4", body[start..].to_vec())
            .header(
                "Content-Range",
                &format!("bytes {start}-{}/{}", body.len() - 1, body.len()),
            )
            .header("ETag", "\"v1\"");
    }
    Reply::new(200, "video/mp4", body.to_vec())
        .header("Accept-Ranges", "bytes")
        .header("ETag", "\"v1\"")
}

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

#[test]
fn a_404_is_download_not_found_and_the_other_elements_still_run() {
    let server = Server::start(|_, _| Reply::new(404, "text/plain", b"no such clip".to_vec()));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let local = cfr_clip();
    let run = run(
        d,
        &[
            element("gone", &server.url("/gone.mp4"), 0.0, 1.0, ""),
            element("local", local.to_str().unwrap(), 0.0, 1.0, ""),
        ],
        &[ALLOW],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let gone = run.element("gone");
    assert_eq!(gone["errorKind"], "download_not_found", "{gone}");
    assert_eq!(gone["retryable"], false);
    assert!(gone["error"].as_str().unwrap().contains("HTTP 404"));
    assert_eq!(
        server.requests("/gone.mp4").len(),
        1,
        "a 404 is not retried"
    );
    assert_eq!(run.element("local")["status"], "ok");
    assert_eq!(run.element("local")["frames"], 30);
}

#[test]
fn a_503_then_200_succeeds_after_one_retry() {
    let body = clip_bytes();
    let server = Server::start(move |seen, before| {
        if before == 0 {
            Reply::new(503, "text/plain", b"busy".to_vec())
        } else {
            video(seen, &body)
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let run = run(
        dir.path(),
        &[element("e", &server.url("/flaky.mp4"), 0.0, 1.0, "")],
        &[ALLOW],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.report, run.stderr);
    assert_eq!(server.requests("/flaky.mp4").len(), 2);
    assert_eq!(run.metric("retries"), 1);
    assert_eq!(run.element("e")["frames"], 30);
}

#[test]
fn a_body_cut_short_is_resumed_with_a_range_request() {
    let body = clip_bytes();
    let half = body.len() / 2;
    let served = body.clone();
    let server = Server::start(move |seen, before| {
        let reply = video(seen, &served);
        if before == 0 {
            Reply {
                cut_at: Some(half),
                ..reply
            }
        } else {
            reply
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let local = cfr_clip();
    let run = run(
        d,
        &[
            element("e", &server.url("/cut.mp4"), 0.0, 1.0, ""),
            element("local", local.to_str().unwrap(), 0.0, 1.0, ""),
        ],
        &[ALLOW],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.report, run.stderr);
    let requests = server.requests("/cut.mp4");
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].headers["range"], format!("bytes={half}-"));
    assert_eq!(requests[1].headers["if-range"], "\"v1\"");
    assert_eq!(run.metric("retries"), 1);
    assert_eq!(
        run.metric("bytesDownloaded"),
        body.len() as u64,
        "the first half is not fetched twice"
    );
    assert_eq!(frames_in(&d.join("out/e")), frames_in(&d.join("out/local")));
    let digest = blake3::hash(&body).to_hex().to_string();
    assert_eq!(
        published(d),
        vec![d.join(format!("cache/downloads/{digest}.mp4"))]
    );
}

#[test]
fn a_body_that_is_always_cut_short_fails_cleanly_after_two_attempts() {
    let body = clip_bytes();
    // No ranges, no validator: the retry starts over, and is cut again.
    let server = Server::start(move |_, _| Reply {
        cut_at: Some(1000),
        ..Reply::new(200, "video/mp4", body.clone())
    });
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run = run(
        d,
        &[element("e", &server.url("/cut.mp4"), 0.0, 1.0, "")],
        &[ALLOW],
    );
    assert_eq!(run.code, 1);
    let e = run.element("e");
    assert_eq!(e["errorKind"], "download_transient", "{e}");
    assert_eq!(e["retryable"], true);
    assert!(
        e["error"].as_str().unwrap().contains("after 1000 of"),
        "{e}"
    );
    assert_eq!(server.requests("/cut.mp4").len(), 2);
    let retry = &server.requests("/cut.mp4")[1];
    assert!(
        !retry.headers.contains_key("range"),
        "nothing to resume from"
    );
    assert_eq!(published(d), Vec::<PathBuf>::new(), "nothing published");
    assert_eq!(partials(d), 0, "no partial left");
}

#[test]
fn a_slow_server_hits_the_download_timeout() {
    let server = Server::start(|_, _| Reply {
        delay: Duration::from_secs(8),
        ..Reply::new(200, "video/mp4", vec![0; 100])
    });
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let run = run(
        dir.path(),
        &[element("e", &server.url("/slow.mp4"), 0.0, 1.0, "")],
        &[ALLOW, "--download-timeout", "1"],
    );
    let took = started.elapsed();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let e = run.element("e");
    assert_eq!(e["errorKind"], "download_timeout", "{e}");
    assert_eq!(e["retryable"], true);
    assert_eq!(server.requests("/slow.mp4").len(), 2, "retried once");
    assert!(
        took < Duration::from_secs(7),
        "two 1 s attempts took {took:?}"
    );
}

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
