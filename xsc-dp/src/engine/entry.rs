//! What the engine's caches hold per flow ([`Entry`]) and per connection
//! ([`ConnEntryState`]): the state, and the counters of the last sweep,
//! which workers update in place while readers load them lock-free.
//!
//! Must not depend on: the workers (they write entries; entries know
//! nothing of them).

use std::sync::atomic::{AtomicU64, Ordering};

use super::FlowState;
use crate::device::Counters;

/// What the cache holds per flow: its state and the counters of the last
/// sweep. A state change replaces the entry; the counters are updated in
/// place.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(super) state: FlowState,
    pub(super) packets: AtomicU64,
    pub(super) bytes: AtomicU64,
    /// Milliseconds since the engine started, plus one; 0: never used.
    pub(super) used: AtomicU64,
    /// Where the owning worker keeps the flow's rule ([`NO_SLOT`]: no rule).
    pub(super) slot: u32,
}

/// [`Entry::slot`] of a flow without a rule.
pub(crate) const NO_SLOT: u32 = u32::MAX;

impl Entry {
    pub(super) fn new(state: FlowState, c: Counters, used: u64, slot: u32) -> Self {
        Self {
            state,
            packets: AtomicU64::new(c.packets),
            bytes: AtomicU64::new(c.bytes),
            used: AtomicU64::new(used),
            slot,
        }
    }

    pub(super) fn counters(&self) -> Counters {
        Counters {
            packets: self.packets.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
        }
    }

    pub(super) fn store(&self, c: Counters, used: u64) {
        self.packets.store(c.packets, Ordering::Relaxed);
        self.bytes.store(c.bytes, Ordering::Relaxed);
        self.used.store(used, Ordering::Relaxed);
    }
}

/// What the cache holds per connection.
#[derive(Debug)]
pub(crate) struct ConnEntryState {
    pub(super) state: FlowState,
    pub(super) orig: [AtomicU64; 2],
    pub(super) reply: [AtomicU64; 2],
}

impl ConnEntryState {
    pub(super) fn new(state: FlowState, orig: Counters, reply: Counters) -> Self {
        Self {
            state,
            orig: [AtomicU64::new(orig.packets), AtomicU64::new(orig.bytes)],
            reply: [AtomicU64::new(reply.packets), AtomicU64::new(reply.bytes)],
        }
    }

    pub(super) fn get(&self) -> (Counters, Counters) {
        let c = |a: &[AtomicU64; 2]| Counters {
            packets: a[0].load(Ordering::Relaxed),
            bytes: a[1].load(Ordering::Relaxed),
        };
        (c(&self.orig), c(&self.reply))
    }

    pub(super) fn store(&self, orig: Counters, reply: Counters) {
        for (a, c) in [(&self.orig, orig), (&self.reply, reply)] {
            a[0].store(c.packets, Ordering::Relaxed);
            a[1].store(c.bytes, Ordering::Relaxed);
        }
    }
}
