//! The counting allocator counts: installed here as a test binary would.

use xsc_test_support::alloc::{allocations, is_installed, Counting};

#[global_allocator]
static A: Counting = Counting;

#[test]
fn allocations_are_counted_per_thread() {
    assert!(is_installed());
    assert_eq!(allocations(|| {}), 0);
    let n = allocations(|| {
        let v: Vec<u64> = Vec::with_capacity(8);
        let s = String::from("x");
        drop((v, s));
    });
    assert_eq!(n, 2);
    let mut v: Vec<u8> = Vec::with_capacity(1);
    let grew = allocations(|| v.extend_from_slice(&[0; 64]));
    assert_eq!(grew, 1, "a realloc counts");
    // Another thread's allocations are not this thread's.
    let other = allocations(|| {
        std::thread::scope(|s| {
            s.spawn(|| drop(vec![0u8; 16]));
        })
    });
    assert!(other >= 1, "spawning allocates on this thread");
    let inside = std::thread::spawn(|| allocations(|| drop(vec![1u8; 4])))
        .join()
        .unwrap();
    assert_eq!(inside, 1);
}
