//! The human rendering of every firing fixture is kept beside it as `<fixture>.stderr` (colour
//! off) and compared exactly, so the wording, labels, help and notes of every rule are reviewed
//! in diffs. Bless with `MAPLINT_BLESS=1 cargo test -p maplint-tests --test rendered`.

use std::fs;
use std::path::PathBuf;

use maplint_tests::{repo_root, run_in};

fn fixtures() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in fs::read_dir(repo_root().join("fixtures/rules")).unwrap() {
        for f in fs::read_dir(dir.unwrap().path()).unwrap() {
            out.push(f.unwrap().path());
        }
    }
    out.sort();
    out
}

#[test]
fn rendered_output_matches_stderr_files() {
    let root = repo_root();
    let bless = std::env::var_os("MAPLINT_BLESS").is_some();
    let mut failures = Vec::new();
    let all = fixtures();
    for path in all.iter().filter(|p| p.extension().is_some_and(|e| e == "rs")) {
        let name = path.file_name().unwrap().to_str().unwrap();
        let expected_path = path.with_extension("stderr");
        let rel = path.strip_prefix(&root).unwrap().to_str().unwrap().to_owned();
        let text = fs::read_to_string(path).unwrap();
        let edition = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("// edition:"))
            .unwrap_or("2021");
        // A `// crate-type: bin` fixture is linted as a binary's crate root, as build systems do.
        let run = if text.lines().any(|l| l.trim() == "// crate-type: bin") {
            run_in(
                &root,
                &[
                    "--crate-root",
                    &rel,
                    "--crate-type",
                    "bin",
                    "--color",
                    "never",
                    "-q",
                    "--edition",
                    edition,
                ],
            )
        } else {
            run_in(&root, &[&rel, "--color", "never", "-q", "--edition", edition])
        };
        if name.starts_with("pass_") {
            if !run.stderr.is_empty() {
                failures.push(format!("{rel}: a near-miss fixture produced output:\n{}", run.stderr));
            }
            continue;
        }
        if bless {
            fs::write(&expected_path, &run.stderr).unwrap();
        } else if fs::read_to_string(&expected_path).ok().as_deref() != Some(run.stderr.as_str()) {
            failures.push(format!(
                "{rel}: rendered output differs from {}:\n{}",
                expected_path.display(),
                run.stderr
            ));
        }
    }
    // Every .stderr belongs to a firing fixture.
    for p in all.iter().filter(|p| p.extension().is_some_and(|e| e == "stderr")) {
        let rs = p.with_extension("rs");
        let firing = rs.exists() && !rs.file_name().unwrap().to_str().unwrap().starts_with("pass_");
        if !firing {
            failures.push(format!("{}: no firing fixture beside it", p.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n(bless with MAPLINT_BLESS=1)",
        failures.join("\n\n")
    );
}
