//! Frame-count arithmetic at its edges: slots that outlast a known source
//! end (held last frames), rates that are not whole, playback rates, the
//! limits of the accepted ranges, and the rounding rules of times and rates.
//! Complements the unit tests in core/src/time.rs and core/src/timeline.rs.

use framex_core::{
    plan, seconds_to_us, source_grid, Composition, Element, ElementFrames, Fps, HeldFrom,
    ImageFormat, PlaybackRate, Request,
};
use proptest::prelude::*;

fn fps(num: u32, den: u32) -> Fps {
    Fps::new(num, den).unwrap()
}

fn element(start_us: i64, duration_us: i64, fps: Fps) -> Element {
    Element {
        id: "e".into(),
        src: "x.mp4".into(),
        start_us,
        duration_us,
        media_duration_us: None,
        fps,
        playback_rate: PlaybackRate::NORMAL,
        grid: fps,
        looping: false,
        format: ImageFormat::Png,
        transfer: None,
    }
}

/// `(frames, extracted, held)` of an element on a source ending at `end`.
fn counts(e: &Element, end: Option<i64>) -> (u64, u64, u64) {
    let f = ElementFrames::of(e, end);
    (f.frames, f.extract, f.held.map_or(0, |h| h.0))
}

#[test]
fn a_known_source_end_holds_the_frames_past_it() {
    let f30 = fps(30, 1);
    // 2 s wanted, 1 s of source left: frames 0..30 lie before the end and are
    // extracted; frame 30 would sit exactly on it, so it and the rest hold
    // the source's last frame.
    assert_eq!(
        counts(&element(0, 2_000_000, f30), Some(1_000_000)),
        (60, 30, 30)
    );
    // One microsecond more of source holds one more frame.
    assert_eq!(
        counts(&element(0, 2_000_000, f30), Some(1_000_001)),
        (60, 31, 29)
    );
    // Starting 1 µs before the end: one frame, the rest held.
    assert_eq!(
        counts(&element(999_999, 2_000_000, f30), Some(1_000_000)),
        (60, 1, 59)
    );
    // A duration inside the source holds nothing, whatever the end.
    assert_eq!(
        counts(&element(0, 500_000, f30), Some(1_000_000)),
        (15, 15, 0)
    );
    assert_eq!(counts(&element(0, 500_000, f30), None), (15, 15, 0));
    // Exactly as long as what is left: the same either way.
    assert_eq!(
        counts(&element(250_000, 750_000, f30), Some(1_000_000)),
        (23, 23, 0)
    );
    assert_eq!(counts(&element(250_000, 750_000, f30), None), (23, 23, 0));
    // Held frames show the source's true last frame.
    let f = ElementFrames::of(&element(0, 2_000_000, f30), Some(1_000_000));
    assert_eq!(f.held.map(|h| h.1), Some(HeldFrom::Source));
}

#[test]
fn the_pass_at_ntsc_rates_counts_partial_frames() {
    let ntsc = fps(30_000, 1001);
    // 10 s of source from 0: 299.7 frame periods, so 300 frames start before the end.
    assert_eq!(
        counts(&element(0, 60_000_000, ntsc), Some(10_000_000)),
        (1799, 300, 1499)
    );
    // From 7.5 s (off the grid of 0), 2.5 s left: 74.925 → 75 frames.
    assert_eq!(
        counts(&element(7_500_000, 60_000_000, ntsc), Some(10_000_000)).1,
        75
    );
    // 1.001 s is exactly 30 periods: frame 30 sits on the end.
    assert_eq!(counts(&element(0, 60_000_000, ntsc), Some(1_001_000)).1, 30);
}

#[test]
fn a_playback_rate_scales_the_pass_not_the_slot() {
    // 4 s at 30 fps twice as fast: 120 slot frames on a 15 fps source grid;
    // a 5 s source has 75 of them, the other 45 hold its last frame.
    let mut e = element(0, 4_000_000, fps(30, 1));
    e.playback_rate = PlaybackRate::new(2, 1).unwrap();
    e.grid = source_grid(e.fps, e.playback_rate).unwrap();
    assert_eq!(e.grid, fps(15, 1));
    assert_eq!(counts(&e, Some(5_000_000)), (120, 75, 45));
    // At half speed the same source lasts 300 slot frames: none held.
    e.playback_rate = PlaybackRate::new(1, 2).unwrap();
    e.grid = source_grid(e.fps, e.playback_rate).unwrap();
    assert_eq!(counts(&e, Some(5_000_000)), (120, 120, 0));
}

#[test]
fn elements_past_the_end_plan_with_their_full_counts() {
    let request: Request = Request::from_json(
        r#"{"composition": {"elements": [
            {"id": "a", "src": "x.mp4", "mediaStart": 0.9, "duration": 5, "fps": 30, "format": "png"},
            {"id": "b", "src": "x.mp4", "mediaStart": 0, "duration": 5, "fps": 30, "format": "png"}
        ]}, "sources": {"x.mp4": {"identity": {"kind": "name", "name": "x"}, "durationUs": 1000000}}}"#,
    )
    .unwrap();
    let plan = plan(&request).unwrap();
    let counts: Vec<(u64, u64)> = plan
        .assignments
        .iter()
        .map(|a| (a.slice.count, a.frame_count()))
        .collect();
    assert_eq!(counts, [(3, 150), (30, 150)]);
    // a (0.9 s, 3 frames) is frames 27..30 of b's 30: one unit of 30 frames,
    // and one unit for the source's last frame, which both hold.
    assert_eq!(plan.units.len(), 2);
    assert_eq!(plan.units[0].frame_count, 30);
    assert!(plan.units[1].last_frame);
    assert_eq!(plan.assignments[0].slice.offset, 27);
    for a in &plan.assignments {
        assert_eq!(a.held.as_ref().unwrap().unit.as_deref(), Some("u2"));
    }
    assert_eq!(plan.totals.frames_requested, 300);
    assert_eq!(plan.totals.frames_held, 147 + 120);
    assert_eq!(plan.totals.frames_to_extract, 31);
}

#[test]
fn the_extremes_do_not_overflow() {
    let max_us = seconds_to_us(10_000_000.0).unwrap();
    let fastest = fps(1000, 1);
    let slowest = fps(1, u32::MAX);
    assert_eq!(fastest.frames_in(max_us), 10_000_000_000);
    assert_eq!(slowest.frames_in(max_us), 1);
    assert_eq!(slowest.frames_in(1), 1);
    assert_eq!(
        counts(&element(max_us, max_us, fastest), Some(i64::MAX)),
        (10_000_000_000, 10_000_000_000, 0)
    );
    assert_eq!(
        fastest.whole_frames_between(0, max_us),
        Some(10_000_000_000)
    );
    assert_eq!(fastest.frame_time_us(0, 10_000_000_000), max_us);
    assert_eq!(
        slowest.frame_time_us(max_us, 1),
        max_us + i64::from(u32::MAX) * 1_000_000
    );
}

/// Found by the never-panic property: a rate whose denominator times 1000 no
/// longer fits in a u32 overflowed the range check.
#[test]
fn the_slowest_rates_are_checked_without_overflow() {
    for (rate, frames) in [("1/4294967295", 1), ("1/4294968", 1), ("3/4294967291", 1)] {
        let text = format!(
            r#"{{"composition": {{"elements": [
                {{"id": "a", "src": "x", "mediaStart": 0, "duration": 2, "fps": "{rate}", "format": "png"}}
            ]}}}}"#
        );
        let plan = plan(&Request::from_json(&text).unwrap()).unwrap();
        assert_eq!(plan.assignments[0].slice.count, frames, "{rate}");
    }
    // 1000 fps spelled with the largest denominator that still fits is fine;
    // a hair more is refused.
    for (rate, ok) in [("4294967000/4294967", true), ("4294967001/4294967", false)] {
        let composition = Composition::from_json(&format!(
            r#"{{"elements": [{{"id": "a", "src": "x", "mediaStart": 0, "duration": 1, "fps": "{rate}", "format": "png"}}]}}"#
        ))
        .unwrap();
        let request = Request {
            composition,
            ..Request::default()
        };
        assert_eq!(plan(&request).is_ok(), ok, "{rate}");
    }
}

#[test]
fn rates_written_as_numbers_follow_the_documented_rule() {
    let rate = |text: &str| {
        let composition = Composition::from_json(&format!(
            r#"{{"elements": [{{"id": "a", "src": "x", "mediaStart": 0, "duration": 1, "fps": {text}, "format": "png"}}]}}"#
        ))
        .unwrap();
        let request = Request {
            composition,
            ..Request::default()
        };
        plan(&request)
            .map(|p| p.assignments[0].fps.to_string())
            .ok()
    };
    assert_eq!(rate("29.97").as_deref(), Some("30000/1001"));
    assert_eq!(rate("\"29.97\"").as_deref(), Some("30000/1001"));
    assert_eq!(rate("23.976").as_deref(), Some("24000/1001"));
    assert_eq!(rate("12.5").as_deref(), Some("25/2"));
    assert_eq!(rate("30.0").as_deref(), Some("30/1"));
    assert_eq!(rate("\"60/2\"").as_deref(), Some("30/1"));
    assert_eq!(rate("1000").as_deref(), Some("1000/1"));
    assert_eq!(rate("0.001").as_deref(), Some("1/1000"));
    assert_eq!(rate("1000.0001"), None);
    assert_eq!(rate("0.0004"), None);
    assert_eq!(rate("0"), None);
}

#[test]
fn times_round_to_the_nearest_microsecond() {
    let start_us = |seconds: &str| {
        let composition = Composition::from_json(&format!(
            r#"{{"elements": [{{"id": "a", "src": "x", "mediaStart": {seconds}, "duration": 1, "fps": 30, "format": "png"}}]}}"#
        ))
        .unwrap();
        let request = Request {
            composition,
            ..Request::default()
        };
        plan(&request).map(|p| p.assignments[0].start_us).ok()
    };
    assert_eq!(start_us("0.1"), Some(100_000));
    assert_eq!(start_us("2.0000014"), Some(2_000_001));
    assert_eq!(start_us("2.0000016"), Some(2_000_002));
    assert_eq!(start_us("-0"), Some(0));
    // Below zero is refused even where it would round to 0 µs.
    assert_eq!(start_us("-0.0000001"), None);
    assert_eq!(start_us("10000000"), Some(10_000_000_000_000));
    assert_eq!(start_us("10000000.000001"), None);
}

proptest! {
    /// `frames_in` is the number of frame times `j/fps` inside `[0, d)`, and
    /// `whole_frames_in` the number of whole periods in `d`.
    #[test]
    fn frame_counts_match_their_definition(
        d in 1..20_000_000_000_000i64,
        num in 1..=1000u32,
        den in prop_oneof![Just(1u32), Just(1001), 1..10_000u32],
    ) {
        let f = fps(num, den);
        let (n, p) = (u128::from(f.num()), u128::from(f.den()) * 1_000_000);
        let d128 = d as u128;
        let count = u128::from(f.frames_in(d));
        // Frame `count - 1` is before `d`, frame `count` is not.
        prop_assert!((count - 1) * p < d128 * n);
        prop_assert!(count * p >= d128 * n);
        let whole = u128::from(f.whole_frames_in(d));
        prop_assert!(whole * p <= d128 * n && (whole + 1) * p > d128 * n);
        prop_assert_eq!(count == whole, (d128 * n).is_multiple_of(p));
    }

    /// `frame_time_us` rounds the exact time down, and grid phases agree with
    /// `whole_frames_between`.
    #[test]
    fn frame_times_and_grids_agree(
        start in 0..10_000_000_000i64,
        other in 0..10_000_000_000i64,
        index in 0..1_000_000u64,
        num in 1..=1000u32,
        den in prop_oneof![Just(1u32), Just(1001), 1..10_000u32],
    ) {
        let f = fps(num, den);
        let exact_num = i128::from(start) * i128::from(f.num())
            + i128::from(index) * i128::from(f.den()) * 1_000_000;
        let t = i128::from(f.frame_time_us(start, index));
        prop_assert!(t * i128::from(f.num()) <= exact_num);
        prop_assert!((t + 1) * i128::from(f.num()) > exact_num);
        let between = f.whole_frames_between(start, other);
        prop_assert_eq!(between.is_some(), f.grid_phase(start) == f.grid_phase(other));
        if let Some(k) = between {
            prop_assert_eq!(
                i128::from(k) * i128::from(f.den()) * 1_000_000,
                i128::from(other - start) * i128::from(f.num())
            );
        }
    }

    /// A rate reads back from its `num/den` form as itself.
    #[test]
    fn rates_round_trip_through_text(num in 1..u32::MAX, den in 1..u32::MAX) {
        let f = fps(num, den);
        prop_assert_eq!(Fps::parse(&f.to_string()), Some(f));
        let json = serde_json::to_string(&f).unwrap();
        prop_assert_eq!(serde_json::from_str::<Fps>(&json).unwrap(), f);
    }
}
