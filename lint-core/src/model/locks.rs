//! Locks: which operations take which lock, lock identity, the lock events and summaries the
//! guard flow ([`super::flow`]) produces, and the lock-order graph.
//!
//! Lock identity is a place: a root (`self`, a parameter, a static, or a local's object — `Arc`
//! clones share one) and a field path. Two different fields, or two different objects, are two
//! different locks. Across functions a lock is a [`LockClass`].

use std::collections::HashSet;

use super::body::{BodyFacts, Call, Place, Root};
use super::items::ItemIndex;
use super::types::{LockLib, SemTy, Wrap};
use crate::diagnostic::Span;

pub use super::types::classify;
pub use crate::catalog::{AcqOp, LockMode};

/// The lock's library, for locks.
#[must_use]
pub fn lock_lib(ty: &SemTy) -> Option<LockLib> {
    match ty {
        SemTy::Lock { lib, .. } => Some(*lib),
        _ => None,
    }
}

/// Does this lock, map or cell guard a map (directly or in a struct held by value)?
#[must_use]
pub fn guards_a_map(ix: &ItemIndex, ty: &SemTy) -> bool {
    match ty {
        SemTy::ConcurrentMap { .. } => true,
        SemTy::Lock { inner, .. } | SemTy::Wrapper { inner, .. } => {
            // A copy-on-write map behind the lock (`RwLock<Arc<HashMap<..>>>`, written with
            // `Arc::make_mut` or by swapping in a new `Arc`) is guarded by it too.
            let inner = match inner.as_ref() {
                SemTy::Wrapper {
                    wrap: Wrap::Arc | Wrap::Rc | Wrap::Box,
                    inner,
                } => inner.as_ref(),
                other => other,
            };
            matches!(inner, SemTy::ConcurrentMap { .. }) || ix.holds_map_by_value(inner, 0)
        }
        _ => false,
    }
}

/// A place with locals replaced by their object's identity (`Arc` clones of one object, or of
/// a field, are one lock).
#[must_use]
pub fn canonical(body: &BodyFacts, place: &Place) -> Place {
    canonical_depth(body, place, 0)
}

fn canonical_depth(body: &BodyFacts, place: &Place, depth: u32) -> Place {
    let Root::Local(b) = place.root else {
        return place.clone();
    };
    if depth > 16 {
        return place.clone();
    }
    let bind = &body.bindings[b as usize];
    if let Some(src) = &bind.shared_clone_of {
        let mut p = canonical_depth(body, src, depth + 1);
        p.fields.extend(place.fields.iter().cloned());
        return p;
    }
    if bind.identity != b {
        let p = Place {
            root: Root::Local(bind.identity),
            fields: place.fields.clone(),
        };
        return canonical_depth(body, &p, depth + 1);
    }
    place.clone()
}

/// The innermost closure that runs separately from its surroundings (not called synchronously
/// by the method it is passed to), or `None` for the function body: events in different
/// contexts may run at different times or on different threads.
#[must_use]
pub fn exec_context(body: &BodyFacts, closures: &[u32]) -> Option<u32> {
    closures.iter().rev().find(|c| !body.sync_closures.contains(c)).copied()
}

/// Is the context async (an async fn body, an async block or closure)?
#[must_use]
pub fn is_async_context(body: &BodyFacts, ctx: Option<u32>) -> bool {
    ctx.map_or(body.is_async, |c| body.async_closures.contains(&c))
}

/// A lock a function acquires, relative to its `self`, parameters and statics.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SummaryAcq {
    pub lock: SumPlace,
    pub lock_ty: SemTy,
    pub op: AcqOp,
    /// The acquisition itself (in the function that takes the lock directly).
    pub span: Span,
    pub fn_id: u32,
}

/// A place in summary terms.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SumRoot {
    SelfParam,
    Param(usize),
    Static(u32),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SumPlace {
    pub root: SumRoot,
    pub fields: Vec<String>,
}

/// What calling a function does to locks: the locks it takes, the guards it returns and the
/// parameters it hands back (computed by [`super::flow`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Every lock it takes, directly or through calls (try-locks included).
    pub acquires: Vec<SummaryAcq>,
    /// The guards in its return value: where each sits, and which of `acquires` took it.
    pub returns: Vec<(Path, usize)>,
    /// Parameters (by position, `self` first) whose value comes back in the return value, and
    /// where it sits there.
    pub passes: Vec<(usize, Path)>,
}

/// One step into a value: an enum variant's payload, a struct or tuple field, the items of an
/// iterator or collection.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Seg {
    Var(Box<str>),
    Field(Box<str>),
    Elem,
}

/// Where a guard sits inside a value (empty: the value is the guard).
pub type Path = Vec<Seg>;

/// The lock facts of one function: its events, each with the guards certainly held when it
/// happens, and the guards held at each `.await` (indexed like `BodyFacts::awaits`).
#[derive(Debug, Default)]
pub struct FnGuards {
    pub events: Vec<LockEvent>,
    pub awaits: Vec<Vec<u32>>,
}

/// A place of this function in summary terms (relative to `self`, a parameter or a static).
pub(crate) fn to_sum(body: &BodyFacts, place: &Place) -> Option<SumPlace> {
    let p = canonical(body, place);
    let root = match p.root {
        Root::SelfParam => SumRoot::SelfParam,
        Root::Static(s) => SumRoot::Static(s),
        Root::Local(b) => {
            let (_, i) = body.params.iter().find(|(pb, _)| *pb == b)?;
            if body.bindings[b as usize].name == "self" {
                SumRoot::SelfParam
            } else {
                SumRoot::Param(*i)
            }
        }
    };
    Some(SumPlace { root, fields: p.fields })
}

/// Maps a callee's summary place to the caller's place at a call site.
pub(crate) fn at_call_site(call: &Call, has_self: bool, p: &SumPlace) -> Option<Place> {
    let mut base = match &p.root {
        SumRoot::Static(s) => Place {
            root: Root::Static(*s),
            fields: Vec::new(),
        },
        SumRoot::SelfParam => call.recv.clone()?,
        SumRoot::Param(i) => {
            // Method calls pass `self` as the receiver; parameters follow.
            let idx = if has_self && call.recv.is_some() {
                i.checked_sub(1)?
            } else {
                *i
            };
            call.args.get(idx)?.clone()?
        }
    };
    base.fields.extend(p.fields.iter().cloned());
    Some(base)
}

/// One lock operation in a function, direct or through a call.
#[derive(Debug, Clone)]
pub struct LockEvent {
    /// The lock, canonical in this function.
    pub lock: Place,
    pub lock_ty: SemTy,
    pub op: AcqOp,
    /// Where it happens in this function (the acquisition, or the call that leads to it).
    pub span: Span,
    /// For events through calls: the callee and the acquisition inside the call chain.
    pub via: Option<(u32, Span)>,
    /// For events through a call of a local closure (`let f = || ..; f()`): the acquisition
    /// inside the closure.
    pub through_closure: Option<Span>,
    pub closures: Vec<u32>,
    pub context: Option<u32>,
    /// Index into `BodyFacts::acquisitions` for direct events.
    pub acquisition: Option<usize>,
    /// Where the lock is taken directly: the acquisition's span and function.
    pub origin: (Span, u32),
    /// For events through a call resolved through a trait (a `dyn` or generic receiver with
    /// one implementation in the package): the trait.
    pub through_trait: Option<String>,
    /// The guards (indices of other events of this function) certainly alive when this
    /// happens, in the same thread and call context.
    pub held: Vec<u32>,
}

/// A lock's identity across functions: the same field of any value of one struct, the same
/// static, or (only comparable within its function) a local's object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LockClass {
    /// `Type.field.field`: a field path of a struct of this package.
    Field { adt: u32, fields: Vec<String> },
    /// A static (and a field path inside it).
    Static { id: u32, fields: Vec<String> },
    /// The object of a local binding of one function (and a field path inside it).
    Local {
        fn_id: u32,
        binding: u32,
        fields: Vec<String>,
    },
}

impl LockClass {
    /// Is this lock only known within one function?
    #[must_use]
    pub fn is_local(&self) -> bool {
        matches!(self, LockClass::Local { .. })
    }

    /// How the lock reads in a message: `Registry.peers`, `CACHE`, `state.routes`.
    #[must_use]
    pub fn describe(&self, ix: &ItemIndex, bodies: &[BodyFacts]) -> String {
        let (base, fields) = match self {
            LockClass::Field { adt, fields } => (ix.adts[*adt as usize].name.clone(), fields),
            LockClass::Static { id, fields } => (ix.statics[*id as usize].name.clone(), fields),
            LockClass::Local {
                fn_id, binding, fields, ..
            } => (bodies[*fn_id as usize].bindings[*binding as usize].name.clone(), fields),
        };
        std::iter::once(base)
            .chain(fields.iter().cloned())
            .collect::<Vec<_>>()
            .join(".")
    }
}

/// The class of a lock place of function `fn_id`: `Type.field` for fields of `self` or of any
/// value of a struct type (so two functions taking the same struct's locks agree), the static
/// for statics, and the local object for locals of other types.
#[must_use]
pub fn lock_class(ix: &ItemIndex, body: &BodyFacts, fn_id: u32, lock: &Place) -> Option<LockClass> {
    match lock.root {
        Root::Static(id) => Some(LockClass::Static {
            id,
            fields: lock.fields.clone(),
        }),
        Root::SelfParam => {
            let f = &ix.fns[fn_id as usize];
            let SemTy::Adt { id, .. } = &ix.impls[f.impl_id? as usize].self_ty else {
                return None;
            };
            if lock.fields.is_empty() {
                return None;
            }
            Some(LockClass::Field {
                adt: *id,
                fields: lock.fields.clone(),
            })
        }
        Root::Local(b) => match body.bindings[b as usize].ty.autoderef() {
            SemTy::Adt { id, .. } if !lock.fields.is_empty() => Some(LockClass::Field {
                adt: *id,
                fields: lock.fields.clone(),
            }),
            _ => Some(LockClass::Local {
                fn_id,
                binding: b,
                fields: lock.fields.clone(),
            }),
        },
    }
}

/// One ordered pair: `second` was taken while a guard of `first` was alive.
#[derive(Debug, Clone)]
pub struct OrderEdge {
    pub first: LockClass,
    pub second: LockClass,
    pub fn_id: u32,
    /// The execution context (closure) both acquisitions run in.
    pub context: Option<u32>,
    pub first_span: Span,
    pub second_span: Span,
}

/// Nested acquisitions of two different map locks, over the whole crate: each blocking
/// acquisition with each guard certainly held at that moment.
#[must_use]
pub fn order_edges(ix: &ItemIndex, bodies: &[BodyFacts], guards: &[FnGuards]) -> Vec<OrderEdge> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let blocking = |e: &LockEvent| matches!(e.op, AcqOp::Lock { is_try: false, .. });
    for (f, g) in guards.iter().enumerate() {
        let body = &bodies[f];
        for inner in g.events.iter().filter(|e| blocking(e) && guards_a_map(ix, &e.lock_ty)) {
            for outer in inner.held.iter().map(|&h| &g.events[h as usize]) {
                if !blocking(outer) || outer.lock == inner.lock || !guards_a_map(ix, &outer.lock_ty) {
                    continue;
                }
                let (Some(first), Some(second)) = (
                    lock_class(ix, body, f as u32, &outer.lock),
                    lock_class(ix, body, f as u32, &inner.lock),
                ) else {
                    continue;
                };
                if first != second && seen.insert((first.clone(), second.clone(), f, inner.span)) {
                    out.push(OrderEdge {
                        first,
                        second,
                        fn_id: f as u32,
                        context: inner.context,
                        first_span: outer.span,
                        second_span: inner.span,
                    });
                }
            }
        }
    }
    out.sort_by_key(|e| (e.fn_id, e.first_span.lo, e.second_span.lo));
    out
}
