//! The lowered syntax the model and the rules read: owned, `Send`, with byte spans.
//!
//! syn's trees hold thread-bound spans and cover far more syntax than the rules need. Each file is
//! parsed once, lowered here on the parsing thread, and the syn tree is dropped. Expressions keep
//! an id (unique within the file) so analyses can attach facts to them in side tables.

use serde::{Deserialize, Serialize};

use crate::diagnostic::Span;

pub type ExprId = u32;

/// A type as written, before resolution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Ty {
    Path(TyPath),
    Ref {
        mutable: bool,
        inner: Box<Ty>,
    },
    Ptr {
        mutable: bool,
        inner: Box<Ty>,
    },
    Tuple(Vec<Ty>),
    Array(Box<Ty>),
    Slice(Box<Ty>),
    /// `impl Trait` / `dyn Trait`: the bounds.
    Bounds(Vec<TyPath>),
    Infer,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TyPath {
    /// `true` for a leading `::` or `crate`/`self`/`super` prefixes removed to a crate-local path.
    pub segments: Vec<TySeg>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TySeg {
    pub name: String,
    pub args: Vec<Ty>,
}

/// A type as a message shows it: each path by its last segment (`Mutex<HashMap<u64, Conn>>`).
impl std::fmt::Display for Ty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |f: &mut std::fmt::Formatter<'_>, ts: &[Ty]| -> std::fmt::Result {
            for (i, t) in ts.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{t}")?;
            }
            Ok(())
        };
        match self {
            Ty::Path(p) => match p.last() {
                Some(seg) if seg.args.is_empty() => f.write_str(&seg.name),
                Some(seg) => {
                    write!(f, "{}<", seg.name)?;
                    list(f, &seg.args)?;
                    f.write_str(">")
                }
                None => f.write_str(".."),
            },
            Ty::Ref { mutable, inner } => write!(f, "&{}{inner}", if *mutable { "mut " } else { "" }),
            Ty::Ptr { mutable, inner } => write!(f, "*{} {inner}", if *mutable { "mut" } else { "const" }),
            Ty::Tuple(ts) => {
                f.write_str("(")?;
                list(f, ts)?;
                f.write_str(")")
            }
            Ty::Array(t) => write!(f, "[{t}; _]"),
            Ty::Slice(t) => write!(f, "[{t}]"),
            Ty::Bounds(bs) => {
                f.write_str("impl ")?;
                let names: Vec<&str> = bs.iter().filter_map(|b| b.last()).map(|s| s.name.as_str()).collect();
                f.write_str(&names.join(" + "))
            }
            Ty::Infer => f.write_str("_"),
            Ty::Other => f.write_str(".."),
        }
    }
}

impl TyPath {
    #[must_use]
    pub fn last(&self) -> Option<&TySeg> {
        self.segments.last()
    }

    #[must_use]
    pub fn names(&self) -> Vec<&str> {
        self.segments.iter().map(|s| s.name.as_str()).collect()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Generics {
    /// Type parameters with their trait bounds (inline and `where` clauses).
    pub params: Vec<(String, Vec<TyPath>)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Field {
    /// Field name, or its index for tuple structs.
    pub name: String,
    pub ty: Ty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SelfKind {
    Value,
    Ref,
    RefMut,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Param {
    pub pat: Pat,
    pub ty: Ty,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FnDef {
    pub name: String,
    pub span: Span,
    pub name_span: Span,
    pub generics: Generics,
    pub self_kind: Option<SelfKind>,
    pub params: Vec<Param>,
    pub ret: Option<Ty>,
    pub body: Option<Block>,
    pub is_async: bool,
    pub is_unsafe: bool,
    /// The body declares items (at any depth: in a block, a closure, an item of its own), which
    /// the model collects from it (`model::items`); most bodies declare none and are not walked
    /// for them.
    pub declares_items: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StaticKind {
    Plain,
    Mut,
    /// Declared in `lazy_static!`.
    LazyStatic,
    /// Declared in `thread_local!`: one value per thread.
    ThreadLocal,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UseEntry {
    /// The full path being imported (`std::collections::HashMap`).
    pub path: Vec<String>,
    /// The local name (`Map` for `use ... as Map`); `*` for a glob import.
    pub alias: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ItemKind {
    Use(Vec<UseEntry>),
    Struct {
        name: String,
        generics: Generics,
        fields: Vec<Field>,
    },
    Enum {
        name: String,
        generics: Generics,
        variants: Vec<(String, Vec<Field>)>,
    },
    TypeAlias {
        name: String,
        generics: Generics,
        ty: Ty,
    },
    /// A static. Its initializer is not lowered: the model reads a static's type only (lex-first
    /// planning leaves initializers out of parsing, see `lex::Omit`).
    Static {
        name: String,
        kind: StaticKind,
        ty: Ty,
    },
    /// A constant: the model reads none (lex-first planning leaves constants out of parsing).
    Const {
        name: String,
        ty: Ty,
        /// The items of `const _: () = { .. };`, a block of items of its own (the value of any
        /// other constant is not read).
        items: Vec<Item>,
    },
    Fn(FnDef),
    Impl {
        generics: Generics,
        self_ty: Ty,
        trait_path: Option<TyPath>,
        is_unsafe: bool,
        fns: Vec<FnDef>,
    },
    Trait {
        name: String,
        fns: Vec<FnDef>,
    },
    /// An inline module, or `mod name;` (no items) whose file is found by path.
    Mod {
        name: String,
        items: Option<Vec<Item>>,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Item {
    pub kind: ItemKind,
    pub span: Span,
    /// Span of the item's name (or of the `unsafe impl` header).
    pub name_span: Span,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

impl Block {
    /// The block's value expression (last statement without a semicolon), if any.
    #[must_use]
    pub fn tail(&self) -> Option<&Expr> {
        match self.stmts.last() {
            Some(Stmt::Expr { expr, semi: false }) => Some(expr),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Stmt {
    Let {
        pat: Pat,
        ty: Option<Ty>,
        init: Option<Expr>,
        els: Option<Block>,
        span: Span,
    },
    Expr {
        expr: Expr,
        semi: bool,
    },
    Item(Box<Item>),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Pat {
    Ident {
        name: String,
        by_ref: bool,
        mutable: bool,
        span: Span,
        sub: Option<Box<Pat>>,
    },
    /// A tuple-struct pattern (`Some(x)`, `Ok(v)`): the last path segment and sub-patterns.
    Variant {
        name: String,
        elems: Vec<Pat>,
    },
    /// A tuple pattern `(a, b)`: its elements in order.
    Tuple(Vec<Pat>),
    /// A struct pattern `S { g, n: m, .. }` (or a tuple struct written with braces): each
    /// field's name and pattern.
    Struct(Vec<(String, Pat)>),
    /// Slice and or-patterns: the sub-patterns.
    Compound(Vec<Pat>),
    Ref(Box<Pat>),
    /// A path pattern (`Entry::Vacant`, `TryResult::Absent`, a constant): its last segment.
    /// `None` is lowered as an identifier pattern, as syn reads it.
    Path(String),
    /// A literal or range pattern: binds nothing.
    Other,
    Wild,
}

impl Pat {
    /// All names bound by the pattern with their spans, in order.
    pub fn bindings<'a>(&'a self, out: &mut Vec<(&'a str, Span, bool)>) {
        match self {
            Pat::Ident {
                name,
                span,
                sub,
                by_ref,
                ..
            } => {
                out.push((name, *span, *by_ref));
                if let Some(s) = sub {
                    s.bindings(out);
                }
            }
            Pat::Compound(ps) | Pat::Tuple(ps) | Pat::Variant { elems: ps, .. } => {
                for p in ps {
                    p.bindings(out);
                }
            }
            Pat::Struct(fs) => fs.iter().for_each(|(_, p)| p.bindings(out)),
            Pat::Ref(p) => p.bindings(out),
            Pat::Path(_) | Pat::Other | Pat::Wild => {}
        }
    }

    /// The single name a pattern binds directly (`x`, `mut x`), if it is that simple.
    #[must_use]
    pub fn simple_name(&self) -> Option<&str> {
        match self {
            Pat::Ident { name, sub: None, .. } => Some(name),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Arm {
    pub pat: Pat,
    pub guard: Option<Expr>,
    pub body: Expr,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Closure {
    pub is_move: bool,
    pub is_async: bool,
    pub params: Vec<Pat>,
    pub body: Expr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BinKind {
    And,
    Or,
    /// Every other binary operator.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnOp {
    Deref,
    Not,
    Neg,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum MacroArgs {
    /// A well-known macro whose arguments were parsed.
    Parsed(Vec<Expr>),
    /// `select!`: the futures (and branch preconditions), awaited first, then the branch
    /// handlers, one of which runs.
    Select { futures: Vec<Expr>, handlers: Vec<Expr> },
    /// An unknown macro: only the identifiers its tokens mention (so analyses can stay silent
    /// about bindings they cannot see used).
    Opaque(Vec<String>),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Expr {
    pub id: ExprId,
    pub span: Span,
    pub kind: ExprKind,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ExprKind {
    Path(Vec<String>),
    /// A literal; `Some` for `true`/`false` (a flag a callee's locks may depend on).
    Lit(Option<bool>),
    Field {
        base: Box<Expr>,
        name: String,
    },
    MethodCall {
        recv: Box<Expr>,
        method: String,
        method_span: Span,
        turbofish: Vec<Ty>,
        args: Vec<Expr>,
    },
    Call {
        func: Box<Expr>,
        args: Vec<Expr>,
    },
    Closure(Box<Closure>),
    Block(Block),
    Unsafe(Block),
    Async {
        is_move: bool,
        body: Block,
    },
    If {
        cond: Box<Expr>,
        then: Block,
        els: Option<Box<Expr>>,
    },
    /// `let PAT = EXPR` inside an `if`/`while` condition.
    Let {
        pat: Pat,
        expr: Box<Expr>,
    },
    Match {
        scrut: Box<Expr>,
        arms: Vec<Arm>,
    },
    While {
        cond: Box<Expr>,
        body: Block,
    },
    Loop(Block),
    For {
        pat: Pat,
        iter: Box<Expr>,
        body: Block,
    },
    Assign {
        lhs: Box<Expr>,
        rhs: Box<Expr>,
        compound: bool,
    },
    Binary {
        lhs: Box<Expr>,
        rhs: Box<Expr>,
        /// `&&` and `||` evaluate lazily, and each operand is a temporary scope of its own.
        op: BinKind,
    },
    Unary {
        op: UnOp,
        expr: Box<Expr>,
    },
    Ref {
        mutable: bool,
        expr: Box<Expr>,
    },
    RawAddr {
        mutable: bool,
        expr: Box<Expr>,
    },
    Await(Box<Expr>),
    Try(Box<Expr>),
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
    },
    Cast {
        expr: Box<Expr>,
        ty: Ty,
    },
    Return(Option<Box<Expr>>),
    Break(Option<Box<Expr>>),
    Continue,
    Macro {
        path: Vec<String>,
        args: MacroArgs,
    },
    Struct {
        path: Vec<String>,
        fields: Vec<(String, Expr)>,
        rest: Option<Box<Expr>>,
    },
    /// A tuple expression `(a, b)`.
    Tuple(Vec<Expr>),
    /// Arrays, ranges, anything else: the sub-expressions only.
    Other(Vec<Expr>),
}

/// A lowered file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FileIr {
    pub items: Vec<Item>,
    /// Number of expression ids used.
    pub expr_count: u32,
    /// Expressions nested deeper than the lowering bound were replaced by opaque nodes.
    pub truncated: bool,
    /// Item macros whose input holds item keywords but does not parse as items: read, not
    /// analyzed (the coverage report says so).
    pub unread_macros: Vec<Span>,
    /// `macro_rules!` transcribers that name items but do not parse as items once their
    /// metavariables are replaced.
    pub unread_macro_rules: Vec<Span>,
}
