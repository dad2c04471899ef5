//! Passes what xsc-sys learned about the installed DPDK on as cfgs:
//!
//! - `xsc_net_ring`: the ring PMD's `rte_eth_from_rings` is linked.
//!
//! and which DPDK release it was built against, so `rte` writes the C
//! layout of that release (and the eswitch reads it):
//!
//! - `xsc_dpdk_tag_index` (DPDK >= 23.07): `rte_flow_field_data` carries the
//!   TAG register index in `tag_index` next to a u8 `level`; before, the
//!   index travelled in the u32 `level`.
//! - `xsc_dpdk_field_data` (DPDK >= 24.03): `rte_flow_action_modify_data` is
//!   named `rte_flow_field_data`.
//! - `xsc_dpdk_testpmd_long_lines` (DPDK >= 24.07): testpmd's command line
//!   holds `LINE_MAX` bytes, not 512.
//! - `xsc_dpdk_testpmd_prefix_crashes` (DPDK >= 25.07, still so in 26.07):
//!   testpmd's `prefix` for addresses reads a compound literal out of its
//!   scope (DPDK commit c439a84f1a) and dpdk-testpmd 25.11 crashes on it, so
//!   rendered rules write masks.
//! - `xsc_dpdk_ipv6_addr` (DPDK >= 24.11): IPv6 addresses are
//!   `struct rte_ipv6_addr` (same 16 bytes) and `rte_ipv6_hdr.vtc_flow` sits
//!   in a union.
//!
//! The version comes from xsc-sys's `links = "dpdk"` metadata
//! (`DEP_DPDK_VERSION`, "YY.MM.N" as read from rte_build_config.h).
use std::env;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(xsc_net_ring)");
    if env::var_os("DEP_DPDK_NET_RING").is_some() {
        println!("cargo:rustc-cfg=xsc_net_ring");
    }
    println!("cargo::rustc-check-cfg=cfg(xsc_dpdk_tag_index)");
    println!("cargo::rustc-check-cfg=cfg(xsc_dpdk_field_data)");
    println!("cargo::rustc-check-cfg=cfg(xsc_dpdk_ipv6_addr)");
    println!("cargo::rustc-check-cfg=cfg(xsc_dpdk_testpmd_long_lines)");
    println!("cargo::rustc-check-cfg=cfg(xsc_dpdk_testpmd_prefix_crashes)");
    println!("cargo:rerun-if-env-changed=DEP_DPDK_VERSION");
    let Ok(version) = env::var("DEP_DPDK_VERSION") else {
        // xsc-sys always sets it; without it the build of xsc-sys failed
        // already with its own message.
        return;
    };
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let release = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if release >= (23, 7) {
        println!("cargo:rustc-cfg=xsc_dpdk_tag_index");
    }
    if release >= (24, 3) {
        println!("cargo:rustc-cfg=xsc_dpdk_field_data");
    }
    if release >= (24, 7) {
        println!("cargo:rustc-cfg=xsc_dpdk_testpmd_long_lines");
    }
    if release >= (24, 11) {
        println!("cargo:rustc-cfg=xsc_dpdk_ipv6_addr");
    }
    if release >= (25, 7) {
        println!("cargo:rustc-cfg=xsc_dpdk_testpmd_prefix_crashes");
    }
}
