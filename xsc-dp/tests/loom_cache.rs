//! Loom models of `engine::cache::FlowCache`: publication, reclamation of
//! replaced and removed values, and growth while a reader is in the old
//! table. Two threads, one to three operations each.
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" cargo test -p xsc-dp --release --test loom_cache`
//!
//! Under that flag the cache's atomics and writer lock are loom's, and its
//! reclamation is the loom stand-in for crossbeam-epoch (same contract:
//! what is deferred runs after every reader pinned at the time unpins; see
//! `engine::cache`'s `reclaim` module for why not crossbeam-epoch itself).
//! A value is a loom `UnsafeCell` written when made and when dropped, and
//! read by readers: loom fails the model if a reader can see a value not
//! fully published, or a value is dropped while a reader may hold it. Table
//! lines carry the same kind of cell inside the cache, so a table freed
//! under a reader fails too. Drops are counted: once every guard is gone,
//! each unlinked value has been dropped exactly once.
#![cfg(loom)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use loom::cell::UnsafeCell;
use loom::thread;
use xsc_dp::engine::cache::FlowCache;

/// A value whose payload loom watches: written on creation and on drop,
/// read by readers through `get`.
struct Value {
    payload: UnsafeCell<u64>,
    drops: Arc<AtomicUsize>,
}

// SAFETY: the payload is written only at creation and in `drop` (both with
// exclusive access); shared access only reads it, and loom checks that.
unsafe impl Sync for Value {}

impl Value {
    fn new(payload: u64, drops: &Arc<AtomicUsize>) -> Self {
        let value = Self {
            payload: UnsafeCell::new(0),
            drops: drops.clone(),
        };
        // Written through `with_mut`, which loom records as this thread's
        // latest write (creation alone may not be), so a reader that is not
        // ordered after it fails the model.
        value.payload.with_mut(|p| {
            // SAFETY: not shared yet.
            unsafe { *p = payload }
        });
        value
    }

    fn read(&self) -> u64 {
        // SAFETY: see `impl Sync`; loom reports a read concurrent with the
        // drop's write.
        self.payload.with(|p| unsafe { *p })
    }
}

impl Drop for Value {
    fn drop(&mut self) {
        // A write: loom fails the model unless every read of this value
        // happened before it.
        self.payload.with_mut(|p| {
            // SAFETY: `&mut self`, and loom checks no reader overlaps.
            unsafe { *p = u64::MAX }
        });
        self.drops.fetch_add(1, Ordering::Relaxed);
    }
}

/// Explores every interleaving (no preemption bound unless
/// `LOOM_MAX_PREEMPTIONS` sets one): the models are small enough.
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.max_branches = builder.max_branches.max(20_000);
    builder.check(f);
}

const KEY: u128 = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210;

/// A reader racing an insert sees the whole value or nothing.
#[test]
fn insert_publishes_a_whole_value() {
    model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let cache = Arc::new(FlowCache::new());
        let writer = {
            let (cache, drops) = (cache.clone(), drops.clone());
            thread::spawn(move || assert!(cache.insert(KEY, Value::new(7, &drops))))
        };
        let seen = cache.get(KEY, Value::read);
        assert!(seen.is_none() || seen == Some(7), "saw {seen:?}");
        writer.join().expect("writer");
        assert_eq!(cache.get(KEY, Value::read), Some(7));
        drop(cache);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
    });
}

/// A reader racing a replacement sees the old or the new value, whole; the
/// old one is dropped once, after the reader is done with it.
#[test]
fn replaced_value_outlives_its_readers() {
    model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let cache = Arc::new(FlowCache::new());
        cache.insert(KEY, Value::new(1, &drops));
        let writer = {
            let (cache, drops) = (cache.clone(), drops.clone());
            thread::spawn(move || assert!(!cache.insert(KEY, Value::new(2, &drops))))
        };
        let seen = cache.get(KEY, Value::read);
        assert!(seen == Some(1) || seen == Some(2), "saw {seen:?}");
        writer.join().expect("writer");
        assert_eq!(
            drops.load(Ordering::Relaxed),
            1,
            "replaced value not dropped once"
        );
        assert_eq!(cache.get(KEY, Value::read), Some(2));
        drop(cache);
        assert_eq!(drops.load(Ordering::Relaxed), 2);
    });
}

/// A reader racing a removal sees the value whole or not at all; it is
/// dropped once, after the reader is done with it.
#[test]
fn removed_value_outlives_its_readers() {
    model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let cache = Arc::new(FlowCache::new());
        cache.insert(KEY, Value::new(1, &drops));
        let writer = {
            let cache = cache.clone();
            thread::spawn(move || assert!(cache.remove(KEY)))
        };
        let seen = cache.get(KEY, Value::read);
        assert!(seen.is_none() || seen == Some(1), "saw {seen:?}");
        writer.join().expect("writer");
        assert_eq!(
            drops.load(Ordering::Relaxed),
            1,
            "removed value not dropped once"
        );
        assert!(cache.is_empty());
        drop(cache);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
    });
}

/// A reader racing `clear` sees the value whole or not at all; the cleared
/// table and its value are freed once, after the reader is done.
#[test]
fn clear_frees_after_its_readers() {
    model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let cache = Arc::new(FlowCache::new());
        cache.insert(KEY, Value::new(1, &drops));
        let writer = {
            let cache = cache.clone();
            thread::spawn(move || cache.clear())
        };
        let seen = cache.get(KEY, Value::read);
        assert!(seen.is_none() || seen == Some(1), "saw {seen:?}");
        writer.join().expect("writer");
        assert_eq!(
            drops.load(Ordering::Relaxed),
            1,
            "cleared value not dropped once"
        );
        assert!(cache.is_empty() && !cache.contains(KEY));
        drop(cache);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
    });
}

/// Six keys fill the one-line table to its limit; a seventh insert grows it
/// while a reader looks a present key up and walks the cache. The reader
/// always finds the key whole, and the old table is freed only after it is
/// done (the lines' liveness cells).
#[test]
fn growth_under_a_reader() {
    model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let cache = Arc::new(FlowCache::new());
        for n in 0..6u64 {
            cache.insert(KEY ^ u128::from(n), Value::new(n, &drops));
        }
        let writer = {
            let (cache, drops) = (cache.clone(), drops.clone());
            thread::spawn(move || assert!(cache.insert(KEY ^ 6, Value::new(6, &drops))))
        };
        assert_eq!(cache.get(KEY ^ 3, Value::read), Some(3));
        let mut walked = 0;
        cache.for_each(|key, value| {
            assert_eq!(u128::from(value.read()), key ^ KEY);
            walked += 1;
        });
        assert!(walked == 6 || walked == 7, "walked {walked}");
        writer.join().expect("writer");
        assert_eq!(drops.load(Ordering::Relaxed), 0);
        assert_eq!(cache.len(), 7);
        drop(cache);
        assert_eq!(drops.load(Ordering::Relaxed), 7);
    });
}
