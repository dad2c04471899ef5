//! One shard's table: a power-of-two array of atomic slots in 64-byte
//! lines, published as one word (first line's address, log2 of the line
//! count in the low bits); slots hold an entry pointer tagged with four
//! hash bits, or are empty or a tombstone. Allocation, freeing, the hash
//! and slot decoding live here; probing is the table's, locking the
//! shard's.
//!
//! Invariant: for every key in a table, no slot between its home slot and
//! its own is empty (see the cache's module documentation).
//!
//! Must not depend on: anything else in the crate.

use std::ptr;

use super::reclaim::Guard;
use super::sync::{load_locked, AtomicPtr, Liveness, Ordering};

/// How many shards the key space is split into (a power of two). One under
/// loom, so that a model can make a table grow with a few keys.
pub(super) const SHARDS: usize = if cfg!(loom) { 1 } else { 64 };
pub(super) const SHARD_BITS: u32 = SHARDS.trailing_zeros();

/// Slots per cache line, the unit tables are allocated in.
pub(super) const LINE_SLOTS: usize = 8;
/// The smallest table: one line.
pub(super) const MIN_SLOTS: usize = LINE_SLOTS;
/// Low bits of a table word that hold log2 of its line count.
pub(super) const SIZE_MASK: usize = 0x3f;

/// Capacity hints above this are clamped: the cache grows on demand past it.
pub(super) const MAX_PRESIZE: usize = 1 << 24;

/// Slot value of a never-used slot: probing stops here.
pub(super) const EMPTY: usize = 0;
/// Slot value of a removed entry: probing continues past it.
pub(super) const TOMBSTONE: usize = 1;
/// Low slot bits that carry hash bits beside the entry pointer
/// (`Entry` is 16-byte aligned).
pub(super) const TAG_MASK: usize = 0xf;
/// Where the tag is taken from in the hash: above the slot index bits of any
/// realistic table, below the shard bits.
pub(super) const TAG_SHIFT: u32 = 48;

/// A flow's entry: the UFID beside its value. 16-byte aligned so that a slot
/// has four free low bits for the hash tag.
#[repr(align(16))]
pub(super) struct Entry<V> {
    pub(super) key: u128,
    pub(super) value: V,
}

/// Eight slots in one 64-byte line. Tables are arrays of lines, so a table
/// is 64-byte aligned (six free bits in its word) and a probe sequence
/// mostly stays within the line it starts in.
#[repr(align(64))]
pub(super) struct Line<V> {
    pub(super) slots: [AtomicPtr<Entry<V>>; LINE_SLOTS],
    /// Zero-sized outside loom.
    pub(super) liveness: Liveness,
}

/// A borrowed view of a table: a power-of-two array of slots.
pub(super) struct Table<'a, V> {
    pub(super) lines: &'a [Line<V>],
}

/// A slot's value, decoded.
pub(super) enum Slot<V> {
    Empty,
    Tombstone,
    Full { entry: *mut Entry<V>, tag: usize },
}

/// What a writer's probe found.
pub(super) enum Probe<V> {
    /// The key is in slot `index`.
    Found { index: usize, entry: *mut Entry<V> },
    /// The key is absent; it would go into slot `index`, which is a
    /// tombstone when `reuses_tombstone`.
    Vacant {
        index: usize,
        reuses_tombstone: bool,
    },
}

impl<'a, V> Table<'a, V> {
    /// Views a published table word.
    ///
    /// # Safety
    ///
    /// `word` came from [`new_table`] and the table is not freed during `'a`.
    #[inline]
    pub(super) unsafe fn from_word(word: *mut Line<V>) -> Self {
        let (first, lines) = unpack(word);
        // SAFETY: `new_table` allocated `lines` initialised lines at `first`;
        // the caller keeps them alive for `'a`.
        let lines = unsafe { std::slice::from_raw_parts(first, lines) };
        Self { lines }
    }

    #[inline]
    pub(super) fn mask(&self) -> usize {
        self.lines.len() * LINE_SLOTS - 1
    }

    #[inline]
    pub(super) fn slot(&self, index: usize) -> &'a AtomicPtr<Entry<V>> {
        let line = &self.lines[index / LINE_SLOTS];
        line.liveness.use_();
        &line.slots[index % LINE_SLOTS]
    }

    /// Every slot, in order.
    pub(super) fn slots(&self) -> impl Iterator<Item = &'a AtomicPtr<Entry<V>>> {
        self.lines.iter().flat_map(|line| {
            line.liveness.use_();
            &line.slots
        })
    }

    /// Most slots (entries plus tombstones) in use before a rebuild: 3/4.
    pub(super) fn max_used(&self) -> usize {
        self.lines.len() * LINE_SLOTS / 4 * 3
    }

    /// Where `key` is, or where it would go. Writers only, under the lock.
    pub(super) fn probe(&self, key: u128, hash: u64) -> Probe<V> {
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
    pub(super) fn unlink(&self, index: usize, used: &mut Used) {
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
    pub(super) fn place(&self, hash: u64, raw: *mut Entry<V>) {
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
pub(super) fn new_table<V>(slots: usize) -> *mut Line<V> {
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
pub(super) fn unpack<V>(word: *mut Line<V>) -> (*mut Line<V>, usize) {
    let log2 = word as usize & SIZE_MASK;
    (word.wrapping_byte_sub(log2), 1 << log2)
}

/// Frees a table's lines, not the entries they point to.
///
/// # Safety
///
/// `word` came from [`new_table`], and the table is unreachable to readers
/// and writers.
pub(super) unsafe fn free_table<V>(word: *mut Line<V>) {
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
pub(super) unsafe fn free_table_with_entries<V>(word: *mut Line<V>) {
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
pub(super) unsafe fn defer_free_entry<V: 'static>(guard: &Guard, entry: *mut Entry<V>) {
    // SAFETY: the caller's contract; `defer_unchecked` runs the drop after
    // every thread pinned now has unpinned.
    unsafe { guard.defer_unchecked(move || drop(Box::from_raw(entry))) };
}

/// Folds the UFID's halves and mixes them with one wide multiply.
#[inline]
pub(super) fn hash(key: u128) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let folded = (key as u64) ^ ((key >> 64) as u64).rotate_left(29);
    let wide = u128::from(folded) * u128::from(K);
    (wide as u64) ^ ((wide >> 64) as u64)
}

/// The four hash bits kept in a slot beside the entry pointer.
#[inline]
pub(super) fn tag(hash: u64) -> usize {
    (hash >> TAG_SHIFT) as usize & TAG_MASK
}

pub(super) fn tombstone<V>() -> *mut Entry<V> {
    ptr::null_mut::<Entry<V>>().wrapping_byte_add(TOMBSTONE)
}

#[inline]
pub(super) fn decode<V>(raw: *mut Entry<V>) -> Slot<V> {
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
pub(super) fn slots_for(entries: usize, num: usize, den: usize) -> usize {
    let wanted = entries.saturating_mul(num).div_ceil(den).max(MIN_SLOTS);
    wanted
        .checked_next_power_of_two()
        .unwrap_or(1 << (usize::BITS - 1))
}

/// Slots of the current table that are not empty: live entries plus
/// tombstones. Only writers, under the shard lock, read or change it.
pub(super) struct Used(pub(super) usize);
