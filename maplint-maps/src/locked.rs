//! [`LockedMap`]: one `RwLock` around one `HashMap`, with no guard ever handed out.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::collections::hash_map::{Entry, RandomState};
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::ops::ControlFlow;
use std::sync::PoisonError;

use crate::Compute;
use crate::reentry::{self, Method};
use crate::sync::{RwLock, read, write};

const NAME: &str = "LockedMap";

/// A `HashMap` behind one reader-writer lock: Go's "`sync.RWMutex` + map", without the guard.
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
pub struct LockedMap<K, V, S = RandomState> {
    inner: RwLock<HashMap<K, V, S>>,
}

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
        Self {
            inner: RwLock::new(HashMap::with_hasher(hasher)),
        }
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
        Self {
            inner: RwLock::new(HashMap::with_capacity_and_hasher(capacity, hasher)),
        }
    }

    /// Returns how many entries the map can hold before it reallocates.
    ///
    /// ```
    /// let map: maplint_maps::LockedMap<u8, u8> = maplint_maps::LockedMap::new();
    /// assert_eq!(map.capacity(), 0);
    /// ```
    pub fn capacity(&self) -> usize {
        reentry::check(self.id(), NAME, "capacity");
        read(&self.inner).capacity()
    }

    /// The map's identity for the re-entry check (its address; a set over it shares it).
    #[inline]
    pub(crate) fn id(&self) -> usize {
        std::ptr::from_ref(self).addr()
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
        reentry::check(self.id(), NAME, "reserve");
        write(&self.inner).reserve(additional);
    }

    /// Inserts `value` under `key`, returning the value it replaced.
    ///
    /// ```
    /// let map = maplint_maps::LockedMap::new();
    /// assert_eq!(map.insert("k", 1), None);
    /// assert_eq!(map.insert("k", 2), Some(1));
    /// ```
    pub fn insert(&self, key: K, value: V) -> Option<V> {
        reentry::check(self.id(), NAME, "insert");
        write(&self.inner).insert(key, value)
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
        reentry::check(self.id(), NAME, "remove");
        write(&self.inner).remove(key)
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
        reentry::check(self.id(), NAME, "get");
        read(&self.inner).get(key).cloned()
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
        reentry::check(self.id(), NAME, "contains_key");
        read(&self.inner).contains_key(key)
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
        reentry::check(self.id(), NAME, "len");
        read(&self.inner).len()
    }

    /// Returns whether the map has no entries.
    ///
    /// ```
    /// let map = maplint_maps::LockedMap::<u8, u8>::new();
    /// assert!(map.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        reentry::check(self.id(), NAME, "is_empty");
        read(&self.inner).is_empty()
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
        let _frame = reentry::enter(self.id(), NAME, Method::With);
        f(read(&self.inner).get(key))
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
        let _frame = reentry::enter(self.id(), NAME, Method::Update);
        write(&self.inner).get_mut(key).map(f)
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
        let _frame = reentry::enter(self.id(), NAME, Method::GetOrInsertWith);
        let mut map = write(&self.inner);
        let value = match map.entry(key) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => entry.insert(init()),
        };
        f(value)
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
        let _frame = reentry::enter(self.id(), NAME, Method::GetOrInsertWithRef);
        let mut map = write(&self.inner);
        if let Some(value) = map.get_mut(key) {
            return f(value);
        }
        f(map.entry(key.to_owned()).or_insert_with(init))
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
        reentry::check(self.id(), NAME, "try_insert");
        let mut map = write(&self.inner);
        if map.contains_key(&key) {
            return Err((key, value));
        }
        map.insert(key, value);
        Ok(())
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
        let _frame = reentry::enter(self.id(), NAME, Method::RemoveIf);
        let mut map = write(&self.inner);
        let (k, v) = map.get_key_value(key)?;
        if f(k, v) { map.remove_entry(key) } else { None }
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
        let _frame = reentry::enter(self.id(), NAME, Method::Compute);
        match write(&self.inner).entry(key) {
            Entry::Occupied(mut entry) => match f(Some(entry.get_mut())) {
                Compute::Keep => None,
                Compute::Set(value) => Some(entry.insert(value)),
                Compute::Remove => Some(entry.remove()),
            },
            Entry::Vacant(entry) => {
                if let Compute::Set(value) = f(None) {
                    entry.insert(value);
                }
                None
            }
        }
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
        let _frame = reentry::enter(self.id(), NAME, Method::Retain);
        write(&self.inner).retain(f);
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
        reentry::check(self.id(), NAME, "clear");
        write(&self.inner).clear();
    }

    /// Runs `f` on every entry and their number, under the read lock.
    #[cfg(feature = "serde")]
    pub(crate) fn with_entries<R>(&self, f: impl FnOnce(usize, &mut dyn Iterator<Item = (&K, &V)>) -> R) -> R {
        let _frame = reentry::enter(self.id(), NAME, Method::Serialize);
        let map = read(&self.inner);
        f(map.len(), &mut map.iter())
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
    pub fn for_each(&self, mut f: impl FnMut(&K, &V)) {
        let _frame = reentry::enter(self.id(), NAME, Method::ForEach);
        for (key, value) in read(&self.inner).iter() {
            f(key, value);
        }
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
    pub fn try_for_each<B>(&self, mut f: impl FnMut(&K, &V) -> ControlFlow<B>) -> ControlFlow<B> {
        let _frame = reentry::enter(self.id(), NAME, Method::TryForEach);
        read(&self.inner).iter().try_for_each(|(k, v)| f(k, v))
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
        let _frame = reentry::enter(self.id(), NAME, Method::TryGetOrInsertWith);
        let mut map = write(&self.inner);
        let value = match map.entry(key) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => entry.insert(init()?),
        };
        Ok(f(value))
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
        reentry::check(self.id(), NAME, "snapshot");
        read(&self.inner).iter().map(|(k, v)| (k.clone(), v.clone())).collect()
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
        let _frame = reentry::enter(self.id(), NAME, Method::Fmt);
        f.debug_map().entries(read(&self.inner).iter()).finish()
    }
}

impl<K, V, S> Extend<(K, V)> for LockedMap<K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    /// Inserts every entry (the map is borrowed mutably: no lock is taken).
    ///
    /// ```
    /// let mut map = maplint_maps::LockedMap::new();
    /// map.extend([("a", 1), ("b", 2)]);
    /// assert_eq!(map.len(), 2);
    /// ```
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, entries: I) {
        self.inner
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(entries);
    }
}

impl<K, V, S> From<HashMap<K, V, S>> for LockedMap<K, V, S> {
    /// Wraps the map as it is (no copy, same hasher).
    ///
    /// ```
    /// let mut plain = std::collections::HashMap::new();
    /// plain.insert("k", 1);
    /// let map = maplint_maps::LockedMap::from(plain);
    /// assert_eq!(map.get("k"), Some(1));
    /// ```
    fn from(map: HashMap<K, V, S>) -> Self {
        Self {
            inner: RwLock::new(map),
        }
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
        reentry::check(self.id(), NAME, "clone");
        Self::from(read(&self.inner).clone())
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
        let Some((first, second)) = reentry::compared(self, other, NAME) else {
            return true;
        };
        let first = read(&first.inner);
        *first == *read(&second.inner)
    }
}

impl<K, V, S> IntoIterator for LockedMap<K, V, S> {
    type Item = (K, V);
    type IntoIter = std::collections::hash_map::IntoIter<K, V>;

    /// The entries, by value, in no particular order.
    ///
    /// ```
    /// let map = maplint_maps::LockedMap::from([(1, 'a')]);
    /// assert_eq!(map.into_iter().collect::<Vec<_>>(), vec![(1, 'a')]);
    /// ```
    fn into_iter(self) -> Self::IntoIter {
        self.inner
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .into_iter()
    }
}

from_iter_via_hash_map!(LockedMap);
array_and_eq!(LockedMap);
