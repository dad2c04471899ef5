//! The kinds of items and actions ([`ItemKind`], [`ActionKind`]): an
//! [`Item`] or [`Action`] without its values, named as testpmd spells them.
//! A device profile says which kinds a device accepts; the translation and
//! the eswitch ask by kind.

use std::fmt;

use super::{Action, Item};

macro_rules! kinds {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum $name { $($variant),* }

        impl $name {
            /// Every kind, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The rte_flow name, lower case as testpmd spells it.
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }

            /// The kind's bit in a `profile::KindSet`.
            pub(crate) fn bit(self) -> u32 {
                self as u32
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

kinds!(
    /// The kind of an [`Item`], without its values.
    ItemKind {
        Eth => "eth", Vlan => "vlan", Ipv4 => "ipv4", Ipv6 => "ipv6", Ipv6FragExt => "ipv6_frag_ext",
        Tcp => "tcp", Udp => "udp", Sctp => "sctp", Icmp => "icmp", Icmp6 => "icmp6",
        ArpEthIpv4 => "arp_eth_ipv4", Icmp6NdNs => "icmp6_nd_ns", Icmp6NdNa => "icmp6_nd_na",
        Icmp6NdOptSlaEth => "icmp6_nd_opt_sla_eth", Icmp6NdOptTlaEth => "icmp6_nd_opt_tla_eth",
        Tag => "tag", Meta => "meta", Mark => "mark", RepresentedPort => "represented_port",
        PortRepresentor => "port_representor", Vxlan => "vxlan", Geneve => "geneve",
    }
);

kinds!(
    /// The kind of an [`Action`], without its values.
    ActionKind {
        Count => "count", Drop => "drop", Jump => "jump", Mark => "mark", SetTag => "set_tag",
        SetMeta => "set_meta", Queue => "queue", RepresentedPort => "represented_port",
        PortRepresentor => "port_representor", SetMacSrc => "set_mac_src", SetMacDst => "set_mac_dst",
        SetIpv4Src => "set_ipv4_src", SetIpv4Dst => "set_ipv4_dst", SetIpv6Src => "set_ipv6_src",
        SetIpv6Dst => "set_ipv6_dst", SetTpSrc => "set_tp_src", SetTpDst => "set_tp_dst",
        SetTtl => "set_ttl", DecTtl => "dec_ttl", SetIpv4Dscp => "set_ipv4_dscp",
        SetIpv6Dscp => "set_ipv6_dscp", ModifyField => "modify_field", OfPushVlan => "of_push_vlan",
        OfSetVlanVid => "of_set_vlan_vid", OfSetVlanPcp => "of_set_vlan_pcp", OfPopVlan => "of_pop_vlan",
        RawEncap => "raw_encap", RawDecap => "raw_decap", VxlanDecap => "vxlan_decap", Sample => "sample",
    }
);

impl Item {
    /// The item's kind.
    pub fn kind(&self) -> ItemKind {
        match self {
            Item::Eth(_) => ItemKind::Eth,
            Item::Vlan(_) => ItemKind::Vlan,
            Item::Ipv4 { .. } => ItemKind::Ipv4,
            Item::Ipv6(_) => ItemKind::Ipv6,
            Item::Ipv6FragExt { .. } => ItemKind::Ipv6FragExt,
            Item::Tcp(_) => ItemKind::Tcp,
            Item::Udp(_) => ItemKind::Udp,
            Item::Sctp(_) => ItemKind::Sctp,
            Item::Icmp(_) => ItemKind::Icmp,
            Item::Icmp6(_) => ItemKind::Icmp6,
            Item::ArpEthIpv4(_) => ItemKind::ArpEthIpv4,
            Item::Icmp6NdNs(_) => ItemKind::Icmp6NdNs,
            Item::Icmp6NdNa(_) => ItemKind::Icmp6NdNa,
            Item::Icmp6NdOptSlaEth(_) => ItemKind::Icmp6NdOptSlaEth,
            Item::Icmp6NdOptTlaEth(_) => ItemKind::Icmp6NdOptTlaEth,
            Item::Tag { .. } => ItemKind::Tag,
            Item::Meta(_) => ItemKind::Meta,
            Item::Mark(_) => ItemKind::Mark,
            Item::RepresentedPort { .. } => ItemKind::RepresentedPort,
            Item::PortRepresentor { .. } => ItemKind::PortRepresentor,
            Item::Vxlan(_) => ItemKind::Vxlan,
            Item::Geneve(_) => ItemKind::Geneve,
        }
    }
}

impl Action {
    /// The action's kind (`ModifyField` and `CopyField` are both `modify_field`).
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::Count => ActionKind::Count,
            Action::Drop => ActionKind::Drop,
            Action::Jump { .. } => ActionKind::Jump,
            Action::Mark { .. } => ActionKind::Mark,
            Action::SetTag { .. } => ActionKind::SetTag,
            Action::SetMeta { .. } => ActionKind::SetMeta,
            Action::Queue { .. } => ActionKind::Queue,
            Action::RepresentedPort { .. } => ActionKind::RepresentedPort,
            Action::PortRepresentor { .. } => ActionKind::PortRepresentor,
            Action::SetMacSrc(_) => ActionKind::SetMacSrc,
            Action::SetMacDst(_) => ActionKind::SetMacDst,
            Action::SetIpv4Src(_) => ActionKind::SetIpv4Src,
            Action::SetIpv4Dst(_) => ActionKind::SetIpv4Dst,
            Action::SetIpv6Src(_) => ActionKind::SetIpv6Src,
            Action::SetIpv6Dst(_) => ActionKind::SetIpv6Dst,
            Action::SetTpSrc(_) => ActionKind::SetTpSrc,
            Action::SetTpDst(_) => ActionKind::SetTpDst,
            Action::SetTtl(_) => ActionKind::SetTtl,
            Action::DecTtl => ActionKind::DecTtl,
            Action::SetIpv4Dscp(_) => ActionKind::SetIpv4Dscp,
            Action::SetIpv6Dscp(_) => ActionKind::SetIpv6Dscp,
            Action::ModifyField { .. } | Action::CopyField { .. } => ActionKind::ModifyField,
            Action::OfPushVlan { .. } => ActionKind::OfPushVlan,
            Action::OfSetVlanVid(_) => ActionKind::OfSetVlanVid,
            Action::OfSetVlanPcp(_) => ActionKind::OfSetVlanPcp,
            Action::OfPopVlan => ActionKind::OfPopVlan,
            Action::RawEncap(_) => ActionKind::RawEncap,
            Action::RawDecap { .. } => ActionKind::RawDecap,
            Action::VxlanDecap => ActionKind::VxlanDecap,
            Action::Sample { .. } => ActionKind::Sample,
        }
    }
}
