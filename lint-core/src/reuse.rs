//! What one analysis of a package hands to the next: the lowered syntax of each parsed file,
//! keyed by what decides it. Parsing is most of the cost of an analysis; with these facts, a
//! re-run after a change parses only the files whose facts are not reusable (the changed files,
//! and files in which the change makes other items matter), then rebuilds the package-wide
//! model and runs the rules over every file (both cheap next to parsing).
//!
//! The library does no I/O: the caller stores the facts (cargo-maplint keeps them beside its
//! result cache, tied to the tool build) and hands them back ([`crate::analyze_incremental`]).

use serde::{Deserialize, Serialize};

/// The lowered syntax of one parsed file, and what it was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileFacts {
    /// The file's name (as in [`crate::InputFile::name`]).
    pub name: String,
    /// Its position in the package's file list (spans in the IR carry it).
    pub index: u32,
    /// [`content_hash`] of its bytes.
    pub content_hash: u128,
    /// What was left out of parsing (see [`crate::lex::plan`]).
    pub skip: crate::lex::Omit,
    /// The lowered file ([`crate::model::ir::FileIr`]) in postcard's encoding.
    pub ir: Vec<u8>,
}

/// The hash that says a file's bytes did not change: 128-bit XXH3.
#[must_use]
pub fn content_hash(bytes: &[u8]) -> u128 {
    xxhash_rust::xxh3::xxh3_128(bytes)
}
