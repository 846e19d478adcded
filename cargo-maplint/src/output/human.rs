//! rustc-style rendering with codespan-reporting, and the one-line short form.

use std::ops::Range;

use codespan_reporting::diagnostic::{Diagnostic as Frame, Label, Severity};
use codespan_reporting::files::{Error, Files};
use codespan_reporting::term::{self, Chars, Config, termcolor};
use lint_core::{Diagnostic, Level, SourceFile, Span};

/// The analysis's files as codespan sees them.
struct Sources<'a>(&'a [SourceFile]);

impl<'a> Files<'a> for Sources<'a> {
    type FileId = usize;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: usize) -> Result<&'a str, Error> {
        self.0.get(id).map(|f| f.name.as_str()).ok_or(Error::FileMissing)
    }

    fn source(&'a self, id: usize) -> Result<&'a str, Error> {
        self.0.get(id).map(|f| f.text.as_str()).ok_or(Error::FileMissing)
    }

    fn line_index(&'a self, id: usize, byte_index: usize) -> Result<usize, Error> {
        Ok(self.0.get(id).ok_or(Error::FileMissing)?.line_index(byte_index))
    }

    fn line_range(&'a self, id: usize, line_index: usize) -> Result<Range<usize>, Error> {
        let f = self.0.get(id).ok_or(Error::FileMissing)?;
        let start = f.line_start(line_index);
        Ok(start..f.line_start(line_index + 1).max(start))
    }
}

/// A span's byte range clamped to its file and to character boundaries.
pub fn clamp(files: &[SourceFile], span: Span) -> Option<(usize, Range<usize>)> {
    let f = files.get(span.file as usize)?;
    let fix = |mut b: usize| {
        b = b.min(f.text.len());
        while !f.text.is_char_boundary(b) {
            b -= 1;
        }
        b
    };
    let lo = fix(span.lo as usize);
    Some((span.file as usize, lo..fix(span.hi as usize).max(lo)))
}

fn severity(level: Level) -> Severity {
    match level {
        Level::Deny => Severity::Error,
        Level::Warn | Level::Allow => Severity::Warning,
    }
}

/// The codespan frame of a diagnostic: primary label, secondary labels, then `help:` and
/// `note:` lines and the documentation link.
fn frame(d: &Diagnostic, files: &[SourceFile]) -> Frame<usize> {
    let mut labels = Vec::new();
    if let Some((file, range)) = d.primary.and_then(|s| clamp(files, s)) {
        labels.push(Label::primary(file, range).with_message(d.primary_label.as_deref().unwrap_or("")));
    }
    for l in &d.labels {
        if let Some((file, range)) = clamp(files, l.span) {
            labels.push(Label::secondary(file, range).with_message(&l.message));
        }
    }
    let mut notes: Vec<String> = Vec::new();
    for h in &d.helps {
        match h.edits.as_slice() {
            [e] if !e.replacement.contains('\n') && !e.replacement.is_empty() => {
                notes.push(format!("help: {}: `{}`", h.message, e.replacement));
            }
            _ => notes.push(format!("help: {}", h.message)),
        }
    }
    notes.extend(d.notes.iter().map(|n| format!("note: {n}")));
    notes.push(format!("note: for further information visit {}", d.docs_url()));
    Frame::new(severity(d.level))
        .with_code(d.code())
        .with_message(&d.message)
        .with_labels(labels)
        .with_notes(notes)
}

fn config() -> Config {
    Config {
        chars: Chars::ascii(),
        ..Config::default()
    }
}

/// The full rustc-like rendering, ending with a blank line.
pub fn render(d: &Diagnostic, files: &[SourceFile], color: bool) -> String {
    let frame = frame(d, files);
    let sources = Sources(files);
    let mut out = if color {
        let mut w = termcolor::Ansi::new(Vec::new());
        match term::emit_to_write_style(&mut w, &config(), &sources, &frame) {
            Ok(()) => String::from_utf8_lossy(&w.into_inner()).into_owned(),
            Err(e) => fallback(d, &e),
        }
    } else {
        let mut s = String::new();
        match term::emit_to_string(&mut s, &config(), &sources, &frame) {
            Ok(()) => s,
            Err(e) => fallback(d, &e),
        }
    };
    if !out.ends_with("\n\n") {
        out.push('\n');
    }
    other_files_marked(&out)
}

/// rustc marks the frame of every file after the first with `:::` instead of `-->`.
fn other_files_marked(out: &str) -> String {
    let mut seen_first = false;
    let mut marked = String::with_capacity(out.len());
    for line in out.split_inclusive('\n') {
        // A frame header: blanks (and color codes) then `--> path`; a source line starts with
        // its number and `|`.
        let header = line.find("-->").filter(|&at| {
            let before = &line[..at];
            before
                .chars()
                .all(|c| c.is_whitespace() || c == '\x1b' || c == '[' || c == ';' || c == 'm' || c.is_ascii_digit())
                && !before.contains('|')
        });
        match header {
            Some(at) if seen_first => {
                marked.push_str(&line[..at]);
                marked.push_str(":::");
                marked.push_str(&line[at + 3..]);
            }
            Some(_) => {
                seen_first = true;
                marked.push_str(line);
            }
            None => marked.push_str(line),
        }
    }
    marked
}

fn fallback(d: &Diagnostic, e: &Error) -> String {
    format!(
        "{}[{}]: {} (cannot show the source: {e})\n",
        d.level.severity(),
        d.code(),
        d.message
    )
}

/// `path:line:col: error[maplint::rule]: message` (no position when there is no span).
pub fn render_short(d: &Diagnostic, files: &[SourceFile], color: bool) -> String {
    let file = files.get(d.file as usize).map_or("", |f| f.name.as_str());
    let place = match d.primary.and_then(|s| clamp(files, s)) {
        Some((id, range)) => {
            let f = &files[id];
            let lc = f.line_col(range.start);
            format!("{}:{}:{}", f.name, lc.line, lc.column)
        }
        None => file.to_owned(),
    };
    let head = format!("{}[{}]", d.level.severity(), d.code());
    let head = if color {
        let c = if d.level == Level::Deny { "31" } else { "33" };
        format!("\x1b[1;{c}m{head}\x1b[0m")
    } else {
        head
    };
    if place.is_empty() {
        format!("{head}: {}\n", d.message)
    } else {
        format!("{place}: {head}: {}\n", d.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_of_other_files_are_marked_as_rustc_does() {
        let files = vec![
            SourceFile::new("src/other.rs", "fn record() {\n    write();\n}\n"),
            SourceFile::new("src/lib.rs", "static mut TABLE: u8 = 0;\n"),
        ];
        let d = Diagnostic {
            rule: "unsynchronized_map_write".into(),
            level: lint_core::Level::Deny,
            message: "m".into(),
            primary: Some(lint_core::Span::new(0, 18, 25)),
            primary_label: Some("here".into()),
            labels: vec![lint_core::Label {
                span: lint_core::Span::new(1, 11, 16),
                message: "declared here".into(),
            }],
            helps: Vec::new(),
            notes: Vec::new(),
            file: 0,
        };
        for color in [false, true] {
            let out = render(&d, &files, color);
            let headers: Vec<&str> = out.lines().filter(|l| l.contains("src/")).collect();
            assert_eq!(headers.len(), 2, "{out}");
            assert!(
                headers[0].contains("-->") && headers[0].contains("src/other.rs:2:5"),
                "{out}"
            );
            assert!(
                headers[1].contains(":::") && headers[1].contains("src/lib.rs:1:12"),
                "{out}"
            );
        }
    }
}
