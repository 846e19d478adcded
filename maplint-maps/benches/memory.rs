//! Memory per entry: 1 M `u64 -> u64` entries inserted one by one on one thread into each map
//! (default hasher, no preset capacity), counted by an allocator wrapper: the bytes live once
//! they are in (per entry), and the most live at any moment while they went in (growth doubles
//! a table, and a sharded map's shards grow at different moments).
//!
//! ```text
//! cargo bench -p maplint-maps --bench memory
//! cargo bench -p maplint-maps --bench memory -- --entries 100000
//! ```
#![allow(clippy::cast_precision_loss)] // a report

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use maplint_maps::{LockedMap, ShardedMap};

/// The system allocator, counting the bytes live and the most live since the last reset.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator, which upholds
// `GlobalAlloc`'s contract; the counters are only bookkeeping beside it.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract for `dealloc` is passed on as is.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Builds a map with `insert` of `entries` keys; returns (bytes live after, peak while).
fn measure<M>(entries: u64, new: impl Fn() -> M, insert: impl Fn(&M, u64)) -> (usize, usize) {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let map = new();
    // Spread keys as a hash would see them, the same for every map.
    for i in 0..entries {
        insert(&map, i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    }
    let live = LIVE.load(Ordering::Relaxed) - before;
    let peak = PEAK.load(Ordering::Relaxed) - before;
    drop(map);
    (live, peak)
}

fn main() {
    let mut entries: u64 = 1 << 20;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--entries" {
            entries = args.next().and_then(|n| n.parse().ok()).expect("--entries N");
        }
    }
    let rows: [(&str, (usize, usize)); 6] = [
        (
            "ShardedMap",
            measure(entries, ShardedMap::new, |m, k| {
                m.insert(k, k);
            }),
        ),
        (
            "DashMap",
            measure(entries, dashmap::DashMap::new, |m, k| {
                m.insert(k, k);
            }),
        ),
        (
            "LockedMap",
            measure(entries, LockedMap::new, |m, k| {
                m.insert(k, k);
            }),
        ),
        (
            "RwLock<HashMap>",
            measure(
                entries,
                || RwLock::new(HashMap::new()),
                |m, k| {
                    m.write().unwrap().insert(k, k);
                },
            ),
        ),
        (
            "scc",
            measure(entries, scc::HashMap::new, |m, k| {
                let _ = m.insert_sync(k, k);
            }),
        ),
        (
            "papaya",
            measure(entries, papaya::HashMap::new, |m, k| {
                m.pin().insert(k, k);
            }),
        ),
    ];
    println!("{entries} u64 -> u64 entries, inserted one by one, default hasher, no preset capacity\n");
    println!("| map | bytes per entry (live after) | MB live after | MB peak while inserting |");
    println!("|---|---|---|---|");
    for (name, (live, peak)) in rows {
        println!(
            "| {name} | {:.1} | {:.1} | {:.1} |",
            live as f64 / entries as f64,
            live as f64 / 1e6,
            peak as f64 / 1e6
        );
    }
}
