//! Probing a real port into a [`DeviceProfile`]: which items and actions
//! its PMD accepts, learnt by validating one minimal rule per kind with
//! `rte_flow_validate`.

use smallvec::smallvec;

use super::Port;
use crate::profile::{DeviceProfile, KindSet};
use crate::rte::{lower, RteRule};
use crate::rule::*;

/// One minimal rule that needs only `kind` beyond an Ethernet match.
fn item_probe(kind: ItemKind, dir: Direction) -> HwRule {
    let any = |p| -> Masked<PortsItem> { Masked::new(p, p) };
    let eth = Item::Eth(Masked::default());
    let ipv4 = Item::Ipv4 {
        m: Masked::default(),
        last: None,
    };
    let ipv6 = Item::Ipv6(Masked::default());
    let udp = Item::Udp(any(PortsItem::default()));
    let item = match kind {
        ItemKind::Eth => eth,
        ItemKind::Vlan => Item::Vlan(Masked::new(
            VlanItem {
                tci: 100,
                ..Default::default()
            },
            VlanItem {
                tci: 0xfff,
                ..Default::default()
            },
        )),
        ItemKind::Ipv4 => Item::Ipv4 {
            m: Masked::new(
                Ipv4Item {
                    dst: [10, 0, 0, 1],
                    ..Default::default()
                },
                Ipv4Item {
                    dst: [255; 4],
                    ..Default::default()
                },
            ),
            last: None,
        },
        ItemKind::Ipv6 => Item::Ipv6(Masked::new(
            Ipv6Item {
                proto: 17,
                ..Default::default()
            },
            Ipv6Item {
                proto: 0xff,
                ..Default::default()
            },
        )),
        ItemKind::Ipv6FragExt => Item::Ipv6FragExt {
            m: Masked::default(),
            last: None,
        },
        ItemKind::Tcp => Item::Tcp(Masked::new(
            TcpItem {
                dst: 80,
                ..Default::default()
            },
            TcpItem {
                dst: 0xffff,
                ..Default::default()
            },
        )),
        ItemKind::Udp => Item::Udp(Masked::new(
            PortsItem { src: 0, dst: 53 },
            PortsItem {
                src: 0,
                dst: 0xffff,
            },
        )),
        ItemKind::Sctp => Item::Sctp(Masked::new(
            PortsItem { src: 0, dst: 9 },
            PortsItem {
                src: 0,
                dst: 0xffff,
            },
        )),
        ItemKind::Icmp => Item::Icmp(Masked::new(
            IcmpItem {
                icmp_type: 8,
                code: 0,
                ident: 0,
            },
            IcmpItem {
                icmp_type: 0xff,
                code: 0,
                ident: 0,
            },
        )),
        ItemKind::Icmp6 => Item::Icmp6(Masked::new(
            IcmpItem {
                icmp_type: 128,
                code: 0,
                ident: 0,
            },
            IcmpItem {
                icmp_type: 0xff,
                code: 0,
                ident: 0,
            },
        )),
        ItemKind::ArpEthIpv4 => Item::ArpEthIpv4(Masked::new(
            ArpItem {
                op: 1,
                ..Default::default()
            },
            ArpItem {
                op: 0xffff,
                ..Default::default()
            },
        )),
        ItemKind::Icmp6NdNs => Item::Icmp6NdNs(Masked::default()),
        ItemKind::Icmp6NdNa => Item::Icmp6NdNa(Masked::default()),
        ItemKind::Icmp6NdOptSlaEth => Item::Icmp6NdOptSlaEth(Masked::default()),
        ItemKind::Icmp6NdOptTlaEth => Item::Icmp6NdOptTlaEth(Masked::default()),
        ItemKind::Tag => Item::Tag {
            index: 0,
            m: Masked::new(1, u32::MAX),
        },
        ItemKind::Meta => Item::Meta(Masked::new(1, u32::MAX)),
        ItemKind::Mark => Item::Mark(Masked::new(1, u32::MAX)),
        ItemKind::RepresentedPort => Item::RepresentedPort { port_id: 0 },
        ItemKind::PortRepresentor => Item::PortRepresentor { port_id: 0 },
        ItemKind::Vxlan => Item::Vxlan(Masked::new(
            TunnelItem {
                vni: 1,
                protocol: 0,
            },
            TunnelItem {
                vni: 0xff_ffff,
                protocol: 0,
            },
        )),
        ItemKind::Geneve => Item::Geneve(Masked::new(
            TunnelItem {
                vni: 1,
                protocol: 0,
            },
            TunnelItem {
                vni: 0xff_ffff,
                protocol: 0,
            },
        )),
    };
    // The headers the item sits on, so the pattern is a well-formed stack.
    let mut pattern: smallvec::SmallVec<[Item; 8]> = match kind {
        ItemKind::Eth | ItemKind::Tag | ItemKind::Meta | ItemKind::Mark => smallvec![],
        ItemKind::RepresentedPort | ItemKind::PortRepresentor => smallvec![],
        ItemKind::Tcp | ItemKind::Udp | ItemKind::Sctp | ItemKind::Icmp => smallvec![eth, ipv4],
        ItemKind::Ipv6FragExt | ItemKind::Icmp6 => smallvec![eth, ipv6],
        ItemKind::Icmp6NdNs | ItemKind::Icmp6NdNa => {
            smallvec![eth, ipv6, Item::Icmp6(Masked::default())]
        }
        ItemKind::Icmp6NdOptSlaEth => smallvec![
            eth,
            ipv6,
            Item::Icmp6(Masked::default()),
            Item::Icmp6NdNs(Masked::default())
        ],
        ItemKind::Icmp6NdOptTlaEth => smallvec![
            eth,
            ipv6,
            Item::Icmp6(Masked::default()),
            Item::Icmp6NdNa(Masked::default())
        ],
        ItemKind::Vxlan | ItemKind::Geneve => smallvec![eth, ipv4, udp],
        _ => smallvec![eth],
    };
    pattern.push(item);
    HwRule {
        attr: Attr {
            group: 0,
            priority: 0,
            dir,
        },
        pattern,
        actions: smallvec![Action::Drop],
    }
}

/// One minimal rule that needs only `kind` beyond an Ethernet match (and a
/// fate action where `kind` is not one).
fn action_probe(kind: ActionKind, dir: Direction) -> HwRule {
    let action = match kind {
        ActionKind::Count => Action::Count,
        ActionKind::Drop => Action::Drop,
        ActionKind::Jump => Action::Jump { group: 1 },
        ActionKind::Mark => Action::Mark { id: 1 },
        ActionKind::SetTag => Action::SetTag {
            index: 0,
            data: 1,
            mask: u32::MAX,
        },
        ActionKind::SetMeta => Action::SetMeta {
            data: 1,
            mask: u32::MAX,
        },
        ActionKind::Queue => Action::Queue { index: 0 },
        ActionKind::RepresentedPort => Action::RepresentedPort { port_id: 0 },
        ActionKind::PortRepresentor => Action::PortRepresentor { port_id: 0 },
        ActionKind::SetMacSrc => Action::SetMacSrc([2, 0, 0, 0, 0, 1]),
        ActionKind::SetMacDst => Action::SetMacDst([2, 0, 0, 0, 0, 1]),
        ActionKind::SetIpv4Src => Action::SetIpv4Src([10, 0, 0, 1]),
        ActionKind::SetIpv4Dst => Action::SetIpv4Dst([10, 0, 0, 1]),
        ActionKind::SetIpv6Src => Action::SetIpv6Src([0xfd; 16]),
        ActionKind::SetIpv6Dst => Action::SetIpv6Dst([0xfd; 16]),
        ActionKind::SetTpSrc => Action::SetTpSrc(1),
        ActionKind::SetTpDst => Action::SetTpDst(1),
        ActionKind::SetTtl => Action::SetTtl(63),
        ActionKind::DecTtl => Action::DecTtl,
        ActionKind::SetIpv4Dscp => Action::SetIpv4Dscp(10),
        ActionKind::SetIpv6Dscp => Action::SetIpv6Dscp(10),
        ActionKind::ModifyField => Action::ModifyField {
            dst: Field::Tag(0),
            offset: 0,
            width: 8,
            value: [0; 16],
        },
        ActionKind::OfPushVlan => Action::OfPushVlan { ethertype: 0x8100 },
        ActionKind::OfSetVlanVid => Action::OfSetVlanVid(100),
        ActionKind::OfSetVlanPcp => Action::OfSetVlanPcp(0),
        ActionKind::OfPopVlan => Action::OfPopVlan,
        ActionKind::RawEncap => Action::RawEncap(std::sync::Arc::from(&[0u8; 50][..])),
        ActionKind::RawDecap => Action::RawDecap { size: 50 },
        ActionKind::VxlanDecap => Action::VxlanDecap,
        ActionKind::Sample => Action::Sample {
            ratio: 1,
            actions: std::sync::Arc::from(vec![Action::Count]),
        },
    };
    let fate = matches!(
        kind,
        ActionKind::Drop
            | ActionKind::Jump
            | ActionKind::Queue
            | ActionKind::RepresentedPort
            | ActionKind::PortRepresentor
    );
    let mut actions: smallvec::SmallVec<[Action; 8]> = smallvec![action];
    if !fate {
        actions.push(if dir == Direction::Transfer {
            Action::Jump { group: 1 }
        } else {
            Action::Queue { index: 0 }
        });
    }
    HwRule {
        attr: Attr {
            group: 0,
            priority: 0,
            dir,
        },
        pattern: smallvec![Item::Eth(Masked::default())],
        actions,
    }
}

/// Learns what `port`'s PMD accepts by validating one minimal rule per item
/// and action kind with `rte_flow_validate`, in direction `dir`. Sizes,
/// registers and the rest are taken from `base` (validation cannot count
/// tables); `async_api` is whether `rte_flow_info_get` answers.
pub fn probe(port: &Port, dir: Direction, base: &DeviceProfile) -> DeviceProfile {
    let driver = port
        .info()
        .map(|i| i.driver)
        .unwrap_or_else(|_| format!("port{}", port.id()));
    if let Err(why) = port.flow_support() {
        // No flow ops at all: nothing to validate, one reason for everything.
        return DeviceProfile {
            name: format!("probed:{driver}"),
            items: KindSet::EMPTY,
            actions: KindSet::EMPTY,
            direction: dir,
            async_api: false,
            mirror: false,
            no_flow_support: Some(why),
            ..base.clone()
        };
    }
    let mut rte = RteRule::new();
    let mut accepts = |rule: &HwRule| lower(rule, &mut rte).is_ok() && port.validate(&rte).is_ok();
    let mut items = KindSet::EMPTY;
    for &k in ItemKind::ALL {
        if accepts(&item_probe(k, dir)) {
            items.insert(k.bit());
        }
    }
    let mut actions = KindSet::EMPTY;
    for &k in ActionKind::ALL {
        if accepts(&action_probe(k, dir)) {
            actions.insert(k.bit());
        }
    }
    DeviceProfile {
        name: format!("probed:{driver}"),
        items,
        actions,
        direction: dir,
        async_api: port.flow_info().is_ok(),
        mirror: actions.contains(ActionKind::Sample.bit()),
        no_flow_support: None,
        ..base.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_rules_lower() {
        let mut rte = RteRule::new();
        for dir in [Direction::Ingress, Direction::Transfer] {
            for &k in ItemKind::ALL {
                let rule = item_probe(k, dir);
                assert_eq!(rule.pattern.last().map(Item::kind), Some(k));
                lower(&rule, &mut rte).unwrap();
            }
            for &k in ActionKind::ALL {
                let rule = action_probe(k, dir);
                assert_eq!(rule.actions[0].kind(), k);
                lower(&rule, &mut rte).unwrap();
            }
        }
    }
}
