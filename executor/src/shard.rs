//! Sharding: which machine of a farm makes which frames.
//!
//! Every machine plans the same composition the same way (the core is
//! deterministic), from the same plan of every frame the render needs,
//! whatever the store already holds: so every machine cuts the same units
//! of work and hands each the same owner, without talking to the others.
//! A unit is a piece of a decode run that starts at a keyframe; long runs
//! are cut at keyframes so the shards can be balanced by cost (frames
//! decoded), and the units are dealt out longest first, each to the shard
//! with the least work so far.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use framex_core::{Plan, Timeline};

/// One machine's place in a farm: shard `index` of `count`, counted from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1 ..= count.
    pub index: u32,
    /// Machines in the farm.
    pub count: u32,
}

impl Shard {
    /// A farm of one.
    pub const ALONE: Self = Self { index: 1, count: 1 };
}

impl Default for Shard {
    fn default() -> Self {
        Self::ALONE
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    /// `i/n`, with `1 <= i <= n`.
    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || format!("{text:?} is not a shard: write i/n with 1 <= i <= n (e.g. 2/3)");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

/// A unit of work: frames of one source in one recipe, decoded from one
/// keyframe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    /// For people: its run's id, with `.1`, `.2`, … when the run was cut.
    pub id: String,
    /// A stable name: the same frames from the same keyframe have the same
    /// key in every plan (claims are made under it).
    pub key: String,
    /// The plan source (`s1`, …).
    pub source: String,
    /// The recipe key.
    pub recipe_key: String,
    /// The decode run it comes from.
    pub run: String,
    /// The keyframe decoding starts from (frame index).
    pub keyframe: u64,
    /// The frames to make (indices, ascending).
    pub frames: Vec<u64>,
    /// Frames decoded to make them: its cost.
    pub cost: u64,
}

/// The plan's decode runs cut into units for `shards` machines: a run
/// longer than a quarter of a fair share is cut at keyframes, so four units
/// or more go to each machine.
pub fn units(plan: &Plan, timelines: &BTreeMap<String, &Timeline>, shards: u32) -> Vec<Unit> {
    let total: u64 = plan.runs().map(|(_, _, run)| run.decoded()).sum();
    let target = if shards <= 1 {
        u64::MAX
    } else {
        total.div_ceil(u64::from(shards) * 4).max(1)
    };
    let mut units = Vec::new();
    for (source, recipe, run) in plan.runs() {
        let Some(timeline) = timelines.get(&source.id) else {
            continue;
        };
        let make: Vec<u64> = run.make.iter().collect();
        let Some(&last) = make.last() else { continue };
        let mut starts = vec![run.keyframe];
        for &k in timeline.keyframes() {
            let start = *starts.last().expect("one start at least");
            if k > start && k <= last && k - start >= target {
                starts.push(k);
            }
        }
        // Each frame goes to the last piece that starts at or before the
        // keyframe it must be decoded from.
        let mut pieces: Vec<Vec<u64>> = vec![Vec::new(); starts.len()];
        for &f in &make {
            let from = timeline.keyframe_for(f);
            let s = starts.partition_point(|&k| k <= from).max(1) - 1;
            pieces[s].push(f);
        }
        let cut = pieces.iter().filter(|p| !p.is_empty()).count() > 1;
        let mut piece = 0;
        for (start, frames) in starts.into_iter().zip(pieces) {
            let Some(&end) = frames.last() else { continue };
            piece += 1;
            units.push(Unit {
                id: if cut {
                    format!("{}.{piece}", run.id)
                } else {
                    run.id.clone()
                },
                key: unit_key(&recipe.key, start, &frames),
                source: source.id.clone(),
                recipe_key: recipe.key.clone(),
                run: run.id.clone(),
                keyframe: start,
                cost: end.saturating_sub(start) + 1,
                frames,
            });
        }
    }
    units
}

fn unit_key(recipe_key: &str, keyframe: u64, frames: &[u64]) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"framex-unit;");
    hasher.update(recipe_key.as_bytes());
    hasher.update(format!(";{keyframe}").as_bytes());
    for f in frames {
        hasher.update(format!(",{f}").as_bytes());
    }
    hasher.finalize().to_hex().to_string()
}

/// The shard (1-based) of each unit: longest first (ties by key), each to
/// the shard with the least cost so far (ties to the lowest index).
pub fn assign(units: &[Unit], count: u32) -> Vec<u32> {
    let count = count.max(1);
    let mut order: Vec<usize> = (0..units.len()).collect();
    order.sort_by(|&a, &b| {
        units[b]
            .cost
            .cmp(&units[a].cost)
            .then_with(|| units[a].key.cmp(&units[b].key))
    });
    let mut load = vec![0u64; count as usize];
    let mut owner = vec![1u32; units.len()];
    for u in order {
        let (shard, _) = load
            .iter()
            .enumerate()
            .min_by_key(|&(i, &l)| (l, i))
            .expect("one shard at least");
        load[shard] += units[u].cost;
        owner[u] = shard as u32 + 1;
    }
    owner
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(key: &str, cost: u64) -> Unit {
        Unit {
            id: key.into(),
            key: key.into(),
            source: "s1".into(),
            recipe_key: "k".into(),
            run: "r1".into(),
            keyframe: 0,
            frames: vec![0],
            cost,
        }
    }

    #[test]
    fn shards_parse_counted_from_one() {
        assert_eq!("2/3".parse(), Ok(Shard { index: 2, count: 3 }));
        for bad in ["0/3", "4/3", "1", "a/b", "1/0", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert_eq!(Shard { index: 1, count: 2 }.to_string(), "1/2");
    }

    #[test]
    fn assignment_balances_cost_and_is_stable() {
        let units: Vec<Unit> = [("a", 10), ("b", 9), ("c", 5), ("d", 4), ("e", 1)]
            .into_iter()
            .map(|(k, c)| unit(k, c))
            .collect();
        let owners = assign(&units, 2);
        let load = |s: u32| -> u64 {
            units
                .iter()
                .zip(&owners)
                .filter(|(_, &o)| o == s)
                .map(|(u, _)| u.cost)
                .sum()
        };
        assert_eq!((load(1), load(2)), (15, 14));
        assert_eq!(assign(&units, 2), owners);
        assert!(assign(&units, 1).iter().all(|&o| o == 1));
    }
}
