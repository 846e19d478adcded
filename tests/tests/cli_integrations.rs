//! End-to-end tests of the integrations: `--explain` and `rules`, configuration, suppressions,
//! `--fix`/`--diff`, baselines, SARIF (validated against the OASIS schema), `--also-run` for
//! editors and `--whole-package` for pre-commit. Each test that writes works on a temporary
//! copy of a project under fixtures/projects/.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use maplint_tests::{Run, copy_dir, git, repo_root, run_env, run_in};
use serde_json::Value;

fn project(name: &str) -> PathBuf {
    repo_root().join("fixtures/projects").join(name)
}

/// A temporary copy of a fixture project.
fn scratch(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(name);
    copy_dir(&project(name), &dir);
    (tmp, dir)
}

/// A temporary copy of a fixture project committed to a fresh git repository.
fn scratch_repo(name: &str) -> (tempfile::TempDir, PathBuf) {
    let (tmp, dir) = scratch(name);
    git(&dir, &["init", "-q", "."]);
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "-qm", "fixture"]);
    (tmp, dir)
}

/// `(file, line, level[rule])` of each finding of a `--message-format short` run.
fn findings(run: &Run) -> BTreeSet<(String, usize, String)> {
    run.stderr
        .lines()
        .filter(|l| l.contains("[maplint::"))
        .map(|l| {
            let mut parts = l.splitn(4, ':');
            let file = parts.next().unwrap().to_owned();
            let line = parts.next().unwrap().parse().unwrap();
            let _col = parts.next();
            let rest = parts.next().unwrap().trim();
            let head = rest[..=rest.find(']').unwrap()].replace("maplint::", "");
            (file, line, head)
        })
        .collect()
}

fn f(file: &str, line: usize, head: &str) -> (String, usize, String) {
    (file.to_owned(), line, head.to_owned())
}

// ---------------------------------------------------------------------------------------------
// --explain and `rules`

#[test]
fn explain_prints_the_rule_page() {
    let run = run_in(&repo_root(), &["maplint", "--explain", "maplint::map_duplicate_fill"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let meta = lint_core::rules::meta("map_duplicate_fill").unwrap();
    assert!(run.stdout.starts_with(&meta.docs_page()), "{}", run.stdout);
    assert!(run.stdout.contains("## What it does"));
    assert!(run.stdout.contains("Fix: sometimes"));
    let run = run_in(&repo_root(), &["--explain", "Parse_Error"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.starts_with("# `parse_error`"), "{}", run.stdout);
    let run = run_in(&repo_root(), &["--explain", "nope"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("unknown rule `nope`") && run.stderr.contains("map_lock_reentry"));
    assert!(!run.stderr.contains("did you mean"), "{}", run.stderr);
    // A misspelled name gets a suggestion, in `--explain` and in `-A/-W/-D`.
    let run = run_in(&repo_root(), &["--explain", "maplint::map_lock_reentri"]);
    assert!(
        run.stderr.contains("did you mean `map_lock_reentry`?"),
        "{}",
        run.stderr
    );
    let run = run_in(&repo_root(), &["maplint", "rules", "-W", "map_duplcate_fill"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("did you mean `map_duplicate_fill`?"),
        "{}",
        run.stderr
    );
}

/// The `level` and `fix` columns of a rule in the `rules` table.
fn rule_row(run: &Run, rule: &str) -> (String, String) {
    let line = run
        .stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(rule))
        .unwrap_or_else(|| panic!("{rule} not listed:\n{}", run.stdout));
    let cols: Vec<&str> = line.split_whitespace().collect();
    (cols[1].to_owned(), cols[3].to_owned())
}

#[test]
fn without_cargo_metadata_the_manifests_are_read_and_rules_lists_defaults() {
    // `cargo metadata` cannot answer (a pinned toolchain that is not installed behaves the
    // same): the manifests are read directly, with a warning naming the reason.
    let (_tmp, dir) = scratch("config_ws");
    let run = run_env(
        &dir,
        &["maplint", "--workspace", "--message-format", "short"],
        &[("CARGO", "/bin/false")],
    );
    assert!(
        run.stderr.contains(
            "warning: reading the manifests directly (as `cargo maplint PATH` does), because `cargo metadata` failed (exit status: 1) and said nothing"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("backtrace"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("app/src/lib.rs:30:17: error[maplint::map_lock_reentry]"),
        "{}",
        run.stderr
    );
    let run = run_env(
        &dir.join("tools"),
        &["maplint", "--message-format", "short"],
        &[("CARGO", "/bin/false")],
    );
    assert!(run.stderr.contains("tools/src/lib.rs:12:9"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("app/src"),
        "only the package of the current directory: {}",
        run.stderr
    );
    // Outside any package, `rules` prints the defaults (and the command line's levels).
    let empty = tempfile::tempdir().unwrap();
    let run = run_in(empty.path(), &["maplint", "rules", "-D", "map_duplicate_fill"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(rule_row(&run, "map_duplicate_fill").0, "deny*");
    assert_eq!(rule_row(&run, "map_lock_reentry").0, "deny");
}

#[test]
fn the_first_finding_of_each_rule_says_where_its_level_comes_from() {
    let dir = project("config_ws");
    let run = run_in(
        &dir,
        &["maplint", "--workspace", "--color", "never", "-W", "map_lock_reentry"],
    );
    let note = |s: &str| format!("= note: `maplint::{s}; to silence one finding, write `// maplint: allow(");
    for (origin, times) in [
        ("map_duplicate_fill` is set to `deny` by the configuration", 1),
        ("map_mutated_in_spawn` is `deny` by default", 1),
        // Once per package, as rustc does per crate: `app` and `tools` each have one.
        (
            "map_lock_reentry` is set to `warn` by `-W map_lock_reentry` on the command line",
            2,
        ),
    ] {
        assert_eq!(
            run.stderr.matches(&note(origin)).count(),
            times,
            "{origin}:\n{}",
            run.stderr
        );
    }
    // The tool's own diagnostics carry no such note.
    let (_tmp, ws) = scratch("ws_editions");
    let run = run_in(&ws, &["maplint", "--workspace", "--color", "never"]);
    assert!(run.stderr.contains("parse_error"), "{}", run.stderr);
    assert!(!run.stderr.contains("to silence one finding"), "{}", run.stderr);
}

#[test]
fn rules_lists_levels_as_configured() {
    let run = run_in(&repo_root(), &["maplint", "rules"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for m in lint_core::rules::RULES.iter().map(|r| r.meta()) {
        assert_eq!(rule_row(&run, m.name).0, m.default_level.as_str());
    }
    assert_eq!(
        rule_row(&run, "map_duplicate_fill"),
        ("warn".into(), "sometimes".into())
    );
    assert_eq!(rule_row(&run, "map_lock_reentry"), ("deny".into(), "sometimes".into()));
    assert_eq!(rule_row(&run, "map_borrow_conflict"), ("deny".into(), "-".into()));
    // In a configured package: the package's level wins over the workspace's, which wins over
    // the default; the command line wins over all.
    let app = project("config_ws/app");
    let run = run_in(&app, &["rules"]);
    assert_eq!(rule_row(&run, "map_lock_reentry").0, "deny");
    assert_eq!(rule_row(&run, "map_duplicate_fill").0, "deny*");
    assert!(run.stdout.contains("* set by the configuration or the command line"));
    let run = run_in(&project("config_ws/tools"), &["rules", "-A", "map_duplicate_fill"]);
    assert_eq!(rule_row(&run, "map_lock_reentry").0, "warn*");
    assert_eq!(rule_row(&run, "map_duplicate_fill").0, "allow*");
}

// ---------------------------------------------------------------------------------------------
// Configuration

#[test]
fn configuration_sets_levels_types_and_excludes() {
    let run = run_in(&project("config_ws"), &["--workspace", "--message-format", "short"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        findings(&run),
        BTreeSet::from([
            // map-types: `fastmap::FastMap` is a map.
            f("app/src/lib.rs", 14, "error[unsynchronized_map_write]"),
            // lock-types: `spin_lock::SpinLock` is a mutex; the package sets deny.
            f("app/src/lib.rs", 30, "error[map_lock_reentry]"),
            // rules: the workspace sets map_duplicate_fill to deny.
            f("app/src/lib.rs", 37, "error[map_duplicate_fill]"),
            // spawners: `my_runtime::spawn` runs its closure on another thread.
            f("app/src/lib.rs", 46, "error[map_mutated_in_spawn]"),
            // No package configuration: the workspace's warn.
            f("tools/src/lib.rs", 12, "warning[map_lock_reentry]"),
        ]),
        "{}",
        run.stderr
    );
    // The command line wins over the configuration.
    let run = run_in(
        &project("config_ws"),
        &[
            "--workspace",
            "--message-format",
            "short",
            "-A",
            "map_duplicate_fill",
            "-D",
            "warnings",
        ],
    );
    let found = findings(&run);
    assert!(!found.iter().any(|(_, _, h)| h.contains("map_duplicate_fill")));
    assert!(
        found.contains(&f("tools/src/lib.rs", 12, "error[map_lock_reentry]")),
        "{found:?}"
    );

    // Without the configuration: the configured types are unknown, nothing is excluded.
    let (_tmp, dir) = scratch("config_ws");
    for manifest in ["Cargo.toml", "app/Cargo.toml"] {
        let text = std::fs::read_to_string(dir.join(manifest)).unwrap();
        let cut = text
            .find("[workspace.metadata")
            .or_else(|| text.find("[package.metadata"))
            .unwrap();
        std::fs::write(dir.join(manifest), &text[..cut]).unwrap();
    }
    let run = run_in(&dir, &["--workspace", "--message-format", "short"]);
    assert_eq!(
        findings(&run),
        BTreeSet::from([
            f("app/src/generated/mod.rs", 12, "error[map_lock_reentry]"),
            f("app/src/legacy_cache.rs", 12, "error[map_lock_reentry]"),
            f("app/src/lib.rs", 37, "warning[map_duplicate_fill]"),
            f("tools/src/lib.rs", 12, "error[map_lock_reentry]"),
        ]),
        "{}",
        run.stderr
    );
}

#[test]
fn maplint_toml_and_path_mode() {
    let (_tmp, dir) = scratch("config_ws");
    let text = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    let cut = text.find("[workspace.metadata").unwrap();
    std::fs::write(dir.join("Cargo.toml"), &text[..cut]).unwrap();
    std::fs::write(
        dir.join("maplint.toml"),
        "exclude = [\"app/src/generated\"]\nmap-types = [\"fastmap::FastMap\"]\nlock-types = [{ path = \"spin_lock::SpinLock\", kind = \"mutex\" }]\n\n[rules]\n\"maplint::map_lock_reentry\" = \"allow\"\n",
    )
    .unwrap();
    // Path mode finds the workspace root (and its maplint.toml) above the package.
    for args in [
        &["--workspace", "--message-format", "short"][..],
        &["app", "tools", "--message-format", "short"][..],
    ] {
        let run = run_in(&dir, args);
        let found = findings(&run);
        assert!(
            found.contains(&f("app/src/lib.rs", 14, "error[unsynchronized_map_write]")),
            "{args:?} {found:?}"
        );
        // allowed by maplint.toml, and the package's deny wins for app
        assert!(
            !found
                .iter()
                .any(|(file, _, h)| file.starts_with("tools") && h.contains("reentry"))
        );
        assert!(
            found.contains(&f("app/src/lib.rs", 30, "error[map_lock_reentry]")),
            "{found:?}"
        );
        assert!(!found.iter().any(|(file, ..)| file.contains("generated")));
    }
    // Both maplint.toml and [workspace.metadata.maplint]: an error.
    std::fs::write(
        dir.join("Cargo.toml"),
        format!("{}\n[workspace.metadata.maplint]\nspawners = []\n", &text[..cut]),
    )
    .unwrap();
    let run = run_in(&dir, &["--workspace"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("keep one"), "{}", run.stderr);
}

#[test]
fn bad_configuration_names_file_line_and_column() {
    let cases: [(&str, &str, &str, &str); 5] = [
        (
            "Cargo.toml",
            "[workspace.metadata.maplint]\nmap-typez = [\"a::B\"]\n",
            "Cargo.toml:",
            "unknown field `map-typez`",
        ),
        (
            "Cargo.toml",
            "[workspace.metadata.maplint.rules]\nmap_lock_reentri = \"warn\"\n",
            "Cargo.toml:",
            "unknown rule `map_lock_reentri`",
        ),
        (
            "Cargo.toml",
            "[workspace.metadata.maplint]\nspawners = \"my_runtime::spawn\"\n",
            "Cargo.toml:",
            "invalid type: string",
        ),
        (
            "Cargo.toml",
            "[workspace.metadata.maplint]\nlock-types = [{ path = \"a::L\", kind = \"semaphore\" }]\n",
            "Cargo.toml:",
            "unknown variant `semaphore`",
        ),
        (
            "app/Cargo.toml",
            "[package.metadata.maplint.rules]\nmap_lock_reentry = \"error\"\n",
            "app/Cargo.toml:",
            r#"invalid value: string "error", expected a level ("allow", "warn", "deny" or "forbid")"#,
        ),
    ];
    for (file, appended, place, message) in cases {
        let (_tmp, dir) = scratch("config_ws");
        let path = dir.join(file);
        let mut text = std::fs::read_to_string(&path).unwrap();
        if let Some(cut) = text
            .find("[workspace.metadata")
            .or_else(|| text.find("[package.metadata"))
        {
            text.truncate(cut);
        }
        let first_line = text.lines().count() + 2;
        text.push_str(appended);
        std::fs::write(&path, text).unwrap();
        let run = run_in(&dir, &["--workspace"]);
        assert_eq!(run.code, 2, "{file}: {}", run.stderr);
        let expected = format!("{place}{first_line}:");
        assert!(
            run.stderr.starts_with("error: ") && run.stderr.contains(&expected) && run.stderr.contains(message),
            "expected `{expected}` and `{message}`:\n{}",
            run.stderr
        );
        // The offending line is quoted with a caret.
        assert!(run.stderr.contains(" | ") && run.stderr.contains('^'), "{}", run.stderr);
    }
}

// ---------------------------------------------------------------------------------------------
// Suppressions

#[test]
fn suppressions_end_to_end() {
    let run = run_in(&project("suppressed"), &["--message-format", "short"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        findings(&run),
        BTreeSet::from([
            f("src/lib.rs", 27, "error[map_lock_reentry]"),
            f("src/lib.rs", 31, "warning[unused_suppression]"),
            f("src/lib.rs", 34, "warning[invalid_suppression]"),
        ]),
        "{}",
        run.stderr
    );
    // The tool diagnostics have levels like rules.
    let run = run_in(
        &project("suppressed"),
        &[
            "--message-format",
            "short",
            "-A",
            "unused_suppression",
            "-D",
            "invalid_suppression",
        ],
    );
    assert_eq!(
        findings(&run),
        BTreeSet::from([
            f("src/lib.rs", 27, "error[map_lock_reentry]"),
            f("src/lib.rs", 34, "error[invalid_suppression]"),
        ])
    );
}

// ---------------------------------------------------------------------------------------------
// Fixes

const REMEMBER_FIXED: &str = "        self.by_url.lock().unwrap().entry(url).or_insert(page);\n";
const NAME_FIXED: &str = "        self.by_id.lock().unwrap().entry(id).or_insert_with(|| format!(\"user{id}\"));\n";
const ALIAS_FIXED: &str = "        self.by_id.lock().unwrap().entry(id).or_insert(alias);\n";

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap()
}

#[test]
fn fix_applies_safe_fixes_and_is_idempotent() {
    let (_tmp, dir) = scratch_repo("fixable");
    let run = run_in(&dir, &["--fix", "--message-format", "short"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("maplint: fixed 2 findings in 2 files"),
        "{}",
        run.stderr
    );
    // The maybe-incorrect one remains, reported as usual, after the line saying what was fixed
    // and which fixes need `--unsafe-fixes`.
    assert_eq!(
        findings(&run),
        BTreeSet::from([f("src/names.rs", 11, "warning[map_duplicate_fill]")])
    );
    let fixed_at = run.stderr.find("maplint: fixed").unwrap();
    let hint_at = run
        .stderr
        .find("maplint: 1 finding has a fix that may change behaviour; review it and apply it with `--fix --unsafe-fixes`")
        .unwrap_or_else(|| panic!("{}", run.stderr));
    let finding_at = run.stderr.find("src/names.rs:11").unwrap();
    assert!(fixed_at < hint_at && hint_at < finding_at, "{}", run.stderr);
    assert!(read(&dir, "src/lib.rs").contains(REMEMBER_FIXED));
    let names = read(&dir, "src/names.rs");
    assert!(names.contains(ALIAS_FIXED) && !names.contains(NAME_FIXED), "{names}");
    assert!(lint_core::fix::parses(&names));
    // The tree is dirty now: refused, and nothing changes.
    let run = run_in(&dir, &["--fix", "--unsafe-fixes"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("uncommitted changes") && run.stderr.contains("src/names.rs (dirty)"),
        "{}",
        run.stderr
    );
    assert_eq!(read(&dir, "src/names.rs"), names);
    // Staged changes: --allow-staged is enough.
    git(&dir, &["add", "."]);
    let run = run_in(&dir, &["--fix"]);
    assert!(run.stderr.contains("src/names.rs (staged)"), "{}", run.stderr);
    let run = run_in(&dir, &["--fix", "--allow-staged"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Nothing fixable without `--unsafe-fixes`: no "fixed 0" line, only the hint.
    assert!(!run.stderr.contains("maplint: fixed"), "{}", run.stderr);
    assert!(run.stderr.contains("maplint: 1 finding has a fix"), "{}", run.stderr);
    // --unsafe-fixes takes the maybe-incorrect one too; a second run changes nothing.
    let run = run_in(&dir, &["--fix", "--unsafe-fixes", "--allow-dirty"]);
    assert!(run.stderr.contains("fixed 1 finding in 1 file"), "{}", run.stderr);
    assert!(run.stderr.contains("no problems found"), "{}", run.stderr);
    let fixed = read(&dir, "src/names.rs");
    assert!(fixed.contains(NAME_FIXED), "{fixed}");
    let run = run_in(&dir, &["--fix", "--unsafe-fixes", "--allow-dirty"]);
    assert!(!run.stderr.contains("maplint: fixed"), "{}", run.stderr);
    assert_eq!(read(&dir, "src/names.rs"), fixed);
    // An untracked directory is listed once, as `cargo fix` does.
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "-q", "-m", "fixed"]);
    std::fs::create_dir_all(dir.join("scratch/deep")).unwrap();
    std::fs::write(dir.join("scratch/a.rs"), "").unwrap();
    std::fs::write(dir.join("scratch/deep/b.rs"), "").unwrap();
    let run = run_in(&dir, &["--fix"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("  * scratch/ (dirty)\n"), "{}", run.stderr);
    assert!(!run.stderr.contains("scratch/a.rs"), "{}", run.stderr);
    // No temporary files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.join("src"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.starts_with(".maplint"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn fix_outside_git_needs_allow_no_vcs() {
    let (_tmp, dir) = scratch("fixable");
    let run = run_in(&dir, &["--fix"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("no VCS found") && run.stderr.contains("--allow-no-vcs"),
        "{}",
        run.stderr
    );
    let run = run_in(&dir, &["--fix", "--allow-no-vcs"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(read(&dir, "src/lib.rs").contains(REMEMBER_FIXED));
    let run = run_in(&dir, &["--unsafe-fixes"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("`--unsafe-fixes` needs `--fix` or `--diff`"));
}

#[test]
fn diff_shows_changes_without_writing() {
    let (_tmp, dir) = scratch("fixable");
    let before = read(&dir, "src/names.rs");
    let run = run_in(&dir, &["--diff"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -10,8 +10,6 @@\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(&format!("+{REMEMBER_FIXED}")), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("-        if !self.by_url.lock().unwrap().contains_key(&url) {\n")
    );
    assert!(!run.stdout.contains("or_insert_with"));
    assert!(run.stderr.contains("would fix 2 findings in 2 files"), "{}", run.stderr);
    let run = run_in(&dir, &["--diff", "--unsafe-fixes"]);
    assert!(run.stdout.contains(&format!("+{NAME_FIXED}")), "{}", run.stdout);
    assert_eq!(read(&dir, "src/names.rs"), before);
    // Nothing to change: exit status 0.
    let run = run_in(&project("config_ws/tools"), &["--diff"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
}

#[test]
fn fix_keeps_line_endings_and_permissions() {
    let (_tmp, dir) = scratch("fixable");
    let crlf = read(&dir, "src/lib.rs").replace('\n', "\r\n");
    std::fs::write(dir.join("src/lib.rs"), &crlf).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir.join("src/lib.rs"), std::fs::Permissions::from_mode(0o640)).unwrap();
    }
    let run = run_in(&dir, &["--fix", "--allow-no-vcs"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let fixed = read(&dir, "src/lib.rs");
    assert!(fixed.contains(&REMEMBER_FIXED.replace('\n', "\r\n")), "{fixed:?}");
    assert_eq!(fixed.matches('\n').count(), fixed.matches("\r\n").count(), "{fixed:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.join("src/lib.rs")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
    }
}

// ---------------------------------------------------------------------------------------------
// Baseline

#[test]
fn baseline_hides_known_findings_and_survives_line_shifts() {
    let (_tmp, dir) = scratch("demo");
    let all = run_in(&dir, &["--message-format", "short"]);
    assert_eq!(all.code, 1);
    let total = findings(&all).len();
    let run = run_in(&dir, &["--write-baseline", "maplint-baseline.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("wrote {total} findings")),
        "{}",
        run.stderr
    );
    let base: Value = serde_json::from_str(&read(&dir, "maplint-baseline.json")).unwrap();
    assert_eq!(base["version"], 1);
    let entries = base["entries"].as_array().unwrap();
    assert_eq!(entries.len(), total);
    for e in entries {
        let file = e["file"].as_str().unwrap();
        assert!(file.starts_with("src/") || file.starts_with("rejected/"), "{e}");
        assert_eq!(e["fingerprint"].as_str().unwrap().len(), 16);
        assert!(e["rule"].is_string() && e["line"].as_u64().unwrap() > 0 && e["message"].is_string());
        assert!(e["occurrence"].is_u64());
    }
    let run = run_in(&dir, &["--baseline", "maplint-baseline.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("no problems found"), "{}", run.stderr);
    assert!(run.stderr.contains(&format!("{total} findings matched the baseline")));

    // Lines inserted above every finding of a file, and an unrelated edit: still baselined.
    let cache = read(&dir, "src/cache.rs");
    std::fs::write(
        dir.join("src/cache.rs"),
        format!(
            "// a new header
// over two lines

{cache}
pub fn unrelated() -> u32 {{ 7 }}
"
        ),
    )
    .unwrap();
    let run = run_in(
        &dir,
        &["--baseline", "maplint-baseline.json", "--message-format", "short"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(findings(&run).is_empty(), "{}", run.stderr);

    // A new finding is reported; a fixed one leaves a stale entry.
    let first = &entries[0];
    let file = first["file"].as_str().unwrap().to_owned();
    let line = first["line"].as_u64().unwrap() as usize + if file == "src/cache.rs" { 3 } else { 0 };
    let text = read(&dir, &file);
    let mut lines: Vec<&str> = text.lines().collect();
    let changed = format!("{} // changed", lines[line - 1]);
    lines[line - 1] = &changed;
    std::fs::write(dir.join(&file), lines.join("\n") + "\n").unwrap();
    let run = run_in(
        &dir,
        &["--baseline", "maplint-baseline.json", "--message-format", "short"],
    );
    let found = findings(&run);
    assert_eq!(found.len(), 1, "{}", run.stderr);
    assert!(found.iter().all(|(f, l, _)| *f == file && *l == line), "{found:?}");
    assert!(
        run.stderr
            .contains("warning: 1 baseline entry no longer matches; rewrite with --write-baseline"),
        "{}",
        run.stderr
    );
}

#[test]
fn baseline_counts_identical_findings() {
    // Two identical findings in one file get occurrences 0 and 1: removing one leaves one stale
    // entry, and adding a third is reported.
    let (_tmp, dir) = scratch("config_ws");
    let tools = dir.join("tools/src/lib.rs");
    let body = "\n    pub fn again(&self) {\n        let g = self.m.lock().unwrap();\n        self.m.lock().unwrap().insert(1, 1);\n        drop(g);\n    }\n";
    let text = read(&dir, "tools/src/lib.rs");
    let twice = text.replacen(body, &format!("{body}{}", body.replace("again", "again2")), 1);
    assert_ne!(twice, text);
    std::fs::write(&tools, &twice).unwrap();
    let run = run_in(&dir, &["--workspace", "--write-baseline", "b.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let base: Value = serde_json::from_str(&read(&dir, "b.json")).unwrap();
    let occurrences: Vec<u64> = base["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["file"] == "tools/src/lib.rs")
        .map(|e| e["occurrence"].as_u64().unwrap())
        .collect();
    assert_eq!(occurrences, [0, 1]);
    let thrice = twice.replacen(body, &format!("{body}{}", body.replace("again", "again3")), 1);
    std::fs::write(&tools, &thrice).unwrap();
    let run = run_in(
        &dir,
        &["-p", "tools", "--baseline", "b.json", "--message-format", "short"],
    );
    assert_eq!(findings(&run).len(), 1, "{}", run.stderr);
    std::fs::write(&tools, &text).unwrap();
    let run = run_in(&dir, &["-p", "tools", "--baseline", "b.json"]);
    assert!(
        run.stderr.contains("1 baseline entry no longer matches"),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// SARIF

/// A JSON Schema (draft-07) validator for the keywords the SARIF schema uses. It refuses
/// what it cannot check (`pattern` on a value present in the document), so passing means valid.
struct Schema<'a> {
    root: &'a Value,
}

impl Schema<'_> {
    fn resolve<'s>(&'s self, s: &'s Value) -> &'s Value {
        match s.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r
                    .strip_prefix("#/definitions/")
                    .unwrap_or_else(|| panic!("unsupported $ref {r}"));
                self.resolve(&self.root["definitions"][name])
            }
            None => s,
        }
    }

    fn type_ok(t: &str, v: &Value) -> bool {
        match t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            "number" => v.is_number(),
            "integer" => v.is_i64() || v.is_u64(),
            other => panic!("unsupported type {other}"),
        }
    }

    fn validate(&self, schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
        let s = self.resolve(schema);
        let Some(obj) = s.as_object() else { return };
        for (k, kw) in obj {
            match k.as_str() {
                "$schema" | "$id" | "title" | "description" | "default" | "definitions" | "format" => {}
                "type" => {
                    let ok = match kw {
                        Value::String(t) => Self::type_ok(t, v),
                        Value::Array(ts) => ts.iter().any(|t| Self::type_ok(t.as_str().unwrap(), v)),
                        _ => panic!("bad type keyword"),
                    };
                    if !ok {
                        errors.push(format!("{at}: expected type {kw}, got {v}"));
                    }
                }
                "properties" => {
                    if let Some(o) = v.as_object() {
                        for (name, sub) in kw.as_object().unwrap() {
                            if let Some(x) = o.get(name) {
                                self.validate(sub, x, &format!("{at}/{name}"), errors);
                            }
                        }
                    }
                }
                "additionalProperties" => {
                    if let Some(o) = v.as_object() {
                        let known = obj.get("properties").and_then(Value::as_object);
                        for (name, x) in o {
                            if known.is_some_and(|p| p.contains_key(name)) {
                                continue;
                            }
                            match kw {
                                Value::Bool(false) => errors.push(format!("{at}: property `{name}` is not allowed")),
                                Value::Bool(true) => {}
                                sub => self.validate(sub, x, &format!("{at}/{name}"), errors),
                            }
                        }
                    }
                }
                "required" => {
                    if let Some(o) = v.as_object() {
                        for name in kw.as_array().unwrap() {
                            if !o.contains_key(name.as_str().unwrap()) {
                                errors.push(format!("{at}: missing required `{name}`"));
                            }
                        }
                    }
                }
                "enum" => {
                    if !kw.as_array().unwrap().contains(v) {
                        errors.push(format!("{at}: {v} is not one of {kw}"));
                    }
                }
                "items" => {
                    if let Some(a) = v.as_array() {
                        for (i, x) in a.iter().enumerate() {
                            self.validate(kw, x, &format!("{at}/{i}"), errors);
                        }
                    }
                }
                "minItems" => {
                    if v.as_array().is_some_and(|a| (a.len() as u64) < kw.as_u64().unwrap()) {
                        errors.push(format!("{at}: fewer than {kw} items"));
                    }
                }
                "uniqueItems" => {
                    if kw == true
                        && let Some(a) = v.as_array()
                    {
                        for (i, x) in a.iter().enumerate() {
                            if a[..i].contains(x) {
                                errors.push(format!("{at}: duplicate item {x}"));
                            }
                        }
                    }
                }
                "minimum" => {
                    if v.as_f64().is_some_and(|n| n < kw.as_f64().unwrap()) {
                        errors.push(format!("{at}: {v} < {kw}"));
                    }
                }
                "maximum" => {
                    if v.as_f64().is_some_and(|n| n > kw.as_f64().unwrap()) {
                        errors.push(format!("{at}: {v} > {kw}"));
                    }
                }
                "pattern" => {
                    assert!(!v.is_string(), "{at}: this validator cannot check pattern {kw} on {v}");
                }
                "oneOf" | "anyOf" => {
                    let passing = kw
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|sub| {
                            let mut e = Vec::new();
                            self.validate(sub, v, at, &mut e);
                            e.is_empty()
                        })
                        .count();
                    if (k == "oneOf" && passing != 1) || passing == 0 {
                        errors.push(format!("{at}: {passing} alternatives of {k} match"));
                    }
                }
                other => panic!("unsupported schema keyword {other}"),
            }
        }
    }
}

fn validate_sarif(doc: &Value) {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(repo_root().join("tests/data/sarif-schema-2.1.0.json")).unwrap())
            .unwrap();
    let v = Schema { root: &schema };
    let mut errors = Vec::new();
    v.validate(&schema, doc, "", &mut errors);
    assert!(errors.is_empty(), "SARIF schema violations:\n{}", errors.join("\n"));
    // The validator catches violations.
    let mut bad = doc.clone();
    bad["runs"][0]["results"][0]["level"] = "fatal".into();
    bad["runs"][0]["tool"]["driver"]["rules"][0]["extra"] = 1.into();
    let mut errors = Vec::new();
    v.validate(&schema, &bad, "", &mut errors);
    assert!(errors.len() >= 2, "{errors:?}");
}

#[test]
fn sarif_of_the_demo_validates_against_the_schema() {
    let run = run_in(&project("demo"), &["--message-format", "sarif"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        !run.stderr.contains("maplint:"),
        "only the document is printed: {}",
        run.stderr
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    validate_sarif(&doc);
    assert_eq!(doc["version"], "2.1.0");
    let sarif_run = &doc["runs"][0];
    assert_eq!(sarif_run["columnKind"], "unicodeCodePoints");
    let rules = sarif_run["tool"]["driver"]["rules"].as_array().unwrap();
    let metas: Vec<_> = lint_core::rules::RULES.iter().map(|r| r.meta()).collect();
    for (i, m) in metas.iter().enumerate() {
        let r = &rules[i];
        assert_eq!(r["id"], format!("maplint::{}", m.name));
        assert_eq!(r["shortDescription"]["text"], m.summary);
        assert!(r["fullDescription"]["text"].as_str().unwrap().len() <= 1024);
        assert_eq!(r["help"]["markdown"], m.docs_page());
        assert_eq!(r["helpUri"], lint_core::rules::docs_url(m.name));
    }
    // The repository root is %SRCROOT% (this is a git checkout): URIs start at it.
    let root = sarif_run["originalUriBaseIds"]["%SRCROOT%"]["uri"].as_str().unwrap();
    assert!(root.starts_with("file:///") && root.ends_with('/'), "{root}");
    let results = sarif_run["results"].as_array().unwrap();
    let seen: BTreeSet<&str> = results.iter().map(|r| r["ruleId"].as_str().unwrap()).collect();
    assert_eq!(
        seen.len(),
        metas.len(),
        "the demo has a finding of every rule: {seen:?}"
    );
    for r in results {
        let rule_index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[rule_index]["id"], r["ruleId"]);
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(
            uri.starts_with("fixtures/projects/demo/src/") || uri.starts_with("fixtures/projects/demo/rejected/"),
            "{uri}"
        );
        let region = &loc["region"];
        for k in ["startLine", "startColumn", "endLine", "endColumn"] {
            assert!(region[k].as_u64().unwrap() >= 1, "{region}");
        }
        assert!(r["partialFingerprints"]["maplint/v1"].as_str().unwrap().contains(':'));
        if let Some(related) = r["relatedLocations"].as_array() {
            assert!(related.iter().all(|l| l["message"]["text"].is_string()));
        }
    }
    assert!(results.iter().any(|r| r["relatedLocations"].is_array()));
}

#[test]
fn sarif_fixes_and_positions() {
    let (_tmp, dir) = scratch("fixable");
    let run = run_in(&dir, &["--message-format", "sarif"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    validate_sarif(&doc);
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let remember = results
        .iter()
        .find(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/lib.rs")
        .unwrap();
    // Not in git: %SRCROOT% is the workspace root itself.
    assert_eq!(
        remember["locations"][0]["physicalLocation"]["region"],
        serde_json::json!({"startLine": 14, "startColumn": 13, "endLine": 14, "endColumn": 58})
    );
    let change = &remember["fixes"][0]["artifactChanges"][0];
    assert_eq!(change["artifactLocation"]["uri"], "src/lib.rs");
    let replacement = &change["replacements"][0];
    assert_eq!(replacement["insertedContent"]["text"], REMEMBER_FIXED.trim());
    assert_eq!(replacement["deletedRegion"]["startLine"], 13);
    assert_eq!(replacement["deletedRegion"]["endLine"], 15);
}

// ---------------------------------------------------------------------------------------------
// Editors: --also-run

#[test]
fn also_run_merges_cargo_check_into_the_stream() {
    let (tmp, dir) = scratch("fixable");
    std::fs::write(
        dir.join("src/extra.rs"),
        "pub fn unused_variable() {\n    let x = 1;\n}\n",
    )
    .unwrap();
    let lib = read(&dir, "src/lib.rs").replace("mod names;", "mod names;\npub mod extra;");
    std::fs::write(dir.join("src/lib.rs"), lib).unwrap();
    let target = tmp.path().join("target");
    let run = run_env(
        &dir,
        &[
            "maplint",
            "--also-run",
            "check",
            "--message-format=json",
            "--all-targets",
            "--offline",
        ],
        &[("CARGO_TARGET_DIR", target.to_str().unwrap())],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<Value> = run.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let finished: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l["reason"] == "build-finished")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(finished, [lines.len() - 1], "one build-finished, at the end");
    assert_eq!(lines.last().unwrap()["success"], true);
    let codes: Vec<&str> = lines
        .iter()
        .filter(|l| l["reason"] == "compiler-message")
        .filter_map(|l| l["message"]["code"]["code"].as_str())
        .collect();
    assert!(
        codes.contains(&"unused_variables"),
        "rustc's diagnostics are kept: {codes:?}"
    );
    assert!(codes.contains(&"maplint::map_duplicate_fill"), "{codes:?}");
    // rustc's come first, then maplint's.
    let first_maplint = codes.iter().position(|c| c.starts_with("maplint::")).unwrap();
    assert!(codes[..first_maplint].contains(&"unused_variables"));
    assert!(lines.iter().any(|l| l["reason"] == "compiler-artifact"));
    // A failing compile makes the final build-finished fail.
    std::fs::write(dir.join("src/extra.rs"), "pub fn broken() -> u32 { \"no\" }\n").unwrap();
    let run = run_env(
        &dir,
        &["--also-run", "check", "--message-format", "json"],
        &[("CARGO_TARGET_DIR", target.to_str().unwrap())],
    );
    assert_eq!(run.code, 1);
    let last: Value = serde_json::from_str(run.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(last["success"], false);
    let run = run_in(&dir, &["--also-run", "check"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("`--also-run` needs `--message-format json`"));
}

#[test]
fn also_run_clippy_folds_the_same_finding_into_maplints() {
    let (tmp, dir) = scratch("fixable");
    let target = tmp.path().join("target");
    let run = run_env(
        &dir,
        &["maplint", "--also-run", "clippy", "--message-format=json", "--offline"],
        &[("CARGO_TARGET_DIR", target.to_str().unwrap())],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let messages: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l["reason"] == "compiler-message")
        .map(|l| l["message"].clone())
        .collect();
    let code = |m: &Value| m["code"]["code"].as_str().unwrap_or("").to_owned();
    // clippy's `map_entry` on the same `if` is not repeated: maplint's finding says so.
    assert!(
        !messages.iter().any(|m| code(m) == "clippy::map_entry"),
        "{}",
        run.stdout
    );
    let fills: Vec<&Value> = messages
        .iter()
        .filter(|m| code(m) == "maplint::map_duplicate_fill")
        .collect();
    assert_eq!(fills.len(), 3, "{}", run.stdout);
    for m in fills {
        assert!(
            m["children"].as_array().unwrap().iter().any(|c| c["message"]
                .as_str()
                .unwrap()
                .starts_with("`clippy::map_entry` reports the same code")),
            "{m}"
        );
    }
    // Without maplint's finding there, clippy's stays (it is only folded, never dropped).
    let run = run_env(
        &dir,
        &[
            "maplint",
            "--also-run",
            "clippy",
            "--message-format=json",
            "--offline",
            "-A",
            "map_duplicate_fill",
        ],
        &[("CARGO_TARGET_DIR", target.to_str().unwrap())],
    );
    assert!(run.stdout.contains("\"clippy::map_entry\""), "{}", run.stdout);
}

// ---------------------------------------------------------------------------------------------
// pre-commit: file names stand for their packages

#[test]
fn whole_package_lints_the_packages_of_the_files() {
    let dir = project("config_ws");
    // Alone, tools/src/lib.rs is a loose file without configuration: map_lock_reentry at deny.
    let run = run_in(&dir, &["tools/src/lib.rs", "--message-format", "short"]);
    assert_eq!(
        findings(&run),
        BTreeSet::from([f("tools/src/lib.rs", 12, "error[map_lock_reentry]")])
    );
    // With --whole-package: the whole package, with its workspace's configuration.
    let run = run_in(
        &dir,
        &[
            "--whole-package",
            "tools/src/lib.rs",
            "app/src/lib.rs",
            "app/Cargo.toml",
            "--message-format",
            "short",
        ],
    );
    let found = findings(&run);
    assert!(
        found.contains(&f("tools/src/lib.rs", 12, "warning[map_lock_reentry]")),
        "{found:?}"
    );
    assert!(
        found.contains(&f("app/src/lib.rs", 14, "error[unsynchronized_map_write]")),
        "{found:?}"
    );
    assert!(
        run.stderr.contains("(2 files checked)"),
        "one unit per package: {}",
        run.stderr
    );
    let run = run_in(&dir, &["--whole-package"]);
    assert_eq!(run.code, 2);
}
