//! Bad input never stops the analysis and never crashes it: pathological files, and a
//! property test over arbitrary bytes and mutated real sources (the fuzzing harness that runs
//! on the installed stable toolchain; every crash it finds becomes a case below).

use std::fmt::Write as _;

use lint_core::{Analysis, Edition, InputFile, PackageSources, Settings, analyze};
use proptest::prelude::*;

fn run(files: Vec<(&str, Vec<u8>)>) -> Analysis {
    let pkg = PackageSources {
        name: "robustness".into(),
        edition: Edition::E2021,
        binaries_only: false,
        files: files
            .into_iter()
            .map(|(n, b)| InputFile {
                name: n.into(),
                content: Ok(b),
            })
            .collect(),
    };
    analyze(&pkg, &Settings::default())
}

fn internal_errors(a: &Analysis) -> Vec<String> {
    a.diagnostics
        .iter()
        .filter(|d| d.rule == "internal_error")
        .map(|d| d.message.clone())
        .collect()
}

/// A generated file of `bytes` bytes: many small functions that lock a map.
fn generated(bytes: usize) -> String {
    let mut big = String::with_capacity(bytes + 256);
    let mut i = 0;
    while big.len() < bytes {
        writeln!(
            big,
            "fn f{i}(m: &std::sync::Mutex<std::collections::HashMap<u32, u32>>) {{ m.lock().unwrap().insert({i}, {i}); }}"
        )
        .unwrap();
        i += 1;
    }
    big
}

/// A 50 MB file: slow in a debug build, so CI runs it in release (`.ci/run`).
#[test]
#[ignore = "50 MB: run with --release -- --ignored"]
fn fifty_megabyte_file() {
    let a = run(vec![("huge.rs", generated(50 << 20).into_bytes())]);
    assert!(a.diagnostics.is_empty(), "{:?}", a.diagnostics.first());
}

#[test]
fn pathological_files_are_reported_or_analyzed() {
    let long_line = format!("fn f() -> usize {{ let v = vec![{}]; v.len() }}", "1, ".repeat(350_000));
    let big = generated(4 << 20);
    let files = vec![
        ("empty.rs", Vec::new()),
        ("nul.rs", b"fn f() {}\0\0 fn g() {}".to_vec()),
        ("latin1.rs", b"// caf\xe9\nfn f() {}".to_vec()),
        ("unterminated_string.rs", b"fn f() { let s = \"never closed; }".to_vec()),
        ("unterminated_comment.rs", b"fn f() {} /* never closed".to_vec()),
        ("bom_crlf.rs", b"\xef\xbb\xbfuse std::sync::Mutex;\r\nfn f(m: &Mutex<std::collections::HashMap<u8, u8>>) {\r\n    let g = m.lock().unwrap();\r\n    m.lock().unwrap().clear();\r\n    drop(g);\r\n}\r\n".to_vec()),
        // (An item that matters: a syntax error in one that does not is reported by
        // `--parse-all` only.)
        ("rejected.rs", b"fn g(m: &std::sync::Mutex<u8>, Self) { m.lock(); }".to_vec()),
        ("long_line.rs", long_line.into_bytes()),
        ("big.rs", big.into_bytes()),
    ];
    let a = run(files);
    assert!(internal_errors(&a).is_empty(), "{:?}", internal_errors(&a));
    let by_file = |n: &str| {
        let idx = a.files.iter().position(|f| f.name == n).unwrap() as u32;
        a.diagnostics
            .iter()
            .filter(move |d| d.file == idx)
            .map(|d| d.rule.as_str())
            .collect::<Vec<_>>()
    };
    assert!(by_file("empty.rs").is_empty());
    assert_eq!(by_file("nul.rs"), vec!["parse_error"]);
    assert_eq!(by_file("latin1.rs"), vec!["io_error"]);
    assert_eq!(by_file("unterminated_string.rs"), vec!["parse_error"]);
    assert_eq!(by_file("unterminated_comment.rs"), vec!["parse_error"]);
    assert_eq!(by_file("rejected.rs"), vec!["parse_error"]);
    assert!(by_file("long_line.rs").is_empty());
    assert!(by_file("big.rs").is_empty());
    // BOM and CRLF: the finding points at the right line and column.
    let bom = a.files.iter().position(|f| f.name == "bom_crlf.rs").unwrap();
    let d = a
        .diagnostics
        .iter()
        .find(|d| d.file == bom as u32)
        .expect("a re-entry finding");
    assert_eq!(d.rule, "map_lock_reentry");
    let at = a.files[bom].line_col(d.primary.unwrap().lo as usize);
    assert_eq!((at.line, at.column), (4, 5));
}

#[test]
fn an_item_syn_rejects_is_left_out_and_the_rest_is_analyzed() {
    // Edition-2015 bare trait objects (valid for rustc, rejected by syn), then a real bug.
    let text = "use std::collections::HashMap;\nuse std::sync::Mutex;\n\n\
                pub type Hooks = Mutex<HashMap<u32, Box<Fn(u32) + Send>>>;\n\n\
                pub struct Peers {\n    by_id: Mutex<HashMap<u32, u32>>,\n}\n\n\
                impl Peers {\n    pub fn touch(&self, id: u32) {\n        match self.by_id.lock().unwrap().get(&id) {\n            \
                Some(_) => {}\n            None => {\n                self.by_id.lock().unwrap().insert(id, 0);\n            }\n        }\n    }\n}\n";
    let a = run(vec![("bare.rs", text.as_bytes().to_vec())]);
    let rules: Vec<(&str, usize)> = a
        .diagnostics
        .iter()
        .map(|d| {
            (
                d.rule.as_str(),
                a.files[0].line_col(d.primary.unwrap().lo as usize).line,
            )
        })
        .collect();
    assert_eq!(
        rules,
        vec![("parse_error", 4), ("map_lock_reentry", 15)],
        "{:?}",
        a.diagnostics
    );
    let left_out = &a.diagnostics[0];
    assert!(
        left_out.message.starts_with("cannot parse this item"),
        "{}",
        left_out.message
    );
    assert_eq!(left_out.labels[0].message, "this item is left out");
    // Delimiters out of balance: the whole file, in rustc's words, at both places.
    let a = run(vec![("delims.rs", b"fn f() {\n    let x = (1, 2];\n}\n".to_vec())]);
    let d = &a.diagnostics[0];
    assert_eq!(d.message, "cannot parse this file: mismatched closing delimiter: `]`");
    assert_eq!(a.files[0].line_col(d.primary.unwrap().lo as usize).column, 18);
    assert_eq!(d.labels[0].message, "unclosed delimiter");
    assert_eq!(a.files[0].line_col(d.labels[0].span.lo as usize).column, 13);
}

/// Real sources to mutate: the rule fixtures of this repository.
fn corpus() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/rules");
    let mut out = Vec::new();
    for dir in std::fs::read_dir(root).unwrap() {
        for f in std::fs::read_dir(dir.unwrap().path()).unwrap() {
            let p = f.unwrap().path();
            if p.extension().is_some_and(|e| e == "rs") {
                out.push(std::fs::read_to_string(p).unwrap());
            }
        }
    }
    out.sort();
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, max_shrink_iters: 100, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_crash(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let a = run(vec![("fuzz.rs", bytes)]);
        prop_assert!(internal_errors(&a).is_empty(), "{:?}", internal_errors(&a));
    }

    #[test]
    fn mutated_sources_never_crash(
        pick in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..12, "[ -~\n]{0,8}"), 1..6),
    ) {
        let sources = corpus();
        let mut text = sources[pick.index(sources.len())].clone();
        for (at, del, ins) in edits {
            let mut pos = at.index(text.len() + 1);
            while !text.is_char_boundary(pos) { pos -= 1; }
            let mut end = (pos + del).min(text.len());
            while !text.is_char_boundary(end) { end -= 1; }
            text.replace_range(pos..end, &ins);
        }
        let a = run(vec![("mutated.rs", text.into_bytes())]);
        prop_assert!(internal_errors(&a).is_empty(), "{:?}", internal_errors(&a));
    }
}
