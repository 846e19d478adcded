//! Same-thread re-entrancy detection, shared by the three maps.
//!
//! While a map runs a user closure (`with`, `update`, `get_or_insert_with`, `retain`,
//! `for_each`), it records its address in a small thread-local stack. Every public method first
//! checks that stack and panics if its own map is on it: the call could only deadlock on the
//! map's own lock, or, for `SnapshotMap`, lose or hide the outer update.
//!
//! Cost: on the fast path (no closure of any map running on this thread) the check is one load
//! of a `const`-initialised thread-local `Cell` and a compare against zero. Running a closure
//! adds one store into the stack and two stores of the depth. The slow path, a call made while
//! some closure is running, scans at most [`SLOTS`] entries and is `#[cold]`.
//!
//! Calls nested deeper than [`SLOTS`] distinct maps are not recorded beyond that depth (the
//! inner ones are not checked), which no real program reaches.

use std::cell::Cell;
use std::marker::PhantomData;

/// How many nested closures (of distinct maps) are remembered per thread.
const SLOTS: usize = 16;

type Slot = Cell<(usize, &'static str)>;

#[cfg(not(all(test, loom)))]
std::thread_local! {
    /// Number of map closures currently running on this thread.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
    /// Address and method name of each map whose closure is running, innermost last.
    static ACTIVE: [Slot; SLOTS] = const { [const { Cell::new((0, "")) }; SLOTS] };
}

#[cfg(all(test, loom))]
loom::thread_local! {
    static DEPTH: Cell<usize> = Cell::new(0);
    static ACTIVE: [Slot; SLOTS] = [const { Cell::new((0, "")) }; SLOTS];
}

/// Panics if the map at `id` is running a closure on this thread.
///
/// `map` is the type name (`"LockedMap"`) and `method` the method being called.
#[inline]
pub(crate) fn check(id: usize, map: &'static str, method: &'static str) {
    if cfg!(maplint_maps_no_reentry_check) {
        return;
    }
    let depth = DEPTH.with(Cell::get);
    if depth != 0 {
        check_slow(depth, id, map, method);
    }
}

/// Checks like [`check`], then records that the map at `id` runs a closure until the returned
/// [`Frame`] is dropped (also when the closure panics).
#[inline]
pub(crate) fn enter(id: usize, map: &'static str, method: &'static str) -> Frame {
    if cfg!(maplint_maps_no_reentry_check) {
        return Frame {
            depth: usize::MAX,
            _not_send: PhantomData,
        };
    }
    let depth = DEPTH.with(Cell::get);
    if depth != 0 {
        check_slow(depth, id, map, method);
    }
    if depth < SLOTS {
        ACTIVE.with(|active| active[depth].set((id, method)));
    }
    DEPTH.with(|d| d.set(depth + 1));
    Frame {
        depth,
        _not_send: PhantomData,
    }
}

#[cold]
#[inline(never)]
fn check_slow(depth: usize, id: usize, map: &'static str, method: &'static str) {
    let outer = ACTIVE.with(|active| {
        active[..depth.min(SLOTS)]
            .iter()
            .map(Cell::get)
            .find(|&(active_id, _)| active_id == id)
    });
    if let Some((_, outer_method)) = outer {
        reentry_panic(map, method, outer_method);
    }
}

#[cold]
#[inline(never)]
fn reentry_panic(map: &'static str, method: &'static str, outer: &'static str) -> ! {
    panic!(
        "re-entrant call: `{map}::{method}` was called from inside the closure passed to \
         `{map}::{outer}` on the same map, which would deadlock or lose an update; \
         return what you need from the closure and make the call after `{outer}` returns"
    )
}

/// Marks a running map closure; dropping it (normally or while unwinding) unmarks it.
#[must_use]
pub(crate) struct Frame {
    depth: usize,
    /// The record lives in this thread's storage, so the frame must stay on this thread.
    _not_send: PhantomData<*const ()>,
}

impl Drop for Frame {
    #[inline]
    fn drop(&mut self) {
        if self.depth != usize::MAX {
            DEPTH.with(|d| d.set(self.depth));
        }
    }
}
