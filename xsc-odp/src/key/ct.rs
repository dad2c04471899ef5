//! Conntrack keys: `ct_state` (the `OVS_CS_F_*` bits), `ct_zone`, `ct_mark`,
//! `ct_label` and the original-direction tuples `ct_tuple4`/`ct_tuple6`.
//!
//! Invariants: the text parser accepts only [`ct_state::SUPPORTED`] bits (the
//! netlink decoder keeps the `u32` as OVS gave it); the formatter prints bits
//! without a name in hex, so nothing is lost either way.
use super::fields::{be16, fields, fmt_in6, fmt_ipv4, kf, m16, m8, m_ipv4, m_ipv6, u8u};
use super::flags::{ct_state_name, format_flags, format_flags_masked};
use super::FlowKey;
use crate::lex::{Cursor, PResult};
use crate::write as w;

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

/// `ct_tuple4(src=,dst=,proto=,tp_src=,tp_dst=)`.
// Single caller (key::text::parse_key_attr), where this was an inline
// match arm: kept inline so the split costs the parser nothing.
#[inline(always)]
pub(crate) fn parse_ct_tuple4(
    c: &mut Cursor<'_>,
    an: &'static str,
    key: &mut FlowKey,
    mask: &mut FlowKey,
) -> PResult<()> {
    let (k, m) = (&mut key.ct_tuple4, &mut mask.ct_tuple4);
    *k = CtTuple4::default();
    *m = CtTuple4::default();
    fields(c, an, true, |c, f| {
        Ok(Some(match f {
            b"src" => {
                (k.src, m.src) = m_ipv4(c, kf(an, "src"))?;
                "src"
            }
            b"dst" => {
                (k.dst, m.dst) = m_ipv4(c, kf(an, "dst"))?;
                "dst"
            }
            b"proto" => {
                (k.proto, m.proto) = m8(c, kf(an, "proto"))?;
                "proto"
            }
            b"tp_src" => {
                (k.src_port, m.src_port) = m16(c, kf(an, "tp_src"))?;
                "tp_src"
            }
            b"tp_dst" => {
                (k.dst_port, m.dst_port) = m16(c, kf(an, "tp_dst"))?;
                "tp_dst"
            }
            _ => return Ok(None),
        }))
    })?;
    Ok(())
}

/// `ct_tuple6(...)`: OVS prints `src_port`/`dst_port` and parses `tp_src`/`tp_dst`; both are read.
// Single caller (key::text::parse_key_attr), where this was an inline
// match arm: kept inline so the split costs the parser nothing.
#[inline(always)]
pub(crate) fn parse_ct_tuple6(
    c: &mut Cursor<'_>,
    an: &'static str,
    key: &mut FlowKey,
    mask: &mut FlowKey,
) -> PResult<()> {
    let (k, m) = (&mut key.ct_tuple6, &mut mask.ct_tuple6);
    *k = CtTuple6::default();
    *m = CtTuple6::default();
    fields(c, an, true, |c, f| {
        Ok(Some(match f {
            b"src" => {
                (k.src, m.src) = m_ipv6(c, kf(an, "src"))?;
                "src"
            }
            b"dst" => {
                (k.dst, m.dst) = m_ipv6(c, kf(an, "dst"))?;
                "dst"
            }
            b"proto" => {
                (k.proto, m.proto) = m8(c, kf(an, "proto"))?;
                "proto"
            }
            // OVS prints src_port/dst_port but parses tp_src/tp_dst.
            b"tp_src" | b"src_port" => {
                (k.src_port, m.src_port) = m16(c, kf(an, "src_port"))?;
                "src_port"
            }
            b"tp_dst" | b"dst_port" => {
                (k.dst_port, m.dst_port) = m16(c, kf(an, "dst_port"))?;
                "dst_port"
            }
            _ => return Ok(None),
        }))
    })?;
    Ok(())
}

/// `ct_state(...)`: flag names (`+trk-new` when masked), hex in verbose output.
pub(crate) fn format_ct_state(
    out: &mut String,
    key: &FlowKey,
    mask: Option<&FlowKey>,
    exact: bool,
    verbose: bool,
) {
    let mv = mask.map_or(u32::MAX, |m| m.ct_state);
    if verbose {
        w::hex_alt(out, u64::from(key.ct_state));
        if !exact {
            out.push('/');
            w::hex_alt(out, u64::from(mv));
        }
    } else if !exact {
        format_flags_masked(out, ct_state_name, key.ct_state, mv, u32::MAX);
    } else {
        format_flags(out, ct_state_name, key.ct_state, '|');
    }
}

/// `ct_zone(...)`: hex, printed empty when wildcarded in plain output.
pub(crate) fn format_ct_zone(
    out: &mut String,
    key: &FlowKey,
    mask: Option<&FlowKey>,
    exact: bool,
    mask_empty: bool,
    verbose: bool,
) {
    if verbose || !mask_empty {
        w::hex_alt(out, u64::from(key.ct_zone));
        if !exact {
            out.push('/');
            w::hex_alt(out, u64::from(mask.map_or(0, |m| m.ct_zone)));
        }
    }
}

/// `ct_tuple4(...)`.
pub(crate) fn format_ct_tuple4(
    out: &mut String,
    key: &FlowKey,
    mask: Option<&FlowKey>,
    verbose: bool,
) {
    let (k, m) = (&key.ct_tuple4, mask.map(|m| &m.ct_tuple4));
    fmt_ipv4(out, "src", k.src, m.map(|m| m.src), verbose);
    fmt_ipv4(out, "dst", k.dst, m.map(|m| m.dst), verbose);
    u8u(out, "proto", k.proto, m.map(|m| m.proto), verbose);
    be16(out, "tp_src", k.src_port, m.map(|m| m.src_port), verbose);
    be16(out, "tp_dst", k.dst_port, m.map(|m| m.dst_port), verbose);
    w::chomp(out, ',');
}

/// `ct_tuple6(...)`.
pub(crate) fn format_ct_tuple6(
    out: &mut String,
    key: &FlowKey,
    mask: Option<&FlowKey>,
    verbose: bool,
) {
    let (k, m) = (&key.ct_tuple6, mask.map(|m| &m.ct_tuple6));
    fmt_in6(out, "src", &k.src, m.map(|m| &m.src), verbose);
    fmt_in6(out, "dst", &k.dst, m.map(|m| &m.dst), verbose);
    u8u(out, "proto", k.proto, m.map(|m| m.proto), verbose);
    be16(out, "src_port", k.src_port, m.map(|m| m.src_port), verbose);
    be16(out, "dst_port", k.dst_port, m.map(|m| m.dst_port), verbose);
    w::chomp(out, ',');
}
