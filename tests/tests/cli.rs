//! End-to-end tests of the `cargo-maplint` binary against fixtures/projects/.
//!
//! The binary belongs to another package, so `CARGO_BIN_EXE_*` is not available here: the
//! first test to need it (see `maplint_tests::bin`) runs `cargo build -p cargo-maplint` into this test's own target
//! directory (a no-op when it is fresh). Set `MAPLINT_BIN` to use a prebuilt binary instead.

use std::collections::BTreeMap;
use std::path::PathBuf;

use maplint_tests::{Run, repo_root, run_in};

fn project(name: &str) -> PathBuf {
    repo_root().join("fixtures/projects").join(name)
}

use cargo_metadata::Message;
use cargo_metadata::diagnostic::DiagnosticLevel;

/// Parses a JSON stream with `cargo_metadata` as rust-analyzer does: every line must be a
/// message, the last one `build-finished`.
fn messages(run: &Run) -> (Vec<cargo_metadata::CompilerMessage>, bool) {
    let mut found = Vec::new();
    let mut finished = None;
    for line in run.stdout.lines() {
        assert!(finished.is_none(), "output after build-finished: {line}");
        let msg: Message = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        match msg {
            Message::CompilerMessage(m) => found.push(m),
            Message::BuildFinished(f) => finished = Some(f.success),
            other => panic!("unexpected message {other:?}"),
        }
    }
    (found, finished.expect("build-finished is the last line"))
}

fn edition(e: cargo_metadata::Edition) -> String {
    serde_json::to_value(e).unwrap().as_str().unwrap().to_owned()
}

/// (target name, target edition, primary file) of each message.
fn summary(found: &[cargo_metadata::CompilerMessage]) -> Vec<(String, String, String)> {
    found
        .iter()
        .map(|m| {
            let name = m.target.name.clone();
            let file = m
                .message
                .spans
                .iter()
                .find(|s| s.is_primary)
                .map(|s| s.file_name.clone())
                .unwrap_or_default();
            (name, edition(m.target.edition), file)
        })
        .collect()
}

fn short_files(run: &Run) -> Vec<&str> {
    run.stderr
        .lines()
        .filter(|l| l.contains("[maplint::"))
        .map(|l| l.split(':').next().unwrap())
        .collect()
}

/// A temporary copy of `bad_input` plus generated files: one that is not UTF-8, and one with
/// a deeply nested expression (not committed: it is large).
fn bad_input() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let src = project("bad_input");
    for rel in ["Cargo.toml", "src/lib.rs", "src/broken.rs"] {
        let to = tmp.path().join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(src.join(rel), to).unwrap();
    }
    std::fs::write(tmp.path().join("src/latin1.rs"), b"// caf\xe9\nfn f() {}\n").unwrap();
    let depth = 3000;
    let deep = format!(
        "pub fn deep() -> u32 {{ {}1{} }}\n",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    std::fs::write(tmp.path().join("src/deep.rs"), deep).unwrap();
    tmp
}

#[test]
fn json_stream_parses_as_cargo_messages() {
    let ws = project("ws_editions");
    let run = run_in(&ws, &["maplint", "--message-format=json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (found, success) = messages(&run);
    assert!(success);
    assert_eq!(
        summary(&found),
        [
            ("inherits".into(), "2021".into(), "inherits/src/unparsable.rs".into()),
            ("new".into(), "2024".into(), "new/src/unparsable.rs".into()),
            ("old".into(), "2018".into(), "old/src/unparsable.rs".into()),
        ]
    );
    for m in &found {
        let d = &m.message;
        assert_eq!(d.code.as_ref().unwrap().code, "maplint::parse_error");
        assert_eq!(d.level, DiagnosticLevel::Warning);
        let span = &d.spans[0];
        assert!(span.is_primary);
        assert_eq!((span.line_start, span.column_start), (3, 16));
        assert_eq!(span.text[0].text, "pub fn broken( {");
        assert!(
            d.rendered
                .as_deref()
                .unwrap()
                .starts_with("warning[maplint::parse_error]: ")
        );
        assert!(!d.rendered.as_deref().unwrap().contains('\x1b'));
        assert!(
            d.children
                .iter()
                .any(|c| c.message.contains("for further information visit"))
        );
        // cargo's own package ID (short form: each directory is named like its package).
        let version = if m.target.name == "new" { "0.2.0" } else { "0.1.0" };
        let dir = ws.join(&m.target.name);
        assert_eq!(m.package_id.repr, format!("path+file://{}#{version}", dir.display()));
    }
    // The exact key order cargo and rustc use.
    let first = run.stdout.lines().next().unwrap();
    assert!(
        first.starts_with(r#"{"reason":"compiler-message","package_id":"#),
        "{first}"
    );
    assert!(
        first.contains(r#""message":{"$message_type":"diagnostic","message":"#),
        "{first}"
    );
}

#[test]
fn rust_analyzer_invocation() {
    let ws = project("ws_editions");
    let manifest = ws.join("Cargo.toml");
    for spec in [
        format!("path+file://{}#new@0.2.0", ws.join("new").display()),
        format!("path+file://{}#0.2.0", ws.join("new").display()),
    ] {
        let run = run_in(
            &ws,
            &[
                "maplint",
                "-p",
                &spec,
                "--message-format=json-diagnostic-rendered-ansi",
                "--manifest-path",
                manifest.to_str().unwrap(),
                "--keep-going",
                "--target",
                "x86_64-unknown-linux-gnu",
                "--all-targets",
                "--no-default-features",
                "--features",
                "a b",
                "--config",
                "build.jobs=1",
                "--target-dir",
                "/nonexistent",
                "-Zscript",
                "--locked",
            ],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        let (found, _) = messages(&run);
        assert_eq!(
            summary(&found),
            [("new".into(), "2024".into(), "new/src/unparsable.rs".into())]
        );
        assert!(found[0].message.rendered.as_deref().unwrap().contains("\x1b["));
        assert_eq!(found[0].target.name, "new");
    }
}

#[test]
fn package_selection() {
    let ws = project("ws_editions");
    let short = ["--message-format", "short"];
    let run = run_in(&ws, &[&["-p", "old"], &short[..]].concat());
    assert_eq!(short_files(&run), ["old/src/unparsable.rs"]);
    let run = run_in(&ws, &[&["-p", "old@0.1", "-p", "inherits"], &short[..]].concat());
    assert_eq!(
        short_files(&run),
        ["inherits/src/unparsable.rs", "old/src/unparsable.rs"]
    );
    let run = run_in(&ws, &[&["--workspace", "--exclude", "old"], &short[..]].concat());
    assert_eq!(
        short_files(&run),
        ["inherits/src/unparsable.rs", "new/src/unparsable.rs"]
    );
    let run = run_in(&ws, &[&["--all", "--exclude", "n*"], &short[..]].concat());
    assert_eq!(
        short_files(&run),
        ["inherits/src/unparsable.rs", "old/src/unparsable.rs"]
    );
    // Inside a member, the default is that member (paths stay relative to the workspace root).
    let run = run_in(&ws.join("new/src"), &short);
    assert_eq!(short_files(&run), ["new/src/unparsable.rs"]);
    let run = run_in(&ws, &["-p", "missing"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("`missing` did not match any packages"),
        "{}",
        run.stderr
    );
}

#[test]
fn manifest_path_from_elsewhere() {
    let manifest = project("ws_editions").join("old/Cargo.toml");
    let tmp = tempfile::tempdir().unwrap();
    let run = run_in(
        tmp.path(),
        &["--manifest-path", manifest.to_str().unwrap(), "--message-format=short"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(short_files(&run), ["old/src/unparsable.rs"]);
    let run = run_in(tmp.path(), &["--manifest-path", "/nonexistent/Cargo.toml"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with("error: `cargo metadata` failed"),
        "{}",
        run.stderr
    );
}

#[test]
fn human_and_short_formats() {
    let ws = project("ws_editions");
    let run = run_in(&ws, &["-p", "old", "--color", "never"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.is_empty());
    let expected = "\
warning[maplint::parse_error]: cannot parse this file: ";
    assert!(run.stderr.starts_with(expected), "{}", run.stderr);
    for part in [
        "  --> old/src/unparsable.rs:3:16\n",
        "3 | pub fn broken( {\n",
        "  |                ^ unclosed delimiter\n",
        "  = note: nothing in this file was analyzed\n",
        "  = note: for further information visit https://",
        "maplint: 0 errors, 1 warning in 1 file (2 files checked)\n",
    ] {
        assert!(run.stderr.contains(part), "missing {part:?} in\n{}", run.stderr);
    }
    let run = run_in(&ws, &["-p", "old", "--message-format", "short"]);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", run.stderr);
    assert!(lines[0].starts_with("old/src/unparsable.rs:3:16: warning[maplint::parse_error]: cannot parse"));
    let run = run_in(&ws, &["-p", "old", "--color", "always"]);
    assert!(run.stderr.contains("\x1b["));
    let run = run_in(&ws, &["-p", "old", "-q"]);
    assert!(!run.stderr.contains("maplint: "));
    // cargo's json-render-diagnostics: rendered findings on stderr, only build-finished on stdout.
    let run = run_in(&ws, &["-p", "old", "--message-format=json-render-diagnostics"]);
    // (With maplint's summary: what was analyzed, and the file it could not parse.)
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    let finished: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(finished["reason"], "build-finished");
    assert_eq!(finished["success"], true);
    assert_eq!(finished["maplint"]["not_analyzed"]["syntax_error"], 1, "{finished}");
    assert_eq!(finished["maplint"]["files_only_lexed"], 1, "{finished}");
    assert!(run.stderr.contains("--> old/src/unparsable.rs:3:16"));
}

#[test]
fn exit_status_and_levels() {
    let ws = project("ws_editions");
    let run = run_in(&ws, &["-p", "old", "-D", "parse_error"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.starts_with("error[maplint::parse_error]"), "{}", run.stderr);
    let run = run_in(
        &ws,
        &["-p", "old", "--deny", "maplint::parse_error", "--message-format=json"],
    );
    assert_eq!(run.code, 1);
    let (found, success) = messages(&run);
    assert!(!success);
    assert_eq!(found[0].message.level, DiagnosticLevel::Error);
    assert_eq!(run_in(&ws, &["-p", "old", "-D", "warnings"]).code, 1);
    assert_eq!(run_in(&ws, &["-p", "old", "-D", "parse_error", "--exit-zero"]).code, 0);
    // The last flag for a rule wins.
    let run = run_in(&ws, &["-p", "old", "-D", "parse_error", "-A", "maplint::parse_error"]);
    assert_eq!(run.code, 0);
    assert!(!run.stderr.contains("[maplint::"), "{}", run.stderr);
    let run = run_in(&ws, &["-D", "no_such_rule"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unknown rule `no_such_rule`") && run.stderr.contains("parse_error"),
        "{}",
        run.stderr
    );
    let run = run_in(&ws, &["--message-format", "human,json"]);
    assert_eq!(run.code, 2);
    let run = run_in(&ws, &["--no-such-flag"]);
    assert_eq!(run.code, 2);
}

#[test]
fn bad_input_is_reported_and_the_run_completes() {
    let tmp = bad_input();
    let run = run_in(tmp.path(), &["--message-format=json"]);
    assert_eq!(run.code, 2, "io_error exits with 2\n{}", run.stderr);
    let (found, success) = messages(&run);
    assert!(!success);
    let rules: BTreeMap<String, (String, usize)> = found
        .iter()
        .map(|m| {
            let file = m.message.spans.first().map(|s| s.file_name.clone()).unwrap_or_default();
            (
                m.message.code.as_ref().unwrap().code.clone(),
                (file, m.message.spans.len()),
            )
        })
        .collect();
    assert_eq!(rules["maplint::parse_error"], ("src/broken.rs".to_owned(), 1));
    // No text, so no span; the message names the file.
    assert_eq!(rules["maplint::io_error"].1, 0);
    assert_eq!(
        found.len(),
        2,
        "{:#?}",
        found.iter().map(|m| &m.message.message).collect::<Vec<_>>()
    );
    let io = found.iter().find(|m| m.message.spans.is_empty()).unwrap();
    assert!(io.message.message.contains("src/latin1.rs"));

    let run = run_in(tmp.path(), &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("error[maplint::io_error]: `src/latin1.rs` is not valid UTF-8"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("(4 files checked)"), "{}", run.stderr);
}

#[test]
fn paths_mode_finds_packages_and_loose_files() {
    let root = repo_root();
    let run = run_in(
        &root,
        &[
            "fixtures/projects/paths_mode",
            "--edition",
            "2015",
            "--message-format=json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (found, _) = messages(&run);
    assert_eq!(
        summary(&found),
        [
            (
                "pkg_b".into(),
                "2024".into(),
                "fixtures/projects/paths_mode/nested/pkg_b/src/main.rs".into()
            ),
            (
                "pkg_a".into(),
                "2018".into(),
                "fixtures/projects/paths_mode/pkg_a/src/lib.rs".into()
            ),
            (
                "loose".into(),
                "2015".into(),
                "fixtures/projects/paths_mode/scripts/loose.rs".into()
            ),
        ]
    );
    let pkg_a = &found[1];
    let dir = root.join("fixtures/projects/paths_mode/pkg_a");
    assert_eq!(
        pkg_a.package_id.repr,
        format!("path+file://{}#pkg_a@1.2.3", dir.display())
    );
    assert_eq!(pkg_a.target.src_path.as_std_path(), dir.join("src/lib.rs"));

    // One file alone, with its edition.
    let run = run_in(
        &root.join("fixtures/projects/paths_mode"),
        &["scripts/loose.rs", "--edition", "2018", "--message-format=short"],
    );
    assert_eq!(run.code, 0);
    assert_eq!(short_files(&run), ["scripts/loose.rs"]);
    assert!(run.stderr.contains("(1 file checked)"), "{}", run.stderr);
    let run = run_in(
        &root.join("fixtures/projects/paths_mode"),
        &["scripts/loose.rs", "--message-format=json"],
    );
    assert_eq!(summary(&messages(&run).0)[0].1, "2021");

    let run = run_in(&root, &["fixtures/projects/no_such_dir"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no_such_dir"), "{}", run.stderr);
}

#[test]
fn help_under_cargo_and_directly() {
    let tmp = std::env::temp_dir();
    for args in [&["maplint", "--help"][..], &["--help"][..]] {
        let run = run_in(&tmp, args);
        assert_eq!(run.code, 0);
        assert!(
            run.stdout.contains("Usage: cargo maplint [OPTIONS] [PATH]..."),
            "{}",
            run.stdout
        );
        assert!(run.stdout.contains("--message-format"));
        // Every format is listed.
        for f in [
            "human",
            "short",
            "json",
            "sarif",
            "json-diagnostic-short",
            "json-render-diagnostics",
        ] {
            assert!(run.stdout.contains(f), "{f}: {}", run.stdout);
        }
    }
    let run = run_in(&tmp, &["maplint", "--version"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.starts_with("cargo-maplint "), "{}", run.stdout);
}

/// The demo's findings through the JSON stream, as an editor reads them: every rule, secondary
/// spans for the other half of each finding, help and note children, and the docs link.
#[test]
fn demo_findings_in_json() {
    let run = run_in(&project("demo"), &["--message-format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let (found, success) = messages(&run);
    assert!(!success);
    let mut got: Vec<(String, String, usize)> = found
        .iter()
        .map(|m| {
            let primary = m.message.spans.iter().find(|s| s.is_primary).expect("primary span");
            (
                m.message.code.as_ref().unwrap().code.clone(),
                primary.file_name.clone(),
                primary.line_start,
            )
        })
        .collect();
    got.sort();
    let expect = |c: &str, f: &str, l: usize| (format!("maplint::{c}"), f.to_owned(), l);
    assert_eq!(
        got,
        vec![
            expect("lost_map_writes", "src/cache.rs", 55),
            expect("map_borrow_across_await", "src/sessions.rs", 77),
            expect("map_borrow_conflict", "src/sessions.rs", 56),
            expect("map_check_then_act", "src/peers.rs", 72),
            expect("map_duplicate_fill", "src/peers.rs", 48),
            expect("map_guard_across_await", "src/sessions.rs", 35),
            expect("map_guard_across_blocking_wait", "src/pool.rs", 78),
            expect("map_lock_order_inversion", "src/peers.rs", 55),
            expect("map_lock_reentry", "src/peers.rs", 23),
            expect("map_lock_upgrade", "src/peers.rs", 40),
            expect("map_mutated_in_spawn", "rejected/mutated_in_spawn.rs", 19),
            expect("sharded_map_reentry", "src/sessions.rs", 20),
            expect("unsynchronized_map_write", "src/cache.rs", 17),
            expect("unsynchronized_map_write", "src/metrics.rs", 21),
            expect("unsynchronized_map_write", "src/pool.rs", 57),
        ]
    );
    // The fill finding carries a quick fix in a `help` child.
    let cta = found
        .iter()
        .find(|m| m.message.code.as_ref().unwrap().code == "maplint::map_duplicate_fill")
        .unwrap();
    let fix = cta
        .message
        .children
        .iter()
        .flat_map(|c| &c.spans)
        .find(|s| s.suggested_replacement.is_some())
        .expect("a suggested replacement");
    // The value is not a plain path or literal: lazily evaluated, and left to the user to apply.
    assert_eq!(
        fix.suggested_replacement.as_deref(),
        Some("self.peers.lock().unwrap().entry(id).or_insert_with(|| Peer { addr, score: 0 });")
    );
    assert_eq!(
        fix.suggestion_applicability,
        Some(cargo_metadata::diagnostic::Applicability::MaybeIncorrect)
    );
    for m in &found {
        let d = &m.message;
        assert!(
            d.spans.iter().any(|s| !s.is_primary && s.label.is_some()),
            "no secondary label: {}",
            d.message
        );
        let code = &d.code.as_ref().unwrap().code;
        let points_to_maps = !matches!(
            code.as_str(),
            "maplint::map_borrow_conflict" | "maplint::map_lock_order_inversion"
        );
        assert_eq!(
            d.children.iter().any(|c| c.message.contains("maplint_maps::")),
            points_to_maps,
            "maplint-maps note: {code}"
        );
        assert!(
            d.children.iter().any(|c| c.message.contains("docs/rules/")),
            "no docs link"
        );
        assert!(d.rendered.as_deref().is_some_and(|r| r.contains(&d.message)));
    }
}

/// README's sample is the demo's real output (bless with `MAPLINT_BLESS=1`).
#[test]
fn readme_sample_is_the_demos_output() {
    let run = run_in(
        &repo_root(),
        &[
            "maplint",
            "--manifest-path",
            "fixtures/projects/demo/Cargo.toml",
            "--color",
            "never",
            "--no-cache",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let start = run
        .stderr
        .find("error[maplint::unsynchronized_map_write]: `static mut COUNTERS`")
        .expect("the sample finding");
    let end = start + run.stderr[start..].find("\n\n").expect("end of the finding") + 1;
    let sample = &run.stderr[start..end];
    let path = repo_root().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let open = readme.find("<!-- demo-sample:start").expect("start marker");
    let body = open + readme[open..].find("```text\n").expect("code block") + "```text\n".len();
    let close = body
        + readme[body..]
            .find("```\n<!-- demo-sample:end -->")
            .expect("end marker");
    if std::env::var_os("MAPLINT_BLESS").is_some() {
        std::fs::write(&path, format!("{}{sample}{}", &readme[..body], &readme[close..])).unwrap();
    } else {
        assert_eq!(
            &readme[body..close],
            sample,
            "README's sample is stale (MAPLINT_BLESS=1)"
        );
    }
}

/// A package that builds only binaries has no callers outside it: a `Sync` wrapper written on
/// one thread is silent there (in cargo mode, through `cargo metadata`'s targets, and in path
/// mode), and reported once the same package also builds a library.
#[test]
fn sync_wrappers_in_a_package_of_binaries() {
    let fixture = repo_root().join("fixtures/rules/unsynchronized_map_write/pass_sync_wrapper_in_binary_one_thread.rs");
    let tmp = tempfile::tempdir().unwrap();
    let pkg = tmp.path().join("tool");
    std::fs::create_dir_all(pkg.join("src")).unwrap();
    std::fs::write(
        pkg.join("Cargo.toml"),
        "[package]\nname = \"tool\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::copy(&fixture, pkg.join("src/main.rs")).unwrap();
    for args in [&["--no-cache", "-q"][..], &["--no-cache", "-q", "."][..]] {
        let run = run_in(&pkg, args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert!(run.stderr.is_empty(), "{args:?}: {}", run.stderr);
    }
    std::fs::copy(&fixture, pkg.join("src/lib.rs")).unwrap();
    std::fs::write(pkg.join("src/main.rs"), "fn main() {}\n").unwrap();
    for args in [
        &["--no-cache", "-q", "--message-format=short"][..],
        &["--no-cache", "-q", "--message-format=short", "."][..],
    ] {
        let run = run_in(&pkg, args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert_eq!(
            run.stderr.matches("unsynchronized_map_write").count(),
            3,
            "{args:?}: {}",
            run.stderr
        );
    }
}
