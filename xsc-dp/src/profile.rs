//! What a device accepts: [`DeviceProfile`].
//!
//! The translation asks the profile, never the device: which items and
//! actions exist, how many groups and rules fit, which metadata registers
//! (rte_flow `TAG`s) hold OVS's packet metadata, whether conntrack tables
//! and the template/async API exist. Three sources:
//!
//! - [`DeviceProfile::metascale`]: our model of the Yunsilicon metaScale NIC.
//!   No public rte_flow description of it exists (upstream DPDK's xsc PMD has
//!   no flow ops), so every value is an assumption, written next to it, all
//!   in that one function.
//! - [`DeviceProfile::generic`]: a capable rte_flow switchdev NIC.
//! - `dpdk::probe`: what a real DPDK port's PMD accepts, learnt by
//!   validating one minimal rule per item and action.
//!
//! This module is data about a device: it imports the rule vocabulary
//! (`rule`) and nothing below it.

use std::fmt;

use crate::rule::{ActionKind, Direction, ItemKind};

/// A set of [`ItemKind`]s or [`ActionKind`]s, one bit each.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct KindSet(u64);

impl KindSet {
    /// The empty set.
    pub const EMPTY: Self = Self(0);

    /// Adds a kind.
    pub fn insert(&mut self, bit: u32) {
        self.0 |= 1 << bit;
    }

    /// Whether the kind is in the set.
    pub fn contains(self, bit: u32) -> bool {
        self.0 & (1 << bit) != 0
    }

    fn of(bits: &[u32]) -> Self {
        let mut s = Self::EMPTY;
        for &b in bits {
            s.insert(b);
        }
        s
    }
}

impl fmt::Debug for KindSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

/// Where one piece of OVS metadata lives: bits `[shift, shift + width)` of
/// TAG register `index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RegField {
    /// The TAG index.
    pub index: u8,
    /// Lowest bit used.
    pub shift: u8,
    /// Bits used.
    pub width: u8,
}

impl RegField {
    /// The field's bits within its register.
    pub fn mask(self) -> u32 {
        let ones = if self.width >= 32 {
            u32::MAX
        } else {
            (1u32 << self.width) - 1
        };
        ones << self.shift
    }

    /// `value` placed at the field's bits (higher bits dropped: callers check
    /// ranges first).
    pub fn place(self, value: u32) -> u32 {
        (value << self.shift) & self.mask()
    }
}

/// The register layout the translation uses for OVS's packet metadata.
/// OVS keeps it across recirculation; so do TAGs across `JUMP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RegisterMap {
    /// `ct_state` in OVS's bit order (new 0x01, est 0x02, rel 0x04, rpl 0x08,
    /// inv 0x10, trk 0x20, snat 0x40, dnat 0x80).
    pub ct_state: RegField,
    /// `ct_zone` (16 bits).
    pub ct_zone: RegField,
    /// `ct_mark` (32 bits).
    pub ct_mark: RegField,
    /// The interned id of `ct_label` (128 bits in OVS, a small id here).
    pub ct_label: RegField,
    /// The recirculation target after conntrack: which group the post-CT
    /// dispatch jumps to.
    pub recirc_target: RegField,
    /// Tunnel metadata after decap: the VNI.
    pub tun_id: RegField,
    /// A virtual `in_port` (a tunnel port after decap).
    pub virtual_in_port: RegField,
}

/// What a device accepts, and how the translation lays metadata out on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceProfile {
    /// Name for reports (`metascale`, `generic`, `probed:net_tap`).
    pub name: String,
    /// Items the device matches on.
    pub items: KindSet,
    /// Actions the device executes.
    pub actions: KindSet,
    /// Rules are created in this direction (transfer on a switchdev NIC).
    pub direction: Direction,
    /// Groups (tables), group 0 included.
    pub groups: u32,
    /// Rules one group holds.
    pub rules_per_group: u32,
    /// Rules the whole device holds.
    pub rules: u32,
    /// Priority levels within a group (0 is highest).
    pub priorities: u32,
    /// TAG registers and their width in bits.
    pub tag_registers: u8,
    /// Bits per TAG register.
    pub tag_width: u8,
    /// Where OVS metadata lives.
    pub registers: RegisterMap,
    /// Whether conntrack offload tables exist (CT and CT-NAT groups fed with
    /// established connections).
    pub ct_tables: bool,
    /// Whether the template/async flow API is available.
    pub async_api: bool,
    /// Whether `SAMPLE` with ratio 1 (a mirror) can copy a packet to
    /// another port, which several outputs need.
    pub mirror: bool,
    /// Whether rte_flow meters exist.
    pub meters: bool,
    /// Longest `RAW_ENCAP` header.
    pub max_encap_size: u16,
    /// Whether address masks may be arbitrary bit masks (else prefixes only).
    pub arbitrary_masks: bool,
    /// Why the device takes no rule at all, when its driver says so
    /// (`no rte_flow support in driver net_xsc`, from `dpdk::probe`); `None`
    /// for the models.
    pub no_flow_support: Option<String>,
}

impl DeviceProfile {
    /// Whether the device matches on `kind`.
    pub fn has_item(&self, kind: ItemKind) -> bool {
        self.items.contains(kind.bit())
    }

    /// Whether the device executes `kind`.
    pub fn has_action(&self, kind: ActionKind) -> bool {
        self.actions.contains(kind.bit())
    }

    /// The register layout both built-in profiles use. It is chosen so
    /// that what one action writes sits in one register: `ct(zone)` +
    /// `recirc` writes register 0 (zone and recirc target), a CT rule writes
    /// register 1 (state and label id) and register 2 (mark).
    fn default_registers() -> RegisterMap {
        RegisterMap {
            ct_zone: RegField {
                index: 0,
                shift: 0,
                width: 16,
            },
            recirc_target: RegField {
                index: 0,
                shift: 16,
                width: 16,
            },
            ct_state: RegField {
                index: 1,
                shift: 0,
                width: 8,
            },
            ct_label: RegField {
                index: 1,
                shift: 8,
                width: 16,
            },
            virtual_in_port: RegField {
                index: 1,
                shift: 24,
                width: 8,
            },
            ct_mark: RegField {
                index: 2,
                shift: 0,
                width: 32,
            },
            tun_id: RegField {
                index: 3,
                shift: 0,
                width: 24,
            },
        }
    }

    /// Our model of the Yunsilicon metaScale NIC in switchdev mode. Every
    /// value is an assumption; the reason is beside it. Measure the real
    /// NIC with `dpdk::probe` and prefer that where it disagrees.
    ///
    /// What the real driver offers today: the upstream metaScale PMD
    /// (`drivers/net/xsc`, in DPDK from 25.03, packaged by Debian as
    /// `librte-net-xsc26` with 25.11) has no `flow_ops_get` up to DPDK
    /// 26.07, so every rte_flow call on an xsc port fails with ENOSYS
    /// (`xsc-offload ports` says "no rte_flow support in driver net_xsc",
    /// `dpdk::probe` gives an empty profile with that reason), and its Rx
    /// completions carry no flow mark (no `RTE_MBUF_F_RX_FDIR_ID`), so a
    /// MARK set by a rule would not reach software. This profile assumes
    /// instead the eswitch that the NIC's switchdev mode implies, exposed
    /// through rte_flow as mlx5's is: transfer rules in groups, TAG
    /// registers that survive JUMP, COUNT on every rule, RAW_ENCAP/DECAP,
    /// and a MARK delivered on Rx for the restore of a miss. `Eswitch` runs
    /// these rules; no metaScale hardware has run them.
    pub fn metascale() -> Self {
        Self {
            name: "metascale".into(),
            // Assumption: the usual switchdev match set. The deployment
            // guide's `dump-flows type=offloaded` shows flows matching
            // in_port, eth (with a multicast-bit mask), ipv4 dst prefixes,
            // ct_state/ct_mark and recirc_id offloaded; L4 and ARP/ND are
            // what every eswitch of its class matches too.
            items: KindSet::of(&[
                ItemKind::Eth.bit(),
                ItemKind::Vlan.bit(),
                ItemKind::Ipv4.bit(),
                ItemKind::Ipv6.bit(),
                ItemKind::Tcp.bit(),
                ItemKind::Udp.bit(),
                ItemKind::Icmp.bit(),
                ItemKind::Icmp6.bit(),
                ItemKind::Tag.bit(),
                ItemKind::Meta.bit(),
                ItemKind::RepresentedPort.bit(),
                ItemKind::Vxlan.bit(),
                ItemKind::Geneve.bit(),
            ]),
            // Assumption: forwarding, drop, groups, registers, header
            // rewrites and VLAN/tunnel push-pop, which the offloaded flows of
            // a Kube-OVN node need; no SAMPLE (mirroring) and no meters,
            // which nothing in the guide shows.
            actions: KindSet::of(&[
                ActionKind::Count.bit(),
                ActionKind::Drop.bit(),
                ActionKind::Jump.bit(),
                ActionKind::Mark.bit(),
                ActionKind::SetTag.bit(),
                ActionKind::SetMeta.bit(),
                ActionKind::RepresentedPort.bit(),
                ActionKind::PortRepresentor.bit(),
                ActionKind::SetMacSrc.bit(),
                ActionKind::SetMacDst.bit(),
                ActionKind::SetIpv4Src.bit(),
                ActionKind::SetIpv4Dst.bit(),
                ActionKind::SetIpv6Src.bit(),
                ActionKind::SetIpv6Dst.bit(),
                ActionKind::SetTpSrc.bit(),
                ActionKind::SetTpDst.bit(),
                ActionKind::SetTtl.bit(),
                ActionKind::DecTtl.bit(),
                ActionKind::ModifyField.bit(),
                ActionKind::OfPushVlan.bit(),
                ActionKind::OfSetVlanVid.bit(),
                ActionKind::OfSetVlanPcp.bit(),
                ActionKind::OfPopVlan.bit(),
                ActionKind::RawEncap.bit(),
                ActionKind::RawDecap.bit(),
            ]),
            // The guide runs OVS offload on PF representors: transfer rules.
            direction: Direction::Transfer,
            // Assumption: 4096 groups. A Kube-OVN node uses one recirc id
            // per ct() call site and datapath flow shape: hundreds, not
            // thousands (the guide's ids are around 0x2d277 because OVS
            // never reuses them, not because thousands are live).
            groups: 4096,
            // Assumption: 64k rules per group, 1M in all: an eswitch of
            // this class (25/100G SmartNIC) and OVS's default flow limit
            // (200k megaflows) with room for conntrack entries.
            rules_per_group: 1 << 16,
            rules: 1 << 20,
            // Assumption: 16 priority levels per group, as mlx5 exposes.
            priorities: 16,
            // Assumption: four 32-bit metadata registers usable by the
            // application (others are kept by the PMD for its own tables).
            tag_registers: 4,
            tag_width: 32,
            registers: Self::default_registers(),
            // The guide's offloaded flows include ct(zone=..,nat) and
            // recirc(): the NIC has conntrack tables.
            ct_tables: true,
            // Assumption: no template/async API (the upstream xsc PMD has no
            // rte_flow ops at all; the vendor stack is not public).
            async_api: false,
            mirror: false,
            meters: false,
            // Assumption: outer Ethernet + IPv6 + UDP + Geneve with options
            // fits in 128 bytes.
            max_encap_size: 128,
            // The guide shows `eth(src=../01:00:00:00:00:00)` offloaded: a
            // mask that is not a prefix.
            arbitrary_masks: true,
            no_flow_support: None,
        }
    }

    /// A capable rte_flow switchdev NIC: every item and action this crate
    /// emits, mirrors, meters, the async API, 8 registers, 64k groups.
    pub fn generic() -> Self {
        let mut items = KindSet::EMPTY;
        for k in ItemKind::ALL {
            items.insert(k.bit());
        }
        let mut actions = KindSet::EMPTY;
        for k in ActionKind::ALL {
            actions.insert(k.bit());
        }
        Self {
            name: "generic".into(),
            items,
            actions,
            direction: Direction::Transfer,
            groups: 1 << 16,
            rules_per_group: 1 << 20,
            rules: 1 << 22,
            priorities: 16,
            tag_registers: 8,
            tag_width: 32,
            registers: Self::default_registers(),
            ct_tables: true,
            async_api: true,
            mirror: true,
            meters: true,
            max_encap_size: 256,
            arbitrary_masks: true,
            no_flow_support: None,
        }
    }

    /// A profile by name: `metascale` or `generic`.
    pub fn by_name(name: &str) -> Option<Self> {
        match name {
            "metascale" => Some(Self::metascale()),
            "generic" => Some(Self::generic()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_distinct_bit_within_the_set() {
        assert!(ItemKind::ALL.len() <= 64 && ActionKind::ALL.len() <= 64);
        let g = DeviceProfile::generic();
        for &k in ItemKind::ALL {
            assert!(g.has_item(k), "{k}");
        }
        for &k in ActionKind::ALL {
            assert!(g.has_action(k), "{k}");
        }
        let m = DeviceProfile::metascale();
        assert!(m.has_item(ItemKind::Tag) && m.has_action(ActionKind::Jump));
        assert!(!m.has_action(ActionKind::Sample) && !m.mirror);
        assert!(!m.has_item(ItemKind::ArpEthIpv4));
    }

    #[test]
    fn register_fields_do_not_overlap() {
        let r = DeviceProfile::metascale().registers;
        let fields = [
            r.ct_state,
            r.ct_zone,
            r.ct_mark,
            r.ct_label,
            r.recirc_target,
            r.tun_id,
            r.virtual_in_port,
        ];
        for (i, a) in fields.iter().enumerate() {
            assert!(u32::from(a.shift) + u32::from(a.width) <= 32, "{a:?}");
            assert!(a.index < DeviceProfile::metascale().tag_registers, "{a:?}");
            for b in &fields[i + 1..] {
                assert!(
                    a.index != b.index || a.mask() & b.mask() == 0,
                    "{a:?} overlaps {b:?}"
                );
            }
        }
        assert_eq!(r.recirc_target.place(0x1234), 0x1234_0000);
        assert_eq!(r.ct_mark.mask(), u32::MAX);
    }
}
