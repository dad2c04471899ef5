//! IPv6 neighbour discovery keys: `nd(target=,sll=,tll=)` ([`NdKey`]) and
//! `nd_ext(nd_reserved=,nd_options_type=)` ([`NdExtKey`]).
use super::fields::{fields, fmt_eth, fmt_in6, kf, m32, m8, m_ipv6, m_mac, u8u};
use super::FlowKey;
use crate::lex::{Cursor, PResult};
use crate::write as w;

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

/// `nd(target=,sll=,tll=)`.
// Single caller (key::text::parse_key_attr), where this was an inline
// match arm: kept inline so the split costs the parser nothing.
#[inline(always)]
pub(crate) fn parse_nd(
    c: &mut Cursor<'_>,
    an: &'static str,
    key: &mut FlowKey,
    mask: &mut FlowKey,
) -> PResult<()> {
    let (k, m) = (&mut key.nd, &mut mask.nd);
    *k = NdKey::default();
    *m = NdKey::default();
    fields(c, an, true, |c, f| {
        Ok(Some(match f {
            b"target" => {
                (k.target, m.target) = m_ipv6(c, kf(an, "target"))?;
                "target"
            }
            b"sll" => {
                (k.sll, m.sll) = m_mac(c, kf(an, "sll"))?;
                "sll"
            }
            b"tll" => {
                (k.tll, m.tll) = m_mac(c, kf(an, "tll"))?;
                "tll"
            }
            _ => return Ok(None),
        }))
    })?;
    Ok(())
}

/// `nd_ext(nd_reserved=,nd_options_type=)`.
// Single caller (key::text::parse_key_attr), where this was an inline
// match arm: kept inline so the split costs the parser nothing.
#[inline(always)]
pub(crate) fn parse_nd_ext(
    c: &mut Cursor<'_>,
    an: &'static str,
    key: &mut FlowKey,
    mask: &mut FlowKey,
) -> PResult<()> {
    let (k, m) = (&mut key.nd_ext, &mut mask.nd_ext);
    *k = NdExtKey::default();
    *m = NdExtKey::default();
    fields(c, an, true, |c, f| {
        Ok(Some(match f {
            b"nd_reserved" => {
                (k.reserved, m.reserved) = m32(c, kf(an, "nd_reserved"))?;
                "nd_reserved"
            }
            b"nd_options_type" => {
                (k.options_type, m.options_type) = m8(c, kf(an, "nd_options_type"))?;
                "nd_options_type"
            }
            _ => return Ok(None),
        }))
    })?;
    Ok(())
}

/// `nd(...)`.
pub(crate) fn format_nd(out: &mut String, key: &FlowKey, mask: Option<&FlowKey>, verbose: bool) {
    let (k, m) = (&key.nd, mask.map(|m| &m.nd));
    fmt_in6(out, "target", &k.target, m.map(|m| &m.target), verbose);
    fmt_eth(out, "sll", &k.sll, m.map(|m| &m.sll), verbose);
    fmt_eth(out, "tll", &k.tll, m.map(|m| &m.tll), verbose);
    w::chomp(out, ',');
}

/// `nd_ext(...)`.
pub(crate) fn format_nd_ext(
    out: &mut String,
    key: &FlowKey,
    mask: Option<&FlowKey>,
    verbose: bool,
) {
    let (k, m) = (&key.nd_ext, mask.map(|m| &m.nd_ext));
    out.push_str("nd_reserved=");
    w::hex_0x(out, u64::from(k.reserved));
    out.push(',');
    u8u(
        out,
        "nd_options_type",
        k.options_type,
        m.map(|m| m.options_type),
        verbose,
    );
    w::chomp(out, ',');
}
