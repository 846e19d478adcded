//! `cargo maplint`: finds deadlocks and races on maps shared between threads.
//!
//! Never builds anything: packages come from `cargo metadata --no-deps` (or from paths), and
//! their sources are parsed with syn, so no build script or proc macro ever runs.

// syn allocates a node per token; mimalloc makes the parse about a quarter faster than the
// system allocator on the corpus benchmark. (Built without transparent huge pages: see the
// workspace's Cargo.toml.)
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod baseline;
mod cache;
mod cli;
mod config;
mod explain;
mod fix;
mod output;
mod paths;
mod run;
mod walk;
mod workspace;

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(run::main(std::env::args_os()))
}
