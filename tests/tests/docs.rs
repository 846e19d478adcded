//! `docs/rules/<rule>.md` are generated from the rules' doc comments; this test fails when they
//! are stale. Regenerate with `MAPLINT_BLESS=1 cargo test -p maplint-tests --test docs`.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

#[test]
fn rule_pages_are_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("docs/rules");
    let bless = std::env::var_os("MAPLINT_BLESS").is_some();
    let mut stale = Vec::new();
    let mut expected_files = Vec::new();
    let metas = lint_core::rules::RULES
        .iter()
        .map(|r| r.meta())
        .chain(lint_core::rules::TOOL_DIAGNOSTICS.iter());
    for meta in metas {
        let path = root.join(format!("{}.md", meta.name));
        expected_files.push(path.clone());
        let page = meta.docs_page();
        if bless {
            fs::create_dir_all(&root).unwrap();
            fs::write(&path, &page).unwrap();
        } else if fs::read_to_string(&path).ok().as_deref() != Some(page.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    for entry in fs::read_dir(&root).unwrap() {
        let p = entry.unwrap().path();
        assert!(
            expected_files.contains(&p),
            "{} documents no rule; delete it",
            p.display()
        );
    }
    assert!(
        stale.is_empty(),
        "stale rule docs (run with MAPLINT_BLESS=1): {stale:?}"
    );
}

/// The rules table in README.md between the `rules-table` markers.
#[test]
fn readme_rules_table_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("README.md");
    let readme = fs::read_to_string(&path).unwrap();
    let start = readme.find("<!-- rules-table:start").expect("start marker");
    let body_start = start + readme[start..].find("-->\n").expect("end of start marker") + 4;
    let end = readme.find("<!-- rules-table:end -->").expect("end marker");
    let mut table = String::from("| rule | default | what it finds |\n|---|---|---|\n");
    for rule in lint_core::rules::RULES {
        let m = rule.meta();
        writeln!(
            table,
            "| [`{0}`](docs/rules/{0}.md) | {1} | {2} |",
            m.name,
            m.default_level.as_str(),
            m.summary
        )
        .unwrap();
    }
    if std::env::var_os("MAPLINT_BLESS").is_some() {
        let updated = format!("{}{}{}", &readme[..body_start], table, &readme[end..]);
        fs::write(&path, updated).unwrap();
    } else {
        assert_eq!(
            &readme[body_start..end],
            table,
            "README rules table is stale (run with MAPLINT_BLESS=1)"
        );
    }
}
