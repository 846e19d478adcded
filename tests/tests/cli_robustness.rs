//! Bad trees never hang or crash the CLI: symlink loops and links out of the tree are not
//! followed, a file that vanished after listing is an `io_error`, a `Cargo.toml` that does not
//! parse or a workspace with missing members is a clear error for that item.

use std::fs;
use std::path::Path;

use maplint_tests::run_in;

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

#[cfg(unix)]
#[test]
fn links_loops_and_vanished_files() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(
        &root.join("pkg/Cargo.toml"),
        "[package]\nname = \"pkg\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write(&root.join("pkg/src/lib.rs"), "pub fn f() {}\n");
    // A loop back to the package, a link out of the tree, and a file that is gone.
    std::os::unix::fs::symlink("..", root.join("pkg/src/loop")).unwrap();
    let outside = tempfile::tempdir().unwrap();
    write(
        &outside.path().join("bad.rs"),
        "use std::sync::Mutex; fn g(m: &Mutex<std::collections::HashMap<u8, u8>>) { let a = m.lock(); let b = m.lock(); }\n",
    );
    std::os::unix::fs::symlink(outside.path(), root.join("pkg/src/outside")).unwrap();
    std::os::unix::fs::symlink("/nonexistent/gone.rs", root.join("pkg/src/gone.rs")).unwrap();
    // A package whose manifest does not parse: warned about, its files still linted.
    write(&root.join("broken_manifest/Cargo.toml"), "[package\nname =");
    write(&root.join("broken_manifest/src/lib.rs"), "pub fn h() {}\n");
    let run = run_in(
        root,
        &[
            "pkg",
            "broken_manifest",
            "--message-format",
            "short",
            "--color",
            "never",
        ],
    );
    assert_eq!(run.code, 2, "an unreadable file makes the status 2: {}", run.stderr);
    assert!(
        run.stderr.contains("gone.rs: error[maplint::io_error]"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("cannot parse") && run.stderr.contains("broken_manifest"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("map_lock_reentry"),
        "followed a link out of the tree: {}",
        run.stderr
    );
    assert!(run.stderr.contains("(3 files checked)"), "{}", run.stderr);
}

#[test]
fn bad_manifests_in_cargo_mode_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(&root.join("bad/Cargo.toml"), "[package\nname =");
    write(&root.join("bad/src/lib.rs"), "pub fn h() {}\n");
    let run = run_in(root, &["--manifest-path", "bad/Cargo.toml"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("cargo metadata") && run.stderr.contains("Cargo.toml"),
        "{}",
        run.stderr
    );

    write(
        &root.join("ws/Cargo.toml"),
        "[workspace]\nmembers = [\"a\", \"missing\"]\n",
    );
    write(
        &root.join("ws/a/Cargo.toml"),
        "[package]\nname = \"a\"\nversion = \"0.1.0\"\n",
    );
    write(&root.join("ws/a/src/lib.rs"), "pub fn a() {}\n");
    let run = run_in(&root.join("ws"), &["--workspace"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("missing"), "{}", run.stderr);
}
