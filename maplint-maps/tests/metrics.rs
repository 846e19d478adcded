//! The `metrics` feature, read back through metrics-util's debugging recorder: each named map
//! records its contended waits, re-entry panics, snapshot copies and gauges, under its name.
#![cfg(all(feature = "metrics", not(loom)))]

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Barrier;
use std::thread;
use std::time::Duration;

use maplint_maps::{LockedMap, ShardedMap, SnapshotMap};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

/// A recorder of this test's own (not installed globally, so tests run in parallel), and its
/// reader.
fn recorder() -> (DebuggingRecorder, Seen) {
    let recorder = DebuggingRecorder::new();
    let seen = Seen {
        snapshotter: recorder.snapshotter(),
        counters: HashMap::new(),
        gauges: HashMap::new(),
    };
    (recorder, seen)
}

/// What the recorder saw, per (metric, map): the debugging recorder's snapshot resets every
/// value it reads, so counters are summed over the snapshots taken, and a gauge is what the
/// last snapshot read (0 when it was not set since the one before).
struct Seen {
    snapshotter: Snapshotter,
    counters: HashMap<(String, String), u64>,
    gauges: HashMap<(String, String), f64>,
}

impl Seen {
    fn take(&mut self) {
        for (key, _, _, value) in self.snapshotter.snapshot().into_vec() {
            let key = key.key();
            let map = key.labels().find(|l| l.key() == "map").map(|l| l.value().to_owned());
            let id = (key.name().to_owned(), map.unwrap_or_default());
            match value {
                DebugValue::Counter(n) => *self.counters.entry(id).or_default() += n,
                DebugValue::Gauge(v) => {
                    self.gauges.insert(id, v.0);
                }
                DebugValue::Histogram(_) => {}
            }
        }
    }

    /// The counter's total; `None` when it was never registered.
    fn counter(&mut self, name: &str, map: &str) -> Option<u64> {
        self.take();
        self.counters.get(&(name.to_owned(), map.to_owned())).copied()
    }

    /// The gauge as last read; `None` when it was never registered.
    fn gauge(&mut self, name: &str, map: &str) -> Option<f64> {
        self.take();
        self.gauges.get(&(name.to_owned(), map.to_owned())).copied()
    }

    fn nothing(&mut self) -> bool {
        self.take();
        self.counters.is_empty() && self.gauges.is_empty()
    }
}

#[test]
fn contended_waits_are_published_with_their_time() {
    let (recorder, seen) = recorder();
    let map: ShardedMap<u32, u32> =
        metrics::with_local_recorder(&recorder, || ShardedMap::with_shards(1).named("contended"));
    map.insert(1, 1);
    // The lock's totals, as `publish_metrics` sets them (read from one snapshot: the counters
    // are published as absolute values).
    let published = |map: &ShardedMap<u32, u32>| {
        map.publish_metrics();
        let snapshot = seen.snapshotter.snapshot().into_vec();
        let get = |name: &str| {
            snapshot.iter().find_map(|(key, _, _, value)| match value {
                DebugValue::Counter(n) if key.key().name() == name => Some(*n),
                _ => None,
            })
        };
        (
            get("maplint_map_lock_contended_total").unwrap(),
            get("maplint_map_lock_wait_nanoseconds_total").unwrap(),
        )
    };
    assert_eq!(published(&map), (0, 0));
    // One thread holds the shard's write lock (in `update`'s closure) while another reads.
    // Whether the reader reaches the lock before it is released is up to the scheduler, so the
    // scene is repeated until a wait was counted. Both threads are new each time, and a thread's
    // first contended wait is always timed (later ones are sampled): the wait has a time.
    let mut rounds = 0;
    let (waits, nanos) = loop {
        let (waits, nanos) = published(&map);
        if waits > 0 {
            break (waits, nanos);
        }
        rounds += 1;
        assert!(rounds <= 50, "no contended acquisition was counted in 50 rounds");
        let inside = Barrier::new(2);
        thread::scope(|s| {
            s.spawn(|| {
                map.update(&1, |v| {
                    inside.wait();
                    thread::sleep(Duration::from_millis(20));
                    *v += 1;
                })
            });
            s.spawn(|| {
                inside.wait();
                assert!(map.get(&1).is_some());
            });
        });
    };
    assert!(nanos > 0);
    // Uncontended acquisitions count nothing; the totals are published again as they are.
    map.insert(2, 2);
    assert_eq!(map.get(&2), Some(2));
    assert_eq!(published(&map), (waits, nanos));
}

#[test]
fn reentry_panics_are_counted_per_map() {
    let (recorder, mut seen) = recorder();
    let (sharded, locked, snapshot) = metrics::with_local_recorder(&recorder, || {
        (
            ShardedMap::<u32, u32>::new().named("sharded"),
            LockedMap::<u32, u32>::new().named("locked"),
            SnapshotMap::<u32, u32>::new().named("snapshot"),
        )
    });
    sharded.insert(1, 1);
    locked.insert(1, 1);
    snapshot.insert(1, 1);
    let panicked = |f: &dyn Fn()| catch_unwind(AssertUnwindSafe(f)).is_err();
    assert!(panicked(&|| {
        sharded.update(&1, |_| {
            sharded.insert(2, 2);
        });
    }));
    assert!(panicked(&|| {
        locked.for_each(|_, _| {
            locked.len();
        });
    }));
    assert!(panicked(&|| {
        locked.update(&1, |_| {
            locked.get(&1);
        });
    }));
    assert!(panicked(&|| {
        snapshot.update(&1, |_| {
            snapshot.remove(&1);
        });
    }));
    assert_eq!(seen.counter("maplint_map_reentry_panics_total", "sharded").unwrap(), 1);
    assert_eq!(seen.counter("maplint_map_reentry_panics_total", "locked").unwrap(), 2);
    assert_eq!(seen.counter("maplint_map_reentry_panics_total", "snapshot").unwrap(), 1);
    // The maps stay usable.
    assert_eq!(sharded.get(&1), Some(1));
}

#[test]
fn snapshot_writes_count_their_copies_and_bytes() {
    let (recorder, mut seen) = recorder();
    let map: SnapshotMap<u64, u64> = metrics::with_local_recorder(&recorder, || SnapshotMap::new().named("routes"));
    for k in 0..3 {
        map.insert(k, k);
    }
    // Three copies, of 0, 1 and 2 entries.
    let entry = std::mem::size_of::<(u64, u64)>() as u64;
    assert_eq!(seen.counter("maplint_map_snapshot_copies_total", "routes").unwrap(), 3);
    assert_eq!(
        seen.counter("maplint_map_snapshot_copied_bytes_total", "routes")
            .unwrap(),
        3 * entry
    );
    // A write that changes nothing copies nothing; reads never copy.
    assert_eq!(map.update(&9, |v| *v += 1), None);
    assert_eq!(map.get(&1), Some(1));
    assert_eq!(seen.counter("maplint_map_snapshot_copies_total", "routes").unwrap(), 3);
    // Only a SnapshotMap has copy counters.
    let other: LockedMap<u64, u64> = metrics::with_local_recorder(&recorder, || LockedMap::new().named("plain"));
    other.insert(1, 1);
    assert!(seen.counter("maplint_map_snapshot_copies_total", "plain").is_none());
}

#[test]
fn gauges_are_set_when_published() {
    let (recorder, mut seen) = recorder();
    let (sharded, locked, snapshot) = metrics::with_local_recorder(&recorder, || {
        (
            ShardedMap::<u32, u32>::with_shards(4).named("sessions"),
            LockedMap::<u32, u32>::new().named("config"),
            SnapshotMap::<u32, u32>::new().named("routes"),
        )
    });
    for k in 0..40 {
        sharded.insert(k, k);
    }
    locked.insert(1, 1);
    snapshot.insert(1, 1);
    snapshot.insert(2, 2);
    sharded.publish_metrics();
    locked.publish_metrics();
    snapshot.publish_metrics();
    seen.take();
    let at = |seen: &Seen, name: &str, map: &str| seen.gauges[&(name.to_owned(), map.to_owned())];
    assert!((at(&seen, "maplint_map_len", "sessions") - 40.0).abs() < f64::EPSILON);
    assert!((at(&seen, "maplint_map_len", "config") - 1.0).abs() < f64::EPSILON);
    assert!((at(&seen, "maplint_map_len", "routes") - 2.0).abs() < f64::EPSILON);
    // The largest of 4 shards over the mean: between 1 (even) and 4 (all in one).
    let skew = at(&seen, "maplint_map_shard_skew", "sessions");
    assert!((1.0..=4.0).contains(&skew), "{skew}");
    // One shard has no skew gauge.
    assert!(
        !seen
            .gauges
            .contains_key(&("maplint_map_shard_skew".to_owned(), "config".to_owned()))
    );
    // Published again after a change, the gauge follows it.
    sharded.clear();
    sharded.insert(7, 7);
    sharded.publish_metrics();
    assert!((seen.gauge("maplint_map_len", "sessions").unwrap() - 1.0).abs() < f64::EPSILON);
}

#[test]
fn a_map_that_is_not_named_records_nothing() {
    let (recorder, mut seen) = recorder();
    metrics::with_local_recorder(&recorder, || {
        let map: ShardedMap<u32, u32> = ShardedMap::new();
        map.insert(1, 1);
        // maplint: allow(sharded_map_reentry) -- the re-entry panic is what is counted here
        assert!(catch_unwind(AssertUnwindSafe(|| map.update(&1, |_| map.len()))).is_err());
    });
    assert!(seen.nothing());
}
