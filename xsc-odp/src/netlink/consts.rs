//! Every netlink attribute number of the OVS datapath flow language.
//!
//! Sources (values checked one by one against them):
//! - Linux `include/uapi/linux/openvswitch.h` (kernel uAPI): everything that
//!   the kernel and userspace share.
//! - OVS `include/linux/openvswitch.h` (formerly
//!   `datapath/linux/compat/include/linux/openvswitch.h`): the userspace-only
//!   additions under `#ifndef __KERNEL__` (key attributes 29/30, the tunnel
//!   `GTPU_OPTS`, the actions `TUNNEL_PUSH`, `TUNNEL_POP`, `LB_OUTPUT`,
//!   `OVS_VXLAN_EXT_GPE`).  Where the two headers disagree this module uses
//!   OVS's numbering, because it is what OVS hands an offload provider.
#![allow(missing_docs)]

// ---------------------------------------------------------------------------
// enum ovs_key_attr (uAPI 1..=28; 29 and 30 are "squatted" by userspace, the
// uAPI comment says so; 31 is kernel-internal; 32 is in the uAPI only).
pub const OVS_KEY_ATTR_UNSPEC: u16 = 0;
pub const OVS_KEY_ATTR_ENCAP: u16 = 1;
pub const OVS_KEY_ATTR_PRIORITY: u16 = 2;
pub const OVS_KEY_ATTR_IN_PORT: u16 = 3;
pub const OVS_KEY_ATTR_ETHERNET: u16 = 4;
pub const OVS_KEY_ATTR_VLAN: u16 = 5;
pub const OVS_KEY_ATTR_ETHERTYPE: u16 = 6;
pub const OVS_KEY_ATTR_IPV4: u16 = 7;
pub const OVS_KEY_ATTR_IPV6: u16 = 8;
pub const OVS_KEY_ATTR_TCP: u16 = 9;
pub const OVS_KEY_ATTR_UDP: u16 = 10;
pub const OVS_KEY_ATTR_ICMP: u16 = 11;
pub const OVS_KEY_ATTR_ICMPV6: u16 = 12;
pub const OVS_KEY_ATTR_ARP: u16 = 13;
pub const OVS_KEY_ATTR_ND: u16 = 14;
pub const OVS_KEY_ATTR_SKB_MARK: u16 = 15;
pub const OVS_KEY_ATTR_TUNNEL: u16 = 16;
pub const OVS_KEY_ATTR_SCTP: u16 = 17;
pub const OVS_KEY_ATTR_TCP_FLAGS: u16 = 18;
pub const OVS_KEY_ATTR_DP_HASH: u16 = 19;
pub const OVS_KEY_ATTR_RECIRC_ID: u16 = 20;
pub const OVS_KEY_ATTR_MPLS: u16 = 21;
pub const OVS_KEY_ATTR_CT_STATE: u16 = 22;
pub const OVS_KEY_ATTR_CT_ZONE: u16 = 23;
pub const OVS_KEY_ATTR_CT_MARK: u16 = 24;
pub const OVS_KEY_ATTR_CT_LABELS: u16 = 25;
pub const OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4: u16 = 26;
pub const OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6: u16 = 27;
pub const OVS_KEY_ATTR_NSH: u16 = 28;
/// Userspace only (both headers agree on 29).
pub const OVS_KEY_ATTR_PACKET_TYPE: u16 = 29;
/// Userspace only (both headers agree on 30).
pub const OVS_KEY_ATTR_ND_EXTENSIONS: u16 = 30;
/// Kernel-internal (uAPI).
pub const OVS_KEY_ATTR_TUNNEL_INFO: u16 = 31;
/// uAPI (`struct ovs_key_ipv6_exthdrs`); no text form in OVS, not decoded.
pub const OVS_KEY_ATTR_IPV6_EXTHDRS: u16 = 32;

// enum ovs_tunnel_key_attr (uAPI 0..=15; 16 differs, see below).
pub const OVS_TUNNEL_KEY_ATTR_ID: u16 = 0;
pub const OVS_TUNNEL_KEY_ATTR_IPV4_SRC: u16 = 1;
pub const OVS_TUNNEL_KEY_ATTR_IPV4_DST: u16 = 2;
pub const OVS_TUNNEL_KEY_ATTR_TOS: u16 = 3;
pub const OVS_TUNNEL_KEY_ATTR_TTL: u16 = 4;
pub const OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT: u16 = 5;
pub const OVS_TUNNEL_KEY_ATTR_CSUM: u16 = 6;
pub const OVS_TUNNEL_KEY_ATTR_OAM: u16 = 7;
pub const OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS: u16 = 8;
pub const OVS_TUNNEL_KEY_ATTR_TP_SRC: u16 = 9;
pub const OVS_TUNNEL_KEY_ATTR_TP_DST: u16 = 10;
pub const OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS: u16 = 11;
pub const OVS_TUNNEL_KEY_ATTR_IPV6_SRC: u16 = 12;
pub const OVS_TUNNEL_KEY_ATTR_IPV6_DST: u16 = 13;
pub const OVS_TUNNEL_KEY_ATTR_PAD: u16 = 14;
pub const OVS_TUNNEL_KEY_ATTR_ERSPAN_OPTS: u16 = 15;
/// OVS userspace header (`#ifndef __KERNEL__`): `struct gtpu_metadata`.
/// The Linux uAPI gives 16 to `OVS_TUNNEL_KEY_ATTR_IPV4_INFO_BRIDGE` instead.
pub const OVS_TUNNEL_KEY_ATTR_GTPU_OPTS: u16 = 16;
/// Linux uAPI only (a flag); clashes with OVS's `GTPU_OPTS`.
pub const OVS_TUNNEL_KEY_ATTR_IPV4_INFO_BRIDGE_KERNEL: u16 = 16;

// Anonymous enum of VXLAN extensions (uAPI: GBP; OVS adds GPE = 8).
pub const OVS_VXLAN_EXT_UNSPEC: u16 = 0;
pub const OVS_VXLAN_EXT_GBP: u16 = 1;
/// OVS userspace header only ("place new values here to fill gap").
pub const OVS_VXLAN_EXT_GPE: u16 = 8;

// There is no `OVS_ERSPAN_OPT_*` enum in either header: ERSPAN options are a
// fixed `struct erspan_metadata` (Linux `include/uapi/linux/erspan.h`,
// `int version; union { __be32 index; struct erspan_md2 md2; } u;`).
/// `sizeof(struct erspan_metadata)`.
pub const ERSPAN_METADATA_LEN: usize = 12;
/// `sizeof(struct gtpu_metadata)` (OVS `lib/packets.h`: flags, msgtype).
pub const GTPU_METADATA_LEN: usize = 2;

// enum ovs_nsh_key_attr (uAPI).
pub const OVS_NSH_KEY_ATTR_UNSPEC: u16 = 0;
pub const OVS_NSH_KEY_ATTR_BASE: u16 = 1;
pub const OVS_NSH_KEY_ATTR_MD1: u16 = 2;
pub const OVS_NSH_KEY_ATTR_MD2: u16 = 3;

// enum ovs_frag_type (uAPI).
pub const OVS_FRAG_TYPE_NONE: u8 = 0;
pub const OVS_FRAG_TYPE_FIRST: u8 = 1;
pub const OVS_FRAG_TYPE_LATER: u8 = 2;

// ---------------------------------------------------------------------------
// enum ovs_action_attr: 1..=25 from the uAPI (same in OVS's header); 26..=28
// are OVS's `#ifndef __KERNEL__` block, which follows PSAMPLE in OVS's copy.
pub const OVS_ACTION_ATTR_UNSPEC: u16 = 0;
pub const OVS_ACTION_ATTR_OUTPUT: u16 = 1;
pub const OVS_ACTION_ATTR_USERSPACE: u16 = 2;
pub const OVS_ACTION_ATTR_SET: u16 = 3;
pub const OVS_ACTION_ATTR_PUSH_VLAN: u16 = 4;
pub const OVS_ACTION_ATTR_POP_VLAN: u16 = 5;
pub const OVS_ACTION_ATTR_SAMPLE: u16 = 6;
pub const OVS_ACTION_ATTR_RECIRC: u16 = 7;
pub const OVS_ACTION_ATTR_HASH: u16 = 8;
pub const OVS_ACTION_ATTR_PUSH_MPLS: u16 = 9;
pub const OVS_ACTION_ATTR_POP_MPLS: u16 = 10;
pub const OVS_ACTION_ATTR_SET_MASKED: u16 = 11;
pub const OVS_ACTION_ATTR_CT: u16 = 12;
pub const OVS_ACTION_ATTR_TRUNC: u16 = 13;
pub const OVS_ACTION_ATTR_PUSH_ETH: u16 = 14;
pub const OVS_ACTION_ATTR_POP_ETH: u16 = 15;
pub const OVS_ACTION_ATTR_CT_CLEAR: u16 = 16;
pub const OVS_ACTION_ATTR_PUSH_NSH: u16 = 17;
pub const OVS_ACTION_ATTR_POP_NSH: u16 = 18;
pub const OVS_ACTION_ATTR_METER: u16 = 19;
pub const OVS_ACTION_ATTR_CLONE: u16 = 20;
pub const OVS_ACTION_ATTR_CHECK_PKT_LEN: u16 = 21;
pub const OVS_ACTION_ATTR_ADD_MPLS: u16 = 22;
pub const OVS_ACTION_ATTR_DEC_TTL: u16 = 23;
pub const OVS_ACTION_ATTR_DROP: u16 = 24;
pub const OVS_ACTION_ATTR_PSAMPLE: u16 = 25;
/// OVS userspace only (`struct ovs_action_push_tnl`).
pub const OVS_ACTION_ATTR_TUNNEL_PUSH: u16 = 26;
/// OVS userspace only (u32 port).
pub const OVS_ACTION_ATTR_TUNNEL_POP: u16 = 27;
/// OVS userspace only (u32 bond id).
pub const OVS_ACTION_ATTR_LB_OUTPUT: u16 = 28;

// enum ovs_userspace_attr (uAPI).
pub const OVS_USERSPACE_ATTR_UNSPEC: u16 = 0;
pub const OVS_USERSPACE_ATTR_PID: u16 = 1;
pub const OVS_USERSPACE_ATTR_USERDATA: u16 = 2;
pub const OVS_USERSPACE_ATTR_EGRESS_TUN_PORT: u16 = 3;
pub const OVS_USERSPACE_ATTR_ACTIONS: u16 = 4;

// enum ovs_sample_attr (uAPI; 3 = OVS_SAMPLE_ATTR_ARG is kernel-internal).
pub const OVS_SAMPLE_ATTR_UNSPEC: u16 = 0;
pub const OVS_SAMPLE_ATTR_PROBABILITY: u16 = 1;
pub const OVS_SAMPLE_ATTR_ACTIONS: u16 = 2;

// enum ovs_clone_attr: kernel-internal (`net/openvswitch`), never on the
// wire from userspace: OVS puts the cloned actions directly inside
// OVS_ACTION_ATTR_CLONE.  Listed for completeness.
pub const OVS_CLONE_ATTR_UNSPEC: u16 = 0;
pub const OVS_CLONE_ATTR_EXEC: u16 = 1;
pub const OVS_CLONE_ATTR_ARG: u16 = 2;

// enum ovs_check_pkt_len_attr (uAPI; 4 = ..._ARG is kernel-internal).
pub const OVS_CHECK_PKT_LEN_ATTR_UNSPEC: u16 = 0;
pub const OVS_CHECK_PKT_LEN_ATTR_PKT_LEN: u16 = 1;
pub const OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER: u16 = 2;
pub const OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL: u16 = 3;

// enum ovs_dec_ttl_attr (uAPI).
pub const OVS_DEC_TTL_ATTR_UNSPEC: u16 = 0;
pub const OVS_DEC_TTL_ATTR_ACTION: u16 = 1;

// enum ovs_psample_attr (uAPI).
pub const OVS_PSAMPLE_ATTR_GROUP: u16 = 1;
pub const OVS_PSAMPLE_ATTR_COOKIE: u16 = 2;
pub const OVS_PSAMPLE_COOKIE_MAX_SIZE: usize = 16;

// enum ovs_ct_attr (uAPI).
pub const OVS_CT_ATTR_UNSPEC: u16 = 0;
pub const OVS_CT_ATTR_COMMIT: u16 = 1;
pub const OVS_CT_ATTR_ZONE: u16 = 2;
pub const OVS_CT_ATTR_MARK: u16 = 3;
pub const OVS_CT_ATTR_LABELS: u16 = 4;
pub const OVS_CT_ATTR_HELPER: u16 = 5;
pub const OVS_CT_ATTR_NAT: u16 = 6;
pub const OVS_CT_ATTR_FORCE_COMMIT: u16 = 7;
pub const OVS_CT_ATTR_EVENTMASK: u16 = 8;
pub const OVS_CT_ATTR_TIMEOUT: u16 = 9;

// enum ovs_nat_attr (uAPI).
pub const OVS_NAT_ATTR_UNSPEC: u16 = 0;
pub const OVS_NAT_ATTR_SRC: u16 = 1;
pub const OVS_NAT_ATTR_DST: u16 = 2;
pub const OVS_NAT_ATTR_IP_MIN: u16 = 3;
pub const OVS_NAT_ATTR_IP_MAX: u16 = 4;
pub const OVS_NAT_ATTR_PROTO_MIN: u16 = 5;
pub const OVS_NAT_ATTR_PROTO_MAX: u16 = 6;
pub const OVS_NAT_ATTR_PERSISTENT: u16 = 7;
pub const OVS_NAT_ATTR_PROTO_HASH: u16 = 8;
pub const OVS_NAT_ATTR_PROTO_RANDOM: u16 = 9;

// enum ovs_hash_alg (uAPI).
pub const OVS_HASH_ALG_L4: u32 = 0;
pub const OVS_HASH_ALG_SYM_L4: u32 = 1;

/// `TNL_PUSH_HEADER_SIZE` (OVS header): the largest tunnel header.
pub const TNL_PUSH_HEADER_SIZE: usize = 512;
/// `offsetof(struct ovs_action_push_tnl, header)`.
pub const TNL_PUSH_FIXED_LEN: usize = 16;

// OVS `lib/odp-util.h`: `struct user_action_cookie` (48 bytes) and its types.
pub const USER_ACTION_COOKIE_LEN: usize = 48;
pub const USER_ACTION_COOKIE_UNSPEC: u16 = 0;
pub const USER_ACTION_COOKIE_SFLOW: u16 = 1;
pub const USER_ACTION_COOKIE_SLOW_PATH: u16 = 2;
pub const USER_ACTION_COOKIE_FLOW_SAMPLE: u16 = 3;
pub const USER_ACTION_COOKIE_IPFIX: u16 = 4;
pub const USER_ACTION_COOKIE_CONTROLLER: u16 = 5;
/// `SLOW_PATH_REASONS` (OVS `lib/odp-util.h`), bit `i` is the i-th name.
pub const SLOW_PATH_REASON_NAMES: [&str; 7] =
    ["cfm", "bfd", "lacp", "stp", "lldp", "action", "match"];

/// Name of an `OVS_KEY_ATTR_*` number, for error messages.
pub fn key_attr_name(t: u16) -> &'static str {
    match t {
        OVS_KEY_ATTR_UNSPEC => "OVS_KEY_ATTR_UNSPEC",
        OVS_KEY_ATTR_ENCAP => "OVS_KEY_ATTR_ENCAP",
        OVS_KEY_ATTR_PRIORITY => "OVS_KEY_ATTR_PRIORITY",
        OVS_KEY_ATTR_IN_PORT => "OVS_KEY_ATTR_IN_PORT",
        OVS_KEY_ATTR_ETHERNET => "OVS_KEY_ATTR_ETHERNET",
        OVS_KEY_ATTR_VLAN => "OVS_KEY_ATTR_VLAN",
        OVS_KEY_ATTR_ETHERTYPE => "OVS_KEY_ATTR_ETHERTYPE",
        OVS_KEY_ATTR_IPV4 => "OVS_KEY_ATTR_IPV4",
        OVS_KEY_ATTR_IPV6 => "OVS_KEY_ATTR_IPV6",
        OVS_KEY_ATTR_TCP => "OVS_KEY_ATTR_TCP",
        OVS_KEY_ATTR_UDP => "OVS_KEY_ATTR_UDP",
        OVS_KEY_ATTR_ICMP => "OVS_KEY_ATTR_ICMP",
        OVS_KEY_ATTR_ICMPV6 => "OVS_KEY_ATTR_ICMPV6",
        OVS_KEY_ATTR_ARP => "OVS_KEY_ATTR_ARP",
        OVS_KEY_ATTR_ND => "OVS_KEY_ATTR_ND",
        OVS_KEY_ATTR_SKB_MARK => "OVS_KEY_ATTR_SKB_MARK",
        OVS_KEY_ATTR_TUNNEL => "OVS_KEY_ATTR_TUNNEL",
        OVS_KEY_ATTR_SCTP => "OVS_KEY_ATTR_SCTP",
        OVS_KEY_ATTR_TCP_FLAGS => "OVS_KEY_ATTR_TCP_FLAGS",
        OVS_KEY_ATTR_DP_HASH => "OVS_KEY_ATTR_DP_HASH",
        OVS_KEY_ATTR_RECIRC_ID => "OVS_KEY_ATTR_RECIRC_ID",
        OVS_KEY_ATTR_MPLS => "OVS_KEY_ATTR_MPLS",
        OVS_KEY_ATTR_CT_STATE => "OVS_KEY_ATTR_CT_STATE",
        OVS_KEY_ATTR_CT_ZONE => "OVS_KEY_ATTR_CT_ZONE",
        OVS_KEY_ATTR_CT_MARK => "OVS_KEY_ATTR_CT_MARK",
        OVS_KEY_ATTR_CT_LABELS => "OVS_KEY_ATTR_CT_LABELS",
        OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4 => "OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4",
        OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6 => "OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6",
        OVS_KEY_ATTR_NSH => "OVS_KEY_ATTR_NSH",
        OVS_KEY_ATTR_PACKET_TYPE => "OVS_KEY_ATTR_PACKET_TYPE",
        OVS_KEY_ATTR_ND_EXTENSIONS => "OVS_KEY_ATTR_ND_EXTENSIONS",
        OVS_KEY_ATTR_TUNNEL_INFO => "OVS_KEY_ATTR_TUNNEL_INFO",
        OVS_KEY_ATTR_IPV6_EXTHDRS => "OVS_KEY_ATTR_IPV6_EXTHDRS",
        _ => "OVS_KEY_ATTR_?",
    }
}

/// Name of an `OVS_TUNNEL_KEY_ATTR_*` number (OVS numbering).
pub fn tunnel_attr_name(t: u16) -> &'static str {
    match t {
        OVS_TUNNEL_KEY_ATTR_ID => "OVS_TUNNEL_KEY_ATTR_ID",
        OVS_TUNNEL_KEY_ATTR_IPV4_SRC => "OVS_TUNNEL_KEY_ATTR_IPV4_SRC",
        OVS_TUNNEL_KEY_ATTR_IPV4_DST => "OVS_TUNNEL_KEY_ATTR_IPV4_DST",
        OVS_TUNNEL_KEY_ATTR_TOS => "OVS_TUNNEL_KEY_ATTR_TOS",
        OVS_TUNNEL_KEY_ATTR_TTL => "OVS_TUNNEL_KEY_ATTR_TTL",
        OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT => "OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT",
        OVS_TUNNEL_KEY_ATTR_CSUM => "OVS_TUNNEL_KEY_ATTR_CSUM",
        OVS_TUNNEL_KEY_ATTR_OAM => "OVS_TUNNEL_KEY_ATTR_OAM",
        OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS => "OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS",
        OVS_TUNNEL_KEY_ATTR_TP_SRC => "OVS_TUNNEL_KEY_ATTR_TP_SRC",
        OVS_TUNNEL_KEY_ATTR_TP_DST => "OVS_TUNNEL_KEY_ATTR_TP_DST",
        OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS => "OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS",
        OVS_TUNNEL_KEY_ATTR_IPV6_SRC => "OVS_TUNNEL_KEY_ATTR_IPV6_SRC",
        OVS_TUNNEL_KEY_ATTR_IPV6_DST => "OVS_TUNNEL_KEY_ATTR_IPV6_DST",
        OVS_TUNNEL_KEY_ATTR_PAD => "OVS_TUNNEL_KEY_ATTR_PAD",
        OVS_TUNNEL_KEY_ATTR_ERSPAN_OPTS => "OVS_TUNNEL_KEY_ATTR_ERSPAN_OPTS",
        OVS_TUNNEL_KEY_ATTR_GTPU_OPTS => "OVS_TUNNEL_KEY_ATTR_GTPU_OPTS",
        _ => "OVS_TUNNEL_KEY_ATTR_?",
    }
}

/// Name of an `OVS_ACTION_ATTR_*` number (OVS numbering).
pub fn action_attr_name(t: u16) -> &'static str {
    match t {
        OVS_ACTION_ATTR_UNSPEC => "OVS_ACTION_ATTR_UNSPEC",
        OVS_ACTION_ATTR_OUTPUT => "OVS_ACTION_ATTR_OUTPUT",
        OVS_ACTION_ATTR_USERSPACE => "OVS_ACTION_ATTR_USERSPACE",
        OVS_ACTION_ATTR_SET => "OVS_ACTION_ATTR_SET",
        OVS_ACTION_ATTR_PUSH_VLAN => "OVS_ACTION_ATTR_PUSH_VLAN",
        OVS_ACTION_ATTR_POP_VLAN => "OVS_ACTION_ATTR_POP_VLAN",
        OVS_ACTION_ATTR_SAMPLE => "OVS_ACTION_ATTR_SAMPLE",
        OVS_ACTION_ATTR_RECIRC => "OVS_ACTION_ATTR_RECIRC",
        OVS_ACTION_ATTR_HASH => "OVS_ACTION_ATTR_HASH",
        OVS_ACTION_ATTR_PUSH_MPLS => "OVS_ACTION_ATTR_PUSH_MPLS",
        OVS_ACTION_ATTR_POP_MPLS => "OVS_ACTION_ATTR_POP_MPLS",
        OVS_ACTION_ATTR_SET_MASKED => "OVS_ACTION_ATTR_SET_MASKED",
        OVS_ACTION_ATTR_CT => "OVS_ACTION_ATTR_CT",
        OVS_ACTION_ATTR_TRUNC => "OVS_ACTION_ATTR_TRUNC",
        OVS_ACTION_ATTR_PUSH_ETH => "OVS_ACTION_ATTR_PUSH_ETH",
        OVS_ACTION_ATTR_POP_ETH => "OVS_ACTION_ATTR_POP_ETH",
        OVS_ACTION_ATTR_CT_CLEAR => "OVS_ACTION_ATTR_CT_CLEAR",
        OVS_ACTION_ATTR_PUSH_NSH => "OVS_ACTION_ATTR_PUSH_NSH",
        OVS_ACTION_ATTR_POP_NSH => "OVS_ACTION_ATTR_POP_NSH",
        OVS_ACTION_ATTR_METER => "OVS_ACTION_ATTR_METER",
        OVS_ACTION_ATTR_CLONE => "OVS_ACTION_ATTR_CLONE",
        OVS_ACTION_ATTR_CHECK_PKT_LEN => "OVS_ACTION_ATTR_CHECK_PKT_LEN",
        OVS_ACTION_ATTR_ADD_MPLS => "OVS_ACTION_ATTR_ADD_MPLS",
        OVS_ACTION_ATTR_DEC_TTL => "OVS_ACTION_ATTR_DEC_TTL",
        OVS_ACTION_ATTR_DROP => "OVS_ACTION_ATTR_DROP",
        OVS_ACTION_ATTR_PSAMPLE => "OVS_ACTION_ATTR_PSAMPLE",
        OVS_ACTION_ATTR_TUNNEL_PUSH => "OVS_ACTION_ATTR_TUNNEL_PUSH",
        OVS_ACTION_ATTR_TUNNEL_POP => "OVS_ACTION_ATTR_TUNNEL_POP",
        OVS_ACTION_ATTR_LB_OUTPUT => "OVS_ACTION_ATTR_LB_OUTPUT",
        _ => "OVS_ACTION_ATTR_?",
    }
}

/// Name of an `OVS_CT_ATTR_*` number.
pub fn ct_attr_name(t: u16) -> &'static str {
    match t {
        OVS_CT_ATTR_COMMIT => "OVS_CT_ATTR_COMMIT",
        OVS_CT_ATTR_ZONE => "OVS_CT_ATTR_ZONE",
        OVS_CT_ATTR_MARK => "OVS_CT_ATTR_MARK",
        OVS_CT_ATTR_LABELS => "OVS_CT_ATTR_LABELS",
        OVS_CT_ATTR_HELPER => "OVS_CT_ATTR_HELPER",
        OVS_CT_ATTR_NAT => "OVS_CT_ATTR_NAT",
        OVS_CT_ATTR_FORCE_COMMIT => "OVS_CT_ATTR_FORCE_COMMIT",
        OVS_CT_ATTR_EVENTMASK => "OVS_CT_ATTR_EVENTMASK",
        OVS_CT_ATTR_TIMEOUT => "OVS_CT_ATTR_TIMEOUT",
        _ => "OVS_CT_ATTR_?",
    }
}

/// Name of an `OVS_NAT_ATTR_*` number.
pub fn nat_attr_name(t: u16) -> &'static str {
    match t {
        OVS_NAT_ATTR_SRC => "OVS_NAT_ATTR_SRC",
        OVS_NAT_ATTR_DST => "OVS_NAT_ATTR_DST",
        OVS_NAT_ATTR_IP_MIN => "OVS_NAT_ATTR_IP_MIN",
        OVS_NAT_ATTR_IP_MAX => "OVS_NAT_ATTR_IP_MAX",
        OVS_NAT_ATTR_PROTO_MIN => "OVS_NAT_ATTR_PROTO_MIN",
        OVS_NAT_ATTR_PROTO_MAX => "OVS_NAT_ATTR_PROTO_MAX",
        OVS_NAT_ATTR_PERSISTENT => "OVS_NAT_ATTR_PERSISTENT",
        OVS_NAT_ATTR_PROTO_HASH => "OVS_NAT_ATTR_PROTO_HASH",
        OVS_NAT_ATTR_PROTO_RANDOM => "OVS_NAT_ATTR_PROTO_RANDOM",
        _ => "OVS_NAT_ATTR_?",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userspace_only_numbers_follow_ovs_header() {
        // OVS's copy appends its `#ifndef __KERNEL__` actions after PSAMPLE.
        assert_eq!(OVS_ACTION_ATTR_PSAMPLE + 1, OVS_ACTION_ATTR_TUNNEL_PUSH);
        assert_eq!(OVS_ACTION_ATTR_LB_OUTPUT, 28);
        assert_eq!(OVS_KEY_ATTR_NSH + 1, OVS_KEY_ATTR_PACKET_TYPE);
        assert_eq!(
            OVS_TUNNEL_KEY_ATTR_ERSPAN_OPTS + 1,
            OVS_TUNNEL_KEY_ATTR_GTPU_OPTS
        );
    }

    #[test]
    fn names_match_numbers() {
        assert_eq!(key_attr_name(7), "OVS_KEY_ATTR_IPV4");
        assert_eq!(action_attr_name(26), "OVS_ACTION_ATTR_TUNNEL_PUSH");
        assert_eq!(tunnel_attr_name(16), "OVS_TUNNEL_KEY_ATTR_GTPU_OPTS");
        assert_eq!(ct_attr_name(9), "OVS_CT_ATTR_TIMEOUT");
        assert_eq!(nat_attr_name(9), "OVS_NAT_ATTR_PROTO_RANDOM");
    }
}
