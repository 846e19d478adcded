//! Model-checked tests of the core protocols, under every interleaving loom can produce.
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test -p maplint-maps --release --lib loom
//! ```
//!
//! In this build (`cfg(all(test, loom))`) the crate's locks, its snapshot pointer and its
//! thread-local re-entrancy record are loom's, so loom sees every synchronization point. Checked here: the atomic
//! compound operations on the locked and sharded maps (`get_or_insert_with`, `try_insert`,
//! `update`, `compute`, `remove_if`: no lost increment, exactly one winner), and the
//! `SnapshotMap` protocol (serialized copy-on-write writers lose no update, `compute` and
//! `remove_if` included; a reader sees only whole versions).

use crate::{LockedMap, ShardedMap, SnapshotMap};
use loom::sync::Arc;
use loom::thread;

#[test]
fn sharded_get_or_insert_with_loses_no_increment() {
    loom::model(|| {
        let map = Arc::new(ShardedMap::with_shards(2));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let map = Arc::clone(&map);
                thread::spawn(move || map.get_or_insert_with("k", || 0, |n| *n += 1))
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(map.get("k"), Some(2));
    });
}

#[test]
fn sharded_try_insert_has_one_winner() {
    loom::model(|| {
        let map = Arc::new(ShardedMap::with_shards(1));
        let handles: Vec<_> = (0..2)
            .map(|t| {
                let map = Arc::clone(&map);
                thread::spawn(move || map.try_insert("k", t).is_ok())
            })
            .collect();
        let wins = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|&won| won)
            .count();
        assert_eq!(wins, 1);
        assert_eq!(map.len(), 1);
    });
}

#[test]
fn locked_update_and_remove_race() {
    loom::model(|| {
        let map = Arc::new(LockedMap::new());
        map.insert("k", 0);
        let update_thread = {
            let map = Arc::clone(&map);
            thread::spawn(move || map.update("k", |n| *n += 1))
        };
        let remove_thread = {
            let map = Arc::clone(&map);
            thread::spawn(move || map.remove("k"))
        };
        let updated = update_thread.join().unwrap();
        let removed = remove_thread.join().unwrap();
        // Either the update saw the entry and the remove returned the updated value, or the
        // remove came first, returned 0, and the update found nothing.
        match updated {
            Some(()) => assert_eq!(removed, Some(1)),
            None => assert_eq!(removed, Some(0)),
        }
        assert!(map.is_empty());
    });
}

#[test]
fn snapshot_writers_lose_no_update_and_readers_see_whole_versions() {
    loom::model(|| {
        let map = Arc::new(SnapshotMap::new());
        let writers: Vec<_> = [1, 2]
            .into_iter()
            .map(|k| {
                let map = Arc::clone(&map);
                thread::spawn(move || {
                    map.insert(k, k * 10);
                })
            })
            .collect();
        let reader = {
            let map = Arc::clone(&map);
            thread::spawn(move || {
                let view = map.load();
                // Any published version holds whole entries of the writes made so far.
                for (k, v) in view.iter() {
                    assert_eq!(*v, k * 10);
                }
                view.len()
            })
        };
        for w in writers {
            w.join().unwrap();
        }
        assert!(reader.join().unwrap() <= 2);
        // Serialized copy-on-write: neither insert overwrote the other's version.
        assert_eq!(map.len(), 2);
        assert_eq!(map.get(&1), Some(10));
        assert_eq!(map.get(&2), Some(20));
    });
}

#[test]
fn snapshot_counter_updates_are_serialized() {
    loom::model(|| {
        let map = Arc::new(SnapshotMap::new());
        map.insert("n", 0);
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let map = Arc::clone(&map);
                thread::spawn(move || map.update("n", |n| *n += 1))
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(map.get("n"), Some(2));
    });
}

#[test]
fn sharded_compute_loses_no_increment_and_removes_once() {
    use crate::Compute;
    loom::model(|| {
        let map = Arc::new(ShardedMap::with_shards(2));
        map.insert("n", 1);
        // Two takers: each takes one; the one that takes the last removes the entry.
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let map = Arc::clone(&map);
                thread::spawn(move || {
                    map.compute("n", |n| match n {
                        Some(n) if *n > 0 => {
                            *n -= 1;
                            Compute::Keep
                        }
                        Some(_) => Compute::Remove,
                        None => Compute::Set(0),
                    })
                })
            })
            .collect();
        let removed: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        // The first takes 1 -> 0 in place, the second finds 0 and removes it.
        assert_eq!(removed.iter().filter(|r| **r == Some(0)).count(), 1);
        assert!(map.is_empty());
    });
}

#[test]
fn locked_remove_if_has_one_winner() {
    loom::model(|| {
        let map = Arc::new(LockedMap::new());
        map.insert("lease", 7);
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let map = Arc::clone(&map);
                thread::spawn(move || map.remove_if("lease", |_, v| *v == 7).is_some())
            })
            .collect();
        let wins = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|&won| won)
            .count();
        assert_eq!(wins, 1);
        assert!(map.is_empty());
    });
}

#[test]
fn snapshot_compute_and_remove_if_are_serialized() {
    use crate::Compute;
    loom::model(|| {
        let map = Arc::new(SnapshotMap::new());
        map.insert("n", 0);
        let adder = {
            let map = Arc::clone(&map);
            thread::spawn(move || {
                map.compute("n", |n| match n {
                    Some(n) => Compute::Set(*n + 1),
                    None => Compute::Set(1),
                })
            })
        };
        let remover = {
            let map = Arc::clone(&map);
            thread::spawn(move || map.remove_if("n", |_, v| *v == 0))
        };
        let replaced = adder.join().unwrap();
        let removed = remover.join().unwrap();
        match removed {
            // The remove came first: the adder found nothing and inserted 1.
            Some(_) => {
                assert_eq!(replaced, None);
                assert_eq!(map.get("n"), Some(1));
            }
            // The add came first: 0 became 1, which the remover left alone.
            None => {
                assert_eq!(replaced, Some(0));
                assert_eq!(map.get("n"), Some(1));
            }
        }
    });
}

#[test]
fn comparisons_in_both_orders_do_not_deadlock_with_a_writer() {
    loom::model(|| {
        let a = Arc::new(ShardedMap::with_shards(1));
        let b = Arc::new(ShardedMap::with_shards(1));
        a.insert(1, 1);
        b.insert(1, 1);
        let forward = {
            let (a, b) = (Arc::clone(&a), Arc::clone(&b));
            thread::spawn(move || *a == *b)
        };
        let backward = {
            let (a, b) = (Arc::clone(&a), Arc::clone(&b));
            thread::spawn(move || *b == *a)
        };
        b.insert(1, 2);
        forward.join().unwrap();
        backward.join().unwrap();
        assert!(*a != *b);
    });
}
