//! Rule levels and options: plain data, filled by the command line and configuration.

use std::collections::BTreeMap;

use crate::diagnostic::Level;

/// Analysis settings. Rules not mentioned keep their default level.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Level overrides by rule name (`allow` disables a rule).
    pub levels: BTreeMap<String, Level>,
}

impl Settings {
    /// The level in force for a rule.
    #[must_use]
    pub fn level(&self, rule: &str, default: Level) -> Level {
        self.levels.get(rule).copied().unwrap_or(default)
    }
}
