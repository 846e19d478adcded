//! Semantic types: what a written type *is* (a map, a lock around a map, an `Arc`, ...), after
//! `use` renames, globs of known crates, type aliases and generic substitution.

use super::ir::{Ty, TyPath};

use crate::catalog::{Acquire, Known, Receiver};
pub use crate::catalog::{Bundled, LockKind, LockLib, MapKind, Wrap};

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
    /// A bundled map of `maplint_maps`.
    BundledMap(Bundled),
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
    /// A trait object, `impl Trait` or a generic parameter: the traits it is known to
    /// implement (last path segments).
    Dyn(Vec<String>),
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

    /// Shared ownership that cannot cross threads, as rustc sees it in a spawned closure:
    /// `Rc<..>` (not `Send`) or `Arc<RefCell<..>>` (`RefCell` is not `Sync`). Which one.
    #[must_use]
    pub fn thread_bound_sharing(&self) -> Option<&'static str> {
        match self {
            SemTy::Wrapper { wrap: Wrap::Rc, .. } => Some("Rc"),
            SemTy::Wrapper { wrap: Wrap::Arc, inner } => matches!(
                **inner,
                SemTy::Wrapper {
                    wrap: Wrap::RefCell,
                    ..
                }
            )
            .then_some("Arc<RefCell>"),
            SemTy::Ref { inner, .. } => inner.thread_bound_sharing(),
            _ => None,
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
            SemTy::Lock { .. } | SemTy::ConcurrentMap { .. } | SemTy::BundledMap(_) => true,
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
/// or a bare name when no import says where it comes from (see [`crate::catalog::TYPES`]).
/// `None`: not a known type.
#[must_use]
pub fn known_type(path: &[&str], args: Vec<SemTy>) -> Option<SemTy> {
    let first_arg = |args: Vec<SemTy>| args.into_iter().next().unwrap_or_default();
    Some(match crate::catalog::known_type(path)? {
        Known::Map(k) => SemTy::Map(k),
        Known::ConcurrentMap { guarded } => SemTy::ConcurrentMap { guarded },
        Known::BundledMap(b) => SemTy::BundledMap(b),
        Known::Lock(kind) => SemTy::Lock {
            kind,
            lib: crate::catalog::lock_lib(path),
            inner: Box::new(first_arg(args)),
        },
        Known::Vec => SemTy::Vec(Box::new(first_arg(args))),
        Known::Wrap(wrap) => SemTy::wrap(wrap, first_arg(args)),
    })
}

pub use crate::catalog::is_known_crate;

/// The type arguments of a written path's last segment.
#[must_use]
pub fn last_args(p: &TyPath) -> &[Ty] {
    p.last().map_or(&[], |s| s.args.as_slice())
}

/// The receiver kind of a guard-producing call on a value of type `recv` (after auto-deref).
#[must_use]
pub fn receiver(recv: &SemTy) -> Option<Receiver> {
    match recv {
        SemTy::Lock { kind, lib, .. } => Some(Receiver::Lock(*kind, *lib)),
        SemTy::ConcurrentMap { guarded: true } => Some(Receiver::GuardedMap),
        SemTy::BundledMap(b) => Some(Receiver::BundledMap(*b)),
        SemTy::Wrapper {
            wrap: Wrap::RefCell, ..
        } => Some(Receiver::RefCell),
        _ => None,
    }
}

/// Classifies a method call on a receiver of type `recv` (after auto-deref): the operation and
/// where its guard sits in the result.
#[must_use]
pub fn classify(recv: &SemTy, method: &str) -> Option<Acquire> {
    crate::catalog::acquisition(receiver(recv)?, method)
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
