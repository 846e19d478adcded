//! Calling a map from inside one of its own closures panics (never deadlocks), for every pair of
//! (closure-running method, any method), on all three maps; and the map is usable afterwards.

use std::panic::{self, AssertUnwindSafe};
use std::sync::{Once, mpsc};
use std::thread;

use maplint_maps::{LockedMap, ShardedMap, SnapshotMap};

/// Keeps the expected re-entrancy panics out of the test output; forwards every other panic.
fn quiet_expected_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let message = panic_text(info.payload());
            if !message.starts_with("re-entrant call") && !message.starts_with("user closure") {
                default(info);
            }
        }));
    });
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(ToString::to_string))
        .unwrap_or_default()
}

/// Builds the matrix for one map type: every method as the inner call, every closure-running
/// method as the outer one.
macro_rules! reentry_matrix {
    ($test:ident, $map:ident, $name:literal, [$($extra_name:literal => $extra:expr),*]) => {
        #[test]
        fn $test() {
            type M = $map<u32, u32>;
            quiet_expected_panics();
            let inner: Vec<(&str, Box<dyn Fn(&M)>)> = vec![
                ("insert", Box::new(|m: &M| { m.insert(7, 7); })),
                ("remove", Box::new(|m: &M| { m.remove(&7); })),
                ("get", Box::new(|m: &M| { m.get(&1); })),
                ("contains_key", Box::new(|m: &M| { m.contains_key(&1); })),
                ("len", Box::new(|m: &M| { m.len(); })),
                ("is_empty", Box::new(|m: &M| { m.is_empty(); })),
                ("with", Box::new(|m: &M| m.with(&1, |_| ()))),
                ("update", Box::new(|m: &M| { m.update(&1, |v| *v += 1); })),
                ("get_or_insert_with", Box::new(|m: &M| m.get_or_insert_with(8, || 0, |_| ()))),
                ("try_insert", Box::new(|m: &M| { let _ = m.try_insert(9, 9); })),
                ("retain", Box::new(|m: &M| m.retain(|_, _| true))),
                ("clear", Box::new(|m: &M| m.clear())),
                ("for_each", Box::new(|m: &M| m.for_each(|_, _| ()))),
                ("snapshot", Box::new(|m: &M| { m.snapshot(); })),
                ("reserve", Box::new(|m: &M| m.reserve(4))),
                ("capacity", Box::new(|m: &M| { m.capacity(); })),
                ("try_for_each", Box::new(|m: &M| { let _ = m.try_for_each(|_, _| std::ops::ControlFlow::<()>::Continue(())); })),
                ("try_get_or_insert_with", Box::new(|m: &M| { let _ = m.try_get_or_insert_with(8, || Ok::<_, ()>(0), |_| ()); })),
                ("get_or_insert_with_ref", Box::new(|m: &M| m.get_or_insert_with_ref(&8, || 0, |_| ()))),
                ("remove_if", Box::new(|m: &M| { m.remove_if(&1, |_, _| false); })),
                ("compute", Box::new(|m: &M| { m.compute(3, |_| maplint_maps::Compute::Keep); })),
                $(($extra_name, Box::new($extra)),)*
            ];
            let outer: Vec<(&str, Box<dyn Fn(&M, &dyn Fn())>)> = vec![
                ("with", Box::new(|m: &M, f: &dyn Fn()| m.with(&1, |_| f()))),
                ("update", Box::new(|m: &M, f: &dyn Fn()| { m.update(&1, |_| f()); })),
                (
                    "get_or_insert_with",
                    Box::new(|m: &M, f: &dyn Fn()| m.get_or_insert_with(1, || 0, |_| f())),
                ),
                ("retain", Box::new(|m: &M, f: &dyn Fn()| m.retain(|_, _| { f(); true }))),
                ("for_each", Box::new(|m: &M, f: &dyn Fn()| m.for_each(|_, _| f()))),
                ("remove_if", Box::new(|m: &M, f: &dyn Fn()| { m.remove_if(&1, |_, _| { f(); false }); })),
                (
                    "try_for_each",
                    Box::new(|m: &M, f: &dyn Fn()| { let _ = m.try_for_each(|_, _| { f(); std::ops::ControlFlow::<()>::Continue(()) }); }),
                ),
                (
                    "try_get_or_insert_with",
                    Box::new(|m: &M, f: &dyn Fn()| { let _ = m.try_get_or_insert_with(1, || Ok::<_, ()>(0), |_| f()); }),
                ),
                (
                    "compute",
                    Box::new(|m: &M, f: &dyn Fn()| { m.compute(1, |_| { f(); maplint_maps::Compute::Keep }); }),
                ),
            ];
            let mut cases = 0;
            for (outer_name, outer_call) in &outer {
                for (inner_name, inner_call) in &inner {
                    let map = M::default();
                    map.insert(1, 10);
                    let result = panic::catch_unwind(AssertUnwindSafe(|| {
                        outer_call(&map, &|| inner_call(&map));
                    }));
                    let payload = result.expect_err(&format!(
                        "{}::{inner_name} inside {}::{outer_name} did not panic",
                        $name, $name
                    ));
                    let message = panic_text(&*payload);
                    let expected = format!(
                        "re-entrant call: `{0}::{inner_name}` was called from inside the closure \
                         passed to `{0}::{outer_name}` on the same map",
                        $name
                    );
                    assert!(message.starts_with(&expected), "unexpected message: {message}");
                    assert!(message.contains("after"), "message lacks the fix: {message}");
                    // Usable afterwards: no lock is held, no stale re-entrancy record.
                    map.insert(2, 20);
                    assert_eq!(map.get(&2), Some(20));
                    outer_call(&map, &|| ());
                    cases += 1;
                }
            }
            assert_eq!(cases, outer.len() * inner.len());
        }
    };
}

reentry_matrix!(locked_every_pair_panics, LockedMap, "LockedMap", []);
reentry_matrix!(sharded_every_pair_panics, ShardedMap, "ShardedMap", []);
reentry_matrix!(snapshot_every_pair_panics, SnapshotMap, "SnapshotMap", [
    "load" => |m: &M| { m.load(); }
]);

#[test]
fn debug_formatting_is_guarded_too() {
    quiet_expected_panics();
    let map: ShardedMap<u32, u32> = ShardedMap::new();
    map.insert(1, 1);
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        map.for_each(|_, _| {
            let _ = format!("{map:?}");
        });
    }));
    assert!(panic_text(&*result.unwrap_err()).contains("`ShardedMap::fmt`"));
    assert_eq!(format!("{map:?}"), "{1: 1}");
}

#[test]
fn other_maps_may_be_called_from_a_closure() {
    let a = LockedMap::new();
    let b = ShardedMap::new();
    let c = SnapshotMap::new();
    a.insert(1, 1);
    b.insert(1, 2);
    a.update(&1, |va| {
        b.update(&1, |vb| {
            c.insert(1, *va + *vb);
        });
    });
    assert_eq!(c.get(&1), Some(3));
}

#[test]
fn nested_maps_are_all_remembered() {
    quiet_expected_panics();
    let a: LockedMap<u32, u32> = LockedMap::new();
    let b: ShardedMap<u32, u32> = ShardedMap::new();
    a.insert(1, 1);
    b.insert(1, 1);
    // a.with -> b.with -> a.get: `a` is two frames up, still detected.
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        // maplint: allow(sharded_map_reentry) -- the re-entry this test expects to panic
        a.with(&1, |_| b.with(&1, |_| a.get(&1)));
    }));
    let message = panic_text(&*result.unwrap_err());
    assert!(message.contains("`LockedMap::get`") && message.contains("`LockedMap::with`"));
    // And both are usable afterwards, from inside each other's closures.
    a.with(&1, |_| b.with(&1, |_| ()));
    b.with(&1, |_| assert_eq!(a.get(&1), Some(1)));
}

/// Runs `inner` inside closures of `maps[depth..]`, nested in that order, each run by `update`,
/// `with` or `for_each` in turn (the method of `maps[k]` is `NESTING[k % 3]`).
fn nest(maps: &[ShardedMap<u32, u32>], depth: usize, inner: &dyn Fn()) {
    let Some(map) = maps.get(depth) else {
        return inner();
    };
    match depth % 3 {
        0 => {
            map.update(&1, |_| nest(maps, depth + 1, inner));
        }
        1 => map.with(&1, |_| nest(maps, depth + 1, inner)),
        _ => map.for_each(|_, _| nest(maps, depth + 1, inner)),
    }
}

const NESTING: [&str; 3] = ["update", "with", "for_each"];

#[test]
fn deep_nesting_names_the_right_outer_method_and_unwinds_cleanly() {
    quiet_expected_panics();
    // 16 nested closures are remembered; these 20 go past it.
    let maps: Vec<ShardedMap<u32, u32>> = (0..20).map(|_| ShardedMap::from_iter([(1, 1)])).collect();
    for k in [0, 1, 2, 3, 7, 15] {
        // A plain call and a closure call of `maps[k]`, from the innermost closure.
        for (inner_name, inner) in [
            ("get", Box::new(|| _ = maps[k].get(&1)) as Box<dyn Fn()>),
            ("update", Box::new(|| _ = maps[k].update(&1, |v| *v += 1))),
        ] {
            let result = panic::catch_unwind(AssertUnwindSafe(|| nest(&maps, 0, &*inner)));
            let message = panic_text(&*result.expect_err("re-entry 20 closures deep"));
            let expected = format!(
                "re-entrant call: `ShardedMap::{inner_name}` was called from inside the closure \
                 passed to `ShardedMap::{}`",
                NESTING[k % 3]
            );
            assert!(message.starts_with(&expected), "map {k}: {message}");
            // Nothing stays recorded: every map can be called, also from the others' closures.
            for map in &maps {
                map.update(&1, |v| *v += 1);
            }
            nest(&maps, 0, &|| ());
            nest(&maps[1..], 0, &|| _ = maps[0].get(&1));
        }
    }
    // Calls of maps that run no closure are fine at any depth.
    let other: ShardedMap<u32, u32> = ShardedMap::new();
    nest(&maps, 0, &|| _ = other.update(&1, |v| *v += 1));
    assert_eq!(maps[19].get(&1), Some(1 + 6 * 2));
}

#[test]
fn another_thread_may_use_the_map_while_a_closure_runs() {
    let map = ShardedMap::with_shards(1);
    map.insert(1, 1);
    let (to_reader, reader_rx) = mpsc::channel();
    let (to_main, main_rx) = mpsc::channel();
    thread::scope(|s| {
        let map = &map;
        s.spawn(move || {
            reader_rx.recv().unwrap();
            // Same map, same (only) shard, other thread: a plain shared read, no panic.
            to_main.send(map.get(&1)).unwrap();
        });
        map.with(&1, |v| {
            to_reader.send(()).unwrap();
            assert_eq!(main_rx.recv().unwrap(), v.copied());
        });
    });
}

#[test]
fn update_pair_and_batch_are_guarded_too() {
    quiet_expected_panics();
    let sharded: ShardedMap<u32, u32> = ShardedMap::from_iter([(1, 1), (2, 2)]);
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        // maplint: allow(sharded_map_reentry) -- the re-entry this test expects to panic
        sharded.update_pair(&1, &2, |_, _| sharded.len());
    }));
    assert!(panic_text(&*result.unwrap_err()).contains("`ShardedMap::update_pair`"));
    let snapshot: SnapshotMap<u32, u32> = SnapshotMap::new();
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        // maplint: allow(sharded_map_reentry) -- the re-entry this test expects to panic
        snapshot.batch(|map| map.insert(1, snapshot.len() as u32));
    }));
    assert!(panic_text(&*result.unwrap_err()).contains("`SnapshotMap::batch`"));
    // Nothing was published by the panicking batch; both maps are usable.
    assert!(snapshot.is_empty());
    assert_eq!(sharded.update_pair(&1, &2, |a, b| *a.unwrap() + *b.unwrap()), 3);
}
