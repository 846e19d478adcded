//! Model-checked tests of the core protocols, under every interleaving loom can produce.
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test -p maplint-maps --release --lib loom
//! ```
//!
//! In this build (`cfg(all(test, loom))`) the crate's locks, its snapshot pointer and its
//! thread-local re-entrancy record are loom's, so loom sees every synchronization point. Checked here: the atomic
//! compound operations on the locked and sharded maps (`get_or_insert_with`, `try_insert`,
//! `update`: no lost increment, exactly one winner), and the `SnapshotMap` protocol (serialized
//! copy-on-write writers lose no update; a reader sees only whole versions).

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
