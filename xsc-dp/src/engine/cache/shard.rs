//! A shard of the cache: its current table, entry count and writer lock.
//! Readers load the table word and probe; writers take the lock to insert,
//! remove, grow or clear, and retire what they unlink through `reclaim`.
//!
//! Must not depend on: anything else in the crate.

use super::reclaim::Guard;
use super::sync::{load_locked, AtomicPtr, AtomicUsize, Mutex, MutexGuard, Ordering};
use super::table::*;

/// A shard: its current table, its entry count and its writer lock.
/// Aligned to its own cache lines so that writers of one shard do not
/// disturb readers of its neighbours.
#[repr(align(128))]
pub(super) struct Shard<V> {
    /// The published table word: the address of its first line, with log2
    /// of its line count in the low bits ([`SIZE_MASK`]). Never null.
    pub(super) table: AtomicPtr<Line<V>>,
    pub(super) len: AtomicUsize,
    /// Held by writers only. Guards `Used` and every store into `table`
    /// and its slots.
    pub(super) writer: Mutex<Used>,
}

impl<V: 'static> Shard<V> {
    /// Brings the line of `hash`'s home slot towards the cache, before the
    /// lookup pins the thread. Only a hint: it reads nothing.
    #[inline]
    pub(super) fn prefetch(&self, hash: u64) {
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
    pub(super) fn find<'g>(&self, key: u128, hash: u64, guard: &'g Guard) -> Option<&'g Entry<V>> {
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
    pub(super) fn lock(&self) -> MutexGuard<'_, Used> {
        self.writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The published table, for a reader pinned by `_guard`.
    #[inline]
    pub(super) fn load_table<'g>(&self, _guard: &'g Guard) -> Table<'g, V> {
        // SAFETY: tables are published with `Release` after being filled
        // and the word is never null; a replaced table is freed through the
        // epoch, and the caller is pinned by `_guard`.
        unsafe { Table::from_word(self.table.load(Ordering::Acquire)) }
    }

    /// The published table, for the writer holding the lock (`_locked`).
    /// Valid while the lock is held: callers use it only before unlocking.
    pub(super) fn current_table(&self, _locked: &Used) -> Table<'_, V> {
        // SAFETY: only lock holders replace the table, and they retire the
        // old one through the epoch; while we hold the lock the current
        // table cannot be retired, and the writer's own pin keeps it alive
        // until it unpins, after unlocking.
        unsafe { Table::from_word(load_locked(&self.table)) }
    }

    /// Publishes a table of twice the live entries (plus the one being
    /// inserted), so at least a quarter of it can fill before the next
    /// rebuild, and retires `old`. Returns the new table.
    pub(super) fn grow(&self, used: &mut Used, old: &Table<'_, V>, guard: &Guard) -> Table<'_, V> {
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
