//! cargo's `compiler-message` lines holding rustc's JSON diagnostic format. Serialized from
//! structs so that fields come in rustc's and cargo's order (`reason` first).

use std::path::Path;

use lint_core::{Diagnostic, SourceFile, Span};
use serde::Serialize;

use super::human::clamp;
use crate::workspace::{Target, Unit};

#[derive(Debug, Serialize)]
struct Code {
    code: String,
    explanation: Option<String>,
}

#[derive(Debug, Serialize)]
struct Line<'a> {
    text: &'a str,
    highlight_start: usize,
    highlight_end: usize,
}

#[derive(Debug, Serialize)]
struct JsonSpan<'a> {
    file_name: &'a str,
    byte_start: usize,
    byte_end: usize,
    line_start: usize,
    line_end: usize,
    column_start: usize,
    column_end: usize,
    is_primary: bool,
    text: Vec<Line<'a>>,
    label: Option<&'a str>,
    suggested_replacement: Option<&'a str>,
    suggestion_applicability: Option<&'a str>,
    expansion: Option<()>,
}

/// rustc's diagnostic object (children have the same shape, with no children of their own).
#[derive(Debug, Serialize)]
#[allow(clippy::struct_field_names)] // rustc's field names
pub struct Message<'a> {
    #[serde(rename = "$message_type", skip_serializing_if = "Option::is_none")]
    message_type: Option<&'static str>,
    message: String,
    code: Option<Code>,
    level: &'static str,
    spans: Vec<JsonSpan<'a>>,
    children: Vec<Message<'a>>,
    rendered: Option<String>,
}

#[derive(Debug, Serialize)]
struct CompilerMessage<'a> {
    reason: &'static str,
    package_id: &'a str,
    manifest_path: Option<&'a Path>,
    target: &'a Target,
    message: &'a Message<'a>,
}

#[derive(Debug, Serialize)]
struct BuildFinished {
    reason: &'static str,
    success: bool,
    /// maplint's own summary (cargo's readers ignore fields they do not know).
    #[serde(skip_serializing_if = "Option::is_none")]
    maplint: Option<Summary>,
}

/// What the run covered: function bodies analyzed, files only lexed, and what was read but not
/// analyzed, by reason.
#[derive(Debug, Serialize)]
struct Summary {
    bodies_analyzed: usize,
    files_only_lexed: usize,
    not_analyzed: std::collections::BTreeMap<&'static str, usize>,
}

/// One rustc span: byte range, 1-based lines and character columns (end exclusive), and the
/// text of every covered line with its highlight.
fn span<'a>(
    files: &'a [SourceFile],
    s: Span,
    is_primary: bool,
    label: Option<&'a str>,
    suggestion: Option<(&'a str, &'a str)>,
) -> Option<JsonSpan<'a>> {
    let (id, range) = clamp(files, s)?;
    let f = &files[id];
    let start = f.line_col(range.start);
    let end = f.line_col(range.end);
    let text = (start.line..=end.line)
        .map(|line| {
            let t = f.line_text(line - 1);
            let highlight_start = if line == start.line { start.column } else { 1 };
            let highlight_end = if line == end.line {
                end.column
            } else {
                t.chars().count() + 1
            };
            Line {
                text: t,
                highlight_start,
                highlight_end,
            }
        })
        .collect();
    Some(JsonSpan {
        file_name: &f.name,
        byte_start: range.start,
        byte_end: range.end,
        line_start: start.line,
        line_end: end.line,
        column_start: start.column,
        column_end: end.column,
        is_primary,
        text,
        label,
        suggested_replacement: suggestion.map(|(r, _)| r),
        suggestion_applicability: suggestion.map(|(_, a)| a),
        expansion: None,
    })
}

fn child<'a>(level: &'static str, message: String, spans: Vec<JsonSpan<'a>>) -> Message<'a> {
    Message {
        message_type: None,
        message,
        code: None,
        level,
        spans,
        children: Vec::new(),
        rendered: None,
    }
}

/// The rustc diagnostic object of one finding.
pub fn diagnostic<'a>(d: &'a Diagnostic, files: &'a [SourceFile], rendered: String) -> Message<'a> {
    let mut spans = Vec::new();
    if let Some(p) = d.primary {
        spans.extend(span(files, p, true, d.primary_label.as_deref(), None));
    }
    for l in &d.labels {
        spans.extend(span(files, l.span, false, Some(&l.message), None));
    }
    // In the rendered text's order: helps, notes, the documentation link.
    let mut children: Vec<Message<'a>> = Vec::new();
    for h in &d.helps {
        let applicability = h.applicability.map_or("Unspecified", lint_core::Applicability::as_str);
        let spans = h
            .edits
            .iter()
            .filter_map(|e| span(files, e.span, true, None, Some((&e.replacement, applicability))))
            .collect();
        children.push(child("help", h.message.clone(), spans));
    }
    children.extend(d.notes.iter().map(|n| child("note", n.clone(), Vec::new())));
    children.push(child(
        "note",
        format!("for further information visit {}", d.docs_url()),
        Vec::new(),
    ));
    Message {
        message_type: Some("diagnostic"),
        message: d.message.clone(),
        code: Some(Code {
            code: d.code(),
            explanation: None,
        }),
        level: d.level.severity(),
        spans,
        children,
        rendered: Some(rendered),
    }
}

/// The cargo wrapper line (without the newline).
pub fn compiler_message(unit: &Unit, target: Option<&Target>, message: &Message<'_>) -> String {
    let fallback;
    let target = if let Some(t) = target {
        t
    } else {
        fallback = Target {
            kind: vec!["lib".to_owned()],
            crate_types: vec!["lib".to_owned()],
            name: unit.name.replace('-', "_"),
            src_path: unit.root.clone(),
            edition: unit.edition.as_str().to_owned(),
            required_features: Vec::new(),
            doc: true,
            doctest: true,
            test: true,
        };
        &fallback
    };
    let line = CompilerMessage {
        reason: "compiler-message",
        package_id: &unit.id,
        manifest_path: unit.manifest_path.as_deref(),
        target,
        message,
    };
    serde_json::to_string(&line).expect("JSON serialization of plain data cannot fail")
}

/// `{"reason":"build-finished","success":...}` (without the newline), with maplint's summary
/// when the run got that far.
pub fn build_finished(success: bool, stats: Option<&super::Stats>) -> String {
    let maplint = stats.map(|s| Summary {
        bodies_analyzed: s.bodies,
        files_only_lexed: s.lexed_only,
        not_analyzed: lint_core::Unanalyzed::ALL
            .iter()
            .zip(s.not_analyzed)
            .map(|(w, n)| (w.key(), n))
            .collect(),
    });
    serde_json::to_string(&BuildFinished {
        reason: "build-finished",
        success,
        maplint,
    })
    .expect("JSON serialization of plain data cannot fail")
}

#[cfg(test)]
mod tests {
    use lint_core::{Applicability, Edit, Help, Label, Level};

    use super::*;

    #[test]
    fn spans_children_and_suggestions() {
        let text = "fn f() {\n    let é = m.lock();\n    m.lock();\n}\n";
        let files = vec![SourceFile::new("src/lib.rs", text)];
        let second = text.find("m.lock();\n}").unwrap() as u32;
        let first = text.find("m.lock()").unwrap() as u32;
        let d = Diagnostic {
            rule: "map_lock_reentry".into(),
            level: Level::Deny,
            message: "second lock while the first guard is alive".into(),
            primary: Some(Span::new(0, second, second + 8)),
            primary_label: Some("locks again".into()),
            labels: vec![Label {
                span: Span::new(0, first, second + 8),
                message: "guard alive here".into(),
            }],
            helps: vec![Help {
                message: "drop the guard first".into(),
                edits: vec![Edit {
                    span: Span::new(0, second, second),
                    replacement: "drop(é);\n    ".into(),
                }],
                applicability: Some(Applicability::MaybeIncorrect),
            }],
            notes: vec!["deadlocks".into()],
            file: 0,
        };
        let rendered = super::super::human::render(&d, &files, false);
        assert!(
            rendered.starts_with("error[maplint::map_lock_reentry]: second lock"),
            "{rendered}"
        );
        assert!(rendered.contains("= help: drop the guard first"), "{rendered}");
        assert!(rendered.contains("= note: deadlocks"), "{rendered}");
        let m = diagnostic(&d, &files, rendered);
        let v = serde_json::to_value(&m).unwrap();
        let primary = &v["spans"][0];
        assert_eq!(primary["line_start"], 3);
        assert_eq!(
            (primary["column_start"].as_u64(), primary["column_end"].as_u64()),
            (Some(5), Some(13))
        );
        assert_eq!(primary["label"], "locks again");
        let label = &v["spans"][1];
        assert_eq!(label["is_primary"], false);
        // `é` is one character: `m` is at character column 13 of line 2.
        assert_eq!(
            (label["line_start"].as_u64(), label["column_start"].as_u64()),
            (Some(2), Some(13))
        );
        assert_eq!(label["text"].as_array().unwrap().len(), 2);
        assert_eq!(label["text"][0]["highlight_end"], 22);
        assert_eq!(label["text"][1]["highlight_start"], 1);
        let children = v["children"].as_array().unwrap();
        // The rendered text's order: help, note, documentation link.
        assert_eq!(children[0]["level"], "help");
        assert_eq!(children[1]["level"], "note");
        assert_eq!(children[0]["spans"][0]["suggested_replacement"], "drop(é);\n    ");
        assert_eq!(children[0]["spans"][0]["suggestion_applicability"], "MaybeIncorrect");
        assert!(
            children[2]["message"]
                .as_str()
                .unwrap()
                .starts_with("for further information visit ")
        );
        assert_eq!(v["level"], "error");
    }
}
