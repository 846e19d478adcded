//! End-to-end benchmark of `cargo maplint` on a corpus: the release binary run as a user runs
//! it, cold (`--no-cache`), warm (every package answered by the result cache) and, on tokio when
//! the corpus has it, after a one-line change to one file; at 1 and 2 threads, with the peak
//! memory of each run.
//!
//! ```text
//! ../shared/corpus/fetch.sh /path/to/corpus
//! MAPLINT_CORPUS=/path/to/corpus cargo bench -p cargo-maplint --bench cli
//! ```
//! `MAPLINT_BENCH_PACKAGES=DIR[:DIR...]` adds one cold row per package directory (generated
//! code such as `windows` 0.48.0, fetched by `scripts/fetch-generated.sh`).
//! `MAPLINT_BENCH_REPS` sets the repetitions (3); the table gives medians. The cache goes to a
//! temporary `CARGO_TARGET_DIR`, and the changed file is in a temporary copy of tokio: the
//! corpus is never written. Without `MAPLINT_CORPUS` the benchmark runs on this repository's
//! fixtures (a smoke run, not a measurement). Peak memory is the largest `VmHWM` (Linux) seen
//! while polling the process every few milliseconds.

// A report, not arithmetic: seconds and megabytes to two decimals.
#![allow(clippy::cast_precision_loss)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One run of the binary: its wall time and peak resident memory (bytes, 0 when unknown).
struct Run {
    time: Duration,
    peak: u64,
}

fn main() {
    let corpus = std::env::var_os("MAPLINT_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures"),
        PathBuf::from,
    );
    let reps: usize = std::env::var("MAPLINT_BENCH_REPS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3)
        .max(1);
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let tokio = fs::read_dir(&corpus)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            // `tokio-1.54.1`, not `tokio-util-0.7.18`.
            p.file_name().is_some_and(|n| {
                n.to_string_lossy()
                    .strip_prefix("tokio-")
                    .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()))
            })
        })
        .map(|src| {
            let copy = scratch.path().join("tokio");
            copy_dir(&src, &copy);
            copy
        });
    let packages: Vec<PathBuf> = std::env::var_os("MAPLINT_BENCH_PACKAGES")
        .map(|v| std::env::split_paths(&v).collect())
        .unwrap_or_default();
    println!("`cargo maplint` on {}, {reps} repetitions, medians", corpus.display());
    println!("| measure | threads | time | peak memory |");
    println!("|---|---|---|---|");
    for threads in [1, 2] {
        let target = scratch.path().join(format!("target-{threads}"));
        let run = |dir: &Path, cache: bool| maplint(dir, &target, threads, cache);
        let sample = |dir: &Path, cache: bool| median(&(0..reps).map(|_| run(dir, cache)).collect::<Vec<_>>());
        let cold = sample(&corpus, false);
        row("corpus, cold (`--no-cache`)", threads, &cold, None);
        for p in &packages {
            let name = p
                .file_name()
                .map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned());
            row(
                &format!("{name}, cold (`--no-cache`)"),
                threads,
                &sample(p, false),
                None,
            );
        }
        run(&corpus, true); // fills the cache
        let warm = sample(&corpus, true);
        row("corpus, warm (result cache)", threads, &warm, Some(&cold));
        if let Some(tokio) = &tokio {
            let cold_t = sample(tokio, false);
            row("tokio, cold (`--no-cache`)", threads, &cold_t, None);
            let file = tokio.join("src/sync/mutex.rs");
            let original = fs::read(&file).expect("tokio's src/sync/mutex.rs");
            let changed: Vec<Run> = (0..reps)
                .map(|i| {
                    fs::write(&file, &original).expect("restore");
                    run(tokio, true); // the cache holds the unchanged package
                    let mut text = original.clone();
                    text.extend_from_slice(format!("\n// edit {i}\n").as_bytes());
                    fs::write(&file, text).expect("edit");
                    run(tokio, true)
                })
                .collect();
            fs::write(&file, &original).expect("restore");
            row(
                "tokio, one line appended to one file (cache)",
                threads,
                &median(&changed),
                Some(&cold_t),
            );
        }
    }
}

/// Runs `cargo maplint DIR` on `threads` threads; the cache (when used) under `target`.
fn maplint(dir: &Path, target: &Path, threads: usize, cache: bool) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-maplint"));
    cmd.arg("maplint")
        .arg(dir)
        .args(["--message-format", "json", "--exit-zero"])
        .env("RAYON_NUM_THREADS", threads.to_string())
        .env("CARGO_TARGET_DIR", target)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if !cache {
        cmd.arg("--no-cache");
    }
    let start = Instant::now();
    let mut child = cmd.spawn().expect("runs cargo-maplint");
    let status_file = PathBuf::from(format!("/proc/{}/status", child.id()));
    let mut peak = 0;
    let status = loop {
        if let Some(s) = child.try_wait().expect("waits") {
            break s;
        }
        peak = peak.max(high_water_mark(&status_file));
        std::thread::sleep(Duration::from_millis(2));
    };
    let time = start.elapsed();
    assert!(
        status.code().is_some_and(|c| c == 0 || c == 2),
        "cargo-maplint failed on {}: {status}",
        dir.display()
    );
    Run { time, peak }
}

/// `VmHWM` of a live process, in bytes (0 when it cannot be read).
fn high_water_mark(status: &Path) -> u64 {
    fs::read_to_string(status)
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
            let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kb * 1024)
        })
        .unwrap_or(0)
}

/// The median time, and the largest peak memory of the runs.
fn median(runs: &[Run]) -> Run {
    let mut times: Vec<Duration> = runs.iter().map(|r| r.time).collect();
    times.sort();
    Run {
        time: times[times.len() / 2],
        peak: runs.iter().map(|r| r.peak).max().unwrap_or(0),
    }
}

fn row(what: &str, threads: usize, run: &Run, of: Option<&Run>) {
    let share = of.map_or(String::new(), |c| {
        format!(
            " ({:.1}% of cold)",
            100.0 * run.time.as_secs_f64() / c.time.as_secs_f64()
        )
    });
    let peak = if run.peak == 0 {
        "?".to_owned()
    } else {
        format!("{:.2} GB", run.peak as f64 / 1e9)
    };
    println!(
        "| {what} | {threads} | {:.2} s{share} | {peak} |",
        run.time.as_secs_f64()
    );
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("creates the copy");
    for entry in fs::read_dir(from).expect("reads the package").flatten() {
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        match entry.file_type() {
            Ok(t) if t.is_dir() => copy_dir(&src, &dst),
            Ok(t) if t.is_file() => {
                fs::copy(&src, &dst).expect("copies a file");
            }
            _ => {}
        }
    }
}
