//! The MPLS key `mpls(label=,tc=,ttl=,bos=)`: up to three label stack entries.
use super::fields::{fields, kf};
use super::FlowKey;
use crate::error::{Context, ErrorKind};
use crate::lex::{Cursor, PResult};
use crate::write as w;

/// Up to `FLOW_MAX_MPLS_LABELS` label stack entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct MplsKey {
    pub lse: [u32; 3],
    pub n: u8,
}

impl MplsKey {
    pub fn entries(&self) -> &[u32] {
        &self.lse[..usize::from(self.n.min(3))]
    }
}

/// `format_mpls_lse()`.
pub(crate) fn fmt_mpls_lse(out: &mut String, lse: u32) {
    out.push_str("label=");
    w::dec(out, u64::from(lse >> 12));
    out.push_str(",tc=");
    w::dec(out, u64::from((lse >> 9) & 7));
    out.push_str(",ttl=");
    w::dec(out, u64::from(lse & 0xff));
    out.push_str(",bos=");
    w::dec(out, u64::from((lse >> 8) & 1));
}

/// `mpls(label=,tc=,ttl=,bos=[,label=...])`: a repeated field starts the next label stack entry.
// Single caller (key::text::parse_key_attr), where this was an inline
// match arm: kept inline so the split costs the parser nothing.
#[inline(always)]
pub(crate) fn parse_mpls(
    c: &mut Cursor<'_>,
    an: &'static str,
    key: &mut FlowKey,
    mask: &mut FlowKey,
) -> PResult<()> {
    let (mut kl, mut ml) = ([0u32; 3], [0u32; 3]);
    let mut idx = 0usize;
    let mut seen = 0u8;
    fields(c, an, true, |c, f| {
        let (name, bit, bits, shift) = match f {
            b"label" => ("label", 1u8, 20u32, 12u32),
            b"tc" => ("tc", 2, 3, 9),
            b"ttl" => ("ttl", 4, 8, 0),
            b"bos" => ("bos", 8, 1, 8),
            _ => return Ok(None),
        };
        if seen & bit != 0 {
            seen = 0;
            idx += 1;
            if idx == 3 {
                return Err(c.err(
                    Context::Key(an),
                    ErrorKind::Invalid("MPLS stack deeper than 3 labels"),
                ));
            }
        }
        seen |= bit;
        let fmax = (1u64 << bits) - 1;
        let ctx = kf(an, name);
        let v = c.int(fmax, ctx)? as u32;
        let fm = (fmax as u32) << shift;
        kl[idx] = (kl[idx] & !fm) | (v << shift);
        if c.eat_byte(b'/') {
            let mv = c.int(fmax, ctx)? as u32;
            ml[idx] = (ml[idx] & !fm) | (mv << shift);
        } else {
            ml[idx] |= fm;
        }
        Ok(Some(name))
    })?;
    let n = (idx + 1) as u8;
    key.mpls = MplsKey { lse: kl, n };
    mask.mpls = MplsKey { lse: ml, n };
    Ok(())
}

/// `mpls(...)`: each label stack entry, with masks unless exact.
pub(crate) fn format_mpls(out: &mut String, key: &FlowKey, mask: Option<&FlowKey>, exact: bool) {
    for (i, &lse) in key.mpls.entries().iter().enumerate() {
        if exact {
            fmt_mpls_lse(out, lse);
        } else {
            let m = mask.map_or(0, |m| m.mpls.lse.get(i).copied().unwrap_or(0));
            out.push_str("label=");
            w::dec(out, u64::from(lse >> 12));
            out.push_str("/0x");
            w::hex(out, u64::from(m >> 12));
            out.push_str(",tc=");
            w::dec(out, u64::from((lse >> 9) & 7));
            out.push('/');
            w::hex(out, u64::from((m >> 9) & 7));
            out.push_str(",ttl=");
            w::dec(out, u64::from(lse & 0xff));
            out.push_str("/0x");
            w::hex(out, u64::from(m & 0xff));
            out.push_str(",bos=");
            w::dec(out, u64::from((lse >> 8) & 1));
            out.push('/');
            w::hex(out, u64::from((m >> 8) & 1));
        }
        out.push(',');
    }
    w::chomp(out, ',');
}
