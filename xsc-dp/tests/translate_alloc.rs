//! Translating and lowering a seed megaflow allocates nothing in steady
//! state (its shared resources exist, the RteRule's buffers have grown).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use xsc_dp::odp::parse_dump;
use xsc_dp::profile::DeviceProfile;
use xsc_dp::rte::{lower, RteRule};
use xsc_dp::translate::{Config, PortMap, Translation, Translator};

struct Counting;

thread_local! {
    /// Allocations made on this thread: the harness's other threads (its
    /// timer, its output capture) allocate whenever they like.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    ALLOCATIONS.with(|c| c.set(c.get() + 1));
}

// Safety: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // Safety: the caller upholds GlobalAlloc's contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // Safety: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // Safety: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const SEED: &str = include_str!("data/odp/corpus/seed-offloaded.flows");

#[test]
fn translate_and_lower_allocate_nothing_in_steady_state() {
    let flows: Vec<_> = parse_dump(SEED).map(|(_, f)| f.unwrap()).collect();
    let mut t = Translator::new(
        DeviceProfile::metascale(),
        PortMap::identity(),
        Config::default(),
    );
    let mut rte = RteRule::new();
    // Warm-up: shared resources and buffers.
    for f in &flows {
        let tr = t.translate(f).unwrap();
        lower(&tr.rule, &mut rte).unwrap();
    }
    let mut tr = Translation::default();
    let before = ALLOCATIONS.with(Cell::get);
    for _ in 0..100 {
        for f in &flows {
            t.translate_into(f, &mut tr).unwrap();
            lower(&tr.rule, &mut rte).unwrap();
            t.release(&tr.resources);
        }
    }
    let after = ALLOCATIONS.with(Cell::get);
    assert_eq!(
        after - before,
        0,
        "allocations in 600 translate+lower+release of seed flows"
    );
}
