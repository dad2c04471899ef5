//! The `push_nsh(...)` action ([`PushNsh`]): parse and format.
use super::text::af;
use crate::error::ErrorKind;
use crate::key::fields::fields;
use crate::key::nsh::fmt_nsh_header;
use crate::key::NshKey;
use crate::lex::{Cursor, PResult};
use crate::write as w;

/// `push_nsh(...)`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PushNsh {
    pub flags: u8,
    pub ttl: u8,
    pub mdtype: u8,
    pub np: u8,
    pub spi: u32,
    pub si: u8,
    /// MD type 1 context headers.
    pub context: [u32; 4],
    /// MD type 2 metadata, padded to four bytes.
    pub md2: Vec<u8>,
}

pub(crate) fn parse_push_nsh(c: &mut Cursor<'_>) -> PResult<PushNsh> {
    const A: &str = "push_nsh";
    let mut n = PushNsh {
        ttl: 63,
        mdtype: 1,
        np: 3,
        si: 255,
        ..Default::default()
    };
    fields(c, A, false, |c, f| {
        Ok(Some(match f {
            b"flags" => {
                n.flags = c.int(0xff, af(A, "flags"))? as u8;
                "flags"
            }
            b"ttl" => {
                n.ttl = c.int(0xff, af(A, "ttl"))? as u8;
                "ttl"
            }
            b"mdtype" => {
                let at = c.pos();
                n.mdtype = c.int(0xff, af(A, "mdtype"))? as u8;
                if n.mdtype != 1 && n.mdtype != 2 {
                    return Err(c.err_at(
                        at,
                        af(A, "mdtype"),
                        ErrorKind::Invalid("NSH MD type (1 or 2)"),
                    ));
                }
                "mdtype"
            }
            b"np" => {
                n.np = c.int(0xff, af(A, "np"))? as u8;
                "np"
            }
            b"spi" => {
                n.spi = c.hex(0xff_ffff, af(A, "spi"))? as u32;
                "spi"
            }
            b"si" => {
                n.si = c.int(0xff, af(A, "si"))? as u8;
                "si"
            }
            b"c1" | b"c2" | b"c3" | b"c4" => {
                let i = usize::from(f[1] - b'1');
                let name = ["c1", "c2", "c3", "c4"][i];
                n.context[i] = c.hex(u64::from(u32::MAX), af(A, name))? as u32;
                name
            }
            b"md2" => {
                if c.eat_byte(b'0') && !matches!(c.peek(), Some(b'x' | b'X')) {
                    n.md2.clear();
                    return Ok(Some("md2"));
                }
                if !(c.eat("x") || c.eat("X")) {
                    return Err(c.expected("'0x'", af(A, "md2")));
                }
                let mut v: smallvec::SmallVec<[u8; 64]> = smallvec::SmallVec::new();
                c.hex_bytes(&mut v, af(A, "md2"))?;
                if v.len() > 248 {
                    return Err(c.err(
                        af(A, "md2"),
                        ErrorKind::Invalid("NSH metadata longer than 248 bytes"),
                    ));
                }
                n.md2 = v.to_vec();
                while n.md2.len() % 4 != 0 {
                    n.md2.push(0);
                }
                "md2"
            }
            _ => return Ok(None),
        }))
    })?;
    Ok(n)
}

pub(crate) fn fmt_push_nsh(out: &mut String, n: &PushNsh) {
    out.push_str("push_nsh(");
    let header = NshKey {
        flags: n.flags,
        ttl: n.ttl,
        mdtype: n.mdtype,
        np: n.np,
        spi: n.spi,
        si: n.si,
        context: n.context,
    };
    fmt_nsh_header(out, &header, ",");
    if n.mdtype != 1 {
        // OVS uses ds_put_hex(), which drops leading zero bytes; all bytes
        // are printed here so that the text reads back to the same metadata.
        out.push_str(",md2=");
        if n.md2.is_empty() {
            out.push('0');
        } else {
            out.push_str("0x");
            w::hex_bytes(out, &n.md2);
        }
    }
    out.push(')');
}
