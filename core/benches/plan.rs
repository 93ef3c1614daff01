//! Planning time for large compositions: `cargo bench -p framex-core`.
//!
//! The compositions repeat themselves the way real ones do: the same clip
//! placed again and again, overlapping and touching trims of one recording,
//! trims off the grid, several rates and formats of one source, and some
//! works already cached. They are made by a fixed-seed generator, so every
//! run plans the same requests.

use std::collections::BTreeMap;

use framex_core::{
    plan, Composition, ElementInput, FpsInput, PlanOptions, Request, SourceFacts, SourceIdentity,
};

fn main() {
    // What the 10k plan holds, so the times can be read against it.
    let t = plan(&request(10_000, 200)).unwrap().totals;
    eprintln!(
        "10k elements: {} unique works, {} dedupe hits, {} cache hits, {} units \
         ({} superset groups), {} frames requested, {} to extract",
        t.unique_works,
        t.dedupe_hits,
        t.cache_hits,
        t.units,
        t.superset_groups,
        t.frames_requested,
        t.frames_to_extract
    );
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

/// `elements` elements over `sources` sources of 60 s each, with ~10% of the
/// unique works cached.
fn request(elements: usize, sources: usize) -> Request {
    let mut rng = Numbers(0x9e37_79b9_7f4a_7c15);
    let facts: BTreeMap<String, SourceFacts> = (0..sources)
        .map(|s| {
            let facts = SourceFacts {
                identity: SourceIdentity::File {
                    path: format!("/media/project/clip-{s:04}.mp4"),
                    size: 10_000_000 + s as u64,
                    mtime_ns: 1_732_500_000_000_000_000 + s as i64,
                },
                duration_us: Some(60_000_000),
                alpha: s % 10 == 0,
                vfr: s % 7 == 0,
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
                // Trims on the 30 fps grid (0.1 s steps): they overlap and touch.
                35..=74 => (
                    FpsInput::Number(30.0),
                    rng.below(500) as f64 / 10.0,
                    (1 + rng.below(80)) as f64 / 10.0,
                ),
                // 29.97 and 24 fps trims on their grids.
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
                // Anywhere, at 60 fps: mostly off every grid.
                _ => (
                    FpsInput::Number(60.0),
                    rng.below(50_000_000) as f64 / 1e6,
                    (1 + rng.below(5_000_000)) as f64 / 1e6,
                ),
            };
            ElementInput {
                id: String::new(),
                src,
                media_start: start,
                duration,
                media_duration: None,
                fps,
                playback_rate: None,
                looping: false,
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
        cached_keys: Default::default(),
        options: PlanOptions::default(),
    };
    let cold = plan(&request).expect("the generated request is valid");
    request.cached_keys = cold
        .assignments
        .iter()
        .map(|a| &a.cache_key)
        .filter(|_| rng.below(10) == 0)
        .cloned()
        .collect();
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
