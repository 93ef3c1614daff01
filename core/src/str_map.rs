//! A map from strings, for the ids and `src`s of a large composition: a
//! hash table (open addressing) where a `BTreeMap<&str, _>` would spend
//! its time comparing strings with long common prefixes (`clips/source-17`,
//! `clips/source-170`, …). The hash is fixed (no random seed), so the same
//! input takes the same steps; nothing is iterated in hash order.

const FREE: u32 = u32::MAX;

/// Strings → `V`, each inserted once.
pub(crate) struct StrMap<'a, V> {
    /// Entry number per slot, or [`FREE`]; a power of two long.
    slots: Vec<u32>,
    entries: Vec<(u64, &'a str, V)>,
}

impl<'a, V: Copy> StrMap<'a, V> {
    /// Room for `n` strings without growing.
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self {
            slots: vec![FREE; (2 * n).next_power_of_two().max(8)],
            entries: Vec::with_capacity(n),
        }
    }

    /// The value of `key`, if it was inserted.
    pub(crate) fn get(&self, key: &str) -> Option<V> {
        let hash = hash(key);
        let mask = self.slots.len() - 1;
        let mut slot = hash as usize & mask;
        loop {
            let entry = *self.slots.get(slot)?;
            if entry == FREE {
                return None;
            }
            let (h, k, value) = self.entries[entry as usize];
            if h == hash && k == key {
                return Some(value);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Inserts `key`, which must not be in the map yet.
    pub(crate) fn insert(&mut self, key: &'a str, value: V) {
        debug_assert!(self.get(key).is_none());
        if 2 * (self.entries.len() + 1) > self.slots.len() {
            self.slots = vec![FREE; 2 * self.slots.len()];
            for (number, &(hash, _, _)) in self.entries.iter().enumerate() {
                Self::place(&mut self.slots, hash, number);
            }
        }
        let hash = hash(key);
        Self::place(&mut self.slots, hash, self.entries.len());
        self.entries.push((hash, key, value));
    }

    fn place(slots: &mut [u32], hash: u64, number: usize) {
        let mask = slots.len() - 1;
        let mut slot = hash as usize & mask;
        while slots[slot] != FREE {
            slot = (slot + 1) & mask;
        }
        slots[slot] = number as u32;
    }
}

/// A fixed 64-bit hash of `text`, eight bytes at a time.
fn hash(text: &str) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = text.len() as u64;
    let mut chunks = text.as_bytes().chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        h = (h ^ word).wrapping_mul(K).rotate_left(29);
    }
    let mut tail = [0u8; 8];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    h = (h ^ u64::from_le_bytes(tail)).wrapping_mul(K);
    // Mix the high bits into the low ones, which pick the slot.
    h ^= h >> 32;
    h = h.wrapping_mul(K);
    h ^ (h >> 29)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_map_to_what_was_inserted() {
        let keys: Vec<String> = (0..1000).map(|i| format!("clips/source-{i}.mp4")).collect();
        let mut map = StrMap::with_capacity(3);
        for (i, key) in keys.iter().enumerate() {
            assert_eq!(map.get(key), None);
            map.insert(key, i);
        }
        for (i, key) in keys.iter().enumerate() {
            assert_eq!(map.get(key), Some(i));
        }
        for missing in ["", "clips/source-1000.mp4", "clips/source-1.mp", "x"] {
            assert_eq!(map.get(missing), None);
        }
        let mut map = StrMap::with_capacity(0);
        map.insert("", 7);
        assert_eq!(map.get(""), Some(7));
        assert_eq!(map.get("\0"), None);
    }
}
