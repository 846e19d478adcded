//! Same-thread re-entrancy detection, shared by the three maps.
//!
//! While a map runs a user closure (`with`, `update`, `get_or_insert_with`, `retain`,
//! `for_each`, `remove_if`, `compute`, `try_for_each`, `try_get_or_insert_with`,
//! `get_or_insert_with_ref`, `update_pair`, `batch`, `fmt`, and `Serialize` with the `serde` feature), it records its address in a small thread-local stack. Every public method
//! first checks that stack and panics if its own map is on it: the call could only deadlock on
//! the map's own lock, or, for `SnapshotMap`, lose or hide the outer update.
//!
//! Cost: all of the record is one `const`-initialised thread-local without a destructor, so
//! every access is a plain load or store at a fixed offset from the thread pointer. On the fast
//! path (no closure of any map running on this thread) the check is one load of the depth and a
//! compare against zero. Running a closure then stores the map's address and a one-byte method
//! tag into slot 0 and sets the depth to 1; the [`Frame`] takes the depth one level down when
//! it is dropped (it keeps nothing across the user's closure). Everything else (a call made while some closure is running: the scan of at most
//! [`SLOTS`] entries, recording a nested frame, the panic) is out of line and `#[cold]`.
//!
//! Calls nested deeper than [`SLOTS`] distinct maps are not recorded beyond that depth (the
//! inner ones are not checked), which no real program reaches.

use std::cell::Cell;
use std::marker::PhantomData;

/// How many nested closures (of distinct maps) are remembered per thread.
const SLOTS: usize = 16;

/// The methods that run a user closure, recorded as one byte per frame (cheaper to store than a
/// `&str`) and named only in the panic message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Method {
    With,
    Update,
    GetOrInsertWith,
    Retain,
    ForEach,
    RemoveIf,
    Compute,
    TryForEach,
    TryGetOrInsertWith,
    GetOrInsertWithRef,
    UpdatePair,
    Batch,
    Fmt,
    /// (The `serde` feature's `Serialize`.)
    #[cfg(feature = "serde")]
    Serialize,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Self::With => "with",
            Self::Update => "update",
            Self::GetOrInsertWith => "get_or_insert_with",
            Self::Retain => "retain",
            Self::ForEach => "for_each",
            Self::RemoveIf => "remove_if",
            Self::Compute => "compute",
            Self::TryForEach => "try_for_each",
            Self::TryGetOrInsertWith => "try_get_or_insert_with",
            Self::GetOrInsertWithRef => "get_or_insert_with_ref",
            Self::UpdatePair => "update_pair",
            Self::Batch => "batch",
            Self::Fmt => "fmt",
            #[cfg(feature = "serde")]
            Self::Serialize => "serialize",
        }
    }
}

/// This thread's record of running map closures.
struct Record {
    /// Number of map closures currently running on this thread.
    depth: Cell<usize>,
    /// Address of each map whose closure is running, innermost last.
    ids: [Cell<usize>; SLOTS],
    /// The method running each of those closures.
    methods: [Cell<Method>; SLOTS],
}

impl Record {
    const fn new() -> Self {
        Self {
            depth: Cell::new(0),
            ids: [const { Cell::new(0) }; SLOTS],
            methods: [const { Cell::new(Method::With) }; SLOTS],
        }
    }
}

#[cfg(not(all(test, loom)))]
std::thread_local! {
    static RECORD: Record = const { Record::new() };
}

#[cfg(all(test, loom))]
loom::thread_local! {
    static RECORD: Record = Record::new();
}

/// The map a call is made on: its identity (its address; a set over it shares it), its type
/// name for the panic message (`"LockedMap"`), and, with the `metrics` feature, its metrics
/// (which count the re-entry panics).
#[derive(Clone, Copy)]
pub(crate) struct Who<'a> {
    pub(crate) id: usize,
    pub(crate) name: &'static str,
    #[cfg(feature = "metrics")]
    pub(crate) metrics: Option<&'a crate::metrics::MapMetrics>,
    pub(crate) map: PhantomData<&'a ()>,
}

impl Who<'_> {
    /// The same map under another type name (a set over it).
    pub(crate) fn renamed(self, name: &'static str) -> Self {
        Self { name, ..self }
    }
}

/// Panics if the map `who()` is running a closure on this thread; `method` is the method being
/// called.
///
/// `who` is asked only when some closure is running on this thread: on the fast path the map's
/// name and metrics are never loaded.
#[inline]
pub(crate) fn check<'a>(who: impl FnOnce() -> Who<'a>, method: &'static str) {
    if cfg!(maplint_maps_no_reentry_check) {
        return;
    }
    let depth = RECORD.with(|record| record.depth.get());
    if depth != 0 {
        check_slow(depth, who(), method);
    }
}

/// The two maps of `a == b` (`who_a` and `who_b`), checked like [`check`] and in address
/// order, so that `a == b` on one thread and `b == a` on another lock them in the same order;
/// `None` when they are the same map (equal to itself, and locked once).
pub(crate) fn compared<'m, M>(a: &'m M, b: &'m M, who_a: Who<'_>, who_b: Who<'_>) -> Option<(&'m M, &'m M)> {
    check(|| who_a, "eq");
    check(|| who_b, "eq");
    match who_a.id.cmp(&who_b.id) {
        std::cmp::Ordering::Less => Some((a, b)),
        std::cmp::Ordering::Greater => Some((b, a)),
        std::cmp::Ordering::Equal => None,
    }
}

/// Checks like [`check`], then records that the map `who` runs a closure until the returned
/// [`Frame`] is dropped (also when the closure panics).
#[cfg(not(maplint_maps_no_reentry_check))]
#[inline]
pub(crate) fn enter<'a>(who: impl Fn() -> Who<'a>, method: Method) -> Frame {
    let id = who().id;
    let depth = RECORD.with(|record| {
        let depth = record.depth.get();
        if depth == 0 {
            record.ids[0].set(id);
            record.methods[0].set(method);
            record.depth.set(1);
        }
        depth
    });
    if depth != 0 {
        enter_slow(depth, who(), method);
    }
    Frame { _not_send: PhantomData }
}

/// The re-entrancy check compiled out (benchmark comparison only): nothing is recorded.
#[cfg(maplint_maps_no_reentry_check)]
#[inline]
pub(crate) fn enter<'a>(_who: impl Fn() -> Who<'a>, _method: Method) -> Frame {
    Frame { _not_send: PhantomData }
}

/// [`enter`] while some closure is already running on this thread: check, then push.
#[cfg(not(maplint_maps_no_reentry_check))]
#[cold]
#[inline(never)]
fn enter_slow(depth: usize, who: Who<'_>, method: Method) {
    check_slow(depth, who, method.name());
    RECORD.with(|record| {
        if depth < SLOTS {
            record.ids[depth].set(who.id);
            record.methods[depth].set(method);
        }
        record.depth.set(depth + 1);
    });
}

#[cold]
#[inline(never)]
fn check_slow(depth: usize, who: Who<'_>, method: &'static str) {
    let outer = RECORD.with(|record| {
        let active = depth.min(SLOTS);
        let slot = record.ids[..active]
            .iter()
            .position(|active_id| active_id.get() == who.id)?;
        Some(record.methods[slot].get())
    });
    if let Some(outer) = outer {
        #[cfg(feature = "metrics")]
        if let Some(metrics) = who.metrics {
            metrics.reentry_panic();
        }
        reentry_panic(who.name, method, outer.name());
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
    /// The record lives in this thread's storage, so the frame must stay on this thread.
    _not_send: PhantomData<*const ()>,
}

#[cfg(not(maplint_maps_no_reentry_check))]
impl Drop for Frame {
    #[inline]
    fn drop(&mut self) {
        // Frames end in the reverse order they began (they are scoped to the map calls, and
        // unwinding drops them innermost first), so ending one is one level less: nothing
        // needs to be kept live across the user's closure.
        RECORD.with(|record| record.depth.set(record.depth.get() - 1));
    }
}
