//! Plain data describing one finding. Printing lives in `cargo-maplint`.

use serde::{Deserialize, Serialize};

/// How seriously a finding is taken. `Deny` findings make `cargo maplint` exit with status 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Allow,
    Warn,
    Deny,
}

impl Level {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Warn => "warn",
            Level::Deny => "deny",
        }
    }

    /// The rustc severity word used in output (`error` for deny, `warning` for warn).
    #[must_use]
    pub fn severity(self) -> &'static str {
        match self {
            Level::Deny => "error",
            Level::Warn | Level::Allow => "warning",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "allow" => Some(Level::Allow),
            "warn" => Some(Level::Warn),
            "deny" => Some(Level::Deny),
            _ => None,
        }
    }
}

/// A byte range `lo..hi` in one file of the package (`file` indexes the input files).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct Span {
    pub file: u32,
    pub lo: u32,
    pub hi: u32,
}

impl Span {
    #[must_use]
    pub fn new(file: u32, lo: u32, hi: u32) -> Span {
        Span {
            file,
            lo,
            hi: hi.max(lo),
        }
    }

    #[must_use]
    pub fn range(self) -> std::ops::Range<usize> {
        self.lo as usize..self.hi as usize
    }
}

/// How safe it is to apply a suggestion without looking (rustc's applicability).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Applicability {
    MachineApplicable,
    MaybeIncorrect,
    HasPlaceholders,
    Unspecified,
}

impl Applicability {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Applicability::MachineApplicable => "MachineApplicable",
            Applicability::MaybeIncorrect => "MaybeIncorrect",
            Applicability::HasPlaceholders => "HasPlaceholders",
            Applicability::Unspecified => "Unspecified",
        }
    }
}

/// One text replacement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edit {
    pub span: Span,
    pub replacement: String,
}

/// A help message, optionally carrying a code suggestion (rustc puts suggestions in `help`
/// children; editors turn them into quick fixes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Help {
    pub message: String,
    pub edits: Vec<Edit>,
    pub applicability: Option<Applicability>,
}

/// A secondary label: the other half of a finding (the spawn, the clone, the `unsafe impl`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One finding of one rule (or of the tool itself: `parse_error`, `io_error`, `internal_error`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Rule name without the `maplint::` prefix.
    pub rule: String,
    pub level: Level,
    pub message: String,
    /// The focal span; `None` only for findings about a whole file that has no text.
    pub primary: Option<Span>,
    pub primary_label: Option<String>,
    pub labels: Vec<Label>,
    pub helps: Vec<Help>,
    pub notes: Vec<String>,
    /// The file the diagnostic belongs to (index into the package's input files).
    pub file: u32,
}

impl Diagnostic {
    /// The rustc/clippy-style code, `maplint::<rule>`.
    #[must_use]
    pub fn code(&self) -> String {
        format!("maplint::{}", self.rule)
    }

    /// A fingerprint that survives line shifts and unrelated edits: the rule, the file, the text
    /// of the primary line (whitespace-normalized) and of the primary span. Identical findings in
    /// one file are told apart by the caller (an occurrence counter). Hex, 16 digits (FNV-1a).
    #[must_use]
    pub fn fingerprint(&self, file: &crate::SourceFile) -> String {
        let line = self
            .primary
            .map_or("", |p| file.line_text(file.line_index(p.lo as usize)));
        let normalized: String = line.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let snippet = self.primary.and_then(|p| file.text.get(p.range())).unwrap_or("");
        for part in [self.rule.as_str(), file.name.as_str(), normalized.as_str(), snippet] {
            for b in part.bytes().chain(std::iter::once(0)) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("{h:016x}")
    }

    /// Documentation URL of the rule.
    #[must_use]
    pub fn docs_url(&self) -> String {
        docs_url(&self.rule)
    }
}

/// The documentation URL of a rule.
#[must_use]
pub fn docs_url(rule: &str) -> String {
    format!("https://github.com/maplint/maplint/blob/main/docs/rules/{rule}.md")
}
