//! Corpus benchmark: a bare syn parse of every file against maplint's analysis of the same
//! files, package by package, measured in the same run.
//!
//! ```text
//! ../shared/corpus/fetch.sh /path/to/corpus
//! MAPLINT_CORPUS=/path/to/corpus cargo bench -p lint-core --bench corpus
//! RAYON_NUM_THREADS=1 MAPLINT_CORPUS=/path/to/corpus cargo bench -p lint-core --bench corpus
//! ```
//! Every sub-folder of the corpus is one package. Without `MAPLINT_CORPUS` the benchmark runs
//! on this repository's fixtures (a smoke run, not a measurement).

// A report, not arithmetic: megabytes to one decimal.
#![allow(clippy::cast_precision_loss)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lint_core::{Edition, InputFile, PackageSources, Settings, analyze, in_pool};
use rayon::prelude::*;

#[path = "support/corpus_files.rs"]
mod corpus_files;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let root = std::env::var_os("MAPLINT_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures"),
        PathBuf::from,
    );
    let reps: usize = std::env::var("MAPLINT_BENCH_REPS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let pkgs: Vec<Vec<(String, Vec<u8>)>> = corpus_files::packages(&root).into_iter().map(|(_, f)| f).collect();
    let n_files: usize = pkgs.iter().map(Vec::len).sum();
    let bytes: usize = pkgs.iter().flatten().map(|(_, b)| b.len()).sum();
    let threads = in_pool(rayon::current_num_threads);
    println!(
        "corpus {} ({} packages, {n_files} files, {:.1} MB), {threads} thread(s), {reps} interleaved repetitions",
        root.display(),
        pkgs.len(),
        bytes as f64 / 1e6
    );
    let mut syn_times = Vec::new();
    let mut lint_times = Vec::new();
    let mut parsed = 0;
    for _ in 0..reps {
        // A bare syn parse of every file, in parallel on the same pool. With the workspace's
        // `span-locations`, proc-macro2 keeps a copy of every parsed text per thread; free it
        // after each file, as maplint does (otherwise the baseline pays for a growing map).
        let t = Instant::now();
        in_pool(|| {
            pkgs.par_iter().flatten().for_each(|(_, b)| {
                if let Ok(text) = std::str::from_utf8(b) {
                    let _ = syn::parse_file(text);
                    proc_macro2::extra::invalidate_current_thread_spans();
                }
            });
        });
        syn_times.push(t.elapsed());
        // maplint's analysis, package by package (several at once, as the CLI does).
        let t = Instant::now();
        parsed = in_pool(|| {
            pkgs.par_iter()
                .map(|files| {
                    let pkg = PackageSources {
                        name: "bench".into(),
                        edition: Edition::E2021,
                        files: files
                            .iter()
                            .map(|(n, b)| InputFile {
                                name: n.clone(),
                                content: Ok(b.clone()),
                            })
                            .collect(),
                    };
                    analyze(&pkg, &Settings::default()).parsed
                })
                .sum::<usize>()
        });
        lint_times.push(t.elapsed());
    }
    let (s, l) = (median(syn_times), median(lint_times));
    println!("| measure | median |");
    println!("|---|---|");
    println!("| bare syn parse of every file | {:.2} s |", s.as_secs_f64());
    println!(
        "| maplint analysis (lex all, parse {parsed} of {n_files}) | {:.2} s |",
        l.as_secs_f64()
    );
    println!("| ratio maplint / syn | {:.2} |", l.as_secs_f64() / s.as_secs_f64());
}
