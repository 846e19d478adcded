//! Stored closures (issue 18, point 5): which closures of the package each handler table holds,
//! and what a call of one of them takes.
//!
//! A closure stored into a field or a collection (see `body::ClosureStore`) is identified by
//! the slot's [`LockClass`] (`Bus.handlers`, `Subscriber.callback`): the same class for every
//! function that stores into it or calls out of it. A function that stores one of its
//! parameters there (`fn subscribe(&self, h: H) { self.handlers.lock().push(Box::new(h)) }`)
//! stores the closures its callers in the package pass for it. A call of a stored closure runs
//! one of those the package stores there; its locks are theirs, by class: their direct
//! acquisitions, and what the package's functions they call take (from their summaries).
//! Closures that only come from outside (a public API given user callbacks) are unknown, and
//! nothing is assumed about them.

use std::collections::HashMap;

use super::body::{BodyFacts, StoreSlot, Stored};
use super::items::ItemIndex;
use super::locks::{LockClass, Summary, at_call_site, canonical, exec_context, field_class, lock_class};
use super::types::SemTy;
use crate::catalog::AcqOp;
use crate::diagnostic::Span;

/// A lock a stored closure takes: in function `fn_id`, at `span`.
#[derive(Debug, Clone)]
pub struct StoredAcq {
    pub fn_id: u32,
    pub lock: LockClass,
    pub lock_ty: SemTy,
    pub op: AcqOp,
    pub span: Span,
}

/// For each function, for each of its stored-closure calls (`BodyFacts::stored_calls`), the
/// locks the closures the package stores in that slot take: directly, and, once `sums` are
/// known, through the calls of the package's functions they make.
#[must_use]
pub fn resolve(ix: &ItemIndex, bodies: &[BodyFacts], sums: Option<&[Summary]>) -> Vec<Vec<Vec<StoredAcq>>> {
    let mut out: Vec<Vec<Vec<StoredAcq>>> = bodies.iter().map(|b| vec![Vec::new(); b.stored_calls.len()]).collect();
    if bodies.iter().all(|b| b.stored_calls.is_empty()) {
        return out;
    }
    let class_of = |f: usize, slot: &StoreSlot| match slot {
        StoreSlot::Place(p) => lock_class(ix, &bodies[f], f as u32, &canonical(&bodies[f], p)),
        StoreSlot::LitField { adt, field } => Some(LockClass::Field {
            adt: *adt,
            fields: vec![field.clone()],
        }),
    };
    let mut slots: HashMap<LockClass, Vec<(u32, u32)>> = HashMap::new();
    let mut param_slots: HashMap<(u32, usize), Vec<LockClass>> = HashMap::new();
    for (f, b) in bodies.iter().enumerate() {
        for st in &b.closure_stores {
            let Some(class) = class_of(f, &st.slot).filter(|c| !c.is_local()) else {
                continue;
            };
            match st.what {
                Stored::Closure(c) => slots.entry(class).or_default().push((f as u32, c)),
                Stored::Param(pos) => param_slots.entry((f as u32, pos)).or_default().push(class),
            }
        }
    }
    // Closures handed to a function that stores that parameter.
    for (f, b) in bodies.iter().enumerate() {
        for call in &b.calls {
            for &(pos, c) in &call.closure_args {
                for class in param_slots.get(&(call.callee, pos)).into_iter().flatten() {
                    slots.entry(class.clone()).or_default().push((f as u32, c));
                }
            }
        }
    }
    for (f, b) in bodies.iter().enumerate() {
        for (i, call) in b.stored_calls.iter().enumerate() {
            let class = match &call.root_ty {
                Some(t) => field_class(ix, t.clone(), &call.slot.fields),
                None => lock_class(ix, b, f as u32, &canonical(b, &call.slot)),
            };
            let Some(class) = class else { continue };
            for &(s, c) in slots.get(&class).into_iter().flatten() {
                let sb = &bodies[s as usize];
                let in_closure = |closures: &[u32]| exec_context(sb, closures) == Some(c);
                let direct = sb
                    .acquisitions
                    .iter()
                    .filter(|a| in_closure(&a.closures))
                    .map(|a| (a.lock.clone(), &a.lock_ty, a.op, a.span));
                // `move |e| hub.unsubscribe(id)`: what the called function takes.
                let through_calls = sums.into_iter().flat_map(|sums| {
                    sb.calls
                        .iter()
                        .filter(|k| in_closure(&k.closures))
                        .flat_map(move |call| {
                            let has_self = ix.fns[call.callee as usize].def.self_kind.is_some();
                            sums[call.callee as usize].acquires.iter().filter_map(move |acq| {
                                Some((
                                    at_call_site(call, has_self, &acq.lock)?,
                                    &acq.lock_ty,
                                    acq.op,
                                    call.span,
                                ))
                            })
                        })
                });
                for (place, lock_ty, op, span) in direct.chain(through_calls) {
                    if let Some(lock) = lock_class(ix, sb, s, &canonical(sb, &place)) {
                        out[f][i].push(StoredAcq {
                            fn_id: s,
                            lock,
                            lock_ty: lock_ty.clone(),
                            op,
                            span,
                        });
                    }
                }
            }
        }
    }
    out
}
