//! How much of what lex-first planning parses the model finds something in: the functions
//! parsed (their bytes, signature and body), split by whether the model gives them anything a
//! rule reads (an acquisition or lock event, a spawn, a guard passed on or returned, a write to
//! a static) or nothing. The bytes of the second kind are what a plan that knew the model's
//! answer would not parse: the room left for planning (issue 16), which no scratch count should
//! have to rebuild.
//!
//! ```text
//! cargo run --release -p lint-core --example plan_slack -- /path/to/corpus
//! ```
//! Every sub-folder of the corpus is one package. Prints the totals and the ten packages with
//! the most bytes of functions the model finds nothing in.

// A report: megabytes to two decimals.
#![allow(clippy::cast_precision_loss)]

use std::path::PathBuf;

use lint_core::model::Model;
use lint_core::model::body::Root;
use lint_core::model::ir::FileIr;
use lint_core::model::lower::{parse_and_lower, parse_and_lower_blanked};
use lint_core::{Edition, Settings, in_pool, lex, plan_for};
use rayon::prelude::*;

#[path = "../benches/support/corpus_files.rs"]
mod corpus_files;

/// Functions parsed, and their bytes: with something a rule reads, and with nothing.
#[derive(Default, Clone, Copy)]
struct Split {
    fns: [usize; 2],
    bytes: [usize; 2],
}

impl Split {
    fn add(&mut self, o: Split) {
        for i in 0..2 {
            self.fns[i] += o.fns[i];
            self.bytes[i] += o.bytes[i];
        }
    }
}

fn mb(b: usize) -> f64 {
    b as f64 / 1e6
}

fn main() {
    let root = PathBuf::from(std::env::args().nth(1).expect("usage: plan_slack CORPUS_DIR"));
    let pkgs = corpus_files::packages(&root);
    let settings = Settings::default();
    let per: Vec<(&str, Split)> = in_pool(|| {
        pkgs.par_iter()
            .map(|(dir, files)| {
                let texts = corpus_files::texts(files);
                let lexed: Vec<lex::LexFacts> = texts.iter().enumerate().map(|(i, t)| lex::lex(i as u32, t)).collect();
                let plan = plan_for(&settings, &lexed);
                let irs: Vec<Option<FileIr>> = texts
                    .iter()
                    .enumerate()
                    .map(|(i, t)| match &plan[i] {
                        _ if lexed[i].error.is_some() => parse_and_lower(i as u32, t).ok(),
                        Some(skip) => parse_and_lower_blanked(i as u32, t, skip).ok(),
                        None => Some(FileIr::default()),
                    })
                    .collect();
                let once = lex::package_syms(&lexed);
                let m = Model::build_with(
                    Edition::E2021,
                    irs,
                    vec![String::new(); texts.len()],
                    &settings.types,
                    Some(once),
                );
                let mut split = Split::default();
                for (f, info) in m.items.fns.iter().enumerate() {
                    let (s, body) = (&m.summaries[f], &m.bodies[f]);
                    let reads = !s.acquires.is_empty()
                        || !s.passes.is_empty()
                        || !s.returns.is_empty()
                        || !m.guards[f].events.is_empty()
                        || !body.spawns.is_empty()
                        || body.writes.iter().any(|w| matches!(w.place.root, Root::Static(_)));
                    let k = usize::from(!reads);
                    split.fns[k] += 1;
                    split.bytes[k] += (info.def.span.hi - info.def.span.lo) as usize;
                }
                (dir.as_str(), split)
            })
            .collect()
    });
    let mut total = Split::default();
    for (_, s) in &per {
        total.add(*s);
    }
    println!(
        "plan_slack: {:.2} MB of functions parsed: {:.2} MB ({} functions) with something a rule reads, {:.2} MB ({} functions) with nothing",
        mb(total.bytes[0] + total.bytes[1]),
        mb(total.bytes[0]),
        total.fns[0],
        mb(total.bytes[1]),
        total.fns[1]
    );
    let mut worst: Vec<&(&str, Split)> = per.iter().collect();
    worst.sort_by_key(|(_, s)| std::cmp::Reverse(s.bytes[1]));
    for (dir, s) in worst.iter().take(10) {
        println!(
            "  {dir}: {:.2} MB with nothing, {:.2} MB with something",
            mb(s.bytes[1]),
            mb(s.bytes[0])
        );
    }
}
