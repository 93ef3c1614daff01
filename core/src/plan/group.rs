//! Superset grouping: cache-missing works on one source, rate, format and
//! transfer whose frame ranges overlap, touch or lie within a gap, on one
//! frame grid, become one extraction unit over their union.

use std::collections::BTreeMap;

use crate::composition::{ImageFormat, Transfer};
use crate::request::{PlanOptions, SourceIdentity};
use crate::time::Fps;

use super::Work;

/// A work placed in a group, at a frame offset on the group's grid.
pub(super) struct Placed {
    pub(super) work: usize,
    /// Whole frames from the grid's origin (the group's first start after
    /// sorting); made relative to the unit's first frame later.
    pub(super) offset: u64,
}

/// Groups cache-missing works into units. Works merge when they share source,
/// fps, format and transfer, their starts lie on one frame grid, and their
/// frame ranges overlap, touch, or lie within the configured gap. Returns the
/// groups ordered by their lowest work index (the leader's position).
pub(super) fn group_works(
    works: &[Work],
    misses: &[usize],
    options: &PlanOptions,
) -> Vec<Vec<Placed>> {
    // Grouping key drops start and duration; the grid phase keeps off-grid
    // starts apart.
    type GroupKey<'a> = (&'a SourceIdentity, Fps, ImageFormat, Option<Transfer>, i64);
    let mut candidates: BTreeMap<GroupKey, Vec<usize>> = BTreeMap::new();
    for &w in misses {
        let k = &works[w].key;
        let phase = k.fps.grid_phase(k.start_us);
        let bucket = if options.superset && !k.last_frame {
            (&k.source, k.fps, k.format, k.transfer, phase)
        } else {
            // No grouping (a last frame never groups): every work is a
            // bucket of its own.
            (&k.source, k.fps, k.format, k.transfer, -(w as i64) - 1)
        };
        candidates.entry(bucket).or_default().push(w);
    }

    let mut groups: Vec<Vec<Placed>> = Vec::new();
    for (_, mut bucket) in candidates {
        bucket.sort_by_key(|&w| (works[w].key.start_us, w));
        let origin = works[bucket[0]].key.start_us;
        let fps = works[bucket[0]].key.fps;
        let gap_frames = fps.whole_frames_in(options.superset_gap_us);
        let mut current: Vec<Placed> = Vec::new();
        let mut current_end = 0u64;
        for w in bucket {
            let offset = fps
                .whole_frames_between(origin, works[w].key.start_us)
                .expect("works in one bucket share a frame grid") as u64;
            let end = offset + works[w].frame_count;
            if !current.is_empty() && offset > current_end + gap_frames {
                groups.push(std::mem::take(&mut current));
            }
            current_end = if current.is_empty() {
                end
            } else {
                current_end.max(end)
            };
            current.push(Placed { work: w, offset });
        }
        if !current.is_empty() {
            groups.push(current);
        }
    }
    // In order of their leaders (a work's own order breaks ties: an
    // element's frames before its source's last frame).
    groups.sort_by_key(|g| g.iter().map(|m| (works[m.work].leader(), m.work)).min());
    groups
}
