//! `docs/rules/<rule>.md` are generated from the rules' doc comments; this test fails when they
//! are stale. Regenerate with `MAPLINT_BLESS=1 cargo test -p maplint-tests --test docs`.

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
    for rule in lint_core::rules::RULES {
        let meta = rule.meta();
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
