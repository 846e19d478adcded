//! Concurrent maps that cannot deadlock on themselves: the safe map types `cargo maplint`
//! suggests, in the roles of Go's three safe alternatives to a shared `map`.
//!
//! | type | Go analogue | representation | use it when |
//! |---|---|---|---|
//! | [`LockedMap`] | `sync.RWMutex` + `map` | one reader-writer lock around one table: a one-shard [`ShardedMap`] | few threads, or mostly one |
//! | [`ShardedMap`] | sharded map | power-of-two cache-padded shards, one lock each | many threads read and write |
//! | [`SnapshotMap`] | `atomic.Value` holding a map | lock-free snapshot, copy-on-write writers | reads vastly outnumber writes |
//!
//! All three share one API (`insert`, `remove`, `get`, `contains_key`, `len`, `is_empty`,
//! `with`, `update`, `get_or_insert_with`, `try_insert`, `retain`, `clear`, `for_each`,
//! `snapshot`), take `&self` everywhere, and are `Send + Sync` when the keys and values are.
//!
//! # No guard reaches your code
//!
//! Nothing these maps return borrows from them: [`get`](LockedMap::get) clones the value out,
//! and in-place access goes through a closure ([`with`](LockedMap::with) to read,
//! [`update`](LockedMap::update) to change) that runs while the lock is held and returns before
//! the call does. A lock can therefore never be held across an `.await` (a closure that is not
//! `async` cannot await), kept in a struct, or forgotten in a loop. Check-then-act sequences
//! have atomic replacements: [`try_insert`](LockedMap::try_insert) and
//! [`get_or_insert_with`](LockedMap::get_or_insert_with).
//!
//! ```
//! use maplint_maps::ShardedMap;
//!
//! let cache: ShardedMap<String, Vec<u8>> = ShardedMap::new();
//! // Instead of `if !map.contains_key(k) { map.insert(k, v) }` (a race):
//! let size = cache.get_or_insert_with("logo".to_string(), || vec![0; 64], |bytes| bytes.len());
//! assert_eq!(size, 64);
//! ```
//!
//! # Re-entrancy panics, it never deadlocks
//!
//! Calling any method of a map from inside a closure that the same map is running, on the same
//! thread, panics with a message that names the map type, both methods and the fix. It is Rust's
//! answer to Go's fatal "concurrent map writes": the bug that would otherwise hang the thread
//! forever on the map's own lock (or, for [`SnapshotMap`], silently lose the outer update) is
//! reported at the first occurrence, whichever shard the keys fall into.
//!
//! ```should_panic
//! use maplint_maps::LockedMap;
//!
//! let map = LockedMap::new();
//! map.insert("a", 1);
//! // panics: "re-entrant call: `LockedMap::insert` was called from inside the closure passed
//! // to `LockedMap::update` on the same map, ..."
//! map.update("a", |v| {
//!     map.insert("b", *v);
//! });
//! ```
//!
//! The fix is to return what you need from the closure and make the second call after it:
//!
//! ```
//! use maplint_maps::LockedMap;
//!
//! let map = LockedMap::new();
//! map.insert("a", 1);
//! if let Some(v) = map.update("a", |v| *v) {
//!     map.insert("b", v);
//! }
//! assert_eq!(map.get("b"), Some(1));
//! ```
//!
//! The check is always on. It costs a thread-local compare and branch per call, and around each
//! closure one thread-local add and branch and one store before it and one add after it (see
//! the README for measurements). Calling a *different* map from inside a closure is allowed. Only the closures passed to the map are covered: a `Hash`, `Eq` or `Clone`
//! implementation that calls back into the map it is stored in is not detected.
//!
//! # Panics in your closures
//!
//! A panic inside a closure unwinds out of the map call and leaves the map usable; locks are
//! released and poisoning is ignored (there is no `PoisonError` to handle). For [`LockedMap`]
//! and [`ShardedMap`] a value keeps whatever changes the closure made before it panicked (it is
//! always a valid `V`). [`SnapshotMap`] writes are all-or-nothing: a panicking write publishes
//! nothing.
//!
//! # Model checking
//!
//! Under `RUSTFLAGS="--cfg loom"`, in the crate's own unit tests, the locks, the snapshot
//! pointer and the thread-local re-entrancy record are replaced by
//! [loom](https://docs.rs/loom)'s, so `src/loom_tests.rs` can check the atomic compound
//! operations and the serialized copy-on-write protocol under every interleaving.

/// `From<[(K, V); N]>` through `FromIterator`, and `Eq` where the values are: the same on the
/// three maps.
macro_rules! array_and_eq {
    ($map:ident) => {
        impl<K, V, const N: usize> From<[(K, V); N]> for $map<K, V, std::hash::RandomState>
        where
            K: Eq + std::hash::Hash,
        {
            fn from(entries: [(K, V); N]) -> Self {
                <Self as FromIterator<(K, V)>>::from_iter(entries)
            }
        }

        impl<K: Eq + std::hash::Hash, V: Eq, S: std::hash::BuildHasher> Eq for $map<K, V, S> {}
    };
}

/// `FromIterator` (into the default shape, entry by entry) and `From<HashMap>` (room for every
/// entry, the same hasher) for a map over shards: the same on `LockedMap` and `ShardedMap`.
macro_rules! collect_into {
    ($map:ident) => {
        impl<K, V, S> FromIterator<(K, V)> for $map<K, V, S>
        where
            K: Eq + std::hash::Hash,
            S: std::hash::BuildHasher + Default,
        {
            #[doc = concat!("```\nlet map: maplint_maps::", stringify!($map), "<_, _> = (0..3).map(|i| (i, i * i)).collect();\nassert_eq!(map.get(&2), Some(4));\n```")]
            fn from_iter<I: IntoIterator<Item = (K, V)>>(entries: I) -> Self {
                let mut map = Self::default();
                map.extend(entries);
                map
            }
        }

        impl<K, V, S> From<std::collections::HashMap<K, V, S>> for $map<K, V, S>
        where
            K: Eq + std::hash::Hash,
            S: std::hash::BuildHasher + Clone,
        {
            #[doc = concat!("Moves the entries in, with the map's hasher and room for all of them.\n\n```\nlet mut plain = std::collections::HashMap::new();\nplain.insert(\"k\", 1);\nlet map = maplint_maps::", stringify!($map), "::from(plain);\nassert_eq!(map.get(\"k\"), Some(1));\n```")]
            fn from(map: std::collections::HashMap<K, V, S>) -> Self {
                let mut out = Self::with_capacity_and_hasher(map.len(), map.hasher().clone());
                out.extend(map);
                out
            }
        }
    };
}

/// `FromIterator` for a map that takes a whole `HashMap` without copying it: collect one, then
/// `From<HashMap>`.
macro_rules! from_iter_via_hash_map {
    ($map:ident) => {
        impl<K, V, S> FromIterator<(K, V)> for $map<K, V, S>
        where
            K: Eq + std::hash::Hash,
            S: std::hash::BuildHasher + Default,
        {
            fn from_iter<I: IntoIterator<Item = (K, V)>>(entries: I) -> Self {
                Self::from(
                    entries
                        .into_iter()
                        .collect::<std::collections::HashMap<K, V, S>>(),
                )
            }
        }
    };
}

mod locked;
#[cfg(all(test, loom))]
mod loom_tests;
#[cfg(feature = "metrics")]
mod metrics;
mod prefetch;
mod reentry;
#[cfg(feature = "serde")]
mod serde_impls;
mod set;
mod sharded;
mod snapshot;
mod sync;

pub use locked::LockedMap;
pub use set::{LockedSet, ShardedSet};
pub use sharded::{IntoIter as ShardedIntoIter, ShardedMap};
pub use snapshot::SnapshotMap;

/// What `compute` does with an entry, decided by its closure from the entry's current value
/// ([`ShardedMap::compute`], [`LockedMap::compute`], [`SnapshotMap::compute`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compute<V> {
    /// Leave the entry as it is (with any change the closure made in place), or absent.
    Keep,
    /// Insert this value, or replace the present one.
    Set(V),
    /// Remove the entry (nothing happens if it is absent).
    Remove,
}
