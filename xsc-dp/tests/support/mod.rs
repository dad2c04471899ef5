//! Shared support for `xsc-dp`'s integration tests that need OVS or the
//! rule corpus (`#[path = "../support/mod.rs"] mod support;` in a
//! binary's `main.rs`). What every test binary of the workspace shares
//! (counting allocator, RNG, fixtures, pcap) is in `xsc-test-support`.
//!
//! - [`ovs`]: [`ovs::OvsSandbox`], a private, throw-away Open vSwitch
//!   (`ovsdb-server` + `ovs-vswitchd --enable-dummy=override
//!   --disable-system`) in its own temp dir, used as the oracle of the
//!   real-OVS tier (ARCHITECTURE.md, "Testing tiers", tier 3).
//! - [`packet`]: a small builder of Ethernet/VLAN/IPv4/TCP/UDP/ICMP/ARP frames
//!   with correct checksums, to drive OVS and the offload with the same bytes.
//! - [`kube_ovn`]: the Kube-OVN-shaped OpenFlow pipeline and the traffic that
//!   exercises it (conntrack zones, NAT, recirculation, VLAN, rewrites, drops).
//! - [`plan`]: the expected offload plan of the Kube-OVN pipeline.
//! - [`rules`]: hardware rules covering every item and action of the model.
//! - [`testpmd`]: runs commands through the real `dpdk-testpmd` parser.
//!
//! Invariants: nothing here touches a system OVS (every command gets an
//! explicit socket inside the sandbox), every wait is bounded, and every
//! process started is killed and reaped on drop.

// Each test binary compiles this module and uses a different part of it.
#![allow(dead_code)]

pub mod kube_ovn;
pub mod ovs;
pub mod packet;
pub mod plan;
pub mod rules;
pub mod testpmd;
