//! Function bodies read straight into the IR, without syn (issue 16: syn parsing the kept
//! bodies and lowering its trees were half of maplint's time).
//!
//! Before syn parses a file, [`pre_parse`] finds each function body of the text it will be
//! given (outside macro inputs) and reads it with a parser of its own over the lexer's tokens,
//! building the same [`ir`](crate::model::ir) that lowering syn's tree builds: the same nodes,
//! spans and expression ids. A body it reads is blanked (its braces stay, so syn sees `{ }` at
//! the same place) and [`Lowerer::fn_def`](super::Lowerer) takes the ready block instead.
//!
//! It reads only what it knows exactly as syn reads it. Anything else (an item or an
//! attribute in the body, a qualified path, an unusual token or literal, nesting deeper than
//! [`MAX_NEST`]...) leaves the whole body to syn, as before: never a different IR. Debug
//! builds check that on every file they parse (see `parse_and_lower_blanked`), and
//! `examples/body_diff.rs` over the corpora.

use std::collections::HashMap;

use rustc_lexer::{LiteralKind, TokenKind as K};

use super::{Lowerer, Offsets, format_string_captures};
use crate::catalog::{is_expr_list_macro, is_format_macro};
use crate::diagnostic::Span;
use crate::model::ir::{
    Arm, BinKind, Block, Closure, Expr, ExprKind, Item, ItemKind, MacroArgs, Pat, Stmt, Ty, TyPath, TySeg, UnOp,
};

/// Nesting (expressions, patterns, types, token groups) past which a body is left to syn,
/// well below lowering's own bound so that its truncation stays syn's.
const MAX_NEST: u32 = 96;

/// A body read: its block, with expression ids from 0, and how many ids it used.
pub(super) struct Ready {
    pub block: Block,
    pub ids: u32,
    /// The items declared in it, nested ones too (lowering's `body_items`).
    pub items: u32,
    /// What lowering the items in it found (see [`FileIr`](crate::model::ir::FileIr)).
    pub truncated: bool,
    pub unread_macros: Vec<Span>,
    pub unread_macro_rules: Vec<Span>,
}

/// One token of a body: its kind and where it lies in the text.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tk {
    Ident,
    /// `r#name`.
    Raw,
    Life,
    Lit(Lk),
    /// One punctuation character.
    P(u8),
    Open(u8),
    Close,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Lk {
    /// An unsuffixed decimal integer (a tuple index).
    Index,
    Str,
    Other,
}

#[derive(Clone, Copy, Debug)]
struct T {
    k: Tk,
    lo: u32,
    hi: u32,
}

/// Whether the text of a literal is one proc-macro2 reads as we do (its escapes are plain).
fn plain_escapes(s: &[u8]) -> bool {
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'\\' => {
                match s.get(i + 1) {
                    Some(b'n' | b'r' | b't' | b'\\' | b'0' | b'\'' | b'"') => i += 2,
                    Some(b'x') if s.get(i + 2).is_some_and(|c| matches!(c, b'0'..=b'7')) => {
                        if !s.get(i + 3).is_some_and(u8::is_ascii_hexdigit) {
                            return false;
                        }
                        i += 4;
                    }
                    _ => return false,
                }
                continue;
            }
            b'\r' => return false,
            _ => {}
        }
        i += 1;
    }
    true
}

/// The tokens of a function body (with its braces), from [`scan`]'s, or `None` when one is
/// not plain: a doc comment, a non-ASCII or unusual token, a literal with an escape or a
/// suffix proc-macro2 might read otherwise.
fn tokens(text: &str, toks: &[crate::tokens::Tok]) -> Option<(Vec<T>, Vec<u32>)> {
    let mut out: Vec<T> = Vec::with_capacity(toks.len());
    let mut mate: Vec<u32> = Vec::with_capacity(toks.len());
    let mut stack: Vec<usize> = Vec::new();
    for tok in toks {
        let (a, b) = (tok.start as usize, (tok.start + tok.len) as usize);
        let s = &text.as_bytes()[a..b];
        let k = match tok.kind {
            K::Whitespace | K::LineComment { doc_style: None } => continue,
            K::BlockComment {
                doc_style: None,
                terminated: true,
            } => continue,
            K::Ident if s.is_ascii() => Tk::Ident,
            K::RawIdent if s.is_ascii() => Tk::Raw,
            K::Lifetime {
                starts_with_number: false,
            } if s.is_ascii() => Tk::Life,
            K::Literal { kind, suffix_start } => {
                let suffix = &s[suffix_start as usize..];
                let body = &s[..suffix_start as usize];
                match kind {
                    LiteralKind::Int { empty_int: false, .. } => {
                        if suffix.is_empty() && body.iter().all(u8::is_ascii_digit) && (body == b"0" || body[0] != b'0')
                        {
                            Tk::Lit(Lk::Index)
                        } else {
                            Tk::Lit(Lk::Other)
                        }
                    }
                    LiteralKind::Float {
                        empty_exponent: false, ..
                    } => Tk::Lit(Lk::Other),
                    LiteralKind::Str { terminated: true } if suffix.is_empty() && plain_escapes(body) => {
                        Tk::Lit(Lk::Str)
                    }
                    LiteralKind::RawStr { n_hashes: Some(_) } if suffix.is_empty() && !body.contains(&b'\r') => {
                        Tk::Lit(Lk::Str)
                    }
                    LiteralKind::Char { terminated: true } | LiteralKind::Byte { terminated: true }
                        if suffix.is_empty() && plain_escapes(&body[1..]) =>
                    {
                        Tk::Lit(Lk::Other)
                    }
                    LiteralKind::ByteStr { terminated: true } if suffix.is_empty() && plain_escapes(body) => {
                        Tk::Lit(Lk::Other)
                    }
                    _ => return None,
                }
            }
            K::OpenParen => Tk::Open(b'('),
            K::OpenBracket => Tk::Open(b'['),
            K::OpenBrace => Tk::Open(b'{'),
            K::CloseParen | K::CloseBracket | K::CloseBrace => Tk::Close,
            K::Semi
            | K::Comma
            | K::Dot
            | K::At
            | K::Pound
            | K::Tilde
            | K::Question
            | K::Colon
            | K::Dollar
            | K::Eq
            | K::Bang
            | K::Lt
            | K::Gt
            | K::Minus
            | K::And
            | K::Or
            | K::Plus
            | K::Star
            | K::Slash
            | K::Caret
            | K::Percent => Tk::P(s[0]),
            _ => return None,
        };
        let at = out.len();
        match k {
            Tk::Open(_) => {
                stack.push(at);
                if stack.len() > MAX_NEST as usize {
                    return None;
                }
                mate.push(u32::MAX);
            }
            Tk::Close => {
                let open = stack.pop()?;
                let want = match out[open].k {
                    Tk::Open(b'(') => b')',
                    Tk::Open(b'[') => b']',
                    _ => b'}',
                };
                if s[0] != want {
                    return None;
                }
                mate[open] = at as u32;
                mate.push(open as u32);
            }
            _ => mate.push(u32::MAX),
        }
        out.push(T {
            k,
            lo: a as u32,
            hi: b as u32,
        });
    }
    if !stack.is_empty() {
        return None;
    }
    Some((out, mate))
}

/// The function bodies [`pre_parse`] tries (see [`scan`]): the byte of each one's `{` and of
/// its `}`.
pub(super) fn found(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    scan(text, |toks| {
        if let (Some(o), Some(c)) = (toks.first(), toks.last()) {
            out.push((o.start as usize, c.start as usize));
        }
    });
    out
}

/// Where [`scan`] is.
#[derive(Clone, Copy)]
enum At {
    Items,
    /// After `!` (and after its name, for `macro_rules! name`): a macro's input may follow.
    Bang(bool),
    /// After `#` (and after its `!`): an attribute may follow.
    Pound(bool),
    /// In a group skipped (a macro's input, an attribute), this deep.
    Skip(u32),
    /// After `fn`: its name.
    Fn,
    /// In a signature: how deep in groups, and in `<..>`.
    Sig(u32, i32),
    /// In a body, this deep.
    Body(u32),
}

/// Walks the tokens of `text` once (but whitespace and plain comments) and hands `body` the
/// tokens of each function body, braces included, outside macro inputs and attributes (a
/// function nested in a body is part of it).
fn scan(text: &str, mut body: impl FnMut(&[crate::tokens::Tok])) {
    let is_open = |k: K| matches!(k, K::OpenParen | K::OpenBracket | K::OpenBrace);
    let is_close = |k: K| matches!(k, K::CloseParen | K::CloseBracket | K::CloseBrace);
    let mut at = At::Items;
    let mut buf: Vec<crate::tokens::Tok> = Vec::new();
    // The previous token's kind and end (for `->`).
    let mut prev = (K::Semi, 0u32);
    for tok in crate::tokens::Tokens::new(text) {
        let k = tok.kind;
        if matches!(
            k,
            K::Whitespace | K::LineComment { doc_style: None } | K::BlockComment { doc_style: None, .. }
        ) {
            continue;
        }
        let arrow = k == K::Gt && prev.0 == K::Minus && prev.1 == tok.start;
        prev = (k, tok.start + tok.len);
        // (A token that ends a lookahead is read again as at item level.)
        let mut again = true;
        while again {
            again = false;
            at = match at {
                At::Skip(d) if is_open(k) => At::Skip(d + 1),
                At::Skip(1) if is_close(k) => At::Items,
                At::Skip(d) if is_close(k) => At::Skip(d - 1),
                At::Skip(d) => At::Skip(d),
                At::Body(d) => {
                    buf.push(tok);
                    if is_open(k) {
                        At::Body(d + 1)
                    } else if is_close(k) && d == 1 {
                        body(&buf);
                        buf.clear();
                        At::Items
                    } else if is_close(k) {
                        At::Body(d - 1)
                    } else {
                        At::Body(d)
                    }
                }
                At::Sig(n, angle) if n > 0 => {
                    if is_open(k) {
                        At::Sig(n + 1, angle)
                    } else if is_close(k) {
                        At::Sig(n - 1, angle)
                    } else {
                        At::Sig(n, angle)
                    }
                }
                At::Sig(_, angle) => match k {
                    K::Lt => At::Sig(0, angle + 1),
                    K::Gt if !arrow => At::Sig(0, angle - 1),
                    K::Semi if angle == 0 => At::Items,
                    K::OpenBrace if angle == 0 => {
                        buf.push(tok);
                        At::Body(1)
                    }
                    _ if is_open(k) => At::Sig(1, angle),
                    _ => At::Sig(0, angle),
                },
                At::Fn if matches!(k, K::Ident | K::RawIdent) => At::Sig(0, 0),
                At::Bang(false) if matches!(k, K::Ident | K::RawIdent) => At::Bang(true),
                At::Pound(false) if k == K::Bang => At::Pound(true),
                At::Bang(_) | At::Pound(_) if is_open(k) => At::Skip(1),
                At::Fn | At::Bang(_) | At::Pound(_) => {
                    again = true;
                    At::Items
                }
                At::Items => match k {
                    K::Bang => At::Bang(false),
                    K::Pound => At::Pound(false),
                    K::Ident if &text[tok.start as usize..(tok.start + tok.len) as usize] == "fn" => At::Fn,
                    _ => At::Items,
                },
            };
        }
    }
}

/// Reads the function bodies it can of the text syn will parse (`text[base..]`, after a
/// byte-order mark or shebang), blanks them there (their braces stay) and returns them by the
/// byte of their `{` in the file.
pub(super) fn pre_parse(file: u32, base: usize, text: &mut String) -> HashMap<u32, Ready> {
    let mut ready = HashMap::new();
    let mut done = Vec::new();
    {
        let content = &text[base..];
        let ascii = content.is_ascii();
        scan(content, |toks| {
            let Some((t, mate)) = tokens(content, toks) else {
                return;
            };
            let (open, close) = (toks[0].start as usize, toks[toks.len() - 1].start as usize);
            let end = t.len();
            let mut p = P {
                text: content,
                t,
                mate,
                i: 0,
                end,
                file,
                base: base as u32,
                ids: 0,
                depth: 0,
                ascii,
                items: 0,
                truncated: false,
                unread_macros: Vec::new(),
                unread_macro_rules: Vec::new(),
            };
            let Some(block) = p.fn_body() else {
                return;
            };
            if p.i != end {
                return;
            }
            done.push((open, close));
            ready.insert(
                (base + open) as u32,
                Ready {
                    block,
                    ids: p.ids,
                    items: p.items,
                    truncated: p.truncated,
                    unread_macros: p.unread_macros,
                    unread_macro_rules: p.unread_macro_rules,
                },
            );
        });
    }
    if done.is_empty() {
        return ready;
    }
    // (Every byte but line breaks becomes a space: still UTF-8, every offset unchanged.)
    let mut bytes = std::mem::take(text).into_bytes();
    for (open, close) in done {
        for b in &mut bytes[base + open + 1..base + close] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    }
    *text = String::from_utf8(bytes).expect("whole characters became spaces");
    ready
}

/// Shifts every expression id of a block read by [`pre_parse`] by `by`.
pub(super) fn renumber(b: &mut Block, by: u32) {
    for s in &mut b.stmts {
        match s {
            Stmt::Let { init, els, .. } => {
                if let Some(e) = init {
                    renumber_expr(e, by);
                }
                if let Some(b) = els {
                    renumber(b, by);
                }
            }
            Stmt::Expr { expr, .. } => renumber_expr(expr, by),
            Stmt::Item(item) => renumber_item(item, by),
        }
    }
}

fn renumber_item(item: &mut Item, by: u32) {
    let fns = |fns: &mut [crate::model::ir::FnDef]| {
        for f in fns {
            if let Some(b) = &mut f.body {
                renumber(b, by);
            }
        }
    };
    match &mut item.kind {
        ItemKind::Fn(f) => fns(std::slice::from_mut(f)),
        ItemKind::Impl { fns: f, .. } | ItemKind::Trait { fns: f, .. } => fns(f),
        ItemKind::Mod { items: Some(items), .. } | ItemKind::Const { items, .. } => {
            for i in items {
                renumber_item(i, by);
            }
        }
        _ => {}
    }
}

fn renumber_expr(e: &mut Expr, by: u32) {
    e.id += by;
    let r = |e: &mut Expr| renumber_expr(e, by);
    match &mut e.kind {
        ExprKind::Path(_) | ExprKind::Lit(_) | ExprKind::Continue => {}
        ExprKind::Field { base, .. } => r(base),
        ExprKind::MethodCall { recv, args, .. } => {
            r(recv);
            args.iter_mut().for_each(r);
        }
        ExprKind::Call { func, args } => {
            r(func);
            args.iter_mut().for_each(r);
        }
        ExprKind::Closure(c) => r(&mut c.body),
        ExprKind::Block(b) | ExprKind::Unsafe(b) | ExprKind::Loop(b) | ExprKind::Async { body: b, .. } => {
            renumber(b, by);
        }
        ExprKind::If { cond, then, els } => {
            r(cond);
            renumber(then, by);
            if let Some(e) = els {
                r(e);
            }
        }
        ExprKind::Let { expr, .. } => r(expr),
        ExprKind::Match { scrut, arms } => {
            r(scrut);
            for a in arms {
                if let Some(g) = &mut a.guard {
                    r(g);
                }
                r(&mut a.body);
            }
        }
        ExprKind::While { cond, body } => {
            r(cond);
            renumber(body, by);
        }
        ExprKind::For { iter, body, .. } => {
            r(iter);
            renumber(body, by);
        }
        ExprKind::Assign { lhs, rhs, .. } | ExprKind::Binary { lhs, rhs, .. } => {
            r(lhs);
            r(rhs);
        }
        ExprKind::Unary { expr, .. }
        | ExprKind::Ref { expr, .. }
        | ExprKind::RawAddr { expr, .. }
        | ExprKind::Await(expr)
        | ExprKind::Try(expr)
        | ExprKind::Cast { expr, .. } => r(expr),
        ExprKind::Index { base, index } => {
            r(base);
            r(index);
        }
        ExprKind::Return(e) | ExprKind::Break(e) => {
            if let Some(e) = e {
                r(e);
            }
        }
        ExprKind::Macro { args, .. } => match args {
            MacroArgs::Parsed(es) => es.iter_mut().for_each(r),
            MacroArgs::Select { futures, handlers } => {
                futures.iter_mut().for_each(r);
                handlers.iter_mut().for_each(r);
            }
            MacroArgs::Opaque(_) => {}
        },
        ExprKind::Struct { fields, rest, .. } => {
            for (_, e) in fields.iter_mut() {
                r(e);
            }
            if let Some(e) = rest {
                r(e);
            }
        }
        ExprKind::Tuple(es) | ExprKind::Other(es) => es.iter_mut().for_each(r),
    }
}

/// What syn's tree has where the IR keeps less: the kinds of expression its grammar treats
/// apart (a range ends a binary chain, comparisons do not chain, block-like expressions end a
/// statement).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Shape {
    Range,
    /// A binary comparison (not parenthesized).
    Compare,
    /// `if`, `match`, a block, a loop...: ends a statement without `;`.
    BlockLike,
    /// A macro call, and whether its delimiter is a brace.
    Macro(bool),
    /// A string literal (not parenthesized): a format string.
    Str,
    Other,
}

struct E {
    e: Expr,
    s: Shape,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Prec {
    Min,
    Assign,
    Range,
    Or,
    And,
    Compare,
    BitOr,
    BitXor,
    BitAnd,
    Shift,
    Sum,
    Product,
    Cast,
}

/// A binary operator: its precedence, how many characters it has, and what the IR makes of it.
#[derive(Clone, Copy)]
struct BinOp {
    prec: Prec,
    len: usize,
    /// `+=` and the like: an assignment.
    compound: bool,
    kind: BinKind,
}

/// The words syn never reads as an identifier.
fn is_keyword(w: &str) -> bool {
    matches!(
        w,
        "_" | "abstract"
            | "as"
            | "async"
            | "await"
            | "become"
            | "box"
            | "break"
            | "const"
            | "continue"
            | "crate"
            | "do"
            | "dyn"
            | "else"
            | "enum"
            | "extern"
            | "false"
            | "final"
            | "fn"
            | "for"
            | "if"
            | "impl"
            | "in"
            | "let"
            | "loop"
            | "macro"
            | "match"
            | "mod"
            | "move"
            | "mut"
            | "override"
            | "priv"
            | "pub"
            | "ref"
            | "return"
            | "Self"
            | "self"
            | "static"
            | "struct"
            | "super"
            | "trait"
            | "true"
            | "try"
            | "type"
            | "typeof"
            | "unsafe"
            | "unsized"
            | "use"
            | "virtual"
            | "where"
            | "while"
            | "yield"
    )
}

struct P<'a> {
    text: &'a str,
    t: Vec<T>,
    /// For an opening delimiter, the index of its closing one (and the other way round).
    mate: Vec<u32>,
    i: usize,
    /// The end of the group being read (its closing delimiter's index).
    end: usize,
    file: u32,
    base: u32,
    ids: u32,
    depth: u32,
    /// The whole text is ASCII (columns are bytes).
    ascii: bool,
    /// What lowering the items in the body adds up (see [`Ready`]).
    items: u32,
    truncated: bool,
    unread_macros: Vec<Span>,
    unread_macro_rules: Vec<Span>,
}

type R<X> = Option<X>;

impl<'a> P<'a> {
    // ------------------------------------------------------------ tokens

    fn at(&self, i: usize) -> Option<T> {
        if i < self.end { Some(self.t[i]) } else { None }
    }

    fn word_of(&self, t: T) -> &'a str {
        let text: &'a str = self.text;
        &text[t.lo as usize..t.hi as usize]
    }

    /// The token `n` ahead is the identifier or keyword `w`.
    fn is_word(&self, n: usize, w: &str) -> bool {
        self.at(self.i + n)
            .is_some_and(|t| t.k == Tk::Ident && self.word_of(t) == w)
    }

    /// The token `n` ahead is the punctuation `c`.
    fn is_p(&self, n: usize, c: u8) -> bool {
        self.at(self.i + n).is_some_and(|t| t.k == Tk::P(c))
    }

    /// The tokens from `n` ahead spell `s` with nothing between them.
    fn is_ps(&self, n: usize, s: &[u8]) -> bool {
        s.iter().enumerate().all(|(k, c)| {
            self.at(self.i + n + k)
                .is_some_and(|t| t.k == Tk::P(*c) && (k == 0 || self.t[self.i + n + k - 1].hi == t.lo))
        })
    }

    fn is_open(&self, n: usize, c: u8) -> bool {
        self.at(self.i + n).is_some_and(|t| t.k == Tk::Open(c))
    }

    /// An identifier that is no keyword (raw or not): its name.
    fn ident_at(&self, n: usize) -> Option<String> {
        let t = self.at(self.i + n)?;
        match t.k {
            Tk::Ident => {
                let w = self.word_of(t);
                (!is_keyword(w)).then(|| w.to_owned())
            }
            Tk::Raw => Some(self.word_of(t)[2..].to_owned()),
            _ => None,
        }
    }

    /// A path segment's name: an identifier that is no keyword (raw or not), or `self`,
    /// `Self`, `super`, `crate`.
    fn segment_at(&self, n: usize) -> Option<&'a str> {
        let t = self.at(self.i + n)?;
        match t.k {
            Tk::Raw => Some(&self.word_of(t)[2..]),
            Tk::Ident => {
                let w = self.word_of(t);
                (!is_keyword(w) || matches!(w, "self" | "Self" | "super" | "crate")).then_some(w)
            }
            _ => None,
        }
    }

    fn span(&self, lo: u32, hi: u32) -> Span {
        Span::new(self.file, self.base + lo, self.base + hi)
    }

    fn tok_span(&self, i: usize) -> Span {
        self.span(self.t[i].lo, self.t[i].hi)
    }

    /// The span of the group opened at `i`, delimiters included.
    fn group_span(&self, i: usize) -> Span {
        self.span(self.t[i].lo, self.t[self.mate[i] as usize].hi)
    }

    fn mk(&mut self, span: Span, kind: ExprKind) -> Expr {
        let id = self.ids;
        self.ids += 1;
        Expr { id, span, kind }
    }

    /// A node of the IR, of no shape syn's grammar treats apart.
    fn node(&mut self, span: Span, kind: ExprKind) -> E {
        E {
            e: self.mk(span, kind),
            s: Shape::Other,
        }
    }

    /// A prefix operator's operand (after its token, whose span is `op`), and the node made of it.
    fn prefixed(&mut self, op: Span, allow_struct: bool, kind: impl FnOnce(Box<Expr>) -> ExprKind) -> R<E> {
        let inner = self.unary(allow_struct)?;
        let span = Self::join(op, inner.e.span);
        Some(self.node(span, kind(Box::new(inner.e))))
    }

    /// `break` or `return` (its keyword's span `kw`), with the value that follows when there
    /// is one and `value` allows it.
    fn jump(&mut self, kw: Span, value: bool, kind: impl FnOnce(Option<Box<Expr>>) -> ExprKind) -> R<E> {
        let inner = if value && self.starts_expr() {
            Some(Box::new(self.expr(true)?.e))
        } else {
            None
        };
        let span = inner.as_ref().map_or(kw, |i| Self::join(kw, i.span));
        Some(self.node(span, kind(inner)))
    }

    fn join(a: Span, b: Span) -> Span {
        Lowerer::join(a, b)
    }

    /// Reads the group opened at the current token with `f`, which must read all of it.
    fn group<X>(&mut self, f: impl FnOnce(&mut Self) -> R<X>) -> R<X> {
        let open = self.i;
        let close = self.mate[open] as usize;
        let end = std::mem::replace(&mut self.end, close);
        self.i = open + 1;
        let x = f(self);
        let done = self.i == close;
        self.end = end;
        self.i = close + 1;
        if done { x } else { None }
    }

    fn nest(&mut self) -> R<()> {
        self.depth += 1;
        (self.depth <= MAX_NEST).then_some(())
    }

    /// Items read by `item`, separated by commas, to the end of the group; and whether a comma
    /// ends them (`(a,)` is a tuple, `(a)` is not).
    fn comma_list<X>(&mut self, mut item: impl FnMut(&mut Self) -> R<X>) -> R<(Vec<X>, bool)> {
        let mut out = Vec::new();
        let mut trailing = false;
        while self.i < self.end {
            out.push(item(self)?);
            trailing = false;
            if self.i >= self.end {
                break;
            }
            if !self.is_p(0, b',') {
                return None;
            }
            self.i += 1;
            trailing = true;
        }
        Some((out, trailing))
    }

    // ------------------------------------------------------------ blocks and statements

    /// A block at the current `{`.
    fn block(&mut self) -> R<Block> {
        if !self.is_open(0, b'{') {
            return None;
        }
        let span = self.group_span(self.i);
        let stmts = self.group(Self::stmts)?;
        Some(Block { stmts, span })
    }

    /// A function's body: a block whose inner attributes (`#![allow(..)]`) come first.
    fn fn_body(&mut self) -> R<Block> {
        if !self.is_open(0, b'{') {
            return None;
        }
        let span = self.group_span(self.i);
        let stmts = self.group(|p| {
            while p.is_ps(0, b"#!") && p.is_open(2, b'[') {
                p.i = p.mate[p.i + 2] as usize + 1;
            }
            p.stmts()
        })?;
        Some(Block { stmts, span })
    }

    fn stmts(&mut self) -> R<Vec<Stmt>> {
        let mut out = Vec::new();
        loop {
            while self.is_p(0, b';') {
                // An empty statement: syn's `Expr::Verbatim`, lowered as an opaque node.
                self.i += 1;
                let e = self.mk(Span::new(self.file, 0, 0), ExprKind::Other(Vec::new()));
                out.push(Stmt::Expr { expr: e, semi: true });
            }
            if self.i >= self.end {
                return Some(out);
            }
            let (stmt, needs_semi) = self.stmt()?;
            out.extend(stmt);
            if self.i >= self.end {
                return Some(out);
            }
            if needs_semi {
                return None;
            }
        }
    }

    /// A statement (none for an item lowering leaves out), and whether it must be the last one
    /// (it needed a `;` it does not have).
    fn stmt(&mut self) -> R<(Option<Stmt>, bool)> {
        // Outer attributes: an item's are read with it; a statement's, lowering ignores.
        let start = self.i;
        while self.is_p(0, b'#') {
            if !self.is_open(1, b'[') {
                return None;
            }
            self.i = self.mate[self.i + 1] as usize + 1;
        }
        if self.item_ahead().is_none() {
            return Some((self.item_stmt(start)?, false));
        }
        if self.i > start && (self.i >= self.end || self.is_p(0, b';')) {
            return None;
        }
        // A brace macro statement: `name! { .. }` not followed by `.` or `?`.
        if let Some(n) = self.mod_path_len()
            && self.is_p(n, b'!')
            && self.is_open(n + 1, b'{')
        {
            let close = self.mate[self.i + n + 1] as usize;
            let after = |p: &Self, c: u8| p.at(close + 1).is_some_and(|t| t.k == Tk::P(c));
            let dotdot = self
                .at(close + 2)
                .is_some_and(|t| t.k == Tk::P(b'.') && t.lo == self.t[close + 1].hi);
            if !(after(self, b'.') && !dotdot || after(self, b'?')) {
                let e = self.macro_call()?;
                let semi = self.is_p(0, b';');
                if semi {
                    self.i += 1;
                }
                return Some((Some(Stmt::Expr { expr: e.e, semi }), false));
            }
        }
        if self.is_word(0, "let") {
            return self.local().map(|s| (Some(s), false));
        }
        let e = self.expr_early()?;
        if self.is_p(0, b';') {
            self.i += 1;
            return Some((Some(Stmt::Expr { expr: e.e, semi: true }), false));
        }
        let needs = match e.s {
            Shape::BlockLike => false,
            Shape::Macro(brace) => !brace,
            _ => true,
        };
        Some((Some(Stmt::Expr { expr: e.e, semi: false }), needs))
    }

    /// `None` when an item starts here (syn's list in `parse_stmt`).
    fn item_ahead(&self) -> R<()> {
        let w = |n: usize, s: &str| self.is_word(n, s);
        let item = w(0, "pub")
            || w(0, "crate") && !self.is_ps(1, b"::")
            || w(0, "extern")
            || w(0, "use")
            || w(0, "static")
            || w(0, "const") && !self.is_open(1, b'{')
            || w(0, "unsafe") && !self.is_open(1, b'{')
            || w(0, "async") && (w(1, "unsafe") || w(1, "extern") || w(1, "fn"))
            || w(0, "fn")
            || w(0, "mod")
            || w(0, "type")
            || w(0, "struct")
            || w(0, "enum")
            || w(0, "union") && self.at(self.i + 1).is_some_and(|t| matches!(t.k, Tk::Ident | Tk::Raw))
            || w(0, "auto") && w(1, "trait")
            || w(0, "trait")
            || w(0, "default") && (w(1, "unsafe") || w(1, "impl"))
            || w(0, "impl")
            || w(0, "macro")
            || w(0, "macro_rules")
            || self.mod_path_len().is_some_and(|n| {
                self.is_p(n, b'!')
                    && self
                        .at(self.i + n + 1)
                        .is_some_and(|t| matches!(t.k, Tk::Ident | Tk::Raw))
            });
        (!item).then_some(())
    }

    /// The token after the item that starts here (its attributes read): at its first `;`
    /// outside any group for `use`, `static`, `const` and `type` (whose values and paths hold
    /// braces), else at its first `{ .. }` (a body) or `;` outside groups and `<..>`.
    fn item_end(&self) -> R<usize> {
        let mut k = self.i;
        // The modifiers before the keyword.
        loop {
            let t = self.at(k)?;
            let w = if t.k == Tk::Ident { self.word_of(t) } else { "" };
            match w {
                "pub" if self.at(k + 1).is_some_and(|t| t.k == Tk::Open(b'(')) => k = self.mate[k + 1] as usize + 1,
                "pub" | "unsafe" | "async" | "default" | "auto" => k += 1,
                "extern" => {
                    k += 1;
                    if self.at(k).is_some_and(|t| matches!(t.k, Tk::Lit(_))) {
                        k += 1;
                    }
                }
                "const"
                    if self.at(k + 1).is_some_and(|t| {
                        t.k == Tk::Ident && matches!(self.word_of(t), "fn" | "unsafe" | "async" | "extern")
                    }) =>
                {
                    k += 1;
                }
                _ => break,
            }
        }
        let kw = self
            .at(k)
            .map_or("", |t| if t.k == Tk::Ident { self.word_of(t) } else { "" });
        let semi_only = matches!(kw, "use" | "static" | "const" | "type");
        let mut angle = 0i32;
        while let Some(t) = self.at(k) {
            match t.k {
                Tk::P(b';') if semi_only || angle == 0 => return Some(k + 1),
                Tk::Open(b'{') if !semi_only && angle == 0 => return Some(self.mate[k] as usize + 1),
                Tk::Open(_) => k = self.mate[k] as usize,
                Tk::P(b'<') if !semi_only => angle += 1,
                Tk::P(b'>') if !(semi_only || k > 0 && self.t[k - 1].k == Tk::P(b'-') && self.t[k - 1].hi == t.lo) => {
                    angle -= 1;
                }
                _ => {}
            }
            k += 1;
        }
        None
    }

    /// An item in the body, its attributes from `start`: read by syn, on its own text, and
    /// lowered as lowering lowers it in place (its expression ids follow the body's so far).
    fn item_stmt(&mut self, start: usize) -> R<Option<Stmt>> {
        let end = self.item_end()?;
        let (lo, hi) = (self.t[start].lo as usize, self.t[end - 1].hi as usize);
        let src = &self.text[lo..hi];
        let item: syn::Item = syn::parse_str(src).ok()?;
        let mut lines = vec![lo];
        lines.extend(memchr::memchr_iter(b'\n', src.as_bytes()).map(|k| lo + k + 1));
        let mut l = Lowerer {
            file: self.file,
            base: self.base as usize,
            offsets: Offsets {
                text: self.text,
                lines,
                ascii: self.ascii,
            },
            next_id: self.ids,
            depth: self.depth,
            truncated: false,
            unread_macros: Vec::new(),
            unread_macro_rules: Vec::new(),
            body_items: 0,
            ready: HashMap::new(),
        };
        let lowered = l.item(&item);
        self.ids = l.next_id;
        self.items += 1 + l.body_items;
        self.truncated |= l.truncated;
        self.unread_macros.extend(l.unread_macros);
        self.unread_macro_rules.extend(l.unread_macro_rules);
        self.i = end;
        Some(lowered.map(|i| Stmt::Item(Box::new(i))))
    }

    fn local(&mut self) -> R<Stmt> {
        let let_span = self.tok_span(self.i);
        self.i += 1;
        let pat = self.pat_single()?;
        let ty = if self.is_p(0, b':') && !self.is_ps(0, b"::") {
            self.i += 1;
            Some(self.ty(true)?)
        } else {
            None
        };
        let (mut init, mut els) = (None, None);
        if self.is_p(0, b'=') && !self.is_ps(0, b"==") && !self.is_ps(0, b"=>") {
            self.i += 1;
            let before = self.i;
            let e = self.expr(true)?;
            let trailing_brace = self.i > before
                && self.t[self.i - 1].k == Tk::Close
                && self.text.as_bytes()[self.t[self.i - 1].lo as usize] == b'}';
            init = Some(e.e);
            if self.is_word(0, "else") {
                if trailing_brace {
                    return None;
                }
                self.i += 1;
                let b = self.block()?;
                // (Lowering makes an expression of the block first: an id.)
                let _ = self.mk(b.span, ExprKind::Other(Vec::new()));
                els = Some(b);
            }
        }
        if !self.is_p(0, b';') {
            return None;
        }
        let span = Self::join(let_span, self.tok_span(self.i));
        self.i += 1;
        Some(Stmt::Let {
            pat,
            ty,
            init,
            els,
            span,
        })
    }

    // ------------------------------------------------------------ expressions

    fn expr(&mut self, allow_struct: bool) -> R<E> {
        let lhs = self.unary(allow_struct)?;
        self.binary(lhs, allow_struct, Prec::Min)
    }

    /// syn's `parse_with_earlier_boundary_rule`: a statement or a match arm's body, where a
    /// block-like expression ends it unless `.` or `?` follows.
    fn expr_early(&mut self) -> R<E> {
        let w = |p: &Self, s: &str| p.is_word(0, s);
        let block_like = w(self, "if")
            || w(self, "while")
            || w(self, "for")
            || w(self, "loop")
            || w(self, "match")
            || w(self, "unsafe") && self.is_open(1, b'{')
            || w(self, "const") && self.is_open(1, b'{')
            || self.is_open(0, b'{')
            || self.at(self.i).is_some_and(|t| t.k == Tk::Life);
        if !block_like {
            let u = self.unary(true)?;
            return self.binary(u, true, Prec::Min);
        }
        let e = self.atom(true)?;
        if e.s != Shape::BlockLike {
            return self.binary(e, true, Prec::Min);
        }
        if self.is_p(0, b'.') && !self.is_ps(0, b"..") || self.is_p(0, b'?') {
            let e = self.trailers(e)?;
            return self.binary(e, true, Prec::Min);
        }
        Some(e)
    }

    fn binop(&self) -> Option<BinOp> {
        let op = |prec, len, kind| {
            Some(BinOp {
                prec,
                len,
                compound: false,
                kind,
            })
        };
        let assign = |len| {
            Some(BinOp {
                prec: Prec::Assign,
                len,
                compound: true,
                kind: BinKind::Other,
            })
        };
        let Tk::P(c) = self.at(self.i)?.k else {
            return None;
        };
        let two = |d: u8| self.is_ps(0, &[c, d]);
        let three = |d: u8, e: u8| self.is_ps(0, &[c, d, e]);
        match c {
            b'&' if two(b'&') => op(Prec::And, 2, BinKind::And),
            b'|' if two(b'|') => op(Prec::Or, 2, BinKind::Or),
            b'<' if three(b'<', b'=') => assign(3),
            b'>' if three(b'>', b'=') => assign(3),
            b'<' if two(b'<') => op(Prec::Shift, 2, BinKind::Other),
            b'>' if two(b'>') => op(Prec::Shift, 2, BinKind::Other),
            b'=' if two(b'=') => op(Prec::Compare, 2, BinKind::Other),
            b'<' | b'>' | b'!' if two(b'=') => op(Prec::Compare, 2, BinKind::Other),
            b'+' | b'-' | b'*' | b'/' | b'%' | b'^' | b'&' | b'|' if two(b'=') => assign(2),
            b'<' | b'>' => op(Prec::Compare, 1, BinKind::Other),
            b'+' | b'-' => op(Prec::Sum, 1, BinKind::Other),
            b'*' | b'/' | b'%' => op(Prec::Product, 1, BinKind::Other),
            b'^' => op(Prec::BitXor, 1, BinKind::Other),
            b'&' => op(Prec::BitAnd, 1, BinKind::Other),
            b'|' => op(Prec::BitOr, 1, BinKind::Other),
            _ => None,
        }
    }

    /// `..` or `..=` (not `...`): its length.
    fn range_limits(&self) -> Option<usize> {
        if !self.is_ps(0, b"..") {
            return None;
        }
        if self.is_ps(0, b"...") {
            return None;
        }
        Some(if self.is_ps(0, b"..=") { 3 } else { 2 })
    }

    fn peek_prec(&self) -> Prec {
        if let Some(op) = self.binop() {
            op.prec
        } else if self.is_p(0, b'=') && !self.is_ps(0, b"=>") {
            Prec::Assign
        } else if self.is_ps(0, b"..") {
            Prec::Range
        } else if self.is_word(0, "as") {
            Prec::Cast
        } else {
            Prec::Min
        }
    }

    /// syn's `parse_expr`: binary operators, assignments, ranges and casts after `lhs`.
    fn binary(&mut self, mut lhs: E, allow_struct: bool, base: Prec) -> R<E> {
        loop {
            if lhs.s == Shape::Range {
                break;
            }
            if let Some(op) = self.binop() {
                if op.prec < base {
                    break;
                }
                if op.prec == Prec::Compare && lhs.s == Shape::Compare {
                    return None;
                }
                self.i += op.len;
                let rhs = self.binop_rhs(allow_struct, op.prec)?;
                let span = Self::join(lhs.e.span, rhs.span);
                let (lhs_e, rhs) = (Box::new(lhs.e), Box::new(rhs));
                let kind = if op.compound {
                    ExprKind::Assign {
                        lhs: lhs_e,
                        rhs,
                        compound: true,
                    }
                } else {
                    ExprKind::Binary {
                        lhs: lhs_e,
                        rhs,
                        op: op.kind,
                    }
                };
                let s = if op.prec == Prec::Compare {
                    Shape::Compare
                } else {
                    Shape::Other
                };
                lhs = E {
                    e: self.mk(span, kind),
                    s,
                };
            } else if Prec::Assign >= base && self.is_p(0, b'=') && !self.is_ps(0, b"=>") {
                self.i += 1;
                let rhs = self.binop_rhs(allow_struct, Prec::Assign)?;
                let span = Self::join(lhs.e.span, rhs.span);
                let kind = ExprKind::Assign {
                    lhs: Box::new(lhs.e),
                    rhs: Box::new(rhs),
                    compound: false,
                };
                lhs = self.node(span, kind);
            } else if Prec::Range >= base && self.is_ps(0, b"..") {
                let n = self.range_limits()?;
                let limits = self.span(self.t[self.i].lo, self.t[self.i + n - 1].hi);
                self.i += n;
                let end = self.range_end(n == 2, allow_struct)?;
                lhs = self.range(Some(lhs.e), end, limits);
            } else if Prec::Cast >= base && self.is_word(0, "as") {
                let as_span = self.tok_span(self.i);
                self.i += 1;
                let ty = self.ty(false)?;
                // (syn rejects a cast followed by `.`, `?`, `[` or `(`; and `<` after a type
                // is ambiguous.)
                if self.is_p(0, b'.') && !self.is_ps(0, b"..")
                    || self.is_p(0, b'?')
                    || self.is_open(0, b'[')
                    || self.is_open(0, b'(')
                    || self.is_p(0, b'<')
                {
                    return None;
                }
                let span = Self::join(lhs.e.span, as_span);
                let kind = ExprKind::Cast {
                    expr: Box::new(lhs.e),
                    ty,
                };
                lhs = self.node(span, kind);
            } else {
                break;
            }
        }
        Some(lhs)
    }

    fn binop_rhs(&mut self, allow_struct: bool, prec: Prec) -> R<Expr> {
        let mut rhs = self.unary(allow_struct)?;
        loop {
            let next = self.peek_prec();
            if next > prec || next == prec && prec == Prec::Assign {
                let at = self.i;
                rhs = self.binary(rhs, allow_struct, next)?;
                if self.i == at {
                    break;
                }
            } else {
                break;
            }
        }
        Some(rhs.e)
    }

    fn range_end(&mut self, half_open: bool, allow_struct: bool) -> R<Option<Expr>> {
        let stop = self.i >= self.end
            || self.is_p(0, b',')
            || self.is_p(0, b';')
            || self.is_p(0, b'.') && !self.is_ps(0, b"..")
            || self.is_p(0, b'?')
            || self.is_ps(0, b"=>")
            || !allow_struct && self.is_open(0, b'{')
            || self.is_p(0, b'=')
            || self.is_p(0, b'+')
            || self.is_p(0, b'/')
            || self.is_p(0, b'%')
            || self.is_p(0, b'^')
            || self.is_p(0, b'>')
            || self.is_ps(0, b"<=")
            || self.is_ps(0, b"!=")
            || self.is_ps(0, b"-=")
            || self.is_ps(0, b"*=")
            || self.is_ps(0, b"&=")
            || self.is_ps(0, b"|=")
            || self.is_ps(0, b"<<=")
            || self.is_word(0, "as");
        if half_open && stop {
            return Some(None);
        }
        self.binop_rhs(allow_struct, Prec::Range).map(Some)
    }

    fn range(&mut self, start: Option<Expr>, end: Option<Expr>, limits: Span) -> E {
        let elems: Vec<Expr> = start.into_iter().chain(end).collect();
        let span = elems.iter().map(|e| e.span).reduce(Self::join).unwrap_or(limits);
        E {
            e: self.mk(span, ExprKind::Other(elems)),
            s: Shape::Range,
        }
    }

    /// syn's `unary_expr`.
    fn unary(&mut self, allow_struct: bool) -> R<E> {
        self.nest()?;
        let r = self.unary_inner(allow_struct);
        self.depth -= 1;
        r
    }

    fn unary_inner(&mut self, allow_struct: bool) -> R<E> {
        if self.is_p(0, b'#') {
            return None;
        }
        if self.is_p(0, b'&') {
            let and = self.tok_span(self.i);
            self.i += 1;
            if self.is_word(0, "raw") && (self.is_word(1, "mut") || self.is_word(1, "const")) {
                // `&raw const x`, `&raw mut x`.
                let mutable = self.is_word(1, "mut");
                self.i += 2;
                return self.prefixed(and, allow_struct, |expr| ExprKind::RawAddr { mutable, expr });
            }
            let mutable = self.is_word(0, "mut");
            if mutable {
                self.i += 1;
            }
            return self.prefixed(and, allow_struct, |expr| ExprKind::Ref { mutable, expr });
        }
        let op = match self.at(self.i).map(|t| t.k) {
            Some(Tk::P(b'*')) => Some(UnOp::Deref),
            Some(Tk::P(b'!')) => Some(UnOp::Not),
            Some(Tk::P(b'-')) => Some(UnOp::Neg),
            _ => None,
        };
        if let Some(op) = op {
            let os = self.tok_span(self.i);
            self.i += 1;
            return self.prefixed(os, allow_struct, |expr| ExprKind::Unary { op, expr });
        }
        let atom = self.atom(allow_struct)?;
        self.trailers(atom)
    }

    /// Calls, fields, method calls, `.await`, indexing and `?` after `e`.
    fn trailers(&mut self, mut e: E) -> R<E> {
        loop {
            if self.is_open(0, b'(') {
                let paren = self.group_span(self.i);
                let args = self.group(Self::comma_exprs)?;
                let span = Self::join(e.e.span, paren);
                let kind = ExprKind::Call {
                    func: Box::new(e.e),
                    args,
                };
                e = self.node(span, kind);
            } else if self.is_p(0, b'.') && !self.is_ps(0, b"..") && e.s != Shape::Range {
                self.i += 1;
                let t = self.at(self.i)?;
                if t.k == Tk::Ident && self.word_of(t) == "await" {
                    let span = Self::join(e.e.span, self.tok_span(self.i));
                    self.i += 1;
                    e = self.node(span, ExprKind::Await(Box::new(e.e)));
                    continue;
                }
                let member_span = self.tok_span(self.i);
                let (name, named) = match t.k {
                    Tk::Lit(Lk::Index) => (self.word_of(t).to_owned(), false),
                    _ => (self.ident_at(0)?, true),
                };
                self.i += 1;
                let turbofish = if named && self.is_ps(0, b"::") {
                    self.i += 2;
                    Some(self.generic_args()?)
                } else {
                    None
                };
                if named && (turbofish.is_some() || self.is_open(0, b'(')) {
                    if !self.is_open(0, b'(') {
                        return None;
                    }
                    let paren = self.group_span(self.i);
                    let args = self.group(Self::comma_exprs)?;
                    let span = Self::join(e.e.span, paren);
                    let kind = ExprKind::MethodCall {
                        recv: Box::new(e.e),
                        method: name,
                        method_span: member_span,
                        turbofish: turbofish.unwrap_or_default(),
                        args,
                    };
                    e = self.node(span, kind);
                    continue;
                }
                let span = Self::join(e.e.span, member_span);
                let kind = ExprKind::Field {
                    base: Box::new(e.e),
                    name,
                };
                e = self.node(span, kind);
            } else if self.is_open(0, b'[') {
                let bracket = self.group_span(self.i);
                let index = self.group(|p| p.expr(true))?;
                let span = Self::join(e.e.span, bracket);
                let kind = ExprKind::Index {
                    base: Box::new(e.e),
                    index: Box::new(index.e),
                };
                e = self.node(span, kind);
            } else if self.is_p(0, b'?') && e.s != Shape::Range {
                let span = Self::join(e.e.span, self.tok_span(self.i));
                self.i += 1;
                e = self.node(span, ExprKind::Try(Box::new(e.e)));
            } else {
                return Some(e);
            }
        }
    }

    /// Expressions separated by commas, a trailing one allowed, to the end of the group.
    fn comma_exprs(&mut self) -> R<Vec<Expr>> {
        self.comma_list(|p| p.expr(true).map(|e| e.e)).map(|(es, _)| es)
    }

    /// `[a, b]` or `[x; n]` (an array, `vec!`'s input), to the end of the group: the
    /// expressions.
    fn list_or_repeat(&mut self) -> R<Vec<Expr>> {
        if self.i >= self.end {
            return Some(Vec::new());
        }
        let first = self.expr(true)?.e;
        if self.is_p(0, b';') {
            self.i += 1;
            let n = self.expr(true)?.e;
            return Some(vec![first, n]);
        }
        let mut out = vec![first];
        while self.is_p(0, b',') {
            self.i += 1;
            if self.i >= self.end {
                break;
            }
            out.push(self.expr(true)?.e);
        }
        Some(out)
    }

    /// syn's `Expr::peek`: the next token can start an expression.
    fn starts_expr(&self) -> bool {
        let Some(t) = self.at(self.i) else {
            return false;
        };
        match t.k {
            Tk::Ident => self.word_of(t) != "as",
            Tk::Raw | Tk::Open(_) | Tk::Lit(_) | Tk::Life => true,
            Tk::P(b'!') => !self.is_ps(0, b"!="),
            Tk::P(b'-') => !self.is_ps(0, b"-=") && !self.is_ps(0, b"->"),
            Tk::P(b'*') => !self.is_ps(0, b"*="),
            Tk::P(b'|') => !self.is_ps(0, b"|="),
            Tk::P(b'&') => !self.is_ps(0, b"&="),
            Tk::P(b'.') => self.is_ps(0, b".."),
            Tk::P(b'<') => !self.is_ps(0, b"<=") && !self.is_ps(0, b"<<="),
            Tk::P(b':') => self.is_ps(0, b"::"),
            Tk::P(b'#') => true,
            _ => false,
        }
    }

    fn block_expr(&mut self, kw: Option<Span>) -> R<(Block, Span)> {
        let b = self.block()?;
        let span = kw.map_or(b.span, |k| Self::join(k, b.span));
        Some((b, span))
    }

    /// syn's `atom_expr`.
    #[allow(clippy::too_many_lines)] // one arm per kind of atom, as syn's
    fn atom(&mut self, allow_struct: bool) -> R<E> {
        let t = self.at(self.i)?;
        let other = |e| Some(E { e, s: Shape::Other });
        let w = if t.k == Tk::Ident { self.word_of(t) } else { "" };
        match t.k {
            Tk::Lit(k) => {
                self.i += 1;
                let e = self.mk(self.span(t.lo, t.hi), ExprKind::Lit(None));
                return Some(E {
                    e,
                    s: if k == Lk::Str { Shape::Str } else { Shape::Other },
                });
            }
            Tk::Open(b'(') => {
                let paren = self.group_span(self.i);
                let mut elems = self.group(|p| p.comma_list(|p| p.expr(true)))?;
                if elems.0.len() == 1 && !elems.1 {
                    // `(e)`: syn's `Expr::Paren`, lowered as `e`.
                    let e = elems.0.pop()?;
                    return other(e.e);
                }
                let es = elems.0.into_iter().map(|e| e.e).collect();
                let e = self.mk(paren, ExprKind::Tuple(es));
                return other(e);
            }
            Tk::Open(b'[') => {
                let bracket = self.group_span(self.i);
                let elems = self.group(Self::list_or_repeat)?;
                let e = self.mk(bracket, ExprKind::Other(elems));
                return other(e);
            }
            Tk::Open(_) => {
                let (b, span) = self.block_expr(None)?;
                let e = self.mk(span, ExprKind::Block(b));
                return Some(E { e, s: Shape::BlockLike });
            }
            Tk::Life => {
                // A label: `'a: loop`, `'a: { .. }`.
                if !self.is_p(1, b':') || self.is_ps(1, b"::") {
                    return None;
                }
                self.i += 2;
                if !(self.is_word(0, "while")
                    || self.is_word(0, "for")
                    || self.is_word(0, "loop")
                    || self.is_open(0, b'{'))
                {
                    return None;
                }
                return self.atom(allow_struct);
            }
            Tk::P(b'|') => return self.closure(allow_struct, None),
            Tk::P(b'.') if self.is_ps(0, b"..") => {
                let n = self.range_limits()?;
                let limits = self.span(self.t[self.i].lo, self.t[self.i + n - 1].hi);
                self.i += n;
                let end = self.range_end(n == 2, allow_struct)?;
                return Some(self.range(None, end, limits));
            }
            Tk::P(b':') if self.is_ps(0, b"::") => return self.path_expr(allow_struct),
            Tk::Raw => return self.path_expr(allow_struct),
            Tk::Ident => {}
            _ => return None,
        }
        let kw = self.tok_span(self.i);
        match w {
            "true" | "false" => {
                self.i += 1;
                let e = self.mk(kw, ExprKind::Lit(Some(w == "true")));
                other(e)
            }
            "async" if self.is_open(1, b'{') || self.is_word(1, "move") && self.is_open(2, b'{') => {
                self.i += 1;
                let is_move = self.is_word(0, "move");
                if is_move {
                    self.i += 1;
                }
                let (body, span) = self.block_expr(Some(kw))?;
                let e = self.mk(span, ExprKind::Async { is_move, body });
                other(e)
            }
            "move" | "async" => self.closure(allow_struct, Some(kw)),
            "self" | "Self" | "super" | "crate" => self.path_expr(allow_struct),
            "break" => {
                self.i += 1;
                if self.at(self.i).is_some_and(|t| t.k == Tk::Life) {
                    if self.is_p(1, b':') {
                        return None;
                    }
                    self.i += 1;
                }
                let value = allow_struct || !self.is_open(0, b'{');
                self.jump(kw, value, ExprKind::Break)
            }
            "continue" => {
                self.i += 1;
                if self.at(self.i).is_some_and(|t| t.k == Tk::Life) {
                    self.i += 1;
                }
                let e = self.mk(kw, ExprKind::Continue);
                other(e)
            }
            "return" => {
                self.i += 1;
                self.jump(kw, true, ExprKind::Return)
            }
            "let" => {
                self.i += 1;
                let pat = self.pat_multi()?;
                if !self.is_p(0, b'=') || self.is_ps(0, b"==") || self.is_ps(0, b"=>") {
                    return None;
                }
                self.i += 1;
                let lhs = self.unary(allow_struct)?;
                let expr = self.binary(lhs, allow_struct, Prec::Compare)?;
                let span = Self::join(kw, expr.e.span);
                let kind = ExprKind::Let {
                    pat,
                    expr: Box::new(expr.e),
                };
                let e = self.mk(span, kind);
                other(e)
            }
            "if" => self.if_expr(),
            "while" => {
                self.i += 1;
                let cond = self.expr(false)?;
                let (body, _) = self.block_expr(None)?;
                let span = Self::join(kw, body.span);
                let kind = ExprKind::While {
                    cond: Box::new(cond.e),
                    body,
                };
                let e = self.mk(span, kind);
                Some(E { e, s: Shape::BlockLike })
            }
            "for" => {
                self.i += 1;
                if self.is_p(0, b'<') {
                    return None;
                }
                let pat = self.pat_multi()?;
                if !self.is_word(0, "in") {
                    return None;
                }
                self.i += 1;
                let iter = self.expr(false)?;
                let (body, _) = self.block_expr(None)?;
                let span = Self::join(kw, body.span);
                let kind = ExprKind::For {
                    pat,
                    iter: Box::new(iter.e),
                    body,
                };
                let e = self.mk(span, kind);
                Some(E { e, s: Shape::BlockLike })
            }
            "loop" => {
                self.i += 1;
                let (body, span) = self.block_expr(Some(kw))?;
                let e = self.mk(span, ExprKind::Loop(body));
                Some(E { e, s: Shape::BlockLike })
            }
            "match" => {
                self.i += 1;
                let scrut = self.expr(false)?;
                if !self.is_open(0, b'{') {
                    return None;
                }
                let braces = self.group_span(self.i);
                let arms = self.group(Self::arms)?;
                let span = Self::join(kw, braces);
                let kind = ExprKind::Match {
                    scrut: Box::new(scrut.e),
                    arms,
                };
                let e = self.mk(span, kind);
                Some(E { e, s: Shape::BlockLike })
            }
            "unsafe" if self.is_open(1, b'{') => {
                self.i += 1;
                let (b, span) = self.block_expr(Some(kw))?;
                let e = self.mk(span, ExprKind::Unsafe(b));
                Some(E { e, s: Shape::BlockLike })
            }
            "const" if self.is_open(1, b'{') => {
                self.i += 1;
                let (b, span) = self.block_expr(None)?;
                let e = self.mk(span, ExprKind::Block(b));
                Some(E { e, s: Shape::BlockLike })
            }
            "_" => {
                // syn's `Expr::Infer`: lowered as an opaque node with no first token.
                self.i += 1;
                let e = self.mk(Span::new(self.file, 0, 0), ExprKind::Other(Vec::new()));
                other(e)
            }
            _ if is_keyword(w) => None,
            _ => self.path_expr(allow_struct),
        }
    }

    fn if_expr(&mut self) -> R<E> {
        let kw = self.tok_span(self.i);
        self.i += 1;
        let cond = self.expr(false)?;
        let then = self.block()?;
        let els = if self.is_word(0, "else") {
            self.i += 1;
            if self.is_word(0, "if") {
                Some(Box::new(self.if_expr()?.e))
            } else if self.is_open(0, b'{') {
                let b = self.block()?;
                Some(Box::new(self.mk(b.span, ExprKind::Block(b))))
            } else {
                return None;
            }
        } else {
            None
        };
        let mut span = Self::join(kw, then.span);
        if let Some(e) = &els {
            span = Self::join(span, e.span);
        }
        let kind = ExprKind::If {
            cond: Box::new(cond.e),
            then,
            els,
        };
        let e = self.mk(span, kind);
        Some(E { e, s: Shape::BlockLike })
    }

    fn arms(&mut self) -> R<Vec<Arm>> {
        let mut arms = Vec::new();
        while self.i < self.end {
            if self.is_p(0, b'#') {
                return None;
            }
            let pat = self.pat_multi()?;
            let guard = if self.is_word(0, "if") {
                self.i += 1;
                Some(self.expr(true)?.e)
            } else {
                None
            };
            if !self.is_ps(0, b"=>") {
                return None;
            }
            self.i += 2;
            let body = self.expr_early()?;
            let requires_comma = !matches!(body.s, Shape::BlockLike);
            if self.is_p(0, b',') {
                self.i += 1;
            } else if requires_comma && self.i < self.end {
                return None;
            }
            arms.push(Arm {
                pat,
                guard,
                body: body.e,
            });
        }
        Some(arms)
    }

    /// A closure, at its first token (`|`, or `move`/`async` whose span is `kw`).
    fn closure(&mut self, allow_struct: bool, kw: Option<Span>) -> R<E> {
        let mut is_async = false;
        let mut is_move = false;
        let (mut async_span, mut move_span) = (None, None);
        if self.is_word(0, "async") {
            is_async = true;
            async_span = Some(self.tok_span(self.i));
            self.i += 1;
        }
        if self.is_word(0, "move") {
            is_move = true;
            move_span = Some(self.tok_span(self.i));
            self.i += 1;
        }
        let _ = kw;
        if !self.is_p(0, b'|') {
            return None;
        }
        let or1 = self.tok_span(self.i);
        self.i += 1;
        let mut params = Vec::new();
        loop {
            if self.is_p(0, b'|') {
                break;
            }
            if self.is_p(0, b'#') {
                return None;
            }
            let p = self.pat_single()?;
            if self.is_p(0, b':') && !self.is_ps(0, b"::") {
                self.i += 1;
                self.ty(true)?;
            }
            params.push(p);
            if self.is_p(0, b'|') {
                break;
            }
            if !self.is_p(0, b',') {
                return None;
            }
            self.i += 1;
        }
        self.i += 1;
        let body = if self.is_ps(0, b"->") {
            self.i += 2;
            self.ty(true)?;
            let b = self.block()?;
            self.mk(b.span, ExprKind::Block(b))
        } else {
            self.expr(allow_struct)?.e
        };
        let mut span = Self::join(or1, body.span);
        if let Some(m) = move_span {
            span = Self::join(m, span);
        }
        if let Some(a) = async_span {
            span = Self::join(a, span);
        }
        let closure = Closure {
            is_move,
            is_async,
            params,
            body,
        };
        let e = self.mk(span, ExprKind::Closure(Box::new(closure)));
        Some(E { e, s: Shape::Other })
    }

    // ------------------------------------------------------------ paths, macros, structs

    /// How many tokens a path without generic arguments (`a::b::c`, `::a`) takes from here.
    fn mod_path_len(&self) -> Option<usize> {
        let mut n = 0;
        if self.is_ps(0, b"::") {
            n = 2;
        }
        loop {
            self.segment_at(n)?;
            n += 1;
            if self.is_ps(n, b"::") && !self.is_p(n + 2, b'<') {
                n += 2;
            } else {
                return Some(n);
            }
        }
    }

    /// A path in an expression (`a::b::<T>::c`): its segments' names, its span, and whether
    /// it has generic arguments.
    fn path(&mut self) -> R<(Vec<String>, Span, bool)> {
        let mut names = Vec::new();
        let mut first = None;
        let mut last;
        let mut generic = false;
        let mut lead = false;
        if self.is_ps(0, b"::") {
            first = Some(self.span(self.t[self.i].lo, self.t[self.i].hi));
            lead = true;
            self.i += 2;
        }
        loop {
            let name = self.segment_at(0)?.to_owned();
            let sp = self.tok_span(self.i);
            first.get_or_insert(sp);
            last = Some(sp);
            names.push(name);
            self.i += 1;
            if !self.is_ps(0, b"::") {
                break;
            }
            self.i += 2;
            if self.is_p(0, b'<') {
                generic = true;
                self.generic_args_after_lt()?;
                if !self.is_ps(0, b"::") {
                    break;
                }
                self.i += 2;
            }
        }
        let (first, last) = (first?, last?);
        let span = if names.len() > 1 || lead {
            Self::join(first, last)
        } else {
            first
        };
        Some((names, span, generic))
    }

    fn path_expr(&mut self, allow_struct: bool) -> R<E> {
        let (names, span, generic) = self.path()?;
        if self.is_p(0, b'!') && !self.is_ps(0, b"!=") {
            if generic {
                return None;
            }
            return self.macro_rest(names, span);
        }
        if allow_struct && self.is_open(0, b'{') {
            return self.struct_lit(names, span);
        }
        let e = self.mk(span, ExprKind::Path(names));
        Some(E { e, s: Shape::Other })
    }

    fn struct_lit(&mut self, path: Vec<String>, path_span: Span) -> R<E> {
        let braces = self.group_span(self.i);
        let (fields, rest) = self.group(|p| {
            let mut fields = Vec::new();
            let mut rest = None;
            while p.i < p.end {
                if p.is_p(0, b'#') {
                    return None;
                }
                if p.is_ps(0, b"..") {
                    p.i += 2;
                    if p.i >= p.end || p.is_p(0, b'=') {
                        return None;
                    }
                    rest = Some(Box::new(p.expr(true)?.e));
                    break;
                }
                let t = p.at(p.i)?;
                let (name, named) = match t.k {
                    Tk::Lit(Lk::Index) => (p.word_of(t).to_owned(), false),
                    _ => (p.ident_at(0)?, true),
                };
                let member = p.tok_span(p.i);
                p.i += 1;
                let value = if p.is_p(0, b':') && !p.is_ps(0, b"::") || !named {
                    if !p.is_p(0, b':') || p.is_ps(0, b"::") {
                        return None;
                    }
                    p.i += 1;
                    p.expr(true)?.e
                } else {
                    p.mk(member, ExprKind::Path(vec![name.clone()]))
                };
                fields.push((name, value));
                if p.i >= p.end {
                    break;
                }
                if !p.is_p(0, b',') {
                    return None;
                }
                p.i += 1;
            }
            Some((fields, rest))
        })?;
        let span = Self::join(path_span, braces);
        let e = self.mk(span, ExprKind::Struct { path, fields, rest });
        Some(E { e, s: Shape::Other })
    }

    /// A macro call at the current token (its path).
    fn macro_call(&mut self) -> R<E> {
        let (names, span, generic) = self.path()?;
        if generic || !self.is_p(0, b'!') {
            return None;
        }
        self.macro_rest(names, span)
    }

    /// After a macro's path: `!` and its delimited input, read as lowering reads it.
    fn macro_rest(&mut self, path: Vec<String>, path_span: Span) -> R<E> {
        self.i += 1;
        let open = self.i;
        let Some(Tk::Open(delim)) = self.at(open).map(|t| t.k) else {
            return None;
        };
        let span = Self::join(path_span, self.group_span(open));
        let name = path.last().cloned().unwrap_or_default();
        let s = Shape::Macro(delim == b'{');
        match name.as_str() {
            "addr_of_mut" | "addr_of" => {
                let inner = self.group(|p| p.expr(true))?;
                let kind = ExprKind::RawAddr {
                    mutable: name == "addr_of_mut",
                    expr: Box::new(inner.e),
                };
                let e = self.mk(span, kind);
                Some(E { e, s })
            }
            "vec" => {
                let args = self.group(Self::list_or_repeat)?;
                Some(self.macro_node(span, path, MacroArgs::Parsed(args), s))
            }
            "matches" | "assert_matches" | "debug_assert_matches" => {
                let first = self.group(|p| {
                    let e = p.expr(true)?.e;
                    // (The pattern and the rest are skipped, as lowering skips them; they
                    // must still be tokens proc-macro2 reads, which they are.)
                    p.i = p.end;
                    Some(e)
                })?;
                Some(self.macro_node(span, path, MacroArgs::Parsed(vec![first]), s))
            }
            "select" => None,
            n if is_expr_list_macro(n) => {
                let format = is_format_macro(n);
                // An argument syn cannot read as an expression (`target: "x"`, `?value`,
                // `%value`, as tracing's macros take): lowering reads the input's identifiers
                // only. (What was read before it is undone: no expression ids.)
                let before = (
                    self.ids,
                    self.items,
                    self.truncated,
                    self.unread_macros.len(),
                    self.unread_macro_rules.len(),
                );
                let args = self.group(|p| {
                    p.comma_list(|p| {
                        let named = p.at(p.i).is_some_and(|t| matches!(t.k, Tk::Ident | Tk::Raw))
                            && p.is_p(1, b':')
                            && !p.is_ps(1, b"::");
                        if named || p.is_p(0, b'?') || p.is_p(0, b'%') {
                            p.i = p.end;
                            return Some(None);
                        }
                        p.expr(true).map(Some)
                    })
                })?;
                let es: Option<Vec<E>> = args.0.into_iter().collect();
                let Some(es) = es else {
                    (self.ids, self.items, self.truncated) = (before.0, before.1, before.2);
                    self.unread_macros.truncate(before.3);
                    self.unread_macro_rules.truncate(before.4);
                    let mut idents = Vec::new();
                    self.collect_idents(open, &mut idents);
                    return Some(self.macro_node(span, path, MacroArgs::Opaque(idents), s));
                };
                let mut strs = Vec::new();
                let mut args = Vec::with_capacity(es.len());
                for e in es {
                    if format && e.s == Shape::Str {
                        strs.push(e.e.span);
                    }
                    args.push(e.e);
                }
                for lit in strs {
                    let text = &self.text[lit.lo as usize - self.base as usize..lit.hi as usize - self.base as usize];
                    for name in format_string_captures(&str_value(text)?) {
                        let p = self.mk(lit, ExprKind::Path(vec![name]));
                        args.push(p);
                    }
                }
                Some(self.macro_node(span, path, MacroArgs::Parsed(args), s))
            }
            _ => {
                let mut idents = Vec::new();
                self.collect_idents(open, &mut idents);
                self.i = self.mate[open] as usize + 1;
                Some(self.macro_node(span, path, MacroArgs::Opaque(idents), s))
            }
        }
    }

    fn macro_node(&mut self, span: Span, path: Vec<String>, args: MacroArgs, s: Shape) -> E {
        let e = self.mk(span, ExprKind::Macro { path, args });
        E { e, s }
    }

    /// The identifiers of a macro's input, as lowering's `collect_idents` finds them in
    /// proc-macro2's tokens.
    fn collect_idents(&self, open: usize, out: &mut Vec<String>) {
        let close = self.mate[open] as usize;
        for t in &self.t[open + 1..close] {
            let w = self.word_of(*t);
            match t.k {
                Tk::Ident => out.push(w.to_owned()),
                Tk::Raw => out.push(w[2..].to_owned()),
                // (proc-macro2 splits a lifetime into `'` and an identifier.)
                Tk::Life => out.push(w[1..].to_owned()),
                Tk::Lit(_) if w.starts_with('"') => out.extend(format_string_captures(w)),
                _ => {}
            }
        }
    }

    // ------------------------------------------------------------ generic arguments, types

    /// `<..>` of a turbofish, after `::`: the types among its arguments.
    fn generic_args(&mut self) -> R<Vec<Ty>> {
        if !self.is_p(0, b'<') {
            return None;
        }
        self.generic_args_after_lt()
    }

    /// From a `<`, the generic arguments to the matching `>`: their types.
    fn generic_args_after_lt(&mut self) -> R<Vec<Ty>> {
        self.nest()?;
        self.i += 1;
        let mut out = Vec::new();
        loop {
            if self.is_p(0, b'>') {
                self.i += 1;
                break;
            }
            let t = self.at(self.i)?;
            match t.k {
                Tk::Life => self.i += 1,
                Tk::Lit(_) => self.i += 1,
                // (A constant argument: `::<false>`.)
                Tk::Ident if matches!(self.word_of(t), "true" | "false") => self.i += 1,
                Tk::P(b'-') if self.at(self.i + 1).is_some_and(|t| matches!(t.k, Tk::Lit(_))) => self.i += 2,
                Tk::Open(b'{') => self.i = self.mate[self.i] as usize + 1,
                _ if self.ident_at(0).is_some() && self.is_p(1, b':') && !self.is_ps(1, b"::") => return None,
                _ if self.ident_at(0).is_some() && self.is_p(1, b'=') && !self.is_ps(1, b"==") => {
                    // An associated type's binding (`Item = T`): no type argument.
                    self.i += 2;
                    self.ty(true)?;
                }
                _ => {
                    out.push(self.ty(true)?);
                    // (`Name<..> = T`, a generic associated type's binding: left to syn.)
                    if self.is_p(0, b'=') {
                        return None;
                    }
                }
            }
            if self.is_p(0, b',') {
                self.i += 1;
            } else if !self.is_p(0, b'>') {
                return None;
            }
        }
        self.depth -= 1;
        Some(out)
    }

    /// A type. `allow_plus`: `dyn A + B` may take more than one bound.
    fn ty(&mut self, allow_plus: bool) -> R<Ty> {
        self.nest()?;
        let r = self.ty_inner(allow_plus);
        self.depth -= 1;
        r
    }

    fn ty_inner(&mut self, allow_plus: bool) -> R<Ty> {
        let t = self.at(self.i)?;
        match t.k {
            Tk::P(b'&') => {
                self.i += 1;
                if self.at(self.i).is_some_and(|t| t.k == Tk::Life) {
                    self.i += 1;
                }
                let mutable = self.is_word(0, "mut");
                if mutable {
                    self.i += 1;
                }
                let inner = self.ty(false)?;
                Some(Ty::Ref {
                    mutable,
                    inner: Box::new(inner),
                })
            }
            Tk::P(b'*') => {
                self.i += 1;
                let mutable = self.is_word(0, "mut");
                if !mutable && !self.is_word(0, "const") {
                    return None;
                }
                self.i += 1;
                let inner = self.ty(false)?;
                Some(Ty::Ptr {
                    mutable,
                    inner: Box::new(inner),
                })
            }
            Tk::P(b'!') => {
                self.i += 1;
                Some(Ty::Other)
            }
            Tk::Open(b'(') => {
                let (tys, trailing) = self.group(|p| p.comma_list(|p| p.ty(true)))?;
                if tys.len() == 1 && !trailing {
                    // `(T)`: syn's `Type::Paren`, lowered as `T`; `(T) + B` is left to syn.
                    if self.is_p(0, b'+') {
                        return None;
                    }
                    return tys.into_iter().next();
                }
                Some(Ty::Tuple(tys))
            }
            Tk::Open(b'[') => self.group(|p| {
                let elem = p.ty(true)?;
                if p.i >= p.end {
                    return Some(Ty::Slice(Box::new(elem)));
                }
                if !p.is_p(0, b';') {
                    return None;
                }
                p.i += 1;
                // The length: a literal, a name or a path, or a block.
                if p.is_open(0, b'{') {
                    p.i = p.mate[p.i] as usize + 1;
                } else if p.at(p.i).is_some_and(|t| matches!(t.k, Tk::Lit(_))) {
                    p.i += 1;
                } else {
                    p.mod_path_len().map(|n| p.i += n)?;
                }
                Some(Ty::Array(Box::new(elem)))
            }),
            Tk::Ident | Tk::Raw | Tk::P(b':') => {
                let w = if t.k == Tk::Ident { self.word_of(t) } else { "" };
                match w {
                    "_" => {
                        self.i += 1;
                        Some(Ty::Infer)
                    }
                    "impl" | "dyn" => {
                        self.i += 1;
                        let mut bounds = Vec::new();
                        loop {
                            if self.at(self.i).is_some_and(|t| t.k == Tk::Life) {
                                self.i += 1;
                            } else {
                                if self.is_p(0, b'?') || self.is_word(0, "for") || self.is_open(0, b'(') {
                                    return None;
                                }
                                bounds.push(self.ty_path()?);
                            }
                            if allow_plus && self.is_p(0, b'+') {
                                self.i += 1;
                            } else {
                                break;
                            }
                        }
                        Some(Ty::Bounds(bounds))
                    }
                    "fn" | "unsafe" | "extern" => {
                        // A function pointer (`unsafe extern "C" fn(u8) -> u8`): no type the
                        // IR keeps.
                        if self.is_word(0, "unsafe") {
                            self.i += 1;
                        }
                        if self.is_word(0, "extern") {
                            self.i += 1;
                            if self.at(self.i).is_some_and(|t| t.k == Tk::Lit(Lk::Str)) {
                                self.i += 1;
                            }
                        }
                        if !self.is_word(0, "fn") || !self.is_open(1, b'(') {
                            return None;
                        }
                        self.i = self.mate[self.i + 1] as usize + 1;
                        if self.is_ps(0, b"->") {
                            self.i += 2;
                            self.ty(false)?;
                        }
                        Some(Ty::Other)
                    }
                    "for" => None,
                    _ if t.k == Tk::Ident && is_keyword(w) && !matches!(w, "self" | "Self" | "super" | "crate") => None,
                    _ => {
                        let p = self.ty_path()?;
                        // (A path followed by `+` is a bare trait object; a macro type is
                        // left to syn too.)
                        if self.is_p(0, b'+') && allow_plus || self.is_p(0, b'!') && !self.is_ps(0, b"!=") {
                            return None;
                        }
                        Some(Ty::Path(p))
                    }
                }
            }
            _ => None,
        }
    }

    /// A type's path, with the types among each segment's generic arguments.
    fn ty_path(&mut self) -> R<TyPath> {
        let mut segments = Vec::new();
        if self.is_ps(0, b"::") {
            self.i += 2;
        }
        loop {
            let name = self.segment_at(0)?.to_owned();
            self.i += 1;
            let mut args = Vec::new();
            if self.is_ps(0, b"::") && self.is_p(2, b'<') {
                self.i += 2;
            }
            if self.is_p(0, b'<') && !self.is_ps(0, b"<=") && !self.is_ps(0, b"<<") {
                args = self.generic_args_after_lt()?;
            } else if self.is_open(0, b'(') {
                // `Fn(A) -> B`: no type arguments in the IR.
                self.i = self.mate[self.i] as usize + 1;
                if self.is_ps(0, b"->") {
                    self.i += 2;
                    self.ty(false)?;
                }
            }
            segments.push(TySeg { name, args });
            if self.is_ps(0, b"::") && !self.is_p(2, b'<') {
                self.i += 2;
            } else {
                break;
            }
        }
        Some(TyPath { segments })
    }

    // ------------------------------------------------------------ patterns

    /// syn's `Pat::parse_multi_with_leading_vert`.
    fn pat_multi(&mut self) -> R<Pat> {
        let leading = self.is_p(0, b'|') && !self.is_ps(0, b"||");
        if leading {
            self.i += 1;
        }
        let first = self.pat_single()?;
        let more = |p: &Self| p.is_p(0, b'|') && !p.is_ps(0, b"||") && !p.is_ps(0, b"|=");
        if !leading && !more(self) {
            return Some(first);
        }
        let mut cases = vec![first];
        while more(self) {
            self.i += 1;
            cases.push(self.pat_single()?);
        }
        Some(Pat::Compound(cases))
    }

    fn pat_single(&mut self) -> R<Pat> {
        self.nest()?;
        let r = self.pat_inner();
        self.depth -= 1;
        r
    }

    #[allow(clippy::too_many_lines)] // one arm per kind of pattern, as syn's
    fn pat_inner(&mut self) -> R<Pat> {
        let t = self.at(self.i)?;
        let w = if t.k == Tk::Ident { self.word_of(t) } else { "" };
        let ident_like = t.k == Tk::Raw || t.k == Tk::Ident && !is_keyword(w);
        let path_like = ident_like
            && (self.is_ps(1, b"::")
                || self.is_p(1, b'!')
                || self.is_open(1, b'{')
                || self.is_open(1, b'(')
                || self.is_ps(1, b".."))
            || w == "self" && self.is_ps(1, b"::")
            || self.is_ps(0, b"::")
            || matches!(w, "Self" | "super" | "crate");
        if path_like {
            let (names, _, generic) = self.path()?;
            let last = names.last().cloned().unwrap_or_default();
            if self.is_p(0, b'!') || generic && !self.is_p(0, b'(') && !self.is_open(0, b'{') {
                return None;
            }
            if self.is_open(0, b'{') {
                return self.group(Self::field_pats);
            }
            if self.is_open(0, b'(') {
                let elems = self.group(Self::pat_list)?;
                return Some(Pat::Variant { name: last, elems });
            }
            if self.is_ps(0, b"..") {
                // A range from a path: nothing bound.
                return self.pat_range_rest().map(|()| Pat::Other);
            }
            return Some(Pat::Path(last));
        }
        if w == "_" {
            self.i += 1;
            return Some(Pat::Wild);
        }
        if matches!(t.k, Tk::Lit(_)) || matches!(w, "true" | "false") || t.k == Tk::P(b'-') {
            if t.k == Tk::P(b'-') {
                if !self.at(self.i + 1).is_some_and(|t| matches!(t.k, Tk::Lit(_))) {
                    return None;
                }
                self.i += 1;
            }
            self.i += 1;
            if self.is_ps(0, b"..") {
                self.pat_range_rest()?;
            }
            return Some(Pat::Other);
        }
        if ident_like || matches!(w, "ref" | "mut" | "self") {
            let by_ref = self.is_word(0, "ref");
            if by_ref {
                self.i += 1;
            }
            let mutable = self.is_word(0, "mut");
            if mutable {
                self.i += 1;
            }
            let t = self.at(self.i)?;
            let name = if self.is_word(0, "self") {
                "self".to_owned()
            } else {
                self.ident_at(0)?
            };
            let span = self.span(t.lo, t.hi);
            self.i += 1;
            let sub = if self.is_p(0, b'@') {
                self.i += 1;
                Some(Box::new(self.pat_single()?))
            } else {
                None
            };
            return Some(Pat::Ident {
                name,
                by_ref,
                mutable,
                span,
                sub,
            });
        }
        match t.k {
            Tk::P(b'&') => {
                if self.is_ps(0, b"&&") {
                    return None;
                }
                self.i += 1;
                if self.is_word(0, "mut") {
                    self.i += 1;
                }
                Some(Pat::Ref(Box::new(self.pat_single()?)))
            }
            Tk::Open(b'(') => {
                let (mut elems, paren) = self.group(|p| {
                    let mut out = Vec::new();
                    let mut paren = false;
                    while p.i < p.end {
                        let rest = p.is_ps(0, b"..") && (p.i + 2 >= p.end || p.is_p(2, b','));
                        let v = p.pat_multi()?;
                        if p.i >= p.end {
                            paren = out.is_empty() && !rest;
                            out.push(v);
                            break;
                        }
                        out.push(v);
                        if !p.is_p(0, b',') {
                            return None;
                        }
                        p.i += 1;
                    }
                    Some((out, paren))
                })?;
                if paren {
                    return elems.pop();
                }
                Some(Pat::Tuple(elems))
            }
            Tk::Open(b'[') => {
                let elems = self.group(|p| {
                    let mut out = Vec::new();
                    while p.i < p.end {
                        // (`..` alone is a rest; a half-open range inside is syn's error.)
                        let rest = p.is_ps(0, b"..") && (p.i + 2 >= p.end || p.is_p(2, b','));
                        let before = p.i;
                        let v = p.pat_multi()?;
                        if !rest && p.t[before..p.i].iter().any(|t| t.k == Tk::P(b'.')) {
                            return None;
                        }
                        out.push(v);
                        if p.i >= p.end {
                            break;
                        }
                        if !p.is_p(0, b',') {
                            return None;
                        }
                        p.i += 1;
                    }
                    Some(out)
                })?;
                Some(Pat::Compound(elems))
            }
            Tk::P(b'.') if self.is_ps(0, b"..") && !self.is_ps(0, b"...") => {
                let closed = self.is_ps(0, b"..=");
                self.i += if closed { 3 } else { 2 };
                // `..` alone (a rest) or `..=X` / `..X`: nothing bound either way.
                if self.range_bound_ahead() {
                    self.range_bound()?;
                } else if closed {
                    return None;
                }
                Some(Pat::Other)
            }
            _ => None,
        }
    }

    /// After a range pattern's start, at `..`, `..=` or `...`: the rest of it.
    fn pat_range_rest(&mut self) -> R<()> {
        let closed = self.is_ps(0, b"..=") || self.is_ps(0, b"...");
        self.i += if closed { 3 } else { 2 };
        if self.range_bound_ahead() {
            self.range_bound()
        } else if closed {
            None
        } else {
            Some(())
        }
    }

    /// syn's `pat_range_bound`: whether a bound follows.
    fn range_bound_ahead(&self) -> bool {
        !(self.i >= self.end
            || self.is_p(0, b'|')
            || self.is_p(0, b'=')
            || self.is_p(0, b':') && !self.is_ps(0, b"::")
            || self.is_p(0, b',')
            || self.is_p(0, b';')
            || self.is_word(0, "if"))
    }

    fn range_bound(&mut self) -> R<()> {
        let t = self.at(self.i)?;
        match t.k {
            Tk::Lit(_) => self.i += 1,
            Tk::P(b'-') if self.at(self.i + 1).is_some_and(|t| matches!(t.k, Tk::Lit(_))) => self.i += 2,
            _ if self.mod_path_len().is_some() => {
                let (_, _, generic) = self.path()?;
                if generic {
                    return None;
                }
            }
            _ => return None,
        }
        Some(())
    }

    fn pat_list(&mut self) -> R<Vec<Pat>> {
        self.comma_list(Self::pat_multi).map(|(ps, _)| ps)
    }

    /// The fields of a struct pattern `S { a, b: p, ref c, .. }`.
    fn field_pats(&mut self) -> R<Pat> {
        let mut fields = Vec::new();
        while self.i < self.end {
            if self.is_p(0, b'#') || self.is_word(0, "box") {
                return None;
            }
            if self.is_ps(0, b"..") {
                self.i += 2;
                if self.i < self.end {
                    return None;
                }
                break;
            }
            let by_ref = self.is_word(0, "ref");
            if by_ref {
                self.i += 1;
            }
            let mutable = self.is_word(0, "mut");
            if mutable {
                self.i += 1;
            }
            let t = self.at(self.i)?;
            let (name, named) = match t.k {
                Tk::Lit(Lk::Index) if !by_ref && !mutable => (self.word_of(t).to_owned(), false),
                _ => (self.ident_at(0)?, true),
            };
            let span = self.span(t.lo, t.hi);
            self.i += 1;
            let pat = if !by_ref && !mutable && self.is_p(0, b':') && !self.is_ps(0, b"::") || !named {
                if !self.is_p(0, b':') || self.is_ps(0, b"::") {
                    return None;
                }
                self.i += 1;
                self.pat_multi()?
            } else {
                Pat::Ident {
                    name: name.clone(),
                    by_ref,
                    mutable,
                    span,
                    sub: None,
                }
            };
            fields.push((name, pat));
            if self.i >= self.end {
                break;
            }
            if !self.is_p(0, b',') {
                return None;
            }
            self.i += 1;
        }
        Some(Pat::Struct(fields))
    }
}

/// The value of a string literal's text (`"a{b}"`, `r#"..."#`), for its format captures.
fn str_value(text: &str) -> Option<String> {
    if let Some(raw) = text.strip_prefix('r') {
        let hashes = raw.len() - raw.trim_start_matches('#').len();
        return Some(raw.get(hashes + 1..raw.len() - hashes - 1)?.to_owned());
    }
    let inner = text.get(1..text.len() - 1)?;
    if !inner.contains('\\') {
        return Some(inner.to_owned());
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            '\\' => out.push('\\'),
            '0' => out.push('\0'),
            '\'' => out.push('\''),
            '"' => out.push('"'),
            'x' => {
                let h: String = [chars.next()?, chars.next()?].iter().collect();
                out.push(char::from(u8::from_str_radix(&h, 16).ok()?));
            }
            _ => return None,
        }
    }
    Some(out)
}
