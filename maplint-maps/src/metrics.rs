//! The `metrics` feature: counters and gauges of a map named with `.named("sessions")`,
//! recorded through the [`metrics`] facade (the application installs the exporter).
//!
//! | metric | kind | what |
//! |---|---|---|
//! | `maplint_map_lock_contended_total` | counter | lock acquisitions that had to wait (a shard's lock, `LockedMap`'s, `SnapshotMap`'s writer lock), as of the last `publish_metrics` |
//! | `maplint_map_lock_wait_nanoseconds_total` | counter | the time those acquisitions waited, estimated from one in 16 of them on average (see below), as of the last `publish_metrics` |
//! | `maplint_map_reentry_panics_total` | counter | re-entrant calls that panicked |
//! | `maplint_map_snapshot_copies_total` | counter | `SnapshotMap` writes that copied the map |
//! | `maplint_map_snapshot_copied_bytes_total` | counter | the entries' bytes those copies moved (`len * size_of::<(K, V)>()`, not what keys and values own on the heap) |
//! | `maplint_map_len` | gauge | entries, set by `publish_metrics` |
//! | `maplint_map_shard_skew` | gauge | `ShardedMap`: the largest shard's entries over the mean (1 is even), set by `publish_metrics` |
//!
//! Every metric carries the label `map` with the map's name; a map that is not named publishes
//! nothing. Waits are counted by every map, in [`Waits`] beside each lock (on the lock's own
//! cache line, which the waiting thread has just taken, so counting bounces no line between
//! cores), and summed into the counters by `publish_metrics`. An uncontended acquisition costs
//! what it costs without the feature (a `try_read` or `try_write` that succeeds). Every
//! contended acquisition is counted, exactly; its wait is timed only when the thread's
//! [`Sampler`] picks it: a thread's first contended wait, and then one after a random interval
//! of 1 to 31 waits (one in [`SAMPLE_EVERY`], 16, on average), as Go's mutex profile samples
//! one contention event in `SetMutexProfileFraction`. A timed wait adds its time multiplied by
//! the length of its interval, so the wait time is an estimate: exact when the waits of an
//! interval last alike, and close over many waits. Only a timed wait reads the clock (twice,
//! the second time while it holds the lock).

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use metrics::{Counter, Gauge, Label, describe_counter, describe_gauge};

use crate::sync::{self, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// How many contended waits a thread's timed wait stands for, on average: after each timed
/// wait the thread leaves a random number of waits untimed, from 0 to `2 * SAMPLE_EVERY - 2`.
pub(crate) const SAMPLE_EVERY: u32 = 16;

/// The waits of one lock: how many acquisitions had to wait (exactly), and for how long in all
/// (an estimate from the timed ones).
#[derive(Debug, Default)]
pub(crate) struct Waits {
    count: AtomicU64,
    nanos: AtomicU64,
}

impl Waits {
    /// Adds `n` to `counter`, as its lock's holder: with a plain load and store when the lock is
    /// held exclusively (no one else can add to it meanwhile, and the lock orders the adds of
    /// successive holders), with a read-modify-write when it is shared with other readers.
    fn add(counter: &AtomicU64, n: u64, exclusive: bool) {
        if exclusive {
            counter.store(counter.load(Ordering::Relaxed).saturating_add(n), Ordering::Relaxed);
        } else {
            counter.fetch_add(n, Ordering::Relaxed);
        }
    }
}

/// Which of a thread's contended waits are timed: the first one, and then one after a random
/// interval of 1 to `2 * SAMPLE_EVERY - 1` waits (on average `SAMPLE_EVERY`; random, so that
/// the timed waits do not follow a pattern of the program's, such as alternating two maps).
/// Each timed wait stands for the waits of its interval: itself and the untimed ones after it.
struct Sampler {
    /// Untimed waits left before the next timed one.
    untimed: Cell<u32>,
    /// xorshift32 state; 0 until the first interval is drawn.
    state: Cell<u32>,
}

impl Sampler {
    const fn new() -> Self {
        Self {
            untimed: Cell::new(0),
            state: Cell::new(0),
        }
    }

    /// For a contended wait starting now: `None` if it is not timed, or the number of waits its
    /// time stands for.
    fn next(&self) -> Option<u32> {
        let untimed = self.untimed.get();
        if untimed > 0 {
            self.untimed.set(untimed - 1);
            return None;
        }
        let mut x = self.state.get();
        if x == 0 {
            // Threads start from different points: the sampler's address differs between live
            // threads (the `| 1` keeps the state non-zero).
            x = (std::ptr::from_ref(self).addr() as u32 ^ 0x9E37_79B9) | 1;
        }
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.state.set(x);
        let interval = 1 + x % (2 * SAMPLE_EVERY - 1);
        self.untimed.set(interval - 1);
        Some(interval)
    }
}

#[cfg(not(all(test, loom)))]
std::thread_local! {
    static SAMPLER: Sampler = const { Sampler::new() };
}

#[cfg(all(test, loom))]
loom::thread_local! {
    static SAMPLER: Sampler = Sampler::new();
}

/// The handles of one named map's metrics, registered once when it is named.
#[derive(Debug)]
pub(crate) struct MapMetrics {
    contended: Counter,
    waited_ns: Counter,
    reentry_panics: Counter,
    snapshot_copies: Counter,
    snapshot_bytes: Counter,
    len: Gauge,
    skew: Gauge,
}

impl MapMetrics {
    /// Registers the metrics of the map called `name` with the current recorder: the copy
    /// counters only for a `SnapshotMap` (`snapshot`), the skew gauge only for a map of
    /// several shards (`sharded`).
    pub(crate) fn new(name: String, snapshot: bool, sharded: bool) -> Self {
        describe();
        let labels = vec![Label::new("map", name)];
        let (copies, bytes) = if snapshot {
            (
                metrics::counter!("maplint_map_snapshot_copies_total", labels.clone()),
                metrics::counter!("maplint_map_snapshot_copied_bytes_total", labels.clone()),
            )
        } else {
            (Counter::noop(), Counter::noop())
        };
        Self {
            contended: metrics::counter!("maplint_map_lock_contended_total", labels.clone()),
            waited_ns: metrics::counter!("maplint_map_lock_wait_nanoseconds_total", labels.clone()),
            reentry_panics: metrics::counter!("maplint_map_reentry_panics_total", labels.clone()),
            snapshot_copies: copies,
            snapshot_bytes: bytes,
            skew: if sharded {
                metrics::gauge!("maplint_map_shard_skew", labels.clone())
            } else {
                Gauge::noop()
            },
            len: metrics::gauge!("maplint_map_len", labels),
        }
    }

    pub(crate) fn reentry_panic(&self) {
        self.reentry_panics.increment(1);
    }

    /// A `SnapshotMap` write copied `len` entries of `size` bytes.
    pub(crate) fn copied(&self, len: usize, size: usize) {
        self.snapshot_copies.increment(1);
        self.snapshot_bytes
            .increment(u64::try_from(len.saturating_mul(size)).unwrap_or(u64::MAX));
    }

    /// Publishes the waits of the map's locks (their totals since the map was made) and sets
    /// the length gauge, and the skew gauge from the shards' lengths when there are several.
    // (Gauges are `f64`: a length past 2^53 loses precision, as any gauge would.)
    #[allow(clippy::cast_precision_loss)]
    pub(crate) fn publish<'w>(&self, waits: impl Iterator<Item = &'w Waits>, shard_lens: &[usize]) {
        let (mut count, mut nanos) = (0_u64, 0_u64);
        for w in waits {
            count = count.saturating_add(w.count.load(Ordering::Relaxed));
            nanos = nanos.saturating_add(w.nanos.load(Ordering::Relaxed));
        }
        self.contended.absolute(count);
        self.waited_ns.absolute(nanos);
        let len: usize = shard_lens.iter().sum();
        self.len.set(len as f64);
        if shard_lens.len() > 1 {
            let max = shard_lens.iter().copied().max().unwrap_or(0);
            let mean = len as f64 / shard_lens.len() as f64;
            self.skew.set(if len == 0 { 0.0 } else { max as f64 / mean });
        }
    }
}

/// Describes the metrics to the recorder (units and help texts), once per registration.
fn describe() {
    describe_counter!(
        "maplint_map_lock_contended_total",
        "Lock acquisitions of a maplint-maps map that had to wait"
    );
    describe_counter!(
        "maplint_map_lock_wait_nanoseconds_total",
        metrics::Unit::Nanoseconds,
        "Time waited by contended lock acquisitions of a maplint-maps map"
    );
    describe_counter!(
        "maplint_map_reentry_panics_total",
        "Re-entrant calls of a maplint-maps map from its own closure (each panicked)"
    );
    describe_counter!(
        "maplint_map_snapshot_copies_total",
        "SnapshotMap writes that copied the map"
    );
    describe_counter!(
        "maplint_map_snapshot_copied_bytes_total",
        metrics::Unit::Bytes,
        "Bytes of entries copied by SnapshotMap writes"
    );
    describe_gauge!(
        "maplint_map_len",
        "Entries in a maplint-maps map, at its last publish_metrics"
    );
    describe_gauge!(
        "maplint_map_shard_skew",
        "ShardedMap: entries of the largest shard over the mean, at its last publish_metrics"
    );
}

/// Takes a read lock, counting the wait in `waits` when it is contended.
#[inline]
pub(crate) fn read<'a, T>(lock: &'a RwLock<T>, waits: &Waits) -> RwLockReadGuard<'a, T> {
    sync::try_read(lock).unwrap_or_else(|| waited(waits, false, || sync::read(lock)))
}

/// Takes a write lock, counting the wait in `waits` when it is contended.
#[inline]
pub(crate) fn write<'a, T>(lock: &'a RwLock<T>, waits: &Waits) -> RwLockWriteGuard<'a, T> {
    sync::try_write(lock).unwrap_or_else(|| waited(waits, true, || sync::write(lock)))
}

/// Locks a mutex, counting the wait in `waits` when it is contended.
#[inline]
pub(crate) fn lock<'a, T>(mutex: &'a Mutex<T>, waits: &Waits) -> MutexGuard<'a, T> {
    sync::try_lock(mutex).unwrap_or_else(|| waited(waits, true, || sync::lock(mutex)))
}

/// Waits for a busy lock with `take` (`exclusive`: a write lock or a mutex), counting the wait
/// and, if the thread's [`Sampler`] picks it, timing it. Only a timed wait reads the clock
/// (twice: before waiting, and after, while the lock is held); the counts are added while the
/// lock is held, on the lock's own cache line, which the waiting thread has just taken.
#[cold]
#[inline(never)]
fn waited<G>(waits: &Waits, exclusive: bool, take: impl FnOnce() -> G) -> G {
    let timed = SAMPLER
        .with(Sampler::next)
        .map(|stands_for| (stands_for, Instant::now()));
    let guard = take();
    if let Some((stands_for, since)) = timed {
        let nanos = u64::try_from(since.elapsed().as_nanos())
            .unwrap_or(u64::MAX)
            .saturating_mul(u64::from(stands_for));
        Waits::add(&waits.nanos, nanos, exclusive);
    }
    Waits::add(&waits.count, 1, exclusive);
    guard
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::atomic::Ordering;
    use std::thread;
    use std::time::Duration;

    use super::{SAMPLE_EVERY, Sampler, Waits, waited};

    #[test]
    fn a_thread_times_its_first_wait_and_then_one_in_an_interval() {
        let sampler = Sampler::new();
        // (A fixed start, for a reproducible draw.)
        sampler.state.set(0x2545_F491);
        // The first wait is timed; each timed wait stands for the waits of its interval.
        let mut covered = 0;
        let mut timed = 0;
        for wait in 0..10_000 {
            match sampler.next() {
                Some(interval) => {
                    assert_eq!(wait, covered, "a timed wait starts the next interval");
                    assert!((1..2 * SAMPLE_EVERY).contains(&interval));
                    covered += interval;
                    timed += 1;
                }
                None => assert!(wait < covered, "an untimed wait lies in an interval"),
            }
        }
        // About one in `SAMPLE_EVERY` (612 of 10,000 from this start).
        assert!((10_000 / 20..10_000 / 12).contains(&timed), "{timed}");
    }

    #[test]
    fn every_wait_is_counted_and_its_time_estimated() {
        thread::spawn(|| {
            let waits = Waits::default();
            // Each "wait" lasts at least a millisecond; every wait belongs to the interval of a
            // timed one, so the estimate is at least the waits' count in milliseconds.
            for i in 0..100 {
                waited(&waits, i % 2 == 0, || thread::sleep(Duration::from_millis(1)));
            }
            assert_eq!(waits.count.load(Ordering::Relaxed), 100);
            assert!(waits.nanos.load(Ordering::Relaxed) >= 100 * 1_000_000);
        })
        .join()
        .unwrap();
    }
}
