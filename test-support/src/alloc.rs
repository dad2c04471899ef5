//! A global allocator that counts the allocations (and reallocations) made
//! on each thread, so a test can prove a hot path allocates nothing.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Counts each `alloc`/`realloc` of the calling thread, then forwards to
/// the system allocator. Install it with `#[global_allocator]`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counting;

thread_local! {
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

fn bump() {
    // try_with: during thread teardown the slot may be gone; that
    // allocation is then not counted (no test measures a dying thread).
    let _ = COUNT.try_with(|c| c.set(c.get() + 1));
}

// Safety: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees are ours; counting touches only a
// thread-local `Cell` (no allocation, no reentrancy).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        bump();
        // Safety: forwarded unchanged to the system allocator.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // Safety: `p` came from `alloc`/`realloc` above with this layout.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        bump();
        // Safety: forwarded unchanged to the system allocator.
        unsafe { System.realloc(p, l, n) }
    }
}

/// Allocations the calling thread has made so far (0 unless [`Counting`]
/// is the global allocator).
pub fn count() -> u64 {
    COUNT.with(Cell::get)
}

/// How many allocations `f` makes on this thread. Panics when [`Counting`]
/// is not the global allocator of this binary (every measurement would
/// then read 0 and pass silently).
pub fn allocations(f: impl FnOnce()) -> u64 {
    assert!(
        is_installed(),
        "xsc_test_support::alloc::Counting is not the #[global_allocator] of this test binary"
    );
    let before = count();
    f();
    count() - before
}

/// Whether [`Counting`] counts this binary's allocations.
pub fn is_installed() -> bool {
    let before = count();
    drop(std::hint::black_box(Box::new(0u64)));
    count() != before
}

#[cfg(test)]
mod tests {
    use super::*;

    // This unit-test binary does not install Counting.
    #[test]
    #[should_panic(expected = "is not the #[global_allocator]")]
    fn measuring_without_the_allocator_fails_loudly() {
        assert!(!is_installed());
        allocations(|| drop(vec![0u8; 8]));
    }
}
