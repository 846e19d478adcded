//! [`SnapshotMap`]: lock-free reads of an immutable snapshot; serialized copy-on-write writers.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::collections::hash_map::{Entry, RandomState};
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::marker::PhantomData;
use std::ops::ControlFlow;

use crate::Compute;
#[cfg(feature = "metrics")]
use crate::metrics::MapMetrics;
use crate::reentry::{self, Method, Who};
use crate::sync::{self, Arc, Mutex, MutexGuard, SnapCell, Waits};

const NAME: &str = "SnapshotMap";

/// A read-mostly map: readers load an immutable snapshot without taking any lock, writers copy
/// the map, change the copy and publish it. Go's `atomic.Value` holding a map (the read-mostly
/// role of `sync.Map`), without the lost update.
///
/// - **Reads** ([`get`](Self::get), [`with`](Self::with), [`contains_key`](Self::contains_key),
///   [`len`](Self::len), [`for_each`](Self::for_each), [`load`](Self::load)) never block and
///   never wait for a writer; each sees one complete published version.
/// - **Writes** are serialized by a writer lock and copy the whole map (O(n) per write), so two
///   concurrent writers can never both start from the same version and lose one update, as a
///   hand-written load/clone/store does.
/// - **A write whose closure panics publishes nothing**: the map keeps its previous version.
///
/// Use it when writes are rare (configuration, routing tables, feature flags); for maps that
/// are written often use [`ShardedMap`](crate::ShardedMap). Calling the same map from inside one
/// of its closures panics (see the [crate docs](crate#re-entrancy-panics-it-never-deadlocks)).
///
/// ```
/// use maplint_maps::SnapshotMap;
///
/// let routes = SnapshotMap::new();
/// routes.insert("/", "index");
/// let before = routes.load(); // a consistent view that never changes
/// routes.insert("/about", "about");
/// assert_eq!(before.len(), 1);
/// assert_eq!(routes.len(), 2);
/// ```
pub struct SnapshotMap<K, V, S = RandomState> {
    current: SnapCell<HashMap<K, V, S>>,
    writer: Mutex<()>,
    /// The map's metrics, once it is [named](Self::named).
    #[cfg(feature = "metrics")]
    metrics: Option<Box<MapMetrics>>,
    /// The writer lock's contended acquisitions (the `metrics` feature).
    writer_waits: Waits,
}

impl<K, V> SnapshotMap<K, V, RandomState> {
    /// Creates an empty map with the default hasher.
    ///
    /// ```
    /// let map: maplint_maps::SnapshotMap<u32, String> = maplint_maps::SnapshotMap::new();
    /// assert!(map.is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::with_hasher(RandomState::new())
    }

    /// Creates an empty map with room for at least `capacity` entries; every copy a write makes
    /// keeps that room.
    ///
    /// ```
    /// let map: maplint_maps::SnapshotMap<u32, u32> = maplint_maps::SnapshotMap::with_capacity(100);
    /// assert!(map.capacity() >= 100);
    /// ```
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self::with_capacity_and_hasher(capacity, RandomState::new())
    }
}

impl<K, V, S> SnapshotMap<K, V, S> {
    /// Creates an empty map that hashes keys with `hasher`.
    ///
    /// ```
    /// use std::hash::RandomState;
    /// let map: maplint_maps::SnapshotMap<u32, u32> =
    ///     maplint_maps::SnapshotMap::with_hasher(RandomState::new());
    /// map.insert(1, 2);
    /// assert_eq!(map.get(&1), Some(2));
    /// ```
    #[must_use]
    pub fn with_hasher(hasher: S) -> Self {
        Self::from(HashMap::with_hasher(hasher))
    }

    /// Creates an empty map with room for at least `capacity` entries, hashing with `hasher`.
    ///
    /// ```
    /// use std::hash::RandomState;
    /// let map: maplint_maps::SnapshotMap<u32, u32> =
    ///     maplint_maps::SnapshotMap::with_capacity_and_hasher(10, RandomState::new());
    /// assert!(map.capacity() >= 10);
    /// ```
    #[must_use]
    pub fn with_capacity_and_hasher(capacity: usize, hasher: S) -> Self {
        Self::from(HashMap::with_capacity_and_hasher(capacity, hasher))
    }

    /// Returns how many entries the current version can hold before a write reallocates.
    ///
    /// ```
    /// let map: maplint_maps::SnapshotMap<u8, u8> = maplint_maps::SnapshotMap::new();
    /// assert_eq!(map.capacity(), 0);
    /// ```
    pub fn capacity(&self) -> usize {
        reentry::check(|| self.who(), "capacity");
        self.current.with(HashMap::capacity)
    }

    /// The map for the re-entry check: its identity (its address), type name and metrics.
    #[inline]
    fn who(&self) -> Who<'_> {
        Who {
            id: std::ptr::from_ref(self).addr(),
            name: NAME,
            #[cfg(feature = "metrics")]
            metrics: self.metrics.as_deref(),
            map: PhantomData,
        }
    }

    /// Takes the writer lock (counting a contended wait, with the `metrics` feature).
    fn writer(&self) -> MutexGuard<'_, ()> {
        sync::lock_counted(&self.writer, &self.writer_waits)
    }

    /// Counts a copy of `len` entries (the `metrics` feature).
    #[cfg_attr(not(feature = "metrics"), allow(clippy::unused_self))]
    #[inline]
    fn copied(&self, len: usize) {
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &self.metrics {
            metrics.copied(len, std::mem::size_of::<(K, V)>());
        }
        #[cfg(not(feature = "metrics"))]
        let _ = len;
    }

    /// Names the map for its metrics (the `metrics` feature): every metric of the map carries
    /// the label `map="<name>"`: the writer lock's contention, and the copies its writes make
    /// (see the crate's README for the list). A map that is not named records nothing.
    ///
    /// ```
    /// let routes: maplint_maps::SnapshotMap<String, u16> =
    ///     maplint_maps::SnapshotMap::new().named("routes");
    /// routes.insert("/".into(), 200);
    /// routes.publish_metrics();
    /// ```
    #[cfg(feature = "metrics")]
    #[must_use]
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.metrics = Some(Box::new(MapMetrics::new(name.into(), true, false)));
        self
    }

    /// Publishes the map's metrics (the `metrics` feature): its writer lock's waits so far and
    /// the length of the current version, without blocking; call it where the application
    /// publishes its metrics. Does nothing for a map that is not [named](Self::named).
    #[cfg(feature = "metrics")]
    pub fn publish_metrics(&self) {
        reentry::check(|| self.who(), "publish_metrics");
        if let Some(metrics) = &self.metrics {
            metrics.publish(std::iter::once(&self.writer_waits), &[self.current.with(HashMap::len)]);
        }
    }

    /// Returns the current version of the whole map. It is an immutable, consistent view: later
    /// writes publish new versions and never change this one.
    ///
    /// Keep it for as long as you need one consistent view; for single lookups prefer
    /// [`get`](Self::get) or [`with`](Self::with), which do not touch the reference count.
    ///
    /// ```
    /// let map = maplint_maps::SnapshotMap::new();
    /// map.insert("a", 1);
    /// map.insert("b", 2);
    /// let view = map.load();
    /// map.clear();
    /// assert_eq!(view.values().sum::<i32>(), 3);
    /// ```
    pub fn load(&self) -> Arc<HashMap<K, V, S>> {
        reentry::check(|| self.who(), "load");
        self.current.load_full()
    }
}

impl<K, V, S> SnapshotMap<K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    /// Returns a clone of the value under `key`, read from the current snapshot without locking.
    ///
    /// ```
    /// let map = maplint_maps::SnapshotMap::new();
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
        self.current.with(|map| map.get(key).cloned())
    }

    /// Returns whether `key` is present in the current snapshot.
    ///
    /// ```
    /// let map = maplint_maps::SnapshotMap::new();
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
        self.current.with(|map| map.contains_key(key))
    }

    /// Returns the number of entries in the current snapshot.
    ///
    /// ```
    /// let map = maplint_maps::SnapshotMap::new();
    /// map.insert(1, 1);
    /// map.insert(2, 2);
    /// assert_eq!(map.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        reentry::check(|| self.who(), "len");
        self.current.with(HashMap::len)
    }

    /// Returns whether the current snapshot has no entries.
    ///
    /// ```
    /// let map = maplint_maps::SnapshotMap::<u8, u8>::new();
    /// assert!(map.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        reentry::check(|| self.who(), "is_empty");
        self.current.with(HashMap::is_empty)
    }

    /// Runs `f` on the value under `key` (or `None`) in the current snapshot, without locking.
    ///
    /// ```
    /// let map = maplint_maps::SnapshotMap::new();
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
        self.current.with(|map| f(map.get(key)))
    }

    /// Runs `f` on every entry of the current snapshot and their number.
    #[cfg(feature = "serde")]
    pub(crate) fn with_entries<R>(&self, f: impl FnOnce(usize, &mut dyn Iterator<Item = (&K, &V)>) -> R) -> R {
        let _frame = reentry::enter(|| self.who(), Method::Serialize);
        self.current.with(|map| f(map.len(), &mut map.iter()))
    }

    /// Calls `f` on every entry of the current snapshot, in no particular order, without
    /// locking: `f` sees one consistent version, and writers are not held up.
    ///
    /// ```
    /// let map = maplint_maps::SnapshotMap::new();
    /// map.insert("a", 1);
    /// map.insert("b", 2);
    /// let mut sum = 0;
    /// map.for_each(|_, v| sum += v);
    /// assert_eq!(sum, 3);
    /// ```
    pub fn for_each(&self, mut f: impl FnMut(&K, &V)) {
        let _frame = reentry::enter(|| self.who(), Method::ForEach);
        self.current.with(|map| {
            for (k, v) in map {
                f(k, v);
            }
        });
    }

    /// Calls `f` on the entries, in no particular order, until it returns
    /// `ControlFlow::Break` on one consistent version, without locking; returns that break, or `Continue(())` after the last entry.
    /// Stops early without copying the map.
    ///
    /// ```
    /// use std::ops::ControlFlow;
    /// let map = maplint_maps::SnapshotMap::from([("a", 1), ("b", -2), ("c", 3)]);
    /// let negative = map.try_for_each(|k, v| if *v < 0 { ControlFlow::Break(*k) } else { ControlFlow::Continue(()) });
    /// assert_eq!(negative, ControlFlow::Break("b"));
    /// ```
    pub fn try_for_each<B>(&self, mut f: impl FnMut(&K, &V) -> ControlFlow<B>) -> ControlFlow<B> {
        let _frame = reentry::enter(|| self.who(), Method::TryForEach);
        self.current.with(|map| map.iter().try_for_each(|(k, v)| f(k, v)))
    }

    /// Returns a copy of the current snapshot as a plain `HashMap`.
    ///
    /// [`load`](SnapshotMap::load) gives the same consistent view without copying.
    ///
    /// ```
    /// let map = maplint_maps::SnapshotMap::new();
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
        self.current
            .with(|map| map.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    }
}

impl<K, V, S> SnapshotMap<K, V, S>
where
    K: Eq + Hash + Clone,
    V: Clone,
    S: BuildHasher + Clone,
{
    /// Runs `change` on a private copy of the current version, under the writer lock, and
    /// publishes the copy if `change` says so (first tuple element). A panic in `change` drops
    /// the copy: nothing is published.
    fn write<R>(&self, change: impl FnOnce(&mut HashMap<K, V, S>) -> (bool, R)) -> R {
        let _writer = self.writer();
        let mut next = HashMap::clone(&self.current.load_full());
        self.copied(next.len());
        let (publish, result) = change(&mut next);
        if publish {
            self.current.store(Arc::new(next));
        }
        result
    }

    /// Runs `decide` on the current version under the writer lock; only when it asks for a
    /// change (returns `Err`) is the map copied and `change` applied. Saves the copy for writes
    /// that turn out to be no-ops.
    fn write_if<T, R>(
        &self,
        decide: impl FnOnce(&HashMap<K, V, S>) -> Result<R, T>,
        change: impl FnOnce(&mut HashMap<K, V, S>, T) -> R,
    ) -> R {
        let _writer = self.writer();
        let current = self.current.load_full();
        match decide(&current) {
            Ok(unchanged) => unchanged,
            Err(token) => {
                let mut next = HashMap::clone(&current);
                drop(current);
                self.copied(next.len());
                let result = change(&mut next, token);
                self.current.store(Arc::new(next));
                result
            }
        }
    }

    /// Makes room for at least `additional` more entries: publishes a copy with that room
    /// (later copies keep it).
    ///
    /// ```
    /// let map: maplint_maps::SnapshotMap<u32, u32> = maplint_maps::SnapshotMap::new();
    /// map.reserve(50);
    /// assert!(map.capacity() >= 50);
    /// ```
    pub fn reserve(&self, additional: usize) {
        reentry::check(|| self.who(), "reserve");
        self.write(|map| {
            map.reserve(additional);
            (true, ())
        });
    }

    /// Inserts `value` under `key`, returning the value it replaced. Copies the map.
    ///
    /// ```
    /// let map = maplint_maps::SnapshotMap::new();
    /// assert_eq!(map.insert("k", 1), None);
    /// assert_eq!(map.insert("k", 2), Some(1));
    /// ```
    pub fn insert(&self, key: K, value: V) -> Option<V> {
        reentry::check(|| self.who(), "insert");
        self.write(|map| (true, map.insert(key, value)))
    }

    /// Removes `key`, returning its value if it was present. Copies the map only if the key is
    /// present.
    ///
    /// ```
    /// let map = maplint_maps::SnapshotMap::new();
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
        self.write_if(
            |map| if map.contains_key(key) { Err(()) } else { Ok(None) },
            |map, ()| map.remove(key),
        )
    }

    /// Runs `f` on a copy of the value under `key` and publishes the result; returns `None`,
    /// without calling `f` or copying, if the key is absent. If `f` panics nothing changes.
    ///
    /// ```
    /// let map = maplint_maps::SnapshotMap::new();
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
        self.write_if(
            |map| if map.contains_key(key) { Err(()) } else { Ok(None) },
            |map, ()| map.get_mut(key).map(f),
        )
    }

    /// Atomically finds the value under `key`, inserting `init()` if it is absent, runs `f` on
    /// it and publishes the result (writers are serialized, so no other writer can slip in
    /// between). Always copies the map, since `f` may change the value; to only read, use
    /// [`with`](Self::with). If `init` or `f` panics nothing changes.
    ///
    /// ```
    /// let counters = maplint_maps::SnapshotMap::new();
    /// for word in ["a", "b", "a"] {
    ///     counters.get_or_insert_with(word, || 0, |n| *n += 1);
    /// }
    /// assert_eq!(counters.get("a"), Some(2));
    /// ```
    pub fn get_or_insert_with<R>(&self, key: K, init: impl FnOnce() -> V, f: impl FnOnce(&mut V) -> R) -> R {
        let _frame = reentry::enter(|| self.who(), Method::GetOrInsertWith);
        self.write(|map| {
            let value = match map.entry(key) {
                Entry::Occupied(entry) => entry.into_mut(),
                Entry::Vacant(entry) => entry.insert(init()),
            };
            (true, f(value))
        })
    }

    /// Like [`get_or_insert_with`](Self::get_or_insert_with), with an `init` that can fail: on
    /// a miss, an `Err` from `init` is returned and nothing is published.
    ///
    /// ```
    /// let ports = maplint_maps::SnapshotMap::new();
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
        self.write(|map| {
            let value = match map.entry(key) {
                Entry::Occupied(entry) => entry.into_mut(),
                Entry::Vacant(entry) => match init() {
                    Ok(v) => entry.insert(v),
                    Err(e) => return (false, Err(e)),
                },
            };
            (true, Ok(f(value)))
        })
    }

    /// Runs `f` on a private copy of the current version and publishes it as one new version:
    /// many writes for one copy and one publish (each single write copies the map). Readers see
    /// all of `f`'s changes or none; if `f` panics nothing is published.
    ///
    /// ```
    /// let prices = maplint_maps::SnapshotMap::new();
    /// let added = prices.batch(|map| {
    ///     for (item, cents) in [("tea", 250), ("coffee", 300)] {
    ///         map.insert(item, cents);
    ///     }
    ///     map.len()
    /// });
    /// assert_eq!(added, 2);
    /// assert_eq!(prices.get("tea"), Some(250));
    /// ```
    pub fn batch<R>(&self, f: impl FnOnce(&mut HashMap<K, V, S>) -> R) -> R {
        let _frame = reentry::enter(|| self.who(), Method::Batch);
        self.write(|map| (true, f(map)))
    }

    /// Like [`get_or_insert_with`](Self::get_or_insert_with), looked up by a borrowed key
    /// (`&str` for a `String` key): the key is cloned (`to_owned`) only on a miss, to insert it.
    ///
    /// ```
    /// let hits: maplint_maps::SnapshotMap<String, u32> = maplint_maps::SnapshotMap::new();
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
        self.write(|map| {
            if let Some(value) = map.get_mut(key) {
                return (true, f(value));
            }
            (true, f(map.entry(key.to_owned()).or_insert_with(init)))
        })
    }

    /// Inserts `value` only if `key` is absent, atomically; copies the map only then. If the key
    /// is present the map is unchanged and the key and value are handed back.
    ///
    /// ```
    /// let map = maplint_maps::SnapshotMap::new();
    /// assert_eq!(map.try_insert("k", 1), Ok(()));
    /// assert_eq!(map.try_insert("k", 2), Err(("k", 2)));
    /// assert_eq!(map.get("k"), Some(1));
    /// ```
    pub fn try_insert(&self, key: K, value: V) -> Result<(), (K, V)> {
        reentry::check(|| self.who(), "try_insert");
        self.write_if(
            |map| {
                if map.contains_key(&key) {
                    Ok(Err((key, value)))
                } else {
                    Err((key, value))
                }
            },
            |map, (key, value)| {
                map.insert(key, value);
                Ok(())
            },
        )
    }

    /// Removes `key` if `f` returns `true` for its entry, atomically, and returns the removed
    /// entry (`DashMap`'s `remove_if`). Copies the map only when it removes. `f` is not called when the key is absent.
    ///
    /// ```
    /// let map = maplint_maps::SnapshotMap::new();
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
        self.write_if(
            |map| match map.get_key_value(key) {
                Some((k, v)) if f(k, v) => Err(()),
                _ => Ok(None),
            },
            |map, ()| map.remove_entry(key),
        )
    }

    /// Inserts, replaces, changes in place or removes the entry under `key`, atomically,
    /// depending on its current value: `f` sees the value (or `None`) and says what to do with
    /// [`Compute`](crate::Compute). Returns the value that was replaced or removed. Copies the map (and publishes
    /// nothing when the key is absent and stays so); if `f` panics nothing changes.
    ///
    /// ```
    /// use maplint_maps::Compute;
    /// let stock = maplint_maps::SnapshotMap::new();
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
        self.write(|map| match map.entry(key) {
            Entry::Occupied(mut entry) => match f(Some(entry.get_mut())) {
                Compute::Keep => (true, None),
                Compute::Set(value) => (true, Some(entry.insert(value))),
                Compute::Remove => (true, Some(entry.remove())),
            },
            Entry::Vacant(entry) => match f(None) {
                Compute::Set(value) => {
                    entry.insert(value);
                    (true, None)
                }
                Compute::Keep | Compute::Remove => (false, None),
            },
        })
    }

    /// Keeps only the entries for which `f` returns `true`, publishing the result as one new
    /// version. If `f` panics nothing changes.
    ///
    /// ```
    /// let map = maplint_maps::SnapshotMap::new();
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
    pub fn retain(&self, f: impl FnMut(&K, &mut V) -> bool) {
        let _frame = reentry::enter(|| self.who(), Method::Retain);
        self.write(|map| {
            map.retain(f);
            (true, ())
        });
    }

    /// Publishes an empty version (without copying anything).
    ///
    /// ```
    /// let map = maplint_maps::SnapshotMap::new();
    /// map.insert(1, 1);
    /// map.clear();
    /// assert!(map.is_empty());
    /// ```
    pub fn clear(&self) {
        reentry::check(|| self.who(), "clear");
        let _writer = self.writer();
        let hasher = self.current.with(|map| map.hasher().clone());
        self.current.store(Arc::new(HashMap::with_hasher(hasher)));
    }
}

impl<K, V, S: Default> Default for SnapshotMap<K, V, S> {
    /// Creates an empty map with the default hasher.
    ///
    /// ```
    /// let map: maplint_maps::SnapshotMap<u8, u8> = Default::default();
    /// assert!(map.is_empty());
    /// ```
    fn default() -> Self {
        Self::with_hasher(S::default())
    }
}

impl<K, V, S> fmt::Debug for SnapshotMap<K, V, S>
where
    K: fmt::Debug,
    V: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let _frame = reentry::enter(|| self.who(), Method::Fmt);
        self.current.with(|map| f.debug_map().entries(map.iter()).finish())
    }
}

impl<K, V, S> Extend<(K, V)> for SnapshotMap<K, V, S>
where
    K: Eq + Hash + Clone,
    V: Clone,
    S: BuildHasher + Clone,
{
    /// Inserts every entry and publishes them as one new version: the map is copied once, not
    /// once per entry.
    ///
    /// ```
    /// let mut map = maplint_maps::SnapshotMap::new();
    /// map.extend([("a", 1), ("b", 2)]);
    /// assert_eq!(map.len(), 2);
    /// ```
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, entries: I) {
        self.write(|map| {
            map.extend(entries);
            (true, ())
        });
    }
}

impl<K, V, S> From<HashMap<K, V, S>> for SnapshotMap<K, V, S> {
    /// Publishes the map as the first version (no copy, same hasher).
    ///
    /// ```
    /// let mut plain = std::collections::HashMap::new();
    /// plain.insert("k", 1);
    /// let map = maplint_maps::SnapshotMap::from(plain);
    /// assert_eq!(map.get("k"), Some(1));
    /// ```
    fn from(map: HashMap<K, V, S>) -> Self {
        Self {
            current: SnapCell::new(map),
            writer: Mutex::new(()),
            #[cfg(feature = "metrics")]
            metrics: None,
            writer_waits: Waits::default(),
        }
    }
}

impl<K, V, S> Clone for SnapshotMap<K, V, S> {
    /// A map that starts from the current version, shared (no copy until either map writes).
    ///
    /// ```
    /// let map = maplint_maps::SnapshotMap::from([(1, "one")]);
    /// let copy = map.clone();
    /// map.insert(2, "two");
    /// assert_eq!(copy.len(), 1);
    /// ```
    fn clone(&self) -> Self {
        reentry::check(|| self.who(), "clone");
        Self {
            current: SnapCell::from_arc(self.current.load_full()),
            writer: Mutex::new(()),
            // (A copy is a map of its own: unnamed, it records nothing.)
            #[cfg(feature = "metrics")]
            metrics: None,
            writer_waits: Waits::default(),
        }
    }
}

impl<K, V, S> PartialEq for SnapshotMap<K, V, S>
where
    K: Eq + Hash,
    V: PartialEq,
    S: BuildHasher,
{
    /// Compares the current versions (no lock is taken).
    ///
    /// ```
    /// let a = maplint_maps::SnapshotMap::from([(1, 10)]);
    /// let b = maplint_maps::SnapshotMap::from([(1, 10)]);
    /// assert!(a == b);
    /// b.insert(2, 20);
    /// assert!(a != b);
    /// ```
    fn eq(&self, other: &Self) -> bool {
        reentry::check(|| self.who(), "eq");
        reentry::check(|| other.who(), "eq");
        *self.current.load_full() == *other.current.load_full()
    }
}

impl<K: Clone, V: Clone, S: Clone> IntoIterator for SnapshotMap<K, V, S> {
    type Item = (K, V);
    type IntoIter = std::collections::hash_map::IntoIter<K, V>;

    /// The entries of the current version, by value (copied only if a [`load`](SnapshotMap::load)
    /// view of it is still alive).
    ///
    /// ```
    /// let map = maplint_maps::SnapshotMap::from([(1, 'a')]);
    /// assert_eq!(map.into_iter().collect::<Vec<_>>(), vec![(1, 'a')]);
    /// ```
    fn into_iter(self) -> Self::IntoIter {
        // (`try_unwrap`, not `unwrap_or_clone`: loom's `Arc` has only the former.)
        Arc::try_unwrap(self.current.into_inner())
            .unwrap_or_else(|shared| HashMap::clone(&shared))
            .into_iter()
    }
}

from_iter_via_hash_map!(SnapshotMap);
array_and_eq!(SnapshotMap);
