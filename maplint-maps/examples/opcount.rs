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
//! exactly as in `benches/mixes.rs` (foldhash `fast::RandomState`, no preset capacity). Only
//! `measure` is counted, so Ir / n is the cost of one operation plus a few loop instructions
//! that are the same for every map.
#![allow(clippy::cast_possible_truncation)]

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::RwLock;

use arc_swap::ArcSwap;
use maplint_maps::{LockedMap, ShardedMap, SnapshotMap};

type Hasher = foldhash::fast::RandomState;

/// The same operations as the benchmark's `Map` trait, with the same bodies.
trait Map {
    fn new() -> Self;
    fn get(&self, key: u64) -> bool;
    fn insert(&self, key: u64) -> bool;
    fn remove(&self, key: u64) -> bool;
    fn update(&self, key: u64) -> bool;
    /// Read in place (`with`) where the map has it; the baselines read as in `get`.
    fn with(&self, key: u64) -> bool {
        self.get(key)
    }
}

impl Map for LockedMap<u64, u64, Hasher> {
    fn new() -> Self {
        LockedMap::with_hasher(Hasher::default())
    }
    fn get(&self, key: u64) -> bool {
        LockedMap::get(self, &key).is_some()
    }
    fn insert(&self, key: u64) -> bool {
        LockedMap::insert(self, key, key).is_none()
    }
    fn remove(&self, key: u64) -> bool {
        LockedMap::remove(self, &key).is_some()
    }
    fn update(&self, key: u64) -> bool {
        LockedMap::update(self, &key, |v| *v += 1).is_some()
    }
    fn with(&self, key: u64) -> bool {
        LockedMap::with(self, &key, |v| black_box(v.copied()).is_some())
    }
}

impl Map for RwLock<HashMap<u64, u64, Hasher>> {
    fn new() -> Self {
        RwLock::new(HashMap::with_hasher(Hasher::default()))
    }
    fn get(&self, key: u64) -> bool {
        self.read().unwrap().get(&key).copied().is_some()
    }
    fn insert(&self, key: u64) -> bool {
        self.write().unwrap().insert(key, key).is_none()
    }
    fn remove(&self, key: u64) -> bool {
        self.write().unwrap().remove(&key).is_some()
    }
    fn update(&self, key: u64) -> bool {
        self.write().unwrap().get_mut(&key).map(|v| *v += 1).is_some()
    }
}

impl Map for ShardedMap<u64, u64, Hasher> {
    fn new() -> Self {
        ShardedMap::with_hasher(Hasher::default())
    }
    fn get(&self, key: u64) -> bool {
        ShardedMap::get(self, &key).is_some()
    }
    fn insert(&self, key: u64) -> bool {
        ShardedMap::insert(self, key, key).is_none()
    }
    fn remove(&self, key: u64) -> bool {
        ShardedMap::remove(self, &key).is_some()
    }
    fn update(&self, key: u64) -> bool {
        ShardedMap::update(self, &key, |v| *v += 1).is_some()
    }
    fn with(&self, key: u64) -> bool {
        ShardedMap::with(self, &key, |v| black_box(v.copied()).is_some())
    }
}

impl Map for dashmap::DashMap<u64, u64, Hasher> {
    fn new() -> Self {
        dashmap::DashMap::with_hasher(Hasher::default())
    }
    fn get(&self, key: u64) -> bool {
        dashmap::DashMap::get(self, &key).map(|v| *v).is_some()
    }
    fn insert(&self, key: u64) -> bool {
        dashmap::DashMap::insert(self, key, key).is_none()
    }
    fn remove(&self, key: u64) -> bool {
        dashmap::DashMap::remove(self, &key).is_some()
    }
    fn update(&self, key: u64) -> bool {
        self.get_mut(&key).map(|mut v| *v += 1).is_some()
    }
}

impl Map for SnapshotMap<u64, u64, Hasher> {
    fn new() -> Self {
        SnapshotMap::with_hasher(Hasher::default())
    }
    fn get(&self, key: u64) -> bool {
        SnapshotMap::get(self, &key).is_some()
    }
    fn insert(&self, key: u64) -> bool {
        SnapshotMap::insert(self, key, key).is_none()
    }
    fn remove(&self, key: u64) -> bool {
        SnapshotMap::remove(self, &key).is_some()
    }
    fn update(&self, key: u64) -> bool {
        SnapshotMap::update(self, &key, |v| *v += 1).is_some()
    }
    fn with(&self, key: u64) -> bool {
        SnapshotMap::with(self, &key, |v| black_box(v.copied()).is_some())
    }
}

impl Map for ArcSwap<HashMap<u64, u64, Hasher>> {
    fn new() -> Self {
        ArcSwap::from_pointee(HashMap::with_hasher(Hasher::default()))
    }
    fn get(&self, key: u64) -> bool {
        self.load().get(&key).copied().is_some()
    }
    fn insert(&self, key: u64) -> bool {
        let mut fresh = false;
        self.rcu(|m| {
            let mut m = HashMap::clone(m);
            fresh = m.insert(key, key).is_none();
            m
        });
        fresh
    }
    fn remove(&self, key: u64) -> bool {
        let mut found = false;
        self.rcu(|m| {
            let mut m = HashMap::clone(m);
            found = m.remove(&key).is_some();
            m
        });
        found
    }
    fn update(&self, key: u64) -> bool {
        let mut found = false;
        self.rcu(|m| {
            let mut m = HashMap::clone(m);
            found = m.get_mut(&key).map(|v| *v += 1).is_some();
            m
        });
        found
    }
}

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
