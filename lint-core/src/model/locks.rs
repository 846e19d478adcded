//! Locks, guards and their lifetimes: which operations acquire which lock, how long each guard
//! lives (by the edition's temporary rules, `drop`, moves and scope ends), crate-wide function
//! summaries of the locks a call acquires or returns, and the lock-order graph.
//!
//! Lock identity is a place: a root (`self`, a parameter, a static, or a local's object — `Arc`
//! clones share one) and a field path. Two different fields, or two different objects, are two
//! different locks.

use std::collections::HashSet;

use super::body::{Acquisition, BodyFacts, Call, Life, Place, Root};
use super::items::ItemIndex;
use super::types::{LockLib, SemTy, Wrap};
use crate::diagnostic::Span;

pub use crate::catalog::{AcqOp, LockMode};
use crate::catalog::{Acquire, Receiver};

/// The receiver kind of a guard-producing call on a value of type `recv` (after auto-deref).
#[must_use]
pub fn receiver(recv: &SemTy) -> Option<Receiver> {
    match recv {
        SemTy::Lock { kind, lib, .. } => Some(Receiver::Lock(*kind, *lib)),
        SemTy::ConcurrentMap { guarded: true } => Some(Receiver::GuardedMap),
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
            matches!(inner.as_ref(), SemTy::ConcurrentMap { .. }) || ix.holds_map_by_value(inner, 0)
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

/// Where a value with this life ends, if it is a guard created at offset `at`.
#[must_use]
pub fn life_end(body: &BodyFacts, life: Life, temp_end: u32, at: u32) -> u32 {
    match life {
        Life::Temp => temp_end,
        Life::Moved(end) => end,
        Life::Returned => body.fn_end,
        Life::Bound(b) => {
            let scope_end = body.binding_ends.get(b as usize).copied().unwrap_or(body.fn_end);
            let moved = body
                .mentions
                .iter()
                .filter(|m| m.binding == b && m.moved && m.span.lo > at)
                .map(|m| m.span.lo)
                .min();
            moved.map_or(scope_end, |m| m.min(scope_end))
        }
    }
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

/// What calling a function does to locks: the locks it takes (and releases) and the guards it
/// returns.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub acquires: Vec<SummaryAcq>,
    pub returns: Vec<SummaryAcq>,
}

fn to_sum(body: &BodyFacts, place: &Place) -> Option<SumPlace> {
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
fn at_call_site(call: &Call, has_self: bool, p: &SumPlace) -> Option<Place> {
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

/// Crate-wide summaries, computed to a fixpoint (recursion included).
#[must_use]
pub fn summaries(ix: &ItemIndex, bodies: &[BodyFacts]) -> Vec<Summary> {
    let mut out: Vec<Summary> = bodies
        .iter()
        .enumerate()
        .map(|(f, body)| {
            let mut s = Summary::default();
            for a in &body.acquisitions {
                if exec_context(body, &a.closures).is_some() || a.op.is_try() {
                    continue;
                }
                let Some(lock) = to_sum(body, &a.lock) else { continue };
                let acq = SummaryAcq {
                    lock,
                    lock_ty: a.lock_ty.clone(),
                    op: a.op,
                    span: a.span,
                    fn_id: f as u32,
                };
                if a.life == Life::Returned && a.op.returns_guard() {
                    s.returns.push(acq.clone());
                }
                s.acquires.push(acq);
            }
            s
        })
        .collect();
    let has_self: Vec<bool> = ix.fns.iter().map(|f| f.def.self_kind.is_some()).collect();
    for _ in 0..16 {
        let mut changed = false;
        for (f, body) in bodies.iter().enumerate() {
            let mut add_acq = Vec::new();
            let mut add_ret = Vec::new();
            for call in &body.calls {
                if exec_context(body, &call.closures).is_some() || call.callee as usize == f {
                    continue;
                }
                let callee = &out[call.callee as usize];
                for (list, returned) in [(&callee.acquires, false), (&callee.returns, true)] {
                    for a in list {
                        let Some(place) = at_call_site(call, has_self[call.callee as usize], &a.lock) else {
                            continue;
                        };
                        let Some(lock) = to_sum(body, &place) else { continue };
                        let acq = SummaryAcq { lock, ..a.clone() };
                        if returned {
                            if call.life == Life::Returned {
                                add_ret.push(acq);
                            }
                        } else {
                            add_acq.push(acq);
                        }
                    }
                }
            }
            let s = &mut out[f];
            for a in add_acq {
                if !s.acquires.iter().any(|x| x.lock == a.lock && x.op == a.op) {
                    s.acquires.push(a);
                    changed = true;
                }
            }
            for a in add_ret {
                if !s.returns.iter().any(|x| x.lock == a.lock && x.op == a.op) {
                    s.returns.push(a);
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    out
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
    /// The guard's live range `[start, end)`, for operations that leave a guard alive.
    pub guard: Option<(u32, u32)>,
    /// Index into `BodyFacts::acquisitions` for direct events.
    pub acquisition: Option<usize>,
}

impl LockEvent {
    #[must_use]
    pub fn alive_at(&self, offset: u32) -> bool {
        self.guard.is_some_and(|(s, e)| s <= offset && offset < e)
    }
}

/// The lock events of one function, in source order.
#[must_use]
pub fn events(body: &BodyFacts, sums: &[Summary], has_self: &dyn Fn(u32) -> bool) -> Vec<LockEvent> {
    let mut out = Vec::new();
    for (i, a) in body.acquisitions.iter().enumerate() {
        out.push(direct_event(body, i, a));
    }
    for call in &body.calls {
        let callee = &sums[call.callee as usize];
        let context = exec_context(body, &call.closures);
        for a in &callee.acquires {
            let Some(place) = at_call_site(call, has_self(call.callee), &a.lock) else {
                continue;
            };
            let returned = callee.returns.iter().any(|r| r.lock == a.lock && r.op == a.op);
            let guard = returned.then(|| (call.span.hi, life_end(body, call.life, call.temp_end, call.span.hi)));
            out.push(LockEvent {
                lock: canonical(body, &place),
                lock_ty: a.lock_ty.clone(),
                op: a.op,
                span: call.span,
                via: Some((call.callee, a.span)),
                through_closure: None,
                closures: call.closures.clone(),
                context,
                guard,
                acquisition: None,
            });
        }
    }
    // Calling a local closure runs its lock operations at the call.
    for (closure, span, closures) in &body.closure_calls {
        let context = exec_context(body, closures);
        for a in body
            .acquisitions
            .iter()
            .filter(|a| exec_context(body, &a.closures) == Some(*closure))
        {
            out.push(LockEvent {
                lock: canonical(body, &a.lock),
                lock_ty: a.lock_ty.clone(),
                op: a.op,
                span: *span,
                via: None,
                through_closure: Some(a.span),
                closures: closures.clone(),
                context,
                guard: None,
                acquisition: None,
            });
        }
    }
    out.sort_by_key(|e| (e.span.lo, e.span.hi));
    out
}

fn direct_event(body: &BodyFacts, i: usize, a: &Acquisition) -> LockEvent {
    let guard =
        a.op.returns_guard()
            .then(|| (a.span.hi, life_end(body, a.life, a.temp_end, a.span.hi)));
    LockEvent {
        lock: canonical(body, &a.lock),
        lock_ty: a.lock_ty.clone(),
        op: a.op,
        span: a.span,
        via: None,
        through_closure: None,
        closures: a.closures.clone(),
        context: exec_context(body, &a.closures),
        guard,
        acquisition: Some(i),
    }
}

/// A name for a lock that is stable where it needs to be: `Type.field` for fields of `self`
/// or of any value of a struct type (so two functions taking the same struct's locks agree),
/// `NAME.field` for statics, and a function-local name for locals of other types (only
/// comparable within that function).
#[must_use]
pub fn global_name(ix: &ItemIndex, body: &BodyFacts, fn_id: u32, lock: &Place) -> Option<String> {
    let base = match lock.root {
        Root::Static(s) => ix.statics[s as usize].name.clone(),
        Root::SelfParam => {
            let f = &ix.fns[fn_id as usize];
            let SemTy::Adt { id, .. } = &ix.impls[f.impl_id? as usize].self_ty else {
                return None;
            };
            if lock.fields.is_empty() {
                return None;
            }
            ix.adts[*id as usize].name.clone()
        }
        Root::Local(b) => {
            let bind = &body.bindings[b as usize];
            match bind.ty.autoderef() {
                SemTy::Adt { id, .. } if !lock.fields.is_empty() => ix.adts[*id as usize].name.clone(),
                _ => format!("{}#{}@{}", ix.fns[fn_id as usize].def.name, bind.name, b),
            }
        }
    };
    Some(
        std::iter::once(base)
            .chain(lock.fields.iter().cloned())
            .collect::<Vec<_>>()
            .join("."),
    )
}

/// A lock name for messages: function-local names show only the binding.
#[must_use]
pub fn display_name(name: &str) -> &str {
    match name.split_once('#') {
        Some((_, rest)) => rest.split_once('@').map_or(rest, |(n, _)| n),
        None => name,
    }
}

/// One ordered pair: `second` was taken while a guard of `first` was alive.
#[derive(Debug, Clone)]
pub struct OrderEdge {
    pub first: String,
    pub second: String,
    pub fn_id: u32,
    /// The execution context (closure) both acquisitions run in.
    pub context: Option<u32>,
    pub first_span: Span,
    pub second_span: Span,
}

/// Nested acquisitions of two different named map locks, over the whole crate.
#[must_use]
pub fn order_edges(ix: &ItemIndex, bodies: &[BodyFacts], all_events: &[Vec<LockEvent>]) -> Vec<OrderEdge> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (f, events) in all_events.iter().enumerate() {
        for outer in events
            .iter()
            .filter(|e| matches!(e.op, AcqOp::Lock { is_try: false, .. }))
        {
            let Some((start, end)) = outer.guard else { continue };
            let Some(first) = global_name(ix, &bodies[f], f as u32, &outer.lock) else {
                continue;
            };
            if !guards_a_map(ix, &outer.lock_ty) {
                continue;
            }
            for inner in events.iter().filter(|e| {
                matches!(e.op, AcqOp::Lock { is_try: false, .. })
                    && e.context == outer.context
                    && e.span.lo >= start
                    && e.span.lo < end
                    && e.lock != outer.lock
            }) {
                let Some(second) = global_name(ix, &bodies[f], f as u32, &inner.lock) else {
                    continue;
                };
                if second == first || !guards_a_map(ix, &inner.lock_ty) {
                    continue;
                }
                if seen.insert((first.clone(), second.clone(), f, inner.span)) {
                    out.push(OrderEdge {
                        first: first.clone(),
                        second,
                        fn_id: f as u32,
                        context: outer.context,
                        first_span: outer.span,
                        second_span: inner.span,
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::Edition;
    use crate::model::Model;
    use crate::model::lower::parse_and_lower;

    /// Lock events of `f` as `(line, method, guard end line)`.
    fn guards(src: &str, f: &str, edition: Edition) -> Vec<(usize, String, Option<usize>)> {
        let m = Model::build(
            edition,
            vec![Some(parse_and_lower(0, src).unwrap())],
            vec![src.to_owned()],
        );
        let id = m.items.fns.iter().position(|x| x.def.name == f).unwrap();
        let line = |off: u32| src[..off as usize].matches('\n').count() + 1;
        m.lock_events[id]
            .iter()
            .map(|e| {
                let method = e.acquisition.map_or_else(
                    || format!("via {}", m.items.fns[e.via.unwrap().0 as usize].def.name),
                    |i| m.bodies[id].acquisitions[i].method.clone(),
                );
                (line(e.span.lo), method, e.guard.map(|(_, end)| line(end)))
            })
            .collect()
    }

    const PRELUDE: &str = "use std::collections::HashMap; use std::sync::Mutex;\n\
        struct S { m: Mutex<HashMap<u8, u8>> }\nimpl S {\n";

    fn src(body: &str) -> String {
        format!("{PRELUDE}{body}\n}}\n")
    }

    #[test]
    fn let_bound_guard_lives_to_block_end_or_drop() {
        let s = src(
            "fn f(&self) {\n let g = self.m.lock().unwrap();\n g.len();\n drop(g);\n self.m.lock().unwrap().clear();\n}",
        );
        assert_eq!(
            guards(&s, "f", Edition::E2021),
            vec![(5, "lock".into(), Some(7)), (8, "lock".into(), Some(8))]
        );
        let s = src("fn f(&self) {\n {\n let _g = self.m.lock().unwrap();\n }\n let _ = self.m.lock();\n}");
        // `let _ =` drops at once; `_g` at the end of its block.
        assert_eq!(
            guards(&s, "f", Edition::E2021),
            vec![(6, "lock".into(), Some(7)), (8, "lock".into(), Some(8))]
        );
    }

    #[test]
    fn scrutinee_temporaries_follow_the_edition() {
        let body = "fn f(&self) {\n if let Some(v) = self.m.lock().unwrap().get(&1) {\n let _ = v;\n } else {\n self.m.lock().unwrap().clear();\n }\n}";
        let s = src(body);
        // 2021: alive through the else block (until the end of the `if`).
        assert_eq!(guards(&s, "f", Edition::E2021)[0], (5, "lock".into(), Some(9)));
        // 2024: dropped at the end of the then-block.
        assert_eq!(guards(&s, "f", Edition::E2024)[0], (5, "lock".into(), Some(7)));
        let s = src("fn g(&self) {\n match self.m.lock().unwrap().get(&1) {\n Some(_) => {}\n None => {}\n }\n}");
        assert_eq!(guards(&s, "g", Edition::E2024)[0], (5, "lock".into(), Some(8)));
        let s = src("fn h(&self) {\n if self.m.lock().unwrap().is_empty() {\n self.m.lock().unwrap().clear();\n }\n}");
        assert_eq!(guards(&s, "h", Edition::E2021)[0], (5, "lock".into(), Some(5)));
    }

    #[test]
    fn block_tail_temporaries_outlive_the_block_until_2021() {
        let body = "fn f(&self) -> usize {\n let n = {\n self.m.lock().unwrap().len()\n }\n + 1;\n n\n}";
        let s = src(body);
        assert_eq!(guards(&s, "f", Edition::E2021)[0], (6, "lock".into(), Some(8)));
        assert_eq!(guards(&s, "f", Edition::E2024)[0], (6, "lock".into(), Some(7)));
        let body = "fn g(&self) {\n for k in self.m.lock().unwrap().keys() {\n let _ = k;\n }\n}";
        assert_eq!(guards(&src(body), "g", Edition::E2021)[0], (5, "lock".into(), Some(7)));
    }

    #[test]
    fn summaries_cross_calls_and_returned_guards() {
        let body = "fn len(&self) -> usize { self.inner() }\n\
            fn inner(&self) -> usize { self.m.lock().unwrap().len() }\n\
            fn guard(&self) -> std::sync::MutexGuard<'_, HashMap<u8, u8>> { self.m.lock().unwrap() }\n\
            fn f(&self) {\n let g = self.guard();\n let n = self.len();\n}";
        let got = guards(&src(body), "f", Edition::E2021);
        assert_eq!(got[0], (8, "via guard".into(), Some(10)));
        assert_eq!(got[1], (9, "via len".into(), None));
    }

    #[test]
    fn dashmap_refs_consumed_by_combinators_end_with_the_call() {
        let s = "use dashmap::DashMap;\nfn f(m: &DashMap<u8, u8>) {\n let v = m.get(&1).map(|r| *r);\n if let Some(r) = m.get(&2) {\n let _ = r;\n }\n}";
        let got = guards(s, "f", Edition::E2021);
        assert_eq!(got, vec![(3, "get".into(), Some(3)), (4, "get".into(), Some(6))]);
    }
}
