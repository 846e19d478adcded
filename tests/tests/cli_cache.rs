//! The result cache: a re-run reads it, a change re-analyzes, a corrupt entry is rebuilt.

use std::fs;
use std::path::Path;

use maplint_tests::{repo_root, run_in};

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            if e.file_name() != "target" {
                copy_dir(&e.path(), &target);
            }
        } else {
            fs::copy(e.path(), target).unwrap();
        }
    }
}

fn entries(dir: &Path) -> Vec<std::path::PathBuf> {
    fs::read_dir(dir).map_or_else(|_| Vec::new(), |r| r.map(|e| e.unwrap().path()).collect())
}

#[test]
fn warm_runs_read_the_cache_and_changes_invalidate_it() {
    let tmp = tempfile::tempdir().unwrap();
    let demo = tmp.path().join("demo");
    copy_dir(&repo_root().join("fixtures/projects/demo"), &demo);
    let args = ["--message-format", "short", "--color", "never"];
    let cold = run_in(&demo, &args);
    let cache = demo.join("target/maplint/cache");
    let written = entries(&cache);
    assert_eq!(written.len(), 1, "one entry per package: {written:?}");
    let warm = run_in(&demo, &args);
    assert_eq!((cold.code, &cold.stderr), (warm.code, &warm.stderr));
    assert!(warm.stderr.contains("map_lock_reentry"));

    // A change re-analyzes the package.
    let pool = demo.join("src/pool.rs");
    let text = fs::read_to_string(&pool).unwrap();
    fs::write(
        &pool,
        text.replace(
            "results.insert(job.id, n); // BUG: map_mutated_in_spawn",
            "let _ = (job.id, n);",
        ),
    )
    .unwrap();
    let changed = run_in(&demo, &args);
    assert!(!changed.stderr.contains("map_mutated_in_spawn"), "{}", changed.stderr);

    // A corrupt entry is ignored and rebuilt.
    for e in entries(&cache) {
        fs::write(e, "{ not json").unwrap();
    }
    let rebuilt = run_in(&demo, &args);
    assert_eq!(rebuilt.stderr, changed.stderr);
    assert!(serde_json::from_slice::<serde_json::Value>(&fs::read(&entries(&cache)[0]).unwrap()).is_ok());

    // --no-cache leaves no trace.
    fs::remove_dir_all(&cache).unwrap();
    let _ = run_in(&demo, &["--no-cache", "--message-format", "short"]);
    assert!(entries(&cache).is_empty());
}
