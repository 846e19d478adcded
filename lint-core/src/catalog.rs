//! Library knowledge: the one table of what maplint knows about the crates it never reads.
//!
//! Map, set and concurrent-map types; lock types, the calls that take them and where their
//! guard sits in what the call returns (`Result`, `Option`, an enum's variants); `RefCell`
//! borrows; the calls that move a guard on (`unwrap`, `or_insert`, iterator adapters);
//! spawners; the macros whose arguments are read. The model classifies with it and the
//! lex-first planner derives its interest words from it, so a new lock library or spawner is
//! one entry here. This module depends on nothing else in the crate.

use std::sync::OnceLock;

/// Maps and sets keyed by names, for this module's tables and the model's path resolution (a
/// path is classified and resolved at every turn): foldhash with a fixed seed, several times
/// faster than std's `SipHash` on short strings. (No key is an adversary's choice, and a fixed
/// seed keeps every run alike.)
pub(crate) type NameMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;
/// See [`NameMap`].
pub(crate) type NameSet<K> = std::collections::HashSet<K, foldhash::fast::FixedState>;

/// Plain (unsynchronized) maps and sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MapKind {
    HashMap,
    BTreeMap,
    IndexMap,
    HashSet,
    BTreeSet,
    IndexSet,
    /// A map type the user configured.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LockKind {
    Mutex,
    RwLock,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LockLib {
    Std,
    ParkingLot,
    Spin,
    Tokio,
    AsyncLock,
    Futures,
    /// Written as `Mutex` with no import the model could follow.
    Unknown,
}

impl LockLib {
    /// Does a guard of this library block its thread (not designed to be held across
    /// `.await`)?
    #[must_use]
    pub fn blocks_thread(self) -> bool {
        matches!(self, LockLib::Std | LockLib::ParkingLot | LockLib::Spin)
    }

    /// Does a read lock wait for queued writers (so two read guards on one thread deadlock as
    /// soon as a writer queues between them)?
    #[must_use]
    pub fn writer_preferring(self) -> bool {
        matches!(
            self,
            LockLib::Std | LockLib::ParkingLot | LockLib::Tokio | LockLib::AsyncLock
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Wrap {
    Arc,
    Rc,
    RefCell,
    Cell,
    UnsafeCell,
    OnceLock,
    Lazy,
    Box,
    Option,
    MaybeUninit,
    ManuallyDrop,
    /// `std::thread::LocalKey`: what a `thread_local!` static is.
    LocalKey,
}

/// What a well-known type name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    Map(MapKind),
    /// A concurrent map; `guarded` when its API hands out guards (`DashMap`).
    ConcurrentMap {
        guarded: bool,
    },
    Lock(LockKind),
    /// One of this project's bundled maps (`maplint_maps`): no guards, closures that run under
    /// the map's (shard's) lock.
    BundledMap(Bundled),
    Wrap(Wrap),
    Vec,
}

/// The bundled maps of `maplint_maps`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bundled {
    /// `ShardedMap`: a `RwLock` per shard.
    Sharded,
    /// `LockedMap`: one `RwLock`.
    Locked,
    /// `SnapshotMap`: lock-free reads, writers serialized by a mutex.
    Snapshot,
}

/// The crate of the bundled maps.
const BUNDLED_CRATE: &[&str] = &["maplint_maps"];

/// One well-known type.
#[derive(Debug)]
pub struct TypeEntry {
    pub name: &'static str,
    /// The crates that export it (a glob import of one of them brings the name in).
    pub from: &'static [&'static str],
    /// The name means this type only when its path starts with one of `from` (a
    /// `papaya::HashMap` is a concurrent map; a `HashMap` from anywhere else is a plain map).
    pub only_from: bool,
    pub kind: Known,
}

const STD: &[&str] = &["std", "core", "alloc"];
const CONCURRENT_CRATES: &[&str] = &["papaya", "scc", "flurry", "evmap", "moka", "chashmap", "concurrent_map"];
/// The crates of [`LOCK_LIBS`].
const LOCK_CRATES: &[&str] = &{
    let mut out = [""; LOCK_LIBS.len()];
    let mut i = 0;
    while i < LOCK_LIBS.len() {
        out[i] = LOCK_LIBS[i].0;
        i += 1;
    }
    out
};

const fn ty(name: &'static str, from: &'static [&'static str], kind: Known) -> TypeEntry {
    TypeEntry {
        name,
        from,
        only_from: false,
        kind,
    }
}

const fn only(name: &'static str, from: &'static [&'static str], kind: Known) -> TypeEntry {
    TypeEntry {
        name,
        from,
        only_from: true,
        kind,
    }
}

/// Every well-known type, first match wins.
pub static TYPES: &[TypeEntry] = &[
    only("HashMap", CONCURRENT_CRATES, Known::ConcurrentMap { guarded: false }),
    only(
        "HashbrownMap",
        CONCURRENT_CRATES,
        Known::ConcurrentMap { guarded: false },
    ),
    only(
        "HashSet",
        &["papaya", "scc", "flurry"],
        Known::ConcurrentMap { guarded: false },
    ),
    only("Cache", &["moka"], Known::ConcurrentMap { guarded: false }),
    only("TreeIndex", &["scc"], Known::ConcurrentMap { guarded: false }),
    only("HashIndex", &["scc"], Known::ConcurrentMap { guarded: false }),
    only("ReadHandle", &["evmap"], Known::ConcurrentMap { guarded: false }),
    only("WriteHandle", &["evmap"], Known::ConcurrentMap { guarded: false }),
    ty("HashMap", &["std", "hashbrown"], Known::Map(MapKind::HashMap)),
    ty("FxHashMap", &["rustc_hash", "fxhash"], Known::Map(MapKind::HashMap)),
    ty("AHashMap", &["ahash"], Known::Map(MapKind::HashMap)),
    ty("FnvHashMap", &["fnv"], Known::Map(MapKind::HashMap)),
    ty("HashbrownMap", &[], Known::Map(MapKind::HashMap)),
    ty("BTreeMap", STD, Known::Map(MapKind::BTreeMap)),
    ty("IndexMap", &["indexmap"], Known::Map(MapKind::IndexMap)),
    ty("HashSet", &["std", "hashbrown"], Known::Map(MapKind::HashSet)),
    ty("FxHashSet", &["rustc_hash", "fxhash"], Known::Map(MapKind::HashSet)),
    ty("AHashSet", &["ahash"], Known::Map(MapKind::HashSet)),
    ty("FnvHashSet", &["fnv"], Known::Map(MapKind::HashSet)),
    ty("BTreeSet", STD, Known::Map(MapKind::BTreeSet)),
    ty("IndexSet", &["indexmap"], Known::Map(MapKind::IndexSet)),
    only("ShardedMap", BUNDLED_CRATE, Known::BundledMap(Bundled::Sharded)),
    only("LockedMap", BUNDLED_CRATE, Known::BundledMap(Bundled::Locked)),
    only("SnapshotMap", BUNDLED_CRATE, Known::BundledMap(Bundled::Snapshot)),
    only("LockedSet", BUNDLED_CRATE, Known::BundledMap(Bundled::Locked)),
    only("ShardedSet", BUNDLED_CRATE, Known::BundledMap(Bundled::Sharded)),
    ty("DashMap", &["dashmap"], Known::ConcurrentMap { guarded: true }),
    ty("DashSet", &["dashmap"], Known::ConcurrentMap { guarded: true }),
    ty("Mutex", LOCK_CRATES, Known::Lock(LockKind::Mutex)),
    ty("RwLock", LOCK_CRATES, Known::Lock(LockKind::RwLock)),
    ty("FairMutex", &["parking_lot"], Known::Lock(LockKind::Mutex)),
    ty("Vec", STD, Known::Vec),
    ty("VecDeque", STD, Known::Vec),
    ty("Arc", STD, Known::Wrap(Wrap::Arc)),
    ty("Rc", STD, Known::Wrap(Wrap::Rc)),
    ty("RefCell", STD, Known::Wrap(Wrap::RefCell)),
    ty("Cell", STD, Known::Wrap(Wrap::Cell)),
    ty("UnsafeCell", STD, Known::Wrap(Wrap::UnsafeCell)),
    ty("SyncUnsafeCell", STD, Known::Wrap(Wrap::UnsafeCell)),
    ty("OnceLock", STD, Known::Wrap(Wrap::OnceLock)),
    ty("OnceCell", &["std", "core", "once_cell"], Known::Wrap(Wrap::OnceLock)),
    ty("LazyLock", STD, Known::Wrap(Wrap::Lazy)),
    ty("Lazy", &["once_cell"], Known::Wrap(Wrap::Lazy)),
    ty("LazyCell", STD, Known::Wrap(Wrap::Lazy)),
    ty("Box", STD, Known::Wrap(Wrap::Box)),
    // (Owns its value and derefs to it, padded to a cache line: sharded maps' shards.)
    ty("CachePadded", &["crossbeam_utils", "crossbeam"], Known::Wrap(Wrap::Box)),
    ty("Option", STD, Known::Wrap(Wrap::Option)),
    ty("MaybeUninit", STD, Known::Wrap(Wrap::MaybeUninit)),
    ty("ManuallyDrop", STD, Known::Wrap(Wrap::ManuallyDrop)),
    ty("LocalKey", STD, Known::Wrap(Wrap::LocalKey)),
];

/// The guard types of the lock libraries, by name: a parameter of one of these types can be
/// handed back by its function (`fn touch(g: MutexGuard<..>) -> MutexGuard<..>`), and a function
/// naming one matters to the lock rules.
pub const LOCK_GUARD_TYPES: &[&str] = &[
    "MutexGuard",
    "RwLockReadGuard",
    "RwLockWriteGuard",
    "RwLockUpgradableReadGuard",
    "MappedMutexGuard",
    "MappedRwLockReadGuard",
    "MappedRwLockWriteGuard",
    "ArcMutexGuard",
    "ArcRwLockReadGuard",
    "ArcRwLockWriteGuard",
    "OwnedMutexGuard",
    "OwnedRwLockReadGuard",
    "OwnedRwLockWriteGuard",
    "FairMutexGuard",
    "SpinMutexGuard",
];

/// The library of a lock, by the crate its path starts with.
pub const LOCK_LIBS: &[(&str, LockLib)] = &[
    ("std", LockLib::Std),
    ("core", LockLib::Std),
    ("alloc", LockLib::Std),
    ("parking_lot", LockLib::ParkingLot),
    ("spin", LockLib::Spin),
    ("tokio", LockLib::Tokio),
    ("async_lock", LockLib::AsyncLock),
    ("async_std", LockLib::AsyncLock),
    ("smol", LockLib::AsyncLock),
    ("futures", LockLib::Futures),
    ("futures_util", LockLib::Futures),
];

/// Crates whose paths the model classifies by these tables, besides the ones exporting a type.
const OTHER_KNOWN_CRATES: &[&str] = &["lazy_static", "crossbeam", "crossbeam_utils", "rayon"];

/// Classifies a fully qualified type path (`["std", "collections", "HashMap"]`), or a bare
/// name when no import says where it comes from.
#[must_use]
pub fn known_type(path: &[&str]) -> Option<Known> {
    let last = *path.last()?;
    let root = (path.len() > 1).then(|| path[0]);
    by_name()
        .get(last)?
        .iter()
        .find(|t| !t.only_from || root.is_some_and(|r| t.from.contains(&r)))
        .map(|t| t.kind)
}

/// [`TYPES`] by name, in table order (the model classifies a type path at every turn).
fn by_name() -> &'static NameMap<&'static str, Vec<&'static TypeEntry>> {
    static INDEX: OnceLock<NameMap<&'static str, Vec<&'static TypeEntry>>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut m: NameMap<&'static str, Vec<&'static TypeEntry>> = NameMap::default();
        for t in TYPES {
            m.entry(t.name).or_default().push(t);
        }
        m
    })
}

/// The library of a lock type at this path.
#[must_use]
pub fn lock_lib(path: &[&str]) -> LockLib {
    let root = if path.len() > 1 { path[0] } else { "" };
    LOCK_LIBS
        .iter()
        .find(|(c, _)| *c == root)
        .map_or(LockLib::Unknown, |(_, l)| *l)
}

/// Crates whose paths the model classifies by these tables.
#[must_use]
pub fn is_known_crate(name: &str) -> bool {
    static CRATES: OnceLock<NameSet<&'static str>> = OnceLock::new();
    CRATES
        .get_or_init(|| {
            TYPES
                .iter()
                .flat_map(|t| t.from.iter().copied())
                .chain(OTHER_KNOWN_CRATES.iter().copied())
                .collect()
        })
        .contains(name)
}

/// Does a glob import of this crate (`use dashmap::*`) bring this well-known name in?
#[must_use]
pub fn crate_provides(krate: &str, name: &str) -> bool {
    let krate = if STD.contains(&krate) { "std" } else { krate };
    TYPES.iter().any(|t| t.name == name && t.from.contains(&krate))
}

// ---------------------------------------------------------------- guards

/// How an `RwLock`/`Mutex` is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LockMode {
    Mutex,
    Read,
    Write,
    UpgradableRead,
    ReadRecursive,
}

/// What an operation does to its lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AcqOp {
    /// `lock`/`read`/`write`/...: returns a guard. `try_` variants never block.
    Lock { mode: LockMode, is_try: bool },
    /// A `DashMap` operation: `write` when it takes the shard's write lock; `guard` when it
    /// returns a `Ref`/`RefMut`/`Entry`/iterator that keeps the lock.
    Sharded { write: bool, guard: bool },
    /// `RefCell::borrow`/`borrow_mut` (and `try_` variants, which never panic).
    Borrow { mutable: bool, is_try: bool },
    /// A method of a bundled map (`maplint_maps`): `write` when it takes the write lock,
    /// `closure` when it runs a closure while holding it (`update`, `with`...), `blocks` when
    /// it takes a lock at all (`SnapshotMap` reads take none). Any method called from inside
    /// one of the same map's closures panics.
    Bundled { write: bool, closure: bool, blocks: bool },
}

impl AcqOp {
    #[must_use]
    pub fn returns_guard(self) -> bool {
        match self {
            AcqOp::Lock { .. } | AcqOp::Borrow { .. } => true,
            AcqOp::Sharded { guard, .. } => guard,
            AcqOp::Bundled { .. } => false,
        }
    }

    #[must_use]
    pub fn is_try(self) -> bool {
        matches!(
            self,
            AcqOp::Lock { is_try: true, .. } | AcqOp::Borrow { is_try: true, .. }
        )
    }

    /// The mode of a lock acquisition that waits for the lock (`None` for `try_` variants and
    /// for map and cell operations).
    #[must_use]
    pub fn blocking_mode(self) -> Option<LockMode> {
        match self {
            AcqOp::Lock { mode, is_try: false } => Some(mode),
            // (The lock behind a bundled map's method: the graph of lock orders sees it.)
            AcqOp::Bundled {
                write, blocks: true, ..
            } => Some(if write { LockMode::Write } else { LockMode::Read }),
            _ => None,
        }
    }

    /// Is this a bundled map's method that runs a closure of the user's while it holds the
    /// map (`update`, `with`, `get_or_insert_with`, `retain`, `for_each`)?
    #[must_use]
    pub fn runs_closure(self) -> bool {
        matches!(self, AcqOp::Bundled { closure: true, .. })
    }

    /// Does `taken`, called while `held` runs its closure on the same bundled map, re-enter
    /// it? (Any method does: the bundled maps panic on it.)
    #[must_use]
    pub fn bundled_reentry(held: AcqOp, taken: AcqOp) -> bool {
        held.runs_closure() && matches!(taken, AcqOp::Bundled { .. })
    }

    /// Does its guard keep every other thread from taking the lock to write (`lock`, `write`,
    /// `upgradable_read`), so code under it runs one thread at a time?
    #[must_use]
    pub fn serializes(self) -> bool {
        matches!(
            self.blocking_mode(),
            Some(LockMode::Mutex | LockMode::Write | LockMode::UpgradableRead)
        )
    }

    /// Does `taken` wait for a live guard of `held` on the same `DashMap` shard? (A ref of
    /// either kind blocks a writer; a write ref blocks everyone.)
    #[must_use]
    pub fn shard_conflict(held: AcqOp, taken: AcqOp) -> bool {
        match (held, taken) {
            (AcqOp::Sharded { write: w1, guard: true }, AcqOp::Sharded { write: w2, .. }) => w1 || w2,
            _ => false,
        }
    }
}

/// One step into a value, where a guard can sit: the payload of an enum variant (`Some`,
/// `Ok`, `Present`, `Occupied`) or the items of an iterator or collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeSeg {
    Variant(&'static str),
    Elem,
}

/// Where a call's guard sits in its result: one path per place (the same guard can sit in
/// several, like both variants of a `DashMap` `Entry`). `&[&[]]` is the result itself.
pub type Shape = &'static [&'static [ShapeSeg]];

const DIRECT: Shape = &[&[]];
const IN_OK: Shape = &[&[ShapeSeg::Variant("Ok")]];
/// `LockResult<Guard>`: the guard in `Ok`, and in `Err`'s `PoisonError` too.
const LOCK_RESULT: Shape = &[&[ShapeSeg::Variant("Ok")], &[ShapeSeg::Variant("Err")]];
const IN_SOME: Shape = &[&[ShapeSeg::Variant("Some")]];
const IN_PRESENT: Shape = &[&[ShapeSeg::Variant("Present")]];
const ENTRY: Shape = &[&[ShapeSeg::Variant("Occupied")], &[ShapeSeg::Variant("Vacant")]];
const TRY_ENTRY: Shape = &[
    &[ShapeSeg::Variant("Some"), ShapeSeg::Variant("Occupied")],
    &[ShapeSeg::Variant("Some"), ShapeSeg::Variant("Vacant")],
];
/// An iterator that holds a lock, and whose items hold it too (`DashMap::iter`).
const ITER: Shape = &[&[], &[ShapeSeg::Elem]];

/// What kind of value a guard-producing call is made on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receiver {
    Lock(LockKind, LockLib),
    /// A concurrent map whose API hands out guards (`DashMap`, `DashSet`).
    GuardedMap,
    RefCell,
    BundledMap(Bundled),
}

/// An operation on a lock, guarded map or cell: what it does and where its guard sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acquire {
    pub op: AcqOp,
    /// Empty for operations that keep no guard.
    pub shape: Shape,
}

/// `(kind, method, mode, is_try)` for every guard-producing lock method.
static LOCK_METHODS: &[(LockKind, &str, LockMode, bool)] = &[
    (LockKind::Mutex, "lock", LockMode::Mutex, false),
    (LockKind::Mutex, "blocking_lock", LockMode::Mutex, false),
    (LockKind::Mutex, "lock_arc", LockMode::Mutex, false),
    (LockKind::Mutex, "try_lock", LockMode::Mutex, true),
    (LockKind::RwLock, "read", LockMode::Read, false),
    (LockKind::RwLock, "blocking_read", LockMode::Read, false),
    (LockKind::RwLock, "write", LockMode::Write, false),
    (LockKind::RwLock, "blocking_write", LockMode::Write, false),
    (LockKind::RwLock, "try_read", LockMode::Read, true),
    (LockKind::RwLock, "try_write", LockMode::Write, true),
    (LockKind::RwLock, "upgradable_read", LockMode::UpgradableRead, false),
    (LockKind::RwLock, "read_recursive", LockMode::ReadRecursive, false),
];

/// `(method, write, guard shape)` of `DashMap`/`DashSet`; an empty shape keeps no guard.
static SHARDED_METHODS: &[(&str, bool, Shape)] = &[
    ("get", false, IN_SOME),
    ("try_get", false, IN_PRESENT),
    ("iter", false, ITER),
    ("get_mut", true, IN_SOME),
    ("try_get_mut", true, IN_PRESENT),
    ("entry", true, ENTRY),
    ("try_entry", true, TRY_ENTRY),
    ("iter_mut", true, ITER),
    ("insert", true, &[]),
    ("remove", true, &[]),
    ("remove_if", true, &[]),
    ("remove_if_mut", true, &[]),
    ("alter", true, &[]),
    ("alter_all", true, &[]),
    ("retain", true, &[]),
    ("clear", true, &[]),
    ("shrink_to_fit", true, &[]),
    ("contains_key", false, &[]),
    ("contains", false, &[]),
    ("len", false, &[]),
    ("is_empty", false, &[]),
];

/// `(method, write, runs a closure)` of the bundled maps (`maplint_maps`).
static BUNDLED_METHODS: &[(&str, bool, bool)] = &[
    ("with", false, true),
    ("for_each", false, true),
    ("update", true, true),
    ("get_or_insert_with", true, true),
    ("retain", true, true),
    ("remove_if", true, true),
    ("compute", true, true),
    ("try_for_each", false, true),
    ("try_get_or_insert_with", true, true),
    ("get_or_insert_with_ref", true, true),
    ("update_pair", true, true),
    ("batch", true, true),
    ("insert", true, false),
    ("remove", true, false),
    ("try_insert", true, false),
    ("clear", true, false),
    ("reserve", true, false),
    ("get", false, false),
    ("capacity", false, false),
    ("contains_key", false, false),
    ("contains", false, false),
    ("len", false, false),
    ("is_empty", false, false),
    ("snapshot", false, false),
    ("load", false, false),
    // (The `metrics` feature: reads the shards' lengths under their read locks.)
    ("publish_metrics", false, false),
];

/// Methods of the bundled maps that hand the same map back (`ShardedMap::new().named("hits")`,
/// the `metrics` feature's builder): what they return is the receiver.
pub const BUNDLED_BUILDERS: &[&str] = &["named"];

/// Where a lock's guard sits in what `lock()` (or `try_lock()`) returns, by library.
fn lock_shape(lib: LockLib, is_try: bool) -> Shape {
    match (lib, is_try) {
        (LockLib::Std, false) => LOCK_RESULT,
        // `TryLockResult<Guard>`: an `Err` is usually `WouldBlock`, which holds nothing.
        (LockLib::Std | LockLib::Tokio, true) => IN_OK,
        (LockLib::ParkingLot | LockLib::Spin | LockLib::AsyncLock | LockLib::Futures | LockLib::Unknown, true) => {
            IN_SOME
        }
        // The guard itself (tokio and async locks: a future of it; `.await` passes it on).
        _ => DIRECT,
    }
}

/// The methods of a `RefCell` that borrow it.
const BORROW_METHODS: [&str; 4] = ["borrow", "borrow_mut", "try_borrow", "try_borrow_mut"];

/// The operation a method call makes on a lock, guarded map or cell, if any.
#[must_use]
pub fn acquisition(recv: Receiver, method: &str) -> Option<Acquire> {
    match recv {
        Receiver::Lock(kind, lib) => {
            let &(_, _, mode, is_try) = LOCK_METHODS.iter().find(|(k, m, ..)| *k == kind && *m == method)?;
            Some(Acquire {
                op: AcqOp::Lock { mode, is_try },
                shape: lock_shape(lib, is_try),
            })
        }
        Receiver::GuardedMap => {
            let &(_, write, shape) = SHARDED_METHODS.iter().find(|(m, ..)| *m == method)?;
            Some(Acquire {
                op: AcqOp::Sharded {
                    write,
                    guard: !shape.is_empty(),
                },
                shape,
            })
        }
        Receiver::BundledMap(kind) => {
            let &(_, write, closure) = BUNDLED_METHODS.iter().find(|(m, ..)| *m == method)?;
            Some(Acquire {
                op: AcqOp::Bundled {
                    write,
                    closure,
                    // `SnapshotMap` readers load the current version without a lock.
                    blocks: write || kind != Bundled::Snapshot,
                },
                shape: &[],
            })
        }
        Receiver::RefCell => {
            let (mutable, is_try) = match method {
                "borrow" => (false, false),
                "borrow_mut" => (true, false),
                "try_borrow" => (false, true),
                "try_borrow_mut" => (true, true),
                _ => return None,
            };
            Some(Acquire {
                op: AcqOp::Borrow { mutable, is_try },
                shape: if is_try { IN_OK } else { DIRECT },
            })
        }
    }
}

/// The names of the methods that take a lock or a cell's borrow (`lock`, `read`,
/// `borrow_mut`...), and with `guarded_maps` those of the guarded and bundled maps (`get`,
/// `entry`, `alter`...): a function that calls none of them, nor a function or method that
/// takes one, has no lock event of its own (the lex-first planner's test, `lex::plan`).
pub fn lock_method_names(guarded_maps: bool) -> impl Iterator<Item = &'static str> {
    let (sharded, bundled) = if guarded_maps {
        (SHARDED_METHODS, BUNDLED_METHODS)
    } else {
        (&[][..], &[][..])
    };
    LOCK_METHODS
        .iter()
        .map(|(_, m, ..)| *m)
        .chain(sharded.iter().map(|(m, ..)| *m))
        .chain(bundled.iter().map(|(m, ..)| *m))
        .chain(BORROW_METHODS)
}

/// Is this a method name that takes some lock (on a value whose type may be unknown)?
#[must_use]
pub fn is_lock_method(method: &str) -> bool {
    LOCK_METHODS.iter().any(|(_, m, ..)| *m == method)
}

/// What a method does to a value that holds a guard (the receiver), by its name. Methods not
/// listed borrow their receiver and return nothing that holds the guard (`len`, `get`,
/// `insert` on the map a guard derefs to, `clone`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardMethod {
    /// `unwrap`, `expect`, `?`-like: the payload of `Some`/`Ok`/`Present` is the result.
    Unwrap,
    /// `ok()`: `Ok(g)` becomes `Some(g)`.
    ResultToOption,
    /// `ok_or(..)`: `Some(g)` becomes `Ok(g)`.
    OptionToResult,
    /// The result is the receiver, unchanged (`map_err`, `and_modify`, iterator adapters
    /// that keep the items).
    Keep,
    /// The `Entry` API's finishers: the result is a `RefMut` holding the entry's lock.
    EntryFinish,
    /// `map`, `and_then`, ...: on an `Option`/`Result` the receiver is consumed by the call
    /// and its closure (the result holds nothing); on an iterator, the adapter keeps the
    /// iterator but its items are what the closure returns.
    Combinator,
    /// `next`, `find`, `last`: one item of an iterator, in `Some`.
    NextItem,
    /// `collect`: a collection of the items (the iterator itself is consumed).
    Collect,
    /// `for_each`, `count`, `any`, `fold`: the receiver is consumed during the call.
    Consume,
    /// `as_ref`, `as_deref`, ...: a view of the receiver (same variant).
    View,
    /// `downgrade`, `upgrade`: the guard becomes a different kind of guard (not followed).
    Transform,
}

/// The effect of a method on a guard-holding receiver.
#[must_use]
pub fn guard_method(method: &str) -> Option<GuardMethod> {
    use GuardMethod as G;
    Some(match method {
        "unwrap" | "expect" | "unwrap_or" | "unwrap_or_else" | "unwrap_or_default" | "unwrap_unchecked" => G::Unwrap,
        "ok" => G::ResultToOption,
        "ok_or" | "ok_or_else" => G::OptionToResult,
        "map_err" | "and_modify" | "filter" | "take" | "skip" | "rev" | "peekable" | "enumerate" | "step_by"
        | "fuse" | "chain" | "skip_while" | "take_while" | "inspect" | "cycle" | "by_ref" | "into_iter"
        | "into_inner" | "or_else" => G::Keep,
        "or_insert" | "or_insert_with" | "or_insert_with_key" | "or_default" | "or_try_insert_with" | "into_ref" => {
            G::EntryFinish
        }
        "map" | "and_then" | "map_or" | "map_or_else" | "is_some_and" | "is_none_or" | "is_ok_and" | "is_err_and"
        | "filter_map" | "flat_map" | "map_while" | "scan" | "cloned" | "copied" | "flatten" => G::Combinator,
        "next" | "next_back" | "last" | "nth" | "find" | "max_by_key" | "min_by_key" | "max_by" | "min_by" | "max"
        | "min" => G::NextItem,
        "collect" => G::Collect,
        "for_each" | "try_for_each" | "count" | "any" | "all" | "fold" | "try_fold" | "position" | "find_map"
        | "sum" | "product" | "partition" | "unzip" => G::Consume,
        "as_ref" | "as_deref" | "as_mut" | "as_deref_mut" => G::View,
        "downgrade" | "upgrade" | "downgrade_to_upgradable" | "with_upgraded" => G::Transform,
        _ => return None,
    })
}

/// Functions called by path on a guard type that hand the guard in their first argument back,
/// narrowed (`MutexGuard::map(g, |m| ..)`, `Ref::map`), and where it sits in their result:
/// `try_map`/`filter_map` return `Result<Mapped, Original>`, the guard in both.
#[must_use]
pub fn guard_map(owner: &str, name: &str) -> Option<Shape> {
    const BOTH: Shape = &[&[ShapeSeg::Variant("Ok")], &[ShapeSeg::Variant("Err")]];
    if !(owner.ends_with("Guard") || matches!(owner, "Ref" | "RefMut" | "RefMulti" | "RefMutMulti")) {
        return None;
    }
    match name {
        "map" | "map_split" => Some(DIRECT),
        "try_map" | "filter_map" => Some(BOTH),
        _ => None,
    }
}

/// Methods of a condition variable that take a guard and give it back (`Condvar::wait(g)`).
#[must_use]
pub fn is_condvar_wait(method: &str) -> bool {
    matches!(
        method,
        "wait" | "wait_while" | "wait_timeout" | "wait_timeout_while" | "wait_timeout_ms"
    )
}

/// Methods that mutate a map or set.
pub const MAP_WRITE_METHODS: &[&str] = &[
    "insert",
    "remove",
    "remove_entry",
    "entry",
    "get_mut",
    "clear",
    "extend",
    "retain",
    "drain",
    "append",
    "split_off",
    "try_insert",
    "values_mut",
    "iter_mut",
    "swap_remove",
    "shift_remove",
    "shift_insert",
    "insert_full",
    "pop_first",
    "pop_last",
    "first_entry",
    "last_entry",
    "extract_if",
    "drain_filter",
    "get_many_mut",
    "get_disjoint_mut",
    "take",
    "replace",
];

/// Methods that hand their receiver's value on (`lock().unwrap()` is still the guard,
/// `.deref_mut()` the map behind it), so that the body walk knows what a guard was used for.
pub const PASS_THROUGH_METHODS: &[&str] = &[
    "deref",
    "deref_mut",
    "unwrap",
    "expect",
    "unwrap_or_else",
    "unwrap_or",
    "unwrap_or_default",
    "unwrap_unchecked",
    "ok",
    "map_err",
    "ok_or",
    "ok_or_else",
    "filter",
    "collect",
    "take",
    "skip",
    "rev",
    "peekable",
    "enumerate",
    "step_by",
    "fuse",
    "or_insert",
    "or_insert_with",
    "or_insert_with_key",
    "or_default",
    "and_modify",
];

/// Methods whose closure argument runs during the call, on the calling thread.
pub const SYNC_CLOSURE_METHODS: &[&str] = &[
    "map",
    "for_each",
    "try_for_each",
    "filter",
    "filter_map",
    "flat_map",
    "any",
    "all",
    "find",
    "find_map",
    "position",
    "fold",
    "try_fold",
    "inspect",
    "take_while",
    "skip_while",
    "map_while",
    "scan",
    "partition",
    "max_by_key",
    "min_by_key",
    "max_by",
    "min_by",
    "sort_by",
    "sort_by_key",
    "sort_unstable_by",
    "sort_unstable_by_key",
    "retain",
    "retain_mut",
    "and_then",
    "map_or",
    "map_or_else",
    "unwrap_or_else",
    "or_else",
    "ok_or_else",
    "is_some_and",
    "is_none_or",
    "or_insert_with",
    "or_insert_with_key",
    "and_modify",
    "get_or_insert_with",
    "get_or_init",
    "with",
    "try_with",
    "with_borrow",
    "with_borrow_mut",
    "then",
    "scope",
    "in_place_scope",
];

/// `Option`/`Result` methods whose (first) closure runs only when the value is `None`/`Err`:
/// the payload of `Some`/`Ok` is not there while it runs.
pub const ABSENT_CLOSURE_METHODS: &[&str] = &[
    "unwrap_or_else",
    "or_else",
    "map_or_else",
    "ok_or_else",
    "get_or_insert_with",
];

/// Iterator adapters and consumers whose closure runs once per element.
#[must_use]
pub fn is_repeating_adapter(method: &str) -> bool {
    matches!(
        method,
        "map"
            | "for_each"
            | "try_for_each"
            | "filter_map"
            | "flat_map"
            | "then"
            | "and_then"
            | "inspect"
            | "filter"
            | "take_while"
            | "skip_while"
            | "fold"
            | "scan"
            | "map_while"
            | "all"
            | "any"
            | "find"
            | "position"
    )
}

// ---------------------------------------------------------------- threads

/// `Condvar` waits (std, `parking_lot`): each takes the guard of the condition's mutex first.
pub const CONDVAR_WAITS: &[&str] = &[
    "wait",
    "wait_while",
    "wait_timeout",
    "wait_timeout_ms",
    "wait_timeout_while",
    "wait_for",
    "wait_until",
    "wait_while_for",
    "wait_while_until",
];
/// What wakes a `Condvar` waiter.
pub const NOTIFY_METHODS: &[&str] = &["notify_one", "notify_all"];
/// The type whose `wait()` blocks until every party reaches it (std, tokio's blocking twin).
pub const BARRIER_TYPE: &str = "Barrier";
/// Runs a future to its end on the calling thread (a runtime's method, `futures::executor`).
pub const BLOCK_ON: &str = "block_on";
/// Functions that run their closure argument right away, on this thread, before returning
/// (`std::panic::catch_unwind(|| ..)`), and the wrappers such a closure is often given in
/// (`AssertUnwindSafe(|| ..)`).
pub const IMMEDIATE_CLOSURE_FNS: &[&str] = &["catch_unwind"];
pub const CLOSURE_WRAPPERS: &[&str] = &["AssertUnwindSafe"];

/// The last path segments of the functions that start threads, tasks or scopes
/// (`thread::spawn`, `rayon::join`, `tokio::task::spawn_blocking`...). Rules that need a spawn
/// declare these as their requirements, so the lexer can skip their interests in a package
/// that names none of them.
pub const SPAWN_FNS: &[&str] = &[
    "spawn",
    "scope",
    "in_place_scope",
    "scope_fifo",
    "spawn_fifo",
    "spawn_broadcast",
    "join",
    "spawn_blocking",
    "spawn_local",
];
/// The crates and modules those functions come from: a call is a spawn only when its path
/// (after `use` expansion) goes through one of them.
pub const SPAWN_ROOTS: &[&str] = &[
    "thread",
    "task",
    "tokio",
    "async_std",
    "smol",
    "actix_rt",
    "rayon",
    "crossbeam",
    "crossbeam_utils",
];
/// Methods that spawn on a handle, a builder or a scope.
pub const SPAWN_METHODS: &[&str] = &[
    "spawn",
    "spawn_scoped",
    "spawn_blocking",
    "spawn_local",
    "spawn_fifo",
    "spawn_broadcast",
];
/// Methods that make a rayon parallel iterator.
pub const PAR_ITER_METHODS: &[&str] = &[
    "par_iter",
    "par_iter_mut",
    "into_par_iter",
    "par_chunks",
    "par_chunks_mut",
    "par_bridge",
    "par_drain",
    "par_windows",
    "par_split",
    "par_lines",
    "par_bytes",
    "par_chars",
    "par_values",
    "par_keys",
];

// ---------------------------------------------------------------- macros

/// Item macros that declare statics the model reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaticMacro {
    LazyStatic,
    ThreadLocal,
}

/// `cfg_if::cfg_if!`: its input is branches of items, `if #[cfg(..)] { .. } else { .. }`; the
/// model reads every branch. (Any other item macro whose input parses as items is read as
/// those items.)
pub const CFG_IF: &str = "cfg_if";

/// The item macros whose declarations the model reads as statics (other item macros are
/// read only when their input is items; the rest is inert, and lex-first planning never
/// parses it).
pub const STATIC_MACROS: [(&str, StaticMacro); 2] = [
    ("lazy_static", StaticMacro::LazyStatic),
    ("thread_local", StaticMacro::ThreadLocal),
];

/// Macros that format their arguments (or assert on them): uses inside only observe values.
#[must_use]
pub fn is_format_macro(n: &str) -> bool {
    matches!(
        n,
        "println"
            | "print"
            | "eprintln"
            | "eprint"
            | "format"
            | "format_args"
            | "write"
            | "writeln"
            | "panic"
            | "unreachable"
            | "todo"
            | "unimplemented"
            | "assert"
            | "assert_eq"
            | "assert_ne"
            | "debug_assert"
            | "debug_assert_eq"
            | "debug_assert_ne"
            | "trace"
            | "debug"
            | "info"
            | "warn"
            | "error"
            | "bail"
            | "anyhow"
            | "ensure"
    )
}

/// Macros whose arguments are a list of expressions the model reads.
#[must_use]
pub fn is_expr_list_macro(n: &str) -> bool {
    is_format_macro(n) || matches!(n, "dbg" | "join" | "try_join")
}

/// Macros that await the futures they are given: each is a suspension point.
#[must_use]
pub fn is_awaiting_macro(n: &str) -> bool {
    matches!(n, "select" | "join" | "try_join")
}

// ---------------------------------------------------------------- interests

/// What a rule is interested in: a file or item must name one of these types for the rule to
/// find anything in it (the lex-first planner parses nothing else for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    /// Plain maps and sets.
    Maps,
    /// Concurrent maps that hand out guards (`DashMap`), and the bundled maps, whose closures
    /// run under their lock.
    GuardedMaps,
    /// Every lock type.
    Locks,
    /// `RwLock`s only.
    RwLocks,
    /// One wrapper (`RefCell`, `UnsafeCell`).
    Wrapper(Wrap),
}

impl Interest {
    /// The type names that make a file or item interesting: the types, and for locks their
    /// guard types.
    pub fn words(self) -> impl Iterator<Item = &'static str> + use<> {
        let guards: &[&str] = if self == Interest::Locks { LOCK_GUARD_TYPES } else { &[] };
        TYPES
            .iter()
            .filter(move |t| match (self, t.kind) {
                (Interest::Maps, Known::Map(_))
                | (Interest::GuardedMaps, Known::ConcurrentMap { guarded: true })
                // (A bundled map's closures run under its lock.)
                | (Interest::GuardedMaps | Interest::Locks, Known::BundledMap(_))
                | (Interest::Locks, Known::Lock(_))
                | (Interest::RwLocks, Known::Lock(LockKind::RwLock)) => true,
                (Interest::Wrapper(w), Known::Wrap(k)) => w == k,
                _ => false,
            })
            .map(|t| t.name)
            .chain(guards.iter().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_method_names_are_the_acquisitions() {
        let receivers = [
            Receiver::Lock(LockKind::Mutex, LockLib::Std),
            Receiver::Lock(LockKind::RwLock, LockLib::ParkingLot),
            Receiver::GuardedMap,
            Receiver::BundledMap(Bundled::Sharded),
            Receiver::BundledMap(Bundled::Snapshot),
            Receiver::RefCell,
        ];
        let acquires = |m: &str| receivers.iter().any(|r| acquisition(*r, m).is_some());
        let plain: Vec<&str> = lock_method_names(false).collect();
        let all: Vec<&str> = lock_method_names(true).collect();
        for m in &all {
            assert!(acquires(m), "{m} takes nothing");
        }
        for m in ["lock", "read", "write", "try_lock", "borrow_mut"] {
            assert!(plain.contains(&m), "{m}");
        }
        // A guarded map's methods are common names: only when the package uses one.
        for m in ["get", "entry", "alter", "update"] {
            assert!(!plain.contains(&m) && all.contains(&m), "{m}");
        }
        for m in ["new", "clone", "len_of", "spawn"] {
            assert!(!acquires(m) && !all.contains(&m), "{m}");
        }
    }

    #[test]
    fn classification() {
        assert_eq!(known_type(&["HashMap"]), Some(Known::Map(MapKind::HashMap)));
        assert_eq!(
            known_type(&["hashbrown", "HashSet"]),
            Some(Known::Map(MapKind::HashSet))
        );
        assert_eq!(
            known_type(&["papaya", "HashMap"]),
            Some(Known::ConcurrentMap { guarded: false })
        );
        assert_eq!(known_type(&["Cache"]), None, "a bare `Cache` is nobody's");
        assert_eq!(
            known_type(&["dashmap", "DashSet"]),
            Some(Known::ConcurrentMap { guarded: true })
        );
        assert_eq!(lock_lib(&["parking_lot", "Mutex"]), LockLib::ParkingLot);
        assert_eq!(lock_lib(&["Mutex"]), LockLib::Unknown);
        assert_eq!(
            known_type(&["maplint_maps", "ShardedMap"]),
            Some(Known::BundledMap(Bundled::Sharded))
        );
        assert_eq!(known_type(&["ShardedMap"]), None, "a bare `ShardedMap` is nobody's");
        let update = acquisition(Receiver::BundledMap(Bundled::Sharded), "update").unwrap();
        assert!(update.op.runs_closure() && update.op.blocking_mode() == Some(LockMode::Write));
        let read = acquisition(Receiver::BundledMap(Bundled::Snapshot), "with").unwrap();
        assert!(read.op.runs_closure() && read.op.blocking_mode().is_none());
        assert!(
            AcqOp::bundled_reentry(read.op, update.op)
                && !AcqOp::bundled_reentry(
                    update.op,
                    AcqOp::Sharded {
                        write: true,
                        guard: false
                    }
                )
        );
        assert!(crate_provides("dashmap", "DashMap"));
        assert!(crate_provides("core", "BTreeSet"));
        assert!(!crate_provides("std", "DashMap"));
        assert!(!crate_provides("tokio", "FairMutex"));
        assert!(is_known_crate("rayon") && is_known_crate("indexmap") && !is_known_crate("serde"));
    }

    #[test]
    fn guard_shapes() {
        let std_lock = acquisition(Receiver::Lock(LockKind::Mutex, LockLib::Std), "lock").unwrap();
        assert_eq!(std_lock.shape, LOCK_RESULT);
        let pl = acquisition(Receiver::Lock(LockKind::RwLock, LockLib::ParkingLot), "try_write").unwrap();
        assert_eq!(pl.shape, IN_SOME);
        assert!(acquisition(Receiver::Lock(LockKind::Mutex, LockLib::Std), "read").is_none());
        let insert = acquisition(Receiver::GuardedMap, "insert").unwrap();
        assert!(!insert.op.returns_guard() && insert.shape.is_empty());
        assert_eq!(acquisition(Receiver::GuardedMap, "entry").unwrap().shape.len(), 2);
    }

    #[test]
    fn interest_words_come_from_the_table() {
        let maps: Vec<_> = Interest::Maps.words().collect();
        assert!(maps.contains(&"HashSet") && maps.contains(&"BTreeMap") && !maps.contains(&"DashMap"));
        let locks: Vec<_> = Interest::Locks.words().collect();
        assert_eq!(
            locks[..8],
            [
                "ShardedMap",
                "LockedMap",
                "SnapshotMap",
                "LockedSet",
                "ShardedSet",
                "Mutex",
                "RwLock",
                "FairMutex"
            ]
        );
        let guarded: Vec<_> = Interest::GuardedMaps.words().collect();
        assert_eq!(
            guarded,
            [
                "ShardedMap",
                "LockedMap",
                "SnapshotMap",
                "LockedSet",
                "ShardedSet",
                "DashMap",
                "DashSet"
            ]
        );
        assert!(locks.contains(&"MutexGuard"));
        assert_eq!(
            Interest::Wrapper(Wrap::RefCell).words().collect::<Vec<_>>(),
            vec!["RefCell"]
        );
    }
}
