//! What the rule says for a scenario, planned in process, and the reference
//! frames of every source it uses.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use framex_core::{ImageFormat, Plan};
use framex_executor::run::{plan_composition, PlanSettings};
use framex_executor::store::Store;
use tokio_util::sync::CancellationToken;

use super::baseline::Unit;
use super::reference::{reference, Reference};
use super::scenario::{Context, Scenario};

/// What the rule says, planned in process (framex_core, through the
/// executor's probe): per element id, its source and the frame each tick
/// shows; per source, its frame size and frame count.
pub(super) struct Rule {
    pub(super) shown: BTreeMap<String, (String, Vec<u64>)>,
    pub(super) sources: BTreeMap<String, ((u32, u32), u64)>,
}

pub(super) fn plan_rule(ctx: &Context, path: &Path) -> Result<Rule, String> {
    let composition =
        framex_executor::prepare::read_composition(path).map_err(|e| e.to_string())?;
    let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
    let store = Store::open(scratch.path()).map_err(|e| e.to_string())?;
    let settings = PlanSettings {
        tools: ctx.tools.clone(),
        jobs: 2,
        timeout: Duration::from_secs(300),
        cancel: CancellationToken::new(),
        plan: framex_core::PlanOptions::default(),
        sources: framex_executor::prepare::SourceOptions::default(),
    };
    let planned = tokio::runtime::Handle::current()
        .block_on(plan_composition(
            path,
            composition,
            &store,
            false,
            &settings,
        ))
        .map_err(|e| e.to_string())?;
    if let Some((id, err)) = planned.prepared.element_errors().into_iter().next() {
        return Err(format!("{id}: {err}"));
    }
    let plan: &Plan = &planned.plan;
    let mut rule = Rule {
        shown: BTreeMap::new(),
        sources: BTreeMap::new(),
    };
    for element in &plan.elements {
        let src = plan
            .source(&element.source)
            .map(|s| s.src.clone())
            .unwrap_or_default();
        rule.shown
            .insert(element.element_id.clone(), (src, element.shown().collect()));
    }
    for (src, ready) in &planned.prepared.sources {
        let ready = ready.as_ref().map_err(|e| e.to_string())?;
        let probe = &ready.probe;
        if probe.sar.is_some_and(|(n, d)| n != d) {
            return Err(format!(
                "{src}: non-square pixels; the reference decode does not scale them"
            ));
        }
        let frames = probe.timeline.len().unwrap_or(0);
        rule.sources
            .insert(src.clone(), ((probe.width, probe.height), frames));
    }
    Ok(rule)
}

/// The reference frames of every source the scenario uses.
pub(super) fn references(
    ctx: &Context,
    rule: &Rule,
    scenario: &Scenario,
    units: &[Unit],
) -> Result<BTreeMap<String, Reference>, String> {
    let mut needed: BTreeMap<&str, BTreeSet<u64>> = BTreeMap::new();
    let mut jpeg: BTreeMap<&str, BTreeSet<u64>> = BTreeMap::new();
    let formats = scenario
        .elements
        .iter()
        .map(|e| (&e.id, e.format))
        .chain(units.iter().map(|u| (&u.id, u.spec.format)));
    for (id, format) in formats {
        let (src, shown) = &rule.shown[id];
        needed.entry(src).or_default().extend(shown);
        if format == ImageFormat::Jpeg {
            jpeg.entry(src).or_default().extend(shown);
        }
    }
    let mut out = BTreeMap::new();
    for (src, frames) in needed {
        let (size, count) = rule.sources[src];
        let empty = BTreeSet::new();
        let r = reference(
            &ctx.ffmpeg,
            Path::new(src),
            size,
            count,
            &frames,
            jpeg.get(src).unwrap_or(&empty),
        )?;
        out.insert(src.to_string(), r);
    }
    Ok(out)
}
