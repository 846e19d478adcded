//! Places: what memory location an expression denotes (through references, derefs, cell
//! accessors, option unwrapping and aliases), and how it was reached.

use super::{Place, Root, Via, Walker};
use crate::model::ir::{Expr, ExprKind, UnOp};
use crate::model::types::{SemTy, Wrap};

impl Walker<'_> {
    /// The place an expression denotes, how it is reached, and its root expression.
    pub(super) fn place_root(&self, e: &Expr) -> Option<(Place, Via, u32)> {
        let (p, via) = self.place_of(e)?;
        Some((p, via, root_expr(e)?))
    }

    /// The place an expression denotes (through references, derefs, cell accessors, option
    /// unwrapping and aliases), and the strongest way it was reached.
    #[must_use]
    pub fn place_of(&self, e: &Expr) -> Option<(Place, Via)> {
        self.place_of_depth(e, 0)
    }

    pub(super) fn place_of_depth(&self, e: &Expr, depth: u32) -> Option<(Place, Via)> {
        if depth > 64 {
            return None;
        }
        let rec = |x: &Expr| self.place_of_depth(x, depth + 1);
        let strongest = |a: Via, b: Via| if b == Via::Direct { a } else { b };
        match &e.kind {
            ExprKind::Path(names) if names.len() == 1 => {
                if let Some(b) = self.lookup(&names[0]) {
                    let bind = &self.facts.bindings[b as usize];
                    if let Some((a, via)) = &bind.alias {
                        let via = if matches!(bind.ty, SemTy::Ptr { .. }) && *via == Via::Direct {
                            Via::RawPtr
                        } else {
                            *via
                        };
                        return Some((a.clone(), via));
                    }
                    if names[0] == "self" {
                        return Some((
                            Place {
                                root: Root::SelfParam,
                                fields: Vec::new(),
                            },
                            Via::Direct,
                        ));
                    }
                    return Some((
                        Place {
                            root: Root::Local(b),
                            fields: Vec::new(),
                        },
                        Via::Direct,
                    ));
                }
                let s = self.ix.static_by_path(self.file, names)?;
                Some((
                    Place {
                        root: Root::Static(s),
                        fields: Vec::new(),
                    },
                    Via::Direct,
                ))
            }
            ExprKind::Path(names) => {
                let s = self.ix.static_by_path(self.file, names)?;
                Some((
                    Place {
                        root: Root::Static(s),
                        fields: Vec::new(),
                    },
                    Via::Direct,
                ))
            }
            ExprKind::Field { base, name } => {
                let (mut p, via) = rec(base)?;
                p.fields.push(name.clone());
                Some((p, via))
            }
            ExprKind::Unary { op: UnOp::Deref, expr } => {
                let (p, via) = rec(expr)?;
                let through_ptr = matches!(self.ty_of(expr), SemTy::Ptr { .. });
                Some((
                    p,
                    if through_ptr && via == Via::Direct {
                        Via::RawPtr
                    } else {
                        via
                    },
                ))
            }
            ExprKind::Ref { expr, .. } | ExprKind::RawAddr { expr, .. } | ExprKind::Cast { expr, .. } => rec(expr),
            ExprKind::Unsafe(b) | ExprKind::Block(b) if b.stmts.len() == 1 => rec(b.tail()?),
            ExprKind::MethodCall { recv, method, args, .. } => {
                let rt = self.ty_of(recv);
                // `self.peers()`, a getter of the package that hands out one of its fields:
                // that field.
                // (Through a trait the package defines and implements once, too.)
                let callee = self.method_callee(recv, method);
                // `self.table()`, an accessor that hands out `&mut *self.table.get()` of an
                // `UnsafeCell` (or `&mut *self.table` of a raw pointer): that field, reached
                // through the cell (the pointer).
                if args.is_empty()
                    && let Some((fields, via)) = callee.and_then(|f| self.unsync_accessor(f))
                {
                    let (mut p, _) = rec(recv)?;
                    p.fields.extend(fields);
                    return Some((p, via));
                }
                if args.is_empty()
                    && let Some(fields) = callee.and_then(|f| self.getter_fields(f))
                {
                    let (mut p, v) = rec(recv)?;
                    p.fields.extend(fields);
                    return Some((p, v));
                }
                let via = match (method.as_str(), rt.autoderef()) {
                    (
                        "borrow_mut",
                        SemTy::Wrapper {
                            wrap: Wrap::RefCell, ..
                        },
                    ) => Via::RefCell,
                    (
                        "get" | "get_mut" | "raw_get",
                        SemTy::Wrapper {
                            wrap: Wrap::UnsafeCell, ..
                        },
                    ) => Via::UnsafeCell,
                    ("as_mut" | "as_ref", SemTy::Ptr { .. }) => Via::RawPtr,
                    (
                        "as_mut"
                        | "unwrap"
                        | "expect"
                        | "assume_init_mut"
                        | "get_or_insert_with"
                        | "get_or_insert_default"
                        | "as_deref_mut"
                        | "deref_mut"
                        | "as_mut_ptr"
                        | "as_ptr"
                        | "cast_mut"
                        | "unwrap_unchecked",
                        _,
                    ) => Via::Direct,
                    _ => return None,
                };
                let (p, v) = rec(recv)?;
                Some((p, strongest(v, via)))
            }
            ExprKind::Call { func, args } => {
                let ExprKind::Path(names) = &func.kind else { return None };
                let last = names.last()?.as_str();
                let first = args.first()?;
                match last {
                    "make_mut" => rec(first).map(|(p, _)| (p, Via::MakeMut)),
                    "as_mut" | "unwrap" | "from_mut" => rec(first),
                    _ => {
                        // `peers(&app)`, a free function of the package that hands out a field
                        // of its one parameter: that field.
                        let [arg] = args.as_slice() else { return None };
                        let callee = self.ix.fn_by_path(self.file, names, self.self_ty.as_ref())?;
                        let fields = self.getter_fields(callee)?;
                        let (mut p, v) = rec(arg)?;
                        p.fields.extend(fields);
                        Some((p, v))
                    }
                }
            }
            _ => None,
        }
    }
}

/// The root expression of a place expression (the path or `self` it starts from).
pub(super) fn root_expr(e: &Expr) -> Option<u32> {
    match &e.kind {
        ExprKind::Path(_) => Some(e.id),
        ExprKind::Field { base: x, .. }
        | ExprKind::Unary { expr: x, .. }
        | ExprKind::Ref { expr: x, .. }
        | ExprKind::RawAddr { expr: x, .. }
        | ExprKind::Cast { expr: x, .. }
        | ExprKind::MethodCall { recv: x, .. } => root_expr(x),
        ExprKind::Unsafe(b) | ExprKind::Block(b) => root_expr(b.tail()?),
        ExprKind::Call { args, .. } => root_expr(args.first()?),
        _ => None,
    }
}

impl Walker<'_> {
    /// The accessor an expression reaches its place through, if any: `self.table()` in
    /// `self.table().insert(..)`, where `table` is an accessor (see [`Walker::unsync_accessor`]).
    pub(super) fn accessor_of(&self, e: &Expr) -> Option<u32> {
        let mut e = e;
        loop {
            e = match &e.kind {
                ExprKind::MethodCall { recv, method, args, .. } => {
                    if args.is_empty()
                        && let Some(f) = self.method_callee(recv, method)
                        && self.unsync_accessor(f).is_some()
                    {
                        return Some(f);
                    }
                    recv
                }
                ExprKind::Field { base: x, .. }
                | ExprKind::Unary { expr: x, .. }
                | ExprKind::Ref { expr: x, .. }
                | ExprKind::Cast { expr: x, .. } => x,
                ExprKind::Unsafe(b) | ExprKind::Block(b) if b.stmts.len() == 1 => b.tail()?,
                _ => return None,
            };
        }
    }

    /// The function a method call resolves to: a method of the receiver's type in this
    /// package, or of a trait the package defines and implements once.
    fn method_callee(&self, recv: &Expr, method: &str) -> Option<u32> {
        match self.ty_of(recv).autoderef() {
            SemTy::Adt { id, .. } => self.ix.method(*id, method),
            SemTy::Dyn(traits) => self.ix.trait_method(traits, method).map(|(f, _)| f),
            _ => None,
        }
    }

    /// The field path an unsynchronized accessor hands out, and how: a method of `&self` with
    /// no other parameter whose body is `unsafe { &mut *self.a.get() }` over an `UnsafeCell`,
    /// or `unsafe { &mut *self.a }` over a `*mut` pointer (a mutable view of the content
    /// without a lock: every call is an unsynchronized access).
    pub(super) fn unsync_accessor(&self, f: u32) -> Option<(Vec<String>, Via)> {
        use crate::model::ir::SelfKind;
        let info = &self.ix.fns[f as usize];
        let def = &info.def;
        if !matches!(def.self_kind, Some(SelfKind::Ref)) || !def.params.is_empty() {
            return None;
        }
        let body = def.body.as_ref()?;
        let [_] = body.stmts.as_slice() else { return None };
        let mut e = body.tail()?;
        if let ExprKind::Unsafe(b) = &e.kind {
            let [_] = b.stmts.as_slice() else { return None };
            e = b.tail()?;
        }
        let ExprKind::Ref { mutable: true, expr } = &e.kind else {
            return None;
        };
        let ExprKind::Unary {
            op: UnOp::Deref,
            expr: inner,
        } = &expr.kind
        else {
            return None;
        };
        match &inner.kind {
            ExprKind::MethodCall { recv, method, args, .. } if method == "get" && args.is_empty() => {
                Some((fields_of(recv, "self")?, Via::UnsafeCell))
            }
            ExprKind::Field { .. } => {
                let fields = fields_of(inner, "self")?;
                // The field's declared type must be a `*mut` pointer.
                let impl_ty = info.impl_id.map(|i| self.ix.impls[i as usize].self_ty.clone())?;
                let ty = fields.iter().fold(impl_ty, |t, name| self.ix.field_ty(&t, name));
                matches!(ty, SemTy::Ptr { mutable: true, .. }).then_some((fields, Via::RawPtr))
            }
            _ => None,
        }
    }

    /// The field path a getter hands out: a method of `&self` (or `&mut self`) with no other
    /// parameter, or a free function of one reference parameter (`fn peers(app: &App)`), whose
    /// body is `&self.a.b`, `&mut self.a`, `self.a.as_ref()`, or, when it returns an
    /// `Arc`/`Rc`, `self.a.clone()` or `Arc::clone(&self.a)` (the same object), with the
    /// parameter for `self`. A getter that returns a copy of the data
    /// (`self.map.lock().clone()`, a cloned map, a collected iterator) hands out no field.
    fn getter_fields(&self, f: u32) -> Option<Vec<String>> {
        use crate::model::ir::{Pat, SelfKind, Ty};
        let def = &self.ix.fns[f as usize].def;
        let root = match (def.self_kind, def.params.as_slice()) {
            (Some(SelfKind::Ref | SelfKind::RefMut), []) => "self",
            (
                None,
                [
                    crate::model::ir::Param {
                        pat: Pat::Ident { name, sub: None, .. },
                        ty: Ty::Ref { .. },
                    },
                ],
            ) => name.as_str(),
            _ => return None,
        };
        let body = def.body.as_ref()?;
        let [_] = body.stmts.as_slice() else { return None };
        let shared = || {
            let ret = def.ret.as_ref().map(|t| {
                let impl_ty = self.ix.fns[f as usize]
                    .impl_id
                    .map(|i| self.ix.impls[i as usize].self_ty.clone());
                self.ix
                    .resolve_ty(t, self.ix.fns[f as usize].file, &[], impl_ty.as_ref())
            });
            matches!(
                ret,
                Some(SemTy::Wrapper {
                    wrap: Wrap::Arc | Wrap::Rc,
                    ..
                })
            )
        };
        let mut e = body.tail()?;
        loop {
            e = match &e.kind {
                ExprKind::Ref { expr, .. } => expr,
                ExprKind::MethodCall { recv, method, args, .. } if args.is_empty() && method == "as_ref" => recv,
                ExprKind::MethodCall { recv, method, args, .. } if args.is_empty() && method == "clone" && shared() => {
                    recv
                }
                ExprKind::Call { func, args } if args.len() == 1 && shared() => match &func.kind {
                    ExprKind::Path(p)
                        if p.len() >= 2
                            && p[p.len() - 1] == "clone"
                            && matches!(p[p.len() - 2].as_str(), "Arc" | "Rc") =>
                    {
                        &args[0]
                    }
                    _ => return None,
                },
                _ => break,
            };
        }
        fields_of(e, root)
    }
}

/// The field path of `root.a.b` (`["a", "b"]`; at least one field).
fn fields_of(mut e: &Expr, root: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    while let ExprKind::Field { base, name } = &e.kind {
        fields.push(name.clone());
        e = base;
    }
    match &e.kind {
        ExprKind::Path(p) if p.len() == 1 && p[0] == root && !fields.is_empty() => {
            fields.reverse();
            Some(fields)
        }
        _ => None,
    }
}
