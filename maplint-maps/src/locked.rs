//! [`LockedMap`]: one reader-writer lock around one table, with no guard ever handed out; the
//! one-shard case of [`ShardedMap`]'s shard, so the two maps share one implementation.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::ops::ControlFlow;

use crate::{Compute, ShardedIntoIter, ShardedMap};

const NAME: &str = "LockedMap";

/// A hash map behind one reader-writer lock: Go's "`sync.RWMutex` + map", without the guard.
///
/// It is the one-shard case of [`ShardedMap`](crate::ShardedMap) (the same code, the same lock,
/// the same prefetch of the table before the lock is taken), with a whole-map view that is
/// always consistent: [`for_each`](Self::for_each), [`len`](Self::len) and the others run under
/// its one lock.
///
/// Every operation takes the lock, does its work (running your closure, if it has one) and
/// releases the lock before returning, so a lock can never be held across an `.await`, leaked
/// into a struct or forgotten in a loop. Calling the same map from inside one of its closures
/// panics instead of deadlocking (see the [crate docs](crate#re-entrancy-panics-it-never-deadlocks)).
///
/// This is the fastest of the three types on one thread, and for maps touched by few threads.
/// Under writes from several threads every operation contends on the one lock; prefer
/// [`ShardedMap`](crate::ShardedMap) there.
///
/// ```
/// use maplint_maps::LockedMap;
///
/// let sessions = LockedMap::new();
/// sessions.insert("alice", 1);
/// sessions.update("alice", |visits| *visits += 1);
/// assert_eq!(sessions.get("alice"), Some(2));
/// ```
pub struct LockedMap<K, V, S = RandomState>(ShardedMap<K, V, S>);

impl<K, V> LockedMap<K, V, RandomState> {
    /// Creates an empty map with the default hasher.
    ///
    /// ```
    /// let map: maplint_maps::LockedMap<u32, String> = maplint_maps::LockedMap::new();
    /// assert!(map.is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::with_hasher(RandomState::new())
    }

    /// Creates an empty map with room for at least `capacity` entries before it reallocates.
    ///
    /// ```
    /// let map: maplint_maps::LockedMap<u32, u32> = maplint_maps::LockedMap::with_capacity(100);
    /// assert!(map.capacity() >= 100);
    /// ```
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self::with_capacity_and_hasher(capacity, RandomState::new())
    }
}

impl<K, V, S> LockedMap<K, V, S> {
    /// Creates an empty map that hashes keys with `hasher`.
    ///
    /// ```
    /// use std::hash::RandomState;
    /// let map: maplint_maps::LockedMap<u32, u32> =
    ///     maplint_maps::LockedMap::with_hasher(RandomState::new());
    /// map.insert(1, 2);
    /// assert_eq!(map.get(&1), Some(2));
    /// ```
    #[must_use]
    pub fn with_hasher(hasher: S) -> Self {
        Self(ShardedMap::build(1, 0, hasher, NAME))
    }

    /// Creates an empty map with room for at least `capacity` entries, hashing with `hasher`.
    ///
    /// ```
    /// use std::hash::RandomState;
    /// let map: maplint_maps::LockedMap<u32, u32> =
    ///     maplint_maps::LockedMap::with_capacity_and_hasher(10, RandomState::new());
    /// assert!(map.capacity() >= 10);
    /// ```
    #[must_use]
    pub fn with_capacity_and_hasher(capacity: usize, hasher: S) -> Self {
        Self(ShardedMap::build(1, capacity, hasher, NAME))
    }

    /// Returns how many entries the map can hold before it reallocates.
    ///
    /// ```
    /// let map: maplint_maps::LockedMap<u8, u8> = maplint_maps::LockedMap::new();
    /// assert_eq!(map.capacity(), 0);
    /// ```
    pub fn capacity(&self) -> usize {
        self.0.capacity()
    }

    /// The map for the re-entry check (a set over it shares it).
    #[inline]
    pub(crate) fn who(&self) -> crate::reentry::Who<'_> {
        self.0.who()
    }

    /// Names the map for its metrics (the `metrics` feature): every metric of the map carries
    /// the label `map="<name>"` (see the crate's README for the list). A map that is not named
    /// records nothing.
    ///
    /// ```
    /// let config: maplint_maps::LockedMap<String, String> =
    ///     maplint_maps::LockedMap::new().named("config");
    /// config.insert("mode".into(), "fast".into());
    /// config.publish_metrics();
    /// ```
    #[cfg(feature = "metrics")]
    #[must_use]
    pub fn named(self, name: impl Into<String>) -> Self {
        Self(self.0.named(name))
    }

    /// Publishes the map's metrics (the `metrics` feature): its lock's waits so far and its
    /// length, under the read lock; call it where the application publishes its metrics
    /// (before each scrape, or on a timer). Does nothing for a map that is not
    /// [named](Self::named).
    #[cfg(feature = "metrics")]
    pub fn publish_metrics(&self) {
        self.0.publish_metrics();
    }
}

impl<K, V, S> LockedMap<K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    /// Makes room for at least `additional` more entries, under the write lock.
    ///
    /// ```
    /// let map: maplint_maps::LockedMap<u32, u32> = maplint_maps::LockedMap::new();
    /// map.reserve(50);
    /// assert!(map.capacity() >= 50);
    /// ```
    pub fn reserve(&self, additional: usize) {
        self.0.reserve(additional);
    }

    /// Inserts `value` under `key`, returning the value it replaced.
    ///
    /// ```
    /// let map = maplint_maps::LockedMap::new();
    /// assert_eq!(map.insert("k", 1), None);
    /// assert_eq!(map.insert("k", 2), Some(1));
    /// ```
    pub fn insert(&self, key: K, value: V) -> Option<V> {
        self.0.insert(key, value)
    }

    /// Removes `key`, returning its value if it was present.
    ///
    /// ```
    /// let map = maplint_maps::LockedMap::new();
    /// map.insert("k", 1);
    /// assert_eq!(map.remove("k"), Some(1));
    /// assert_eq!(map.remove("k"), None);
    /// ```
    pub fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.remove(key)
    }

    /// Returns a clone of the value under `key`. Nothing stays locked after it returns.
    ///
    /// To read without cloning, use [`with`](Self::with).
    ///
    /// ```
    /// let map = maplint_maps::LockedMap::new();
    /// map.insert(String::from("k"), vec![1, 2]);
    /// assert_eq!(map.get("k"), Some(vec![1, 2]));
    /// ```
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        self.0.get(key)
    }

    /// Returns whether `key` is present.
    ///
    /// The answer may be stale as soon as it returns: to act on it atomically use
    /// [`try_insert`](Self::try_insert) or [`get_or_insert_with`](Self::get_or_insert_with).
    ///
    /// ```
    /// let map = maplint_maps::LockedMap::new();
    /// map.insert(1, ());
    /// assert!(map.contains_key(&1));
    /// assert!(!map.contains_key(&2));
    /// ```
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.contains_key(key)
    }

    /// Returns the number of entries.
    ///
    /// ```
    /// let map = maplint_maps::LockedMap::new();
    /// map.insert(1, 1);
    /// map.insert(2, 2);
    /// assert_eq!(map.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Returns whether the map has no entries.
    ///
    /// ```
    /// let map = maplint_maps::LockedMap::<u8, u8>::new();
    /// assert!(map.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Runs `f` on the value under `key` (or `None`) while holding the read lock, and returns
    /// what `f` returns. Use it to read without cloning.
    ///
    /// `f` must not call this map (that panics); return what you need and act afterwards.
    ///
    /// ```
    /// let map = maplint_maps::LockedMap::new();
    /// map.insert("k", String::from("hello"));
    /// let len = map.with("k", |v| v.map_or(0, String::len));
    /// assert_eq!(len, 5);
    /// ```
    pub fn with<Q, R>(&self, key: &Q, f: impl FnOnce(Option<&V>) -> R) -> R
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.with(key, f)
    }

    /// Runs `f` on the value under `key` while holding the write lock; returns `None`, without
    /// calling `f`, if the key is absent.
    ///
    /// If `f` panics, the value keeps whatever changes `f` made before panicking and the map
    /// stays usable.
    ///
    /// ```
    /// let map = maplint_maps::LockedMap::new();
    /// map.insert("hits", 1);
    /// assert_eq!(map.update("hits", |n| { *n += 1; *n }), Some(2));
    /// assert_eq!(map.update("misses", |n| *n += 1), None);
    /// ```
    pub fn update<Q, R>(&self, key: &Q, f: impl FnOnce(&mut V) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.update(key, f)
    }

    /// Atomically finds the value under `key`, inserting `init()` if it is absent, and runs `f`
    /// on it. No other thread can insert the key between the check and the insertion.
    ///
    /// If `init` panics nothing is inserted.
    ///
    /// ```
    /// let counters = maplint_maps::LockedMap::new();
    /// for word in ["a", "b", "a"] {
    ///     counters.get_or_insert_with(word, || 0, |n| *n += 1);
    /// }
    /// assert_eq!(counters.get("a"), Some(2));
    /// ```
    pub fn get_or_insert_with<R>(&self, key: K, init: impl FnOnce() -> V, f: impl FnOnce(&mut V) -> R) -> R {
        self.0.get_or_insert_with(key, init, f)
    }

    /// Like [`get_or_insert_with`](Self::get_or_insert_with), looked up by a borrowed key
    /// (`&str` for a `String` key): the key is cloned (`to_owned`) only on a miss, to insert it.
    ///
    /// ```
    /// let hits: maplint_maps::LockedMap<String, u32> = maplint_maps::LockedMap::new();
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
        self.0.get_or_insert_with_ref(key, init, f)
    }

    /// Inserts `value` only if `key` is absent, atomically. If the key is present the map is
    /// unchanged and the key and value are handed back.
    ///
    /// ```
    /// let map = maplint_maps::LockedMap::new();
    /// assert_eq!(map.try_insert("k", 1), Ok(()));
    /// assert_eq!(map.try_insert("k", 2), Err(("k", 2)));
    /// assert_eq!(map.get("k"), Some(1));
    /// ```
    pub fn try_insert(&self, key: K, value: V) -> Result<(), (K, V)> {
        self.0.try_insert(key, value)
    }

    /// Removes `key` if `f` returns `true` for its entry, atomically, and returns the removed
    /// entry (`DashMap`'s `remove_if`). `f` is not called when the key is absent.
    ///
    /// ```
    /// let map = maplint_maps::LockedMap::new();
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
        self.0.remove_if(key, f)
    }

    /// Inserts, replaces, changes in place or removes the entry under `key`, atomically,
    /// depending on its current value: `f` sees the value (or `None`) and says what to do with
    /// [`Compute`](crate::Compute). Returns the value that was replaced or removed.
    ///
    /// ```
    /// use maplint_maps::Compute;
    /// let stock = maplint_maps::LockedMap::new();
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
        self.0.compute(key, f)
    }

    /// Keeps only the entries for which `f` returns `true`, under one write lock.
    ///
    /// ```
    /// let map = maplint_maps::LockedMap::new();
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
        self.0.retain(f);
    }

    /// Removes every entry.
    ///
    /// ```
    /// let map = maplint_maps::LockedMap::new();
    /// map.insert(1, 1);
    /// map.clear();
    /// assert!(map.is_empty());
    /// ```
    pub fn clear(&self) {
        self.0.clear();
    }

    /// Runs `f` on every entry and their number, under the read lock.
    #[cfg(feature = "serde")]
    pub(crate) fn with_entries<R>(&self, f: impl FnOnce(usize, &mut dyn Iterator<Item = (&K, &V)>) -> R) -> R {
        self.0.with_entries(f)
    }

    /// Calls `f` on every entry, in no particular order, under one read lock: `f` sees one
    /// consistent state of the map.
    ///
    /// ```
    /// let map = maplint_maps::LockedMap::new();
    /// map.insert("a", 1);
    /// map.insert("b", 2);
    /// let mut sum = 0;
    /// map.for_each(|_, v| sum += v);
    /// assert_eq!(sum, 3);
    /// ```
    pub fn for_each(&self, f: impl FnMut(&K, &V)) {
        self.0.for_each(f);
    }

    /// Calls `f` on the entries, in no particular order, until it returns
    /// `ControlFlow::Break`, under the read lock; returns that break, or `Continue(())` after the last entry.
    /// Stops early without copying the map.
    ///
    /// ```
    /// use std::ops::ControlFlow;
    /// let map = maplint_maps::LockedMap::from([("a", 1), ("b", -2), ("c", 3)]);
    /// let negative = map.try_for_each(|k, v| if *v < 0 { ControlFlow::Break(*k) } else { ControlFlow::Continue(()) });
    /// assert_eq!(negative, ControlFlow::Break("b"));
    /// ```
    pub fn try_for_each<B>(&self, f: impl FnMut(&K, &V) -> ControlFlow<B>) -> ControlFlow<B> {
        self.0.try_for_each(f)
    }

    /// Like [`get_or_insert_with`](Self::get_or_insert_with), with an `init` that can fail: on
    /// a miss, an `Err` from `init` is returned and nothing is inserted.
    ///
    /// ```
    /// let ports = maplint_maps::LockedMap::new();
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
        self.0.try_get_or_insert_with(key, init, f)
    }

    /// Returns a consistent copy of the whole map.
    ///
    /// ```
    /// let map = maplint_maps::LockedMap::new();
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
        self.0.snapshot()
    }
}

impl<K, V, S: Default> Default for LockedMap<K, V, S> {
    /// Creates an empty map with the default hasher.
    ///
    /// ```
    /// let map: maplint_maps::LockedMap<u8, u8> = Default::default();
    /// assert!(map.is_empty());
    /// ```
    fn default() -> Self {
        Self::with_hasher(S::default())
    }
}

impl<K, V, S> fmt::Debug for LockedMap<K, V, S>
where
    K: fmt::Debug,
    V: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<K, V, S> Extend<(K, V)> for LockedMap<K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    /// Inserts every entry.
    ///
    /// ```
    /// let mut map = maplint_maps::LockedMap::new();
    /// map.extend([("a", 1), ("b", 2)]);
    /// assert_eq!(map.len(), 2);
    /// ```
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, entries: I) {
        self.0.extend(entries);
    }
}

impl<K: Clone, V: Clone, S: Clone> Clone for LockedMap<K, V, S> {
    /// Copies the map under its read lock.
    ///
    /// ```
    /// let map = maplint_maps::LockedMap::from([(1, "one")]);
    /// let copy = map.clone();
    /// map.insert(2, "two");
    /// assert_eq!(copy.len(), 1);
    /// ```
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<K, V, S> PartialEq for LockedMap<K, V, S>
where
    K: Eq + Hash,
    V: PartialEq,
    S: BuildHasher,
{
    /// Compares the entries. The two read locks are taken in address order, so `a == b` on one
    /// thread and `b == a` on another cannot deadlock.
    ///
    /// ```
    /// let a = maplint_maps::LockedMap::from([(1, 10)]);
    /// let b = maplint_maps::LockedMap::from([(1, 10)]);
    /// assert!(a == b);
    /// b.insert(2, 20);
    /// assert!(a != b);
    /// ```
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<K, V, S> IntoIterator for LockedMap<K, V, S> {
    type Item = (K, V);
    type IntoIter = ShardedIntoIter<K, V>;

    /// The entries, by value, in no particular order.
    ///
    /// ```
    /// let map = maplint_maps::LockedMap::from([(1, 'a')]);
    /// assert_eq!(map.into_iter().collect::<Vec<_>>(), vec![(1, 'a')]);
    /// ```
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

array_and_eq!(LockedMap);
collect_into!(LockedMap);
