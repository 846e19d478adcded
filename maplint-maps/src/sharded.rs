//! [`ShardedMap`]: power-of-two cache-padded shards, each a `parking_lot::RwLock<HashTable>`,
//! key hashed once, the shard's table prefetched before its lock is taken (see
//! [`crate::prefetch`]). [`LockedMap`](crate::LockedMap) is the same map with one shard.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::marker::PhantomData;
use std::mem;
use std::ops::ControlFlow;
use std::sync::OnceLock;

use hashbrown::HashTable;
use hashbrown::hash_table::{Entry, OccupiedEntry};

use crate::Compute;
#[cfg(feature = "metrics")]
use crate::metrics::MapMetrics;
use crate::prefetch::Layout;
use crate::reentry::{self, Method, Who};
use crate::sync::{self, RwLock, RwLockReadGuard, RwLockWriteGuard, Waits};

const NAME: &str = "ShardedMap";

/// The most shards a map gets; `with_shards` clamps to it.
const MAX_SHARDS: usize = 1 << 16;

/// One shard on its own pair of cache lines (adjacent-line prefetch pulls lines in pairs on
/// x86-64), so that threads working on different shards never share a lock's cache line.
#[repr(align(128))]
struct Shard<K, V> {
    table: RwLock<HashTable<(K, V)>>,
    /// The lock's contended acquisitions (the `metrics` feature), on the lock's cache line.
    waits: Waits,
}

impl<K, V> Shard<K, V> {
    fn new(table: HashTable<(K, V)>) -> Self {
        Self {
            table: RwLock::new(table),
            waits: Waits::default(),
        }
    }

    /// Takes the shard's read lock (counting a contended wait, with the `metrics` feature).
    #[inline]
    fn read(&self) -> RwLockReadGuard<'_, HashTable<(K, V)>> {
        sync::read_counted(&self.table, &self.waits)
    }

    /// Takes the shard's write lock (counting a contended wait, with the `metrics` feature).
    #[inline]
    fn write(&self) -> RwLockWriteGuard<'_, HashTable<(K, V)>> {
        sync::write_counted(&self.table, &self.waits)
    }
}

/// A concurrent hash map split into independently locked shards: Go's "sharded map", without
/// the guard.
///
/// A key is hashed once; the hash picks the shard (from the bits just below the top seven, which
/// hashbrown keeps for its control bytes) and is reused for the lookup inside that shard; before
/// taking the shard's lock, the map prefetches the part of the shard's table the lookup reads, so
/// those cache misses overlap the lock's instead of following it. Every
/// operation on one key locks exactly one shard, for exactly as long as the call lasts; no guard
/// is ever handed out, and calling the same map from inside one of its closures panics instead
/// of deadlocking (see the [crate docs](crate#re-entrancy-panics-it-never-deadlocks)).
///
/// Whole-map operations ([`len`](Self::len), [`for_each`](Self::for_each),
/// [`retain`](Self::retain), [`clear`](Self::clear), [`snapshot`](Self::snapshot)) visit the
/// shards one at a time: each shard is seen in a consistent state, but the map as a whole is not
/// frozen while they run. Use [`SnapshotMap`](crate::SnapshotMap) when readers need one
/// consistent view.
///
/// ```
/// use maplint_maps::ShardedMap;
/// use std::thread;
///
/// let hits = ShardedMap::new();
/// thread::scope(|s| {
///     for _ in 0..4 {
///         s.spawn(|| {
///             for page in ["/", "/about", "/"] {
///                 hits.get_or_insert_with(page, || 0, |n| *n += 1);
///             }
///         });
///     }
/// });
/// assert_eq!(hits.get("/"), Some(8));
/// ```
pub struct ShardedMap<K, V, S = RandomState> {
    shards: Box<[Shard<K, V>]>,
    /// Where each shard's table lives, to prefetch it before taking the lock (see
    /// [`crate::prefetch`]): apart from the shards, so that locking a shard never takes this
    /// read-mostly line away from the other cores.
    layouts: Box<[Layout]>,
    /// `63 - log2(shards.len())`: 63 for a single shard, so that the shift in
    /// [`shard_index`](Self::shard_index) is always below 64 and needs no overflow branch.
    shift: u32,
    hasher: S,
    /// The type name in re-entry panics: `ShardedMap`, or `LockedMap`, which is this map with
    /// one shard.
    name: &'static str,
    /// The map's metrics, once it is [named](Self::named).
    #[cfg(feature = "metrics")]
    metrics: Option<Box<MapMetrics>>,
}

/// The default shard count: four per core rounded up to a power of two, and at least 32.
fn default_shards() -> usize {
    static SHARDS: OnceLock<usize> = OnceLock::new();
    *SHARDS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        (cores * 4).next_power_of_two().clamp(32, MAX_SHARDS)
    })
}

impl<K, V> ShardedMap<K, V, RandomState> {
    /// Creates an empty map with the default hasher and the default shard count (four per core,
    /// at least 32).
    ///
    /// ```
    /// let map: maplint_maps::ShardedMap<u32, String> = maplint_maps::ShardedMap::new();
    /// assert!(map.is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::with_hasher(RandomState::new())
    }

    /// Creates an empty map with `shards` shards, rounded up to a power of two (0 counts as 1,
    /// and at most 65 536).
    ///
    /// ```
    /// let map = maplint_maps::ShardedMap::with_shards(100);
    /// assert_eq!(map.shard_count(), 128);
    /// map.insert(1, 1);
    /// assert_eq!(map.get(&1), Some(1));
    /// ```
    #[must_use]
    pub fn with_shards(shards: usize) -> Self {
        Self::with_shards_and_hasher(shards, RandomState::new())
    }

    /// Creates an empty map with room for at least `capacity` entries before it reallocates,
    /// spread evenly over the default shard count.
    ///
    /// ```
    /// let map: maplint_maps::ShardedMap<u32, u32> = maplint_maps::ShardedMap::with_capacity(1000);
    /// assert!(map.capacity() >= 1000);
    /// ```
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self::with_capacity_and_hasher(capacity, RandomState::new())
    }
}

impl<K, V, S> ShardedMap<K, V, S> {
    /// Creates an empty map that hashes keys with `hasher`, with the default shard count.
    ///
    /// ```
    /// use std::hash::RandomState;
    /// let map: maplint_maps::ShardedMap<u32, u32> =
    ///     maplint_maps::ShardedMap::with_hasher(RandomState::new());
    /// map.insert(1, 2);
    /// assert_eq!(map.get(&1), Some(2));
    /// ```
    #[must_use]
    pub fn with_hasher(hasher: S) -> Self {
        Self::with_shards_and_hasher(default_shards(), hasher)
    }

    /// Creates an empty map with `shards` shards (rounded as in
    /// [`with_shards`](ShardedMap::with_shards)) that hashes keys with `hasher`.
    ///
    /// ```
    /// use std::hash::RandomState;
    /// let map: maplint_maps::ShardedMap<u32, u32> =
    ///     maplint_maps::ShardedMap::with_shards_and_hasher(8, RandomState::new());
    /// assert_eq!(map.shard_count(), 8);
    /// ```
    #[must_use]
    pub fn with_shards_and_hasher(shards: usize, hasher: S) -> Self {
        Self::build(shards, 0, hasher, NAME)
    }

    /// Creates an empty map with room for at least `capacity` entries (spread evenly over the
    /// default shard count) that hashes keys with `hasher`.
    ///
    /// ```
    /// use std::hash::RandomState;
    /// let map: maplint_maps::ShardedMap<u32, u32> =
    ///     maplint_maps::ShardedMap::with_capacity_and_hasher(100, RandomState::new());
    /// assert!(map.capacity() >= 100);
    /// ```
    #[must_use]
    pub fn with_capacity_and_hasher(capacity: usize, hasher: S) -> Self {
        Self::build(default_shards(), capacity, hasher, NAME)
    }

    /// `shards` shards (rounded), each with room for its share of `capacity`, called `name` in
    /// re-entry panics.
    pub(crate) fn build(shards: usize, capacity: usize, hasher: S, name: &'static str) -> Self {
        let count = shards.clamp(1, MAX_SHARDS).next_power_of_two();
        let per_shard = capacity.div_ceil(count);
        let shards = (0..count)
            .map(|_| Shard::new(HashTable::with_capacity(per_shard)))
            .collect();
        Self {
            shards,
            layouts: Layout::for_shards(count),
            shift: 63 - count.trailing_zeros(),
            hasher,
            name,
            #[cfg(feature = "metrics")]
            metrics: None,
        }
    }

    /// Returns the number of shards (a power of two).
    ///
    /// ```
    /// assert!(maplint_maps::ShardedMap::<u8, u8>::new().shard_count().is_power_of_two());
    /// ```
    #[must_use]
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// Returns how many entries the map can hold before some shard reallocates (the sum over
    /// the shards; keys are spread by hash, so one shard can fill up first).
    ///
    /// ```
    /// let map: maplint_maps::ShardedMap<u8, u8> = maplint_maps::ShardedMap::new();
    /// assert_eq!(map.capacity(), 0);
    /// ```
    pub fn capacity(&self) -> usize {
        reentry::check(|| self.who(), "capacity");
        self.shards.iter().map(|shard| shard.read().capacity()).sum()
    }

    /// The map for the re-entry check: its identity (its address; a set over it shares it),
    /// its type name and its metrics.
    #[inline]
    pub(crate) fn who(&self) -> Who<'_> {
        Who {
            id: std::ptr::from_ref(self).addr(),
            name: self.name,
            #[cfg(feature = "metrics")]
            metrics: self.metrics.as_deref(),
            map: PhantomData,
        }
    }

    /// Names the map for its metrics (the `metrics` feature): every metric of the map carries
    /// the label `map="<name>"`, registered with the recorder installed at this call (see the
    /// crate's README for the list). A map that is not named records nothing.
    ///
    /// ```
    /// let sessions: maplint_maps::ShardedMap<u64, String> =
    ///     maplint_maps::ShardedMap::new().named("sessions");
    /// sessions.insert(1, "alice".into());
    /// sessions.publish_metrics();
    /// ```
    #[cfg(feature = "metrics")]
    #[must_use]
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.metrics = Some(Box::new(MapMetrics::new(name.into(), false, self.shards.len() > 1)));
        self
    }

    /// Publishes the map's metrics (the `metrics` feature): the waits of its shards' locks so
    /// far, its length, and the largest shard's length over the mean
    /// (`maplint_map_shard_skew`; a single-shard map has none). It read-locks the shards one
    /// at a time, like [`len`](Self::len): call it where the application publishes its metrics
    /// (before each scrape, or on a timer). Does nothing for a map that is not
    /// [named](Self::named).
    #[cfg(feature = "metrics")]
    pub fn publish_metrics(&self) {
        reentry::check(|| self.who(), "publish_metrics");
        if let Some(metrics) = &self.metrics {
            let lens: Vec<usize> = self.shards.iter().map(|shard| shard.read().len()).collect();
            metrics.publish(self.shards.iter().map(|shard| &shard.waits), &lens);
        }
    }

    /// The index of the shard for `hash`.
    #[inline]
    fn shard_index(&self, hash: u64) -> usize {
        // The top `log2(len)` bits of `hash << 7`, computed as `((hash << 7) >> 1) >> shift`:
        // the first shift clears the top bit, so a single shard (`shift` 63) gets index 0.
        (((hash << 7) >> 1) >> self.shift) as usize
    }
}

impl<K, V, S> ShardedMap<K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    /// Hashes `key`, prefetches where its shard's table keeps it, and returns the hash and the
    /// shard's index.
    // Always inlined, as the two below: with the prefetch, LLVM otherwise keeps them out of
    // line, and the call costs 13 of `get`'s instructions (callgrind, `examples/opcount.rs`).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn locate<Q>(&self, key: &Q) -> (u64, usize)
    where
        Q: Hash + ?Sized,
    {
        let hash = self.hasher.hash_one(key);
        let index = self.shard_index(hash);
        self.layouts[index].prefetch(hash, mem::size_of::<(K, V)>());
        (hash, index)
    }

    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn read_shard<Q>(&self, key: &Q) -> (u64, RwLockReadGuard<'_, HashTable<(K, V)>>)
    where
        Q: Hash + ?Sized,
    {
        let (hash, index) = self.locate(key);
        (hash, self.shards[index].read())
    }

    /// The hash, the shard's table write-locked, and the shard's layout hint, to update after
    /// an insert ([`placed`]).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn write_shard<Q>(&self, key: &Q) -> (u64, RwLockWriteGuard<'_, HashTable<(K, V)>>, &Layout)
    where
        Q: Hash + ?Sized,
    {
        let (hash, index) = self.locate(key);
        (hash, self.shards[index].write(), &self.layouts[index])
    }

    /// Makes room for at least `additional` more entries, spread evenly over the shards, one
    /// shard (write lock) at a time.
    ///
    /// ```
    /// let map: maplint_maps::ShardedMap<u32, u32> = maplint_maps::ShardedMap::new();
    /// map.reserve(500);
    /// assert!(map.capacity() >= 500);
    /// ```
    pub fn reserve(&self, additional: usize) {
        reentry::check(|| self.who(), "reserve");
        let per_shard = additional.div_ceil(self.shards.len());
        for shard in &self.shards {
            shard.write().reserve(per_shard, |(k, _)| self.hasher.hash_one(k));
        }
    }

    /// Inserts `value` under `key`, returning the value it replaced.
    ///
    /// ```
    /// let map = maplint_maps::ShardedMap::new();
    /// assert_eq!(map.insert("k", 1), None);
    /// assert_eq!(map.insert("k", 2), Some(1));
    /// ```
    pub fn insert(&self, key: K, value: V) -> Option<V> {
        reentry::check(|| self.who(), "insert");
        let (hash, mut table, layout) = self.write_shard(&key);
        match table.entry(hash, |(k, _)| *k == key, |(k, _)| self.hasher.hash_one(k)) {
            Entry::Occupied(mut entry) => Some(mem::replace(&mut entry.get_mut().1, value)),
            Entry::Vacant(entry) => {
                placed(layout, entry.insert((key, value)));
                None
            }
        }
    }

    /// Removes `key`, returning its value if it was present.
    ///
    /// ```
    /// let map = maplint_maps::ShardedMap::new();
    /// map.insert("k", 1);
    /// assert_eq!(map.remove("k"), Some(1));
    /// assert_eq!(map.remove("k"), None);
    /// ```
    pub fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        reentry::check(|| self.who(), "remove");
        let (hash, mut table, _) = self.write_shard(key);
        let entry = table.find_entry(hash, |(k, _)| k.borrow() == key).ok()?;
        Some(entry.remove().0.1)
    }

    /// Returns a clone of the value under `key`. Nothing stays locked after it returns.
    ///
    /// To read without cloning, use [`with`](Self::with).
    ///
    /// ```
    /// let map = maplint_maps::ShardedMap::new();
    /// map.insert(String::from("k"), vec![1, 2]);
    /// assert_eq!(map.get("k"), Some(vec![1, 2]));
    /// ```
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        reentry::check(|| self.who(), "get");
        let (hash, table) = self.read_shard(key);
        table.find(hash, |(k, _)| k.borrow() == key).map(|(_, v)| v.clone())
    }

    /// Returns whether `key` is present.
    ///
    /// The answer may be stale as soon as it returns: to act on it atomically use
    /// [`try_insert`](Self::try_insert) or [`get_or_insert_with`](Self::get_or_insert_with).
    ///
    /// ```
    /// let map = maplint_maps::ShardedMap::new();
    /// map.insert(1, ());
    /// assert!(map.contains_key(&1));
    /// assert!(!map.contains_key(&2));
    /// ```
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        reentry::check(|| self.who(), "contains_key");
        let (hash, table) = self.read_shard(key);
        table.find(hash, |(k, _)| k.borrow() == key).is_some()
    }

    /// Returns the number of entries, summed shard by shard.
    ///
    /// ```
    /// let map = maplint_maps::ShardedMap::new();
    /// map.insert(1, 1);
    /// map.insert(2, 2);
    /// assert_eq!(map.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        reentry::check(|| self.who(), "len");
        self.shards.iter().map(|shard| shard.read().len()).sum()
    }

    /// Returns whether every shard is empty.
    ///
    /// ```
    /// let map = maplint_maps::ShardedMap::<u8, u8>::new();
    /// assert!(map.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        reentry::check(|| self.who(), "is_empty");
        self.shards.iter().all(|shard| shard.read().is_empty())
    }

    /// Runs `f` on the value under `key` (or `None`) while holding that shard's read lock, and
    /// returns what `f` returns. Use it to read without cloning.
    ///
    /// `f` must not call this map (that panics); return what you need and act afterwards.
    ///
    /// ```
    /// let map = maplint_maps::ShardedMap::new();
    /// map.insert("k", String::from("hello"));
    /// let len = map.with("k", |v| v.map_or(0, String::len));
    /// assert_eq!(len, 5);
    /// ```
    pub fn with<Q, R>(&self, key: &Q, f: impl FnOnce(Option<&V>) -> R) -> R
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let _frame = reentry::enter(|| self.who(), Method::With);
        let (hash, table) = self.read_shard(key);
        f(table.find(hash, |(k, _)| k.borrow() == key).map(|(_, v)| v))
    }

    /// Runs `f` on the value under `key` while holding that shard's write lock; returns `None`,
    /// without calling `f`, if the key is absent.
    ///
    /// If `f` panics, the value keeps whatever changes `f` made before panicking and the map
    /// stays usable.
    ///
    /// ```
    /// let map = maplint_maps::ShardedMap::new();
    /// map.insert("hits", 1);
    /// assert_eq!(map.update("hits", |n| { *n += 1; *n }), Some(2));
    /// assert_eq!(map.update("misses", |n| *n += 1), None);
    /// ```
    pub fn update<Q, R>(&self, key: &Q, f: impl FnOnce(&mut V) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let _frame = reentry::enter(|| self.who(), Method::Update);
        let (hash, mut table, _) = self.write_shard(key);
        table.find_mut(hash, |(k, _)| k.borrow() == key).map(|(_, v)| f(v))
    }

    /// Atomically finds the value under `key`, inserting `init()` if it is absent, and runs `f`
    /// on it, all under one shard write lock.
    ///
    /// If `init` panics nothing is inserted.
    ///
    /// ```
    /// let counters = maplint_maps::ShardedMap::new();
    /// for word in ["a", "b", "a"] {
    ///     counters.get_or_insert_with(word, || 0, |n| *n += 1);
    /// }
    /// assert_eq!(counters.get("a"), Some(2));
    /// ```
    pub fn get_or_insert_with<R>(&self, key: K, init: impl FnOnce() -> V, f: impl FnOnce(&mut V) -> R) -> R {
        let _frame = reentry::enter(|| self.who(), Method::GetOrInsertWith);
        let (hash, mut table, layout) = self.write_shard(&key);
        let entry = match table.entry(hash, |(k, _)| *k == key, |(k, _)| self.hasher.hash_one(k)) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => {
                let value = init();
                placed(layout, entry.insert((key, value)))
            }
        };
        f(&mut entry.1)
    }

    /// Like [`get_or_insert_with`](Self::get_or_insert_with), looked up by a borrowed key
    /// (`&str` for a `String` key): the key is cloned (`to_owned`) only on a miss, to insert it.
    ///
    /// ```
    /// let hits: maplint_maps::ShardedMap<String, u32> = maplint_maps::ShardedMap::new();
    /// for path in ["/", "/about", "/"] {
    ///     hits.get_or_insert_with_ref(path, || 0, |n| *n += 1);
    /// }
    /// assert_eq!(hits.get("/"), Some(2));
    /// ```
    pub fn get_or_insert_with_ref<Q, R>(&self, key: &Q, init: impl FnOnce() -> V, f: impl FnOnce(&mut V) -> R) -> R
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let _frame = reentry::enter(|| self.who(), Method::GetOrInsertWithRef);
        let (hash, mut table, layout) = self.write_shard(key);
        let entry = match table.find_entry(hash, |(k, _)| k.borrow() == key) {
            Ok(entry) => entry.into_mut(),
            Err(absent) => placed(
                layout,
                absent
                    .into_table()
                    .insert_unique(hash, (key.to_owned(), init()), |(k, _)| self.hasher.hash_one(k)),
            ),
        };
        f(&mut entry.1)
    }

    /// Inserts `value` only if `key` is absent, atomically. If the key is present the map is
    /// unchanged and the key and value are handed back.
    ///
    /// ```
    /// let map = maplint_maps::ShardedMap::new();
    /// assert_eq!(map.try_insert("k", 1), Ok(()));
    /// assert_eq!(map.try_insert("k", 2), Err(("k", 2)));
    /// assert_eq!(map.get("k"), Some(1));
    /// ```
    pub fn try_insert(&self, key: K, value: V) -> Result<(), (K, V)> {
        reentry::check(|| self.who(), "try_insert");
        let (hash, mut table, layout) = self.write_shard(&key);
        match table.entry(hash, |(k, _)| *k == key, |(k, _)| self.hasher.hash_one(k)) {
            Entry::Occupied(_) => Err((key, value)),
            Entry::Vacant(entry) => {
                placed(layout, entry.insert((key, value)));
                Ok(())
            }
        }
    }

    /// Removes `key` if `f` returns `true` for its entry, atomically, and returns the removed
    /// entry (`DashMap`'s `remove_if`). `f` is not called when the key is absent.
    ///
    /// ```
    /// let map = maplint_maps::ShardedMap::new();
    /// map.insert("session", 0);
    /// assert_eq!(map.remove_if("session", |_, idle| *idle > 10), None);
    /// map.insert("session", 11);
    /// assert_eq!(map.remove_if("session", |_, idle| *idle > 10), Some(("session", 11)));
    /// assert!(map.is_empty());
    /// ```
    pub fn remove_if<Q>(&self, key: &Q, f: impl FnOnce(&K, &V) -> bool) -> Option<(K, V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let _frame = reentry::enter(|| self.who(), Method::RemoveIf);
        let (hash, mut table, _) = self.write_shard(key);
        let entry = table.find_entry(hash, |(k, _)| k.borrow() == key).ok()?;
        let (k, v) = entry.get();
        if f(k, v) { Some(entry.remove().0) } else { None }
    }

    /// Inserts, replaces, changes in place or removes the entry under `key`, atomically,
    /// depending on its current value: `f` sees the value (or `None`) and says what to do with
    /// [`Compute`](crate::Compute). Returns the value that was replaced or removed.
    ///
    /// ```
    /// use maplint_maps::Compute;
    /// let stock = maplint_maps::ShardedMap::new();
    /// // Take one item: insert nothing when absent, remove the entry at zero.
    /// let take = |left: Option<&mut u32>| match left {
    ///     Some(n) if *n > 1 => {
    ///         *n -= 1;
    ///         Compute::Keep
    ///     }
    ///     Some(_) => Compute::Remove,
    ///     None => Compute::Keep,
    /// };
    /// stock.insert("apple", 2);
    /// assert_eq!(stock.compute("apple", take), None);
    /// assert_eq!(stock.get("apple"), Some(1));
    /// assert_eq!(stock.compute("apple", take), Some(1));
    /// assert!(!stock.contains_key("apple"));
    /// assert_eq!(stock.compute("pear", |_| Compute::Set(5)), None);
    /// assert_eq!(stock.compute("pear", |_| Compute::Set(7)), Some(5));
    /// ```
    pub fn compute(&self, key: K, f: impl FnOnce(Option<&mut V>) -> Compute<V>) -> Option<V> {
        let _frame = reentry::enter(|| self.who(), Method::Compute);
        let (hash, mut table, layout) = self.write_shard(&key);
        match table.entry(hash, |(k, _)| *k == key, |(k, _)| self.hasher.hash_one(k)) {
            Entry::Occupied(mut entry) => match f(Some(&mut entry.get_mut().1)) {
                Compute::Keep => None,
                Compute::Set(value) => Some(mem::replace(&mut entry.get_mut().1, value)),
                Compute::Remove => Some(entry.remove().0.1),
            },
            Entry::Vacant(entry) => {
                if let Compute::Set(value) = f(None) {
                    placed(layout, entry.insert((key, value)));
                }
                None
            }
        }
    }

    /// Keeps only the entries for which `f` returns `true`, one shard (write lock) at a time.
    ///
    /// ```
    /// let map = maplint_maps::ShardedMap::new();
    /// for i in 0..10 {
    ///     map.insert(i, i * 10);
    /// }
    /// map.retain(|k, v| {
    ///     *v += 1;
    ///     k % 2 == 0
    /// });
    /// assert_eq!(map.len(), 5);
    /// assert_eq!(map.get(&4), Some(41));
    /// ```
    pub fn retain(&self, mut f: impl FnMut(&K, &mut V) -> bool) {
        let _frame = reentry::enter(|| self.who(), Method::Retain);
        for shard in &self.shards {
            shard.write().retain(|(k, v)| f(k, v));
        }
    }

    /// Removes every entry, one shard at a time.
    ///
    /// ```
    /// let map = maplint_maps::ShardedMap::new();
    /// map.insert(1, 1);
    /// map.clear();
    /// assert!(map.is_empty());
    /// ```
    pub fn clear(&self) {
        reentry::check(|| self.who(), "clear");
        for shard in &self.shards {
            shard.write().clear();
        }
    }

    /// Runs `f` on every entry as of one moment, and their number: every shard read-locked at
    /// once, in shard order (as `update_pair` takes two), so no write lands halfway.
    #[cfg(feature = "serde")]
    pub(crate) fn with_entries<R>(&self, f: impl FnOnce(usize, &mut dyn Iterator<Item = (&K, &V)>) -> R) -> R {
        let _frame = reentry::enter(|| self.who(), Method::Serialize);
        let guards: Vec<_> = self.shards.iter().map(|shard| shard.read()).collect();
        let len = guards.iter().map(|g| g.len()).sum();
        f(len, &mut guards.iter().flat_map(|g| g.iter().map(|(k, v)| (k, v))))
    }

    /// Calls `f` on every entry, in no particular order, one shard (read lock) at a time.
    ///
    /// ```
    /// let map = maplint_maps::ShardedMap::new();
    /// map.insert("a", 1);
    /// map.insert("b", 2);
    /// let mut sum = 0;
    /// map.for_each(|_, v| sum += v);
    /// assert_eq!(sum, 3);
    /// ```
    pub fn for_each(&self, mut f: impl FnMut(&K, &V)) {
        let _frame = reentry::enter(|| self.who(), Method::ForEach);
        for shard in &self.shards {
            for (k, v) in shard.read().iter() {
                f(k, v);
            }
        }
    }

    /// Calls `f` on the entries, in no particular order, until it returns
    /// `ControlFlow::Break`, one shard (read lock) at a time; returns that break, or `Continue(())` after the last entry.
    /// Stops early without copying the map.
    ///
    /// ```
    /// use std::ops::ControlFlow;
    /// let map = maplint_maps::ShardedMap::from([("a", 1), ("b", -2), ("c", 3)]);
    /// let negative = map.try_for_each(|k, v| if *v < 0 { ControlFlow::Break(*k) } else { ControlFlow::Continue(()) });
    /// assert_eq!(negative, ControlFlow::Break("b"));
    /// ```
    pub fn try_for_each<B>(&self, mut f: impl FnMut(&K, &V) -> ControlFlow<B>) -> ControlFlow<B> {
        let _frame = reentry::enter(|| self.who(), Method::TryForEach);
        self.shards
            .iter()
            .try_for_each(|shard| shard.read().iter().try_for_each(|(k, v)| f(k, v)))
    }

    /// Like [`get_or_insert_with`](Self::get_or_insert_with), with an `init` that can fail: on
    /// a miss, an `Err` from `init` is returned and nothing is inserted.
    ///
    /// ```
    /// let ports = maplint_maps::ShardedMap::new();
    /// let parse = |s: &str| s.parse::<u16>();
    /// assert_eq!(ports.try_get_or_insert_with("http", || parse("80"), |p| *p), Ok(80));
    /// assert!(ports.try_get_or_insert_with("bad", || parse("x"), |p| *p).is_err());
    /// assert!(!ports.contains_key("bad"));
    /// ```
    pub fn try_get_or_insert_with<R, E>(
        &self,
        key: K,
        init: impl FnOnce() -> Result<V, E>,
        f: impl FnOnce(&mut V) -> R,
    ) -> Result<R, E> {
        let _frame = reentry::enter(|| self.who(), Method::TryGetOrInsertWith);
        let (hash, mut table, layout) = self.write_shard(&key);
        let entry = match table.entry(hash, |(k, _)| *k == key, |(k, _)| self.hasher.hash_one(k)) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => placed(layout, entry.insert((key, init()?))),
        };
        Ok(f(&mut entry.1))
    }

    /// Runs `f` on the values under two keys at once, with both shards write-locked (in shard
    /// order, so two `update_pair` calls can never deadlock each other): moving an amount from
    /// one entry to another is atomic. `f` gets `None` for an absent key; when `a` and `b` are
    /// the same key, `f` gets its value as the first and `None` as the second.
    ///
    /// ```
    /// let accounts = maplint_maps::ShardedMap::from([("alice", 100), ("bob", 20)]);
    /// let moved = accounts.update_pair("alice", "bob", |from, to| match (from, to) {
    ///     (Some(from), Some(to)) if *from >= 30 => {
    ///         *from -= 30;
    ///         *to += 30;
    ///         true
    ///     }
    ///     _ => false,
    /// });
    /// assert!(moved);
    /// assert_eq!((accounts.get("alice"), accounts.get("bob")), (Some(70), Some(50)));
    /// ```
    pub fn update_pair<Q, R>(&self, a: &Q, b: &Q, f: impl FnOnce(Option<&mut V>, Option<&mut V>) -> R) -> R
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let _frame = reentry::enter(|| self.who(), Method::UpdatePair);
        let (ha, hb) = (self.hasher.hash_one(a), self.hasher.hash_one(b));
        if a == b {
            let mut table = self.shards[self.shard_index(ha)].write();
            return f(table.find_mut(ha, |(k, _)| k.borrow() == a).map(|(_, v)| v), None);
        }
        let (sa, sb) = (self.shard_index(ha), self.shard_index(hb));
        if sa == sb {
            let mut table = self.shards[sa].write();
            let [va, vb] = table.get_disjoint_mut([ha, hb], |i, (k, _)| k.borrow() == if i == 0 { a } else { b });
            return f(va.map(|(_, v)| v), vb.map(|(_, v)| v));
        }
        // Two shards: the lower index first, whichever key it holds.
        let (first, second) = if sa < sb { (sa, sb) } else { (sb, sa) };
        let lo = self.shards[first].write();
        let hi = self.shards[second].write();
        let (mut ta, mut tb) = if sa < sb { (lo, hi) } else { (hi, lo) };
        let va = ta.find_mut(ha, |(k, _)| k.borrow() == a).map(|(_, v)| v);
        let vb = tb.find_mut(hb, |(k, _)| k.borrow() == b).map(|(_, v)| v);
        f(va, vb)
    }

    /// Returns a copy of the whole map, taken one shard at a time.
    ///
    /// ```
    /// let map = maplint_maps::ShardedMap::new();
    /// map.insert("a", 1);
    /// let copy = map.snapshot();
    /// map.insert("b", 2);
    /// assert_eq!(copy.len(), 1);
    /// ```
    pub fn snapshot(&self) -> HashMap<K, V>
    where
        K: Clone,
        V: Clone,
    {
        reentry::check(|| self.who(), "snapshot");
        let mut out = HashMap::new();
        for shard in &self.shards {
            let table = shard.read();
            out.reserve(table.len());
            out.extend(table.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        out
    }
}

impl<K, V, S: Default> Default for ShardedMap<K, V, S> {
    /// Creates an empty map with the default hasher and shard count.
    ///
    /// ```
    /// let map: maplint_maps::ShardedMap<u8, u8> = Default::default();
    /// assert!(map.is_empty());
    /// ```
    fn default() -> Self {
        Self::with_hasher(S::default())
    }
}

/// Records where a shard's table lives after an insert (which may have grown it, moving every
/// bucket) in the shard's layout hint, and returns the inserted entry.
#[inline]
fn placed<'t, T>(layout: &Layout, entry: OccupiedEntry<'t, T>) -> &'t mut T {
    let index = entry.bucket_index();
    let table = entry.into_table();
    let buckets = table.num_buckets();
    let slot = table.get_bucket_mut(index).expect("the bucket just filled");
    // (Entries of no size have no address to learn the table's from: no hint, no prefetch.)
    if mem::size_of::<T>() != 0 {
        layout.record(std::ptr::from_mut(slot).addr(), index, buckets, mem::size_of::<T>());
    }
    slot
}

impl<K, V, S> fmt::Debug for ShardedMap<K, V, S>
where
    K: fmt::Debug,
    V: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let _frame = reentry::enter(|| self.who(), Method::Fmt);
        let mut out = f.debug_map();
        for shard in &self.shards {
            out.entries(shard.read().iter().map(|(k, v)| (k, v)));
        }
        out.finish()
    }
}

impl<K, V, S> Extend<(K, V)> for ShardedMap<K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    /// Inserts every entry.
    ///
    /// ```
    /// let mut map = maplint_maps::ShardedMap::new();
    /// map.extend([("a", 1), ("b", 2)]);
    /// assert_eq!(map.len(), 2);
    /// ```
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, entries: I) {
        for (k, v) in entries {
            self.insert(k, v);
        }
    }
}

impl<K: Clone, V: Clone, S: Clone> Clone for ShardedMap<K, V, S> {
    /// Copies the map one shard (read lock) at a time.
    ///
    /// ```
    /// let map = maplint_maps::ShardedMap::from([(1, "one")]);
    /// let copy = map.clone();
    /// map.insert(2, "two");
    /// assert_eq!(copy.len(), 1);
    /// ```
    fn clone(&self) -> Self {
        reentry::check(|| self.who(), "clone");
        Self {
            shards: self
                .shards
                .iter()
                .map(|shard| Shard::new(shard.read().clone()))
                .collect(),
            // (The copies are new tables: their layouts are learnt at their first insert.)
            layouts: Layout::for_shards(self.shards.len()),
            shift: self.shift,
            hasher: self.hasher.clone(),
            name: self.name,
            // (A copy is a map of its own: unnamed, it records nothing.)
            #[cfg(feature = "metrics")]
            metrics: None,
        }
    }
}

impl<K, V, S> PartialEq for ShardedMap<K, V, S>
where
    K: Eq + Hash,
    V: PartialEq,
    S: BuildHasher,
{
    /// Compares the entries, shard by shard (like [`len`](ShardedMap::len), not one frozen
    /// view). The map at the lower address is walked and the other looked up, so `a == b` on
    /// one thread and `b == a` on another take their locks in the same order.
    ///
    /// ```
    /// let a = maplint_maps::ShardedMap::from([(1, 10)]);
    /// let b = maplint_maps::ShardedMap::from([(1, 10)]);
    /// assert!(a == b);
    /// b.insert(2, 20);
    /// assert!(a != b);
    /// ```
    fn eq(&self, other: &Self) -> bool {
        let Some((walked, looked_up)) = reentry::compared(self, other, self.who(), other.who()) else {
            return true;
        };
        walked.len() == looked_up.len()
            && walked.shards.iter().all(|shard| {
                shard.read().iter().all(|(k, v)| {
                    let (hash, table) = looked_up.read_shard(k);
                    table.find(hash, |(k2, _)| k2 == k).is_some_and(|(_, v2)| v2 == v)
                })
            })
    }
}

/// The entries of a [`ShardedMap`], by value ([`IntoIterator`]).
pub struct IntoIter<K, V> {
    shards: std::vec::IntoIter<Shard<K, V>>,
    current: Option<hashbrown::hash_table::IntoIter<(K, V)>>,
}

impl<K, V> fmt::Debug for IntoIter<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoIter").finish_non_exhaustive()
    }
}

impl<K, V> Iterator for IntoIter<K, V> {
    type Item = (K, V);

    fn next(&mut self) -> Option<(K, V)> {
        loop {
            if let Some(entry) = self.current.as_mut().and_then(Iterator::next) {
                return Some(entry);
            }
            let shard = self.shards.next()?;
            let table = sync::into_inner(shard.table);
            self.current = Some(table.into_iter());
        }
    }
}

impl<K, V, S> IntoIterator for ShardedMap<K, V, S> {
    type Item = (K, V);
    type IntoIter = IntoIter<K, V>;

    /// The entries, by value, shard after shard.
    ///
    /// ```
    /// let map = maplint_maps::ShardedMap::from([(1, 'a')]);
    /// assert_eq!(map.into_iter().collect::<Vec<_>>(), vec![(1, 'a')]);
    /// ```
    fn into_iter(self) -> IntoIter<K, V> {
        IntoIter {
            shards: self.shards.into_vec().into_iter(),
            current: None,
        }
    }
}

array_and_eq!(ShardedMap);
collect_into!(ShardedMap);

#[cfg(all(test, not(loom)))]
mod tests {
    use super::ShardedMap;

    #[test]
    fn inserts_record_the_tables_layout_and_zero_sized_entries_record_none() {
        let map = ShardedMap::with_shards(4);
        for k in 0..64_u64 {
            map.insert(k, k);
        }
        assert!(map.layouts.iter().all(|layout| !layout.is_empty()));
        assert_eq!(map.get(&7), Some(7));

        let units: ShardedMap<(), ()> = ShardedMap::with_shards(4);
        assert_eq!(units.insert((), ()), None);
        assert_eq!(units.get(&()), Some(()));
        assert!(units.layouts.iter().all(super::Layout::is_empty));
    }
}
