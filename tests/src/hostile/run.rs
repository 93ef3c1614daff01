//! Running a [`Case`] ([`run_case`], [`run_all`]) and checking that it wrote
//! nothing outside the output and store directories ([`tree`]).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::case::{Case, Expect, Fixture, Text};
use crate::host::{framex_unprivileged, give_to_nobody, skip};
use crate::{cfr_clip, framex_command};

/// Every path under `dir` (not following symlinks) with its kind.
pub fn tree(dir: &Path) -> BTreeSet<(String, &'static str)> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeSet<(String, &'static str)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let entry = entry.unwrap();
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let kind = if meta.is_symlink() {
                "link"
            } else if meta.is_dir() {
                "dir"
            } else if meta.is_file() {
                "file"
            } else {
                "special"
            };
            let rel = path
                .strip_prefix(base)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            out.insert((rel, kind));
            if kind == "dir" {
                walk(base, &path, out);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

/// What one case ran into, or why it could not run.
pub enum Ran {
    /// It ran, and all was as expected.
    Done,
    /// It could not run here (the skip rule of [`crate::host`] allowed it).
    Skipped(String),
}

/// Runs one case and checks it; `Err` says what went wrong.
pub fn run_case(case: &Case) -> Result<Ran, String> {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let comp = root.join("comp");
    let (cwd, home, xdg, tmp) = (
        root.join("cwd"),
        root.join("home"),
        root.join("xdg"),
        root.join("tmp"),
    );
    // Deep enough that `../../x` from the output stays inside the root.
    let out = root.join("o1/o2/out");
    let cache = root.join("cache");
    for dir in [&comp, &cwd, &home, &xdg, &tmp, &out] {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::copy(cfr_clip(), comp.join("good.mp4")).unwrap();
    let mut unprivileged = false;
    for fixture in &case.fixtures {
        match *fixture {
            Fixture::Dir(name) => {
                std::fs::create_dir(comp.join(name)).unwrap();
                std::fs::write(comp.join(name).join("inside.mp4"), "x").unwrap();
            }
            Fixture::Symlink(name, to) => std::os::unix::fs::symlink(to, comp.join(name)).unwrap(),
            Fixture::Fifo(name) => {
                let status = Command::new("mkfifo")
                    .arg(comp.join(name))
                    .status()
                    .unwrap();
                assert!(status.success(), "mkfifo");
            }
            Fixture::Empty(name) => std::fs::write(comp.join(name), "").unwrap(),
            Fixture::File(name, text) => std::fs::write(comp.join(name), text).unwrap(),
            Fixture::Truncated(name, len) => {
                let bytes = std::fs::read(cfr_clip()).unwrap();
                std::fs::write(comp.join(name), &bytes[..len]).unwrap();
            }
            Fixture::Unreadable(name) => {
                use std::os::unix::fs::PermissionsExt;
                let path = comp.join(name);
                std::fs::copy(cfr_clip(), &path).unwrap();
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
                // Root reads it anyway: framex then runs as nobody.
                unprivileged = true;
            }
        }
    }
    let composition = comp.join("composition.json");
    match &case.text {
        Text::Json(value) => std::fs::write(&composition, value.to_string()).unwrap(),
        Text::Raw(text) => std::fs::write(&composition, text).unwrap(),
        Text::Owned(text) => std::fs::write(&composition, text).unwrap(),
        Text::Bytes(bytes) => std::fs::write(&composition, bytes).unwrap(),
        Text::Many(count) => {
            use std::io::Write;
            let mut file = std::io::BufWriter::new(std::fs::File::create(&composition).unwrap());
            write!(file, "{{\"elements\":[").unwrap();
            for i in 0..*count {
                let sep = if i == 0 { "" } else { "," };
                write!(
                    file,
                    r#"{sep}{{"id":"e{i}","src":"good.mp4","mediaStart":0,"duration":1,"fps":30,"format":"png"}}"#
                )
                .unwrap();
            }
            write!(file, "]}}").unwrap();
        }
    }
    if let Some(trap) = case.trap {
        trap(root, &out);
    }
    let comp_before = tree(&comp);
    let outside_before = root
        .join("outside")
        .exists()
        .then(|| tree(&root.join("outside")));

    let mut command = if unprivileged {
        match framex_unprivileged() {
            Ok(command) => {
                give_to_nobody(root);
                command
            }
            Err(why) => {
                skip("unreadable_source", &why);
                return Ok(Ran::Skipped(why));
            }
        }
    } else {
        framex_command()
    };
    let started = Instant::now();
    let output = command
        .current_dir(&cwd)
        .env("HOME", &home)
        .env("XDG_CACHE_HOME", &xdg)
        .env("TMPDIR", &tmp)
        .args(["--quiet", "extract"])
        .arg(&composition)
        .arg("--out")
        .arg(&out)
        .arg("--cache-dir")
        .arg(&cache)
        .args(["--timeout", "60"])
        .output()
        .unwrap();
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let fail = |what: String| {
        Err(format!(
            "{what}\n    exit {:?}, stderr: {stderr}",
            output.status.code()
        ))
    };
    if took > Duration::from_secs(120) {
        return fail(format!("took {took:?}"));
    }

    // The outcome.
    let mut ok_ids: BTreeSet<String> = BTreeSet::new();
    match &case.expect {
        Expect::Invalid(items) => {
            if output.status.code() != Some(2) {
                return fail("an invalid composition exits 2".into());
            }
            for item in items {
                if !stderr.contains(item.as_str()) {
                    return fail(format!("stderr does not say {item:?}"));
                }
            }
            if !stderr.starts_with("framex: ")
                || !stderr.contains(&composition.display().to_string())
            {
                return fail("the error names the composition file".into());
            }
            if stderr.len() > 8192 {
                return fail(format!("a {} byte error is not a clear one", stderr.len()));
            }
            if out.join("framex-report.json").exists() {
                return fail("an invalid composition writes no report".into());
            }
            if cache.exists() {
                return fail("an invalid composition makes no cache directory".into());
            }
        }
        Expect::Element(kind, items) => {
            if output.status.code() != Some(1) {
                return fail("one bad element exits 1".into());
            }
            let report = read_report(&out)?;
            let bad = &report["elements"]["bad"];
            if bad["status"] != "error" || bad["errorKind"] != *kind {
                return fail(format!("element bad: {bad}"));
            }
            let error = bad["error"].as_str().unwrap_or_default();
            for item in items {
                if !error.contains(item.as_str()) {
                    return fail(format!("the error {error:?} does not say {item:?}"));
                }
            }
            if out.join("bad").exists() || out.join("bad").is_symlink() {
                return fail("a failed element has no directory".into());
            }
            ok_ids.insert("ok".into());
        }
        Expect::Fine => {
            if output.status.code() != Some(0) {
                return fail("exit 0 expected".into());
            }
            read_report(&out)?;
            ok_ids.insert("ok".into());
        }
    }
    for id in &ok_ids {
        let report = read_report(&out)?;
        let e = &report["elements"][id];
        let dir = out.join(id);
        let meta = std::fs::symlink_metadata(&dir).map_err(|e| e.to_string())?;
        let frames = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
        if e["status"] != "ok" || e["frames"] != 15 || !meta.is_dir() || frames != 15 {
            return fail(format!(
                "element {id}: {e}, {frames} frames in a real directory"
            ));
        }
    }

    // Nothing written anywhere else.
    for (name, dir) in [
        ("cwd", &cwd),
        ("HOME", &home),
        ("XDG_CACHE_HOME", &xdg),
        ("TMPDIR", &tmp),
    ] {
        let left = tree(dir);
        if !left.is_empty() {
            return fail(format!("{name} is not empty: {left:?}"));
        }
    }
    if tree(&comp) != comp_before {
        return fail(format!(
            "the composition's directory changed: {:?} → {:?}",
            comp_before,
            tree(&comp)
        ));
    }
    if let Some(before) = outside_before {
        if tree(&root.join("outside")) != before {
            return fail("something was written through a symlink in the output".into());
        }
    }
    let mut allowed: BTreeSet<String> = [
        "comp",
        "cwd",
        "home",
        "xdg",
        "tmp",
        "o1",
        "o1/o2",
        "o1/o2/out",
        "cache",
        "outside",
        "outside/keep.txt",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for id in &ok_ids {
        allowed.insert(format!("o1/o2/out/{id}"));
    }
    if out.join("framex-report.json").exists() {
        allowed.insert("o1/o2/out/framex-report.json".into());
    }
    for (path, kind) in tree(root) {
        let inside = |dir: &str| path.starts_with(&format!("{dir}/"));
        let known = allowed.contains(&path)
            || inside("comp")
            || inside("cache")
            || ok_ids.iter().any(|id| inside(&format!("o1/o2/out/{id}")));
        if !known {
            return fail(format!("unexpected {kind} {path}"));
        }
    }
    if cache.join("tmp").exists() && !tree(&cache.join("tmp")).is_empty() {
        return fail("partials left in the cache".into());
    }
    Ok(Ran::Done)
}

/// The report in `out`, parsed.
pub fn read_report(out: &Path) -> Result<Value, String> {
    let bytes =
        std::fs::read(out.join("framex-report.json")).map_err(|e| format!("report: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("report: {e}"))
}

/// Runs every case, then fails with every failing case listed.
pub fn run_all(cases: &[Case]) {
    let mut failures = Vec::new();
    for case in cases {
        match run_case(case) {
            Ok(Ran::Done) => {}
            Ok(Ran::Skipped(why)) => eprintln!("hostile input: {:<45} SKIPPED: {why}", case.name),
            Err(why) => failures.push(format!("{}: {why}", case.name)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
