//! The values a [`Rejected`](super::Rejected) carries that are more than a
//! number: which unmatchable field ([`Unmatchable`]), which partially
//! masked `set` field ([`SetMask`]), which connection ([`ConnId`]), and what
//! needed a resource that ran out ([`Holder`]); each with the words the
//! rejection's sentence uses for it.
//!
//! Must not depend on: anything below `translate` in the flow.

use std::fmt;

#[cfg(doc)]
use super::Rejected;
use crate::odp::KeyAttr;

/// A key field with no hardware form ([`Rejected::Unmatchable`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unmatchable {
    /// `skb_priority`.
    SkbPriority,
    /// `skb_mark`.
    SkbMark,
    /// `dp_hash`.
    DpHash,
    /// `ct_tuple4`.
    CtTuple4,
    /// `ct_tuple6`.
    CtTuple6,
    /// `tunnel(src=)`.
    TunnelSrc,
    /// `tunnel(dst=)`.
    TunnelDst,
    /// `tunnel(tos=,ttl=)`.
    TunnelTosTtl,
    /// `tunnel(tp_src=,tp_dst=)`.
    TunnelPorts,
    /// `tunnel(flags())`.
    TunnelFlags,
    /// `tunnel(geneve())`.
    TunnelGeneve,
    /// `tunnel(vxlan(gbp()))`.
    TunnelVxlanGbp,
    /// `mpls`.
    Mpls,
    /// `nsh`.
    Nsh,
    /// `nd_ext`.
    NdExtensions,
    /// `nd(tll=)` in a neighbour solicitation.
    NdTll,
    /// `nd(sll=)` in a neighbour advertisement.
    NdSll,
}

impl Unmatchable {
    /// The stable machine name ([`Rejected::name`]).
    pub fn name(self) -> &'static str {
        match self {
            Self::SkbPriority => "match_skb_priority",
            Self::SkbMark => "match_skb_mark",
            Self::DpHash => "match_dp_hash",
            Self::CtTuple4 | Self::CtTuple6 => "match_ct_tuple",
            Self::TunnelSrc
            | Self::TunnelDst
            | Self::TunnelTosTtl
            | Self::TunnelPorts
            | Self::TunnelFlags => "match_tunnel_outer",
            Self::TunnelGeneve => "match_tunnel_geneve",
            Self::TunnelVxlanGbp => "match_tunnel_vxlan_gbp",
            Self::Mpls => "match_mpls",
            Self::Nsh => "match_nsh",
            Self::NdExtensions => "match_nd_ext",
            Self::NdTll => "match_nd_tll",
            Self::NdSll => "match_nd_sll",
        }
    }

    /// The field as OVS prints it.
    pub(super) fn what(self) -> &'static str {
        match self {
            Self::SkbPriority => "skb_priority",
            Self::SkbMark => "skb_mark",
            Self::DpHash => "dp_hash",
            Self::CtTuple4 => "ct_tuple4",
            Self::CtTuple6 => "ct_tuple6",
            Self::TunnelSrc => "tunnel(src=)",
            Self::TunnelDst => "tunnel(dst=)",
            Self::TunnelTosTtl => "tunnel(tos=,ttl=)",
            Self::TunnelPorts => "tunnel(tp_src=,tp_dst=)",
            Self::TunnelFlags => "tunnel(flags())",
            Self::TunnelGeneve => "tunnel(geneve())",
            Self::TunnelVxlanGbp => "tunnel(vxlan(gbp()))",
            Self::Mpls => KeyAttr::Mpls.name(),
            Self::Nsh => KeyAttr::Nsh.name(),
            Self::NdExtensions => KeyAttr::NdExtensions.name(),
            Self::NdTll => "nd(tll=)",
            Self::NdSll => "nd(sll=)",
        }
    }

    pub(super) fn reason(self) -> &'static str {
        match self {
            Self::SkbPriority => "the packet priority is kernel metadata the NIC does not see",
            Self::SkbMark => "the packet mark is software metadata the NIC does not carry",
            Self::DpHash => "the datapath hash is computed in software",
            Self::CtTuple4 | Self::CtTuple6 => {
                "the original-direction tuple is not kept in registers"
            }
            Self::TunnelSrc
            | Self::TunnelDst
            | Self::TunnelTosTtl
            | Self::TunnelPorts
            | Self::TunnelFlags => {
                "after decap only the VNI is kept (in a register); the outer headers are gone"
            }
            Self::TunnelGeneve => "Geneve options are not kept after decap",
            Self::TunnelVxlanGbp => "VXLAN group policy is not kept after decap",
            Self::Mpls => "MPLS is not offloaded",
            Self::Nsh => "NSH is not offloaded",
            Self::NdExtensions => "ND extension fields have no rte_flow item",
            Self::NdTll => "a neighbour solicitation carries no target link-layer address",
            Self::NdSll => "a neighbour advertisement carries no source link-layer address",
        }
    }
}

/// A field a `set` rewrites only whole ([`Rejected::SetPartialMask`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SetMask {
    /// An Ethernet address, with the partial mask.
    Eth {
        /// The mask.
        mask: [u8; 6],
    },
    /// `ipv4(src)`.
    Ipv4Src,
    /// `ipv4(dst)`.
    Ipv4Dst,
    /// `ipv4(tos)` other than the DSCP bits.
    Ipv4Tos,
    /// `ipv4(ttl)`.
    Ipv4Ttl,
    /// A TCP or UDP port.
    L4Port,
    /// An IPv6 address.
    Ipv6Addr,
    /// `ipv6(hlimit)`.
    Ipv6Hlimit,
    /// `ipv6(tclass)` other than the DSCP bits.
    Ipv6Tclass,
}

impl fmt::Display for SetMask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Eth { mask: m } => write!(
                f,
                "eth({:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x})",
                m[0], m[1], m[2], m[3], m[4], m[5]
            ),
            Self::Ipv4Src => f.write_str("ipv4(src)"),
            Self::Ipv4Dst => f.write_str("ipv4(dst)"),
            Self::Ipv4Tos => f.write_str("ipv4(tos)"),
            Self::Ipv4Ttl => f.write_str("ipv4(ttl)"),
            Self::L4Port => f.write_str("l4 port"),
            Self::Ipv6Addr => f.write_str("ipv6(src|dst)"),
            Self::Ipv6Hlimit => f.write_str("ipv6(hlimit)"),
            Self::Ipv6Tclass => f.write_str("ipv6(tclass)"),
        }
    }
}

/// A connection as a rejection names it: its protocol and zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnId {
    /// The IP protocol number.
    pub proto: u8,
    /// The conntrack zone.
    pub zone: u16,
}

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("conntrack ")?;
        match self.proto {
            1 => f.write_str("icmp")?,
            6 => f.write_str("tcp")?,
            17 => f.write_str("udp")?,
            58 => f.write_str("icmpv6")?,
            132 => f.write_str("sctp")?,
            p => write!(f, "proto {p}")?,
        }
        write!(f, " zone={}", self.zone)
    }
}

/// What needed a resource that ran out ([`Rejected::Exhausted`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Holder {
    /// A flow's `recirc_id` (its group).
    RecircId(u32),
    /// A `ct_label` (its interned id), matched or written by a flow.
    CtLabel(u128),
    /// A connection's label.
    Conn(ConnId),
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RecircId(_) => f.write_str("recirc_id"),
            Self::CtLabel(_) => f.write_str("ct_label"),
            Self::Conn(c) => fmt::Display::fmt(c, f),
        }
    }
}
