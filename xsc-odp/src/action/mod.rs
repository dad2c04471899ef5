//! The typed datapath action list: one variant per `OVS_ACTION_ATTR_*`, one
//! room per action family.
//!
//! `Action` stays small (the common actions — output, `ct`, `recirc`, masked
//! `set` of Ethernet/IPv4/L4 ports — are inline); rare large ones (`tnl_push`
//! headers, nested lists of `clone`/`sample`/`check_pkt_len`/`dec_ttl`,
//! `userspace` cookies, IPv6 NAT ranges, `ct` labels and timeouts) are boxed
//! so that a typical list of up to eight actions lives in an inline
//! [`Actions`] without touching the heap.
//!
//! `ct` (conntrack and NAT), `set` (set and masked set of one key
//! attribute), `tnl` (`tnl_push` headers), `userspace` (with its cookies),
//! `nsh` (`push_nsh`) each hold their types with the text parse and format;
//! `text` reads and writes a whole list and the small actions.
use crate::key::{EthKey, FlowKey, GeneveOpts, Ipv4Key, KeyAttr, OdpPort, PortName, PortsKey};
use smallvec::SmallVec;

pub(crate) mod ct;
pub(crate) mod nsh;
pub(crate) mod set;
pub(crate) mod text;
pub(crate) mod tnl;
pub(crate) mod userspace;

pub use ct::{CtAction, Nat, NatAddrs, NatKind};
pub use nsh::PushNsh;
pub use set::{SetAction, SetField};
pub use text::{format_actions, parse_actions};
pub use tnl::{vport_type, TnlHeader, TnlIp, TnlPush, TnlUdp};
pub use userspace::{UserCookie, Userspace};

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

/// `psample(group=N[,cookie=0x...])`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Psample {
    pub group: u32,
    pub cookie: SmallVec<[u8; 16]>,
}
