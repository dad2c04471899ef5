//! The text form of a whole key: `parse_odp_key_mask_attr()` (one attribute,
//! dispatched to the attribute's room) and `odp_flow_format()` /
//! `format_odp_key_attr__()` of `lib/odp-util.c`.
//!
//! Parsing one attribute always records it in both the key and the mask, as
//! OVS does; a field not written is zero in both (wildcarded), a field written
//! without `/mask` is exact.  Formatting walks attributes in OVS's canonical
//! order (see [`KeyAttr::CANONICAL_ORDER`]); plain output leaves out
//! all-wildcarded attributes and fields and exact masks, verbose output
//! prints everything.
use super::fields::{fmt_u128, fmt_u32_attr, m16, m32, m_int, m_u128};
use super::flags::{ct_state_bit, parse_flags, tcp_flag_bit};
use super::{
    arp::{format_arp, parse_arp},
    ct::{
        ct_state, format_ct_state, format_ct_tuple4, format_ct_tuple6, format_ct_zone,
        parse_ct_tuple4, parse_ct_tuple6,
    },
    eth::{fmt_eth_key, format_eth_type, parse_eth_fields, EthKey},
    ip::{fmt_ipv4_key, fmt_ipv6_key, parse_ipv4_fields, parse_ipv6_fields, Ipv4Key, Ipv6Key},
    l4::{fmt_ports_key, format_icmp, format_tcp_flags, parse_icmp, parse_ports},
    mask::{attr_mask_is_exact, attr_mask_is_zero, ZERO_KEY},
    meta::{format_in_port, format_packet_type, parse_in_port, parse_packet_type},
    mpls::{format_mpls, parse_mpls},
    nd::{format_nd, format_nd_ext, parse_nd, parse_nd_ext},
    nsh::{fmt_nsh, parse_nsh},
    tunnel::{fmt_tunnel, parse_tunnel},
    vlan::{fmt_vlan_tci, parse_vlan},
};
use super::{FlowKey, FlowMask, KeyAttr};
use crate::error::{Context, ErrorKind};
use crate::lex::{Cursor, PResult};
use crate::write as w;

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
        KeyAttr::CtOrigTupleIpv4 => parse_ct_tuple4(c, an, key, mask)?,
        KeyAttr::CtOrigTupleIpv6 => parse_ct_tuple6(c, an, key, mask)?,
        KeyAttr::Tunnel => parse_tunnel(c, &mut key.tunnel, &mut mask.tunnel)?,
        KeyAttr::InPort => parse_in_port(c, an, key, mask)?,
        KeyAttr::PacketType => parse_packet_type(c, an, key, mask)?,
        KeyAttr::Ethernet => {
            let (k, m) = (&mut key.eth, &mut mask.eth);
            *k = EthKey::default();
            *m = EthKey::default();
            parse_eth_fields(c, k, m)?;
        }
        KeyAttr::Vlan => parse_vlan(c, an, key, mask)?,
        KeyAttr::Ethertype => {
            (key.eth_type, mask.eth_type) = m16(c, ctx)?;
            close(c)?;
        }
        KeyAttr::Mpls => parse_mpls(c, an, key, mask)?,
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
        KeyAttr::Arp => parse_arp(c, an, key, mask)?,
        KeyAttr::Nd => parse_nd(c, an, key, mask)?,
        KeyAttr::NdExtensions => parse_nd_ext(c, an, key, mask)?,
        KeyAttr::Nsh => parse_nsh(c, an, key, mask)?,
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
        KeyAttr::CtState => format_ct_state(out, key, mask, exact, verbose),
        KeyAttr::CtZone => format_ct_zone(out, key, mask, exact, mask_empty, verbose),
        KeyAttr::CtLabels => fmt_u128(out, key.ct_label, mask.map(|m| m.ct_label), verbose),
        KeyAttr::CtOrigTupleIpv4 => format_ct_tuple4(out, key, mask, verbose),
        KeyAttr::CtOrigTupleIpv6 => format_ct_tuple6(out, key, mask, verbose),
        KeyAttr::Tunnel => fmt_tunnel(out, &key.tunnel, mask.map(|m| &m.tunnel), verbose),
        KeyAttr::InPort => format_in_port(out, key, mask, exact),
        KeyAttr::PacketType => format_packet_type(out, key, mask, verbose),
        KeyAttr::Ethernet => fmt_eth_key(out, &key.eth, mask.map(|m| &m.eth), verbose),
        KeyAttr::Vlan => fmt_vlan_tci(
            out,
            key.vlan_tci,
            mask.map_or(u16::MAX, |m| m.vlan_tci),
            verbose,
        ),
        KeyAttr::Mpls => format_mpls(out, key, mask, exact),
        KeyAttr::Ethertype => format_eth_type(out, key, mask, exact),
        KeyAttr::Ipv4 => fmt_ipv4_key(out, &key.ipv4, mask.map(|m| &m.ipv4), verbose),
        KeyAttr::Ipv6 => fmt_ipv6_key(out, &key.ipv6, mask.map(|m| &m.ipv6), verbose),
        KeyAttr::Tcp => fmt_ports_key(out, &key.tcp, mask.map(|m| &m.tcp), verbose),
        KeyAttr::Udp => fmt_ports_key(out, &key.udp, mask.map(|m| &m.udp), verbose),
        KeyAttr::Sctp => fmt_ports_key(out, &key.sctp, mask.map(|m| &m.sctp), verbose),
        KeyAttr::TcpFlags => format_tcp_flags(out, key, mask, exact),
        KeyAttr::Icmp | KeyAttr::Icmpv6 => format_icmp(out, key, mask, verbose, attr),
        KeyAttr::Arp => format_arp(out, key, mask, verbose),
        KeyAttr::Nd => format_nd(out, key, mask, verbose),
        KeyAttr::NdExtensions => format_nd_ext(out, key, mask, verbose),
        KeyAttr::Nsh => fmt_nsh(out, &key.nsh, mask.map(|m| &m.nsh)),
    }
    out.push(')');
}

#[cfg(test)]
mod tests {
    use super::*;

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
