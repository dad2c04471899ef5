//! `odp`: the Open vSwitch datapath flow language.
//!
//! This module reads and writes the text OVS prints for datapath flows
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
//! This module depends on nothing else in the crate.

mod action;
mod action_text;
mod conntrack;
mod error;
mod flow;
mod key;
mod key_text;
mod lex;
pub mod netlink;
mod write;

pub use action::*;
pub use action_text::{format_actions, parse_actions};
pub use conntrack::*;
pub use error::{Context, ErrorKind, ParseError};
pub use flow::*;
pub use key::*;
pub use key_text::format_flow_key;
