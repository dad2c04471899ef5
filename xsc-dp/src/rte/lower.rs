//! Lowering: [`HwRule`] → [`RteRule`], the exact structs DPDK receives.
//!
//! Protocol items are written as the header bytes rte_flow defines them
//! with (`struct rte_flow_item_ipv4` is `struct rte_ipv4_hdr`, network
//! order), at the offsets the protocols fix; flag bits outside the headers
//! (`has_vlan`, `has_frag_ext`) go through bindgen's setters; metadata items
//! and action confs are filled as bindgen structs. Sizes come from the
//! bindings, so a rule is always exactly what the installed DPDK expects.
//!
//! Lowering never allocates once the target [`RteRule`]'s buffers have grown
//! to the rule's size: lower every rule of a batch into the same `RteRule`.

use std::mem::{offset_of, size_of};

use super::view::{ActionConf, ItemStruct};
use super::{field_data, RteRule};
use crate::ffi;
use crate::rule::{Action, Field, HwRule, Item, Masked};

/// A rule that cannot be expressed in this DPDK's rte_flow structs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LowerError {
    /// A value does not fit the C field (an encap header over `u16` bytes,
    /// a modify width beyond the field).
    OutOfRange {
        /// What was out of range.
        what: &'static str,
        /// The value.
        value: u64,
    },
}

impl std::fmt::Display for LowerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::OutOfRange { what, value } => write!(f, "{what} {value} does not fit rte_flow"),
        }
    }
}

impl std::error::Error for LowerError {}

/// A zeroed item struct whose bytes are written by offset (bounds-checked
/// by slice indexing).
struct Bytes<T: ItemStruct> {
    value: T,
}

impl<T: ItemStruct> Bytes<T> {
    fn zeroed() -> Self {
        Self {
            // Safety: ItemStruct's contract: T is plain data, so all-zero is
            // a valid T.
            value: unsafe { std::mem::zeroed() },
        }
    }

    fn bytes(&mut self) -> &mut [u8] {
        // Safety: T is plain data (ItemStruct's contract), so any bytes
        // written are a valid T; the slice covers exactly the value and is
        // the only access while it lives.
        unsafe {
            std::slice::from_raw_parts_mut((&mut self.value as *mut T).cast::<u8>(), size_of::<T>())
        }
    }

    fn put(&mut self, at: usize, src: &[u8]) -> &mut Self {
        self.bytes()[at..at + src.len()].copy_from_slice(src);
        self
    }

    fn put_u16(&mut self, at: usize, v: u16) -> &mut Self {
        self.put(at, &v.to_be_bytes())
    }

    fn put_u32(&mut self, at: usize, v: u32) -> &mut Self {
        self.put(at, &v.to_be_bytes())
    }
}

/// Lowers `rule` into `out` (cleared first) and seals it.
pub fn lower(rule: &HwRule, out: &mut RteRule) -> Result<(), LowerError> {
    out.clear();
    out.set_attr(rule.attr.group, rule.attr.priority, rule.attr.dir);
    for item in &rule.pattern {
        lower_item(item, out);
    }
    for action in &rule.actions {
        let (type_, conf) = lower_action(action, out)?;
        // Safety: lower_action allocates the conf struct of the action type
        // it returns, with its pointers relocated into the arena.
        unsafe { out.push_action_at(type_, conf) };
    }
    out.seal();
    Ok(())
}

/// Pushes an item whose spec, mask and last are `T`, checked to be the
/// struct of `type_` (the pairing RteRule::push_item asks for).
fn push_masked<T: ItemStruct>(
    out: &mut RteRule,
    type_: ffi::rte_flow_item_type,
    spec: T,
    mask: T,
    last: Option<T>,
) {
    assert!(
        T::is_for(type_),
        "lowering paired item type {type_} with the wrong struct"
    );
    // Safety: asserted just above: `T` is the item struct of `type_`.
    unsafe { out.push_item(type_, Some(&spec), Some(&mask), last.as_ref()) };
}

fn lower_item(item: &Item, out: &mut RteRule) {
    use crate::rule::*;
    match *item {
        Item::Eth(m) => {
            let one = |v: &EthItem| {
                let mut b = Bytes::<ffi::rte_flow_item_eth>::zeroed();
                b.put(0, &v.dst).put(6, &v.src).put_u16(12, v.ether_type);
                b.value.set_has_vlan(u32::from(v.has_vlan));
                b.value
            };
            push_masked(
                out,
                ffi::RTE_FLOW_ITEM_TYPE_ETH,
                one(&m.spec),
                one(&m.mask),
                None,
            );
        }
        Item::Vlan(m) => {
            let one = |v: &VlanItem| {
                let mut b = Bytes::<ffi::rte_flow_item_vlan>::zeroed();
                b.put_u16(0, v.tci).put_u16(2, v.inner_type);
                b.value.set_has_more_vlan(u32::from(v.has_more_vlan));
                b.value
            };
            push_masked(
                out,
                ffi::RTE_FLOW_ITEM_TYPE_VLAN,
                one(&m.spec),
                one(&m.mask),
                None,
            );
        }
        Item::Ipv4 { m, last } => {
            // struct rte_ipv4_hdr: version_ihl 0, tos 1, total_length 2,
            // packet_id 4, fragment_offset 6, ttl 8, proto 9, cksum 10,
            // src 12, dst 16.
            let one = |v: &Ipv4Item| {
                let mut b = Bytes::<ffi::rte_flow_item_ipv4>::zeroed();
                b.put(1, &[v.tos])
                    .put_u16(6, v.fragment_offset)
                    .put(8, &[v.ttl, v.proto]);
                b.put(12, &v.src).put(16, &v.dst);
                b.value
            };
            push_masked(
                out,
                ffi::RTE_FLOW_ITEM_TYPE_IPV4,
                one(&m.spec),
                one(&m.mask),
                last.as_ref().map(one),
            );
        }
        Item::Ipv6(m) => {
            // struct rte_ipv6_hdr: vtc_flow 0 (version 4 bits, traffic class
            // 8, flow label 20), payload_len 4, proto 6, hop_limits 7,
            // src 8, dst 24.
            let one = |v: &Ipv6Item| {
                let mut b = Bytes::<ffi::rte_flow_item_ipv6>::zeroed();
                let vtc = (u32::from(v.tc) << 20) | (v.flow_label & 0xf_ffff);
                b.put_u32(0, vtc)
                    .put(6, &[v.proto, v.hop_limit])
                    .put(8, &v.src)
                    .put(24, &v.dst);
                b.value.set_has_frag_ext(u32::from(v.has_frag_ext));
                b.value
            };
            push_masked(
                out,
                ffi::RTE_FLOW_ITEM_TYPE_IPV6,
                one(&m.spec),
                one(&m.mask),
                None,
            );
        }
        Item::Ipv6FragExt { m, last } => {
            // struct rte_ipv6_fragment_ext: next_header 0, reserved 1,
            // frag_data 2, id 4.
            let one = |v: &Ipv6FragItem| {
                let mut b = Bytes::<ffi::rte_flow_item_ipv6_frag_ext>::zeroed();
                b.put(0, &[v.next_header]).put_u16(2, v.frag_data);
                b.value
            };
            push_masked(
                out,
                ffi::RTE_FLOW_ITEM_TYPE_IPV6_FRAG_EXT,
                one(&m.spec),
                one(&m.mask),
                last.as_ref().map(one),
            );
        }
        Item::Tcp(m) => {
            // struct rte_tcp_hdr: src 0, dst 2, seq 4, ack 8, data_off 12, flags 13.
            let one = |v: &TcpItem| {
                let mut b = Bytes::<ffi::rte_flow_item_tcp>::zeroed();
                b.put_u16(0, v.src).put_u16(2, v.dst).put(13, &[v.flags]);
                b.value
            };
            push_masked(
                out,
                ffi::RTE_FLOW_ITEM_TYPE_TCP,
                one(&m.spec),
                one(&m.mask),
                None,
            );
        }
        Item::Udp(m) => push_ports::<ffi::rte_flow_item_udp>(out, ffi::RTE_FLOW_ITEM_TYPE_UDP, m),
        Item::Sctp(m) => {
            push_ports::<ffi::rte_flow_item_sctp>(out, ffi::RTE_FLOW_ITEM_TYPE_SCTP, m)
        }
        Item::Icmp(m) => {
            let one = |v: &IcmpItem| {
                // struct rte_icmp_hdr: type 0, code 1, cksum 2, ident 4, seq 6.
                let mut b = Bytes::<ffi::rte_flow_item_icmp>::zeroed();
                b.put(0, &[v.icmp_type, v.code]).put_u16(4, v.ident);
                b.value
            };
            push_masked(
                out,
                ffi::RTE_FLOW_ITEM_TYPE_ICMP,
                one(&m.spec),
                one(&m.mask),
                None,
            );
        }
        Item::Icmp6(m) => {
            let one = |v: &IcmpItem| {
                let mut b = Bytes::<ffi::rte_flow_item_icmp6>::zeroed();
                b.put(0, &[v.icmp_type, v.code]);
                b.value
            };
            push_masked(
                out,
                ffi::RTE_FLOW_ITEM_TYPE_ICMP6,
                one(&m.spec),
                one(&m.mask),
                None,
            );
        }
        Item::ArpEthIpv4(m) => {
            // struct rte_arp_hdr: hrd 0, pro 2, hln 4, pln 5, op 6, sha 8,
            // spa 14, tha 18, tpa 24.
            let one = |v: &ArpItem| {
                let mut b = Bytes::<ffi::rte_flow_item_arp_eth_ipv4>::zeroed();
                b.put_u16(6, v.op)
                    .put(8, &v.sha)
                    .put(14, &v.spa)
                    .put(18, &v.tha)
                    .put(24, &v.tpa);
                b.value
            };
            push_masked(
                out,
                ffi::RTE_FLOW_ITEM_TYPE_ARP_ETH_IPV4,
                one(&m.spec),
                one(&m.mask),
                None,
            );
        }
        Item::Icmp6NdNs(m) => {
            push_nd::<ffi::rte_flow_item_icmp6_nd_ns>(out, ffi::RTE_FLOW_ITEM_TYPE_ICMP6_ND_NS, m)
        }
        Item::Icmp6NdNa(m) => {
            push_nd::<ffi::rte_flow_item_icmp6_nd_na>(out, ffi::RTE_FLOW_ITEM_TYPE_ICMP6_ND_NA, m)
        }
        Item::Icmp6NdOptSlaEth(m) => push_nd_opt::<ffi::rte_flow_item_icmp6_nd_opt_sla_eth>(
            out,
            ffi::RTE_FLOW_ITEM_TYPE_ICMP6_ND_OPT_SLA_ETH,
            m,
        ),
        Item::Icmp6NdOptTlaEth(m) => push_nd_opt::<ffi::rte_flow_item_icmp6_nd_opt_tla_eth>(
            out,
            ffi::RTE_FLOW_ITEM_TYPE_ICMP6_ND_OPT_TLA_ETH,
            m,
        ),
        Item::Tag { index, m } => {
            let spec = ffi::rte_flow_item_tag {
                data: m.spec,
                index,
            };
            let mask = ffi::rte_flow_item_tag {
                data: m.mask,
                index: 0xff,
            };
            push_masked(out, ffi::RTE_FLOW_ITEM_TYPE_TAG, spec, mask, None);
        }
        Item::Meta(m) => {
            let spec = ffi::rte_flow_item_meta { data: m.spec };
            let mask = ffi::rte_flow_item_meta { data: m.mask };
            push_masked(out, ffi::RTE_FLOW_ITEM_TYPE_META, spec, mask, None);
        }
        Item::Mark(m) => {
            let spec = ffi::rte_flow_item_mark { id: m.spec };
            let mask = ffi::rte_flow_item_mark { id: m.mask };
            push_masked(out, ffi::RTE_FLOW_ITEM_TYPE_MARK, spec, mask, None);
        }
        Item::RepresentedPort { port_id } => {
            let spec = ffi::rte_flow_item_ethdev { port_id };
            let mask = ffi::rte_flow_item_ethdev { port_id: u16::MAX };
            push_masked(
                out,
                ffi::RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT,
                spec,
                mask,
                None,
            );
        }
        Item::PortRepresentor { port_id } => {
            let spec = ffi::rte_flow_item_ethdev { port_id };
            let mask = ffi::rte_flow_item_ethdev { port_id: u16::MAX };
            push_masked(
                out,
                ffi::RTE_FLOW_ITEM_TYPE_PORT_REPRESENTOR,
                spec,
                mask,
                None,
            );
        }
        Item::Vxlan(m) => {
            // struct rte_vxlan_hdr: flags 0, reserved 1-3, vni 4-6, reserved 7.
            let one = |v: &TunnelItem| {
                let mut b = Bytes::<ffi::rte_flow_item_vxlan>::zeroed();
                b.put(4, &v.vni.to_be_bytes()[1..]);
                b.value
            };
            push_masked(
                out,
                ffi::RTE_FLOW_ITEM_TYPE_VXLAN,
                one(&m.spec),
                one(&m.mask),
                None,
            );
        }
        Item::Geneve(m) => {
            // struct rte_flow_item_geneve: ver_opt_len_o_c_rsvd0 0,
            // protocol 2, vni 4-6, rsvd1 7.
            let one = |v: &TunnelItem| {
                let mut b = Bytes::<ffi::rte_flow_item_geneve>::zeroed();
                b.put_u16(2, v.protocol).put(4, &v.vni.to_be_bytes()[1..]);
                b.value
            };
            push_masked(
                out,
                ffi::RTE_FLOW_ITEM_TYPE_GENEVE,
                one(&m.spec),
                one(&m.mask),
                None,
            );
        }
    }
}

fn push_ports<T: ItemStruct>(
    out: &mut RteRule,
    type_: ffi::rte_flow_item_type,
    m: Masked<crate::rule::PortsItem>,
) {
    let one = |v: &crate::rule::PortsItem| {
        let mut b = Bytes::<T>::zeroed();
        b.put_u16(0, v.src).put_u16(2, v.dst);
        b.value
    };
    push_masked(out, type_, one(&m.spec), one(&m.mask), None);
}

/// ND NS/NA: type 0, code 1, checksum 2, reserved/flags 4, target 8.
fn push_nd<T: ItemStruct>(out: &mut RteRule, type_: ffi::rte_flow_item_type, m: Masked<[u8; 16]>) {
    let one = |v: &[u8; 16]| {
        let mut b = Bytes::<T>::zeroed();
        b.put(8, v);
        b.value
    };
    push_masked(out, type_, one(&m.spec), one(&m.mask), None);
}

/// ND SLA/TLA option: type 0, length 1, link-layer address 2.
fn push_nd_opt<T: ItemStruct>(
    out: &mut RteRule,
    type_: ffi::rte_flow_item_type,
    m: Masked<[u8; 6]>,
) {
    let one = |v: &[u8; 6]| {
        let mut b = Bytes::<T>::zeroed();
        b.put(2, v);
        b.value
    };
    push_masked(out, type_, one(&m.spec), one(&m.mask), None);
}

fn field_id(field: Field) -> (ffi::rte_flow_field_id, u8) {
    match field {
        Field::MacDst => (ffi::RTE_FLOW_FIELD_MAC_DST, 0),
        Field::MacSrc => (ffi::RTE_FLOW_FIELD_MAC_SRC, 0),
        Field::VlanId => (ffi::RTE_FLOW_FIELD_VLAN_ID, 0),
        Field::Ipv4Dscp => (ffi::RTE_FLOW_FIELD_IPV4_DSCP, 0),
        Field::Ipv4Ttl => (ffi::RTE_FLOW_FIELD_IPV4_TTL, 0),
        Field::Ipv4Src => (ffi::RTE_FLOW_FIELD_IPV4_SRC, 0),
        Field::Ipv4Dst => (ffi::RTE_FLOW_FIELD_IPV4_DST, 0),
        Field::Ipv6Dscp => (ffi::RTE_FLOW_FIELD_IPV6_DSCP, 0),
        Field::Ipv6HopLimit => (ffi::RTE_FLOW_FIELD_IPV6_HOPLIMIT, 0),
        Field::Ipv6Src => (ffi::RTE_FLOW_FIELD_IPV6_SRC, 0),
        Field::Ipv6Dst => (ffi::RTE_FLOW_FIELD_IPV6_DST, 0),
        Field::TcpPortSrc => (ffi::RTE_FLOW_FIELD_TCP_PORT_SRC, 0),
        Field::TcpPortDst => (ffi::RTE_FLOW_FIELD_TCP_PORT_DST, 0),
        Field::UdpPortSrc => (ffi::RTE_FLOW_FIELD_UDP_PORT_SRC, 0),
        Field::UdpPortDst => (ffi::RTE_FLOW_FIELD_UDP_PORT_DST, 0),
        Field::VxlanVni => (ffi::RTE_FLOW_FIELD_VXLAN_VNI, 0),
        Field::GeneveVni => (ffi::RTE_FLOW_FIELD_GENEVE_VNI, 0),
        Field::Tag(index) => (ffi::RTE_FLOW_FIELD_TAG, index),
        Field::Meta => (ffi::RTE_FLOW_FIELD_META, 0),
        Field::Mark => (ffi::RTE_FLOW_FIELD_MARK, 0),
    }
}

fn modify_data(field: Field, offset: u32) -> field_data::FieldData {
    let (id, tag_index) = field_id(field);
    field_data::new(id, tag_index, offset)
}

type Lowered = (ffi::rte_flow_action_type, Option<super::ArenaRef>);

/// Allocates `value` as the conf of an action of `type_`, checked to be its
/// conf struct.
fn conf<T: ActionConf>(
    out: &mut RteRule,
    type_: ffi::rte_flow_action_type,
    value: T,
) -> Result<Lowered, LowerError> {
    assert!(
        T::is_for(type_),
        "lowering paired action type {type_} with the wrong conf"
    );
    Ok((type_, Some(out.alloc(&value))))
}

fn lower_action(action: &Action, out: &mut RteRule) -> Result<Lowered, LowerError> {
    use ffi::*;
    match action {
        Action::Count => conf(
            out,
            RTE_FLOW_ACTION_TYPE_COUNT,
            rte_flow_action_count { id: 0 },
        ),
        Action::Drop => Ok((RTE_FLOW_ACTION_TYPE_DROP, None)),
        Action::Jump { group } => conf(
            out,
            RTE_FLOW_ACTION_TYPE_JUMP,
            rte_flow_action_jump { group: *group },
        ),
        Action::Mark { id } => conf(
            out,
            RTE_FLOW_ACTION_TYPE_MARK,
            rte_flow_action_mark { id: *id },
        ),
        Action::SetTag { index, data, mask } => conf(
            out,
            RTE_FLOW_ACTION_TYPE_SET_TAG,
            rte_flow_action_set_tag {
                data: *data,
                mask: *mask,
                index: *index,
            },
        ),
        Action::SetMeta { data, mask } => conf(
            out,
            RTE_FLOW_ACTION_TYPE_SET_META,
            rte_flow_action_set_meta {
                data: *data,
                mask: *mask,
            },
        ),
        Action::Queue { index } => conf(
            out,
            RTE_FLOW_ACTION_TYPE_QUEUE,
            rte_flow_action_queue { index: *index },
        ),
        Action::RepresentedPort { port_id } => conf(
            out,
            RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT,
            rte_flow_action_ethdev { port_id: *port_id },
        ),
        Action::PortRepresentor { port_id } => conf(
            out,
            RTE_FLOW_ACTION_TYPE_PORT_REPRESENTOR,
            rte_flow_action_ethdev { port_id: *port_id },
        ),
        Action::SetMacSrc(mac) => conf(
            out,
            RTE_FLOW_ACTION_TYPE_SET_MAC_SRC,
            rte_flow_action_set_mac { mac_addr: *mac },
        ),
        Action::SetMacDst(mac) => conf(
            out,
            RTE_FLOW_ACTION_TYPE_SET_MAC_DST,
            rte_flow_action_set_mac { mac_addr: *mac },
        ),
        Action::SetIpv4Src(a) => conf(
            out,
            RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC,
            rte_flow_action_set_ipv4 {
                ipv4_addr: u32::from_ne_bytes(*a),
            },
        ),
        Action::SetIpv4Dst(a) => conf(
            out,
            RTE_FLOW_ACTION_TYPE_SET_IPV4_DST,
            rte_flow_action_set_ipv4 {
                ipv4_addr: u32::from_ne_bytes(*a),
            },
        ),
        Action::SetIpv6Src(a) => set_ipv6(out, RTE_FLOW_ACTION_TYPE_SET_IPV6_SRC, a),
        Action::SetIpv6Dst(a) => set_ipv6(out, RTE_FLOW_ACTION_TYPE_SET_IPV6_DST, a),
        Action::SetTpSrc(p) => conf(
            out,
            RTE_FLOW_ACTION_TYPE_SET_TP_SRC,
            rte_flow_action_set_tp { port: p.to_be() },
        ),
        Action::SetTpDst(p) => conf(
            out,
            RTE_FLOW_ACTION_TYPE_SET_TP_DST,
            rte_flow_action_set_tp { port: p.to_be() },
        ),
        Action::SetTtl(t) => conf(
            out,
            RTE_FLOW_ACTION_TYPE_SET_TTL,
            rte_flow_action_set_ttl { ttl_value: *t },
        ),
        Action::DecTtl => Ok((RTE_FLOW_ACTION_TYPE_DEC_TTL, None)),
        Action::SetIpv4Dscp(d) => conf(
            out,
            RTE_FLOW_ACTION_TYPE_SET_IPV4_DSCP,
            rte_flow_action_set_dscp { dscp: *d },
        ),
        Action::SetIpv6Dscp(d) => conf(
            out,
            RTE_FLOW_ACTION_TYPE_SET_IPV6_DSCP,
            rte_flow_action_set_dscp { dscp: *d },
        ),
        Action::ModifyField {
            dst,
            offset,
            width,
            value,
        } => {
            check_width(*dst, *offset, *width)?;
            let mut src = modify_data(Field::Meta, 0);
            src.field = RTE_FLOW_FIELD_VALUE;
            src.__bindgen_anon_1.value = *value;
            let c = rte_flow_action_modify_field {
                operation: RTE_FLOW_MODIFY_SET,
                dst: modify_data(*dst, *offset),
                src,
                width: *width,
            };
            conf(out, RTE_FLOW_ACTION_TYPE_MODIFY_FIELD, c)
        }
        Action::CopyField { dst, src, width } => {
            check_width(*dst, 0, *width)?;
            check_width(*src, 0, *width)?;
            let c = rte_flow_action_modify_field {
                operation: RTE_FLOW_MODIFY_SET,
                dst: modify_data(*dst, 0),
                src: modify_data(*src, 0),
                width: *width,
            };
            conf(out, RTE_FLOW_ACTION_TYPE_MODIFY_FIELD, c)
        }
        Action::OfPushVlan { ethertype } => conf(
            out,
            RTE_FLOW_ACTION_TYPE_OF_PUSH_VLAN,
            rte_flow_action_of_push_vlan {
                ethertype: ethertype.to_be(),
            },
        ),
        Action::OfSetVlanVid(vid) => conf(
            out,
            RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_VID,
            rte_flow_action_of_set_vlan_vid {
                vlan_vid: vid.to_be(),
            },
        ),
        Action::OfSetVlanPcp(pcp) => conf(
            out,
            RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_PCP,
            rte_flow_action_of_set_vlan_pcp { vlan_pcp: *pcp },
        ),
        Action::OfPopVlan => Ok((RTE_FLOW_ACTION_TYPE_OF_POP_VLAN, None)),
        Action::RawEncap(header) => {
            let bytes = out.alloc_bytes(header);
            let c = out.alloc(&rte_flow_action_raw_encap {
                data: std::ptr::null_mut(),
                preserve: std::ptr::null_mut(),
                size: header.len(),
            });
            out.reloc(c.field(offset_of!(rte_flow_action_raw_encap, data)), bytes);
            Ok((RTE_FLOW_ACTION_TYPE_RAW_ENCAP, Some(c)))
        }
        Action::RawDecap { size } => {
            let c = out.alloc(&rte_flow_action_raw_decap {
                data: std::ptr::null_mut(),
                size: usize::from(*size),
            });
            Ok((RTE_FLOW_ACTION_TYPE_RAW_DECAP, Some(c)))
        }
        Action::VxlanDecap => Ok((RTE_FLOW_ACTION_TYPE_VXLAN_DECAP, None)),
        Action::Sample { ratio, actions } => {
            // The sub-actions: confs first, then the END-terminated array,
            // whose conf pointers are relocated to them.
            let mut lowered: smallvec::SmallVec<[Lowered; 8]> = smallvec::SmallVec::new();
            for a in actions.iter() {
                lowered.push(lower_action(a, out)?);
            }
            lowered.push((RTE_FLOW_ACTION_TYPE_END, None));
            let raw: smallvec::SmallVec<[rte_flow_action; 8]> = lowered
                .iter()
                .map(|&(type_, _)| rte_flow_action {
                    type_,
                    conf: std::ptr::null(),
                })
                .collect();
            let list = out.alloc_slice(&raw);
            for (i, &(_, c)) in lowered.iter().enumerate() {
                if let Some(c) = c {
                    let slot = i * size_of::<rte_flow_action>() + offset_of!(rte_flow_action, conf);
                    out.reloc(list.field(slot), c);
                }
            }
            let c = out.alloc(&rte_flow_action_sample {
                ratio: *ratio,
                actions: std::ptr::null(),
            });
            out.reloc(c.field(offset_of!(rte_flow_action_sample, actions)), list);
            Ok((RTE_FLOW_ACTION_TYPE_SAMPLE, Some(c)))
        }
    }
}

fn set_ipv6(
    out: &mut RteRule,
    type_: ffi::rte_flow_action_type,
    addr: &[u8; 16],
) -> Result<Lowered, LowerError> {
    // The conf is the 16 address bytes (an array before DPDK 24.11, struct
    // rte_ipv6_addr after): copied as bytes, it reads the same in both.
    const { assert!(size_of::<ffi::rte_flow_action_set_ipv6>() == 16) };
    Ok((type_, Some(out.alloc_bytes(addr))))
}

fn check_width(field: Field, offset: u32, width: u32) -> Result<(), LowerError> {
    if width == 0 || offset + width > field.width() {
        return Err(LowerError::OutOfRange {
            what: "modify_field width",
            value: u64::from(offset + width),
        });
    }
    Ok(())
}
