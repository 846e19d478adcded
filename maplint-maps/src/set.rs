//! [`LockedSet`] and [`ShardedSet`]: thin sets over [`LockedMap`] and [`ShardedMap`] with `()`
//! values, with the maps' locking, re-entry check and consistency.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::fmt;
use std::hash::{BuildHasher, Hash, RandomState};
use std::ops::ControlFlow;

use crate::{LockedMap, ShardedMap};

/// One set type over one map type: the same methods, each the map's with `()` values.
macro_rules! set_over_map {
    ($(#[$doc:meta])* $set:ident over $map:ident, into_iter $into_iter:ty) => {
        $(#[$doc])*
        pub struct $set<T, S = RandomState> {
            map: $map<T, (), S>,
        }

        impl<T> $set<T, RandomState> {
            #[doc = concat!("Creates an empty set (see [`", stringify!($map), "::new`]).")]
            #[must_use]
            pub fn new() -> Self {
                Self { map: $map::new() }
            }

            #[doc = concat!("Creates an empty set with room for `capacity` items (see [`", stringify!($map), "::with_capacity`]).")]
            #[must_use]
            pub fn with_capacity(capacity: usize) -> Self {
                Self { map: $map::with_capacity(capacity) }
            }
        }

        impl<T, S> $set<T, S> {
            /// Creates an empty set that hashes items with `hasher`.
            #[must_use]
            pub fn with_hasher(hasher: S) -> Self {
                Self { map: $map::with_hasher(hasher) }
            }

            /// Creates an empty set with room for `capacity` items, hashing with `hasher`.
            #[must_use]
            pub fn with_capacity_and_hasher(capacity: usize, hasher: S) -> Self {
                Self { map: $map::with_capacity_and_hasher(capacity, hasher) }
            }

            /// The re-entry check under the set's own name (the map's would name the map and
            /// its method: `try_insert` for `insert`).
            #[inline]
            fn check(&self, method: &'static str) {
                crate::reentry::check(|| self.map.who().renamed(stringify!($set)), method);
            }

            /// Returns how many items the set can hold before it reallocates.
            pub fn capacity(&self) -> usize {
                self.check("capacity");
                self.map.capacity()
            }
        }

        impl<T: Eq + Hash, S: BuildHasher> $set<T, S> {
            /// Adds `item`; returns whether it was absent.
            pub fn insert(&self, item: T) -> bool {
                self.check("insert");
                self.map.try_insert(item, ()).is_ok()
            }

            /// Removes `item`; returns whether it was present.
            pub fn remove<Q>(&self, item: &Q) -> bool
            where
                T: Borrow<Q>,
                Q: Hash + Eq + ?Sized,
            {
                self.check("remove");
                self.map.remove(item).is_some()
            }

            /// Returns whether `item` is present (the answer may be stale as soon as it returns:
            /// to act on absence use [`insert`](Self::insert), which tells).
            pub fn contains<Q>(&self, item: &Q) -> bool
            where
                T: Borrow<Q>,
                Q: Hash + Eq + ?Sized,
            {
                self.check("contains");
                self.map.contains_key(item)
            }

            /// Returns the number of items.
            pub fn len(&self) -> usize {
                self.check("len");
                self.map.len()
            }

            /// Returns whether the set is empty.
            pub fn is_empty(&self) -> bool {
                self.check("is_empty");
                self.map.is_empty()
            }

            /// Makes room for at least `additional` more items.
            pub fn reserve(&self, additional: usize) {
                self.check("reserve");
                self.map.reserve(additional);
            }

            /// Removes every item.
            pub fn clear(&self) {
                self.check("clear");
                self.map.clear();
            }

            /// Keeps only the items for which `f` returns `true`.
            pub fn retain(&self, mut f: impl FnMut(&T) -> bool) {
                self.check("retain");
                self.map.retain(|item, ()| f(item));
            }

            /// Calls `f` on every item, in no particular order.
            pub fn for_each(&self, mut f: impl FnMut(&T)) {
                self.check("for_each");
                self.map.for_each(|item, ()| f(item));
            }

            /// Calls `f` on the items until it returns `ControlFlow::Break`.
            pub fn try_for_each<B>(&self, mut f: impl FnMut(&T) -> ControlFlow<B>) -> ControlFlow<B> {
                self.check("try_for_each");
                self.map.try_for_each(|item, ()| f(item))
            }

            /// Returns a copy of the items as a plain `HashSet`.
            pub fn snapshot(&self) -> HashSet<T>
            where
                T: Clone,
            {
                let mut out = HashSet::with_capacity(self.len());
                self.for_each(|item| {
                    out.insert(item.clone());
                });
                out
            }
        }

        impl<T, S: Default> Default for $set<T, S> {
            fn default() -> Self {
                Self { map: $map::default() }
            }
        }

        impl<T: Eq + Hash + fmt::Debug, S: BuildHasher> fmt::Debug for $set<T, S> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut out = f.debug_set();
                self.map.for_each(|item, ()| {
                    out.entry(item);
                });
                out.finish()
            }
        }

        impl<T: Clone, S: Clone> Clone for $set<T, S> {
            fn clone(&self) -> Self {
                Self { map: self.map.clone() }
            }
        }

        impl<T: Eq + Hash, S: BuildHasher> PartialEq for $set<T, S> {
            fn eq(&self, other: &Self) -> bool {
                self.map == other.map
            }
        }

        impl<T: Eq + Hash, S: BuildHasher> Eq for $set<T, S> {}

        impl<T: Eq + Hash, S: BuildHasher> Extend<T> for $set<T, S> {
            fn extend<I: IntoIterator<Item = T>>(&mut self, items: I) {
                self.map.extend(items.into_iter().map(|item| (item, ())));
            }
        }

        impl<T: Eq + Hash, S: BuildHasher + Default> FromIterator<T> for $set<T, S> {
            fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
                Self { map: items.into_iter().map(|item| (item, ())).collect() }
            }
        }

        /// Serializes as a sequence, from one consistent view (see the map's `Serialize`).
        #[cfg(feature = "serde")]
        impl<T: serde::Serialize + Eq + Hash, S: BuildHasher> serde::Serialize for $set<T, S> {
            fn serialize<Se: serde::Serializer>(&self, serializer: Se) -> Result<Se::Ok, Se::Error> {
                use serde::ser::SerializeSeq;
                self.map.with_entries(|len, items| {
                    let mut out = serializer.serialize_seq(Some(len))?;
                    for (item, ()) in items {
                        out.serialize_element(item)?;
                    }
                    out.end()
                })
            }
        }

        /// Reads a sequence (a repeated item counts once).
        #[cfg(feature = "serde")]
        impl<'de, T, S> serde::Deserialize<'de> for $set<T, S>
        where
            T: serde::Deserialize<'de> + Eq + Hash,
            S: BuildHasher + Default + Clone,
        {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let items = HashSet::<T, S>::deserialize(deserializer)?;
                let mut map = std::collections::HashMap::with_capacity_and_hasher(items.len(), items.hasher().clone());
                map.extend(items.into_iter().map(|item| (item, ())));
                Ok(Self { map: $map::from(map) })
            }
        }

        impl<T: Eq + Hash, const N: usize> From<[T; N]> for $set<T, RandomState> {
            fn from(items: [T; N]) -> Self {
                items.into_iter().collect()
            }
        }

        impl<T, S> IntoIterator for $set<T, S> {
            type Item = T;
            type IntoIter = std::iter::Map<$into_iter, fn((T, ())) -> T>;

            /// The items, by value.
            fn into_iter(self) -> Self::IntoIter {
                let first: fn((T, ())) -> T = |(item, ())| item;
                self.map.into_iter().map(first)
            }
        }
    };
}

set_over_map! {
    /// A set behind one reader-writer lock: [`LockedMap`] with `()` values.
    ///
    /// ```
    /// let seen = maplint_maps::LockedSet::new();
    /// assert!(seen.insert("a"));
    /// assert!(!seen.insert("a"));
    /// assert!(seen.contains("a"));
    /// let all: maplint_maps::LockedSet<_> = ["x", "y"].into_iter().collect();
    /// assert_eq!(all.len(), 2);
    /// ```
    LockedSet over LockedMap, into_iter crate::ShardedIntoIter<T, ()>
}

set_over_map! {
    /// A sharded set: [`ShardedMap`] with `()` values.
    ///
    /// ```
    /// let seen = maplint_maps::ShardedSet::new();
    /// std::thread::scope(|s| {
    ///     for t in 0..4 {
    ///         let seen = &seen;
    ///         s.spawn(move || seen.insert(t % 2));
    ///     }
    /// });
    /// assert_eq!(seen.len(), 2);
    /// ```
    ShardedSet over ShardedMap, into_iter crate::ShardedIntoIter<T, ()>
}
