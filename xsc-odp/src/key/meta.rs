//! Packet metadata keys: `skb_priority`, `skb_mark`, `recirc_id`, `dp_hash`,
//! `in_port` (a number or a port name) and `packet_type`.
//!
//! Invariant: an `in_port` mask is always a number ([`OdpPort::Number`]);
//! a name in the key means an exact match.
use super::fields::{be16, be16x, fields, kf, m16, m32};
use super::FlowKey;
use crate::error::{Context, ErrorKind};
use crate::lex::{Cursor, PResult};
use crate::write as w;
use core::fmt;

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

/// `packet_type(ns=,id=)`: the OpenFlow header-type namespace and type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct PacketType {
    pub ns: u16,
    pub id: u16,
}

pub(crate) fn fmt_port(out: &mut String, p: &OdpPort) {
    match p {
        OdpPort::Number(n) => w::dec(out, u64::from(*n)),
        OdpPort::Name(n) => out.push_str(n.as_str()),
    }
}

pub(crate) fn format_port(out: &mut String, p: &OdpPort) {
    fmt_port(out, p);
}

/// `in_port(N)`, `in_port(N/MASK)` or `in_port(NAME)` (a name is exact).
// Single caller (key::text::parse_key_attr), where this was an inline
// match arm: kept inline so the split costs the parser nothing.
#[inline(always)]
pub(crate) fn parse_in_port(
    c: &mut Cursor<'_>,
    an: &'static str,
    key: &mut FlowKey,
    mask: &mut FlowKey,
) -> PResult<()> {
    let ctx = Context::Key(an);
    let close = |c: &mut Cursor<'_>| c.expect(")", "')'", ctx);
    if c.peek().is_some_and(|b| b.is_ascii_digit() || b == b'+') {
        let (v, m) = m32(c, ctx)?;
        key.in_port = OdpPort::Number(v);
        mask.in_port = OdpPort::Number(m);
    } else {
        let nat = c.pos();
        let name =
            c.take_while(|b| b != b')' && !b.is_ascii_whitespace() && b != b',' && b != b'(');
        let Some(pn) = core::str::from_utf8(name).ok().and_then(PortName::new) else {
            return Err(c.err_at(
                nat,
                ctx,
                ErrorKind::Expected("a port number or a name of at most 15 bytes"),
            ));
        };
        key.in_port = OdpPort::Name(pn);
        mask.in_port = OdpPort::Number(u32::MAX);
    }
    close(c)?;
    Ok(())
}

/// `packet_type(ns=,id=)`.
// Single caller (key::text::parse_key_attr), where this was an inline
// match arm: kept inline so the split costs the parser nothing.
#[inline(always)]
pub(crate) fn parse_packet_type(
    c: &mut Cursor<'_>,
    an: &'static str,
    key: &mut FlowKey,
    mask: &mut FlowKey,
) -> PResult<()> {
    let (k, m) = (&mut key.packet_type, &mut mask.packet_type);
    *k = PacketType::default();
    *m = PacketType::default();
    fields(c, an, true, |c, f| {
        Ok(Some(match f {
            b"ns" => {
                (k.ns, m.ns) = m16(c, kf(an, "ns"))?;
                "ns"
            }
            b"id" => {
                (k.id, m.id) = m16(c, kf(an, "id"))?;
                "id"
            }
            _ => return Ok(None),
        }))
    })?;
    Ok(())
}

/// `in_port(...)`: the number or name, with `/MASK` unless exact.
pub(crate) fn format_in_port(out: &mut String, key: &FlowKey, mask: Option<&FlowKey>, exact: bool) {
    if exact {
        fmt_port(out, &key.in_port);
    } else {
        fmt_port(out, &key.in_port);
        out.push('/');
        w::hex_alt(
            out,
            u64::from(mask.and_then(|m| m.in_port.number()).unwrap_or(0)),
        );
    }
}

/// `packet_type(ns=,id=)`.
pub(crate) fn format_packet_type(
    out: &mut String,
    key: &FlowKey,
    mask: Option<&FlowKey>,
    verbose: bool,
) {
    let m = mask.map_or(
        PacketType {
            ns: u16::MAX,
            id: u16::MAX,
        },
        |m| m.packet_type,
    );
    be16(out, "ns", key.packet_type.ns, Some(m.ns), verbose);
    be16x(out, "id", key.packet_type.id, Some(m.id), verbose);
    w::chomp(out, ',');
}
