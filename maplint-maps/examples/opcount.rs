//! Single-threaded per-operation cost probe, meant to be run under callgrind (instruction
//! counts are deterministic, unlike wall-clock time on a shared machine).
//!
//! ```text
//! cargo build -p maplint-maps --release --example opcount
//! valgrind --tool=callgrind --toggle-collect='opcount::measure*' \
//!     target/release/examples/opcount <map> <op> [n]
//! ```
//!
//! `<map>`: `locked`, `rwlock`, `sharded`, `dashmap`, `snapshot`, `arcswap`; `<op>`: `get`
//! (hits in a map prefilled with `n` keys), `with` (the same reads through `with`; the
//! baselines read as in `get`), `miss` (absent keys), `insert` (`n` new keys into an
//! empty map, growing it), `overwrite` (`n` existing keys), `update`, `remove`. Maps are built
//! and called through the benchmark's own adapters (`benches/adapters`: foldhash
//! `fast::RandomState`, no preset capacity). Only
//! `measure` is counted, so Ir / n is the cost of one operation plus a few loop instructions
//! that are the same for every map.
#![allow(clippy::cast_possible_truncation)]

#[path = "../benches/adapters/mod.rs"]
mod adapters;

use adapters::{Hasher, Map};
use arc_swap::ArcSwap;
use maplint_maps::{LockedMap, ShardedMap, SnapshotMap};
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::RwLock;

#[derive(Clone, Copy)]
enum Op {
    Get,
    Insert,
    Update,
    Remove,
    With,
}

/// The only code callgrind counts (`--toggle-collect='opcount::measure*'`).
#[inline(never)]
fn measure<M: Map>(map: &M, keys: &[u64], op: Op) -> usize {
    let mut found = 0;
    for &key in keys {
        let hit = match op {
            Op::Get => map.get(key),
            Op::Insert => map.insert(key),
            Op::Update => map.update(key),
            Op::Remove => map.remove(key),
            Op::With => map.with(key),
        };
        found += usize::from(hit);
    }
    found
}

fn run<M: Map>(op: &str, n: usize) -> usize {
    // xorshift64*, as in the benchmark.
    let mut state = 0x5EED_1234_ABCD_0001_u64;
    let mut next = || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let keys: Vec<u64> = (0..n).map(|_| next()).collect();
    let map = M::new();
    let (prefill, measured, op) = match op {
        "get" => (true, keys.clone(), Op::Get),
        "with" => (true, keys.clone(), Op::With),
        "miss" => (true, (0..n).map(|_| next()).collect(), Op::Get),
        "insert" => (false, keys.clone(), Op::Insert),
        "overwrite" => (true, keys.clone(), Op::Insert),
        "update" => (true, keys.clone(), Op::Update),
        "remove" => (true, keys.clone(), Op::Remove),
        other => panic!("unknown op {other}"),
    };
    if prefill {
        for &key in &keys {
            map.insert(key);
        }
    }
    // Shuffle so that lookups do not follow insertion order.
    let mut measured = measured;
    for i in (1..measured.len()).rev() {
        measured.swap(i, (next() % (i as u64 + 1)) as usize);
    }
    measure(black_box(&map), black_box(&measured), op)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let map = args.first().map_or("locked", String::as_str);
    let op = args.get(1).map_or("get", String::as_str);
    let n = args.get(2).map_or(100_000, |s| s.parse().expect("n"));
    let found = match map {
        "locked" => run::<LockedMap<u64, u64, Hasher>>(op, n),
        "rwlock" => run::<RwLock<HashMap<u64, u64, Hasher>>>(op, n),
        "sharded" => run::<ShardedMap<u64, u64, Hasher>>(op, n),
        "dashmap" => run::<dashmap::DashMap<u64, u64, Hasher>>(op, n),
        "snapshot" => run::<SnapshotMap<u64, u64, Hasher>>(op, n),
        "arcswap" => run::<ArcSwap<HashMap<u64, u64, Hasher>>>(op, n),
        other => panic!("unknown map {other}"),
    };
    println!("{map} {op} {n}: {found} found");
}
