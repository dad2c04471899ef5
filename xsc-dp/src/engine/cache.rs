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
use std::ptr;

use self::reclaim::{Domain, Guard};
use self::sync::{load_locked, AtomicPtr, AtomicUsize, Liveness, Mutex, MutexGuard, Ordering};

/// Atomics and the writer mutex: loom's when model checking, std's otherwise.
mod sync {
    #[cfg(loom)]
    pub(super) use loom::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
    #[cfg(loom)]
    pub(super) use loom::sync::{Mutex, MutexGuard};

    #[cfg(not(loom))]
    pub(super) use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
    #[cfg(not(loom))]
    pub(super) use std::sync::{Mutex, MutexGuard};

    /// A load by a writer holding the shard lock, or by the table's only
    /// owner: every store to slots and table words is made under the lock,
    /// so none can race it, and `Relaxed` is enough.
    #[cfg(not(loom))]
    #[inline]
    pub(super) fn load_locked<T>(atomic: &AtomicPtr<T>) -> *mut T {
        atomic.load(Ordering::Relaxed)
    }

    /// Under loom, an `unsync_load`: loom checks that every store happens
    /// before it, and the writer's read does not hide a concurrent reader's
    /// load of the same slot from loom's race detection (it remembers only
    /// an atomic's last access, so a writer that loads a slot and then
    /// stores it would mask the reader otherwise).
    #[cfg(loom)]
    pub(super) fn load_locked<T>(atomic: &AtomicPtr<T>) -> *mut T {
        // SAFETY: as above; loom fails the model if a store is not ordered
        // before this load.
        unsafe { atomic.unsync_load() }
    }

    /// Under loom, a cell whose accesses loom checks for causality: `use_`
    /// must happen before `free`, or the model fails. Nothing otherwise.
    #[cfg(loom)]
    pub(super) struct Liveness(loom::cell::UnsafeCell<()>);

    #[cfg(loom)]
    impl Liveness {
        pub(super) fn new() -> Self {
            Self(loom::cell::UnsafeCell::new(()))
        }
        pub(super) fn use_(&self) {
            self.0.with(|_| ());
        }
        pub(super) fn free(&self) {
            self.0.with_mut(|_| ());
        }
    }

    // SAFETY: the cell holds `()`; it only carries loom's access tracking,
    // which is what we want checked across threads.
    #[cfg(loom)]
    unsafe impl Sync for Liveness {}

    #[cfg(not(loom))]
    pub(super) struct Liveness;

    #[cfg(not(loom))]
    impl Liveness {
        #[inline(always)]
        pub(super) fn new() -> Self {
            Self
        }
        #[inline(always)]
        pub(super) fn use_(&self) {}
        #[inline(always)]
        pub(super) fn free(&self) {}
    }
}

/// How unlinked entries and tables are freed once no reader can hold them:
/// a guard pins the thread; `defer_unchecked` on a guard runs a function
/// after every thread pinned at that time has unpinned.
mod reclaim {
    /// crossbeam-epoch's guard, from its global collector.
    #[cfg(not(loom))]
    pub(super) use crossbeam::epoch::Guard;

    /// Where guards come from: crossbeam-epoch's global collector, so
    /// nothing per cache.
    #[cfg(not(loom))]
    pub(super) struct Domain;

    #[cfg(not(loom))]
    impl Domain {
        pub(super) fn new() -> Self {
            Self
        }

        #[inline]
        pub(super) fn pin(&self) -> Guard {
            crossbeam::epoch::pin()
        }
    }

    #[cfg(loom)]
    pub(super) use self::model::{Domain, Guard};

    /// The stand-in for crossbeam-epoch under loom, with its contract: a
    /// function deferred through a guard runs only once every thread pinned
    /// when it was deferred has unpinned. It counts pinned guards with
    /// read-modify-writes on one atomic, so that pins and unpins are totally
    /// ordered and each unpin releases to every later pin, and runs the
    /// deferred functions when the count returns to zero. Slow and unfair
    /// (under steady reads nothing is freed), and exactly right for a model.
    #[cfg(loom)]
    mod model {
        use super::super::sync::{AtomicUsize, Mutex, Ordering};

        /// A function to run later, maybe on another thread: the caller of
        /// `defer_unchecked` vouches for that, as with crossbeam's.
        struct Deferred(Box<dyn FnOnce()>);

        // SAFETY: `defer_unchecked`'s contract.
        unsafe impl Send for Deferred {}

        pub(in super::super) struct Domain {
            pinned: AtomicUsize,
            deferred: Mutex<Vec<Deferred>>,
        }

        pub(in super::super) struct Guard {
            domain: *const Domain,
        }

        impl Domain {
            pub(in super::super) fn new() -> Self {
                Self {
                    pinned: AtomicUsize::new(0),
                    deferred: Mutex::new(Vec::new()),
                }
            }

            pub(in super::super) fn pin(&self) -> Guard {
                self.pinned.fetch_add(1, Ordering::AcqRel);
                Guard { domain: self }
            }

            fn unpin(&self) {
                // Decrement under the lock, so that what we run was deferred
                // before the count reached zero.
                let ready = {
                    let mut deferred = self
                        .deferred
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if self.pinned.fetch_sub(1, Ordering::AcqRel) == 1 {
                        std::mem::take(&mut *deferred)
                    } else {
                        Vec::new()
                    }
                };
                for Deferred(f) in ready {
                    f();
                }
            }
        }

        impl Drop for Domain {
            fn drop(&mut self) {
                let deferred = self
                    .deferred
                    .get_mut()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                for Deferred(f) in std::mem::take(deferred) {
                    f();
                }
            }
        }

        impl Guard {
            fn domain(&self) -> &Domain {
                // SAFETY: a guard is made from `&Domain` by a cache method
                // and dropped before it returns; the domain outlives it.
                unsafe { &*self.domain }
            }

            /// Runs `f` once every thread pinned now has unpinned.
            ///
            /// # Safety
            ///
            /// As crossbeam-epoch's: `f` may run on any thread, later.
            pub(in super::super) unsafe fn defer_unchecked<F: FnOnce() + 'static>(&self, f: F) {
                self.domain()
                    .deferred
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(Deferred(Box::new(f)));
            }

            pub(in super::super) fn repin(&mut self) {
                let domain = self.domain();
                domain.unpin();
                domain.pinned.fetch_add(1, Ordering::AcqRel);
            }
        }

        impl Drop for Guard {
            fn drop(&mut self) {
                self.domain().unpin();
            }
        }
    }
}

/// How many shards the key space is split into (a power of two). One under
/// loom, so that a model can make a table grow with a few keys.
const SHARDS: usize = if cfg!(loom) { 1 } else { 64 };
const SHARD_BITS: u32 = SHARDS.trailing_zeros();

/// Slots per cache line, the unit tables are allocated in.
const LINE_SLOTS: usize = 8;
/// The smallest table: one line.
const MIN_SLOTS: usize = LINE_SLOTS;
/// Low bits of a table word that hold log2 of its line count.
const SIZE_MASK: usize = 0x3f;

/// Capacity hints above this are clamped: the cache grows on demand past it.
const MAX_PRESIZE: usize = 1 << 24;

/// Slot value of a never-used slot: probing stops here.
const EMPTY: usize = 0;
/// Slot value of a removed entry: probing continues past it.
const TOMBSTONE: usize = 1;
/// Low slot bits that carry hash bits beside the entry pointer
/// (`Entry` is 16-byte aligned).
const TAG_MASK: usize = 0xf;
/// Where the tag is taken from in the hash: above the slot index bits of any
/// realistic table, below the shard bits.
const TAG_SHIFT: u32 = 48;

/// A flow's entry: the UFID beside its value. 16-byte aligned so that a slot
/// has four free low bits for the hash tag.
#[repr(align(16))]
struct Entry<V> {
    key: u128,
    value: V,
}

/// Eight slots in one 64-byte line. Tables are arrays of lines, so a table
/// is 64-byte aligned (six free bits in its word) and a probe sequence
/// mostly stays within the line it starts in.
#[repr(align(64))]
struct Line<V> {
    slots: [AtomicPtr<Entry<V>>; LINE_SLOTS],
    /// Zero-sized outside loom.
    liveness: Liveness,
}

/// A borrowed view of a table: a power-of-two array of slots.
struct Table<'a, V> {
    lines: &'a [Line<V>],
}

/// A slot's value, decoded.
enum Slot<V> {
    Empty,
    Tombstone,
    Full { entry: *mut Entry<V>, tag: usize },
}

/// What a writer's probe found.
enum Probe<V> {
    /// The key is in slot `index`.
    Found { index: usize, entry: *mut Entry<V> },
    /// The key is absent; it would go into slot `index`, which is a
    /// tombstone when `reuses_tombstone`.
    Vacant {
        index: usize,
        reuses_tombstone: bool,
    },
}

/// A shard: its current table, its entry count and its writer lock.
/// Aligned to its own cache lines so that writers of one shard do not
/// disturb readers of its neighbours.
#[repr(align(128))]
struct Shard<V> {
    /// The published table word: the address of its first line, with log2
    /// of its line count in the low bits ([`SIZE_MASK`]). Never null.
    table: AtomicPtr<Line<V>>,
    len: AtomicUsize,
    /// Held by writers only. Guards `Used` and every store into `table`
    /// and its slots.
    writer: Mutex<Used>,
}

/// Slots of the current table that are not empty: live entries plus
/// tombstones. Only writers, under the shard lock, read or change it.
struct Used(usize);

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

impl<V: 'static> Shard<V> {
    /// Brings the line of `hash`'s home slot towards the cache, before the
    /// lookup pins the thread. Only a hint: it reads nothing.
    #[inline]
    fn prefetch(&self, hash: u64) {
        #[cfg(all(target_arch = "x86_64", not(loom)))]
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            let (first, lines) = unpack(self.table.load(Ordering::Relaxed));
            let line = first.wrapping_add((hash as usize / LINE_SLOTS) & (lines - 1));
            // SAFETY: a prefetch never faults and has no effect the program
            // can observe, so an address into a table freed since the load
            // above is harmless. Nothing is dereferenced.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(line.cast::<i8>()) };
        }
        #[cfg(not(all(target_arch = "x86_64", not(loom))))]
        let _ = hash;
    }

    /// The entry of `key`, if present, protected by `guard`.
    #[inline]
    fn find<'g>(&self, key: u128, hash: u64, guard: &'g Guard) -> Option<&'g Entry<V>> {
        let table = self.load_table(guard);
        let want = tag(hash);
        let mask = table.mask();
        let mut index = hash as usize & mask;
        for _ in 0..=mask {
            match decode(table.slot(index).load(Ordering::Acquire)) {
                Slot::Empty => return None,
                Slot::Full { entry, tag } if tag == want => {
                    // SAFETY: the slot was loaded with `Acquire` and the
                    // entry stored into it with `Release` after it was fully
                    // written, so it is initialised. It is freed only
                    // through the epoch after being unlinked, and we are
                    // pinned by `guard`, so it lives as long as `'g`.
                    let entry = unsafe { &*entry };
                    if entry.key == key {
                        return Some(entry);
                    }
                }
                Slot::Full { .. } | Slot::Tombstone => {}
            }
            index = (index + 1) & mask;
        }
        None
    }

    /// Takes the writer lock. Nothing that can panic runs under it, so a
    /// poisoned lock would still guard consistent data.
    fn lock(&self) -> MutexGuard<'_, Used> {
        self.writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The published table, for a reader pinned by `_guard`.
    #[inline]
    fn load_table<'g>(&self, _guard: &'g Guard) -> Table<'g, V> {
        // SAFETY: tables are published with `Release` after being filled
        // and the word is never null; a replaced table is freed through the
        // epoch, and the caller is pinned by `_guard`.
        unsafe { Table::from_word(self.table.load(Ordering::Acquire)) }
    }

    /// The published table, for the writer holding the lock (`_locked`).
    /// Valid while the lock is held: callers use it only before unlocking.
    fn current_table(&self, _locked: &Used) -> Table<'_, V> {
        // SAFETY: only lock holders replace the table, and they retire the
        // old one through the epoch; while we hold the lock the current
        // table cannot be retired, and the writer's own pin keeps it alive
        // until it unpins, after unlocking.
        unsafe { Table::from_word(load_locked(&self.table)) }
    }

    /// Publishes a table of twice the live entries (plus the one being
    /// inserted), so at least a quarter of it can fill before the next
    /// rebuild, and retires `old`. Returns the new table.
    fn grow(&self, used: &mut Used, old: &Table<'_, V>, guard: &Guard) -> Table<'_, V> {
        let live = self.len.load(Ordering::Relaxed);
        let word = new_table(slots_for(live + 1, 2, 1));
        // SAFETY: just allocated and not yet published: ours alone.
        let new = unsafe { Table::from_word(word) };
        for slot in old.slots() {
            let raw = load_locked(slot);
            if let Slot::Full { entry, .. } = decode(raw) {
                // SAFETY: entries in the current table are live, and were
                // written by lock holders, which happen before us.
                let key = unsafe { (*entry).key };
                new.place(hash(key), raw);
            }
        }
        used.0 = live;
        let old = self.table.swap(word, Ordering::AcqRel);
        // SAFETY: `old` is unpublished under the lock; its entries now
        // belong to the new table, so only its lines are freed, after every
        // reader still probing it has unpinned.
        unsafe { guard.defer_unchecked(move || free_table(old)) };
        new
    }
}

impl<'a, V> Table<'a, V> {
    /// Views a published table word.
    ///
    /// # Safety
    ///
    /// `word` came from [`new_table`] and the table is not freed during `'a`.
    #[inline]
    unsafe fn from_word(word: *mut Line<V>) -> Self {
        let (first, lines) = unpack(word);
        // SAFETY: `new_table` allocated `lines` initialised lines at `first`;
        // the caller keeps them alive for `'a`.
        let lines = unsafe { std::slice::from_raw_parts(first, lines) };
        Self { lines }
    }

    #[inline]
    fn mask(&self) -> usize {
        self.lines.len() * LINE_SLOTS - 1
    }

    #[inline]
    fn slot(&self, index: usize) -> &'a AtomicPtr<Entry<V>> {
        let line = &self.lines[index / LINE_SLOTS];
        line.liveness.use_();
        &line.slots[index % LINE_SLOTS]
    }

    /// Every slot, in order.
    fn slots(&self) -> impl Iterator<Item = &'a AtomicPtr<Entry<V>>> {
        self.lines.iter().flat_map(|line| {
            line.liveness.use_();
            &line.slots
        })
    }

    /// Most slots (entries plus tombstones) in use before a rebuild: 3/4.
    fn max_used(&self) -> usize {
        self.lines.len() * LINE_SLOTS / 4 * 3
    }

    /// Where `key` is, or where it would go. Writers only, under the lock.
    fn probe(&self, key: u128, hash: u64) -> Probe<V> {
        let want = tag(hash);
        let mut index = hash as usize & self.mask();
        let mut tombstone = None;
        for _ in 0..=self.mask() {
            match decode(load_locked(self.slot(index))) {
                Slot::Empty => break,
                Slot::Tombstone => {
                    tombstone.get_or_insert(index);
                }
                Slot::Full { entry, tag } if tag == want => {
                    // SAFETY: entries in the current table are live and
                    // were written under the lock we hold.
                    if unsafe { (*entry).key } == key {
                        return Probe::Found { index, entry };
                    }
                }
                Slot::Full { .. } => {}
            }
            index = (index + 1) & self.mask();
        }
        match tombstone {
            Some(index) => Probe::Vacant {
                index,
                reuses_tombstone: true,
            },
            // The empty slot the loop stopped at (the table always has one:
            // at most 3/4 of it is used).
            None => Probe::Vacant {
                index,
                reuses_tombstone: false,
            },
        }
    }

    /// Unlinks the entry in slot `index`. When the next slot is empty no
    /// probe goes past this one, so it and the tombstones just before it
    /// become empty again; otherwise it becomes a tombstone.
    fn unlink(&self, index: usize, used: &mut Used) {
        let next = (index + 1) & self.mask();
        if !matches!(decode(load_locked(self.slot(next))), Slot::Empty) {
            self.slot(index).store(tombstone(), Ordering::Release);
            return;
        }
        let mut index = index;
        loop {
            self.slot(index).store(ptr::null_mut(), Ordering::Release);
            used.0 -= 1;
            index = index.wrapping_sub(1) & self.mask();
            if !matches!(decode(load_locked(self.slot(index))), Slot::Tombstone) {
                break;
            }
        }
    }

    /// Puts an entry's slot value into a fresh, unpublished table.
    fn place(&self, hash: u64, raw: *mut Entry<V>) {
        let mut index = hash as usize & self.mask();
        for _ in 0..=self.mask() {
            if matches!(decode(load_locked(self.slot(index))), Slot::Empty) {
                self.slot(index).store(raw, Ordering::Relaxed);
                return;
            }
            index = (index + 1) & self.mask();
        }
    }
}

/// Allocates an empty table of `slots` slots (a power of two, at least
/// [`MIN_SLOTS`]) and returns its word.
fn new_table<V>(slots: usize) -> *mut Line<V> {
    let lines: Box<[Line<V>]> = (0..slots / LINE_SLOTS)
        .map(|_| Line {
            slots: std::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())),
            liveness: Liveness::new(),
        })
        .collect();
    let log2 = lines.len().trailing_zeros() as usize;
    Box::into_raw(lines)
        .cast::<Line<V>>()
        .wrapping_byte_add(log2)
}

/// Splits a table word into its first line and its line count.
#[inline]
fn unpack<V>(word: *mut Line<V>) -> (*mut Line<V>, usize) {
    let log2 = word as usize & SIZE_MASK;
    (word.wrapping_byte_sub(log2), 1 << log2)
}

/// Frees a table's lines, not the entries they point to.
///
/// # Safety
///
/// `word` came from [`new_table`], and the table is unreachable to readers
/// and writers.
unsafe fn free_table<V>(word: *mut Line<V>) {
    let (first, lines) = unpack(word);
    // SAFETY: `new_table` made this boxed slice of `lines` lines at `first`;
    // the caller guarantees nobody else can reach it.
    let table = unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(first, lines)) };
    for line in table.iter() {
        line.liveness.free();
    }
}

/// Frees a table and every entry in it.
///
/// # Safety
///
/// As [`free_table`], and the table owns its entries: no other table
/// links them.
unsafe fn free_table_with_entries<V>(word: *mut Line<V>) {
    // SAFETY: the caller's contract: the table is alive and ours alone.
    let table = unsafe { Table::from_word(word) };
    for slot in table.slots() {
        if let Slot::Full { entry, .. } = decode(load_locked(slot)) {
            // SAFETY: the table owns its entries; each was made by
            // `Box::into_raw` and appears in exactly one slot.
            drop(unsafe { Box::from_raw(entry) });
        }
    }
    // SAFETY: the caller's contract; the view above is no longer used.
    unsafe { free_table(word) };
}

/// Frees `entry` once no pinned thread can hold it.
///
/// # Safety
///
/// `entry` came from `Box::into_raw`, was just unlinked from the current
/// table under the shard lock, and no table a later reader can reach
/// links it.
unsafe fn defer_free_entry<V: 'static>(guard: &Guard, entry: *mut Entry<V>) {
    // SAFETY: the caller's contract; `defer_unchecked` runs the drop after
    // every thread pinned now has unpinned.
    unsafe { guard.defer_unchecked(move || drop(Box::from_raw(entry))) };
}

/// Folds the UFID's halves and mixes them with one wide multiply.
#[inline]
fn hash(key: u128) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let folded = (key as u64) ^ ((key >> 64) as u64).rotate_left(29);
    let wide = u128::from(folded) * u128::from(K);
    (wide as u64) ^ ((wide >> 64) as u64)
}

/// The four hash bits kept in a slot beside the entry pointer.
#[inline]
fn tag(hash: u64) -> usize {
    (hash >> TAG_SHIFT) as usize & TAG_MASK
}

fn tombstone<V>() -> *mut Entry<V> {
    ptr::null_mut::<Entry<V>>().wrapping_byte_add(TOMBSTONE)
}

#[inline]
fn decode<V>(raw: *mut Entry<V>) -> Slot<V> {
    let bits = raw as usize;
    match bits & !TAG_MASK {
        0 if bits == EMPTY => Slot::Empty,
        0 => Slot::Tombstone,
        _ => {
            let tag = bits & TAG_MASK;
            Slot::Full {
                entry: raw.wrapping_byte_sub(tag),
                tag,
            }
        }
    }
}

/// The smallest power-of-two slot count that gives `entries` at least
/// `num/den` slots each, and at least [`MIN_SLOTS`].
fn slots_for(entries: usize, num: usize, den: usize) -> usize {
    let wanted = entries.saturating_mul(num).div_ceil(den).max(MIN_SLOTS);
    wanted
        .checked_next_power_of_two()
        .unwrap_or(1 << (usize::BITS - 1))
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crossbeam::epoch;
    use std::sync::atomic::AtomicU64;
    use std::sync::Arc;

    /// Counts its drops in a shared counter.
    struct Counted(u64, Arc<AtomicU64>);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Pins and flushes until the epoch has run the garbage of this thread
    /// (and of exited threads) or gives up after many rounds.
    fn wait_for(drops: &AtomicU64, want: u64) -> u64 {
        for _ in 0..100_000 {
            let seen = drops.load(std::sync::atomic::Ordering::Relaxed);
            if seen >= want {
                return seen;
            }
            epoch::pin().flush();
            std::thread::yield_now();
        }
        drops.load(std::sync::atomic::Ordering::Relaxed)
    }

    #[test]
    fn insert_get_replace_remove() {
        let cache = FlowCache::new();
        assert!(cache.is_empty());
        assert!(cache.insert(7, 70u64));
        assert!(cache.insert(u128::MAX, 1));
        assert_eq!(cache.get(7, |v| *v), Some(70));
        assert!(!cache.insert(7, 71));
        assert_eq!(cache.get(7, |v| *v), Some(71));
        assert_eq!(cache.len(), 2);
        assert!(cache.contains(u128::MAX));
        assert!(cache.remove(7));
        assert!(!cache.remove(7));
        assert_eq!(cache.get(7, |v| *v), None);
        assert!(!cache.contains(7));
        assert_eq!(cache.len(), 1);
        cache.clear();
        assert!(cache.is_empty());
        assert!(!cache.contains(u128::MAX));
    }

    #[test]
    fn values_update_in_place_through_get() {
        let cache = FlowCache::new();
        cache.insert(1, AtomicU64::new(0));
        for _ in 0..10 {
            cache.get(1, |hits| {
                hits.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            });
        }
        assert_eq!(
            cache.get(1, |hits| hits.load(std::sync::atomic::Ordering::Relaxed)),
            Some(10)
        );
    }

    #[test]
    fn grows_and_shrinks_keeping_every_key() {
        let cache = FlowCache::new();
        let before = cache.memory_bytes();
        for key in 0..10_000u128 {
            assert!(cache.insert(key << 64 | key, key));
        }
        assert_eq!(cache.len(), 10_000);
        assert!(cache.memory_bytes() > before + 10_000 * std::mem::size_of::<Entry<u128>>());
        for key in 0..10_000u128 {
            assert_eq!(cache.get(key << 64 | key, |v| *v), Some(key), "key {key}");
        }
        for key in (0..10_000u128).filter(|k| k % 3 != 0) {
            assert!(cache.remove(key << 64 | key));
        }
        // Churn: tombstones are reclaimed by rebuilds, not by growth.
        for round in 0..20u128 {
            for key in 0..1000u128 {
                let key = (round + 1) << 100 | key;
                cache.insert(key, 0);
                cache.remove(key);
            }
        }
        let mut seen = 0;
        cache.for_each(|key, value| {
            assert_eq!(key as u64 as u128, *value);
            assert_eq!(*value % 3, 0);
            seen += 1;
        });
        assert_eq!(seen, 3334);
        assert_eq!(cache.len(), 3334);
        let max_slots: usize = cache
            .shards
            .iter()
            .map(|s| s.load_table(&epoch::pin()).mask() + 1)
            .max()
            .unwrap_or(0);
        assert!(
            max_slots <= 256,
            "tables grew under churn: {max_slots} slots"
        );
    }

    #[test]
    fn probes_cross_tombstones_and_wrap() {
        // A lone 8-slot table, filled around its end, with holes.
        let word = new_table::<u64>(8);
        // SAFETY: just allocated; freed at the end of the test.
        let table = unsafe { Table::from_word(word) };
        assert_eq!(table.mask(), 7);
        let mut used = Used(0);
        let entries: Vec<_> = (0..5u128)
            .map(|key| Box::into_raw(Box::new(Entry { key, value: 0 })))
            .collect();
        // Everything homes at slot 6 (tag 0), so the chain is 6, 7, 0, 1, 2.
        let home = 6u64;
        for &entry in &entries {
            table.place(home, entry);
            used.0 += 1;
        }
        let state = |index: usize| decode(table.slot(index).load(Ordering::Relaxed));
        assert!(matches!(
            table.probe(4, home),
            Probe::Found { index: 2, .. }
        ));
        table.unlink(0, &mut used); // key 2: slot 1 is full, so a tombstone
        assert!(matches!(state(0), Slot::Tombstone));
        assert!(matches!(
            table.probe(4, home),
            Probe::Found { index: 2, .. }
        ));
        assert!(matches!(
            table.probe(9, home),
            Probe::Vacant {
                index: 0,
                reuses_tombstone: true
            }
        ));
        table.unlink(2, &mut used); // key 4, end of the chain: empty; slot 1 is full, so 0 stays
        assert!(matches!(state(2), Slot::Empty));
        assert!(matches!(state(0), Slot::Tombstone));
        table.unlink(1, &mut used); // key 3: 1 and the tombstone at 0 become empty
        assert!(matches!(state(1), Slot::Empty));
        assert!(matches!(state(0), Slot::Empty));
        assert_eq!(used.0, 2);
        assert!(matches!(
            table.probe(1, home),
            Probe::Found { index: 7, .. }
        ));
        assert!(matches!(
            table.probe(9, home),
            Probe::Vacant {
                index: 0,
                reuses_tombstone: false
            }
        ));
        // SAFETY: made by `new_table` above, no longer viewed; its entries
        // are freed below, one by one.
        unsafe { free_table(word) };
        for entry in entries {
            // SAFETY: made by `Box::into_raw` above.
            drop(unsafe { Box::from_raw(entry) });
        }
    }

    #[test]
    fn table_words_pack_size_and_address() {
        // Eight slots to a line, nothing else in it outside loom.
        assert_eq!(size_of::<Line<u64>>(), 64);
        assert_eq!(std::mem::align_of::<Line<u64>>(), 64);
        for slots in [8usize, 16, 1024, 1 << 16] {
            let word = new_table::<u8>(slots);
            let (first, lines) = unpack(word);
            assert_eq!(lines * LINE_SLOTS, slots);
            assert_eq!(first as usize % 64, 0);
            // SAFETY: made by `new_table` just above.
            let table = unsafe { Table::from_word(word) };
            assert_eq!(table.mask() + 1, slots);
            assert!(std::ptr::eq(
                table.slot(slots - 1),
                &table.lines[lines - 1].slots[7]
            ));
            assert_eq!(table.slots().count(), slots);
            // SAFETY: made by `new_table`, no longer viewed.
            unsafe { free_table(word) };
        }
    }

    #[test]
    fn tags_and_tombstones_decode() {
        let entry = Box::into_raw(Box::new(Entry { key: 1, value: 0u8 }));
        for tag in 0..=TAG_MASK {
            match decode(entry.wrapping_byte_add(tag)) {
                Slot::Full { entry: e, tag: t } => assert!(e == entry && t == tag),
                _ => panic!("tag {tag} lost the entry"),
            }
        }
        assert!(matches!(decode::<u8>(ptr::null_mut()), Slot::Empty));
        assert!(matches!(decode::<u8>(tombstone()), Slot::Tombstone));
        // SAFETY: made by `Box::into_raw` above.
        drop(unsafe { Box::from_raw(entry) });
    }

    #[test]
    fn sizes_are_powers_of_two_and_hints_are_clamped() {
        assert_eq!(slots_for(0, 4, 3), MIN_SLOTS);
        assert_eq!(slots_for(6, 4, 3), 8);
        assert_eq!(slots_for(7, 4, 3), 16);
        assert_eq!(slots_for(usize::MAX, 2, 1), 1 << (usize::BITS - 1));
        let cache = FlowCache::<u8>::with_capacity(usize::MAX);
        let slots = cache.shards[0].load_table(&epoch::pin()).mask() + 1;
        assert!(
            slots.is_power_of_two() && slots <= 4 * MAX_PRESIZE / SHARDS,
            "{slots}"
        );
        let cache = FlowCache::<u8>::with_capacity(100_000);
        let before = cache.memory_bytes();
        for key in 0..100_000u128 {
            cache.insert(
                key.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835),
                0,
            );
        }
        let grown = cache.memory_bytes() - 100_000 * std::mem::size_of::<Entry<u8>>();
        assert_eq!(grown, before, "presized cache grew");
    }

    #[test]
    fn every_value_is_dropped_exactly_once() {
        let drops = Arc::new(AtomicU64::new(0));
        let cache = FlowCache::new();
        for key in 0..1000u64 {
            cache.insert(u128::from(key), Counted(key, drops.clone()));
        }
        for key in 0..100u64 {
            cache.insert(u128::from(key), Counted(key, drops.clone())); // 100 replaced
        }
        for key in 100..200u64 {
            cache.remove(u128::from(key)); // 100 removed
        }
        assert_eq!(cache.get(5, |v| v.0), Some(5));
        drop(cache); // 800 dropped now
        assert!(drops.load(std::sync::atomic::Ordering::Relaxed) >= 800);
        assert_eq!(wait_for(&drops, 1100), 1100);
        std::thread::sleep(std::time::Duration::from_millis(10));
        epoch::pin().flush();
        assert_eq!(drops.load(std::sync::atomic::Ordering::Relaxed), 1100);
    }

    #[test]
    fn clear_drops_everything_once() {
        let drops = Arc::new(AtomicU64::new(0));
        let cache = FlowCache::with_capacity(10);
        for key in 0..500u64 {
            cache.insert(u128::from(key), Counted(key, drops.clone()));
        }
        cache.clear();
        assert!(cache.is_empty());
        assert_eq!(wait_for(&drops, 500), 500);
        cache.insert(1, Counted(1, drops.clone()));
        assert_eq!(cache.get(1, |v| v.0), Some(1));
        drop(cache);
        assert_eq!(drops.load(std::sync::atomic::Ordering::Relaxed), 501);
    }

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<FlowCache<AtomicU64>>();
    }
}
