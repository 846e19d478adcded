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
        SemTy::ConcurrentMap { .. } | SemTy::BundledMap(_) => true,
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
    /// Taken only where a `bool` parameter has this value (`if start_holding { .. }`): by
    /// position (`self` first). A call that passes the other literal does not take it.
    pub only_if: Option<(usize, bool)>,
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
    /// Pairs `(held, taken)` of `acquires`: the function takes `taken` while it still holds
    /// `held` (directly or inside its callees).
    pub nested: Vec<(usize, usize)>,
    /// Pairs `(param, taken)`: the function takes `acquires[taken]` while the guard it was
    /// given by value as parameter `param` (by position, `self` first) is certainly still held.
    /// A guard the caller moves into such a parameter is held at the caller's event for
    /// `taken` only then: a callee that drops it first takes the lock with nothing held.
    pub under_param: Vec<(usize, usize)>,
    /// The guard given by value as parameter `param` is certainly held across an `.await` of
    /// this (async) function, at this span (in it, or in an async function it passes the guard
    /// on to and awaits).
    pub param_awaits: Vec<(usize, Span)>,
    /// Pairs `(param, held)`: the function calls its parameter `param` (a closure its caller
    /// passes, see `ItemIndex::closure_runners`) while it certainly holds `acquires[held]`, so
    /// what that closure takes is taken under it.
    pub runs_param_under: Vec<(usize, usize)>,
}

impl Summary {
    /// Does calling this function do nothing to locks?
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.acquires.is_empty()
            && self.returns.is_empty()
            && self.passes.is_empty()
            && self.param_awaits.is_empty()
            && self.runs_param_under.is_empty()
    }
}

/// One step into a value: an enum variant's payload, a struct or tuple field, the items of an
/// iterator or collection.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Seg {
    Var(std::sync::Arc<str>),
    Field(std::sync::Arc<str>),
    Elem,
}

/// Where a guard sits inside a value (empty: the value is the guard).
pub type Path = Vec<Seg>;

/// The lock facts of one function: its events, each with the guards certainly held when it
/// happens, the guards held at each `.await` (indexed like `BodyFacts::awaits`) and at each
/// blocking wait.
#[derive(Debug, Default)]
pub struct FnGuards {
    pub events: Vec<LockEvent>,
    pub awaits: Vec<Vec<u32>>,
    /// The guards held at each blocking wait (indexed like `BodyFacts::blocking_waits`).
    pub blocking: Vec<Vec<u32>>,
    /// At each `.await` (indexed like `awaits`), the guards held there inside the awaited
    /// future of an async function of the package they were moved into: `(guard, callee, the
    /// callee's .await it holds the guard across)`.
    pub awaits_via: Vec<Vec<(u32, u32, Span)>>,
}

/// A place of this function in summary terms (relative to `self`, a parameter or a static).
pub(crate) fn to_sum(body: &BodyFacts, place: &Place) -> Option<SumPlace> {
    let p = canonical(body, place);
    let root = match p.root {
        Root::SelfParam => SumRoot::SelfParam,
        Root::Static(s) => SumRoot::Static(s),
        Root::Local(b) => {
            let i = body.param_pos(b)?;
            if body.bindings[b as usize].name == "self" {
                SumRoot::SelfParam
            } else {
                SumRoot::Param(i)
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
        // A path call of a method (`Self::paint(self, ..)`, `Type::run(&x, ..)`) passes
        // `self` as its first argument.
        SumRoot::SelfParam => match &call.recv {
            Some(r) => r.clone(),
            None if has_self => call.args.first()?.clone()?,
            None => return None,
        },
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

/// The field step of a lock taken through each element of a collection in turn (`for s in
/// self.shards.iter() { s.read() }` takes `self.shards[*]`): every element, the one a guard of
/// it holds among them, so taking it while such a guard is alive re-enters that element's lock.
pub const EACH: &str = "[*]";

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
    /// For events through a call: the other events of the same call whose guards the callee
    /// still holds when it takes this lock (its own nesting, `fn transfer(a, b)` taking `b`
    /// while holding `a`).
    pub nested: Vec<u32>,
    /// The lock guards a map or set ([`guards_a_map`]).
    pub on_map: bool,
    /// Only this call of the function can reach the lock ([`is_exclusive`]).
    pub exclusive: bool,
    /// For an event through a call of a closure runner (`self.write(|ctx| ..)`, see
    /// `ItemIndex::closure_runners`): the callee holds this lock while it runs the closure
    /// written in the call.
    pub runs_closure: bool,
}

/// Is the object at `place` reachable only from this call of function `f`, so no other
/// thread or task can use it meanwhile? `&mut self` (or a `&mut` parameter) with no `Arc`
/// or `Rc` on the way to the place, or a local that is only ever locked where it is (never
/// captured by a closure, passed or borrowed elsewhere).
#[must_use]
pub fn is_exclusive(ix: &ItemIndex, body: &BodyFacts, f: u32, place: &Place) -> bool {
    let def = &ix.fns[f as usize];
    let root_ty = match place.root {
        Root::Static(_) => return false,
        Root::SelfParam => {
            if def.def.self_kind != Some(super::ir::SelfKind::RefMut) {
                return false;
            }
            def.impl_id
                .map(|i| ix.impls[i as usize].self_ty.clone())
                .unwrap_or_default()
        }
        Root::Local(b) => {
            let bind = &body.bindings[b as usize];
            if bind.is_param {
                match &bind.ty {
                    SemTy::Ref { mutable: true, inner } => (**inner).clone(),
                    _ => return false,
                }
            } else {
                // A local object only ever locked right where it is named.
                let only_locked = body.mentions_of_object(b).all(|m| {
                    m.closures.is_empty()
                        && body.acquisitions.iter().any(|a| {
                            a.span.file == m.span.file && a.span.lo <= m.span.lo && m.span.hi <= a.method_span.lo
                        })
                });
                if !only_locked || bind.shared_clone.is_some() || bind.alias.is_some() {
                    return false;
                }
                bind.ty.clone()
            }
        }
    };
    let mut ty = root_ty;
    for field in &place.fields {
        if ty.is_shared_pointer() || matches!(ty.autoderef(), SemTy::Unknown) {
            return false;
        }
        ty = ix.field_ty(&ty, field);
    }
    !has_shared_pointer(&ty)
}

/// Does this type reach its contents through an `Arc` or `Rc` (other owners may exist)?
fn has_shared_pointer(ty: &SemTy) -> bool {
    match ty {
        SemTy::Wrapper {
            wrap: Wrap::Arc | Wrap::Rc,
            ..
        } => true,
        SemTy::Wrapper { inner, .. } | SemTy::Ref { inner, .. } => has_shared_pointer(inner),
        SemTy::Unknown => true,
        _ => false,
    }
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

    /// The type the lock's field is declared with (`Mutex<HashMap<u64, Conn>>`), for a field
    /// of a struct of the package.
    #[must_use]
    pub fn declared_ty(&self, ix: &ItemIndex) -> Option<String> {
        match self {
            LockClass::Field { adt, fields } if fields.len() == 1 => ix.adts[*adt as usize]
                .fields
                .iter()
                .find(|(n, _)| *n == fields[0])
                .map(|(_, t)| t.to_string()),
            _ => None,
        }
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

/// The type of a place's root in function `f`: the impl's type for `self` (`Unknown` outside
/// an impl), a local's or a static's type.
#[must_use]
pub fn root_ty(ix: &ItemIndex, body: &BodyFacts, f: u32, root: Root) -> SemTy {
    match root {
        Root::SelfParam => ix.fns[f as usize]
            .impl_id
            .map(|i| ix.impls[i as usize].self_ty.clone())
            .unwrap_or_default(),
        Root::Local(b) => body.bindings[b as usize].ty.clone(),
        Root::Static(s) => ix.statics[s as usize].ty.clone(),
    }
}

/// The class of a lock place of function `fn_id`: `Type.field` for fields of `self` or of any
/// value of a struct type (so two functions taking the same struct's locks agree), the static
/// for statics, and the local object for locals of other types.
#[must_use]
pub fn lock_class(ix: &ItemIndex, body: &BodyFacts, fn_id: u32, lock: &Place) -> Option<LockClass> {
    match (
        field_class(ix, root_ty(ix, body, fn_id, lock.root), &lock.fields),
        lock.root,
    ) {
        (Some(class), _) => Some(class),
        (None, Root::Static(id)) => Some(LockClass::Static {
            id,
            fields: lock.fields.clone(),
        }),
        (None, Root::SelfParam) => None,
        (None, Root::Local(b)) => Some(moved_into_field(body, b, &lock.fields).unwrap_or(LockClass::Local {
            fn_id,
            binding: b,
            fields: lock.fields.clone(),
        })),
    }
}

/// A local whose object this function moves into a field of a struct literal of the package
/// (`let paused = Arc::new(Mutex::new(false)); .. Inner { paused, .. }`): its locks, and those
/// of its `Arc` clones (a handler's `move` closure), are that field's.
fn moved_into_field(body: &BodyFacts, b: u32, fields: &[String]) -> Option<LockClass> {
    let here = Place {
        root: Root::Local(b),
        fields: Vec::new(),
    };
    body.struct_lits.iter().find_map(|lit| {
        lit.fields.iter().find_map(|(name, src)| match src {
            super::body::FieldSource::Shared(p) if canonical(body, p) == here => Some(LockClass::Field {
                adt: lit.adt,
                fields: std::iter::once(name.clone()).chain(fields.iter().cloned()).collect(),
            }),
            _ => None,
        })
    })
}

/// The class of the field path `fields` of a value of type `ty`, named after the innermost
/// struct of the package that holds the field: the field of `LogFetchBuffer` is one lock
/// whether it is reached as `self.completed` or as `self.buffer.completed` from the struct that
/// owns the buffer. `None` when no struct of the package is on the way.
#[must_use]
pub fn field_class(ix: &ItemIndex, ty: SemTy, fields: &[String]) -> Option<LockClass> {
    let mut owner: Option<(u32, usize)> = None;
    let mut ty = ty;
    for (i, field) in fields.iter().enumerate() {
        if let SemTy::Adt { id, .. } = ty.autoderef() {
            owner = Some((*id, i));
        }
        ty = ix.field_ty(&ty, field);
    }
    let (adt, i) = owner?;
    Some(LockClass::Field {
        adt,
        fields: fields[i..].to_vec(),
    })
}

/// One ordered pair: `second` was taken while a guard of `first` was alive.
#[derive(Debug, Clone)]
pub struct OrderEdge {
    pub first: LockClass,
    pub second: LockClass,
    pub first_mode: LockMode,
    pub second_mode: LockMode,
    pub fn_id: u32,
    /// The execution context (closure) both acquisitions run in.
    pub context: Option<u32>,
    pub first_span: Span,
    pub second_span: Span,
    /// When `second` is taken by a closure called at `second_span` (a stored handler, a
    /// closure variable): where the closure takes it.
    pub through_closure: Option<Span>,
    /// When both were taken inside one call (a callee given the two locks): the callee.
    pub inside: Option<u32>,
    /// Both locks are reachable only from this call of the function (`&mut self`): the edge
    /// cannot take part in a deadlock with another thread.
    pub exclusive: bool,
    /// Other locks held exclusively when `second` is taken: a gate that serializes this edge.
    pub gates: Vec<LockClass>,
}

/// The package's lock-order graph: an edge `A -> B` for each place `B` is taken while a guard
/// of `A` is certainly alive (directly, through calls, and inside callees that take two locks
/// given as parameters), over every lock of the package, as lockdep builds it.
#[derive(Debug, Default)]
pub struct LockGraph {
    pub edges: Vec<OrderEdge>,
    /// Locks that guard a map or set (a cycle is reported when it has one).
    pub map_locks: HashSet<LockClass>,
    /// Locks taken exclusively somewhere (`lock()`, `write()`): two read guards in opposite
    /// orders deadlock only when a writer queues.
    pub written: HashSet<LockClass>,
    /// Its elementary cycles of up to [`MAX_CYCLE`] locks (edge indices), shortest first.
    pub cycles: Vec<Vec<usize>>,
    /// The cycles that can deadlock, with at least one map lock ([`LockGraph::judge`]): none
    /// through the locks of a shorter one, each starting from its first site in the package.
    pub deadlocks: Vec<Vec<usize>>,
}

/// The longest lock-order cycle looked for, and how many cycles of one package at most.
pub const MAX_CYCLE: usize = 4;
const MAX_CYCLES: usize = 200;

impl LockGraph {
    #[must_use]
    pub fn build(ix: &ItemIndex, bodies: &[BodyFacts], guards: &[FnGuards]) -> LockGraph {
        let mut g = LockGraph::default();
        let mut seen = HashSet::new();
        for (f, fg) in guards.iter().enumerate() {
            let body = &bodies[f];
            let classes: Vec<Option<LockClass>> = fg
                .events
                .iter()
                .map(|e| {
                    e.op.blocking_mode()
                        .and_then(|_| lock_class(ix, body, f as u32, &e.lock))
                })
                .collect();
            for (inner, second) in fg.events.iter().zip(&classes) {
                let (Some(second_mode), Some(second)) = (inner.op.blocking_mode(), second) else {
                    continue;
                };
                if inner.on_map {
                    g.map_locks.insert(second.clone());
                }
                if matches!(second_mode, LockMode::Mutex | LockMode::Write) {
                    g.written.insert(second.clone());
                }
                let outers = || inner.held.iter().chain(&inner.nested).map(|&h| h as usize);
                let gates: Vec<&LockClass> = outers()
                    .filter(|&h| fg.events[h].op.serializes())
                    .filter_map(|h| classes[h].as_ref())
                    .collect();
                for h in outers() {
                    let outer = &fg.events[h];
                    let (Some(first_mode), Some(first)) = (outer.op.blocking_mode(), &classes[h]) else {
                        continue;
                    };
                    if outer.lock == inner.lock
                        || first == second
                        || !seen.insert((first.clone(), second.clone(), f, outer.span, inner.span))
                    {
                        continue;
                    }
                    g.edges.push(OrderEdge {
                        gates: gates
                            .iter()
                            .filter(|c| **c != first && **c != second)
                            .map(|c| (*c).clone())
                            .collect(),
                        first: first.clone(),
                        second: second.clone(),
                        first_mode,
                        second_mode,
                        fn_id: f as u32,
                        context: inner.context,
                        first_span: outer.span,
                        second_span: inner.span,
                        through_closure: inner.through_closure,
                        inside: inner.via.map(|(f, _)| f).filter(|_| inner.nested.contains(&(h as u32))),
                        exclusive: outer.exclusive && inner.exclusive,
                    });
                }
            }
        }
        g.edges.sort_by_key(|e| (e.fn_id, e.first_span.lo, e.second_span.lo));
        g.cycles = g.find_cycles(MAX_CYCLE, MAX_CYCLES);
        g.cycles.sort_by_key(Vec::len);
        g
    }

    /// Elementary cycles of up to `max_len` edges (each as edge indices, starting from its
    /// smallest lock), one per sequence of locks, at most `limit` of them.
    #[must_use]
    pub fn find_cycles(&self, max_len: usize, limit: usize) -> Vec<Vec<usize>> {
        let mut ids: std::collections::HashMap<&LockClass, usize> = std::collections::HashMap::new();
        let mut ends: Vec<(usize, usize)> = Vec::with_capacity(self.edges.len());
        for e in &self.edges {
            let n = ids.len();
            let a = *ids.entry(&e.first).or_insert(n);
            let n = ids.len();
            let b = *ids.entry(&e.second).or_insert(n);
            ends.push((a, b));
        }
        let mut from: Vec<Vec<usize>> = vec![Vec::new(); ids.len()];
        for (i, &(a, _)) in ends.iter().enumerate() {
            from[a].push(i);
        }
        let mut out: Vec<Vec<usize>> = Vec::new();
        let mut seen_nodes: HashSet<Vec<usize>> = HashSet::new();
        for start in 0..ids.len() {
            // Depth-first over edges whose ends are all above `start`, back to `start`.
            let mut stack: Vec<(usize, Vec<usize>)> = vec![(start, Vec::new())];
            while let Some((node, path)) = stack.pop() {
                if out.len() >= limit {
                    return out;
                }
                for &i in &from[node] {
                    let b = ends[i].1;
                    if b == start {
                        let mut cycle = path.clone();
                        cycle.push(i);
                        let nodes: Vec<usize> = cycle.iter().map(|&k| ends[k].0).collect();
                        if seen_nodes.insert(nodes) {
                            out.push(cycle);
                        }
                    } else if b > start && path.len() + 1 < max_len && !path.iter().any(|&k| ends[k].0 == b) {
                        let mut next = path.clone();
                        next.push(i);
                        stack.push((b, next));
                    }
                }
            }
        }
        out
    }

    /// Judges the cycles ([`LockGraph::deadlocks`]); `spawned` says whether spawned code
    /// reaches a function (it may then run on several threads at once).
    pub fn judge(&mut self, spawned: impl Fn(u32) -> bool) {
        // Shortest cycles first; a cycle through the locks of a shorter one already kept is
        // the same inversion seen again.
        let mut kept: Vec<Vec<&LockClass>> = Vec::new();
        let mut out = Vec::new();
        for cycle in &self.cycles {
            if !self.can_deadlock(cycle, &spawned) {
                continue;
            }
            let locks: Vec<&LockClass> = cycle.iter().map(|&i| &self.edges[i].first).collect();
            if kept.iter().any(|smaller| smaller.iter().all(|l| locks.contains(l))) {
                continue;
            }
            kept.push(locks);
            // Starting from its first site in the package.
            let mut cycle = cycle.clone();
            let first = (0..cycle.len())
                .min_by_key(|&i| {
                    let e = &self.edges[cycle[i]];
                    (e.second_span.file, e.second_span.lo)
                })
                .unwrap_or(0);
            cycle.rotate_left(first);
            out.push(cycle);
        }
        self.deadlocks = out;
    }

    /// Can the locks of this cycle, taken in these orders, really block each other?
    fn can_deadlock(&self, cycle: &[usize], spawned: impl Fn(u32) -> bool) -> bool {
        let edges: Vec<&OrderEdge> = cycle.iter().map(|&i| &self.edges[i]).collect();
        // At least one lock guards a map (maplint's business); any other lock closes the cycle.
        if !edges
            .iter()
            .any(|e| self.map_locks.contains(&e.first) || self.map_locks.contains(&e.second))
        {
            return false;
        }
        // A lock of one function's local only exists in one call: the orders must run at once
        // there, in different threads (a spawned closure and the code that spawned it).
        if edges.iter().any(|e| e.first.is_local() || e.second.is_local())
            && (edges.iter().any(|e| e.fn_id != edges[0].fn_id) || edges.iter().all(|e| e.context == edges[0].context))
        {
            return false;
        }
        // An edge on locks only this call can reach (`&mut self`) cannot block another thread.
        if edges.iter().any(|e| e.exclusive) {
            return false;
        }
        // A cycle within one function's sequential code cannot block itself, unless the
        // function runs on several threads at once (it is spawned).
        if edges
            .iter()
            .all(|e| e.fn_id == edges[0].fn_id && e.context == edges[0].context)
            && !spawned(edges[0].fn_id)
            && edges[0].context.is_none()
        {
            return false;
        }
        // A gate: one lock held exclusively around every edge serializes them.
        if edges[0]
            .gates
            .iter()
            .any(|gate| edges.iter().all(|e| e.gates.contains(gate)))
        {
            return false;
        }
        // A lock held for reading and taken again for reading blocks only through a queued
        // writer (a recursive read never waits for one): the package must write-lock it
        // somewhere.
        self.read_only_links(cycle)
            .iter()
            .all(|(lock, recursive)| !recursive && self.written.contains(lock))
    }

    /// The locks of a cycle that are both held and then taken for reading (readers do not
    /// block each other), and whether the taking is a recursive read.
    #[must_use]
    pub fn read_only_links(&self, cycle: &[usize]) -> Vec<(LockClass, bool)> {
        let reader = |m: LockMode| matches!(m, LockMode::Read | LockMode::ReadRecursive);
        let edges = || cycle.iter().map(|&i| &self.edges[i]);
        edges()
            .filter_map(|into| {
                let out = edges().find(|e| e.first == into.second)?;
                (reader(into.second_mode) && reader(out.first_mode))
                    .then(|| (into.second.clone(), into.second_mode == LockMode::ReadRecursive))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::Edition;
    use crate::model::Model;
    use crate::model::lower::parse_and_lower;

    fn graph(src: &str) -> (Model, Vec<(String, String)>) {
        let m = Model::build(
            Edition::E2021,
            vec![Some(parse_and_lower(0, src).unwrap())],
            vec![src.to_owned()],
        );
        let name = |c: &super::LockClass| c.describe(&m.items, &m.bodies);
        let edges = m
            .lock_graph
            .edges
            .iter()
            .map(|e| (name(&e.first), name(&e.second)))
            .collect();
        (m, edges)
    }

    const PRELUDE: &str = "use std::collections::HashMap; use std::sync::{Mutex, RwLock};\n\
        struct Buf { pending: Mutex<HashMap<u8, u8>>, done: Mutex<Vec<u8>> }\n\
        struct Owner { buf: Buf, stats: RwLock<u64> }\n";

    #[test]
    fn edges_name_locks_by_the_struct_that_holds_them() {
        let src = format!(
            "{PRELUDE}impl Buf {{ fn add(&self) {{ let p = self.pending.lock().unwrap(); self.done.lock().unwrap().push(1); drop(p); }} }}\n\
             impl Owner {{ fn scan(&self) {{ let d = self.buf.done.lock().unwrap(); self.buf.pending.lock().unwrap().len(); drop(d); }} }}"
        );
        let (m, edges) = graph(&src);
        assert_eq!(
            edges,
            vec![
                ("Buf.pending".to_owned(), "Buf.done".to_owned()),
                ("Buf.done".to_owned(), "Buf.pending".to_owned())
            ]
        );
        assert_eq!(m.lock_graph.cycles.len(), 1);
        assert!(m.lock_graph.written.len() == 2 && m.lock_graph.map_locks.len() == 1);
    }

    #[test]
    fn a_callee_given_two_locks_nests_them_at_the_call() {
        let src = format!(
            "{PRELUDE}fn both(a: &Mutex<HashMap<u8, u8>>, b: &Mutex<Vec<u8>>) {{ let _a = a.lock().unwrap(); b.lock().unwrap().clear(); }}\n\
             impl Buf {{ fn run(&self) {{ both(&self.pending, &self.done); }} }}"
        );
        let (_, edges) = graph(&src);
        assert!(
            edges.contains(&("Buf.pending".to_owned(), "Buf.done".to_owned())),
            "{edges:?}"
        );
    }

    #[test]
    fn cycles_of_three_are_found_once() {
        let src = "use std::sync::Mutex;\nstruct R { a: Mutex<u8>, b: Mutex<u8>, c: Mutex<u8> }\n\
            impl R { fn ab(&self) { let _x = self.a.lock(); let _y = self.b.lock(); }\n\
            fn bc(&self) { let _x = self.b.lock(); let _y = self.c.lock(); }\n\
            fn ca(&self) { let _x = self.c.lock(); let _y = self.a.lock(); } }";
        let (m, _) = graph(src);
        let cycles = &m.lock_graph.cycles;
        assert_eq!(cycles.len(), 1);
        assert_eq!(cycles[0].len(), 3);
        assert!(m.lock_graph.find_cycles(2, 10).is_empty(), "no cycle of two");
    }
}
