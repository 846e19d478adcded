//! The synchronization primitives the maps are built on, swapped for loom's under `--cfg loom`.
//!
//! Every lock is taken through [`read`], [`write`] or [`lock`]. The locks are `parking_lot`'s:
//! one word, no poisoning (a panic in a user closure cannot leave a map in a state that breaks
//! its invariants, see the crate docs, so a poisoned lock would carry no information worth a
//! second panic), and none of std's poisoning bookkeeping on every write lock and unlock. Under
//! loom they are loom's, whose poisoning is ignored the same way.

#[cfg(all(test, loom))]
use std::sync::PoisonError;

#[cfg(all(test, loom))]
pub(crate) use loom::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
#[cfg(not(all(test, loom)))]
pub(crate) use parking_lot::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
#[cfg(not(all(test, loom)))]
pub(crate) use std::sync::Arc;

/// Takes a read lock.
#[inline]
pub(crate) fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    #[cfg(all(test, loom))]
    return lock.read().unwrap_or_else(PoisonError::into_inner);
    #[cfg(not(all(test, loom)))]
    lock.read()
}

/// Takes a write lock.
#[inline]
pub(crate) fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    #[cfg(all(test, loom))]
    return lock.write().unwrap_or_else(PoisonError::into_inner);
    #[cfg(not(all(test, loom)))]
    lock.write()
}

/// Locks a mutex.
#[inline]
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    #[cfg(all(test, loom))]
    return mutex.lock().unwrap_or_else(PoisonError::into_inner);
    #[cfg(not(all(test, loom)))]
    mutex.lock()
}

/// Takes a read lock if no writer holds it or waits for it.
#[cfg(feature = "metrics")]
#[inline]
pub(crate) fn try_read<T>(lock: &RwLock<T>) -> Option<RwLockReadGuard<'_, T>> {
    #[cfg(all(test, loom))]
    return lock.try_read().ok();
    #[cfg(not(all(test, loom)))]
    lock.try_read()
}

/// Takes the write lock if no one holds the lock.
#[cfg(feature = "metrics")]
#[inline]
pub(crate) fn try_write<T>(lock: &RwLock<T>) -> Option<RwLockWriteGuard<'_, T>> {
    #[cfg(all(test, loom))]
    return lock.try_write().ok();
    #[cfg(not(all(test, loom)))]
    lock.try_write()
}

/// Locks the mutex if no one holds it.
#[cfg(feature = "metrics")]
#[inline]
pub(crate) fn try_lock<T>(mutex: &Mutex<T>) -> Option<MutexGuard<'_, T>> {
    #[cfg(all(test, loom))]
    return mutex.try_lock().ok();
    #[cfg(not(all(test, loom)))]
    mutex.try_lock()
}

/// The contended acquisitions of one lock: counted with the `metrics` feature, nothing (and no
/// room) without it.
#[cfg(feature = "metrics")]
pub(crate) use crate::metrics::Waits;
#[cfg(not(feature = "metrics"))]
#[derive(Debug, Default)]
pub(crate) struct Waits(());

/// Takes a read lock, counting a contended wait in `waits` (the `metrics` feature).
#[inline]
pub(crate) fn read_counted<'a, T>(lock: &'a RwLock<T>, waits: &Waits) -> RwLockReadGuard<'a, T> {
    #[cfg(feature = "metrics")]
    return crate::metrics::read(lock, waits);
    #[cfg(not(feature = "metrics"))]
    {
        let _ = waits;
        read(lock)
    }
}

/// Takes a write lock, counting a contended wait in `waits` (the `metrics` feature).
#[inline]
pub(crate) fn write_counted<'a, T>(lock: &'a RwLock<T>, waits: &Waits) -> RwLockWriteGuard<'a, T> {
    #[cfg(feature = "metrics")]
    return crate::metrics::write(lock, waits);
    #[cfg(not(feature = "metrics"))]
    {
        let _ = waits;
        write(lock)
    }
}

/// Locks a mutex, counting a contended wait in `waits` (the `metrics` feature).
#[inline]
pub(crate) fn lock_counted<'a, T>(mutex: &'a Mutex<T>, waits: &Waits) -> MutexGuard<'a, T> {
    #[cfg(feature = "metrics")]
    return crate::metrics::lock(mutex, waits);
    #[cfg(not(feature = "metrics"))]
    {
        let _ = waits;
        lock(mutex)
    }
}

/// The value of a lock no one else can hold.
pub(crate) fn into_inner<T>(lock: RwLock<T>) -> T {
    #[cfg(all(test, loom))]
    return lock.into_inner().unwrap_or_else(PoisonError::into_inner);
    #[cfg(not(all(test, loom)))]
    lock.into_inner()
}

/// An atomically replaceable `Arc<T>` whose readers never lock: `arc_swap::ArcSwap`.
#[cfg(not(all(test, loom)))]
pub(crate) struct SnapCell<T>(arc_swap::ArcSwap<T>);

#[cfg(not(all(test, loom)))]
impl<T> SnapCell<T> {
    pub(crate) fn new(value: T) -> Self {
        Self(arc_swap::ArcSwap::from_pointee(value))
    }

    /// A cell holding `value`, shared with whoever else holds it.
    pub(crate) fn from_arc(value: Arc<T>) -> Self {
        Self(arc_swap::ArcSwap::new(value))
    }

    pub(crate) fn into_inner(self) -> Arc<T> {
        self.0.into_inner()
    }

    /// Runs `f` on the current value without taking a lock and without touching the reference
    /// count (arc-swap's borrowed `load`).
    #[inline]
    pub(crate) fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.0.load())
    }

    #[inline]
    pub(crate) fn load_full(&self) -> Arc<T> {
        self.0.load_full()
    }

    #[inline]
    pub(crate) fn store(&self, value: Arc<T>) {
        self.0.store(value);
    }
}

/// Loom stand-in for the arc-swap cell: the pointer swap is modelled as a short read or write
/// lock around an `Arc`, which loom can see; user code never runs while it is held.
#[cfg(all(test, loom))]
pub(crate) struct SnapCell<T>(RwLock<Arc<T>>);

#[cfg(all(test, loom))]
impl<T> SnapCell<T> {
    pub(crate) fn new(value: T) -> Self {
        Self(RwLock::new(Arc::new(value)))
    }

    pub(crate) fn from_arc(value: Arc<T>) -> Self {
        Self(RwLock::new(value))
    }

    pub(crate) fn into_inner(self) -> Arc<T> {
        into_inner(self.0)
    }

    pub(crate) fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        let current = self.load_full();
        f(&current)
    }

    pub(crate) fn load_full(&self) -> Arc<T> {
        Arc::clone(&read(&self.0))
    }

    pub(crate) fn store(&self, value: Arc<T>) {
        *write(&self.0) = value;
    }
}
