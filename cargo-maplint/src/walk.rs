//! Finding the `.rs` files of a package (walkdir) and reading them in parallel (rayon).

use std::path::{Path, PathBuf};

use lint_core::InputFile;
use rayon::prelude::*;
use walkdir::WalkDir;

/// The files found under one directory, and the paths that could not be listed.
#[derive(Debug, Default)]
pub struct Listing {
    pub files: Vec<PathBuf>,
    pub errors: Vec<(PathBuf, String)>,
}

/// What a tree walk found: packages (their root and files) and `.rs` files outside any package.
#[derive(Debug, Default)]
pub struct Tree {
    pub packages: Vec<(PathBuf, Listing)>,
    pub loose: Listing,
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_str().is_some_and(|n| n.starts_with('.'))
}

fn is_rust_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "rs")
}

/// A build output directory: `target/` beside a Cargo.toml, or any directory cargo tagged.
fn is_target_dir(dir: &Path, skip: &[PathBuf]) -> bool {
    if skip.iter().any(|s| s == dir) || dir.join("CACHEDIR.TAG").is_file() {
        return true;
    }
    dir.file_name().is_some_and(|n| n == "target") && dir.parent().is_some_and(|p| p.join("Cargo.toml").is_file())
}

fn walker(root: &Path) -> WalkDir {
    WalkDir::new(root).follow_links(false).sort_by_file_name()
}

fn error_path(e: &walkdir::Error, root: &Path) -> (PathBuf, String) {
    let path = e.path().unwrap_or(root).to_path_buf();
    let msg = e.io_error().map_or_else(|| e.to_string(), ToString::to_string);
    (path, msg)
}

/// Every `.rs` file of the package at `root`: the whole directory except hidden directories,
/// build output and nested packages (directories with their own Cargo.toml).
pub fn package_files(root: &Path, skip: &[PathBuf]) -> Listing {
    let mut out = Listing::default();
    let mut it = walker(root).into_iter();
    while let Some(entry) = it.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                out.errors.push(error_path(&e, root));
                continue;
            }
        };
        let path = entry.path();
        if entry.file_type().is_dir() {
            if entry.depth() > 0
                && (is_hidden(entry.file_name()) || is_target_dir(path, skip) || path.join("Cargo.toml").is_file())
            {
                it.skip_current_dir();
            }
        } else if is_rust_file(path) && !(entry.depth() > 0 && is_hidden(entry.file_name())) {
            out.files.push(path.to_path_buf());
        }
    }
    out
}

/// Walks a directory tree: each directory for which `is_package` holds (it has a Cargo.toml
/// with `[package]`) starts a package owning every `.rs` file below it that no nested package
/// owns; `.rs` files outside every package are `loose`.
pub fn discover(root: &Path, is_package: &mut dyn FnMut(&Path) -> bool) -> Tree {
    let mut tree = Tree::default();
    // (depth of the package root, index into tree.packages)
    let mut stack: Vec<(usize, usize)> = Vec::new();
    let mut it = walker(root).into_iter();
    while let Some(entry) = it.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let depth = e.depth();
                while stack.last().is_some_and(|&(d, _)| d >= depth) {
                    stack.pop();
                }
                let err = error_path(&e, root);
                match stack.last() {
                    Some(&(_, i)) => tree.packages[i].1.errors.push(err),
                    None => tree.loose.errors.push(err),
                }
                continue;
            }
        };
        let depth = entry.depth();
        while stack.last().is_some_and(|&(d, _)| d >= depth) {
            stack.pop();
        }
        let path = entry.path();
        if entry.file_type().is_dir() {
            if depth > 0 && (is_hidden(entry.file_name()) || is_target_dir(path, &[])) {
                it.skip_current_dir();
                continue;
            }
            if path.join("Cargo.toml").is_file() && is_package(path) {
                stack.push((depth, tree.packages.len()));
                tree.packages.push((path.to_path_buf(), Listing::default()));
            }
        } else if is_rust_file(path) && !(depth > 0 && is_hidden(entry.file_name())) {
            match stack.last() {
                Some(&(_, i)) => tree.packages[i].1.files.push(path.to_path_buf()),
                None => tree.loose.files.push(path.to_path_buf()),
            }
        }
    }
    tree
}

/// Reads files in parallel, each once; `name` gives the display name of a path.
pub fn read_files(listing: &Listing, name: &(dyn Fn(&Path) -> String + Sync)) -> Vec<InputFile> {
    let mut files: Vec<InputFile> = listing
        .files
        .par_iter()
        .map(|p| InputFile {
            name: name(p),
            content: std::fs::read(p).map_err(|e| e.to_string()),
        })
        .collect();
    files.extend(listing.errors.iter().map(|(p, e)| InputFile {
        name: name(p),
        content: Err(e.clone()),
    }));
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_packages_and_target_dirs_are_skipped() {
        let dir = std::env::temp_dir().join(format!("maplint-walk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (p, body) in [
            ("Cargo.toml", "[package]\nname = \"a\"\n"),
            ("src/lib.rs", ""),
            ("src/target/mod.rs", ""),
            ("build.rs", ""),
            ("target/debug/x.rs", ""),
            (".git/y.rs", ""),
            ("inner/Cargo.toml", "[package]\nname = \"b\"\n"),
            ("inner/src/lib.rs", ""),
            ("notes.txt", ""),
        ] {
            let p = dir.join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, body).unwrap();
        }
        let rel = |v: &[PathBuf]| {
            v.iter()
                .map(|p| p.strip_prefix(&dir).unwrap().to_path_buf())
                .collect::<Vec<_>>()
        };
        let l = package_files(&dir, &[]);
        assert_eq!(
            rel(&l.files),
            [
                Path::new("build.rs"),
                Path::new("src/lib.rs"),
                Path::new("src/target/mod.rs")
            ]
        );
        let t = discover(&dir, &mut |_| true);
        assert_eq!(t.packages.len(), 2);
        assert_eq!(rel(&t.packages[1].1.files), [Path::new("inner/src/lib.rs")]);
        assert!(t.loose.files.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
