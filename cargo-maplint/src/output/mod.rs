//! Printing findings: human (rustc-like frames on stderr), short, and cargo/rustc JSON on stdout.

pub mod human;
pub mod json;
pub mod sarif;

use std::collections::BTreeSet;
use std::path::PathBuf;

use lint_core::{Analysis, Diagnostic, Level};

use crate::cli::{Format, JsonRendered};
use crate::workspace::Unit;

/// What one unit prints, rendered completely before anything is written.
#[derive(Debug, Default)]
pub struct Rendered {
    pub stderr: String,
    pub stdout: String,
    /// SARIF results, printed in one document at the end.
    pub sarif: Vec<serde_json::Value>,
}

/// Counts for the summary line and the exit status.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub errors: usize,
    pub warnings: usize,
    pub io_errors: usize,
    pub files_with_findings: usize,
    pub files_checked: usize,
    /// Coverage (see `lint_core::Coverage`): function bodies analyzed, files only lexed, and
    /// per `lint_core::Unanalyzed::ALL` reason, how many things were read but not analyzed.
    pub bodies: usize,
    pub lexed_only: usize,
    pub not_analyzed: [usize; lint_core::Unanalyzed::ALL.len()],
}

impl Stats {
    pub fn add(&mut self, o: Stats) {
        self.errors += o.errors;
        self.warnings += o.warnings;
        self.io_errors += o.io_errors;
        self.files_with_findings += o.files_with_findings;
        self.files_checked += o.files_checked;
        self.bodies += o.bodies;
        self.lexed_only += o.lexed_only;
        for (a, b) in self.not_analyzed.iter_mut().zip(o.not_analyzed) {
            *a += b;
        }
    }

    /// Takes a package's coverage into account.
    pub fn cover(&mut self, c: &lint_core::Coverage) {
        self.bodies += c.bodies;
        self.lexed_only += c.lexed_only;
        for (a, b) in self.not_analyzed.iter_mut().zip(c.counts()) {
            *a += b;
        }
    }

    pub fn count(diagnostics: &[Diagnostic], files_checked: usize) -> Stats {
        let files: BTreeSet<u32> = diagnostics.iter().map(|d| d.file).collect();
        Stats {
            errors: diagnostics.iter().filter(|d| d.level == Level::Deny).count(),
            warnings: diagnostics.iter().filter(|d| d.level == Level::Warn).count(),
            io_errors: diagnostics.iter().filter(|d| d.rule == "io_error").count(),
            files_with_findings: files.len(),
            files_checked,
            ..Stats::default()
        }
    }
}

/// How to print.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    pub format: Format,
    pub short: bool,
    pub color: bool,
    pub quiet: bool,
}

impl Printer {
    /// Renders every finding of one unit. `paths[i]` is the absolute path of file `i`;
    /// `fingerprints[i]` is the fingerprint of diagnostic `i` (SARIF only).
    pub fn unit(self, unit: &Unit, paths: &[PathBuf], analysis: &Analysis, fingerprints: &[String]) -> Rendered {
        let mut out = Rendered::default();
        for (i, d) in analysis.diagnostics.iter().enumerate() {
            let files = &analysis.files;
            match self.format {
                Format::Sarif => {
                    let fp = fingerprints.get(i).map_or("", String::as_str);
                    out.sarif.push(sarif::result(d, files, fp));
                }
                Format::Human | Format::Short | Format::JsonRenderDiagnostics => {
                    if self.short {
                        out.stderr.push_str(&human::render_short(d, files, self.color));
                    } else {
                        out.stderr.push_str(&human::render(d, files, self.color));
                    }
                }
                Format::Json(kind) => {
                    let rendered = match kind {
                        JsonRendered::Plain => human::render(d, files, false),
                        JsonRendered::Ansi => human::render(d, files, true),
                        JsonRendered::Short => human::render_short(d, files, false),
                    };
                    let file = d.primary.map_or(d.file, |s| s.file) as usize;
                    let target = paths.get(file).and_then(|p| unit.target_of(p));
                    let message = json::diagnostic(d, files, rendered);
                    out.stdout.push_str(&json::compiler_message(unit, target, &message));
                    out.stdout.push('\n');
                }
            }
        }
        out
    }

    /// What ends the run: the summary line on stderr and/or `build-finished` on stdout
    /// (`success`: no deny-level findings, and the `--also-run` command succeeded).
    pub fn finish(self, stats: Stats, success: bool) -> Rendered {
        let mut out = Rendered::default();
        match self.format {
            Format::Human | Format::Short | Format::JsonRenderDiagnostics if !self.quiet => {
                out.stderr = summary(stats);
            }
            _ => {}
        }
        if matches!(self.format, Format::Json(_) | Format::JsonRenderDiagnostics) {
            out.stdout = format!("{}\n", json::build_finished(success, Some(&stats)));
        }
        out
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `maplint: 2 errors, 1 warning in 3 files (12 files checked)`.
pub fn summary(s: Stats) -> String {
    let checked = plural(s.files_checked, "file");
    if s.errors + s.warnings == 0 {
        return format!("maplint: no problems found ({checked} checked)\n");
    }
    format!(
        "maplint: {}, {} in {} ({checked} checked)\n",
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
        plural(s.files_with_findings, "file")
    )
}
