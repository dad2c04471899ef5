//! The typed flow key: one Rust field per `OVS_KEY_ATTR_*` field.
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
//! Invariants: a field is meaningful only when its attribute is in `present`;
//! an attribute missing from the mask while present in the key means "all
//! wildcarded" (OVS's `generate_all_wildcard_mask()`).
use core::fmt;

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

/// `IFNAMSIZ`: a port name is at most 15 bytes plus the C string's NUL.
pub const IFNAMSIZ: usize = 16;

/// A port name (`in_port(p1)`, `actions:p2,br0`), stored inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortName {
    len: u8,
    bytes: [u8; IFNAMSIZ - 1],
}

impl PortName {
    /// `None` when `name` is empty or longer than `IFNAMSIZ - 1` bytes.
    pub fn new(name: &str) -> Option<PortName> {
        let b = name.as_bytes();
        if b.is_empty() || b.len() > IFNAMSIZ - 1 {
            return None;
        }
        let mut bytes = [0u8; IFNAMSIZ - 1];
        bytes[..b.len()].copy_from_slice(b);
        Some(PortName {
            len: b.len() as u8,
            bytes,
        })
    }

    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

impl fmt::Debug for PortName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl fmt::Display for PortName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A datapath port as OVS prints it: a number, or a name when `dpctl`
/// knows one (`odp_portno_name_format()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OdpPort {
    Number(u32),
    Name(PortName),
}

impl Default for OdpPort {
    fn default() -> Self {
        OdpPort::Number(0)
    }
}

impl OdpPort {
    /// The port number, if this is one.
    pub fn number(&self) -> Option<u32> {
        match *self {
            OdpPort::Number(n) => Some(n),
            OdpPort::Name(_) => None,
        }
    }
}

impl fmt::Display for OdpPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OdpPort::Number(n) => write!(f, "{n}"),
            OdpPort::Name(n) => f.write_str(n.as_str()),
        }
    }
}

/// A megaflow's unique flow identifier (`ovs_u128` viewed as `struct uuid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Ufid {
    /// The four 32-bit words, in the order `UUID_FMT` prints them.
    pub parts: [u32; 4],
}

/// `OVS_CS_F_*` bits of `ct_state`.
pub mod ct_state {
    pub const NEW: u32 = 0x01;
    pub const ESTABLISHED: u32 = 0x02;
    pub const RELATED: u32 = 0x04;
    pub const REPLY_DIR: u32 = 0x08;
    pub const INVALID: u32 = 0x10;
    pub const TRACKED: u32 = 0x20;
    pub const SRC_NAT: u32 = 0x40;
    pub const DST_NAT: u32 = 0x80;
    /// The bits OVS accepts (`CS_SUPPORTED_MASK` in datapath terms).
    pub const SUPPORTED: u32 = 0xff;
}

/// `FLOW_TNL_F_*` tunnel flags.
pub mod tnl_flags {
    pub const OAM: u16 = 1 << 0;
    pub const DONT_FRAGMENT: u16 = 1 << 1;
    pub const CSUM: u16 = 1 << 2;
    pub const KEY: u16 = 1 << 3;
    pub const MASK: u16 = (1 << 4) - 1;
}

/// `ovs_frag_type`.
pub mod frag {
    pub const NONE: u8 = 0;
    pub const FIRST: u8 = 1;
    pub const LATER: u8 = 2;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct CtTuple4 {
    pub src: u32,
    pub dst: u32,
    pub src_port: u16,
    pub dst_port: u16,
    pub proto: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct CtTuple6 {
    pub src: [u8; 16],
    pub dst: [u8; 16],
    pub src_port: u16,
    pub dst_port: u16,
    pub proto: u8,
}

/// `packet_type(ns=,id=)`: the OpenFlow header-type namespace and type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct PacketType {
    pub ns: u16,
    pub id: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct EthKey {
    pub src: [u8; 6],
    pub dst: [u8; 6],
}

/// Up to `FLOW_MAX_MPLS_LABELS` label stack entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct MplsKey {
    pub lse: [u32; 3],
    pub n: u8,
}

impl MplsKey {
    pub fn entries(&self) -> &[u32] {
        &self.lse[..usize::from(self.n.min(3))]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Ipv4Key {
    pub src: u32,
    pub dst: u32,
    pub proto: u8,
    pub tos: u8,
    pub ttl: u8,
    /// One of [`frag`]'s values in a key; `0` or `0xff` in a mask.
    pub frag: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Ipv6Key {
    pub src: [u8; 16],
    pub dst: [u8; 16],
    /// The 20-bit flow label.
    pub label: u32,
    pub proto: u8,
    pub tclass: u8,
    pub hlimit: u8,
    pub frag: u8,
}

/// `tcp(...)`, `udp(...)` and `sctp(...)` share this layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct PortsKey {
    pub src: u16,
    pub dst: u16,
}

/// `icmp(...)` and `icmpv6(...)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct IcmpKey {
    pub type_: u8,
    pub code: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct ArpKey {
    pub sip: u32,
    pub tip: u32,
    pub op: u16,
    pub sha: [u8; 6],
    pub tha: [u8; 6],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct NdKey {
    pub target: [u8; 16],
    pub sll: [u8; 6],
    pub tll: [u8; 6],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct NdExtKey {
    pub reserved: u32,
    pub options_type: u8,
}

/// `nsh(...)` (base header and MD type 1 context).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct NshKey {
    pub flags: u8,
    pub ttl: u8,
    pub mdtype: u8,
    pub np: u8,
    /// 24-bit service path identifier.
    pub spi: u32,
    pub si: u8,
    pub context: [u32; 4],
}

/// `OVS_TUNNEL_KEY_ATTR_*` numbers (the sub-attributes of `tunnel(...)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
#[non_exhaustive]
pub enum TunnelAttr {
    Id = 0,
    Ipv4Src = 1,
    Ipv4Dst = 2,
    Tos = 3,
    Ttl = 4,
    DontFragment = 5,
    Csum = 6,
    Oam = 7,
    GeneveOpts = 8,
    TpSrc = 9,
    TpDst = 10,
    VxlanOpts = 11,
    Ipv6Src = 12,
    Ipv6Dst = 13,
    ErspanOpts = 15,
    GtpuOpts = 16,
}

/// Geneve options as the raw TLVs OVS carries (class, type, length in 4-byte
/// words, data), at most `TLV_TOT_OPT_SIZE` (252) bytes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct GeneveOpts {
    pub len: u8,
    pub data: [u8; 252],
}

impl Default for GeneveOpts {
    fn default() -> Self {
        GeneveOpts {
            len: 0,
            data: [0; 252],
        }
    }
}

impl GeneveOpts {
    pub fn bytes(&self) -> &[u8] {
        &self.data[..usize::from(self.len).min(252)]
    }
}

impl fmt::Debug for GeneveOpts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneveOpts")
            .field("bytes", &self.bytes())
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct ErspanOpts {
    pub ver: u8,
    pub idx: u32,
    pub dir: u8,
    pub hwid: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct GtpuOpts {
    pub flags: u8,
    pub msgtype: u8,
}

/// `tunnel(...)`: one field per `OVS_TUNNEL_KEY_ATTR_*`, with the set of
/// sub-attributes present.  `flags` holds `DONT_FRAGMENT`, `CSUM` and `OAM`
/// (each a flag attribute of its own); `KEY` is implied by `tun_id`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash)]
pub struct Tunnel {
    /// Bit `n` set when `TunnelAttr` `n` is present.
    pub present: u32,
    pub tun_id: u64,
    pub ipv4_src: u32,
    pub ipv4_dst: u32,
    pub ipv6_src: [u8; 16],
    pub ipv6_dst: [u8; 16],
    pub tos: u8,
    pub ttl: u8,
    pub tp_src: u16,
    pub tp_dst: u16,
    pub flags: u16,
    /// `(gbp_flags << 16) | gbp_id`, as `OVS_VXLAN_EXT_GBP` carries it.
    pub vxlan_gbp: u32,
    pub geneve: Option<Box<GeneveOpts>>,
    pub erspan: ErspanOpts,
    pub gtpu: GtpuOpts,
}

impl Tunnel {
    pub fn has(&self, a: TunnelAttr) -> bool {
        self.present & (1 << a as u16) != 0
    }
    pub fn set(&mut self, a: TunnelAttr) {
        self.present |= 1 << a as u16;
    }

    /// Resets `self` to `Tunnel::default()` in place.
    pub fn clear(&mut self) {
        let Tunnel {
            present,
            tun_id,
            ipv4_src,
            ipv4_dst,
            ipv6_src,
            ipv6_dst,
            tos,
            ttl,
            tp_src,
            tp_dst,
            flags,
            vxlan_gbp,
            geneve,
            erspan,
            gtpu,
        } = self;
        *present = 0;
        *tun_id = 0;
        *ipv4_src = 0;
        *ipv4_dst = 0;
        *ipv6_src = [0; 16];
        *ipv6_dst = [0; 16];
        *tos = 0;
        *ttl = 0;
        *tp_src = 0;
        *tp_dst = 0;
        *flags = 0;
        *vxlan_gbp = 0;
        *geneve = None;
        *erspan = ErspanOpts::default();
        *gtpu = GtpuOpts::default();
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
