//! One run: parse arguments, find the units, lint them one after another, print, exit status.

use std::any::Any;
use std::collections::{BTreeSet, HashMap};
use std::ffi::OsString;
use std::io::{BufRead as _, BufReader, Write as _};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use lint_core::fix::FixMode;
use lint_core::{Diagnostic, PackageSources, Settings};
use rayon::prelude::*;

use crate::baseline::{self, Baseline};
use crate::cli::{self, Format, Options};
use crate::config::{self, Config};
use crate::output::{Printer, Rendered, Stats};
use crate::workspace::{self, Selection, Sources, Unit};
use crate::{explain, fix, walk};

/// Exit status: usage error, cargo metadata failure, missing path or unreadable file.
const EXIT_ERROR: u8 = 2;

static VERBOSE: AtomicBool = AtomicBool::new(false);
static LAST_PANIC_LOCATION: Mutex<Option<String>> = Mutex::new(None);

/// A quiet panic hook: panics are caught and reported as findings, so the default hook's
/// message and backtrace would only be noise (and JSON consumers read our streams). With
/// `-v` the default hook runs as well.
fn install_panic_hook() {
    let default = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if let Ok(mut last) = LAST_PANIC_LOCATION.lock() {
            *last = info.location().map(ToString::to_string);
        }
        if VERBOSE.load(Ordering::Relaxed) {
            default(info);
        }
    }));
}

fn panic_message(p: &(dyn Any + Send)) -> String {
    let msg = p
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    match LAST_PANIC_LOCATION.lock().ok().and_then(|mut l| l.take()) {
        Some(loc) => format!("{msg} (at {loc})"),
        None => msg,
    }
}

/// Runs the command line and returns the exit status.
pub fn main(args: impl IntoIterator<Item = OsString>) -> u8 {
    install_panic_hook();
    let opts = match cli::parse_args(args) {
        Ok(Ok(o)) => o,
        Ok(Err(cli::UsageError(msg))) => {
            eprintln!("error: {msg}");
            return EXIT_ERROR;
        }
        Err(e) => {
            let _ = e.print();
            return u8::try_from(e.exit_code()).unwrap_or(EXIT_ERROR);
        }
    };
    VERBOSE.store(opts.cli.verbose > 0, Ordering::Relaxed);
    match panic::catch_unwind(AssertUnwindSafe(|| run(&opts))) {
        Ok(code) => code,
        Err(p) => {
            eprintln!("error: internal error: {}", panic_message(&*p));
            if opts.cli.verbose == 0 {
                eprintln!("note: run with `-v` (and RUST_BACKTRACE=1) for a backtrace");
            }
            EXIT_ERROR
        }
    }
}

/// `--output`: where what goes to stdout goes instead.
static OUTPUT: Mutex<Option<std::fs::File>> = Mutex::new(None);

fn write_out(r: &Rendered) {
    if !r.stderr.is_empty() {
        let mut e = std::io::stderr().lock();
        let _ = e.write_all(r.stderr.as_bytes());
        let _ = e.flush();
    }
    write_stdout(&r.stdout);
}

/// Writes to stdout, or to the `--output` file.
fn write_stdout(text: &str) {
    if text.is_empty() {
        return;
    }
    if let Ok(mut out) = OUTPUT.lock()
        && let Some(file) = out.as_mut()
    {
        let _ = file.write_all(text.as_bytes());
        return;
    }
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(text.as_bytes());
    let _ = o.flush();
}

/// How many packages are analyzed concurrently (their sources are held in memory meanwhile).
const UNITS_IN_FLIGHT: usize = 16;

/// What one unit is linted with.
#[derive(Debug)]
struct UnitSetup {
    settings: Settings,
    config: Config,
}

/// What the whole run does besides printing findings.
#[derive(Debug, Clone, Copy)]
struct Mode<'a> {
    printer: Printer,
    fix: Option<FixMode>,
    diff: bool,
    baseline: Option<&'a Baseline>,
    write_baseline: bool,
    /// Use the result cache (`--no-cache` turns it off; `--fix` always analyzes).
    cache: bool,
    /// What `--also-run` printed, for maplint's findings to fold its duplicates into.
    other: Option<&'a OtherRun>,
    /// `--target-dir`.
    target_dir: Option<&'a Path>,
    /// `-A/-W/-D` of the command line, in order.
    level_args: &'a [(lint_core::Level, String)],
}

/// What linting one unit produced.
#[derive(Debug, Default)]
struct UnitResult {
    rendered: Rendered,
    stats: Stats,
    /// All findings, for `--write-baseline`.
    entries: Vec<baseline::Entry>,
    /// Baseline entries that matched a finding.
    matched: Vec<usize>,
    /// Display names of the files checked.
    checked: Vec<String>,
    fixed: usize,
    fixed_files: usize,
    /// Remaining findings whose fix needs `--unsafe-fixes`.
    unsafe_fixable: usize,
    diff: String,
    warnings: Vec<String>,
    /// How the package was analyzed (for `-v`).
    answer: Option<crate::cache::Answer>,
    /// Under `-vv`: why each parsed file was parsed (`file: reason`).
    why_parsed: Vec<String>,
    /// Under `-v`: what was analyzed and what was not (a summary line), and under `-vv`, where
    /// each thing not analyzed is.
    coverage: (String, Vec<String>),
}

/// Loads each unit's configuration (workspace level once per workspace root) and puts the
/// command line's levels over it.
fn setups(units: &[Unit], opts: &Options) -> Result<(Vec<UnitSetup>, Option<Config>), config::ConfigError> {
    let mut workspaces: HashMap<PathBuf, Config> = HashMap::new();
    let mut out = Vec::new();
    let mut first_ws = None;
    for u in units {
        let config = match (&u.config_root, &opts.cli.config_file) {
            (None, Some(file)) => config::load_file(file)?,
            (None, None) => Config::default(),
            (Some(root), _) => {
                if !workspaces.contains_key(root) {
                    workspaces.insert(root.clone(), config::load_workspace(root)?);
                }
                let ws = &workspaces[root];
                if first_ws.is_none() {
                    first_ws = Some(ws.clone());
                }
                match &u.manifest_path {
                    Some(m) => config::load_package(m, ws)?,
                    None => ws.clone(),
                }
            }
        };
        let mut levels = config.levels.clone();
        cli::apply_levels(&mut levels, &opts.level_args);
        out.push(UnitSetup {
            settings: Settings {
                levels,
                types: config.types.clone(),
                parse_all: opts.cli.parse_all,
                explain_plan: opts.cli.verbose > 1,
            },
            config,
        });
    }
    Ok((out, first_ws))
}

fn is_json(f: Format) -> bool {
    matches!(f, Format::Json(_) | Format::JsonRenderDiagnostics)
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn run(opts: &Options) -> u8 {
    let cli = &opts.cli;
    if let Some(rule) = &cli.explain {
        return match explain::explain(rule) {
            Ok(page) => {
                print!("{page}");
                0
            }
            Err(e) => {
                eprintln!("error: {e}");
                EXIT_ERROR
            }
        };
    }
    let printer = Printer {
        format: opts.format,
        short: opts.short,
        color: opts.color,
        quiet: cli.quiet,
    };
    let fail = |msg: &str| {
        eprintln!("error: {msg}");
        if is_json(opts.format) {
            write_out(&Rendered {
                stdout: format!("{}\n", crate::output::json::build_finished(false, None)),
                ..Rendered::default()
            });
        }
        EXIT_ERROR
    };
    if let Some(path) = &cli.output {
        match std::fs::File::create(path) {
            Ok(f) => *OUTPUT.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(f),
            Err(e) => return fail(&format!("cannot write `{}`: {e}", path.display())),
        }
    }
    let found = if let Some(root) = &cli.crate_root {
        workspace::hermetic(
            root,
            &cli.paths,
            opts.edition,
            cli.crate_name.as_deref(),
            cli.crate_type.as_deref(),
        )
        .map(|u| (vec![u], Vec::new()))
    } else if cli.paths.is_empty() {
        workspace::from_cargo_or_manifests(&Selection {
            manifest_path: cli.manifest_path.as_deref(),
            packages: &cli.package,
            workspace: cli.workspace,
            exclude: &cli.exclude,
        })
    } else {
        workspace::from_paths(&cli.paths, opts.edition, cli.whole_package)
    };
    let (units, warnings) = match found {
        Ok(v) => v,
        // Outside any package, `rules` lists the defaults (and the command line's levels).
        Err(_) if opts.list_rules && cli.paths.is_empty() => {
            let mut levels = std::collections::BTreeMap::new();
            cli::apply_levels(&mut levels, &opts.level_args);
            print!("{}", explain::list(&levels));
            return 0;
        }
        Err(e) => return fail(&format!("{e:#}")),
    };
    let (setups, workspace_config) = match setups(&units, opts) {
        Ok(v) => v,
        Err(e) => return fail(&e.to_string()),
    };
    if opts.list_rules {
        let levels = if let [one] = setups.as_slice() {
            one.settings.levels.clone()
        } else {
            let mut levels = workspace_config.map(|c| c.levels).unwrap_or_default();
            cli::apply_levels(&mut levels, &opts.level_args);
            levels
        };
        print!("{}", explain::list(&levels));
        return 0;
    }
    let loaded_baseline = match cli.baseline.as_deref().map(Baseline::load).transpose() {
        Ok(b) => b,
        Err(e) => return fail(&e),
    };
    if opts.fix.is_some() && !cli.diff {
        let dirs: Vec<PathBuf> = units.iter().map(|u| u.root.clone()).collect();
        let flags = fix::VcsFlags {
            allow_dirty: cli.allow_dirty,
            allow_staged: cli.allow_staged,
            allow_no_vcs: cli.allow_no_vcs,
        };
        if let Err(e) = fix::check_vcs(&dirs, flags) {
            return fail(&e);
        }
    }
    if !cli.quiet {
        for w in &warnings {
            eprintln!("warning: {w}");
        }
    }
    let other = cli.also_run.as_deref().map(|cmd| also_run(cmd, opts));
    let mode = Mode {
        printer,
        fix: opts.fix,
        diff: cli.diff,
        baseline: loaded_baseline.as_ref(),
        write_baseline: cli.write_baseline.is_some(),
        cache: !cli.no_cache && opts.fix.is_none() && !cli.diff && cli.crate_root.is_none(),
        other: other.as_ref(),
        target_dir: cli.ignored.target_dir.as_deref(),
        level_args: &opts.level_args,
    };
    let mut stats = Stats::default();
    let mut total = UnitResult::default();
    let mut sarif_results = Vec::new();
    // With `--fix`, the findings come after the line that says what was fixed; with
    // `--also-run`, after the other tool's messages (less those folded into maplint's).
    let hold_back = (opts.fix.is_some() && !cli.diff) || other.is_some();
    // Several packages are analyzed at once so small packages keep every core busy; results are
    // printed in order, a window at a time, so memory stays bounded.
    lint_core::in_pool(|| {
        let jobs: Vec<(&Unit, &UnitSetup)> = units.iter().zip(&setups).collect();
        for window in jobs.chunks(UNITS_IN_FLIGHT) {
            let results: Vec<UnitResult> = window
                .par_iter()
                .map(|&(unit, setup)| {
                    let result = panic::catch_unwind(AssertUnwindSafe(|| lint_unit(unit, setup, mode)));
                    match result {
                        Ok(v) => v,
                        Err(p) => internal_error(unit, &setup.settings, printer, &panic_message(&*p)),
                    }
                })
                .collect();
            for ((unit, _), mut r) in window.iter().zip(results) {
                if cli.verbose > 0 {
                    eprintln!("{}", progress_line(unit, r.answer, cli.verbose));
                    for why in &r.why_parsed {
                        eprintln!("{:>12} {why}", "parsed");
                    }
                    if !r.coverage.0.is_empty() {
                        eprintln!("{:>12} {}", "", r.coverage.0);
                    }
                    if cli.verbose > 1 {
                        for place in &r.coverage.1 {
                            eprintln!("{:>12} {place}", "skipped");
                        }
                    }
                }
                if !cli.quiet {
                    for w in &r.warnings {
                        eprintln!("warning: {w}");
                    }
                }
                if hold_back {
                    total.rendered.stderr.push_str(&r.rendered.stderr);
                    total.rendered.stdout.push_str(&r.rendered.stdout);
                } else {
                    write_out(&r.rendered);
                }
                if !r.diff.is_empty() {
                    print!("{}", r.diff);
                }
                sarif_results.append(&mut r.rendered.sarif);
                stats.add(r.stats);
                total.entries.append(&mut r.entries);
                total.matched.append(&mut r.matched);
                total.checked.append(&mut r.checked);
                total.fixed += r.fixed;
                total.fixed_files += r.fixed_files;
                total.unsafe_fixable += r.unsafe_fixable;
            }
        }
    });
    finish(
        opts,
        &units,
        stats,
        total,
        sarif_results,
        other.as_ref(),
        loaded_baseline.as_ref(),
    )
}

/// The end of the run: the baseline written, the fix and baseline notes, the summary or the
/// SARIF document, and the exit status.
fn finish(
    opts: &Options,
    units: &[Unit],
    stats: Stats,
    total: UnitResult,
    sarif_results: Vec<serde_json::Value>,
    other: Option<&OtherRun>,
    loaded_baseline: Option<&Baseline>,
) -> u8 {
    let cli = &opts.cli;
    if let Some(path) = &cli.write_baseline {
        return match baseline::write(path, total.entries) {
            Ok(n) => {
                eprintln!("maplint: wrote {} to {}", plural(n, "finding"), path.display());
                0
            }
            Err(e) => {
                eprintln!("error: {e}");
                EXIT_ERROR
            }
        };
    }
    if cli.diff {
        if !cli.quiet {
            eprintln!(
                "maplint: would fix {} in {}",
                plural(total.fixed, "finding"),
                plural(total.fixed_files, "file")
            );
        }
        return u8::from(total.fixed_files > 0);
    }
    if opts.fix.is_some() && !cli.quiet {
        if total.fixed > 0 {
            eprintln!(
                "maplint: fixed {} in {}",
                plural(total.fixed, "finding"),
                plural(total.fixed_files, "file")
            );
        }
        if total.unsafe_fixable > 0 {
            eprintln!(
                "maplint: {} {} a fix that may change behaviour; review it and apply it with `--fix --unsafe-fixes`",
                plural(total.unsafe_fixable, "finding"),
                if total.unsafe_fixable == 1 { "has" } else { "have" }
            );
        }
    }
    if let Some(other) = other {
        other.print_unabsorbed();
    }
    // (The findings held back until here, see `hold_back`.)
    write_out(&total.rendered);
    if let Some(b) = loaded_baseline {
        let matched: BTreeSet<usize> = total.matched.iter().copied().collect();
        let checked: BTreeSet<String> = total.checked.into_iter().collect();
        let stale = b.unmatched(&matched, &checked);
        if !cli.quiet {
            if !matched.is_empty() {
                eprintln!(
                    "note: {} matched the baseline and are not shown",
                    plural(matched.len(), "finding")
                );
            }
            if stale == 1 {
                eprintln!("warning: 1 baseline entry no longer matches; rewrite with --write-baseline");
            } else if stale > 1 {
                eprintln!("warning: {stale} baseline entries no longer match; rewrite with --write-baseline");
            }
        }
    }
    let success = stats.errors == 0 && other.is_none_or(|o| o.ok);
    if opts.format == Format::Sarif {
        let base = units
            .first()
            .map_or_else(|| crate::paths::absolute(Path::new(".")), |u| u.display_base.clone());
        // (Build-system mode asks no `git` where the repository is: it reads nothing else.)
        let git = cli.crate_root.is_none();
        write_stdout(&crate::output::sarif::document(
            sarif_results,
            &base,
            stats.io_errors == 0,
            git,
        ));
    }
    write_out(&opts_printer(opts).finish(stats, success));
    if stats.io_errors > 0 {
        EXIT_ERROR
    } else {
        u8::from(!success && !cli.exit_zero)
    }
}

fn opts_printer(opts: &Options) -> Printer {
    Printer {
        format: opts.format,
        short: opts.short,
        color: opts.color,
        quiet: opts.cli.quiet,
    }
}

/// The first finding of each rule says where its level comes from and how to silence one
/// finding (rustc's "`#[warn(..)]` on by default" note, once per rule and package).
fn say_how_to_silence(analysis: &mut lint_core::Analysis, config: &Config, level_args: &[(lint_core::Level, String)]) {
    let mut seen: Vec<String> = Vec::new();
    for d in &mut analysis.diagnostics {
        if seen.contains(&d.rule) {
            continue;
        }
        seen.push(d.rule.clone());
        // (Rules only: the tool's own diagnostics say what went wrong with a file.)
        let Some(meta) = lint_core::rules::RULES
            .iter()
            .map(|r| r.meta())
            .find(|m| m.name == d.rule)
        else {
            continue;
        };
        let before_cli = config.levels.get(&d.rule).copied().unwrap_or(meta.default_level);
        let flag = |l: lint_core::Level| match l {
            lint_core::Level::Allow => "A",
            lint_core::Level::Warn => "W",
            lint_core::Level::Deny => "D",
        };
        // The last `-A/-W/-D` that set it: one naming the rule, or `warnings` over a warn level.
        let mut from_cli = None;
        let mut current = before_cli;
        for (level, name) in level_args {
            if *name == d.rule || (name == "warnings" && current == lint_core::Level::Warn) {
                current = *level;
                from_cli = Some(format!("-{} {name}", flag(*level)));
            }
        }
        let level = d.level.as_str();
        let origin = match (from_cli, config.levels.contains_key(&d.rule)) {
            (Some(arg), _) => format!(
                "`maplint::{}` is set to `{level}` by `{arg}` on the command line",
                d.rule
            ),
            (None, true) => format!("`maplint::{}` is set to `{level}` by the configuration", d.rule),
            (None, false) => format!("`maplint::{}` is `{level}` by default", d.rule),
        };
        d.notes.push(format!(
            "{origin}; to silence one finding, write `// maplint: allow({}) -- reason` on its line or the line before",
            d.rule
        ));
    }
}

/// What `--also-run` printed: its JSON lines (less its `build-finished`), and the clippy
/// findings among them that a maplint finding on the same lines can fold in.
#[derive(Debug, Default)]
struct OtherRun {
    ok: bool,
    lines: Vec<String>,
    findings: Vec<OtherFinding>,
    /// Which of `lines` a maplint finding folded in (not printed).
    absorbed: Mutex<Vec<bool>>,
}

#[derive(Debug)]
struct OtherFinding {
    line: usize,
    /// The lint's name without `clippy::`.
    lint: String,
    /// The primary span's file as cargo prints it (relative to the workspace root) and lines.
    file: String,
    lines: (usize, usize),
}

impl OtherRun {
    fn new(ok: bool, lines: Vec<String>) -> OtherRun {
        let findings = lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| {
                let v: serde_json::Value = serde_json::from_str(l).ok()?;
                let msg = v.get("message")?;
                let lint = msg.get("code")?.get("code")?.as_str()?.strip_prefix("clippy::")?;
                let span = msg.get("spans")?.as_array()?.iter().find(|s| s["is_primary"] == true)?;
                Some(OtherFinding {
                    line: i,
                    lint: lint.to_owned(),
                    file: span.get("file_name")?.as_str()?.to_owned(),
                    lines: (
                        usize::try_from(span.get("line_start")?.as_u64()?).ok()?,
                        usize::try_from(span.get("line_end")?.as_u64()?).ok()?,
                    ),
                })
            })
            .collect();
        let absorbed = Mutex::new(vec![false; lines.len()]);
        OtherRun {
            ok,
            lines,
            findings,
            absorbed,
        }
    }

    /// Folds each clippy finding that reports the same code as a maplint finding (a lint the
    /// rule overlaps, on lines of its primary span) into that finding, as a note.
    fn absorb(&self, analysis: &mut lint_core::Analysis) {
        let mut absorbed = self.absorbed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for d in &mut analysis.diagnostics {
            let Some(meta) = lint_core::rules::meta(&d.rule) else {
                continue;
            };
            let Some(span) = d.primary.filter(|_| !meta.clippy.is_empty()) else {
                continue;
            };
            let Some(file) = analysis.files.get(span.file as usize) else {
                continue;
            };
            // The lines of the finding's spans: clippy points at the guard where maplint points
            // at the `.await` and labels the guard.
            let ranges: Vec<(usize, usize)> = std::iter::once(span)
                .chain(d.labels.iter().map(|l| l.span))
                .filter(|s| s.file == span.file)
                .map(|s| (file.line_index(s.lo as usize) + 1, file.line_index(s.hi as usize) + 1))
                .collect();
            for f in &self.findings {
                let overlaps = ranges.iter().any(|&(lo, hi)| f.lines.0 <= hi && lo <= f.lines.1);
                if f.file == file.name && overlaps && meta.clippy.contains(&f.lint.as_str()) {
                    absorbed[f.line] = true;
                    d.notes.push(format!(
                        "`clippy::{}` reports the same code (line {}); its finding is folded into this one",
                        f.lint, f.lines.0
                    ));
                }
            }
        }
    }

    fn print_unabsorbed(&self) {
        let absorbed = self.absorbed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut stdout = std::io::stdout().lock();
        for (l, gone) in self.lines.iter().zip(absorbed.iter()) {
            if !gone {
                let _ = writeln!(stdout, "{l}");
            }
        }
        let _ = stdout.flush();
    }
}

/// `--also-run clippy|check`: runs `cargo clippy`/`cargo check` with the same selection and
/// cargo flags and keeps its JSON lines except its `build-finished` (printed before maplint's
/// findings, less the ones folded into them).
fn also_run(cmd: &str, opts: &Options) -> OtherRun {
    let cli = &opts.cli;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut c = Command::new(&cargo);
    c.arg(cmd)
        .arg(format!("--message-format={}", cli.message_format.join(",")));
    if let Some(m) = &cli.manifest_path {
        c.arg("--manifest-path").arg(m);
    }
    for p in &cli.package {
        c.arg("-p").arg(p);
    }
    if cli.workspace {
        c.arg("--workspace");
    }
    for e in &cli.exclude {
        c.arg("--exclude").arg(e);
    }
    c.args(cli.ignored.cargo_args());
    c.stdout(Stdio::piped()).stderr(Stdio::inherit()).stdin(Stdio::null());
    let mut child = match c.spawn() {
        Ok(ch) => ch,
        Err(e) => {
            eprintln!("error: cannot run `cargo {cmd}`: {e}");
            return OtherRun::default();
        }
    };
    let mut lines = Vec::new();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let finished = line.starts_with('{')
                && serde_json::from_str::<serde_json::Value>(&line)
                    .is_ok_and(|v| v.get("reason").and_then(|r| r.as_str()) == Some("build-finished"));
            if !finished {
                lines.push(line);
            }
        }
    }
    OtherRun::new(child.wait().is_ok_and(|s| s.success()), lines)
}

/// Lists, reads (in parallel, each file once), analyzes, fixes and renders one unit. Its
/// sources are dropped before the next unit is read.
fn lint_unit(unit: &Unit, setup: &UnitSetup, mode: Mode<'_>) -> UnitResult {
    let settings = &setup.settings;
    let mut listing = match &unit.sources {
        Sources::Walk { skip } => walk::package_files(&unit.root, skip),
        Sources::Listed(l) => walk::Listing {
            files: l.files.clone(),
            errors: l.errors.clone(),
        },
    };
    if !setup.config.exclude.is_empty() {
        listing.files.retain(|p| !setup.config.excludes(p));
        listing.errors.retain(|(p, _)| !setup.config.excludes(p));
    }
    let paths: Vec<PathBuf> = listing
        .files
        .iter()
        .cloned()
        .chain(listing.errors.iter().map(|(p, _)| p.clone()))
        .collect();
    let mut pkg = PackageSources {
        name: unit.name.clone(),
        edition: unit.edition,
        files: walk::read_files(&listing, &|p| unit.display(p)),
        binaries_only: unit.binaries_only,
    };
    let cache_dir = mode
        .cache
        .then(|| crate::cache::dir_for(mode.target_dir, unit.target_dir.as_deref()))
        .flatten();
    let (mut analysis, answer) = crate::cache::analyze(cache_dir.as_deref(), &unit.id, &pkg, settings);
    let mut result = UnitResult {
        answer: Some(answer),
        why_parsed: std::mem::take(&mut analysis.why_parsed)
            .into_iter()
            .map(|(f, why)| format!("{}: {why}", pkg.files[f as usize].name))
            .collect(),
        ..UnitResult::default()
    };
    if let Some(fix_mode) = mode.fix {
        let mtimes: Vec<Option<SystemTime>> = paths
            .iter()
            .map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
            .collect();
        let originals: Vec<Vec<u8>> = pkg
            .files
            .iter()
            .map(|f| f.content.as_ref().map_or_else(|_| Vec::new(), Clone::clone))
            .collect();
        let (fixed_analysis, outcome) = fix::fix_package(&mut pkg, analysis, settings, fix_mode);
        analysis = fixed_analysis;
        for &i in &outcome.rolled_back {
            result.warnings.push(format!(
                "the fixes for `{}` were not applied: the fixed file does not parse (please report this)",
                pkg.files[i].name
            ));
        }
        for f in &outcome.files {
            let name = &pkg.files[f.index].name;
            if mode.diff {
                result.diff.push_str(&fix::unified_diff(name, &f.original, &f.fixed));
                result.fixed_files += 1;
            } else {
                match fix::write_atomic(&paths[f.index], &originals[f.index], mtimes[f.index], &f.fixed) {
                    Ok(()) => result.fixed_files += 1,
                    Err(e) => result.warnings.push(format!("cannot write the fixes to `{name}`: {e}")),
                }
            }
        }
        result.fixed = outcome.fixed;
        if mode.diff {
            return result;
        }
        if fix_mode == lint_core::fix::FixMode::Safe {
            result.unsafe_fixable = analysis
                .diagnostics
                .iter()
                .filter(|d| {
                    d.helps.iter().any(|h| {
                        h.applicability == Some(lint_core::Applicability::MaybeIncorrect) && !h.edits.is_empty()
                    })
                })
                .count();
        }
    }
    drop(pkg);
    result.checked = analysis.files.iter().map(|f| f.name.clone()).collect();
    let mut entries = baseline::entries(&analysis);
    if let Some(b) = mode.baseline {
        let mut keep = Vec::with_capacity(entries.len());
        for e in &entries {
            let found = b.find(e);
            result.matched.extend(found);
            keep.push(found.is_none());
        }
        let mut k = keep.iter();
        analysis.diagnostics.retain(|_| *k.next().unwrap_or(&true));
        let mut k = keep.iter();
        entries.retain(|_| *k.next().unwrap_or(&true));
    }
    if mode.write_baseline {
        result.stats = Stats::count(&analysis.diagnostics, analysis.files.len());
        result.entries = entries;
        return result;
    }
    if let Some(other) = mode.other {
        other.absorb(&mut analysis);
    }
    say_how_to_silence(&mut analysis, &setup.config, mode.level_args);
    let fingerprints: Vec<String> = entries
        .iter()
        .map(|e| format!("{}:{}", e.fingerprint, e.occurrence))
        .collect();
    result.rendered = mode.printer.unit(unit, &paths, &analysis, &fingerprints);
    result.stats = Stats::count(&analysis.diagnostics, analysis.files.len());
    result.stats.cover(&analysis.coverage);
    result.coverage = coverage_lines(&analysis);
    result
}

/// A package's coverage in words: `1,234 function bodies analyzed, 56 files only lexed; not
/// analyzed: 1 item with a syntax error`, and where each thing not analyzed is.
fn coverage_lines(analysis: &lint_core::Analysis) -> (String, Vec<String>) {
    let c = &analysis.coverage;
    if c.bodies == 0 && c.lexed_only == 0 && c.not_analyzed.is_empty() {
        // (An answer from the cache's findings, or nothing analyzed.)
        return (String::new(), Vec::new());
    }
    let mut line = format!(
        "{} analyzed, {} only lexed (nothing in them can matter)",
        if c.bodies == 1 {
            "1 function body".to_owned()
        } else {
            format!("{} function bodies", c.bodies)
        },
        plural(c.lexed_only, "file")
    );
    let counts: Vec<String> = lint_core::Unanalyzed::ALL
        .iter()
        .zip(c.counts())
        .filter(|(_, n)| *n > 0)
        .map(|(w, n)| w.describe(n))
        .collect();
    if !counts.is_empty() {
        line.push_str("; not analyzed: ");
        line.push_str(&counts.join(", "));
    }
    let places = c
        .not_analyzed
        .iter()
        .filter_map(|n| {
            let f = analysis.files.get(n.span.file as usize)?;
            let at = f.line_col(n.span.lo as usize);
            Some(format!("{}:{}:{}: {}", f.name, at.line, at.column, n.why.what()))
        })
        .collect();
    (line, places)
}

/// cargo's status line for a unit under `-v`: `Fresh` when the cache answered, `Checking`
/// otherwise; `-vv` adds how many files were parsed and how many reused from the cache.
fn progress_line(unit: &Unit, answer: Option<crate::cache::Answer>, verbose: u8) -> String {
    use crate::cache::Answer;
    match answer {
        Some(Answer::Fresh) => format!("{:>12} {} ({})", "Fresh", unit.name, unit.root.display()),
        Some(Answer::Analyzed { parsed, reused }) if verbose > 1 => format!(
            "{:>12} {} ({}): {parsed} file{} parsed, {reused} reused from the cache",
            "Checking",
            unit.name,
            unit.root.display(),
            if parsed == 1 { "" } else { "s" }
        ),
        _ => format!("{:>12} {} ({})", "Checking", unit.name, unit.root.display()),
    }
}

/// A panic in the CLI's own work on a unit becomes an `internal_error` finding for it.
fn internal_error(unit: &Unit, settings: &Settings, printer: Printer, msg: &str) -> UnitResult {
    let default = lint_core::rules::meta("internal_error").map_or(lint_core::Level::Warn, |m| m.default_level);
    let level = settings.level("internal_error", default);
    if level == lint_core::Level::Allow {
        return UnitResult::default();
    }
    let d = Diagnostic {
        rule: "internal_error".to_owned(),
        level,
        message: format!("internal error while linting `{}`: {msg}", unit.name),
        primary: None,
        primary_label: None,
        labels: Vec::new(),
        helps: Vec::new(),
        notes: vec!["please report this with the package that triggered it".to_owned()],
        file: 0,
    };
    let analysis = lint_core::Analysis {
        files: Vec::new(),
        diagnostics: vec![d],
        ..Default::default()
    };
    let rendered = printer.unit(unit, &[], &analysis, &[]);
    UnitResult {
        rendered,
        stats: Stats::count(&analysis.diagnostics, 0),
        ..UnitResult::default()
    }
}
