//! `cargo maplint --explain RULE` and `cargo maplint rules`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use lint_core::Level;
use lint_core::rules::{FixAvailability, RULES, RuleMeta, TOOL_DIAGNOSTICS};

/// The documentation page of a rule (`maplint::` prefix and case are ignored), or an error
/// listing the valid names.
pub fn explain(name: &str) -> Result<String, String> {
    let lower = name.trim().to_ascii_lowercase();
    let bare = lower.strip_prefix("maplint::").unwrap_or(&lower);
    match lint_core::rules::meta(bare) {
        Some(m) => {
            let mut page = m.docs_page();
            if !page.ends_with('\n') {
                page.push('\n');
            }
            let _ = writeln!(page, "\nOnline: {}", lint_core::rules::docs_url(m.name));
            Ok(page)
        }
        None => Err(format!(
            "unknown rule `{name}`{}\n\nvalid rules: {}",
            lint_core::rules::did_you_mean(name),
            crate::cli::rule_names().join(", ")
        )),
    }
}

fn fix_word(f: FixAvailability) -> &'static str {
    match f {
        FixAvailability::None => "-",
        FixAvailability::Sometimes => "sometimes",
        FixAvailability::Always => "always",
    }
}

/// The table of rules and tool diagnostics with the level in force (`levels`: configuration
/// and command line), the default level, whether fixes exist, and the summary.
pub fn list(levels: &BTreeMap<String, Level>) -> String {
    let metas: Vec<&RuleMeta> = RULES.iter().map(|r| r.meta()).chain(TOOL_DIAGNOSTICS.iter()).collect();
    let width = metas.iter().map(|m| m.name.len()).max().unwrap_or(4);
    let mut out = format!(
        "{:width$}  {:5}  {:7}  {:9}  summary\n",
        "rule", "level", "default", "fix"
    );
    for (i, m) in metas.iter().enumerate() {
        if i == RULES.len() {
            out.push_str("\ntool diagnostics:\n");
        }
        let level = levels.get(m.name).copied().unwrap_or(m.default_level);
        let shown = if level == m.default_level {
            level.as_str().to_owned()
        } else {
            format!("{}*", level.as_str())
        };
        let _ = writeln!(
            out,
            "{:width$}  {:5}  {:7}  {:9}  {}",
            m.name,
            shown,
            m.default_level.as_str(),
            fix_word(m.fix),
            m.summary
        );
    }
    if metas
        .iter()
        .any(|m| levels.get(m.name).is_some_and(|l| *l != m.default_level))
    {
        out.push_str("\n* set by the configuration or the command line\n");
    }
    out
}
