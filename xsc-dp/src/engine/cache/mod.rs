//! The lock-free UFID cache: every offloaded megaflow's state, keyed by its
//! OVS UFID, readable from any thread without taking a lock.
//!
//! OVS's PMD and revalidator threads read flow state and counters constantly;
//! the engine's worker threads insert and remove. [`FlowCache`] serves both:
//!
//! - **Readers never lock and never wait.** [`FlowCache::get`] pins the
//!   thread in `crossbeam-epoch`, hashes the UFID, loads its shard's table
//!   and probes it with plain atomic loads. Nothing a writer does can make a
//!   reader retry or spin.
//! - **Writers serialise per shard, never globally.** The key space is split
//!   into 64 shards by the top bits of the hash. Each shard has a
//!   writer mutex that only `insert`, `remove` and `clear` take; readers never
//!   touch it. Workers writing different keys almost always land in different
//!   shards, so they run in parallel. A lock rather than compare-and-swap on
//!   slots keeps growth simple (one writer rebuilds a shard's table while its
//!   readers carry on) and easy to model check; the engine's writers are a
//!   handful of worker threads, and nothing user-supplied runs under the lock
//!   (values are boxed before it is taken and dropped through the epoch).
//! - **Open addressing over atomic pointers.** A shard's table is a
//!   power-of-two array of slots, allocated in cache lines of eight. A slot
//!   is empty, a tombstone (a removed entry: probing continues past it) or a
//!   pointer to a heap `Entry { key, value }`. Entries are 16-byte aligned,
//!   so the four low bits of a slot carry four bits of the key's hash: a
//!   probe dereferences only entries whose tag matches, one in sixteen of the
//!   others. Linear probing; at most 3/4 of the slots in use (entries plus
//!   tombstones).
//! - **One word per table.** The shard publishes its table as a single
//!   pointer whose six low bits (lines are 64-byte aligned) hold log2 of its
//!   size, so a reader gets the slots and their count from one load. That
//!   also lets `get` prefetch the home slot's line before pinning, from an
//!   unprotected load: a prefetch never faults, so a stale address is
//!   harmless, and the slot's cache miss overlaps the pin's fence.
//! - **Publication.** A writer fills an `Entry` completely, then stores its
//!   pointer into the slot with `Release`; readers load slots with
//!   `Acquire`, so a reader sees a whole entry or none. A new table is
//!   filled, then its word is published the same way.
//! - **Reclamation.** A replaced or removed entry, and a table replaced by
//!   growth or `clear`, is handed to `crossbeam-epoch` (`defer_unchecked`)
//!   and freed once every thread pinned when it was unlinked has unpinned,
//!   so no reader can still hold it. Growth moves entry *pointers*: readers
//!   still probing the old table find the same entries there, and the old
//!   table is freed without its entries.
//! - **Growth without stopping readers.** When an insert would take a shard
//!   past 3/4, the writer builds a table of twice the live entries
//!   (tombstones are left behind, so churn alone never grows it), publishes
//!   it and retires the old one through the epoch.
//!
//! Invariant: for every key in a table, no slot between its home slot and
//! its own is empty. Writers keep it at every step (a removal empties its
//! slot, and the tombstones just before it, only when the next slot is
//! already empty), which is what lets a reader stop at the first empty slot.
//! So a reader never misses a key present for its whole lookup, and never
//! sees one that was not present at some point during it.
//!
//! The hash folds the UFID's halves and mixes them with one 64×64→128-bit
//! multiply. UFIDs are random 128-bit values, so nothing stronger is needed;
//! it is not a defence against chosen keys.
//!
//! Atomics and the writer mutex come through a small shim, `sync`: loom's
//! under `cfg(loom)`, std's otherwise, so `tests/loom_cache.rs` can model
//! check publication, reclamation and growth. Reclamation comes through
//! another, `reclaim`: crossbeam-epoch, or under loom a simpler scheme with
//! the same contract, built on loom's atomics (crossbeam-epoch's own loom
//! mode, `cfg(crossbeam_loom)`, cannot be built here: it switches every
//! crossbeam crate to loom, and crossbeam-channel, which the engine uses,
//! does not build that way). Under loom each table line also carries a
//! `Liveness` cell that every slot access reads and freeing the table
//! writes, so loom reports a table freed while anyone may still use it; and
//! there is a single shard, so that a few keys make a table grow.
//!
//! This module depends on nothing else in the crate.

use std::fmt;
use std::marker::PhantomData;
use std::mem::size_of;

mod reclaim;
mod shard;
mod sync;
mod table;
#[cfg(all(test, not(loom)))]
mod tests;

use self::reclaim::Domain;
use self::shard::*;
use self::sync::{load_locked, AtomicPtr, AtomicUsize, Mutex, Ordering};
use self::table::*;

/// A concurrent map from UFID to `V` whose readers never lock or wait.
///
/// See the [module documentation](self) for the design. Values are usually
/// atomics updated in place through [`get`](Self::get), so `V` need not be
/// `Clone`. `V: 'static` because a removed value may be dropped by the epoch
/// collector after the cache itself is gone.
pub struct FlowCache<V> {
    shards: Box<[Shard<V>]>,
    /// Where guards come from (nothing outside loom: the global epoch).
    reclaim: Domain,
    _owns: PhantomData<V>,
}

// SAFETY: the cache owns its `V`s: whoever holds it reads and drops them,
// and values unlinked earlier are dropped by the epoch collector on whichever
// thread collects, so moving it needs `V: Send`. (`Sync` is asked too: the
// engine states one bound for both.)
unsafe impl<V: Send + Sync> Send for FlowCache<V> {}
// SAFETY: through `&FlowCache` several threads read `&V` at once (`V:
// Sync`), and a value inserted on one thread may be dropped on another
// (`V: Send`). Everything else shared is atomics and mutexes.
unsafe impl<V: Send + Sync> Sync for FlowCache<V> {}

impl<V: Send + Sync + 'static> FlowCache<V> {
    /// An empty cache with the smallest tables.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty cache sized to hold `entries` flows without growing (hints
    /// above 16M are clamped; it still grows past them on demand).
    pub fn with_capacity(entries: usize) -> Self {
        let per_shard = entries.min(MAX_PRESIZE).div_ceil(SHARDS);
        // 1/8 headroom for uneven shards, then at most 3/4 full.
        let slots = slots_for(per_shard + per_shard / 8, 4, 3);
        let shards = (0..SHARDS)
            .map(|_| Shard {
                table: AtomicPtr::new(new_table(slots)),
                len: AtomicUsize::new(0),
                writer: Mutex::new(Used(0)),
            })
            .collect();
        Self {
            shards,
            reclaim: Domain::new(),
            _owns: PhantomData,
        }
    }

    /// Lock-free read: runs `f` on the value of `key` while the entry is
    /// protected (it cannot be freed until `f` returns). Keep `f` short: the
    /// thread stays pinned while it runs, which holds back reclamation.
    #[inline]
    pub fn get<R>(&self, key: u128, f: impl FnOnce(&V) -> R) -> Option<R> {
        let hash = hash(key);
        let shard = self.shard(hash);
        shard.prefetch(hash);
        let guard = self.reclaim.pin();
        let entry = shard.find(key, hash, &guard)?;
        Some(f(&entry.value))
    }

    /// Whether `key` is in the cache (lock-free, as [`get`](Self::get)).
    pub fn contains(&self, key: u128) -> bool {
        self.get(key, |_| ()).is_some()
    }

    /// Inserts or replaces; true when the key was new. A replaced value is
    /// dropped once no reader can see it.
    pub fn insert(&self, key: u128, value: V) -> bool {
        let hash = hash(key);
        let shard = self.shard(hash);
        let new = Box::into_raw(Box::new(Entry { key, value }));
        let slot_value = new.wrapping_byte_add(tag(hash));
        let guard = self.reclaim.pin();
        let mut used = shard.lock();
        let mut table = shard.current_table(&used);
        // At most two rounds: after growth the table is at most half used.
        loop {
            match table.probe(key, hash) {
                Probe::Found { index, entry } => {
                    table.slot(index).store(slot_value, Ordering::Release);
                    // SAFETY: `entry` came from `Box::into_raw` and was
                    // unlinked just now under the shard lock, so no later
                    // reader can reach it; readers that already hold it are
                    // pinned, and the epoch frees it only after they unpin.
                    unsafe { defer_free_entry(&guard, entry) };
                    return false;
                }
                Probe::Vacant {
                    reuses_tombstone: false,
                    ..
                } if used.0 + 1 > table.max_used() => {
                    table = shard.grow(&mut used, &table, &guard);
                }
                Probe::Vacant {
                    index,
                    reuses_tombstone,
                } => {
                    table.slot(index).store(slot_value, Ordering::Release);
                    if !reuses_tombstone {
                        used.0 += 1;
                    }
                    shard.len.fetch_add(1, Ordering::Relaxed);
                    return true;
                }
            }
        }
    }

    /// Removes; true when the key was there. The value is dropped once no
    /// reader can see it.
    pub fn remove(&self, key: u128) -> bool {
        let hash = hash(key);
        let shard = self.shard(hash);
        let guard = self.reclaim.pin();
        let mut used = shard.lock();
        let table = shard.current_table(&used);
        let Probe::Found { index, entry } = table.probe(key, hash) else {
            return false;
        };
        table.unlink(index, &mut used);
        shard.len.fetch_sub(1, Ordering::Relaxed);
        // SAFETY: as in `insert`: unlinked under the shard lock, freed only
        // after every reader that may hold it has unpinned.
        unsafe { defer_free_entry(&guard, entry) };
        true
    }

    /// How many entries the cache holds (exact when no writer is running).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.len.load(Ordering::Relaxed))
            .sum()
    }

    /// Whether the cache holds no entry (as [`len`](Self::len)).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Visits every entry (a weakly consistent snapshot: entries present for
    /// the whole walk are seen once; entries inserted or removed meanwhile
    /// may or may not be seen). Each shard is walked on its table as it was
    /// when the walk reached it, and no lock is held, so `f` may itself
    /// insert or remove.
    pub fn for_each(&self, mut f: impl FnMut(u128, &V)) {
        let mut guard = self.reclaim.pin();
        for shard in self.shards.iter() {
            for slot in shard.load_table(&guard).slots() {
                if let Slot::Full { entry, .. } = decode(slot.load(Ordering::Acquire)) {
                    // SAFETY: as in `Shard::find`: published with `Release`,
                    // loaded with `Acquire`, and not freed before `guard`
                    // unpins.
                    let entry = unsafe { &*entry };
                    f(entry.key, &entry.value);
                }
            }
            // Let reclamation advance between the shards of a long walk.
            guard.repin();
        }
    }

    /// Removes everything. Values are dropped once no reader can see them.
    pub fn clear(&self) {
        let guard = self.reclaim.pin();
        for shard in self.shards.iter() {
            let mut used = shard.lock();
            let old = shard.table.swap(new_table(MIN_SLOTS), Ordering::AcqRel);
            used.0 = 0;
            shard.len.store(0, Ordering::Relaxed);
            // SAFETY: `old` was unpublished under the shard lock, so no
            // writer touches it again, and it owns the entries in it (growth
            // never retires a table with its entries). Readers still in it
            // are pinned; the epoch frees it and its entries after they
            // unpin.
            unsafe { guard.defer_unchecked(move || free_table_with_entries(old)) };
        }
    }

    /// Bytes the cache itself holds: shard headers, tables and entry
    /// allocations; not what `V` owns on the heap, nor the allocator's own
    /// per-allocation overhead, nor garbage waiting for the epoch.
    pub fn memory_bytes(&self) -> usize {
        let guard = self.reclaim.pin();
        let tables: usize = self
            .shards
            .iter()
            .map(|shard| std::mem::size_of_val(shard.load_table(&guard).lines))
            .sum();
        size_of::<Self>()
            + std::mem::size_of_val::<[Shard<V>]>(&self.shards)
            + tables
            + self.len() * size_of::<Entry<V>>()
    }

    fn shard(&self, hash: u64) -> &Shard<V> {
        let index = hash.checked_shr(u64::BITS - SHARD_BITS).unwrap_or(0);
        &self.shards[index as usize]
    }
}

impl<V: Send + Sync + 'static> Default for FlowCache<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> Drop for FlowCache<V> {
    fn drop(&mut self) {
        for shard in self.shards.iter() {
            // SAFETY: `&mut self`: no reader or writer is left. The current
            // table owns its entries; tables and entries unlinked earlier
            // are the epoch's to free, not ours.
            unsafe { free_table_with_entries(load_locked(&shard.table)) };
        }
    }
}

impl<V> fmt::Debug for FlowCache<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let len: usize = self
            .shards
            .iter()
            .map(|shard| shard.len.load(Ordering::Relaxed))
            .sum();
        f.debug_struct("FlowCache")
            .field("len", &len)
            .finish_non_exhaustive()
    }
}
