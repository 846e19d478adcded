//! Real threads, mixed operations, invariants checked at the end. Sizes are bounded so the
//! suite stays fast in debug builds; nothing here is timed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use maplint_maps::{LockedMap, ShardedMap, SnapshotMap};

const THREADS: u64 = 6;

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Each thread mixes every operation on its own keys (checked against a private model at the
/// end) and on a few shared keys (atomic counters: no increment may be lost; `try_insert`
/// races: exactly one winner per key).
macro_rules! stress {
    ($test:ident, $map:expr, ops = $ops:expr, own_keys = $own:expr) => {
        #[test]
        fn $test() {
            const SHARED: u64 = 8;
            const RACED: u64 = 64;
            let map = $map;
            let increments = AtomicUsize::new(0);
            let winners = AtomicUsize::new(0);
            let models: Vec<HashMap<u64, u64>> = thread::scope(|s| {
                let handles: Vec<_> = (0..THREADS)
                    .map(|t| {
                        let (map, increments, winners) = (&map, &increments, &winners);
                        s.spawn(move || {
                            let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (t + 1));
                            let mut model = HashMap::new();
                            let base = 1_000 + t * 1_000_000;
                            for i in 0..$ops {
                                let key = base + rng.next() % $own;
                                match rng.next() % 10 {
                                    0 | 1 => {
                                        assert_eq!(map.insert(key, i), model.insert(key, i));
                                    }
                                    2 => assert_eq!(map.remove(&key), model.remove(&key)),
                                    3 => assert_eq!(map.get(&key), model.get(&key).copied()),
                                    4 => {
                                        let seen = map.with(&key, |v| v.copied());
                                        assert_eq!(seen, model.get(&key).copied());
                                    }
                                    5 => {
                                        let got = map.update(&key, |v| {
                                            *v += 1;
                                            *v
                                        });
                                        let want = model.get_mut(&key).map(|v| {
                                            *v += 1;
                                            *v
                                        });
                                        assert_eq!(got, want);
                                    }
                                    6 => {
                                        let ok = map.try_insert(key, i).is_ok();
                                        assert_eq!(ok, !model.contains_key(&key));
                                        model.entry(key).or_insert(i);
                                    }
                                    7 => {
                                        let shared = rng.next() % SHARED;
                                        map.get_or_insert_with(shared, || 0, |v| *v += 1);
                                        increments.fetch_add(1, Ordering::Relaxed);
                                    }
                                    8 => {
                                        let raced = 100 + rng.next() % RACED;
                                        if map.try_insert(raced, t).is_ok() {
                                            winners.fetch_add(1, Ordering::Relaxed);
                                        }
                                    }
                                    _ => assert_eq!(map.contains_key(&key), model.contains_key(&key)),
                                }
                                if i % 512 == 0 {
                                    // Whole-map reads interleaved with the writes of others.
                                    let bound = 200 + THREADS as usize * $own as usize;
                                    let mut entries = 0;
                                    map.for_each(|_, _| entries += 1);
                                    assert!(entries <= bound && map.len() <= bound);
                                }
                            }
                            model
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });

            // Shared counters: every increment landed.
            let mut counted = 0;
            for shared in 0..SHARED {
                counted += map.get(&shared).unwrap_or(0);
            }
            assert_eq!(counted as usize, increments.load(Ordering::Relaxed));
            // Raced keys: one winner each, and the value is a thread id.
            let raced_present = (100..100 + RACED).filter(|k| map.contains_key(k)).count();
            assert_eq!(raced_present, winners.load(Ordering::Relaxed));
            // Own keys: the map equals the union of the private models.
            let snapshot = map.snapshot();
            for model in &models {
                for (k, v) in model {
                    assert_eq!(snapshot.get(k), Some(v), "key {k}");
                }
            }
            let own_total: usize = models.iter().map(HashMap::len).sum();
            let expected_len = own_total + raced_present + (0..SHARED).filter(|k| map.contains_key(k)).count();
            assert_eq!(map.len(), expected_len);
            assert_eq!(snapshot.len(), expected_len);
            // retain and clear under no contention finish the job.
            map.retain(|k, _| *k < 1_000);
            assert_eq!(map.len(), expected_len - own_total);
            map.clear();
            assert!(map.is_empty());
        }
    };
}

stress!(locked_map_stress, LockedMap::new(), ops = 20_000u64, own_keys = 256);
stress!(sharded_map_stress, ShardedMap::new(), ops = 20_000u64, own_keys = 256);
stress!(
    sharded_map_one_shard_stress,
    ShardedMap::with_shards(1),
    ops = 10_000u64,
    own_keys = 64
);
stress!(snapshot_map_stress, SnapshotMap::new(), ops = 2_000u64, own_keys = 32);

/// `SnapshotMap` readers always see a whole published version: a writer inserts keys in order,
/// so any loaded version holds exactly the keys `0..n` for some `n`, and never loses one.
#[test]
fn snapshot_readers_see_whole_versions() {
    const KEYS: u64 = 300;
    let map = SnapshotMap::new();
    thread::scope(|s| {
        let map = &map;
        for _ in 0..2 {
            s.spawn(move || {
                let mut last = 0;
                while last < KEYS as usize {
                    let view = map.load();
                    let n = view.len();
                    assert!(n >= last, "a version went backwards");
                    assert!((0..n as u64).all(|k| view.get(&k) == Some(&(k * 2))));
                    last = n;
                    thread::yield_now();
                }
            });
        }
        // Two writers racing on the same keys in the same order; serialized writers mean
        // `try_insert` fails exactly when the other one got there first.
        for _ in 0..2 {
            s.spawn(move || {
                for k in 0..KEYS {
                    let _ = map.try_insert(k, k * 2);
                }
            });
        }
    });
    assert_eq!(map.len(), KEYS as usize);
}

/// Concurrent increments through `update` on all three maps: no update is lost.
#[test]
fn no_lost_updates() {
    fn run(increment: impl Fn() + Sync) {
        thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    for _ in 0..500 {
                        increment();
                    }
                });
            }
        });
    }
    let total = THREADS * 500;
    let locked = LockedMap::new();
    locked.insert("n", 0);
    run(|| {
        locked.update("n", |v| *v += 1);
    });
    assert_eq!(locked.get("n"), Some(total));
    let sharded = ShardedMap::new();
    sharded.insert("n", 0);
    run(|| {
        sharded.update("n", |v| *v += 1);
    });
    assert_eq!(sharded.get("n"), Some(total));
    let snapshot = SnapshotMap::new();
    snapshot.insert("n", 0);
    run(|| {
        snapshot.update("n", |v| *v += 1);
    });
    assert_eq!(snapshot.get("n"), Some(total));
}

/// Moves between pairs of accounts in both orders from several threads: `update_pair` locks the
/// two shards in shard order, so opposite moves never deadlock, and no amount is lost. (Few
/// shards, so pairs often share one and often cross.)
#[test]
fn update_pairs_in_both_orders_keep_the_total() {
    const ACCOUNTS: u64 = 16;
    const START: i64 = 1_000;
    let map: ShardedMap<u64, i64> = ShardedMap::with_shards(4);
    for a in 0..ACCOUNTS {
        map.insert(a, START);
    }
    thread::scope(|s| {
        for t in 0..THREADS {
            let map = &map;
            s.spawn(move || {
                let mut rng = Rng(0x9E37_79B9 + t);
                for _ in 0..2_000 {
                    let (from, to) = (rng.next() % ACCOUNTS, rng.next() % ACCOUNTS);
                    map.update_pair(&from, &to, |a, b| {
                        if let (Some(a), Some(b)) = (a, b) {
                            *a -= 1;
                            *b += 1;
                        }
                    });
                }
            });
        }
    });
    let mut total = 0;
    let mut accounts = 0;
    map.for_each(|_, v| {
        total += v;
        accounts += 1;
    });
    assert_eq!(total, START * accounts);
}
