//! Inline suppressions, read with the Rust lexer (so text inside strings never counts):
//!
//! - `// maplint: allow(rule_a, rule_b) -- reason` (or `/* maplint: allow(..) */`) on the line
//!   of a finding, or alone on a line before it: it then applies to the next line with code
//!   (blank lines and other comments in between are skipped);
//! - `// maplint: allow-file(rule_a)` anywhere in a file.
//!
//! A suppression that silences nothing is reported as `unused_suppression`; an unknown rule name
//! or a malformed directive as `invalid_suppression`.

use rustc_lexer::{FrontmatterAllowed, TokenKind, tokenize};

use crate::diagnostic::Span;

/// One rule named in a directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allow {
    pub rule: String,
    /// The whole comment.
    pub span: Span,
    /// 0-based line of the comment.
    pub line: usize,
    /// The comment has code before it on its line (it applies to that line only).
    pub trailing: bool,
    pub file_wide: bool,
    /// For a comment alone on its line: the 0-based line of the next code, which it silences.
    pub target: usize,
}

/// A directive that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub span: Span,
    pub message: String,
}

/// The suppressions of one file.
#[derive(Debug, Clone, Default)]
pub struct Suppressions {
    pub allows: Vec<Allow>,
    pub malformed: Vec<Malformed>,
}

const PREFIX: &str = "maplint:";

impl Suppressions {
    /// Lexes a file's text and collects its directives.
    #[must_use]
    pub fn parse(file: u32, text: &str) -> Suppressions {
        let mut out = Suppressions::default();
        // Cheap pre-check: most files have no directive at all.
        if !text.contains(PREFIX) {
            return out;
        }
        let mut offset = 0usize;
        let mut line = 0usize;
        let mut code_on_line = false;
        // Lines where code starts, in order, and the line each standalone directive ends on.
        let mut code_lines: Vec<usize> = Vec::new();
        let mut standalone: Vec<(usize, usize)> = Vec::new();
        for tok in tokenize(text, FrontmatterAllowed::Yes) {
            let len = tok.len as usize;
            let tok_text = &text[offset..offset + len];
            let newlines = tok_text.matches('\n').count();
            match tok.kind {
                TokenKind::LineComment { doc_style: None } | TokenKind::BlockComment { doc_style: None, .. } => {
                    let span = Span::new(file, offset as u32, (offset + len) as u32);
                    let before = out.allows.len();
                    out.read_directive(tok_text, span, line, code_on_line);
                    if !code_on_line {
                        standalone.extend((before..out.allows.len()).map(|i| (i, line + newlines)));
                    }
                }
                TokenKind::Whitespace | TokenKind::LineComment { .. } | TokenKind::BlockComment { .. } => {}
                _ => {
                    if !code_on_line {
                        code_lines.push(line);
                    }
                    code_on_line = true;
                }
            }
            if newlines > 0 {
                line += newlines;
                code_on_line = false;
            }
            offset += len;
        }
        for (i, end) in standalone {
            let next = code_lines.partition_point(|&l| l <= end);
            out.allows[i].target = code_lines.get(next).copied().unwrap_or(end + 1);
        }
        out
    }

    fn read_directive(&mut self, comment: &str, span: Span, line: usize, trailing: bool) {
        let body = match comment.strip_prefix("/*") {
            Some(b) => b.strip_suffix("*/").unwrap_or(b).trim(),
            None => comment.trim_start_matches('/').trim(),
        };
        let Some(rest) = body.strip_prefix(PREFIX) else { return };
        let rest = rest.trim();
        let (file_wide, args) = if let Some(a) = rest.strip_prefix("allow-file") {
            (true, a)
        } else if let Some(a) = rest.strip_prefix("allow") {
            (false, a)
        } else {
            self.malformed.push(Malformed {
                span,
                message: "expected `maplint: allow(rule)` or `maplint: allow-file(rule)`".into(),
            });
            return;
        };
        let args = args.trim_start();
        let Some(inner) = args.strip_prefix('(').and_then(|a| a.split_once(')')).map(|(i, _)| i) else {
            self.malformed.push(Malformed {
                span,
                message: "expected a parenthesized list of rule names".into(),
            });
            return;
        };
        let names: Vec<&str> = inner.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
        if names.is_empty() {
            self.malformed.push(Malformed {
                span,
                message: "the list of rule names is empty".into(),
            });
            return;
        }
        for name in names {
            let rule = name.strip_prefix("maplint::").unwrap_or(name).to_owned();
            self.allows.push(Allow {
                rule,
                span,
                line,
                trailing,
                file_wide,
                target: line,
            });
        }
    }

    /// Which directive (index into `allows`) silences a finding of `rule` whose primary span
    /// starts on 0-based `line`, if any.
    #[must_use]
    pub fn silencing(&self, rule: &str, line: usize) -> Option<usize> {
        self.allows
            .iter()
            .position(|a| a.rule == rule && (a.file_wide || a.line == line || (!a.trailing && a.target == line)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_in_comments_only() {
        let text = "fn f() {\n    // maplint: allow(map_lock_reentry, lost_map_writes) -- the guard is gone\n    x(); // maplint: allow(maplint::map_check_then_act)\n    let s = \"// maplint: allow(map_lock_upgrade)\";\n}\n// maplint: allow-file(map_borrow_conflict)\n// maplint: deny(x)\n/* maplint: allow(map_lock_upgrade) */\n";
        let s = Suppressions::parse(0, text);
        let got: Vec<_> = s
            .allows
            .iter()
            .map(|a| (a.rule.as_str(), a.line, a.trailing, a.file_wide))
            .collect();
        assert_eq!(
            got,
            vec![
                ("map_lock_reentry", 1, false, false),
                ("lost_map_writes", 1, false, false),
                ("map_check_then_act", 2, true, false),
                ("map_borrow_conflict", 5, false, true),
                ("map_lock_upgrade", 7, false, false),
            ]
        );
        assert_eq!(s.malformed.len(), 1);
        // The line itself and the next one for a comment on its own line; only its own line
        // for a trailing comment.
        assert_eq!(s.silencing("map_lock_reentry", 2), Some(0));
        assert_eq!(s.silencing("map_lock_reentry", 3), None);
        assert_eq!(s.silencing("map_check_then_act", 2), Some(2));
        assert_eq!(s.silencing("map_check_then_act", 3), None);
        assert_eq!(s.silencing("map_borrow_conflict", 40), Some(3));
    }

    #[test]
    fn a_standalone_directive_applies_to_the_next_code_line() {
        let text = "fn f() {\n    // maplint: allow(map_lock_reentry) -- reason\n\n    // more words\n    x();\n    y();\n    /* maplint: allow(map_lock_upgrade) */\n    z(); /* maplint: allow(lost_map_writes) */\n}\n";
        let s = Suppressions::parse(0, text);
        // Across a blank line and a plain comment to `x();` on line 4, and no further.
        assert_eq!(s.silencing("map_lock_reentry", 4), Some(0));
        assert_eq!(s.silencing("map_lock_reentry", 2), None);
        assert_eq!(s.silencing("map_lock_reentry", 5), None);
        // Block comments are directives too: alone on a line, or after code.
        assert_eq!(s.silencing("map_lock_upgrade", 7), Some(1));
        assert_eq!(s.silencing("lost_map_writes", 7), Some(2));
        assert_eq!(s.silencing("lost_map_writes", 8), None);
    }
}
