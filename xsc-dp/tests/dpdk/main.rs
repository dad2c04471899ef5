//! The tests that talk to DPDK itself, one binary (one EAL per process:
//! [`ports`] owns the shared EAL fixture; [`rte_lower`] and [`testpmd`] need
//! DPDK's libraries but no EAL). `scripts/test-dpdk` runs this binary
//! against each DPDK release it supports.
//!
//! - [`ports`]: real DPDK (tier 2 of ARCHITECTURE.md): EAL without
//!   hugepages, `net_null`/`net_ring`/`net_tap` ports, rte_flow on them.
//! - [`rte_lower`]: `HwRule` → `RteRule` read back through bindgen's field
//!   names and through `rte_flow_conv`.
//! - [`testpmd`]: every rendered rule through the real `dpdk-testpmd` parser.

#[path = "../support/mod.rs"]
mod support;

mod ports;
mod rte_lower;
mod testpmd;
