//! A server that fails: a 404, a 503 then a 200, a body cut short (resumed,
//! or refused when it never completes), a server too slow for
//! `--download-timeout`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use framex_tests::{cfr_clip, element, frames_in};

use crate::server::{video, Reply, Server};
use crate::{clip_bytes, partials, published, run, ALLOW};

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
