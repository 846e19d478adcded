//! `lint-core`: the analyzer behind `cargo maplint`.
//!
//! Give it the sources of one package ([`PackageSources`]) and it returns the findings
//! ([`Analysis`]). It never touches the file system, never prints and never exits: reading
//! files, discovering packages and rendering diagnostics live in the `cargo-maplint` binary.
//!
//! Bad input never stops the analysis: a file that is not UTF-8, cannot be read or cannot be
//! parsed yields a diagnostic for that file (`io_error`, `parse_error`) and the other files are
//! still analyzed; a panic inside a rule becomes an `internal_error` diagnostic naming the rule.

pub mod catalog;
pub mod diagnostic;
pub mod fix;
pub mod lex;
pub mod model;
pub mod reuse;
pub mod rules;
pub mod settings;
pub mod source;
pub mod suppress;
#[doc(hidden)]
pub mod tokens;

mod engine;

pub use diagnostic::{Applicability, Diagnostic, Edit, Help, Label, Level, Span};
pub use engine::{analyze, analyze_incremental, in_pool, plan_for};
pub use reuse::FileFacts;
pub use settings::Settings;
pub use source::{LineCol, SourceFile};

/// The Rust edition of a package; it decides temporary lifetimes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Edition {
    E2015,
    E2018,
    #[default]
    E2021,
    E2024,
}

impl Edition {
    /// Parses `"2015"`, `"2018"`, `"2021"` or `"2024"`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Edition> {
        match s.trim() {
            "2015" => Some(Edition::E2015),
            "2018" => Some(Edition::E2018),
            "2021" => Some(Edition::E2021),
            "2024" => Some(Edition::E2024),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Edition::E2015 => "2015",
            Edition::E2018 => "2018",
            Edition::E2021 => "2021",
            Edition::E2024 => "2024",
        }
    }
}

/// One input file: its display name and its bytes, or the reason it could not be read.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// Path as shown to the user (relative to the workspace root when possible).
    pub name: String,
    pub content: Result<Vec<u8>, String>,
}

/// All Rust sources of one package (or one loose file), analyzed as one unit.
#[derive(Debug, Clone, Default)]
pub struct PackageSources {
    pub name: String,
    pub edition: Edition,
    pub files: Vec<InputFile>,
    /// The package builds no library (only binaries, examples, tests and benches): no other
    /// crate calls its code, so a thread that reaches a value is one this package spawns.
    /// `unsynchronized_map_write` asks it of a type declared `Sync`.
    pub binaries_only: bool,
}

/// The result of analyzing one package: its files (as decoded text, for rendering) and findings.
#[derive(Debug, Default)]
pub struct Analysis {
    /// One entry per input file, in input order; `Diagnostic::file` and `Span::file` index it.
    /// A file that could not be read or decoded has empty text, and so has a file only lexed
    /// (nothing in it can be reported; its text is not kept).
    pub files: Vec<SourceFile>,
    /// Findings sorted by file, position and rule.
    pub diagnostics: Vec<Diagnostic>,
    /// How many files were parsed (the others were only lexed, since nothing in them can
    /// matter, or their facts were reused).
    pub parsed: usize,
    /// How many files' facts came from an earlier analysis ([`analyze_incremental`]).
    pub reused: usize,
    /// With [`Settings::explain_plan`]: why each parsed file was parsed (file index, reason).
    pub why_parsed: Vec<(u32, String)>,
    /// What was analyzed, and what was read but not analyzed.
    pub coverage: Coverage,
}

/// What an analysis covered: a linter whose silence may mean "did not look" says where it did
/// not look (`-v`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Coverage {
    /// Function bodies analyzed (methods, closures' enclosing functions, nested functions).
    pub bodies: usize,
    /// Files only lexed: nothing in them can contribute a fact or a finding.
    pub lexed_only: usize,
    /// What was read but not analyzed, in file order.
    pub not_analyzed: Vec<NotAnalyzed>,
}

impl Coverage {
    /// How many things were not analyzed, per reason of [`Unanalyzed::ALL`].
    #[must_use]
    pub fn counts(&self) -> [usize; Unanalyzed::ALL.len()] {
        Unanalyzed::ALL.map(|w| self.not_analyzed.iter().filter(|n| n.why == w).count())
    }
}

/// One thing read but not analyzed (see [`Coverage`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NotAnalyzed {
    pub span: Span,
    pub why: Unanalyzed,
}

/// Why something was not analyzed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Unanalyzed {
    /// An item (or a whole file) syn cannot parse; a `parse_error` says where.
    SyntaxError,
    /// An item macro whose input names items but does not parse as items.
    MacroInputNotItems,
    /// A rule of a `macro_rules!` whose body is meant as code (it names an item or calls a
    /// method) but parses neither as items nor as statements once its metavariables are
    /// replaced by placeholders.
    MacroRulesBody,
}

impl Unanalyzed {
    /// Every reason, in report order.
    pub const ALL: [Unanalyzed; 3] = [
        Unanalyzed::SyntaxError,
        Unanalyzed::MacroInputNotItems,
        Unanalyzed::MacroRulesBody,
    ];

    /// A short name, for JSON.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Unanalyzed::SyntaxError => "syntax_error",
            Unanalyzed::MacroInputNotItems => "macro_input_not_items",
            Unanalyzed::MacroRulesBody => "macro_rules_body",
        }
    }

    /// What one of them is, in words.
    #[must_use]
    pub fn what(self) -> &'static str {
        self.words().0
    }

    /// What `n` of them are, in words.
    #[must_use]
    pub fn describe(self, n: usize) -> String {
        let (one, many) = self.words();
        format!("{n} {}", if n == 1 { one } else { many })
    }

    fn words(self) -> (&'static str, &'static str) {
        match self {
            Unanalyzed::SyntaxError => ("item with a syntax error", "items with a syntax error"),
            Unanalyzed::MacroInputNotItems => (
                "item macro whose input is not items",
                "item macros whose input is not items",
            ),
            Unanalyzed::MacroRulesBody => (
                "`macro_rules!` rule whose body is neither items nor statements",
                "`macro_rules!` rules whose body is neither items nor statements",
            ),
        }
    }
}
