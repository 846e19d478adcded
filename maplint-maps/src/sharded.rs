//! [`ShardedMap`]: power-of-two cache-padded shards, each a `RwLock<HashTable>`, key hashed once.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::mem;
use std::ops::ControlFlow;
use std::sync::OnceLock;

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

use crate::Compute;
use crate::reentry::{self, Method};
use crate::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard, read, write};

const NAME: &str = "ShardedMap";

/// The most shards a map gets; `with_shards` clamps to it.
const MAX_SHARDS: usize = 1 << 16;

/// One shard on its own pair of cache lines (adjacent-line prefetch pulls lines in pairs on
/// x86-64), so that threads working on different shards never share a lock's cache line.
#[repr(align(128))]
struct Shard<K, V> {
    table: RwLock<HashTable<(K, V)>>,
}

/// A concurrent hash map split into independently locked shards: Go's "sharded map", without
/// the guard.
///
/// A key is hashed once; the hash picks the shard (from the bits just below the top seven, which
/// hashbrown keeps for its control bytes) and is reused for the lookup inside that shard. Every
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
    /// `63 - log2(shards.len())`: 63 for a single shard, so that the shift in
    /// [`shard`](Self::shard) is always below 64 and needs no overflow branch.
    shift: u32,
    hasher: S,
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
        Self::build(shards, 0, hasher)
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
        Self::build(default_shards(), capacity, hasher)
    }

    /// `shards` shards (rounded), each with room for its share of `capacity`.
    fn build(shards: usize, capacity: usize, hasher: S) -> Self {
        let count = shards.clamp(1, MAX_SHARDS).next_power_of_two();
        let per_shard = capacity.div_ceil(count);
        let shards = (0..count)
            .map(|_| Shard {
                table: RwLock::new(HashTable::with_capacity(per_shard)),
            })
            .collect();
        Self {
            shards,
            shift: 63 - count.trailing_zeros(),
            hasher,
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
        reentry::check(self.id(), NAME, "capacity");
        self.shards.iter().map(|shard| read(&shard.table).capacity()).sum()
    }

    /// The map's identity for the re-entry check (its address; a set over it shares it).
    #[inline]
    pub(crate) fn id(&self) -> usize {
        std::ptr::from_ref(self).addr()
    }

    /// The shard for `hash`: the bits just below hashbrown's 7-bit tag.
    #[inline]
    fn shard(&self, hash: u64) -> &RwLock<HashTable<(K, V)>> {
        &self.shards[self.shard_index(hash)].table
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
    #[inline]
    fn read_shard<Q>(&self, key: &Q) -> (u64, RwLockReadGuard<'_, HashTable<(K, V)>>)
    where
        Q: Hash + ?Sized,
    {
        let hash = self.hasher.hash_one(key);
        (hash, read(self.shard(hash)))
    }

    #[inline]
    fn write_shard<Q>(&self, key: &Q) -> (u64, RwLockWriteGuard<'_, HashTable<(K, V)>>)
    where
        Q: Hash + ?Sized,
    {
        let hash = self.hasher.hash_one(key);
        (hash, write(self.shard(hash)))
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
        reentry::check(self.id(), NAME, "reserve");
        let per_shard = additional.div_ceil(self.shards.len());
        for shard in &self.shards {
            write(&shard.table).reserve(per_shard, |(k, _)| self.hasher.hash_one(k));
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
        reentry::check(self.id(), NAME, "insert");
        let (hash, mut table) = self.write_shard(&key);
        match table.entry(hash, |(k, _)| *k == key, |(k, _)| self.hasher.hash_one(k)) {
            Entry::Occupied(mut entry) => Some(mem::replace(&mut entry.get_mut().1, value)),
            Entry::Vacant(entry) => {
                entry.insert((key, value));
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
        reentry::check(self.id(), NAME, "remove");
        let (hash, mut table) = self.write_shard(key);
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
        reentry::check(self.id(), NAME, "get");
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
        reentry::check(self.id(), NAME, "contains_key");
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
        reentry::check(self.id(), NAME, "len");
        self.shards.iter().map(|shard| read(&shard.table).len()).sum()
    }

    /// Returns whether every shard is empty.
    ///
    /// ```
    /// let map = maplint_maps::ShardedMap::<u8, u8>::new();
    /// assert!(map.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        reentry::check(self.id(), NAME, "is_empty");
        self.shards.iter().all(|shard| read(&shard.table).is_empty())
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
        let _frame = reentry::enter(self.id(), NAME, Method::With);
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
        let _frame = reentry::enter(self.id(), NAME, Method::Update);
        let (hash, mut table) = self.write_shard(key);
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
        let _frame = reentry::enter(self.id(), NAME, Method::GetOrInsertWith);
        let (hash, mut table) = self.write_shard(&key);
        let entry = match table.entry(hash, |(k, _)| *k == key, |(k, _)| self.hasher.hash_one(k)) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => {
                let value = init();
                entry.insert((key, value)).into_mut()
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
        let _frame = reentry::enter(self.id(), NAME, Method::GetOrInsertWithRef);
        let (hash, mut table) = self.write_shard(key);
        let entry = match table.find_entry(hash, |(k, _)| k.borrow() == key) {
            Ok(entry) => entry.into_mut(),
            Err(absent) => absent
                .into_table()
                .insert_unique(hash, (key.to_owned(), init()), |(k, _)| self.hasher.hash_one(k))
                .into_mut(),
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
        reentry::check(self.id(), NAME, "try_insert");
        let (hash, mut table) = self.write_shard(&key);
        match table.entry(hash, |(k, _)| *k == key, |(k, _)| self.hasher.hash_one(k)) {
            Entry::Occupied(_) => Err((key, value)),
            Entry::Vacant(entry) => {
                entry.insert((key, value));
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
        let _frame = reentry::enter(self.id(), NAME, Method::RemoveIf);
        let (hash, mut table) = self.write_shard(key);
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
        let _frame = reentry::enter(self.id(), NAME, Method::Compute);
        let (hash, mut table) = self.write_shard(&key);
        match table.entry(hash, |(k, _)| *k == key, |(k, _)| self.hasher.hash_one(k)) {
            Entry::Occupied(mut entry) => match f(Some(&mut entry.get_mut().1)) {
                Compute::Keep => None,
                Compute::Set(value) => Some(mem::replace(&mut entry.get_mut().1, value)),
                Compute::Remove => Some(entry.remove().0.1),
            },
            Entry::Vacant(entry) => {
                if let Compute::Set(value) = f(None) {
                    entry.insert((key, value));
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
        let _frame = reentry::enter(self.id(), NAME, Method::Retain);
        for shard in &self.shards {
            write(&shard.table).retain(|(k, v)| f(k, v));
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
        reentry::check(self.id(), NAME, "clear");
        for shard in &self.shards {
            write(&shard.table).clear();
        }
    }

    /// Runs `f` on every entry as of one moment, and their number: every shard read-locked at
    /// once, in shard order (as `update_pair` takes two), so no write lands halfway.
    #[cfg(feature = "serde")]
    pub(crate) fn with_entries<R>(&self, f: impl FnOnce(usize, &mut dyn Iterator<Item = (&K, &V)>) -> R) -> R {
        let _frame = reentry::enter(self.id(), NAME, Method::Serialize);
        let guards: Vec<_> = self.shards.iter().map(|shard| read(&shard.table)).collect();
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
        let _frame = reentry::enter(self.id(), NAME, Method::ForEach);
        for shard in &self.shards {
            for (k, v) in read(&shard.table).iter() {
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
        let _frame = reentry::enter(self.id(), NAME, Method::TryForEach);
        self.shards
            .iter()
            .try_for_each(|shard| read(&shard.table).iter().try_for_each(|(k, v)| f(k, v)))
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
        let _frame = reentry::enter(self.id(), NAME, Method::TryGetOrInsertWith);
        let (hash, mut table) = self.write_shard(&key);
        let entry = match table.entry(hash, |(k, _)| *k == key, |(k, _)| self.hasher.hash_one(k)) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => entry.insert((key, init()?)).into_mut(),
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
        let _frame = reentry::enter(self.id(), NAME, Method::UpdatePair);
        let (ha, hb) = (self.hasher.hash_one(a), self.hasher.hash_one(b));
        if a == b {
            let mut table = write(self.shard(ha));
            return f(table.find_mut(ha, |(k, _)| k.borrow() == a).map(|(_, v)| v), None);
        }
        let (sa, sb) = (self.shard_index(ha), self.shard_index(hb));
        if sa == sb {
            let mut table = write(&self.shards[sa].table);
            let [va, vb] = table.get_disjoint_mut([ha, hb], |i, (k, _)| k.borrow() == if i == 0 { a } else { b });
            return f(va.map(|(_, v)| v), vb.map(|(_, v)| v));
        }
        // Two shards: the lower index first, whichever key it holds.
        let (first, second) = if sa < sb { (sa, sb) } else { (sb, sa) };
        let lo = write(&self.shards[first].table);
        let hi = write(&self.shards[second].table);
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
        reentry::check(self.id(), NAME, "snapshot");
        let mut out = HashMap::new();
        for shard in &self.shards {
            let table = read(&shard.table);
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

impl<K, V, S> fmt::Debug for ShardedMap<K, V, S>
where
    K: fmt::Debug,
    V: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let _frame = reentry::enter(self.id(), NAME, Method::Fmt);
        let mut out = f.debug_map();
        for shard in &self.shards {
            out.entries(read(&shard.table).iter().map(|(k, v)| (k, v)));
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

impl<K, V, S> FromIterator<(K, V)> for ShardedMap<K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher + Default,
{
    /// ```
    /// let map: maplint_maps::ShardedMap<_, _> = (0..3).map(|i| (i, i * i)).collect();
    /// assert_eq!(map.get(&2), Some(4));
    /// ```
    fn from_iter<I: IntoIterator<Item = (K, V)>>(entries: I) -> Self {
        let mut map = Self::default();
        map.extend(entries);
        map
    }
}

impl<K, V, S> From<HashMap<K, V, S>> for ShardedMap<K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher + Clone,
{
    /// Moves the entries in, with the map's hasher and room for all of them.
    ///
    /// ```
    /// let mut plain = std::collections::HashMap::new();
    /// plain.insert("k", 1);
    /// let map = maplint_maps::ShardedMap::from(plain);
    /// assert_eq!(map.get("k"), Some(1));
    /// ```
    fn from(map: HashMap<K, V, S>) -> Self {
        let mut out = Self::with_capacity_and_hasher(map.len(), map.hasher().clone());
        out.extend(map);
        out
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
        reentry::check(self.id(), NAME, "clone");
        Self {
            shards: self
                .shards
                .iter()
                .map(|shard| Shard {
                    table: RwLock::new(read(&shard.table).clone()),
                })
                .collect(),
            shift: self.shift,
            hasher: self.hasher.clone(),
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
        let Some((walked, looked_up)) = reentry::compared(self, other, NAME) else {
            return true;
        };
        walked.len() == looked_up.len()
            && walked.shards.iter().all(|shard| {
                read(&shard.table).iter().all(|(k, v)| {
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
            let table = shard
                .table
                .into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
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
