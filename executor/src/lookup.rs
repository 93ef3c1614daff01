//! The store lookup stage: which of the plan's frames the store holds, each
//! one's blob checked against its digest before it is trusted.

use std::collections::{BTreeMap, BTreeSet};

use framex_core::{
    recipe_key, validate, Composition, Plan, PlanError, Recipe, Role, SourceFacts, Timeline,
};

use crate::store::{BlobRef, Store};

/// What the store holds for a run: per recipe key, frame time → blob.
#[derive(Clone, Debug, Default)]
pub struct Stored {
    /// Per recipe key.
    pub frames: BTreeMap<String, BTreeMap<i64, BlobRef>>,
    /// Recipe keys whose index has damaged lines (torn or garbled): a run
    /// drops them ([`Store::drop_damaged_lines`]) once it holds the store.
    pub damaged_indexes: Vec<String>,
}

impl Stored {
    /// Reads the index of every recipe the composition's elements use.
    pub fn read(
        store: &Store,
        composition: &Composition,
        facts: &BTreeMap<String, SourceFacts>,
    ) -> Result<Self, PlanError> {
        let elements = validate(composition, facts)?;
        let mut keys = BTreeSet::new();
        for e in &elements {
            let Some(f) = facts.get(&e.src) else { continue };
            let time_base = f.timeline().time_base();
            keys.insert(recipe_key(
                &f.identity,
                time_base,
                Recipe::new(e.format, f.alpha, e.transfer),
            ));
        }
        let mut stored = Self::default();
        for key in keys {
            // An unreadable index is no frames stored: they are made again.
            let index = store.read_index(&key).unwrap_or_default();
            if index.damaged_lines > 0 {
                tracing::warn!(%key, lines = index.damaged_lines, "damaged index lines are ignored");
                stored.damaged_indexes.push(key.clone());
            }
            stored.frames.insert(key, index.records);
        }
        Ok(stored)
    }

    /// The planner's view: per recipe key, the stored frame times.
    pub fn cached_frames(&self) -> BTreeMap<String, BTreeSet<i64>> {
        self.frames
            .iter()
            .map(|(k, index)| (k.clone(), index.keys().copied().collect()))
            .collect()
    }

    /// The blob of a frame, if stored.
    pub fn blob(&self, recipe_key: &str, pts: i64) -> Option<&BlobRef> {
        self.frames.get(recipe_key)?.get(&pts)
    }

    /// Checks every stored frame `plan` uses against its digest, on every
    /// core; removes the ones that fail (and their blobs). Returns how many
    /// failed: the plan must then be made again.
    pub fn verify_used(
        &mut self,
        store: &Store,
        plan: &Plan,
        timelines: &BTreeMap<String, &Timeline>,
    ) -> u64 {
        let mut used: Vec<(String, i64, BlobRef)> = Vec::new();
        let mut seen = BTreeSet::new();
        for element in &plan.elements {
            if matches!(element.role, Role::Duplicate { .. }) {
                continue;
            }
            let Some(timeline) = timelines.get(&element.source) else {
                continue;
            };
            for frame in element.shown() {
                let pts = timeline.pts(frame);
                if !seen.insert((element.recipe.as_str(), pts)) {
                    continue;
                }
                if let Some(blob) = self.blob(&element.recipe, pts) {
                    used.push((element.recipe.clone(), pts, *blob));
                }
            }
        }
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(used.len())
            .max(1);
        let chunk = used.len().div_ceil(threads).max(1);
        let bad: Vec<(String, i64, BlobRef)> = std::thread::scope(|scope| {
            let workers: Vec<_> = used
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .filter(|(_, _, blob)| !store.check_blob(blob))
                            .cloned()
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap_or_default())
                .collect()
        });
        for (key, pts, blob) in &bad {
            tracing::warn!(%key, pts, digest = %blob.hex(), "a stored frame is damaged; making it again");
            store.discard_blob(blob);
            if let Some(index) = self.frames.get_mut(key) {
                index.remove(pts);
            }
        }
        bad.len() as u64
    }
}
