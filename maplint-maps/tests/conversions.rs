//! The standard conversions and traits, the same on the three maps: collected, extended,
//! built from a `HashMap` or an array, cloned, compared and consumed.

use std::collections::HashMap;

use maplint_maps::{LockedMap, ShardedMap, SnapshotMap};

macro_rules! conversions {
    ($test:ident, $map:ident) => {
        #[test]
        fn $test() {
            let collected: $map<u32, u32> = (0..100).map(|i| (i, i * 2)).collect();
            assert_eq!(collected.len(), 100);
            assert_eq!(collected.get(&7), Some(14));

            let mut extended = $map::from([(1000, 1)]);
            extended.extend((0..100).map(|i| (i, i * 2)));
            assert_eq!(extended.len(), 101);
            assert!(extended != collected);
            extended.remove(&1000);
            assert!(extended == collected);

            let plain: HashMap<u32, u32> = (0..10).map(|i| (i, i)).collect();
            let from_plain = $map::from(plain.clone());
            assert_eq!(from_plain.snapshot(), plain);

            let copy = from_plain.clone();
            from_plain.insert(99, 99);
            assert_eq!(copy.len(), 10);
            assert!(copy != from_plain);

            let mut back: Vec<(u32, u32)> = copy.into_iter().collect();
            back.sort_unstable();
            assert_eq!(back, (0..10).map(|i| (i, i)).collect::<Vec<_>>());

            let sized: $map<u32, u32> = $map::with_capacity(64);
            assert!(sized.capacity() >= 64);
            sized.reserve(200);
            assert!(sized.capacity() >= 200);
        }
    };
}

conversions!(locked_map, LockedMap);
conversions!(sharded_map, ShardedMap);
conversions!(snapshot_map, SnapshotMap);

#[test]
fn snapshot_into_iter_copies_only_while_a_view_is_alive() {
    let map = SnapshotMap::from([(1, String::from("one"))]);
    let view = map.load();
    let entries: Vec<_> = map.into_iter().collect();
    assert_eq!(entries, vec![(1, String::from("one"))]);
    assert_eq!(view.get(&1).map(String::as_str), Some("one"));
}

macro_rules! set_behaviour {
    ($test:ident, $set:ident) => {
        #[test]
        fn $test() {
            let set: maplint_maps::$set<u32> = (0..10).collect();
            assert!(set.contains(&3) && !set.insert(3) && set.insert(10));
            assert!(set.remove(&10) && !set.remove(&10));
            set.retain(|n| n % 2 == 0);
            let mut seen = Vec::new();
            set.for_each(|n| seen.push(*n));
            seen.sort_unstable();
            assert_eq!(seen, vec![0, 2, 4, 6, 8]);
            let first_big = set.try_for_each(|n| {
                if *n > 5 {
                    std::ops::ControlFlow::Break(*n)
                } else {
                    std::ops::ControlFlow::Continue(())
                }
            });
            assert!(matches!(first_big, std::ops::ControlFlow::Break(6 | 8)));
            assert_eq!(set.snapshot(), [0, 2, 4, 6, 8].into_iter().collect());
            let mut copy = set.clone();
            assert!(copy == set);
            copy.extend([1]);
            assert!(copy != set);
            assert_eq!(format!("{:?}", maplint_maps::$set::from([7])), "{7}");
            let mut items: Vec<u32> = copy.into_iter().collect();
            items.sort_unstable();
            assert_eq!(items, vec![0, 1, 2, 4, 6, 8]);
        }
    };
}

set_behaviour!(locked_set, LockedSet);
set_behaviour!(sharded_set, ShardedSet);

/// A set's re-entry panic names the set and its own methods, not the map underneath.
#[test]
fn set_reentry_names_the_set() {
    for (outer, message) in [
        (
            "ShardedSet",
            std::panic::catch_unwind(|| {
                let set = maplint_maps::ShardedSet::from([1, 2]);
                set.for_each(|_| {
                    // maplint: allow(sharded_map_reentry) -- the re-entry this test expects to panic
                    set.insert(3);
                });
            }),
        ),
        (
            "LockedSet",
            std::panic::catch_unwind(|| {
                let set = maplint_maps::LockedSet::from([1, 2]);
                // maplint: allow(sharded_map_reentry) -- the re-entry this test expects to panic
                set.retain(|_| set.contains(&1));
            }),
        ),
    ] {
        let panic = message.expect_err("re-entry panics");
        let text = panic.downcast_ref::<String>().expect("a formatted message");
        assert!(text.contains(&format!("`{outer}::")), "{text}");
        assert!(!text.contains("Map::"), "{text}");
        assert!(text.contains("::insert`") || text.contains("::contains`"), "{text}");
    }
}
