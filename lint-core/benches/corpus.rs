//! Corpus benchmark: a bare syn parse of every file against maplint's analysis of the same
//! files, package by package, measured in the same run.
//!
//! ```text
//! ../shared/corpus/fetch.sh /path/to/corpus
//! MAPLINT_CORPUS=/path/to/corpus cargo bench -p lint-core --bench corpus
//! RAYON_NUM_THREADS=1 MAPLINT_CORPUS=/path/to/corpus cargo bench -p lint-core --bench corpus
//! ```
//! With `--features bench-mimalloc`, both sides run on mimalloc, the allocator `cargo maplint`
//! ships with (by default both run on the system allocator).
//!
//! Every sub-folder of the corpus is one package. Without `MAPLINT_CORPUS` the benchmark runs
//! on this repository's fixtures (a smoke run, not a measurement). `MAPLINT_BENCH_REPS` sets
//! the repetitions (3). Besides the ratio of the median times it prints each repetition's
//! ratio: the two are measured slice by slice, back to back, so a repetition's ratio holds
//! even when the machine's speed drifts.

// A report, not arithmetic: megabytes to one decimal.
#![allow(clippy::cast_precision_loss)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lint_core::{Edition, InputFile, PackageSources, Settings, analyze, in_pool};
use rayon::prelude::*;

#[cfg(feature = "bench-mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
        "corpus {} ({} packages, {n_files} files, {:.1} MB), {threads} thread(s), {reps} repetitions",
        root.display(),
        pkgs.len(),
        bytes as f64 / 1e6
    );
    // The machine's speed drifts (a shared VM: ±25% within minutes), so the two measures are
    // interleaved finely: each repetition walks the corpus in slices of about 25 MB and times
    // syn and maplint on each slice back to back, alternating which goes first.
    let slices = slices_of(&pkgs, 25_000_000);
    let mut syn_times = Vec::new();
    let mut lint_times = Vec::new();
    let mut ratios = Vec::new();
    let mut parsed = 0;
    for _ in 0..reps {
        let (mut syn_total, mut lint_total) = (Duration::ZERO, Duration::ZERO);
        parsed = 0;
        for (i, slice) in slices.iter().enumerate() {
            // `true`: the bare syn parse; `false`: maplint.
            let order = if i % 2 == 0 { [true, false] } else { [false, true] };
            for syn in order {
                if syn {
                    syn_total += bare_syn(slice);
                } else {
                    let (t, n) = maplint(slice);
                    lint_total += t;
                    parsed += n;
                }
            }
        }
        syn_times.push(syn_total);
        lint_times.push(lint_total);
        ratios.push(lint_total.as_secs_f64() / syn_total.as_secs_f64());
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
    ratios.sort_by(f64::total_cmp);
    println!(
        "| ratio per repetition (min, median, max) | {:.2}, {:.2}, {:.2} |",
        ratios[0],
        ratios[ratios.len() / 2],
        ratios[ratios.len() - 1]
    );
}

/// Consecutive packages, about `size` bytes at a time.
fn slices_of(pkgs: &[Vec<corpus_files::File>], size: usize) -> Vec<&[Vec<corpus_files::File>]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, p) in pkgs.iter().enumerate() {
        bytes += p.iter().map(|(_, b)| b.len()).sum::<usize>();
        if bytes >= size || i + 1 == pkgs.len() {
            out.push(&pkgs[start..=i]);
            (start, bytes) = (i + 1, 0);
        }
    }
    out
}

/// A bare syn parse of every file, in parallel on maplint's pool. With the workspace's
/// `span-locations`, proc-macro2 keeps a copy of every parsed text per thread; free it after
/// each file, as maplint does (otherwise the baseline pays for a growing map).
fn bare_syn(pkgs: &[Vec<corpus_files::File>]) -> Duration {
    let t = Instant::now();
    in_pool(|| {
        pkgs.par_iter().flatten().for_each(|(_, b)| {
            if let Ok(text) = std::str::from_utf8(b) {
                let _ = syn::parse_file(text);
                proc_macro2::extra::invalidate_current_thread_spans();
            }
        });
    });
    t.elapsed()
}

/// maplint's analysis, package by package (several at once, as the CLI does); how many
/// files it parsed.
fn maplint(pkgs: &[Vec<corpus_files::File>]) -> (Duration, usize) {
    let t = Instant::now();
    let parsed = in_pool(|| {
        pkgs.par_iter()
            .map(|files| {
                let pkg = PackageSources {
                    name: "bench".into(),
                    edition: Edition::E2021,
                    binaries_only: false,
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
    (t.elapsed(), parsed)
}
