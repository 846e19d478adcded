//! Checks lex-first planning against parsing everything at the level of the model, which is far
//! stricter than comparing findings: for every function that lex-first analysis parses, its
//! lock summary, its lock events and whether spawned code reaches it (for a function with lock
//! events or writes to statics, the only ones a rule asks it of) must be what they are when
//! every file is parsed. It also checks that the lexer's tokens are `rustc_lexer`'s on
//! every file (`lint_core::tokens`). Only what a rule reads is compared: a `RefCell` borrow
//! only when the cell guards a map. And it counts the functions that lex-first analysis
//! does not parse although a rule could find something in them when everything is parsed
//! (they have lock events or summary entries, or write a static): what planning can miss.
//! Those are reported, not failed on.
//!
//! ```text
//! cargo run --release -p lint-core --example model_diff -- /path/to/corpus
//! ```
//! Every sub-folder of the corpus is one package. Exits with status 1 on a difference.

use std::collections::HashMap;
use std::path::PathBuf;

use lint_core::catalog::AcqOp;
use lint_core::model::Model;
use lint_core::model::body::Root;
use lint_core::model::ir::FileIr;
use lint_core::model::locks::guards_a_map;
use lint_core::model::lower::{parse_and_lower, parse_and_lower_blanked};
use lint_core::{Edition, Settings, in_pool, lex, plan_for};
use rayon::prelude::*;

#[path = "../benches/support/corpus_files.rs"]
mod corpus_files;

/// Removes the model's own indices (`id: 12`, `Static(3)`), which differ between two models
/// of the same code built from different file sets.
fn strip_ids(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest
        .find("id: ")
        .map(|i| i + 4)
        .or_else(|| rest.find("Static(").map(|i| i + 7))
    {
        out.push_str(&rest[..i]);
        rest = rest[i..].trim_start_matches(|c: char| c.is_ascii_digit());
        out.push('_');
    }
    out.push_str(rest);
    out
}

/// Per function (file, definition offset): an id-free description of what the model knows
/// that a rule reads, and whether a rule can find anything in it (it has lock events or
/// summary entries, or writes a static). A `RefCell` borrow is read only when the cell guards a
/// map (`guards_a_map`: the borrow rules ask `LockEvent::on_map`, and borrows are in no lock
/// order), so the borrows of other cells are left out.
fn describe(m: &Model) -> HashMap<(u32, u32), (String, bool)> {
    let key = |f: u32| {
        let d = &m.items.fns[f as usize];
        (d.file, d.def.span.lo)
    };
    let mut out = HashMap::new();
    for (f, info) in m.items.fns.iter().enumerate() {
        let s = &m.summaries[f];
        let read = |k: usize| {
            let a = &s.acquires[k];
            !matches!(a.op, AcqOp::Borrow { .. }) || guards_a_map(&m.items, &a.lock_ty)
        };
        let mut acq: Vec<String> = s
            .acquires
            .iter()
            .enumerate()
            .filter(|(k, _)| read(*k))
            // (Not the lock's type: its inner type is an uninteresting type that lex-first
            // analysis may leave out, `Mutex<Token>`, and no rule reads it then.)
            .map(|(_, a)| format!("acq {:?} {:?} {:?} {:?}", a.lock.fields, a.op, a.span, key(a.fn_id)))
            .chain(s.returns.iter().filter(|(_, k)| read(*k)).map(|(path, k)| {
                let a = &s.acquires[*k];
                format!("ret {path:?} {:?} {:?} {:?}", a.lock.fields, a.op, a.span)
            }))
            .chain(s.passes.iter().map(|(pos, path)| format!("pass {pos} {path:?}")))
            .chain(s.nested.iter().filter(|(j, k)| read(*j) && read(*k)).map(|(j, k)| {
                let (a, b) = (&s.acquires[*j], &s.acquires[*k]);
                format!(
                    "nest {:?} {:?} -> {:?} {:?}",
                    a.lock.fields, a.span, b.lock.fields, b.span
                )
            }))
            .collect();
        acq.sort();
        let events = &m.guards[f].events;
        let seen = |h: &&u32| {
            let e = &events[**h as usize];
            !matches!(e.op, AcqOp::Borrow { .. }) || e.on_map
        };
        let mut ev: Vec<String> = events
            .iter()
            .filter(|e| !matches!(e.op, AcqOp::Borrow { .. }) || e.on_map)
            .map(|e| {
                let held: Vec<_> = e.held.iter().filter(seen).map(|&h| events[h as usize].span).collect();
                let nested: Vec<_> = e.nested.iter().filter(seen).map(|&h| events[h as usize].span).collect();
                format!(
                    "ev {:?} {:?} {:?} {:?} held={held:?} nested={nested:?}",
                    e.lock.fields,
                    e.op,
                    e.span,
                    e.via.map(|v| v.1),
                )
            })
            .collect();
        ev.sort();
        // Whether spawned code reaches the function matters to the rules only for its lock
        // events (the lock graph) and its writes to statics (`unsynchronized_map_write`); a
        // function with neither (a namesake kept only so that names resolve alike) may lose
        // the caller that spawns it.
        let writes_static = m.bodies[f]
            .writes
            .iter()
            .any(|w| matches!(w.place.root, Root::Static(_)));
        let spawned = m
            .spawned_fns
            .get(&(f as u32))
            .map(|o| o.span)
            .filter(|_| !acq.is_empty() || !ev.is_empty() || writes_static);
        let matters = !acq.is_empty() || !ev.is_empty() || writes_static;
        out.insert(
            (info.file, info.def.span.lo),
            (
                strip_ids(&format!("{} {acq:?} {ev:?} spawned={spawned:?}", info.def.name)),
                matters,
            ),
        );
    }
    out
}

/// The fast tokenizer gives `rustc_lexer`'s tokens for this file (as `lex::lex` reads it).
fn same_tokens(text: &str) -> bool {
    let body = &text[lex::body_start(text)..];
    lint_core::tokens::Tokens::new(body).eq(lint_core::tokens::reference(body))
}

fn main() {
    let root = PathBuf::from(std::env::args().nth(1).expect("usage: model_diff CORPUS_DIR"));
    let pkgs = corpus_files::packages(&root);
    let settings = Settings::default();
    #[allow(clippy::type_complexity)] // (package, functions, differences, missing, token differences)
    let results: Vec<(&str, usize, Vec<String>, Vec<String>, Vec<&str>)> = in_pool(|| {
        pkgs.par_iter()
            .map(|(dir, files)| {
                let texts = corpus_files::texts(files);
                let token_diffs: Vec<&str> = texts
                    .iter()
                    .zip(files)
                    .filter(|(t, _)| !same_tokens(t))
                    .map(|(_, (name, _))| name.as_str())
                    .collect();
                let lexed: Vec<lex::LexFacts> = texts.iter().enumerate().map(|(i, t)| lex::lex(i as u32, t)).collect();
                let plan = plan_for(&settings, &lexed);
                let lower = |i: usize, t: &str| parse_and_lower(i as u32, t).ok();
                let all: Vec<Option<FileIr>> = texts.iter().enumerate().map(|(i, t)| lower(i, t)).collect();
                let planned: Vec<Option<FileIr>> = texts
                    .iter()
                    .enumerate()
                    .map(|(i, t)| match &plan[i] {
                        _ if lexed[i].error.is_some() => lower(i, t),
                        Some(skip) => parse_and_lower_blanked(i as u32, t, skip).ok().or_else(|| lower(i, t)),
                        None => Some(FileIr::default()),
                    })
                    .collect();
                let n = texts.len();
                let once = lex::package_syms(&lexed);
                let build =
                    |irs, once| Model::build_with(Edition::E2021, irs, vec![String::new(); n], &settings.types, once);
                let full = describe(&build(all, Some(once.clone())));
                let part = describe(&build(planned, Some(once)));
                let mut diffs = Vec::new();
                for (k, (v, _)) in &part {
                    match full.get(k) {
                        Some((w, _)) if w == v => {}
                        other => diffs.push(format!(
                            "{}:{}\n    lex-first: {v}\n    parse-all: {}",
                            files[k.0 as usize].0,
                            k.1,
                            other.map_or("(missing)", |(w, _)| w.as_str())
                        )),
                    }
                }
                // A function a rule can find something in, which lex-first analysis does not
                // parse: what it can miss.
                let mut missing = Vec::new();
                for (k, (w, matters)) in &full {
                    if *matters && !part.contains_key(k) {
                        missing.push(format!(
                            "{}:{}\n    lex-first: (not parsed)\n    parse-all: {w}",
                            files[k.0 as usize].0, k.1
                        ));
                    }
                }
                diffs.sort();
                missing.sort();
                (dir.as_str(), part.len(), diffs, missing, token_diffs)
            })
            .collect()
    });
    let mut fns = 0;
    let mut bad = 0;
    let mut bad_tokens = 0;
    let mut unparsed = 0;
    for (pkg, n, diffs, missing, token_diffs) in &results {
        fns += n;
        unparsed += missing.len();
        if !missing.is_empty() {
            println!("{pkg}: {} functions with lock events are not parsed", missing.len());
            for d in missing.iter().take(3) {
                println!("  {d}");
            }
        }
        bad_tokens += token_diffs.len();
        for f in token_diffs.iter().take(3) {
            println!("{f}: the lexer's tokens differ from rustc_lexer's");
        }
        if !diffs.is_empty() {
            bad += diffs.len();
            println!("{pkg}: {} of {n} functions differ", diffs.len());
            for d in diffs.iter().take(3) {
                println!("  {d}");
            }
        }
    }
    let n_files: usize = pkgs.iter().map(|(_, f)| f.len()).sum();
    println!("model_diff: {bad_tokens} of {n_files} files lexed differently from rustc_lexer");
    println!("model_diff: {bad} of {fns} parsed functions differ from parsing everything");
    // (Reported, not failed on: the known cases are listed in README's "Known problems" of
    // lex-first analysis.)
    println!("model_diff: {unparsed} functions with lock events or static writes are not parsed");
    if bad > 0 || bad_tokens > 0 {
        std::process::exit(1);
    }
}
