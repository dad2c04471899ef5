//! TEMPORARY stand-in (not committed): the real lock-free cache is being written.
use hashbrown::HashMap;
use parking_lot::RwLock;
use std::sync::Arc;
/// stand-in
#[derive(Debug)]
pub struct FlowCache<V> {
    m: RwLock<HashMap<u128, Arc<V>>>,
}
impl<V: Send + Sync> Default for FlowCache<V> {
    fn default() -> Self {
        Self::new()
    }
}
impl<V: Send + Sync> FlowCache<V> {
    /// x
    pub fn new() -> Self {
        Self {
            m: RwLock::new(HashMap::new()),
        }
    }
    /// x
    pub fn with_capacity(_n: usize) -> Self {
        Self::new()
    }
    /// x
    pub fn get<R>(&self, key: u128, f: impl FnOnce(&V) -> R) -> Option<R> {
        let v = self.m.read().get(&key).cloned();
        v.map(|v| f(&v))
    }
    /// x
    pub fn contains(&self, key: u128) -> bool {
        self.m.read().contains_key(&key)
    }
    /// x
    pub fn insert(&self, key: u128, value: V) -> bool {
        self.m.write().insert(key, Arc::new(value)).is_none()
    }
    /// x
    pub fn remove(&self, key: u128) -> bool {
        self.m.write().remove(&key).is_some()
    }
    /// x
    pub fn len(&self) -> usize {
        self.m.read().len()
    }
    /// x
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// x
    pub fn for_each(&self, mut f: impl FnMut(u128, &V)) {
        let v: Vec<_> = self.m.read().iter().map(|(k, v)| (*k, v.clone())).collect();
        for (k, v) in v {
            f(k, &v)
        }
    }
    /// x
    pub fn clear(&self) {
        self.m.write().clear()
    }
    /// x
    pub fn memory_bytes(&self) -> usize {
        0
    }
}
