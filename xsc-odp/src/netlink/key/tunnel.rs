//! The nested `OVS_KEY_ATTR_TUNNEL` (`OVS_TUNNEL_KEY_ATTR_*`) ↔ [`Tunnel`]:
//! fixed lengths from `ovs_tun_key_attr_lens`, Geneve options as raw TLVs,
//! VXLAN GBP in `OVS_VXLAN_EXT_GBP`, ERSPAN and GTP-U metadata.
use super::{tnl_flags, ErspanOpts, GeneveOpts, NetlinkError, Tunnel, TunnelAttr};
use crate::netlink::attr::{self, arr, be16, be32, ne32, Attr};
use crate::netlink::consts::{
    tunnel_attr_name, ERSPAN_METADATA_LEN, GTPU_METADATA_LEN, OVS_KEY_ATTR_TUNNEL,
    OVS_TUNNEL_KEY_ATTR_CSUM, OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT, OVS_TUNNEL_KEY_ATTR_ERSPAN_OPTS,
    OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS, OVS_TUNNEL_KEY_ATTR_GTPU_OPTS, OVS_TUNNEL_KEY_ATTR_ID,
    OVS_TUNNEL_KEY_ATTR_IPV4_DST, OVS_TUNNEL_KEY_ATTR_IPV4_SRC, OVS_TUNNEL_KEY_ATTR_IPV6_DST,
    OVS_TUNNEL_KEY_ATTR_IPV6_SRC, OVS_TUNNEL_KEY_ATTR_OAM, OVS_TUNNEL_KEY_ATTR_TOS,
    OVS_TUNNEL_KEY_ATTR_TP_DST, OVS_TUNNEL_KEY_ATTR_TP_SRC, OVS_TUNNEL_KEY_ATTR_TTL,
    OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS, OVS_VXLAN_EXT_GBP, OVS_VXLAN_EXT_GPE,
};
use crate::netlink::ErrorKind;

pub(crate) fn tun_fixed_len(ty: u16) -> Option<Option<usize>> {
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

pub(crate) fn tunnel_attr(ty: u16) -> TunnelAttr {
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

pub(crate) fn decode_erspan(ver: u8, p: &[u8]) -> ErspanOpts {
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

pub(crate) fn vxlan_ext_name(t: u16) -> &'static str {
    match t {
        OVS_VXLAN_EXT_GBP => "OVS_VXLAN_EXT_GBP",
        OVS_VXLAN_EXT_GPE => "OVS_VXLAN_EXT_GPE",
        _ => "OVS_VXLAN_EXT_?",
    }
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
