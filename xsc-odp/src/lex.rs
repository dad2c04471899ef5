//! A byte cursor and the value scanners shared by every `odp` text parser.
//!
//! The cursor walks a `&[u8]` and never allocates.  Scanners follow the
//! `scanf` conversions OVS uses in `lib/odp-util.c` (`%i`: decimal, `0x` hex or
//! leading-`0` octal; `%x`: hex with optional `0x`; `IP_SCAN_FMT`,
//! `ETH_ADDR_SCAN_FMT`, `IPV6_SCAN_FMT`), except that a value too large for its
//! field is an error instead of being truncated as C's `scanf` would.
//! Invariant: `pos <= s.len()`; no method panics on any input.
use super::error::{Context, ErrorKind, ParseError};
use core::net::Ipv6Addr;

/// The characters OVS accepts between actions and key attributes.
#[inline]
pub(crate) fn is_delim(b: u8) -> bool {
    matches!(b, b',' | b' ' | b'\t' | b'\r' | b'\n')
}

pub(crate) type PResult<T> = Result<T, ParseError>;

#[derive(Debug, Clone)]
pub(crate) struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
    /// Added to `pos` in errors (the cursor may run over a slice of a line).
    base: usize,
    pub(crate) depth: u32,
}

/// OVS's `MAX_ODP_NESTED`.
pub(crate) const MAX_NESTED: u32 = 32;

impl<'a> Cursor<'a> {
    #[inline]
    pub(crate) fn new(s: &'a str) -> Self {
        Cursor {
            s: s.as_bytes(),
            pos: 0,
            base: 0,
            depth: 0,
        }
    }

    #[inline]
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    #[inline]
    pub(crate) fn set_pos(&mut self, pos: usize) {
        self.pos = pos.min(self.s.len());
    }

    #[inline]
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.s.get(self.pos..).unwrap_or(&[])
    }

    #[inline]
    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    #[inline]
    pub(crate) fn peek_at(&self, n: usize) -> Option<u8> {
        self.s.get(self.pos + n).copied()
    }

    #[inline]
    pub(crate) fn bump(&mut self) {
        if self.pos < self.s.len() {
            self.pos += 1;
        }
    }

    #[inline]
    pub(crate) fn starts_with(&self, lit: &str) -> bool {
        self.rest().starts_with(lit.as_bytes())
    }

    /// Consumes `lit` if the input continues with it.
    #[inline]
    pub(crate) fn eat(&mut self, lit: &str) -> bool {
        if self.starts_with(lit) {
            self.pos += lit.len();
            true
        } else {
            false
        }
    }

    #[inline]
    pub(crate) fn eat_byte(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    #[inline]
    pub(crate) fn err(&self, ctx: Context, kind: ErrorKind) -> ParseError {
        ParseError::new(self.base + self.pos, ctx, kind)
    }

    #[inline]
    pub(crate) fn err_at(&self, pos: usize, ctx: Context, kind: ErrorKind) -> ParseError {
        ParseError::new(self.base + pos, ctx, kind)
    }

    #[inline]
    pub(crate) fn expected(&self, what: &'static str, ctx: Context) -> ParseError {
        self.err(ctx, ErrorKind::Expected(what))
    }

    #[inline]
    pub(crate) fn expect(
        &mut self,
        lit: &'static str,
        what: &'static str,
        ctx: Context,
    ) -> PResult<()> {
        if self.eat(lit) {
            Ok(())
        } else {
            Err(self.expected(what, ctx))
        }
    }

    #[inline]
    pub(crate) fn skip_delims(&mut self) {
        while self.peek().is_some_and(is_delim) {
            self.pos += 1;
        }
    }

    /// Enters one level of nesting (OVS limits nesting to `MAX_ODP_NESTED`).
    #[inline]
    pub(crate) fn enter(&mut self, ctx: Context) -> PResult<()> {
        self.depth += 1;
        if self.depth >= MAX_NESTED {
            return Err(self.err(ctx, ErrorKind::TooDeep));
        }
        Ok(())
    }

    #[inline]
    pub(crate) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// A run of bytes matching `f`, possibly empty.
    #[inline]
    pub(crate) fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a [u8] {
        let start = self.pos;
        while self.peek().is_some_and(&f) {
            self.pos += 1;
        }
        self.s.get(start..self.pos).unwrap_or(&[])
    }

    /// An identifier: `[A-Za-z0-9_-]*` (key, action and field names).
    #[inline]
    pub(crate) fn ident(&mut self) -> &'a [u8] {
        let rest = self.rest();
        let n = rest
            .iter()
            .position(|&b| !IDENT[usize::from(b)])
            .unwrap_or(rest.len());
        self.pos += n;
        rest.get(..n).unwrap_or(&[])
    }

    /// `%i`: an unsigned integer, `0x` hex, `0`-prefixed octal or decimal,
    /// at most `max`.  An optional leading `+` is accepted as `scanf` does.
    #[inline]
    pub(crate) fn int(&mut self, max: u64, ctx: Context) -> PResult<u64> {
        let start = self.pos;
        let rest = self.rest();
        let sign = usize::from(rest.first() == Some(&b'+'));
        // One look at the first three bytes instead of eat/starts_with/peek.
        let (radix, skip) = match rest.get(sign..sign + 3).or_else(|| rest.get(sign..)) {
            Some([b'0', b'x' | b'X', h, ..]) if h.is_ascii_hexdigit() => (16, 2),
            Some([b'0', b'x' | b'X', ..]) => (10, 0),
            Some([b'0', ..]) => (8, 0),
            _ => (10, 0),
        };
        self.pos += sign + skip;
        let digits_start = self.pos;
        let v = match radix {
            16 => self.digits::<16>(max, start, ctx)?,
            8 => self.digits::<8>(max, start, ctx)?,
            _ => self.digits::<10>(max, start, ctx)?,
        };
        if self.pos == digits_start {
            self.pos = start;
            return Err(self.expected("a number", ctx));
        }
        Ok(v)
    }

    /// `%u` / `%d`: decimal only.
    #[inline]
    pub(crate) fn dec(&mut self, max: u64, ctx: Context) -> PResult<u64> {
        let start = self.pos;
        let v = self.digits::<10>(max, start, ctx)?;
        if self.pos == start {
            return Err(self.expected("a decimal number", ctx));
        }
        Ok(v)
    }

    /// `%x`: hex with an optional `0x` prefix.
    #[inline]
    pub(crate) fn hex(&mut self, max: u64, ctx: Context) -> PResult<u64> {
        let start = self.pos;
        if (self.starts_with("0x") || self.starts_with("0X"))
            && self.peek_at(2).is_some_and(|b| b.is_ascii_hexdigit())
        {
            self.pos += 2;
        }
        let ds = self.pos;
        let v = self.digits::<16>(max, start, ctx)?;
        if self.pos == ds {
            self.pos = start;
            return Err(self.expected("a hexadecimal number", ctx));
        }
        Ok(v)
    }

    /// Digits in `RADIX` (8, 10 or 16), consumed even past an overflow;
    /// `OutOfRange` (at `start`) when the value exceeds `max`.
    #[inline]
    fn digits<const RADIX: u32>(&mut self, max: u64, start: usize, ctx: Context) -> PResult<u64> {
        let rest = self.rest();
        let mut v: u64 = 0;
        let mut overflow = false;
        let mut n = 0;
        for &b in rest {
            let d = if RADIX == 16 {
                HEXVAL[usize::from(b)]
            } else {
                b.wrapping_sub(b'0')
            };
            if u32::from(d) >= RADIX {
                break;
            }
            match v
                .checked_mul(u64::from(RADIX))
                .and_then(|x| x.checked_add(u64::from(d)))
            {
                Some(x) => v = x,
                None => overflow = true,
            }
            n += 1;
        }
        self.pos += n;
        if overflow || v > max {
            return Err(self.err_at(start, ctx, ErrorKind::OutOfRange { max }));
        }
        Ok(v)
    }

    /// `IP_SCAN_FMT`: a dotted quad, each octet at most 255.
    #[inline]
    pub(crate) fn ipv4(&mut self, ctx: Context) -> PResult<u32> {
        let mut v: u32 = 0;
        for i in 0..4 {
            if i > 0 && !self.eat_byte(b'.') {
                return Err(self.expected("an IPv4 address", ctx));
            }
            if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
                return Err(self.expected("an IPv4 address", ctx));
            }
            let o = self.digits::<10>(255, self.pos, ctx)?;
            v = (v << 8) | o as u32;
        }
        Ok(v)
    }

    /// `ETH_ADDR_SCAN_FMT`: six `:`-separated hex bytes.
    #[inline]
    pub(crate) fn mac(&mut self, ctx: Context) -> PResult<[u8; 6]> {
        // Fast path: the canonical `xx:xx:xx:xx:xx:xx` not followed by
        // another hex digit reads the same as the general loop below.
        if let Some(m) = self.mac_canonical() {
            return Ok(m);
        }
        let mut m = [0u8; 6];
        for (i, b) in m.iter_mut().enumerate() {
            if i > 0 && !self.eat_byte(b':') {
                return Err(self.expected("an Ethernet address", ctx));
            }
            let s = self.pos;
            if !self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                return Err(self.expected("an Ethernet address", ctx));
            }
            *b = self.digits::<16>(255, s, ctx)? as u8;
        }
        Ok(m)
    }

    #[inline]
    fn mac_canonical(&mut self) -> Option<[u8; 6]> {
        let rest = self.rest();
        let t: &[u8; 17] = rest.get(..17)?.try_into().ok()?;
        if rest
            .get(17)
            .is_some_and(|&b| HEXVAL[usize::from(b)] != 0xff)
        {
            return None;
        }
        let mut m = [0u8; 6];
        let mut bad = 0u8;
        for (i, o) in m.iter_mut().enumerate() {
            let h = HEXVAL[usize::from(t[3 * i])];
            let l = HEXVAL[usize::from(t[3 * i + 1])];
            bad |= (h | l) & 0xf0;
            if i < 5 && t[3 * i + 2] != b':' {
                return None;
            }
            *o = (h << 4) | (l & 0x0f);
        }
        if bad != 0 {
            return None;
        }
        self.pos += 17;
        Some(m)
    }

    /// `IPV6_SCAN_FMT` then `inet_pton()`.
    #[inline]
    pub(crate) fn ipv6(&mut self, ctx: Context) -> PResult<[u8; 16]> {
        let start = self.pos;
        let run = self.take_while(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        let parsed = core::str::from_utf8(run)
            .ok()
            .filter(|t| t.len() <= 46)
            .and_then(|t| t.parse::<Ipv6Addr>().ok());
        match parsed {
            Some(a) => Ok(a.octets()),
            None => {
                self.pos = start;
                Err(self.expected("an IPv6 address", ctx))
            }
        }
    }

    /// OVS's `parse_int_string()` into 128 bits: `0x`-prefixed hex of up to
    /// 32 digits, or a decimal that fits 64 bits.
    #[inline]
    pub(crate) fn u128(&mut self, ctx: Context) -> PResult<u128> {
        let start = self.pos;
        if self.eat("0x") || self.eat("0X") {
            let ds = self.pos;
            let digits = self.take_while(|b| b.is_ascii_hexdigit());
            if digits.is_empty() {
                self.pos = start;
                return Err(self.expected("a hexadecimal number", ctx));
            }
            let digits = trim_leading_zeros(digits);
            if digits.len() > 32 {
                return Err(self.err_at(ds, ctx, ErrorKind::OutOfRange { max: u64::MAX }));
            }
            let mut v: u128 = 0;
            for &d in digits {
                v = (v << 4) | u128::from(hexval(d));
            }
            Ok(v)
        } else {
            Ok(u128::from(self.dec(u64::MAX, ctx)?))
        }
    }

    /// Hex bytes without prefix, two digits each (`ofpbuf_put_hex`).
    #[inline]
    pub(crate) fn hex_bytes<const N: usize>(
        &mut self,
        out: &mut smallvec::SmallVec<[u8; N]>,
        ctx: Context,
    ) -> PResult<()> {
        while let (Some(h), Some(l)) = (self.peek(), self.peek_at(1)) {
            if !(h.is_ascii_hexdigit() && l.is_ascii_hexdigit()) {
                break;
            }
            out.push((hexval(h) << 4) | hexval(l));
            self.pos += 2;
        }
        if self.peek().is_some_and(|b| b.is_ascii_hexdigit()) {
            return Err(self.expected("an even number of hex digits", ctx));
        }
        Ok(())
    }
}

#[inline]
fn trim_leading_zeros(d: &[u8]) -> &[u8] {
    let n = d.iter().take_while(|&&b| b == b'0').count();
    &d[n..]
}

#[inline]
pub(crate) fn hexval(b: u8) -> u8 {
    // A byte that is not a hex digit gives 0.
    match HEXVAL[usize::from(b)] {
        0xff => 0,
        v => v,
    }
}

/// Hex digit values, `0xff` for a byte that is not a hex digit.
static HEXVAL: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => 0xff,
        };
        i += 1;
    }
    t
};

/// `[A-Za-z0-9_-]`: the bytes of [`Cursor::ident`].
static IDENT: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
        i += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::*;
    const C: Context = Context::Top;

    #[test]
    fn int_follows_scanf_i() {
        assert_eq!(
            Cursor::new("0x2d277)").int(u64::from(u32::MAX), C),
            Ok(0x2d277)
        );
        assert_eq!(Cursor::new("010").int(255, C), Ok(8));
        assert_eq!(Cursor::new("0").int(255, C), Ok(0));
        assert_eq!(
            Cursor::new("4096").int(4095, C).map_err(|e| e.kind),
            Err(ErrorKind::OutOfRange { max: 4095 })
        );
        assert!(Cursor::new("x").int(5, C).is_err());
    }

    #[test]
    fn int_prefix_edge_cases() {
        let int = |s: &str| {
            let mut c = Cursor::new(s);
            (c.int(u64::MAX, C).map_err(|e| (e.kind, e.offset)), c.pos())
        };
        assert_eq!(int("+0x1f,"), (Ok(0x1f), 5));
        assert_eq!(int("0X1F"), (Ok(0x1f), 4));
        assert_eq!(int("0x"), (Ok(0), 1));
        assert_eq!(int("0xg"), (Ok(0), 1));
        assert_eq!(int("09"), (Ok(0), 1));
        assert_eq!(int("+7"), (Ok(7), 2));
        assert_eq!(int("+").0.map_err(|e| e.1), Err(0));
        assert_eq!(int("+").1, 0);
        assert_eq!(int("").1, 0);
        assert_eq!(
            int("0x1ffffffffffffffff"),
            (Err((ErrorKind::OutOfRange { max: u64::MAX }, 0)), 19)
        );
        assert_eq!(int("+99999999999999999999").0.map_err(|e| e.1), Err(0));
    }

    #[test]
    fn mac_fast_path_agrees_with_the_general_form() {
        let mac = |s: &str| {
            let mut c = Cursor::new(s);
            (c.mac(C).map_err(|e| (e.kind, e.offset)), c.pos())
        };
        assert_eq!(
            mac("00:00:00:9d:fb:1a"),
            (Ok([0, 0, 0, 0x9d, 0xfb, 0x1a]), 17)
        );
        assert_eq!(
            mac("0A:0b:0C:0d:0E:Ff/"),
            (Ok([10, 11, 12, 13, 14, 255]), 17)
        );
        assert_eq!(mac("00:00:00:00:00:00:11"), (Ok([0; 6]), 17));
        // Not canonical: the general scanner decides.
        assert_eq!(mac("0:1:2:3:4:5"), (Ok([0, 1, 2, 3, 4, 5]), 11));
        assert_eq!(mac("00:00:00:00:00:001"), (Ok([0, 0, 0, 0, 0, 1]), 18));
        assert_eq!(
            mac("00:00:00:00:00:100").0,
            Err((ErrorKind::OutOfRange { max: 255 }, 15))
        );
        assert_eq!(
            mac("00:00:00:00:00-00").0,
            Err((ErrorKind::Expected("an Ethernet address"), 14))
        );
        assert_eq!(
            mac("00:00:00:00:0g:00").0,
            Err((ErrorKind::Expected("an Ethernet address"), 13))
        );
    }

    #[test]
    fn addresses() {
        assert_eq!(Cursor::new("10.16.0.14").ipv4(C), Ok(0x0a10_000e));
        assert!(Cursor::new("10.16.0.256").ipv4(C).is_err());
        assert_eq!(
            Cursor::new("00:00:00:9d:fb:1a").mac(C),
            Ok([0, 0, 0, 0x9d, 0xfb, 0x1a])
        );
        let mut c = Cursor::new("fe80::1,x");
        assert_eq!(c.ipv6(C).map(|a| a[15]), Ok(1));
        assert_eq!(c.peek(), Some(b','));
        assert_eq!(
            Cursor::new("0x1234567890abcdef1234567890abcdef").u128(C),
            Ok(0x1234567890abcdef1234567890abcdef)
        );
    }
}
