//! Hardware rules as Rust types, named as in rte_flow.
//!
//! An [`HwRule`] is what the translation produces and what lowering turns
//! into the exact C structs: attributes (group, priority, direction), a
//! pattern of [`Item`]s and a list of [`Action`]s. Field values are in host
//! order and plain types (`[u8; 4]` for an IPv4 address, `u16` for a port);
//! lowering does the byte order. A mask bit of 1 means "this bit must match",
//! as in rte_flow; an all-zero mask matches anything.
//!
//! This module owns the rule vocabulary: [`Direction`], the items and
//! actions, their kinds ([`ItemKind`], [`ActionKind`]) and the header
//! fields they name ([`Field`]). It knows nothing of OVS or DPDK's C types
//! and imports nothing else in the crate.

use std::fmt;
use std::sync::Arc;

use smallvec::SmallVec;

mod kind;
pub mod testpmd;

pub use kind::{ActionKind, ItemKind};

/// Which traffic a rule applies to (`rte_flow_attr` ingress/egress/transfer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// Packets received by the port.
    #[default]
    Ingress,
    /// Packets sent by the port.
    Egress,
    /// The embedded switch (E-Switch): traffic between representors, as OVS
    /// offload on a switchdev NIC uses.
    Transfer,
}

/// `rte_flow_attr`: where a rule sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Attr {
    /// The group (table). Group 0 is where packets start.
    pub group: u32,
    /// Lower values match first.
    pub priority: u32,
    /// Ingress, egress or transfer (E-Switch).
    pub dir: Direction,
}

/// One hardware rule.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HwRule {
    /// Group, priority and direction.
    pub attr: Attr,
    /// Items, outermost header first; END is implicit.
    pub pattern: SmallVec<[Item; 8]>,
    /// Actions in order; END is implicit.
    pub actions: SmallVec<[Action; 8]>,
}

/// A value and the mask saying which of its bits must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Masked<T> {
    /// The value (bits outside the mask are zero in a canonical rule).
    pub spec: T,
    /// Which bits must match.
    pub mask: T,
}

impl<T> Masked<T> {
    /// A value with its mask.
    pub fn new(spec: T, mask: T) -> Self {
        Self { spec, mask }
    }
}

/// `RTE_FLOW_ITEM_TYPE_ETH` fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct EthItem {
    /// Destination MAC.
    pub dst: [u8; 6],
    /// Source MAC.
    pub src: [u8; 6],
    /// EtherType (or TPID when tagged).
    pub ether_type: u16,
    /// Whether the frame carries at least one VLAN tag (`has_vlan`).
    pub has_vlan: bool,
}

/// `RTE_FLOW_ITEM_TYPE_VLAN` fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct VlanItem {
    /// Tag control information: PCP (3 bits), DEI (1), VID (12).
    pub tci: u16,
    /// EtherType of what follows the tag.
    pub inner_type: u16,
    /// Whether another tag follows (`has_more_vlan`).
    pub has_more_vlan: bool,
}

/// `RTE_FLOW_ITEM_TYPE_IPV4` fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Ipv4Item {
    /// Source address.
    pub src: [u8; 4],
    /// Destination address.
    pub dst: [u8; 4],
    /// Type of service (DSCP and ECN).
    pub tos: u8,
    /// Time to live.
    pub ttl: u8,
    /// Next protocol.
    pub proto: u8,
    /// The flags + fragment offset field, host order (`fragment_offset`):
    /// MF is 0x2000, the offset the low 13 bits.
    pub fragment_offset: u16,
}

/// IPv4 `fragment_offset` bits.
pub mod ipv4_frag {
    /// More fragments.
    pub const MF: u16 = 0x2000;
    /// Fragment offset (in 8-byte units).
    pub const OFFSET: u16 = 0x1fff;
    /// Both: a packet is a fragment when any of these is set.
    pub const MF_OR_OFFSET: u16 = MF | OFFSET;
}

/// `RTE_FLOW_ITEM_TYPE_IPV6` fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Ipv6Item {
    /// Source address.
    pub src: [u8; 16],
    /// Destination address.
    pub dst: [u8; 16],
    /// Traffic class.
    pub tc: u8,
    /// Flow label (20 bits).
    pub flow_label: u32,
    /// Next header.
    pub proto: u8,
    /// Hop limit.
    pub hop_limit: u8,
    /// Whether a fragment extension header is present (`has_frag_ext`).
    pub has_frag_ext: bool,
}

/// `RTE_FLOW_ITEM_TYPE_IPV6_FRAG_EXT` fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Ipv6FragItem {
    /// The header after the fragment header (the transport protocol of a
    /// fragmented packet: the IPv6 header's own next header is 44 then).
    pub next_header: u8,
    /// Fragment offset (13 bits, in 8-byte units) << 3 | M flag, host order
    /// (`frag_data`).
    pub frag_data: u16,
}

/// `RTE_FLOW_ITEM_TYPE_TCP` fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpItem {
    /// Source port.
    pub src: u16,
    /// Destination port.
    pub dst: u16,
    /// TCP flags (FIN 0x01 ... CWR 0x80).
    pub flags: u8,
}

/// Source and destination ports: `RTE_FLOW_ITEM_TYPE_UDP` and `_SCTP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PortsItem {
    /// Source port.
    pub src: u16,
    /// Destination port.
    pub dst: u16,
}

/// `RTE_FLOW_ITEM_TYPE_ICMP` and `_ICMP6` fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct IcmpItem {
    /// Type.
    pub icmp_type: u8,
    /// Code.
    pub code: u8,
    /// Echo identifier (ICMP only: DPDK's ICMP6 item has no such field, so
    /// an ICMP6 item must leave its mask zero).
    pub ident: u16,
}

/// `RTE_FLOW_ITEM_TYPE_ARP_ETH_IPV4` fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ArpItem {
    /// Operation (1 request, 2 reply).
    pub op: u16,
    /// Sender hardware address.
    pub sha: [u8; 6],
    /// Sender IPv4 address.
    pub spa: [u8; 4],
    /// Target hardware address.
    pub tha: [u8; 6],
    /// Target IPv4 address.
    pub tpa: [u8; 4],
}

/// `RTE_FLOW_ITEM_TYPE_VXLAN` / `_GENEVE` fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TunnelItem {
    /// The 24-bit VNI.
    pub vni: u32,
    /// Geneve's protocol type (0 for VXLAN).
    pub protocol: u16,
}

/// One pattern item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Item {
    /// `ETH`.
    Eth(Masked<EthItem>),
    /// `VLAN`.
    Vlan(Masked<VlanItem>),
    /// `IPV4`, with `last` for a range (IPv4 fragment offsets).
    Ipv4 {
        /// Value and mask.
        m: Masked<Ipv4Item>,
        /// Upper end of a range, when matching one.
        last: Option<Ipv4Item>,
    },
    /// `IPV6`.
    Ipv6(Masked<Ipv6Item>),
    /// `IPV6_FRAG_EXT`, with `last` for a range.
    Ipv6FragExt {
        /// Value and mask.
        m: Masked<Ipv6FragItem>,
        /// Upper end of a range.
        last: Option<Ipv6FragItem>,
    },
    /// `TCP`.
    Tcp(Masked<TcpItem>),
    /// `UDP`.
    Udp(Masked<PortsItem>),
    /// `SCTP`.
    Sctp(Masked<PortsItem>),
    /// `ICMP`.
    Icmp(Masked<IcmpItem>),
    /// `ICMP6`.
    Icmp6(Masked<IcmpItem>),
    /// `ARP_ETH_IPV4`.
    ArpEthIpv4(Masked<ArpItem>),
    /// `ICMP6_ND_NS`: neighbour solicitation with its target address.
    Icmp6NdNs(Masked<[u8; 16]>),
    /// `ICMP6_ND_NA`: neighbour advertisement with its target address.
    Icmp6NdNa(Masked<[u8; 16]>),
    /// `ICMP6_ND_OPT_SLA_ETH`: source link-layer address option.
    Icmp6NdOptSlaEth(Masked<[u8; 6]>),
    /// `ICMP6_ND_OPT_TLA_ETH`: target link-layer address option.
    Icmp6NdOptTlaEth(Masked<[u8; 6]>),
    /// `TAG`: a metadata register.
    Tag {
        /// Register index.
        index: u8,
        /// Value and mask.
        m: Masked<u32>,
    },
    /// `META`: the metadata set by `SET_META` or the application.
    Meta(Masked<u32>),
    /// `MARK`: the mark set by an earlier `MARK` action.
    Mark(Masked<u32>),
    /// `REPRESENTED_PORT`: traffic entering the E-Switch from this ethdev
    /// port's represented entity (the VF behind a representor, or the wire).
    RepresentedPort {
        /// The ethdev port id.
        port_id: u16,
    },
    /// `PORT_REPRESENTOR`: traffic the host sent through this ethdev port.
    PortRepresentor {
        /// The ethdev port id.
        port_id: u16,
    },
    /// `VXLAN`.
    Vxlan(Masked<TunnelItem>),
    /// `GENEVE`.
    Geneve(Masked<TunnelItem>),
}

/// A field `MODIFY_FIELD` reads or writes (`enum rte_flow_field_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum Field {
    MacDst,
    MacSrc,
    VlanId,
    Ipv4Dscp,
    Ipv4Ttl,
    Ipv4Src,
    Ipv4Dst,
    Ipv6Dscp,
    Ipv6HopLimit,
    Ipv6Src,
    Ipv6Dst,
    TcpPortSrc,
    TcpPortDst,
    UdpPortSrc,
    UdpPortDst,
    /// The VXLAN VNI of the outer header.
    VxlanVni,
    /// The Geneve VNI of the outer header.
    GeneveVni,
    /// A TAG register.
    Tag(u8),
    Meta,
    Mark,
}

impl Field {
    /// The field's width in bits.
    pub fn width(self) -> u32 {
        match self {
            Self::MacDst | Self::MacSrc => 48,
            Self::VlanId => 12,
            Self::Ipv4Dscp | Self::Ipv6Dscp => 6,
            Self::Ipv4Ttl | Self::Ipv6HopLimit => 8,
            Self::Ipv4Src | Self::Ipv4Dst => 32,
            Self::Ipv6Src | Self::Ipv6Dst => 128,
            Self::TcpPortSrc | Self::TcpPortDst | Self::UdpPortSrc | Self::UdpPortDst => 16,
            Self::VxlanVni | Self::GeneveVni => 24,
            Self::Tag(_) | Self::Meta | Self::Mark => 32,
        }
    }
}

/// An encapsulation header (outer Ethernet + IP + UDP + tunnel header),
/// shared between the rules that push it.
pub type EncapHeader = Arc<[u8]>;

/// One action.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action {
    /// `COUNT`: count packets and bytes.
    Count,
    /// `DROP`.
    Drop,
    /// `JUMP` to a group.
    Jump {
        /// The group.
        group: u32,
    },
    /// `MARK`: the id software reads with the packet.
    Mark {
        /// The mark.
        id: u32,
    },
    /// `SET_TAG`: write a register.
    SetTag {
        /// Register index.
        index: u8,
        /// Value (bits outside `mask` are zero).
        data: u32,
        /// Which bits to write.
        mask: u32,
    },
    /// `SET_META`.
    SetMeta {
        /// Value.
        data: u32,
        /// Which bits to write.
        mask: u32,
    },
    /// `QUEUE`: deliver to an rx queue of the port (non-transfer rules).
    Queue {
        /// The queue.
        index: u16,
    },
    /// `REPRESENTED_PORT`: send to the entity an ethdev port represents.
    RepresentedPort {
        /// The ethdev port id.
        port_id: u16,
    },
    /// `PORT_REPRESENTOR`: send to the host through this ethdev port.
    PortRepresentor {
        /// The ethdev port id.
        port_id: u16,
    },
    /// `SET_MAC_SRC`.
    SetMacSrc([u8; 6]),
    /// `SET_MAC_DST`.
    SetMacDst([u8; 6]),
    /// `SET_IPV4_SRC`.
    SetIpv4Src([u8; 4]),
    /// `SET_IPV4_DST`.
    SetIpv4Dst([u8; 4]),
    /// `SET_IPV6_SRC`.
    SetIpv6Src([u8; 16]),
    /// `SET_IPV6_DST`.
    SetIpv6Dst([u8; 16]),
    /// `SET_TP_SRC`: TCP/UDP source port.
    SetTpSrc(u16),
    /// `SET_TP_DST`: TCP/UDP destination port.
    SetTpDst(u16),
    /// `SET_TTL`: IPv4 TTL or IPv6 hop limit.
    SetTtl(u8),
    /// `DEC_TTL`.
    DecTtl,
    /// `SET_IPV4_DSCP`.
    SetIpv4Dscp(u8),
    /// `SET_IPV6_DSCP`.
    SetIpv6Dscp(u8),
    /// `MODIFY_FIELD` with `op set` and an immediate value: write `width`
    /// bits of `value` (big-endian, right-aligned in 16 bytes) into `dst`
    /// starting `offset` bits from the field's least significant bit.
    ModifyField {
        /// The field written.
        dst: Field,
        /// Bit offset inside the field.
        offset: u32,
        /// Bits written.
        width: u32,
        /// The value, right-aligned big-endian.
        value: [u8; 16],
    },
    /// `MODIFY_FIELD` with `op set` from another field (e.g. a register
    /// into the MAC address).
    CopyField {
        /// The field written.
        dst: Field,
        /// The field read.
        src: Field,
        /// Bits copied.
        width: u32,
    },
    /// `OF_PUSH_VLAN`.
    OfPushVlan {
        /// The TPID (0x8100 or 0x88a8).
        ethertype: u16,
    },
    /// `OF_SET_VLAN_VID`.
    OfSetVlanVid(u16),
    /// `OF_SET_VLAN_PCP`.
    OfSetVlanPcp(u8),
    /// `OF_POP_VLAN`.
    OfPopVlan,
    /// `RAW_ENCAP`: push these header bytes.
    RawEncap(EncapHeader),
    /// `RAW_DECAP`: remove this many bytes of outer header.
    RawDecap {
        /// Bytes removed (outer Ethernet + IP + UDP + tunnel header).
        size: u16,
    },
    /// `VXLAN_DECAP`.
    VxlanDecap,
    /// `SAMPLE`: apply `actions` to a copy of `1/ratio` of the packets
    /// (ratio 1: every packet, i.e. a mirror).
    Sample {
        /// 1 in `ratio` packets.
        ratio: u32,
        /// What is done with the copy.
        actions: Arc<[Action]>,
    },
}

impl fmt::Display for Attr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dir = match self.dir {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
            Direction::Transfer => "transfer",
        };
        write!(f, "{dir} group {} priority {}", self.group, self.priority)
    }
}
