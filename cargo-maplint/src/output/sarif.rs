//! SARIF 2.1.0 for GitHub code scanning: one document on stdout for the whole run.
//!
//! Rules carry their summary, the "What it does" section and the whole page as help; results
//! carry URIs relative to `%SRCROOT%` (the workspace root, or the current directory in path
//! mode), full regions with 1-based columns in Unicode code points (`columnKind` says so
//! explicitly, as rustc counts them), a line-independent `partialFingerprints` entry, the
//! secondary labels as `relatedLocations` and suggestions as `fixes`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use lint_core::rules::{RULES, RuleMeta, TOOL_DIAGNOSTICS};
use lint_core::{Diagnostic, Level, SourceFile, Span};
use serde_json::{Value, json};

use super::human::clamp;

fn metas() -> Vec<&'static RuleMeta> {
    RULES.iter().map(|r| r.meta()).chain(TOOL_DIAGNOSTICS.iter()).collect()
}

fn level(l: Level) -> &'static str {
    match l {
        Level::Deny => "error",
        Level::Warn => "warning",
        Level::Allow => "none",
    }
}

/// Percent-encodes a path for a URI (unreserved characters and `/` stay).
fn encode(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A `file://` URI of an absolute path (with a trailing `/` for a directory base).
pub fn file_uri(path: &Path, dir: bool) -> String {
    let mut p = path.display().to_string().replace('\\', "/");
    if !p.starts_with('/') {
        p.insert(0, '/');
    }
    if dir && !p.ends_with('/') {
        p.push('/');
    }
    format!("file://{}", encode(&p))
}

fn artifact(name: &str) -> Value {
    if Path::new(name).is_absolute() {
        json!({ "uri": file_uri(Path::new(name), false) })
    } else {
        json!({ "uri": encode(&name.replace('\\', "/")), "uriBaseId": "%SRCROOT%" })
    }
}

fn region(files: &[SourceFile], span: Span) -> Option<(usize, Value)> {
    let (id, range) = clamp(files, span)?;
    let f = &files[id];
    let start = f.line_col(range.start);
    let end = f.line_col(range.end);
    Some((
        id,
        json!({
            "startLine": start.line,
            "startColumn": start.column,
            "endLine": end.line,
            "endColumn": end.column,
        }),
    ))
}

fn location(files: &[SourceFile], span: Span) -> Option<Value> {
    let (id, region) = region(files, span)?;
    Some(json!({
        "physicalLocation": { "artifactLocation": artifact(&files[id].name), "region": region }
    }))
}

/// The SARIF result of one finding; `fingerprint` is `Diagnostic::fingerprint` with the
/// occurrence index of identical fingerprints in the file.
pub fn result(d: &Diagnostic, files: &[SourceFile], fingerprint: &str) -> Value {
    let index = metas().iter().position(|m| m.name == d.rule);
    let mut locations: Vec<Value> = d.primary.and_then(|p| location(files, p)).into_iter().collect();
    if locations.is_empty()
        && let Some(f) = files.get(d.file as usize)
    {
        locations.push(json!({ "physicalLocation": { "artifactLocation": artifact(&f.name) } }));
    }
    let related: Vec<Value> = d
        .labels
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let mut loc = location(files, l.span)?;
            loc["id"] = json!(i + 1);
            loc["message"] = json!({ "text": l.message });
            Some(loc)
        })
        .collect();
    let suggested: Vec<Value> = d
        .helps
        .iter()
        .filter(|h| !h.edits.is_empty())
        .filter_map(|h| {
            let mut changes: Vec<(usize, Vec<Value>)> = Vec::new();
            for e in &h.edits {
                let (id, region) = region(files, e.span)?;
                let replacement = json!({ "deletedRegion": region, "insertedContent": { "text": e.replacement } });
                match changes.iter_mut().find(|(f, _)| *f == id) {
                    Some((_, r)) => r.push(replacement),
                    None => changes.push((id, vec![replacement])),
                }
            }
            let changes: Vec<Value> = changes
                .into_iter()
                .map(|(id, replacements)| {
                    json!({ "artifactLocation": artifact(&files[id].name), "replacements": replacements })
                })
                .collect();
            Some(json!({ "description": { "text": h.message }, "artifactChanges": changes }))
        })
        .collect();
    let mut text = d.message.clone();
    for h in &d.helps {
        text.push_str("\nhelp: ");
        text.push_str(&h.message);
    }
    let mut r = json!({
        "ruleId": d.code(),
        "level": level(d.level),
        "message": { "text": text },
        "locations": locations,
        "partialFingerprints": { "maplint/v1": fingerprint },
    });
    if let Some(i) = index {
        r["ruleIndex"] = json!(i);
    }
    if !related.is_empty() {
        r["relatedLocations"] = json!(related);
    }
    if !suggested.is_empty() {
        r["fixes"] = json!(suggested);
    }
    r
}

/// The text of the rule's `## What it does` section (GitHub shows at most 1024 characters).
fn full_description(m: &RuleMeta) -> String {
    let md = m.docs_markdown();
    let text = md
        .split("## What it does")
        .nth(1)
        .map(|rest| rest.split("\n## ").next().unwrap_or(rest).trim().to_owned())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| md.trim().to_owned());
    let text = if text.is_empty() { m.summary.to_owned() } else { text };
    match text.char_indices().nth(1000) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text,
    }
}

fn rule(m: &RuleMeta) -> Value {
    let page = m.docs_page();
    let tool = TOOL_DIAGNOSTICS.iter().any(|t| t.name == m.name);
    json!({
        "id": format!("maplint::{}", m.name),
        "name": m.name,
        "shortDescription": { "text": m.summary },
        "fullDescription": { "text": full_description(m) },
        "help": { "text": page, "markdown": page },
        "helpUri": lint_core::rules::docs_url(m.name),
        "defaultConfiguration": { "level": level(m.default_level) },
        "properties": {
            "tags": if tool { json!(["maplint", "tool"]) } else { json!(["maplint", "concurrency", "correctness"]) },
            "precision": "high",
            "problem.severity": if m.default_level == Level::Deny { "error" } else { "warning" },
        },
    })
}

/// The root of the git work tree holding `dir`, if any.
fn git_toplevel(dir: &Path) -> Option<PathBuf> {
    let out = Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .current_dir(dir)
        .output()
        .ok()?;
    let top = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !top.trim().is_empty()).then(|| PathBuf::from(top.trim()))
}

/// Prefixes every `%SRCROOT%`-relative URI.
fn rebase(v: &mut Value, prefix: &str) {
    match v {
        Value::Object(map) => {
            if map.get("uriBaseId").is_some()
                && let Some(Value::String(uri)) = map.get_mut("uri")
            {
                uri.insert_str(0, prefix);
            }
            map.values_mut().for_each(|x| rebase(x, prefix));
        }
        Value::Array(items) => items.iter_mut().for_each(|x| rebase(x, prefix)),
        _ => {}
    }
}

/// The whole document. File names are relative to `base` (the workspace root, or the current
/// directory in path mode); `%SRCROOT%` is the root of the git repository holding `base` when
/// there is one (GitHub resolves URIs against the repository root), else `base`.
pub fn document(mut results: Vec<Value>, base: &Path, success: bool, git: bool) -> String {
    let base_canon = base.canonicalize().unwrap_or_else(|_| base.to_path_buf());
    let top = if git { git_toplevel(base) } else { None };
    let srcroot = match top.and_then(|top| top.canonicalize().ok()) {
        Some(top) if base_canon.starts_with(&top) => {
            let rel = base_canon.strip_prefix(&top).unwrap_or(Path::new(""));
            let mut prefix = encode(&rel.display().to_string().replace('\\', "/"));
            if !prefix.is_empty() {
                prefix.push('/');
                for r in &mut results {
                    rebase(r, &prefix);
                }
            }
            top
        }
        _ => base_canon,
    };
    let srcroot = srcroot.as_path();
    let rules: Vec<Value> = metas().into_iter().map(rule).collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "maplint",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/maplint/maplint",
                "rules": rules,
            }},
            "invocations": [{ "executionSuccessful": success }],
            "originalUriBaseIds": { "%SRCROOT%": { "uri": file_uri(srcroot, true) } },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("JSON serialization of plain data cannot fail");
    s.push('\n');
    s
}
