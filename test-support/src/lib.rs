//! What the workspace's integration tests and benches share, instead of a
//! copy in each test binary. A dev-dependency only (`publish = false`).
//!
//! - [`alloc`]: [`alloc::Counting`], a global allocator that counts the
//!   allocations of the current thread, and [`alloc::allocations`] to
//!   measure a closure (the "no allocation on the hot path" tests). A test
//!   binary opts in with
//!   `#[global_allocator] static A: xsc_test_support::alloc::Counting = xsc_test_support::alloc::Counting;`.
//! - [`rng`]: [`rng::Rng`], xorshift64*: deterministic, seeded, no
//!   dependency (fuzz-like tests, shuffled bench inputs).
//! - [`fixtures`]: the paths of the workspace's fixtures (real OVS output
//!   under `xsc-dp/tests/data`, the shared corpus) and readers that name
//!   the file when it is missing.
//! - [`pcap`]: classic pcap files through the `pcap-file` crate (the codec
//!   the CLI's `process` uses too): [`pcap::parse`] with errors that name the
//!   byte offset, [`pcap::write`] in either byte order and timestamp unit.
//!
//! Nothing here is used by the library; panics are fine (this is test code)
//! and say what was missing.
//!
//! Moving `xsc-dp`'s tests here (a later step; other work is editing them):
//! add `xsc-test-support.workspace = true` to `xsc-dp`'s dev-dependencies
//! (no cycle: this crate depends on no workspace crate), then
//! - `odp_alloc.rs`, `odp_netlink.rs`: drop `struct Counting` and its
//!   `allocations`; install `alloc::Counting` and call `alloc::allocations`
//!   (same signature; it also fails when the allocator is not installed);
//! - `engine_cache.rs`, `engine_stress.rs`, `eswitch.rs`, `eswitch_diff.rs`:
//!   `use xsc_test_support::rng::Rng;` (same generator, `Rng(seed)` and
//!   `next()` as before);
//! - `support/pcap.rs`: `pcap::parse_packets` and `pcap::write_packets` are
//!   its `parse` and `write`, with `PcapError` carrying the offset;
//! - fixture paths: `fixtures::ovs("kube-ovn.flows")`, `fixtures::odp(..)`,
//!   `fixtures::shared_corpus(..)`, read with `fixtures::read`.

pub mod alloc;
pub mod fixtures;
pub mod pcap;
pub mod rng;
