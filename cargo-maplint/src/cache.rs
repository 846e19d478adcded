//! The result cache, under `target/maplint/cache/`, two entries per package:
//!
//! - `<unit>.json`: the package's findings, keyed by the tool build, the settings and every
//!   source file's name and bytes. A re-run on an unchanged package reads its files and this
//!   entry, and skips lexing, parsing and the model.
//! - `<unit>.facts`: the lowered syntax of each parsed file ([`lint_core::FileFacts`]), for the
//!   tool build that wrote it. When a package changed, the analysis reuses the facts of every
//!   file whose bytes (and planned items) did not change, so only the changed files, and files in
//!   which the change makes more items matter, are parsed again; the package-wide model and the
//!   rules are rebuilt from all files (they are cheap next to parsing).
//!
//! Entries are written atomically (a temp file, then a rename), so concurrent runs never see
//! half a file; the facts carry a checksum; an entry that cannot be read, is corrupt or does not
//! match is ignored and rebuilt.

use std::fs;
use std::path::{Path, PathBuf};

use lint_core::{Analysis, Diagnostic, FileFacts, PackageSources, Settings, SourceFile};
use serde::{Deserialize, Serialize};

const FORMAT: u32 = 3;
/// The first bytes of a facts entry; the next 8 are the XXH3-64 of the rest.
const FACTS_MAGIC: &[u8; 8] = b"maplintF";

#[derive(Serialize, Deserialize)]
struct FactsEntry {
    format: u32,
    build: String,
    files: Vec<FileFacts>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    format: u32,
    key: String,
    diagnostics: Vec<Diagnostic>,
    coverage: lint_core::Coverage,
}

/// A 128-bit XXH3 over a sequence of byte strings (each length-prefixed, so that ("ab", "c")
/// and ("a", "bc") differ).
struct Hash(xxhash_rust::xxh3::Xxh3);

impl Hash {
    fn new() -> Hash {
        Hash(xxhash_rust::xxh3::Xxh3::new())
    }

    fn bytes(&mut self, b: &[u8]) {
        self.0.update(&(b.len() as u64).to_le_bytes());
        self.0.update(b);
    }

    fn finish(&self) -> u128 {
        self.0.digest128()
    }
}

/// This build of the tool: its version and the executable's size and modification time (a
/// rebuild invalidates every entry).
fn build_id() -> String {
    let exe = std::env::current_exe().ok().and_then(|p| fs::metadata(p).ok());
    let stamp = exe.map(|m| {
        (
            m.len(),
            m.modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()),
        )
    });
    format!("{} {stamp:?}", env!("CARGO_PKG_VERSION"))
}

fn key(build: &str, pkg: &PackageSources, settings: &Settings) -> String {
    let mut h = Hash::new();
    h.bytes(build.as_bytes());
    // (Whether `-vv` explains the plan changes no finding.)
    let findings_settings = Settings {
        explain_plan: false,
        ..settings.clone()
    };
    h.bytes(format!("{findings_settings:?} {:?} {}", pkg.edition, pkg.binaries_only).as_bytes());
    for f in &pkg.files {
        h.bytes(f.name.as_bytes());
        match &f.content {
            Ok(b) => h.bytes(b),
            Err(e) => h.bytes(format!("error: {e}").as_bytes()),
        }
    }
    format!("{:032x}", h.finish())
}

fn entry_path(dir: &Path, unit_id: &str, ext: &str) -> PathBuf {
    let mut h = Hash::new();
    h.bytes(unit_id.as_bytes());
    dir.join(format!("{:016x}.{ext}", h.finish() as u64))
}

/// How a package was analyzed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// The cache held its findings: nothing was lexed or parsed.
    Fresh,
    /// Analyzed: `parsed` files parsed, `reused` files' facts taken from the cache.
    Analyzed { parsed: usize, reused: usize },
}

/// Analyzes a package, or reads its findings from the cache when nothing changed; when
/// something changed, reuses the cached facts of the files that did not.
pub fn analyze(dir: Option<&Path>, unit_id: &str, pkg: &PackageSources, settings: &Settings) -> (Analysis, Answer) {
    let analyzed = |a: &Analysis| Answer::Analyzed {
        parsed: a.parsed,
        reused: a.reused,
    };
    let Some(dir) = dir else {
        let a = lint_core::analyze(pkg, settings);
        let answer = analyzed(&a);
        return (a, answer);
    };
    let build = build_id();
    let key = key(&build, pkg, settings);
    let path = entry_path(dir, unit_id, "json");
    if let Ok(bytes) = fs::read(&path)
        && let Ok(entry) = serde_json::from_slice::<Entry>(&bytes)
        && entry.format == FORMAT
        && entry.key == key
    {
        let files = pkg
            .files
            .iter()
            .map(|f| {
                let text = f
                    .content
                    .as_ref()
                    .ok()
                    .and_then(|b| std::str::from_utf8(b).ok())
                    .unwrap_or("");
                SourceFile::new(&f.name, text)
            })
            .collect();
        return (
            Analysis {
                files,
                diagnostics: entry.diagnostics,
                coverage: entry.coverage,
                ..Default::default()
            },
            Answer::Fresh,
        );
    }
    let facts_path = entry_path(dir, unit_id, "facts");
    let prior = read_facts(&facts_path, &build).unwrap_or_default();
    let (analysis, facts) = lint_core::analyze_incremental(pkg, settings, &prior);
    if let Ok(json) = serde_json::to_vec(&Entry {
        format: FORMAT,
        key,
        diagnostics: analysis.diagnostics.clone(),
        coverage: analysis.coverage.clone(),
    }) {
        store(dir, &path, &json);
    }
    // Unchanged facts (every file reused, none dropped) need not be written again.
    if analysis.parsed > 0 || facts.len() != prior.len() {
        let entry = FactsEntry {
            format: FORMAT,
            build,
            files: facts,
        };
        if let Ok(body) = postcard::to_stdvec(&entry) {
            let mut bytes = Vec::with_capacity(body.len() + 16);
            bytes.extend_from_slice(FACTS_MAGIC);
            bytes.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(&body).to_le_bytes());
            bytes.extend_from_slice(&body);
            store(dir, &facts_path, &bytes);
        }
    }
    let answer = analyzed(&analysis);
    (analysis, answer)
}

/// The cached facts of a package, when the entry is intact and from this build.
fn read_facts(path: &Path, build: &str) -> Option<Vec<FileFacts>> {
    let bytes = fs::read(path).ok()?;
    let rest = bytes.strip_prefix(FACTS_MAGIC.as_slice())?;
    let (sum, body) = rest.split_at_checked(8)?;
    if xxhash_rust::xxh3::xxh3_64(body).to_le_bytes() != sum {
        return None;
    }
    let entry: FactsEntry = postcard::from_bytes(body).ok()?;
    (entry.format == FORMAT && entry.build == build).then_some(entry.files)
}

/// Best effort: a cache that cannot be written only costs time.
fn store(dir: &Path, path: &Path, bytes: &[u8]) {
    if fs::create_dir_all(dir).is_err() {
        return;
    }
    // Like ruff's cache: git ignores the directory even where `target/` is not ignored (a
    // pre-commit hook must not look as if it changed the tree), and backup tools skip it
    // (https://bford.info/cachedir/). Also for a directory an older version created.
    let ignore = dir.join(".gitignore");
    if !ignore.is_file() {
        let _ = fs::write(ignore, "# Automatically created by maplint.\n*\n");
        let _ = fs::write(
            dir.join("CACHEDIR.TAG"),
            "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by maplint.\n",
        );
    }
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        std::process::id()
    ));
    if fs::write(&tmp, bytes).is_ok() && fs::rename(&tmp, path).is_err() {
        let _ = fs::remove_file(&tmp);
    }
}

/// Where a unit's cache lives: `maplint/cache` under the target directory (`--target-dir`,
/// else `$CARGO_TARGET_DIR`, else the target directory of the unit's workspace: cargo's, or
/// `target/` at the workspace root of a package linted by path), or, for loose files, in the
/// user's cache directory (`$XDG_CACHE_HOME/maplint`, `~/.cache/maplint`,
/// `%LOCALAPPDATA%\maplint`). `None` when there is none of these.
pub fn dir_for(target_dir: Option<&Path>, unit_target_dir: Option<&Path>) -> Option<PathBuf> {
    let target = target_dir
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from))
        .or_else(|| unit_target_dir.map(Path::to_path_buf));
    if let Some(t) = target {
        return Some(t.join("maplint").join("cache"));
    }
    let nonempty = |v: &str| std::env::var_os(v).filter(|x| !x.is_empty()).map(PathBuf::from);
    nonempty("XDG_CACHE_HOME")
        .or_else(|| nonempty("HOME").map(|h| h.join(".cache")))
        .or_else(|| nonempty("LOCALAPPDATA"))
        .map(|c| c.join("maplint"))
}
