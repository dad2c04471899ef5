//! Hardware rules for tests: every item and action the rule model has,
//! with realistic values, spread over a few rules.

use std::sync::Arc;

use smallvec::smallvec;
use xsc_dp::rule::Direction;
use xsc_dp::rule::*;

fn full<T: Copy>(spec: T, mask: T) -> Masked<T> {
    Masked::new(spec, mask)
}

/// Every item and action the rule model has, spread over a few rules.
pub fn kitchen_sink() -> Vec<HwRule> {
    let ipv4 = Ipv4Item {
        src: [10, 16, 0, 14],
        dst: [10, 16, 0, 18],
        tos: 0x10,
        ttl: 64,
        proto: 6,
        fragment_offset: 0,
    };
    let ipv4_mask = Ipv4Item {
        src: [255; 4],
        dst: [255, 255, 0, 0],
        tos: 0,
        ttl: 0,
        proto: 0xff,
        fragment_offset: ipv4_frag::MF_OR_OFFSET,
    };
    let ipv6 = Ipv6Item {
        src: [0xfe; 16],
        dst: [0x20; 16],
        tc: 0xb8,
        flow_label: 0x12345,
        proto: 17,
        hop_limit: 9,
        has_frag_ext: true,
    };
    let encap: EncapHeader = Arc::from(&[0xabu8; 50][..]);
    let attr = |group| Attr {
        group,
        priority: 3,
        dir: Direction::Transfer,
    };
    vec![
        HwRule {
            attr: attr(1),
            pattern: smallvec![
                Item::Tag {
                    index: 0,
                    m: full(0x21, 0x3f)
                },
                Item::RepresentedPort { port_id: 15 },
                Item::Eth(full(
                    EthItem {
                        dst: [0, 0, 0, 0xce, 0xcf, 0xb9],
                        src: [0, 0, 0, 0x9d, 0xfb, 0x1a],
                        ether_type: 0x0800,
                        has_vlan: false
                    },
                    EthItem {
                        dst: [0xff; 6],
                        src: [1, 0, 0, 0, 0, 0],
                        ether_type: 0xffff,
                        has_vlan: true
                    },
                )),
                Item::Ipv4 {
                    m: full(ipv4, ipv4_mask),
                    last: None
                },
            ],
            actions: smallvec![
                Action::Count,
                Action::SetTag {
                    index: 1,
                    data: 4,
                    mask: 0xffff
                },
                Action::Jump { group: 7 }
            ],
        },
        HwRule {
            attr: attr(6),
            pattern: smallvec![
                Item::Eth(full(EthItem::default(), EthItem::default())),
                Item::Ipv4 {
                    m: full(ipv4, ipv4_mask),
                    last: None
                },
                Item::Tcp(full(
                    TcpItem {
                        src: 3457,
                        dst: 80,
                        flags: 0x12
                    },
                    TcpItem {
                        src: 0xffff,
                        dst: 0xffff,
                        flags: 0xff
                    }
                )),
            ],
            actions: smallvec![
                Action::Count,
                Action::SetIpv4Dst([10, 16, 0, 18]),
                Action::SetTpDst(8080),
                Action::Jump { group: 7 }
            ],
        },
        HwRule {
            attr: attr(2),
            pattern: smallvec![
                Item::Eth(full(
                    EthItem {
                        ether_type: 0x8100,
                        ..Default::default()
                    },
                    EthItem {
                        ether_type: 0xffff,
                        ..Default::default()
                    }
                )),
                Item::Vlan(full(
                    VlanItem {
                        tci: 100,
                        inner_type: 0x86dd,
                        has_more_vlan: false
                    },
                    VlanItem {
                        tci: 0x0fff,
                        inner_type: 0xffff,
                        has_more_vlan: true
                    }
                )),
                Item::Ipv6(full(
                    ipv6,
                    Ipv6Item {
                        src: [0xff; 16],
                        dst: [0xff; 16],
                        tc: 0xff,
                        flow_label: 0xfffff,
                        proto: 0xff,
                        hop_limit: 0xff,
                        has_frag_ext: true
                    }
                )),
                Item::Ipv6FragExt {
                    m: full(
                        Ipv6FragItem {
                            next_header: 0,
                            frag_data: 8
                        },
                        Ipv6FragItem {
                            next_header: 0,
                            frag_data: 0xfff8
                        }
                    ),
                    last: Some(Ipv6FragItem {
                        next_header: 0,
                        frag_data: 0xfff8
                    })
                },
                Item::Udp(full(
                    PortsItem { src: 5353, dst: 53 },
                    PortsItem {
                        src: 0,
                        dst: 0xffff
                    }
                )),
            ],
            actions: smallvec![
                Action::Count,
                Action::OfPopVlan,
                Action::PortRepresentor { port_id: 3 }
            ],
        },
        HwRule {
            attr: attr(5),
            pattern: smallvec![Item::Eth(full(EthItem::default(), EthItem::default()))],
            actions: smallvec![
                Action::SetMacSrc([0, 0, 0, 0x10, 0, 1]),
                Action::SetMacDst([0, 0, 0, 0xce, 0xcf, 0xb9]),
                Action::SetIpv6Src([1; 16]),
                Action::SetIpv6Dst([2; 16]),
                Action::SetTtl(63),
                Action::DecTtl,
                Action::Jump { group: 1 },
            ],
        },
        HwRule {
            attr: attr(3),
            pattern: smallvec![
                Item::Eth(full(EthItem::default(), EthItem::default())),
                Item::Ipv4 {
                    m: full(
                        Ipv4Item {
                            fragment_offset: 1,
                            ..Default::default()
                        },
                        Ipv4Item {
                            fragment_offset: ipv4_frag::OFFSET,
                            ..Default::default()
                        }
                    ),
                    last: Some(Ipv4Item {
                        fragment_offset: ipv4_frag::OFFSET,
                        ..Default::default()
                    }),
                },
                Item::Udp(full(
                    PortsItem { src: 0, dst: 6081 },
                    PortsItem {
                        src: 0,
                        dst: 0xffff
                    }
                )),
                Item::Geneve(full(
                    TunnelItem {
                        vni: 0xabcdef,
                        protocol: 0x6558
                    },
                    TunnelItem {
                        vni: 0xffffff,
                        protocol: 0xffff
                    }
                )),
                Item::Meta(full(7, 0xff)),
                Item::Mark(full(9, u32::MAX)),
            ],
            actions: smallvec![
                Action::Count,
                Action::RawDecap { size: 50 },
                Action::ModifyField {
                    dst: Field::Tag(2),
                    offset: 0,
                    width: 24,
                    value: {
                        let mut v = [0u8; 16];
                        v[13..].copy_from_slice(&[0xab, 0xcd, 0xef]);
                        v
                    }
                },
                Action::CopyField {
                    dst: Field::MacDst,
                    src: Field::MacSrc,
                    width: 48
                },
                Action::Mark { id: 0x2d277 },
                Action::Jump { group: 9 },
            ],
        },
        HwRule {
            attr: Attr {
                group: 0,
                priority: 0,
                dir: Direction::Ingress,
            },
            pattern: smallvec![
                Item::Eth(full(
                    EthItem {
                        ether_type: 0x0806,
                        ..Default::default()
                    },
                    EthItem {
                        ether_type: 0xffff,
                        ..Default::default()
                    }
                )),
                Item::ArpEthIpv4(full(
                    ArpItem {
                        op: 1,
                        sha: [0, 0, 0, 0x9d, 0xfb, 0x1a],
                        spa: [10, 16, 0, 14],
                        tha: [0; 6],
                        tpa: [10, 16, 0, 1]
                    },
                    ArpItem {
                        op: 0xffff,
                        sha: [0xff; 6],
                        spa: [0xff; 4],
                        tha: [0; 6],
                        tpa: [0xff; 4]
                    },
                )),
            ],
            actions: smallvec![
                Action::Queue { index: 0 },
                Action::SetIpv4Src([1, 2, 3, 4]),
                Action::SetTpSrc(1),
                Action::SetIpv4Dscp(46),
                Action::SetIpv6Dscp(10),
                Action::OfPushVlan { ethertype: 0x8100 },
                Action::OfSetVlanVid(100),
                Action::OfSetVlanPcp(5),
                Action::VxlanDecap,
                Action::Drop
            ],
        },
        HwRule {
            attr: attr(4),
            pattern: smallvec![
                Item::Icmp(full(
                    IcmpItem {
                        icmp_type: 8,
                        code: 0,
                        ident: 0x1234
                    },
                    IcmpItem {
                        icmp_type: 0xff,
                        code: 0xff,
                        ident: 0xffff
                    }
                )),
                Item::Icmp6(full(
                    IcmpItem {
                        icmp_type: 135,
                        code: 0,
                        ident: 0
                    },
                    IcmpItem {
                        icmp_type: 0xff,
                        code: 0,
                        ident: 0
                    }
                )),
                Item::Icmp6NdNs(full([0x11; 16], [0xff; 16])),
                Item::Icmp6NdNa(full([0x22; 16], [0xff; 16])),
                Item::Icmp6NdOptSlaEth(full([1, 2, 3, 4, 5, 6], [0xff; 6])),
                Item::Icmp6NdOptTlaEth(full([6, 5, 4, 3, 2, 1], [0xff; 6])),
                Item::Sctp(full(
                    PortsItem { src: 1, dst: 2 },
                    PortsItem {
                        src: 0xffff,
                        dst: 0xffff
                    }
                )),
                Item::Vxlan(full(
                    TunnelItem {
                        vni: 42,
                        protocol: 0
                    },
                    TunnelItem {
                        vni: 0xffffff,
                        protocol: 0
                    }
                )),
                Item::PortRepresentor { port_id: 2 },
            ],
            actions: smallvec![Action::Count, Action::Drop],
        },
        HwRule {
            attr: attr(7),
            pattern: smallvec![Item::Eth(full(EthItem::default(), EthItem::default()))],
            actions: smallvec![
                Action::SetMeta { data: 1, mask: 1 },
                Action::Sample {
                    ratio: 1,
                    actions: Arc::from(vec![Action::RepresentedPort { port_id: 4 }, Action::Count])
                },
                Action::RawEncap(encap),
                Action::RepresentedPort { port_id: 8 },
            ],
        },
    ]
}
