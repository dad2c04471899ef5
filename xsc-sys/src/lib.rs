//! Raw bindings to DPDK: EAL, ethdev, mbuf, mempool and rte_flow (the
//! synchronous API, the template API and the asynchronous queue API), generated
//! by bindgen against the DPDK that `pkg-config libdpdk` (or
//! `XSC_DPDK_INCLUDE_DIR`/`XSC_DPDK_LIB_DIR`) points at, plus `xsc_*` shim
//! functions for what DPDK only has as static-inline functions or macros
//! (`rte_eth_rx_burst`, `rte_pktmbuf_*`, `rte_errno`, `rte_lcore_id`, the
//! rte_flow metadata dynamic field).
//!
//! This crate holds no logic. The safe layer is `xsc-dp`, which re-exports it
//! as `xsc_dp::ffi`.
//!
//! `cfg(xsc_dpdk_ipv6_addr)` is set for DPDK 24.11 and newer, where
//! `rte_ipv6_hdr` carries `struct rte_ipv6_addr` instead of byte arrays.
#![no_std]

mod bindings {
    #![allow(
        non_upper_case_globals,
        non_camel_case_types,
        non_snake_case,
        dead_code
    )]
    #![allow(unsafe_op_in_unsafe_fn, missing_debug_implementations, clippy::all)]
    #![allow(unnecessary_transmutes, unpredictable_function_pointer_comparisons)]
    // bindgen writes the bitfield accessors' unsafe blocks without a
    // `// Safety:` comment; the lint is for our code, not generated code.
    #![allow(clippy::undocumented_unsafe_blocks)]
    include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
}

pub use bindings::*;

include!(concat!(env!("OUT_DIR"), "/version.rs"));

/// `rte_lcore_id()` on a thread that EAL did not create.
pub const LCORE_ID_ANY: u32 = u32::MAX;

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use core::ffi::CStr;
    use core::mem::{align_of, size_of};
    use std::collections::BTreeMap;
    use std::vec::Vec;

    /// Size and alignment as bindgen laid the types out, for every type the
    /// shim reports as the C compiler laid it out.
    macro_rules! rust_layouts {
        ($($t:ident),* $(,)?) => {{
            let mut m = BTreeMap::new();
            $( m.insert(stringify!($t), (size_of::<$t>(), align_of::<$t>())); )*
            m
        }};
    }

    #[test]
    fn structs_we_fill_by_hand_have_the_c_compilers_layout() {
        let rust = rust_layouts!(
            rte_flow_attr,
            rte_flow_item,
            rte_flow_action,
            rte_flow_error,
            rte_flow_query_count,
            rte_flow_item_eth,
            rte_flow_item_vlan,
            rte_flow_item_ipv4,
            rte_flow_item_ipv6,
            rte_flow_item_tcp,
            rte_flow_item_udp,
            rte_flow_item_sctp,
            rte_flow_item_icmp,
            rte_flow_item_icmp6,
            rte_flow_item_icmp6_nd_ns,
            rte_flow_item_icmp6_nd_na,
            rte_flow_item_arp_eth_ipv4,
            rte_flow_item_tag,
            rte_flow_item_meta,
            rte_flow_item_mark,
            rte_flow_item_ethdev,
            rte_flow_item_vxlan,
            rte_flow_item_geneve,
            rte_flow_item_ipv6_frag_ext,
            rte_flow_action_jump,
            rte_flow_action_mark,
            rte_flow_action_queue,
            rte_flow_action_count,
            rte_flow_action_set_tag,
            rte_flow_action_set_meta,
            rte_flow_action_ethdev,
            rte_flow_action_modify_field,
            rte_flow_action_raw_encap,
            rte_flow_action_raw_decap,
            rte_flow_action_of_push_vlan,
            rte_flow_action_of_set_vlan_vid,
            rte_flow_action_of_set_vlan_pcp,
            rte_flow_action_set_ipv4,
            rte_flow_action_set_ipv6,
            rte_flow_action_set_tp,
            rte_flow_action_set_mac,
            rte_flow_action_set_ttl,
            rte_flow_action_set_dscp,
            rte_flow_action_sample,
            rte_flow_port_info,
            rte_flow_queue_info,
            rte_flow_port_attr,
            rte_flow_queue_attr,
            rte_flow_pattern_template_attr,
            rte_flow_actions_template_attr,
            rte_flow_template_table_attr,
            rte_flow_op_attr,
            rte_flow_op_result,
            rte_eth_conf,
            rte_eth_dev_info,
            rte_eth_stats,
        );
        let mut count = 0usize;
        // Safety: xsc_layouts returns a static table of `count` entries whose
        // names are NUL-terminated string literals.
        let table = unsafe { core::slice::from_raw_parts(xsc_layouts(&mut count), count) };
        assert_eq!(
            table.len(),
            rust.len(),
            "shim and test list different types"
        );
        let mut mismatches = Vec::new();
        for entry in table {
            // Safety: see above.
            let name = unsafe { CStr::from_ptr(entry.name) }.to_str().unwrap();
            let name = name.strip_prefix("struct ").unwrap_or(name);
            let &(size, align) = rust
                .get(name)
                .unwrap_or_else(|| panic!("{name} missing in the test"));
            if (size, align) != (entry.size, entry.align) {
                mismatches.push((name, (size, align), (entry.size, entry.align)));
            }
        }
        assert!(
            mismatches.is_empty(),
            "bindgen (size, align) != C compiler's: {mismatches:?}"
        );
    }

    #[test]
    fn fixed_abi_sizes_of_the_common_items() {
        // These are part of DPDK's stable ABI; a change here means the
        // bindings were generated from something that is not DPDK's rte_flow.h.
        assert_eq!(size_of::<rte_flow_item_ipv4>(), 20);
        assert_eq!(size_of::<rte_flow_item_ipv6>(), 44);
        assert_eq!(size_of::<rte_flow_item_tcp>(), 20);
        assert_eq!(size_of::<rte_flow_item_udp>(), 8);
        assert_eq!(size_of::<rte_flow_item>(), 32);
        assert_eq!(size_of::<rte_flow_action>(), 16);
        assert_eq!(size_of::<rte_flow_attr>(), 12);
    }

    #[test]
    fn version_is_at_least_the_minimum() {
        assert!(
            (DPDK_VERSION.0, DPDK_VERSION.1) >= (22, 11),
            "{DPDK_VERSION:?}"
        );
    }
}
