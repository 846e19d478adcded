//! Incremental analysis: facts of unchanged files are reused, only changed files and the files
//! a change makes matter are parsed, and the findings are always those of a full analysis.

use lint_core::{Diagnostic, FileFacts, InputFile, PackageSources, Settings, analyze, analyze_incremental};

const REGISTRY: &str = "use std::collections::HashMap;
use std::sync::Mutex;

pub struct Registry {
    pub entries: Mutex<HashMap<u32, String>>,
}

impl Registry {
    pub fn name(&self, id: u32) -> Option<String> {
        self.entries.lock().unwrap().get(&id).cloned()
    }
}
";

/// A helper that takes the lock, then calls back into a method that takes it again.
const RENAME: &str = "use crate::registry::Registry;

pub fn rename(r: &Registry, id: u32) {
    let mut entries = r.entries.lock().unwrap();
    if let Some(old) = r.name(id) {
        entries.insert(id, old + \"'\");
    }
}
";

const RENAME_FIXED: &str = "use crate::registry::Registry;

pub fn rename(r: &Registry, id: u32) {
    let mut entries = r.entries.lock().unwrap();
    if let Some(old) = entries.get(&id).cloned() {
        entries.insert(id, old + \"'\");
    }
}
";

const PLAIN: &str = "pub struct Counter {
    pub n: u64,
}

impl Counter {
    pub fn bump(&mut self) {
        self.n += 1;
    }
}
";

/// `Counter` made interesting: it now holds a lock.
const PLAIN_LOCKED: &str = "pub struct Counter {
    pub n: std::sync::Mutex<u64>,
}

impl Counter {
    pub fn bump(&self) {
        *self.n.lock().unwrap() += 1;
    }
}
";

/// One item that matters from the start, one that only matters once `Counter` does.
const USES: &str = "use crate::registry::Registry;
use crate::counter::Counter;

pub fn lookup(r: &Registry) -> Option<String> {
    r.name(1)
}

pub fn count(c: &mut Counter) {
    c.bump();
}
";

const OTHER: &str = "pub fn add(a: u32, b: u32) -> u32 {
    a + b
}
";

fn package(files: &[(&str, &str)]) -> PackageSources {
    PackageSources {
        name: "p".into(),
        edition: lint_core::Edition::E2021,
        binaries_only: false,
        files: files
            .iter()
            .map(|(name, text)| InputFile {
                name: (*name).to_owned(),
                content: Ok(text.as_bytes().to_vec()),
            })
            .collect(),
    }
}

fn files(rename: &'static str, counter: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("src/registry.rs", REGISTRY),
        ("src/rename.rs", rename),
        ("src/counter.rs", counter),
        ("src/uses.rs", USES),
        ("src/other.rs", OTHER),
    ]
}

fn rules(d: &[Diagnostic]) -> Vec<(u32, &str)> {
    d.iter().map(|d| (d.file, d.rule.as_str())).collect()
}

/// An incremental run over `files` with `prior`: checks it against a full analysis and returns
/// (parsed, reused, facts).
fn run(files: &[(&str, &str)], prior: &[FileFacts]) -> (usize, usize, Vec<FileFacts>) {
    let pkg = package(files);
    let settings = Settings::default();
    let (a, facts) = analyze_incremental(&pkg, &settings, prior);
    let full = analyze(&pkg, &settings);
    assert_eq!(a.diagnostics, full.diagnostics, "incremental and full analyses differ");
    (a.parsed, a.reused, facts)
}

#[test]
fn only_changed_files_are_parsed_again() {
    let start = files(RENAME, PLAIN);
    let (parsed, reused, facts) = run(&start, &[]);
    // registry, rename and uses matter; counter and other are only lexed.
    assert_eq!((parsed, reused, facts.len()), (3, 0, 3));
    let a = analyze(&package(&start), &Settings::default());
    assert_eq!(rules(&a.diagnostics), vec![(1, "map_lock_reentry")]);

    // Nothing changed: everything reused.
    let (parsed, reused, same) = run(&start, &facts);
    assert_eq!((parsed, reused), (0, 3));
    assert_eq!(same, facts);

    // The bug fixed in one file: that file alone is parsed, and the finding is gone.
    let fixed = files(RENAME_FIXED, PLAIN);
    let (parsed, reused, after) = run(&fixed, &facts);
    assert_eq!((parsed, reused, after.len()), (1, 2, 3));
    assert!(analyze(&package(&fixed), &Settings::default()).diagnostics.is_empty());
    assert_ne!(after[1], facts[1]);
    assert_eq!((&after[0], &after[2]), (&facts[0], &facts[2]));
}

#[test]
fn a_change_that_makes_other_items_matter_parses_their_files_too() {
    let start = files(RENAME_FIXED, PLAIN);
    let (_, _, facts) = run(&start, &[]);
    // `Counter` now holds a lock that `bump` takes: its file, and `uses.rs` (whose `count`
    // calls `bump` and was left out of parsing) are parsed; registry and rename are reused.
    let (parsed, reused, after) = run(&files(RENAME_FIXED, PLAIN_LOCKED), &facts);
    assert_eq!((parsed, reused, after.len()), (2, 2, 4));
}

#[test]
fn moved_files_and_bad_facts_are_parsed_again() {
    let start = files(RENAME, PLAIN);
    let (_, _, facts) = run(&start, &[]);
    // A new first file moves every other file: positions are in the spans, so nothing is reused.
    let mut moved = vec![("src/aaa.rs", OTHER)];
    moved.extend(start.iter().copied());
    assert_eq!(run(&moved, &facts).1, 0);
    // Facts that do not decode are ignored.
    let mut corrupt = facts.clone();
    for f in &mut corrupt {
        f.ir.truncate(f.ir.len() / 2);
    }
    let (parsed, reused, rebuilt) = run(&start, &corrupt);
    assert_eq!((parsed, reused), (3, 0));
    assert_eq!(rebuilt, facts);
}

/// The multi-file demo project: real code with findings in several files.
fn demo() -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/projects/demo/src");
    let mut out = Vec::new();
    for dir in [root.clone(), root.join("bin")] {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "rs") {
                out.push((p.display().to_string(), std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 24, max_shrink_iters: 50, ..Default::default() })]

    /// Whatever changes between two runs (lines deleted, duplicated or swapped, in one file or
    /// several), findings from reused facts are a fresh analysis's.
    #[test]
    fn edits_between_runs_find_what_a_fresh_analysis_finds(
        edits in proptest::collection::vec(
            (proptest::prelude::any::<proptest::sample::Index>(), proptest::prelude::any::<proptest::sample::Index>(), 0u8..3),
            1..5,
        ),
    ) {
        let before = demo();
        let pkg_of = |v: &[(String, String)]| {
            let refs: Vec<(&str, &str)> = v.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
            package(&refs)
        };
        let (_, facts) = analyze_incremental(&pkg_of(&before), &Settings::default(), &[]);
        let mut after = before.clone();
        for (file, line, op) in edits {
            let f = file.index(after.len());
            let mut lines: Vec<String> = after[f].1.lines().map(str::to_owned).collect();
            if lines.is_empty() {
                continue;
            }
            let l = line.index(lines.len());
            match op {
                0 => {
                    lines.remove(l);
                }
                1 => lines.insert(l, lines[l].clone()),
                _ => {
                    let n = lines.len();
                    lines.swap(l, (l + 1) % n);
                }
            }
            after[f].1 = lines.join("\n");
        }
        let pkg = pkg_of(&after);
        let (a, _) = analyze_incremental(&pkg, &Settings::default(), &facts);
        let fresh = analyze(&pkg, &Settings::default());
        proptest::prop_assert_eq!(a.diagnostics, fresh.diagnostics);
        proptest::prop_assert_eq!(a.parsed + a.reused, fresh.parsed);
    }
}
