//! Prefetching a shard's table before its lock is taken: the one module of the crate that
//! needs `unsafe` (the workspace denies it everywhere else).
//!
//! A lookup misses the cache up to three times in a row, each while the lock is held and the
//! other threads wait: the lock word, the table's control bytes, then the bucket. [`Layout`]
//! keeps, next to each shard (but not on its lock's cache line), where the shard's table
//! lives: the address of its control bytes and its bucket mask, written under the shard's
//! write lock whenever the table moves (it grows, or is replaced). Before taking the lock,
//! [`Layout::prefetch`] asks the CPU for the control group and the first bucket of the key's
//! probe sequence, so the three misses overlap instead of following one another.
//!
//! The hint is only ever used as a prefetch address, never dereferenced: a stale or torn hint
//! (a reader that sees the new address with the old mask, or a table that moved since) costs a
//! useless prefetch and nothing else. The layout it assumes is hashbrown's (control bytes at
//! `ctrl`, bucket `i` just below it at `ctrl - (i + 1) * size_of::<T>()`, probing from
//! `hash & mask`); should a future hashbrown change it, lookups stay correct and only lose the
//! prefetch.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Where a shard's hashbrown table lives, as a prefetch hint.
#[derive(Debug, Default)]
pub(crate) struct Layout {
    /// The address of the control bytes (0: no table allocated yet, nothing to prefetch).
    ctrl: AtomicUsize,
    /// The bucket mask (`num_buckets - 1`).
    mask: AtomicUsize,
}

impl Layout {
    /// One empty hint per shard.
    pub(crate) fn for_shards(count: usize) -> Box<[Layout]> {
        (0..count).map(|_| Layout::default()).collect()
    }

    /// Records the table's layout from one of its entries: `entry` is the address of the
    /// element in bucket `index` of a table of `buckets` buckets, whose elements are `size`
    /// bytes. Call it with the shard's write lock held, after an insert that may have moved
    /// the table.
    #[inline]
    pub(crate) fn record(&self, entry: usize, index: usize, buckets: usize, size: usize) {
        let ctrl = entry.wrapping_add((index + 1).wrapping_mul(size));
        if self.ctrl.load(Ordering::Relaxed) != ctrl {
            self.ctrl.store(ctrl, Ordering::Relaxed);
        }
        let mask = buckets.wrapping_sub(1);
        if self.mask.load(Ordering::Relaxed) != mask {
            self.mask.store(mask, Ordering::Relaxed);
        }
    }

    /// Whether no layout was recorded (nothing to prefetch).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn is_empty(&self) -> bool {
        self.ctrl.load(Ordering::Relaxed) == 0
    }

    /// Asks the CPU to bring in the control group and the first bucket that a lookup of `hash`
    /// reads, for elements of `size` bytes (never 0: a table of zero-sized entries records no
    /// layout, so its hint stays empty).
    #[inline]
    pub(crate) fn prefetch(&self, hash: u64, size: usize) {
        let ctrl = self.ctrl.load(Ordering::Relaxed);
        if ctrl == 0 {
            return;
        }
        // (hashbrown's `h1`: the low bits of the hash, truncated on 32-bit targets.)
        #[allow(clippy::cast_possible_truncation)]
        let pos = (hash as usize) & self.mask.load(Ordering::Relaxed);
        line(ctrl.wrapping_add(pos));
        line(ctrl.wrapping_sub((pos + 1).wrapping_mul(size)));
    }
}

/// Prefetches the cache line holding `addr` for reading; a no-op where no prefetch
/// instruction is wired up (and under loom).
#[inline]
fn line(addr: usize) {
    #[cfg(all(target_arch = "x86_64", not(loom)))]
    // SAFETY: `prefetcht0` only hints the cache: it never reads the memory for the program,
    // never faults (an unmapped or stale address is ignored), and changes no register the
    // program sees. SSE, which `_mm_prefetch` requires, is part of the x86-64 baseline, so the
    // instruction exists on every CPU this code can run on.
    #[allow(unsafe_code)]
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(std::ptr::without_provenance::<i8>(
            addr,
        ));
    }
    #[cfg(all(target_arch = "aarch64", not(loom)))]
    // SAFETY: `prfm pldl1keep` only hints the cache: it never faults (an unmapped or stale
    // address is ignored), reads nothing for the program, writes no register and no flag, and
    // touches no stack; the options say so.
    #[allow(unsafe_code)]
    unsafe {
        core::arch::asm!("prfm pldl1keep, [{0}]", in(reg) addr, options(nostack, preserves_flags, readonly));
    }
    #[cfg(any(not(any(target_arch = "x86_64", target_arch = "aarch64")), loom))]
    let _ = addr;
}

#[cfg(test)]
mod tests {
    use super::Layout;

    #[test]
    fn the_hint_finds_hashbrowns_control_bytes_and_buckets() {
        // The address arithmetic, checked against the table itself: the bucket a lookup
        // starts at is where `record` says it is.
        let mut table = hashbrown::HashTable::new();
        let hasher = |k: &u64| k.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        for k in 0..1000_u64 {
            table.insert_unique(hasher(&k), k, hasher);
        }
        let layout = Layout::default();
        let entry = table.find_entry(hasher(&7), |k| *k == 7).unwrap();
        let index = entry.bucket_index();
        let at = std::ptr::from_ref(entry.get()).addr();
        layout.record(at, index, table.num_buckets(), size_of::<u64>());
        let ctrl = layout.ctrl.load(std::sync::atomic::Ordering::Relaxed);
        for i in [0, 1, 17, table.num_buckets() - 1] {
            if let Some(element) = table.get_bucket(i) {
                assert_eq!(std::ptr::from_ref(element).addr(), ctrl - (i + 1) * size_of::<u64>());
            }
        }
        assert_eq!(
            layout.mask.load(std::sync::atomic::Ordering::Relaxed),
            table.num_buckets() - 1
        );
        // Prefetching any hash, or with a cleared hint, is harmless.
        for h in [0, 1, u64::MAX, hasher(&3)] {
            layout.prefetch(h, size_of::<u64>());
        }
        Layout::default().prefetch(5, size_of::<u64>());
    }
}
