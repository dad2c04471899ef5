//! What a mask says about one attribute (`odp_mask_is_constant__()`): all ones
//! (exact, the mask is not printed) or all zero (wildcarded, left out of plain
//! output); and the all-zero key that stands for an attribute the mask lacks.
use super::{
    arp::ArpKey,
    ct::{CtTuple4, CtTuple6},
    eth::EthKey,
    ip::{Ipv4Key, Ipv6Key},
    l4::{IcmpKey, PortsKey},
    meta::{OdpPort, PacketType},
    mpls::MplsKey,
    nd::{NdExtKey, NdKey},
    nsh::NshKey,
    tunnel::{ErspanOpts, GtpuOpts, Tunnel},
};
use super::{AttrSet, FlowKey, KeyAttr};

pub(crate) fn ipv6_mask_is(m: &Ipv6Key, ones: bool) -> bool {
    let (a, b) = if ones { (0xffu8, 0xf_ffffu32) } else { (0, 0) };
    m.label & 0xf_ffff == b
        && m.proto == a
        && m.tclass == a
        && m.hlimit == a
        && m.frag == a
        && m.src == [a; 16]
        && m.dst == [a; 16]
}

/// True when the mask of `attr` has every bit set (the mask is not printed).
pub(crate) fn attr_mask_is_exact(attr: KeyAttr, m: &FlowKey) -> bool {
    match attr {
        KeyAttr::Priority => m.skb_priority == u32::MAX,
        KeyAttr::SkbMark => m.skb_mark == u32::MAX,
        KeyAttr::DpHash => m.dp_hash == u32::MAX,
        KeyAttr::RecircId => m.recirc_id == u32::MAX,
        KeyAttr::CtState => m.ct_state == u32::MAX,
        KeyAttr::CtZone => m.ct_zone == u16::MAX,
        KeyAttr::CtMark => m.ct_mark == u32::MAX,
        KeyAttr::CtLabels => m.ct_label == u128::MAX,
        KeyAttr::CtOrigTupleIpv4 => {
            m.ct_tuple4
                == CtTuple4 {
                    src: u32::MAX,
                    dst: u32::MAX,
                    src_port: u16::MAX,
                    dst_port: u16::MAX,
                    proto: 0xff,
                }
        }
        KeyAttr::CtOrigTupleIpv6 => {
            m.ct_tuple6
                == CtTuple6 {
                    src: [0xff; 16],
                    dst: [0xff; 16],
                    src_port: u16::MAX,
                    dst_port: u16::MAX,
                    proto: 0xff,
                }
        }
        KeyAttr::InPort => m.in_port == OdpPort::Number(u32::MAX),
        KeyAttr::PacketType => {
            m.packet_type
                == PacketType {
                    ns: u16::MAX,
                    id: u16::MAX,
                }
        }
        KeyAttr::Ethernet => {
            m.eth
                == EthKey {
                    src: [0xff; 6],
                    dst: [0xff; 6],
                }
        }
        KeyAttr::Vlan => m.vlan_tci == u16::MAX,
        KeyAttr::Ethertype => m.eth_type == u16::MAX,
        KeyAttr::Mpls => m.mpls.entries().iter().all(|&l| l == u32::MAX),
        KeyAttr::Ipv4 => {
            m.ipv4
                == Ipv4Key {
                    src: u32::MAX,
                    dst: u32::MAX,
                    proto: 0xff,
                    tos: 0xff,
                    ttl: 0xff,
                    frag: 0xff,
                }
        }
        KeyAttr::Ipv6 => ipv6_mask_is(&m.ipv6, true),
        KeyAttr::Tcp => {
            m.tcp
                == PortsKey {
                    src: u16::MAX,
                    dst: u16::MAX,
                }
        }
        KeyAttr::Udp => {
            m.udp
                == PortsKey {
                    src: u16::MAX,
                    dst: u16::MAX,
                }
        }
        KeyAttr::Sctp => {
            m.sctp
                == PortsKey {
                    src: u16::MAX,
                    dst: u16::MAX,
                }
        }
        KeyAttr::TcpFlags => m.tcp_flags & 0x0fff == 0x0fff,
        KeyAttr::Icmp => {
            m.icmp
                == IcmpKey {
                    type_: 0xff,
                    code: 0xff,
                }
        }
        KeyAttr::Icmpv6 => {
            m.icmpv6
                == IcmpKey {
                    type_: 0xff,
                    code: 0xff,
                }
        }
        KeyAttr::Arp => {
            m.arp
                == ArpKey {
                    sip: u32::MAX,
                    tip: u32::MAX,
                    op: u16::MAX,
                    sha: [0xff; 6],
                    tha: [0xff; 6],
                }
        }
        KeyAttr::Nd => {
            m.nd == NdKey {
                target: [0xff; 16],
                sll: [0xff; 6],
                tll: [0xff; 6],
            }
        }
        // Padding in the C struct is never all-ones.
        KeyAttr::NdExtensions => false,
        KeyAttr::Nsh => {
            m.nsh
                == NshKey {
                    flags: 0xff,
                    ttl: 0xff,
                    mdtype: 0xff,
                    np: 0xff,
                    spi: 0xff_ffff,
                    si: 0xff,
                    context: [u32::MAX; 4],
                }
        }
        KeyAttr::Tunnel | KeyAttr::Encap => false,
    }
}

/// True when the mask of `attr` is all zero (the attribute is wildcarded).
pub(crate) fn attr_mask_is_zero(attr: KeyAttr, m: &FlowKey) -> bool {
    match attr {
        KeyAttr::Priority => m.skb_priority == 0,
        KeyAttr::SkbMark => m.skb_mark == 0,
        KeyAttr::DpHash => m.dp_hash == 0,
        KeyAttr::RecircId => m.recirc_id == 0,
        KeyAttr::CtState => m.ct_state == 0,
        KeyAttr::CtZone => m.ct_zone == 0,
        KeyAttr::CtMark => m.ct_mark == 0,
        KeyAttr::CtLabels => m.ct_label == 0,
        KeyAttr::CtOrigTupleIpv4 => m.ct_tuple4 == CtTuple4::default(),
        KeyAttr::CtOrigTupleIpv6 => m.ct_tuple6 == CtTuple6::default(),
        KeyAttr::InPort => m.in_port == OdpPort::Number(0),
        KeyAttr::PacketType => m.packet_type == PacketType::default(),
        KeyAttr::Ethernet => m.eth == EthKey::default(),
        KeyAttr::Vlan => m.vlan_tci == 0,
        KeyAttr::Ethertype => m.eth_type == 0,
        KeyAttr::Mpls => m.mpls.entries().iter().all(|&l| l == 0),
        KeyAttr::Ipv4 => m.ipv4 == Ipv4Key::default(),
        KeyAttr::Ipv6 => ipv6_mask_is(&m.ipv6, false),
        KeyAttr::Tcp => m.tcp == PortsKey::default(),
        KeyAttr::Udp => m.udp == PortsKey::default(),
        KeyAttr::Sctp => m.sctp == PortsKey::default(),
        KeyAttr::TcpFlags => m.tcp_flags & 0x0fff == 0,
        KeyAttr::Icmp => m.icmp == IcmpKey::default(),
        KeyAttr::Icmpv6 => m.icmpv6 == IcmpKey::default(),
        KeyAttr::Arp => m.arp == ArpKey::default(),
        KeyAttr::Nd => m.nd == NdKey::default(),
        KeyAttr::NdExtensions => m.nd_ext == NdExtKey::default(),
        KeyAttr::Nsh => m.nsh == NshKey::default(),
        KeyAttr::Tunnel | KeyAttr::Encap => false,
    }
}

pub(crate) static ZERO_KEY: FlowKey = FlowKey {
    present: AttrSet(0),
    skb_priority: 0,
    skb_mark: 0,
    recirc_id: 0,
    dp_hash: 0,
    ct_state: 0,
    ct_zone: 0,
    ct_mark: 0,
    ct_label: 0,
    ct_tuple4: CtTuple4 {
        src: 0,
        dst: 0,
        src_port: 0,
        dst_port: 0,
        proto: 0,
    },
    ct_tuple6: CtTuple6 {
        src: [0; 16],
        dst: [0; 16],
        src_port: 0,
        dst_port: 0,
        proto: 0,
    },
    tunnel: Tunnel {
        present: 0,
        tun_id: 0,
        ipv4_src: 0,
        ipv4_dst: 0,
        ipv6_src: [0; 16],
        ipv6_dst: [0; 16],
        tos: 0,
        ttl: 0,
        tp_src: 0,
        tp_dst: 0,
        flags: 0,
        vxlan_gbp: 0,
        geneve: None,
        erspan: ErspanOpts {
            ver: 0,
            idx: 0,
            dir: 0,
            hwid: 0,
        },
        gtpu: GtpuOpts {
            flags: 0,
            msgtype: 0,
        },
    },
    in_port: OdpPort::Number(0),
    packet_type: PacketType { ns: 0, id: 0 },
    eth: EthKey {
        src: [0; 6],
        dst: [0; 6],
    },
    vlan_tci: 0,
    eth_type: 0,
    mpls: MplsKey { lse: [0; 3], n: 0 },
    ipv4: Ipv4Key {
        src: 0,
        dst: 0,
        proto: 0,
        tos: 0,
        ttl: 0,
        frag: 0,
    },
    ipv6: Ipv6Key {
        src: [0; 16],
        dst: [0; 16],
        label: 0,
        proto: 0,
        tclass: 0,
        hlimit: 0,
        frag: 0,
    },
    tcp: PortsKey { src: 0, dst: 0 },
    tcp_flags: 0,
    udp: PortsKey { src: 0, dst: 0 },
    sctp: PortsKey { src: 0, dst: 0 },
    icmp: IcmpKey { type_: 0, code: 0 },
    icmpv6: IcmpKey { type_: 0, code: 0 },
    arp: ArpKey {
        sip: 0,
        tip: 0,
        op: 0,
        sha: [0; 6],
        tha: [0; 6],
    },
    nd: NdKey {
        target: [0; 16],
        sll: [0; 6],
        tll: [0; 6],
    },
    nd_ext: NdExtKey {
        reserved: 0,
        options_type: 0,
    },
    nsh: NshKey {
        flags: 0,
        ttl: 0,
        mdtype: 0,
        np: 0,
        spi: 0,
        si: 0,
        context: [0; 4],
    },
    encap: None,
};
