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
use super::attr::{self, arr, be16, be32, ne16, ne32, Attr, AttrIter};
use super::consts::{
    key_attr_name, tunnel_attr_name, ERSPAN_METADATA_LEN, GTPU_METADATA_LEN, OVS_KEY_ATTR_ARP,
    OVS_KEY_ATTR_CT_LABELS, OVS_KEY_ATTR_CT_MARK, OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4,
    OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6, OVS_KEY_ATTR_CT_STATE, OVS_KEY_ATTR_CT_ZONE,
    OVS_KEY_ATTR_DP_HASH, OVS_KEY_ATTR_ENCAP, OVS_KEY_ATTR_ETHERNET, OVS_KEY_ATTR_ETHERTYPE,
    OVS_KEY_ATTR_ICMP, OVS_KEY_ATTR_ICMPV6, OVS_KEY_ATTR_IN_PORT, OVS_KEY_ATTR_IPV4,
    OVS_KEY_ATTR_IPV6, OVS_KEY_ATTR_MPLS, OVS_KEY_ATTR_ND, OVS_KEY_ATTR_ND_EXTENSIONS,
    OVS_KEY_ATTR_NSH, OVS_KEY_ATTR_PACKET_TYPE, OVS_KEY_ATTR_PRIORITY, OVS_KEY_ATTR_RECIRC_ID,
    OVS_KEY_ATTR_SCTP, OVS_KEY_ATTR_SKB_MARK, OVS_KEY_ATTR_TCP, OVS_KEY_ATTR_TCP_FLAGS,
    OVS_KEY_ATTR_TUNNEL, OVS_KEY_ATTR_UDP, OVS_KEY_ATTR_VLAN, OVS_NSH_KEY_ATTR_BASE,
    OVS_NSH_KEY_ATTR_MD1, OVS_NSH_KEY_ATTR_MD2, OVS_TUNNEL_KEY_ATTR_CSUM,
    OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT, OVS_TUNNEL_KEY_ATTR_ERSPAN_OPTS,
    OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS, OVS_TUNNEL_KEY_ATTR_GTPU_OPTS, OVS_TUNNEL_KEY_ATTR_ID,
    OVS_TUNNEL_KEY_ATTR_IPV4_DST, OVS_TUNNEL_KEY_ATTR_IPV4_SRC, OVS_TUNNEL_KEY_ATTR_IPV6_DST,
    OVS_TUNNEL_KEY_ATTR_IPV6_SRC, OVS_TUNNEL_KEY_ATTR_OAM, OVS_TUNNEL_KEY_ATTR_TOS,
    OVS_TUNNEL_KEY_ATTR_TP_DST, OVS_TUNNEL_KEY_ATTR_TP_SRC, OVS_TUNNEL_KEY_ATTR_TTL,
    OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS, OVS_VXLAN_EXT_GBP, OVS_VXLAN_EXT_GPE,
};
use super::{port_number, ErrorKind, NetlinkError, PortMap, MAX_ENCAP_DEPTH};
use crate::{
    tnl_flags, ErspanOpts, FlowKey, FlowMask, GeneveOpts, KeyAttr, OdpPort, Tunnel, TunnelAttr,
};

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

const VARIABLE: u8 = u8::MAX;

/// [`fixed_len`] by attribute number, [`VARIABLE`] for none.
static FIXED_LEN: [u8; 32] = {
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

const fn fixed_len_slow(a: KeyAttr) -> Option<usize> {
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

fn name(a: KeyAttr) -> &'static str {
    key_attr_name(a as u16)
}

// ---------------------------------------------------------------------------
// Decoding

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
const KNOWN_KEY_ATTRS: u64 = {
    let mut bits = 0u64;
    let mut i = 0;
    while i < KeyAttr::CANONICAL_ORDER.len() {
        bits |= 1u64 << KeyAttr::CANONICAL_ORDER[i] as u16;
        i += 1;
    }
    bits
};

fn decode_list(
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
fn decode_nested(
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
fn fixed<const N: usize>(p: &[u8], ty: u16, offset: usize) -> Result<&[u8; N], NetlinkError> {
    match p.first_chunk::<N>() {
        Some(a) if p.len() == N => Ok(a),
        _ => Err(bad_len(ty, offset, p.len(), N)),
    }
}

#[cold]
#[inline(never)]
fn bad_len(ty: u16, offset: usize, got: usize, expected: usize) -> NetlinkError {
    NetlinkError::bad_len(key_attr_name(ty), offset, got, expected)
}

/// The one `match` per attribute: checks the payload length of attribute
/// type `ty` ([`fixed_len`]) and stores its fields into `out` (without
/// touching `out.present`); `nested` handles `ENCAP`, `TUNNEL`, `NSH` (and
/// any type outside the model, which callers have excluded).
#[inline(always)]
fn decode_value(
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
fn decode_mpls(p: &[u8], offset: usize, out: &mut FlowKey) -> Result<(), NetlinkError> {
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

fn tun_fixed_len(ty: u16) -> Option<Option<usize>> {
    // Some(Some(n)): fixed; Some(None): variable or nested; None: unknown.
    Some(match ty {
        OVS_TUNNEL_KEY_ATTR_ID => Some(8),
        OVS_TUNNEL_KEY_ATTR_IPV4_SRC | OVS_TUNNEL_KEY_ATTR_IPV4_DST => Some(4),
        OVS_TUNNEL_KEY_ATTR_TOS | OVS_TUNNEL_KEY_ATTR_TTL => Some(1),
        OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT | OVS_TUNNEL_KEY_ATTR_CSUM | OVS_TUNNEL_KEY_ATTR_OAM => {
            Some(0)
        }
        OVS_TUNNEL_KEY_ATTR_TP_SRC | OVS_TUNNEL_KEY_ATTR_TP_DST => Some(2),
        OVS_TUNNEL_KEY_ATTR_IPV6_SRC | OVS_TUNNEL_KEY_ATTR_IPV6_DST => Some(16),
        OVS_TUNNEL_KEY_ATTR_ERSPAN_OPTS => Some(ERSPAN_METADATA_LEN),
        OVS_TUNNEL_KEY_ATTR_GTPU_OPTS => Some(GTPU_METADATA_LEN),
        OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS | OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS => None,
        _ => return None,
    })
}

fn tunnel_attr(ty: u16) -> TunnelAttr {
    match ty {
        OVS_TUNNEL_KEY_ATTR_ID => TunnelAttr::Id,
        OVS_TUNNEL_KEY_ATTR_IPV4_SRC => TunnelAttr::Ipv4Src,
        OVS_TUNNEL_KEY_ATTR_IPV4_DST => TunnelAttr::Ipv4Dst,
        OVS_TUNNEL_KEY_ATTR_TOS => TunnelAttr::Tos,
        OVS_TUNNEL_KEY_ATTR_TTL => TunnelAttr::Ttl,
        OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT => TunnelAttr::DontFragment,
        OVS_TUNNEL_KEY_ATTR_CSUM => TunnelAttr::Csum,
        OVS_TUNNEL_KEY_ATTR_OAM => TunnelAttr::Oam,
        OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS => TunnelAttr::GeneveOpts,
        OVS_TUNNEL_KEY_ATTR_TP_SRC => TunnelAttr::TpSrc,
        OVS_TUNNEL_KEY_ATTR_TP_DST => TunnelAttr::TpDst,
        OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS => TunnelAttr::VxlanOpts,
        OVS_TUNNEL_KEY_ATTR_IPV6_SRC => TunnelAttr::Ipv6Src,
        OVS_TUNNEL_KEY_ATTR_IPV6_DST => TunnelAttr::Ipv6Dst,
        OVS_TUNNEL_KEY_ATTR_ERSPAN_OPTS => TunnelAttr::ErspanOpts,
        _ => TunnelAttr::GtpuOpts,
    }
}

/// `OVS_KEY_ATTR_TUNNEL`, as `odp_tun_key_from_attr__()` reads it.
pub(crate) fn decode_tunnel(
    a: &Attr<'_>,
    is_mask: bool,
    t: &mut Tunnel,
) -> Result<(), NetlinkError> {
    for sub in a.nested(tunnel_attr_name) {
        let s = sub?;
        let nm = tunnel_attr_name(s.ty);
        let Some(len) = tun_fixed_len(s.ty) else {
            return Err(NetlinkError::new(
                nm,
                s.offset,
                ErrorKind::UnknownAttr { ty: s.ty },
            ));
        };
        if let Some(n) = len {
            if s.payload.len() != n {
                return Err(NetlinkError::bad_len(nm, s.offset, s.payload.len(), n));
            }
        }
        let ta = tunnel_attr(s.ty);
        if t.has(ta) {
            return Err(NetlinkError::new(nm, s.offset, ErrorKind::Duplicate));
        }
        let p = s.payload;
        match s.ty {
            OVS_TUNNEL_KEY_ATTR_ID => {
                t.tun_id = u64::from_be_bytes(arr(p, 0));
                if !is_mask {
                    t.flags |= tnl_flags::KEY;
                }
            }
            OVS_TUNNEL_KEY_ATTR_IPV4_SRC => t.ipv4_src = be32(p, 0),
            OVS_TUNNEL_KEY_ATTR_IPV4_DST => t.ipv4_dst = be32(p, 0),
            OVS_TUNNEL_KEY_ATTR_IPV6_SRC => t.ipv6_src = arr(p, 0),
            OVS_TUNNEL_KEY_ATTR_IPV6_DST => t.ipv6_dst = arr(p, 0),
            OVS_TUNNEL_KEY_ATTR_TOS => t.tos = p[0],
            OVS_TUNNEL_KEY_ATTR_TTL => t.ttl = p[0],
            OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT => t.flags |= tnl_flags::DONT_FRAGMENT,
            OVS_TUNNEL_KEY_ATTR_CSUM => t.flags |= tnl_flags::CSUM,
            OVS_TUNNEL_KEY_ATTR_OAM => t.flags |= tnl_flags::OAM,
            OVS_TUNNEL_KEY_ATTR_TP_SRC => t.tp_src = be16(p, 0),
            OVS_TUNNEL_KEY_ATTR_TP_DST => t.tp_dst = be16(p, 0),
            OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS => {
                for ext in s.nested(vxlan_ext_name) {
                    let e = ext?;
                    if e.ty != OVS_VXLAN_EXT_GBP {
                        return Err(NetlinkError::new(
                            vxlan_ext_name(e.ty),
                            e.offset,
                            ErrorKind::UnknownAttr { ty: e.ty },
                        ));
                    }
                    if e.payload.len() != 4 {
                        return Err(NetlinkError::bad_len(
                            "OVS_VXLAN_EXT_GBP",
                            e.offset,
                            e.payload.len(),
                            4,
                        ));
                    }
                    // u32 (host order): gbp_flags << 16 | gbp_id.
                    t.vxlan_gbp = ne32(e.payload, 0);
                }
            }
            OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS => {
                if p.len() > 252 || p.len() % 4 != 0 {
                    return Err(NetlinkError::invalid(
                        nm,
                        s.offset,
                        "Geneve options must be a multiple of 4 bytes, at most 252",
                    ));
                }
                let mut g = Box::<GeneveOpts>::default();
                g.data[..p.len()].copy_from_slice(p);
                g.len = p.len() as u8;
                t.geneve = Some(g);
            }
            OVS_TUNNEL_KEY_ATTR_ERSPAN_OPTS => {
                // struct erspan_metadata: int version; then either be32 index
                // (v1) or struct erspan_md2 { be32 timestamp; be16 sgt;
                // u8 (p:1 ft:5 hwid_upper:2); u8 (hwid:4 dir:1 gra:2 o:1) }.
                let ver = i32::from_ne_bytes(arr(p, 0));
                let Ok(ver) = u8::try_from(ver) else {
                    return Err(NetlinkError::invalid(
                        nm,
                        s.offset,
                        "ERSPAN version out of range",
                    ));
                };
                t.erspan = decode_erspan(ver, p);
            }
            _ => {
                // GTPU: struct gtpu_metadata { u8 flags; u8 msgtype; }.
                t.gtpu.flags = p[0];
                t.gtpu.msgtype = p[1];
            }
        }
        t.set(ta);
    }
    if !is_mask && !t.has(TunnelAttr::Ttl) {
        return Err(NetlinkError::invalid(
            "OVS_KEY_ATTR_TUNNEL",
            a.offset,
            "tunnel key without OVS_TUNNEL_KEY_ATTR_TTL",
        ));
    }
    Ok(())
}

fn decode_erspan(ver: u8, p: &[u8]) -> ErspanOpts {
    if ver == 1 {
        ErspanOpts {
            ver,
            idx: be32(p, 4),
            dir: 0,
            hwid: 0,
        }
    } else {
        ErspanOpts {
            ver,
            idx: 0,
            dir: (p[11] >> 3) & 1,
            hwid: ((p[10] & 0x3) << 4) | (p[11] >> 4),
        }
    }
}

fn vxlan_ext_name(t: u16) -> &'static str {
    match t {
        OVS_VXLAN_EXT_GBP => "OVS_VXLAN_EXT_GBP",
        OVS_VXLAN_EXT_GPE => "OVS_VXLAN_EXT_GPE",
        _ => "OVS_VXLAN_EXT_?",
    }
}

fn nsh_attr_name(t: u16) -> &'static str {
    match t {
        OVS_NSH_KEY_ATTR_BASE => "OVS_NSH_KEY_ATTR_BASE",
        OVS_NSH_KEY_ATTR_MD1 => "OVS_NSH_KEY_ATTR_MD1",
        OVS_NSH_KEY_ATTR_MD2 => "OVS_NSH_KEY_ATTR_MD2",
        _ => "OVS_NSH_KEY_ATTR_?",
    }
}

/// `OVS_KEY_ATTR_NSH`: `BASE` (`struct ovs_nsh_key_base`: flags, ttl,
/// mdtype, np, be32 path_hdr = spi << 8 | si) and `MD1` (4 × be32).
fn decode_nsh(a: &Attr<'_>, out: &mut FlowKey) -> Result<(), NetlinkError> {
    for sub in a.nested(nsh_attr_name) {
        let s = sub?;
        let p = s.payload;
        match s.ty {
            OVS_NSH_KEY_ATTR_BASE => {
                if p.len() != 8 {
                    return Err(NetlinkError::bad_len(
                        "OVS_NSH_KEY_ATTR_BASE",
                        s.offset,
                        p.len(),
                        8,
                    ));
                }
                let n = &mut out.nsh;
                (n.flags, n.ttl, n.mdtype, n.np) = (p[0], p[1], p[2], p[3]);
                let path = be32(p, 4);
                n.spi = path >> 8;
                n.si = path as u8;
            }
            OVS_NSH_KEY_ATTR_MD1 => {
                if p.len() != 16 {
                    return Err(NetlinkError::bad_len(
                        "OVS_NSH_KEY_ATTR_MD1",
                        s.offset,
                        p.len(),
                        16,
                    ));
                }
                for i in 0..4 {
                    out.nsh.context[i] = be32(p, 4 * i);
                }
            }
            OVS_NSH_KEY_ATTR_MD2 => {
                return Err(NetlinkError::invalid(
                    "OVS_NSH_KEY_ATTR_MD2",
                    s.offset,
                    "NSH MD type 2 matching is not supported (OVS neither)",
                ));
            }
            _ => {
                return Err(NetlinkError::new(
                    nsh_attr_name(s.ty),
                    s.offset,
                    ErrorKind::UnknownAttr { ty: s.ty },
                ))
            }
        }
    }
    Ok(())
}

/// The mask OVS implies for a key given without one: every attribute the key
/// has, matched exactly (all bits set), nested `encap` and tunnel included.
pub fn exact_mask(key: &FlowKey) -> FlowMask {
    let mut m = FlowKey {
        present: key.present,
        ..FlowKey::default()
    };
    let p = key.present;
    let has = |a| p.contains(a);
    if has(KeyAttr::Priority) {
        m.skb_priority = !0;
    }
    if has(KeyAttr::SkbMark) {
        m.skb_mark = !0;
    }
    if has(KeyAttr::RecircId) {
        m.recirc_id = !0;
    }
    if has(KeyAttr::DpHash) {
        m.dp_hash = !0;
    }
    if has(KeyAttr::CtState) {
        m.ct_state = !0;
    }
    if has(KeyAttr::CtZone) {
        m.ct_zone = !0;
    }
    if has(KeyAttr::CtMark) {
        m.ct_mark = !0;
    }
    if has(KeyAttr::CtLabels) {
        m.ct_label = !0;
    }
    if has(KeyAttr::CtOrigTupleIpv4) {
        let t = &mut m.ct_tuple4;
        (t.src, t.dst, t.src_port, t.dst_port, t.proto) = (!0, !0, !0, !0, !0);
    }
    if has(KeyAttr::CtOrigTupleIpv6) {
        let t = &mut m.ct_tuple6;
        (t.src, t.dst, t.src_port, t.dst_port, t.proto) = ([0xff; 16], [0xff; 16], !0, !0, !0);
    }
    if has(KeyAttr::Tunnel) {
        // The tunnel sub-attributes the key holds, each matched exactly: a
        // mask field is set only where its attribute is present, so that the
        // mask encodes to the same attributes (a mask cannot carry the KEY
        // flag, which keys imply with OVS_TUNNEL_KEY_ATTR_ID).
        let (kt, t) = (&key.tunnel, &mut m.tunnel);
        t.present = kt.present;
        let on = |a: TunnelAttr| kt.has(a);
        if on(TunnelAttr::Id) {
            t.tun_id = !0;
        }
        if on(TunnelAttr::Ipv4Src) {
            t.ipv4_src = !0;
        }
        if on(TunnelAttr::Ipv4Dst) {
            t.ipv4_dst = !0;
        }
        if on(TunnelAttr::Ipv6Src) {
            t.ipv6_src = [0xff; 16];
        }
        if on(TunnelAttr::Ipv6Dst) {
            t.ipv6_dst = [0xff; 16];
        }
        if on(TunnelAttr::Tos) {
            t.tos = !0;
        }
        if on(TunnelAttr::Ttl) {
            t.ttl = !0;
        }
        if on(TunnelAttr::TpSrc) {
            t.tp_src = !0;
        }
        if on(TunnelAttr::TpDst) {
            t.tp_dst = !0;
        }
        for (a, bit) in [
            (TunnelAttr::DontFragment, tnl_flags::DONT_FRAGMENT),
            (TunnelAttr::Csum, tnl_flags::CSUM),
            (TunnelAttr::Oam, tnl_flags::OAM),
        ] {
            if on(a) {
                t.flags |= bit;
            }
        }
        if on(TunnelAttr::VxlanOpts) {
            t.vxlan_gbp = !0;
        }
        t.geneve = kt.geneve.as_ref().map(|g| {
            let mut e = Box::<GeneveOpts>::default();
            e.len = g.len;
            e.data[..usize::from(g.len)].fill(0xff);
            e
        });
        if on(TunnelAttr::ErspanOpts) {
            t.erspan = ErspanOpts {
                ver: !0,
                idx: !0,
                dir: 1,
                hwid: 0x3f,
            };
        }
        if on(TunnelAttr::GtpuOpts) {
            (t.gtpu.flags, t.gtpu.msgtype) = (!0, !0);
        }
    }
    if has(KeyAttr::InPort) {
        m.in_port = OdpPort::Number(!0);
    }
    if has(KeyAttr::PacketType) {
        (m.packet_type.ns, m.packet_type.id) = (!0, !0);
    }
    if has(KeyAttr::Ethernet) {
        (m.eth.src, m.eth.dst) = ([0xff; 6], [0xff; 6]);
    }
    if has(KeyAttr::Vlan) {
        m.vlan_tci = !0;
    }
    if has(KeyAttr::Ethertype) {
        m.eth_type = !0;
    }
    if has(KeyAttr::Mpls) {
        // Only the key's labels exist: the mask covers those, so that it
        // encodes to exactly as many labels as the key has.
        m.mpls.n = key.mpls.n;
        for lse in m.mpls.lse.iter_mut().take(usize::from(key.mpls.n)) {
            *lse = !0;
        }
    }
    if has(KeyAttr::Ipv4) {
        let k = &mut m.ipv4;
        (k.src, k.dst, k.proto, k.tos, k.ttl, k.frag) = (!0, !0, !0, !0, !0, !0);
    }
    if has(KeyAttr::Ipv6) {
        let k = &mut m.ipv6;
        (k.src, k.dst, k.label) = ([0xff; 16], [0xff; 16], !0);
        (k.proto, k.tclass, k.hlimit, k.frag) = (!0, !0, !0, !0);
    }
    if has(KeyAttr::Tcp) {
        (m.tcp.src, m.tcp.dst) = (!0, !0);
    }
    if has(KeyAttr::TcpFlags) {
        m.tcp_flags = !0;
    }
    if has(KeyAttr::Udp) {
        (m.udp.src, m.udp.dst) = (!0, !0);
    }
    if has(KeyAttr::Sctp) {
        (m.sctp.src, m.sctp.dst) = (!0, !0);
    }
    if has(KeyAttr::Icmp) {
        (m.icmp.type_, m.icmp.code) = (!0, !0);
    }
    if has(KeyAttr::Icmpv6) {
        (m.icmpv6.type_, m.icmpv6.code) = (!0, !0);
    }
    if has(KeyAttr::Arp) {
        let a = &mut m.arp;
        (a.sip, a.tip, a.op, a.sha, a.tha) = (!0, !0, !0, [0xff; 6], [0xff; 6]);
    }
    if has(KeyAttr::Nd) {
        (m.nd.target, m.nd.sll, m.nd.tll) = ([0xff; 16], [0xff; 6], [0xff; 6]);
    }
    if has(KeyAttr::NdExtensions) {
        (m.nd_ext.reserved, m.nd_ext.options_type) = (!0, !0);
    }
    if has(KeyAttr::Nsh) {
        let n = &mut m.nsh;
        (n.flags, n.ttl, n.mdtype, n.np, n.spi, n.si) = (!0, !0, !0, !0, 0x00ff_ffff, !0);
        n.context = [!0; 4];
    }
    if let Some(e) = key.encap.as_ref() {
        m.encap = Some(Box::new(exact_mask(e)));
    }
    m
}

// ---------------------------------------------------------------------------
// Encoding

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

fn encode_list(
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

/// The NSH sub-attributes (`nsh_key_to_attr()`): `BASE`, then `MD1` for a
/// mask or an MD type 1 key.  With `masked`, each payload is followed by the
/// same payload of `mask` (`set_masked` layout).
pub(crate) fn put_nsh_subattrs(
    k: &FlowKey,
    is_mask: bool,
    out: &mut Vec<u8>,
    masked: bool,
    mask: Option<&FlowKey>,
) {
    let base = |k: &FlowKey, out: &mut Vec<u8>| {
        let n = &k.nsh;
        out.extend_from_slice(&[n.flags, n.ttl, n.mdtype, n.np]);
        out.extend_from_slice(&((n.spi << 8) | u32::from(n.si)).to_be_bytes());
    };
    let md1 = |k: &FlowKey, out: &mut Vec<u8>| {
        for c in k.nsh.context {
            out.extend_from_slice(&c.to_be_bytes());
        }
    };
    let at = attr::start_unspec(out, OVS_NSH_KEY_ATTR_BASE);
    base(k, out);
    if let (true, Some(m)) = (masked, mask) {
        base(m, out);
    }
    attr::end_unspec(out, at);
    if is_mask || masked || k.nsh.mdtype == 1 {
        let at = attr::start_unspec(out, OVS_NSH_KEY_ATTR_MD1);
        md1(k, out);
        if let (true, Some(m)) = (masked, mask) {
            md1(m, out);
        }
        attr::end_unspec(out, at);
    }
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

/// `OVS_KEY_ATTR_TUNNEL` in `tun_key_to_attr()` order.  An attribute is
/// written when the model marks it present or (as OVS decides) its value is
/// non-zero; `TTL` always in a key, as OVS does (and as decoding requires).
/// In a mask `TTL` follows the same rule as the others, so that a decoded
/// mask encodes to what it was decoded from.
pub(crate) fn put_tunnel(t: &Tunnel, is_mask: bool, out: &mut Vec<u8>) {
    let at = attr::start_nested(out, OVS_KEY_ATTR_TUNNEL);
    let has = |a: TunnelAttr| t.has(a);
    if has(TunnelAttr::Id) || t.tun_id != 0 || (!is_mask && t.flags & tnl_flags::KEY != 0) {
        attr::put_be64(out, OVS_TUNNEL_KEY_ATTR_ID, t.tun_id);
    }
    if has(TunnelAttr::Ipv4Src) || t.ipv4_src != 0 {
        attr::put_be32(out, OVS_TUNNEL_KEY_ATTR_IPV4_SRC, t.ipv4_src);
    }
    if has(TunnelAttr::Ipv4Dst) || t.ipv4_dst != 0 {
        attr::put_be32(out, OVS_TUNNEL_KEY_ATTR_IPV4_DST, t.ipv4_dst);
    }
    if has(TunnelAttr::Ipv6Src) || t.ipv6_src != [0; 16] {
        attr::put(out, OVS_TUNNEL_KEY_ATTR_IPV6_SRC, &t.ipv6_src);
    }
    if has(TunnelAttr::Ipv6Dst) || t.ipv6_dst != [0; 16] {
        attr::put(out, OVS_TUNNEL_KEY_ATTR_IPV6_DST, &t.ipv6_dst);
    }
    if has(TunnelAttr::Tos) || t.tos != 0 {
        attr::put_u8(out, OVS_TUNNEL_KEY_ATTR_TOS, t.tos);
    }
    if !is_mask || has(TunnelAttr::Ttl) || t.ttl != 0 {
        attr::put_u8(out, OVS_TUNNEL_KEY_ATTR_TTL, t.ttl);
    }
    if has(TunnelAttr::DontFragment) || t.flags & tnl_flags::DONT_FRAGMENT != 0 {
        attr::put_flag(out, OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT);
    }
    if has(TunnelAttr::Csum) || t.flags & tnl_flags::CSUM != 0 {
        attr::put_flag(out, OVS_TUNNEL_KEY_ATTR_CSUM);
    }
    if has(TunnelAttr::TpSrc) || t.tp_src != 0 {
        attr::put_be16(out, OVS_TUNNEL_KEY_ATTR_TP_SRC, t.tp_src);
    }
    if has(TunnelAttr::TpDst) || t.tp_dst != 0 {
        attr::put_be16(out, OVS_TUNNEL_KEY_ATTR_TP_DST, t.tp_dst);
    }
    if has(TunnelAttr::Oam) || t.flags & tnl_flags::OAM != 0 {
        attr::put_flag(out, OVS_TUNNEL_KEY_ATTR_OAM);
    }
    if has(TunnelAttr::VxlanOpts) || t.vxlan_gbp != 0 {
        let v = attr::start_nested(out, OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS);
        attr::put_u32(out, OVS_VXLAN_EXT_GBP, t.vxlan_gbp);
        attr::end_nested(out, v);
    }
    if let Some(g) = t.geneve.as_ref() {
        attr::put(out, OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS, g.bytes());
    } else if has(TunnelAttr::GeneveOpts) {
        attr::put(out, OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS, &[]);
    }
    if has(TunnelAttr::ErspanOpts) || t.erspan.ver == 1 || t.erspan.ver == 2 {
        let e = &t.erspan;
        let mut m = [0u8; ERSPAN_METADATA_LEN];
        m[..4].copy_from_slice(&i32::from(e.ver).to_ne_bytes());
        if e.ver == 1 {
            m[4..8].copy_from_slice(&e.idx.to_be_bytes());
        } else {
            m[10] = (e.hwid >> 4) & 0x3;
            m[11] = ((e.hwid & 0xf) << 4) | ((e.dir & 1) << 3);
        }
        attr::put(out, OVS_TUNNEL_KEY_ATTR_ERSPAN_OPTS, &m);
    }
    if has(TunnelAttr::GtpuOpts) || t.gtpu.flags != 0 || t.gtpu.msgtype != 0 {
        attr::put(
            out,
            OVS_TUNNEL_KEY_ATTR_GTPU_OPTS,
            &[t.gtpu.flags, t.gtpu.msgtype],
        );
    }
    attr::end_nested(out, at);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::NoPortNames;

    /// Hand-built bytes for `recirc_id(0x2),in_port(1),eth_type(0x0800),
    /// ipv4(src=10.16.0.14,dst=10.16.0.100,proto=6,tos=0,ttl=64,frag=no)`
    /// with the uAPI layout: {nla_len, nla_type} host order, then payload.
    fn fixture_key() -> Vec<u8> {
        let mut v = Vec::new();
        // OVS_KEY_ATTR_RECIRC_ID (20): u32 host order.
        v.extend_from_slice(&8u16.to_ne_bytes());
        v.extend_from_slice(&20u16.to_ne_bytes());
        v.extend_from_slice(&2u32.to_ne_bytes());
        // OVS_KEY_ATTR_IN_PORT (3): u32 host order.
        v.extend_from_slice(&8u16.to_ne_bytes());
        v.extend_from_slice(&3u16.to_ne_bytes());
        v.extend_from_slice(&1u32.to_ne_bytes());
        // OVS_KEY_ATTR_ETHERTYPE (6): be16, then 2 bytes of padding.
        v.extend_from_slice(&6u16.to_ne_bytes());
        v.extend_from_slice(&6u16.to_ne_bytes());
        v.extend_from_slice(&[0x08, 0x00, 0, 0]);
        // OVS_KEY_ATTR_IPV4 (7): struct ovs_key_ipv4 (12 bytes).
        v.extend_from_slice(&16u16.to_ne_bytes());
        v.extend_from_slice(&7u16.to_ne_bytes());
        v.extend_from_slice(&[10, 16, 0, 14, 10, 16, 0, 100, 6, 0, 64, 0]);
        v
    }

    #[test]
    fn decodes_hand_built_key_without_mask_as_exact() {
        let (k, m) = decode_key(&fixture_key(), None).unwrap();
        assert_eq!(k.recirc_id, 2);
        assert_eq!(k.in_port, OdpPort::Number(1));
        assert_eq!(k.eth_type, 0x0800);
        assert_eq!(k.ipv4.src, 0x0a10_000e);
        assert_eq!(k.ipv4.dst, 0x0a10_0064);
        assert_eq!((k.ipv4.proto, k.ipv4.ttl), (6, 64));
        assert!(k.has(KeyAttr::Ipv4) && !k.has(KeyAttr::Tcp));
        assert_eq!(m.present, k.present);
        assert_eq!(m.ipv4.src, !0);
        assert_eq!(m.in_port, OdpPort::Number(!0));
    }

    #[test]
    fn encode_is_canonical_order_and_stable() {
        let bytes = fixture_key();
        let (k, m) = decode_key(&bytes, None).unwrap();
        let mut out = Vec::new();
        encode_key(&k, &mut NoPortNames, &mut out).unwrap();
        // Canonical order puts RECIRC_ID before IN_PORT, as the fixture does.
        assert_eq!(out, bytes);
        let mut mb = Vec::new();
        encode_mask(&m, &mut mb).unwrap();
        let (k2, m2) = decode_key(&out, Some(&mb)).unwrap();
        assert_eq!(k2, k);
        assert_eq!(m2, m);
    }

    #[test]
    fn absent_mask_attribute_is_wildcarded() {
        let bytes = fixture_key();
        // Mask list with only OVS_KEY_ATTR_RECIRC_ID = 0xffffffff.
        let mut mask = Vec::new();
        attr::put_u32(&mut mask, OVS_KEY_ATTR_RECIRC_ID, !0);
        let (_, m) = decode_key(&bytes, Some(&mask)).unwrap();
        assert!(m.has(KeyAttr::RecircId));
        assert!(!m.has(KeyAttr::Ipv4));
        assert_eq!(m.ipv4.src, 0);
    }

    #[test]
    fn fixed_len_table_matches_the_match() {
        for a in KeyAttr::CANONICAL_ORDER {
            assert_eq!(fixed_len(a), fixed_len_slow(a), "{a:?}");
        }
    }

    #[test]
    fn decode_checks_the_lengths_of_the_table() {
        // The single-dispatch decoder has its own lengths: they must be
        // `fixed_len`'s, for every attribute.
        for a in KeyAttr::CANONICAL_ORDER {
            let Some(n) = fixed_len(a) else { continue };
            let mut k = FlowKey::default();
            assert!(decode_fixed(a, &[0u8; 64][..n], 0, &mut k).is_ok(), "{a:?}");
            for bad in [n - 1, n + 1] {
                let e = decode_fixed(a, &[0u8; 64][..bad], 8, &mut k).unwrap_err();
                assert_eq!(e, NetlinkError::bad_len(name(a), 8, bad, n), "{a:?}");
            }
        }
        for a in [KeyAttr::Encap, KeyAttr::Tunnel, KeyAttr::Nsh] {
            let e = decode_fixed(a, &[], 0, &mut FlowKey::default()).unwrap_err();
            assert_eq!(
                e.kind,
                ErrorKind::Invalid("nested attribute where a value was expected")
            );
        }
    }

    #[test]
    fn bad_fixed_length_names_attribute_and_offset() {
        let mut v = fixture_key();
        // Shrink the IPv4 attribute's nla_len from 16 to 12 (8-byte payload).
        v[24..26].copy_from_slice(&12u16.to_ne_bytes());
        let e = decode_key(&v, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "OVS_KEY_ATTR_IPV4 at byte 24: payload of 8 bytes, expected 12"
        );
    }

    #[test]
    fn unknown_duplicate_and_truncated() {
        let mut v = Vec::new();
        attr::put_u32(&mut v, 99, 1);
        assert_eq!(
            decode_key(&v, None).unwrap_err().kind,
            ErrorKind::UnknownAttr { ty: 99 }
        );
        let mut v = Vec::new();
        attr::put_u32(&mut v, OVS_KEY_ATTR_SKB_MARK, 1);
        attr::put_u32(&mut v, OVS_KEY_ATTR_SKB_MARK, 1);
        let e = decode_key(&v, None).unwrap_err();
        assert_eq!(
            (e.attr, e.offset, e.kind),
            ("OVS_KEY_ATTR_SKB_MARK", 8, ErrorKind::Duplicate)
        );
        let v = fixture_key();
        let e = decode_key(&v[..30], None).unwrap_err();
        assert_eq!(e.offset, 24);
        assert!(matches!(
            e.kind,
            ErrorKind::BadNlaLen {
                nla_len: 16,
                left: 6
            }
        ));
    }

    #[test]
    fn tunnel_round_trip_with_options() {
        // tun_key_to_attr() order: ID, IPV4_SRC, IPV4_DST, TTL, TP_DST,
        // VXLAN_OPTS{GBP}, then GENEVE_OPTS.
        let mut k = FlowKey::default();
        k.present.insert(KeyAttr::Tunnel);
        let t = &mut k.tunnel;
        t.tun_id = 0x1234;
        t.flags = tnl_flags::KEY | tnl_flags::CSUM;
        t.ipv4_src = 0x0101_0101;
        t.ipv4_dst = 0x0202_0202;
        t.ttl = 64;
        t.tp_dst = 4789;
        t.vxlan_gbp = 0x0001_0064;
        let mut g = Box::<GeneveOpts>::default();
        g.len = 8;
        g.data[..8].copy_from_slice(&[0x01, 0x02, 0x80, 0x01, 0xde, 0xad, 0xbe, 0xef]);
        t.geneve = Some(g);
        let mut out = Vec::new();
        encode_key(&k, &mut NoPortNames, &mut out).unwrap();
        // Outer header, then ID (4+8).
        assert_eq!(u16::from_ne_bytes([out[2], out[3]]), OVS_KEY_ATTR_TUNNEL);
        assert_eq!(u16::from_ne_bytes([out[6], out[7]]), OVS_TUNNEL_KEY_ATTR_ID);
        assert_eq!(&out[8..16], &0x1234u64.to_be_bytes());
        let (d, _) = decode_key(&out, None).unwrap();
        assert_eq!(d.tunnel.tun_id, 0x1234);
        assert_eq!(d.tunnel.flags, tnl_flags::KEY | tnl_flags::CSUM);
        assert_eq!(d.tunnel.vxlan_gbp, 0x0001_0064);
        assert_eq!(
            d.tunnel.geneve.as_ref().unwrap().bytes(),
            k.tunnel.geneve.as_ref().unwrap().bytes()
        );
        let mut again = Vec::new();
        encode_key(&d, &mut NoPortNames, &mut again).unwrap();
        assert_eq!(again, out);
    }

    #[test]
    fn tunnel_key_without_ttl_is_rejected() {
        let mut v = Vec::new();
        let at = attr::start_nested(&mut v, OVS_KEY_ATTR_TUNNEL);
        attr::put_be32(&mut v, OVS_TUNNEL_KEY_ATTR_IPV4_DST, 1);
        attr::end_nested(&mut v, at);
        let e = decode_key(&v, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "OVS_KEY_ATTR_TUNNEL at byte 0: invalid: tunnel key without OVS_TUNNEL_KEY_ATTR_TTL"
        );
    }

    #[test]
    fn erspan_v2_bits_follow_erspan_md2() {
        // hwid 0x2b = upper 2 bits 0b10 in byte 10 bits 0-1, low 4 bits 0xb in
        // byte 11 bits 4-7; dir in byte 11 bit 3.
        let mut t = Tunnel {
            ttl: 1,
            ..Tunnel::default()
        };
        t.erspan = ErspanOpts {
            ver: 2,
            idx: 0,
            dir: 1,
            hwid: 0x2b,
        };
        let mut out = Vec::new();
        put_tunnel(&t, false, &mut out);
        let (k, _) = decode_key(&out, None).unwrap();
        assert_eq!(k.tunnel.erspan, t.erspan);
        // The ERSPAN sub-attribute is last: header + 12 bytes.
        let e = &out[out.len() - 12..];
        assert_eq!((e[10], e[11]), (0b10, 0xb8));
    }

    #[test]
    fn vlan_encap_nests_and_limits_depth() {
        let mut inner = FlowKey::default();
        inner.present.insert(KeyAttr::Ethertype);
        inner.eth_type = 0x0800;
        let mut k = FlowKey::default();
        k.present.insert(KeyAttr::Ethertype);
        k.present.insert(KeyAttr::Vlan);
        k.present.insert(KeyAttr::Encap);
        k.eth_type = 0x8100;
        k.vlan_tci = 0x1005;
        k.encap = Some(Box::new(inner));
        let mut out = Vec::new();
        encode_key(&k, &mut NoPortNames, &mut out).unwrap();
        // ETHERTYPE(8) VLAN(8) ENCAP{ETHERTYPE(8)}.
        assert_eq!(out.len(), 8 + 8 + 4 + 8);
        assert_eq!(u16::from_ne_bytes([out[18], out[19]]), OVS_KEY_ATTR_ENCAP);
        let (d, m) = decode_key(&out, None).unwrap();
        assert_eq!(d, k);
        assert_eq!(m.encap.as_ref().unwrap().eth_type, 0xffff);
        // Three levels of ENCAP exceed FLOW_MAX_VLAN_HEADERS.
        let mut deep = Vec::new();
        let a = attr::start_nested(&mut deep, OVS_KEY_ATTR_ENCAP);
        let b = attr::start_nested(&mut deep, OVS_KEY_ATTR_ENCAP);
        let c = attr::start_nested(&mut deep, OVS_KEY_ATTR_ENCAP);
        attr::end_nested(&mut deep, c);
        attr::end_nested(&mut deep, b);
        attr::end_nested(&mut deep, a);
        let e = decode_key(&deep, None).unwrap_err();
        assert_eq!((e.offset, e.kind), (8, ErrorKind::TooDeep));
    }

    #[test]
    fn in_port_name_needs_a_port_map() {
        let mut k = FlowKey::default();
        k.present.insert(KeyAttr::InPort);
        k.in_port = OdpPort::Name(crate::PortName::new("p1").unwrap());
        let mut out = Vec::new();
        let e = encode_key(&k, &mut NoPortNames, &mut out).unwrap_err();
        assert_eq!(
            e.to_string(),
            "OVS_KEY_ATTR_IN_PORT at byte 0: port name 'p1' has no number"
        );
        let mut map = std::collections::HashMap::from([("p1".to_string(), 7u32)]);
        encode_key(&k, &mut map, &mut out).unwrap();
        assert_eq!(
            decode_key(&out, None).unwrap().0.in_port,
            OdpPort::Number(7)
        );
    }
}

#[cfg(test)]
mod mask_regressions {
    use super::super::{decode_key, encode_key, encode_mask, NoPortNames};

    /// Found by the `odp_netlink` fuzz target: a mask holding an empty
    /// `OVS_KEY_ATTR_TUNNEL` nest (with an empty key) must encode back to a
    /// mask that decodes the same; the encoder used to add a TTL to it.
    #[test]
    fn an_empty_tunnel_mask_round_trips() {
        let mask = [0x04, 0x00, 0x10, 0x00];
        let (k, m) = decode_key(&[], Some(&mask)).expect("decodes");
        let (mut kb, mut mb) = (Vec::new(), Vec::new());
        encode_key(&k, &mut NoPortNames, &mut kb).expect("key encodes");
        encode_mask(&m, &mut mb).expect("mask encodes");
        let (k2, m2) = decode_key(&kb, Some(&mb)).expect("re-decodes");
        assert_eq!(k2, k);
        assert_eq!(m2, m);
    }

    /// From the fuzzer: the exact mask of a key-only tunnel holding just a
    /// TTL covered every other tunnel field too.
    #[test]
    fn the_exact_mask_of_a_sparse_tunnel_key_round_trips() {
        let key = [
            0x09, 0x00, 0x10, 0x00, 0x05, 0x00, 0x04, 0x00, 0x40, 0, 0, 0,
        ];
        let (k, m) = decode_key(&key, None).expect("decodes");
        let (mut kb, mut mb) = (Vec::new(), Vec::new());
        encode_key(&k, &mut NoPortNames, &mut kb).expect("key encodes");
        encode_mask(&m, &mut mb).expect("mask encodes");
        let (k2, m2) = decode_key(&kb, Some(&mb)).expect("re-decodes");
        assert_eq!((k2, m2), (k, m));
    }

    /// Also from the fuzzer: the exact mask of a key holding an empty MPLS
    /// attribute (no labels) covered three labels that encode to nothing.
    #[test]
    fn the_exact_mask_of_an_empty_mpls_key_round_trips() {
        let key = [0x04, 0x00, 0x15, 0x00];
        let (k, m) = decode_key(&key, None).expect("decodes");
        let (mut kb, mut mb) = (Vec::new(), Vec::new());
        encode_key(&k, &mut NoPortNames, &mut kb).expect("key encodes");
        encode_mask(&m, &mut mb).expect("mask encodes");
        let (k2, m2) = decode_key(&kb, Some(&mb)).expect("re-decodes");
        assert_eq!((k2, m2), (k, m));
    }
}
