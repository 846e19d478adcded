//! `--fix`, `--unsafe-fixes` and `--diff`: suggestions are applied in memory, each changed file
//! is re-parsed (and rolled back if it no longer parses), the package is analyzed again and
//! the loop repeats until nothing changes (at most [`MAX_PASSES`] times, as `cargo fix`).
//! Files are then written atomically: a temporary file in the same directory, renamed over the
//! original only if the original is still what was read. Line endings and permissions are kept.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use lint_core::fix::{self, FixMode};
use lint_core::{Analysis, Edit, PackageSources, Settings};

/// Passes of apply-and-reanalyze (cargo fix uses 4).
pub const MAX_PASSES: usize = 4;

/// One file whose text the fixes changed.
#[derive(Debug)]
pub struct FixedFile {
    /// Index into the package's files.
    pub index: usize,
    pub original: String,
    pub fixed: String,
}

/// What fixing one package did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Suggestions applied (one per finding).
    pub fixed: usize,
    pub files: Vec<FixedFile>,
    /// Files whose fixes were rolled back because the result did not parse.
    pub rolled_back: Vec<usize>,
}

/// Converts the line breaks of a replacement to the file's (`\r\n` files stay `\r\n`).
fn with_line_endings(suggestions: Vec<Vec<Edit>>, crlf: bool) -> Vec<Vec<Edit>> {
    if !crlf {
        return suggestions;
    }
    suggestions
        .into_iter()
        .map(|s| {
            s.into_iter()
                .map(|e| Edit {
                    replacement: e.replacement.replace("\r\n", "\n").replace('\n', "\r\n"),
                    ..e
                })
                .collect()
        })
        .collect()
}

/// Applies the fixes `mode` accepts to the package in memory, re-analyzing after each pass.
/// `pkg` ends up holding the fixed texts and the returned analysis is of them.
pub fn fix_package(
    pkg: &mut PackageSources,
    mut analysis: Analysis,
    settings: &Settings,
    mode: FixMode,
) -> (Analysis, Outcome) {
    let originals: Vec<Option<String>> = pkg
        .files
        .iter()
        .map(|f| f.content.as_ref().ok().and_then(|b| String::from_utf8(b.clone()).ok()))
        .collect();
    let mut current = originals.clone();
    let mut outcome = Outcome::default();
    for _ in 0..MAX_PASSES {
        let mut changed = false;
        for (i, text) in current.iter_mut().enumerate() {
            let Some(text) = text else { continue };
            if outcome.rolled_back.contains(&i) {
                continue;
            }
            let suggestions = fix::suggestions_for_file(&analysis.diagnostics, i as u32, mode);
            if suggestions.is_empty() {
                continue;
            }
            let suggestions = with_line_endings(suggestions, text.contains("\r\n"));
            let (new, applied) = fix::apply(text, &suggestions);
            if applied == 0 || new == *text {
                continue;
            }
            if !fix::parses(&new) {
                outcome.rolled_back.push(i);
                continue;
            }
            *text = new;
            outcome.fixed += applied;
            changed = true;
        }
        if !changed {
            break;
        }
        for (f, text) in pkg.files.iter_mut().zip(&current) {
            if let Some(t) = text {
                f.content = Ok(t.clone().into_bytes());
            }
        }
        analysis = lint_core::analyze(pkg, settings);
    }
    outcome.files = originals
        .into_iter()
        .zip(current)
        .enumerate()
        .filter_map(|(index, (o, c))| match (o, c) {
            (Some(original), Some(fixed)) if original != fixed => Some(FixedFile { index, original, fixed }),
            _ => None,
        })
        .collect();
    (analysis, outcome)
}

/// Replaces `path` by `new` atomically (a temporary file in the same directory, then a rename)
/// if the file still has the bytes and modification time it had when it was read.
pub fn write_atomic(path: &Path, original: &[u8], read_mtime: Option<SystemTime>, new: &str) -> Result<(), String> {
    let path = path.canonicalize().map_err(|e| e.to_string())?;
    let dir = path.parent().ok_or("the file has no directory")?;
    let meta = std::fs::metadata(&path).map_err(|e| e.to_string())?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".maplint-fix-")
        .tempfile_in(dir)
        .map_err(|e| format!("cannot create a temporary file in {}: {e}", dir.display()))?;
    tmp.write_all(new.as_bytes()).map_err(|e| e.to_string())?;
    tmp.as_file().sync_all().map_err(|e| e.to_string())?;
    std::fs::set_permissions(tmp.path(), meta.permissions()).map_err(|e| e.to_string())?;
    // Right before the rename: has anyone changed the file since it was read?
    let now = std::fs::read(&path).map_err(|e| e.to_string())?;
    let mtime = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
    if now != original || (read_mtime.is_some() && mtime != read_mtime) {
        return Err("the file changed since it was read; not overwritten".to_owned());
    }
    tmp.persist(&path).map_err(|e| e.error.to_string())?;
    Ok(())
}

/// Flags of the version-control gate.
#[derive(Debug, Clone, Copy)]
pub struct VcsFlags {
    pub allow_dirty: bool,
    pub allow_staged: bool,
    pub allow_no_vcs: bool,
}

/// `cargo fix`'s gate: the directories must be in a git work tree without uncommitted changes,
/// unless allowed.
pub fn check_vcs(dirs: &[PathBuf], flags: VcsFlags) -> Result<(), String> {
    if flags.allow_dirty && flags.allow_no_vcs {
        return Ok(());
    }
    let mut problems: Vec<String> = Vec::new();
    for dir in dirs {
        let dir = if dir.is_file() {
            dir.parent().unwrap_or(dir)
        } else {
            dir.as_path()
        };
        let inside = Command::new("git")
            .args(["rev-parse", "--is-inside-work-tree"])
            .current_dir(dir)
            .output()
            .is_ok_and(|o| o.status.success() && o.stdout.starts_with(b"true"));
        if !inside {
            if flags.allow_no_vcs {
                continue;
            }
            return Err(
                "no VCS found for this package and `cargo maplint --fix` can potentially perform \
                 destructive changes; if you'd like to suppress this error pass `--allow-no-vcs`"
                    .to_owned(),
            );
        }
        if flags.allow_dirty {
            continue;
        }
        let out = Command::new("git")
            .args(["status", "--porcelain=v1", "-z", "--untracked-files=normal", "--", "."])
            .current_dir(dir)
            .output()
            .map_err(|e| format!("cannot run `git status`: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let mut entries = text.split('\0').filter(|e| !e.is_empty());
        while let Some(e) = entries.next() {
            let (x, y) = (e.as_bytes().first().copied(), e.as_bytes().get(1).copied());
            let path = e.get(3..).unwrap_or("");
            if matches!(x, Some(b'R' | b'C')) {
                entries.next(); // the original path of a rename or copy
            }
            let staged = !matches!(x, Some(b' ' | b'?'));
            let dirty = x == Some(b'?') || !matches!(y, Some(b' '));
            if dirty {
                problems.push(format!("  * {path} (dirty)"));
            } else if staged && !flags.allow_staged {
                problems.push(format!("  * {path} (staged)"));
            }
        }
    }
    problems.sort();
    problems.dedup();
    if problems.is_empty() {
        return Ok(());
    }
    Err(format!(
        "the working directory of this package has uncommitted changes, and `cargo maplint --fix` \
         can potentially perform destructive changes; if you'd like to suppress this error pass \
         `--allow-dirty`, `--allow-staged`, or commit the changes to these files:\n\n{}\n",
        problems.join("\n")
    ))
}

/// A unified diff (3 lines of context) of two texts, with `---`/`+++` headers.
#[allow(clippy::many_single_char_names)] // a/b and i/j are the diff literature's names
pub fn unified_diff(name: &str, old: &str, new: &str) -> String {
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    let ops = diff_lines(&a, &b);
    let mut out = format!("--- a/{name}\n+++ b/{name}\n");
    let context = 3;
    // Indices of changed ops, grouped into hunks.
    let changed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, op)| !matches!(op, Op::Same(..)))
        .map(|(i, _)| i)
        .collect();
    let mut k = 0;
    while k < changed.len() {
        let start = changed[k].saturating_sub(context);
        let mut end = changed[k];
        while k < changed.len() && changed[k] <= end + 2 * context + 1 {
            end = changed[k];
            k += 1;
        }
        let end = (end + context + 1).min(ops.len());
        let (mut a_start, mut b_start) = (None, None);
        let (mut a_len, mut b_len) = (0, 0);
        let mut body = String::new();
        for op in &ops[start..end] {
            let (prefix, line) = match *op {
                Op::Same(i, j) => {
                    a_start.get_or_insert(i);
                    b_start.get_or_insert(j);
                    a_len += 1;
                    b_len += 1;
                    (' ', a[i])
                }
                Op::Del(i, j) => {
                    a_start.get_or_insert(i);
                    b_start.get_or_insert(j);
                    a_len += 1;
                    ('-', a[i])
                }
                Op::Ins(i, j) => {
                    a_start.get_or_insert(i);
                    b_start.get_or_insert(j);
                    b_len += 1;
                    ('+', b[j])
                }
            };
            body.push(prefix);
            body.push_str(line);
            if !line.ends_with('\n') {
                body.push_str("\n\\ No newline at end of file\n");
            }
        }
        let a_first = if a_len == 0 {
            a_start.unwrap_or(0)
        } else {
            a_start.unwrap_or(0) + 1
        };
        let b_first = if b_len == 0 {
            b_start.unwrap_or(0)
        } else {
            b_start.unwrap_or(0) + 1
        };
        let _ = writeln!(out, "@@ -{a_first},{a_len} +{b_first},{b_len} @@");
        out.push_str(&body);
    }
    out
}

/// A line edit: `Same(i, j)`, `Del(i, j)` (line `i` of the old text, before new line `j`),
/// `Ins(i, j)`.
#[derive(Debug, Clone, Copy)]
enum Op {
    Same(usize, usize),
    Del(usize, usize),
    Ins(usize, usize),
}

/// Line diff: common prefix and suffix, then a longest-common-subsequence table over the rest
/// (fixes are local, so the rest is small; a huge rest is shown as one replacement).
#[allow(clippy::many_single_char_names)] // a/b, i/j and n/m are the diff literature's names
fn diff_lines(a: &[&str], b: &[&str]) -> Vec<Op> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (am, bm) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut ops: Vec<Op> = (0..prefix).map(|i| Op::Same(i, i)).collect();
    if am.len().saturating_mul(bm.len()) <= 4_000_000 {
        let (n, m) = (am.len(), bm.len());
        let mut lcs = vec![0u32; (n + 1) * (m + 1)];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i * (m + 1) + j] = if am[i] == bm[j] {
                    lcs[(i + 1) * (m + 1) + j + 1] + 1
                } else {
                    lcs[(i + 1) * (m + 1) + j].max(lcs[i * (m + 1) + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && am[i] == bm[j] {
                ops.push(Op::Same(prefix + i, prefix + j));
                i += 1;
                j += 1;
            } else if i < n && (j == m || lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1]) {
                ops.push(Op::Del(prefix + i, prefix + j));
                i += 1;
            } else {
                ops.push(Op::Ins(prefix + i, prefix + j));
                j += 1;
            }
        }
    } else {
        ops.extend((0..am.len()).map(|i| Op::Del(prefix + i, prefix)));
        ops.extend((0..bm.len()).map(|j| Op::Ins(prefix + am.len(), prefix + j)));
    }
    let (a0, b0) = (a.len() - suffix, b.len() - suffix);
    ops.extend((0..suffix).map(|k| Op::Same(a0 + k, b0 + k)));
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_has_hunks_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n";
        let new = "a\nb\nc\nD\ne\nf\ng\nh\ni\nj\n";
        let d = unified_diff("x.rs", old, new);
        assert_eq!(
            d,
            "--- a/x.rs\n+++ b/x.rs\n@@ -1,7 +1,7 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n"
        );
        let d = unified_diff("x.rs", "a\n", "a\nb");
        assert!(d.ends_with("+b\n\\ No newline at end of file\n"), "{d}");
    }

    #[test]
    fn a_fix_that_breaks_parsing_is_rolled_back() {
        let text = "fn f() { let a = 1; }\n";
        let mut pkg = PackageSources {
            name: "p".into(),
            edition: lint_core::Edition::E2021,
            binaries_only: false,
            files: vec![lint_core::InputFile {
                name: "src/lib.rs".into(),
                content: Ok(text.as_bytes().to_vec()),
            }],
        };
        let analysis = Analysis {
            files: vec![lint_core::SourceFile::new("src/lib.rs", text)],
            diagnostics: vec![lint_core::Diagnostic {
                rule: "map_check_then_act".into(),
                level: lint_core::Level::Warn,
                message: "m".into(),
                primary: Some(lint_core::Span::new(0, 17, 18)),
                primary_label: None,
                labels: Vec::new(),
                helps: vec![lint_core::Help {
                    message: "h".into(),
                    edits: vec![Edit {
                        span: lint_core::Span::new(0, 17, 18),
                        replacement: "{".into(),
                    }],
                    applicability: Some(lint_core::Applicability::MachineApplicable),
                }],
                notes: Vec::new(),
                file: 0,
            }],
            parsed: 1,
            ..Analysis::default()
        };
        let (_, outcome) = fix_package(&mut pkg, analysis, &Settings::default(), FixMode::Safe);
        assert_eq!(outcome.rolled_back, [0]);
        assert_eq!(outcome.fixed, 0);
        assert!(outcome.files.is_empty());
        assert_eq!(pkg.files[0].content.as_deref().ok(), Some(text.as_bytes()));
    }

    #[test]
    fn a_file_changed_since_it_was_read_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.rs");
        std::fs::write(&path, "fn a() {}\n").unwrap();
        let mtime = std::fs::metadata(&path).unwrap().modified().ok();
        let err = write_atomic(&path, b"fn old() {}\n", mtime, "fn b() {}\n").unwrap_err();
        assert!(err.contains("changed since it was read"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "fn a() {}\n");
        write_atomic(&path, b"fn a() {}\n", mtime, "fn b() {}\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "fn b() {}\n");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }

    #[test]
    fn crlf_replacements() {
        let s = vec![vec![Edit {
            span: lint_core::Span::new(0, 0, 0),
            replacement: "a\nb\r\n".into(),
        }]];
        assert_eq!(with_line_endings(s, true)[0][0].replacement, "a\r\nb\r\n");
    }
}
