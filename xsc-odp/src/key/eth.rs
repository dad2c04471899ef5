//! Ethernet keys: `eth(src=,dst=)` ([`EthKey`]) and `eth_type(...)`.
use super::fields::{fields, fmt_eth, kf, m_mac};
use super::FlowKey;
use crate::lex::{Cursor, PResult};
use crate::write as w;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct EthKey {
    pub src: [u8; 6],
    pub dst: [u8; 6],
}

pub(crate) fn parse_eth_fields(c: &mut Cursor<'_>, k: &mut EthKey, m: &mut EthKey) -> PResult<()> {
    fields(c, "eth", true, |c, f| {
        Ok(Some(match f {
            b"src" => {
                (k.src, m.src) = m_mac(c, kf("eth", "src"))?;
                "src"
            }
            b"dst" => {
                (k.dst, m.dst) = m_mac(c, kf("eth", "dst"))?;
                "dst"
            }
            _ => return Ok(None),
        }))
    })
}

pub(crate) fn fmt_eth_key(out: &mut String, k: &EthKey, m: Option<&EthKey>, verbose: bool) {
    fmt_eth(out, "src", &k.src, m.map(|m| &m.src), verbose);
    fmt_eth(out, "dst", &k.dst, m.map(|m| &m.dst), verbose);
    w::chomp(out, ',');
}

/// `eth_type(0xNNNN[/0xMMMM])`.
pub(crate) fn format_eth_type(
    out: &mut String,
    key: &FlowKey,
    mask: Option<&FlowKey>,
    exact: bool,
) {
    out.push_str("0x");
    w::hex_pad(out, u64::from(key.eth_type), 4);
    if !exact {
        out.push_str("/0x");
        w::hex_pad(out, u64::from(mask.map_or(0, |m| m.eth_type)), 4);
    }
}
