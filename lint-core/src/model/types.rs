//! Semantic types: what a written type *is* (a map, a lock around a map, an `Arc`, ...), after
//! `use` renames, globs of known crates, type aliases and generic substitution.

use super::ir::{Ty, TyPath};

/// Plain (unsynchronized) maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MapKind {
    HashMap,
    BTreeMap,
    IndexMap,
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

/// What the model knows about a value's type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum SemTy {
    Map(MapKind),
    /// A concurrent map; `guarded` when its API hands out guards (`DashMap`).
    ConcurrentMap {
        guarded: bool,
    },
    Lock {
        kind: LockKind,
        lib: LockLib,
        inner: Box<SemTy>,
    },
    Wrapper {
        wrap: Wrap,
        inner: Box<SemTy>,
    },
    Ref {
        mutable: bool,
        inner: Box<SemTy>,
    },
    Ptr {
        mutable: bool,
        inner: Box<SemTy>,
    },
    /// A struct or enum of this package (index into `Model::adts`), with type arguments.
    Adt {
        id: u32,
        args: Vec<SemTy>,
    },
    Vec(Box<SemTy>),
    Tuple(Vec<SemTy>),
    /// A closure value (the closure expression's id, in the same function).
    Closure(u32),
    /// A function item of this package (index into `Model::fns`).
    FnItem(u32),
    /// A scope handle (`s` in `thread::scope(|s| ..)`), identified by the scope call's expression.
    ScopeHandle(u32),
    #[default]
    Unknown,
}

impl SemTy {
    #[must_use]
    pub fn wrap(wrap: Wrap, inner: SemTy) -> SemTy {
        SemTy::Wrapper {
            wrap,
            inner: Box::new(inner),
        }
    }

    /// Strips references, `Box`, `Arc`, `Rc` (what method-call auto-deref goes through).
    #[must_use]
    pub fn autoderef(&self) -> &SemTy {
        match self {
            SemTy::Ref { inner, .. }
            | SemTy::Wrapper {
                wrap: Wrap::Box | Wrap::Arc | Wrap::Rc | Wrap::Lazy,
                inner,
            } => inner.autoderef(),
            other => other,
        }
    }

    #[must_use]
    pub fn is_map(&self) -> bool {
        matches!(self, SemTy::Map(_))
    }

    /// The plain map this type contains by value through cells, options and pointers, if any:
    /// the types a write can reach without taking a lock.
    #[must_use]
    pub fn unsynchronized_map(&self) -> Option<MapKind> {
        match self {
            SemTy::Map(k) => Some(*k),
            SemTy::Wrapper { inner, .. } | SemTy::Ref { inner, .. } | SemTy::Ptr { inner, .. } => {
                inner.unsynchronized_map()
            }
            _ => None,
        }
    }

    /// True when this type reaches a map only through a lock or a concurrent map.
    #[must_use]
    pub fn contains_lock(&self) -> bool {
        match self {
            SemTy::Lock { .. } | SemTy::ConcurrentMap { .. } => true,
            SemTy::Wrapper { inner, .. } | SemTy::Ref { inner, .. } | SemTy::Ptr { inner, .. } => inner.contains_lock(),
            _ => false,
        }
    }

    /// Is this an `Arc`/`Rc` (so `.clone()` aliases)?
    #[must_use]
    pub fn is_shared_pointer(&self) -> bool {
        match self {
            SemTy::Wrapper {
                wrap: Wrap::Arc | Wrap::Rc,
                ..
            } => true,
            SemTy::Ref { inner, .. } => inner.is_shared_pointer(),
            _ => false,
        }
    }
}

/// Classifies a fully qualified path of a well-known type (`["std", "collections", "HashMap"]`),
/// or a bare name when no import says where it comes from. `None`: not a known type.
#[must_use]
pub fn known_type(path: &[&str], args: Vec<SemTy>) -> Option<SemTy> {
    let last = *path.last()?;
    let root = if path.len() > 1 { path[0] } else { "" };
    let first_arg = |args: Vec<SemTy>| args.into_iter().next().unwrap_or_default();
    let external = matches!(
        root,
        "papaya" | "scc" | "flurry" | "evmap" | "moka" | "chashmap" | "concurrent_map"
    );
    Some(match last {
        "HashMap" | "HashbrownMap" if external => SemTy::ConcurrentMap { guarded: false },
        "HashMap" | "FxHashMap" | "AHashMap" | "FnvHashMap" | "HashbrownMap" => SemTy::Map(MapKind::HashMap),
        "BTreeMap" => SemTy::Map(MapKind::BTreeMap),
        "IndexMap" => SemTy::Map(MapKind::IndexMap),
        "DashMap" | "DashSet" => SemTy::ConcurrentMap { guarded: true },
        "Cache" | "TreeIndex" | "HashIndex" | "ReadHandle" | "WriteHandle" if external => {
            SemTy::ConcurrentMap { guarded: false }
        }
        "Mutex" | "RwLock" | "FairMutex" => {
            let lib = match root {
                "std" | "core" | "alloc" => LockLib::Std,
                "parking_lot" => LockLib::ParkingLot,
                "spin" => LockLib::Spin,
                "tokio" => LockLib::Tokio,
                "async_lock" | "async_std" | "smol" => LockLib::AsyncLock,
                "futures" | "futures_util" => LockLib::Futures,
                _ => LockLib::Unknown,
            };
            let kind = if last == "RwLock" {
                LockKind::RwLock
            } else {
                LockKind::Mutex
            };
            SemTy::Lock {
                kind,
                lib,
                inner: Box::new(first_arg(args)),
            }
        }
        "Vec" | "VecDeque" => SemTy::Vec(Box::new(first_arg(args))),
        _ => {
            let wrap = match last {
                "Arc" => Wrap::Arc,
                "Rc" => Wrap::Rc,
                "RefCell" => Wrap::RefCell,
                "Cell" => Wrap::Cell,
                "UnsafeCell" | "SyncUnsafeCell" => Wrap::UnsafeCell,
                "OnceLock" | "OnceCell" => Wrap::OnceLock,
                "LazyLock" | "Lazy" | "LazyCell" => Wrap::Lazy,
                "Box" => Wrap::Box,
                "Option" => Wrap::Option,
                "MaybeUninit" => Wrap::MaybeUninit,
                "ManuallyDrop" => Wrap::ManuallyDrop,
                "LocalKey" => Wrap::LocalKey,
                _ => return None,
            };
            SemTy::wrap(wrap, first_arg(args))
        }
    })
}

/// Crates whose paths the model classifies by the table above.
#[must_use]
pub fn is_known_crate(name: &str) -> bool {
    matches!(
        name,
        "std"
            | "core"
            | "alloc"
            | "hashbrown"
            | "indexmap"
            | "fxhash"
            | "rustc_hash"
            | "ahash"
            | "fnv"
            | "dashmap"
            | "papaya"
            | "scc"
            | "flurry"
            | "moka"
            | "evmap"
            | "parking_lot"
            | "spin"
            | "tokio"
            | "async_lock"
            | "async_std"
            | "futures"
            | "futures_util"
            | "once_cell"
            | "lazy_static"
            | "crossbeam"
            | "rayon"
    )
}

/// The type arguments of a written path's last segment.
#[must_use]
pub fn last_args(p: &TyPath) -> &[Ty] {
    p.last().map_or(&[], |s| s.args.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert_eq!(known_type(&["HashMap"], vec![]), Some(SemTy::Map(MapKind::HashMap)));
        assert_eq!(
            known_type(&["papaya", "HashMap"], vec![]),
            Some(SemTy::ConcurrentMap { guarded: false })
        );
        assert_eq!(
            known_type(&["dashmap", "DashMap"], vec![]),
            Some(SemTy::ConcurrentMap { guarded: true })
        );
        let m = known_type(&["parking_lot", "Mutex"], vec![SemTy::Map(MapKind::BTreeMap)]).unwrap();
        assert!(m.contains_lock());
        assert_eq!(m.unsynchronized_map(), None);
        let c = SemTy::wrap(Wrap::UnsafeCell, SemTy::Map(MapKind::HashMap));
        assert_eq!(c.unsynchronized_map(), Some(MapKind::HashMap));
        assert_eq!(known_type(&["Foo"], vec![]), None);
    }
}
