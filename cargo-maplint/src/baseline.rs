//! Baselines for adopting maplint on old code: `--write-baseline FILE` records today's findings,
//! `--baseline FILE` reports only new ones.
//!
//! An entry is matched by rule, file (as displayed: relative to the workspace root) and
//! fingerprint (`Diagnostic::fingerprint`: the rule, the file, the whitespace-normalized text
//! of the primary line and of the primary span — no line numbers), plus an occurrence index
//! telling identical fingerprints in one file apart. Line and message are for humans.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use lint_core::Analysis;
use serde::{Deserialize, Serialize};

/// The baseline format version.
pub const VERSION: u32 = 1;

/// One recorded finding.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub rule: String,
    pub file: String,
    pub fingerprint: String,
    #[serde(default)]
    pub occurrence: u32,
    /// 1-based line when it was recorded (informational).
    #[serde(default)]
    pub line: usize,
    #[serde(default)]
    pub message: String,
}

impl Entry {
    fn key(&self) -> Key {
        (
            self.rule.clone(),
            self.file.clone(),
            self.fingerprint.clone(),
            self.occurrence,
        )
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct BaselineFile {
    version: u32,
    entries: Vec<Entry>,
}

/// (rule, file, fingerprint, occurrence).
type Key = (String, String, String, u32);

/// A loaded baseline.
#[derive(Debug, Default)]
pub struct Baseline {
    entries: Vec<Entry>,
    index: HashMap<Key, usize>,
}

/// The fingerprint and occurrence index of each diagnostic of an analysis, and its entry.
pub fn entries(analysis: &Analysis) -> Vec<Entry> {
    let mut seen: HashMap<(u32, String, String), u32> = HashMap::new();
    analysis
        .diagnostics
        .iter()
        .map(|d| {
            let file = analysis.files.get(d.file as usize);
            let fingerprint = file.map_or_else(String::new, |f| d.fingerprint(f));
            let n = seen.entry((d.file, d.rule.clone(), fingerprint.clone())).or_insert(0);
            let occurrence = *n;
            *n += 1;
            Entry {
                rule: d.rule.clone(),
                file: file.map_or_else(String::new, |f| f.name.clone()),
                line: match (d.primary, file) {
                    (Some(p), Some(f)) => f.line_index(p.lo as usize) + 1,
                    _ => 0,
                },
                fingerprint,
                occurrence,
                message: d.message.clone(),
            }
        })
        .collect()
}

impl Baseline {
    pub fn load(path: &Path) -> Result<Baseline, String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read baseline `{}`: {e}", path.display()))?;
        let file: BaselineFile =
            serde_json::from_str(&text).map_err(|e| format!("invalid baseline `{}`: {e}", path.display()))?;
        if file.version != VERSION {
            return Err(format!(
                "baseline `{}` has version {}, this maplint reads version {VERSION}; rewrite it with --write-baseline",
                path.display(),
                file.version
            ));
        }
        let index = file.entries.iter().enumerate().map(|(i, e)| (e.key(), i)).collect();
        Ok(Baseline {
            entries: file.entries,
            index,
        })
    }

    /// The index of the entry matching a finding.
    pub fn find(&self, e: &Entry) -> Option<usize> {
        self.index.get(&e.key()).copied()
    }

    /// Entries of the checked files that matched nothing.
    pub fn unmatched(&self, matched: &BTreeSet<usize>, checked: &BTreeSet<String>) -> usize {
        self.entries
            .iter()
            .enumerate()
            .filter(|(i, e)| !matched.contains(i) && checked.contains(&e.file))
            .count()
    }
}

/// Writes a baseline, sorted by file, line and rule.
pub fn write(path: &Path, mut entries: Vec<Entry>) -> Result<usize, String> {
    entries.sort_by(|a, b| (&a.file, a.line, &a.rule, a.occurrence).cmp(&(&b.file, b.line, &b.rule, b.occurrence)));
    let n = entries.len();
    let mut text = serde_json::to_string_pretty(&BaselineFile {
        version: VERSION,
        entries,
    })
    .expect("JSON serialization of plain data cannot fail");
    text.push('\n');
    std::fs::write(path, text).map_err(|e| format!("cannot write baseline `{}`: {e}", path.display()))?;
    Ok(n)
}
