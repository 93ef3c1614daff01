//! What the farm needs and how its work is cut: the frames each element
//! shows (in its chunk), the farm's plan of them in units dealt to shards,
//! and which needed frames neither store holds.

use std::collections::{BTreeMap, BTreeSet};

use framex_core::{plan_elements, validate, Timeline};

use crate::error::ExtractError;
use crate::shard::{assign, units, Unit};

use super::{plan_timelines, Farm, Needed, NeededFrames};

impl Farm<'_> {
    /// Per recipe key, the frames the elements show (in their chunk).
    pub(super) fn needed(&self, timelines: &BTreeMap<String, &Timeline>) -> NeededFrames {
        let mut needed: NeededFrames = BTreeMap::new();
        for element in &self.planned.plan.elements {
            let Some(timeline) = timelines.get(&element.source) else {
                continue;
            };
            let frames = needed.entry(element.recipe.clone()).or_default();
            let ticks = self
                .ticks
                .as_ref()
                .map(|t| t.get(&element.element_id).cloned().unwrap_or_default());
            let mut add = |index: u64| {
                let pts = timeline.pts(index);
                frames.insert(pts, Needed { index, pts });
            };
            match &ticks {
                None => element.shown().for_each(&mut add),
                Some(ticks) => {
                    let wanted: BTreeSet<u64> = ticks.iter().copied().collect();
                    element
                        .shown()
                        .enumerate()
                        .filter(|(j, _)| wanted.contains(&(*j as u64)))
                        .for_each(|(_, f)| add(f));
                }
            }
        }
        needed
    }

    /// The farm's plan of every needed frame (whatever any store holds),
    /// cut into units, and each unit's shard.
    pub(super) fn units(
        &self,
        needed: &NeededFrames,
        timelines: &BTreeMap<String, &Timeline>,
    ) -> Result<(Vec<Unit>, Vec<u32>), ExtractError> {
        let prepared = &self.planned.prepared;
        let usable = prepared.usable_composition();
        let facts = prepared.facts();
        let planning = |e: framex_core::PlanError| {
            ExtractError::bad_output(format!("planning the farm's work failed: {e}"))
        };
        let elements = validate(&usable, &facts).map_err(planning)?;
        // Frames shown but outside the chunk count as held: not planned.
        let mut elsewhere: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
        if self.ticks.is_some() {
            for element in &self.planned.plan.elements {
                let Some(timeline) = timelines.get(&element.source) else {
                    continue;
                };
                let wanted = needed.get(&element.recipe);
                let set = elsewhere.entry(element.recipe.clone()).or_default();
                for f in element.shown() {
                    let pts = timeline.pts(f);
                    if !wanted.is_some_and(|w| w.contains_key(&pts)) {
                        set.insert(pts);
                    }
                }
            }
        }
        let plan =
            plan_elements(&elements, &facts, &elsewhere, self.plan_options).map_err(planning)?;
        let timelines = plan_timelines(&plan, self.planned);
        let units = units(&plan, &timelines, self.options.shard.count);
        let owners = assign(&units, self.options.shard.count);
        Ok((units, owners))
    }

    /// Takes the needed frames the local store holds (checked by the lookup).
    pub(super) fn take_local(&mut self, needed: &NeededFrames) {
        for (key, frames) in needed {
            let local = self.local.entry(key.clone()).or_default();
            for n in frames.values() {
                if let Some(blob) = self.planned.stored.blob(key, n.pts) {
                    local.insert(n.pts, *blob);
                }
            }
        }
    }

    pub(super) fn at_hand(&self, key: &str, pts: i64) -> bool {
        self.local.get(key).is_some_and(|m| m.contains_key(&pts))
    }

    /// The unit's frames held by neither store.
    pub(super) fn unit_missing(&self, unit: &Unit, needed: &NeededFrames) -> Vec<u64> {
        let Some(frames) = needed.get(&unit.recipe_key) else {
            return Vec::new();
        };
        let pts_of: BTreeMap<u64, i64> = frames.values().map(|n| (n.index, n.pts)).collect();
        unit.frames
            .iter()
            .copied()
            .filter(|f| {
                let Some(&pts) = pts_of.get(f) else {
                    return false;
                };
                !self.at_hand(&unit.recipe_key, pts)
                    && self.remote_index.blob(&unit.recipe_key, pts).is_none()
            })
            .collect()
    }

    /// Whether one of the unit's `missing` frames arrived wrong from the
    /// shared store.
    pub(super) fn has_broken(&self, unit: &Unit, missing: &[u64], needed: &NeededFrames) -> bool {
        let Some(frames) = needed.get(&unit.recipe_key) else {
            return false;
        };
        frames.values().any(|n| {
            missing.contains(&n.index) && self.broken.contains(&(unit.recipe_key.clone(), n.pts))
        })
    }

    /// Needed frames not at hand locally.
    pub(super) fn missing(&self, needed: &NeededFrames) -> Vec<(String, i64)> {
        needed
            .iter()
            .flat_map(|(key, frames)| {
                frames
                    .keys()
                    .filter(|pts| !self.at_hand(key, **pts))
                    .map(|pts| (key.clone(), *pts))
            })
            .collect()
    }
}
