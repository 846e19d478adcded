//! The rules: one file per rule, registered once in [`RULES`].

mod conflicts;
pub mod helpers;
mod lost_map_writes;
mod map_borrow_across_await;
mod map_borrow_conflict;
mod map_check_then_act;
mod map_duplicate_fill;
mod map_guard_across_await;
mod map_guard_across_blocking_wait;
mod map_lock_order_inversion;
mod map_lock_reentry;
mod map_lock_upgrade;
mod map_mutated_in_spawn;
mod rewrite;
mod sharded_map_reentry;
mod unsynchronized_map_write;

use crate::diagnostic::Level;
use crate::model::{Function, Model};
use crate::rules::helpers::Reporter;

/// Whether and how a rule offers fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixAvailability {
    None,
    Sometimes,
    Always,
}

/// A rule's metadata and documentation.
#[derive(Debug)]
pub struct RuleMeta {
    pub name: &'static str,
    pub default_level: Level,
    /// One line: what the rule finds.
    pub summary: &'static str,
    /// The full documentation (markdown, clippy's sections).
    pub docs: &'static str,
    pub fix: FixAvailability,
    /// The maplint version that introduced the rule.
    pub since: &'static str,
    /// Identifiers a file must contain (or be linked to by name) for this rule to find
    /// anything in it: files naming none of the active rules' interests are only lexed.
    pub interests: &'static [crate::catalog::Interest],
    /// What a package must contain for this rule to find anything in it; when it contains
    /// none of it, the rule's interests do not make files relevant (the rule still runs on
    /// the files parsed for other rules, and cannot fire there).
    pub requires: Option<&'static Requires>,
    /// Clippy lints that report some of the same code (`map_entry`): named on the rule's page,
    /// and under `--also-run clippy` their finding on the same lines is folded into maplint's.
    pub clippy: &'static [&'static str],
}

/// What a package must contain for a rule to find anything in it (any one of these).
#[derive(Debug)]
pub struct Requires {
    /// A spawn: one of the model's spawning functions together with a crate or module it
    /// comes from (`thread`, `rayon`, `tokio`...), a spawning method, a parallel iterator or a
    /// configured spawner (see `model::body::SPAWN_FNS`).
    pub spawn: bool,
    /// An `unsafe impl` of one of these traits.
    pub unsafe_impl_of: &'static [&'static str],
}

/// A thread, task, scope or parallel iterator: what the spawn-based rules need.
pub const SPAWNS: Requires = Requires {
    spawn: true,
    unsafe_impl_of: &[],
};

impl RuleMeta {
    /// The documentation as markdown (the doc comment without its one-space indent).
    #[must_use]
    pub fn docs_markdown(&self) -> String {
        let mut out = String::new();
        for line in self.docs.lines() {
            let line = line.strip_prefix(' ').unwrap_or(line);
            // Rule examples are fragments: `ignore` keeps rustdoc from compiling them, but a
            // markdown page only needs the language.
            out.push_str(if line == "```rust,ignore" { "```rust" } else { line });
            out.push('\n');
        }
        out
    }

    /// The rule's documentation page (`docs/rules/<name>.md`).
    #[must_use]
    pub fn docs_page(&self) -> String {
        let fix = match self.fix {
            FixAvailability::None => "none",
            FixAvailability::Sometimes => "sometimes",
            FixAvailability::Always => "always",
        };
        let clippy = if self.clippy.is_empty() {
            String::new()
        } else {
            let lints: Vec<String> = self.clippy.iter().map(|l| format!("`clippy::{l}`")).collect();
            format!(
                "\n\nOverlaps with {}: clippy reports some of the same code without the race; with \
                 `--also-run clippy`, its finding on the same lines is folded into this rule's.",
                lints.join(", ")
            )
        };
        format!(
            "# `{}`\n\n{}\n\nDefault level: `{}` · Since: {} · Fix: {}{clippy}\n\n{}",
            self.name,
            self.summary,
            self.default_level.as_str(),
            self.since,
            fix,
            self.docs_markdown()
        )
    }
}

/// A rule: reads the model, reports through the [`Reporter`]. The engine calls
/// [`Rule::check_fn`] for every function of a file, then [`Rule::check_file`]; a finding whose
/// primary span a rule already reported in the file is dropped (one finding per site).
pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    /// Checks one function of the file.
    fn check_fn(&self, _model: &Model, _func: Function<'_>, _out: &mut Reporter<'_>) {}
    /// Checks package-wide facts that land in this file (`file` indexes the package's files).
    fn check_file(&self, _model: &Model, _file: u32, _out: &mut Reporter<'_>) {}
}

/// Declares a rule: its doc comment becomes `RuleMeta::docs`.
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        pub struct $ty:ident {
            name: $name:literal,
            level: $level:ident,
            summary: $summary:literal,
            fix: $fix:ident,
            since: $since:literal,
            interests: $interests:expr
            $(, requires: $requires:expr)?
            $(, clippy: $clippy:expr)? $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Default, Clone, Copy)]
        pub struct $ty;

        impl $ty {
            pub const META: $crate::rules::RuleMeta = $crate::rules::RuleMeta {
                name: $name,
                default_level: $crate::diagnostic::Level::$level,
                summary: $summary,
                docs: concat!($($doc, "\n"),*),
                fix: $crate::rules::FixAvailability::$fix,
                since: $since,
                interests: $interests,
                requires: {
                    #[allow(unused_mut, unused_assignments)]
                    let mut r: Option<&'static $crate::rules::Requires> = None;
                    $(r = Some(&$requires);)?
                    r
                },
                clippy: {
                    #[allow(unused_mut, unused_assignments)]
                    let mut c: &'static [&'static str] = &[];
                    $(c = &$clippy;)?
                    c
                },
            };
        }
    };
}
pub(crate) use declare_rule;

/// Every rule, in documentation order. Registration is one line here.
pub static RULES: &[&dyn Rule] = &[
    &unsynchronized_map_write::UnsynchronizedMapWrite,
    &map_mutated_in_spawn::MapMutatedInSpawn,
    &lost_map_writes::LostMapWrites,
    &map_lock_reentry::MapLockReentry,
    &map_lock_upgrade::MapLockUpgrade,
    &sharded_map_reentry::ShardedMapReentry,
    &map_borrow_conflict::MapBorrowConflict,
    &map_guard_across_await::MapGuardAcrossAwait,
    &map_borrow_across_await::MapBorrowAcrossAwait,
    &map_guard_across_blocking_wait::MapGuardAcrossBlockingWait,
    &map_check_then_act::MapCheckThenAct,
    &map_duplicate_fill::MapDuplicateFill,
    &map_lock_order_inversion::MapLockOrderInversion,
];

/// Diagnostics the tool itself emits (not rules, but they have names and levels too).
pub static TOOL_DIAGNOSTICS: &[RuleMeta] = &[
    RuleMeta {
        name: "parse_error",
        default_level: Level::Warn,
        summary: "a file could not be parsed, so it was not analyzed",
        docs: "An item that syn cannot parse (an edition-2015 bare trait object such as `type Action = Fn(&T) + Send;`, which rustc accepts, or a real syntax error) is reported at syn's error and left out; the rest of the file and of the package is still analyzed (after 16 items left out, the file is skipped). A file whose delimiters do not balance is skipped whole, and the message says so in rustc's words with both places (`mismatched closing delimiter`, `this file contains an unclosed delimiter`). Lexical errors (unterminated literals or comments, unbalanced delimiters) are reported in every file; other syntax errors only where maplint parses (files and items that can matter to a rule), or everywhere with `--parse-all`.\n",
        fix: FixAvailability::None,
        since: "0.1.0",
        interests: &[],
        requires: None,
        clippy: &[],
    },
    RuleMeta {
        name: "io_error",
        default_level: Level::Deny,
        summary: "a file could not be read or is not UTF-8, so it was not analyzed",
        docs: "A file that cannot be read, or whose content is not valid UTF-8, is reported and skipped; the rest of the package is still analyzed.\n",
        fix: FixAvailability::None,
        since: "0.1.0",
        interests: &[],
        requires: None,
        clippy: &[],
    },
    RuleMeta {
        name: "unused_suppression",
        default_level: Level::Warn,
        summary: "a `// maplint: allow(..)` comment silences nothing",
        docs: "A suppression comment whose rule reports nothing on its line (or, for `allow-file`, in its file) is reported so stale suppressions get cleaned up.\n",
        fix: FixAvailability::None,
        since: "0.1.0",
        interests: &[],
        requires: None,
        clippy: &[],
    },
    RuleMeta {
        name: "invalid_suppression",
        default_level: Level::Warn,
        summary: "a `// maplint:` comment names an unknown rule or cannot be read",
        docs: "A suppression comment must read `// maplint: allow(rule_a, rule_b) -- reason` or `// maplint: allow-file(rule)` and name existing rules.\n",
        fix: FixAvailability::None,
        since: "0.1.0",
        interests: &[],
        requires: None,
        clippy: &[],
    },
    RuleMeta {
        name: "internal_error",
        default_level: Level::Warn,
        summary: "a rule panicked on this file; please report it",
        docs: "maplint caught a panic inside a rule. The other rules still ran. Please report the file and the message.\n",
        fix: FixAvailability::None,
        since: "0.1.0",
        interests: &[],
        requires: None,
        clippy: &[],
    },
];

/// Metadata of a rule or tool diagnostic by name.
#[must_use]
pub fn meta(name: &str) -> Option<&'static RuleMeta> {
    RULES
        .iter()
        .map(|r| r.meta())
        .chain(TOOL_DIAGNOSTICS.iter())
        .find(|m| m.name == name)
}

/// The rule or tool diagnostic name closest to a misspelled one (`map_lock_reentri`), for
/// "did you mean" hints: edit distance at most 3, the `maplint::` prefix ignored.
#[must_use]
pub fn closest_name(name: &str) -> Option<&'static str> {
    fn distance(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut cur = vec![i + 1];
            for (j, cb) in b.iter().enumerate() {
                let sub = prev[j] + usize::from(ca != *cb);
                cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
            }
            prev = cur;
        }
        prev[b.len()]
    }
    let name = name.trim();
    let name = name.strip_prefix("maplint::").unwrap_or(name).to_lowercase();
    RULES
        .iter()
        .map(|r| r.meta())
        .chain(TOOL_DIAGNOSTICS.iter())
        .map(|m| (distance(&name, m.name), m.name))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, n)| n)
}

/// ` (did you mean `X`?)`-style hint for an unknown rule name, or nothing.
#[must_use]
pub fn did_you_mean(name: &str) -> String {
    closest_name(name).map_or_else(String::new, |n| format!("\ndid you mean `{n}`?"))
}

pub use crate::diagnostic::docs_url;
