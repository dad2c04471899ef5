//! From megaflow to hardware rule to packet, without DPDK ports or OVS, one
//! binary.
//!
//! - [`translate`]: megaflows and conntrack entries → `HwRule`s, rejections
//!   with their reasons, shared resources.
//! - [`translate_alloc`]: translating and lowering allocate nothing in
//!   steady state.
//! - [`eswitch`]: the software eswitch on rules lowered to rte_flow bytes.
//! - [`eswitch_diff`]: a reference OVS megaflow matcher against the eswitch
//!   running the translated rules, over generated packets.

// The allocator counts per thread (`alloc::allocations` measures the calling
// thread only), so the other tests running beside `translate_alloc` do not
// disturb its count.
#[global_allocator]
static A: xsc_test_support::alloc::Counting = xsc_test_support::alloc::Counting;

#[path = "../support/mod.rs"]
mod support;

mod eswitch;
mod eswitch_diff;
mod translate;
mod translate_alloc;
