//! Configuration: `maplint.toml` or `[workspace.metadata.maplint]` at the workspace root, and
//! `[package.metadata.maplint]` in a package's Cargo.toml (the package wins for rule levels;
//! types and excludes add up).
//!
//! ```toml
//! [workspace.metadata.maplint]
//! map-types = ["my_crate::FastMap"]
//! lock-types = [{ path = "my_crate::SpinLock", kind = "mutex" }]
//! spawners = ["my_runtime::spawn"]
//! exclude = ["generated/**"]
//!
//! [workspace.metadata.maplint.rules]
//! map_duplicate_fill = "deny"
//! ```
//!
//! Unknown keys, unknown rules and wrong types are errors naming the file, line and column.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use lint_core::Level;
use lint_core::settings::{LockTypeKind, TypeConfig};
use serde::Deserialize;
use toml::Spanned;

/// The name of the stand-alone configuration file at the workspace root.
pub const FILE_NAME: &str = "maplint.toml";

/// The keys of one configuration table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Raw {
    #[serde(default)]
    rules: BTreeMap<Spanned<String>, RawLevel>,
    #[serde(default)]
    map_types: Vec<String>,
    #[serde(default)]
    lock_types: Vec<RawLock>,
    #[serde(default)]
    spawners: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
}

/// A rule's level as cargo's `[lints]` writes it: `"warn"`, or `{ level = "warn", priority = 1 }`
/// (a priority orders lint groups in cargo; maplint has no groups, so it is accepted and has no
/// effect). `forbid` is `deny`.
#[derive(Debug)]
struct RawLevel(Level);

impl<'de> Deserialize<'de> for RawLevel {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        const EXPECTED: &str =
            r#"a level ("allow", "warn", "deny" or "forbid") or a table like { level = "warn", priority = 0 }"#;
        fn level<E: serde::de::Error>(s: &str) -> Result<Level, E> {
            match s {
                "allow" => Ok(Level::Allow),
                "warn" => Ok(Level::Warn),
                "deny" | "forbid" => Ok(Level::Deny),
                _ => Err(E::invalid_value(serde::de::Unexpected::Str(s), &EXPECTED)),
            }
        }
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawLevel;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(EXPECTED)
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<RawLevel, E> {
                level(s).map(RawLevel)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<RawLevel, A::Error> {
                let mut found = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "level" => found = Some(level(&map.next_value::<String>()?)?),
                        "priority" => {
                            map.next_value::<i64>()?;
                        }
                        other => {
                            return Err(serde::de::Error::unknown_field(other, &["level", "priority"]));
                        }
                    }
                }
                found
                    .map(RawLevel)
                    .ok_or_else(|| serde::de::Error::missing_field("level"))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLock {
    path: String,
    kind: RawLockKind,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum RawLockKind {
    Mutex,
    Rwlock,
}

/// The parts of a Cargo.toml that hold maplint's tables; everything else is ignored.
#[derive(Debug, Deserialize)]
struct ManifestDoc {
    package: Option<Holder>,
    workspace: Option<Holder>,
}

#[derive(Debug, Deserialize)]
struct Holder {
    metadata: Option<MetaHolder>,
}

#[derive(Debug, Deserialize)]
struct MetaHolder {
    maplint: Option<Raw>,
}

/// A path glob that excludes files, relative to the directory of the configuration that set it.
#[derive(Debug, Clone)]
pub struct Exclude {
    base: PathBuf,
    pattern: String,
}

/// The configuration in force for one package.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub levels: BTreeMap<String, Level>,
    pub types: TypeConfig,
    pub exclude: Vec<Exclude>,
}

/// Bad configuration: the message starts with `path:line:column`.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `path:line:col: message` and the line with a caret under the span.
fn error_at(path: &Path, text: &str, span: Option<Range<usize>>, msg: &str) -> ConfigError {
    let shown = shown(path);
    let Some(span) = span else {
        return ConfigError(format!("{shown}: {msg}"));
    };
    let start = span.start.min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_no = text[..line_start].matches('\n').count() + 1;
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line = text[line_start..line_end].trim_end_matches('\r');
    let col = text[line_start..start].chars().count() + 1;
    let width = text
        .get(start..span.end.min(line_end).max(start))
        .map_or(1, |s| s.chars().count().max(1));
    let gutter = " ".repeat(line_no.to_string().len());
    ConfigError(format!(
        "{shown}:{line_no}:{col}: {msg}\n{gutter} |\n{line_no} | {line}\n{gutter} | {}{}",
        " ".repeat(col - 1),
        "^".repeat(width)
    ))
}

/// A path relative to the current directory when under it.
fn shown(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    crate::paths::display(path, &cwd)
}

fn parse<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| {
        let msg = e.message().trim_end();
        error_at(path, text, e.span(), &format!("invalid maplint configuration: {msg}"))
    })
}

/// Turns a raw table into a configuration, checking rule names.
fn check(raw: Raw, path: &Path, text: &str, base: &Path, table: &str) -> Result<Config, ConfigError> {
    let mut levels = BTreeMap::new();
    for (name, level) in raw.rules {
        let span = name.span();
        let name = name.into_inner();
        let rule = name.strip_prefix("maplint::").unwrap_or(&name);
        if lint_core::rules::meta(rule).is_none() {
            return Err(error_at(
                path,
                text,
                Some(span),
                &format!(
                    "unknown rule `{name}` in `{table}.rules`{}\nvalid rules: {}",
                    lint_core::rules::did_you_mean(&name),
                    crate::cli::rule_names().join(", ")
                ),
            ));
        }
        levels.insert(rule.to_owned(), level.0);
    }
    let locks = raw
        .lock_types
        .into_iter()
        .map(|l| {
            let kind = match l.kind {
                RawLockKind::Mutex => LockTypeKind::Mutex,
                RawLockKind::Rwlock => LockTypeKind::RwLock,
            };
            (l.path, kind)
        })
        .collect();
    Ok(Config {
        levels,
        types: TypeConfig {
            maps: raw.map_types,
            locks,
            spawners: raw.spawners,
        },
        exclude: raw
            .exclude
            .into_iter()
            .map(|pattern| Exclude {
                base: base.to_path_buf(),
                pattern,
            })
            .collect(),
    })
}

fn read(path: &Path) -> Result<Option<String>, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ConfigError(format!("{}: cannot read: {e}", shown(path)))),
    }
}

/// The workspace-level configuration: `maplint.toml` at the root, or
/// `[workspace.metadata.maplint]` in the root Cargo.toml (having both is an error).
pub fn load_workspace(root: &Path) -> Result<Config, ConfigError> {
    let manifest = root.join("Cargo.toml");
    let from_manifest = match read(&manifest)? {
        // Not TOML at all: not a configuration error (see `load_package`).
        Some(text) if text.parse::<toml::Table>().is_err() => None,
        Some(text) => {
            let doc: ManifestDoc = parse(&manifest, &text)?;
            match doc.workspace.and_then(|w| w.metadata).and_then(|m| m.maplint) {
                Some(raw) => Some(check(raw, &manifest, &text, root, "workspace.metadata.maplint")?),
                None => None,
            }
        }
        None => None,
    };
    let file = root.join(FILE_NAME);
    if let Some(text) = read(&file)? {
        if from_manifest.is_some() {
            return Err(ConfigError(format!(
                "{}: configuration found both here and in `[workspace.metadata.maplint]` of {}; keep one",
                shown(&file),
                shown(&manifest)
            )));
        }
        let raw: Raw = parse(&file, &text)?;
        return check(raw, &file, &text, root, "maplint.toml");
    }
    Ok(from_manifest.unwrap_or_default())
}

/// A configuration file named on the command line (`--config-file`), in `maplint.toml`'s
/// format; its `exclude` globs are relative to its directory.
pub fn load_file(path: &Path) -> Result<Config, ConfigError> {
    let Some(text) = read(path)? else {
        return Err(ConfigError(format!("{}: cannot read: no such file", shown(path))));
    };
    let raw: Raw = parse(path, &text)?;
    let base = path.parent().unwrap_or(Path::new("."));
    check(raw, path, &text, base, FILE_NAME)
}

/// `[package.metadata.maplint]` of a package manifest, merged over the workspace's.
pub fn load_package(manifest: &Path, workspace: &Config) -> Result<Config, ConfigError> {
    let mut config = workspace.clone();
    let Some(text) = read(manifest)? else {
        return Ok(config);
    };
    // A manifest that is not TOML at all is not a configuration error: path mode reports it
    // (and lints the package with defaults); cargo mode never gets here with one.
    if text.parse::<toml::Table>().is_err() {
        return Ok(config);
    }
    let doc: ManifestDoc = parse(manifest, &text)?;
    if let Some(raw) = doc.package.and_then(|p| p.metadata).and_then(|m| m.maplint) {
        let base = manifest.parent().unwrap_or(Path::new("."));
        let pkg = check(raw, manifest, &text, base, "package.metadata.maplint")?;
        config.levels.extend(pkg.levels);
        config.types.maps.extend(pkg.types.maps);
        config.types.locks.extend(pkg.types.locks);
        config.types.spawners.extend(pkg.types.spawners);
        config.exclude.extend(pkg.exclude);
    }
    Ok(config)
}

impl Config {
    /// Is this file excluded by a configured glob?
    pub fn excludes(&self, path: &Path) -> bool {
        self.exclude.iter().any(|e| {
            path.strip_prefix(&e.base).is_ok_and(|rel| {
                let segments: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                path_glob(&e.pattern, &segments)
            })
        })
    }
}

/// Matches a `/`-separated glob against a relative path: `*`, `?` and `[..]` within a segment,
/// `**` for any number of segments. A pattern that matches a directory matches everything in
/// it (`generated` excludes `generated/a.rs`); a pattern without `/` matches at any depth
/// (`*_generated.rs`).
pub fn path_glob(pattern: &str, segments: &[String]) -> bool {
    fn go(p: &[&str], s: &[String]) -> bool {
        match p.split_first() {
            // The pattern is used up: it matched this path or a directory above it.
            None => true,
            Some((&"**", rest)) => (0..=s.len()).any(|i| go(rest, &s[i..])),
            Some((seg, rest)) => s
                .first()
                .is_some_and(|first| crate::paths::glob(seg, first) && go(rest, &s[1..])),
        }
    }
    let pattern = pattern.trim().trim_start_matches("./").trim_end_matches('/');
    if pattern.is_empty() {
        return false;
    }
    let parts: Vec<&str> = pattern.split('/').filter(|p| !p.is_empty()).collect();
    if parts.len() == 1 && parts[0] != "**" {
        return (0..segments.len()).any(|i| go(&parts, &segments[i..]));
    }
    go(&parts, segments)
}

/// The workspace root of a package found in path mode: the nearest directory at or above it
/// whose Cargo.toml has `[workspace]`, else the package directory.
pub fn workspace_root_of(package_dir: &Path) -> PathBuf {
    package_dir
        .ancestors()
        .find(|d| {
            std::fs::read_to_string(d.join("Cargo.toml"))
                .ok()
                .and_then(|t| t.parse::<toml::Table>().ok())
                .is_some_and(|t| t.contains_key("workspace"))
        })
        .unwrap_or(package_dir)
        .to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(p: &str) -> Vec<String> {
        p.split('/').map(str::to_owned).collect()
    }

    #[test]
    fn globs() {
        assert!(path_glob("generated", &segs("generated/a.rs")));
        assert!(path_glob("generated/**", &segs("generated/x/a.rs")));
        assert!(path_glob("src/gen_*.rs", &segs("src/gen_a.rs")));
        assert!(!path_glob("src/gen_*.rs", &segs("src/x/gen_a.rs")));
        assert!(path_glob("**/gen_*.rs", &segs("src/x/gen_a.rs")));
        assert!(path_glob("*_generated.rs", &segs("src/deep/a_generated.rs")));
        assert!(!path_glob("tests", &segs("src/tests.rs")));
        assert!(!path_glob("", &segs("a.rs")));
    }

    #[test]
    fn errors_name_line_and_column() {
        let text = "[rules]\nmap_lock_reentry = \"warn\"\nnope = \"deny\"\n";
        let raw: Raw = parse(Path::new("maplint.toml"), text).unwrap();
        let e = check(raw, Path::new("maplint.toml"), text, Path::new("."), "maplint.toml").unwrap_err();
        assert!(e.0.starts_with("maplint.toml:3:1: unknown rule `nope`"), "{}", e.0);
        let text = "[rules]\nmap_lock_reentri = \"warn\"\n";
        let raw: Raw = parse(Path::new("maplint.toml"), text).unwrap();
        let e = check(raw, Path::new("maplint.toml"), text, Path::new("."), "maplint.toml").unwrap_err();
        assert!(e.0.contains("did you mean `map_lock_reentry`?"), "{}", e.0);
        let text = "map-types = \"x\"\n";
        let e = parse::<Raw>(Path::new("maplint.toml"), text).unwrap_err();
        assert!(
            e.0.starts_with("maplint.toml:1:13: invalid maplint configuration"),
            "{}",
            e.0
        );
        let text = "[rules]\nmap_lock_reentry = \"warning\"\n";
        let e = parse::<Raw>(Path::new("maplint.toml"), text).unwrap_err();
        assert!(e.0.contains("maplint.toml:2:20"), "{}", e.0);
        let text = "spawner = []\n";
        let e = parse::<Raw>(Path::new("maplint.toml"), text).unwrap_err();
        assert!(e.0.contains("unknown field `spawner`"), "{}", e.0);
        // A wrong type says what is accepted.
        let text = "[rules]\nmap_lock_reentry = 3\n";
        let e = parse::<Raw>(Path::new("maplint.toml"), text).unwrap_err();
        assert!(
            e.0.contains(
                r#"a level ("allow", "warn", "deny" or "forbid") or a table like { level = "warn", priority = 0 }"#
            ),
            "{}",
            e.0
        );
        let text = "[rules]\nmap_lock_reentry = { lvl = \"warn\" }\n";
        let e = parse::<Raw>(Path::new("maplint.toml"), text).unwrap_err();
        assert!(e.0.contains("unknown field `lvl`"), "{}", e.0);
    }

    #[test]
    fn levels_in_cargos_lints_table_form() {
        let text = "[rules]\nmap_lock_reentry = { level = \"warn\", priority = 1 }\n\
                    map_duplicate_fill = { level = \"forbid\" }\nmap_check_then_act = \"allow\"\n";
        let raw: Raw = parse(Path::new("maplint.toml"), text).unwrap();
        let c = check(raw, Path::new("maplint.toml"), text, Path::new("."), "maplint.toml").unwrap();
        assert_eq!(c.levels["map_lock_reentry"], Level::Warn);
        assert_eq!(c.levels["map_duplicate_fill"], Level::Deny);
        assert_eq!(c.levels["map_check_then_act"], Level::Allow);
    }
}
