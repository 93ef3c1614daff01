//! The source plans: one per identity, in order of first use, with the
//! facts and recipes the elements gave them; decode run ids unique and
//! numbered r1, r2, ….

use std::collections::BTreeMap;

use framex_core::{recipe_key, DecodeRun, Plan};

use super::Sources;

/// The runs of a plan by id: source index, recipe index, run.
pub(super) type RunsById<'p> = BTreeMap<&'p str, (usize, usize, &'p DecodeRun)>;

/// Checks the plan's sources and recipes against `sources`; gives the runs by id.
pub(super) fn check_sources<'p>(
    plan: &'p Plan,
    sources: &Sources<'_>,
) -> Result<RunsById<'p>, String> {
    ensure!(
        plan.sources.len() == sources.order.len(),
        "one source plan per identity"
    );
    let mut runs_by_id = RunsById::new();
    for (s, sp) in plan.sources.iter().enumerate() {
        ensure!(sp.id == format!("s{}", s + 1), "source ids in order");
        ensure!(sp.identity == sources.order[s], "{}: identity", sp.id);
        ensure!(
            sp.src == sources.first_src[s],
            "{}: the src of its first element",
            sp.id
        );
        ensure!(
            sp.time_base == sources.timelines[s].time_base(),
            "{}: time base",
            sp.id
        );
        ensure!(
            sp.frames == sources.timelines[s].len(),
            "{}: frame count",
            sp.id
        );
        ensure!(
            sp.assumed_rate.is_some() == sources.facts[s].timeline.is_none(),
            "{}: assumed exactly when no timeline was given",
            sp.id
        );
        ensure!(
            sp.recipes.len() == sources.recipes[s].len(),
            "{}: recipes",
            sp.id
        );
        for (r, rp) in sp.recipes.iter().enumerate() {
            let recipe = sources.recipes[s][r];
            ensure!(
                rp.format == recipe.format
                    && rp.alpha == recipe.alpha
                    && rp.transfer == recipe.transfer,
                "{}: recipe {r}",
                sp.id
            );
            ensure!(
                rp.key == recipe_key(&sp.identity, sp.time_base, recipe),
                "{}: recipe key",
                sp.id
            );
            for run in &rp.runs {
                ensure!(
                    runs_by_id.insert(&run.id, (s, r, run)).is_none(),
                    "run ids are unique"
                );
            }
        }
    }
    let run_count = runs_by_id.len();
    for n in 1..=run_count {
        ensure!(
            runs_by_id.contains_key(format!("r{n}").as_str()),
            "runs are r1..r{run_count}"
        );
    }
    Ok(runs_by_id)
}
