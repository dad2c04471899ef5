//! How unlinked entries and tables are freed once no reader can hold them:
//! a guard pins the thread; `defer_unchecked` on a guard runs a function
//! after every thread pinned at that time has unpinned. crossbeam-epoch's
//! global collector outside loom; under loom a simpler scheme with the same
//! contract, built on loom's atomics.
//!
//! Must not depend on: anything else in the crate.

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
