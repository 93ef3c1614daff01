//! Each element's cache facts, the runs it uses and its role (leader,
//! sharing a run, cache hit, or duplicate of the first element with its
//! frames).

use std::collections::BTreeSet;

use framex_core::{Element, Plan, Request, Role};

use super::sources::RunsById;
use super::{cached, Seen, Sources};

/// Checks every element plan's cache hits, runs and role; gives the number
/// of duplicates.
pub(super) fn check_roles(
    request: &Request,
    plan: &Plan,
    elements: &[Element],
    sources: &Sources<'_>,
    seen: &[Seen],
    runs_by_id: &RunsById<'_>,
) -> Result<u64, String> {
    let cached = |s: usize, r: usize, frame: u64| cached(request, plan, sources, s, r, frame);
    let run_of = |s: usize, r: usize, frame: u64| {
        plan.sources[s].recipes[r]
            .runs
            .iter()
            .find(|run| {
                run.keyframe <= frame && frame <= run.last && run.make.iter().any(|f| f == frame)
            })
            .map(|run| run.id.clone())
    };
    let mut duplicates = 0;
    for (index, (e, p)) in seen.iter().zip(&plan.elements).enumerate() {
        let id = &elements[index].id;
        let hits = e
            .distinct
            .iter()
            .filter(|&&f| cached(e.source, e.recipe, f))
            .count() as u64;
        ensure!(p.cache_hits == hits, "{id}: cache hits");
        let mut runs: Vec<String> = e
            .distinct
            .iter()
            .filter(|&&f| !cached(e.source, e.recipe, f))
            .map(|&f| {
                run_of(e.source, e.recipe, f).ok_or_else(|| format!("{id}: frame {f} is in no run"))
            })
            .collect::<Result<BTreeSet<_>, _>>()?
            .into_iter()
            .collect();
        runs.sort_by_key(|r| r[1..].parse::<u64>().unwrap());
        ensure!(p.runs == runs, "{id}: runs {:?} ≠ {:?}", p.runs, runs);
        let earlier = seen[..index]
            .iter()
            .position(|o| o.source == e.source && o.recipe == e.recipe && o.frames == e.frames);
        match (&p.role, earlier) {
            (Role::Duplicate { of }, Some(first)) => {
                ensure!(
                    *of == elements[first].id,
                    "{id}: duplicate of the first with its frames"
                );
                duplicates += 1;
            }
            (role, Some(first)) => {
                return Err(format!(
                    "{id}: shows the frames of {} but is {role:?}",
                    elements[first].id
                ))
            }
            (Role::Duplicate { of }, None) => {
                return Err(format!("{id}: duplicate of {of}, whose frames differ"))
            }
            (Role::CacheHit, None) => ensure!(runs.is_empty(), "{id}: a cache hit uses no run"),
            (Role::Leader, None) => ensure!(
                runs.iter().any(|r| runs_by_id[r.as_str()].2.leader == *id),
                "{id}: a leader leads a run it uses"
            ),
            (Role::Shares { run, leader }, None) => {
                ensure!(runs.contains(run), "{id}: shares a run it uses");
                ensure!(
                    runs_by_id[run.as_str()].2.leader == *leader && leader != id,
                    "{id}: shares {run} led by {leader}"
                );
                ensure!(
                    !runs.iter().any(|r| runs_by_id[r.as_str()].2.leader == *id),
                    "{id}: leads a run, so it is a leader"
                );
            }
        }
    }
    Ok(duplicates)
}
