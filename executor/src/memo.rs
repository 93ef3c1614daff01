//! A run's memo of async results by key: the first caller for a key
//! computes it, concurrent callers wait for that result, later ones get it
//! at once.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

/// Results by key, each computed once.
#[derive(Debug)]
pub struct Memo<K, V> {
    slots: Mutex<HashMap<K, Arc<OnceCell<V>>>>,
}

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Self {
            slots: Mutex::default(),
        }
    }
}

impl<K: Eq + Hash + Clone, V: Clone> Memo<K, V> {
    /// The result for `key`: `init`'s, run by the first caller only.
    pub async fn get_or_init<F: Future<Output = V>>(&self, key: &K, init: impl FnOnce() -> F) -> V {
        let slot = self
            .slots
            .lock()
            .expect("memo lock")
            .entry(key.clone())
            .or_default()
            .clone();
        slot.get_or_init(init).await.clone()
    }
}
