//! A panic inside a user closure unwinds out of the call and leaves the map usable: no poisoning,
//! no stuck lock, no stale re-entrancy record, and the documented state of the entry.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use maplint_maps::{LockedMap, ShardedMap, SnapshotMap};

fn quiet_expected_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let expected = info
                .payload()
                .downcast_ref::<&str>()
                .is_some_and(|m| m.starts_with("user closure"));
            if !expected {
                default(info);
            }
        }));
    });
}

fn boom() -> ! {
    panic!("user closure panicked")
}

fn must_panic(f: impl FnOnce()) {
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    assert!(result.is_err(), "the closure was expected to panic");
}

/// The same sequence on each map type. `$half_done` is the value an `update` that changed the
/// value and then panicked leaves behind: the change for in-place maps, the old value for
/// `SnapshotMap`, whose writes are all-or-nothing.
macro_rules! panic_safety {
    ($test:ident, $map:ident, half_done = $half_done:expr) => {
        #[test]
        fn $test() {
            quiet_expected_panics();
            let map: $map<String, u32> = $map::default();
            map.insert("a".into(), 1);

            must_panic(|| map.with("a", |_| boom()));
            assert_eq!(map.get("a"), Some(1));

            must_panic(|| {
                map.update("a", |v| {
                    *v = 99;
                    boom()
                });
            });
            assert_eq!(map.get("a"), Some($half_done));
            map.insert("a".into(), 1);

            // `init` panics: nothing inserted.
            must_panic(|| map.get_or_insert_with("b".into(), || boom(), |_| ()));
            assert!(!map.contains_key("b"));
            // `f` panics on an existing entry: the entry is still there.
            must_panic(|| map.get_or_insert_with("a".into(), || 0, |_| boom()));
            assert_eq!(map.get("a"), Some(1));

            must_panic(|| map.retain(|_, _| boom()));
            assert_eq!(map.len(), 1);
            must_panic(|| map.for_each(|_, _| boom()));

            // Everything still works, including writes that need the (formerly held) locks.
            assert_eq!(map.try_insert("c".into(), 3), Ok(()));
            assert_eq!(
                map.update("c", |v| {
                    *v += 1;
                    *v
                }),
                Some(4)
            );
            map.get_or_insert_with("d".into(), || 5, |_| ());
            map.retain(|k, _| k != "d");
            assert_eq!(map.remove("c"), Some(4));
            let snapshot = map.snapshot();
            assert_eq!(snapshot.len(), 1);
            assert_eq!(snapshot.get("a"), Some(&1));
            map.clear();
            assert!(map.is_empty());
        }
    };
}

panic_safety!(locked_map_survives_closure_panics, LockedMap, half_done = 99);
panic_safety!(sharded_map_survives_closure_panics, ShardedMap, half_done = 99);
panic_safety!(snapshot_map_writes_are_all_or_nothing, SnapshotMap, half_done = 1);

#[test]
fn a_panicking_value_clone_leaves_the_map_usable() {
    #[derive(Debug, PartialEq)]
    struct Fragile(u32);
    impl Clone for Fragile {
        fn clone(&self) -> Self {
            if self.0 == 13 {
                boom()
            }
            Fragile(self.0)
        }
    }
    quiet_expected_panics();
    let map = ShardedMap::with_shards(1);
    map.insert(1, Fragile(13));
    map.insert(2, Fragile(2));
    must_panic(|| {
        map.get(&1);
    });
    assert_eq!(map.get(&2), Some(Fragile(2)));
    assert_eq!(map.remove(&1), Some(Fragile(13)));
}
