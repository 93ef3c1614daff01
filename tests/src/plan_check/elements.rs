//! The per-element checks: each element plan against the validated
//! element (source, recipe key, ticks) and its frames against the reference
//! rule; what they learn about sources and recipes is kept for the rest.

use std::collections::BTreeSet;

use framex_core::{recipe_key, source_facts, Element, Plan, Recipe, Request};

use super::{Seen, Sources};

/// Checks every element plan; `compare` asks for the reference rule's
/// frames too.
pub(super) fn check_elements<'a>(
    request: &Request,
    plan: &Plan,
    elements: &'a [Element],
    compare: bool,
) -> Result<(Sources<'a>, Vec<Seen>), String> {
    let mut sources = Sources::default();
    let mut seen: Vec<Seen> = Vec::with_capacity(elements.len());
    for (element, p) in elements.iter().zip(&plan.elements) {
        ensure!(p.element_id == element.id, "element plans in input order");
        let facts = source_facts(&element.src, &request.sources);
        let source = match sources.order.iter().position(|i| *i == facts.identity) {
            Some(s) => s,
            None => {
                sources.order.push(facts.identity.clone());
                sources.first_src.push(&element.src);
                sources.timelines.push(facts.timeline().into_owned());
                sources.facts.push(facts.clone());
                sources.recipes.push(Vec::new());
                sources.order.len() - 1
            }
        };
        // The facts of a source are those of the first `src` naming it.
        let alpha = sources.facts[source].alpha;
        let recipe = Recipe::new(element.format, alpha, element.transfer);
        let recipe_index = match sources.recipes[source].iter().position(|r| *r == recipe) {
            Some(r) => r,
            None => {
                sources.recipes[source].push(recipe);
                sources.recipes[source].len() - 1
            }
        };
        let key = recipe_key(
            &sources.facts[source].identity,
            sources.timelines[source].time_base(),
            recipe,
        );
        ensure!(p.recipe == key, "{}: recipe key", element.id);
        ensure!(
            p.source == format!("s{}", source + 1),
            "{}: source id",
            element.id
        );
        ensure!(
            p.start_us == element.start_us && p.fps == element.fps,
            "{}: start and fps",
            element.id
        );
        let ticks = crate::reference::ticks(element);
        ensure!(
            p.ticks == ticks,
            "{}: ticks {} ≠ ceil(duration × fps) = {ticks}",
            element.id,
            p.ticks
        );
        let frames: Vec<u64> = p.shown().collect();
        ensure!(
            frames.len() as u64 == ticks,
            "{}: its runs expand to {} frames for {ticks} ticks",
            element.id,
            frames.len()
        );
        if let Some(len) = sources.timelines[source].len() {
            ensure!(
                frames.iter().all(|&f| f < len),
                "{}: a frame past the source's last",
                element.id
            );
        }
        if compare {
            let first_facts = &sources.facts[source];
            if let Some(want) = crate::reference::frames(element, Some(first_facts)) {
                ensure!(
                    frames == want,
                    "{}: frames differ from the rule\n  plan: {:?}\n  rule: {:?}",
                    element.id,
                    frames,
                    want
                );
            }
        }
        let distinct: BTreeSet<u64> = frames.iter().copied().collect();
        ensure!(
            p.distinct_frames == distinct.len() as u64,
            "{}: distinct frames",
            element.id
        );
        seen.push(Seen {
            frames,
            distinct,
            source,
            recipe: recipe_index,
        });
    }
    Ok((sources, seen))
}
