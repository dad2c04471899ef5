//! The ARP key `arp(sip=,tip=,op=,sha=,tha=)` ([`ArpKey`]).
use super::fields::{be16, fields, fmt_eth, fmt_ipv4, kf, m16, m_ipv4, m_mac};
use super::FlowKey;
use crate::lex::{Cursor, PResult};
use crate::write as w;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct ArpKey {
    pub sip: u32,
    pub tip: u32,
    pub op: u16,
    pub sha: [u8; 6],
    pub tha: [u8; 6],
}

/// `arp(sip=,tip=,op=,sha=,tha=)`.
// Single caller (key::text::parse_key_attr), where this was an inline
// match arm: kept inline so the split costs the parser nothing.
#[inline(always)]
pub(crate) fn parse_arp(
    c: &mut Cursor<'_>,
    an: &'static str,
    key: &mut FlowKey,
    mask: &mut FlowKey,
) -> PResult<()> {
    let (k, m) = (&mut key.arp, &mut mask.arp);
    *k = ArpKey::default();
    *m = ArpKey::default();
    fields(c, an, true, |c, f| {
        Ok(Some(match f {
            b"sip" => {
                (k.sip, m.sip) = m_ipv4(c, kf(an, "sip"))?;
                "sip"
            }
            b"tip" => {
                (k.tip, m.tip) = m_ipv4(c, kf(an, "tip"))?;
                "tip"
            }
            b"op" => {
                (k.op, m.op) = m16(c, kf(an, "op"))?;
                "op"
            }
            b"sha" => {
                (k.sha, m.sha) = m_mac(c, kf(an, "sha"))?;
                "sha"
            }
            b"tha" => {
                (k.tha, m.tha) = m_mac(c, kf(an, "tha"))?;
                "tha"
            }
            _ => return Ok(None),
        }))
    })?;
    Ok(())
}

/// `arp(...)`.
pub(crate) fn format_arp(out: &mut String, key: &FlowKey, mask: Option<&FlowKey>, verbose: bool) {
    let (k, m) = (&key.arp, mask.map(|m| &m.arp));
    fmt_ipv4(out, "sip", k.sip, m.map(|m| m.sip), verbose);
    fmt_ipv4(out, "tip", k.tip, m.map(|m| m.tip), verbose);
    be16(out, "op", k.op, m.map(|m| m.op), verbose);
    fmt_eth(out, "sha", &k.sha, m.map(|m| &m.sha), verbose);
    fmt_eth(out, "tha", &k.tha, m.map(|m| &m.tha), verbose);
    w::chomp(out, ',');
}
