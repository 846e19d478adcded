//! The `metrics` feature: counters and gauges of a map named with `.named("sessions")`,
//! recorded through the [`metrics`] facade (the application installs the exporter).
//!
//! | metric | kind | what |
//! |---|---|---|
//! | `maplint_map_lock_contended_total` | counter | lock acquisitions that had to wait (a shard's lock, `LockedMap`'s, `SnapshotMap`'s writer lock), as of the last `publish_metrics` |
//! | `maplint_map_lock_wait_nanoseconds_total` | counter | the time those acquisitions waited, as of the last `publish_metrics` |
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
//! what it costs without the feature (a `try_read` or `try_write` that succeeds); only a
//! contended one reads the clock, twice.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use metrics::{Counter, Gauge, Label, describe_counter, describe_gauge};

use crate::sync::{self, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// The waits of one lock: how many acquisitions had to wait, and for how long in all.
#[derive(Debug, Default)]
pub(crate) struct Waits {
    count: AtomicU64,
    nanos: AtomicU64,
}

impl Waits {
    /// Counts one wait that started at `since` and ends now.
    #[cold]
    #[inline(never)]
    fn record(&self, since: Instant) {
        let nanos = u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.count.fetch_add(1, Ordering::Relaxed);
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
    }
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
    sync::try_read(lock).unwrap_or_else(|| waited(waits, || sync::read(lock)))
}

/// Takes a write lock, counting the wait in `waits` when it is contended.
#[inline]
pub(crate) fn write<'a, T>(lock: &'a RwLock<T>, waits: &Waits) -> RwLockWriteGuard<'a, T> {
    sync::try_write(lock).unwrap_or_else(|| waited(waits, || sync::write(lock)))
}

/// Locks a mutex, counting the wait in `waits` when it is contended.
#[inline]
pub(crate) fn lock<'a, T>(mutex: &'a Mutex<T>, waits: &Waits) -> MutexGuard<'a, T> {
    sync::try_lock(mutex).unwrap_or_else(|| waited(waits, || sync::lock(mutex)))
}

/// Waits for a busy lock with `take`, timing the wait (counted while the lock is held: on the
/// lock's own cache line, which the waiting thread has just taken).
#[cold]
#[inline(never)]
fn waited<G>(waits: &Waits, take: impl FnOnce() -> G) -> G {
    let since = Instant::now();
    let guard = take();
    waits.record(since);
    guard
}
