//! `OVS_ACTION_ATTR_CT` ↔ [`CtAction`], with the nested `OVS_CT_ATTR_NAT` ↔
//! [`Nat`] (`OVS_NAT_ATTR_*`).
use super::{string_payload, CtAction, Nat, NatAddrs, NatKind, NetlinkError, PortName};
use crate::netlink::attr::{self, arr, be32, ne16, ne32, Attr};
use crate::netlink::consts::{
    ct_attr_name, nat_attr_name, OVS_ACTION_ATTR_CT, OVS_CT_ATTR_COMMIT, OVS_CT_ATTR_FORCE_COMMIT,
    OVS_CT_ATTR_HELPER, OVS_CT_ATTR_LABELS, OVS_CT_ATTR_MARK, OVS_CT_ATTR_NAT, OVS_CT_ATTR_TIMEOUT,
    OVS_CT_ATTR_ZONE, OVS_NAT_ATTR_DST, OVS_NAT_ATTR_IP_MAX, OVS_NAT_ATTR_IP_MIN,
    OVS_NAT_ATTR_PERSISTENT, OVS_NAT_ATTR_PROTO_HASH, OVS_NAT_ATTR_PROTO_MAX,
    OVS_NAT_ATTR_PROTO_MIN, OVS_NAT_ATTR_PROTO_RANDOM, OVS_NAT_ATTR_SRC,
};
use crate::netlink::ErrorKind;

/// Decodes `OVS_ACTION_ATTR_CT` into `ct` (a default one: fields the
/// attribute does not give are left as they are).
#[inline]
pub(crate) fn decode_ct_into(a: &Attr<'_>, ct: &mut CtAction) -> Result<(), NetlinkError> {
    for s in a.nested(ct_attr_name) {
        let s = s?;
        let nm = ct_attr_name(s.ty);
        let p = s.payload;
        let want = |n: usize| {
            if p.len() == n {
                Ok(())
            } else {
                Err(NetlinkError::bad_len(nm, s.offset, p.len(), n))
            }
        };
        match s.ty {
            OVS_CT_ATTR_COMMIT => {
                want(0)?;
                ct.commit = true;
            }
            OVS_CT_ATTR_FORCE_COMMIT => {
                want(0)?;
                ct.force_commit = true;
            }
            OVS_CT_ATTR_ZONE => {
                want(2)?;
                ct.zone = ne16(p, 0);
            }
            OVS_CT_ATTR_MARK => {
                want(8)?;
                ct.mark = Some((ne32(p, 0), ne32(p, 4)));
            }
            OVS_CT_ATTR_LABELS => {
                want(32)?;
                ct.label = Some(Box::new((
                    u128::from_ne_bytes(arr(p, 0)),
                    u128::from_ne_bytes(arr(p, 16)),
                )));
            }
            OVS_CT_ATTR_HELPER => {
                // OVS policy: string of 1..=16 bytes (NUL included).
                let h = string_payload(&s, nm, 16)?;
                ct.helper = PortName::new(h);
            }
            OVS_CT_ATTR_TIMEOUT => {
                let t = string_payload(&s, nm, 32)?;
                ct.timeout = Some(t.into());
            }
            OVS_CT_ATTR_NAT => decode_nat_into(&s, ct.nat.insert(Nat::default()))?,
            t => {
                return Err(NetlinkError::new(
                    nm,
                    s.offset,
                    ErrorKind::UnknownAttr { ty: t },
                ))
            }
        }
    }
    Ok(())
}

/// Decodes `OVS_CT_ATTR_NAT` into `nat` (a default one), in place.
#[inline]
pub(crate) fn decode_nat_into(a: &Attr<'_>, nat: &mut Nat) -> Result<(), NetlinkError> {
    let (mut min, mut max): (Option<&[u8]>, Option<&[u8]>) = (None, None);
    for s in a.nested(nat_attr_name) {
        let s = s?;
        let nm = nat_attr_name(s.ty);
        let p = s.payload;
        let flag = || {
            if p.is_empty() {
                Ok(())
            } else {
                Err(NetlinkError::bad_len(nm, s.offset, p.len(), 0))
            }
        };
        match s.ty {
            OVS_NAT_ATTR_SRC | OVS_NAT_ATTR_DST => {
                flag()?;
                if nat.kind != NatKind::Any {
                    return Err(NetlinkError::invalid(nm, s.offset, "both src and dst NAT"));
                }
                nat.kind = if s.ty == OVS_NAT_ATTR_SRC {
                    NatKind::Src
                } else {
                    NatKind::Dst
                };
            }
            OVS_NAT_ATTR_IP_MIN | OVS_NAT_ATTR_IP_MAX => {
                if p.len() != 4 && p.len() != 16 {
                    return Err(NetlinkError::invalid(
                        nm,
                        s.offset,
                        "address is neither 4 nor 16 bytes",
                    ));
                }
                if s.ty == OVS_NAT_ATTR_IP_MIN {
                    min = Some(p)
                } else {
                    max = Some(p)
                }
            }
            OVS_NAT_ATTR_PROTO_MIN | OVS_NAT_ATTR_PROTO_MAX => {
                if p.len() != 2 {
                    return Err(NetlinkError::bad_len(nm, s.offset, p.len(), 2));
                }
                if s.ty == OVS_NAT_ATTR_PROTO_MIN {
                    nat.proto_min = ne16(p, 0)
                } else {
                    nat.proto_max = ne16(p, 0)
                }
            }
            OVS_NAT_ATTR_PERSISTENT => {
                flag()?;
                nat.persistent = true;
            }
            OVS_NAT_ATTR_PROTO_HASH => {
                flag()?;
                nat.hash = true;
            }
            OVS_NAT_ATTR_PROTO_RANDOM => {
                flag()?;
                nat.random = true;
            }
            t => {
                return Err(NetlinkError::new(
                    nm,
                    s.offset,
                    ErrorKind::UnknownAttr { ty: t },
                ))
            }
        }
    }
    nat.addrs = match (min, max) {
        (None, None) => NatAddrs::None,
        (Some(lo), hi) => {
            if hi.is_some_and(|h| h.len() != lo.len()) {
                return Err(NetlinkError::invalid(
                    "OVS_NAT_ATTR_IP_MAX",
                    a.offset,
                    "IP address sizes do not match",
                ));
            }
            if lo.len() == 4 {
                NatAddrs::V4 {
                    min: be32(lo, 0),
                    max: hi.map_or(0, |h| be32(h, 0)),
                }
            } else {
                NatAddrs::V6(Box::new((arr(lo, 0), hi.map_or([0; 16], |h| arr(h, 0)))))
            }
        }
        (None, Some(_)) => {
            return Err(NetlinkError::invalid(
                "OVS_NAT_ATTR_IP_MAX",
                a.offset,
                "range max without min",
            ))
        }
    };
    Ok(())
}

/// `ct` in the order OVS's `parse_conntrack_action()` writes it.
#[inline]
pub(crate) fn encode_ct(ct: &CtAction, out: &mut Vec<u8>) {
    let at = attr::start_nested(out, OVS_ACTION_ATTR_CT);
    if ct.force_commit {
        attr::put_flag(out, OVS_CT_ATTR_FORCE_COMMIT);
    } else if ct.commit {
        attr::put_flag(out, OVS_CT_ATTR_COMMIT);
    }
    if ct.zone != 0 {
        attr::put_u16(out, OVS_CT_ATTR_ZONE, ct.zone);
    }
    if let Some((v, m)) = ct.mark {
        let mut b = [0u8; 8];
        b[..4].copy_from_slice(&v.to_ne_bytes());
        b[4..].copy_from_slice(&m.to_ne_bytes());
        attr::put(out, OVS_CT_ATTR_MARK, &b);
    }
    if let Some(l) = ct.label.as_ref() {
        let mut b = [0u8; 32];
        b[..16].copy_from_slice(&l.0.to_ne_bytes());
        b[16..].copy_from_slice(&l.1.to_ne_bytes());
        attr::put(out, OVS_CT_ATTR_LABELS, &b);
    }
    if let Some(h) = ct.helper.as_ref() {
        attr::put_string(out, OVS_CT_ATTR_HELPER, h.as_str().as_bytes());
    }
    if let Some(t) = ct.timeout.as_ref() {
        attr::put_string(out, OVS_CT_ATTR_TIMEOUT, t.as_bytes());
    }
    if let Some(nat) = ct.nat.as_ref() {
        encode_nat(nat, out);
    }
    attr::end_nested(out, at);
}

/// `nl_msg_put_nat()` order: type flag, IP_MIN, IP_MAX (when above min),
/// PROTO_MIN, PROTO_MAX (when above min), PERSISTENT, PROTO_HASH,
/// PROTO_RANDOM; nothing but the nest for a plain `nat`.
#[inline]
pub(crate) fn encode_nat(nat: &Nat, out: &mut Vec<u8>) {
    let at = attr::start_nested(out, OVS_CT_ATTR_NAT);
    let ty = match nat.kind {
        NatKind::Src => Some(OVS_NAT_ATTR_SRC),
        NatKind::Dst => Some(OVS_NAT_ATTR_DST),
        NatKind::Any => None,
    };
    if let Some(ty) = ty {
        attr::put_flag(out, ty);
        match &nat.addrs {
            NatAddrs::None => {}
            NatAddrs::V4 { min, max } => {
                attr::put_be32(out, OVS_NAT_ATTR_IP_MIN, *min);
                if max > min {
                    attr::put_be32(out, OVS_NAT_ATTR_IP_MAX, *max);
                }
            }
            NatAddrs::V6(r) => {
                attr::put(out, OVS_NAT_ATTR_IP_MIN, &r.0);
                if r.1 > r.0 {
                    attr::put(out, OVS_NAT_ATTR_IP_MAX, &r.1);
                }
            }
        }
        if nat.proto_min != 0 {
            attr::put_u16(out, OVS_NAT_ATTR_PROTO_MIN, nat.proto_min);
            if nat.proto_max > nat.proto_min {
                attr::put_u16(out, OVS_NAT_ATTR_PROTO_MAX, nat.proto_max);
            }
        }
        if nat.persistent {
            attr::put_flag(out, OVS_NAT_ATTR_PERSISTENT);
        }
        if nat.hash {
            attr::put_flag(out, OVS_NAT_ATTR_PROTO_HASH);
        }
        if nat.random {
            attr::put_flag(out, OVS_NAT_ATTR_PROTO_RANDOM);
        }
    }
    attr::end_nested(out, at);
}
