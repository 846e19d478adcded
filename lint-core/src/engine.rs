//! Runs an analysis: decode and lower files in parallel, build the model, run the rules.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

use rayon::prelude::*;

use crate::diagnostic::{Diagnostic, Level, Span};
use std::collections::{HashMap, HashSet};

use crate::lex::{self, LexFacts, Omit};
use crate::model::{Model, ir::FileIr, lower};
use crate::reuse::{FileFacts, content_hash};
use crate::rules::{self, Rule, RuleMeta, helpers::Reporter};
use crate::settings::Settings;
use crate::source::SourceFile;
use crate::suppress::Suppressions;
use crate::{Analysis, Coverage, InputFile, NotAnalyzed, PackageSources, Unanalyzed};

/// Worker threads get a large stack: syn parses recursively and real files nest deeply.
const STACK_SIZE: usize = 512 << 20;

fn pool() -> &'static rayon::ThreadPool {
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .stack_size(STACK_SIZE)
            .thread_name(|i| format!("maplint-{i}"))
            .build()
            .expect("cannot start analysis threads")
    })
}

/// Runs `f` on the analysis thread pool (threads with large stacks). Callers that analyze many
/// packages run their loop in here, so that packages and files share the same workers.
pub fn in_pool<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    pool().install(f)
}

/// Analyzes one package. Never panics on bad input: problems become diagnostics.
#[must_use]
pub fn analyze(pkg: &PackageSources, settings: &Settings) -> Analysis {
    let active: Vec<&dyn Rule> = rules::RULES.to_vec();
    pool().install(|| analyze_with(pkg, settings, &active, None).0)
}

/// Analyzes one package, reusing the lowered syntax of files that an earlier analysis of the
/// same package already parsed (see [`FileFacts`]), and returns the facts for the next one.
///
/// A file's facts are reused when its name, position, bytes and the items left out of parsing
/// are the same; every other file is parsed. The package-wide model (items, call graph, lock
/// summaries, reachability) and the rules then run over all files, so the findings are those
/// of [`analyze`]. `prior` must come from this build of the tool (the IR format is not
/// versioned); facts that do not decode are ignored and their file parsed.
#[must_use]
pub fn analyze_incremental(
    pkg: &PackageSources,
    settings: &Settings,
    prior: &[FileFacts],
) -> (Analysis, Vec<FileFacts>) {
    let active: Vec<&dyn Rule> = rules::RULES.to_vec();
    pool().install(|| analyze_with(pkg, settings, &active, Some(prior)))
}

fn tool_diag(name: &str, settings: &Settings, file: u32, primary: Option<Span>, message: String) -> Diagnostic {
    let meta = rules::meta(name).expect("tool diagnostic is registered");
    Diagnostic {
        rule: name.to_owned(),
        level: settings.level(name, meta.default_level),
        message,
        primary,
        primary_label: None,
        labels: Vec::new(),
        helps: Vec::new(),
        notes: Vec::new(),
        file,
    }
}

/// Decodes a file: its text, or an `io_error` (unreadable, not UTF-8).
fn decode(i: u32, f: &InputFile, settings: &Settings) -> (SourceFile, Option<Diagnostic>) {
    let (text, diag) = decode_borrowed(i, f, settings);
    (SourceFile::new(&f.name, text), diag)
}

/// Decodes a file without copying it: its text (empty when it cannot be read), or an
/// `io_error` (unreadable, not UTF-8).
fn decode_borrowed<'f>(i: u32, f: &'f InputFile, settings: &Settings) -> (&'f str, Option<Diagnostic>) {
    match &f.content {
        Err(e) => {
            let d = tool_diag("io_error", settings, i, None, format!("cannot read `{}`: {e}", f.name));
            ("", Some(d))
        }
        Ok(bytes) => match std::str::from_utf8(bytes) {
            Ok(t) => (t, None),
            Err(e) => {
                let d = tool_diag(
                    "io_error",
                    settings,
                    i,
                    None,
                    format!(
                        "`{}` is not valid UTF-8 (invalid byte at offset {})",
                        f.name,
                        e.valid_up_to()
                    ),
                );
                ("", Some(d))
            }
        },
    }
}

/// Parses and lowers one file, leaving out what `skip` says (see [`lex::plan`]); a parse
/// error or a panic becomes a diagnostic.
/// How many items of one file are left out, one after another, before the file is given up.
const MAX_ITEMS_LEFT_OUT: usize = 16;

fn parse(
    i: u32,
    source: &SourceFile,
    skip: &Omit,
    settings: &Settings,
    lex: &LexFacts,
) -> (Option<FileIr>, Vec<Diagnostic>) {
    let lowered = catch_unwind(AssertUnwindSafe(|| {
        if !skip.is_empty()
            && let Ok(ir) = lower::parse_and_lower_blanked(i, &source.text, skip)
        {
            return Ok((ir, Vec::new()));
        }
        // Everything, when nothing is left out or when leaving items out broke the file (the
        // error is then reported exactly as with every item parsed).
        match lower::parse_and_lower(i, &source.text) {
            Ok(ir) => Ok((ir, Vec::new())),
            // With delimiters out of balance, the lexer's item boundaries cannot be trusted.
            Err(e) if lex.error.is_some() => Err(e),
            Err(e) => recover(i, &source.text, lex, e),
        }
    }));
    match lowered {
        Ok(Ok((ir, left_out))) => {
            let diags = left_out
                .into_iter()
                .map(|(msg, span, item)| {
                    let mut d = tool_diag(
                        "parse_error",
                        settings,
                        i,
                        Some(span),
                        format!("cannot parse this item, so it was not analyzed (the rest of the file was): {msg}"),
                    );
                    d.labels.push(crate::diagnostic::Label {
                        span: item,
                        message: "this item is left out".into(),
                    });
                    d
                })
                .collect();
            (Some(ir), diags)
        }
        Ok(Err((msg, span))) => {
            // A lexical error in rustc's words, at both of its places; else syn's.
            let mut d = match &lex.error {
                Some((lex_msg, lex_span)) => {
                    let mut d = tool_diag(
                        "parse_error",
                        settings,
                        i,
                        Some(*lex_span),
                        format!("cannot parse this file: {lex_msg}"),
                    );
                    if let Some((label, at)) = &lex.error_label {
                        d.labels.push(crate::diagnostic::Label {
                            span: *at,
                            message: label.clone(),
                        });
                    } else if lex_msg.contains("unclosed delimiter") {
                        d.primary_label = Some("unclosed delimiter".into());
                    }
                    d
                }
                None => tool_diag(
                    "parse_error",
                    settings,
                    i,
                    Some(span),
                    format!("cannot parse this file: {msg}"),
                ),
            };
            d.notes.push("nothing in this file was analyzed".into());
            (None, vec![d])
        }
        Err(panic) => {
            let d = tool_diag(
                "internal_error",
                settings,
                i,
                None,
                format!(
                    "internal error while parsing `{}`: {}",
                    source.name,
                    panic_message(&*panic)
                ),
            );
            (None, vec![d])
        }
    }
}

/// A file syn rejects: the items it cannot parse are left out, one at a time (the innermost
/// item the lexer found around each error), until the rest parses. Returns the rest's IR and,
/// for each item left out, syn's message, the error's span and the item's span; or the first
/// error, when the rest never parses.
#[allow(clippy::type_complexity)] // (message, error span, item span), once
fn recover(
    i: u32,
    text: &str,
    lex: &LexFacts,
    first: (String, Span),
) -> Result<(FileIr, Vec<(String, Span, Span)>), (String, Span)> {
    let mut omit = Omit::default();
    let mut left_out = Vec::new();
    let mut err = first.clone();
    for _ in 0..MAX_ITEMS_LEFT_OUT {
        let at = err.1.lo;
        let Some((lo, hi)) = lex
            .items
            .iter()
            .filter_map(|it| it.range)
            .filter(|&(lo, hi)| lo <= at && at < hi && !omit.ranges.iter().any(|&(a, b)| a <= lo && hi <= b))
            .min_by_key(|&(lo, hi)| hi - lo)
        else {
            return Err(first);
        };
        left_out.push((err.0, err.1, Span::new(i, lo, hi)));
        omit.leave_out(lo, hi);
        match lower::parse_and_lower_blanked(i, text, &omit) {
            Ok(ir) => return Ok((ir, left_out)),
            Err(e) => err = e,
        }
    }
    Err(first)
}

/// What the active rules, and the user's configured types, are interested in. A rule whose
/// requirements the package does not meet (no spawn anywhere, say) cannot find anything, so its
/// interests are left out.
fn interests<'a>(settings: &'a Settings, active: &[&dyn Rule], lexed: &[LexFacts]) -> HashSet<&'a str> {
    let spawn = !settings.types.spawners.is_empty() || lexed.iter().any(|f| f.spawn_path || f.spawn_methods);
    // An `unsafe impl` of a type that holds none of the rule's words cannot share what it looks for.
    let unsafe_impl_of = |t: &str, meta: &RuleMeta| {
        let words = meta.interests.iter().flat_map(|i| i.words()).map(lex::sym).collect();
        lex::unsafe_impl_holding(lexed, lex::sym(t), &words)
    };
    let mut out: HashSet<&'a str> = HashSet::new();
    for rule in active {
        let meta = rule.meta();
        if settings.level(meta.name, meta.default_level) == Level::Allow {
            continue;
        }
        let met = meta
            .requires
            .is_none_or(|r| (r.spawn && spawn) || r.unsafe_impl_of.iter().any(|t| unsafe_impl_of(t, meta)));
        if met {
            for word in meta.interests.iter().flat_map(|i| i.words()) {
                out.insert(word);
            }
        }
    }
    let t = &settings.types;
    let configured = t
        .maps
        .iter()
        .chain(t.locks.iter().map(|(p, _)| p))
        .chain(t.spawners.iter());
    out.extend(configured.filter_map(|p| p.rsplit("::").next()));
    out
}

/// What lex-first analysis would parse of these files (see [`lex::plan`]): for tools that check
/// the plan against parsing everything (`examples/model_diff.rs`).
#[doc(hidden)]
#[must_use]
pub fn plan_for(settings: &Settings, lexed: &[LexFacts]) -> Vec<Option<Omit>> {
    let active: Vec<&dyn Rule> = rules::RULES.to_vec();
    lex::plan(lexed, &interests(settings, &active, lexed)).omit
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

/// What the parse stage made of one file.
struct FileOutcome {
    ir: Option<FileIr>,
    diags: Vec<Diagnostic>,
    /// For the next analysis (incremental runs).
    facts: Option<FileFacts>,
    /// Parsed now (not lexed only, not reused).
    parsed: bool,
    reused: bool,
}

impl FileOutcome {
    fn new((ir, diags): (Option<FileIr>, Vec<Diagnostic>), parsed: bool) -> FileOutcome {
        FileOutcome {
            ir,
            diags,
            facts: None,
            parsed,
            reused: false,
        }
    }
}

/// Analyzes a package; with `prior` (an incremental run), reuses what it can and returns the
/// facts for the next run.
pub(crate) fn analyze_with(
    pkg: &PackageSources,
    settings: &Settings,
    active: &[&dyn Rule],
    prior: Option<&[FileFacts]>,
) -> (Analysis, Vec<FileFacts>) {
    // The inputs' texts, borrowed: only the files parsed get a copy of their own (below), so
    // a package of generated code is not held twice.
    let decoded: Vec<(&str, Option<Diagnostic>)> = pkg
        .files
        .par_iter()
        .enumerate()
        .map(|(i, f)| decode_borrowed(i as u32, f, settings))
        .collect();
    let mut inputs = Vec::with_capacity(decoded.len());
    let mut diagnostics = Vec::new();
    let mut readable = Vec::with_capacity(decoded.len());
    for (text, diag) in decoded {
        readable.push(diag.is_none());
        diagnostics.extend(diag);
        inputs.push(text);
    }
    // Lex everything, parse only the files that can matter (see `lex`).
    let lexed: Vec<LexFacts> = inputs
        .par_iter()
        .enumerate()
        .map(|(i, text)| lex::lex(i as u32, text))
        .collect();
    let wanted = interests(settings, active, &lexed);
    let mut why_parsed = Vec::new();
    let plan = if settings.parse_all {
        vec![Some(Omit::default()); inputs.len()]
    } else {
        let plan = lex::plan(&lexed, &wanted);
        if settings.explain_plan {
            let named: Vec<(&str, &str)> = pkg
                .files
                .iter()
                .zip(&inputs)
                .map(|(f, t)| (f.name.as_str(), *t))
                .collect();
            why_parsed = (0..inputs.len())
                .filter_map(|i| Some((i as u32, plan.why.explain(i, &lexed, &named)?)))
                .collect();
        }
        plan.omit
    };
    let mut coverage = Coverage {
        lexed_only: (0..inputs.len())
            .filter(|&i| plan[i].is_none() && readable[i] && lexed[i].error.is_none())
            .count(),
        ..Coverage::default()
    };
    // The files' own copies of their text: those parsed (the rules and the renderer read them)
    // and those the coverage report points into; the others, lexed only, can report nothing.
    let mut files: Vec<SourceFile> = pkg
        .files
        .iter()
        .zip(&inputs)
        .enumerate()
        .map(|(i, (f, text))| {
            let keep = plan[i].is_some()
                || lexed[i].error.is_some()
                || coverage.not_analyzed.iter().any(|n| n.span.file == i as u32);
            SourceFile::new(&f.name, if keep { *text } else { "" })
        })
        .collect();
    drop(inputs);
    let prior: Option<HashMap<&str, &FileFacts>> = prior.map(|p| p.iter().map(|f| (f.name.as_str(), f)).collect());
    let parsed: Vec<FileOutcome> = files
        .par_iter()
        .enumerate()
        .map(|(i, f)| {
            if !readable[i] {
                FileOutcome::new((None, Vec::new()), false)
            } else if lexed[i].error.is_some() {
                // A lexical error: syn reports it exactly as with every file parsed.
                FileOutcome::new(parse(i as u32, f, &Omit::default(), settings, &lexed[i]), true)
            } else if let Some(skip) = &plan[i] {
                match &prior {
                    Some(prior) => parse_reusing(i as u32, f, &pkg.files[i], skip, prior, settings, &lexed[i]),
                    None => FileOutcome::new(parse(i as u32, f, skip, settings, &lexed[i]), true),
                }
            } else {
                // Lexed only: nothing in it can contribute a fact or a finding.
                FileOutcome::new((Some(FileIr::default()), Vec::new()), false)
            }
        })
        .collect();
    let package_syms = lex::package_syms(&lexed);
    drop(lexed);
    let parsed_count = parsed.iter().filter(|p| p.parsed).count();
    let reused_count = parsed.iter().filter(|p| p.reused).count();
    let mut irs = Vec::with_capacity(parsed.len());
    let mut next = Vec::new();
    for p in parsed {
        if let Some(ir) = &p.ir {
            let unread = ir.unread_macros.iter().map(|&span| NotAnalyzed {
                span,
                why: Unanalyzed::MacroInputNotItems,
            });
            let rules = ir.unread_macro_rules.iter().map(|&span| NotAnalyzed {
                span,
                why: Unanalyzed::MacroRulesBody,
            });
            coverage.not_analyzed.extend(unread.chain(rules));
        }
        irs.push(p.ir);
        diagnostics.extend(p.diags);
        next.extend(p.facts);
    }
    // Rules read the text of parsed files only (skipped ones have no facts to report on). The
    // model borrows them (moved, not copied) until the rules are done.
    let texts: Vec<String> = files
        .iter_mut()
        .zip(&plan)
        .map(|(f, p)| {
            if p.is_some() {
                std::mem::take(&mut f.text)
            } else {
                String::new()
            }
        })
        .collect();
    let model = catch_unwind(AssertUnwindSafe(|| {
        Model::build_with(pkg.edition, irs, texts, &settings.types, Some(package_syms))
    }));
    coverage.not_analyzed.extend(
        diagnostics
            .iter()
            .filter(|d| d.rule == "parse_error")
            .filter_map(|d| d.primary)
            .map(|span| NotAnalyzed {
                span,
                why: Unanalyzed::SyntaxError,
            }),
    );
    coverage.not_analyzed.sort_by_key(|n| (n.span.file, n.span.lo, n.why));
    let mut model = match model {
        Ok(m) => m,
        Err(panic) => {
            // The texts went down with the model: decode them again.
            for (i, (f, input)) in files.iter_mut().zip(&pkg.files).enumerate() {
                if plan[i].is_some() {
                    *f = decode(i as u32, input, settings).0;
                }
            }
            diagnostics.push(tool_diag(
                "internal_error",
                settings,
                0,
                None,
                format!(
                    "internal error while building the model of `{}`: {}",
                    pkg.name,
                    panic_message(&*panic)
                ),
            ));
            return (
                Analysis {
                    why_parsed,
                    coverage,
                    ..finish(files, diagnostics, parsed_count, reused_count)
                },
                next,
            );
        }
    };
    model.binaries_only = pkg.binaries_only;
    coverage.bodies = model.items.fns.len();
    let per_file: Vec<Vec<Diagnostic>> = (0..files.len() as u32)
        .into_par_iter()
        .map(|file| {
            let mut out = Vec::new();
            if !model.parsed[file as usize] {
                return out;
            }
            for rule in active {
                let meta = rule.meta();
                let level = settings.level(meta.name, meta.default_level);
                if level == Level::Allow {
                    continue;
                }
                let mut found = Vec::new();
                let mut reporter = Reporter {
                    meta,
                    level,
                    file,
                    out: &mut found,
                };
                let r = catch_unwind(AssertUnwindSafe(|| {
                    for &f in &model.fns_by_file[file as usize] {
                        rule.check_fn(&model, model.function(f), &mut reporter);
                    }
                    rule.check_file(&model, file, &mut reporter);
                }));
                match r {
                    Ok(()) => out.extend(found),
                    Err(panic) => out.push(tool_diag(
                        "internal_error",
                        settings,
                        file,
                        None,
                        format!(
                            "internal error in rule `{}` on `{}`: {}",
                            meta.name,
                            files[file as usize].name,
                            panic_message(&*panic)
                        ),
                    )),
                }
            }
            out
        })
        .collect();
    for (f, text) in files.iter_mut().zip(std::mem::take(&mut model.texts)) {
        if !text.is_empty() {
            f.text = text;
        }
    }
    let checked = std::mem::take(&mut model.parsed);
    drop(model);
    let per_file: Vec<Vec<Diagnostic>> = per_file
        .into_par_iter()
        .zip(checked)
        .enumerate()
        .map(|(file, (mut out, checked))| {
            if checked {
                apply_suppressions(file as u32, &files[file], settings, &mut out);
            }
            out
        })
        .collect();
    diagnostics.extend(per_file.into_iter().flatten());
    (
        Analysis {
            why_parsed,
            coverage,
            ..finish(files, diagnostics, parsed_count, reused_count)
        },
        next,
    )
}

/// Parses a file, or takes its lowered syntax from an earlier analysis when nothing that
/// decides it changed; either way, keeps the facts for the next analysis.
fn parse_reusing(
    i: u32,
    source: &SourceFile,
    input: &InputFile,
    skip: &Omit,
    prior: &HashMap<&str, &FileFacts>,
    settings: &Settings,
    lex: &LexFacts,
) -> FileOutcome {
    let hash = content_hash(input.content.as_deref().unwrap_or_default());
    if let Some(p) = prior.get(input.name.as_str())
        && p.index == i
        && p.content_hash == hash
        && p.skip == *skip
        && let Ok(ir) = postcard::from_bytes::<FileIr>(&p.ir)
    {
        return FileOutcome {
            ir: Some(ir),
            diags: Vec::new(),
            facts: Some((*p).clone()),
            parsed: false,
            reused: true,
        };
    }
    let mut out = FileOutcome::new(parse(i, source, skip, settings, lex), true);
    // (A file with items left out is parsed again next time, to report them again.)
    out.facts = out.ir.as_ref().filter(|_| out.diags.is_empty()).and_then(|ir| {
        Some(FileFacts {
            name: input.name.clone(),
            index: i,
            content_hash: hash,
            skip: skip.clone(),
            ir: postcard::to_stdvec(ir).ok()?,
        })
    });
    out
}

/// Removes findings silenced by `// maplint: allow(..)` comments and reports directives that
/// silence nothing or name no rule.
fn apply_suppressions(file: u32, source: &SourceFile, settings: &Settings, out: &mut Vec<Diagnostic>) {
    let sup = Suppressions::parse(file, &source.text);
    if sup.allows.is_empty() && sup.malformed.is_empty() {
        return;
    }
    let mut used = vec![false; sup.allows.len()];
    out.retain(|d| {
        let Some(primary) = d.primary else { return true };
        let line = source.line_index(primary.lo as usize);
        match sup.silencing(&d.rule, line) {
            Some(i) => {
                used[i] = true;
                false
            }
            None => true,
        }
    });
    for (a, used) in sup.allows.iter().zip(used) {
        match rules::meta(&a.rule) {
            None => {
                let mut d = tool_diag(
                    "invalid_suppression",
                    settings,
                    file,
                    Some(a.span),
                    format!("`{}` is not a maplint rule", a.rule),
                );
                if let Some(close) = rules::closest_name(&a.rule) {
                    d.helps.push(crate::diagnostic::Help {
                        message: format!("did you mean `{close}`?"),
                        edits: Vec::new(),
                        applicability: None,
                    });
                }
                out.push(d);
            }
            Some(m) if !used && settings.level(m.name, m.default_level) != Level::Allow => {
                let scope = if a.file_wide { "in this file" } else { "here" };
                out.push(tool_diag(
                    "unused_suppression",
                    settings,
                    file,
                    Some(a.span),
                    format!("this suppression of `{}` silences nothing {scope}", a.rule),
                ));
            }
            Some(_) => {}
        }
    }
    for m in sup.malformed {
        out.push(tool_diag(
            "invalid_suppression",
            settings,
            file,
            Some(m.span),
            format!("malformed maplint directive: {}", m.message),
        ));
    }
}

fn finish(files: Vec<SourceFile>, mut diagnostics: Vec<Diagnostic>, parsed: usize, reused: usize) -> Analysis {
    diagnostics.retain(|d| d.level != Level::Allow);
    diagnostics.sort_by(|a, b| {
        (a.file, a.primary.map(|s| (s.lo, s.hi)), &a.rule, &a.message).cmp(&(
            b.file,
            b.primary.map(|s| (s.lo, s.hi)),
            &b.rule,
            &b.message,
        ))
    });
    diagnostics.dedup();
    Analysis {
        files,
        diagnostics,
        parsed,
        reused,
        why_parsed: Vec::new(),
        coverage: Coverage::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{FixAvailability, RuleMeta};

    struct Panics;
    static PANICS: RuleMeta = RuleMeta {
        name: "panics",
        default_level: Level::Warn,
        summary: "",
        docs: "",
        fix: FixAvailability::None,
        since: "0.1.0",
        interests: &[],
        requires: None,
        clippy: &[],
    };
    impl Rule for Panics {
        fn meta(&self) -> &'static RuleMeta {
            &PANICS
        }
        fn check_file(&self, _: &Model, _: u32, _: &mut Reporter<'_>) {
            panic!("boom");
        }
    }

    fn input(name: &str, content: Result<&[u8], &str>) -> InputFile {
        InputFile {
            name: name.into(),
            content: content.map(<[u8]>::to_vec).map_err(str::to_owned),
        }
    }

    #[test]
    fn bad_files_are_reported_and_the_rest_analyzed() {
        let pkg = PackageSources {
            name: "p".into(),
            edition: crate::Edition::E2021,
            binaries_only: false,
            files: vec![
                input("a.rs", Ok(b"fn ok() {}")),
                input("b.rs", Ok(b"fn broken( {")),
                input("c.rs", Ok(b"fn f() {} \xff")),
                input("d.rs", Err("permission denied")),
                input("e.rs", Ok(b"")),
            ],
        };
        let a = pool().install(|| analyze_with(&pkg, &Settings::default(), &[&Panics], None).0);
        let got: Vec<(u32, &str)> = a.diagnostics.iter().map(|d| (d.file, d.rule.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (0, "internal_error"),
                (1, "parse_error"),
                (2, "io_error"),
                (3, "io_error"),
                (4, "internal_error"),
            ]
        );
        let internal = &a.diagnostics[0];
        assert!(
            internal.message.contains("`panics`")
                && internal.message.contains("a.rs")
                && internal.message.contains("boom")
        );
    }

    #[test]
    fn rule_requirements_decide_whether_interests_count() {
        let rule = *rules::RULES
            .iter()
            .find(|r| r.meta().name == "lost_map_writes")
            .expect("registered");
        let files = |spawn: &str| PackageSources {
            name: "p".into(),
            edition: crate::Edition::E2021,
            binaries_only: false,
            files: vec![
                input(
                    "a.rs",
                    Ok(b"fn f() { let m = std::collections::HashMap::<u8, u8>::new(); }"),
                ),
                input("b.rs", Ok(spawn.as_bytes())),
            ],
        };
        let parsed = |pkg: &PackageSources| {
            pool()
                .install(|| analyze_with(pkg, &Settings::default(), &[rule], None).0)
                .parsed
        };
        // No spawn anywhere: the map cannot reach another thread, so nothing is parsed.
        assert_eq!(parsed(&files("fn g() { let v = Vec::<u8>::new(); v.len(); }")), 0);
        // A spawn (here in a file of its own) makes the maps interesting.
        assert_eq!(parsed(&files("fn g() { std::thread::spawn(|| {}); }")), 1);
        assert_eq!(parsed(&files("fn g(s: &S) { s.handle.spawn(async {}); }")), 1);
        // `join` without a crate that spawns with it is a path or string join.
        assert_eq!(parsed(&files("fn g() { join(&[a, b]); }")), 0);
        // A process started by a build script runs none of the package's code.
        assert_eq!(
            parsed(&files(
                "fn main() { let git = Command::new(\"git\").arg(\"describe\").spawn(); }"
            )),
            0
        );
    }

    #[test]
    fn macro_rules_bodies_are_analyzed_or_reported_as_not() {
        let text = "use std::sync::Mutex;\n\
            static M: Mutex<Option<std::collections::HashMap<u8, u8>>> = Mutex::new(None);\n\
            macro_rules! twice { ($f:ident) => { fn $f() { let _a = M.lock(); let _b = M.lock(); } }; }\n\
            macro_rules! odd { () => { fn g(,) } ; ($t:ty) => { impl $t { fn h(&self) { M.lock(); } } } }\n\
            macro_rules! stmts { () => {{ let _a = M.lock(); let _b = M.lock(); }} }\n\
            macro_rules! arms { ($x:expr) => { 1 => M.lock().len(), } ; ($t:ty) => { Vec<$t> } }\n";
        let pkg = PackageSources {
            name: "p".into(),
            edition: crate::Edition::E2021,
            binaries_only: false,
            files: vec![input("a.rs", Ok(text.as_bytes()))],
        };
        let a = analyze(&pkg, &Settings::default());
        let found: Vec<(&str, usize)> = a
            .diagnostics
            .iter()
            .map(|d| {
                (
                    d.rule.as_str(),
                    text[..d.primary.expect("a span").lo as usize].lines().count(),
                )
            })
            .collect();
        // The items of `twice`, and the statements of `stmts` as a function of their own.
        assert_eq!(
            found,
            vec![("map_lock_reentry", 3), ("map_lock_reentry", 5)],
            "{:?}",
            a.diagnostics
        );
        // `$f`, `h` and `stmts!`: the item rule that does not parse is reported, and the match
        // arms that call a method; the type (no code) is not.
        assert_eq!(a.coverage.bodies, 3);
        let not: Vec<_> = a.coverage.not_analyzed.iter().map(|n| n.why).collect();
        assert_eq!(not, vec![crate::Unanalyzed::MacroRulesBody; 2]);
        let at: Vec<&str> = a
            .coverage
            .not_analyzed
            .iter()
            .map(|n| &text[n.span.lo as usize..n.span.hi as usize])
            .collect();
        assert_eq!(at, vec!["{ fn g(,) }", "{ 1 => M.lock().len(), }"]);
    }

    #[test]
    fn ten_thousand_levels_of_nesting_do_not_overflow() {
        let depth = 10_000;
        let parens = format!("fn f() -> i32 {{ {}1{} }}", "(".repeat(depth), ")".repeat(depth));
        let blocks = format!("fn g() {{ {}{} }}", "{ ".repeat(depth), "} ".repeat(depth));
        let unary = format!("fn h() -> i32 {{ {}1 }}", "-".repeat(depth));
        let calls = format!("fn k() {{ {}x{} }}", "f(".repeat(depth), ")".repeat(depth));
        let pkg = PackageSources {
            name: "deep".into(),
            edition: crate::Edition::E2021,
            binaries_only: false,
            files: [parens, blocks, unary, calls]
                .into_iter()
                .enumerate()
                .map(|(i, t)| InputFile {
                    name: format!("{i}.rs"),
                    content: Ok(t.into_bytes()),
                })
                .collect(),
        };
        let a = analyze(&pkg, &Settings::default());
        // Either analyzed or reported; never a crash.
        assert!(
            a.diagnostics.iter().all(|d| d.rule == "parse_error"),
            "{:?}",
            a.diagnostics
        );
        assert_eq!(a.files.len(), 4);
    }
}
