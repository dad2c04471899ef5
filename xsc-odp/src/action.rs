//! The typed datapath action list: one variant per `OVS_ACTION_ATTR_*`.
//!
//! `Action` stays small (the common actions — output, `ct`, `recirc`, masked
//! `set` of Ethernet/IPv4/L4 ports — are inline); rare large ones (`tnl_push`
//! headers, nested lists of `clone`/`sample`/`check_pkt_len`/`dec_ttl`,
//! `userspace` cookies, IPv6 NAT ranges, `ct` labels and timeouts) are boxed
//! so that a typical list of up to eight actions lives in an inline
//! [`Actions`] without touching the heap.
use super::key::{EthKey, FlowKey, GeneveOpts, Ipv4Key, KeyAttr, OdpPort, PortName, PortsKey};
use smallvec::SmallVec;

/// An action list; up to eight actions inline.
pub type Actions = SmallVec<[Action; 8]>;

/// One datapath action.
///
/// Exhaustive on purpose (it was `#[non_exhaustive]` while it lived inside
/// `xsc-dp`, where that had no effect): `xsc_dp::translate` matches every
/// action, so an action added here must be decided there, not fall into a
/// wildcard arm.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// `OVS_ACTION_ATTR_OUTPUT`: a port number or name.
    Output(OdpPort),
    /// `OVS_ACTION_ATTR_DROP` inside a longer list.  A list that is just
    /// `drop` parses as the empty list, which is how OVS prints both.
    Drop,
    /// `lb_output(bond_id)`.
    LbOutput(u32),
    /// `trunc(max_len)`.
    Trunc(u32),
    /// `meter(id)`.
    Meter(u32),
    /// `recirc(id)`.
    Recirc(u32),
    /// `tnl_pop(port)`.
    TnlPop(OdpPort),
    /// `hash(l4(basis))` / `hash(sym_l4(basis))`.
    Hash { alg: u32, basis: u32 },
    /// `ct(...)`.
    Ct(CtAction),
    /// `ct_clear`.
    CtClear,
    /// `set(...)`: `OVS_ACTION_ATTR_SET` or `OVS_ACTION_ATTR_SET_MASKED`.
    Set(SetAction),
    /// `push_vlan(tpid=,vid=,pcp=,cfi=)`.
    PushVlan { tpid: u16, tci: u16 },
    /// `pop_vlan`.
    PopVlan,
    /// `push_mpls(label=,tc=,ttl=,bos=,eth_type=)`.
    PushMpls { lse: u32, eth_type: u16 },
    /// `add_mpls(...)`, same fields as `push_mpls`.
    AddMpls { lse: u32, eth_type: u16 },
    /// `pop_mpls(eth_type=)`.
    PopMpls { eth_type: u16 },
    /// `push_eth(src=,dst=)`.
    PushEth { src: [u8; 6], dst: [u8; 6] },
    /// `pop_eth`.
    PopEth,
    /// `push_nsh(...)`.
    PushNsh(Box<PushNsh>),
    /// `pop_nsh()`.
    PopNsh,
    /// `tnl_push(tnl_port(..),header(..),out_port(..))`.
    TnlPush(Box<TnlPush>),
    /// `clone(actions)`.
    Clone(Box<Actions>),
    /// `sample(sample=P%,actions(...))`.
    Sample(Box<Sample>),
    /// `check_pkt_len(size=N,gt(...),le(...))`.
    CheckPktLen(Box<CheckPktLen>),
    /// `userspace(pid=...,...)`.
    Userspace(Box<Userspace>),
    /// `dec_ttl(le_1(actions))`.
    DecTtl(Box<Actions>),
    /// `psample(group=N[,cookie=0x...])`.
    Psample(Box<Psample>),
}

/// `ct(...)` (`OVS_ACTION_ATTR_CT`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CtAction {
    pub commit: bool,
    pub force_commit: bool,
    /// 0: no zone attribute.
    pub zone: u16,
    /// `mark=value/mask`, present when the mask is non-zero.
    pub mark: Option<(u32, u32)>,
    /// `label=value/mask` (host-order 128-bit values).
    pub label: Option<Box<(u128, u128)>>,
    /// `helper=` (at most 15 bytes).
    pub helper: Option<PortName>,
    /// `timeout=` (at most 31 bytes).
    pub timeout: Option<Box<str>>,
    pub nat: Option<Nat>,
}

/// `nat[(src|dst[=addr[-addr][:port[-port]]][,persistent][,hash][,random])]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Nat {
    pub kind: NatKind,
    pub addrs: NatAddrs,
    /// 0: none.
    pub proto_min: u16,
    /// 0: none (only kept when above `proto_min`).
    pub proto_max: u16,
    pub persistent: bool,
    pub hash: bool,
    pub random: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NatKind {
    /// Plain `nat`: reverse NAT of an existing connection.
    #[default]
    Any,
    Src,
    Dst,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum NatAddrs {
    #[default]
    None,
    /// Host-order IPv4 range; `max` 0 when absent.
    V4 { min: u32, max: u32 },
    /// IPv6 range; `max` all-zero when absent.
    V6(Box<([u8; 16], [u8; 16])>),
}

/// `set(attr(...))`.  `masked` is `OVS_ACTION_ATTR_SET_MASKED`: OVS picks it
/// when the mask is not all-ones and prints it without exact masks; the plain
/// form prints every field.
#[derive(Debug, Clone, PartialEq)]
pub struct SetAction {
    pub masked: bool,
    pub field: SetField,
}

/// The attribute a `set` writes, with its mask (all-ones for unmasked sets).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SetField {
    Eth {
        key: EthKey,
        mask: EthKey,
    },
    Ipv4 {
        key: Ipv4Key,
        mask: Ipv4Key,
    },
    Tcp {
        key: PortsKey,
        mask: PortsKey,
    },
    Udp {
        key: PortsKey,
        mask: PortsKey,
    },
    Sctp {
        key: PortsKey,
        mask: PortsKey,
    },
    SkbPriority {
        key: u32,
        mask: u32,
    },
    SkbMark {
        key: u32,
        mask: u32,
    },
    /// Any other single attribute (`ipv6`, `tunnel`, `arp`, `nd`, `mpls`, ...),
    /// held as a key and mask with exactly that attribute present.
    Other {
        attr: KeyAttr,
        key: Box<FlowKey>,
        mask: Box<FlowKey>,
    },
}

/// `push_nsh(...)`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PushNsh {
    pub flags: u8,
    pub ttl: u8,
    pub mdtype: u8,
    pub np: u8,
    pub spi: u32,
    pub si: u8,
    /// MD type 1 context headers.
    pub context: [u32; 4],
    /// MD type 2 metadata, padded to four bytes.
    pub md2: Vec<u8>,
}

/// `tnl_push(...)`: the header OVS will prepend, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TnlPush {
    pub tnl_port: OdpPort,
    pub out_port: OdpPort,
    /// `header(size=)`.
    pub header_len: u32,
    /// `header(type=)`: an `OVS_VPORT_TYPE_*`.
    pub tnl_type: u32,
    pub eth_dst: [u8; 6],
    pub eth_src: [u8; 6],
    pub eth_type: u16,
    pub ip: TnlIp,
    pub tunnel: TnlHeader,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TnlIp {
    V4 {
        src: u32,
        dst: u32,
        proto: u8,
        tos: u8,
        ttl: u8,
        frag: u16,
    },
    V6 {
        src: [u8; 16],
        dst: [u8; 16],
        label: u32,
        proto: u8,
        tclass: u8,
        hlimit: u8,
    },
}

/// `udp(src=,dst=,csum=)` of a UDP-based tunnel header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TnlUdp {
    pub src: u16,
    pub dst: u16,
    pub csum: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TnlHeader {
    Vxlan {
        udp: TnlUdp,
        flags: u32,
        vni: u32,
    },
    Geneve {
        udp: TnlUdp,
        oam: bool,
        crit: bool,
        vni: u32,
        options: Option<Box<GeneveOpts>>,
    },
    Gtpu {
        udp: TnlUdp,
        flags: u8,
        msgtype: u8,
        teid: u32,
    },
    Gre {
        flags: u16,
        proto: u16,
        csum: Option<u16>,
        key: Option<u32>,
        seq: Option<u32>,
    },
    ErspanV1 {
        sid: u16,
        idx: u32,
    },
    ErspanV2 {
        sid: u16,
        dir: u8,
        hwid: u8,
    },
}

/// `OVS_VPORT_TYPE_*` values used in `tnl_push(header(type=))`.
pub mod vport_type {
    pub const GRE: u32 = 3;
    pub const VXLAN: u32 = 4;
    pub const GENEVE: u32 = 5;
    pub const ERSPAN: u32 = 107;
    pub const IP6ERSPAN: u32 = 108;
    pub const IP6GRE: u32 = 109;
    pub const GTPU: u32 = 110;
}

/// `sample(sample=P%,actions(...))`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// `OVS_SAMPLE_ATTR_PROBABILITY`: P% of `u32::MAX`.
    pub probability: u32,
    pub actions: Actions,
}

/// `check_pkt_len(size=N,gt(...),le(...))`.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckPktLen {
    pub pkt_len: u16,
    pub gt: Actions,
    pub le: Actions,
}

/// `userspace(pid=N[,cookie][,actions][,tunnel_out_port=P])`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Userspace {
    pub pid: u32,
    pub cookie: Option<UserCookie>,
    pub actions: bool,
    pub tunnel_out_port: Option<OdpPort>,
}

/// The userspace cookie forms OVS prints.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UserCookie {
    Sflow {
        vid: u16,
        pcp: u8,
        output: u32,
    },
    /// `slow_path(reasons)`, the reasons as OVS wrote them.
    SlowPath(String),
    FlowSample {
        probability: u16,
        collector_set_id: u32,
        obs_domain_id: u32,
        obs_point_id: u32,
        output_port: OdpPort,
        /// `Some(true)`: `,ingress`; `Some(false)`: `,egress`.
        ingress: Option<bool>,
    },
    Ipfix {
        output_port: OdpPort,
    },
    Controller {
        reason: u16,
        dont_send: bool,
        continuation: bool,
        recirc_id: u32,
        rule_cookie: u64,
        controller_id: u16,
        max_len: u16,
    },
    Userdata(Vec<u8>),
}

/// `psample(group=N[,cookie=0x...])`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Psample {
    pub group: u32,
    pub cookie: SmallVec<[u8; 16]>,
}
