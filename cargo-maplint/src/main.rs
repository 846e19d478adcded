//! `cargo maplint`: finds deadlocks and races on maps shared between threads.
//!
//! Never builds anything: packages come from `cargo metadata --no-deps` (or from paths), and
//! their sources are parsed with syn, so no build script or proc macro ever runs.

mod cli;
mod output;
mod run;
mod walk;
mod workspace;

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(run::main(std::env::args_os()))
}
