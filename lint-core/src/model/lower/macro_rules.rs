//! Reading a `macro_rules!` transcriber as code: each metavariable becomes a placeholder of its
//! fragment kind, the way rustfmt formats macro bodies, and each repetition is read once.
//!
//! Every placeholder is unique to its occurrence (`$name` twice gives two different
//! identifiers), so nothing named through a metavariable resolves: a static, field, type or
//! local declared with `$name` is never the one used with `$name`, and a receiver given by the
//! caller (`$map.lock()`) has no type. Findings in a macro body can then only rest on locks and
//! maps the body names itself. The placeholders' spelling is turned back into `$name` when a
//! finding is worded (see [`readable`]).

use std::collections::HashMap;

use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, TokenStream, TokenTree};

/// The prefix of every placeholder, followed by where its macro starts, `x`, its number in
/// that macro, `_` and the metavariable's name.
const PREFIX: &str = "__maplint_mv";

/// The fragment kind of each metavariable a matcher declares (`$key:ty` → `key`: `ty`).
pub(super) fn fragment_kinds(matcher: TokenStream) -> HashMap<String, String> {
    let mut kinds = HashMap::new();
    collect_kinds(matcher, &mut kinds);
    kinds
}

fn collect_kinds(tokens: TokenStream, kinds: &mut HashMap<String, String>) {
    let toks: Vec<TokenTree> = tokens.into_iter().collect();
    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            TokenTree::Punct(p) if p.as_char() == '$' => {
                if let (Some(TokenTree::Ident(name)), Some(TokenTree::Punct(colon)), Some(TokenTree::Ident(kind))) =
                    (toks.get(i + 1), toks.get(i + 2), toks.get(i + 3))
                    && colon.as_char() == ':'
                {
                    kinds.insert(name.to_string(), kind.to_string());
                    i += 4;
                    continue;
                }
            }
            TokenTree::Group(g) => collect_kinds(g.stream(), kinds),
            _ => {}
        }
        i += 1;
    }
}

/// Numbers the placeholders of one `macro_rules!`: `at` (where the macro starts) tells its
/// placeholders from another macro's, and stays what it is whatever else of the file is parsed.
pub(super) struct Numbering {
    pub(super) at: usize,
    pub(super) next: u32,
}

/// The transcriber with its metavariables replaced (see the module docs).
pub(super) fn transcribe(body: TokenStream, kinds: &HashMap<String, String>, next: &mut Numbering) -> TokenStream {
    let mut out: Vec<TokenTree> = Vec::new();
    let mut it = body.into_iter().peekable();
    while let Some(t) = it.next() {
        match t {
            TokenTree::Punct(dollar) if dollar.as_char() == '$' => match it.peek().cloned() {
                Some(TokenTree::Ident(name)) => {
                    it.next();
                    if name == "crate" {
                        out.push(TokenTree::Ident(Ident::new("crate", name.span())));
                    } else {
                        next.next += 1;
                        let kind = kinds.get(&name.to_string()).map(String::as_str);
                        out.extend(placeholder(kind, &name, next));
                    }
                }
                Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => {
                    it.next();
                    // A repetition, read once; then its separator (if any) and its operator.
                    out.extend(transcribe(g.stream(), kinds, next));
                    let is_op = |t: Option<&TokenTree>| matches!(t, Some(TokenTree::Punct(p)) if matches!(p.as_char(), '*' | '+' | '?'));
                    if is_op(it.peek()) {
                        it.next();
                    } else if it.peek().is_some() {
                        let sep = it.next();
                        if is_op(it.peek()) {
                            it.next();
                        } else {
                            out.extend(sep);
                        }
                    }
                }
                _ => out.push(TokenTree::Punct(dollar)),
            },
            TokenTree::Group(g) => {
                let mut inner = Group::new(g.delimiter(), transcribe(g.stream(), kinds, next));
                inner.set_span(g.span());
                out.push(TokenTree::Group(inner));
            }
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}

/// Whether `tokens` (a transcriber) awaits anywhere: read as a function, it is an `async` one.
pub(super) fn awaits(tokens: &TokenStream) -> bool {
    tokens.clone().into_iter().any(|t| match t {
        TokenTree::Ident(i) => i == "await",
        TokenTree::Group(g) => awaits(&g.stream()),
        _ => false,
    })
}

/// Whether `tokens` call a method somewhere (`. name (`): code, not a type or a pattern.
pub(super) fn calls_a_method(tokens: &TokenStream) -> bool {
    let toks: Vec<TokenTree> = tokens.clone().into_iter().collect();
    toks.iter().enumerate().any(|(i, t)| match t {
        TokenTree::Punct(p) => {
            p.as_char() == '.'
                && matches!(toks.get(i + 1), Some(TokenTree::Ident(_)))
                && matches!(toks.get(i + 2), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis)
        }
        TokenTree::Group(g) => calls_a_method(&g.stream()),
        _ => false,
    })
}

/// What stands for one occurrence of `$name` of fragment kind `kind`.
fn placeholder(kind: Option<&str>, name: &Ident, n: &Numbering) -> Vec<TokenTree> {
    let span = name.span();
    let ident = || TokenTree::Ident(Ident::new(&format!("{PREFIX}{}x{}_{name}", n.at, n.next), span));
    match kind {
        // Nothing: an item or a visibility can be left out.
        Some("item" | "vis") => Vec::new(),
        Some("block") => {
            let mut g = Group::new(Delimiter::Brace, TokenStream::new());
            g.set_span(span);
            vec![TokenTree::Group(g)]
        }
        Some("literal") => {
            let mut l = Literal::u8_unsuffixed(0);
            l.set_span(span);
            vec![TokenTree::Literal(l)]
        }
        Some("lifetime") => {
            let mut quote = Punct::new('\'', Spacing::Joint);
            quote.set_span(span);
            vec![TokenTree::Punct(quote), ident()]
        }
        // `ident`, `ty`, `path`, `expr`, `pat`, `stmt`, `meta`, `tt`, and a name the matcher
        // does not declare (a nested macro's): one identifier, valid in all their places.
        _ => vec![ident()],
    }
}

/// `text` with every placeholder spelled as the metavariable it stands for (`$name`).
#[must_use]
pub fn readable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains(PREFIX) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(PREFIX) {
        out.push_str(&rest[..at]);
        let after = &rest[at + PREFIX.len()..];
        let digits = after.bytes().take_while(|b| b.is_ascii_digit() || *b == b'x').count();
        match after[digits..].strip_prefix('_') {
            Some(name) if digits > 0 => {
                out.push('$');
                rest = name;
            }
            _ => {
                out.push_str(PREFIX);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transcribed(matcher: &str, body: &str) -> String {
        let kinds = fragment_kinds(matcher.parse().unwrap());
        let mut n = Numbering { at: 7, next: 0 };
        transcribe(body.parse().unwrap(), &kinds, &mut n).to_string()
    }

    #[test]
    fn every_occurrence_gets_its_own_placeholder() {
        let out = transcribed(
            "($name:ident, $key:ty)",
            "static $name: Mutex<HashMap<$key, u32>> = x; fn f() { $name.lock(); }",
        );
        assert!(out.contains("static __maplint_mv7x1_name"), "{out}");
        assert!(out.contains("HashMap <__maplint_mv7x2_key"), "{out}");
        assert!(out.contains("__maplint_mv7x3_name . lock"), "{out}");
    }

    #[test]
    fn repetitions_are_read_once_and_crate_is_kept() {
        let out = transcribed(
            "($($field:ident),* ; $v:vis $b:block)",
            "$v fn f() $b struct S { $($field: u32),* } use $crate::x;",
        );
        assert_eq!(
            out,
            "fn f () { } struct S { __maplint_mv7x3_field : u32 } use crate :: x ;"
        );
        let out = transcribed("($($x:expr);+)", "$( g($x) );+ ; h()");
        assert_eq!(out, "g (__maplint_mv7x1_x) ; h ()");
    }

    #[test]
    fn placeholders_read_as_their_metavariables() {
        assert_eq!(
            readable("`__maplint_mv120x12_name` in `__maplint_mv0x3_ty`"),
            "`$name` in `$ty`"
        );
        assert_eq!(readable("no placeholder"), "no placeholder");
        assert_eq!(readable("__maplint_mvx"), "__maplint_mvx");
    }
}
