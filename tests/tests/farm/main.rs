//! A render farm sharing one frame store (`--store s3://…`, `--shard i/n`),
//! against a real S3-compatible server (s3s over s3s-fs) started in this
//! process on 127.0.0.1, with real framex processes and the real ffmpeg.
//! Run with `--nocapture` to see the figures the README quotes.

#[path = "../support/s3.rs"]
mod s3;

mod failures;
mod sharing;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use framex_tests::{
    cfr_clip, element, frames_in, framex_command, h264_clip, write_composition, ExtractRun,
};
use s3::{files_under, store_env, S3Server, SECRET_KEY};

const STORE: &str = "s3://farm/render";

/// 3 s of 320×240 at 30 fps with a keyframe every 10 frames: runs that can
/// be cut between shards.
fn gop10_clip() -> PathBuf {
    h264_clip(
        "farm-gop10.mp4",
        "testsrc2=size=320x240:rate=30",
        "3",
        &["-g", "10", "-keyint_min", "10", "-sc_threshold", "0"],
    )
}

/// Two sources, overlapping trims and a duplicate: 180 distinct frames.
fn composition(dir: &Path) -> PathBuf {
    let (a, b) = (gop10_clip(), cfr_clip());
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let el = |id: &str, src: &str, start: f64, duration: f64| element(id, src, start, duration, "");
    let path = dir.join("composition.json");
    write_composition(
        &path,
        &[
            el("intro", a, 0.0, 2.0),
            el("middle", a, 1.0, 2.0),
            el("intro-again", a, 0.0, 2.0),
            el("talk", b, 0.0, 3.0),
        ],
    );
    path
}

const DISTINCT: u64 = 180;
const IDS: [&str; 4] = ["intro", "middle", "intro-again", "talk"];

/// A farm test's start: a fresh directory with the composition, the
/// single-machine reference frames of it, an S3 server, and the store's
/// environment.
struct Farm(
    tempfile::TempDir,
    BTreeMap<String, Vec<(String, Vec<u8>)>>,
    S3Server,
    Vec<(&'static str, std::ffi::OsString)>,
);

impl Farm {
    fn start() -> Farm {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        composition(d);
        let expected = reference(d);
        let server = S3Server::start();
        let env = store_env(d, SECRET_KEY);
        Farm(dir, expected, server, env)
    }
}

/// `framex --quiet extract … --json` as a child process.
fn spawn(
    dir: &Path,
    out: &str,
    cache: &str,
    endpoint: &str,
    extra: &[&str],
    env: &[(&str, std::ffi::OsString)],
) -> Child {
    framex_command()
        .args(["--quiet", "extract"])
        .arg(dir.join("composition.json"))
        .arg("--out")
        .arg(dir.join(out))
        .arg("--json")
        .arg("--cache-dir")
        .arg(dir.join(cache))
        .args(["--store", STORE, "--store-endpoint", endpoint])
        .args(extra)
        .envs(env.iter().map(|(k, v)| (*k, v)))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("framex starts")
}

fn finish(child: Child) -> ExtractRun {
    ExtractRun::from_output(&child.wait_with_output().expect("framex runs"))
}

fn run(
    dir: &Path,
    out: &str,
    cache: &str,
    endpoint: &str,
    extra: &[&str],
    env: &[(&str, std::ffi::OsString)],
) -> ExtractRun {
    finish(spawn(dir, out, cache, endpoint, extra, env))
}

fn farm_metric(run: &ExtractRun, name: &str) -> u64 {
    run.report["metrics"]["farm"][name]
        .as_u64()
        .unwrap_or_else(|| panic!("farm metric {name} in {}\n{}", run.report, run.stderr))
}

/// The single-machine reference: no shared store.
fn reference(dir: &Path) -> BTreeMap<String, Vec<(String, Vec<u8>)>> {
    let run = framex_tests::extract_json(
        &dir.join("composition.json"),
        &dir.join("reference"),
        &["--cache-dir", dir.join("reference-cache").to_str().unwrap()],
        &[],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.report, run.stderr);
    assert_eq!(run.metric("framesExtracted"), DISTINCT);
    outputs(&dir.join("reference"))
}

fn outputs(out: &Path) -> BTreeMap<String, Vec<(String, Vec<u8>)>> {
    IDS.iter()
        .map(|id| (id.to_string(), frames_in(&out.join(id))))
        .collect()
}

fn assert_same(dir: &Path, out: &str, expected: &BTreeMap<String, Vec<(String, Vec<u8>)>>) {
    let got = outputs(&dir.join(out));
    for (id, frames) in expected {
        assert_eq!(got[id].len(), frames.len(), "{out}/{id}: frame count");
        assert!(
            got[id] == *frames,
            "{out}/{id}: frames differ from the reference"
        );
    }
}

/// Every blob in the bucket hashes to its name: nothing wrong was stored.
fn assert_blobs_sound(server: &S3Server) -> usize {
    let blobs: Vec<PathBuf> = files_under(&server.bucket_dir())
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("/blobs/"))
        .collect();
    for rel in &blobs {
        let bytes = std::fs::read(server.bucket_dir().join(rel)).unwrap();
        let name = rel.file_stem().unwrap().to_string_lossy().into_owned();
        assert_eq!(
            blake3::hash(&bytes).to_hex().as_str(),
            name,
            "{}",
            rel.display()
        );
    }
    blobs.len()
}
