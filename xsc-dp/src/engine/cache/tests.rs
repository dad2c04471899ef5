use std::ptr;

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
