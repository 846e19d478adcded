//! Rule levels and options: plain data, filled by the command line and configuration.

use std::collections::BTreeMap;

use crate::diagnostic::Level;

/// Analysis settings. Rules not mentioned keep their default level.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Level overrides by rule name (`allow` disables a rule).
    pub levels: BTreeMap<String, Level>,
    /// Extra types the model should know, by path.
    pub types: TypeConfig,
    /// Parse every file instead of only those that can matter (for comparisons and debugging;
    /// the findings are the same).
    pub parse_all: bool,
    /// Say why each parsed file is parsed ([`crate::Analysis::why_parsed`]; `-vv`).
    pub explain_plan: bool,
}

/// Kinds of user-configured lock types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockTypeKind {
    /// `lock()` returns a guard.
    Mutex,
    /// `read()`/`write()` return guards.
    RwLock,
}

/// User-configured types and functions, by path (`my_crate::maps::FastMap`). A configured
/// path matches a written path when one is a suffix of the other, segment by segment, after
/// `use` renames are followed.
#[derive(Debug, Clone, Default)]
pub struct TypeConfig {
    /// Plain (unsynchronized) map types.
    pub maps: Vec<String>,
    /// Lock types around a value (their first type argument).
    pub locks: Vec<(String, LockTypeKind)>,
    /// Functions that run their closure (or future) argument on another thread or task.
    pub spawners: Vec<String>,
}

impl TypeConfig {
    /// Does a configured path match a resolved path?
    #[must_use]
    pub fn path_matches(configured: &str, path: &[&str]) -> bool {
        let conf: Vec<&str> = configured.split("::").filter(|s| !s.is_empty()).collect();
        if conf.is_empty() || path.is_empty() {
            return false;
        }
        let n = conf.len().min(path.len());
        conf[conf.len() - n..] == path[path.len() - n..]
    }
}

impl Settings {
    /// The level in force for a rule.
    #[must_use]
    pub fn level(&self, rule: &str, default: Level) -> Level {
        self.levels.get(rule).copied().unwrap_or(default)
    }
}
