//! The decode runs of every recipe: they make exactly the needed frames
//! that are not cached, each from the keyframe at or before its first frame,
//! merged exactly when decoding through is cheaper than a seek, led by the
//! first element that needs them and numbered in order of their leaders.

use std::collections::BTreeMap;

use framex_core::{Element, Plan, Request, Timeline};

use super::{cached, Seen, Sources};

/// What the runs add up to, for the totals.
pub(super) struct Made {
    /// Distinct frames over all recipes.
    pub distinct: u64,
    /// Of them, cached.
    pub hits: u64,
    /// Of them, made by a run.
    pub make: u64,
    /// Frames the runs decode.
    pub decode: u64,
}

/// The last keyframe at or before `index` (frame 0 when none is listed
/// before it); every frame of an assumed timeline is one.
fn keyframe_for(timeline: &Timeline, index: u64) -> u64 {
    if timeline.is_assumed() {
        return index;
    }
    let keyframes = timeline.keyframes();
    let after = keyframes.partition_point(|&k| k <= index);
    after.checked_sub(1).map_or(0, |i| keyframes[i])
}

/// Checks every recipe's runs against the frames the elements need.
pub(super) fn check_runs(
    request: &Request,
    plan: &Plan,
    elements: &[Element],
    sources: &Sources<'_>,
    seen: &[Seen],
) -> Result<Made, String> {
    let mut needed: BTreeMap<(usize, usize), BTreeMap<u64, usize>> = BTreeMap::new();
    for (index, e) in seen.iter().enumerate() {
        let frames = needed.entry((e.source, e.recipe)).or_default();
        for &f in &e.distinct {
            frames.entry(f).or_insert(index);
        }
    }
    let cached = |s: usize, r: usize, frame: u64| cached(request, plan, sources, s, r, frame);
    let (mut distinct_total, mut hits_total, mut make_total, mut decode_total) = (0, 0, 0, 0);
    // Runs sorted by (leader, source, recipe, keyframe) must be r1, r2, ….
    let mut run_order: Vec<(usize, usize, usize, u64, String)> = Vec::new();
    for (s, sp) in plan.sources.iter().enumerate() {
        let timeline = &sources.timelines[s];
        for (r, rp) in sp.recipes.iter().enumerate() {
            let needs = needed.get(&(s, r)).cloned().unwrap_or_default();
            let hits = needs.keys().filter(|&&f| cached(s, r, f)).count() as u64;
            ensure!(
                rp.distinct_frames == needs.len() as u64,
                "{} {}: distinct frames",
                sp.id,
                rp.key
            );
            ensure!(rp.cache_hits == hits, "{} {}: cache hits", sp.id, rp.key);
            distinct_total += needs.len() as u64;
            hits_total += hits;
            let to_make: Vec<u64> = needs
                .keys()
                .copied()
                .filter(|&f| !cached(s, r, f))
                .collect();
            let mut made: Vec<u64> = Vec::new();
            let mut previous_last: Option<u64> = None;
            for run in &rp.runs {
                let make: Vec<u64> = run.make.iter().collect();
                ensure!(!make.is_empty(), "{}: a run makes frames", run.id);
                ensure!(
                    make.windows(2).all(|w| w[0] < w[1]),
                    "{}: frames ascending",
                    run.id
                );
                let (first, last) = (make[0], *make.last().unwrap());
                ensure!(run.last == last, "{}: ends at its last frame", run.id);
                ensure!(
                    run.keyframe == keyframe_for(timeline, first),
                    "{}: starts at keyframe {} ≠ the keyframe at or before frame {first}",
                    run.id,
                    run.keyframe
                );
                ensure!(
                    run.decoded() == last - run.keyframe + 1,
                    "{}: decoded",
                    run.id
                );
                // Merged exactly when decoding through is cheaper than a seek.
                let seek = u64::from(request.options.seek_cost_frames);
                for w in make.windows(2) {
                    let k = keyframe_for(timeline, w[1]);
                    ensure!(
                        k <= w[0] || k - w[0] - 1 < seek,
                        "{}: frames {} and {} should be two runs",
                        run.id,
                        w[0],
                        w[1]
                    );
                }
                if let Some(before) = previous_last {
                    ensure!(
                        run.keyframe > before && run.keyframe - before > seek,
                        "{}: should have merged with the run before (ends {before})",
                        run.id
                    );
                }
                previous_last = Some(last);
                let leader = make
                    .iter()
                    .map(|f| needs.get(f).copied())
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| format!("{}: makes a frame nobody shows", run.id))?
                    .into_iter()
                    .min()
                    .unwrap();
                ensure!(
                    run.leader == elements[leader].id,
                    "{}: led by {}, not the first element needing it ({})",
                    run.id,
                    run.leader,
                    elements[leader].id
                );
                run_order.push((leader, s, r, run.keyframe, run.id.clone()));
                decode_total += run.decoded();
                made.extend(make);
            }
            ensure!(
                made == to_make,
                "{} {}: runs make exactly the needed frames not cached",
                sp.id,
                rp.key
            );
            make_total += made.len() as u64;
        }
    }
    run_order.sort();
    for (n, (.., id)) in run_order.iter().enumerate() {
        ensure!(
            *id == format!("r{}", n + 1),
            "runs numbered in order of their leaders"
        );
    }
    Ok(Made {
        distinct: distinct_total,
        hits: hits_total,
        make: make_total,
        decode: decode_total,
    })
}
