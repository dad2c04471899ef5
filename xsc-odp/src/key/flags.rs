//! Flag words in text: the name tables of `ct_state`, `tcp_flags` and the tunnel
//! flags (`odp_ct_state_to_string()`, `packet_tcp_flag_to_string()`,
//! `flow_tun_flag_to_string()`), their inverses, and `parse_flags()` /
//! `format_flags()` / `format_flags_masked()`.
//!
//! Invariant: each `*_bit` table is the exact inverse of its `*_name` table
//! (tested below).
use crate::error::{Context, ErrorKind};
use crate::lex::{Cursor, PResult};
use crate::write as w;

pub(crate) fn ct_state_name(bit: u32) -> Option<&'static str> {
    Some(match bit {
        0x01 => "new",
        0x02 => "est",
        0x04 => "rel",
        0x08 => "rpl",
        0x10 => "inv",
        0x20 => "trk",
        0x40 => "snat",
        0x80 => "dnat",
        _ => return None,
    })
}

pub(crate) fn tcp_flag_name(bit: u32) -> Option<&'static str> {
    Some(match bit {
        0x001 => "fin",
        0x002 => "syn",
        0x004 => "rst",
        0x008 => "psh",
        0x010 => "ack",
        0x020 => "urg",
        0x040 => "ece",
        0x080 => "cwr",
        0x100 => "ns",
        0x200 => "[200]",
        0x400 => "[400]",
        0x800 => "[800]",
        _ => return None,
    })
}

pub(crate) fn tun_flag_name(bit: u32) -> Option<&'static str> {
    Some(match bit {
        0x1 => "oam",
        0x2 => "df",
        0x4 => "csum",
        0x8 => "key",
        _ => return None,
    })
}

pub(crate) type FlagNames = fn(u32) -> Option<&'static str>;
/// The inverse of a [`FlagNames`] table: a name's bit.
pub(crate) type FlagBits = fn(&[u8]) -> Option<u32>;

pub(crate) fn ct_state_bit(name: &[u8]) -> Option<u32> {
    Some(match name {
        b"new" => 0x01,
        b"est" => 0x02,
        b"rel" => 0x04,
        b"rpl" => 0x08,
        b"inv" => 0x10,
        b"trk" => 0x20,
        b"snat" => 0x40,
        b"dnat" => 0x80,
        _ => return None,
    })
}

pub(crate) fn tcp_flag_bit(name: &[u8]) -> Option<u32> {
    Some(match name {
        b"fin" => 0x001,
        b"syn" => 0x002,
        b"rst" => 0x004,
        b"psh" => 0x008,
        b"ack" => 0x010,
        b"urg" => 0x020,
        b"ece" => 0x040,
        b"cwr" => 0x080,
        b"ns" => 0x100,
        b"[200]" => 0x200,
        b"[400]" => 0x400,
        b"[800]" => 0x800,
        _ => return None,
    })
}

pub(crate) fn tun_flag_bit(name: &[u8]) -> Option<u32> {
    Some(match name {
        b"oam" => 0x1,
        b"df" => 0x2,
        b"csum" => 0x4,
        b"key" => 0x8,
        _ => return None,
    })
}

/// `format_flags()`.
pub(crate) fn format_flags(out: &mut String, names: FlagNames, flags: u32, del: char) {
    if flags == 0 {
        out.push('0');
        return;
    }
    let mut bad = 0u32;
    let mut f = flags;
    while f != 0 {
        let bit = f & f.wrapping_neg();
        match names(bit) {
            Some(n) => {
                out.push_str(n);
                out.push(del);
            }
            None => bad |= bit,
        }
        f &= !bit;
    }
    if bad != 0 {
        w::hex_0x(out, u64::from(bad));
        out.push(del);
    }
    w::chomp(out, del);
}

/// `format_flags_masked()` without a name.
pub(crate) fn format_flags_masked(
    out: &mut String,
    names: FlagNames,
    flags: u32,
    mask: u32,
    max: u32,
) {
    if mask == max {
        format_flags(out, names, flags, '|');
        return;
    }
    if mask == 0 {
        out.push_str("0/0");
        return;
    }
    let mut m = mask;
    while m != 0 {
        let bit = m & m.wrapping_neg();
        out.push(if flags & bit != 0 { '+' } else { '-' });
        out.push_str(names(bit).unwrap_or("[Unknown]"));
        m &= !bit;
    }
}

/// `parse_flags()` with a mask, ending at `)` (which is not consumed).
/// `bit_of` is the inverse of a [`FlagNames`] table.
/// Returns `(flags, mask)`; the unmasked forms give a mask of `u32::MAX`.
pub(crate) fn parse_flags(
    c: &mut Cursor<'_>,
    bit_of: FlagBits,
    allowed: u32,
    ctx: Context,
) -> PResult<(u32, u32)> {
    // Numeric "value/mask".
    if c.peek().is_some_and(|b| b.is_ascii_digit()) {
        let save = c.pos();
        let v = c.int(u64::from(u32::MAX), ctx)? as u32;
        if c.eat_byte(b'/') {
            let m = c.int(u64::from(u32::MAX), ctx)? as u32;
            if v & !allowed != 0 || m & !allowed != 0 {
                return Err(c.err_at(save, ctx, ErrorKind::Invalid("flag bits")));
            }
            return Ok((v, m));
        }
        c.set_pos(save);
    }
    // The flag name runs up to the first byte of `ends` (no name contains
    // one); `bit_of` maps it back with one `match` instead of a string
    // comparison per candidate bit.
    let lookup = |c: &Cursor<'_>, ends: &[u8]| -> Option<(u32, usize)> {
        let rest = c.rest();
        let len = rest.iter().position(|b| ends.contains(b))?;
        Some((bit_of(rest.get(..len)?)?, len))
    };
    if matches!(c.peek(), Some(b'+' | b'-')) {
        let (mut flags, mut mask) = (0u32, 0u32);
        while c.peek() != Some(b')') {
            let set = match c.peek() {
                Some(b'+') => true,
                Some(b'-') => false,
                _ => return Err(c.expected("'+' or '-' before a flag name", ctx)),
            };
            c.bump();
            let at = c.pos();
            let Some((bit, len)) = lookup(c, b"+-)") else {
                return Err(c.err(ctx, ErrorKind::Invalid("flag name")));
            };
            if mask & bit != 0 {
                return Err(c.err_at(at, ctx, ErrorKind::Invalid("repeated flag")));
            }
            if bit & allowed == 0 {
                return Err(c.err_at(at, ctx, ErrorKind::Invalid("flag name")));
            }
            if set {
                flags |= bit;
            }
            mask |= bit;
            c.set_pos(at + len);
        }
        return Ok((flags, mask));
    }
    let mut flags = 0u32;
    while c.peek() != Some(b')') {
        if c.at_end() {
            return Err(c.expected("')'", ctx));
        }
        if c.peek().is_some_and(|b| b.is_ascii_digit()) {
            let at = c.pos();
            let v = c.int(u64::from(u32::MAX), ctx)? as u32;
            if v & !allowed != 0 {
                return Err(c.err_at(at, ctx, ErrorKind::Invalid("flag bits")));
            }
            flags |= v;
            c.eat_byte(b'|');
            continue;
        }
        let at = c.pos();
        let Some((bit, len)) = lookup(c, b"|)") else {
            return Err(c.err(ctx, ErrorKind::Invalid("flag name")));
        };
        if bit & allowed == 0 {
            return Err(c.err_at(at, ctx, ErrorKind::Invalid("flag name")));
        }
        flags |= bit;
        c.set_pos(at + len);
        c.eat_byte(b'|');
    }
    Ok((flags, u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_bit_tables_invert_flag_name_tables() {
        let tables: [(FlagNames, FlagBits); 3] = [
            (ct_state_name, ct_state_bit),
            (tcp_flag_name, tcp_flag_bit),
            (tun_flag_name, tun_flag_bit),
        ];
        for (names, bits) in tables {
            let mut n = 0;
            for i in 0..32 {
                if let Some(name) = names(1 << i) {
                    assert_eq!(bits(name.as_bytes()), Some(1 << i), "{name}");
                    n += 1;
                }
            }
            // No name the forward table lacks.
            for w in [&b"trk"[..], b"syn", b"csum", b"new", b"ns", b"[200]", b"df"] {
                if let Some(b) = bits(w) {
                    assert_eq!(names(b).map(str::as_bytes), Some(w));
                }
            }
            assert!(n > 0);
            assert_eq!(bits(b""), None);
            assert_eq!(bits(b"tr"), None);
        }
    }
}
