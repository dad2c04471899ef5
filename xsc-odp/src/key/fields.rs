//! One field's value and mask in text, shared by every key attribute: the
//! masked scanners (`scan_u8`, `scan_be16`, `scan_ipv4`, ...), the
//! `name=value,...)` field list reader, and the printers (`format_eth`,
//! `format_ipv4`, `format_u8x`, ...), which take the mask as `Option`
//! (`None`: exact).  Plain output leaves out all-wildcarded fields and full
//! masks; verbose output prints everything.
use crate::error::{Context, ErrorKind};
use crate::lex::{Cursor, PResult};
use crate::write as w;

pub(crate) fn m_int(c: &mut Cursor<'_>, max: u64, ctx: Context) -> PResult<(u64, u64)> {
    let v = c.int(max, ctx)?;
    let m = if c.eat_byte(b'/') {
        c.int(max, ctx)?
    } else {
        max
    };
    Ok((v, m))
}

pub(crate) fn m_ipv4(c: &mut Cursor<'_>, ctx: Context) -> PResult<(u32, u32)> {
    let v = c.ipv4(ctx)?;
    let m = if c.eat_byte(b'/') {
        c.ipv4(ctx)?
    } else {
        u32::MAX
    };
    Ok((v, m))
}

pub(crate) fn m_mac(c: &mut Cursor<'_>, ctx: Context) -> PResult<([u8; 6], [u8; 6])> {
    let v = c.mac(ctx)?;
    let m = if c.eat_byte(b'/') {
        c.mac(ctx)?
    } else {
        [0xff; 6]
    };
    Ok((v, m))
}

pub(crate) fn m_ipv6(c: &mut Cursor<'_>, ctx: Context) -> PResult<([u8; 16], [u8; 16])> {
    let v = c.ipv6(ctx)?;
    let m = if c.eat_byte(b'/') {
        c.ipv6(ctx)?
    } else {
        [0xff; 16]
    };
    Ok((v, m))
}

pub(crate) fn m_u128(c: &mut Cursor<'_>, ctx: Context) -> PResult<(u128, u128)> {
    let v = c.u128(ctx)?;
    let m = if c.eat_byte(b'/') {
        c.u128(ctx)?
    } else {
        u128::MAX
    };
    Ok((v, m))
}

pub(crate) fn kf(a: &'static str, f: &'static str) -> Context {
    Context::KeyField(a, f)
}

pub(crate) fn m32(c: &mut Cursor<'_>, ctx: Context) -> PResult<(u32, u32)> {
    let (v, m) = m_int(c, u64::from(u32::MAX), ctx)?;
    Ok((v as u32, m as u32))
}

pub(crate) fn m16(c: &mut Cursor<'_>, ctx: Context) -> PResult<(u16, u16)> {
    let (v, m) = m_int(c, 0xffff, ctx)?;
    Ok((v as u16, m as u16))
}

pub(crate) fn m8(c: &mut Cursor<'_>, ctx: Context) -> PResult<(u8, u8)> {
    let (v, m) = m_int(c, 0xff, ctx)?;
    Ok((v as u8, m as u8))
}

/// Reads `name=value,...)` fields of attribute `attr` until the closing `)`
/// (consumed).  `field` parses one value and returns the field's static name,
/// or `None` for a name the attribute does not have.
#[inline]
pub(crate) fn fields<'a>(
    c: &mut Cursor<'a>,
    attr: &'static str,
    key_ctx: bool,
    mut field: impl FnMut(&mut Cursor<'a>, &[u8]) -> PResult<Option<&'static str>>,
) -> PResult<()> {
    let ctx = if key_ctx {
        Context::Key(attr)
    } else {
        Context::Action(attr)
    };
    if c.eat_byte(b')') {
        return Ok(());
    }
    loop {
        let at = c.pos();
        let name = c.ident();
        if name.is_empty() {
            return Err(c.expected("a field name", ctx));
        }
        if !c.eat_byte(b'=') {
            return Err(c.expected("'='", ctx));
        }
        let Some(fname) = field(c, name)? else {
            return Err(c.err_at(at, ctx, ErrorKind::UnknownField));
        };
        if sep(c, attr, fname, key_ctx)? {
            return Ok(());
        }
    }
}

/// After a field value: `,` continues, `)` closes.  Returns true on `)`.
pub(crate) fn sep(
    c: &mut Cursor<'_>,
    attr: &'static str,
    field: &'static str,
    key_ctx: bool,
) -> PResult<bool> {
    match c.peek() {
        Some(b',') => {
            c.bump();
            Ok(false)
        }
        Some(b')') => {
            c.bump();
            Ok(true)
        }
        _ => {
            let ctx = if key_ctx {
                Context::KeyField(attr, field)
            } else {
                Context::ActionField(attr, field)
            };
            Err(c.expected("',' or ')'", ctx))
        }
    }
}

pub(crate) fn fmt_eth(
    out: &mut String,
    name: &str,
    k: &[u8; 6],
    m: Option<&[u8; 6]>,
    verbose: bool,
) {
    let empty = m.is_some_and(|m| *m == [0; 6]);
    if verbose || !empty {
        out.push_str(name);
        out.push('=');
        w::mac(out, k);
        if let Some(m) = m.filter(|m| **m != [0xff; 6]) {
            out.push('/');
            w::mac(out, m);
        }
        out.push(',');
    }
}

pub(crate) fn fmt_ipv4(out: &mut String, name: &str, k: u32, m: Option<u32>, verbose: bool) {
    if verbose || m != Some(0) {
        out.push_str(name);
        out.push('=');
        w::ipv4(out, k);
        if let Some(m) = m.filter(|&m| m != u32::MAX) {
            out.push('/');
            w::ipv4(out, m);
        }
        out.push(',');
    }
}

pub(crate) fn fmt_in6(
    out: &mut String,
    name: &str,
    k: &[u8; 16],
    m: Option<&[u8; 16]>,
    verbose: bool,
) {
    let empty = m.is_some_and(|m| *m == [0; 16]);
    if verbose || !empty {
        out.push_str(name);
        out.push('=');
        w::ipv6(out, k);
        if let Some(m) = m.filter(|m| **m != [0xff; 16]) {
            out.push('/');
            w::ipv6(out, m);
        }
        out.push(',');
    }
}

/// `format_u8u`, `format_be16` and friends: a value in decimal or `%#x`,
/// the mask in `%#x` unless full.
pub(crate) fn fmt_num(
    out: &mut String,
    name: &str,
    k: u64,
    m: Option<u64>,
    full: u64,
    hex: bool,
    verbose: bool,
) {
    if verbose || m != Some(0) {
        out.push_str(name);
        out.push('=');
        if hex {
            w::hex_alt(out, k);
        } else {
            w::dec(out, k);
        }
        if let Some(m) = m.filter(|&m| m != full) {
            out.push('/');
            w::hex_alt(out, m);
        }
        out.push(',');
    }
}

pub(crate) fn u8u(out: &mut String, name: &str, k: u8, m: Option<u8>, verbose: bool) {
    fmt_num(
        out,
        name,
        u64::from(k),
        m.map(u64::from),
        0xff,
        false,
        verbose,
    );
}

pub(crate) fn u8x(out: &mut String, name: &str, k: u8, m: Option<u8>, verbose: bool) {
    fmt_num(
        out,
        name,
        u64::from(k),
        m.map(u64::from),
        0xff,
        true,
        verbose,
    );
}

pub(crate) fn be16(out: &mut String, name: &str, k: u16, m: Option<u16>, verbose: bool) {
    fmt_num(
        out,
        name,
        u64::from(k),
        m.map(u64::from),
        0xffff,
        false,
        verbose,
    );
}

pub(crate) fn be16x(out: &mut String, name: &str, k: u16, m: Option<u16>, verbose: bool) {
    fmt_num(
        out,
        name,
        u64::from(k),
        m.map(u64::from),
        0xffff,
        true,
        verbose,
    );
}

/// `u32` attributes printed as `%#x[/%#x]`.
pub(crate) fn fmt_u32_attr(out: &mut String, k: u32, m: Option<u32>) {
    w::hex_alt(out, u64::from(k));
    if let Some(m) = m.filter(|&m| m != u32::MAX) {
        out.push('/');
        w::hex_alt(out, u64::from(m));
    }
}

/// `format_u128()`.
pub(crate) fn fmt_u128(out: &mut String, k: u128, m: Option<u128>, verbose: bool) {
    if verbose || m.is_some_and(|m| m != 0) {
        w::ds_hex(out, &k.to_be_bytes());
        if let Some(m) = m.filter(|&m| m != u128::MAX) {
            out.push('/');
            w::ds_hex(out, &m.to_be_bytes());
        }
    }
}
