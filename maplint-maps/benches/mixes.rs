//! The three conc-map-bench mixes against `DashMap`, papaya, scc, hand-written
//! `RwLock<HashMap>` / `Mutex<HashMap>`, at 2 threads and oversubscribed at 8 (on a 2-core
//! machine), every map once with the default hasher a user gets and once with one fast hasher
//! for all; plus a snapshot-read benchmark against arc-swap.
//!
//! ```text
//! cargo bench -p maplint-maps --bench mixes                       # everything, 15 rounds
//! cargo bench -p maplint-maps --bench mixes -- --reps 5 --only sharded,dashmap --threads 1,2
//! cargo bench -p maplint-maps --bench mixes -- --hashers default
//! cargo bench -p maplint-maps --bench mixes --features metrics    # named maps, recording
//! ```
//!
//! Method (after conc-map-bench / bustle): 2^18 keys of capacity, 2^21 operations a run; every
//! thread owns a vector of random `u64` keys (key sets are disjoint across threads); the
//! prefill inserts the first `prefill / threads` keys of each; the 100-entry operation mix is
//! shuffled once and cycled. Reads and updates pick a uniformly random key of the thread's
//! vector (so some miss), inserts take the next unused key, removes the oldest inserted one.
//! The clock runs from a barrier to the last thread's end; throughput is total operations over
//! that time. Rounds are interleaved: every map runs once per round, in an order that rotates
//! from round to round, the two maps of a compared pair back to back; each cell is the median
//! over rounds, and each paired ratio the median of the per-round ratios (so a drift of the
//! machine's speed between rounds cancels out).
#![allow(clippy::cast_precision_loss, clippy::cast_sign_loss)] // throughput arithmetic

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::{Barrier, Mutex, RwLock};
use std::thread;
use std::time::{Duration, Instant};

mod adapters;

use adapters::{Build, Hasher, Map};
use arc_swap::ArcSwap;
use maplint_maps::{LockedMap, ShardedMap, SnapshotMap};

#[derive(Clone, Copy)]
struct Mix {
    name: &'static str,
    read: u8,
    insert: u8,
    update: u8,
    remove: u8,
    prefill: f64,
}

const MIXES: [Mix; 3] = [
    Mix {
        name: "read-heavy",
        read: 98,
        insert: 1,
        update: 0,
        remove: 1,
        prefill: 0.75,
    },
    Mix {
        name: "exchange",
        read: 10,
        insert: 40,
        update: 40,
        remove: 10,
        prefill: 0.75,
    },
    Mix {
        name: "rapid-grow",
        read: 5,
        insert: 80,
        update: 5,
        remove: 10,
        prefill: 0.0,
    },
];

#[derive(Clone, Copy)]
enum Op {
    Read,
    Insert,
    Update,
    Remove,
}

/// xorshift64*: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

struct Config {
    capacity: usize,
    ops: usize,
    reps: usize,
    threads: Vec<usize>,
    hashers: Vec<String>,
    only: Option<Vec<String>>,
}

fn ops_of(mix: Mix, rng: &mut Rng) -> Vec<Op> {
    let mut ops = Vec::with_capacity(100);
    for (op, n) in [
        (Op::Read, mix.read),
        (Op::Insert, mix.insert),
        (Op::Update, mix.update),
        (Op::Remove, mix.remove),
    ] {
        ops.extend(std::iter::repeat_n(op, usize::from(n)));
    }
    for i in (1..ops.len()).rev() {
        ops.swap(i, (rng.next() % (i as u64 + 1)) as usize);
    }
    ops
}

/// One run of one mix on a fresh map; returns Mops/s.
fn run_mix<M: Map>(mix: Mix, threads: usize, config: &Config, seed: u64) -> f64 {
    let map = M::new();
    let ops_per_thread = config.ops / threads;
    let prefill_per_thread = (config.capacity as f64 * mix.prefill) as usize / threads;
    let inserts_per_thread = (ops_per_thread / 100 + 1) * usize::from(mix.insert);
    let elapsed = timed(threads, |t, start| {
        let map = &map;
        let mut rng = Rng(seed ^ (0x9E37_79B9_7F4A_7C15 * (t as u64 + 1)));
        let keys: Vec<u64> = (0..prefill_per_thread + inserts_per_thread)
            .map(|_| rng.next())
            .collect();
        for &key in &keys[..prefill_per_thread] {
            map.insert(key);
        }
        let mix_ops = ops_of(mix, &mut rng);
        let (mut inserted, mut removed) = (prefill_per_thread, 0);
        let mut found = 0_usize;
        start();
        for i in 0..ops_per_thread {
            let hit = match mix_ops[i % mix_ops.len()] {
                Op::Read => map.get(keys[(rng.next() % keys.len() as u64) as usize]),
                Op::Update => map.update(keys[(rng.next() % keys.len() as u64) as usize]),
                Op::Insert => {
                    inserted += 1;
                    map.insert(keys[inserted - 1])
                }
                Op::Remove if removed < inserted => {
                    removed += 1;
                    map.remove(keys[removed - 1])
                }
                Op::Remove => false,
            };
            found += usize::from(hit);
        }
        black_box(found);
    });
    mops(ops_per_thread * threads, elapsed)
}

/// Runs `work(t, start)` on `threads` scoped threads: each prepares, calls `start()` and does
/// the measured work. The time runs from when all have called `start` to the end of the last.
fn timed(threads: usize, work: impl Fn(usize, &dyn Fn()) + Sync) -> Duration {
    let barrier = Barrier::new(threads + 1);
    thread::scope(|s| {
        let (work, barrier) = (&work, &barrier);
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    work(t, &|| {
                        barrier.wait();
                    });
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        for handle in handles {
            handle.join().unwrap();
        }
        start.elapsed()
    })
}

fn mops(ops: usize, elapsed: Duration) -> f64 {
    ops as f64 / elapsed.as_secs_f64() / 1e6
}

/// Read-only lookups of present keys in a prefilled map, for the snapshot comparison.
fn run_reads(
    threads: usize,
    config: &Config,
    seed: u64,
    fill: &dyn Fn(u64),
    read: &(dyn Fn(u64) -> bool + Sync),
) -> f64 {
    let entries = config.capacity / 64; // small and cache resident: the pointer load dominates
    let mut rng = Rng(seed);
    let keys: Vec<u64> = (0..entries).map(|_| rng.next()).collect();
    for &key in &keys {
        fill(key);
    }
    let ops_per_thread = config.ops / threads;
    let elapsed = timed(threads, |t, start| {
        let mut rng = Rng(seed ^ (t as u64 + 1));
        let mut found = 0_usize;
        start();
        for _ in 0..ops_per_thread {
            found += usize::from(read(keys[(rng.next() % keys.len() as u64) as usize]));
        }
        black_box(found);
    });
    mops(ops_per_thread * threads, elapsed)
}

type MixRunner = fn(Mix, usize, &Config, u64) -> f64;

/// The maps in the mixes, all built with the hasher `S`, in groups: a group's members run back
/// to back (order flipped every round), so the paired ratios below compare runs made under the
/// same machine load.
fn maps<S: Build>() -> [(&'static str, MixRunner); 7] {
    [
        ("LockedMap", run_mix::<LockedMap<u64, u64, S>>),
        ("RwLock<HashMap>", run_mix::<RwLock<HashMap<u64, u64, S>>>),
        ("ShardedMap", run_mix::<ShardedMap<u64, u64, S>>),
        ("DashMap", run_mix::<dashmap::DashMap<u64, u64, S>>),
        ("papaya", run_mix::<papaya::HashMap<u64, u64, S>>),
        ("scc", run_mix::<scc::HashMap<u64, u64, S>>),
        ("Mutex<HashMap>", run_mix::<Mutex<HashMap<u64, u64, S>>>),
    ]
}

/// The hashers every mix runs with: the one each map has by default (std's `SipHash`
/// `RandomState` for all of them), and one fast hasher for all.
const HASHERS: [&str; 2] = ["default", "fast"];

// (`ShardedMap`, `DashMap`, scc and papaya in one group: every ratio among them compares runs
// made one after another.)
const MAP_GROUPS: [&[usize]; 3] = [&[0, 1], &[2, 3, 5, 4], &[6]];

const READERS: [&str; 5] = [
    "SnapshotMap::get",
    "ArcSwap::load",
    "SnapshotMap::with",
    "LockedMap::get",
    "RwLock<HashMap>::get",
];
const READER_GROUPS: [&[usize]; 2] = [&[0, 1, 2], &[3, 4]];

/// (ours, baseline): reported as the median over rounds of the per-round ratio.
const PAIRS: [(&str, &str); 7] = [
    ("ShardedMap", "DashMap"),
    ("ShardedMap", "scc"),
    ("ShardedMap", "papaya"),
    ("LockedMap", "RwLock<HashMap>"),
    ("SnapshotMap::get", "ArcSwap::load"),
    ("SnapshotMap::with", "ArcSwap::load"),
    ("LockedMap::get", "RwLock<HashMap>::get"),
];

/// The run order of one round: groups rotated by `rep`, members reversed on odd rounds.
fn order(groups: &[&[usize]], rep: usize) -> Vec<usize> {
    let mut out = Vec::new();
    for g in 0..groups.len() {
        let group = groups[(g + rep) % groups.len()];
        if rep.is_multiple_of(2) {
            out.extend(group.iter().copied());
        } else {
            out.extend(group.iter().rev().copied());
        }
    }
    out
}

fn run_reader(name: &str, threads: usize, config: &Config, seed: u64) -> f64 {
    match name {
        "SnapshotMap::get" => {
            let map = SnapshotMap::with_hasher(Hasher::default());
            run_reads(
                threads,
                config,
                seed,
                &|k| {
                    let _ = map.insert(k, k);
                },
                &|k| map.get(&k).is_some(),
            )
        }
        "SnapshotMap::with" => {
            let map = SnapshotMap::with_hasher(Hasher::default());
            run_reads(
                threads,
                config,
                seed,
                &|k| {
                    let _ = map.insert(k, k);
                },
                &|k| map.with(&k, |v| black_box(v.copied()).is_some()),
            )
        }
        "ArcSwap::load" => {
            let map = ArcSwap::from_pointee(HashMap::with_hasher(Hasher::default()));
            run_reads(
                threads,
                config,
                seed,
                &|k| {
                    map.rcu(|m| {
                        let mut m = HashMap::clone(m);
                        m.insert(k, k);
                        m
                    });
                },
                &|k| map.load().get(&k).copied().is_some(),
            )
        }
        "LockedMap::get" => {
            let map = LockedMap::with_hasher(Hasher::default());
            run_reads(
                threads,
                config,
                seed,
                &|k| {
                    let _ = map.insert(k, k);
                },
                &|k| map.get(&k).is_some(),
            )
        }
        _ => {
            let map = RwLock::new(HashMap::with_hasher(Hasher::default()));
            run_reads(
                threads,
                config,
                seed,
                &|k| {
                    let _ = map.write().unwrap().insert(k, k);
                },
                &|k| map.read().unwrap().get(&k).copied().is_some(),
            )
        }
    }
}

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    if n % 2 == 1 {
        samples[n / 2]
    } else {
        f64::midpoint(samples[n / 2 - 1], samples[n / 2])
    }
}

fn parse_args() -> Config {
    let mut config = Config {
        capacity: 1 << 18,
        ops: 1 << 21,
        reps: 15,
        threads: vec![2, 8],
        hashers: HASHERS.iter().map(|h| (*h).to_owned()).collect(),
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().expect("missing value");
        match arg.as_str() {
            "--reps" => config.reps = value().parse().expect("--reps N"),
            "--ops" => config.ops = value().parse().expect("--ops N"),
            "--capacity" => config.capacity = value().parse().expect("--capacity N"),
            "--threads" => {
                config.threads = value()
                    .split(',')
                    .map(|t| t.parse().expect("--threads 1,2,8"))
                    .collect();
            }
            "--hashers" => config.hashers = value().split(',').map(str::to_owned).collect(),
            "--only" => {
                config.only = Some(value().split(',').map(str::to_lowercase).collect());
            }
            _ => {} // `cargo bench` passes `--bench`
        }
    }
    config
}

fn selected(config: &Config, name: &str) -> bool {
    let name = name.to_lowercase();
    config
        .only
        .as_ref()
        .is_none_or(|only| only.iter().any(|o| name.contains(o.as_str())))
}

fn main() {
    let config = parse_args();
    // With the `metrics` feature, the maps are named and record into a Prometheus recorder.
    #[cfg(feature = "metrics")]
    let _recorder = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .expect("the only recorder");
    let load_start = load_average();
    let reentry = if cfg!(maplint_maps_no_reentry_check) {
        "off"
    } else {
        "on"
    };
    println!(
        "capacity {} (prefill 75% where the mix says so), {} ops per run, {} interleaved \
         repetitions, threads {:?} on {} cores, re-entrancy check {reentry}, metrics {}",
        config.capacity,
        config.ops,
        config.reps,
        config.threads,
        thread::available_parallelism().map_or(1, std::num::NonZero::get),
        if cfg!(feature = "metrics") {
            "on (named maps)"
        } else {
            "off"
        },
    );

    // (hasher, mix or "snapshot reads", threads, map) -> samples
    let mut samples: HashMap<(&str, &str, usize, &str), Vec<f64>> = HashMap::new();
    let mut seed_rng = Rng(0x5EED_1234_ABCD_0001);
    for rep in 0..config.reps {
        for hasher in HASHERS.iter().filter(|h| config.hashers.iter().any(|c| c == *h)) {
            let runners = if *hasher == "fast" {
                maps::<Hasher>()
            } else {
                maps::<RandomState>()
            };
            for &threads in &config.threads {
                for mix in MIXES {
                    for i in order(&MAP_GROUPS, rep) {
                        let (name, run) = runners[i];
                        if selected(&config, name) {
                            let seed = seed_rng.next();
                            samples
                                .entry((hasher, mix.name, threads, name))
                                .or_default()
                                .push(run(mix, threads, &config, seed));
                        }
                    }
                }
                // The snapshot reads compare two lock-free reads and two locked ones: one
                // hasher is enough.
                if *hasher == "fast" {
                    for i in order(&READER_GROUPS, rep) {
                        let name = READERS[i];
                        if selected(&config, name) {
                            let seed = seed_rng.next();
                            samples
                                .entry((hasher, "snapshot reads", threads, name))
                                .or_default()
                                .push(run_reader(name, threads, &config, seed));
                        }
                    }
                }
            }
        }
        eprintln!("round {}/{} done", rep + 1, config.reps);
    }

    for hasher in HASHERS {
        report(&samples, hasher, &config.threads);
    }
    println!(
        "\nload average: {} at start, {} at end",
        load_start.trim(),
        load_average().trim()
    );
}

type Samples<'a> = HashMap<(&'a str, &'a str, usize, &'a str), Vec<f64>>;

/// Prints the tables of one hasher: median Mops/s per map, and the paired ratios.
fn report(samples: &Samples<'_>, hasher: &str, thread_counts: &[usize]) {
    let mut columns: Vec<(&str, usize)> = Vec::new();
    for name in MIXES.iter().map(|m| m.name).chain(["snapshot reads"]) {
        for &threads in thread_counts {
            if samples.keys().any(|k| k.0 == hasher && k.1 == name && k.2 == threads) {
                columns.push((name, threads));
            }
        }
    }
    if columns.is_empty() {
        return;
    }
    let mut rows: Vec<&str> = maps::<Hasher>().iter().map(|(name, _)| *name).collect();
    rows.extend(READERS);
    let header = || {
        let mut line = String::from("|");
        for (name, threads) in &columns {
            write!(line, " {name} {threads}t |").unwrap();
        }
        format!("{line}\n|---|{}", "---|".repeat(columns.len()))
    };
    println!("\n{hasher} hasher: median Mops/s (min-max in parentheses)\n");
    println!("| map {}", header());
    for row in rows {
        if !columns.iter().any(|&(m, t)| samples.contains_key(&(hasher, m, t, row))) {
            continue;
        }
        let mut line = format!("| {row} |");
        for &(mix, threads) in &columns {
            match samples.get(&(hasher, mix, threads, row)) {
                Some(s) => {
                    let mut s = s.clone();
                    let (lo, hi) = (
                        s.iter().copied().fold(f64::INFINITY, f64::min),
                        s.iter().copied().fold(0.0, f64::max),
                    );
                    write!(line, " {:.1} ({lo:.0}-{hi:.0}) |", median(&mut s)).unwrap();
                }
                None => line.push_str(" |"),
            }
        }
        println!("{line}");
    }

    println!("\n{hasher} hasher: paired ratios, ours / baseline (median over rounds of the per-round ratio)\n");
    println!("| pair {}", header());
    for (ours, base) in PAIRS {
        let mut line = format!("| {ours} / {base} |");
        let mut any = false;
        for &(mix, threads) in &columns {
            match (
                samples.get(&(hasher, mix, threads, ours)),
                samples.get(&(hasher, mix, threads, base)),
            ) {
                (Some(a), Some(b)) if a.len() == b.len() => {
                    let mut ratios: Vec<f64> = a.iter().zip(b).map(|(a, b)| a / b).collect();
                    write!(line, " {:.2} |", median(&mut ratios)).unwrap();
                    any = true;
                }
                _ => line.push_str(" |"),
            }
        }
        if any {
            println!("{line}");
        }
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").unwrap_or_default()
}
