//! A fingerprint of what the lexer and the planner make of a corpus, to check that a change to
//! either (a faster lexer, a new plan rule meant to change nothing) leaves their output as it
//! was: run it with the build before and the build after and compare the two files. Prints, per
//! file, a digest of its lexer facts and of what the plan parses of it, and times lexing the
//! whole corpus on one thread (the median of `--reps` runs, 5 by default).
//!
//! ```text
//! cargo run --release -p lint-core --example lex_digest -- /path/to/corpus > before.txt
//! # (the change)
//! cargo run --release -p lint-core --example lex_digest -- /path/to/corpus > after.txt
//! cmp before.txt after.txt
//! ```
//! Every sub-folder of the corpus is one package. The digests are of the facts' `Debug`
//! output: adding a field to the facts changes every digest.

use std::fmt::Write as _;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, Instant};

use lint_core::lex::{self, LexFacts};
use lint_core::{Settings, plan_for};

#[path = "../benches/support/corpus_files.rs"]
mod corpus_files;

fn digest(text: &str) -> u64 {
    let mut h = DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// The facts with their sets in sorted order (a set's iteration order is no fact).
fn facts_text(f: &LexFacts) -> String {
    let mut idents: Vec<_> = f.idents().collect();
    idents.sort_unstable();
    idents.dedup();
    let mut members: Vec<_> = f.members().collect();
    members.sort_unstable();
    members.dedup();
    let mut s = format!("{idents:?} {members:?} ");
    let _ = write!(
        s,
        "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
        f.outside,
        f.unsafe_impls,
        f.items,
        f.error,
        f.error_label,
        f.trivia,
        f.traits,
        f.trait_impls,
        f.mods,
        f.spawn_path,
        f.spawn_methods
    );
    s
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut reps = 5;
    let mut root = None;
    while let Some(a) = args.next() {
        if a == "--reps" {
            reps = args.next().and_then(|r| r.parse().ok()).expect("--reps N");
        } else {
            root = Some(a);
        }
    }
    let root = root.expect("usage: lex_digest [--reps N] CORPUS");
    let packages = corpus_files::packages(std::path::Path::new(&root));
    let texts: Vec<Vec<(&str, &str)>> = packages
        .iter()
        .map(|(_, files)| {
            files
                .iter()
                .map(|(name, bytes)| (name.as_str(), std::str::from_utf8(bytes).unwrap_or("")))
                .collect()
        })
        .collect();
    let settings = Settings::default();
    let mut out = String::new();
    for files in &texts {
        let lexed: Vec<LexFacts> = files
            .iter()
            .enumerate()
            .map(|(i, (_, text))| lex::lex(i as u32, text))
            .collect();
        let plan = plan_for(&settings, &lexed);
        for (((name, _), facts), omit) in files.iter().zip(&lexed).zip(&plan) {
            let parsed = format!("{:?}", omit.as_ref().map(|o| (&o.ranges, &o.holes)));
            let _ = writeln!(
                out,
                "{:016x} {:016x} {name}",
                digest(&facts_text(facts)),
                digest(&parsed)
            );
        }
    }
    print!("{out}");
    let mut times: Vec<Duration> = (0..reps)
        .map(|_| {
            let start = Instant::now();
            for (i, (_, text)) in texts.iter().flatten().enumerate() {
                std::hint::black_box(lex::lex(i as u32, text));
            }
            start.elapsed()
        })
        .collect();
    times.sort();
    if let Some(median) = times.get(times.len() / 2) {
        eprintln!(
            "lexing {} files: median {:.3} s over {reps} runs",
            texts.iter().map(Vec::len).sum::<usize>(),
            median.as_secs_f64()
        );
    }
}
