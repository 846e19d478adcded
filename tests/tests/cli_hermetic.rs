//! End-to-end tests of build-system mode (`--crate-root`): it reads exactly the files it is
//! given (no Cargo.toml, no `maplint.toml`, no cache, no `git`), writes nothing but
//! `--output`, and writes the same bytes for the same inputs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use maplint_tests::run_in;
use serde_json::Value;

/// A crate as a build system would see it: `src/lib.rs` and `src/registry.rs` are its files.
/// Around them are files it must not read: a Cargo.toml that is not TOML, a `maplint.toml`
/// that would allow the finding, and `src/extra.rs` (not given) with a bug of its own.
fn tree(dir: &Path) {
    let write = |rel: &str, text: &str| {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write("Cargo.toml", "this is not TOML [[[\n");
    write("maplint.toml", "[rules]\nmap_lock_reentry = \"allow\"\n");
    write("src/lib.rs", "pub mod registry;\nmod extra;\n");
    write(
        "src/registry.rs",
        "use std::collections::HashMap;\nuse std::sync::Mutex;\n\npub struct Registry {\n    users: Mutex<HashMap<u32, String>>,\n}\n\nimpl Registry {\n    pub fn rename(&self, id: u32, name: &str) {\n        let users = self.users.lock().unwrap();\n        if users.contains_key(&id) {\n            self.users.lock().unwrap().insert(id, name.to_owned());\n        }\n    }\n}\n",
    );
    write(
        "src/extra.rs",
        "use std::sync::Mutex;\n\nstatic SEEN: Mutex<Vec<u32>> = Mutex::new(Vec::new());\n\nfn twice() {\n    let a = SEEN.lock().unwrap();\n    let b = SEEN.lock().unwrap();\n    drop((a, b));\n}\n",
    );
}

/// Every entry under `dir` (files and folders), `dir` itself last.
fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                todo.push(path.clone());
            }
            out.push(path);
        }
    }
    out.push(dir.to_path_buf());
    out
}

/// Every file under `dir` with its bytes and modification time.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, std::time::SystemTime)> {
    entries(dir)
        .into_iter()
        .filter(|p| p.is_file())
        .map(|p| {
            let modified = std::fs::metadata(&p).unwrap().modified().unwrap();
            (p.clone(), (std::fs::read(&p).unwrap(), modified))
        })
        .collect()
}

fn set_read_only(dir: &Path, read_only: bool) {
    for p in entries(dir) {
        let mut perm = std::fs::metadata(&p).unwrap().permissions();
        perm.set_readonly(read_only);
        std::fs::set_permissions(&p, perm).unwrap();
    }
}

const ARGS: [&str; 9] = [
    "maplint",
    "--crate-root",
    "src/lib.rs",
    "--edition",
    "2021",
    "src/registry.rs",
    "--message-format",
    "json",
    "--output",
];

#[test]
fn reads_only_its_files_writes_only_its_output_and_the_same_bytes_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let krate = tmp.path().join("krate");
    let out_dir = tmp.path().join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    tree(&krate);
    set_read_only(&krate, true);
    let before = snapshot(&krate);
    let mut outputs = Vec::new();
    for name in ["first.json", "second.json"] {
        let out = out_dir.join(name);
        let mut args = ARGS.to_vec();
        args.push(out.to_str().unwrap());
        let run = run_in(&krate, &args);
        // The deny-level re-entry: `maplint.toml` (not given) would have allowed it.
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.stdout.is_empty(), "everything goes to --output: {run:?}");
        outputs.push(std::fs::read(&out).unwrap());
    }
    let after = snapshot(&krate);
    set_read_only(&krate, false);
    assert_eq!(before, after, "nothing in the crate's tree was written or touched");
    assert!(!krate.join("target").exists(), "no cache directory");
    assert_eq!(outputs[0], outputs[1], "the same bytes for the same inputs");
    let text = String::from_utf8(outputs[0].clone()).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let codes: Vec<(&str, &str)> = lines
        .iter()
        .filter(|m| m["reason"] == "compiler-message")
        .map(|m| {
            (
                m["message"]["spans"][0]["file_name"].as_str().unwrap(),
                m["message"]["code"]["code"].as_str().unwrap(),
            )
        })
        .collect();
    // Only the file given: `src/extra.rs` has a re-entry too, and is not read.
    assert_eq!(codes, vec![("src/registry.rs", "maplint::map_lock_reentry")]);
    let first = lines.iter().find(|m| m["reason"] == "compiler-message").unwrap();
    assert_eq!(first["package_id"], "krate@0.0.0");
    assert_eq!(first["target"]["src_path"], "src/lib.rs");
    assert_eq!(lines.last().unwrap()["reason"], "build-finished");
}

#[test]
fn config_file_and_crate_name() {
    let tmp = tempfile::tempdir().unwrap();
    let krate = tmp.path().join("krate");
    tree(&krate);
    std::fs::write(krate.join("lint.toml"), "[rules]\nmap_lock_reentry = \"warn\"\n").unwrap();
    let out = tmp.path().join("findings.json");
    let run = run_in(
        &krate,
        &[
            "maplint",
            "--crate-root",
            "src/lib.rs",
            "--crate-name",
            "my_registry",
            "--config-file",
            "lint.toml",
            "src/registry.rs",
            "--message-format",
            "json",
            "--output",
            out.to_str().unwrap(),
        ],
    );
    // A warning now: exit status 0.
    assert_eq!(run.code, 0, "{run:?}");
    let text = std::fs::read_to_string(&out).unwrap();
    let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["package_id"], "my_registry@0.0.0");
    assert_eq!(first["message"]["level"], "warning");
}

#[test]
fn refuses_what_would_read_or_write_more() {
    let tmp = tempfile::tempdir().unwrap();
    let krate = tmp.path().join("krate");
    tree(&krate);
    for extra in [
        &["--fix"][..],
        &["--workspace"],
        &["--write-baseline", "b.json"],
        &["-p", "x"],
    ] {
        let mut args = vec!["maplint", "--crate-root", "src/lib.rs", "src/registry.rs"];
        args.extend_from_slice(extra);
        let run = run_in(&krate, &args);
        assert_eq!(run.code, 2, "{extra:?}: {run:?}");
        assert!(run.stderr.contains("cannot be used with"), "{extra:?}: {}", run.stderr);
    }
    let run = run_in(&krate, &["maplint", "--crate-root", "src/lib.rs", "src"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("not a directory"), "{}", run.stderr);
    let run = run_in(&krate, &["maplint", "--crate-root", "src/missing.rs"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("cannot lint `src/missing.rs`"), "{}", run.stderr);
}
