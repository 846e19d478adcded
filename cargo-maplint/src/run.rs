//! One run: parse arguments, find the units, lint them one after another, print, exit status.

use std::any::Any;
use std::ffi::OsString;
use std::io::Write as _;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use lint_core::{Diagnostic, PackageSources, Settings};
use rayon::prelude::*;

use crate::cli::{self, Format, Options};
use crate::output::{Printer, Rendered, Stats};
use crate::walk;
use crate::workspace::{self, Selection, Sources, Unit};

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

fn write_out(r: &Rendered) {
    if !r.stderr.is_empty() {
        let mut e = std::io::stderr().lock();
        let _ = e.write_all(r.stderr.as_bytes());
        let _ = e.flush();
    }
    if !r.stdout.is_empty() {
        let mut o = std::io::stdout().lock();
        let _ = o.write_all(r.stdout.as_bytes());
        let _ = o.flush();
    }
}

/// How many packages are analyzed concurrently (their sources are held in memory meanwhile).
const UNITS_IN_FLIGHT: usize = 16;

fn run(opts: &Options) -> u8 {
    let cli = &opts.cli;
    let printer = Printer {
        format: opts.format,
        short: opts.short,
        color: opts.color,
        quiet: cli.quiet,
    };
    let found = if cli.paths.is_empty() {
        workspace::from_cargo(&Selection {
            manifest_path: cli.manifest_path.as_deref(),
            packages: &cli.package,
            workspace: cli.workspace,
            exclude: &cli.exclude,
        })
    } else {
        workspace::from_paths(&cli.paths, opts.edition)
    };
    let (units, warnings) = match found {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e:#}");
            if matches!(opts.format, Format::Json(_) | Format::JsonRenderDiagnostics) {
                write_out(&Rendered {
                    stderr: String::new(),
                    stdout: format!("{}\n", crate::output::json::build_finished(false)),
                });
            }
            return EXIT_ERROR;
        }
    };
    if !cli.quiet {
        for w in &warnings {
            eprintln!("warning: {w}");
        }
    }
    let mut stats = Stats::default();
    // Several packages are analyzed at once so small packages keep every core busy; results are
    // printed in order, a window at a time, so memory stays bounded.
    lint_core::in_pool(|| {
        for window in units.chunks(UNITS_IN_FLIGHT) {
            let results: Vec<(Rendered, Stats)> = window
                .par_iter()
                .map(|unit| {
                    let result = panic::catch_unwind(AssertUnwindSafe(|| lint_unit(unit, &opts.settings, printer)));
                    match result {
                        Ok(v) => v,
                        Err(p) => internal_error(unit, &opts.settings, printer, &panic_message(&*p)),
                    }
                })
                .collect();
            for (unit, (rendered, s)) in window.iter().zip(results) {
                if cli.verbose > 0 {
                    eprintln!("    Checking {} ({})", unit.name, unit.root.display());
                }
                write_out(&rendered);
                stats.add(s);
            }
        }
    });
    write_out(&printer.finish(stats));
    if stats.io_errors > 0 {
        EXIT_ERROR
    } else {
        u8::from(stats.errors > 0 && !cli.exit_zero)
    }
}

/// Lists, reads (in parallel, each file once), analyzes and renders one unit. Its sources are
/// dropped before the next unit is read.
fn lint_unit(unit: &Unit, settings: &Settings, printer: Printer) -> (Rendered, Stats) {
    let walked;
    let listing = match &unit.sources {
        Sources::Walk { skip } => {
            walked = walk::package_files(&unit.root, skip);
            &walked
        }
        Sources::Listed(l) => l,
    };
    let paths: Vec<PathBuf> = listing
        .files
        .iter()
        .cloned()
        .chain(listing.errors.iter().map(|(p, _)| p.clone()))
        .collect();
    let pkg = PackageSources {
        name: unit.name.clone(),
        edition: unit.edition,
        files: walk::read_files(listing, &|p| unit.display(p)),
    };
    let analysis = lint_core::analyze(&pkg, settings);
    drop(pkg);
    let rendered = printer.unit(unit, &paths, &analysis);
    (rendered, Stats::count(&analysis.diagnostics, analysis.files.len()))
}

/// A panic in the CLI's own work on a unit becomes an `internal_error` finding for it.
fn internal_error(unit: &Unit, settings: &Settings, printer: Printer, msg: &str) -> (Rendered, Stats) {
    let default = lint_core::rules::meta("internal_error").map_or(lint_core::Level::Warn, |m| m.default_level);
    let level = settings.level("internal_error", default);
    if level == lint_core::Level::Allow {
        return (Rendered::default(), Stats::default());
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
    };
    let rendered = printer.unit(unit, &[], &analysis);
    (rendered, Stats::count(&analysis.diagnostics, 0))
}
