//! Atomics and the writer mutex: loom's when model checking (`cfg(loom)`),
//! std's otherwise, plus `Liveness`, the per-line cell through which loom
//! sees a table freed while anyone may still use it (zero-sized outside
//! loom).
//!
//! Must not depend on: anything else in the crate.

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
