//! The typed flow key: one Rust field per `OVS_KEY_ATTR_*` field, one room
//! per protocol.
//!
//! A megaflow is a [`FlowKey`] (values) and a [`FlowMask`] of the same shape
//! (a set bit matches, a clear bit is wildcarded), exactly as OVS's datapath
//! carries them as two netlink attribute lists.  Each of the two records which
//! attributes it holds ([`AttrSet`]): OVS distinguishes an absent attribute
//! (e.g. no `skb_priority` in a plain dump) from a present all-wildcard one
//! (`skb_priority(0/0)` in a verbose dump), and the netlink layer needs the
//! same distinction.  Values are host-order integers; addresses are bytes in
//! network order; IPv4 addresses are host-order `u32`.
//!
//! Each protocol's file holds its typed key with its text parse and format
//! side by side: `meta` (skb_priority, skb_mark, recirc_id,
//! dp_hash, in_port, packet_type), `ct`, `eth`, `vlan`, `mpls`, `ip`, `l4`,
//! `arp`, `nd`, `nsh`, `tunnel`.  `text` walks a whole key in OVS's order and
//! dispatches each attribute to its room; `fields` and `flags` hold the
//! scanners and printers every room shares; `mask` says what a mask means for
//! one attribute.
//!
//! Invariants: a field is meaningful only when its attribute is in `present`;
//! an attribute missing from the mask while present in the key means "all
//! wildcarded" (OVS's `generate_all_wildcard_mask()`).
pub(crate) mod arp;
pub(crate) mod ct;
pub(crate) mod eth;
pub(crate) mod fields;
pub(crate) mod flags;
pub(crate) mod ip;
pub(crate) mod l4;
pub(crate) mod mask;
pub(crate) mod meta;
pub(crate) mod mpls;
pub(crate) mod nd;
pub(crate) mod nsh;
pub(crate) mod text;
pub(crate) mod tunnel;
pub(crate) mod vlan;

pub use arp::ArpKey;
pub use ct::{ct_state, CtTuple4, CtTuple6};
pub use eth::EthKey;
pub use ip::{frag, Ipv4Key, Ipv6Key};
pub use l4::{IcmpKey, PortsKey};
pub use meta::{OdpPort, PacketType, PortName, IFNAMSIZ};
pub use mpls::MplsKey;
pub use nd::{NdExtKey, NdKey};
pub use nsh::NshKey;
pub use text::format_flow_key;
pub use tunnel::{tnl_flags, ErspanOpts, GeneveOpts, GtpuOpts, Tunnel, TunnelAttr};

/// `OVS_KEY_ATTR_*` numbers as the OVS userspace datapath uses them
/// (`datapath/linux/compat/include/linux/openvswitch.h`, userspace branch:
/// `PACKET_TYPE` and `ND_EXTENSIONS` follow `NSH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
#[non_exhaustive]
pub enum KeyAttr {
    Encap = 1,
    Priority = 2,
    InPort = 3,
    Ethernet = 4,
    Vlan = 5,
    Ethertype = 6,
    Ipv4 = 7,
    Ipv6 = 8,
    Tcp = 9,
    Udp = 10,
    Icmp = 11,
    Icmpv6 = 12,
    Arp = 13,
    Nd = 14,
    SkbMark = 15,
    Tunnel = 16,
    Sctp = 17,
    TcpFlags = 18,
    DpHash = 19,
    RecircId = 20,
    Mpls = 21,
    CtState = 22,
    CtZone = 23,
    CtMark = 24,
    CtLabels = 25,
    CtOrigTupleIpv4 = 26,
    CtOrigTupleIpv6 = 27,
    Nsh = 28,
    PacketType = 29,
    NdExtensions = 30,
}

impl KeyAttr {
    /// The name OVS prints (`ovs_key_attr_to_string()`).
    pub fn name(self) -> &'static str {
        match self {
            KeyAttr::Encap => "encap",
            KeyAttr::Priority => "skb_priority",
            KeyAttr::InPort => "in_port",
            KeyAttr::Ethernet => "eth",
            KeyAttr::Vlan => "vlan",
            KeyAttr::Ethertype => "eth_type",
            KeyAttr::Ipv4 => "ipv4",
            KeyAttr::Ipv6 => "ipv6",
            KeyAttr::Tcp => "tcp",
            KeyAttr::Udp => "udp",
            KeyAttr::Icmp => "icmp",
            KeyAttr::Icmpv6 => "icmpv6",
            KeyAttr::Arp => "arp",
            KeyAttr::Nd => "nd",
            KeyAttr::SkbMark => "skb_mark",
            KeyAttr::Tunnel => "tunnel",
            KeyAttr::Sctp => "sctp",
            KeyAttr::TcpFlags => "tcp_flags",
            KeyAttr::DpHash => "dp_hash",
            KeyAttr::RecircId => "recirc_id",
            KeyAttr::Mpls => "mpls",
            KeyAttr::CtState => "ct_state",
            KeyAttr::CtZone => "ct_zone",
            KeyAttr::CtMark => "ct_mark",
            KeyAttr::CtLabels => "ct_label",
            KeyAttr::CtOrigTupleIpv4 => "ct_tuple4",
            KeyAttr::CtOrigTupleIpv6 => "ct_tuple6",
            KeyAttr::Nsh => "nsh",
            KeyAttr::PacketType => "packet_type",
            KeyAttr::NdExtensions => "nd_ext",
        }
    }

    /// The order in which OVS emits attributes
    /// (`odp_flow_key_from_flow__()`), which is the order dumps print them in.
    pub const CANONICAL_ORDER: [KeyAttr; 30] = [
        KeyAttr::Priority,
        KeyAttr::Tunnel,
        KeyAttr::SkbMark,
        KeyAttr::CtState,
        KeyAttr::CtZone,
        KeyAttr::CtMark,
        KeyAttr::CtLabels,
        KeyAttr::CtOrigTupleIpv4,
        KeyAttr::CtOrigTupleIpv6,
        KeyAttr::RecircId,
        KeyAttr::DpHash,
        KeyAttr::InPort,
        KeyAttr::PacketType,
        KeyAttr::Ethernet,
        KeyAttr::Ethertype,
        KeyAttr::Vlan,
        KeyAttr::Encap,
        KeyAttr::Ipv4,
        KeyAttr::Ipv6,
        KeyAttr::Arp,
        KeyAttr::Mpls,
        KeyAttr::Nsh,
        KeyAttr::Tcp,
        KeyAttr::TcpFlags,
        KeyAttr::Udp,
        KeyAttr::Sctp,
        KeyAttr::Icmp,
        KeyAttr::Icmpv6,
        KeyAttr::Nd,
        KeyAttr::NdExtensions,
    ];
}

/// A set of [`KeyAttr`]s (bit `n` for attribute number `n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct AttrSet(pub u64);

impl AttrSet {
    pub fn contains(self, a: KeyAttr) -> bool {
        self.0 & (1u64 << a as u16) != 0
    }
    pub fn insert(&mut self, a: KeyAttr) {
        self.0 |= 1u64 << a as u16;
    }
    pub fn remove(&mut self, a: KeyAttr) {
        self.0 &= !(1u64 << a as u16);
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// A datapath flow key, or (same type, [`FlowMask`]) its mask.
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash)]
pub struct FlowKey {
    /// The attributes this key (or mask) holds.
    pub present: AttrSet,
    pub skb_priority: u32,
    pub skb_mark: u32,
    pub recirc_id: u32,
    pub dp_hash: u32,
    pub ct_state: u32,
    pub ct_zone: u16,
    pub ct_mark: u32,
    pub ct_label: u128,
    pub ct_tuple4: CtTuple4,
    pub ct_tuple6: CtTuple6,
    pub tunnel: Tunnel,
    /// In a mask, always a number.
    pub in_port: OdpPort,
    pub packet_type: PacketType,
    pub eth: EthKey,
    /// The 802.1Q TCI (`vlan(vid=,pcp=,cfi=)`).
    pub vlan_tci: u16,
    pub eth_type: u16,
    pub mpls: MplsKey,
    pub ipv4: Ipv4Key,
    pub ipv6: Ipv6Key,
    pub tcp: PortsKey,
    pub tcp_flags: u16,
    pub udp: PortsKey,
    pub sctp: PortsKey,
    pub icmp: IcmpKey,
    pub icmpv6: IcmpKey,
    pub arp: ArpKey,
    pub nd: NdKey,
    pub nd_ext: NdExtKey,
    pub nsh: NshKey,
    /// The attributes inside `encap(...)` (after a VLAN header).
    pub encap: Option<Box<FlowKey>>,
}

/// A flow mask has the shape of a key: a set bit is matched.
pub type FlowMask = FlowKey;

impl FlowKey {
    pub fn has(&self, a: KeyAttr) -> bool {
        self.present.contains(a)
    }

    /// Resets `self` to `FlowKey::default()` in place (no temporary value
    /// built and copied in), dropping a boxed `encap` or Geneve options.
    pub fn clear(&mut self) {
        let FlowKey {
            present,
            skb_priority,
            skb_mark,
            recirc_id,
            dp_hash,
            ct_state,
            ct_zone,
            ct_mark,
            ct_label,
            ct_tuple4,
            ct_tuple6,
            tunnel,
            in_port,
            packet_type,
            eth,
            vlan_tci,
            eth_type,
            mpls,
            ipv4,
            ipv6,
            tcp,
            tcp_flags,
            udp,
            sctp,
            icmp,
            icmpv6,
            arp,
            nd,
            nd_ext,
            nsh,
            encap,
        } = self;
        *present = AttrSet(0);
        *skb_priority = 0;
        *skb_mark = 0;
        *recirc_id = 0;
        *dp_hash = 0;
        *ct_state = 0;
        *ct_zone = 0;
        *ct_mark = 0;
        *ct_label = 0;
        *ct_tuple4 = CtTuple4::default();
        *ct_tuple6 = CtTuple6::default();
        tunnel.clear();
        *in_port = OdpPort::Number(0);
        *packet_type = PacketType::default();
        *eth = EthKey::default();
        *vlan_tci = 0;
        *eth_type = 0;
        *mpls = MplsKey::default();
        *ipv4 = Ipv4Key::default();
        *ipv6 = Ipv6Key::default();
        *tcp = PortsKey::default();
        *tcp_flags = 0;
        *udp = PortsKey::default();
        *sctp = PortsKey::default();
        *icmp = IcmpKey::default();
        *icmpv6 = IcmpKey::default();
        *arp = ArpKey::default();
        *nd = NdKey::default();
        *nd_ext = NdExtKey::default();
        *nsh = NshKey::default();
        *encap = None;
    }

    /// The in_port number, when the key has one given as a number.
    pub fn in_port_number(&self) -> Option<u32> {
        if self.has(KeyAttr::InPort) {
            self.in_port.number()
        } else {
            None
        }
    }
}
