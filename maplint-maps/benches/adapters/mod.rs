//! The maps under measurement behind one trait, shared by the benchmark (`benches/mixes.rs`)
//! and the callgrind probe (`examples/opcount.rs`), so both measure exactly the same calls.
//! Every method returns whether the key was found or inserted, so the optimizer cannot drop
//! the work.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::hint::black_box;
use std::sync::{Mutex, RwLock};

use arc_swap::ArcSwap;
use maplint_maps::{LockedMap, ShardedMap, SnapshotMap};

/// The fast hasher (foldhash `fast`, as conc-map-bench's fastest); the benchmark also runs
/// every map with the default hasher a user gets (std's `RandomState`, `SipHash` 1-3, for all five).
pub type Hasher = foldhash::fast::RandomState;

/// A hasher a measured map can be built with.
pub trait Build: BuildHasher + Default + Clone + Send + Sync + 'static {}
impl<S: BuildHasher + Default + Clone + Send + Sync + 'static> Build for S {}

/// The operations a measured map offers.
pub trait Map: Sync {
    fn new() -> Self;
    fn get(&self, key: u64) -> bool;
    fn insert(&self, key: u64) -> bool;
    fn remove(&self, key: u64) -> bool;
    fn update(&self, key: u64) -> bool;
    /// Read in place (`with`) where the map has it; the baselines read as in `get`.
    // Only the callgrind probe measures `with`; the benchmark reads through `get`.
    #[allow(dead_code)]
    fn with(&self, key: u64) -> bool {
        self.get(key)
    }
}

impl<S: Build> Map for LockedMap<u64, u64, S> {
    fn new() -> Self {
        let map = LockedMap::with_hasher(S::default());
        // With the `metrics` feature the map is named, so it records (the cost measured).
        #[cfg(feature = "metrics")]
        let map = map.named("bench");
        map
    }
    fn get(&self, key: u64) -> bool {
        LockedMap::get(self, &key).is_some()
    }
    fn insert(&self, key: u64) -> bool {
        LockedMap::insert(self, key, key).is_none()
    }
    fn remove(&self, key: u64) -> bool {
        LockedMap::remove(self, &key).is_some()
    }
    fn update(&self, key: u64) -> bool {
        LockedMap::update(self, &key, |v| *v += 1).is_some()
    }
    fn with(&self, key: u64) -> bool {
        LockedMap::with(self, &key, |v| black_box(v.copied()).is_some())
    }
}

impl<S: Build> Map for RwLock<HashMap<u64, u64, S>> {
    fn new() -> Self {
        RwLock::new(HashMap::with_hasher(S::default()))
    }
    fn get(&self, key: u64) -> bool {
        self.read().unwrap().get(&key).copied().is_some()
    }
    fn insert(&self, key: u64) -> bool {
        self.write().unwrap().insert(key, key).is_none()
    }
    fn remove(&self, key: u64) -> bool {
        self.write().unwrap().remove(&key).is_some()
    }
    fn update(&self, key: u64) -> bool {
        self.write().unwrap().get_mut(&key).map(|v| *v += 1).is_some()
    }
}

impl<S: Build> Map for ShardedMap<u64, u64, S> {
    fn new() -> Self {
        let map = ShardedMap::with_hasher(S::default());
        // With the `metrics` feature the map is named, so it records (the cost measured).
        #[cfg(feature = "metrics")]
        let map = map.named("bench");
        map
    }
    fn get(&self, key: u64) -> bool {
        ShardedMap::get(self, &key).is_some()
    }
    fn insert(&self, key: u64) -> bool {
        ShardedMap::insert(self, key, key).is_none()
    }
    fn remove(&self, key: u64) -> bool {
        ShardedMap::remove(self, &key).is_some()
    }
    fn update(&self, key: u64) -> bool {
        ShardedMap::update(self, &key, |v| *v += 1).is_some()
    }
    fn with(&self, key: u64) -> bool {
        ShardedMap::with(self, &key, |v| black_box(v.copied()).is_some())
    }
}

impl<S: Build> Map for dashmap::DashMap<u64, u64, S> {
    fn new() -> Self {
        dashmap::DashMap::with_hasher(S::default())
    }
    fn get(&self, key: u64) -> bool {
        dashmap::DashMap::get(self, &key).map(|v| *v).is_some()
    }
    fn insert(&self, key: u64) -> bool {
        dashmap::DashMap::insert(self, key, key).is_none()
    }
    fn remove(&self, key: u64) -> bool {
        dashmap::DashMap::remove(self, &key).is_some()
    }
    fn update(&self, key: u64) -> bool {
        self.get_mut(&key).map(|mut v| *v += 1).is_some()
    }
}

impl<S: Build> Map for SnapshotMap<u64, u64, S> {
    fn new() -> Self {
        let map = SnapshotMap::with_hasher(S::default());
        // With the `metrics` feature the map is named, so it records (the cost measured).
        #[cfg(feature = "metrics")]
        let map = map.named("bench");
        map
    }
    fn get(&self, key: u64) -> bool {
        SnapshotMap::get(self, &key).is_some()
    }
    fn insert(&self, key: u64) -> bool {
        SnapshotMap::insert(self, key, key).is_none()
    }
    fn remove(&self, key: u64) -> bool {
        SnapshotMap::remove(self, &key).is_some()
    }
    fn update(&self, key: u64) -> bool {
        SnapshotMap::update(self, &key, |v| *v += 1).is_some()
    }
    fn with(&self, key: u64) -> bool {
        SnapshotMap::with(self, &key, |v| black_box(v.copied()).is_some())
    }
}

impl<S: Build> Map for ArcSwap<HashMap<u64, u64, S>> {
    fn new() -> Self {
        ArcSwap::from_pointee(HashMap::with_hasher(S::default()))
    }
    fn get(&self, key: u64) -> bool {
        self.load().get(&key).copied().is_some()
    }
    fn insert(&self, key: u64) -> bool {
        let mut fresh = false;
        self.rcu(|m| {
            let mut m = HashMap::clone(m);
            fresh = m.insert(key, key).is_none();
            m
        });
        fresh
    }
    fn remove(&self, key: u64) -> bool {
        let mut found = false;
        self.rcu(|m| {
            let mut m = HashMap::clone(m);
            found = m.remove(&key).is_some();
            m
        });
        found
    }
    fn update(&self, key: u64) -> bool {
        let mut found = false;
        self.rcu(|m| {
            let mut m = HashMap::clone(m);
            found = m.get_mut(&key).map(|v| *v += 1).is_some();
            m
        });
        found
    }
}

impl<S: Build> Map for Mutex<HashMap<u64, u64, S>> {
    fn new() -> Self {
        Mutex::new(HashMap::with_hasher(S::default()))
    }
    fn get(&self, key: u64) -> bool {
        self.lock().unwrap().get(&key).copied().is_some()
    }
    fn insert(&self, key: u64) -> bool {
        self.lock().unwrap().insert(key, key).is_none()
    }
    fn remove(&self, key: u64) -> bool {
        self.lock().unwrap().remove(&key).is_some()
    }
    fn update(&self, key: u64) -> bool {
        self.lock().unwrap().get_mut(&key).map(|v| *v += 1).is_some()
    }
}

impl<S: Build> Map for papaya::HashMap<u64, u64, S> {
    fn new() -> Self {
        papaya::HashMap::with_hasher(S::default())
    }
    fn get(&self, key: u64) -> bool {
        self.pin().get(&key).copied().is_some()
    }
    fn insert(&self, key: u64) -> bool {
        self.pin().insert(key, key).is_none()
    }
    fn remove(&self, key: u64) -> bool {
        self.pin().remove(&key).is_some()
    }
    fn update(&self, key: u64) -> bool {
        self.pin().update(key, |v| v + 1).is_some()
    }
}

impl<S: Build> Map for scc::HashMap<u64, u64, S> {
    fn new() -> Self {
        scc::HashMap::with_hasher(S::default())
    }
    fn get(&self, key: u64) -> bool {
        self.read_sync(&key, |_, v| *v).is_some()
    }
    fn insert(&self, key: u64) -> bool {
        self.insert_sync(key, key).is_ok()
    }
    fn remove(&self, key: u64) -> bool {
        self.remove_sync(&key).is_some()
    }
    fn update(&self, key: u64) -> bool {
        self.update_sync(&key, |_, v| *v += 1).is_some()
    }
}
