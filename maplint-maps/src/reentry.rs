//! Same-thread re-entrancy detection, shared by the three maps.
//!
//! While a map runs a user closure (`with`, `update`, `get_or_insert_with`, `retain`,
//! `for_each`, `remove_if`, `compute`, `try_for_each`, `try_get_or_insert_with`,
//! `get_or_insert_with_ref`, `update_pair`, `batch`, `fmt`, and `Serialize` with the `serde`
//! feature), it records its address in a small thread-local stack. Every public method first
//! checks that stack and panics if its own map is on it: the call could only deadlock on
//! the map's own lock, or, for `SnapshotMap`, lose or hide the outer update.
//!
//! Cost: all of the record is one `const`-initialised thread-local without a destructor, so
//! every access is a plain load, store or read-modify-write at a fixed offset from the thread
//! pointer. A call checks with one compare of [`Record::active`] against its idle value and a
//! branch. Running a closure adds the method's weight to `active` with one read-modify-write
//! whose sign says whether another closure was already running, branches on it, and, when none
//! was, stores the map's address in slot 0 (the method stays in `active`); the [`Frame`]
//! subtracts the weight again when it is dropped, at any depth (it keeps only a constant across
//! the user's closure). Everything else (a call made while some closure is running: the scan
//! of at most [`SLOTS`] entries, recording a nested closure, the panic) is out of line and
//! `#[cold]`, and builds the map's [`Who`] (its name, its metrics) only there.
//!
//! Calls nested deeper than [`SLOTS`] distinct maps are not recorded beyond that depth (the
//! inner ones are not checked), and `active` counts the depth exactly up to 4368 nested
//! closures, which no real program reaches.

use std::cell::Cell;
use std::marker::PhantomData;

/// How many nested closures (of distinct maps) are remembered per thread.
const SLOTS: usize = 16;

/// The methods that run a user closure, recorded as a small tag (in [`Record::active`] for the
/// outermost closure, one byte per nested one) and named only in the panic message.
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

/// What one running closure adds to [`Record::active`]: one depth unit plus its method's tag.
/// The tags (at most 15 each) add up below one unit for any depth under 4369.
const UNIT: isize = 1 << 16;

/// [`Record::active`] when no map closure runs on this thread: negative, and so close to zero
/// that one closure's [`Method::weight`] leaves it negative and two make it positive.
const IDLE: isize = -(UNIT + 16);

impl Method {
    /// Every method, at the index of its tag.
    const ALL: &[Self] = &[
        Self::With,
        Self::Update,
        Self::GetOrInsertWith,
        Self::Retain,
        Self::ForEach,
        Self::RemoveIf,
        Self::Compute,
        Self::TryForEach,
        Self::TryGetOrInsertWith,
        Self::GetOrInsertWithRef,
        Self::UpdatePair,
        Self::Batch,
        Self::Fmt,
        #[cfg(feature = "serde")]
        Self::Serialize,
    ];

    /// What a closure run by this method adds to [`Record::active`] while it runs.
    #[cfg_attr(maplint_maps_no_reentry_check, allow(dead_code))]
    const fn weight(self) -> isize {
        UNIT + self as isize
    }

    /// The method whose tag is `tag`.
    fn of(tag: isize) -> Self {
        Self::ALL[tag.unsigned_abs()]
    }
}

/// This thread's record of running map closures.
struct Record {
    /// [`IDLE`] plus the [`Method::weight`]s of the closures running on this thread: how many
    /// run (`(active - IDLE) / UNIT`) and, while only one does, its method
    /// (`(active - IDLE) % UNIT`). Entering a closure adds its weight with one
    /// read-modify-write whose sign says whether another closure was already running (negative
    /// from [`IDLE`], positive from any deeper value); leaving subtracts it, whatever the depth.
    active: Cell<isize>,
    /// Address of each map whose closure is running, outermost first (the outermost one is
    /// written by every closure call, the others by the out-of-line path).
    ids: [Cell<usize>; SLOTS],
    /// The method running each of those closures, written by the out-of-line path (the
    /// outermost one when a second closure starts: until then `active` holds it).
    methods: [Cell<Method>; SLOTS],
}

impl Record {
    const fn new() -> Self {
        Self {
            active: Cell::new(IDLE),
            ids: [const { Cell::new(0) }; SLOTS],
            methods: [const { Cell::new(Method::With) }; SLOTS],
        }
    }

    /// How many closures run, with `active` as given.
    fn depth(active: isize) -> usize {
        ((active - IDLE) / UNIT).unsigned_abs()
    }

    /// The method of the map at the first of the running closures' slots whose id is `id`,
    /// with `active` as given.
    fn find(&self, active: isize, id: usize) -> Option<Method> {
        let depth = Self::depth(active);
        if depth == 1 {
            // Only `ids[0]` is written: the method is still in `active`.
            return (self.ids[0].get() == id).then(|| Method::of((active - IDLE) % UNIT));
        }
        let slot = self.ids[..depth.min(SLOTS)]
            .iter()
            .position(|active_id| active_id.get() == id)?;
        Some(self.methods[slot].get())
    }

    /// A closure of the map `id` run by `method` has started while others run (`active`
    /// already counts it): returns the method of the running closure of the same map, if there
    /// is one (and takes the new one out again: no frame will), or else records the map and
    /// the method in the new closure's slot.
    #[cfg(not(maplint_maps_no_reentry_check))]
    fn nest(&self, method: Method, id: usize) -> Option<Method> {
        let before = self.active.get().wrapping_sub(method.weight());
        if let Some(outer) = self.find(before, id) {
            self.active.set(before);
            return Some(outer);
        }
        let depth = Self::depth(before);
        if depth == 1 {
            self.methods[0].set(Method::of((before - IDLE) % UNIT));
        }
        if depth < SLOTS {
            self.ids[depth].set(id);
            self.methods[depth].set(method);
        }
        None
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
/// name and metrics are never loaded, and nothing is kept for the slow path but `who`'s
/// captures (a reference to the map).
#[inline]
pub(crate) fn check<'a>(who: impl FnOnce() -> Who<'a>, method: &'static str) {
    if cfg!(maplint_maps_no_reentry_check) {
        return;
    }
    if RECORD.with(|record| record.active.get()) != IDLE {
        check_cold(who, method);
    }
}

/// [`check`] while some closure is running on this thread.
#[cold]
#[inline(never)]
fn check_cold<'a>(who: impl FnOnce() -> Who<'a>, method: &'static str) {
    let who = who();
    let outer = RECORD.with(|record| record.find(record.active.get(), who.id));
    if let Some(outer) = outer {
        reentry_panic(who, method, outer);
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
    let weight = method.weight();
    // (`who().id` is the map's address: nothing is loaded for it.)
    let outermost = RECORD.with(|record| {
        let active = record.active.get().wrapping_add(weight);
        record.active.set(active);
        if active < 0 {
            record.ids[0].set(who().id);
        }
        active < 0
    });
    if !outermost {
        enter_cold(who, method);
    }
    Frame {
        weight,
        _not_send: PhantomData,
    }
}

/// The re-entrancy check compiled out (benchmark comparison only): nothing is recorded.
#[cfg(maplint_maps_no_reentry_check)]
#[inline]
pub(crate) fn enter<'a>(_who: impl Fn() -> Who<'a>, _method: Method) -> Frame {
    Frame { _not_send: PhantomData }
}

/// [`enter`] while some closure was already running on this thread (`active` already counts the
/// new one): panics if the map is one of those running, or else records the map and the method
/// in the new closure's slot.
#[cfg(not(maplint_maps_no_reentry_check))]
#[cold]
#[inline(never)]
fn enter_cold<'a>(who: impl Fn() -> Who<'a>, method: Method) {
    let who = who();
    let outer = RECORD.with(|record| record.nest(method, who.id));
    if let Some(outer) = outer {
        reentry_panic(who, method.name(), outer);
    }
}

/// Counts the re-entry panic (the `metrics` feature) and panics.
#[cold]
#[inline(never)]
fn reentry_panic(who: Who<'_>, method: &'static str, outer: Method) -> ! {
    #[cfg(feature = "metrics")]
    if let Some(metrics) = who.metrics {
        metrics.reentry_panic();
    }
    let (map, outer) = (who.name, outer.name());
    panic!(
        "re-entrant call: `{map}::{method}` was called from inside the closure passed to \
         `{map}::{outer}` on the same map, which would deadlock or lose an update; \
         return what you need from the closure and make the call after `{outer}` returns"
    )
}

/// Marks a running map closure; dropping it (normally or while unwinding) unmarks it.
#[must_use]
pub(crate) struct Frame {
    /// What entering added to [`Record::active`] (a constant where `enter` is inlined).
    #[cfg(not(maplint_maps_no_reentry_check))]
    weight: isize,
    /// The record lives in this thread's storage, so the frame must stay on this thread.
    _not_send: PhantomData<*const ()>,
}

#[cfg(not(maplint_maps_no_reentry_check))]
impl Drop for Frame {
    #[inline]
    fn drop(&mut self) {
        // One read-modify-write, the same at any depth: nothing needs to be kept live across
        // the user's closure but a constant.
        RECORD.with(|record| record.active.set(record.active.get().wrapping_sub(self.weight)));
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{IDLE, Method, UNIT};

    #[test]
    fn every_method_is_at_the_index_of_its_tag() {
        for (tag, method) in Method::ALL.iter().enumerate() {
            assert_eq!(*method as usize, tag);
        }
        // The tags of 4368 nested closures add up below one depth unit.
        assert!((isize::try_from(Method::ALL.len()).unwrap() - 1) * 4368 < UNIT);
        // One closure of any method leaves `IDLE` negative, two make it positive.
        for outer in Method::ALL {
            assert!(IDLE + outer.weight() < 0);
            for inner in Method::ALL {
                assert!(IDLE + outer.weight() + inner.weight() > 0);
            }
        }
    }
}
