//! Header matches: the key and mask of L2 (Ethernet, VLAN), L3 (IPv4,
//! IPv6 with its fragment header, ARP) and L4 (TCP, UDP, SCTP, ICMP,
//! ICMPv6 with neighbour discovery) become rte_flow items.
//!
//! Invariants: spec values are masked (`spec & mask`); an EtherType that
//! the next item implies is left out; OVS's VLAN CFI bit means "tagged",
//! so a VLAN match must say it.
//!
//! Must not depend on: anything below `translate` in the flow.

use smallvec::SmallVec;

use super::flow::no_hw;
use super::rejected::Unmatchable;
use super::Rejected;
use crate::odp::{self, frag, FlowKey, FlowMask, KeyAttr};
use crate::rule::*;

/// L2-L4 headers (and for VLAN, what is inside `encap(...)`).
pub(super) fn headers(
    key: &FlowKey,
    mask: &FlowMask,
    out: &mut SmallVec<[Item; 8]>,
) -> Result<(), Rejected> {
    let has = |a| key.has(a);
    let mut eth = Masked::<EthItem>::default();
    if has(KeyAttr::Ethernet) {
        eth.spec.src = and6(&key.eth.src, &mask.eth.src);
        eth.spec.dst = and6(&key.eth.dst, &mask.eth.dst);
        eth.mask.src = mask.eth.src;
        eth.mask.dst = mask.eth.dst;
    }
    // OVS's CFI bit means "a tag is present" (vlan_tci 0/0x1000: untagged).
    const CFI: u16 = 0x1000;
    let vlan_matched = has(KeyAttr::Vlan) && mask.vlan_tci != 0;
    if vlan_matched && mask.vlan_tci & CFI == 0 {
        return Err(Rejected::VlanCfi {
            tci: key.vlan_tci,
            mask: mask.vlan_tci,
        });
    }
    let tagged = vlan_matched && key.vlan_tci & CFI != 0;
    let start = out.len();
    if vlan_matched && !tagged {
        eth.mask.has_vlan = true;
    }
    let (inner, inner_mask) = if tagged {
        (key.encap.as_deref(), mask.encap.as_deref())
    } else {
        (None, None)
    };
    if tagged {
        // The VLAN item says the frame is tagged; the TCI's DEI bit (OVS's
        // CFI) is not matched.
        let mut vlan = Masked::<VlanItem>::default();
        vlan.spec.tci = key.vlan_tci & !CFI;
        vlan.mask.tci = mask.vlan_tci & !CFI;
        if let (Some(k), Some(m)) = (inner, inner_mask) {
            if k.has(KeyAttr::Ethertype) {
                vlan.spec.inner_type = k.eth_type;
                vlan.mask.inner_type = m.eth_type;
            }
        }
        out.push(Item::Eth(eth));
        out.push(Item::Vlan(vlan));
    } else {
        if has(KeyAttr::Ethertype) {
            eth.spec.ether_type = key.eth_type;
            eth.mask.ether_type = mask.eth_type;
        }
        out.push(Item::Eth(eth));
    }
    match (inner, inner_mask) {
        (Some(k), Some(m)) => l3(k, m, out)?,
        (Some(k), None) => l3(k, &odp::netlink::exact_mask(k), out)?,
        _ => l3(key, mask, out)?,
    }
    drop_implied_types(&mut out[start..]);
    Ok(())
}

/// An EtherType matched exactly and followed by the item it names says
/// nothing the item does not: rte_flow's `ETH / IPV4` only matches IPv4.
/// Leaving it out keeps rules short (testpmd reads 511 characters a line).
fn drop_implied_types(items: &mut [Item]) {
    let implied = |next: Option<&Item>| -> Option<u16> {
        match next? {
            Item::Ipv4 { .. } => Some(0x0800),
            Item::Ipv6(_) => Some(0x86dd),
            Item::ArpEthIpv4(_) => Some(0x0806),
            _ => None,
        }
    };
    for i in 0..items.len() {
        let next = implied(items.get(i + 1));
        match &mut items[i] {
            Item::Eth(m) if m.mask.ether_type == u16::MAX && Some(m.spec.ether_type) == next => {
                m.spec.ether_type = 0;
                m.mask.ether_type = 0;
            }
            Item::Vlan(m) if m.mask.inner_type == u16::MAX && Some(m.spec.inner_type) == next => {
                m.spec.inner_type = 0;
                m.mask.inner_type = 0;
            }
            _ => {}
        }
    }
}

fn l3(key: &FlowKey, mask: &FlowMask, out: &mut SmallVec<[Item; 8]>) -> Result<(), Rejected> {
    let has = |a| key.has(a);
    for (attr, field, nonzero) in [
        (
            KeyAttr::Mpls,
            Unmatchable::Mpls,
            mask.mpls.lse.iter().any(|&l| l != 0),
        ),
        (
            KeyAttr::Nsh,
            Unmatchable::Nsh,
            mask.nsh != odp::NshKey::default(),
        ),
        (
            KeyAttr::NdExtensions,
            Unmatchable::NdExtensions,
            mask.nd_ext != odp::NdExtKey::default(),
        ),
    ] {
        if has(attr) {
            no_hw(field, nonzero)?;
        }
    }
    if has(KeyAttr::Ipv4) {
        let (k, m) = (&key.ipv4, &mask.ipv4);
        let mut item = Masked::<Ipv4Item>::default();
        item.spec.src = (k.src & m.src).to_be_bytes();
        item.mask.src = m.src.to_be_bytes();
        item.spec.dst = (k.dst & m.dst).to_be_bytes();
        item.mask.dst = m.dst.to_be_bytes();
        item.spec.proto = k.proto & m.proto;
        item.mask.proto = m.proto;
        item.spec.tos = k.tos & m.tos;
        item.mask.tos = m.tos;
        item.spec.ttl = k.ttl & m.ttl;
        item.mask.ttl = m.ttl;
        let last = match (m.frag, k.frag) {
            (0, _) => None,
            (0xff, frag::NONE) => {
                item.mask.fragment_offset = ipv4_frag::MF_OR_OFFSET;
                None
            }
            (0xff, frag::FIRST) => {
                item.spec.fragment_offset = ipv4_frag::MF;
                item.mask.fragment_offset = ipv4_frag::MF_OR_OFFSET;
                None
            }
            (0xff, frag::LATER) => {
                item.spec.fragment_offset = 1;
                item.mask.fragment_offset = ipv4_frag::OFFSET;
                Some(Ipv4Item {
                    fragment_offset: ipv4_frag::OFFSET,
                    ..Default::default()
                })
            }
            (m, v) => return Err(Rejected::Ipv4Frag { value: v, mask: m }),
        };
        out.push(Item::Ipv4 { m: item, last });
    } else if has(KeyAttr::Ipv6) {
        let (k, m) = (&key.ipv6, &mask.ipv6);
        let mut item = Masked::<Ipv6Item>::default();
        for i in 0..16 {
            item.spec.src[i] = k.src[i] & m.src[i];
            item.spec.dst[i] = k.dst[i] & m.dst[i];
        }
        item.mask.src = m.src;
        item.mask.dst = m.dst;
        item.spec.flow_label = k.label & m.label;
        item.mask.flow_label = m.label;
        item.spec.proto = k.proto & m.proto;
        item.mask.proto = m.proto;
        item.spec.tc = k.tclass & m.tclass;
        item.mask.tc = m.tclass;
        item.spec.hop_limit = k.hlimit & m.hlimit;
        item.mask.hop_limit = m.hlimit;
        let frag_ext = match (m.frag, k.frag) {
            (0, _) => None,
            (0xff, frag::NONE) => {
                item.mask.has_frag_ext = true;
                None
            }
            (0xff, frag::FIRST) => {
                item.spec.has_frag_ext = true;
                item.mask.has_frag_ext = true;
                Some((
                    Masked::new(
                        Ipv6FragItem {
                            next_header: 0,
                            frag_data: 0,
                        },
                        Ipv6FragItem {
                            next_header: 0,
                            frag_data: 0xfff8,
                        },
                    ),
                    None,
                ))
            }
            (0xff, frag::LATER) => {
                item.spec.has_frag_ext = true;
                item.mask.has_frag_ext = true;
                Some((
                    Masked::new(
                        Ipv6FragItem {
                            next_header: 0,
                            frag_data: 8,
                        },
                        Ipv6FragItem {
                            next_header: 0,
                            frag_data: 0xfff8,
                        },
                    ),
                    Some(Ipv6FragItem {
                        next_header: 0,
                        frag_data: 0xfff8,
                    }),
                ))
            }
            (m, v) => return Err(Rejected::Ipv6Frag { value: v, mask: m }),
        };
        // In a fragment the IPv6 header's next header is 44; OVS's proto is
        // the fragment header's next header.
        let frag_ext = frag_ext.map(|(mut m, mut last)| {
            m.spec.next_header = item.spec.proto;
            m.mask.next_header = item.mask.proto;
            if let Some(l) = last.as_mut() {
                l.next_header = item.spec.proto;
            }
            item.spec.proto = 0;
            item.mask.proto = 0;
            (m, last)
        });
        out.push(Item::Ipv6(item));
        if let Some((m, last)) = frag_ext {
            out.push(Item::Ipv6FragExt { m, last });
        }
    } else if has(KeyAttr::Arp) {
        let (k, m) = (&key.arp, &mask.arp);
        out.push(Item::ArpEthIpv4(Masked::new(
            ArpItem {
                op: k.op & m.op,
                sha: and6(&k.sha, &m.sha),
                spa: (k.sip & m.sip).to_be_bytes(),
                tha: and6(&k.tha, &m.tha),
                tpa: (k.tip & m.tip).to_be_bytes(),
            },
            ArpItem {
                op: m.op,
                sha: m.sha,
                spa: m.sip.to_be_bytes(),
                tha: m.tha,
                tpa: m.tip.to_be_bytes(),
            },
        )));
        return Ok(());
    }
    l4(key, mask, out)
}

fn and6(a: &[u8; 6], m: &[u8; 6]) -> [u8; 6] {
    std::array::from_fn(|i| a[i] & m[i])
}

fn ports(k: &odp::PortsKey, m: &odp::PortsKey) -> Masked<PortsItem> {
    Masked::new(
        PortsItem {
            src: k.src & m.src,
            dst: k.dst & m.dst,
        },
        PortsItem {
            src: m.src,
            dst: m.dst,
        },
    )
}

/// ICMP or ICMPv6 type and code (OVS's key has no echo id).
fn icmp(k: &odp::IcmpKey, m: &odp::IcmpKey) -> Masked<IcmpItem> {
    Masked::new(
        IcmpItem {
            icmp_type: k.type_ & m.type_,
            code: k.code & m.code,
            ident: 0,
        },
        IcmpItem {
            icmp_type: m.type_,
            code: m.code,
            ident: 0,
        },
    )
}

fn l4(key: &FlowKey, mask: &FlowMask, out: &mut SmallVec<[Item; 8]>) -> Result<(), Rejected> {
    let has = |a| key.has(a);
    if has(KeyAttr::Tcp) || has(KeyAttr::TcpFlags) {
        let mut tcp = Masked::<TcpItem>::default();
        if has(KeyAttr::Tcp) {
            let p = ports(&key.tcp, &mask.tcp);
            tcp.spec.src = p.spec.src;
            tcp.spec.dst = p.spec.dst;
            tcp.mask.src = p.mask.src;
            tcp.mask.dst = p.mask.dst;
        }
        if has(KeyAttr::TcpFlags) && mask.tcp_flags != 0 {
            if mask.tcp_flags & 0x0f00 != 0 {
                return Err(Rejected::TcpFlagsMask {
                    mask: mask.tcp_flags,
                });
            }
            tcp.spec.flags = (key.tcp_flags & mask.tcp_flags) as u8;
            tcp.mask.flags = mask.tcp_flags as u8;
        }
        out.push(Item::Tcp(tcp));
    } else if has(KeyAttr::Udp) {
        out.push(Item::Udp(ports(&key.udp, &mask.udp)));
    } else if has(KeyAttr::Sctp) {
        out.push(Item::Sctp(ports(&key.sctp, &mask.sctp)));
    } else if has(KeyAttr::Icmp) {
        out.push(Item::Icmp(icmp(&key.icmp, &mask.icmp)));
    } else if has(KeyAttr::Icmpv6) {
        out.push(Item::Icmp6(icmp(&key.icmpv6, &mask.icmpv6)));
        if has(KeyAttr::Nd) {
            nd(key, mask, out)?;
        }
    }
    Ok(())
}

fn nd(key: &FlowKey, mask: &FlowMask, out: &mut SmallVec<[Item; 8]>) -> Result<(), Rejected> {
    let (k, m) = (&key.nd, &mask.nd);
    let any = |b: &[u8]| b.iter().any(|&x| x != 0);
    if !any(&m.target) && !any(&m.sll) && !any(&m.tll) {
        return Ok(());
    }
    let exact_type = mask.icmpv6.type_ == 0xff;
    let target: [u8; 16] = std::array::from_fn(|i| k.target[i] & m.target[i]);
    match key.icmpv6.type_ {
        135 if exact_type => {
            out.push(Item::Icmp6NdNs(Masked::new(target, m.target)));
            if any(&m.sll) {
                out.push(Item::Icmp6NdOptSlaEth(Masked::new(
                    and6(&k.sll, &m.sll),
                    m.sll,
                )));
            }
            no_hw(Unmatchable::NdTll, any(&m.tll))?;
        }
        136 if exact_type => {
            out.push(Item::Icmp6NdNa(Masked::new(target, m.target)));
            if any(&m.tll) {
                out.push(Item::Icmp6NdOptTlaEth(Masked::new(
                    and6(&k.tll, &m.tll),
                    m.tll,
                )));
            }
            no_hw(Unmatchable::NdSll, any(&m.sll))?;
        }
        _ => return Err(Rejected::NdType),
    }
    Ok(())
}
