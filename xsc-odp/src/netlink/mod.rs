//! The netlink form of the OVS datapath flow language.
//!
//! OVS hands an offload provider a megaflow as three netlink attribute
//! lists: the key (`OVS_FLOW_ATTR_KEY`: `OVS_KEY_ATTR_*`), the mask
//! (`OVS_FLOW_ATTR_MASK`: the same attributes, a set bit matches) and the
//! actions (`OVS_FLOW_ATTR_ACTIONS`: `OVS_ACTION_ATTR_*`).  This module
//! decodes them into the typed model of [`crate`] and encodes the model
//! back, attribute for attribute as OVS lays them out
//! (`odp_flow_key_from_flow__()` order, `lib/odp-util.c`).
//!
//! Entry points:
//! - [`decode_key`]`(key, Some(mask))` / `decode_key(key, None)`: a key and
//!   its mask.  With a mask list, an attribute absent from it is wildcarded
//!   (the uAPI's `OVS_FLOW_ATTR_MASK` rule; the mask's `present` set records
//!   which attributes the list held).  Without a mask list every key
//!   attribute is an exact match ([`exact_mask`]), OVS's key-only form.
//! - [`decode_actions`].
//! - [`encode_key`], [`encode_mask`], [`encode_actions`] append to a
//!   `Vec<u8>`.
//!
//! Port names: netlink carries only numbers.  Encoding takes a
//! [`PortMap`] that resolves a name (`in_port(p1)`, `actions:p2`); a name it
//! does not know is a [`NetlinkError`] of kind [`ErrorKind::UnknownPortName`].
//! Use [`NoPortNames`] to reject every name, a `HashMap<String, u32>` for a
//! fixed map, or a [`PortTable`] that numbers names as it meets them and maps
//! the decoded numbers back ([`PortTable::name_ports`]).
//!
//! Decoding never panics and never allocates for a typical offloadable
//! megaflow (no VLAN `encap`, no Geneve options, up to eight actions without
//! nested lists): the model's boxes are only for those rarer parts.
//! Every malformed input is a [`NetlinkError`] naming the attribute and the
//! byte offset of its header in the buffer given.
use core::fmt;
use std::collections::HashMap;

mod action;
pub mod attr;
pub mod consts;
mod key;
mod nsh;

pub use action::{decode_actions, decode_actions_into, encode_actions, tnl_push_header};
pub use key::{decode_key, decode_key_into, encode_key, encode_mask, exact_mask};

use super::{Action, Actions, FlowKey, Megaflow, OdpPort, PortName, SetField, Ufid};

/// The deepest nesting accepted: action lists inside `clone`/`sample`/
/// `check_pkt_len`/`dec_ttl` (OVS's `MAX_ODP_NESTED` is 32), and VLAN
/// `encap` levels in a key (OVS's `FLOW_MAX_VLAN_HEADERS` is 2).
pub const MAX_ACTION_DEPTH: usize = 32;
pub const MAX_ENCAP_DEPTH: usize = 2;

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Fewer than 4 bytes left for an attribute header.
    TruncatedHeader { left: usize },
    /// `nla_len` below the header size or beyond the bytes left.
    BadNlaLen { nla_len: usize, left: usize },
    /// A fixed-size attribute with the wrong payload length.
    BadLength { got: usize, expected: usize },
    /// An attribute type this list does not have.
    UnknownAttr { ty: u16 },
    /// The same attribute twice in one list.
    Duplicate,
    /// A value OVS rejects (the reason is given).
    Invalid(&'static str),
    /// Nesting deeper than [`MAX_ACTION_DEPTH`] / [`MAX_ENCAP_DEPTH`].
    TooDeep,
    /// A port name the [`PortMap`] does not know (encoding only).
    UnknownPortName(PortName),
    /// A model value with no netlink form in this codec (encoding only).
    Unsupported(&'static str),
}

/// A decoding or encoding failure: the attribute, the byte offset of its
/// header (0 when encoding), and what went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetlinkError {
    /// `OVS_KEY_ATTR_IPV4`, `OVS_CT_ATTR_ZONE`, ... or the list's name
    /// (`OVS_FLOW_ATTR_KEY`) when the header itself is cut short.
    pub attr: &'static str,
    pub offset: usize,
    pub kind: ErrorKind,
}

impl NetlinkError {
    pub(crate) fn new(attr: &'static str, offset: usize, kind: ErrorKind) -> Self {
        NetlinkError { attr, offset, kind }
    }
    pub(crate) fn truncated_header(offset: usize, left: usize) -> Self {
        Self::new(
            "attribute header",
            offset,
            ErrorKind::TruncatedHeader { left },
        )
    }
    pub(crate) fn bad_nla_len(
        attr: &'static str,
        offset: usize,
        nla_len: usize,
        left: usize,
    ) -> Self {
        Self::new(attr, offset, ErrorKind::BadNlaLen { nla_len, left })
    }
    pub(crate) fn bad_len(attr: &'static str, offset: usize, got: usize, expected: usize) -> Self {
        Self::new(attr, offset, ErrorKind::BadLength { got, expected })
    }
    pub(crate) fn invalid(attr: &'static str, offset: usize, why: &'static str) -> Self {
        Self::new(attr, offset, ErrorKind::Invalid(why))
    }
}

impl fmt::Display for NetlinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}: ", self.attr, self.offset)?;
        match self.kind {
            ErrorKind::TruncatedHeader { left } => {
                write!(f, "truncated: {left} bytes left for a 4-byte header")
            }
            ErrorKind::BadNlaLen { nla_len, left } if nla_len < attr::NLA_HDRLEN => {
                let _ = left;
                write!(f, "nla_len {nla_len} is below the 4-byte header")
            }
            ErrorKind::BadNlaLen { nla_len, left } => {
                write!(f, "nla_len {nla_len} exceeds the {left} bytes left")
            }
            ErrorKind::BadLength { got, expected } => {
                write!(f, "payload of {got} bytes, expected {expected}")
            }
            ErrorKind::UnknownAttr { ty } => write!(f, "unknown attribute type {ty}"),
            ErrorKind::Duplicate => f.write_str("attribute given twice"),
            ErrorKind::Invalid(why) => write!(f, "invalid: {why}"),
            ErrorKind::TooDeep => f.write_str("nesting too deep"),
            ErrorKind::UnknownPortName(n) => write!(f, "port name '{n}' has no number"),
            ErrorKind::Unsupported(what) => write!(f, "{what} has no netlink encoding here"),
        }
    }
}

impl std::error::Error for NetlinkError {}

impl Megaflow {
    /// A megaflow from the three netlink lists OVS gives an offload
    /// provider (`OVS_FLOW_ATTR_KEY`, `_MASK` — `None` for key-only —
    /// and `_ACTIONS`).  Statistics are left at their defaults.
    pub fn from_netlink(
        ufid: Option<Ufid>,
        key: &[u8],
        mask: Option<&[u8]>,
        actions: &[u8],
    ) -> Result<Megaflow, NetlinkError> {
        let mut m = Megaflow {
            ufid,
            ..Megaflow::default()
        };
        decode_key_into(key, mask, &mut m.key, &mut m.mask)?;
        decode_actions_into(actions, &mut m.actions)?;
        Ok(m)
    }

    /// Appends the key, mask and actions as netlink attribute lists.
    pub fn to_netlink(
        &self,
        ports: &mut dyn PortMap,
        key: &mut Vec<u8>,
        mask: &mut Vec<u8>,
        actions: &mut Vec<u8>,
    ) -> Result<(), NetlinkError> {
        encode_key(&self.key, ports, key)?;
        encode_mask(&self.mask, mask)?;
        encode_actions(&self.actions, ports, actions)
    }
}

/// Resolves port names to datapath port numbers when encoding.
pub trait PortMap {
    /// The number of port `name`, if known.
    fn port_number(&mut self, name: &str) -> Option<u32>;
}

/// Rejects every port name: only numbered ports encode.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPortNames;

impl PortMap for NoPortNames {
    fn port_number(&mut self, _: &str) -> Option<u32> {
        None
    }
}

impl<S: std::hash::BuildHasher> PortMap for HashMap<String, u32, S> {
    fn port_number(&mut self, name: &str) -> Option<u32> {
        self.get(name).copied()
    }
}

impl<M: PortMap + ?Sized> PortMap for &mut M {
    fn port_number(&mut self, name: &str) -> Option<u32> {
        (**self).port_number(name)
    }
}

/// A two-way port table: known names first, then each unknown name gets
/// the next free number from `first_auto` up.  After decoding,
/// [`PortTable::name_ports`] turns the numbers it handed out back into names
/// so that text → netlink → text can be compared.
#[derive(Debug, Clone)]
pub struct PortTable {
    by_name: HashMap<String, u32>,
    by_number: HashMap<u32, PortName>,
    next: u32,
}

impl PortTable {
    /// Unknown names get numbers from `first_auto` up.
    pub fn new(first_auto: u32) -> Self {
        PortTable {
            by_name: HashMap::new(),
            by_number: HashMap::new(),
            next: first_auto,
        }
    }

    /// Records `name` ↔ `number`.
    pub fn insert(&mut self, name: &str, number: u32) {
        if let Some(p) = PortName::new(name) {
            self.by_name.insert(name.to_owned(), number);
            self.by_number.insert(number, p);
        }
    }

    /// The name recorded for `number`.
    pub fn name(&self, number: u32) -> Option<PortName> {
        self.by_number.get(&number).copied()
    }

    fn rename(&self, p: &mut OdpPort) {
        if let OdpPort::Number(n) = *p {
            if let Some(name) = self.name(n) {
                *p = OdpPort::Name(name);
            }
        }
    }

    /// Replaces every port number this table named (key `in_port`, and
    /// `output`, `tnl_pop`, `tnl_push`, `userspace` ports in the actions,
    /// nested lists included) by its name.
    pub fn name_ports(&self, key: Option<&mut FlowKey>, actions: Option<&mut Actions>) {
        if let Some(k) = key {
            if k.has(super::KeyAttr::InPort) {
                self.rename(&mut k.in_port);
            }
        }
        if let Some(a) = actions {
            self.name_action_ports(a);
        }
    }

    fn name_action_ports(&self, list: &mut [Action]) {
        for a in list {
            match a {
                Action::Output(p) | Action::TnlPop(p) => self.rename(p),
                Action::TnlPush(t) => {
                    self.rename(&mut t.tnl_port);
                    self.rename(&mut t.out_port);
                }
                Action::Clone(l) | Action::DecTtl(l) => self.name_action_ports(l),
                Action::Sample(s) => self.name_action_ports(&mut s.actions),
                Action::CheckPktLen(c) => {
                    self.name_action_ports(&mut c.gt);
                    self.name_action_ports(&mut c.le);
                }
                Action::Userspace(u) => {
                    if let Some(p) = u.tunnel_out_port.as_mut() {
                        self.rename(p);
                    }
                    match u.cookie.as_mut() {
                        Some(super::UserCookie::FlowSample { output_port, .. })
                        | Some(super::UserCookie::Ipfix { output_port }) => {
                            self.rename(output_port)
                        }
                        _ => {}
                    }
                }
                Action::Set(s) => {
                    if let SetField::Other { key, .. } = &mut s.field {
                        if key.has(super::KeyAttr::InPort) {
                            self.rename(&mut key.in_port);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

impl PortMap for PortTable {
    fn port_number(&mut self, name: &str) -> Option<u32> {
        if let Some(n) = self.by_name.get(name) {
            return Some(*n);
        }
        while self.by_number.contains_key(&self.next) {
            self.next = self.next.wrapping_add(1);
        }
        let n = self.next;
        self.insert(name, n);
        self.by_name.get(name).copied()
    }
}

/// Resolves `p` to a number through `ports`.
pub(crate) fn port_number(
    p: &OdpPort,
    ports: &mut dyn PortMap,
    attr: &'static str,
) -> Result<u32, NetlinkError> {
    match p {
        OdpPort::Number(n) => Ok(*n),
        OdpPort::Name(name) => ports.port_number(name.as_str()).ok_or(NetlinkError::new(
            attr,
            0,
            ErrorKind::UnknownPortName(*name),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_name_attribute_and_offset() {
        let e = NetlinkError::bad_len("OVS_KEY_ATTR_IPV4", 24, 8, 12);
        assert_eq!(
            e.to_string(),
            "OVS_KEY_ATTR_IPV4 at byte 24: payload of 8 bytes, expected 12"
        );
        let e = NetlinkError::new(
            "OVS_ACTION_ATTR_OUTPUT",
            0,
            ErrorKind::UnknownPortName(PortName::new("p9").unwrap()),
        );
        assert_eq!(
            e.to_string(),
            "OVS_ACTION_ATTR_OUTPUT at byte 0: port name 'p9' has no number"
        );
    }

    #[test]
    fn port_table_numbers_names_and_maps_back() {
        let mut t = PortTable::new(1);
        t.insert("br0", 100);
        assert_eq!(t.port_number("p1"), Some(1));
        assert_eq!(t.port_number("p2"), Some(2));
        assert_eq!(t.port_number("p1"), Some(1));
        assert_eq!(t.port_number("br0"), Some(100));
        assert_eq!(t.name(2).unwrap().as_str(), "p2");
        assert_eq!(NoPortNames.port_number("p1"), None);
    }
}
