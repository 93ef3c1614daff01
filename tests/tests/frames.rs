//! The frame rule and its arithmetic at their edges, through the public
//! API: slots that outlast their source (the true last frame held), rates
//! that are not whole, playback rates, the limits of the accepted ranges,
//! the rounding rules of times and rates, and the rule's corollary on
//! constant-rate sources (the nearest frame, ties to the earlier one),
//! checked in integer arithmetic. Complements the unit tests in
//! core/src/rule.rs, core/src/time.rs and core/src/timeline.rs.

use framex_core::{
    element_frames, frames_of, plan, seconds_to_us, Composition, Element, Fps, ImageFormat,
    PlanError, PlaybackRate, Problem, Request, TimeBase, Timeline,
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
        timeline_start_us: None,
        media_duration_us: None,
        fps,
        playback_rate: PlaybackRate::NORMAL,
        looping: false,
        format: ImageFormat::Png,
        transfer: None,
    }
}

/// `count` frames at `rate`, one tick per frame (the time base is the
/// frame period, as `1001/30000` for 29.97 fps).
fn grid(rate: Fps, count: u64) -> Timeline {
    let tb = TimeBase::new(rate.den(), rate.num()).unwrap();
    let pts = (0..count as i64).collect();
    Timeline::new(tb, pts, count as i64, vec![0]).unwrap()
}

fn shown(e: &Element, t: &Timeline) -> Vec<u64> {
    frames_of(&element_frames(e, t).unwrap()).collect()
}

/// The plan of a one-element request, as JSON text.
fn plan_one(element_json: &str, sources: &str) -> Result<framex_core::Plan, PlanError> {
    let text =
        format!(r#"{{"composition": {{"elements": [{element_json}]}}, "sources": {sources}}}"#);
    plan(&Request::from_json(&text).unwrap())
}

#[test]
fn a_slot_past_the_source_end_holds_its_true_last_frame() {
    let thirty = grid(fps(30, 1), 30);
    // 2 s wanted, 1 s of source: frames 0..=29, then 29 held.
    let s = shown(&element(0, 2_000_000, fps(30, 1)), &thirty);
    assert_eq!(s.len(), 60);
    assert_eq!(&s[..30], &(0..30).collect::<Vec<_>>()[..]);
    assert!(s[30..].iter().all(|&f| f == 29));
    // Starting 0.9 s in: 27, 28, 29 and then 29 for the rest of 5 s.
    let s = shown(&element(900_000, 5_000_000, fps(30, 1)), &thirty);
    assert_eq!((s.len(), &s[..4]), (150, &[27, 28, 29, 29][..]));
    // One microsecond before the end: the last frame every tick.
    let s = shown(&element(999_999, 100_000, fps(30, 1)), &thirty);
    assert_eq!(s, [29, 29, 29]);
}

#[test]
fn slots_at_ntsc_rates_count_partial_frames() {
    let ntsc = fps(30_000, 1001);
    // 10 s at 29.97 is 299.7 frame periods: 300 ticks.
    let t = grid(ntsc, 600);
    let s = shown(&element(0, 10_000_000, ntsc), &t);
    assert_eq!(s, (0..300).collect::<Vec<_>>());
    // 1.001 s is exactly 30 periods: 30 ticks, not 31.
    assert_eq!(shown(&element(0, 1_001_000, ntsc), &t).len(), 30);
}

#[test]
fn a_playback_rate_scales_the_times_asked_for_not_the_slot() {
    // 4 s at 30 fps twice as fast on a 5 s, 30 fps source: 120 ticks, every
    // other frame until 4.933 s (frame 148), then the last frame, 149.
    let t = grid(fps(30, 1), 150);
    let mut e = element(0, 4_000_000, fps(30, 1));
    e.playback_rate = PlaybackRate::new(2, 1).unwrap();
    let s = shown(&e, &t);
    assert_eq!(s.len(), 120);
    assert_eq!(&s[..75], &(0..75).map(|j| 2 * j).collect::<Vec<_>>()[..]);
    assert!(s[75..].iter().all(|&f| f == 149));
    // At half speed, 4 s shows the first 2 s of the source, each frame twice.
    e.playback_rate = PlaybackRate::new(1, 2).unwrap();
    let s = shown(&e, &t);
    assert_eq!(&s[..6], &[0, 0, 1, 1, 2, 2]);
    assert_eq!(s[119], 59);
}

#[test]
fn elements_past_the_end_plan_with_their_full_counts() {
    let plan = plan_one(
        r#"{"id": "a", "src": "x.mp4", "mediaStart": 0.9, "duration": 5, "fps": 30, "format": "png"},
           {"id": "b", "src": "x.mp4", "mediaStart": 0, "duration": 5, "fps": 30, "format": "png"}"#,
        r#"{"x.mp4": {"identity": {"kind": "name", "name": "x"}, "frameRate": "30/1", "durationUs": 1000000}}"#,
    )
    .unwrap();
    let ticks: Vec<u64> = plan.elements.iter().map(|e| e.ticks).collect();
    assert_eq!(ticks, [150, 150]);
    // a shows frames 27..=29 of b's 30, and both hold frame 29: one run of
    // 30 frames makes everything.
    assert_eq!(plan.totals.frames_requested, 300);
    assert_eq!(plan.totals.distinct_frames, 30);
    assert_eq!(plan.totals.decode_runs, 1);
    assert_eq!(plan.elements[0].shown().last(), Some(29));
    assert!(plan.warnings.is_empty());
}

#[test]
fn the_extremes_do_not_overflow() {
    let max_us = seconds_to_us(10_000_000.0).unwrap();
    let fastest = fps(1000, 1);
    let slowest = fps(1, u32::MAX);
    assert_eq!(fastest.frames_in(max_us), 10_000_000_000);
    assert_eq!(slowest.frames_in(max_us), 1);
    assert_eq!(slowest.frames_in(1), 1);
    // The latest start on the finest time base and a long source: exact.
    let tb = TimeBase::new(1, u32::MAX).unwrap();
    let t = Timeline::new(tb, vec![0, 1, 2], 3, vec![0]).unwrap();
    let mut e = element(max_us, 1_000_000_000, fastest);
    assert_eq!(shown(&e, &t), vec![2; 1_000_000]);
    // The coarsest time base, the slowest playback rate, a loop: exact too.
    let tb = TimeBase::new(u32::MAX, 1).unwrap();
    let t = Timeline::new(tb, vec![0, 1, 2], 3, vec![0]).unwrap();
    e.looping = true;
    e.playback_rate = PlaybackRate::new(1, 100).unwrap();
    e.duration_us = 1_000;
    assert_eq!(shown(&e, &t), [0]);
    // Where exact arithmetic cannot follow (a start of 10⁷ s on a time base of
    // 1/4294967291 s, at a rate and fps with large coprime parts), the
    // element is refused by name, never planned wrong.
    let error = plan_one(
        r#"{"id": "far", "src": "x.mp4", "mediaStart": 9999999.999999, "duration": 1, "fps": "4294967231/4294968", "playbackRate": "4294967291/4294967279", "format": "png"}"#,
        r#"{"x.mp4": {"identity": {"kind": "name", "name": "x"},
            "timeline": {"timeBase": "1/4294967291", "pts": [[0, 1, 3]], "end": 3}}}"#,
    )
    .unwrap_err();
    assert_eq!(error.element_errors()[0].problem, Problem::TimeOverflow);
    assert_eq!(error.element_errors()[0].id, "far");
}

/// Found by the never-panic property: a rate whose denominator times 1000 no
/// longer fits in a u32 overflowed the range check.
#[test]
fn the_slowest_rates_are_checked_without_overflow() {
    for rate in ["1/4294967295", "1/4294968", "3/4294967291"] {
        let text = format!(
            r#"{{"composition": {{"elements": [
                {{"id": "a", "src": "x", "mediaStart": 0, "duration": 2, "fps": "{rate}", "format": "png"}}
            ]}}}}"#
        );
        let plan = plan(&Request::from_json(&text).unwrap()).unwrap();
        assert_eq!(plan.elements[0].ticks, 1, "{rate}");
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

/// The element's plan of a one-element composition with `field: value`.
fn planned_with(field: &str, value: &str) -> Option<framex_core::ElementPlan> {
    let mut e: serde_json::Map<String, serde_json::Value> = serde_json::from_str(
        r#"{"id": "a", "src": "x", "mediaStart": 0, "duration": 1, "fps": 30, "format": "png"}"#,
    )
    .unwrap();
    e.insert(field.into(), serde_json::from_str(value).unwrap());
    let composition = Composition::from_json(&serde_json::json!({ "elements": [e] }).to_string());
    let request = Request {
        composition: composition.ok()?,
        ..Request::default()
    };
    plan(&request).ok().map(|p| p.elements[0].clone())
}

#[test]
fn rates_written_as_numbers_follow_the_documented_rule() {
    let rate = |text: &str| planned_with("fps", text).map(|e| e.fps.to_string());
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
    let playback = |text: &str| planned_with("playbackRate", text).map(|e| e.playback_rate);
    assert_eq!(playback("0.999"), Some(PlaybackRate::new(1000, 1001)));
    assert_eq!(playback("1"), Some(None), "normal speed is not written");
    assert_eq!(playback("100.001"), None);
}

#[test]
fn times_round_to_the_nearest_microsecond() {
    let start_us = |seconds: &str| planned_with("mediaStart", seconds).map(|e| e.start_us);
    assert_eq!(start_us("0.1"), Some(100_000));
    assert_eq!(start_us("2.0000014"), Some(2_000_001));
    assert_eq!(start_us("2.0000016"), Some(2_000_002));
    assert_eq!(start_us("-0"), Some(0));
    // Below zero is refused even where it would round to 0 µs.
    assert_eq!(start_us("-0.0000001"), None);
    assert_eq!(start_us("10000000"), Some(10_000_000_000_000));
    assert_eq!(start_us("10000000.000001"), None);
}

/// Source rates for the constant-rate corollary.
const RATES: [(u32, u32); 8] = [
    (24, 1),
    (25, 1),
    (30, 1),
    (50, 1),
    (60, 1),
    (30_000, 1001),
    (60_000, 1001),
    (24_000, 1001),
];

proptest! {
    /// `frames_in` is the number of frame times `j/fps` inside `[0, d)`.
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
    }

    /// On a constant-rate source the rule shows the nearest frame, ties to
    /// the earlier one: with `x` the time asked for in frame periods, frame
    /// `⌈x − ½⌉`, within the source. Checked in integers.
    #[test]
    fn on_constant_rate_sources_the_nearest_frame_ties_to_the_earlier(
        source in prop::sample::select(RATES.to_vec()),
        element_rate in prop::sample::select(RATES.to_vec()),
        playback in prop::sample::select(vec![(1u32, 1u32), (2, 1), (1, 2), (3, 2), (1000, 1001)]),
        start_us in prop_oneof![0..5_000_000i64, (0..50i64).prop_map(|n| n * 100_000)],
        duration_us in 1..3_000_000i64,
        count in 1..400u64,
    ) {
        let rate = fps(source.0, source.1);
        let t = grid(rate, count);
        let mut e = element(start_us, duration_us, fps(element_rate.0, element_rate.1));
        e.playback_rate = PlaybackRate::new(playback.0, playback.1).unwrap();
        let got = shown(&e, &t);
        // x_j = (start + j × pb / fps) × rate = N / D.
        let (rn, rd) = (i128::from(source.0), i128::from(source.1));
        let (fn_, fd) = (i128::from(element_rate.0), i128::from(element_rate.1));
        let (pn, pd) = (i128::from(playback.0), i128::from(playback.1));
        let d = 1_000_000 * pd * fn_ * rd;
        let want: Vec<u64> = (0..got.len() as i128)
            .map(|j| {
                let n = (i128::from(start_us) * pd * fn_ + j * pn * fd * 1_000_000) * rn;
                // ⌈x − ½⌉ = ⌊(2N − D − 1) / 2D⌋ + 1 when 2N > D, else frame 0.
                let k = if 2 * n > d { (2 * n - d - 1).div_euclid(2 * d) + 1 } else { 0 };
                (k as u64).min(count - 1)
            })
            .collect();
        prop_assert_eq!(got, want);
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
