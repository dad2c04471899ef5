//! `xsc-odp`: the Open vSwitch datapath flow language.
//!
//! This crate reads and writes the text OVS prints for datapath flows
//! (`ovs-appctl dpctl/dump-flows`, plain and `-m`), for datapath action lists
//! and for conntrack entries (`dpctl/dump-conntrack`), into a typed model that
//! mirrors the netlink attributes (`OVS_KEY_ATTR_*`, `OVS_ACTION_ATTR_*`) one
//! field per field, so that a netlink codec can be added on the same types.
//!
//! Entry points:
//! - [`Megaflow::parse`] (also `str::parse`) reads one dump-flows line;
//!   [`parse_dump`] reads a whole dump, skipping `flow-dump from ...` headers
//!   and blank lines.
//! - [`parse_flow_key`] reads a bare key as `ovs-dpctl add-flow` takes it;
//!   [`parse_actions`] a bare action list.
//! - [`ConnEntry::parse`] reads one dump-conntrack line.
//! - [`Megaflow::format`] / [`format_flow_key`] / [`format_actions`] /
//!   [`ConnEntry::format`] write OVS's canonical text; `Display` does the
//!   same (`{}` plain, `{:#}` verbose).
//!
//! Invariants: parsing never panics and, for a typical megaflow (up to eight
//! actions, no VLAN `encap`, no tunnel options, no nested action lists),
//! never allocates.  Formatting appends to a caller-owned `String`.
//!
//! The dependency rule: this crate is the top of the flow
//! (`odp` → `rule` → `profile` → `translate` → `rte` → `device` → …); it
//! depends on nothing else of the workspace, and not on DPDK, so it builds
//! and tests on a machine without DPDK (a tool that only reads dumps needs no
//! more).  `xsc-dp` re-exports it as `xsc_dp::odp`.
#![deny(unsafe_op_in_unsafe_fn)]

mod action;
mod conntrack;
mod error;
mod flow;
mod key;
mod lex;
pub mod netlink;
mod write;

// The public surface, by name (one place to read it).
pub use action::{format_actions, parse_actions};
pub use action::{
    vport_type, Action, Actions, CheckPktLen, CtAction, Nat, NatAddrs, NatKind, Psample, PushNsh,
    Sample, SetAction, SetField, TnlHeader, TnlIp, TnlPush, TnlUdp, UserCookie, Userspace,
};
pub use conntrack::{ConnEntry, CtAddrs, CtCounters, CtL4, CtTimestamp, CtTuple, ProtoInfo};
pub use error::{Context, ErrorKind, ParseError};
pub use flow::{
    format_ufid, is_dump_header, parse_dump, parse_flow_key, parse_flow_key_into, DpLayer,
    FlowStats, Megaflow, Offloaded, Style, Ufid, Used,
};
pub use key::format_flow_key;
pub use key::{
    ct_state, frag, tnl_flags, ArpKey, AttrSet, CtTuple4, CtTuple6, ErspanOpts, EthKey, FlowKey,
    FlowMask, GeneveOpts, GtpuOpts, IcmpKey, Ipv4Key, Ipv6Key, KeyAttr, MplsKey, NdExtKey, NdKey,
    NshKey, OdpPort, PacketType, PortName, PortsKey, Tunnel, TunnelAttr, IFNAMSIZ,
};
