//! What to lint: packages from `cargo metadata` (never a build), or from paths given on the
//! command line (Cargo.toml files read directly, no cargo).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};
use lint_core::Edition;
use serde::{Deserialize, Serialize};

use crate::paths::{absolute, display, glob};
use crate::walk::{self, Listing};

/// A cargo target as `cargo metadata` and cargo's JSON messages describe it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Target {
    pub kind: Vec<String>,
    #[serde(default)]
    pub crate_types: Vec<String>,
    pub name: String,
    pub src_path: PathBuf,
    #[serde(default = "edition_2015")]
    pub edition: String,
    #[serde(rename = "required-features", default, skip_serializing_if = "Vec::is_empty")]
    pub required_features: Vec<String>,
    #[serde(default = "yes")]
    pub doc: bool,
    #[serde(default = "yes")]
    pub doctest: bool,
    #[serde(default = "yes")]
    pub test: bool,
}

fn edition_2015() -> String {
    "2015".to_owned()
}

fn yes() -> bool {
    true
}

/// Where a unit's files come from.
#[derive(Debug)]
pub enum Sources {
    /// Walk the package root when the unit is linted (cargo mode).
    Walk { skip: Vec<PathBuf> },
    /// Already listed (path mode).
    Listed(Listing),
}

/// One unit of analysis: a package, or a loose file linted alone.
#[derive(Debug)]
pub struct Unit {
    pub name: String,
    /// Cargo package ID spec (`path+file:///dir#name@version`).
    pub id: String,
    pub manifest_path: Option<PathBuf>,
    /// Absolute package directory (or the loose file itself).
    pub root: PathBuf,
    pub edition: Edition,
    pub targets: Vec<Target>,
    /// The unit builds no library, so no other crate calls its code
    /// ([`lint_core::PackageSources::binaries_only`]): every target of a package is a binary
    /// (`bin`, `example`, `test`, `bench`, a build script), or `--crate-type bin`. A loose file
    /// is taken as a library: what it is part of is unknown.
    pub binaries_only: bool,
    pub sources: Sources,
    /// File names are shown relative to this directory when under it.
    pub display_base: PathBuf,
    /// The workspace root whose configuration applies (`None`: a loose file, no configuration).
    pub config_root: Option<PathBuf>,
    /// The target directory of the package's workspace (cargo's, or `target/` at the workspace
    /// root in path mode; `None` for loose files), where the result cache goes.
    pub target_dir: Option<PathBuf>,
}

impl Unit {
    /// The display name of a file: relative to the workspace root (cargo mode) or the current
    /// directory (path mode) when under it, absolute otherwise.
    pub fn display(&self, path: &Path) -> String {
        display(path, &self.display_base)
    }

    /// The target a file belongs to: the one whose `src_path` is the file, else the one whose
    /// `src_path` directory is the longest prefix of the file (libraries first), else the
    /// library or the first target.
    pub fn target_of(&self, path: &Path) -> Option<&Target> {
        if let Some(t) = self.targets.iter().find(|t| t.src_path == path) {
            return Some(t);
        }
        let is_lib = |t: &Target| {
            t.kind
                .iter()
                .any(|k| k == "lib" || k == "proc-macro" || k.ends_with("lib"))
        };
        self.targets
            .iter()
            .filter_map(|t| {
                let dir = t.src_path.parent()?;
                path.starts_with(dir)
                    .then(|| (dir.components().count(), is_lib(t)))
                    .map(|key| (key, t))
            })
            // Longest directory, then libraries; `max_by_key` keeps the last maximum, so iterate
            // in reverse to keep the first target among equals.
            .rev()
            .max_by_key(|&(key, _)| key)
            .map(|(_, t)| t)
            .or_else(|| self.targets.iter().find(|t| is_lib(t)))
            .or_else(|| self.targets.first())
    }
}

fn file_url(path: &Path) -> String {
    format!("path+file://{}", path.display())
}

// ---------------------------------------------------------------------------------------------
// Cargo mode

#[derive(Debug, Deserialize)]
struct Metadata {
    packages: Vec<MetaPackage>,
    workspace_members: Vec<String>,
    #[serde(default)]
    workspace_default_members: Option<Vec<String>>,
    workspace_root: PathBuf,
    target_directory: PathBuf,
}

#[derive(Debug, Deserialize)]
struct MetaPackage {
    name: String,
    version: String,
    id: String,
    manifest_path: PathBuf,
    #[serde(default = "edition_2015")]
    edition: String,
    targets: Vec<Target>,
}

/// Package selection flags.
#[derive(Debug)]
pub struct Selection<'a> {
    pub manifest_path: Option<&'a Path>,
    pub packages: &'a [String],
    pub workspace: bool,
    pub exclude: &'a [String],
}

/// `cargo metadata --no-deps --offline` for the selection's manifest.
fn cargo_metadata(sel: &Selection<'_>) -> anyhow::Result<Metadata> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        // (rustup and cargo print a backtrace into their error under these.)
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE");
    if let Some(m) = sel.manifest_path {
        cmd.arg("--manifest-path").arg(m);
    }
    let out = cmd
        .output()
        .with_context(|| format!("cannot run `{} metadata`", Path::new(&cargo).display()))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stderr = stderr.trim();
        let stderr = stderr.strip_prefix("error: ").unwrap_or(stderr);
        if stderr.is_empty() {
            bail!("`cargo metadata` failed ({}) and said nothing", out.status);
        }
        bail!("`cargo metadata` failed: {stderr}");
    }
    serde_json::from_slice(&out.stdout).context("cannot read the output of `cargo metadata`")
}

/// Runs `cargo metadata --no-deps --offline` (it never builds, runs no build script and no
/// proc macro) and selects packages as cargo does; or, when `cargo metadata` cannot answer
/// although there is a manifest (a
/// `rust-toolchain.toml` naming a toolchain that is not installed, no working cargo), the
/// manifests read directly as `cargo maplint PATH` does, with a warning that says why: nothing
/// is compiled, so nothing needs the toolchain.
pub fn from_cargo_or_manifests(sel: &Selection<'_>) -> anyhow::Result<(Vec<Unit>, Vec<String>)> {
    let e = match cargo_metadata(sel) {
        Ok(meta) => return select(&meta, sel),
        Err(e) => e,
    };
    // A manifest cargo rejects is the user's to fix; only a cargo that cannot run or says
    // nothing, or a missing toolchain (rustup's answer to a pin), is worked around.
    let reason = format!("{e:#}");
    if !(reason.contains("cannot run") || reason.contains("said nothing") || reason.contains("toolchain")) {
        return Err(e);
    }
    let start = sel.manifest_path.map_or_else(
        || absolute(Path::new(".")),
        |m| absolute(m.parent().unwrap_or(Path::new("."))),
    );
    let Some(dir) = start.ancestors().find(|d| d.join("Cargo.toml").is_file()) else {
        return Err(e);
    };
    let ws = crate::config::workspace_root_of(dir);
    // cargo's default: the package of the manifest; at a workspace root, every member under it.
    let root = if sel.workspace || !sel.packages.is_empty() {
        ws.clone()
    } else {
        dir.to_path_buf()
    };
    let (mut units, mut warnings) = from_paths(&[root], None, false)?;
    units.retain(|u| u.manifest_path.is_some());
    for u in &mut units {
        // File names relative to the workspace root, as in cargo mode.
        u.display_base.clone_from(&ws);
    }
    if !sel.packages.is_empty() {
        units.retain(|u| sel.packages.contains(&u.name));
    }
    units.retain(|u| !sel.exclude.contains(&u.name));
    warnings.insert(
        0,
        format!("reading the manifests directly (as `cargo maplint PATH` does), because {reason}"),
    );
    Ok((units, warnings))
}

fn canonical(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| absolute(p))
}

fn select(meta: &Metadata, sel: &Selection<'_>) -> anyhow::Result<(Vec<Unit>, Vec<String>)> {
    let mut warnings = Vec::new();
    let members: Vec<&MetaPackage> = meta
        .packages
        .iter()
        .filter(|p| meta.workspace_members.contains(&p.id))
        .collect();
    let mut chosen: Vec<&MetaPackage> = if sel.workspace {
        members.clone()
    } else if !sel.packages.is_empty() {
        let mut chosen = Vec::new();
        for spec in sel.packages {
            let found: Vec<&MetaPackage> = members.iter().copied().filter(|p| spec_matches(spec, p)).collect();
            if found.is_empty() {
                bail!("package ID specification `{spec}` did not match any packages");
            }
            chosen.extend(found);
        }
        chosen
    } else {
        default_selection(meta, &members, sel.manifest_path)
    };
    for spec in sel.exclude {
        if !members.iter().any(|p| spec_matches(spec, p)) {
            warnings.push(format!(
                "excluded package ID specification `{spec}` did not match any packages"
            ));
        }
        chosen.retain(|p| !spec_matches(spec, p));
    }
    chosen.sort_by(|a, b| a.manifest_path.cmp(&b.manifest_path));
    chosen.dedup_by(|a, b| a.id == b.id);
    let root = meta.workspace_root.clone();
    let units = chosen
        .into_iter()
        .map(|p| {
            let dir = p.manifest_path.parent().map_or_else(|| root.clone(), Path::to_path_buf);
            let edition = Edition::parse(&p.edition).unwrap_or(Edition::E2024);
            Unit {
                name: p.name.clone(),
                id: p.id.clone(),
                manifest_path: Some(p.manifest_path.clone()),
                root: dir,
                edition,
                binaries_only: binaries_only(&p.targets),
                targets: p.targets.clone(),
                sources: Sources::Walk {
                    skip: vec![meta.target_directory.clone()],
                },
                display_base: root.clone(),
                config_root: Some(root.clone()),
                target_dir: Some(meta.target_directory.clone()),
            }
        })
        .collect();
    Ok((units, warnings))
}

/// Cargo's default: the package of the selected manifest, or, at the workspace root, the
/// default members (all members of a virtual workspace).
fn default_selection<'m>(
    meta: &Metadata,
    members: &[&'m MetaPackage],
    manifest_path: Option<&Path>,
) -> Vec<&'m MetaPackage> {
    let manifest = match manifest_path {
        Some(m) => Some(canonical(m)),
        None => std::env::current_dir()
            .ok()
            .and_then(|cwd| cwd.ancestors().map(|d| d.join("Cargo.toml")).find(|m| m.is_file()))
            .map(|m| canonical(&m)),
    };
    let root_manifest = canonical(&meta.workspace_root.join("Cargo.toml"));
    if let Some(m) = manifest.filter(|m| *m != root_manifest)
        && let Some(p) = members.iter().find(|p| canonical(&p.manifest_path) == m)
    {
        return vec![*p];
    }
    match &meta.workspace_default_members {
        Some(ids) => members.iter().copied().filter(|p| ids.contains(&p.id)).collect(),
        None => match members.iter().find(|p| canonical(&p.manifest_path) == root_manifest) {
            Some(p) => vec![*p],
            None => members.to_vec(),
        },
    }
}

/// Matches a package ID spec: `name`, `name@version`, `name:version`, globs in the name, or a
/// URL spec such as `path+file:///abs/dir#name@0.1.0` or `path+file:///abs/dir#0.1.0`.
fn spec_matches(spec: &str, p: &MetaPackage) -> bool {
    let spec = spec.trim();
    if spec == p.id {
        return true;
    }
    if spec.contains("://") {
        let (url, fragment) = spec.split_once('#').unwrap_or((spec, ""));
        let url = url
            .split_once('+')
            .filter(|(kind, _)| !kind.contains(':'))
            .map_or(url, |(_, rest)| rest);
        let url_path = url.split_once("://").map_or(url, |(_, rest)| rest);
        let last_segment = url_path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        let (name, version) = match fragment.split_once('@') {
            Some((n, v)) => (n, Some(v)),
            None if fragment.starts_with(|c: char| c.is_ascii_digit()) => (last_segment, Some(fragment)),
            None if fragment.is_empty() => (last_segment, None),
            None => (fragment, None),
        };
        if url.starts_with("file://") {
            let dir = p.manifest_path.parent().unwrap_or(Path::new(""));
            let spec_dir = Path::new(percent_decode(url_path).as_str()).to_path_buf();
            if canonical(&spec_dir) != canonical(dir) && spec_dir != dir {
                return false;
            }
            // A path spec without a fragment names the package in that directory.
            if fragment.is_empty() {
                return true;
            }
        }
        return glob(name, &p.name) && version.is_none_or(|v| version_matches(v, &p.version));
    }
    let (name, version) = spec
        .split_once('@')
        .or_else(|| spec.split_once(':'))
        .map_or((spec, None), |(n, v)| (n, Some(v)));
    glob(name, &p.name) && version.is_none_or(|v| version_matches(v, &p.version))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A partial version (`1`, `1.2`) matches every version it is a prefix of.
fn version_matches(spec: &str, version: &str) -> bool {
    let spec = spec.trim_start_matches('=');
    let (spec_core, spec_pre) = spec.split_once('-').map_or((spec, None), |(c, p)| (c, Some(p)));
    let (core, pre) = version.split_once('-').map_or((version, None), |(c, p)| (c, Some(p)));
    let core = core.split('+').next().unwrap_or(core);
    let spec_parts: Vec<&str> = spec_core.split('.').collect();
    let parts: Vec<&str> = core.split('.').collect();
    spec_parts.len() <= parts.len()
        && spec_parts.iter().zip(&parts).all(|(a, b)| a == b)
        && spec_pre.is_none_or(|sp| pre == Some(sp))
}

// ---------------------------------------------------------------------------------------------
// Path mode

/// The `[package]` facts path mode needs, read from a Cargo.toml with the `toml` crate.
#[derive(Debug)]
struct Manifest {
    name: Option<String>,
    version: Option<String>,
    edition: Option<Edition>,
    lib: Option<(Option<String>, Option<PathBuf>)>,
    bins: Vec<(Option<String>, Option<PathBuf>)>,
    build: Option<PathBuf>,
}

fn read_toml(path: &Path) -> Result<toml::Table, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    text.parse::<toml::Table>().map_err(|e| e.message().to_owned())
}

/// Whether a directory's Cargo.toml declares a package. An unparsable manifest counts as a
/// package when it has a line starting a `[package` table, so its files are linted together.
fn has_package(dir: &Path) -> bool {
    let path = dir.join("Cargo.toml");
    match read_toml(&path) {
        Ok(t) => t.contains_key("package") || t.contains_key("project"),
        Err(_) => std::fs::read_to_string(&path)
            // Unparsable: still a package when it starts a `[package` table (the parse error
            // is reported as a warning and the package is linted with defaults).
            .is_ok_and(|s| {
                s.lines()
                    .any(|l| l.trim().starts_with("[package") || l.trim().starts_with("[project"))
            }),
    }
}

fn str_field(table: &toml::Table, key: &str) -> Option<String> {
    table.get(key).and_then(toml::Value::as_str).map(str::to_owned)
}

fn inherits(table: &toml::Table, key: &str) -> bool {
    table
        .get(key)
        .and_then(toml::Value::as_table)
        .and_then(|t| t.get("workspace"))
        .and_then(toml::Value::as_bool)
        == Some(true)
}

/// `[workspace.package] KEY` of the nearest ancestor manifest (the package's own included).
fn workspace_field(dir: &Path, key: &str) -> Option<String> {
    dir.ancestors()
        .filter(|d| d.join("Cargo.toml").is_file())
        .find_map(|d| {
            let t = read_toml(&d.join("Cargo.toml")).ok()?;
            let ws = t.get("workspace")?.as_table()?;
            ws.get("package")?.as_table().and_then(|p| str_field(p, key))
        })
}

fn read_manifest(dir: &Path, warnings: &mut Vec<String>) -> Manifest {
    let path = dir.join("Cargo.toml");
    let table = match read_toml(&path) {
        Ok(t) => t,
        Err(e) => {
            warnings.push(format!(
                "cannot parse `{}`: {}; using defaults",
                path.display(),
                e.trim()
            ));
            return Manifest {
                name: None,
                version: None,
                edition: None,
                lib: None,
                bins: Vec::new(),
                build: None,
            };
        }
    };
    let empty = toml::Table::new();
    let pkg = table
        .get("package")
        .or_else(|| table.get("project"))
        .and_then(toml::Value::as_table)
        .unwrap_or(&empty);
    let edition = if inherits(pkg, "edition") {
        workspace_field(dir, "edition")
    } else {
        str_field(pkg, "edition")
    };
    let edition = match edition {
        None => Some(Edition::E2015),
        Some(e) => {
            let parsed = Edition::parse(&e);
            if parsed.is_none() {
                warnings.push(format!(
                    "unknown edition `{e}` in `{}`; using the latest",
                    path.display()
                ));
            }
            Some(parsed.unwrap_or(Edition::E2024))
        }
    };
    let version = if inherits(pkg, "version") {
        workspace_field(dir, "version")
    } else {
        str_field(pkg, "version")
    };
    let target = |t: &toml::Table| (str_field(t, "name"), str_field(t, "path").map(PathBuf::from));
    Manifest {
        name: str_field(pkg, "name"),
        version,
        edition,
        lib: table.get("lib").and_then(toml::Value::as_table).map(target),
        bins: table
            .get("bin")
            .and_then(toml::Value::as_array)
            .map(|a| a.iter().filter_map(toml::Value::as_table).map(target).collect())
            .unwrap_or_default(),
        build: pkg.get("build").and_then(toml::Value::as_str).map(PathBuf::from),
    }
}

/// Every target builds a binary (a `bin`, `example`, `test` or `bench` of crate type `bin`, or
/// a build script): the package has no library for another crate to call.
fn binaries_only(targets: &[Target]) -> bool {
    !targets.is_empty()
        && targets.iter().all(|t| {
            if t.crate_types.is_empty() {
                t.kind
                    .iter()
                    .all(|k| matches!(k.as_str(), "bin" | "example" | "test" | "bench" | "custom-build"))
            } else {
                t.crate_types.iter().all(|c| c == "bin")
            }
        })
}

fn target(kind: &str, name: &str, src_path: PathBuf, edition: Edition) -> Target {
    let crate_type = match kind {
        "lib" => "lib",
        _ => "bin",
    };
    Target {
        kind: vec![kind.to_owned()],
        crate_types: vec![crate_type.to_owned()],
        name: name.to_owned(),
        src_path,
        edition: edition.as_str().to_owned(),
        required_features: Vec::new(),
        doc: matches!(kind, "lib" | "bin"),
        doctest: kind == "lib",
        test: matches!(kind, "lib" | "bin" | "test"),
    }
}

fn rs_files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs") && p.is_file())
        .collect();
    v.sort();
    v
}

/// Cargo's target auto-discovery, plus explicit `[lib]`/`[[bin]]` paths and `build`.
fn discover_targets(dir: &Path, name: &str, m: &Manifest, edition: Edition) -> Vec<Target> {
    let crate_name = name.replace('-', "_");
    let mut targets = Vec::new();
    let lib_path = m
        .lib
        .as_ref()
        .and_then(|(_, p)| p.clone())
        .map(|p| dir.join(p))
        .or_else(|| {
            let p = dir.join("src/lib.rs");
            p.is_file().then_some(p)
        });
    if let Some(p) = lib_path {
        let lib_name = m.lib.as_ref().and_then(|(n, _)| n.clone()).unwrap_or(crate_name);
        targets.push(target("lib", &lib_name, p, edition));
    }
    let mut bins: Vec<(String, PathBuf)> = Vec::new();
    for (n, p) in &m.bins {
        let n = n.clone().unwrap_or_else(|| name.to_owned());
        let p = p
            .clone()
            .map_or_else(|| dir.join("src/bin").join(format!("{n}.rs")), |p| dir.join(p));
        bins.push((n, p));
    }
    let main = dir.join("src/main.rs");
    if main.is_file() && !bins.iter().any(|(_, p)| *p == main) {
        bins.push((name.to_owned(), main));
    }
    for p in rs_files_in(&dir.join("src/bin")) {
        if !bins.iter().any(|(_, b)| *b == p) {
            let stem = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            bins.push((stem, p));
        }
    }
    targets.extend(bins.into_iter().map(|(n, p)| target("bin", &n, p, edition)));
    for (folder, kind) in [("examples", "example"), ("tests", "test"), ("benches", "bench")] {
        for p in rs_files_in(&dir.join(folder)) {
            let stem = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            targets.push(target(kind, &stem, p, edition));
        }
    }
    let build = m.build.clone().map_or_else(|| dir.join("build.rs"), |b| dir.join(b));
    if build.is_file() {
        let mut t = target("custom-build", "build-script-build", build, edition);
        t.doc = false;
        t.test = false;
        targets.push(t);
    }
    targets
}

/// The edition of a file outside any discovered package: `--edition`, else that of an
/// enclosing package (a file given inside a crate), else 2021.
fn loose_edition(file: &Path, flag: Option<Edition>, warnings: &mut Vec<String>) -> Edition {
    if let Some(e) = flag {
        return e;
    }
    file.ancestors()
        .skip(1)
        .find(|d| d.join("Cargo.toml").is_file() && has_package(d))
        .and_then(|d| read_manifest(d, warnings).edition)
        .unwrap_or(Edition::E2021)
}

fn package_unit(dir: &Path, listing: Listing, cwd: &Path, warnings: &mut Vec<String>) -> Unit {
    let m = read_manifest(dir, warnings);
    let name = m.name.clone().unwrap_or_else(|| {
        dir.file_name()
            .map_or_else(|| "package".to_owned(), |n| n.to_string_lossy().into_owned())
    });
    let version = m.version.clone().unwrap_or_else(|| "0.0.0".to_owned());
    let edition = m.edition.unwrap_or(Edition::E2015);
    let targets = discover_targets(dir, &name, &m, edition);
    let ws = crate::config::workspace_root_of(dir);
    Unit {
        id: format!("{}#{name}@{version}", file_url(dir)),
        name,
        manifest_path: Some(dir.join("Cargo.toml")),
        root: dir.to_path_buf(),
        edition,
        binaries_only: binaries_only(&targets),
        targets,
        sources: Sources::Listed(listing),
        display_base: cwd.to_path_buf(),
        config_root: Some(ws.clone()),
        target_dir: Some(ws.join("target")),
    }
}

fn loose_unit(file: &Path, error: Option<String>, edition: Edition, cwd: &Path) -> Unit {
    let stem = file
        .file_stem()
        .map_or_else(|| "main".to_owned(), |s| s.to_string_lossy().into_owned());
    let mut listing = Listing::default();
    match error {
        Some(e) => listing.errors.push((file.to_path_buf(), e)),
        None => listing.files.push(file.to_path_buf()),
    }
    Unit {
        id: format!("{}#{stem}@0.0.0", file_url(file)),
        targets: vec![target("bin", &stem, file.to_path_buf(), edition)],
        binaries_only: false,
        name: stem,
        manifest_path: None,
        root: file.to_path_buf(),
        edition,
        sources: Sources::Listed(listing),
        display_base: cwd.to_path_buf(),
        config_root: None,
        target_dir: None,
    }
}

/// The one unit of build-system mode (`--crate-root`): exactly `files` (and the root), as one
/// crate, read from nothing else. Its names and id are the paths as given, so the output is the
/// same wherever the build system runs it. Fails on a path that is not a readable file.
pub fn hermetic(
    root: &Path,
    files: &[PathBuf],
    edition: Option<Edition>,
    name: Option<&str>,
    crate_type: Option<&str>,
) -> anyhow::Result<Unit> {
    let mut listing = Listing::default();
    for given in std::iter::once(root).chain(files.iter().map(PathBuf::as_path)) {
        let meta = std::fs::metadata(given).with_context(|| format!("cannot lint `{}`", given.display()))?;
        if !meta.is_file() {
            bail!(
                "cannot lint `{}`: with `--crate-root`, give the crate's files, not a directory",
                given.display()
            );
        }
        if !listing.files.iter().any(|f| f == given) {
            listing.files.push(given.to_path_buf());
        }
    }
    let name = name.map_or_else(|| crate_name_of(root), str::to_owned);
    // rustc's default edition.
    let edition = edition.unwrap_or(Edition::E2015);
    // rustc's `--crate-type`; without it, `main.rs` is a binary's root and any other a library's.
    let kind = match crate_type {
        Some("bin") => "bin",
        Some(_) => "lib",
        None if root.file_stem().is_some_and(|s| s == "main") => "bin",
        None => "lib",
    };
    Ok(Unit {
        id: format!("{name}@0.0.0"),
        targets: vec![target(kind, &name, root.to_path_buf(), edition)],
        binaries_only: kind == "bin",
        name,
        manifest_path: None,
        root: root.to_path_buf(),
        edition,
        sources: Sources::Listed(listing),
        display_base: absolute(Path::new(".")),
        config_root: None,
        target_dir: None,
    })
}

/// A crate's name from its root file: `src/foo.rs` is `foo`; `my-crate/src/lib.rs` is
/// `my_crate`.
fn crate_name_of(root: &Path) -> String {
    let stem = root
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = if matches!(stem.as_str(), "lib" | "main" | "mod") {
        absolute(root)
            .ancestors()
            .skip(1)
            .filter_map(|d| d.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .find(|n| n != "src")
            .unwrap_or(stem)
    } else {
        stem
    };
    if name.is_empty() {
        "crate".to_owned()
    } else {
        name.replace('-', "_")
    }
}

/// Units for paths given on the command line, sorted by path. Fails on a missing path.
///
/// With `whole_package`, a file inside a package stands for its whole package.
pub fn from_paths(
    paths: &[PathBuf],
    edition: Option<Edition>,
    whole_package: bool,
) -> anyhow::Result<(Vec<Unit>, Vec<String>)> {
    let cwd = absolute(Path::new("."));
    let mut warnings = Vec::new();
    let mut units = Vec::new();
    for given in paths {
        let path = absolute(given);
        let meta = std::fs::metadata(&path).with_context(|| format!("cannot lint `{}`", given.display()))?;
        if meta.is_dir() {
            let tree = walk::discover(&path, &mut has_package);
            for (dir, listing) in tree.packages {
                units.push(package_unit(&dir, listing, &cwd, &mut warnings));
            }
            for f in tree.loose.files {
                let e = loose_edition(&f, edition, &mut warnings);
                units.push(loose_unit(&f, None, e, &cwd));
            }
            for (f, err) in tree.loose.errors {
                let e = edition.unwrap_or_default();
                units.push(loose_unit(&f, Some(err), e, &cwd));
            }
        } else if path.file_name().is_some_and(|n| n == "Cargo.toml") {
            let dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
            let listing = walk::package_files(&dir, &[]);
            units.push(package_unit(&dir, listing, &cwd, &mut warnings));
        } else if let Some(dir) = path
            .ancestors()
            .skip(1)
            .find(|d| d.join("Cargo.toml").is_file() && has_package(d))
            .filter(|_| whole_package)
        {
            let listing = walk::package_files(dir, &[]);
            units.push(package_unit(dir, listing, &cwd, &mut warnings));
        } else {
            let e = loose_edition(&path, edition, &mut warnings);
            units.push(loose_unit(&path, None, e, &cwd));
        }
    }
    units.sort_by(|a, b| a.root.cmp(&b.root));
    units.dedup_by(|a, b| a.root == b.root);
    warnings.dedup();
    Ok((units, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str, version: &str, dir: &str) -> MetaPackage {
        MetaPackage {
            name: name.into(),
            version: version.into(),
            id: format!("path+file://{dir}#{name}@{version}"),
            manifest_path: PathBuf::from(format!("{dir}/Cargo.toml")),
            edition: "2021".into(),
            targets: Vec::new(),
        }
    }

    #[test]
    fn package_id_specs() {
        let p = pkg("foo-bar", "0.1.0", "/nonexistent/ws/foo-bar");
        for yes in [
            "foo-bar",
            "foo-bar@0.1.0",
            "foo-bar@0.1",
            "foo-bar:0.1.0",
            "foo-*",
            "f?o-ba[a-z]",
            "path+file:///nonexistent/ws/foo-bar#foo-bar@0.1.0",
            "path+file:///nonexistent/ws/foo-bar#0.1.0",
            "path+file:///nonexistent/ws/foo-bar",
            "file:///nonexistent/ws/foo-bar#foo-bar",
        ] {
            assert!(spec_matches(yes, &p), "{yes}");
        }
        for no in [
            "foo",
            "foo-bar@0.2",
            "foo-bar@0.1.0.1",
            "path+file:///nonexistent/ws/other#foo-bar@0.1.0",
            "path+file:///nonexistent/ws/foo-bar#0.2.0",
            "path+file:///nonexistent/ws/foo-bar#baz",
        ] {
            assert!(!spec_matches(no, &p), "{no}");
        }
    }

    #[test]
    fn a_package_of_binaries_only() {
        let t = |kind: &str| target(kind, "a", PathBuf::from("/p/src/x.rs"), Edition::E2021);
        assert!(binaries_only(&[
            t("bin"),
            t("test"),
            t("bench"),
            t("example"),
            t("custom-build")
        ]));
        assert!(!binaries_only(&[t("bin"), t("lib")]));
        assert!(!binaries_only(&[]));
        // `cargo metadata`: an example built as a `cdylib` is a library.
        let mut cdylib = t("example");
        cdylib.crate_types = vec!["cdylib".into()];
        assert!(!binaries_only(&[t("bin"), cdylib]));
        let mut proc_macro = t("proc-macro");
        proc_macro.crate_types = Vec::new();
        assert!(!binaries_only(&[proc_macro]));
    }

    #[test]
    fn files_go_to_the_nearest_target() {
        let t = |kind: &str, name: &str, p: &str| target(kind, name, PathBuf::from(p), Edition::E2021);
        let unit = Unit {
            name: "a".into(),
            id: String::new(),
            manifest_path: None,
            root: "/p".into(),
            edition: Edition::E2021,
            targets: vec![
                t("bin", "a", "/p/src/main.rs"),
                t("lib", "a", "/p/src/lib.rs"),
                t("test", "it", "/p/tests/it.rs"),
                t("custom-build", "build-script-build", "/p/build.rs"),
            ],
            binaries_only: false,
            sources: Sources::Walk { skip: Vec::new() },
            display_base: "/p".into(),
            config_root: None,
            target_dir: None,
        };
        let of = |p: &str| unit.target_of(Path::new(p)).map(|t| t.name.as_str());
        assert_eq!(of("/p/src/main.rs"), Some("a"));
        assert_eq!(unit.target_of(Path::new("/p/src/x/y.rs")).unwrap().kind, ["lib"]);
        assert_eq!(of("/p/tests/common/mod.rs"), Some("it"));
        assert_eq!(of("/p/build.rs"), Some("build-script-build"));
        assert_eq!(unit.target_of(Path::new("/p/other.rs")).unwrap().kind, ["custom-build"]);
    }
}
