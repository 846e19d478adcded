//! `Serialize` and `Deserialize` for the maps and sets (the `serde` feature).
//!
//! A map serializes as a map and a set as a sequence, with their length, from one consistent
//! view: `LockedMap` under its read lock, `ShardedMap` with every shard read-locked at once (in
//! shard order, so this cannot deadlock with `update_pair`), `SnapshotMap` from its current
//! snapshot. As in `for_each`, a `Serialize` of a key or value that calls the same map panics
//! with the re-entry message instead of deadlocking. Deserializing builds a `HashMap` with the
//! map's hasher (`S: Default`) and moves it in.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};

use serde::de::{Deserialize, Deserializer};
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::{LockedMap, ShardedMap, SnapshotMap};

macro_rules! serde_map {
    ($map:ident) => {
        impl<K: Serialize + Eq + Hash, V: Serialize, S: BuildHasher> Serialize for $map<K, V, S> {
            fn serialize<Se: Serializer>(&self, serializer: Se) -> Result<Se::Ok, Se::Error> {
                self.with_entries(|len, entries| {
                    let mut out = serializer.serialize_map(Some(len))?;
                    for (k, v) in entries {
                        out.serialize_entry(k, v)?;
                    }
                    out.end()
                })
            }
        }

        impl<'de, K, V, S> Deserialize<'de> for $map<K, V, S>
        where
            K: Deserialize<'de> + Eq + Hash,
            V: Deserialize<'de>,
            S: BuildHasher + Default + Clone,
        {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                HashMap::<K, V, S>::deserialize(deserializer).map(Self::from)
            }
        }
    };
}

serde_map!(LockedMap);
serde_map!(ShardedMap);
serde_map!(SnapshotMap);

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use crate::{LockedMap, LockedSet, ShardedMap, ShardedSet, SnapshotMap};

    /// Serializes through `serde_json` and reads it back as a sorted map.
    fn sorted<T: serde::Serialize>(value: &T) -> BTreeMap<String, u32> {
        serde_json::from_str(&serde_json::to_string(value).unwrap()).unwrap()
    }

    #[test]
    fn maps_round_trip_through_json() {
        let entries: Vec<(String, u32)> = (0..100).map(|i| (format!("k{i}"), i)).collect();
        let expected: BTreeMap<String, u32> = entries.iter().cloned().collect();

        let locked: LockedMap<String, u32> = entries.iter().cloned().collect();
        assert_eq!(sorted(&locked), expected);
        let back: LockedMap<String, u32> = serde_json::from_str(&serde_json::to_string(&locked).unwrap()).unwrap();
        assert!(back == locked);

        let sharded: ShardedMap<String, u32> = entries.iter().cloned().collect();
        assert_eq!(sorted(&sharded), expected);
        let back: ShardedMap<String, u32> = serde_json::from_str(&serde_json::to_string(&sharded).unwrap()).unwrap();
        assert!(back == sharded);

        let snapshot: SnapshotMap<String, u32> = entries.iter().cloned().collect();
        assert_eq!(sorted(&snapshot), expected);
        let back: SnapshotMap<String, u32> = serde_json::from_str(&serde_json::to_string(&snapshot).unwrap()).unwrap();
        assert!(back == snapshot);
    }

    #[test]
    fn sets_round_trip_as_sequences() {
        let set: ShardedSet<u32> = (0..50).collect();
        let mut items: Vec<u32> = serde_json::from_str(&serde_json::to_string(&set).unwrap()).unwrap();
        items.sort_unstable();
        assert_eq!(items, (0..50).collect::<Vec<_>>());
        let back: ShardedSet<u32> = serde_json::from_str(&serde_json::to_string(&set).unwrap()).unwrap();
        assert!(back == set);

        let set: LockedSet<&str> = ["a", "b"].into_iter().collect();
        let json = serde_json::to_string(&set).unwrap();
        let back: LockedSet<String> = serde_json::from_str(&json).unwrap();
        assert_eq!(back.len(), 2);
        assert!(back.contains("a") && back.contains("b"));
    }

    #[test]
    fn a_value_that_serializes_its_own_map_panics_instead_of_deadlocking() {
        static TABLE: std::sync::LazyLock<ShardedMap<u32, Nosy>> = std::sync::LazyLock::new(ShardedMap::new);
        struct Nosy;
        impl serde::Serialize for Nosy {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_u64(TABLE.len() as u64)
            }
        }
        TABLE.insert(1, Nosy);
        let panic = std::panic::catch_unwind(|| serde_json::to_string(&*TABLE)).expect_err("re-entry");
        let message = panic.downcast_ref::<String>().expect("a formatted message");
        assert!(message.contains("serialize") && message.contains("len"), "{message}");
    }
}
