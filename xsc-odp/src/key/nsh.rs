//! The NSH key `nsh(...)` ([`NshKey`]): base header and MD type 1 context.
//!
//! Invariant: after a text parse, a field whose mask is zero has a zero value
//! (OVS prints no such field, so a value under a zero mask could never be read
//! back).  The NSH netlink codec is in `netlink::nsh`.
use super::fields::{fields, kf, m32, m8, m_int};
use super::FlowKey;
use crate::lex::{Cursor, PResult};
use crate::write as w;

/// `nsh(...)` (base header and MD type 1 context).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct NshKey {
    pub flags: u8,
    pub ttl: u8,
    pub mdtype: u8,
    pub np: u8,
    /// 24-bit service path identifier.
    pub spi: u32,
    pub si: u8,
    pub context: [u32; 4],
}

/// `format_odp_nsh_attr()`.
pub(crate) fn fmt_nsh(out: &mut String, k: &NshKey, m: Option<&NshKey>) {
    let Some(m) = m else {
        // format_nsh_key(): OVS prints no comma between flags and ttl.
        fmt_nsh_header(out, k, "");
        return;
    };
    let mut first = true;
    nsh_u8(out, &mut first, "flags", k.flags, m.flags);
    nsh_u8(out, &mut first, "ttl", k.ttl, m.ttl);
    nsh_u8(out, &mut first, "mdtype", k.mdtype, m.mdtype);
    nsh_u8(out, &mut first, "np", k.np, m.np);
    let spi_m = if m.spi == 0xff_ffff { u32::MAX } else { m.spi };
    nsh_be32(out, &mut first, "spi", k.spi, spi_m);
    nsh_u8(out, &mut first, "si", k.si, m.si);
    for (i, name) in ["c1", "c2", "c3", "c4"].iter().enumerate() {
        nsh_be32(out, &mut first, name, k.context[i], m.context[i]);
    }
}

/// The unmasked NSH header as `format_nsh_key()` and `push_nsh(...)` print
/// it: `flags=F`, `sep`, `ttl=,mdtype=,np=,spi=0x,si=`, then `c1..c4` for MD
/// type 1.  `sep` is `""` in a key (OVS prints no comma there) and `","` in
/// `push_nsh`.
pub(crate) fn fmt_nsh_header(out: &mut String, k: &NshKey, sep: &str) {
    out.push_str("flags=");
    w::dec(out, u64::from(k.flags));
    out.push_str(sep);
    out.push_str("ttl=");
    w::dec(out, u64::from(k.ttl));
    out.push_str(",mdtype=");
    w::dec(out, u64::from(k.mdtype));
    out.push_str(",np=");
    w::dec(out, u64::from(k.np));
    out.push_str(",spi=0x");
    w::hex(out, u64::from(k.spi));
    out.push_str(",si=");
    w::dec(out, u64::from(k.si));
    if k.mdtype == 1 {
        for (i, c) in k.context.iter().enumerate() {
            out.push_str(",c");
            w::dec(out, i as u64 + 1);
            out.push_str("=0x");
            w::hex(out, u64::from(*c));
        }
    }
}

/// `format_uint8_masked()`.
pub(crate) fn nsh_u8(out: &mut String, first: &mut bool, name: &str, v: u8, m: u8) {
    if m != 0 {
        if !*first {
            out.push(',');
        }
        out.push_str(name);
        out.push('=');
        if m == 0xff {
            w::dec(out, u64::from(v));
        } else {
            out.push_str("0x");
            w::hex_pad(out, u64::from(v), 2);
            out.push_str("/0x");
            w::hex_pad(out, u64::from(m), 2);
        }
        *first = false;
    }
}

/// `format_be32_masked()`.
pub(crate) fn nsh_be32(out: &mut String, first: &mut bool, name: &str, v: u32, m: u32) {
    if m != 0 {
        if !*first {
            out.push(',');
        }
        out.push_str(name);
        out.push_str("=0x");
        w::hex(out, u64::from(v));
        if m != u32::MAX {
            out.push_str("/0x");
            w::hex_pad(out, u64::from(m), 8);
        }
        *first = false;
    }
}

/// `nsh(flags=,ttl=,mdtype=,np=,spi=,si=,c1=..c4=)`.
// Single caller (key::text::parse_key_attr), where this was an inline
// match arm: kept inline so the split costs the parser nothing.
#[inline(always)]
pub(crate) fn parse_nsh(
    c: &mut Cursor<'_>,
    an: &'static str,
    key: &mut FlowKey,
    mask: &mut FlowKey,
) -> PResult<()> {
    let (k, m) = (&mut key.nsh, &mut mask.nsh);
    *k = NshKey::default();
    *m = NshKey::default();
    fields(c, an, true, |c, f| {
        Ok(Some(match f {
            b"flags" => {
                (k.flags, m.flags) = m8(c, kf(an, "flags"))?;
                "flags"
            }
            b"ttl" => {
                (k.ttl, m.ttl) = m8(c, kf(an, "ttl"))?;
                "ttl"
            }
            b"mdtype" => {
                (k.mdtype, m.mdtype) = m8(c, kf(an, "mdtype"))?;
                "mdtype"
            }
            b"np" => {
                (k.np, m.np) = m8(c, kf(an, "np"))?;
                "np"
            }
            b"spi" => {
                let (v, mm) = m_int(c, 0xff_ffff, kf(an, "spi"))?;
                (k.spi, m.spi) = (v as u32, mm as u32);
                "spi"
            }
            b"si" => {
                (k.si, m.si) = m8(c, kf(an, "si"))?;
                "si"
            }
            b"c1" | b"c2" | b"c3" | b"c4" => {
                let i = usize::from(f[1] - b'1');
                let name = ["c1", "c2", "c3", "c4"][i];
                (k.context[i], m.context[i]) = m32(c, kf(an, name))?;
                name
            }
            _ => return Ok(None),
        }))
    })?;
    // OVS prints no NSH field whose mask is zero
    // (format_uint8_masked and friends), so a value under a zero
    // mask could never be read back: keep it zero.
    for (v, mm) in [
        (&mut k.flags, m.flags),
        (&mut k.ttl, m.ttl),
        (&mut k.mdtype, m.mdtype),
        (&mut k.np, m.np),
        (&mut k.si, m.si),
    ] {
        if mm == 0 {
            *v = 0;
        }
    }
    if m.spi == 0 {
        k.spi = 0;
    }
    for i in 0..4 {
        if m.context[i] == 0 {
            k.context[i] = 0;
        }
    }
    Ok(())
}
