//! Planning time for large compositions: `cargo bench -p framex-core`.
//!
//! The sources look probed: 60 s at 30 fps (time base 1/15360) or at 60 fps
//! (1/15360, every other source), a keyframe every 2 s. The compositions
//! repeat themselves the way real ones do: the same clip placed again and
//! again, overlapping and touching trims of one recording, trims at 29.97,
//! 24 and 60 fps anywhere, playback rates, loops, several formats of one
//! source, and about a tenth of the frames already in the store. They are
//! made by a fixed-seed generator, so every run plans the same requests.

use std::collections::{BTreeMap, BTreeSet};

use framex_core::{
    plan, Composition, ElementInput, FpsInput, PlanOptions, Request, SourceFacts, SourceIdentity,
    TimeBase, Timeline,
};

fn main() {
    // What the plans hold, so the times can be read against them.
    for (elements, sources) in [(10_000, 200), (100_000, 2_000)] {
        let t = plan(&request(elements, sources)).unwrap().totals;
        eprintln!(
            "{elements} elements over {sources} sources: {} frames requested, {} distinct, \
             {} dedupe hits, {} cache hits, {} to make in {} decode runs ({} frames decoded), \
             {} duplicates",
            t.frames_requested,
            t.distinct_frames,
            t.dedupe_hits,
            t.cache_hits,
            t.frames_to_make,
            t.decode_runs,
            t.frames_to_decode,
            t.duplicates,
        );
    }
    divan::main();
}

/// A small fixed-seed generator (xorshift64*): the same composition every run,
/// with no dependency.
struct Numbers(u64);

impl Numbers {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// 60 s at `fps` (30 or 60) in 1/15360, a keyframe every 2 s.
fn timeline(fps: i64) -> Timeline {
    let step = 15_360 / fps;
    let frames = 60 * fps;
    let pts = (0..frames).map(|i| i * step).collect();
    let keyframes = (0..frames as u64).step_by(2 * fps as usize).collect();
    Timeline::new(
        TimeBase::new(1, 15_360).unwrap(),
        pts,
        frames * step,
        keyframes,
    )
    .unwrap()
}

/// `elements` elements over `sources` sources of 60 s each, with about a
/// tenth of the frames they show cached.
fn request(elements: usize, sources: usize) -> Request {
    let mut rng = Numbers(0x9e37_79b9_7f4a_7c15);
    let (thirty, sixty) = (timeline(30), timeline(60));
    let facts: BTreeMap<String, SourceFacts> = (0..sources)
        .map(|s| {
            let facts = SourceFacts {
                identity: SourceIdentity::File {
                    path: format!("/media/project/clip-{s:04}.mp4"),
                    size: 10_000_000 + s as u64,
                    mtime_ns: 1_732_500_000_000_000_000 + s as i64,
                },
                alpha: s % 10 == 0,
                timeline: Some(if s % 2 == 0 { &thirty } else { &sixty }.clone()),
                ..SourceFacts::default()
            };
            (format!("clips/clip-{s:04}.mp4"), facts)
        })
        .collect();
    let srcs: Vec<&String> = facts.keys().collect();
    let mut list: Vec<ElementInput> = Vec::with_capacity(elements);
    for i in 0..elements {
        let roll = rng.below(100);
        let element = if roll < 35 && !list.is_empty() {
            // The same clip placed again.
            let earlier = &list[rng.below(list.len() as u64) as usize];
            ElementInput {
                id: String::new(),
                ..earlier.clone()
            }
        } else {
            let src = srcs[rng.below(sources as u64) as usize].clone();
            let (fps, start, duration) = match roll {
                // Trims at 30 fps (0.1 s steps): they overlap and touch.
                35..=74 => (
                    FpsInput::Number(30.0),
                    rng.below(500) as f64 / 10.0,
                    (1 + rng.below(80)) as f64 / 10.0,
                ),
                // 29.97 and 24 fps trims.
                75..=84 => (
                    FpsInput::Text("30000/1001".into()),
                    rng.below(50) as f64 * 1.001,
                    (1 + rng.below(8)) as f64,
                ),
                85..=92 => (
                    FpsInput::Number(24.0),
                    rng.below(400) as f64 / 8.0,
                    (1 + rng.below(40)) as f64 / 8.0,
                ),
                // Anywhere, at 60 fps.
                _ => (
                    FpsInput::Number(60.0),
                    rng.below(50_000_000) as f64 / 1e6,
                    (1 + rng.below(5_000_000)) as f64 / 1e6,
                ),
            };
            let special = rng.below(20);
            ElementInput {
                id: String::new(),
                src,
                media_start: start,
                duration,
                start: None,
                media_duration: (special == 1).then_some(1.01),
                fps,
                playback_rate: (special == 0).then_some(FpsInput::Number(2.0)),
                looping: special == 1,
                format: if rng.below(10) == 0 { "jpeg" } else { "png" }.into(),
                sdr_to_hdr_transfer: (rng.below(20) == 0).then(|| "pq".into()),
                identity: None,
            }
        };
        list.push(ElementInput {
            id: format!("el-{i}"),
            ..element
        });
    }
    let mut request = Request {
        composition: Composition { elements: list },
        sources: facts,
        cached_frames: BTreeMap::new(),
        options: PlanOptions::default(),
    };
    // A tenth of the distinct frames are in the store.
    let cold = plan(&request).expect("the generated request is valid");
    for (source, recipe, run) in cold.runs() {
        let timeline = &request.sources[&source.src].timeline.as_ref().unwrap();
        let stored: BTreeSet<i64> = run
            .make
            .iter()
            .filter(|_| rng.below(10) == 0)
            .map(|f| timeline.pts(f))
            .collect();
        request
            .cached_frames
            .entry(recipe.key.clone())
            .or_default()
            .extend(stored);
    }
    request
}

#[divan::bench(sample_count = 30)]
fn plan_10k_elements_200_sources(bencher: divan::Bencher) {
    let request = request(10_000, 200);
    bencher.bench_local(|| plan(divan::black_box(&request)));
}

#[divan::bench(sample_count = 10)]
fn plan_100k_elements_2000_sources(bencher: divan::Bencher) {
    let request = request(100_000, 2_000);
    bencher.bench_local(|| plan(divan::black_box(&request)));
}

/// What the CLI and the wasm `planJson` do: parse the request text, then plan.
#[divan::bench(sample_count = 30)]
fn parse_and_plan_10k_elements_json(bencher: divan::Bencher) {
    let text = serde_json::to_string(&request(10_000, 200)).unwrap();
    bencher.bench_local(|| {
        let request = Request::from_json(divan::black_box(&text)).unwrap();
        plan(&request)
    });
}
