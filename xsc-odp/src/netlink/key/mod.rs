//! `OVS_KEY_ATTR_*` lists (flow key and mask) ↔ [`FlowKey`].
//!
//! Payload layouts are the uAPI structs (`include/uapi/linux/openvswitch.h`);
//! fixed lengths are OVS's `ovs_flow_key_attr_lens` / `ovs_tun_key_attr_lens`
//! (`lib/odp-util.c`), i.e. `sizeof` of each struct, padding included
//! (`ovs_key_arp` 24, `ovs_key_ct_tuple_ipv4` 16, `ovs_key_ct_tuple_ipv6` 40,
//! `ovs_key_nd_extensions` 8).  Integers the uAPI marks `__be*` are network
//! order; the plain `u16`/`u32` ones (`in_port`, `recirc_id`, `ct_zone`,
//! `ct_state`, ...) are host order, as are `ct_labels` (OVS writes its
//! `ovs_u128` as is).
//!
//! Rooms: this file holds the attribute table, the list walk and the fixed
//! payloads; `tunnel` the nested `OVS_KEY_ATTR_TUNNEL`; `mask` the exact mask
//! of a key-only flow; the NSH sub-attributes are in `netlink::nsh`
//! (shared with `push_nsh` and `set(nsh)`).

use crate::netlink::attr::{self, arr, be16, be32, ne16, ne32, Attr, AttrIter};
use crate::netlink::consts::{
    key_attr_name, OVS_KEY_ATTR_ARP, OVS_KEY_ATTR_CT_LABELS, OVS_KEY_ATTR_CT_MARK,
    OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4, OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6, OVS_KEY_ATTR_CT_STATE,
    OVS_KEY_ATTR_CT_ZONE, OVS_KEY_ATTR_DP_HASH, OVS_KEY_ATTR_ENCAP, OVS_KEY_ATTR_ETHERNET,
    OVS_KEY_ATTR_ETHERTYPE, OVS_KEY_ATTR_ICMP, OVS_KEY_ATTR_ICMPV6, OVS_KEY_ATTR_IN_PORT,
    OVS_KEY_ATTR_IPV4, OVS_KEY_ATTR_IPV6, OVS_KEY_ATTR_MPLS, OVS_KEY_ATTR_ND,
    OVS_KEY_ATTR_ND_EXTENSIONS, OVS_KEY_ATTR_NSH, OVS_KEY_ATTR_PACKET_TYPE, OVS_KEY_ATTR_PRIORITY,
    OVS_KEY_ATTR_RECIRC_ID, OVS_KEY_ATTR_SCTP, OVS_KEY_ATTR_SKB_MARK, OVS_KEY_ATTR_TCP,
    OVS_KEY_ATTR_TCP_FLAGS, OVS_KEY_ATTR_TUNNEL, OVS_KEY_ATTR_UDP, OVS_KEY_ATTR_VLAN,
};
use crate::netlink::nsh::{decode_nsh, put_nsh_subattrs};
use crate::netlink::ErrorKind;
use crate::netlink::{port_number, NetlinkError, PortMap, MAX_ENCAP_DEPTH};
use crate::{
    tnl_flags, ErspanOpts, FlowKey, FlowMask, GeneveOpts, KeyAttr, OdpPort, Tunnel, TunnelAttr,
};

mod mask;
#[cfg(test)]
mod tests;
mod tunnel;

pub use mask::exact_mask;
pub(crate) use tunnel::{decode_tunnel, put_tunnel};

/// The model's attribute for a netlink type, `None` when unknown.
#[inline]
pub(crate) fn key_attr(ty: u16) -> Option<KeyAttr> {
    Some(match ty {
        OVS_KEY_ATTR_ENCAP => KeyAttr::Encap,
        OVS_KEY_ATTR_PRIORITY => KeyAttr::Priority,
        OVS_KEY_ATTR_IN_PORT => KeyAttr::InPort,
        OVS_KEY_ATTR_ETHERNET => KeyAttr::Ethernet,
        OVS_KEY_ATTR_VLAN => KeyAttr::Vlan,
        OVS_KEY_ATTR_ETHERTYPE => KeyAttr::Ethertype,
        OVS_KEY_ATTR_IPV4 => KeyAttr::Ipv4,
        OVS_KEY_ATTR_IPV6 => KeyAttr::Ipv6,
        OVS_KEY_ATTR_TCP => KeyAttr::Tcp,
        OVS_KEY_ATTR_UDP => KeyAttr::Udp,
        OVS_KEY_ATTR_ICMP => KeyAttr::Icmp,
        OVS_KEY_ATTR_ICMPV6 => KeyAttr::Icmpv6,
        OVS_KEY_ATTR_ARP => KeyAttr::Arp,
        OVS_KEY_ATTR_ND => KeyAttr::Nd,
        OVS_KEY_ATTR_SKB_MARK => KeyAttr::SkbMark,
        OVS_KEY_ATTR_TUNNEL => KeyAttr::Tunnel,
        OVS_KEY_ATTR_SCTP => KeyAttr::Sctp,
        OVS_KEY_ATTR_TCP_FLAGS => KeyAttr::TcpFlags,
        OVS_KEY_ATTR_DP_HASH => KeyAttr::DpHash,
        OVS_KEY_ATTR_RECIRC_ID => KeyAttr::RecircId,
        OVS_KEY_ATTR_MPLS => KeyAttr::Mpls,
        OVS_KEY_ATTR_CT_STATE => KeyAttr::CtState,
        OVS_KEY_ATTR_CT_ZONE => KeyAttr::CtZone,
        OVS_KEY_ATTR_CT_MARK => KeyAttr::CtMark,
        OVS_KEY_ATTR_CT_LABELS => KeyAttr::CtLabels,
        OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4 => KeyAttr::CtOrigTupleIpv4,
        OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6 => KeyAttr::CtOrigTupleIpv6,
        OVS_KEY_ATTR_NSH => KeyAttr::Nsh,
        OVS_KEY_ATTR_PACKET_TYPE => KeyAttr::PacketType,
        OVS_KEY_ATTR_ND_EXTENSIONS => KeyAttr::NdExtensions,
        _ => return None,
    })
}

/// The payload length of a fixed-size attribute (`ovs_flow_key_attr_lens`);
/// `None` for `ENCAP`, `TUNNEL`, `NSH` (nested) and `MPLS` (variable).
#[inline]
pub(crate) fn fixed_len(a: KeyAttr) -> Option<usize> {
    // A table read instead of a jump table (an indirect branch per attribute).
    match FIXED_LEN.get(a as usize) {
        Some(&n) if n != VARIABLE => Some(usize::from(n)),
        _ => None,
    }
}

pub(crate) const VARIABLE: u8 = u8::MAX;

/// [`fixed_len`] by attribute number, [`VARIABLE`] for none.
pub(crate) static FIXED_LEN: [u8; 32] = {
    let mut t = [VARIABLE; 32];
    let mut i = 0;
    while i < KeyAttr::CANONICAL_ORDER.len() {
        let a = KeyAttr::CANONICAL_ORDER[i];
        t[a as usize] = match fixed_len_slow(a) {
            Some(n) => n as u8,
            None => VARIABLE,
        };
        i += 1;
    }
    t
};

pub(crate) const fn fixed_len_slow(a: KeyAttr) -> Option<usize> {
    Some(match a {
        KeyAttr::Priority | KeyAttr::SkbMark | KeyAttr::DpHash | KeyAttr::RecircId => 4,
        KeyAttr::InPort | KeyAttr::CtState | KeyAttr::CtMark | KeyAttr::PacketType => 4,
        KeyAttr::Ethernet => 12,
        KeyAttr::Vlan | KeyAttr::Ethertype | KeyAttr::TcpFlags | KeyAttr::CtZone => 2,
        KeyAttr::Ipv4 => 12,
        KeyAttr::Ipv6 => 40,
        KeyAttr::Tcp | KeyAttr::Udp | KeyAttr::Sctp => 4,
        KeyAttr::Icmp | KeyAttr::Icmpv6 => 2,
        KeyAttr::Arp => 24,
        KeyAttr::Nd => 28,
        KeyAttr::NdExtensions => 8,
        KeyAttr::CtLabels => 16,
        KeyAttr::CtOrigTupleIpv4 => 16,
        KeyAttr::CtOrigTupleIpv6 => 40,
        KeyAttr::Encap | KeyAttr::Tunnel | KeyAttr::Nsh | KeyAttr::Mpls => return None,
        #[allow(unreachable_patterns)]
        _ => return None,
    })
}

pub(crate) fn name(a: KeyAttr) -> &'static str {
    key_attr_name(a as u16)
}

/// Decodes a flow key and its mask.  `mask == None` is OVS's key-only form:
/// every attribute of the key is matched exactly ([`exact_mask`]).  With a
/// mask list, attributes absent from it are wildcarded and the returned
/// mask's `present` holds exactly the attributes the list had.
pub fn decode_key(key: &[u8], mask: Option<&[u8]>) -> Result<(FlowKey, FlowMask), NetlinkError> {
    let mut k = FlowKey::default();
    let mut m = FlowKey::default();
    decode_key_into(key, mask, &mut k, &mut m)?;
    Ok((k, m))
}

/// [`decode_key`] into caller-owned values (reset first), to reuse them.
pub fn decode_key_into(
    key: &[u8],
    mask: Option<&[u8]>,
    k: &mut FlowKey,
    m: &mut FlowMask,
) -> Result<(), NetlinkError> {
    k.clear();
    m.clear();
    decode_list(key, 0, 0, false, k)?;
    match mask {
        Some(mb) => decode_list(mb, 0, 0, true, m)?,
        None => *m = exact_mask(k),
    }
    Ok(())
}

/// Every `OVS_KEY_ATTR_*` number the model knows, as an [`AttrSet`] bit
/// (bit `n` is attribute type `n`, as `AttrSet::insert` sets it).
///
/// [`AttrSet`]: crate::AttrSet
pub(crate) const KNOWN_KEY_ATTRS: u64 = {
    let mut bits = 0u64;
    let mut i = 0;
    while i < KeyAttr::CANONICAL_ORDER.len() {
        bits |= 1u64 << KeyAttr::CANONICAL_ORDER[i] as u16;
        i += 1;
    }
    bits
};

pub(crate) fn decode_list(
    buf: &[u8],
    base: usize,
    depth: usize,
    is_mask: bool,
    out: &mut FlowKey,
) -> Result<(), NetlinkError> {
    for a in AttrIter::new(buf, base, key_attr_name) {
        let a = a?;
        let ty = a.ty;
        // The attribute's bit in `present` (its type number), 0 for types
        // beyond the set: what `key_attr` and `AttrSet::insert` compute,
        // without a conversion through `KeyAttr`.
        let bit = if ty < 64 { 1u64 << ty } else { 0 };
        if KNOWN_KEY_ATTRS & bit == 0 {
            return Err(NetlinkError::new(
                key_attr_name(ty),
                a.offset,
                ErrorKind::UnknownAttr { ty },
            ));
        }
        if out.present.0 & bit != 0 {
            return Err(NetlinkError::new(
                key_attr_name(ty),
                a.offset,
                ErrorKind::Duplicate,
            ));
        }
        // One dispatch on the type: length check and store together; the
        // nested attributes go out of line.
        decode_value(ty, a.payload, a.offset, out, move |out| {
            decode_nested(a, depth, is_mask, out)
        })?;
        out.present.0 |= bit;
    }
    Ok(())
}

/// `ENCAP`, `TUNNEL` and `NSH` in a key or mask list (rare: kept out of the
/// per-attribute loop).
#[inline(never)]
pub(crate) fn decode_nested(
    a: Attr<'_>,
    depth: usize,
    is_mask: bool,
    out: &mut FlowKey,
) -> Result<(), NetlinkError> {
    match a.ty {
        OVS_KEY_ATTR_ENCAP => {
            if depth >= MAX_ENCAP_DEPTH {
                return Err(NetlinkError::new(
                    name(KeyAttr::Encap),
                    a.offset,
                    ErrorKind::TooDeep,
                ));
            }
            let mut inner = Box::<FlowKey>::default();
            decode_list(
                a.payload,
                a.payload_offset(),
                depth + 1,
                is_mask,
                &mut inner,
            )?;
            out.encap = Some(inner);
            Ok(())
        }
        OVS_KEY_ATTR_TUNNEL => decode_tunnel(&a, is_mask, &mut out.tunnel),
        OVS_KEY_ATTR_NSH => decode_nsh(&a, out),
        ty => Err(NetlinkError::new(
            key_attr_name(ty),
            a.offset,
            ErrorKind::UnknownAttr { ty },
        )),
    }
}

/// Decodes the payload of a non-nested attribute into `out` (without
/// touching `out.present`).  Also used for `set`/`set_masked` halves.
#[inline]
pub(crate) fn decode_fixed(
    attr: KeyAttr,
    p: &[u8],
    offset: usize,
    out: &mut FlowKey,
) -> Result<(), NetlinkError> {
    decode_value(attr as u16, p, offset, out, |_| {
        Err(NetlinkError::invalid(
            name(attr),
            offset,
            "nested attribute where a value was expected",
        ))
    })
}

/// `p` as a fixed-size payload of `N` bytes (`ovs_flow_key_attr_lens`),
/// else the length error naming attribute `ty`.
#[inline(always)]
pub(crate) fn fixed<const N: usize>(
    p: &[u8],
    ty: u16,
    offset: usize,
) -> Result<&[u8; N], NetlinkError> {
    match p.first_chunk::<N>() {
        Some(a) if p.len() == N => Ok(a),
        _ => Err(bad_len(ty, offset, p.len(), N)),
    }
}

#[cold]
#[inline(never)]
pub(crate) fn bad_len(ty: u16, offset: usize, got: usize, expected: usize) -> NetlinkError {
    NetlinkError::bad_len(key_attr_name(ty), offset, got, expected)
}

/// The one `match` per attribute: checks the payload length of attribute
/// type `ty` ([`fixed_len`]) and stores its fields into `out` (without
/// touching `out.present`); `nested` handles `ENCAP`, `TUNNEL`, `NSH` (and
/// any type outside the model, which callers have excluded).
#[inline(always)]
pub(crate) fn decode_value(
    ty: u16,
    p: &[u8],
    offset: usize,
    out: &mut FlowKey,
    nested: impl FnOnce(&mut FlowKey) -> Result<(), NetlinkError>,
) -> Result<(), NetlinkError> {
    match ty {
        OVS_KEY_ATTR_PRIORITY => out.skb_priority = ne32(fixed::<4>(p, ty, offset)?, 0),
        OVS_KEY_ATTR_SKB_MARK => out.skb_mark = ne32(fixed::<4>(p, ty, offset)?, 0),
        OVS_KEY_ATTR_DP_HASH => out.dp_hash = ne32(fixed::<4>(p, ty, offset)?, 0),
        OVS_KEY_ATTR_RECIRC_ID => out.recirc_id = ne32(fixed::<4>(p, ty, offset)?, 0),
        OVS_KEY_ATTR_IN_PORT => out.in_port = OdpPort::Number(ne32(fixed::<4>(p, ty, offset)?, 0)),
        OVS_KEY_ATTR_CT_STATE => out.ct_state = ne32(fixed::<4>(p, ty, offset)?, 0),
        OVS_KEY_ATTR_CT_ZONE => out.ct_zone = ne16(fixed::<2>(p, ty, offset)?, 0),
        OVS_KEY_ATTR_CT_MARK => out.ct_mark = ne32(fixed::<4>(p, ty, offset)?, 0),
        OVS_KEY_ATTR_CT_LABELS => out.ct_label = u128::from_ne_bytes(*fixed::<16>(p, ty, offset)?),
        OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4 => {
            // struct ovs_key_ct_tuple_ipv4: be32 src, be32 dst, be16 src_port,
            // be16 dst_port, u8 proto, 3 bytes of padding.
            let p = fixed::<16>(p, ty, offset)?;
            let t = &mut out.ct_tuple4;
            t.src = be32(p, 0);
            t.dst = be32(p, 4);
            t.src_port = be16(p, 8);
            t.dst_port = be16(p, 10);
            t.proto = p[12];
        }
        OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6 => {
            // struct ovs_key_ct_tuple_ipv6: src[16], dst[16], be16 ports, u8.
            let p = fixed::<40>(p, ty, offset)?;
            let t = &mut out.ct_tuple6;
            t.src = arr(p, 0);
            t.dst = arr(p, 16);
            t.src_port = be16(p, 32);
            t.dst_port = be16(p, 34);
            t.proto = p[36];
        }
        OVS_KEY_ATTR_PACKET_TYPE => {
            // be32: namespace in the high half, type in the low half.
            let v = be32(fixed::<4>(p, ty, offset)?, 0);
            out.packet_type.ns = (v >> 16) as u16;
            out.packet_type.id = v as u16;
        }
        OVS_KEY_ATTR_ETHERNET => {
            let p = fixed::<12>(p, ty, offset)?;
            out.eth.src = arr(p, 0);
            out.eth.dst = arr(p, 6);
        }
        OVS_KEY_ATTR_VLAN => out.vlan_tci = be16(fixed::<2>(p, ty, offset)?, 0),
        OVS_KEY_ATTR_ETHERTYPE => out.eth_type = be16(fixed::<2>(p, ty, offset)?, 0),
        OVS_KEY_ATTR_IPV4 => {
            let p = fixed::<12>(p, ty, offset)?;
            let k = &mut out.ipv4;
            k.src = be32(p, 0);
            k.dst = be32(p, 4);
            k.proto = p[8];
            k.tos = p[9];
            k.ttl = p[10];
            k.frag = p[11];
        }
        OVS_KEY_ATTR_IPV6 => {
            let p = fixed::<40>(p, ty, offset)?;
            let k = &mut out.ipv6;
            k.src = arr(p, 0);
            k.dst = arr(p, 16);
            k.label = be32(p, 32);
            k.proto = p[36];
            k.tclass = p[37];
            k.hlimit = p[38];
            k.frag = p[39];
        }
        OVS_KEY_ATTR_TCP => {
            let p = fixed::<4>(p, ty, offset)?;
            (out.tcp.src, out.tcp.dst) = (be16(p, 0), be16(p, 2));
        }
        OVS_KEY_ATTR_UDP => {
            let p = fixed::<4>(p, ty, offset)?;
            (out.udp.src, out.udp.dst) = (be16(p, 0), be16(p, 2));
        }
        OVS_KEY_ATTR_SCTP => {
            let p = fixed::<4>(p, ty, offset)?;
            (out.sctp.src, out.sctp.dst) = (be16(p, 0), be16(p, 2));
        }
        OVS_KEY_ATTR_TCP_FLAGS => out.tcp_flags = be16(fixed::<2>(p, ty, offset)?, 0),
        OVS_KEY_ATTR_ICMP => {
            let p = fixed::<2>(p, ty, offset)?;
            (out.icmp.type_, out.icmp.code) = (p[0], p[1]);
        }
        OVS_KEY_ATTR_ICMPV6 => {
            let p = fixed::<2>(p, ty, offset)?;
            (out.icmpv6.type_, out.icmpv6.code) = (p[0], p[1]);
        }
        OVS_KEY_ATTR_ARP => {
            // struct ovs_key_arp: be32 sip, be32 tip, be16 op, sha[6], tha[6],
            // 2 bytes of padding.
            let p = fixed::<24>(p, ty, offset)?;
            let k = &mut out.arp;
            k.sip = be32(p, 0);
            k.tip = be32(p, 4);
            k.op = be16(p, 8);
            k.sha = arr(p, 10);
            k.tha = arr(p, 16);
        }
        OVS_KEY_ATTR_ND => {
            let p = fixed::<28>(p, ty, offset)?;
            out.nd.target = arr(p, 0);
            out.nd.sll = arr(p, 16);
            out.nd.tll = arr(p, 22);
        }
        OVS_KEY_ATTR_ND_EXTENSIONS => {
            // struct ovs_key_nd_extensions: be32 nd_reserved, u8 options_type.
            let p = fixed::<8>(p, ty, offset)?;
            out.nd_ext.reserved = be32(p, 0);
            out.nd_ext.options_type = p[4];
        }
        OVS_KEY_ATTR_MPLS => decode_mpls(p, offset, out)?,
        _ => return nested(out),
    }
    Ok(())
}

/// `OVS_KEY_ATTR_MPLS`: an array of struct ovs_key_mpls { be32 mpls_lse; },
/// at most FLOW_MAX_MPLS_LABELS (3) entries.
#[inline(never)]
pub(crate) fn decode_mpls(p: &[u8], offset: usize, out: &mut FlowKey) -> Result<(), NetlinkError> {
    let attr = KeyAttr::Mpls;
    if p.len() % 4 != 0 {
        return Err(NetlinkError::invalid(
            name(attr),
            offset,
            "length is not a multiple of 4",
        ));
    }
    let n = p.len() / 4;
    if n > out.mpls.lse.len() {
        return Err(NetlinkError::invalid(
            name(attr),
            offset,
            "more than 3 MPLS labels",
        ));
    }
    for i in 0..n {
        out.mpls.lse[i] = be32(p, 4 * i);
    }
    out.mpls.n = n as u8;
    Ok(())
}

/// Appends `key` as `OVS_KEY_ATTR_*` attributes, in the order
/// `odp_flow_key_from_flow__()` emits them ([`KeyAttr::CANONICAL_ORDER`]),
/// one per attribute in `key.present`.  Port names go through `ports`.
pub fn encode_key(
    key: &FlowKey,
    ports: &mut dyn PortMap,
    out: &mut Vec<u8>,
) -> Result<(), NetlinkError> {
    encode_list(key, false, ports, out, 0)
}

/// Appends `mask` (the attributes in `mask.present`) the same way.  A mask's
/// `in_port` must be a number.
pub fn encode_mask(mask: &FlowMask, out: &mut Vec<u8>) -> Result<(), NetlinkError> {
    encode_list(mask, true, &mut super::NoPortNames, out, 0)
}

pub(crate) fn encode_list(
    k: &FlowKey,
    is_mask: bool,
    ports: &mut dyn PortMap,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), NetlinkError> {
    for attr in KeyAttr::CANONICAL_ORDER {
        if k.has(attr) {
            put_key_attr(attr, k, is_mask, ports, out, depth)?;
        }
    }
    Ok(())
}

/// Appends one attribute of `k` (header, payload, padding).
pub(crate) fn put_key_attr(
    attr: KeyAttr,
    k: &FlowKey,
    is_mask: bool,
    ports: &mut dyn PortMap,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), NetlinkError> {
    let ty = attr as u16;
    match attr {
        KeyAttr::Encap => {
            if depth >= MAX_ENCAP_DEPTH {
                return Err(NetlinkError::new(name(attr), 0, ErrorKind::TooDeep));
            }
            let at = attr::start_nested(out, ty);
            if let Some(inner) = k.encap.as_ref() {
                encode_list(inner, is_mask, ports, out, depth + 1)?;
            }
            attr::end_nested(out, at);
        }
        KeyAttr::Tunnel => put_tunnel(&k.tunnel, is_mask, out),
        KeyAttr::Nsh => {
            let at = attr::start_nested(out, ty);
            put_nsh_subattrs(k, is_mask, out, false, None);
            attr::end_nested(out, at);
        }
        KeyAttr::InPort => {
            let n = port_number(&k.in_port, ports, name(attr))?;
            attr::put_u32(out, ty, n);
        }
        _ => {
            let at = attr::start_unspec(out, ty);
            put_payload(attr, k, out)?;
            attr::end_unspec(out, at);
        }
    }
    Ok(())
}

/// Appends the payload of a fixed-size or `MPLS` attribute of `k`.
pub(crate) fn put_payload(
    attr: KeyAttr,
    k: &FlowKey,
    out: &mut Vec<u8>,
) -> Result<(), NetlinkError> {
    match attr {
        KeyAttr::Priority => out.extend_from_slice(&k.skb_priority.to_ne_bytes()),
        KeyAttr::SkbMark => out.extend_from_slice(&k.skb_mark.to_ne_bytes()),
        KeyAttr::DpHash => out.extend_from_slice(&k.dp_hash.to_ne_bytes()),
        KeyAttr::RecircId => out.extend_from_slice(&k.recirc_id.to_ne_bytes()),
        KeyAttr::InPort => match k.in_port {
            OdpPort::Number(n) => out.extend_from_slice(&n.to_ne_bytes()),
            OdpPort::Name(n) => {
                return Err(NetlinkError::new(
                    name(attr),
                    0,
                    ErrorKind::UnknownPortName(n),
                ))
            }
        },
        KeyAttr::CtState => out.extend_from_slice(&k.ct_state.to_ne_bytes()),
        KeyAttr::CtZone => out.extend_from_slice(&k.ct_zone.to_ne_bytes()),
        KeyAttr::CtMark => out.extend_from_slice(&k.ct_mark.to_ne_bytes()),
        KeyAttr::CtLabels => out.extend_from_slice(&k.ct_label.to_ne_bytes()),
        KeyAttr::CtOrigTupleIpv4 => {
            let t = &k.ct_tuple4;
            out.extend_from_slice(&t.src.to_be_bytes());
            out.extend_from_slice(&t.dst.to_be_bytes());
            out.extend_from_slice(&t.src_port.to_be_bytes());
            out.extend_from_slice(&t.dst_port.to_be_bytes());
            out.extend_from_slice(&[t.proto, 0, 0, 0]);
        }
        KeyAttr::CtOrigTupleIpv6 => {
            let t = &k.ct_tuple6;
            out.extend_from_slice(&t.src);
            out.extend_from_slice(&t.dst);
            out.extend_from_slice(&t.src_port.to_be_bytes());
            out.extend_from_slice(&t.dst_port.to_be_bytes());
            out.extend_from_slice(&[t.proto, 0, 0, 0]);
        }
        KeyAttr::PacketType => {
            let v = (u32::from(k.packet_type.ns) << 16) | u32::from(k.packet_type.id);
            out.extend_from_slice(&v.to_be_bytes());
        }
        KeyAttr::Ethernet => {
            out.extend_from_slice(&k.eth.src);
            out.extend_from_slice(&k.eth.dst);
        }
        KeyAttr::Vlan => out.extend_from_slice(&k.vlan_tci.to_be_bytes()),
        KeyAttr::Ethertype => out.extend_from_slice(&k.eth_type.to_be_bytes()),
        KeyAttr::Ipv4 => {
            let i = &k.ipv4;
            out.extend_from_slice(&i.src.to_be_bytes());
            out.extend_from_slice(&i.dst.to_be_bytes());
            out.extend_from_slice(&[i.proto, i.tos, i.ttl, i.frag]);
        }
        KeyAttr::Ipv6 => {
            let i = &k.ipv6;
            out.extend_from_slice(&i.src);
            out.extend_from_slice(&i.dst);
            out.extend_from_slice(&i.label.to_be_bytes());
            out.extend_from_slice(&[i.proto, i.tclass, i.hlimit, i.frag]);
        }
        KeyAttr::Tcp | KeyAttr::Udp | KeyAttr::Sctp => {
            let pk = match attr {
                KeyAttr::Tcp => &k.tcp,
                KeyAttr::Udp => &k.udp,
                _ => &k.sctp,
            };
            out.extend_from_slice(&pk.src.to_be_bytes());
            out.extend_from_slice(&pk.dst.to_be_bytes());
        }
        KeyAttr::TcpFlags => out.extend_from_slice(&k.tcp_flags.to_be_bytes()),
        KeyAttr::Icmp => out.extend_from_slice(&[k.icmp.type_, k.icmp.code]),
        KeyAttr::Icmpv6 => out.extend_from_slice(&[k.icmpv6.type_, k.icmpv6.code]),
        KeyAttr::Arp => {
            let a = &k.arp;
            out.extend_from_slice(&a.sip.to_be_bytes());
            out.extend_from_slice(&a.tip.to_be_bytes());
            out.extend_from_slice(&a.op.to_be_bytes());
            out.extend_from_slice(&a.sha);
            out.extend_from_slice(&a.tha);
            out.extend_from_slice(&[0, 0]);
        }
        KeyAttr::Nd => {
            out.extend_from_slice(&k.nd.target);
            out.extend_from_slice(&k.nd.sll);
            out.extend_from_slice(&k.nd.tll);
        }
        KeyAttr::NdExtensions => {
            out.extend_from_slice(&k.nd_ext.reserved.to_be_bytes());
            out.extend_from_slice(&[k.nd_ext.options_type, 0, 0, 0]);
        }
        KeyAttr::Mpls => {
            for lse in k.mpls.entries() {
                out.extend_from_slice(&lse.to_be_bytes());
            }
        }
        _ => {
            return Err(NetlinkError::new(
                name(attr),
                0,
                ErrorKind::Unsupported("a nested attribute as a plain value"),
            ))
        }
    }
    Ok(())
}
