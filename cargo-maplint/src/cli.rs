//! The command line: cargo's conventions (`cargo maplint ...`, `-p`, `--workspace`,
//! `--message-format`, `--color`) plus maplint's own `-A/-W/-D RULE`, `--edition` and paths.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

use clap::{ArgAction, CommandFactory, FromArgMatches, Parser, ValueEnum};
use lint_core::fix::FixMode;
use lint_core::{Edition, Level};

const AFTER_HELP: &str = "\
Without paths, the packages are found with `cargo metadata --no-deps --offline` (never a build):
the package in the current directory, or the default members of the workspace at its root.
With paths, files are linted alone and directories are searched for packages (folders with a
Cargo.toml that has [package]) without calling cargo.

Cargo's target, feature and build flags (--all-targets, --lib, --bins, --bin, --examples,
--example, --tests, --test, --benches, --bench, --target, --all-features, --no-default-features,
-F/--features, --config, --target-dir, -Z, -j, --release, --profile, --frozen, --locked,
--offline, --keep-going) are accepted and ignored: every .rs file of a selected package is read,
nothing is built, no build script or proc macro runs.

`cargo maplint rules` lists the rules with their levels; `--explain RULE` prints a rule's docs.
Configuration: [workspace.metadata.maplint] / [package.metadata.maplint] in Cargo.toml, or
maplint.toml at the workspace root (see the README).

Exit status: 0 no deny-level findings, 1 deny-level findings (or, with --diff, changes to make),
2 usage error, bad configuration, cargo metadata failure, missing path, dirty tree for --fix or
unreadable file.";

/// Finds deadlocks and races on maps shared between threads.
#[derive(Debug, Parser)]
#[command(
    name = "cargo-maplint",
    bin_name = "cargo maplint",
    version,
    about,
    after_help = AFTER_HELP,
    max_term_width = 100
)]
#[allow(clippy::struct_excessive_bools)] // cargo's flags are booleans; they are parsed, not combined.
pub struct Cli {
    /// Files or directories to lint instead of the cargo workspace.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Path to Cargo.toml.
    #[arg(long, value_name = "PATH", help_heading = "Package Selection")]
    pub manifest_path: Option<PathBuf>,

    /// Package to lint (name, name@version or a package ID spec; globs allowed).
    #[arg(short, long = "package", value_name = "SPEC", help_heading = "Package Selection")]
    pub package: Vec<String>,

    /// Lint all packages in the workspace.
    #[arg(long, alias = "all", help_heading = "Package Selection")]
    pub workspace: bool,

    /// Exclude packages from the selection.
    #[arg(long, value_name = "SPEC", help_heading = "Package Selection")]
    pub exclude: Vec<String>,

    /// Edition of files linted outside a package.
    #[arg(long, value_name = "YEAR", value_parser = ["2015", "2018", "2021", "2024"])]
    pub edition: Option<String>,

    /// Set a rule to allow (`maplint::RULE`, `RULE` or `warnings`).
    #[arg(short = 'A', long = "allow", value_name = "RULE", help_heading = "Rule Levels")]
    pub allow: Vec<String>,

    /// Set a rule to warn.
    #[arg(short = 'W', long = "warn", value_name = "RULE", help_heading = "Rule Levels")]
    pub warn: Vec<String>,

    /// Set a rule to deny (error; exit status 1).
    #[arg(short = 'D', long = "deny", value_name = "RULE", help_heading = "Rule Levels")]
    pub deny: Vec<String>,

    /// Output format: human, short, json, sarif, json-diagnostic-short, json-diagnostic-rendered-ansi,
    /// json-render-diagnostics (repeatable, comma-separated).
    #[arg(long, value_name = "FMT", value_delimiter = ',', help_heading = "Output")]
    pub message_format: Vec<String>,

    /// Coloring of human output on stderr.
    #[arg(long, value_name = "WHEN", value_enum, help_heading = "Output")]
    pub color: Option<ColorChoice>,

    /// Exit with status 0 even when deny-level findings are reported.
    #[arg(long, help_heading = "Output")]
    pub exit_zero: bool,

    /// Do not read or write the result cache (`target/maplint/cache`).
    #[arg(long)]
    pub no_cache: bool,

    /// Parse every file, not only those that can matter (same findings, slower; also reports
    /// syntax errors in files that are otherwise only lexed).
    #[arg(long)]
    pub parse_all: bool,

    /// Use verbose output (shows backtraces of internal errors).
    #[arg(short, long, action = ArgAction::Count, help_heading = "Output")]
    pub verbose: u8,

    /// Do not print the summary line.
    #[arg(short, long, help_heading = "Output")]
    pub quiet: bool,

    /// Print a rule's documentation and exit.
    #[arg(long, value_name = "RULE", help_heading = "Rules")]
    pub explain: Option<String>,

    /// Apply machine-applicable suggestions (refuses a dirty git tree, like `cargo fix`).
    #[arg(long, help_heading = "Fixes")]
    pub fix: bool,

    /// With `--fix` or `--diff`: also apply maybe-incorrect suggestions.
    #[arg(long, help_heading = "Fixes")]
    pub unsafe_fixes: bool,

    /// Print the changes `--fix` would make as a unified diff on stdout; write nothing.
    #[arg(long, help_heading = "Fixes")]
    pub diff: bool,

    /// Fix even if the working directory has changes (including staged ones).
    #[arg(long, help_heading = "Fixes")]
    pub allow_dirty: bool,

    /// Fix even if the working directory has staged changes.
    #[arg(long, help_heading = "Fixes")]
    pub allow_staged: bool,

    /// Fix even if the files are not under git.
    #[arg(long, help_heading = "Fixes")]
    pub allow_no_vcs: bool,

    /// Report only findings that are not in this baseline file.
    #[arg(long, value_name = "FILE", help_heading = "Baseline")]
    pub baseline: Option<PathBuf>,

    /// Record today's findings in this baseline file and exit.
    #[arg(long, value_name = "FILE", conflicts_with = "baseline", help_heading = "Baseline")]
    pub write_baseline: Option<PathBuf>,

    /// With file paths: lint the whole package each file belongs to (the pre-commit hook).
    #[arg(long, help_heading = "Package Selection")]
    pub whole_package: bool,

    /// With `--message-format json`: first run `cargo clippy` or `cargo check` with the same
    /// package and target flags, and merge its messages into the stream (for rust-analyzer).
    #[arg(long, value_name = "COMMAND", value_parser = ["clippy", "check"], help_heading = "Output")]
    pub also_run: Option<String>,

    /// Build-system mode: lint exactly the FILES given, as one crate with this root file. Reads
    /// nothing else (no `cargo metadata`, no Cargo.toml, no configuration but `--config-file`,
    /// no cache) and writes nothing but `--output`.
    #[arg(
        long,
        value_name = "FILE",
        help_heading = "Build Systems",
        conflicts_with_all = ["manifest_path", "package", "workspace", "exclude", "whole_package", "fix", "diff", "write_baseline", "also_run"]
    )]
    pub crate_root: Option<PathBuf>,

    /// With `--crate-root`: the crate's name (default: the root file's name, or for `lib.rs`,
    /// `main.rs` and `mod.rs` the nearest directory's other than `src`).
    #[arg(long, value_name = "NAME", requires = "crate_root", help_heading = "Build Systems")]
    pub crate_name: Option<String>,

    /// With `--crate-root`: what the crate builds, as rustc's `--crate-type` (default: `bin` for a
    /// root named `main.rs`, else `lib`). A `bin` crate has no callers outside it, which
    /// `unsynchronized_map_write` weighs for a type declared `Sync`.
    #[arg(
        long,
        value_name = "TYPE",
        requires = "crate_root",
        help_heading = "Build Systems",
        value_parser = ["bin", "lib", "rlib", "dylib", "cdylib", "staticlib", "proc-macro"]
    )]
    pub crate_type: Option<String>,

    /// With `--crate-root`: the configuration to use, in `maplint.toml`'s format.
    #[arg(long, value_name = "FILE", requires = "crate_root", help_heading = "Build Systems")]
    pub config_file: Option<PathBuf>,

    /// Write what would go to stdout (the JSON or SARIF findings) to this file instead.
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub ignored: Ignored,
}

/// Flags cargo and rust-analyzer pass that a syntax-only linter accepts and ignores.
#[derive(Debug, clap::Args)]
#[allow(clippy::struct_excessive_bools)] // parsed and dropped
pub struct Ignored {
    #[arg(long, hide = true)]
    keep_going: bool,
    #[arg(long, hide = true)]
    all_targets: bool,
    #[arg(long, hide = true)]
    lib: bool,
    #[arg(long, hide = true)]
    bins: bool,
    #[arg(long, hide = true, num_args = 0..=1, value_name = "NAME")]
    bin: Vec<String>,
    #[arg(long, hide = true)]
    examples: bool,
    #[arg(long, hide = true, num_args = 0..=1, value_name = "NAME")]
    example: Vec<String>,
    #[arg(long, hide = true)]
    tests: bool,
    #[arg(long, hide = true, num_args = 0..=1, value_name = "NAME")]
    test: Vec<String>,
    #[arg(long, hide = true)]
    benches: bool,
    #[arg(long, hide = true, num_args = 0..=1, value_name = "NAME")]
    bench: Vec<String>,
    #[arg(long, hide = true, value_name = "TRIPLE")]
    target: Vec<String>,
    #[arg(long, hide = true)]
    all_features: bool,
    #[arg(long, hide = true)]
    no_default_features: bool,
    #[arg(short = 'F', long, hide = true, value_name = "FEATURES")]
    features: Vec<String>,
    #[arg(long, hide = true, value_name = "KEY=VALUE|PATH")]
    config: Vec<String>,
    #[arg(long, hide = true, value_name = "DIR")]
    pub target_dir: Option<PathBuf>,
    #[arg(short = 'Z', hide = true, value_name = "FLAG")]
    unstable: Vec<String>,
    #[arg(short = 'j', long, hide = true, value_name = "N", allow_hyphen_values = true)]
    jobs: Option<String>,
    #[arg(long, hide = true)]
    release: bool,
    #[arg(long, hide = true, value_name = "NAME")]
    profile: Option<String>,
    #[arg(long, hide = true)]
    frozen: bool,
    #[arg(long, hide = true)]
    locked: bool,
    #[arg(long, hide = true)]
    offline: bool,
}

impl Ignored {
    /// The accepted cargo flags, as arguments for another cargo command (`--also-run`).
    pub fn cargo_args(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (on, flag) in [
            (self.keep_going, "--keep-going"),
            (self.all_targets, "--all-targets"),
            (self.lib, "--lib"),
            (self.bins, "--bins"),
            (self.examples, "--examples"),
            (self.tests, "--tests"),
            (self.benches, "--benches"),
            (self.all_features, "--all-features"),
            (self.no_default_features, "--no-default-features"),
            (self.release, "--release"),
            (self.frozen, "--frozen"),
            (self.locked, "--locked"),
            (self.offline, "--offline"),
        ] {
            if on {
                out.push(flag.to_owned());
            }
        }
        for (values, flag) in [
            (&self.bin, "--bin"),
            (&self.example, "--example"),
            (&self.test, "--test"),
            (&self.bench, "--bench"),
            (&self.target, "--target"),
            (&self.features, "--features"),
            (&self.config, "--config"),
            (&self.unstable, "-Z"),
        ] {
            for v in values {
                out.push(flag.to_owned());
                out.push(v.clone());
            }
        }
        for (value, flag) in [(&self.jobs, "--jobs"), (&self.profile, "--profile")] {
            if let Some(v) = value {
                out.push(flag.to_owned());
                out.push(v.clone());
            }
        }
        if let Some(d) = &self.target_dir {
            out.push("--target-dir".to_owned());
            out.push(d.display().to_string());
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// How findings are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// rustc-style frames on stderr.
    Human,
    /// `path:line:col: level[code]: message` on stderr.
    Short,
    /// cargo `compiler-message` lines on stdout.
    Json(JsonRendered),
    /// `json-render-diagnostics`: findings rendered on stderr, only `build-finished` on stdout.
    JsonRenderDiagnostics,
    /// One SARIF 2.1.0 document on stdout.
    Sarif,
}

/// What the `rendered` field of a JSON message holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonRendered {
    Plain,
    Ansi,
    Short,
}

/// The validated command line.
#[derive(Debug)]
pub struct Options {
    pub cli: Cli,
    pub format: Format,
    /// The human format is short (`--message-format short`, or `json-diagnostic-short` with
    /// `json-render-diagnostics`).
    pub short: bool,
    pub color: bool,
    /// `-A/-W/-D` in command-line order (rule names without the prefix, or `warnings`).
    pub level_args: Vec<(Level, String)>,
    pub edition: Option<Edition>,
    /// `cargo maplint rules`: list the rules and exit.
    pub list_rules: bool,
    /// `--fix`/`--diff`: which suggestions to apply.
    pub fix: Option<FixMode>,
}

/// A command-line error: printed as `error: ...`, exit status 2.
#[derive(Debug)]
pub struct UsageError(pub String);

/// Parses the process arguments. `Err` carries clap's own error (help, version, usage).
pub fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Result<Options, UsageError>, clap::Error> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    // `cargo maplint ARGS` runs `cargo-maplint maplint ARGS`; accept both forms.
    if args.get(1).is_some_and(|a| a == "maplint") {
        args.remove(1);
    }
    // `cargo maplint rules [OPTIONS]` lists the rules (a directory named `rules` is `./rules`).
    let list_rules = args.get(1).is_some_and(|a| a == "rules");
    if list_rules {
        args.remove(1);
    }
    let matches = Cli::command().try_get_matches_from(args)?;
    let cli = Cli::from_arg_matches(&matches)?;
    Ok(validate(cli, &matches).map(|o| Options { list_rules, ..o }))
}

fn validate(cli: Cli, matches: &clap::ArgMatches) -> Result<Options, UsageError> {
    let (format, short, ansi) = message_format(&cli.message_format)?;
    let color = match cli.color.map_or_else(env_color, Ok)? {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            use std::io::IsTerminal;
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
        }
    } || ansi && format == Format::JsonRenderDiagnostics;
    let level_args = level_args(&cli, matches)?;
    let edition = cli.edition.as_deref().and_then(Edition::parse);
    if cli.unsafe_fixes && !(cli.fix || cli.diff) {
        return Err(UsageError("`--unsafe-fixes` needs `--fix` or `--diff`".to_owned()));
    }
    let fix = (cli.fix || cli.diff).then_some(if cli.unsafe_fixes {
        FixMode::Unsafe
    } else {
        FixMode::Safe
    });
    if cli.whole_package && cli.paths.is_empty() {
        return Err(UsageError("`--whole-package` needs file paths".to_owned()));
    }
    if cli.also_run.is_some() && !matches!(format, Format::Json(_)) {
        return Err(UsageError(
            "`--also-run` needs `--message-format json` (or a `json-diagnostic-*` variant)".to_owned(),
        ));
    }
    if !cli.paths.is_empty() && (cli.manifest_path.is_some() || cli.workspace || !cli.package.is_empty()) {
        return Err(UsageError(
            "paths cannot be combined with --manifest-path, --workspace or --package".to_owned(),
        ));
    }
    Ok(Options {
        cli,
        format,
        short,
        color,
        level_args,
        edition,
        list_rules: false,
        fix,
    })
}

fn env_color() -> Result<ColorChoice, UsageError> {
    match std::env::var("CARGO_TERM_COLOR") {
        Ok(v) if !v.is_empty() => ColorChoice::from_str(&v, true).map_err(|_| {
            UsageError(format!(
                "invalid CARGO_TERM_COLOR `{v}`: expected `auto`, `always` or `never`"
            ))
        }),
        _ => Ok(ColorChoice::Auto),
    }
}

/// Cargo's `--message-format` rules: `human`, `short` and `json` conflict; the `json-*`
/// modifiers imply `json`.
fn message_format(values: &[String]) -> Result<(Format, bool, bool), UsageError> {
    let mut base: Option<&str> = None;
    let (mut short, mut ansi, mut render) = (false, false, false);
    for v in values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
        let kind = match v {
            "human" | "short" | "json" | "sarif" => v,
            "json-diagnostic-short" => {
                short = true;
                "json"
            }
            "json-diagnostic-rendered-ansi" => {
                ansi = true;
                "json"
            }
            "json-render-diagnostics" => {
                render = true;
                "json"
            }
            other => {
                return Err(UsageError(format!(
                    "invalid message format `{other}`: expected one of human, short, json, sarif, \
                     json-diagnostic-short, json-diagnostic-rendered-ansi, json-render-diagnostics"
                )));
            }
        };
        match base {
            Some(b) if b != kind => {
                return Err(UsageError(format!(
                    "cannot specify two kinds of message formats (`{b}` and `{kind}`)"
                )));
            }
            _ => base = Some(kind),
        }
    }
    Ok(match base.unwrap_or("human") {
        "short" => (Format::Short, true, false),
        "sarif" => (Format::Sarif, false, false),
        "json" if render => (Format::JsonRenderDiagnostics, short, ansi),
        "json" => {
            let rendered = if short {
                JsonRendered::Short
            } else if ansi {
                JsonRendered::Ansi
            } else {
                JsonRendered::Plain
            };
            (Format::Json(rendered), short, ansi)
        }
        _ => (Format::Human, false, false),
    })
}

/// Every name `-A/-W/-D` accepts.
pub fn rule_names() -> Vec<&'static str> {
    lint_core::rules::RULES
        .iter()
        .map(|r| r.meta().name)
        .chain(lint_core::rules::TOOL_DIAGNOSTICS.iter().map(|m| m.name))
        .collect()
}

/// Reads `-A/-W/-D` in command-line order and checks the names.
fn level_args(cli: &Cli, matches: &clap::ArgMatches) -> Result<Vec<(Level, String)>, UsageError> {
    let mut ordered: Vec<(usize, Level, &str)> = Vec::new();
    for (id, level, values) in [
        ("allow", Level::Allow, &cli.allow),
        ("warn", Level::Warn, &cli.warn),
        ("deny", Level::Deny, &cli.deny),
    ] {
        let indices = matches
            .indices_of(id)
            .map(Iterator::collect::<Vec<_>>)
            .unwrap_or_default();
        for (i, v) in values.iter().enumerate() {
            ordered.push((indices.get(i).copied().unwrap_or(usize::MAX), level, v));
        }
    }
    ordered.sort_by_key(|&(i, ..)| i);
    let mut out = Vec::new();
    for (_, level, raw) in ordered {
        let name = raw.trim();
        let name = name.strip_prefix("maplint::").unwrap_or(name);
        if name != "warnings" && lint_core::rules::meta(name).is_none() {
            return Err(UsageError(format!(
                "unknown rule `{raw}`{}\n\nvalid rules: {}, warnings\n(each may be written with the `maplint::` prefix)",
                lint_core::rules::did_you_mean(raw),
                rule_names().join(", ")
            )));
        }
        out.push((level, name.to_owned()));
    }
    Ok(out)
}

/// Applies `-A/-W/-D` over `levels` (the configuration's) in order: the last one for a rule
/// wins, as in rustc, and `warnings` changes every rule currently at warn level.
pub fn apply_levels(levels: &mut BTreeMap<String, Level>, args: &[(Level, String)]) {
    let names = rule_names();
    for (level, name) in args {
        if name == "warnings" {
            for n in &names {
                let current = levels
                    .get(*n)
                    .copied()
                    .or_else(|| lint_core::rules::meta(n).map(|m| m.default_level));
                if current == Some(Level::Warn) {
                    levels.insert((*n).to_owned(), *level);
                }
            }
        } else {
            levels.insert(name.clone(), *level);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, UsageError> {
        parse_args(args.iter().map(OsString::from)).expect("clap accepts the arguments")
    }

    #[test]
    fn cargo_form_and_direct_form() {
        let o = parse(&["cargo-maplint", "maplint", "-p", "a"]).ok().unwrap();
        assert_eq!(o.cli.package, ["a"]);
        let o = parse(&["cargo-maplint", "-p", "a"]).ok().unwrap();
        assert_eq!(o.cli.package, ["a"]);
    }

    #[test]
    fn rust_analyzer_flags_are_accepted() {
        let o = parse(&[
            "cargo-maplint",
            "maplint",
            "--workspace",
            "--message-format=json-diagnostic-rendered-ansi",
            "--manifest-path",
            "x/Cargo.toml",
            "-Zscript",
            "--keep-going",
            "--target",
            "x86_64-unknown-linux-gnu",
            "--all-targets",
            "--no-default-features",
            "--features",
            "a b",
            "--config",
            "c.toml",
            "--target-dir",
            "t",
            "--bin",
            "b",
            "--lib",
            "--bins",
            "--examples",
            "--locked",
            "-v",
        ])
        .ok()
        .unwrap();
        assert_eq!(o.format, Format::Json(JsonRendered::Ansi));
        assert!(o.cli.workspace);
    }

    #[test]
    fn levels_follow_command_line_order() {
        let o = parse(&[
            "cargo-maplint",
            "-D",
            "maplint::parse_error",
            "-A",
            "parse_error",
            "-W",
            "io_error",
        ])
        .ok()
        .unwrap();
        let levels = |o: &Options| {
            let mut l = BTreeMap::new();
            apply_levels(&mut l, &o.level_args);
            l
        };
        assert_eq!(levels(&o).get("parse_error"), Some(&Level::Allow));
        assert_eq!(levels(&o).get("io_error"), Some(&Level::Warn));
        let o = parse(&["cargo-maplint", "-D", "warnings"]).ok().unwrap();
        assert_eq!(levels(&o).get("parse_error"), Some(&Level::Deny));
        // Configuration first, then the command line: a rule configured to warn is denied.
        let mut l = BTreeMap::from([("map_lock_reentry".to_owned(), Level::Warn)]);
        apply_levels(&mut l, &o.level_args);
        assert_eq!(l.get("map_lock_reentry"), Some(&Level::Deny));
        assert!(parse(&["cargo-maplint", "-D", "nope"]).is_err());
    }

    #[test]
    fn rules_subcommand_and_fix_flags() {
        let o = parse(&["cargo-maplint", "maplint", "rules", "-A", "io_error"])
            .ok()
            .unwrap();
        assert!(o.list_rules && o.cli.paths.is_empty());
        let o = parse(&["cargo-maplint", "./rules"]).ok().unwrap();
        assert!(!o.list_rules && o.cli.paths.len() == 1);
        let o = parse(&["cargo-maplint", "--fix", "--unsafe-fixes"]).ok().unwrap();
        assert_eq!(o.fix, Some(FixMode::Unsafe));
        assert_eq!(
            parse(&["cargo-maplint", "--diff"]).ok().unwrap().fix,
            Some(FixMode::Safe)
        );
        assert!(parse(&["cargo-maplint", "--unsafe-fixes"]).is_err());
        assert!(parse(&["cargo-maplint", "--also-run", "clippy"]).is_err());
        assert!(parse(&["cargo-maplint", "--also-run", "clippy", "--message-format=json"]).is_ok());
        assert_eq!(message_format(&["sarif".into()]).ok().unwrap().0, Format::Sarif);
    }

    #[test]
    fn message_formats() {
        assert_eq!(message_format(&["short".into()]).ok().unwrap().0, Format::Short);
        assert_eq!(
            message_format(&["json".into(), "json-diagnostic-short".into()])
                .ok()
                .unwrap()
                .0,
            Format::Json(JsonRendered::Short)
        );
        assert_eq!(
            message_format(&["json-render-diagnostics".into()]).ok().unwrap().0,
            Format::JsonRenderDiagnostics
        );
        assert!(message_format(&["human".into(), "json".into()]).is_err());
        assert!(message_format(&["xml".into()]).is_err());
    }
}
