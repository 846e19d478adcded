//! The result cache: a package's findings keyed by the tool build, the settings and every
//! source file's name and bytes, under `target/maplint/cache/`. A re-run on an unchanged
//! package reads its files and the cache and skips lexing, parsing and the model; a change to
//! any file of a package re-analyzes that package. Entries are written atomically (a temp
//! file, then a rename), so concurrent runs never see half a file; an entry that cannot be read
//! or does not match is ignored and rebuilt.

use std::fs;
use std::path::{Path, PathBuf};

use lint_core::{Analysis, Diagnostic, PackageSources, Settings, SourceFile};
use serde::{Deserialize, Serialize};

const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Entry {
    format: u32,
    key: String,
    diagnostics: Vec<Diagnostic>,
}

struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 ^= u64::from(x);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        // A separator, so that ("ab", "c") and ("a", "bc") differ.
        self.0 ^= 0xff;
        self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
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

fn key(pkg: &PackageSources, settings: &Settings) -> String {
    let mut h = Fnv::new();
    h.bytes(build_id().as_bytes());
    h.bytes(format!("{settings:?} {:?}", pkg.edition).as_bytes());
    for f in &pkg.files {
        h.bytes(f.name.as_bytes());
        match &f.content {
            Ok(b) => h.bytes(b),
            Err(e) => h.bytes(format!("error: {e}").as_bytes()),
        }
    }
    format!("{:016x}", h.0)
}

fn entry_path(dir: &Path, unit_id: &str) -> PathBuf {
    let mut h = Fnv::new();
    h.bytes(unit_id.as_bytes());
    dir.join(format!("{:016x}.json", h.0))
}

/// Analyzes a package, or reads its findings from the cache when nothing changed. The second
/// value says whether the cache answered.
pub fn analyze(dir: Option<&Path>, unit_id: &str, pkg: &PackageSources, settings: &Settings) -> (Analysis, bool) {
    let Some(dir) = dir else {
        return (lint_core::analyze(pkg, settings), false);
    };
    let key = key(pkg, settings);
    let path = entry_path(dir, unit_id);
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
                parsed: 0,
            },
            true,
        );
    }
    let analysis = lint_core::analyze(pkg, settings);
    store(
        dir,
        &path,
        &Entry {
            format: FORMAT,
            key,
            diagnostics: analysis.diagnostics.clone(),
        },
    );
    (analysis, false)
}

/// Best effort: a cache that cannot be written only costs time.
fn store(dir: &Path, path: &Path, entry: &Entry) {
    if fs::create_dir_all(dir).is_err() {
        return;
    }
    let Ok(json) = serde_json::to_vec(entry) else { return };
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        std::process::id()
    ));
    if fs::write(&tmp, json).is_ok() && fs::rename(&tmp, path).is_err() {
        let _ = fs::remove_file(&tmp);
    }
}

/// Where the cache lives: `$CARGO_TARGET_DIR/maplint/cache`, or `target/maplint/cache` under
/// the workspace root (cargo mode) or the current directory (path mode).
pub fn dir_for(base: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| base.join("target"), PathBuf::from)
        .join("maplint")
        .join("cache")
}
