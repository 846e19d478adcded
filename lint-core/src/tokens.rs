//! Rust tokens, as `rustc_lexer` gives them, faster.
//!
//! Lexing every file of a workspace is a fifth of a cold run, and `rustc_lexer` decodes every
//! character. Most tokens are plain ASCII: identifiers, punctuation, whitespace, line comments
//! and simple strings. [`Tokens`] reads those byte by byte and hands every other token
//! (numbers, lifetimes and characters, block comments, prefixed literals, anything non-ASCII)
//! to `rustc_lexer` itself, one token at a time, so the tokens are exactly `rustc_lexer`'s
//! (tested on generated text here, and on every file of the corpus by `examples/model_diff.rs`).
//! Whitespace and plain line comments, half of all tokens, are skipped.

use rustc_lexer::{Cursor, DocStyle, FrontmatterAllowed, LiteralKind, Token, TokenKind};

/// The tokens of a file whose shebang, if any, was stripped (as `rustc_lexer::tokenize` with
/// frontmatter allowed), but whitespace and plain line comments, each with where it starts.
#[derive(Debug)]
pub struct Tokens<'a> {
    text: &'a str,
    pos: usize,
    /// Until the first token other than whitespace: a frontmatter (`---`) may start there, and
    /// only `rustc_lexer` knows how it combines with whitespace.
    start: bool,
}

impl<'a> Tokens<'a> {
    #[must_use]
    pub fn new(text: &'a str) -> Tokens<'a> {
        Tokens {
            text,
            pos: 0,
            start: true,
        }
    }

    /// One token from `rustc_lexer`.
    fn slow(&self) -> Token {
        let allowed = if self.start {
            FrontmatterAllowed::Yes
        } else {
            FrontmatterAllowed::No
        };
        Cursor::new(&self.text[self.pos..], allowed).advance_token()
    }

    /// Moves past ASCII whitespace and plain line comments, which [`Tokens`] skips, without
    /// making tokens of them. (A run of whitespace that goes on in other whitespace, `\x0b`
    /// or `\u{2028}`, becomes two whitespace tokens instead of one: both are skipped.)
    #[inline]
    fn skip_trivia(&mut self) {
        let bytes = self.text.as_bytes();
        loop {
            match bytes.get(self.pos) {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.pos += run(&bytes[self.pos..], space_mask, &SPACE),
                Some(b'/')
                    if bytes.get(self.pos + 1) == Some(&b'/')
                        && !matches!(bytes.get(self.pos + 2), Some(b'!'))
                        && !(bytes.get(self.pos + 2) == Some(&b'/') && bytes.get(self.pos + 3) != Some(&b'/')) =>
                {
                    self.pos += memchr::memchr(b'\n', &bytes[self.pos..]).unwrap_or(bytes.len() - self.pos);
                }
                _ => return,
            }
        }
    }

    /// The token at `pos` when it is a simple one.
    // (In the lexer's loop, with `next`: 4% faster over the corpus than `#[inline]`.)
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn fast(&self) -> Option<Token> {
        if self.start {
            return None;
        }
        let bytes = &self.text.as_bytes()[self.pos..];
        let first = *bytes.first()?;
        let kind = match first {
            b' ' | b'\t' | b'\n' | b'\r' => {
                let n = run(bytes, space_mask, &SPACE);
                // Other whitespace (`\x0b`, `\u{2028}`...) continues the token.
                return match bytes.get(n) {
                    Some(b) if !b.is_ascii() || matches!(b, 0x0b | 0x0c) => None,
                    _ => Some(token(TokenKind::Whitespace, n)),
                };
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let n = ident_len(bytes);
                // Prefixed literals, raw identifiers and unknown prefixes (`r#x`, `b"x"`,
                // `f"x"`), and identifiers going on in non-ASCII characters.
                if bytes
                    .get(n)
                    .is_some_and(|b| matches!(b, b'#' | b'"' | b'\'') || !b.is_ascii())
                {
                    return None;
                }
                return Some(token(TokenKind::Ident, n));
            }
            b'/' => match bytes.get(1) {
                Some(b'/') => {
                    let doc_style = match bytes.get(2) {
                        Some(b'!') => Some(DocStyle::Inner),
                        Some(b'/') if bytes.get(3) != Some(&b'/') => Some(DocStyle::Outer),
                        _ => None,
                    };
                    let n = memchr::memchr(b'\n', bytes).unwrap_or(bytes.len());
                    return Some(token(TokenKind::LineComment { doc_style }, n));
                }
                Some(b'*') => return None,
                _ => TokenKind::Slash,
            },
            b'"' => return string(bytes),
            b'#' if matches!(bytes.get(1), Some(b'"' | b'#')) => return None,
            b';' => TokenKind::Semi,
            b',' => TokenKind::Comma,
            b'.' => TokenKind::Dot,
            b'(' => TokenKind::OpenParen,
            b')' => TokenKind::CloseParen,
            b'{' => TokenKind::OpenBrace,
            b'}' => TokenKind::CloseBrace,
            b'[' => TokenKind::OpenBracket,
            b']' => TokenKind::CloseBracket,
            b'@' => TokenKind::At,
            b'#' => TokenKind::Pound,
            b'~' => TokenKind::Tilde,
            b'?' => TokenKind::Question,
            b':' => TokenKind::Colon,
            b'$' => TokenKind::Dollar,
            b'=' => TokenKind::Eq,
            b'!' => TokenKind::Bang,
            b'<' => TokenKind::Lt,
            b'>' => TokenKind::Gt,
            b'-' => TokenKind::Minus,
            b'&' => TokenKind::And,
            b'|' => TokenKind::Or,
            b'+' => TokenKind::Plus,
            b'*' => TokenKind::Star,
            b'^' => TokenKind::Caret,
            b'%' => TokenKind::Percent,
            _ => return None,
        };
        Some(token(kind, 1))
    }
}

/// ASCII letters, digits and `_`.
static IDENT: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = (b as u8).is_ascii_alphanumeric() || b == b'_' as usize;
        b += 1;
    }
    t
};

/// ASCII whitespace as [`Tokens`] skips it: space, tab, line feed, carriage return.
static SPACE: [bool; 256] = {
    let mut t = [false; 256];
    t[b' ' as usize] = true;
    t[b'\t' as usize] = true;
    t[b'\n' as usize] = true;
    t[b'\r' as usize] = true;
    t
};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = ONES * 0x80;

/// The high bit of each byte of `x` that is at least `lo` and at most `hi`, for bytes below
/// 0x80 (no sum carries into the next byte).
const fn in_range(x: u64, lo: u8, hi: u8) -> u64 {
    let at_least = x + ONES * (0x80 - lo as u64);
    let above = x + ONES * (0x7f - hi as u64);
    at_least & !above & HIGH
}

/// The high bit of each byte of `x` that is an ASCII letter, digit or `_` (see [`IDENT`]).
const fn ident_mask(x: u64) -> u64 {
    let ascii = !x & HIGH;
    let low = x & !HIGH;
    (in_range(low | (ONES * 0x20), b'a', b'z') | in_range(low, b'0', b'9') | in_range(low, b'_', b'_')) & ascii
}

/// The high bit of each byte of `x` that is in [`SPACE`].
const fn space_mask(x: u64) -> u64 {
    let ascii = !x & HIGH;
    let low = x & !HIGH;
    (in_range(low, b'\t', b'\n') | in_range(low, b'\r', b'\r') | in_range(low, b' ', b' ')) & ascii
}

/// How many bytes at the start of `bytes` are in `table`, whose bytes `mask` marks eight at a
/// time: a word-at-a-time scan, for identifiers and indentation (a loop byte by byte
/// mispredicts its exit once per token).
#[inline]
fn run(bytes: &[u8], mask: fn(u64) -> u64, table: &[bool; 256]) -> usize {
    let mut i = 0;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let x = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let stop = !mask(x) & HIGH;
        if stop != 0 {
            return i + (stop.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + bytes[i..]
        .iter()
        .position(|b| !table[*b as usize])
        .unwrap_or(bytes.len() - i)
}

/// How many bytes at the start of `bytes` are ASCII letters, digits or `_` (see [`IDENT`]).
#[inline]
pub(crate) fn ident_len(bytes: &[u8]) -> usize {
    run(bytes, ident_mask, &IDENT)
}

fn token(kind: TokenKind, len: usize) -> Token {
    Token { kind, len: len as u32 }
}

/// A terminated `"..."` without a suffix (anything else is left to `rustc_lexer`).
fn string(bytes: &[u8]) -> Option<Token> {
    let mut i = 1;
    loop {
        i += memchr::memchr2(b'"', b'\\', &bytes[i..])?;
        if bytes[i] == b'"' {
            break;
        }
        // `\\` and `\"` are skipped whole; any other escape goes on from the next character.
        i += if matches!(bytes.get(i + 1), Some(b'\\' | b'"')) {
            2
        } else {
            1
        };
    }
    let end = i + 1;
    if bytes
        .get(end)
        .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_' || !b.is_ascii())
    {
        return None;
    }
    Some(token(
        TokenKind::Literal {
            kind: LiteralKind::Str { terminated: true },
            suffix_start: end as u32,
        },
        end,
    ))
}

/// A token and where it starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tok {
    pub kind: TokenKind,
    pub start: u32,
    pub len: u32,
}

/// Skipped by [`Tokens`].
fn skipped(kind: TokenKind) -> bool {
    matches!(kind, TokenKind::Whitespace | TokenKind::LineComment { doc_style: None })
}

impl Iterator for Tokens<'_> {
    type Item = Tok;

    #[allow(clippy::inline_always)] // (see `fast`)
    #[inline(always)]
    fn next(&mut self) -> Option<Tok> {
        loop {
            if !self.start {
                self.skip_trivia();
            }
            if self.pos >= self.text.len() {
                return None;
            }
            let tok = if let Some(t) = self.fast() {
                t
            } else {
                let t = self.slow();
                if matches!(t.kind, TokenKind::Eof) || t.len == 0 {
                    return None;
                }
                if !matches!(t.kind, TokenKind::Whitespace) {
                    self.start = false;
                }
                t
            };
            let start = self.pos as u32;
            self.pos += tok.len as usize;
            if !skipped(tok.kind) {
                return Some(Tok {
                    kind: tok.kind,
                    start,
                    len: tok.len,
                });
            }
        }
    }
}

/// `rustc_lexer`'s tokens as [`Tokens`] gives them (for tests).
#[must_use]
pub fn reference(text: &str) -> Vec<Tok> {
    let mut start = 0;
    rustc_lexer::tokenize(text, FrontmatterAllowed::Yes)
        .filter_map(|t| {
            let tok = Tok {
                kind: t.kind,
                start,
                len: t.len,
            };
            start += t.len;
            (!skipped(t.kind)).then_some(tok)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn both(text: &str) -> (Vec<Tok>, Vec<Tok>) {
        (Tokens::new(text).collect(), reference(text))
    }

    #[test]
    fn the_same_tokens_as_rustc_lexer() {
        for text in [
            "",
            "fn main() { let r#type = b\"x\" ; 'a: loop {} }",
            "/// doc\n//! inner\n//// not doc\n/** block */ /*! inner */ /*** not */ /**/",
            "let s = \"esc \\\" \\\\ \\n é\"; let t = \"x\"suffix; let u = \"open",
            "x\u{2028}y \x0b z _ __ a1 é ü_x",
            "1.0e3 0x1F 1..2 1.foo() 'a' '\\n' 'lt 'r#raw c\"c\" cr\"x\" br#\"y\"# f\"z\" k#kw #\"g\"#",
            "---\nfrontmatter\n---\nfn f() {}",
            "   \n---cargo\n---\n",
            "/* nested /* block */ comment */ / /= // end",
            "@~?:$=!<>-&|+*^%;,.(){}[]#",
        ] {
            let (ours, theirs) = both(text);
            assert_eq!(ours, theirs, "{text:?}");
        }
    }

    #[test]
    fn word_at_a_time_runs_stop_where_the_tables_do() {
        // Every byte value at every place of a run, in the eight-byte words and after them.
        for (mask, table, fill) in [
            (ident_mask as fn(u64) -> u64, &IDENT, b'a'),
            (space_mask as fn(u64) -> u64, &SPACE, b' '),
        ] {
            for b in 0..=255u8 {
                for at in 0..20 {
                    let mut bytes = [fill; 20];
                    bytes[at] = b;
                    let want = bytes.iter().position(|c| !table[*c as usize]).unwrap_or(bytes.len());
                    assert_eq!(run(&bytes, mask, table), want, "byte {b:#x} at {at}");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn the_same_tokens_on_generated_text(parts in proptest::collection::vec(
            prop::sample::select(vec![
                "a", "r", "b", "c", "k", "_", "x1", "é", "\u{2028}", "#", "\"", "'", "\\", "/", "*",
                "!", "-", "---", "\n", " ", "\t", "\x0b", "0", "1.", "e", ".", "{", "}", "(", ")",
                "//", "/*", "*/", "///", "//!", "$", "<", ">", ";",
            ]),
            0..40,
        )) {
            let text: String = parts.concat();
            let (ours, theirs) = both(&text);
            prop_assert_eq!(ours, theirs, "{:?}", text);
        }
    }
}
