//! Reading a corpus (every sub-folder one package), for the corpus benchmark and the
//! examples that check or measure planning (`model_diff`, `lex_digest`, `plan_slack`).

use std::path::{Path, PathBuf};

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            rs_files(&p, out);
        } else if ft.is_file() && p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// A file's path and bytes.
pub type File = (String, Vec<u8>);

/// Each package folder's path and its `.rs` files, sorted; unreadable files are left out.
pub fn packages(root: &Path) -> Vec<(String, Vec<File>)> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", root.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.iter()
        .map(|d| {
            let mut files = Vec::new();
            rs_files(d, &mut files);
            files.sort();
            let files = files
                .into_iter()
                .filter_map(|p| Some((p.display().to_string(), std::fs::read(&p).ok()?)))
                .collect();
            (d.display().to_string(), files)
        })
        .collect()
}

/// The files' texts (empty for one that is not UTF-8), indexed like the files.
#[allow(dead_code)] // (the examples' only: the benchmark hands maplint the bytes)
pub fn texts(files: &[File]) -> Vec<String> {
    files
        .iter()
        .map(|(_, b)| String::from_utf8(b.clone()).unwrap_or_default())
        .collect()
}
