//! Lex first, parse only what can matter.
//!
//! Parsing is most of the analysis cost, and most files of a crate never touch a map, a lock,
//! a cell or a thread. Every file is lexed (cheap); a file is parsed only when it is *relevant*:
//! it names something the rules or the model declared an interest in, or it is linked to a
//! relevant file by name — it mentions an item a relevant file defines (a type, a free
//! function, a static), or it defines an item a relevant file mentions (which could change how
//! that name resolves). The closure over these links makes the findings the same as parsing
//! everything (tested); a skipped file still reports lexical errors (unterminated literals or
//! comments, unbalanced delimiters) as `parse_error`.

use std::collections::HashSet;

use rustc_lexer::{FrontmatterAllowed, LiteralKind, TokenKind, tokenize};

use crate::diagnostic::Span;

/// What lexing a file tells.
#[derive(Debug, Default)]
pub struct LexFacts {
    /// Every identifier (and keyword) in the file, once.
    pub idents: HashSet<Box<str>>,
    /// The file's items, with the identifiers each contains.
    pub items: Vec<LexItem>,
    /// A lexical error, which syn would reject too.
    pub error: Option<(String, Span)>,
}

/// An item found by the lexer: its name and kind, and the identifiers it contains.
#[derive(Debug, Default)]
pub struct LexItem {
    /// The names the item defines (a type, function, static or trait; a macro invocation such
    /// as `lazy_static!` can define several; nested items add theirs).
    pub names: Vec<Box<str>>,
    /// For methods: the name of the `impl`'s self type (or the trait).
    pub owner: Option<Box<str>>,
    pub idents: HashSet<Box<str>>,
    /// `static mut` or `unsafe impl`.
    pub unsafe_sharing: bool,
    /// For `use` declarations: the renames `(original, alias)`; the alias is interesting when
    /// the original is.
    pub renames: Vec<(Box<str>, Box<str>)>,
    pub kind: LexItemKind,
}

/// What kind of item the lexer saw.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum LexItemKind {
    /// A type, function, static, trait or `impl` member.
    #[default]
    Plain,
    /// A `use` declaration.
    Use,
    /// `macro_rules!`: its body defines nothing the model sees.
    MacroRules,
    /// A macro invocation at item level (`lazy_static! { .. }`): only its statics are names.
    Macro,
}

#[derive(Clone, PartialEq, Eq)]
enum Frame {
    /// The file, an inline `mod` or an `extern` block: items live here.
    Items,
    /// An `impl` or `trait` body: functions here are methods of `owner`.
    Impl(Box<str>),
    /// Any other braces (inside an item).
    Other,
}

const DEF_KEYWORDS: &[&str] = &["fn", "struct", "enum", "type", "trait", "union", "static", "const"];
/// Words between an item keyword and its name.
const MODIFIERS: &[&str] = &[
    "pub", "crate", "unsafe", "async", "extern", "default", "mut", "ref", "dyn", "safe",
];
/// Never item names.
const KEYWORDS: &[&str] = &[
    "let", "impl", "fn", "self", "Self", "super", "crate", "where", "for", "in", "if", "else", "match", "loop",
    "while", "return", "as", "use", "mod", "move", "true", "false", "trait", "type", "struct", "enum", "break",
    "continue",
];

/// Lexes a file into identifiers and items.
#[must_use]
pub fn lex(file: u32, text: &str) -> LexFacts {
    let mut facts = LexFacts::default();
    let mut offset = rustc_lexer::strip_shebang(text).unwrap_or(0);
    if offset == 0 && text.starts_with('\u{feff}') {
        offset = 3;
    }
    let body = &text[offset..];
    let error =
        |msg: &str, at: usize, len: usize| Some((msg.to_owned(), Span::new(file, at as u32, (at + len) as u32)));
    // The innermost frame says whether we are where items live.
    let mut frames: Vec<Frame> = vec![Frame::Items];
    let mut delims: Vec<(char, usize)> = Vec::new();
    // The item being read, and the depth of `frames` it started at.
    let mut item: Option<(LexItem, usize)> = None;
    // Reading an item's header: the keyword seen, waiting for its name.
    let mut want_name: Option<&str> = None;
    // Reading an `impl`/`trait`/`mod` header up to its `{`: (keyword, depth-0 idents, angle depth).
    let mut header: Option<(&str, Vec<&str>, i32, bool)> = None;
    let mut prev = "";
    let mut before_as = "";
    let mut pos = offset;
    for tok in tokenize(body, FrontmatterAllowed::Yes) {
        let len = tok.len as usize;
        let t = &text[pos..pos + len];
        let at_items = matches!(frames.last(), Some(Frame::Items | Frame::Impl(_)));
        let stmt_start = matches!(prev, "{" | "}" | ";" | "unsafe" | "pub" | "]");
        // `fn(u32) -> u32` is a type, not an item: a name must follow its keyword directly.
        if !matches!(
            tok.kind,
            TokenKind::Ident
                | TokenKind::RawIdent
                | TokenKind::Whitespace
                | TokenKind::LineComment { .. }
                | TokenKind::BlockComment { .. }
        ) && want_name.is_some_and(|k| k != "macro_rules")
        {
            want_name = None;
        }
        match tok.kind {
            TokenKind::Ident | TokenKind::RawIdent => {
                let name = t.strip_prefix("r#").unwrap_or(t);
                if !facts.idents.contains(name) {
                    facts.idents.insert(name.into());
                }
                if let Some((kw, ids, angle, _)) = &mut header {
                    if *angle == 0 {
                        ids.push(name);
                    }
                    let _ = kw;
                } else if (item.is_none() && at_items || (item.is_some() && stmt_start))
                    && matches!(name, "impl" | "trait" | "mod" | "extern")
                {
                    // At item level, or a nested item at the start of a statement in a body.
                    header = Some((name, Vec::new(), 0, prev == "unsafe"));
                } else if item.is_none() && at_items && name == "use" {
                    // `use a::B as C;`: an item whose names are the renames.
                    item = Some((
                        LexItem {
                            kind: LexItemKind::Use,
                            ..LexItem::default()
                        },
                        frames.len(),
                    ));
                } else if item.is_none() && at_items && (DEF_KEYWORDS.contains(&name) || name == "macro_rules") {
                    let owner = match frames.last() {
                        Some(Frame::Impl(o)) => Some(o.clone()),
                        _ => None,
                    };
                    item = Some((
                        LexItem {
                            owner,
                            ..LexItem::default()
                        },
                        frames.len(),
                    ));
                    want_name = Some(name);
                }
                if let Some((it, _)) = &mut item {
                    if !it.idents.contains(name) {
                        it.idents.insert(name.into());
                    }
                    if prev == "static" && name == "mut" {
                        it.unsafe_sharing = true;
                    }
                    if prev == "as" && name != "_" && (it.kind == LexItemKind::Use) {
                        it.renames.push((before_as.into(), name.into()));
                    }
                    if let Some(kw) = want_name {
                        if DEF_KEYWORDS.contains(&name) {
                            // `const fn f`, `unsafe static`...: the last keyword decides.
                            want_name = Some(name);
                        } else if !MODIFIERS.contains(&name) {
                            if kw != "macro_rules" && (it.kind != LexItemKind::MacroRules) && !KEYWORDS.contains(&name)
                            {
                                it.names.push(name.into());
                            }
                            if kw == "macro_rules" {
                                it.kind = LexItemKind::MacroRules;
                            }
                            want_name = None;
                        }
                    } else if DEF_KEYWORDS.contains(&name)
                        && (it.kind != LexItemKind::MacroRules)
                        && ((it.kind != LexItemKind::Macro) || name == "static")
                    {
                        // Items nested in this one (inner fns; `static ref X` in `lazy_static!`).
                        want_name = Some(name);
                    }
                }
                if name != "as" {
                    before_as = name;
                }
                prev = name;
            }
            TokenKind::Bang => {
                // `lazy_static! { .. }`, `thread_local! { .. }` at item level: an item of its own
                // (the name before `!` was not a keyword, so no item was started).
                if item.is_none() && header.is_none() && at_items && !prev.is_empty() {
                    let mut it = LexItem {
                        kind: LexItemKind::Macro,
                        ..LexItem::default()
                    };
                    it.idents.insert(prev.into());
                    item = Some((it, frames.len()));
                }
                prev = "!";
            }
            TokenKind::Lt => {
                if let Some((_, _, angle, _)) = &mut header {
                    *angle += 1;
                }
                prev = "<";
            }
            TokenKind::Gt => {
                if let Some((_, _, angle, _)) = &mut header {
                    *angle -= 1;
                }
                prev = ">";
            }
            TokenKind::Whitespace | TokenKind::LineComment { .. } => {}
            TokenKind::BlockComment { terminated, .. } => {
                if !terminated && facts.error.is_none() {
                    facts.error = error("unterminated block comment", pos, len);
                }
            }
            TokenKind::Literal { kind, .. } => {
                let terminated = match kind {
                    LiteralKind::Str { terminated }
                    | LiteralKind::ByteStr { terminated }
                    | LiteralKind::CStr { terminated }
                    | LiteralKind::Char { terminated }
                    | LiteralKind::Byte { terminated } => terminated,
                    LiteralKind::RawStr { n_hashes }
                    | LiteralKind::RawByteStr { n_hashes }
                    | LiteralKind::RawCStr { n_hashes } => n_hashes.is_some(),
                    _ => true,
                };
                if !terminated && facts.error.is_none() {
                    facts.error = error("unterminated literal", pos, len);
                }
                prev = "";
            }
            TokenKind::OpenBrace => {
                let frame = match header.take() {
                    Some((kw @ ("impl" | "trait"), ids, _, unsafe_impl)) => {
                        // The self type: the last name before `{` (after `for` when present).
                        let head = ids.iter().position(|i| *i == "where").map_or(&ids[..], |p| &ids[..p]);
                        let after_for = head.iter().rposition(|i| *i == "for").map_or(head, |p| &head[p + 1..]);
                        let owner = after_for
                            .iter()
                            .rev()
                            .find(|i| {
                                !matches!(
                                    **i,
                                    "where" | "for" | "impl" | "trait" | "unsafe" | "dyn" | "mut" | "const"
                                )
                            })
                            .copied()
                            .unwrap_or("");
                        let owner = if kw == "trait" {
                            ids.first().copied().unwrap_or("")
                        } else {
                            owner
                        };
                        if unsafe_impl {
                            // `unsafe impl Sync for T {}`: an item of its own that shares `T`.
                            let mut it = LexItem {
                                owner: Some(owner.into()),
                                unsafe_sharing: true,
                                ..LexItem::default()
                            };
                            it.idents.extend(ids.iter().map(|i| Box::<str>::from(*i)));
                            facts.items.push(it);
                        }
                        Frame::Impl(owner.into())
                    }
                    Some(_) => Frame::Items,
                    None => Frame::Other,
                };
                frames.push(frame);
                delims.push(('}', pos));
                prev = "{";
            }
            TokenKind::OpenParen | TokenKind::OpenBracket => {
                delims.push((if tok.kind == TokenKind::OpenParen { ')' } else { ']' }, pos));
                prev = "";
            }
            TokenKind::CloseBrace | TokenKind::CloseParen | TokenKind::CloseBracket => {
                let c = t.chars().next().unwrap_or(' ');
                if tok.kind == TokenKind::CloseBrace && frames.len() > 1 {
                    frames.pop();
                    if let Some((_, depth)) = &item
                        && frames.len() == *depth
                    {
                        facts.items.push(item.take().expect("item").0);
                    }
                }
                match delims.pop() {
                    Some((want, _)) if want == c => {}
                    _ if facts.error.is_none() => facts.error = error("unbalanced delimiter", pos, len),
                    _ => {}
                }
                prev = match tok.kind {
                    TokenKind::CloseBrace => "}",
                    TokenKind::CloseBracket => "]",
                    _ => "",
                };
            }
            TokenKind::Semi => {
                if let Some((_, depth)) = &item
                    && frames.len() == *depth
                {
                    facts.items.push(item.take().expect("item").0);
                }
                if header.as_ref().is_some_and(|(kw, ..)| *kw == "mod") {
                    header = None;
                }
                prev = ";";
            }
            TokenKind::Unknown if facts.error.is_none() => facts.error = error("unexpected character", pos, len),
            _ => prev = "",
        }
        pos += len;
    }
    if let Some((it, _)) = item {
        facts.items.push(it);
    }
    if let Some((_, at)) = delims.first()
        && facts.error.is_none()
    {
        facts.error = error("unclosed delimiter", *at, 1);
    }
    facts
}

/// Which files to parse.
///
/// An item is *interesting* when it names one of `interests`, is `static mut` or an
/// `unsafe impl`, or names an interesting type, function or static (to a fixpoint; an
/// interesting method makes its `impl` type interesting). A file is parsed when it has an
/// interesting item or names an interesting item, or when it defines a name that a parsed
/// file uses and another parsed file also defines (so name resolution sees the same
/// ambiguity as with every file parsed).
#[must_use]
#[allow(clippy::implicit_hasher)] // called with the engine's own set only
pub fn relevant(facts: &[LexFacts], interests: &HashSet<&str>) -> Vec<bool> {
    let mut names: HashSet<&str> = HashSet::new();
    let mut item_done: Vec<Vec<bool>> = facts.iter().map(|f| vec![false; f.items.len()]).collect();
    loop {
        let mut changed = false;
        for (fi, f) in facts.iter().enumerate() {
            for (ii, it) in f.items.iter().enumerate() {
                if item_done[fi][ii] {
                    continue;
                }
                if it.kind == LexItemKind::Use {
                    for (orig, alias) in &it.renames {
                        if interests.contains(&**orig) || names.contains(&**orig) {
                            changed |= names.insert(alias);
                        }
                    }
                    continue;
                }
                let hit = it.unsafe_sharing
                    || it
                        .idents
                        .iter()
                        .any(|i| interests.contains(&**i) || names.contains(&**i));
                if hit {
                    item_done[fi][ii] = true;
                    changed = true;
                    match &it.owner {
                        Some(owner) => {
                            names.insert(owner);
                        }
                        None => names.extend(it.names.iter().map(|n| &**n).filter(|n| *n != "_")),
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
    let mut relevant: Vec<bool> = facts
        .iter()
        .enumerate()
        .map(|(fi, f)| {
            let own = f
                .items
                .iter()
                .zip(&item_done[fi])
                .any(|(it, d)| *d && !(it.kind == LexItemKind::Use))
                || f.items
                    .iter()
                    .any(|it| (it.kind == LexItemKind::Use) && it.idents.iter().any(|i| interests.contains(&**i)));
            own || f.idents.iter().any(|i| names.contains(&**i))
        })
        .collect();
    // Name collisions: a skipped file defining a name that a parsed file uses and another parsed
    // file defines would change how that name resolves.
    loop {
        let mut mentioned: HashSet<&str> = HashSet::new();
        let mut defined: HashSet<&str> = HashSet::new();
        for (f, r) in facts.iter().zip(&relevant) {
            if *r {
                mentioned.extend(f.idents.iter().map(|i| &**i));
                defined.extend(
                    f.items
                        .iter()
                        .filter(|i| i.owner.is_none())
                        .flat_map(|i| i.names.iter().map(|n| &**n)),
                );
            }
        }
        let mut changed = false;
        for (fi, f) in facts.iter().enumerate() {
            if relevant[fi] {
                continue;
            }
            let collides = f
                .items
                .iter()
                .filter(|i| i.owner.is_none())
                .flat_map(|i| i.names.iter().map(|n| &**n))
                .any(|n| mentioned.contains(n) && defined.contains(n));
            if collides {
                relevant[fi] = true;
                changed = true;
            }
        }
        if !changed {
            return relevant;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_owners_and_errors() {
        let f = lex(
            0,
            "use std::sync::Mutex;\nstruct S { m: Mutex<u8> }\nimpl<T: X> Tr for S<T> where T: Y { fn get(&self) {} }\nfn free() { let r#type = 1; }\nstatic mut X: u8 = 0;\nunsafe impl Sync for S {}\n",
        );
        assert!(f.idents.contains("Mutex") && f.idents.contains("type"));
        let items: Vec<(Option<&str>, Option<&str>, bool)> = f
            .items
            .iter()
            .map(|i| (i.names.first().map(|n| &**n), i.owner.as_deref(), i.unsafe_sharing))
            .collect();
        assert_eq!(
            items,
            vec![
                (None, None, false),
                (Some("S"), None, false),
                (Some("get"), Some("S"), false),
                (Some("free"), None, false),
                (Some("X"), None, true),
                (None, Some("S"), true),
            ]
        );
        assert!(f.error.is_none());
        let m = lex(
            0,
            "lazy_static! { static ref A: Mutex<u8> = x; static ref B: u8 = 1; }\nfn f() {}\nuse std::collections::{BTreeMap as Ordered, HashMap};",
        );
        let names: Vec<Vec<&str>> = m.items.iter().map(|i| i.names.iter().map(|n| &**n).collect()).collect();
        assert_eq!(names, vec![vec!["A", "B"], vec!["f"], vec![]]);
        assert_eq!(m.items[2].renames, vec![("BTreeMap".into(), "Ordered".into())]);
        let c = lex(0, "pub const fn size() {}\nmacro_rules! m { () => { fn hidden() {} } }");
        let names: Vec<Vec<&str>> = c.items.iter().map(|i| i.names.iter().map(|n| &**n).collect()).collect();
        assert_eq!(names, vec![vec!["size"], vec![]]);
        assert!(lex(0, "fn f() { \"open").error.is_some());
        assert!(lex(0, "fn f() { (] }").error.is_some());
        assert!(lex(0, "fn f() {").error.is_some());
        assert!(lex(0, "/* open").error.is_some());
    }

    #[test]
    fn relevance_follows_interesting_items() {
        let interests: HashSet<&str> = ["Mutex"].into_iter().collect();
        let files = [
            lex(
                0,
                "pub struct Registry { m: std::sync::Mutex<u8> }\npub struct Plain { n: u8 }",
            ),
            lex(1, "fn use_it(r: &Registry) {}"),
            lex(2, "fn helper() {} fn unrelated(p: &Plain) {}"),
            lex(3, "fn caller() { use_it(); }"),
            lex(
                4,
                "impl Registry { fn touch(&self) { self.m.lock(); } }\nimpl Plain { fn get(&self) {} }",
            ),
            lex(5, "fn other() { let p = Plain { n: 1 }; p.get(); }"),
        ];
        // 0 and 4 are interesting; 1 uses `Registry`; `use_it` becomes interesting through it,
        // so 3 follows; `Plain` is not interesting, so 2 and 5 are only lexed.
        assert_eq!(relevant(&files, &interests), vec![true, true, false, true, true, false]);
        // A name defined twice among parsed files and once more in a skipped one.
        let files = [
            lex(0, "fn a() { let m = std::sync::Mutex::new(0); helper(); }"),
            lex(1, "fn helper() { let _ = std::sync::Mutex::new(1); }"),
            lex(2, "fn helper() {}"),
        ];
        assert_eq!(relevant(&files, &interests), vec![true, true, true]);
    }
}
