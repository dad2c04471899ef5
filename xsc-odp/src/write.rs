//! Allocation-free text writers for the `odp` formatters.
//!
//! Each function appends to a `String` exactly what the named C conversion
//! appends in OVS (`%u`, `%#x`, `0x%x`, `%02x`, `IP_FMT`, `ETH_ADDR_FMT`,
//! glibc's `inet_ntop(AF_INET6)`, `ds_put_hex()`, `ds_chomp()`), without the
//! `core::fmt` machinery: formatting a megaflow is a hot path.
//! Invariant: only ASCII is ever pushed.

const HEX: &[u8; 16] = b"0123456789abcdef";

/// `%u` / `%d` of a non-negative value.
#[inline]
pub(crate) fn dec(out: &mut String, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    push_ascii(out, &buf[i..]);
}

/// `%x`.
#[inline]
pub(crate) fn hex(out: &mut String, v: u64) {
    hex_pad(out, v, 1);
}

/// `%0Nx`.
#[inline]
pub(crate) fn hex_pad(out: &mut String, mut v: u64, width: usize) {
    let mut buf = [0u8; 16];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = HEX[(v & 0xf) as usize];
        v >>= 4;
        if v == 0 {
            break;
        }
    }
    let len = buf.len() - i;
    for _ in len..width {
        out.push('0');
    }
    push_ascii(out, &buf[i..]);
}

/// `%#x`: `0` for zero, else `0x` and the digits.
#[inline]
pub(crate) fn hex_alt(out: &mut String, v: u64) {
    if v == 0 {
        out.push('0');
    } else {
        out.push_str("0x");
        hex(out, v);
    }
}

/// `0x%x`.
#[inline]
pub(crate) fn hex_0x(out: &mut String, v: u64) {
    out.push_str("0x");
    hex(out, v);
}

/// `IP_FMT` of a host-order address.
#[inline]
pub(crate) fn ipv4(out: &mut String, a: u32) {
    for (i, b) in a.to_be_bytes().iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        dec(out, u64::from(*b));
    }
}

/// `ETH_ADDR_FMT`.
#[inline]
pub(crate) fn mac(out: &mut String, m: &[u8; 6]) {
    for (i, b) in m.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        hex_pad(out, u64::from(*b), 2);
    }
}

/// glibc's `inet_ntop(AF_INET6, ...)`: the longest run (first on ties) of two
/// or more zero groups becomes `::`; `::a.b.c.d` and `::ffff:a.b.c.d` print
/// the embedded IPv4 address.
#[inline]
pub(crate) fn ipv6(out: &mut String, a: &[u8; 16]) {
    let mut w = [0u16; 8];
    for (i, x) in w.iter_mut().enumerate() {
        *x = u16::from_be_bytes([a[2 * i], a[2 * i + 1]]);
    }
    let (mut best, mut best_len) = (usize::MAX, 0usize);
    let mut i = 0;
    while i < 8 {
        if w[i] == 0 {
            let s = i;
            while i < 8 && w[i] == 0 {
                i += 1;
            }
            if i - s > best_len {
                best = s;
                best_len = i - s;
            }
        } else {
            i += 1;
        }
    }
    if best_len < 2 {
        best = usize::MAX;
    }
    for (i, &word) in w.iter().enumerate() {
        if best != usize::MAX && i >= best && i < best + best_len {
            if i == best {
                out.push(':');
            }
            continue;
        }
        if i != 0 {
            out.push(':');
        }
        if i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff)) {
            ipv4(out, u32::from_be_bytes([a[12], a[13], a[14], a[15]]));
            return;
        }
        hex(out, u64::from(word));
    }
    if best != usize::MAX && best + best_len == 8 {
        out.push(':');
    }
}

/// `ds_put_hex()`: `0x` and the bytes with leading zero bytes skipped, the
/// first one without padding; `0` when all are zero.
#[inline]
pub(crate) fn ds_hex(out: &mut String, bytes: &[u8]) {
    let mut printed = false;
    for &b in bytes {
        if b != 0 || printed {
            if printed {
                hex_pad(out, u64::from(b), 2);
            } else {
                out.push_str("0x");
                hex(out, u64::from(b));
            }
            printed = true;
        }
    }
    if !printed {
        out.push('0');
    }
}

/// `%02x` for each byte, no prefix.
#[inline]
pub(crate) fn hex_bytes(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        hex_pad(out, u64::from(b), 2);
    }
}

/// `ds_chomp(ds, c)`: drops one trailing `c`.
#[inline]
pub(crate) fn chomp(out: &mut String, c: char) {
    if out.ends_with(c) {
        out.pop();
    }
}

#[inline]
fn push_ascii(out: &mut String, b: &[u8]) {
    for &c in b {
        out.push(c as char);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl Fn(&mut String)) -> String {
        let mut o = String::new();
        f(&mut o);
        o
    }

    #[test]
    fn c_conversions() {
        assert_eq!(s(|o| hex_alt(o, 0)), "0");
        assert_eq!(s(|o| hex_alt(o, 0x2d277)), "0x2d277");
        assert_eq!(s(|o| hex_pad(o, 0x800, 4)), "0800");
        assert_eq!(s(|o| dec(o, 18446744073709551615)), "18446744073709551615");
        assert_eq!(s(|o| ipv4(o, 0xfffc_0000)), "255.252.0.0");
        assert_eq!(s(|o| ds_hex(o, &[0, 0, 1, 0x2])), "0x102");
        assert_eq!(s(|o| ds_hex(o, &[0; 16])), "0");
    }

    #[test]
    fn ipv6_like_glibc() {
        let p = |t: &str| s(|o| ipv6(o, &t.parse::<core::net::Ipv6Addr>().unwrap().octets()));
        assert_eq!(p("::1"), "::1");
        assert_eq!(p("::"), "::");
        assert_eq!(p("fe80::20c:29ff:fe88:a18b"), "fe80::20c:29ff:fe88:a18b");
        assert_eq!(p("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");
        assert_eq!(p("::ffff:1.2.3.4"), "::ffff:1.2.3.4");
        assert_eq!(p("::1.2.3.4"), "::1.2.3.4");
        assert_eq!(p("1:0:2:3:4:5:6:7"), "1:0:2:3:4:5:6:7");
        assert_eq!(p("1::"), "1::");
    }
}
