//! Closures stored to be called later: a handler table (`handlers.insert(id, Box::new(|e| ..))`,
//! `self.on_close = Box::new(..)`, `Subscriber { callback: Box::new(..) }`) and the calls that
//! run what it holds (`for h in handlers.values() { h(&e) }`, `(sub.callback)(e)`).

use super::{Place, Root, Walker, peel};
use crate::diagnostic::Span;
use crate::model::ir::{Expr, ExprKind, UnOp};
use crate::model::types::SemTy;

/// Methods that put a value into a collection (the value is their last argument).
const STORE_METHODS: &[&str] = &["insert", "push", "push_back", "push_front"];
/// Methods that reach a collection or its elements without copying them: through a lock or a
/// cell, an `Option`, or an iterator over the elements.
const TO_ELEMENTS: &[&str] = &[
    "lock",
    "read",
    "write",
    "borrow",
    "borrow_mut",
    "unwrap",
    "expect",
    "values",
    "values_mut",
    "iter",
    "iter_mut",
    "get",
    "get_mut",
    "as_ref",
    "as_mut",
    "deref",
    "deref_mut",
    "value",
    "value_mut",
];

/// Where a closure is stored: a place (a field, or a collection in one), or a field of a
/// struct literal.
#[derive(Debug, Clone)]
pub enum StoreSlot {
    Place(Place),
    LitField { adt: u32, field: String },
}

/// What is stored: a closure of this function, or what a parameter (by position, `self`
/// first) holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Closure(u32),
    Param(usize),
}

#[derive(Debug, Clone)]
pub struct ClosureStore {
    pub slot: StoreSlot,
    pub what: Stored,
}

/// A call of a stored closure: `slot` is the field or collection it is taken from.
#[derive(Debug, Clone)]
pub struct StoredCall {
    pub expr: u32,
    pub span: Span,
    pub closures: Vec<u32>,
    pub slot: Place,
    /// The type of the slot's root when it is an element of a `Vec` the model does not type
    /// (`cb` in `for cb in callbacks.iter() { (cb.on_event)(e) }`).
    pub root_ty: Option<SemTy>,
}

impl Walker<'_> {
    /// The closure (or parameter) a stored value is: `|e| ..`, `Box::new(move |e| ..)`,
    /// `Arc::new(f)`, `Some(handler)`, a closure bound to a name, a parameter.
    pub(super) fn stored_value(&self, e: &Expr) -> Option<Stored> {
        let e = peel(e);
        match &e.kind {
            ExprKind::Closure(_) => Some(Stored::Closure(e.id)),
            ExprKind::Cast { expr, .. } => self.stored_value(expr),
            ExprKind::Call { func, args } => {
                let ExprKind::Path(names) = &func.kind else { return None };
                let last = names.last()?.as_str();
                let owner = names.len().checked_sub(2).map_or("", |i| names[i].as_str());
                let wraps = matches!(
                    (owner, last),
                    ("Box" | "Arc" | "Rc", "new" | "from" | "pin") | ("", "Some")
                );
                match args.as_slice() {
                    [a] if wraps => self.stored_value(a),
                    _ => None,
                }
            }
            ExprKind::Path(names) if names.len() == 1 => {
                let b = self.lookup(&names[0])?;
                if let Some(&c) = self.facts.closure_bindings.get(&b) {
                    return Some(Stored::Closure(c));
                }
                self.facts.param_pos(b).map(Stored::Param)
            }
            _ => None,
        }
    }

    /// The field or collection an expression reaches, through locks, cells, `unwrap`, element
    /// accessors and guard bindings (`let hs = self.handlers.lock().unwrap();`).
    pub(super) fn slot_place(&self, e: &Expr) -> Option<Place> {
        match &e.kind {
            ExprKind::MethodCall { recv, method, .. } if TO_ELEMENTS.contains(&method.as_str()) => {
                self.slot_place(recv)
            }
            ExprKind::Try(x)
            | ExprKind::Ref { expr: x, .. }
            | ExprKind::Unary {
                op: UnOp::Deref,
                expr: x,
            } => self.slot_place(x),
            ExprKind::Path(names) if names.len() == 1 => {
                let b = self.lookup(&names[0])?;
                // A guard bound by `let`: its lock.
                if let Some(a) = self.facts.acquisitions.iter().rev().find(|a| a.in_let == Some(b)) {
                    return Some(a.lock.clone());
                }
                if let Some(p) = &self.facts.bindings[b as usize].elem_of {
                    return Some(p.clone());
                }
                self.place_of(e).map(|(p, _)| p)
            }
            _ => self.place_of(e).map(|(p, _)| p),
        }
    }

    /// A closure (or parameter) stored by `value` into `slot`, if it is one.
    pub(super) fn record_store(&mut self, slot: StoreSlot, value: &Expr) {
        if let Some(what) = self.stored_value(value) {
            self.facts.closure_stores.push(ClosureStore { slot, what });
        }
    }

    /// `recv.insert(k, handler)`, `recv.push(handler)`.
    pub(super) fn store_call(&mut self, recv: &Expr, method: &str, args: &[Expr]) {
        if STORE_METHODS.contains(&method)
            && let Some(v) = args.last()
            && self.stored_value(v).is_some()
            && let Some(p) = self.slot_place(recv)
        {
            self.record_store(StoreSlot::Place(p), v);
        }
    }

    /// The collection an iteration over all of its elements goes through: `X.iter()`,
    /// `X.iter_mut()`, `X.values()`, `X.values_mut()`, `&X`, `&mut X` or `X` (a `for` loop's),
    /// with `X` a place (a field, a local, a static).
    pub(super) fn each_source(&self, e: &Expr) -> Option<Place> {
        let e = peel(e);
        let x = match &e.kind {
            ExprKind::MethodCall { recv, method, args, .. }
                if args.is_empty() && matches!(method.as_str(), "iter" | "iter_mut" | "values" | "values_mut") =>
            {
                peel(recv)
            }
            _ => e,
        };
        match &x.kind {
            ExprKind::Field { .. } | ExprKind::Path(_) => self.place_of(x).map(|(p, _)| p),
            _ => None,
        }
    }

    /// Binding `b` is each element of the collection at `coll` in turn ([`Binding::each_of`]);
    /// typed as a reference to the element when nothing typed it.
    pub(super) fn bind_each(&mut self, b: usize, coll: Place) {
        if matches!(self.facts.bindings[b].ty, SemTy::Unknown)
            && let Some(t) = self.element_ty(&coll)
        {
            self.facts.bindings[b].ty = SemTy::Ref {
                mutable: false,
                inner: Box::new(t),
            };
        }
        self.facts.bindings[b].each_of = Some(coll);
    }

    /// The bindings declared since `first` take their values from the elements of `src`'s
    /// collection (`for h in handlers.values()`, `if let Some(h) = handlers.get(&id)`).
    pub(super) fn bind_elements(&mut self, first: usize, src: &Expr) {
        if self.facts.bindings.len() == first {
            return;
        }
        let Some(p) = self.slot_place(src) else { return };
        // The element type of a `Vec` (behind a lock or a cell), for the one binding of a
        // plain pattern (`for cb in callbacks.iter()`: `(cb.on_event)(e)`).
        let elem_ty = (self.facts.bindings.len() == first + 1)
            .then(|| self.element_ty(&p))
            .flatten();
        for b in &mut self.facts.bindings[first..] {
            b.elem_of = Some(p.clone());
        }
        if let Some(t) = elem_ty {
            self.elem_tys.insert(first as u32, t);
        }
    }

    /// The element type of the `Vec` at a place (through locks and cells), if known.
    fn element_ty(&self, p: &Place) -> Option<SemTy> {
        let mut ty = match p.root {
            Root::SelfParam => self.self_ty.clone()?,
            Root::Local(b) => self.facts.bindings[b as usize].ty.clone(),
            Root::Static(s) => self.ix.statics[s as usize].ty.clone(),
        };
        for f in &p.fields {
            ty = self.ix.field_ty(&ty, f);
        }
        let mut t = &ty;
        loop {
            t = match t.autoderef() {
                SemTy::Lock { inner, .. } | SemTy::Wrapper { inner, .. } => inner,
                SemTy::Vec(elem) => return Some((**elem).clone()),
                _ => return None,
            };
        }
    }

    /// A call of a stored closure: `h(e)` with `h` taken from a collection, `(x.callback)(e)`.
    pub(super) fn stored_call(&mut self, e: &Expr, func: &Expr) {
        let slot = match &func.kind {
            ExprKind::Path(names) if names.len() == 1 => self
                .lookup(&names[0])
                .and_then(|b| self.facts.bindings[b as usize].elem_of.clone()),
            ExprKind::Field { .. } => self.place_of(func).map(|(p, _)| p),
            ExprKind::MethodCall { .. } | ExprKind::Unary { .. } => self.slot_place(func),
            _ => None,
        };
        let Some(slot) = slot else { return };
        let root_ty = match slot.root {
            Root::Local(b) => self.elem_tys.get(&b).cloned(),
            _ => None,
        };
        self.facts.stored_calls.push(StoredCall {
            expr: e.id,
            span: e.span,
            closures: self.closures(),
            slot,
            root_ty,
        });
    }

    /// The closures among a call's arguments, by the callee's parameter position (`skip` is 1
    /// when `self` is the receiver, not `args[0]`).
    pub(super) fn closure_args(&self, callee: u32, args: &[Expr], skip: usize) -> Vec<(usize, u32)> {
        let skip = self.receiver_skip(callee, skip);
        args.iter()
            .enumerate()
            .filter_map(|(i, a)| match self.stored_value(a) {
                Some(Stored::Closure(c)) => Some((i + skip, c)),
                _ => None,
            })
            .collect()
    }
}
