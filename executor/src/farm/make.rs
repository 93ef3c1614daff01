//! Making units here: their missing frames decoded and encoded by the
//! extract stage (claims renewed meanwhile), then uploaded.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::events::Event;
use crate::extract::extract;
use crate::plan::run_work;
use crate::shard::Unit;

use super::{Farm, NeededFrames};

impl Farm<'_> {
    /// Makes the missing frames of `units` here, uploads them, and releases
    /// the claims, renewing them until then. Returns the units made (those
    /// another machine published meanwhile are not).
    pub(super) async fn make_units(&mut self, units: &[&Unit], needed: &NeededFrames) -> u64 {
        // Another machine may have published them since the index was read
        // (a coverer that won the claim first, then released it).
        let keys: BTreeSet<String> = units.iter().map(|u| u.recipe_key.clone()).collect();
        self.refresh_index(&keys.into_iter().collect::<Vec<_>>())
            .await;
        let prepared = &self.planned.prepared;
        let mut works = Vec::new();
        let mut labels = Vec::new();
        for unit in units {
            let make = self.unit_missing(unit, needed);
            if make.is_empty() {
                if let Some(remote) = self.remote {
                    remote.release_claim(&unit.key).await;
                }
                continue;
            }
            let source = self.planned.plan.source(&unit.source);
            let ready = source.and_then(|s| prepared.sources.get(&s.src)?.as_ref().ok());
            let recipe = source.and_then(|s| s.recipes.iter().find(|r| r.key == unit.recipe_key));
            let (Some(ready), Some(recipe)) = (ready, recipe) else {
                continue;
            };
            labels.push(unit.id.clone());
            works.push(run_work(
                unit.key.clone(),
                ready,
                recipe,
                unit.keyframe,
                make,
            ));
        }
        if works.is_empty() {
            return 0;
        }
        let renewing = self.renew_claims(&works);
        let extracted = {
            let (store, works, options, progress) = (
                self.store.clone(),
                works.clone(),
                self.extract_options.clone(),
                self.progress.clone(),
            );
            tokio::task::spawn_blocking(move || {
                let done: Vec<AtomicU64> = works.iter().map(|_| AtomicU64::new(0)).collect();
                let on_frame = |i: usize| {
                    progress.bar.inc(1);
                    if let Some(sink) = &progress.events {
                        sink.send(&Event::Run {
                            run: labels[i].clone(),
                            frames_done: done[i].fetch_add(1, Ordering::Relaxed) + 1,
                            frames_total: works[i].make.len() as u64,
                        });
                    }
                };
                extract(&store, &works, &options, &on_frame)
            })
            .await
            .unwrap_or_default()
        };
        self.metrics.frames_made += extracted.frames_encoded;
        self.extracted.frames_encoded += extracted.frames_encoded;
        self.extracted.bytes_encoded += extracted.bytes_encoded;
        self.extracted.ffmpeg_runs += extracted.ffmpeg_runs;
        self.extracted.retries += extracted.retries;
        for (key, made) in &extracted.made {
            self.local
                .entry(key.clone())
                .or_default()
                .extend(made.iter().map(|(p, b)| (*p, *b)));
        }
        for work in &works {
            if let Some(Err(err)) = extracted.runs.get(&work.id) {
                for &f in &work.make {
                    let pts = work.probe.timeline.pts(f);
                    if !self.at_hand(&work.recipe_key, pts) {
                        self.failures
                            .insert((work.recipe_key.clone(), pts), err.clone());
                    }
                }
            }
        }
        self.upload(&works).await;
        // Held until the frames are published: a long upload is still work.
        renewing.cancel();
        works.len() as u64
    }
}
