//! The 802.1Q key `vlan(vid=,pcp=,cfi=)`, held as the TCI in
//! [`FlowKey::vlan_tci`]; the headers behind the tag are in `encap(...)`.
//!
//! Invariant: a parsed `vlan(...)` has CFI (0x1000) set in key and mask unless
//! it says `cfi=0`, which is the only CFI form the formatter prints back.
use super::fields::{fields, kf};
use super::FlowKey;
use crate::lex::{Cursor, PResult};
use crate::write as w;

/// `format_vlan_tci()`.
pub(crate) fn fmt_vlan_tci(out: &mut String, tci: u16, mask: u16, verbose: bool) {
    let vid = |t: u16| t & 0x0fff;
    let pcp = |t: u16| (t >> 13) & 7;
    if verbose || vid(tci) != 0 || vid(mask) != 0 {
        out.push_str("vid=");
        w::dec(out, u64::from(vid(tci)));
        if vid(mask) != 0x0fff {
            out.push_str("/0x");
            w::hex(out, u64::from(vid(mask)));
        }
        out.push(',');
    }
    if verbose || pcp(tci) != 0 || pcp(mask) != 0 {
        out.push_str("pcp=");
        w::dec(out, u64::from(pcp(tci)));
        if pcp(mask) != 7 {
            out.push_str("/0x");
            w::hex(out, u64::from(pcp(mask)));
        }
        out.push(',');
    }
    if tci & 0x1000 == 0 {
        out.push_str("cfi=0,");
    }
    w::chomp(out, ',');
}

/// `vlan(vid=,pcp=,cfi=)` into the TCI (`SCAN_BEGIN_INIT`: CFI set in key and mask).
// Single caller (key::text::parse_key_attr), where this was an inline
// match arm: kept inline so the split costs the parser nothing.
#[inline(always)]
pub(crate) fn parse_vlan(
    c: &mut Cursor<'_>,
    an: &'static str,
    key: &mut FlowKey,
    mask: &mut FlowKey,
) -> PResult<()> {
    // SCAN_BEGIN_INIT: CFI set in both key and mask.
    let (mut kt, mut mt) = (0x1000u16, 0x1000u16);
    fields(c, an, true, |c, f| {
        let (name, bits, shift) = match f {
            b"vid" => ("vid", 12u32, 0u32),
            b"pcp" => ("pcp", 3, 13),
            b"cfi" => ("cfi", 1, 12),
            _ => return Ok(None),
        };
        let fmax = (1u64 << bits) - 1;
        let ctx = kf(an, name);
        let v = c.int(fmax, ctx)? as u16;
        let fm = (fmax as u16) << shift;
        kt = (kt & !fm) | (v << shift);
        if c.eat_byte(b'/') {
            let mv = c.int(fmax, ctx)? as u16;
            mt = (mt & !fm) | (mv << shift);
        } else {
            mt |= fm;
        }
        Ok(Some(name))
    })?;
    key.vlan_tci = kt;
    mask.vlan_tci = mt;
    Ok(())
}
