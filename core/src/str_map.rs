//! A map from strings, for the ids and `src`s of a large composition: a hash
//! table where a `BTreeMap<&str, _>` would spend its time comparing strings
//! with long common prefixes (`clips/source-17`, `clips/source-170`, …).
//! The hash is fixed (rustc-hash's, no random seed), so the same input takes
//! the same steps; the map offers no iteration, so nothing can depend on hash
//! order (which is why the core's clippy.toml refuses `HashMap` elsewhere).

#[allow(clippy::disallowed_types)] // Never iterated: see the module's docs.
type Table<'a, V> = std::collections::HashMap<&'a str, V, rustc_hash::FxBuildHasher>;

/// Strings → `V`, each inserted once.
pub(crate) struct StrMap<'a, V>(Table<'a, V>);

impl<'a, V: Copy> StrMap<'a, V> {
    /// Room for `n` strings without growing.
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self(Table::with_capacity_and_hasher(
            n,
            rustc_hash::FxBuildHasher,
        ))
    }

    /// The value of `key`, if it was inserted.
    pub(crate) fn get(&self, key: &str) -> Option<V> {
        self.0.get(key).copied()
    }

    /// Inserts `key`, which must not be in the map yet.
    pub(crate) fn insert(&mut self, key: &'a str, value: V) {
        let previous = self.0.insert(key, value);
        debug_assert!(previous.is_none(), "{key} inserted twice");
    }
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
