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
//! Who uses what: `xsc-odp`'s `tests/odp` and `xsc-dp`'s `tests/rules`
//! install [`alloc::Counting`] (it counts per thread, so the other tests of
//! a binary do not disturb a measurement); `xsc-dp`'s engine, eswitch and
//! differential tests draw from [`rng::Rng`]; the OVS harness
//! (`xsc-dp/tests/support/ovs.rs`, also compiled into the root
//! `tests/ovs_offload.rs`) reads OVS's pcap files with
//! [`pcap::parse_packets`]; fixture files are found with [`fixtures`].

pub mod alloc;
pub mod fixtures;
pub mod pcap;
pub mod rng;
