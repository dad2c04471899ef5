//! IP keys: `ipv4(...)` ([`Ipv4Key`]) and `ipv6(...)` ([`Ipv6Key`]), with the
//! fragment type ([`frag`]).
//!
//! Invariant: IPv4 addresses are host-order `u32`, IPv6 addresses network-order
//! bytes; a `frag` mask is `0` or `0xff`.
use super::fields::{fields, fmt_in6, fmt_ipv4, kf, m8, m_int, m_ipv4, m_ipv6, u8u, u8x};
use crate::error::{Context, ErrorKind};
use crate::lex::{Cursor, PResult};
use crate::write as w;

/// `ovs_frag_type`.
pub mod frag {
    pub const NONE: u8 = 0;
    pub const FIRST: u8 = 1;
    pub const LATER: u8 = 2;
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

pub(crate) fn scan_frag(c: &mut Cursor<'_>, ctx: Context) -> PResult<u8> {
    let at = c.pos();
    let word = c.take_while(|b| b.is_ascii_lowercase());
    match word {
        b"no" => Ok(frag::NONE),
        b"first" => Ok(frag::FIRST),
        b"later" => Ok(frag::LATER),
        b"" => Err(c.expected("'no', 'first' or 'later'", ctx)),
        _ => Err(c.err_at(
            at,
            ctx,
            ErrorKind::Invalid("frag value (no, first or later)"),
        )),
    }
}

pub(crate) fn fmt_frag(out: &mut String, k: u8, m: Option<u8>) {
    let empty = m == Some(0);
    let full = m.map_or(true, |m| m == 0xff);
    if !empty && !full {
        out.push_str("error: partial mask not supported for frag (");
        w::hex_alt(out, u64::from(m.unwrap_or(0)));
        out.push_str("),");
    } else if !empty {
        out.push_str("frag=");
        out.push_str(match k {
            frag::NONE => "no",
            frag::FIRST => "first",
            frag::LATER => "later",
            _ => "<error>",
        });
        out.push(',');
    }
}

pub(crate) fn parse_ipv4_fields(
    c: &mut Cursor<'_>,
    k: &mut Ipv4Key,
    m: &mut Ipv4Key,
) -> PResult<()> {
    const A: &str = "ipv4";
    fields(c, A, true, |c, f| {
        Ok(Some(match f {
            b"src" => {
                (k.src, m.src) = m_ipv4(c, kf(A, "src"))?;
                "src"
            }
            b"dst" => {
                (k.dst, m.dst) = m_ipv4(c, kf(A, "dst"))?;
                "dst"
            }
            b"proto" => {
                (k.proto, m.proto) = m8(c, kf(A, "proto"))?;
                "proto"
            }
            b"tos" => {
                (k.tos, m.tos) = m8(c, kf(A, "tos"))?;
                "tos"
            }
            b"ttl" => {
                (k.ttl, m.ttl) = m8(c, kf(A, "ttl"))?;
                "ttl"
            }
            b"frag" => {
                k.frag = scan_frag(c, kf(A, "frag"))?;
                m.frag = 0xff;
                "frag"
            }
            _ => return Ok(None),
        }))
    })
}

pub(crate) fn parse_ipv6_fields(
    c: &mut Cursor<'_>,
    k: &mut Ipv6Key,
    m: &mut Ipv6Key,
) -> PResult<()> {
    const A: &str = "ipv6";
    fields(c, A, true, |c, f| {
        Ok(Some(match f {
            b"src" => {
                (k.src, m.src) = m_ipv6(c, kf(A, "src"))?;
                "src"
            }
            b"dst" => {
                (k.dst, m.dst) = m_ipv6(c, kf(A, "dst"))?;
                "dst"
            }
            b"label" => {
                let (v, mm) = m_int(c, 0xf_ffff, kf(A, "label"))?;
                (k.label, m.label) = (v as u32, mm as u32);
                "label"
            }
            b"proto" => {
                (k.proto, m.proto) = m8(c, kf(A, "proto"))?;
                "proto"
            }
            b"tclass" => {
                (k.tclass, m.tclass) = m8(c, kf(A, "tclass"))?;
                "tclass"
            }
            b"hlimit" => {
                (k.hlimit, m.hlimit) = m8(c, kf(A, "hlimit"))?;
                "hlimit"
            }
            b"frag" => {
                k.frag = scan_frag(c, kf(A, "frag"))?;
                m.frag = 0xff;
                "frag"
            }
            _ => return Ok(None),
        }))
    })
}

pub(crate) fn fmt_ipv4_key(out: &mut String, k: &Ipv4Key, m: Option<&Ipv4Key>, verbose: bool) {
    fmt_ipv4(out, "src", k.src, m.map(|m| m.src), verbose);
    fmt_ipv4(out, "dst", k.dst, m.map(|m| m.dst), verbose);
    u8u(out, "proto", k.proto, m.map(|m| m.proto), verbose);
    u8x(out, "tos", k.tos, m.map(|m| m.tos), verbose);
    u8u(out, "ttl", k.ttl, m.map(|m| m.ttl), verbose);
    fmt_frag(out, k.frag, m.map(|m| m.frag));
    w::chomp(out, ',');
}

pub(crate) fn fmt_ipv6_key(out: &mut String, k: &Ipv6Key, m: Option<&Ipv6Key>, verbose: bool) {
    fmt_in6(out, "src", &k.src, m.map(|m| &m.src), verbose);
    fmt_in6(out, "dst", &k.dst, m.map(|m| &m.dst), verbose);
    // format_ipv6_label(): full when the 20 label bits are set.
    let lm = m.map(|m| m.label);
    if verbose || lm != Some(0) {
        out.push_str("label=");
        w::hex_alt(out, u64::from(k.label));
        if let Some(lm) = lm.filter(|&lm| lm & 0xf_ffff != 0xf_ffff) {
            out.push('/');
            w::hex_alt(out, u64::from(lm));
        }
        out.push(',');
    }
    u8u(out, "proto", k.proto, m.map(|m| m.proto), verbose);
    u8x(out, "tclass", k.tclass, m.map(|m| m.tclass), verbose);
    u8u(out, "hlimit", k.hlimit, m.map(|m| m.hlimit), verbose);
    fmt_frag(out, k.frag, m.map(|m| m.frag));
    w::chomp(out, ',');
}
