//! `set(...)` actions → rte_flow rewrites (MAC, IPv4/IPv6 addresses,
//! DSCP, TTL/hop limit, TCP/UDP ports).
//!
//! Invariants: only whole fields are written (a partial mask would need a
//! read-modify-write the set actions do not do), and only headers the
//! flow's match says the packet has: rte_flow's SET_TP_* rewrite TCP or
//! UDP, whichever the packet has, and SET_IPV4_* do nothing to IPv6.
//!
//! Must not depend on: anything below `translate` in the flow.

use smallvec::SmallVec;

use super::rejected::SetMask;
use super::Rejected;
use crate::odp::{self, FlowKey, FlowMask, KeyAttr, SetField};
use crate::rule::*;

/// Full-mask check for values a `set` writes.
fn all_ones(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| b == 0xff)
}

/// `set(...)`: exact writes only (a partial mask would need a read-modify-
/// write the set actions do not do).
/// The flow's match must say which header a `set` rewrites: rte_flow's
/// SET_TP_* rewrite TCP or UDP, whichever the packet has, and SET_IPV4_*
/// do nothing to an IPv6 packet.
fn matched(key: &FlowKey, mask: &FlowMask, eth_type: u16, proto: Option<u8>) -> bool {
    let inner = key.encap.as_deref().zip(mask.encap.as_deref());
    let (k, m) = inner.unwrap_or((key, mask));
    let l3 = k.has(KeyAttr::Ethertype) && m.eth_type == u16::MAX && k.eth_type == eth_type;
    let l4 = match proto {
        None => true,
        Some(p) => {
            (k.has(KeyAttr::Ipv4) && m.ipv4.proto == u8::MAX && k.ipv4.proto == p)
                || (k.has(KeyAttr::Ipv6) && m.ipv6.proto == u8::MAX && k.ipv6.proto == p)
        }
    };
    l3 && l4
}

pub(super) fn set_action(
    s: &odp::SetAction,
    key: &FlowKey,
    mask: &FlowMask,
    out: &mut SmallVec<[Action; 8]>,
) -> Result<(), Rejected> {
    // IPv4 or IPv6 for the L4 rewrites: either stack will do.
    let needs = |header: &'static str, eth_types: &[u16], proto: Option<u8>| {
        if eth_types.iter().any(|&t| matched(key, mask, t, proto)) {
            Ok(())
        } else {
            Err(Rejected::SetUnmatched { header })
        }
    };
    match &s.field {
        SetField::Ipv4 { .. } => needs("ipv4", &[0x0800], None)?,
        SetField::Tcp { .. } => needs("tcp", &[0x0800, 0x86dd], Some(6))?,
        SetField::Udp { .. } => needs("udp", &[0x0800, 0x86dd], Some(17))?,
        SetField::Other {
            attr: KeyAttr::Ipv6,
            ..
        } => needs("ipv6", &[0x86dd], None)?,
        _ => {}
    }
    let partial = |field: SetMask| Rejected::SetPartialMask { field };
    match &s.field {
        SetField::Eth { key, mask } => {
            for (k, m, is_src) in [(&key.src, &mask.src, true), (&key.dst, &mask.dst, false)] {
                match (m.iter().all(|&b| b == 0), all_ones(m)) {
                    (true, _) => {}
                    (_, true) if is_src => out.push(Action::SetMacSrc(*k)),
                    (_, true) => out.push(Action::SetMacDst(*k)),
                    _ => return Err(partial(SetMask::Eth { mask: *m })),
                }
            }
        }
        SetField::Ipv4 { key, mask } => {
            if mask.src != 0 {
                if mask.src != u32::MAX {
                    return Err(partial(SetMask::Ipv4Src));
                }
                out.push(Action::SetIpv4Src(key.src.to_be_bytes()));
            }
            if mask.dst != 0 {
                if mask.dst != u32::MAX {
                    return Err(partial(SetMask::Ipv4Dst));
                }
                out.push(Action::SetIpv4Dst(key.dst.to_be_bytes()));
            }
            match mask.tos {
                0 => {}
                0xfc => out.push(Action::SetIpv4Dscp(key.tos >> 2)),
                _ => return Err(partial(SetMask::Ipv4Tos)),
            }
            match mask.ttl {
                0 => {}
                0xff => out.push(Action::SetTtl(key.ttl)),
                _ => return Err(partial(SetMask::Ipv4Ttl)),
            }
            if mask.proto != 0 || mask.frag != 0 {
                return Err(Rejected::SetIpv4ProtoFrag);
            }
        }
        SetField::Tcp { key, mask } | SetField::Udp { key, mask } => {
            for (k, m, src) in [(key.src, mask.src, true), (key.dst, mask.dst, false)] {
                match m {
                    0 => {}
                    u16::MAX if src => out.push(Action::SetTpSrc(k)),
                    u16::MAX => out.push(Action::SetTpDst(k)),
                    _ => return Err(partial(SetMask::L4Port)),
                }
            }
        }
        SetField::Other {
            attr: KeyAttr::Ipv6,
            key,
            mask,
        } => {
            let (k, m) = (&key.ipv6, &mask.ipv6);
            for (v, mm, src) in [(&k.src, &m.src, true), (&k.dst, &m.dst, false)] {
                match (mm.iter().all(|&b| b == 0), all_ones(mm)) {
                    (true, _) => {}
                    (_, true) if src => out.push(Action::SetIpv6Src(*v)),
                    (_, true) => out.push(Action::SetIpv6Dst(*v)),
                    _ => return Err(partial(SetMask::Ipv6Addr)),
                }
            }
            match m.hlimit {
                0 => {}
                0xff => out.push(Action::SetTtl(k.hlimit)),
                _ => return Err(partial(SetMask::Ipv6Hlimit)),
            }
            match m.tclass {
                0 => {}
                0xfc => out.push(Action::SetIpv6Dscp(k.tclass >> 2)),
                _ => return Err(partial(SetMask::Ipv6Tclass)),
            }
            if m.label != 0 || m.proto != 0 || m.frag != 0 {
                return Err(Rejected::SetIpv6LabelProtoFrag);
            }
        }
        SetField::Sctp { .. } => return Err(Rejected::SetSctp),
        SetField::SkbPriority { .. } | SetField::SkbMark { .. } => {
            return Err(Rejected::SetSkbMetadata)
        }
        SetField::Other { attr, .. } => return Err(Rejected::SetField { attr: Some(*attr) }),
        #[allow(unreachable_patterns)]
        _ => return Err(Rejected::SetField { attr: None }),
    }
    Ok(())
}
