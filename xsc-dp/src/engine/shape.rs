//! The shape of a rule: what rules sharing a template table have in common
//! (rte_flow's template API fixes the attributes, the item types with their
//! masks, and the action types of a table; only the values differ).

use std::hash::{BuildHasher, Hash, Hasher};

use crate::rule::{HwRule, Item};

/// A 64-bit digest of `rule`'s shape: attributes, each item's type and
/// mask, each action's type.
pub(crate) fn shape_key(rule: &HwRule) -> u64 {
    // foldhash (hashbrown's own hasher) with a fixed seed: fast, and the
    // same key for the same shape in every worker and run.
    let mut h = foldhash::fast::FixedState::with_seed(0x007e_91a7).build_hasher();
    rule.attr.hash(&mut h);
    for item in &rule.pattern {
        std::mem::discriminant(item).hash(&mut h);
        hash_mask(item, &mut h);
    }
    for action in &rule.actions {
        std::mem::discriminant(action).hash(&mut h);
    }
    h.finish()
}

/// Hashes what a pattern template fixes of `item`: its mask (and, for the
/// port items, the port: a template matches one port).
fn hash_mask(item: &Item, h: &mut impl Hasher) {
    match item {
        Item::Eth(m) => m.mask.hash(h),
        Item::Vlan(m) => m.mask.hash(h),
        Item::Ipv4 { m, last } => (m.mask, last.is_some()).hash(h),
        Item::Ipv6(m) => m.mask.hash(h),
        Item::Ipv6FragExt { m, last } => (m.mask, last.is_some()).hash(h),
        Item::Tcp(m) => m.mask.hash(h),
        Item::Udp(m) | Item::Sctp(m) => m.mask.hash(h),
        Item::Icmp(m) | Item::Icmp6(m) => m.mask.hash(h),
        Item::ArpEthIpv4(m) => m.mask.hash(h),
        Item::Icmp6NdNs(m) | Item::Icmp6NdNa(m) => m.mask.hash(h),
        Item::Icmp6NdOptSlaEth(m) | Item::Icmp6NdOptTlaEth(m) => m.mask.hash(h),
        Item::Tag { index, m } => (index, m.mask).hash(h),
        Item::Meta(m) | Item::Mark(m) => m.mask.hash(h),
        Item::RepresentedPort { port_id } | Item::PortRepresentor { port_id } => port_id.hash(h),
        Item::Vxlan(m) | Item::Geneve(m) => m.mask.hash(h),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::{Action, Masked};

    fn tag(value: u32, mask: u32) -> HwRule {
        HwRule {
            pattern: [Item::Tag {
                index: 0,
                m: Masked::new(value, mask),
            }]
            .into_iter()
            .collect(),
            actions: [Action::Count, Action::Jump { group: 3 }]
                .into_iter()
                .collect(),
            ..HwRule::default()
        }
    }

    #[test]
    fn values_do_not_change_the_shape_masks_do() {
        assert_eq!(shape_key(&tag(1, 0xff)), shape_key(&tag(2, 0xff)));
        assert_ne!(shape_key(&tag(1, 0xff)), shape_key(&tag(1, 0xffff)));
        let mut other = tag(1, 0xff);
        other.attr.group = 1;
        assert_ne!(shape_key(&tag(1, 0xff)), shape_key(&other));
        let mut drop = tag(1, 0xff);
        drop.actions[1] = Action::Drop;
        assert_ne!(shape_key(&tag(1, 0xff)), shape_key(&drop));
    }
}
