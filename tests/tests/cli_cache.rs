//! The result cache: a re-run reads it, a change re-analyzes, a corrupt entry is rebuilt.

use std::fs;
use std::path::Path;

use maplint_tests::{copy_dir, repo_root, run_in};

fn entries(dir: &Path) -> Vec<std::path::PathBuf> {
    fs::read_dir(dir).map_or_else(|_| Vec::new(), |r| r.map(|e| e.unwrap().path()).collect())
}

fn with_ext(dir: &Path, ext: &str) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = entries(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

/// The `-vv` status line of the demo package.
fn status(dir: &Path, args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.push("-vv");
    let run = run_in(dir, &all);
    run.stderr
        .lines()
        .find(|l| l.contains("demo ("))
        .unwrap_or_else(|| panic!("no status line in {}", run.stderr))
        .trim()
        .to_owned()
}

#[test]
fn warm_runs_read_the_cache_and_changes_invalidate_it() {
    let tmp = tempfile::tempdir().unwrap();
    let demo = tmp.path().join("demo");
    copy_dir(&repo_root().join("fixtures/projects/demo"), &demo);
    let args = ["--message-format", "short", "--color", "never"];
    let cold = run_in(&demo, &args);
    let cache = demo.join("target/maplint/cache");
    let (results, facts) = (with_ext(&cache, "json"), with_ext(&cache, "facts"));
    assert_eq!(
        (results.len(), facts.len()),
        (1, 1),
        "two entries per package: {:?}",
        entries(&cache)
    );
    let warm = run_in(&demo, &args);
    assert_eq!((cold.code, &cold.stderr), (warm.code, &warm.stderr));
    assert!(warm.stderr.contains("map_lock_reentry"));
    assert!(status(&demo, &args).starts_with("Fresh demo ("));

    // A change re-analyzes the package, parsing only the changed file.
    let pool = demo.join("rejected/mutated_in_spawn.rs");
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
    assert!(changed.stderr.contains("map_lock_reentry"), "{}", changed.stderr);
    let uncached = run_in(&demo, &["--no-cache", "--message-format", "short", "--color", "never"]);
    assert_eq!(changed.stderr, uncached.stderr);
    fs::write(
        &pool,
        text.replace("// BUG: map_mutated_in_spawn", "// BUG: map_mutated_in_spawn (again)"),
    )
    .unwrap();
    let line = status(&demo, &args);
    assert!(
        line.starts_with("Checking demo (") && line.contains(": 1 file parsed, "),
        "{line}"
    );
    assert!(!line.contains(" 0 reused"), "{line}");

    // A corrupt entry is ignored and rebuilt; corrupt facts are ignored (every file parsed).
    for e in entries(&cache) {
        let mut bytes = fs::read(&e).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x20;
        fs::write(&e, bytes).unwrap();
    }
    fs::write(&with_ext(&cache, "json")[0], "{ not json").unwrap();
    fs::write(&pool, &text).unwrap();
    let line = status(&demo, &args);
    assert!(line.contains(" 0 reused"), "{line}");
    let rebuilt = run_in(&demo, &args);
    assert_eq!(rebuilt.stderr, cold.stderr);
    assert!(serde_json::from_slice::<serde_json::Value>(&fs::read(&with_ext(&cache, "json")[0]).unwrap()).is_ok());

    // --no-cache leaves no trace.
    fs::remove_dir_all(&cache).unwrap();
    let _ = run_in(&demo, &["--no-cache", "--message-format", "short"]);
    assert!(entries(&cache).is_empty());
}

#[test]
fn the_cache_goes_to_the_workspace_target_or_the_user_cache_never_the_current_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let (cwd, xdg) = (tmp.path().join("home"), tmp.path().join("xdg"));
    fs::create_dir_all(&cwd).unwrap();
    let env = [
        ("XDG_CACHE_HOME", xdg.to_str().unwrap()),
        ("HOME", cwd.to_str().unwrap()),
    ];
    // Loose files (no Cargo.toml above them): the user's cache directory.
    let loose = tmp.path().join("loose");
    fs::create_dir_all(&loose).unwrap();
    fs::copy(
        repo_root().join("fixtures/rules/map_lock_reentry/relock_in_scrutinee.rs"),
        loose.join("relock.rs"),
    )
    .unwrap();
    let run = maplint_tests::run_env(&cwd, &["maplint", loose.to_str().unwrap()], &env);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        !cwd.join("target").exists(),
        "nothing is written to the current directory"
    );
    assert!(
        !with_ext(&xdg.join("maplint"), "json").is_empty(),
        "{:?}",
        entries(&xdg)
    );
    // A package linted by path: its workspace's target directory.
    let demo = tmp.path().join("demo");
    copy_dir(&repo_root().join("fixtures/projects/demo"), &demo);
    let _ = fs::remove_dir_all(demo.join("target"));
    let run = maplint_tests::run_env(&cwd, &["maplint", demo.to_str().unwrap()], &env);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!with_ext(&demo.join("target/maplint/cache"), "json").is_empty());
    assert!(!cwd.join("target").exists());
    // `--target-dir` wins, as `CARGO_TARGET_DIR` does.
    let elsewhere = tmp.path().join("elsewhere");
    let run = maplint_tests::run_env(
        &cwd,
        &[
            "maplint",
            demo.to_str().unwrap(),
            "--target-dir",
            elsewhere.to_str().unwrap(),
        ],
        &env,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!with_ext(&elsewhere.join("maplint/cache"), "json").is_empty());
}

#[test]
fn vv_says_why_each_parsed_file_is_parsed() {
    let demo = repo_root().join("fixtures/projects/demo");
    let run = run_in(
        &demo,
        &["--no-cache", "-vv", "--message-format", "short", "--color", "never"],
    );
    let status = run.stderr.lines().find(|l| l.contains("demo (")).expect("status line");
    let parsed: usize = status
        .split(": ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{status}"));
    let why: Vec<&str> = run
        .stderr
        .lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("parsed "))
        .collect();
    assert_eq!(why.len(), parsed, "one reason per parsed file:\n{}", run.stderr);
    // The session registry's file: its struct names the `DashMap` it holds.
    assert!(
        why.iter()
            .any(|w| w.starts_with("src/sessions.rs: ") && w.contains("names `DashMap`")),
        "{why:#?}"
    );
    // `-v`'s coverage line: the bodies analyzed and the files only lexed.
    assert!(
        run.stderr.lines().any(
            |l| l.contains(" function bodies analyzed, ") && l.contains(" only lexed (nothing in them can matter)")
        ),
        "{}",
        run.stderr
    );
    // Every chain ends at a word a rule looks for, or at an unsafe sharing.
    for w in &why {
        assert!(
            w.ends_with('`') || w.contains("shares a type between threads") || w.ends_with("is a `static mut`"),
            "{w}"
        );
    }
}
