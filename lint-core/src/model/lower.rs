//! syn → [`ir`](super::ir): runs on the thread that parsed the file, converts every span it keeps
//! to byte offsets, parses the arguments of well-known macros, and bounds its own recursion.

use std::collections::HashMap;

use proc_macro2::{Span as PmSpan, TokenStream, TokenTree};
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Token, visit::Visit};

use super::ir::{
    Arm, BinKind, Block, Closure, Expr, ExprKind, Field, FileIr, FnDef, Generics, Item, ItemKind, MacroArgs, Param,
    Pat, SelfKind, StaticKind, Stmt, Ty, TyPath, TySeg, UnOp, UseEntry,
};
use crate::catalog::{is_expr_list_macro, is_format_macro};
use crate::diagnostic::Span;
use crate::lex::Omit;

mod bodies;
pub mod macro_rules;

/// Expressions nested deeper than this are replaced by opaque nodes (the file is still analyzed).
pub const MAX_DEPTH: u32 = 256;

/// Parses and lowers a file's text. `Err` carries the parse error message and its byte span.
pub fn parse_and_lower(file: u32, text: &str) -> Result<FileIr, (String, Span)> {
    let (base, content) = strip_prefix(text);
    let lines = crate::source::line_starts(content);
    parse_lines(file, base, content, lines, content, HashMap::new())
}

/// Parses and lowers a file's text with `omit` left out (see [`crate::lex::plan`]). Lines that
/// lie wholly inside a left-out range (and hold no `_` hole) hold no token, so syn
/// never sees them (a third of the text parsed), and positions are mapped back through the
/// lines kept. A parse error is reported against the text syn saw: parse the whole text to
/// report it.
pub fn parse_and_lower_blanked(file: u32, text: &str, omit: &Omit) -> Result<FileIr, (String, Span)> {
    let ir = parse_and_lower_blanked_with(file, text, omit, true);
    // Debug builds (the tests) check on every file that reading function bodies without syn
    // changes nothing: the same IR, or the same error.
    #[cfg(debug_assertions)]
    {
        let by_syn = parse_and_lower_blanked_with(file, text, omit, false);
        assert_eq!(
            format!("{ir:?}"),
            format!("{by_syn:?}"),
            "bodies read without syn differ"
        );
    }
    ir
}

/// How many function bodies of a file, and how many bytes of them, the own body parser finds
/// and reads (`examples/body_diff.rs`).
#[doc(hidden)]
#[must_use]
pub fn own_bodies_coverage(text: &str, omit: &Omit) -> [usize; 4] {
    let mut blanked = omit.apply(text);
    let (base, content) = strip_prefix(&blanked);
    let found = bodies::found(content);
    let ready = bodies::pre_parse(0, base, &mut blanked);
    let read: usize = found
        .iter()
        .filter(|(o, _)| ready.contains_key(&((base + o) as u32)))
        .map(|(o, c)| c - o)
        .sum();
    [found.len(), ready.len(), found.iter().map(|(o, c)| c - o).sum(), read]
}

/// [`parse_and_lower_blanked`], with function bodies read by syn too when `own_bodies` is
/// false (what `examples/body_diff.rs` compares).
#[doc(hidden)]
pub fn parse_and_lower_blanked_with(
    file: u32,
    text: &str,
    omit: &Omit,
    own_bodies: bool,
) -> Result<FileIr, (String, Span)> {
    let mut blanked = omit.apply(text);
    let ready = if own_bodies {
        let (base, _) = strip_prefix(&blanked);
        bodies::pre_parse(file, base, &mut blanked)
    } else {
        HashMap::new()
    };
    let (base, content) = strip_prefix(&blanked);
    let mut ranges = omit
        .ranges
        .iter()
        .map(|&(lo, hi)| ((lo as usize).saturating_sub(base), (hi as usize).saturating_sub(base)))
        .peekable();
    // The insides of the bodies read already: a line wholly inside one holds no token either.
    let mut read: Vec<(usize, usize)> = ready
        .values()
        .map(|r| (r.block.span.lo as usize + 1 - base, r.block.span.hi as usize - 1 - base))
        .collect();
    read.sort_unstable();
    let mut read = read.into_iter().peekable();
    let mut holes = omit
        .holes
        .iter()
        .map(|&at| (at as usize).saturating_sub(base))
        .peekable();
    let starts = crate::source::line_starts(content);
    let mut kept = Vec::with_capacity(starts.len());
    let mut compact = String::with_capacity(content.len());
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(content.len());
        // The line without its line break.
        let body_end = if end > start && content.as_bytes()[end - 1] == b'\n' {
            end - 1
        } else {
            end
        };
        while ranges.peek().is_some_and(|&(_, hi)| hi < body_end.max(start + 1)) {
            ranges.next();
        }
        while holes.peek().is_some_and(|&at| at < start) {
            holes.next();
        }
        while read.peek().is_some_and(|&(_, hi)| hi < body_end.max(start + 1)) {
            read.next();
        }
        let inside = ranges.peek().is_some_and(|&(lo, hi)| lo <= start && body_end <= hi)
            && holes.peek().is_none_or(|&at| at >= end)
            || read.peek().is_some_and(|&(lo, hi)| lo <= start && body_end <= hi);
        if !inside {
            kept.push(start);
            compact.push_str(&content[start..end]);
        }
    }
    parse_lines(file, base, content, kept, &compact, ready)
}

/// A byte-order mark, and a shebang line (not an inner attribute `#![..]`), are no Rust.
fn strip_prefix(text: &str) -> (usize, &str) {
    let mut base = 0usize;
    let mut content = text;
    if let Some(rest) = content.strip_prefix('\u{feff}') {
        base += 3;
        content = rest;
    }
    if content.starts_with("#!") && !content[2..].trim_start().starts_with('[') {
        let end = content.find('\n').unwrap_or(content.len());
        base += end;
        content = &content[end..];
    }
    (base, content)
}

/// Parses `source`, whose line `i` (from 0) is the line of `content` starting at `lines[i]`,
/// and lowers it with spans in `content` (which starts at byte `base` of the file).
fn parse_lines(
    file: u32,
    base: usize,
    content: &str,
    lines: Vec<usize>,
    source: &str,
    ready: HashMap<u32, bodies::Ready>,
) -> Result<FileIr, (String, Span)> {
    let parsed = syn::parse_str::<syn::File>(source);
    let offsets = Offsets {
        text: content,
        lines,
        ascii: content.is_ascii(),
    };
    let result = match parsed {
        Ok(f) => {
            let mut l = Lowerer {
                file,
                base,
                offsets,
                next_id: 0,
                depth: 0,
                truncated: false,
                unread_macros: Vec::new(),
                unread_macro_rules: Vec::new(),
                body_items: 0,
                ready,
            };
            let items = l.items(&f.items);
            Ok(FileIr {
                items,
                expr_count: l.next_id,
                truncated: l.truncated,
                unread_macros: l.unread_macros,
                unread_macro_rules: l.unread_macro_rules,
            })
        }
        Err(e) => {
            // Through the lines syn was given, to the file's bytes (syn's own offsets are
            // in the text it saw, which leaves lines out).
            let (lo, hi) = (offsets.byte(e.span().start()), offsets.byte(e.span().end()));
            Err((
                e.to_string(),
                Span::new(file, (base + lo) as u32, (base + hi.max(lo)) as u32),
            ))
        }
    };
    // proc-macro2 keeps every parsed file in a thread-local source map; free it.
    proc_macro2::extra::invalidate_current_thread_spans();
    result
}

/// Byte offsets from proc-macro2's line/column positions. (`Span::byte_range` maps character
/// offsets to bytes through a per-file `BTreeMap` it fills on every call; lines are cheaper.)
struct Offsets<'a> {
    text: &'a str,
    lines: Vec<usize>,
    /// Every character is one byte: columns are byte counts.
    ascii: bool,
}

impl Offsets<'_> {
    fn byte(&self, at: proc_macro2::LineColumn) -> usize {
        match self.lines.get(at.line.wrapping_sub(1)) {
            Some(start) if self.ascii => (start + at.column).min(self.text.len()),
            _ => crate::source::offset_of(self.text, &self.lines, at.line, at.column),
        }
    }
}

struct Lowerer<'a> {
    file: u32,
    base: usize,
    offsets: Offsets<'a>,
    next_id: u32,
    depth: u32,
    truncated: bool,
    unread_macros: Vec<Span>,
    unread_macro_rules: Vec<Span>,
    /// Items declared in bodies so far (see [`FnDef::declares_items`]).
    body_items: u32,
    /// Function bodies read without syn, by the byte of their `{` (see [`bodies`]).
    ready: HashMap<u32, bodies::Ready>,
}

fn ident_str(i: &proc_macro2::Ident) -> String {
    let mut s = i.to_string();
    if s.starts_with("r#") {
        s.drain(..2);
    }
    s
}

/// An anonymous module whose items are visible in the enclosing scope: what an item macro
/// declares.
fn anonymous_mod(items: Vec<Item>, span: Span) -> Item {
    Item {
        kind: ItemKind::Mod {
            name: String::new(),
            items: Some(items),
        },
        span,
        name_span: span,
    }
}

/// Whether a macro's input names an item keyword at its top level (`fn`, `struct`, `impl`...):
/// meant as items, so one that does not parse as items is worth a note.
fn holds_item_keyword(tokens: &proc_macro2::TokenStream) -> bool {
    const ITEM_WORDS: [&str; 10] = [
        "fn", "struct", "enum", "union", "impl", "trait", "mod", "static", "use", "type",
    ];
    tokens.clone().into_iter().any(|t| match &t {
        proc_macro2::TokenTree::Ident(i) => ITEM_WORDS.iter().any(|w| i == w),
        _ => false,
    })
}

/// A macro's tokens as items, after its own inner attributes when `inner_attrs` allows them.
fn parse_items(tokens: TokenStream, inner_attrs: bool) -> syn::Result<Vec<syn::Item>> {
    parse_all(tokens, inner_attrs)
}

/// A macro's tokens as a sequence of `T` (items, or an `impl`'s or `trait`'s items), after its
/// own inner attributes when `inner_attrs` allows them.
fn parse_all<T: syn::parse::Parse>(tokens: TokenStream, inner_attrs: bool) -> syn::Result<Vec<T>> {
    (|input: ParseStream<'_>| {
        if inner_attrs {
            input.call(syn::Attribute::parse_inner)?;
        }
        let mut out = Vec::new();
        while !input.is_empty() {
            out.push(input.parse::<T>()?);
        }
        Ok(out)
    })
    .parse2(tokens)
}

/// The token streams an item macro stands for: its input, or each branch of a `cfg_if!`
/// (`if #[cfg(..)] { .. } else if #[cfg(..)] { .. } else { .. }`: each braced group at the
/// top level).
fn macro_branches(mac: &syn::Macro, name: &str) -> Vec<TokenStream> {
    if name == crate::catalog::CFG_IF {
        mac.tokens
            .clone()
            .into_iter()
            .filter_map(|t| match t {
                TokenTree::Group(g) if g.delimiter() == proc_macro2::Delimiter::Brace => Some(g.stream()),
                _ => None,
            })
            .collect()
    } else {
        vec![mac.tokens.clone()]
    }
}

fn path_names(p: &syn::Path) -> Vec<String> {
    p.segments.iter().map(|s| ident_str(&s.ident)).collect()
}

impl Lowerer<'_> {
    fn sp(&self, s: PmSpan) -> Span {
        let (lo, hi) = (self.offsets.byte(s.start()), self.offsets.byte(s.end()));
        Span::new(self.file, (self.base + lo) as u32, (self.base + hi) as u32)
    }

    /// The span of one identifier or keyword token: its end is found in the text, which saves
    /// a source-map lookup (raw and non-ASCII identifiers take the general way).
    fn sp_word(&self, s: PmSpan) -> Span {
        let lo = self.offsets.byte(s.start());
        let rest = self.offsets.text.as_bytes().get(lo..).unwrap_or_default();
        let n = crate::tokens::ident_len(rest);
        if n == 0 || rest.get(n).is_some_and(|b| !b.is_ascii() || *b == b'#') {
            return self.sp(s);
        }
        let span = Span::new(self.file, (self.base + lo) as u32, (self.base + lo + n) as u32);
        debug_assert_eq!(span, self.sp(s), "not one word");
        span
    }

    fn join(a: Span, b: Span) -> Span {
        Span {
            file: a.file,
            lo: a.lo.min(b.lo),
            hi: a.hi.max(b.hi),
        }
    }

    fn id(&mut self) -> u32 {
        self.next_id += 1;
        self.next_id - 1
    }

    fn mk(&mut self, span: Span, kind: ExprKind) -> Expr {
        Expr {
            id: self.id(),
            span,
            kind,
        }
    }

    // ---------------------------------------------------------------- items

    fn items(&mut self, items: &[syn::Item]) -> Vec<Item> {
        items.iter().filter_map(|i| self.item(i)).collect()
    }

    fn item(&mut self, item: &syn::Item) -> Option<Item> {
        let (kind, span, name_span) = match item {
            syn::Item::Use(u) => {
                let mut out = Vec::new();
                use_tree(&u.tree, &mut Vec::new(), &mut out);
                let span = self.sp_word(u.use_token.span);
                (ItemKind::Use(out), span, span)
            }
            syn::Item::Struct(s) => {
                let fields = self.fields(&s.fields);
                let span = self.sp_word(s.struct_token.span);
                (
                    ItemKind::Struct {
                        name: ident_str(&s.ident),
                        generics: self.generics(&s.generics),
                        fields,
                    },
                    span,
                    self.sp_word(s.ident.span()),
                )
            }
            syn::Item::Union(s) => {
                let fields = s
                    .fields
                    .named
                    .iter()
                    .map(|f| Field {
                        name: field_name(f, 0),
                        ty: self.ty(&f.ty),
                    })
                    .collect();
                let span = self.sp_word(s.union_token.span);
                (
                    ItemKind::Struct {
                        name: ident_str(&s.ident),
                        generics: self.generics(&s.generics),
                        fields,
                    },
                    span,
                    self.sp_word(s.ident.span()),
                )
            }
            syn::Item::Enum(e) => {
                let variants = e
                    .variants
                    .iter()
                    .map(|v| (ident_str(&v.ident), self.fields(&v.fields)))
                    .collect();
                (
                    ItemKind::Enum {
                        name: ident_str(&e.ident),
                        generics: self.generics(&e.generics),
                        variants,
                    },
                    self.sp_word(e.enum_token.span),
                    self.sp_word(e.ident.span()),
                )
            }
            syn::Item::Type(t) => (
                ItemKind::TypeAlias {
                    name: ident_str(&t.ident),
                    generics: self.generics(&t.generics),
                    ty: self.ty(&t.ty),
                },
                self.sp_word(t.type_token.span),
                self.sp_word(t.ident.span()),
            ),
            syn::Item::Static(s) => {
                let kind = if matches!(s.mutability, syn::StaticMutability::Mut(_)) {
                    StaticKind::Mut
                } else {
                    StaticKind::Plain
                };
                (
                    ItemKind::Static {
                        name: ident_str(&s.ident),
                        kind,
                        ty: self.ty(&s.ty),
                    },
                    self.sp_word(s.static_token.span),
                    self.sp_word(s.ident.span()),
                )
            }
            syn::Item::Const(c) => (
                ItemKind::Const {
                    name: ident_str(&c.ident),
                    ty: self.ty(&c.ty),
                    items: self.const_block_items(c),
                },
                self.sp_word(c.const_token.span),
                self.sp_word(c.ident.span()),
            ),
            syn::Item::Fn(f) => {
                let def = self.fn_def(&f.sig, Some(&f.block));
                let (span, name_span) = (def.span, def.name_span);
                (ItemKind::Fn(def), span, name_span)
            }
            syn::Item::Impl(i) => {
                let fns = self.impl_fns(&i.items);
                let head = self.sp_word(i.impl_token.span);
                let span = i.unsafety.map_or(head, |u| Self::join(self.sp(u.span), head));
                let header = Self::join(span, self.sp(i.self_ty.span()));
                let trait_path = i.trait_.as_ref().map(|(_, p, _)| self.ty_path(p));
                (
                    ItemKind::Impl {
                        generics: self.generics(&i.generics),
                        self_ty: self.ty(&i.self_ty),
                        trait_path,
                        is_unsafe: i.unsafety.is_some(),
                        fns,
                    },
                    header,
                    header,
                )
            }
            syn::Item::Trait(t) => {
                let fns = self.trait_fns(&t.items);
                (
                    ItemKind::Trait {
                        name: ident_str(&t.ident),
                        fns,
                    },
                    self.sp_word(t.trait_token.span),
                    self.sp_word(t.ident.span()),
                )
            }
            syn::Item::Mod(m) => {
                let items = m.content.as_ref().map(|(_, items)| self.items(items));
                (
                    ItemKind::Mod {
                        name: ident_str(&m.ident),
                        items,
                    },
                    self.sp_word(m.mod_token.span),
                    self.sp_word(m.ident.span()),
                )
            }
            syn::Item::Macro(m) => return self.item_macro(&m.mac, m.ident.as_ref()),
            _ => return None,
        };
        Some(Item { kind, span, name_span })
    }

    /// `lazy_static!` and `thread_local!` declare statics; they are lowered as a module of statics.
    /// (`ident`: the name a `macro_rules!` defines.)
    fn item_macro(&mut self, mac: &syn::Macro, ident: Option<&syn::Ident>) -> Option<Item> {
        let name = mac.path.segments.last()?.ident.to_string();
        let Some((_, kind)) = crate::catalog::STATIC_MACROS.iter().find(|(m, _)| *m == name) else {
            if name == "macro_rules" {
                return self.macro_rules_items(mac, ident?);
            }
            return self.macro_of_items(mac, &name);
        };
        let kind = match kind {
            crate::catalog::StaticMacro::LazyStatic => StaticKind::LazyStatic,
            crate::catalog::StaticMacro::ThreadLocal => StaticKind::ThreadLocal,
        };
        let decls = parse_static_decls.parse2(mac.tokens.clone()).ok()?;
        let span = self.sp(mac.path.span());
        let items = decls
            .into_iter()
            .map(|(ident, ty)| Item {
                kind: ItemKind::Static {
                    name: ident_str(&ident),
                    kind,
                    ty: self.ty(&ty),
                },
                span,
                name_span: self.sp_word(ident.span()),
            })
            .collect();
        Some(anonymous_mod(items, span))
    }

    /// The items declared in `const _: () = { .. };` (expanded code and static assertions wrap
    /// `impl`s and functions so): the block's own items, not its expressions.
    fn const_block_items(&mut self, c: &syn::ItemConst) -> Vec<Item> {
        let syn::Expr::Block(b) = &*c.expr else {
            return Vec::new();
        };
        if c.ident != "_" {
            return Vec::new();
        }
        b.block
            .stmts
            .iter()
            .filter_map(|s| match s {
                syn::Stmt::Item(i) => self.item(i),
                _ => None,
            })
            .collect()
    }

    /// An item macro whose input is items (`cfg_rt! { .. }`), or `cfg_if!`'s branches of
    /// items, every branch counted: lowered as if written in place, as an anonymous module.
    /// An input that does not parse as items gives nothing.
    fn macro_of_items(&mut self, mac: &syn::Macro, name: &str) -> Option<Item> {
        let span = self.sp(mac.path.span());
        let mut items = Vec::new();
        for tokens in macro_branches(mac, name) {
            // (Most item macros take no items, `impl_num!(u8, u16)`: not even tried.)
            if !holds_item_keyword(&tokens) {
                return None;
            }
            // (`feature! { #![cfg(unix)] .. }`: the wrapper's own attributes first.)
            let Ok(parsed) = parse_items(tokens, true) else {
                self.unread_macros.push(span);
                return None;
            };
            items.extend(parsed.iter().filter_map(|i| self.item(i)));
        }
        Some(anonymous_mod(items, span))
    }

    /// The methods of an `impl` block: its functions, and those its item macros define.
    fn impl_fns(&mut self, items: &[syn::ImplItem]) -> Vec<FnDef> {
        items
            .iter()
            .flat_map(|ii| match ii {
                syn::ImplItem::Fn(f) => vec![self.fn_def(&f.sig, Some(&f.block))],
                syn::ImplItem::Macro(m) => self.member_macro_fns(&m.mac, false),
                _ => Vec::new(),
            })
            .collect()
    }

    /// The methods of a `trait` (with their default bodies), and those its item macros define.
    fn trait_fns(&mut self, items: &[syn::TraitItem]) -> Vec<FnDef> {
        items
            .iter()
            .flat_map(|ti| match ti {
                syn::TraitItem::Fn(f) => vec![self.fn_def(&f.sig, f.default.as_ref())],
                syn::TraitItem::Macro(m) => self.member_macro_fns(&m.mac, true),
                _ => Vec::new(),
            })
            .collect()
    }

    /// The methods an item macro in an `impl` or `trait` block defines (`cfg_rt! { pub fn
    /// spawn(&self) .. }`, `cfg_if!`'s branches, every branch counted): lowered as if written
    /// in the block. An input that does not parse as the block's items gives nothing.
    fn member_macro_fns(&mut self, mac: &syn::Macro, in_trait: bool) -> Vec<FnDef> {
        let Some(name) = mac.path.segments.last().map(|s| s.ident.to_string()) else {
            return Vec::new();
        };
        let span = self.sp(mac.path.span());
        let mut fns = Vec::new();
        for tokens in macro_branches(mac, &name) {
            if !holds_item_keyword(&tokens) {
                return Vec::new();
            }
            let lowered = if in_trait {
                parse_all::<syn::TraitItem>(tokens, true).map(|items| self.trait_fns(&items))
            } else {
                parse_all::<syn::ImplItem>(tokens, true).map(|items| self.impl_fns(&items))
            };
            let Ok(lowered) = lowered else {
                self.unread_macros.push(span);
                return Vec::new();
            };
            fns.extend(lowered);
        }
        fns
    }

    /// What a `macro_rules!` body does, each rule's transcriber read once: every metavariable
    /// becomes a placeholder of its fragment kind, unique to that occurrence (so nothing named
    /// through a metavariable is ever resolved, and no finding can rest on it), `$crate` becomes
    /// `crate`, and each repetition is read once. A transcriber of items gives those items; one
    /// of statements or an expression (`{ let g = STATE.lock(); .. }`) is read as the body of a
    /// function of its own (see [`Lowerer::macro_body_fn`]: an invocation of a one-rule macro is
    /// a call of it, `ItemIndex::macro_fn`). All are lowered as a `const _` block: their own
    /// bodies, whose names no path reaches from another file. A transcriber meant as code (it
    /// names an item or calls a method) that parses as neither is noted (`unread_macro_rules`).
    fn macro_rules_items(&mut self, mac: &syn::Macro, ident: &syn::Ident) -> Option<Item> {
        use proc_macro2::TokenTree;
        let span = self.sp(mac.path.span());
        let rules: Vec<TokenTree> = mac.tokens.clone().into_iter().collect();
        let mut items = Vec::new();
        let mut numbering = macro_rules::Numbering {
            at: span.lo as usize,
            next: 0,
        };
        let rule_count = rules
            .windows(2)
            .filter(
                |w| matches!(w, [TokenTree::Punct(a), TokenTree::Punct(b)] if a.as_char() == '=' && b.as_char() == '>'),
            )
            .count();
        let mut rule = 0;
        let mut at = 0;
        while let [
            TokenTree::Group(matcher),
            TokenTree::Punct(eq),
            TokenTree::Punct(gt),
            TokenTree::Group(body),
            ..,
        ] = &rules[at.min(rules.len())..]
        {
            at += 4;
            rule += 1;
            if matches!(rules.get(at), Some(TokenTree::Punct(p)) if p.as_char() == ';') {
                at += 1;
            }
            if eq.as_char() != '=' || gt.as_char() != '>' {
                break;
            }
            let kinds = macro_rules::fragment_kinds(matcher.stream());
            let tokens = macro_rules::transcribe(body.stream(), &kinds, &mut numbering);
            let meant_as_items = holds_item_keyword(&tokens);
            if meant_as_items && let Ok(parsed) = parse_items(tokens.clone(), false) {
                items.extend(parsed.iter().filter_map(|i| self.item(i)));
                continue;
            }
            match syn::Block::parse_within.parse2(tokens.clone()) {
                Ok(stmts) if !stmts.is_empty() => {
                    // (Only the rule of a one-rule macro is what an invocation runs: which rule
                    // an invocation matches is not worked out.)
                    let name = if rule_count == 1 {
                        format!("{}!", ident_str(ident))
                    } else {
                        format!("{}! (rule {rule})", ident_str(ident))
                    };
                    let def = self.macro_body_fn(name, ident, &stmts, body.span(), macro_rules::awaits(&tokens));
                    items.push(Item {
                        span: def.span,
                        name_span: def.name_span,
                        kind: ItemKind::Fn(def),
                    });
                }
                Ok(_) => {}
                Err(_) if meant_as_items || macro_rules::calls_a_method(&tokens) => {
                    self.unread_macro_rules.push(self.sp(body.span()));
                }
                Err(_) => {}
            }
        }
        (!items.is_empty()).then(|| Item {
            kind: ItemKind::Const {
                name: "_".into(),
                ty: Ty::Tuple(Vec::new()),
                items,
            },
            span,
            name_span: span,
        })
    }

    /// A `macro_rules!` transcriber of statements or an expression, as the body of a function
    /// named `name`, spanning the transcriber: `name!` for a macro of one rule (what an
    /// invocation calls, see `ItemIndex::macro_fn`; no path can), `name! (rule 2)` in a macro of
    /// several (which nothing calls).
    fn macro_body_fn(
        &mut self,
        name: String,
        ident: &syn::Ident,
        stmts: &[syn::Stmt],
        body: PmSpan,
        is_async: bool,
    ) -> FnDef {
        let span = self.sp(body);
        let items_before = self.body_items;
        let stmts = stmts.iter().filter_map(|s| self.stmt(s)).collect();
        FnDef {
            declares_items: self.body_items != items_before,
            name,
            span,
            name_span: self.sp_word(ident.span()),
            generics: Generics { params: Vec::new() },
            self_kind: None,
            params: Vec::new(),
            ret: None,
            body: Some(Block { stmts, span }),
            is_async,
            is_unsafe: false,
        }
    }

    fn fields(&mut self, fields: &syn::Fields) -> Vec<Field> {
        fields
            .iter()
            .enumerate()
            .map(|(i, f)| Field {
                name: field_name(f, i),
                ty: self.ty(&f.ty),
            })
            .collect()
    }

    fn generics(&mut self, g: &syn::Generics) -> Generics {
        let mut params: Vec<(String, Vec<TyPath>)> = g
            .type_params()
            .map(|tp| {
                let bounds = tp
                    .bounds
                    .iter()
                    .filter_map(|b| match b {
                        syn::TypeParamBound::Trait(t) => Some(self.ty_path(&t.path)),
                        _ => None,
                    })
                    .collect();
                (ident_str(&tp.ident), bounds)
            })
            .collect();
        if let Some(w) = &g.where_clause {
            for pred in &w.predicates {
                if let syn::WherePredicate::Type(pt) = pred
                    && let syn::Type::Path(p) = &pt.bounded_ty
                    && let Some(id) = p.path.get_ident()
                    && let Some(entry) = params.iter_mut().find(|(n, _)| id == n)
                {
                    for b in &pt.bounds {
                        if let syn::TypeParamBound::Trait(t) = b {
                            entry.1.push(self.ty_path(&t.path));
                        }
                    }
                }
            }
        }
        Generics { params }
    }

    fn fn_def(&mut self, sig: &syn::Signature, body: Option<&syn::Block>) -> FnDef {
        let mut self_kind = None;
        let mut params = Vec::new();
        for input in &sig.inputs {
            match input {
                syn::FnArg::Receiver(r) => {
                    self_kind = Some(match (&r.reference, r.mutability) {
                        (Some(_), Some(_)) => SelfKind::RefMut,
                        (Some(_), None) => SelfKind::Ref,
                        (None, _) => match &*r.ty {
                            syn::Type::Reference(rr) if rr.mutability.is_some() => SelfKind::RefMut,
                            syn::Type::Reference(_) => SelfKind::Ref,
                            _ => SelfKind::Value,
                        },
                    });
                }
                syn::FnArg::Typed(pt) => params.push(Param {
                    pat: self.pat(&pt.pat),
                    ty: self.ty(&pt.ty),
                }),
            }
        }
        let ret = match &sig.output {
            syn::ReturnType::Default => None,
            syn::ReturnType::Type(_, t) => Some(self.ty(t)),
        };
        let name_span = self.sp_word(sig.ident.span());
        let items_before = self.body_items;
        let body = body.map(|b| {
            let span = self.sp(b.brace_token.span.join());
            match self.ready.remove(&span.lo) {
                Some(mut r) if b.stmts.is_empty() => {
                    bodies::renumber(&mut r.block, self.next_id);
                    self.next_id += r.ids;
                    self.body_items += r.items;
                    self.truncated |= r.truncated;
                    self.unread_macros.append(&mut r.unread_macros);
                    self.unread_macro_rules.append(&mut r.unread_macro_rules);
                    r.block
                }
                _ => self.block(b),
            }
        });
        let declares_items = self.body_items != items_before;
        let span = body
            .as_ref()
            .map_or(name_span, |b| Self::join(self.sp_word(sig.fn_token.span), b.span));
        FnDef {
            declares_items,
            name: ident_str(&sig.ident),
            span,
            name_span,
            generics: self.generics(&sig.generics),
            self_kind,
            params,
            ret,
            body,
            is_async: sig.asyncness.is_some(),
            is_unsafe: sig.unsafety.is_some(),
        }
    }

    // ---------------------------------------------------------------- types

    fn ty_path(&mut self, p: &syn::Path) -> TyPath {
        let segments = p
            .segments
            .iter()
            .map(|s| {
                let args = match &s.arguments {
                    syn::PathArguments::AngleBracketed(a) => a
                        .args
                        .iter()
                        .filter_map(|ga| match ga {
                            syn::GenericArgument::Type(t) => Some(self.ty(t)),
                            _ => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                TySeg {
                    name: ident_str(&s.ident),
                    args,
                }
            })
            .collect();
        TyPath { segments }
    }

    fn ty(&mut self, t: &syn::Type) -> Ty {
        if self.depth > MAX_DEPTH {
            self.truncated = true;
            return Ty::Other;
        }
        self.depth += 1;
        let r = match t {
            syn::Type::Path(p) if p.qself.is_none() => Ty::Path(self.ty_path(&p.path)),
            syn::Type::Reference(r) => Ty::Ref {
                mutable: r.mutability.is_some(),
                inner: Box::new(self.ty(&r.elem)),
            },
            syn::Type::Ptr(p) => Ty::Ptr {
                mutable: p.mutability.is_some(),
                inner: Box::new(self.ty(&p.elem)),
            },
            syn::Type::Tuple(t) => Ty::Tuple(t.elems.iter().map(|e| self.ty(e)).collect()),
            syn::Type::Array(a) => Ty::Array(Box::new(self.ty(&a.elem))),
            syn::Type::Slice(s) => Ty::Slice(Box::new(self.ty(&s.elem))),
            syn::Type::Paren(p) => self.ty(&p.elem),
            syn::Type::Group(g) => self.ty(&g.elem),
            syn::Type::ImplTrait(i) => Ty::Bounds(self.bounds(&i.bounds)),
            syn::Type::TraitObject(o) => Ty::Bounds(self.bounds(&o.bounds)),
            syn::Type::Infer(_) => Ty::Infer,
            _ => Ty::Other,
        };
        self.depth -= 1;
        r
    }

    fn bounds(&mut self, b: &Punctuated<syn::TypeParamBound, Token![+]>) -> Vec<TyPath> {
        b.iter()
            .filter_map(|b| match b {
                syn::TypeParamBound::Trait(t) => Some(self.ty_path(&t.path)),
                _ => None,
            })
            .collect()
    }

    // ---------------------------------------------------------------- patterns

    fn pat(&mut self, p: &syn::Pat) -> Pat {
        if self.depth > MAX_DEPTH {
            self.truncated = true;
            return Pat::Other;
        }
        self.depth += 1;
        let r = match p {
            syn::Pat::Ident(i) => Pat::Ident {
                name: ident_str(&i.ident),
                by_ref: i.by_ref.is_some(),
                mutable: i.mutability.is_some(),
                span: self.sp_word(i.ident.span()),
                sub: i.subpat.as_ref().map(|(_, s)| Box::new(self.pat(s))),
            },
            syn::Pat::Tuple(t) => Pat::Tuple(t.elems.iter().map(|e| self.pat(e)).collect()),
            syn::Pat::TupleStruct(t) => Pat::Variant {
                name: t.path.segments.last().map(|s| ident_str(&s.ident)).unwrap_or_default(),
                elems: t.elems.iter().map(|e| self.pat(e)).collect(),
            },
            syn::Pat::Struct(s) => Pat::Struct(
                s.fields
                    .iter()
                    .map(|f| {
                        let name = member_name(&f.member);
                        (name, self.pat(&f.pat))
                    })
                    .collect(),
            ),
            syn::Pat::Path(p) => Pat::Path(p.path.segments.last().map(|s| ident_str(&s.ident)).unwrap_or_default()),
            syn::Pat::Slice(s) => Pat::Compound(s.elems.iter().map(|e| self.pat(e)).collect()),
            syn::Pat::Or(o) => Pat::Compound(o.cases.iter().map(|e| self.pat(e)).collect()),
            syn::Pat::Reference(r) => Pat::Ref(Box::new(self.pat(&r.pat))),
            syn::Pat::Type(t) => self.pat(&t.pat),
            syn::Pat::Paren(pp) => self.pat(&pp.pat),
            syn::Pat::Wild(_) => Pat::Wild,
            _ => Pat::Other,
        };
        self.depth -= 1;
        r
    }

    // ---------------------------------------------------------------- blocks and statements

    fn block(&mut self, b: &syn::Block) -> Block {
        let span = self.sp(b.brace_token.span.join());
        let stmts = b.stmts.iter().filter_map(|s| self.stmt(s)).collect();
        Block { stmts, span }
    }

    fn stmt(&mut self, s: &syn::Stmt) -> Option<Stmt> {
        Some(match s {
            syn::Stmt::Local(l) => {
                let (pat, ty) = match &l.pat {
                    syn::Pat::Type(pt) => (self.pat(&pt.pat), Some(self.ty(&pt.ty))),
                    p => (self.pat(p), None),
                };
                let init = l.init.as_ref().map(|i| self.expr(&i.expr));
                let els = l.init.as_ref().and_then(|i| i.diverge.as_ref()).map(|(_, e)| {
                    let e = self.expr(e);
                    match e.kind {
                        ExprKind::Block(b) => b,
                        _ => Block {
                            span: e.span,
                            stmts: vec![Stmt::Expr { expr: e, semi: false }],
                        },
                    }
                });
                let span = Self::join(self.sp_word(l.let_token.span), self.sp(l.semi_token.span));
                Stmt::Let {
                    pat,
                    ty,
                    init,
                    els,
                    span,
                }
            }
            syn::Stmt::Item(i) => {
                self.body_items += 1;
                Stmt::Item(Box::new(self.item(i)?))
            }
            syn::Stmt::Expr(e, semi) => Stmt::Expr {
                expr: self.expr(e),
                semi: semi.is_some(),
            },
            syn::Stmt::Macro(m) => {
                let expr = self.mac(&m.mac);
                Stmt::Expr {
                    expr,
                    semi: m.semi_token.is_some(),
                }
            }
        })
    }

    // ---------------------------------------------------------------- expressions

    fn exprs<'a>(&mut self, es: impl IntoIterator<Item = &'a syn::Expr>) -> Vec<Expr> {
        es.into_iter().map(|e| self.expr(e)).collect()
    }

    fn boxed(&mut self, e: &syn::Expr) -> Box<Expr> {
        Box::new(self.expr(e))
    }

    pub(super) fn expr(&mut self, e: &syn::Expr) -> Expr {
        if self.depth > MAX_DEPTH {
            self.truncated = true;
            let span = self.first_span(e);
            return self.mk(span, ExprKind::Other(Vec::new()));
        }
        self.depth += 1;
        let r = self.expr_inner(e);
        self.depth -= 1;
        r
    }

    /// A cheap span for an expression we do not descend into: its first token.
    fn first_span(&self, e: &syn::Expr) -> Span {
        let mut v = FirstToken(None);
        v.visit_expr(e);
        v.0.map_or(Span::new(self.file, 0, 0), |s| self.sp(s))
    }

    fn expr_inner(&mut self, e: &syn::Expr) -> Expr {
        use syn::Expr as E;
        let j = Self::join;
        match e {
            E::Path(p) => {
                let span = path_span(self, &p.path);
                self.mk(span, ExprKind::Path(path_names(&p.path)))
            }
            E::Lit(l) => {
                let span = self.sp(l.lit.span());
                let flag = match &l.lit {
                    syn::Lit::Bool(b) => Some(b.value),
                    _ => None,
                };
                self.mk(span, ExprKind::Lit(flag))
            }
            E::Field(f) => {
                let base = self.boxed(&f.base);
                let ms = match &f.member {
                    syn::Member::Named(i) => self.sp_word(i.span()),
                    syn::Member::Unnamed(i) => self.sp(i.span),
                };
                let name = member_name(&f.member);
                self.mk(j(base.span, ms), ExprKind::Field { base, name })
            }
            E::MethodCall(m) => {
                let recv = self.boxed(&m.receiver);
                let args = self.exprs(&m.args);
                let turbofish = m
                    .turbofish
                    .as_ref()
                    .map(|t| {
                        t.args
                            .iter()
                            .filter_map(|a| match a {
                                syn::GenericArgument::Type(t) => Some(self.ty(t)),
                                _ => None,
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let method_span = self.sp_word(m.method.span());
                let span = j(recv.span, self.sp(m.paren_token.span.join()));
                self.mk(
                    span,
                    ExprKind::MethodCall {
                        recv,
                        method: ident_str(&m.method),
                        method_span,
                        turbofish,
                        args,
                    },
                )
            }
            E::Call(c) => {
                let func = self.boxed(&c.func);
                let args = self.exprs(&c.args);
                let span = j(func.span, self.sp(c.paren_token.span.join()));
                self.mk(span, ExprKind::Call { func, args })
            }
            E::Closure(c) => {
                let params = c.inputs.iter().map(|p| self.pat(p)).collect();
                let body = self.expr(&c.body);
                let mut span = j(self.sp(c.or1_token.span), body.span);
                if let Some(m) = c.capture {
                    span = j(self.sp(m.span), span);
                }
                if let Some(a) = c.asyncness {
                    span = j(self.sp(a.span), span);
                }
                let closure = Closure {
                    is_move: c.capture.is_some(),
                    is_async: c.asyncness.is_some(),
                    params,
                    body,
                };
                self.mk(span, ExprKind::Closure(Box::new(closure)))
            }
            E::Block(b) => {
                let block = self.block(&b.block);
                self.mk(block.span, ExprKind::Block(block))
            }
            E::Unsafe(u) => {
                let block = self.block(&u.block);
                let span = j(self.sp_word(u.unsafe_token.span), block.span);
                self.mk(span, ExprKind::Unsafe(block))
            }
            E::Async(a) => {
                let body = self.block(&a.block);
                let span = j(self.sp_word(a.async_token.span), body.span);
                self.mk(
                    span,
                    ExprKind::Async {
                        is_move: a.capture.is_some(),
                        body,
                    },
                )
            }
            E::TryBlock(t) => {
                let block = self.block(&t.block);
                self.mk(block.span, ExprKind::Block(block))
            }
            E::Const(c) => {
                let block = self.block(&c.block);
                self.mk(block.span, ExprKind::Block(block))
            }
            E::If(i) => {
                let cond = self.boxed(&i.cond);
                let then = self.block(&i.then_branch);
                let els = i.else_branch.as_ref().map(|(_, e)| self.boxed(e));
                let mut span = j(self.sp_word(i.if_token.span), then.span);
                if let Some(e) = &els {
                    span = j(span, e.span);
                }
                self.mk(span, ExprKind::If { cond, then, els })
            }
            E::Let(l) => {
                let pat = self.pat(&l.pat);
                let expr = self.boxed(&l.expr);
                let span = j(self.sp_word(l.let_token.span), expr.span);
                self.mk(span, ExprKind::Let { pat, expr })
            }
            E::Match(m) => {
                let scrut = self.boxed(&m.expr);
                let arms = m
                    .arms
                    .iter()
                    .map(|a| Arm {
                        pat: self.pat(&a.pat),
                        guard: a.guard.as_ref().map(|(_, g)| self.expr(g)),
                        body: self.expr(&a.body),
                    })
                    .collect();
                let span = j(self.sp_word(m.match_token.span), self.sp(m.brace_token.span.join()));
                self.mk(span, ExprKind::Match { scrut, arms })
            }
            E::While(w) => {
                let cond = self.boxed(&w.cond);
                let body = self.block(&w.body);
                let span = j(self.sp_word(w.while_token.span), body.span);
                self.mk(span, ExprKind::While { cond, body })
            }
            E::Loop(l) => {
                let body = self.block(&l.body);
                let span = j(self.sp_word(l.loop_token.span), body.span);
                self.mk(span, ExprKind::Loop(body))
            }
            E::ForLoop(f) => {
                let pat = self.pat(&f.pat);
                let iter = self.boxed(&f.expr);
                let body = self.block(&f.body);
                let span = j(self.sp_word(f.for_token.span), body.span);
                self.mk(span, ExprKind::For { pat, iter, body })
            }
            E::Assign(a) => {
                let lhs = self.boxed(&a.left);
                let rhs = self.boxed(&a.right);
                self.mk(
                    j(lhs.span, rhs.span),
                    ExprKind::Assign {
                        lhs,
                        rhs,
                        compound: false,
                    },
                )
            }
            E::Binary(b) => {
                let lhs = self.boxed(&b.left);
                let rhs = self.boxed(&b.right);
                let span = j(lhs.span, rhs.span);
                let compound = matches!(
                    b.op,
                    syn::BinOp::AddAssign(_)
                        | syn::BinOp::SubAssign(_)
                        | syn::BinOp::MulAssign(_)
                        | syn::BinOp::DivAssign(_)
                        | syn::BinOp::RemAssign(_)
                        | syn::BinOp::BitXorAssign(_)
                        | syn::BinOp::BitAndAssign(_)
                        | syn::BinOp::BitOrAssign(_)
                        | syn::BinOp::ShlAssign(_)
                        | syn::BinOp::ShrAssign(_)
                );
                if compound {
                    self.mk(
                        span,
                        ExprKind::Assign {
                            lhs,
                            rhs,
                            compound: true,
                        },
                    )
                } else {
                    let op = match b.op {
                        syn::BinOp::And(_) => BinKind::And,
                        syn::BinOp::Or(_) => BinKind::Or,
                        _ => BinKind::Other,
                    };
                    self.mk(span, ExprKind::Binary { lhs, rhs, op })
                }
            }
            E::Unary(u) => {
                let (op, os) = match u.op {
                    syn::UnOp::Deref(t) => (UnOp::Deref, t.span),
                    syn::UnOp::Not(t) => (UnOp::Not, t.span),
                    syn::UnOp::Neg(t) => (UnOp::Neg, t.span),
                    _ => (UnOp::Not, u.expr.span()),
                };
                let expr = self.boxed(&u.expr);
                let span = j(self.sp(os), expr.span);
                self.mk(span, ExprKind::Unary { op, expr })
            }
            E::Reference(r) => {
                let expr = self.boxed(&r.expr);
                let span = j(self.sp(r.and_token.span), expr.span);
                self.mk(
                    span,
                    ExprKind::Ref {
                        mutable: r.mutability.is_some(),
                        expr,
                    },
                )
            }
            E::RawAddr(r) => {
                let expr = self.boxed(&r.expr);
                let span = j(self.sp(r.and_token.span), expr.span);
                let mutable = matches!(r.mutability, syn::PointerMutability::Mut(_));
                self.mk(span, ExprKind::RawAddr { mutable, expr })
            }
            E::Await(a) => {
                let base = self.boxed(&a.base);
                let span = j(base.span, self.sp_word(a.await_token.span));
                self.mk(span, ExprKind::Await(base))
            }
            E::Try(t) => {
                let expr = self.boxed(&t.expr);
                let span = j(expr.span, self.sp(t.question_token.span));
                self.mk(span, ExprKind::Try(expr))
            }
            E::Index(i) => {
                let base = self.boxed(&i.expr);
                let index = self.boxed(&i.index);
                let span = j(base.span, self.sp(i.bracket_token.span.join()));
                self.mk(span, ExprKind::Index { base, index })
            }
            E::Cast(c) => {
                let expr = self.boxed(&c.expr);
                let ty = self.ty(&c.ty);
                let span = j(expr.span, self.sp_word(c.as_token.span));
                self.mk(span, ExprKind::Cast { expr, ty })
            }
            E::Return(r) => {
                let inner = r.expr.as_ref().map(|e| self.boxed(e));
                let mut span = self.sp_word(r.return_token.span);
                if let Some(i) = &inner {
                    span = j(span, i.span);
                }
                self.mk(span, ExprKind::Return(inner))
            }
            E::Break(b) => {
                let inner = b.expr.as_ref().map(|e| self.boxed(e));
                let mut span = self.sp_word(b.break_token.span);
                if let Some(i) = &inner {
                    span = j(span, i.span);
                }
                self.mk(span, ExprKind::Break(inner))
            }
            E::Paren(p) => self.expr(&p.expr),
            E::Group(g) => self.expr(&g.expr),
            E::Macro(m) => self.mac(&m.mac),
            E::Struct(s) => {
                let fields = s
                    .fields
                    .iter()
                    .map(|f| {
                        let name = member_name(&f.member);
                        (name, self.expr(&f.expr))
                    })
                    .collect();
                let rest = s.rest.as_ref().map(|r| self.boxed(r));
                let span = j(path_span(self, &s.path), self.sp(s.brace_token.span.join()));
                self.mk(
                    span,
                    ExprKind::Struct {
                        path: path_names(&s.path),
                        fields,
                        rest,
                    },
                )
            }
            E::Tuple(t) => {
                let elems = self.exprs(&t.elems);
                let span = self.sp(t.paren_token.span.join());
                self.mk(span, ExprKind::Tuple(elems))
            }
            E::Array(a) => {
                let elems = self.exprs(&a.elems);
                let span = self.sp(a.bracket_token.span.join());
                self.mk(span, ExprKind::Other(elems))
            }
            E::Repeat(r) => {
                let elems = vec![self.expr(&r.expr), self.expr(&r.len)];
                let span = self.sp(r.bracket_token.span.join());
                self.mk(span, ExprKind::Other(elems))
            }
            E::Range(r) => {
                let elems: Vec<Expr> = r.start.iter().chain(r.end.iter()).map(|e| self.expr(e)).collect();
                let span = elems
                    .iter()
                    .map(|e| e.span)
                    .reduce(j)
                    .unwrap_or_else(|| self.sp(r.limits.span()));
                self.mk(span, ExprKind::Other(elems))
            }
            E::Yield(y) => {
                let elems: Vec<Expr> = y.expr.iter().map(|e| self.expr(e)).collect();
                let span = self.sp_word(y.yield_token.span);
                self.mk(span, ExprKind::Other(elems))
            }
            E::Continue(c) => {
                let span = self.sp_word(c.continue_token.span);
                self.mk(span, ExprKind::Continue)
            }
            other => {
                let span = self.first_span(other);
                self.mk(span, ExprKind::Other(Vec::new()))
            }
        }
    }

    // ---------------------------------------------------------------- macros

    fn mac(&mut self, mac: &syn::Macro) -> Expr {
        let path = path_names(&mac.path);
        let name = path.last().cloned().unwrap_or_default();
        let span = Self::join(path_span(self, &mac.path), self.sp(delim_span(&mac.delimiter)));
        let tokens = mac.tokens.clone();
        let parsed: Option<Vec<Expr>> = match name.as_str() {
            "addr_of_mut" | "addr_of" => syn::parse2::<syn::Expr>(tokens.clone()).ok().map(|e| {
                let inner = self.boxed(&e);
                vec![self.mk(
                    span,
                    ExprKind::RawAddr {
                        mutable: name == "addr_of_mut",
                        expr: inner,
                    },
                )]
            }),
            "vec" => parse_vec_args.parse2(tokens.clone()).ok().map(|es| self.exprs(&es)),
            "matches" | "assert_matches" | "debug_assert_matches" => parse_first_expr
                .parse2(tokens.clone())
                .ok()
                .map(|e| vec![self.expr(&e)]),
            "select" => {
                if let Ok((futures, handlers)) = parse_select.parse2(tokens.clone()) {
                    let futures = self.exprs(&futures);
                    let handlers = self.exprs(&handlers);
                    return self.mk(
                        span,
                        ExprKind::Macro {
                            path,
                            args: MacroArgs::Select { futures, handlers },
                        },
                    );
                }
                None
            }
            n if is_expr_list_macro(n) => parse_expr_list.parse2(tokens.clone()).ok().map(|es| {
                let mut out = self.exprs(&es);
                if is_format_macro(n) {
                    self.format_captures(&es, &mut out);
                }
                out
            }),
            _ => None,
        };
        if let Some(mut args) = parsed {
            if matches!(name.as_str(), "addr_of_mut" | "addr_of") {
                return args.pop().expect("one expression");
            }
            return self.mk(
                span,
                ExprKind::Macro {
                    path,
                    args: MacroArgs::Parsed(args),
                },
            );
        }
        let mut idents = Vec::new();
        collect_idents(tokens, &mut idents, 0);
        self.mk(
            span,
            ExprKind::Macro {
                path,
                args: MacroArgs::Opaque(idents),
            },
        )
    }

    /// `format!("{name}")` captures `name`: add it as a path expression so it counts as a use.
    fn format_captures(&mut self, es: &[syn::Expr], out: &mut Vec<Expr>) {
        for e in es {
            if let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s), ..
            }) = e
            {
                let span = self.sp(s.span());
                for name in format_string_captures(&s.value()) {
                    let p = self.mk(span, ExprKind::Path(vec![name]));
                    out.push(p);
                }
            }
        }
    }
}

fn field_name(f: &syn::Field, index: usize) -> String {
    f.ident.as_ref().map_or_else(|| index.to_string(), ident_str)
}

fn path_span(l: &Lowerer, p: &syn::Path) -> Span {
    let first = match p.leading_colon {
        Some(c) => l.sp(c.spans[0]),
        None => match p.segments.first() {
            Some(s) => l.sp_word(s.ident.span()),
            None => return Span::new(l.file, 0, 0),
        },
    };
    match p.segments.last() {
        Some(s) if p.segments.len() > 1 || p.leading_colon.is_some() => Lowerer::join(first, l.sp_word(s.ident.span())),
        Some(_) => first,
        None => Span::new(l.file, 0, 0),
    }
}

fn delim_span(d: &syn::MacroDelimiter) -> PmSpan {
    match d {
        syn::MacroDelimiter::Paren(p) => p.span.join(),
        syn::MacroDelimiter::Brace(b) => b.span.join(),
        syn::MacroDelimiter::Bracket(b) => b.span.join(),
    }
}

struct FirstToken(Option<PmSpan>);

impl<'ast> Visit<'ast> for FirstToken {
    // Attributes are not parsed in lex-first analysis (see `lex::Trivia`): never a first token.
    fn visit_attribute(&mut self, _: &'ast syn::Attribute) {}
    fn visit_ident(&mut self, i: &'ast proc_macro2::Ident) {
        if self.0.is_none() {
            self.0 = Some(i.span());
        }
    }
    fn visit_lit(&mut self, l: &'ast syn::Lit) {
        if self.0.is_none() {
            self.0 = Some(l.span());
        }
    }
    fn visit_expr(&mut self, e: &'ast syn::Expr) {
        // Only the first token matters; do not recurse far into deep trees.
        if self.0.is_none() {
            match e {
                syn::Expr::Paren(p) => self.0 = Some(p.paren_token.span.open()),
                syn::Expr::Block(b) => self.0 = Some(b.block.brace_token.span.open()),
                syn::Expr::Array(a) => self.0 = Some(a.bracket_token.span.open()),
                syn::Expr::Tuple(t) => self.0 = Some(t.paren_token.span.open()),
                _ => syn::visit::visit_expr(self, e),
            }
        }
    }
}

fn use_tree(t: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<UseEntry>) {
    match t {
        syn::UseTree::Path(p) => {
            prefix.push(ident_str(&p.ident));
            use_tree(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let name = ident_str(&n.ident);
            if name == "self" {
                if let Some(last) = prefix.last() {
                    out.push(UseEntry {
                        path: prefix.clone(),
                        alias: last.clone(),
                    });
                }
            } else {
                let mut path = prefix.clone();
                path.push(name.clone());
                out.push(UseEntry { path, alias: name });
            }
        }
        syn::UseTree::Rename(r) => {
            let mut path = prefix.clone();
            let name = ident_str(&r.ident);
            if name != "self" {
                path.push(name);
            }
            out.push(UseEntry {
                path,
                alias: ident_str(&r.rename),
            });
        }
        syn::UseTree::Glob(_) => out.push(UseEntry {
            path: prefix.clone(),
            alias: "*".into(),
        }),
        syn::UseTree::Group(g) => g.items.iter().for_each(|i| use_tree(i, prefix, out)),
    }
}

fn parse_expr_list(input: ParseStream<'_>) -> syn::Result<Vec<syn::Expr>> {
    Ok(Punctuated::<syn::Expr, Token![,]>::parse_terminated(input)?
        .into_iter()
        .collect())
}

fn parse_first_expr(input: ParseStream<'_>) -> syn::Result<syn::Expr> {
    let e: syn::Expr = input.parse()?;
    let _: TokenStream = input.parse()?;
    Ok(e)
}

fn parse_vec_args(input: ParseStream<'_>) -> syn::Result<Vec<syn::Expr>> {
    if input.is_empty() {
        return Ok(Vec::new());
    }
    let first: syn::Expr = input.parse()?;
    if input.peek(Token![;]) {
        let _: Token![;] = input.parse()?;
        let n: syn::Expr = input.parse()?;
        return Ok(vec![first, n]);
    }
    let mut out = vec![first];
    while input.peek(Token![,]) {
        let _: Token![,] = input.parse()?;
        if input.is_empty() {
            break;
        }
        out.push(input.parse()?);
    }
    if !input.is_empty() {
        return Err(input.error("unexpected tokens in vec!"));
    }
    Ok(out)
}

/// A field's name: `x`, or `0` for a tuple field.
fn member_name(m: &syn::Member) -> String {
    match m {
        syn::Member::Named(i) => ident_str(i),
        syn::Member::Unnamed(i) => i.index.to_string(),
    }
}

/// `select! { [biased;] pat = future [, if cond] => handler, ... [else => handler] }`: the
/// futures (and conditions) and the handlers.
fn parse_select(input: ParseStream<'_>) -> syn::Result<(Vec<syn::Expr>, Vec<syn::Expr>)> {
    let mut out = Vec::new();
    let mut handlers = Vec::new();
    if input.peek(syn::Ident) && input.fork().parse::<syn::Ident>()? == "biased" {
        let _: syn::Ident = input.parse()?;
        let _: Token![;] = input.parse()?;
    }
    while !input.is_empty() {
        if input.peek(Token![else]) {
            let _: Token![else] = input.parse()?;
        } else {
            let _pat = syn::Pat::parse_single(input)?;
            let _: Token![=] = input.parse()?;
            out.push(input.call(syn::Expr::parse_without_eager_brace)?);
            if input.peek(Token![,]) && input.peek2(Token![if]) {
                let _: Token![,] = input.parse()?;
                let _: Token![if] = input.parse()?;
                out.push(input.call(syn::Expr::parse_without_eager_brace)?);
            }
        }
        let _: Token![=>] = input.parse()?;
        handlers.push(input.parse()?);
        if input.peek(Token![,]) {
            let _: Token![,] = input.parse()?;
        }
    }
    Ok((out, handlers))
}

/// `lazy_static! { [pub] static ref NAME: Ty = expr; ... }` and
/// `thread_local! { [pub] static NAME: Ty = [const] { expr } | expr; ... }`. The initializers
/// are parsed (a declaration list that does not parse declares nothing) but not kept.
fn parse_static_decls(input: ParseStream<'_>) -> syn::Result<Vec<(proc_macro2::Ident, syn::Type)>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let _attrs = input.call(syn::Attribute::parse_outer)?;
        let _vis: syn::Visibility = input.parse()?;
        let _: Token![static] = input.parse()?;
        if input.peek(Token![ref]) {
            let _: Token![ref] = input.parse()?;
        }
        let ident: proc_macro2::Ident = input.parse()?;
        let _: Token![:] = input.parse()?;
        let ty: syn::Type = input.parse()?;
        let _: Token![=] = input.parse()?;
        if input.peek(Token![const]) && input.peek2(syn::token::Brace) {
            let _: Token![const] = input.parse()?;
        }
        let _init: syn::Expr = input.parse()?;
        out.push((ident, ty));
        if input.peek(Token![;]) {
            let _: Token![;] = input.parse()?;
        }
    }
    Ok(out)
}

fn collect_idents(ts: TokenStream, out: &mut Vec<String>, depth: u32) {
    if depth > MAX_DEPTH {
        return;
    }
    for tt in ts {
        match tt {
            TokenTree::Ident(i) => out.push(ident_str(&i)),
            TokenTree::Group(g) => collect_idents(g.stream(), out, depth + 1),
            TokenTree::Literal(l) => {
                // Format strings of unknown macros (`log!`-likes) capture names too.
                let s = l.to_string();
                if s.starts_with('"') {
                    out.extend(format_string_captures(&s));
                }
            }
            TokenTree::Punct(_) => {}
        }
    }
}

/// Names captured by a format string: `{name}`, `{name:?}`, `{name:>width$}`.
fn format_string_captures(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'{' {
            if b.get(i + 1) == Some(&b'{') {
                i += 2;
                continue;
            }
            let start = i + 1;
            let mut k = start;
            while k < b.len() && (b[k].is_ascii_alphanumeric() || b[k] == b'_') {
                k += 1;
            }
            if k > start && !b[start].is_ascii_digit() && matches!(b.get(k), Some(b'}' | b':')) {
                out.push(s[start..k].to_owned());
            }
            i = k;
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lowers `src` with its function bodies read without syn and by syn: the same IR (or the
    /// same error), and how many of its bodies were read without syn, of how many.
    fn own_bodies(src: &str) -> (usize, usize) {
        let omit = Omit::default();
        let own = parse_and_lower_blanked_with(0, src, &omit, true);
        let by_syn = parse_and_lower_blanked_with(0, src, &omit, false);
        assert_eq!(format!("{own:?}"), format!("{by_syn:?}"), "{src}");
        let [found, read, ..] = own_bodies_coverage(src, &omit);
        (read, found)
    }

    #[test]
    fn function_bodies_read_without_syn_lower_as_syn_lowers_them() {
        // One body per kind of syntax, each read without syn, each the same IR as syn's.
        let bodies = [
            "let x = 1; let mut y: Vec<u8> = Vec::new(); y.push(x as u8); let _ = &mut y;",
            "let Some(v) = map.get(&k) else { return; }; let (a, b) = (v, 2);",
            "match map.get(&k) { Some(v) if *v > 1 => v.len(), Some(_) | None => 0, }",
            "match e { Entry::Occupied(o) => { o.into_mut(); } Entry::Vacant(v) => v.insert(1), }",
            "if let Some(g) = self.inner.lock().ok() && g.len() > 0 { g.clear() } else if x { y() } else { z() }",
            "while let Some(x) = it.next() { if x == Foo::A { break; } continue; } 'a: loop { break 'a 1; }",
            "for (i, s) in self.shards.iter().enumerate() { let g = s.write(); total += g.len() * i; }",
            "let f = move |a: u32, (b, _): (u8, u8)| a + b as u32; let g = async move { f(1, (2, 3)).await };",
            "let c = |x| -> Result<u8, E> { Ok(x?) }; c(1)?; unsafe { ptr.read() }; const { 1 + 2 };",
            "let v = vec![1, 2, 3]; let w = vec![0u8; n]; let s = format!(\"{a} {}\", b); println!(\"{x:?}\");",
            "assert_eq!(m.len(), 1, \"len {}\", m.len()); assert!(matches!(x, Some(1..=3) | None));",
            "let r = &raw; let p = std::ptr::addr_of!(X); my_macro!(a => b, 'l); tracing::info! { n = 1 }",
            "let p = Point { x: 1, y, ..Default::default() }; let q = Wrapper(p.0, -p.1, !flag, *r);",
            "let n = a.b.c[i][j].0; x += 1; x <<= 2; let r = a..b; let s = ..=c; let t = ..; let u = d..;",
            "let v: HashMap<String, Arc<Mutex<Vec<u8>>>> = HashMap::with_capacity(8); v.iter().map(|(k, _)| k).collect::<Vec<_>>();",
            "let b: Box<dyn Fn(u8) -> u8 + Send + 'static> = Box::new(|x| x); let t: (u8, [u8; 4], &'a str, *const u8) = t;",
            "return a && b || !c && d < e; ;;",
            "let x = if a { 1 } else { 2 } + 1; match s { S { a, ref b, mut c, .. } => a, _ => 0 } ; { x }.len()",
            // Items in the body: syn reads each on its own text, lowered in place (their
            // functions' expression ids follow the body's so far).
            "use std::mem; let a = || 1; fn inner(m: &Mutex<u8>) { m.lock(); } inner(&m); mem::take(&mut x);",
            "#[cfg(test)] let x = 1; #[derive(Debug)] struct S(u8); const N: usize = { 1 + 2 }; S(N as u8)",
            "static M: Mutex<Vec<u8>> = Mutex::new(Vec::new()); impl S { fn f(&self) { M.lock(); } } g()",
            "macro_rules! twice { ($e:expr) => { $e; $e }; } twice!(x.lock()); pub(crate) fn h() -> [u8; 2] { [0; 2] }",
            // Arguments syn cannot read (tracing's `target:`, `?x`, `%x`): their identifiers.
            "tracing::debug!(target: \"net\", ?peer, %addr, \"{n} sent\"); info!(a.len(), x = b); warn!(\"{}\", c)",
            "let p = &raw const X; let q = &raw mut Y; (_, b) = pair; let f: fn(&u8) -> bool = g; h::<false, 3>()",
        ];
        for body in bodies {
            let src = format!("fn f() {{ {body} }}\nimpl S {{ fn g(&self) -> u8 {{ {body} }} }}");
            assert_eq!(own_bodies(&src), (2, 2), "{body}");
        }
        // A function's body may start with inner attributes (not a block inside it, below).
        assert_eq!(own_bodies("fn f() { #![allow(unused)] let x = 1; }"), (1, 1));
        // Spans after a body read, on its line, where the body holds characters of several
        // bytes (syn sees a space for each byte).
        let src = "fn a() { let s = \"é—\"; } fn b(m: &Mutex<u8>) -> u8 { *m.lock() } struct S { x: Ü }";
        assert_eq!(own_bodies(src), (2, 2));
    }

    #[test]
    fn bodies_the_own_parser_does_not_read_are_left_to_syn() {
        // A qualified path, `select!`, a doc comment, an inner attribute, an escape proc-macro2
        // reads its own way: syn reads the whole body, as before.
        let bodies = [
            "{ #![allow(unused)] let x = 1; }",
            "<T as Default>::default();",
            "tokio::select! { _ = a => {}, }",
            "/// doc\nlet x = 1;",
            "let s = \"\\u{1F600}\";",
        ];
        for body in bodies {
            let src = format!("fn f() {{ {body} }}\nfn g() {{ let y = 2; }}");
            assert_eq!(own_bodies(&src), (1, 2), "{body}");
        }
        // Not Rust: syn's error, at the same place, whoever reads the bodies.
        for bad in [
            "fn f() { a < b < c; }",
            "fn f() { let x = 1 }",
            "fn f() { x as u8.len(); }",
        ] {
            assert_eq!(own_bodies(bad), (0, 1), "{bad}");
        }
    }

    #[test]
    fn a_parse_error_in_a_text_with_lines_left_out_is_placed_in_the_file() {
        // The left-out item spans lines, which syn is not given: the error's span is still the
        // file's byte of the stray `;`.
        let src = "fn skipped() {\n    let a = 1;\n}\n;\nfn kept() {}\n";
        let lex = crate::lex::lex(0, src);
        let range = lex.items[0].range.expect("the first function's range");
        let mut omit = Omit::default();
        omit.leave_out(range.0, range.1);
        let (_, span) = parse_and_lower_blanked(0, src, &omit).unwrap_err();
        assert_eq!(&src[span.lo as usize..span.hi as usize], ";");
        assert_eq!(span.lo as usize, src.find("\n;").unwrap() + 1);
    }

    #[test]
    fn lines_left_out_map_back_to_the_same_spans() {
        let text = "\u{feff}use std::sync::Mutex;\r\n/// docs \u{e9}\r\nfn skipped() {\r\n    let a = \"\u{e9}\";\r\n\r\n    a.len();\r\n}\r\nfn kept(m: &Mutex<u8>) { let s = \"\u{fc}\"; let g = m.lock(); }\nstatic T: [u8; 3] =\n[\n  1, 2,\n  3];\nfn last() {}";
        let lo = text.find("/// docs").expect("docs");
        let hi = text.find("}\r\nfn kept").expect("end") + 1;
        let value = (
            text.find("[\n").expect("value") as u32,
            text.find(";\nfn last").expect("semi") as u32,
        );
        let omit = Omit {
            ranges: vec![(lo as u32, hi as u32), value],
            holes: vec![value.0],
        };
        let left_out = parse_and_lower_blanked(0, text, &omit).expect("parses");
        let blanked = parse_and_lower(0, &omit.apply(text)).expect("parses");
        assert_eq!(format!("{left_out:?}"), format!("{blanked:?}"));
        assert_eq!(left_out.items.len(), 4);
        assert!(matches!(&left_out.items[2].kind, ItemKind::Static { name, .. } if name == "T"));
        assert!(omit.apply(text).contains("=\n_\n       \n    ;"));
    }

    #[test]
    fn format_captures() {
        assert_eq!(
            format_string_captures("a {x} {{y}} {z:?} {0} {w:>5}"),
            vec!["x", "z", "w"]
        );
    }

    #[test]
    fn spans_are_byte_offsets_after_bom() {
        let src = "\u{feff}fn f() { let x = 1; }";
        let ir = parse_and_lower(0, src).unwrap();
        let ItemKind::Fn(f) = &ir.items[0].kind else { panic!() };
        assert_eq!(&src[f.name_span.range()], "f");
        let Some(Stmt::Let { pat, .. }) = f.body.as_ref().unwrap().stmts.first() else {
            panic!()
        };
        let Pat::Ident { span, .. } = pat else { panic!() };
        assert_eq!(&src[span.range()], "x");
    }

    #[test]
    fn spans_are_byte_offsets_after_multibyte_characters_and_crlf() {
        // Characters of 2, 3 and 4 bytes before the names on their lines, CRLF line ends, a
        // shebang line.
        let src =
            "#!/usr/bin/env run\r\n// é → 🦀\r\nfn f() {\r\n    let s = \"ü€🦀\"; let x = 1;\r\n}\r\n/* ✓ */ fn g() {}";
        let ir = parse_and_lower(0, src).unwrap();
        let ItemKind::Fn(f) = &ir.items[0].kind else { panic!() };
        assert_eq!(&src[f.name_span.range()], "f");
        let Some(Stmt::Let { pat, .. }) = f.body.as_ref().unwrap().stmts.get(1) else {
            panic!()
        };
        let Pat::Ident { span, .. } = pat else { panic!() };
        assert_eq!(&src[span.range()], "x");
        let ItemKind::Fn(g) = &ir.items[1].kind else { panic!() };
        assert_eq!(&src[g.name_span.range()], "g");
    }

    #[test]
    fn known_macros_are_parsed_unknown_are_opaque() {
        let src = "fn f() { assert_eq!(m.len(), 1); vec![a; n]; my_macro!(m => k); println!(\"{m:?}\"); }";
        let ir = parse_and_lower(0, src).unwrap();
        let ItemKind::Fn(f) = &ir.items[0].kind else { panic!() };
        let kinds: Vec<_> = f
            .body
            .as_ref()
            .unwrap()
            .stmts
            .iter()
            .map(|s| match s {
                Stmt::Expr {
                    expr:
                        Expr {
                            kind: ExprKind::Macro { args, .. },
                            ..
                        },
                    ..
                } => match args {
                    MacroArgs::Parsed(a) => format!("parsed {}", a.len()),
                    MacroArgs::Select { futures, handlers } => format!("parsed {}", futures.len() + handlers.len()),
                    MacroArgs::Opaque(ids) => format!("opaque {}", ids.join(",")),
                },
                _ => "other".into(),
            })
            .collect();
        assert_eq!(kinds, vec!["parsed 2", "parsed 2", "opaque m,k", "parsed 2"]);
    }

    #[test]
    fn lazy_static_and_thread_local_become_statics() {
        let src = "lazy_static! { static ref M: Mutex<HashMap<u8, u8>> = Mutex::new(HashMap::new()); }\n\
                   thread_local! { static C: RefCell<HashMap<u8, u8>> = RefCell::new(HashMap::new()); }";
        let ir = parse_and_lower(0, src).unwrap();
        let kinds: Vec<_> = ir
            .items
            .iter()
            .flat_map(|i| match &i.kind {
                ItemKind::Mod { items: Some(items), .. } => items.clone(),
                _ => vec![],
            })
            .map(|i| match i.kind {
                ItemKind::Static { name, kind, .. } => (name, kind),
                _ => panic!(),
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("M".into(), StaticKind::LazyStatic),
                ("C".into(), StaticKind::ThreadLocal)
            ]
        );
    }

    #[test]
    fn deep_nesting_is_truncated_not_overflowed() {
        let depth = 2000;
        let src = format!("fn f() {{ let x = {}1{}; }}", "{".repeat(depth), "}".repeat(depth));
        let src2 = format!("fn g() {{ {}1{} }}", "-".repeat(depth), "");
        let r = std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn(move || {
                (
                    parse_and_lower(0, &src).map(|f| f.truncated),
                    parse_and_lower(0, &src2).map(|f| f.truncated),
                )
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(r.0, Ok(true));
        assert_eq!(r.1, Ok(true));
    }

    #[test]
    fn parse_errors_carry_a_span() {
        let (msg, span) = parse_and_lower(0, "fn f() { let = ; }").unwrap_err();
        assert!(!msg.is_empty());
        assert!(span.lo > 0);
    }
}
