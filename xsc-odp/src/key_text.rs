//! Text form of flow keys: the parser (`parse_odp_key_mask_attr()`) and the
//! formatter (`odp_flow_format()` / `format_odp_key_attr__()`) of
//! `lib/odp-util.c`, mirrored field by field.
//!
//! Parsing one attribute always records it in both the key and the mask, as
//! OVS does; a field not written is zero in both (wildcarded), a field written
//! without `/mask` is exact.  Formatting walks attributes in OVS's canonical
//! order (see [`KeyAttr::CANONICAL_ORDER`]); plain output leaves out
//! all-wildcarded attributes and fields and exact masks, verbose output
//! prints everything.
use super::error::{Context, ErrorKind};
use super::key::*;
use super::lex::{Cursor, PResult};
use super::write as w;

// ---------------------------------------------------------------------------
// Flag name tables (`odp_ct_state_to_string`, `packet_tcp_flag_to_string`,
// `flow_tun_flag_to_string`).

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

type FlagNames = fn(u32) -> Option<&'static str>;
/// The inverse of a [`FlagNames`] table: a name's bit.
type FlagBits = fn(&[u8]) -> Option<u32>;

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

// ---------------------------------------------------------------------------
// Masked value scanners (`scan_u8`, `scan_be16`, `scan_ipv4`, ...).

fn m_int(c: &mut Cursor<'_>, max: u64, ctx: Context) -> PResult<(u64, u64)> {
    let v = c.int(max, ctx)?;
    let m = if c.eat_byte(b'/') {
        c.int(max, ctx)?
    } else {
        max
    };
    Ok((v, m))
}

fn m_ipv4(c: &mut Cursor<'_>, ctx: Context) -> PResult<(u32, u32)> {
    let v = c.ipv4(ctx)?;
    let m = if c.eat_byte(b'/') {
        c.ipv4(ctx)?
    } else {
        u32::MAX
    };
    Ok((v, m))
}

fn m_mac(c: &mut Cursor<'_>, ctx: Context) -> PResult<([u8; 6], [u8; 6])> {
    let v = c.mac(ctx)?;
    let m = if c.eat_byte(b'/') {
        c.mac(ctx)?
    } else {
        [0xff; 6]
    };
    Ok((v, m))
}

fn m_ipv6(c: &mut Cursor<'_>, ctx: Context) -> PResult<([u8; 16], [u8; 16])> {
    let v = c.ipv6(ctx)?;
    let m = if c.eat_byte(b'/') {
        c.ipv6(ctx)?
    } else {
        [0xff; 16]
    };
    Ok((v, m))
}

fn m_u128(c: &mut Cursor<'_>, ctx: Context) -> PResult<(u128, u128)> {
    let v = c.u128(ctx)?;
    let m = if c.eat_byte(b'/') {
        c.u128(ctx)?
    } else {
        u128::MAX
    };
    Ok((v, m))
}

fn scan_frag(c: &mut Cursor<'_>, ctx: Context) -> PResult<u8> {
    let at = c.pos();
    let word = c.take_while(|b| b.is_ascii_lowercase());
    match word {
        b"no" => Ok(frag::NONE),
        b"first" => Ok(frag::FIRST),
        b"later" => Ok(frag::LATER),
        b"" => Err(c.expected("'no', 'first' or 'later'", ctx)),
        _ => Err(c.err_at(
            at,
            ctx,
            ErrorKind::Invalid("frag value (no, first or later)"),
        )),
    }
}

/// Reads `name=value,...)` fields of attribute `attr` until the closing `)`
/// (consumed).  `field` parses one value and returns the field's static name,
/// or `None` for a name the attribute does not have.
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
fn sep(
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

// ---------------------------------------------------------------------------
// Parsing.

/// Parses one key attribute (`name(...)`) into `key` and `mask`.
pub(crate) fn parse_key_attr(
    c: &mut Cursor<'_>,
    key: &mut FlowKey,
    mask: &mut FlowKey,
) -> PResult<()> {
    let at = c.pos();
    let name = c.ident();
    if !c.eat_byte(b'(') {
        if name.is_empty() {
            return Err(c.expected("a key attribute", Context::Top));
        }
        return Err(c.err_at(at, Context::Top, ErrorKind::UnknownKey));
    }
    let attr = match name {
        b"skb_priority" => KeyAttr::Priority,
        b"skb_mark" => KeyAttr::SkbMark,
        b"recirc_id" => KeyAttr::RecircId,
        b"dp_hash" => KeyAttr::DpHash,
        b"ct_state" => KeyAttr::CtState,
        b"ct_zone" => KeyAttr::CtZone,
        b"ct_mark" => KeyAttr::CtMark,
        b"ct_label" => KeyAttr::CtLabels,
        b"ct_tuple4" => KeyAttr::CtOrigTupleIpv4,
        b"ct_tuple6" => KeyAttr::CtOrigTupleIpv6,
        b"tunnel" => KeyAttr::Tunnel,
        b"in_port" => KeyAttr::InPort,
        b"packet_type" => KeyAttr::PacketType,
        b"eth" => KeyAttr::Ethernet,
        b"vlan" => KeyAttr::Vlan,
        b"eth_type" => KeyAttr::Ethertype,
        b"mpls" => KeyAttr::Mpls,
        b"ipv4" => KeyAttr::Ipv4,
        b"ipv6" => KeyAttr::Ipv6,
        b"tcp" => KeyAttr::Tcp,
        b"tcp_flags" => KeyAttr::TcpFlags,
        b"udp" => KeyAttr::Udp,
        b"sctp" => KeyAttr::Sctp,
        b"icmp" => KeyAttr::Icmp,
        b"icmpv6" => KeyAttr::Icmpv6,
        b"arp" => KeyAttr::Arp,
        b"nd" => KeyAttr::Nd,
        b"nd_ext" => KeyAttr::NdExtensions,
        b"nsh" => KeyAttr::Nsh,
        b"encap" => KeyAttr::Encap,
        _ => return Err(c.err_at(at, Context::Top, ErrorKind::UnknownKey)),
    };
    let an = attr.name();
    let ctx = Context::Key(an);
    c.enter(ctx)?;
    let close = |c: &mut Cursor<'_>| c.expect(")", "')'", ctx);
    const U32: u64 = u32::MAX as u64;
    match attr {
        KeyAttr::Priority => {
            (key.skb_priority, mask.skb_priority) = m32(c, ctx)?;
            close(c)?;
        }
        KeyAttr::SkbMark => {
            (key.skb_mark, mask.skb_mark) = m32(c, ctx)?;
            close(c)?;
        }
        KeyAttr::DpHash => {
            (key.dp_hash, mask.dp_hash) = m32(c, ctx)?;
            close(c)?;
        }
        KeyAttr::RecircId => {
            key.recirc_id = c.int(U32, ctx)? as u32;
            mask.recirc_id = u32::MAX;
            close(c)?;
        }
        KeyAttr::CtState => {
            let (v, m) = parse_flags(c, ct_state_bit, ct_state::SUPPORTED, ctx)?;
            (key.ct_state, mask.ct_state) = (v, m);
            close(c)?;
        }
        KeyAttr::CtZone => {
            let (v, m) = m_int(c, 0xffff, ctx)?;
            (key.ct_zone, mask.ct_zone) = (v as u16, m as u16);
            close(c)?;
        }
        KeyAttr::CtMark => {
            (key.ct_mark, mask.ct_mark) = m32(c, ctx)?;
            close(c)?;
        }
        KeyAttr::CtLabels => {
            (key.ct_label, mask.ct_label) = m_u128(c, ctx)?;
            close(c)?;
        }
        KeyAttr::CtOrigTupleIpv4 => {
            let (k, m) = (&mut key.ct_tuple4, &mut mask.ct_tuple4);
            *k = CtTuple4::default();
            *m = CtTuple4::default();
            fields(c, an, true, |c, f| {
                Ok(Some(match f {
                    b"src" => {
                        (k.src, m.src) = m_ipv4(c, kf(an, "src"))?;
                        "src"
                    }
                    b"dst" => {
                        (k.dst, m.dst) = m_ipv4(c, kf(an, "dst"))?;
                        "dst"
                    }
                    b"proto" => {
                        (k.proto, m.proto) = m8(c, kf(an, "proto"))?;
                        "proto"
                    }
                    b"tp_src" => {
                        (k.src_port, m.src_port) = m16(c, kf(an, "tp_src"))?;
                        "tp_src"
                    }
                    b"tp_dst" => {
                        (k.dst_port, m.dst_port) = m16(c, kf(an, "tp_dst"))?;
                        "tp_dst"
                    }
                    _ => return Ok(None),
                }))
            })?;
        }
        KeyAttr::CtOrigTupleIpv6 => {
            let (k, m) = (&mut key.ct_tuple6, &mut mask.ct_tuple6);
            *k = CtTuple6::default();
            *m = CtTuple6::default();
            fields(c, an, true, |c, f| {
                Ok(Some(match f {
                    b"src" => {
                        (k.src, m.src) = m_ipv6(c, kf(an, "src"))?;
                        "src"
                    }
                    b"dst" => {
                        (k.dst, m.dst) = m_ipv6(c, kf(an, "dst"))?;
                        "dst"
                    }
                    b"proto" => {
                        (k.proto, m.proto) = m8(c, kf(an, "proto"))?;
                        "proto"
                    }
                    // OVS prints src_port/dst_port but parses tp_src/tp_dst.
                    b"tp_src" | b"src_port" => {
                        (k.src_port, m.src_port) = m16(c, kf(an, "src_port"))?;
                        "src_port"
                    }
                    b"tp_dst" | b"dst_port" => {
                        (k.dst_port, m.dst_port) = m16(c, kf(an, "dst_port"))?;
                        "dst_port"
                    }
                    _ => return Ok(None),
                }))
            })?;
        }
        KeyAttr::Tunnel => parse_tunnel(c, &mut key.tunnel, &mut mask.tunnel)?,
        KeyAttr::InPort => {
            if c.peek().is_some_and(|b| b.is_ascii_digit() || b == b'+') {
                let (v, m) = m32(c, ctx)?;
                key.in_port = OdpPort::Number(v);
                mask.in_port = OdpPort::Number(m);
            } else {
                let nat = c.pos();
                let name = c.take_while(|b| {
                    b != b')' && !b.is_ascii_whitespace() && b != b',' && b != b'('
                });
                let Some(pn) = core::str::from_utf8(name).ok().and_then(PortName::new) else {
                    return Err(c.err_at(
                        nat,
                        ctx,
                        ErrorKind::Expected("a port number or a name of at most 15 bytes"),
                    ));
                };
                key.in_port = OdpPort::Name(pn);
                mask.in_port = OdpPort::Number(u32::MAX);
            }
            close(c)?;
        }
        KeyAttr::PacketType => {
            let (k, m) = (&mut key.packet_type, &mut mask.packet_type);
            *k = PacketType::default();
            *m = PacketType::default();
            fields(c, an, true, |c, f| {
                Ok(Some(match f {
                    b"ns" => {
                        (k.ns, m.ns) = m16(c, kf(an, "ns"))?;
                        "ns"
                    }
                    b"id" => {
                        (k.id, m.id) = m16(c, kf(an, "id"))?;
                        "id"
                    }
                    _ => return Ok(None),
                }))
            })?;
        }
        KeyAttr::Ethernet => {
            let (k, m) = (&mut key.eth, &mut mask.eth);
            *k = EthKey::default();
            *m = EthKey::default();
            parse_eth_fields(c, k, m)?;
        }
        KeyAttr::Vlan => {
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
        }
        KeyAttr::Ethertype => {
            (key.eth_type, mask.eth_type) = m16(c, ctx)?;
            close(c)?;
        }
        KeyAttr::Mpls => {
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
        }
        KeyAttr::Ipv4 => {
            let (k, m) = (&mut key.ipv4, &mut mask.ipv4);
            *k = Ipv4Key::default();
            *m = Ipv4Key::default();
            parse_ipv4_fields(c, k, m)?;
        }
        KeyAttr::Ipv6 => {
            let (k, m) = (&mut key.ipv6, &mut mask.ipv6);
            *k = Ipv6Key::default();
            *m = Ipv6Key::default();
            parse_ipv6_fields(c, k, m)?;
        }
        KeyAttr::Tcp => parse_ports(c, an, &mut key.tcp, &mut mask.tcp)?,
        KeyAttr::Udp => parse_ports(c, an, &mut key.udp, &mut mask.udp)?,
        KeyAttr::Sctp => parse_ports(c, an, &mut key.sctp, &mut mask.sctp)?,
        KeyAttr::TcpFlags => {
            let (v, m) = parse_flags(c, tcp_flag_bit, 0x0fff, ctx)?;
            key.tcp_flags = v as u16;
            mask.tcp_flags = m as u16;
            close(c)?;
        }
        KeyAttr::Icmp => parse_icmp(c, an, &mut key.icmp, &mut mask.icmp)?,
        KeyAttr::Icmpv6 => parse_icmp(c, an, &mut key.icmpv6, &mut mask.icmpv6)?,
        KeyAttr::Arp => {
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
        }
        KeyAttr::Nd => {
            let (k, m) = (&mut key.nd, &mut mask.nd);
            *k = NdKey::default();
            *m = NdKey::default();
            fields(c, an, true, |c, f| {
                Ok(Some(match f {
                    b"target" => {
                        (k.target, m.target) = m_ipv6(c, kf(an, "target"))?;
                        "target"
                    }
                    b"sll" => {
                        (k.sll, m.sll) = m_mac(c, kf(an, "sll"))?;
                        "sll"
                    }
                    b"tll" => {
                        (k.tll, m.tll) = m_mac(c, kf(an, "tll"))?;
                        "tll"
                    }
                    _ => return Ok(None),
                }))
            })?;
        }
        KeyAttr::NdExtensions => {
            let (k, m) = (&mut key.nd_ext, &mut mask.nd_ext);
            *k = NdExtKey::default();
            *m = NdExtKey::default();
            fields(c, an, true, |c, f| {
                Ok(Some(match f {
                    b"nd_reserved" => {
                        (k.reserved, m.reserved) = m32(c, kf(an, "nd_reserved"))?;
                        "nd_reserved"
                    }
                    b"nd_options_type" => {
                        (k.options_type, m.options_type) = m8(c, kf(an, "nd_options_type"))?;
                        "nd_options_type"
                    }
                    _ => return Ok(None),
                }))
            })?;
        }
        KeyAttr::Nsh => {
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
        }
        KeyAttr::Encap => {
            let mut ik = Box::<FlowKey>::default();
            let mut im = Box::<FlowKey>::default();
            loop {
                c.skip_delims();
                if c.eat_byte(b')') {
                    break;
                }
                if c.at_end() {
                    return Err(c.expected("')'", ctx));
                }
                parse_key_attr(c, &mut ik, &mut im)?;
            }
            key.encap = Some(ik);
            mask.encap = Some(im);
        }
    }
    c.leave();
    key.present.insert(attr);
    mask.present.insert(attr);
    Ok(())
}

fn kf(a: &'static str, f: &'static str) -> Context {
    Context::KeyField(a, f)
}

fn m32(c: &mut Cursor<'_>, ctx: Context) -> PResult<(u32, u32)> {
    let (v, m) = m_int(c, u64::from(u32::MAX), ctx)?;
    Ok((v as u32, m as u32))
}

fn m16(c: &mut Cursor<'_>, ctx: Context) -> PResult<(u16, u16)> {
    let (v, m) = m_int(c, 0xffff, ctx)?;
    Ok((v as u16, m as u16))
}

fn m8(c: &mut Cursor<'_>, ctx: Context) -> PResult<(u8, u8)> {
    let (v, m) = m_int(c, 0xff, ctx)?;
    Ok((v as u8, m as u8))
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

pub(crate) fn parse_ipv4_fields(
    c: &mut Cursor<'_>,
    k: &mut Ipv4Key,
    m: &mut Ipv4Key,
) -> PResult<()> {
    const A: &str = "ipv4";
    fields(c, A, true, |c, f| {
        Ok(Some(match f {
            b"src" => {
                (k.src, m.src) = m_ipv4(c, kf(A, "src"))?;
                "src"
            }
            b"dst" => {
                (k.dst, m.dst) = m_ipv4(c, kf(A, "dst"))?;
                "dst"
            }
            b"proto" => {
                (k.proto, m.proto) = m8(c, kf(A, "proto"))?;
                "proto"
            }
            b"tos" => {
                (k.tos, m.tos) = m8(c, kf(A, "tos"))?;
                "tos"
            }
            b"ttl" => {
                (k.ttl, m.ttl) = m8(c, kf(A, "ttl"))?;
                "ttl"
            }
            b"frag" => {
                k.frag = scan_frag(c, kf(A, "frag"))?;
                m.frag = 0xff;
                "frag"
            }
            _ => return Ok(None),
        }))
    })
}

pub(crate) fn parse_ipv6_fields(
    c: &mut Cursor<'_>,
    k: &mut Ipv6Key,
    m: &mut Ipv6Key,
) -> PResult<()> {
    const A: &str = "ipv6";
    fields(c, A, true, |c, f| {
        Ok(Some(match f {
            b"src" => {
                (k.src, m.src) = m_ipv6(c, kf(A, "src"))?;
                "src"
            }
            b"dst" => {
                (k.dst, m.dst) = m_ipv6(c, kf(A, "dst"))?;
                "dst"
            }
            b"label" => {
                let (v, mm) = m_int(c, 0xf_ffff, kf(A, "label"))?;
                (k.label, m.label) = (v as u32, mm as u32);
                "label"
            }
            b"proto" => {
                (k.proto, m.proto) = m8(c, kf(A, "proto"))?;
                "proto"
            }
            b"tclass" => {
                (k.tclass, m.tclass) = m8(c, kf(A, "tclass"))?;
                "tclass"
            }
            b"hlimit" => {
                (k.hlimit, m.hlimit) = m8(c, kf(A, "hlimit"))?;
                "hlimit"
            }
            b"frag" => {
                k.frag = scan_frag(c, kf(A, "frag"))?;
                m.frag = 0xff;
                "frag"
            }
            _ => return Ok(None),
        }))
    })
}

pub(crate) fn parse_ports(
    c: &mut Cursor<'_>,
    an: &'static str,
    k: &mut PortsKey,
    m: &mut PortsKey,
) -> PResult<()> {
    *k = PortsKey::default();
    *m = PortsKey::default();
    fields(c, an, true, |c, f| {
        Ok(Some(match f {
            b"src" => {
                (k.src, m.src) = m16(c, kf(an, "src"))?;
                "src"
            }
            b"dst" => {
                (k.dst, m.dst) = m16(c, kf(an, "dst"))?;
                "dst"
            }
            _ => return Ok(None),
        }))
    })
}

fn parse_icmp(
    c: &mut Cursor<'_>,
    an: &'static str,
    k: &mut IcmpKey,
    m: &mut IcmpKey,
) -> PResult<()> {
    *k = IcmpKey::default();
    *m = IcmpKey::default();
    fields(c, an, true, |c, f| {
        Ok(Some(match f {
            b"type" => {
                (k.type_, m.type_) = m8(c, kf(an, "type"))?;
                "type"
            }
            b"code" => {
                (k.code, m.code) = m8(c, kf(an, "code"))?;
                "code"
            }
            _ => return Ok(None),
        }))
    })
}

/// `tunnel(...)` (`SCAN_BEGIN_NESTED("tunnel(", ...)`).
fn parse_tunnel(c: &mut Cursor<'_>, k: &mut Tunnel, m: &mut Tunnel) -> PResult<()> {
    const A: &str = "tunnel";
    *k = Tunnel::default();
    *m = Tunnel::default();
    if c.eat_byte(b')') {
        return Ok(());
    }
    loop {
        let at = c.pos();
        let name = c.ident();
        let fname: &'static str;
        if c.eat_byte(b'=') {
            fname = match name {
                b"tun_id" => {
                    let (v, mm) = m_int(c, u64::MAX, kf(A, "tun_id"))?;
                    (k.tun_id, m.tun_id) = (v, mm);
                    set2(k, m, TunnelAttr::Id);
                    "tun_id"
                }
                b"src" => {
                    (k.ipv4_src, m.ipv4_src) = m_ipv4(c, kf(A, "src"))?;
                    set2(k, m, TunnelAttr::Ipv4Src);
                    "src"
                }
                b"dst" => {
                    (k.ipv4_dst, m.ipv4_dst) = m_ipv4(c, kf(A, "dst"))?;
                    set2(k, m, TunnelAttr::Ipv4Dst);
                    "dst"
                }
                b"ipv6_src" => {
                    (k.ipv6_src, m.ipv6_src) = m_ipv6(c, kf(A, "ipv6_src"))?;
                    set2(k, m, TunnelAttr::Ipv6Src);
                    "ipv6_src"
                }
                b"ipv6_dst" => {
                    (k.ipv6_dst, m.ipv6_dst) = m_ipv6(c, kf(A, "ipv6_dst"))?;
                    set2(k, m, TunnelAttr::Ipv6Dst);
                    "ipv6_dst"
                }
                b"tos" => {
                    (k.tos, m.tos) = m8(c, kf(A, "tos"))?;
                    set2(k, m, TunnelAttr::Tos);
                    "tos"
                }
                b"ttl" => {
                    (k.ttl, m.ttl) = m8(c, kf(A, "ttl"))?;
                    set2(k, m, TunnelAttr::Ttl);
                    "ttl"
                }
                b"tp_src" => {
                    (k.tp_src, m.tp_src) = m16(c, kf(A, "tp_src"))?;
                    set2(k, m, TunnelAttr::TpSrc);
                    "tp_src"
                }
                b"tp_dst" => {
                    (k.tp_dst, m.tp_dst) = m16(c, kf(A, "tp_dst"))?;
                    set2(k, m, TunnelAttr::TpDst);
                    "tp_dst"
                }
                _ => return Err(c.err_at(at, Context::Key(A), ErrorKind::UnknownField)),
            };
        } else if c.eat_byte(b'(') {
            fname = match name {
                b"vxlan" => {
                    c.expect("gbp(", "'gbp('", kf(A, "vxlan"))?;
                    let (mut id, mut idm, mut fl, mut flm) = (0u16, 0u16, 0u8, 0u8);
                    fields(c, "gbp", true, |c, f| {
                        Ok(Some(match f {
                            b"id" => {
                                (id, idm) = m16(c, kf("gbp", "id"))?;
                                "id"
                            }
                            b"flags" => {
                                (fl, flm) = m8(c, kf("gbp", "flags"))?;
                                "flags"
                            }
                            _ => return Ok(None),
                        }))
                    })?;
                    c.expect(")", "')'", kf(A, "vxlan"))?;
                    k.vxlan_gbp = (u32::from(fl) << 16) | u32::from(id);
                    m.vxlan_gbp = (u32::from(flm) << 16) | u32::from(idm);
                    // vxlan_gbp_to_attr() emits the attribute only when non-zero.
                    if k.vxlan_gbp != 0 {
                        k.set(TunnelAttr::VxlanOpts);
                    }
                    if m.vxlan_gbp != 0 {
                        m.set(TunnelAttr::VxlanOpts);
                    }
                    "vxlan"
                }
                b"geneve" => {
                    let (gk, gm) = parse_geneve_opts(c, true)?;
                    k.geneve = Some(gk);
                    m.geneve = gm;
                    set2(k, m, TunnelAttr::GeneveOpts);
                    "geneve"
                }
                b"erspan" => {
                    let (mut e, mut em) = (
                        ErspanOpts::default(),
                        ErspanOpts {
                            ver: 0xff,
                            ..Default::default()
                        },
                    );
                    fields(c, "erspan", true, |c, f| {
                        Ok(Some(match f {
                            b"ver" => {
                                (e.ver, _) = m8(c, kf("erspan", "ver"))?;
                                "ver"
                            }
                            b"idx" => {
                                (e.idx, em.idx) = m32(c, kf("erspan", "idx"))?;
                                "idx"
                            }
                            b"dir" => {
                                (e.dir, em.dir) = m8(c, kf("erspan", "dir"))?;
                                "dir"
                            }
                            b"hwid" => {
                                (e.hwid, em.hwid) = m8(c, kf("erspan", "hwid"))?;
                                "hwid"
                            }
                            _ => return Ok(None),
                        }))
                    })?;
                    if e.ver != 1 && e.ver != 2 {
                        return Err(c.err_at(
                            at,
                            kf(A, "erspan"),
                            ErrorKind::Invalid("ERSPAN version (1 or 2)"),
                        ));
                    }
                    (k.erspan, m.erspan) = (e, em);
                    set2(k, m, TunnelAttr::ErspanOpts);
                    "erspan"
                }
                b"gtpu" => {
                    let (mut g, mut gm) = (GtpuOpts::default(), GtpuOpts::default());
                    fields(c, "gtpu", true, |c, f| {
                        Ok(Some(match f {
                            b"flags" => {
                                (g.flags, gm.flags) = m8(c, kf("gtpu", "flags"))?;
                                "flags"
                            }
                            b"msgtype" => {
                                (g.msgtype, gm.msgtype) = m8(c, kf("gtpu", "msgtype"))?;
                                "msgtype"
                            }
                            _ => return Ok(None),
                        }))
                    })?;
                    (k.gtpu, m.gtpu) = (g, gm);
                    set2(k, m, TunnelAttr::GtpuOpts);
                    "gtpu"
                }
                b"flags" => {
                    let (v, mm) =
                        parse_flags(c, tun_flag_bit, u32::from(tnl_flags::MASK), kf(A, "flags"))?;
                    c.expect(")", "')'", kf(A, "flags"))?;
                    let keep = tnl_flags::DONT_FRAGMENT | tnl_flags::CSUM | tnl_flags::OAM;
                    k.flags = (v as u16) & keep;
                    m.flags = (mm as u16) & keep;
                    "flags"
                }
                _ => return Err(c.err_at(at, Context::Key(A), ErrorKind::UnknownField)),
            };
        } else {
            if name.is_empty() {
                return Err(c.expected("a tunnel field", Context::Key(A)));
            }
            return Err(c.err_at(at, Context::Key(A), ErrorKind::UnknownField));
        }
        if sep(c, A, fname, true)? {
            return Ok(());
        }
    }
}

fn set2(k: &mut Tunnel, m: &mut Tunnel, a: TunnelAttr) {
    k.set(a);
    m.set(a);
}

/// `scan_geneve()`: `{class=,type=,len=,0xDATA[/0xMASK]}...)`, the `(` already
/// read, the final `)` consumed.  Returns the key options and, when `masked`,
/// the mask options.
pub(crate) fn parse_geneve_opts(
    c: &mut Cursor<'_>,
    masked: bool,
) -> PResult<(Box<GeneveOpts>, Option<Box<GeneveOpts>>)> {
    const A: &str = "geneve";
    let mut k = Box::<GeneveOpts>::default();
    let mut m = Box::<GeneveOpts>::default();
    let mut len = 0usize;
    while c.eat_byte(b'{') {
        if len + 4 > 252 {
            return Err(c.err(
                Context::Key(A),
                ErrorKind::Invalid("Geneve options longer than 252 bytes"),
            ));
        }
        let (mut class, mut classm, mut ty, mut tym, mut olen, mut olenm) =
            (0u16, 0u16, 0u8, 0u8, 0u8, 0u8);
        if c.eat("class=") {
            (class, classm) = m16(c, kf(A, "class"))?;
        }
        c.eat_byte(b',');
        if c.eat("type=") {
            (ty, tym) = m8(c, kf(A, "type"))?;
        }
        c.eat_byte(b',');
        if c.eat("len=") {
            let at = c.pos();
            (olen, olenm) = m8(c, kf(A, "len"))?;
            if olen > 124 || olen % 4 != 0 || len + 4 + usize::from(olen) > 252 {
                return Err(c.err_at(at, kf(A, "len"), ErrorKind::Invalid("Geneve option length")));
            }
        }
        let dl = usize::from(olen);
        let hdr = [(class >> 8) as u8, class as u8, ty, olen / 4];
        let hdrm = [(classm >> 8) as u8, classm as u8, tym, olenm];
        k.data[len..len + 4].copy_from_slice(&hdr);
        m.data[len..len + 4].copy_from_slice(&hdrm);
        if c.eat_byte(b',') {
            let v = c.u128(kf(A, "data"))?;
            put_be_bytes(&mut k.data[len + 4..len + 4 + dl], v, c, kf(A, "data"))?;
            if c.eat_byte(b'/') {
                let mv = c.u128(kf(A, "data"))?;
                put_be_bytes(&mut m.data[len + 4..len + 4 + dl], mv, c, kf(A, "data"))?;
            } else {
                m.data[len + 4..len + 4 + dl].fill(0xff);
            }
        } else if masked && c.eat_byte(b'/') {
            let mv = c.u128(kf(A, "data"))?;
            put_be_bytes(&mut m.data[len + 4..len + 4 + dl], mv, c, kf(A, "data"))?;
        }
        c.expect("}", "'}'", kf(A, "len"))?;
        len += 4 + dl;
    }
    c.expect(")", "'{' or ')'", Context::Key(A))?;
    k.len = len as u8;
    m.len = len as u8;
    Ok((k, masked.then_some(m)))
}

/// Stores `v` right-aligned, big-endian, in `dst`; an error if it does not fit.
fn put_be_bytes(dst: &mut [u8], v: u128, c: &Cursor<'_>, ctx: Context) -> PResult<()> {
    let bytes = v.to_be_bytes();
    let n = dst.len().min(16);
    if bytes[..16 - n].iter().any(|&b| b != 0) {
        return Err(c.err(
            ctx,
            ErrorKind::Invalid("option data longer than its length"),
        ));
    }
    let pad = dst.len() - n;
    dst[pad..].copy_from_slice(&bytes[16 - n..]);
    Ok(())
}

// ---------------------------------------------------------------------------
// Formatting helpers (`format_eth`, `format_ipv4`, `format_u8x`, ...).  Each
// takes the mask as `Option`: `None` means "no mask" (exact).

fn fmt_eth(out: &mut String, name: &str, k: &[u8; 6], m: Option<&[u8; 6]>, verbose: bool) {
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

fn fmt_ipv4(out: &mut String, name: &str, k: u32, m: Option<u32>, verbose: bool) {
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

fn fmt_in6(out: &mut String, name: &str, k: &[u8; 16], m: Option<&[u8; 16]>, verbose: bool) {
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
fn fmt_num(
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

fn u8u(out: &mut String, name: &str, k: u8, m: Option<u8>, verbose: bool) {
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

fn u8x(out: &mut String, name: &str, k: u8, m: Option<u8>, verbose: bool) {
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

fn be16(out: &mut String, name: &str, k: u16, m: Option<u16>, verbose: bool) {
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

fn be16x(out: &mut String, name: &str, k: u16, m: Option<u16>, verbose: bool) {
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

fn fmt_frag(out: &mut String, k: u8, m: Option<u8>) {
    let empty = m == Some(0);
    let full = m.map_or(true, |m| m == 0xff);
    if !empty && !full {
        out.push_str("error: partial mask not supported for frag (");
        w::hex_alt(out, u64::from(m.unwrap_or(0)));
        out.push_str("),");
    } else if !empty {
        out.push_str("frag=");
        out.push_str(match k {
            frag::NONE => "no",
            frag::FIRST => "first",
            frag::LATER => "later",
            _ => "<error>",
        });
        out.push(',');
    }
}

/// `u32` attributes printed as `%#x[/%#x]`.
fn fmt_u32_attr(out: &mut String, k: u32, m: Option<u32>) {
    w::hex_alt(out, u64::from(k));
    if let Some(m) = m.filter(|&m| m != u32::MAX) {
        out.push('/');
        w::hex_alt(out, u64::from(m));
    }
}

/// `format_u128()`.
fn fmt_u128(out: &mut String, k: u128, m: Option<u128>, verbose: bool) {
    if verbose || m.is_some_and(|m| m != 0) {
        w::ds_hex(out, &k.to_be_bytes());
        if let Some(m) = m.filter(|&m| m != u128::MAX) {
            out.push('/');
            w::ds_hex(out, &m.to_be_bytes());
        }
    }
}

pub(crate) fn fmt_eth_key(out: &mut String, k: &EthKey, m: Option<&EthKey>, verbose: bool) {
    fmt_eth(out, "src", &k.src, m.map(|m| &m.src), verbose);
    fmt_eth(out, "dst", &k.dst, m.map(|m| &m.dst), verbose);
    w::chomp(out, ',');
}

pub(crate) fn fmt_ipv4_key(out: &mut String, k: &Ipv4Key, m: Option<&Ipv4Key>, verbose: bool) {
    fmt_ipv4(out, "src", k.src, m.map(|m| m.src), verbose);
    fmt_ipv4(out, "dst", k.dst, m.map(|m| m.dst), verbose);
    u8u(out, "proto", k.proto, m.map(|m| m.proto), verbose);
    u8x(out, "tos", k.tos, m.map(|m| m.tos), verbose);
    u8u(out, "ttl", k.ttl, m.map(|m| m.ttl), verbose);
    fmt_frag(out, k.frag, m.map(|m| m.frag));
    w::chomp(out, ',');
}

pub(crate) fn fmt_ports_key(out: &mut String, k: &PortsKey, m: Option<&PortsKey>, verbose: bool) {
    be16(out, "src", k.src, m.map(|m| m.src), verbose);
    be16(out, "dst", k.dst, m.map(|m| m.dst), verbose);
    w::chomp(out, ',');
}

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

fn fmt_port(out: &mut String, p: &OdpPort) {
    match p {
        OdpPort::Number(n) => w::dec(out, u64::from(*n)),
        OdpPort::Name(n) => out.push_str(n.as_str()),
    }
}

pub(crate) fn format_port(out: &mut String, p: &OdpPort) {
    fmt_port(out, p);
}

// ---------------------------------------------------------------------------
// Attribute-level mask tests (`odp_mask_is_constant__()`).

fn ipv6_mask_is(m: &Ipv6Key, ones: bool) -> bool {
    let (a, b) = if ones { (0xffu8, 0xf_ffffu32) } else { (0, 0) };
    m.label & 0xf_ffff == b
        && m.proto == a
        && m.tclass == a
        && m.hlimit == a
        && m.frag == a
        && m.src == [a; 16]
        && m.dst == [a; 16]
}

/// True when the mask of `attr` has every bit set (the mask is not printed).
pub(crate) fn attr_mask_is_exact(attr: KeyAttr, m: &FlowKey) -> bool {
    match attr {
        KeyAttr::Priority => m.skb_priority == u32::MAX,
        KeyAttr::SkbMark => m.skb_mark == u32::MAX,
        KeyAttr::DpHash => m.dp_hash == u32::MAX,
        KeyAttr::RecircId => m.recirc_id == u32::MAX,
        KeyAttr::CtState => m.ct_state == u32::MAX,
        KeyAttr::CtZone => m.ct_zone == u16::MAX,
        KeyAttr::CtMark => m.ct_mark == u32::MAX,
        KeyAttr::CtLabels => m.ct_label == u128::MAX,
        KeyAttr::CtOrigTupleIpv4 => {
            m.ct_tuple4
                == CtTuple4 {
                    src: u32::MAX,
                    dst: u32::MAX,
                    src_port: u16::MAX,
                    dst_port: u16::MAX,
                    proto: 0xff,
                }
        }
        KeyAttr::CtOrigTupleIpv6 => {
            m.ct_tuple6
                == CtTuple6 {
                    src: [0xff; 16],
                    dst: [0xff; 16],
                    src_port: u16::MAX,
                    dst_port: u16::MAX,
                    proto: 0xff,
                }
        }
        KeyAttr::InPort => m.in_port == OdpPort::Number(u32::MAX),
        KeyAttr::PacketType => {
            m.packet_type
                == PacketType {
                    ns: u16::MAX,
                    id: u16::MAX,
                }
        }
        KeyAttr::Ethernet => {
            m.eth
                == EthKey {
                    src: [0xff; 6],
                    dst: [0xff; 6],
                }
        }
        KeyAttr::Vlan => m.vlan_tci == u16::MAX,
        KeyAttr::Ethertype => m.eth_type == u16::MAX,
        KeyAttr::Mpls => m.mpls.entries().iter().all(|&l| l == u32::MAX),
        KeyAttr::Ipv4 => {
            m.ipv4
                == Ipv4Key {
                    src: u32::MAX,
                    dst: u32::MAX,
                    proto: 0xff,
                    tos: 0xff,
                    ttl: 0xff,
                    frag: 0xff,
                }
        }
        KeyAttr::Ipv6 => ipv6_mask_is(&m.ipv6, true),
        KeyAttr::Tcp => {
            m.tcp
                == PortsKey {
                    src: u16::MAX,
                    dst: u16::MAX,
                }
        }
        KeyAttr::Udp => {
            m.udp
                == PortsKey {
                    src: u16::MAX,
                    dst: u16::MAX,
                }
        }
        KeyAttr::Sctp => {
            m.sctp
                == PortsKey {
                    src: u16::MAX,
                    dst: u16::MAX,
                }
        }
        KeyAttr::TcpFlags => m.tcp_flags & 0x0fff == 0x0fff,
        KeyAttr::Icmp => {
            m.icmp
                == IcmpKey {
                    type_: 0xff,
                    code: 0xff,
                }
        }
        KeyAttr::Icmpv6 => {
            m.icmpv6
                == IcmpKey {
                    type_: 0xff,
                    code: 0xff,
                }
        }
        KeyAttr::Arp => {
            m.arp
                == ArpKey {
                    sip: u32::MAX,
                    tip: u32::MAX,
                    op: u16::MAX,
                    sha: [0xff; 6],
                    tha: [0xff; 6],
                }
        }
        KeyAttr::Nd => {
            m.nd == NdKey {
                target: [0xff; 16],
                sll: [0xff; 6],
                tll: [0xff; 6],
            }
        }
        // Padding in the C struct is never all-ones.
        KeyAttr::NdExtensions => false,
        KeyAttr::Nsh => {
            m.nsh
                == NshKey {
                    flags: 0xff,
                    ttl: 0xff,
                    mdtype: 0xff,
                    np: 0xff,
                    spi: 0xff_ffff,
                    si: 0xff,
                    context: [u32::MAX; 4],
                }
        }
        KeyAttr::Tunnel | KeyAttr::Encap => false,
    }
}

/// True when the mask of `attr` is all zero (the attribute is wildcarded).
pub(crate) fn attr_mask_is_zero(attr: KeyAttr, m: &FlowKey) -> bool {
    match attr {
        KeyAttr::Priority => m.skb_priority == 0,
        KeyAttr::SkbMark => m.skb_mark == 0,
        KeyAttr::DpHash => m.dp_hash == 0,
        KeyAttr::RecircId => m.recirc_id == 0,
        KeyAttr::CtState => m.ct_state == 0,
        KeyAttr::CtZone => m.ct_zone == 0,
        KeyAttr::CtMark => m.ct_mark == 0,
        KeyAttr::CtLabels => m.ct_label == 0,
        KeyAttr::CtOrigTupleIpv4 => m.ct_tuple4 == CtTuple4::default(),
        KeyAttr::CtOrigTupleIpv6 => m.ct_tuple6 == CtTuple6::default(),
        KeyAttr::InPort => m.in_port == OdpPort::Number(0),
        KeyAttr::PacketType => m.packet_type == PacketType::default(),
        KeyAttr::Ethernet => m.eth == EthKey::default(),
        KeyAttr::Vlan => m.vlan_tci == 0,
        KeyAttr::Ethertype => m.eth_type == 0,
        KeyAttr::Mpls => m.mpls.entries().iter().all(|&l| l == 0),
        KeyAttr::Ipv4 => m.ipv4 == Ipv4Key::default(),
        KeyAttr::Ipv6 => ipv6_mask_is(&m.ipv6, false),
        KeyAttr::Tcp => m.tcp == PortsKey::default(),
        KeyAttr::Udp => m.udp == PortsKey::default(),
        KeyAttr::Sctp => m.sctp == PortsKey::default(),
        KeyAttr::TcpFlags => m.tcp_flags & 0x0fff == 0,
        KeyAttr::Icmp => m.icmp == IcmpKey::default(),
        KeyAttr::Icmpv6 => m.icmpv6 == IcmpKey::default(),
        KeyAttr::Arp => m.arp == ArpKey::default(),
        KeyAttr::Nd => m.nd == NdKey::default(),
        KeyAttr::NdExtensions => m.nd_ext == NdExtKey::default(),
        KeyAttr::Nsh => m.nsh == NshKey::default(),
        KeyAttr::Tunnel | KeyAttr::Encap => false,
    }
}

// ---------------------------------------------------------------------------
// Formatting.

static ZERO_KEY: FlowKey = FlowKey {
    present: AttrSet(0),
    skb_priority: 0,
    skb_mark: 0,
    recirc_id: 0,
    dp_hash: 0,
    ct_state: 0,
    ct_zone: 0,
    ct_mark: 0,
    ct_label: 0,
    ct_tuple4: CtTuple4 {
        src: 0,
        dst: 0,
        src_port: 0,
        dst_port: 0,
        proto: 0,
    },
    ct_tuple6: CtTuple6 {
        src: [0; 16],
        dst: [0; 16],
        src_port: 0,
        dst_port: 0,
        proto: 0,
    },
    tunnel: Tunnel {
        present: 0,
        tun_id: 0,
        ipv4_src: 0,
        ipv4_dst: 0,
        ipv6_src: [0; 16],
        ipv6_dst: [0; 16],
        tos: 0,
        ttl: 0,
        tp_src: 0,
        tp_dst: 0,
        flags: 0,
        vxlan_gbp: 0,
        geneve: None,
        erspan: ErspanOpts {
            ver: 0,
            idx: 0,
            dir: 0,
            hwid: 0,
        },
        gtpu: GtpuOpts {
            flags: 0,
            msgtype: 0,
        },
    },
    in_port: OdpPort::Number(0),
    packet_type: PacketType { ns: 0, id: 0 },
    eth: EthKey {
        src: [0; 6],
        dst: [0; 6],
    },
    vlan_tci: 0,
    eth_type: 0,
    mpls: MplsKey { lse: [0; 3], n: 0 },
    ipv4: Ipv4Key {
        src: 0,
        dst: 0,
        proto: 0,
        tos: 0,
        ttl: 0,
        frag: 0,
    },
    ipv6: Ipv6Key {
        src: [0; 16],
        dst: [0; 16],
        label: 0,
        proto: 0,
        tclass: 0,
        hlimit: 0,
        frag: 0,
    },
    tcp: PortsKey { src: 0, dst: 0 },
    tcp_flags: 0,
    udp: PortsKey { src: 0, dst: 0 },
    sctp: PortsKey { src: 0, dst: 0 },
    icmp: IcmpKey { type_: 0, code: 0 },
    icmpv6: IcmpKey { type_: 0, code: 0 },
    arp: ArpKey {
        sip: 0,
        tip: 0,
        op: 0,
        sha: [0; 6],
        tha: [0; 6],
    },
    nd: NdKey {
        target: [0; 16],
        sll: [0; 6],
        tll: [0; 6],
    },
    nd_ext: NdExtKey {
        reserved: 0,
        options_type: 0,
    },
    nsh: NshKey {
        flags: 0,
        ttl: 0,
        mdtype: 0,
        np: 0,
        spi: 0,
        si: 0,
        context: [0; 4],
    },
    encap: None,
};

/// `odp_flow_format()`: the attributes of `key` with `mask` (`None`: no mask
/// at all, every attribute printed as exact).
pub fn format_flow_key(out: &mut String, key: &FlowKey, mask: Option<&FlowMask>, verbose: bool) {
    if key.present.is_empty() {
        out.push_str("<empty>");
        return;
    }
    let mut first = true;
    for attr in KeyAttr::CANONICAL_ORDER {
        if !key.has(attr) {
            continue;
        }
        let nested = matches!(attr, KeyAttr::Encap | KeyAttr::Tunnel | KeyAttr::Nsh);
        let (ma, wildcard) = match mask {
            Some(m) if m.has(attr) => (Some(m), attr_mask_is_zero(attr, m)),
            Some(_) => (Some(&ZERO_KEY), true),
            None => (None, false),
        };
        if verbose || !wildcard || nested {
            if !first {
                out.push(',');
            }
            format_key_attr(out, attr, key, ma, verbose);
            first = false;
        } else if attr == KeyAttr::Ethernet && !key.has(KeyAttr::PacketType) {
            if !first {
                out.push(',');
            }
            out.push_str("eth()");
            first = false;
        }
    }
    if !key.has(KeyAttr::Ethertype) {
        if let Some(m) = mask.filter(|m| m.has(KeyAttr::Ethertype)) {
            out.push_str(",eth_type(0/0x");
            w::hex_pad(out, u64::from(m.eth_type), 4);
            out.push(')');
        }
    }
}

/// `format_odp_key_attr__()` for one attribute of `key` (mask `None`: exact).
pub(crate) fn format_key_attr(
    out: &mut String,
    attr: KeyAttr,
    key: &FlowKey,
    mask: Option<&FlowKey>,
    verbose: bool,
) {
    let exact = mask.map_or(true, |m| attr_mask_is_exact(attr, m));
    let mask_empty = mask.map_or(true, |m| attr_mask_is_zero(attr, m));
    out.push_str(attr.name());
    out.push('(');
    match attr {
        KeyAttr::Encap => {
            if let Some(inner) = key.encap.as_deref().filter(|k| !k.present.is_empty()) {
                let im = mask
                    .and_then(|m| m.encap.as_deref())
                    .filter(|m| !m.present.is_empty());
                format_flow_key(out, inner, im, verbose);
            }
        }
        KeyAttr::Priority | KeyAttr::SkbMark | KeyAttr::DpHash | KeyAttr::RecircId => {
            let get = |k: &FlowKey| match attr {
                KeyAttr::Priority => k.skb_priority,
                KeyAttr::SkbMark => k.skb_mark,
                KeyAttr::DpHash => k.dp_hash,
                _ => k.recirc_id,
            };
            fmt_u32_attr(out, get(key), if exact { None } else { mask.map(get) });
        }
        KeyAttr::CtMark => {
            if verbose || !mask_empty {
                fmt_u32_attr(
                    out,
                    key.ct_mark,
                    if exact { None } else { mask.map(|m| m.ct_mark) },
                );
            }
        }
        KeyAttr::CtState => {
            let mv = mask.map_or(u32::MAX, |m| m.ct_state);
            if verbose {
                w::hex_alt(out, u64::from(key.ct_state));
                if !exact {
                    out.push('/');
                    w::hex_alt(out, u64::from(mv));
                }
            } else if !exact {
                format_flags_masked(out, ct_state_name, key.ct_state, mv, u32::MAX);
            } else {
                format_flags(out, ct_state_name, key.ct_state, '|');
            }
        }
        KeyAttr::CtZone => {
            if verbose || !mask_empty {
                w::hex_alt(out, u64::from(key.ct_zone));
                if !exact {
                    out.push('/');
                    w::hex_alt(out, u64::from(mask.map_or(0, |m| m.ct_zone)));
                }
            }
        }
        KeyAttr::CtLabels => fmt_u128(out, key.ct_label, mask.map(|m| m.ct_label), verbose),
        KeyAttr::CtOrigTupleIpv4 => {
            let (k, m) = (&key.ct_tuple4, mask.map(|m| &m.ct_tuple4));
            fmt_ipv4(out, "src", k.src, m.map(|m| m.src), verbose);
            fmt_ipv4(out, "dst", k.dst, m.map(|m| m.dst), verbose);
            u8u(out, "proto", k.proto, m.map(|m| m.proto), verbose);
            be16(out, "tp_src", k.src_port, m.map(|m| m.src_port), verbose);
            be16(out, "tp_dst", k.dst_port, m.map(|m| m.dst_port), verbose);
            w::chomp(out, ',');
        }
        KeyAttr::CtOrigTupleIpv6 => {
            let (k, m) = (&key.ct_tuple6, mask.map(|m| &m.ct_tuple6));
            fmt_in6(out, "src", &k.src, m.map(|m| &m.src), verbose);
            fmt_in6(out, "dst", &k.dst, m.map(|m| &m.dst), verbose);
            u8u(out, "proto", k.proto, m.map(|m| m.proto), verbose);
            be16(out, "src_port", k.src_port, m.map(|m| m.src_port), verbose);
            be16(out, "dst_port", k.dst_port, m.map(|m| m.dst_port), verbose);
            w::chomp(out, ',');
        }
        KeyAttr::Tunnel => fmt_tunnel(out, &key.tunnel, mask.map(|m| &m.tunnel), verbose),
        KeyAttr::InPort => {
            if exact {
                fmt_port(out, &key.in_port);
            } else {
                fmt_port(out, &key.in_port);
                out.push('/');
                w::hex_alt(
                    out,
                    u64::from(mask.and_then(|m| m.in_port.number()).unwrap_or(0)),
                );
            }
        }
        KeyAttr::PacketType => {
            let m = mask.map_or(
                PacketType {
                    ns: u16::MAX,
                    id: u16::MAX,
                },
                |m| m.packet_type,
            );
            be16(out, "ns", key.packet_type.ns, Some(m.ns), verbose);
            be16x(out, "id", key.packet_type.id, Some(m.id), verbose);
            w::chomp(out, ',');
        }
        KeyAttr::Ethernet => fmt_eth_key(out, &key.eth, mask.map(|m| &m.eth), verbose),
        KeyAttr::Vlan => fmt_vlan_tci(
            out,
            key.vlan_tci,
            mask.map_or(u16::MAX, |m| m.vlan_tci),
            verbose,
        ),
        KeyAttr::Mpls => {
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
        KeyAttr::Ethertype => {
            out.push_str("0x");
            w::hex_pad(out, u64::from(key.eth_type), 4);
            if !exact {
                out.push_str("/0x");
                w::hex_pad(out, u64::from(mask.map_or(0, |m| m.eth_type)), 4);
            }
        }
        KeyAttr::Ipv4 => fmt_ipv4_key(out, &key.ipv4, mask.map(|m| &m.ipv4), verbose),
        KeyAttr::Ipv6 => fmt_ipv6_key(out, &key.ipv6, mask.map(|m| &m.ipv6), verbose),
        KeyAttr::Tcp => fmt_ports_key(out, &key.tcp, mask.map(|m| &m.tcp), verbose),
        KeyAttr::Udp => fmt_ports_key(out, &key.udp, mask.map(|m| &m.udp), verbose),
        KeyAttr::Sctp => fmt_ports_key(out, &key.sctp, mask.map(|m| &m.sctp), verbose),
        KeyAttr::TcpFlags => {
            if !exact {
                let m = mask.map_or(0, |m| m.tcp_flags) & 0x0fff;
                format_flags_masked(
                    out,
                    tcp_flag_name,
                    u32::from(key.tcp_flags),
                    u32::from(m),
                    0x0fff,
                );
            } else {
                format_flags(out, tcp_flag_name, u32::from(key.tcp_flags), '|');
            }
        }
        KeyAttr::Icmp | KeyAttr::Icmpv6 => {
            let get = |k: &FlowKey| {
                if attr == KeyAttr::Icmp {
                    k.icmp
                } else {
                    k.icmpv6
                }
            };
            let (k, m) = (get(key), mask.map(get));
            u8u(out, "type", k.type_, m.map(|m| m.type_), verbose);
            u8u(out, "code", k.code, m.map(|m| m.code), verbose);
            w::chomp(out, ',');
        }
        KeyAttr::Arp => {
            let (k, m) = (&key.arp, mask.map(|m| &m.arp));
            fmt_ipv4(out, "sip", k.sip, m.map(|m| m.sip), verbose);
            fmt_ipv4(out, "tip", k.tip, m.map(|m| m.tip), verbose);
            be16(out, "op", k.op, m.map(|m| m.op), verbose);
            fmt_eth(out, "sha", &k.sha, m.map(|m| &m.sha), verbose);
            fmt_eth(out, "tha", &k.tha, m.map(|m| &m.tha), verbose);
            w::chomp(out, ',');
        }
        KeyAttr::Nd => {
            let (k, m) = (&key.nd, mask.map(|m| &m.nd));
            fmt_in6(out, "target", &k.target, m.map(|m| &m.target), verbose);
            fmt_eth(out, "sll", &k.sll, m.map(|m| &m.sll), verbose);
            fmt_eth(out, "tll", &k.tll, m.map(|m| &m.tll), verbose);
            w::chomp(out, ',');
        }
        KeyAttr::NdExtensions => {
            let (k, m) = (&key.nd_ext, mask.map(|m| &m.nd_ext));
            out.push_str("nd_reserved=");
            w::hex_0x(out, u64::from(k.reserved));
            out.push(',');
            u8u(
                out,
                "nd_options_type",
                k.options_type,
                m.map(|m| m.options_type),
                verbose,
            );
            w::chomp(out, ',');
        }
        KeyAttr::Nsh => fmt_nsh(out, &key.nsh, mask.map(|m| &m.nsh)),
    }
    out.push(')');
}

pub(crate) fn fmt_ipv6_key(out: &mut String, k: &Ipv6Key, m: Option<&Ipv6Key>, verbose: bool) {
    fmt_in6(out, "src", &k.src, m.map(|m| &m.src), verbose);
    fmt_in6(out, "dst", &k.dst, m.map(|m| &m.dst), verbose);
    // format_ipv6_label(): full when the 20 label bits are set.
    let lm = m.map(|m| m.label);
    if verbose || lm != Some(0) {
        out.push_str("label=");
        w::hex_alt(out, u64::from(k.label));
        if let Some(lm) = lm.filter(|&lm| lm & 0xf_ffff != 0xf_ffff) {
            out.push('/');
            w::hex_alt(out, u64::from(lm));
        }
        out.push(',');
    }
    u8u(out, "proto", k.proto, m.map(|m| m.proto), verbose);
    u8x(out, "tclass", k.tclass, m.map(|m| m.tclass), verbose);
    u8u(out, "hlimit", k.hlimit, m.map(|m| m.hlimit), verbose);
    fmt_frag(out, k.frag, m.map(|m| m.frag));
    w::chomp(out, ',');
}

/// `format_odp_nsh_attr()`.
fn fmt_nsh(out: &mut String, k: &NshKey, m: Option<&NshKey>) {
    let Some(m) = m else {
        // format_nsh_key(): OVS prints no comma between flags and ttl.
        out.push_str("flags=");
        w::dec(out, u64::from(k.flags));
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

/// `format_uint8_masked()`.
fn nsh_u8(out: &mut String, first: &mut bool, name: &str, v: u8, m: u8) {
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
fn nsh_be32(out: &mut String, first: &mut bool, name: &str, v: u32, m: u32) {
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

/// `format_odp_tun_attr()`.
fn fmt_tunnel(out: &mut String, k: &Tunnel, m: Option<&Tunnel>, verbose: bool) {
    let mv = |a: TunnelAttr| m.map(|m| m.has(a));
    let mut flags = k.flags;
    let mut mask_flags = m.map_or(0, |m| m.flags);
    if k.has(TunnelAttr::Id) {
        let mm = mv(TunnelAttr::Id).map(|h| if h { m.map_or(0, |m| m.tun_id) } else { 0 });
        if verbose || mm != Some(0) {
            out.push_str("tun_id=0x");
            w::hex(out, k.tun_id);
            if let Some(mm) = mm.filter(|&x| x != u64::MAX) {
                out.push('/');
                w::hex_alt(out, mm);
            }
            out.push(',');
        }
        flags |= tnl_flags::KEY;
        if m.is_some() {
            mask_flags |= tnl_flags::KEY;
        }
    }
    macro_rules! sub {
        ($a:expr, $field:ident) => {
            if mv($a) == Some(true) {
                m.map(|m| m.$field)
            } else if m.is_some() {
                Some(Default::default())
            } else {
                None
            }
        };
    }
    if k.has(TunnelAttr::Ipv4Src) {
        fmt_ipv4(
            out,
            "src",
            k.ipv4_src,
            sub!(TunnelAttr::Ipv4Src, ipv4_src),
            verbose,
        );
    }
    if k.has(TunnelAttr::Ipv4Dst) {
        fmt_ipv4(
            out,
            "dst",
            k.ipv4_dst,
            sub!(TunnelAttr::Ipv4Dst, ipv4_dst),
            verbose,
        );
    }
    if k.has(TunnelAttr::Ipv6Src) {
        let mm: Option<[u8; 16]> = sub!(TunnelAttr::Ipv6Src, ipv6_src);
        fmt_in6(out, "ipv6_src", &k.ipv6_src, mm.as_ref(), verbose);
    }
    if k.has(TunnelAttr::Ipv6Dst) {
        let mm: Option<[u8; 16]> = sub!(TunnelAttr::Ipv6Dst, ipv6_dst);
        fmt_in6(out, "ipv6_dst", &k.ipv6_dst, mm.as_ref(), verbose);
    }
    if k.has(TunnelAttr::Tos) {
        u8x(out, "tos", k.tos, sub!(TunnelAttr::Tos, tos), verbose);
    }
    if k.has(TunnelAttr::Ttl) {
        u8u(out, "ttl", k.ttl, sub!(TunnelAttr::Ttl, ttl), verbose);
    }
    if k.has(TunnelAttr::TpSrc) {
        be16(
            out,
            "tp_src",
            k.tp_src,
            sub!(TunnelAttr::TpSrc, tp_src),
            verbose,
        );
    }
    if k.has(TunnelAttr::TpDst) {
        be16(
            out,
            "tp_dst",
            k.tp_dst,
            sub!(TunnelAttr::TpDst, tp_dst),
            verbose,
        );
    }
    if k.has(TunnelAttr::VxlanOpts) {
        let mm: Option<u32> = sub!(TunnelAttr::VxlanOpts, vxlan_gbp);
        out.push_str("vxlan(gbp(");
        be16(out, "id", k.vxlan_gbp as u16, mm.map(|x| x as u16), verbose);
        u8x(
            out,
            "flags",
            (k.vxlan_gbp >> 16) as u8,
            mm.map(|x| (x >> 16) as u8),
            verbose,
        );
        w::chomp(out, ',');
        out.push_str(")),");
    }
    if k.has(TunnelAttr::GeneveOpts) {
        out.push_str("geneve(");
        let kb = k.geneve.as_deref().map_or(&[][..], GeneveOpts::bytes);
        let zero = [0u8; 252];
        let mb: Option<&[u8]> = match m {
            Some(m) if m.has(TunnelAttr::GeneveOpts) => Some(
                m.geneve
                    .as_deref()
                    .map_or(&zero[..kb.len()], GeneveOpts::bytes),
            ),
            Some(_) => Some(&zero[..kb.len()]),
            None => None,
        };
        if let Some(mb) = mb.filter(|mb| mb.len() != kb.len()) {
            out.push_str("value len ");
            w::dec(out, kb.len() as u64);
            out.push_str(" different from mask len ");
            w::dec(out, mb.len() as u64);
        } else {
            fmt_geneve_opts(out, kb, mb, verbose);
        }
        out.push_str("),");
    }
    if k.has(TunnelAttr::ErspanOpts) {
        out.push_str("erspan(");
        let e = &k.erspan;
        let em: Option<ErspanOpts> = sub!(TunnelAttr::ErspanOpts, erspan);
        u8u(out, "ver", e.ver, em.map(|x| x.ver), verbose);
        if e.ver == 1 {
            out.push_str("idx=");
            w::hex_alt(out, u64::from(e.idx));
            if let Some(em) = em {
                out.push('/');
                w::hex_alt(out, u64::from(em.idx));
            }
            out.push(',');
        } else if e.ver == 2 {
            u8u(out, "dir", e.dir, em.map(|x| x.dir), verbose);
            u8x(out, "hwid", e.hwid, em.map(|x| x.hwid), verbose);
        }
        w::chomp(out, ',');
        out.push_str("),");
    }
    if k.has(TunnelAttr::GtpuOpts) {
        out.push_str("gtpu(");
        let gm: Option<GtpuOpts> = sub!(TunnelAttr::GtpuOpts, gtpu);
        u8x(out, "flags", k.gtpu.flags, gm.map(|x| x.flags), verbose);
        u8u(
            out,
            "msgtype",
            k.gtpu.msgtype,
            gm.map(|x| x.msgtype),
            verbose,
        );
        w::chomp(out, ',');
        out.push_str("),");
    }
    // format_tun_flags()
    let mflags = m.map(|_| mask_flags);
    if verbose || mflags != Some(0) {
        out.push_str("flags(");
        match mflags {
            Some(mf) => format_flags_masked(
                out,
                tun_flag_name,
                u32::from(flags),
                u32::from(mf & tnl_flags::MASK),
                u32::from(tnl_flags::MASK),
            ),
            None => format_flags(out, tun_flag_name, u32::from(flags), '|'),
        }
        out.push_str("),");
    }
    w::chomp(out, ',');
}

/// `format_geneve_opts()`.
pub(crate) fn fmt_geneve_opts(out: &mut String, opts: &[u8], mask: Option<&[u8]>, verbose: bool) {
    let mut off = 0usize;
    while off < opts.len() {
        let rem = opts.len() - off;
        if rem < 4 {
            out.push_str("opt len ");
            w::dec(out, rem as u64);
            out.push_str(" less than minimum 4");
            return;
        }
        let o = &opts[off..];
        let data_len = usize::from(o[3] & 0x1f) * 4;
        let len = 4 + data_len;
        if len > rem {
            out.push_str("opt len ");
            w::dec(out, len as u64);
            out.push_str(" greater than remaining ");
            w::dec(out, rem as u64);
            return;
        }
        let mo = mask.map(|m| &m[off..off + len]);
        out.push('{');
        be16x(
            out,
            "class",
            u16::from_be_bytes([o[0], o[1]]),
            mo.map(|m| u16::from_be_bytes([m[0], m[1]])),
            verbose,
        );
        u8x(out, "type", o[2], mo.map(|m| m[2]), verbose);
        let dlm = mo.map(|m| {
            if m[3] & 0x1f == 0x1f {
                0xff
            } else {
                m[3] & 0x1f
            }
        });
        u8u(out, "len", data_len as u8, dlm, verbose);
        let data = &o[4..len];
        let dmask = mo.map(|m| &m[4..len]);
        if data_len != 0 && (verbose || dmask.map_or(true, |d| d.iter().any(|&b| b != 0))) {
            w::ds_hex(out, data);
            if let Some(d) = dmask.filter(|d| d.iter().any(|&b| b != 0xff)) {
                out.push('/');
                w::ds_hex(out, d);
            }
        } else {
            w::chomp(out, ',');
        }
        out.push('}');
        off += len;
    }
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

    fn parse(s: &str) -> (FlowKey, FlowKey) {
        let mut c = Cursor::new(s);
        let (mut k, mut m) = (FlowKey::default(), FlowKey::default());
        loop {
            c.skip_delims();
            if c.at_end() {
                break;
            }
            parse_key_attr(&mut c, &mut k, &mut m).unwrap();
        }
        (k, m)
    }

    fn fmt(k: &FlowKey, m: Option<&FlowKey>, verbose: bool) -> String {
        let mut s = String::new();
        format_flow_key(&mut s, k, m, verbose);
        s
    }

    #[test]
    fn ct_state_three_spellings() {
        let (a, am) = parse("ct_state(+est-new)");
        let (b, bm) = parse("ct_state(0x2/0x3)");
        assert_eq!((a.ct_state, am.ct_state), (b.ct_state, bm.ct_state));
        let (c, cm) = parse("ct_state(est|trk)");
        assert_eq!((c.ct_state, cm.ct_state), (0x22, u32::MAX));
        assert_eq!(fmt(&c, Some(&cm), false), "ct_state(est|trk)");
        assert_eq!(fmt(&a, Some(&am), false), "ct_state(-new+est)");
        assert_eq!(fmt(&a, Some(&am), true), "ct_state(0x2/0x3)");
    }

    #[test]
    fn plain_leaves_out_wildcards() {
        let s = "skb_priority(0/0),recirc_id(0),in_port(p1),eth(src=00:00:00:9d:fb:1a/00:00:00:00:00:00,dst=ff:ff:ff:ff:ff:ff),eth_type(0x0806),arp(sip=10.16.0.14,tip=10.16.0.1,op=1,sha=00:00:00:9d:fb:1a/00:00:00:00:00:00,tha=00:00:00:00:00:00/00:00:00:00:00:00)";
        let (k, m) = parse(s);
        assert_eq!(fmt(&k, Some(&m), true), s);
        assert_eq!(
            fmt(&k, Some(&m), false),
            "recirc_id(0),in_port(p1),eth(dst=ff:ff:ff:ff:ff:ff),eth_type(0x0806),arp(sip=10.16.0.14,tip=10.16.0.1,op=1)"
        );
    }

    #[test]
    fn vlan_encap_and_tunnel_round_trip() {
        for s in [
            "in_port(1),eth(src=00:01:02:03:04:05,dst=10:11:12:13:14:15),eth_type(0x8100),vlan(vid=99,pcp=7),encap(eth_type(0x0800),ipv4(src=35.8.2.41,dst=172.16.0.20,proto=17,tos=0,ttl=128,frag=no),udp(src=81,dst=6632))",
            "tunnel(tun_id=0x7f10354,src=10.10.10.10,dst=20.20.20.20,ttl=64,flags(csum|key)),in_port(3)",
            "tunnel(tun_id=0x1,dst=1.1.1.1,ttl=64,geneve({class=0xffff,type=0x80,len=4,0xa}),flags(df|key))",
            "mpls(label=100,tc=7,ttl=64,bos=1)",
            "ipv6(src=::1,dst=::2,label=0,proto=58,tclass=0,hlimit=128,frag=no),icmpv6(type=135,code=0),nd(target=::3,sll=00:05:06:07:08:09,tll=00:0a:0b:0c:0d:0e)",
        ] {
            let (k, m) = parse(s);
            assert_eq!(fmt(&k, None, false), s, "no-mask form");
            let (k2, _) = parse(&fmt(&k, Some(&m), true));
            assert_eq!(k2, k);
        }
    }

    #[test]
    fn range_errors() {
        let err = |s: &str| {
            let mut c = Cursor::new(s);
            let (mut k, mut m) = (FlowKey::default(), FlowKey::default());
            parse_key_attr(&mut c, &mut k, &mut m)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err("vlan(vid=4096)"),
            "value out of range (max 4095) for vlan field 'vid' at 1:10"
        );
        assert_eq!(
            err("tcp(src=65536)"),
            "value out of range (max 65535) for tcp field 'src' at 1:9"
        );
        assert_eq!(
            err("ipv4(src=10.0.0.256)"),
            "value out of range (max 255) for ipv4 field 'src' at 1:17"
        );
        assert_eq!(
            err("ipv4(frag=maybe)"),
            "invalid frag value (no, first or later) for ipv4 field 'frag' at 1:11"
        );
        assert_eq!(
            err("ipv4(dst=1.2.3.4 x)"),
            "expected ',' or ')' after ipv4 field 'dst' at 1:17"
        );
        assert_eq!(err("ipv4(bogus=1)"), "unknown field in key ipv4 at 1:6");
        assert_eq!(err("bogus(1)"), "unknown key attribute at 1:1");
    }
}
