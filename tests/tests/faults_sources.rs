//! Hostile sources and output directories (issue 7 item 4, issue 14 item
//! 3), table-driven (`framex_tests::hostile`): sources that are
//! directories, devices, FIFOs, empty, unreadable (run unprivileged, so
//! this runs as root too), missing, symlink loops, text, cut-off videos;
//! an output directory booby-trapped with symlinks. Only the element with
//! the bad source fails (exit 1, its error kind and message in the
//! report); the good element beside it gets its frames; nothing is
//! written outside the output and store directories, and nothing through
//! a symlink.

use framex_tests::hostile::{bad_source, good, on_src, run_all, says, Case, Expect, Fixture, Text};
use serde_json::json;

/// Sources only one element uses: that element fails, exit 1.
fn bad_source_cases() -> Vec<Case> {
    use Fixture::*;
    vec![
        bad_source(
            "src is a directory",
            "clips",
            vec![Dir("clips")],
            "source_unreadable",
            &["clips cannot be read: it is a directory"],
        ),
        bad_source(
            "src is a symlink to /dev/zero",
            "zero.mp4",
            vec![Symlink("zero.mp4", "/dev/zero")],
            "source_unreadable",
            &["zero.mp4 cannot be read", "not a regular file"],
        ),
        bad_source(
            "src is /dev/null",
            "/dev/null",
            vec![],
            "source_unreadable",
            &["/dev/null cannot be read", "not a regular file"],
        ),
        bad_source(
            "src is a FIFO",
            "pipe.mp4",
            vec![Fifo("pipe.mp4")],
            "source_unreadable",
            &["pipe.mp4 cannot be read", "not a regular file"],
        ),
        bad_source(
            "src is unreadable",
            "secret.mp4",
            vec![Unreadable("secret.mp4")],
            "source_unreadable",
            &["secret.mp4 cannot be read", "Permission denied"],
        ),
        bad_source(
            "src is a zero-byte file",
            "empty.mp4",
            vec![Empty("empty.mp4")],
            "source_unreadable",
            &["empty.mp4 cannot be read: it is empty (0 bytes)"],
        ),
        bad_source(
            "src is an absolute path to nothing",
            "/nonexistent/framex/clip.mp4",
            vec![],
            "source_missing",
            &["source /nonexistent/framex/clip.mp4 does not exist"],
        ),
        bad_source(
            "src climbs out to nothing",
            "../../../../../../nonexistent-framex-clip.mp4",
            vec![],
            "source_missing",
            &["nonexistent-framex-clip.mp4 does not exist"],
        ),
        bad_source(
            "src is a dangling symlink",
            "gone.mp4",
            vec![Symlink("gone.mp4", "nowhere.mp4")],
            "source_missing",
            &["gone.mp4 does not exist"],
        ),
        bad_source(
            "src is a symlink loop",
            "loop.mp4",
            vec![Symlink("loop.mp4", "loop.mp4")],
            "source_unreadable",
            &["loop.mp4 cannot be read"],
        ),
        bad_source(
            "src goes through a file",
            "good.mp4/x.mp4",
            vec![],
            "source_unreadable",
            &["good.mp4/x.mp4 cannot be read", "Not a directory"],
        ),
        bad_source(
            "src has a NUL",
            "a\u{0}.mp4",
            vec![],
            "source_unreadable",
            &["a\u{0}.mp4 cannot be read", "unexpected NUL byte"],
        ),
        bad_source(
            "src is text",
            "notes.mp4",
            vec![File("notes.mp4", "not a video at all\n")],
            "invalid_media",
            &["notes.mp4 is not a readable video"],
        ),
        bad_source(
            "src is a cut-off video",
            "cut.mp4",
            vec![Truncated("cut.mp4", 2000)],
            "invalid_media",
            &["cut.mp4 is not a readable video"],
        ),
    ]
}

/// The output directory holds symlinks named like elements, pointing out of
/// it: framex replaces the links and never writes through them.
fn trap_cases() -> Vec<Case> {
    vec![
        Case {
            name: "output has a symlink named like an element",
            text: Text::Json(json!({"elements": [good()]})),
            fixtures: vec![],
            trap: Some(|root, out| {
                let outside = root.join("outside");
                std::fs::create_dir_all(&outside).unwrap();
                std::fs::write(outside.join("keep.txt"), "keep").unwrap();
                std::os::unix::fs::symlink(&outside, out.join("ok")).unwrap();
            }),
            expect: Expect::Fine,
        },
        Case {
            name: "output has a symlink named like a failing element",
            text: on_src("missing.mp4"),
            fixtures: vec![],
            trap: Some(|root, out| {
                let outside = root.join("outside");
                std::fs::create_dir_all(&outside).unwrap();
                std::fs::write(outside.join("keep.txt"), "keep").unwrap();
                std::os::unix::fs::symlink(&outside, out.join("bad")).unwrap();
                std::os::unix::fs::symlink(&outside, out.join("framex-report.json")).unwrap();
            }),
            expect: Expect::Element("source_missing", says(&["missing.mp4 does not exist"])),
        },
    ]
}

#[test]
fn bad_sources_fail_only_their_element() {
    run_all(&bad_source_cases());
}

#[test]
fn symlinks_in_the_output_are_replaced_not_followed() {
    run_all(&trap_cases());
}
