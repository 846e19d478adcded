//! Data-driven rule tests: every `fixtures/rules/<rule>/*.rs` is analyzed alone and its
//! findings must equal its inline `//~ rule_name` annotations exactly (a missing and an extra
//! finding both fail). `pass_*.rs` files must produce nothing.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use lint_core::{Edition, InputFile, PackageSources, Settings, analyze, analyze_incremental};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn rule_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(workspace_root().join("fixtures/rules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn fixture_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    files
}

/// `(line, rule)` pairs from `//~ rule_a, rule_b` annotations.
fn expectations(text: &str) -> BTreeSet<(usize, String)> {
    let mut out = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(pos) = line.find("//~") {
            for name in line[pos + 3..].split([',', ' ']).filter(|s| !s.is_empty()) {
                out.insert((i + 1, name.to_owned()));
            }
        }
    }
    out
}

/// An optional `// edition:2024` header selects the edition; default 2021.
fn edition_of(text: &str) -> Edition {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("// edition:"))
        .and_then(Edition::parse)
        .unwrap_or(Edition::E2021)
}

/// An optional `// crate-type: bin` header lints the fixture as a package that builds only
/// binaries ([`PackageSources::binaries_only`]); default a library.
fn binaries_only(text: &str) -> bool {
    text.lines().any(|l| l.trim() == "// crate-type: bin")
}

fn findings(path: &Path) -> (BTreeSet<(usize, String)>, Vec<String>) {
    let text = fs::read_to_string(path).unwrap();
    let name = path.strip_prefix(workspace_root()).unwrap().display().to_string();
    let pkg = PackageSources {
        name: "fixture".into(),
        edition: edition_of(&text),
        binaries_only: binaries_only(&text),
        files: vec![InputFile {
            name,
            content: Ok(text.into_bytes()),
        }],
    };
    let analysis = analyze(&pkg, &Settings::default());
    let file = &analysis.files[0];
    let mut got = BTreeSet::new();
    let mut messages = Vec::new();
    for d in &analysis.diagnostics {
        let line = d.primary.map_or(0, |s| file.line_col(s.lo as usize).line);
        got.insert((line, d.rule.clone()));
        messages.push(d.message.clone());
        messages.extend(d.helps.iter().map(|h| h.message.clone()));
        messages.extend(d.labels.iter().map(|l| l.message.clone()));
        messages.extend(d.primary_label.clone());
    }
    (got, messages)
}

#[test]
fn fixtures_match_their_annotations() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for dir in rule_dirs() {
        let rule = dir.file_name().unwrap().to_str().unwrap().to_owned();
        assert!(
            lint_core::rules::meta(&rule).is_some(),
            "fixtures/rules/{rule} is not a registered rule"
        );
        for path in fixture_files(&dir) {
            checked += 1;
            let text = fs::read_to_string(&path).unwrap();
            let expected = expectations(&text);
            let is_pass = path.file_name().unwrap().to_str().unwrap().starts_with("pass_");
            if is_pass && !expected.is_empty() {
                failures.push(format!(
                    "{}: pass_ fixtures must not carry //~ annotations",
                    path.display()
                ));
            }
            let (got, _) = findings(&path);
            if got != expected {
                let missing: Vec<_> = expected.difference(&got).collect();
                let extra: Vec<_> = got.difference(&expected).collect();
                failures.push(format!(
                    "{}:\n  missing: {missing:?}\n  unexpected: {extra:?}",
                    path.display()
                ));
            }
        }
    }
    assert!(checked > 0, "no fixtures found");
    assert!(
        failures.is_empty(),
        "{} fixture(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_rule_has_fixtures_with_more_near_misses_than_hits() {
    for rule in lint_core::rules::RULES {
        let name = rule.meta().name;
        let dir = workspace_root().join("fixtures/rules").join(name);
        let files = fixture_files(&dir);
        let pass = files
            .iter()
            .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("pass_"))
            .count();
        let hits = files.len() - pass;
        assert!(hits > 0, "{name}: no firing fixture");
        assert!(pass >= hits, "{name}: {pass} near-miss fixtures, {hits} firing ones");
    }
}

#[test]
fn messages_are_lowercase_without_trailing_period() {
    for dir in rule_dirs() {
        for path in fixture_files(&dir) {
            for m in findings(&path).1 {
                let first = m.chars().next().unwrap();
                assert!(
                    !first.is_uppercase(),
                    "{}: message starts uppercase: {m}",
                    path.display()
                );
                assert!(!m.ends_with('.'), "{}: message ends with a period: {m}", path.display());
            }
        }
    }
}

#[test]
fn rule_docs_have_the_clippy_sections() {
    for rule in lint_core::rules::RULES {
        let m = rule.meta();
        for section in [
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "Use instead:",
            "## Known problems",
        ] {
            assert!(m.docs.contains(section), "{}: docs lack `{section}`", m.name);
        }
        assert!(
            !m.summary.is_empty() && !m.summary.ends_with('.'),
            "{}: bad summary",
            m.name
        );
    }
}

/// Fix invariants, for every fixture: applying every suggestion (safe and unsafe) leaves a file
/// that parses, a second analysis of the fixed file offers no new fix for the same rule, rules
/// that declare no fixes offer none, and rules that declare fixes offer at least one somewhere.
/// The fixed text is kept beside the fixture as `<fixture>.fixed` (bless with `MAPLINT_BLESS=1`).
#[test]
fn fixes_parse_converge_and_match_declared_availability() {
    use lint_core::fix::{FixMode, apply, parses, suggestions_for_file};
    use lint_core::rules::FixAvailability;
    let bless = std::env::var_os("MAPLINT_BLESS").is_some();
    let mut failures = Vec::new();
    let mut offered: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for dir in rule_dirs() {
        for path in fixture_files(&dir) {
            let text = fs::read_to_string(&path).unwrap();
            let analyze_text = |t: &str| {
                analyze(
                    &PackageSources {
                        name: "fixture".into(),
                        edition: edition_of(t),
                        binaries_only: binaries_only(t),
                        files: vec![InputFile {
                            name: "f.rs".into(),
                            content: Ok(t.as_bytes().to_vec()),
                        }],
                    },
                    &Settings::default(),
                )
            };
            let first = analyze_text(&text);
            for d in first
                .diagnostics
                .iter()
                .filter(|d| d.helps.iter().any(|h| !h.edits.is_empty()))
            {
                offered.insert(d.rule.clone());
            }
            let suggestions = suggestions_for_file(&first.diagnostics, 0, FixMode::Unsafe);
            let fixed_path = path.with_extension("fixed");
            if suggestions.is_empty() {
                if fixed_path.exists() {
                    failures.push(format!("{}: stale, the fixture offers no fix", fixed_path.display()));
                }
                continue;
            }
            let (fixed, _) = apply(&text, &suggestions);
            if !parses(&fixed) {
                failures.push(format!("{}: the fixed text does not parse", path.display()));
            }
            let second = analyze_text(&fixed);
            let again = suggestions_for_file(&second.diagnostics, 0, FixMode::Unsafe);
            if !again.is_empty() {
                failures.push(format!(
                    "{}: a second run still offers {} fix(es)",
                    path.display(),
                    again.len()
                ));
            }
            if bless {
                fs::write(&fixed_path, &fixed).unwrap();
            } else if fs::read_to_string(&fixed_path).ok().as_deref() != Some(fixed.as_str()) {
                failures.push(format!(
                    "{}: differs from the fixed output (bless with MAPLINT_BLESS=1)",
                    fixed_path.display()
                ));
            }
        }
    }
    for rule in lint_core::rules::RULES {
        let m = rule.meta();
        let did = offered.contains(m.name);
        match m.fix {
            FixAvailability::None if did => failures.push(format!("{}: declares no fix but offered one", m.name)),
            FixAvailability::Sometimes | FixAvailability::Always if !did => {
                failures.push(format!("{}: declares fixes but no fixture shows one", m.name));
            }
            _ => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn package(files: &[(String, String)]) -> PackageSources {
    PackageSources {
        name: "fixture".into(),
        edition: Edition::E2021,
        binaries_only: files.iter().any(|(_, t)| binaries_only(t)),
        files: files
            .iter()
            .map(|(n, t)| InputFile {
                name: n.clone(),
                content: Ok(t.as_bytes().to_vec()),
            })
            .collect(),
    }
}

/// Every rule fixture (one package each), the multi-file demo and the lex-first planning
/// project (`fixtures/projects/lexfirst`).
fn fixture_packages() -> Vec<Vec<(String, String)>> {
    let mut sets: Vec<Vec<(String, String)>> = Vec::new();
    for dir in rule_dirs() {
        for path in fixture_files(&dir) {
            sets.push(vec![(path.display().to_string(), fs::read_to_string(&path).unwrap())]);
        }
    }
    for (project, dirs) in [("demo", &["", "bin"][..]), ("lexfirst", &[""][..])] {
        let src = workspace_root().join("fixtures/projects").join(project).join("src");
        let mut files: Vec<(String, String)> = Vec::new();
        for e in dirs.iter().flat_map(|d| fs::read_dir(src.join(d)).unwrap()) {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "rs") {
                files.push((p.display().to_string(), fs::read_to_string(&p).unwrap()));
            }
        }
        files.sort();
        sets.push(files);
    }
    sets
}

/// Lex-first analysis parses only the files that can matter; its findings must equal parsing
/// every file (`Settings::parse_all`). Checked on every rule fixture and on the multi-file demo.
#[test]
fn lex_first_finds_what_parsing_everything_finds() {
    let run = |files: &[(String, String)], parse_all: bool| {
        let settings = Settings {
            parse_all,
            ..Settings::default()
        };
        let a = analyze(&package(files), &settings);
        a.diagnostics
            .into_iter()
            .filter(|d| d.rule != "parse_error")
            .map(|d| (d.file, d.primary, d.rule, d.message))
            .collect::<Vec<_>>()
    };
    for files in &fixture_packages() {
        assert_eq!(run(files, false), run(files, true), "{}", files[0].0);
    }
}

/// `fixtures/projects/lexfirst` holds findings that lex-first planning must keep (a method
/// reached through a type alias, statics whose initializers are left out) beside code it leaves
/// out (constants, trait items, methods of `u32`): its findings are its `//~` annotations.
#[test]
fn lex_first_project_finds_its_annotations() {
    let files = fixture_packages().pop().expect("the lexfirst project");
    assert!(files[0].0.contains("lexfirst"), "{}", files[0].0);
    let analysis = analyze(&package(&files), &Settings::default());
    for (i, (name, text)) in files.iter().enumerate() {
        let got: BTreeSet<(usize, String)> = analysis
            .diagnostics
            .iter()
            .filter(|d| d.file as usize == i)
            .map(|d| {
                let line = d.primary.map_or(0, |s| analysis.files[i].line_col(s.lo as usize).line);
                (line, d.rule.clone())
            })
            .collect();
        assert_eq!(got, expectations(text), "{name}");
    }
}

/// A re-run that reuses every file's cached facts (the lowered syntax, stored in postcard)
/// finds exactly what a fresh analysis finds: the facts survive the round trip.
#[test]
fn reused_facts_find_what_a_fresh_analysis_finds() {
    let settings = Settings::default();
    for files in &fixture_packages() {
        let pkg = package(files);
        let fresh = analyze(&pkg, &settings);
        let (first, facts) = analyze_incremental(&pkg, &settings, &[]);
        let (again, _) = analyze_incremental(&pkg, &settings, &facts);
        assert_eq!((again.parsed, again.reused), (0, first.parsed), "{}", files[0].0);
        assert_eq!(again.diagnostics, fresh.diagnostics, "{}", files[0].0);
    }
}
