//! The own parser of function bodies against syn's: for every file lex-first analysis parses
//! in the corpus, the lowered IR with bodies read without syn and with every body read by
//! syn must be the same (or the same error). Prints how many bodies (and bytes) were read
//! without syn, and every file that differs.
//!
//! ```text
//! cargo run --release -p lint-core --example body_diff -- /path/to/corpus
//! ```

// A report: megabytes to two decimals.
#![allow(clippy::cast_precision_loss)]

use std::path::PathBuf;

use lint_core::model::lower::{own_bodies_coverage, parse_and_lower_blanked_with};
use lint_core::{Settings, in_pool, lex, plan_for};
use rayon::prelude::*;

#[path = "../benches/support/corpus_files.rs"]
mod corpus_files;

fn main() {
    let root = PathBuf::from(std::env::args().nth(1).expect("usage: body_diff CORPUS_DIR"));
    let pkgs = corpus_files::packages(&root);
    let settings = Settings::default();
    let per: Vec<([usize; 4], usize, Vec<String>)> = in_pool(|| {
        pkgs.par_iter()
            .map(|(_, files)| {
                let texts = corpus_files::texts(files);
                let lexed: Vec<lex::LexFacts> = texts.iter().enumerate().map(|(i, t)| lex::lex(i as u32, t)).collect();
                let plan = plan_for(&settings, &lexed);
                let mut cov = [0usize; 4];
                let mut files_done = 0;
                let mut differ = Vec::new();
                for (i, t) in texts.iter().enumerate() {
                    let Some(omit) = &plan[i] else { continue };
                    if lexed[i].error.is_some() {
                        continue;
                    }
                    files_done += 1;
                    let c = own_bodies_coverage(t, omit);
                    for k in 0..4 {
                        cov[k] += c[k];
                    }
                    let own = parse_and_lower_blanked_with(i as u32, t, omit, true);
                    let syn = parse_and_lower_blanked_with(i as u32, t, omit, false);
                    if format!("{own:?}") != format!("{syn:?}") {
                        differ.push(files[i].0.clone());
                    }
                }
                (cov, files_done, differ)
            })
            .collect()
    });
    let mut cov = [0usize; 4];
    let mut files = 0;
    for (c, f, d) in &per {
        for k in 0..4 {
            cov[k] += c[k];
        }
        files += f;
        for x in d {
            println!("differs: {x}");
        }
    }
    let differ: usize = per.iter().map(|(_, _, d)| d.len()).sum();
    println!(
        "body_diff: {files} files, {differ} differ; bodies read without syn {} of {} ({:.2} of {:.2} MB)",
        cov[1],
        cov[0],
        cov[3] as f64 / 1e6,
        cov[2] as f64 / 1e6
    );
    if differ > 0 {
        std::process::exit(1);
    }
}
