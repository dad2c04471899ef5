//! The tests against a real Open vSwitch (tier 3 of ARCHITECTURE.md), one
//! binary: each starts its own private sandbox (`support::ovs`), fails under
//! `CI` when OVS is missing and says so loudly elsewhere.
//!
//! - [`harness`]: the sandbox itself, the packet builder, the pcap files
//!   OVS writes, and that the committed fixtures are what a fresh run gives.
//! - [`odp`]: what OVS prints parses and formats back byte for byte.
//! - [`translate`]: the offload plan of what OVS makes.
//! - [`oracle`]: OVS as the oracle of the whole offload, packet for packet.

#[path = "../support/mod.rs"]
mod support;

mod harness;
mod odp;
mod oracle;
mod translate;
