//! Transport keys: `tcp(...)`, `udp(...)`, `sctp(...)` ([`PortsKey`]), `tcp_flags(...)`,
//! `icmp(...)` and `icmpv6(...)` ([`IcmpKey`]).
use super::fields::{be16, fields, kf, m16, m8, u8u};
use super::flags::{format_flags, format_flags_masked, tcp_flag_name};
use super::{FlowKey, KeyAttr};
use crate::lex::{Cursor, PResult};
use crate::write as w;

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

pub(crate) fn parse_ports(
    c: &mut Cursor<'_>,
    an: &'static str,
    k: &mut PortsKey,
    m: &mut PortsKey,
) -> PResult<()> {
    *k = PortsKey::default();
    *m = PortsKey::default();
    fields(c, an, true, |c, f| {
        Ok(Some(match f {
            b"src" => {
                (k.src, m.src) = m16(c, kf(an, "src"))?;
                "src"
            }
            b"dst" => {
                (k.dst, m.dst) = m16(c, kf(an, "dst"))?;
                "dst"
            }
            _ => return Ok(None),
        }))
    })
}

pub(crate) fn parse_icmp(
    c: &mut Cursor<'_>,
    an: &'static str,
    k: &mut IcmpKey,
    m: &mut IcmpKey,
) -> PResult<()> {
    *k = IcmpKey::default();
    *m = IcmpKey::default();
    fields(c, an, true, |c, f| {
        Ok(Some(match f {
            b"type" => {
                (k.type_, m.type_) = m8(c, kf(an, "type"))?;
                "type"
            }
            b"code" => {
                (k.code, m.code) = m8(c, kf(an, "code"))?;
                "code"
            }
            _ => return Ok(None),
        }))
    })
}

pub(crate) fn fmt_ports_key(out: &mut String, k: &PortsKey, m: Option<&PortsKey>, verbose: bool) {
    be16(out, "src", k.src, m.map(|m| m.src), verbose);
    be16(out, "dst", k.dst, m.map(|m| m.dst), verbose);
    w::chomp(out, ',');
}

/// `tcp_flags(...)`: flag names (`+syn-ack` when masked).
pub(crate) fn format_tcp_flags(
    out: &mut String,
    key: &FlowKey,
    mask: Option<&FlowKey>,
    exact: bool,
) {
    if !exact {
        let m = mask.map_or(0, |m| m.tcp_flags) & 0x0fff;
        format_flags_masked(
            out,
            tcp_flag_name,
            u32::from(key.tcp_flags),
            u32::from(m),
            0x0fff,
        );
    } else {
        format_flags(out, tcp_flag_name, u32::from(key.tcp_flags), '|');
    }
}

/// `icmp(type=,code=)` and `icmpv6(...)`.
pub(crate) fn format_icmp(
    out: &mut String,
    key: &FlowKey,
    mask: Option<&FlowKey>,
    verbose: bool,
    attr: KeyAttr,
) {
    let get = |k: &FlowKey| {
        if attr == KeyAttr::Icmp {
            k.icmp
        } else {
            k.icmpv6
        }
    };
    let (k, m) = (get(key), mask.map(get));
    u8u(out, "type", k.type_, m.map(|m| m.type_), verbose);
    u8u(out, "code", k.code, m.map(|m| m.code), verbose);
    w::chomp(out, ',');
}
