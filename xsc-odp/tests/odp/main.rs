//! `xsc-odp`'s integration tests, one binary: the text forms against real
//! OVS output ([`text`]), the netlink forms ([`netlink`]) and the hot path
//! that must not allocate ([`alloc`]). Fixtures are read through
//! `xsc_test_support::fixtures` (they live in `xsc-dp/tests/data/odp`).

// Every test of this binary runs under the counting allocator; it counts
// per thread, so tests running in parallel do not see each other's
// allocations.
#[global_allocator]
static A: xsc_test_support::alloc::Counting = xsc_test_support::alloc::Counting;

mod alloc;
mod netlink;
mod text;
