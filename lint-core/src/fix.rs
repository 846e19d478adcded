//! Applying suggestions: ruff's applicability model on rustc's suggestion format.

use crate::diagnostic::{Applicability, Diagnostic, Edit};

/// Which suggestions to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixMode {
    /// `--fix`: machine-applicable suggestions only.
    Safe,
    /// `--fix --unsafe-fixes`: also maybe-incorrect ones.
    Unsafe,
}

impl FixMode {
    #[must_use]
    pub fn accepts(self, a: Option<Applicability>) -> bool {
        matches!(
            (self, a),
            (_, Some(Applicability::MachineApplicable)) | (FixMode::Unsafe, Some(Applicability::MaybeIncorrect))
        )
    }
}

/// The edits of one file's diagnostics that `mode` accepts, as whole suggestions (a suggestion
/// with several edits is applied entirely or not at all).
#[must_use]
pub fn suggestions_for_file(diags: &[Diagnostic], file: u32, mode: FixMode) -> Vec<Vec<Edit>> {
    diags
        .iter()
        .filter(|d| d.file == file)
        .flat_map(|d| &d.helps)
        .filter(|h| mode.accepts(h.applicability) && !h.edits.is_empty())
        .filter(|h| h.edits.iter().all(|e| e.span.file == file))
        .map(|h| h.edits.clone())
        .collect()
}

/// Applies suggestions to a text. Suggestions overlapping one already taken are skipped (a
/// later pass picks them up). Returns the new text and how many suggestions were applied.
#[must_use]
pub fn apply(text: &str, suggestions: &[Vec<Edit>]) -> (String, usize) {
    let mut taken: Vec<&Edit> = Vec::new();
    let mut applied = 0;
    let mut sorted: Vec<&Vec<Edit>> = suggestions.iter().collect();
    sorted.sort_by_key(|s| s.iter().map(|e| e.span.lo).min().unwrap_or(0));
    for s in sorted {
        let overlaps = s.iter().any(|e| {
            e.span.hi as usize > text.len()
                || !text.is_char_boundary(e.span.lo as usize)
                || !text.is_char_boundary(e.span.hi as usize)
                || taken.iter().any(|t| e.span.lo < t.span.hi && t.span.lo < e.span.hi)
        });
        if !overlaps {
            taken.extend(s.iter());
            applied += 1;
        }
    }
    taken.sort_by_key(|e| e.span.lo);
    let mut out = String::with_capacity(text.len());
    let mut pos = 0usize;
    for e in taken {
        out.push_str(&text[pos..e.span.lo as usize]);
        out.push_str(&e.replacement);
        pos = e.span.hi as usize;
    }
    out.push_str(&text[pos..]);
    (out, applied)
}

/// Does this text still parse as a Rust file? A fix that breaks parsing is rolled back.
#[must_use]
pub fn parses(text: &str) -> bool {
    crate::model::lower::parse_and_lower(0, text).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Span;

    fn edit(lo: u32, hi: u32, r: &str) -> Edit {
        Edit {
            span: Span::new(0, lo, hi),
            replacement: r.into(),
        }
    }

    #[test]
    fn applies_non_overlapping_suggestions_in_order() {
        let text = "let a = 1; let b = 2;";
        let (out, n) = apply(
            text,
            &[vec![edit(19, 20, "3")], vec![edit(8, 9, "5")], vec![edit(8, 10, "X")]],
        );
        assert_eq!(out, "let a = 5; let b = 3;");
        assert_eq!(n, 2);
        assert!(parses("fn f() { let a = 5; }"));
        assert!(!parses("fn f() { let a = ; }"));
    }

    #[test]
    fn modes_follow_ruff() {
        assert!(FixMode::Safe.accepts(Some(Applicability::MachineApplicable)));
        assert!(!FixMode::Safe.accepts(Some(Applicability::MaybeIncorrect)));
        assert!(FixMode::Unsafe.accepts(Some(Applicability::MaybeIncorrect)));
        assert!(!FixMode::Unsafe.accepts(Some(Applicability::HasPlaceholders)));
        assert!(!FixMode::Unsafe.accepts(None));
    }
}
