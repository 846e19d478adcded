//! Types of expressions, as far as the model can tell without a type checker.

use super::Walker;
use crate::model::ir::{Expr, ExprKind, UnOp};
use crate::model::types::{SemTy, Wrap};

impl Walker<'_> {
    /// The type of an expression, as far as the model can tell.
    #[must_use]
    pub fn ty_of(&self, e: &Expr) -> SemTy {
        self.ty_of_depth(e, 0)
    }

    pub(super) fn ty_of_depth(&self, e: &Expr, depth: u32) -> SemTy {
        if depth > 64 {
            return SemTy::Unknown;
        }
        let rec = |x: &Expr| self.ty_of_depth(x, depth + 1);
        match &e.kind {
            ExprKind::Path(names) => {
                if names.len() == 1
                    && let Some(b) = self.lookup(&names[0])
                {
                    return self.facts.bindings[b as usize].ty.clone();
                }
                if let Some(s) = self.ix.static_by_path(self.file, names) {
                    return self.ix.statics[s as usize].ty.clone();
                }
                if let Some(f) = self.ix.fn_by_path(self.file, names, self.self_ty.as_ref()) {
                    return SemTy::FnItem(f);
                }
                // A unit struct value (`let w = Worker;`).
                match self.ix.resolve_type_path(self.file, names, Vec::new(), 0) {
                    t @ SemTy::Adt { .. } => t,
                    _ => SemTy::Unknown,
                }
            }
            ExprKind::Field { base, name } => self.ix.field_ty(&rec(base), name),
            ExprKind::MethodCall { recv, method, .. } => {
                let rt = rec(recv);
                let inner = rt.autoderef().clone();
                match (method.as_str(), &inner) {
                    ("clone" | "to_owned", _) => match rt {
                        SemTy::Ref { inner, .. } => *inner,
                        t => t,
                    },
                    (m, SemTy::BundledMap(_)) if crate::catalog::BUNDLED_BUILDERS.contains(&m) => inner,
                    (
                        "borrow_mut",
                        SemTy::Wrapper {
                            wrap: Wrap::RefCell,
                            inner,
                        },
                    ) => SemTy::Ref {
                        mutable: true,
                        inner: inner.clone(),
                    },
                    (
                        "borrow",
                        SemTy::Wrapper {
                            wrap: Wrap::RefCell,
                            inner,
                        },
                    ) => SemTy::Ref {
                        mutable: false,
                        inner: inner.clone(),
                    },
                    (
                        "get" | "raw_get",
                        SemTy::Wrapper {
                            wrap: Wrap::UnsafeCell,
                            inner,
                        },
                    ) => SemTy::Ptr {
                        mutable: true,
                        inner: inner.clone(),
                    },
                    (
                        "get_mut",
                        SemTy::Wrapper {
                            wrap: Wrap::UnsafeCell | Wrap::RefCell | Wrap::Cell,
                            inner,
                        },
                    ) => SemTy::Ref {
                        mutable: true,
                        inner: inner.clone(),
                    },
                    (
                        "as_mut",
                        SemTy::Wrapper {
                            wrap: Wrap::Option,
                            inner,
                        },
                    ) => SemTy::wrap(
                        Wrap::Option,
                        SemTy::Ref {
                            mutable: true,
                            inner: inner.clone(),
                        },
                    ),
                    ("as_mut", SemTy::Ptr { inner, .. }) => SemTy::wrap(
                        Wrap::Option,
                        SemTy::Ref {
                            mutable: true,
                            inner: inner.clone(),
                        },
                    ),
                    (
                        "unwrap" | "expect" | "unwrap_unchecked",
                        SemTy::Wrapper {
                            wrap: Wrap::Option,
                            inner,
                        },
                    ) => (**inner).clone(),
                    (
                        "get_or_insert_with" | "get_or_insert_default",
                        SemTy::Wrapper {
                            wrap: Wrap::Option,
                            inner,
                        },
                    ) => SemTy::Ref {
                        mutable: true,
                        inner: inner.clone(),
                    },
                    (
                        "assume_init_mut",
                        SemTy::Wrapper {
                            wrap: Wrap::MaybeUninit,
                            inner,
                        },
                    ) => SemTy::Ref {
                        mutable: true,
                        inner: inner.clone(),
                    },
                    (
                        "as_mut_ptr",
                        SemTy::Wrapper {
                            wrap: Wrap::MaybeUninit,
                            inner,
                        },
                    ) => SemTy::Ptr {
                        mutable: true,
                        inner: inner.clone(),
                    },
                    (
                        "get_or_init" | "force",
                        SemTy::Wrapper {
                            wrap: Wrap::OnceLock | Wrap::Lazy,
                            inner,
                        },
                    ) => SemTy::Ref {
                        mutable: false,
                        inner: inner.clone(),
                    },
                    (_, SemTy::Adt { id, .. }) => self
                        .ix
                        .method(*id, method)
                        .map_or(SemTy::Unknown, |f| self.ix.fn_ret_ty(f)),
                    (_, SemTy::Dyn(traits)) => self
                        .ix
                        .trait_method(traits, method)
                        .map_or(SemTy::Unknown, |(f, _)| self.ix.fn_ret_ty(f)),
                    _ => SemTy::Unknown,
                }
            }
            ExprKind::Call { func, args } => self.call_ty(func, args, depth),
            ExprKind::Ref { mutable, expr } => SemTy::Ref {
                mutable: *mutable,
                inner: Box::new(rec(expr)),
            },
            ExprKind::RawAddr { mutable, expr } => SemTy::Ptr {
                mutable: *mutable,
                inner: Box::new(rec(expr)),
            },
            ExprKind::Unary { op: UnOp::Deref, expr } => match rec(expr) {
                SemTy::Ref { inner, .. }
                | SemTy::Ptr { inner, .. }
                | SemTy::Wrapper {
                    wrap: Wrap::Box | Wrap::Arc | Wrap::Rc | Wrap::Lazy,
                    inner,
                } => *inner,
                _ => SemTy::Unknown,
            },
            ExprKind::Cast { expr, ty } => match self.ix.resolve_ty(ty, self.file, &[], self.self_ty.as_ref()) {
                SemTy::Ptr { mutable, inner } if *inner == SemTy::Unknown => match rec(expr) {
                    SemTy::Ref { inner, .. } | SemTy::Ptr { inner, .. } => SemTy::Ptr { mutable, inner },
                    _ => SemTy::Ptr { mutable, inner },
                },
                t => t,
            },
            ExprKind::Unsafe(b) | ExprKind::Block(b) => b.tail().map_or(SemTy::Unknown, rec),
            ExprKind::Struct { path, .. } => self.ix.resolve_type_path(self.file, path, Vec::new(), 0),
            ExprKind::Closure(_) => SemTy::Closure(e.id),
            ExprKind::Macro { path, .. } if path.last().is_some_and(|p| p == "vec") => {
                SemTy::Vec(Box::new(SemTy::Unknown))
            }
            _ => SemTy::Unknown,
        }
    }

    pub(super) fn call_ty(&self, func: &Expr, args: &[Expr], depth: u32) -> SemTy {
        let ExprKind::Path(names) = &func.kind else {
            return SemTy::Unknown;
        };
        let arg_ty = |i: usize| args.get(i).map(|a| self.ty_of_depth(a, depth + 1)).unwrap_or_default();
        if names.len() == 1 && names[0] == "Some" {
            return SemTy::wrap(Wrap::Option, arg_ty(0));
        }
        if let Some(f) = self.ix.fn_by_path(self.file, names, self.self_ty.as_ref()) {
            return self.ix.fn_ret_ty(f);
        }
        // A tuple struct constructor (`SendPtr(p)`).
        if let t @ SemTy::Adt { .. } = self.ix.resolve_type_path(self.file, names, Vec::new(), 0) {
            return t;
        }
        if names.len() < 2 {
            return SemTy::Unknown;
        }
        let (owner, ctor) = names.split_at(names.len() - 1);
        let ctor = ctor[0].as_str();
        let owner_ty = if owner.len() == 1 && owner[0] == "Self" {
            self.self_ty.clone().unwrap_or_default()
        } else {
            self.ix.resolve_type_path(self.file, owner, Vec::new(), 0)
        };
        match (ctor, owner_ty) {
            (
                "clone",
                SemTy::Wrapper {
                    wrap: Wrap::Arc | Wrap::Rc,
                    ..
                },
            ) => match arg_ty(0) {
                SemTy::Ref { inner, .. } => *inner,
                t => t,
            },
            (
                "make_mut" | "get_mut",
                SemTy::Wrapper {
                    wrap: Wrap::Arc | Wrap::Rc,
                    ..
                },
            ) => match arg_ty(0) {
                SemTy::Ref { inner, .. } => match *inner {
                    SemTy::Wrapper { inner, .. } => SemTy::Ref { mutable: true, inner },
                    _ => SemTy::Unknown,
                },
                _ => SemTy::Unknown,
            },
            ("new" | "from", SemTy::Wrapper { wrap, .. }) if wrap != Wrap::Lazy && wrap != Wrap::OnceLock => {
                SemTy::wrap(wrap, arg_ty(0))
            }
            ("new" | "from", SemTy::Lock { kind, lib, .. }) => SemTy::Lock {
                kind,
                lib,
                inner: Box::new(arg_ty(0)),
            },
            (_, t @ (SemTy::Map(_) | SemTy::ConcurrentMap { .. } | SemTy::BundledMap(_))) => t,
            // `#[derive(Default)]` and other constructors the model cannot see the body of.
            ("default", t @ SemTy::Adt { .. }) => t,
            (_, SemTy::Wrapper { wrap, .. }) if matches!(ctor, "default" | "new") => SemTy::wrap(wrap, SemTy::Unknown),
            (_, t @ SemTy::Lock { .. }) if ctor == "default" => t,
            (_, SemTy::Vec(_)) => SemTy::Vec(Box::new(SemTy::Unknown)),
            _ => SemTy::Unknown,
        }
    }
}
