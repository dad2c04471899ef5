//! `OVS_ACTION_ATTR_*` lists ↔ [`Actions`].
//!
//! Shapes from OVS `lib/odp-util.c` (`odp_action_len()`,
//! `format_odp_action()` and the parsers that build the attributes) and the
//! uAPI structs.  Nested layouts:
//! - `ct`: `COMMIT`|`FORCE_COMMIT` flag, `ZONE` u16, `MARK` {u32 value,
//!   u32 mask}, `LABELS` {u128 value, u128 mask}, `HELPER` string, `TIMEOUT`
//!   string, `NAT` { `SRC`|`DST` flag, `IP_MIN`, `IP_MAX`, `PROTO_MIN` u16,
//!   `PROTO_MAX` u16, `PERSISTENT`, `PROTO_HASH`, `PROTO_RANDOM` flags }.
//! - `clone`: the actions directly; `dec_ttl`: `OVS_DEC_TTL_ATTR_ACTION`
//!   {actions}; `sample`: `PROBABILITY` u32, `ACTIONS` {actions};
//!   `check_pkt_len`: `PKT_LEN` u16, `ACTIONS_IF_GREATER`,
//!   `ACTIONS_IF_LESS_EQUAL`.
//! - `userspace`: `PID` u32, `USERDATA` (OVS pads it to at least 8 bytes),
//!   `EGRESS_TUN_PORT` u32, `ACTIONS` flag.
//! - `push_nsh`: a nested `OVS_KEY_ATTR_NSH` {`BASE`, `MD1`|`MD2`}.
//! - `set`: one key attribute; `set_masked`: one key attribute whose payload
//!   is the value followed by the mask (NSH: each sub-attribute so).
//! - `tnl_push`: `struct ovs_action_push_tnl` cut to
//!   `offsetof(header) + header_len` (`odp_put_tnl_push_action()`).
//!
//! Rooms: this file holds the list walk and the small actions; `ct` the
//! conntrack action and its NAT clause; `set` set and masked set;
//! `userspace` the userspace action and its cookie; `tnl` `tnl_push`.

use crate::netlink::attr::{self, arr, be16, be32, ne16, ne32, Attr, AttrIter};
use crate::netlink::consts::{
    action_attr_name, OVS_ACTION_ATTR_ADD_MPLS, OVS_ACTION_ATTR_CHECK_PKT_LEN,
    OVS_ACTION_ATTR_CLONE, OVS_ACTION_ATTR_CT, OVS_ACTION_ATTR_CT_CLEAR, OVS_ACTION_ATTR_DEC_TTL,
    OVS_ACTION_ATTR_DROP, OVS_ACTION_ATTR_HASH, OVS_ACTION_ATTR_LB_OUTPUT, OVS_ACTION_ATTR_METER,
    OVS_ACTION_ATTR_OUTPUT, OVS_ACTION_ATTR_POP_ETH, OVS_ACTION_ATTR_POP_MPLS,
    OVS_ACTION_ATTR_POP_NSH, OVS_ACTION_ATTR_POP_VLAN, OVS_ACTION_ATTR_PSAMPLE,
    OVS_ACTION_ATTR_PUSH_ETH, OVS_ACTION_ATTR_PUSH_MPLS, OVS_ACTION_ATTR_PUSH_NSH,
    OVS_ACTION_ATTR_PUSH_VLAN, OVS_ACTION_ATTR_RECIRC, OVS_ACTION_ATTR_SAMPLE, OVS_ACTION_ATTR_SET,
    OVS_ACTION_ATTR_SET_MASKED, OVS_ACTION_ATTR_TRUNC, OVS_ACTION_ATTR_TUNNEL_POP,
    OVS_ACTION_ATTR_TUNNEL_PUSH, OVS_ACTION_ATTR_USERSPACE,
    OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER, OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL,
    OVS_CHECK_PKT_LEN_ATTR_PKT_LEN, OVS_DEC_TTL_ATTR_ACTION, OVS_KEY_ATTR_NSH,
    OVS_NSH_KEY_ATTR_BASE, OVS_NSH_KEY_ATTR_MD1, OVS_NSH_KEY_ATTR_MD2, OVS_PSAMPLE_ATTR_COOKIE,
    OVS_PSAMPLE_ATTR_GROUP, OVS_PSAMPLE_COOKIE_MAX_SIZE, OVS_SAMPLE_ATTR_ACTIONS,
    OVS_SAMPLE_ATTR_PROBABILITY, OVS_USERSPACE_ATTR_ACTIONS, OVS_USERSPACE_ATTR_EGRESS_TUN_PORT,
    OVS_USERSPACE_ATTR_PID, OVS_USERSPACE_ATTR_USERDATA,
};
use crate::netlink::key::{
    decode_fixed, decode_tunnel, fixed_len, key_attr, put_key_attr, put_payload,
};
use crate::netlink::nsh::decode_push_nsh;
use crate::netlink::ErrorKind;
use crate::netlink::{port_number, NetlinkError, PortMap, MAX_ACTION_DEPTH};
use crate::{
    Action, Actions, CheckPktLen, CtAction, FlowKey, KeyAttr, Nat, NatAddrs, NatKind, OdpPort,
    PortName, Psample, Sample, SetAction, SetField, UserCookie, Userspace,
};
use {
    ct::{decode_ct_into, encode_ct},
    set::{decode_set, encode_set},
    userspace::{decode_userspace, encode_cookie},
};

mod ct;
mod set;
mod tnl;
mod userspace;

pub use tnl::tnl_push_header;

/// `odp_action_len()`: `Some(n)` for fixed-size actions, `None` for
/// variable or nested ones; `Err` for unknown types.  The decoder checks
/// each length in its own `match` arm ([`fixed`]); a test holds the two
/// together.
#[cfg(test)]
pub(crate) fn action_len(ty: u16) -> Result<Option<usize>, ()> {
    Ok(Some(match ty {
        OVS_ACTION_ATTR_OUTPUT | OVS_ACTION_ATTR_LB_OUTPUT | OVS_ACTION_ATTR_TUNNEL_POP => 4,
        OVS_ACTION_ATTR_METER | OVS_ACTION_ATTR_RECIRC | OVS_ACTION_ATTR_DROP => 4,
        OVS_ACTION_ATTR_TRUNC => 4,
        OVS_ACTION_ATTR_PUSH_VLAN => 4,
        OVS_ACTION_ATTR_POP_VLAN | OVS_ACTION_ATTR_CT_CLEAR | OVS_ACTION_ATTR_POP_ETH => 0,
        OVS_ACTION_ATTR_POP_NSH => 0,
        // struct ovs_action_push_mpls / add_mpls: be32 + be16 (+ u16), 8.
        OVS_ACTION_ATTR_PUSH_MPLS | OVS_ACTION_ATTR_ADD_MPLS => 8,
        OVS_ACTION_ATTR_POP_MPLS => 2,
        OVS_ACTION_ATTR_HASH => 8,
        OVS_ACTION_ATTR_PUSH_ETH => 12,
        OVS_ACTION_ATTR_TUNNEL_PUSH | OVS_ACTION_ATTR_USERSPACE | OVS_ACTION_ATTR_SET => {
            return Ok(None)
        }
        OVS_ACTION_ATTR_SET_MASKED | OVS_ACTION_ATTR_SAMPLE | OVS_ACTION_ATTR_CT => {
            return Ok(None)
        }
        OVS_ACTION_ATTR_CLONE | OVS_ACTION_ATTR_PUSH_NSH | OVS_ACTION_ATTR_CHECK_PKT_LEN => {
            return Ok(None)
        }
        OVS_ACTION_ATTR_DEC_TTL | OVS_ACTION_ATTR_PSAMPLE => return Ok(None),
        _ => return Err(()),
    }))
}

/// Decodes an action list.  The empty list is OVS's `drop`.
pub fn decode_actions(buf: &[u8]) -> Result<Actions, NetlinkError> {
    let mut out = Actions::new();
    decode_list(buf, 0, 0, &mut out)?;
    Ok(out)
}

/// [`decode_actions`] into a caller-owned list (cleared first), so that a
/// hot loop reuses one list instead of moving a fresh one out each time.
pub fn decode_actions_into(buf: &[u8], out: &mut Actions) -> Result<(), NetlinkError> {
    out.clear();
    decode_list(buf, 0, 0, out)
}

pub(crate) fn decode_nested_list(a: &Attr<'_>, depth: usize) -> Result<Actions, NetlinkError> {
    if depth + 1 >= MAX_ACTION_DEPTH {
        return Err(NetlinkError::new(
            action_attr_name(a.ty),
            a.offset,
            ErrorKind::TooDeep,
        ));
    }
    let mut out = Actions::new();
    decode_list(a.payload, a.payload_offset(), depth + 1, &mut out)?;
    Ok(out)
}

pub(crate) fn decode_list(
    buf: &[u8],
    base: usize,
    depth: usize,
    out: &mut Actions,
) -> Result<(), NetlinkError> {
    for a in AttrIter::new(buf, base, action_attr_name) {
        let a = a?;
        if a.ty == OVS_ACTION_ATTR_CT {
            // Decoded in place in the list's slot: a `CtAction` built on the
            // stack would be moved out of `decode_ct`, into an `Action`, out
            // of `decode_action` and into the list.
            out.push(Action::Ct(CtAction::default()));
            let Some(Action::Ct(ct)) = out.last_mut() else {
                unreachable!("just pushed a ct action")
            };
            if let Err(e) = decode_ct_into(&a, ct) {
                out.pop();
                return Err(e);
            }
        } else {
            decode_action_into(&a, depth, out)?;
        }
    }
    Ok(())
}

/// One `match` on the type for the fixed-size actions, each arm checking
/// its own length ([`action_len`]); the variable and nested ones (and
/// unknown types) out of line, in [`decode_variable`].
/// Each action is pushed where it is built, not moved out as a `Result`.
#[inline]
pub(crate) fn decode_action_into(
    a: &Attr<'_>,
    depth: usize,
    out: &mut Actions,
) -> Result<(), NetlinkError> {
    let act = match a.ty {
        OVS_ACTION_ATTR_OUTPUT => Action::Output(OdpPort::Number(ne32(fixed::<4>(a)?, 0))),
        OVS_ACTION_ATTR_LB_OUTPUT => Action::LbOutput(ne32(fixed::<4>(a)?, 0)),
        OVS_ACTION_ATTR_TUNNEL_POP => Action::TnlPop(OdpPort::Number(ne32(fixed::<4>(a)?, 0))),
        OVS_ACTION_ATTR_METER => Action::Meter(ne32(fixed::<4>(a)?, 0)),
        OVS_ACTION_ATTR_RECIRC => Action::Recirc(ne32(fixed::<4>(a)?, 0)),
        // u32 error code (enum xlate_error); the model keeps no code.
        OVS_ACTION_ATTR_DROP => {
            fixed::<4>(a)?;
            Action::Drop
        }
        OVS_ACTION_ATTR_TRUNC => Action::Trunc(ne32(fixed::<4>(a)?, 0)),
        OVS_ACTION_ATTR_PUSH_VLAN => {
            let p = fixed::<4>(a)?;
            Action::PushVlan {
                tpid: be16(p, 0),
                tci: be16(p, 2),
            }
        }
        OVS_ACTION_ATTR_POP_VLAN => {
            fixed::<0>(a)?;
            Action::PopVlan
        }
        OVS_ACTION_ATTR_CT_CLEAR => {
            fixed::<0>(a)?;
            Action::CtClear
        }
        OVS_ACTION_ATTR_POP_ETH => {
            fixed::<0>(a)?;
            Action::PopEth
        }
        OVS_ACTION_ATTR_POP_NSH => {
            fixed::<0>(a)?;
            Action::PopNsh
        }
        // struct ovs_action_push_mpls / add_mpls: be32 + be16 (+ u16), 8.
        OVS_ACTION_ATTR_PUSH_MPLS => {
            let p = fixed::<8>(a)?;
            Action::PushMpls {
                lse: be32(p, 0),
                eth_type: be16(p, 4),
            }
        }
        // tun_flags (bytes 6..8) has no text form in OVS; not kept.
        OVS_ACTION_ATTR_ADD_MPLS => {
            let p = fixed::<8>(a)?;
            Action::AddMpls {
                lse: be32(p, 0),
                eth_type: be16(p, 4),
            }
        }
        OVS_ACTION_ATTR_POP_MPLS => Action::PopMpls {
            eth_type: be16(fixed::<2>(a)?, 0),
        },
        OVS_ACTION_ATTR_HASH => {
            let p = fixed::<8>(a)?;
            Action::Hash {
                alg: ne32(p, 0),
                basis: ne32(p, 4),
            }
        }
        OVS_ACTION_ATTR_PUSH_ETH => {
            let p = fixed::<12>(a)?;
            Action::PushEth {
                src: arr(p, 0),
                dst: arr(p, 6),
            }
        }
        _ => return decode_variable_into(a, depth, out),
    };
    out.push(act);
    Ok(())
}

/// `a`'s payload as a fixed-size one of `N` bytes, else the length error.
#[inline(always)]
pub(crate) fn fixed<'a, const N: usize>(a: &Attr<'a>) -> Result<&'a [u8; N], NetlinkError> {
    match a.payload.first_chunk::<N>() {
        Some(p) if a.payload.len() == N => Ok(p),
        _ => Err(bad_len(a, N)),
    }
}

#[cold]
#[inline(never)]
pub(crate) fn bad_len(a: &Attr<'_>, expected: usize) -> NetlinkError {
    NetlinkError::bad_len(action_attr_name(a.ty), a.offset, a.payload.len(), expected)
}

/// The variable-size and nested actions, and unknown types.
#[inline(never)]
pub(crate) fn decode_variable_into(
    a: &Attr<'_>,
    depth: usize,
    out: &mut Actions,
) -> Result<(), NetlinkError> {
    out.push(decode_variable(a, depth)?);
    Ok(())
}

pub(crate) fn decode_variable(a: &Attr<'_>, depth: usize) -> Result<Action, NetlinkError> {
    let nm = action_attr_name(a.ty);
    Ok(match a.ty {
        OVS_ACTION_ATTR_CT => {
            let mut ct = CtAction::default();
            decode_ct_into(a, &mut ct)?;
            Action::Ct(ct)
        }
        OVS_ACTION_ATTR_CLONE => Action::Clone(Box::new(decode_nested_list(a, depth)?)),
        OVS_ACTION_ATTR_DEC_TTL => {
            let mut list = None;
            for s in a.nested(dec_ttl_attr_name) {
                let s = s?;
                if s.ty != OVS_DEC_TTL_ATTR_ACTION {
                    return Err(NetlinkError::new(
                        dec_ttl_attr_name(s.ty),
                        s.offset,
                        ErrorKind::UnknownAttr { ty: s.ty },
                    ));
                }
                if list.is_some() {
                    return Err(NetlinkError::new(
                        "OVS_DEC_TTL_ATTR_ACTION",
                        s.offset,
                        ErrorKind::Duplicate,
                    ));
                }
                list = Some(decode_nested_list(&s, depth)?);
            }
            Action::DecTtl(Box::new(list.unwrap_or_default()))
        }
        OVS_ACTION_ATTR_SAMPLE => {
            let (mut prob, mut acts) = (None, None);
            for s in a.nested(sample_attr_name) {
                let s = s?;
                match s.ty {
                    OVS_SAMPLE_ATTR_PROBABILITY => {
                        prob = Some(u32_attr(&s, "OVS_SAMPLE_ATTR_PROBABILITY")?)
                    }
                    OVS_SAMPLE_ATTR_ACTIONS => acts = Some(decode_nested_list(&s, depth)?),
                    t => {
                        return Err(NetlinkError::new(
                            sample_attr_name(t),
                            s.offset,
                            ErrorKind::UnknownAttr { ty: t },
                        ))
                    }
                }
            }
            let (Some(probability), Some(actions)) = (prob, acts) else {
                return Err(NetlinkError::invalid(
                    nm,
                    a.offset,
                    "sample needs PROBABILITY and ACTIONS",
                ));
            };
            Action::Sample(Box::new(Sample {
                probability,
                actions,
            }))
        }
        OVS_ACTION_ATTR_CHECK_PKT_LEN => {
            let (mut len, mut gt, mut le) = (None, None, None);
            for s in a.nested(cpl_attr_name) {
                let s = s?;
                match s.ty {
                    OVS_CHECK_PKT_LEN_ATTR_PKT_LEN => {
                        if s.payload.len() != 2 {
                            return Err(NetlinkError::bad_len(
                                "OVS_CHECK_PKT_LEN_ATTR_PKT_LEN",
                                s.offset,
                                s.payload.len(),
                                2,
                            ));
                        }
                        len = Some(ne16(s.payload, 0));
                    }
                    OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER => {
                        gt = Some(decode_nested_list(&s, depth)?)
                    }
                    OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL => {
                        le = Some(decode_nested_list(&s, depth)?)
                    }
                    t => {
                        return Err(NetlinkError::new(
                            cpl_attr_name(t),
                            s.offset,
                            ErrorKind::UnknownAttr { ty: t },
                        ))
                    }
                }
            }
            let (Some(pkt_len), Some(gt), Some(le)) = (len, gt, le) else {
                return Err(NetlinkError::invalid(
                    nm,
                    a.offset,
                    "check_pkt_len needs PKT_LEN and both action lists",
                ));
            };
            Action::CheckPktLen(Box::new(CheckPktLen { pkt_len, gt, le }))
        }
        OVS_ACTION_ATTR_USERSPACE => Action::Userspace(Box::new(decode_userspace(a)?)),
        OVS_ACTION_ATTR_PSAMPLE => {
            let (mut group, mut cookie) = (None, smallvec::SmallVec::new());
            for s in a.nested(psample_attr_name) {
                let s = s?;
                match s.ty {
                    OVS_PSAMPLE_ATTR_GROUP => group = Some(u32_attr(&s, "OVS_PSAMPLE_ATTR_GROUP")?),
                    OVS_PSAMPLE_ATTR_COOKIE => {
                        if s.payload.len() > OVS_PSAMPLE_COOKIE_MAX_SIZE {
                            return Err(NetlinkError::invalid(
                                "OVS_PSAMPLE_ATTR_COOKIE",
                                s.offset,
                                "cookie longer than 16 bytes",
                            ));
                        }
                        cookie = smallvec::SmallVec::from_slice(s.payload);
                    }
                    t => {
                        return Err(NetlinkError::new(
                            psample_attr_name(t),
                            s.offset,
                            ErrorKind::UnknownAttr { ty: t },
                        ))
                    }
                }
            }
            let Some(group) = group else {
                return Err(NetlinkError::invalid(nm, a.offset, "psample needs GROUP"));
            };
            Action::Psample(Box::new(Psample { group, cookie }))
        }
        OVS_ACTION_ATTR_PUSH_NSH => Action::PushNsh(Box::new(decode_push_nsh(a)?)),
        OVS_ACTION_ATTR_SET => Action::Set(decode_set(a, false)?),
        OVS_ACTION_ATTR_SET_MASKED => Action::Set(decode_set(a, true)?),
        OVS_ACTION_ATTR_TUNNEL_PUSH => Action::TnlPush(Box::new(tnl::decode(a)?)),
        _ => {
            return Err(NetlinkError::new(
                nm,
                a.offset,
                ErrorKind::UnknownAttr { ty: a.ty },
            ))
        }
    })
}

pub(crate) fn u32_attr(s: &Attr<'_>, nm: &'static str) -> Result<u32, NetlinkError> {
    if s.payload.len() != 4 {
        return Err(NetlinkError::bad_len(nm, s.offset, s.payload.len(), 4));
    }
    Ok(ne32(s.payload, 0))
}

pub(crate) fn dec_ttl_attr_name(t: u16) -> &'static str {
    if t == OVS_DEC_TTL_ATTR_ACTION {
        "OVS_DEC_TTL_ATTR_ACTION"
    } else {
        "OVS_DEC_TTL_ATTR_?"
    }
}
pub(crate) fn sample_attr_name(t: u16) -> &'static str {
    match t {
        OVS_SAMPLE_ATTR_PROBABILITY => "OVS_SAMPLE_ATTR_PROBABILITY",
        OVS_SAMPLE_ATTR_ACTIONS => "OVS_SAMPLE_ATTR_ACTIONS",
        _ => "OVS_SAMPLE_ATTR_?",
    }
}
pub(crate) fn cpl_attr_name(t: u16) -> &'static str {
    match t {
        OVS_CHECK_PKT_LEN_ATTR_PKT_LEN => "OVS_CHECK_PKT_LEN_ATTR_PKT_LEN",
        OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER => "OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER",
        OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL => {
            "OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL"
        }
        _ => "OVS_CHECK_PKT_LEN_ATTR_?",
    }
}
pub(crate) fn psample_attr_name(t: u16) -> &'static str {
    match t {
        OVS_PSAMPLE_ATTR_GROUP => "OVS_PSAMPLE_ATTR_GROUP",
        OVS_PSAMPLE_ATTR_COOKIE => "OVS_PSAMPLE_ATTR_COOKIE",
        _ => "OVS_PSAMPLE_ATTR_?",
    }
}
pub(crate) fn userspace_attr_name(t: u16) -> &'static str {
    match t {
        OVS_USERSPACE_ATTR_PID => "OVS_USERSPACE_ATTR_PID",
        OVS_USERSPACE_ATTR_USERDATA => "OVS_USERSPACE_ATTR_USERDATA",
        OVS_USERSPACE_ATTR_EGRESS_TUN_PORT => "OVS_USERSPACE_ATTR_EGRESS_TUN_PORT",
        OVS_USERSPACE_ATTR_ACTIONS => "OVS_USERSPACE_ATTR_ACTIONS",
        _ => "OVS_USERSPACE_ATTR_?",
    }
}

/// A NUL-terminated string payload of at most `max` bytes (NUL included).
pub(crate) fn string_payload<'a>(
    s: &Attr<'a>,
    nm: &'static str,
    max: usize,
) -> Result<&'a str, NetlinkError> {
    let p = s.payload;
    let end = p.iter().position(|&b| b == 0).ok_or(NetlinkError::invalid(
        nm,
        s.offset,
        "string without NUL",
    ))?;
    if end == 0 || end + 1 > max {
        return Err(NetlinkError::invalid(
            nm,
            s.offset,
            "string length out of range",
        ));
    }
    core::str::from_utf8(&p[..end])
        .map_err(|_| NetlinkError::invalid(nm, s.offset, "string is not UTF-8"))
}

/// Appends `actions` as `OVS_ACTION_ATTR_*` attributes.  Port names go
/// through `ports`.  The empty list encodes as nothing (OVS's `drop`).
pub fn encode_actions(
    actions: &[Action],
    ports: &mut dyn PortMap,
    out: &mut Vec<u8>,
) -> Result<(), NetlinkError> {
    encode_list(actions, ports, out, 0)
}

pub(crate) fn encode_list(
    actions: &[Action],
    ports: &mut dyn PortMap,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), NetlinkError> {
    if depth >= MAX_ACTION_DEPTH {
        return Err(NetlinkError::new(
            "OVS_FLOW_ATTR_ACTIONS",
            0,
            ErrorKind::TooDeep,
        ));
    }
    for a in actions {
        encode_action(a, ports, out, depth)?;
    }
    Ok(())
}

pub(crate) fn nested_list(
    ty: u16,
    list: &[Action],
    ports: &mut dyn PortMap,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), NetlinkError> {
    let at = attr::start_nested(out, ty);
    encode_list(list, ports, out, depth + 1)?;
    attr::end_nested(out, at);
    Ok(())
}

pub(crate) fn encode_action(
    a: &Action,
    ports: &mut dyn PortMap,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), NetlinkError> {
    match a {
        Action::Output(p) => {
            let n = port_number(p, ports, "OVS_ACTION_ATTR_OUTPUT")?;
            attr::put_u32(out, OVS_ACTION_ATTR_OUTPUT, n);
        }
        Action::Drop => attr::put_u32(out, OVS_ACTION_ATTR_DROP, 0),
        Action::LbOutput(b) => attr::put_u32(out, OVS_ACTION_ATTR_LB_OUTPUT, *b),
        Action::Trunc(n) => attr::put_u32(out, OVS_ACTION_ATTR_TRUNC, *n),
        Action::Meter(n) => attr::put_u32(out, OVS_ACTION_ATTR_METER, *n),
        Action::Recirc(n) => attr::put_u32(out, OVS_ACTION_ATTR_RECIRC, *n),
        Action::TnlPop(p) => {
            let n = port_number(p, ports, "OVS_ACTION_ATTR_TUNNEL_POP")?;
            attr::put_u32(out, OVS_ACTION_ATTR_TUNNEL_POP, n);
        }
        Action::Hash { alg, basis } => {
            let mut b = [0u8; 8];
            b[..4].copy_from_slice(&alg.to_ne_bytes());
            b[4..].copy_from_slice(&basis.to_ne_bytes());
            attr::put(out, OVS_ACTION_ATTR_HASH, &b);
        }
        Action::Ct(ct) => encode_ct(ct, out),
        Action::CtClear => attr::put_flag(out, OVS_ACTION_ATTR_CT_CLEAR),
        Action::PushVlan { tpid, tci } => {
            let mut b = [0u8; 4];
            b[..2].copy_from_slice(&tpid.to_be_bytes());
            b[2..].copy_from_slice(&tci.to_be_bytes());
            attr::put(out, OVS_ACTION_ATTR_PUSH_VLAN, &b);
        }
        Action::PopVlan => attr::put_flag(out, OVS_ACTION_ATTR_POP_VLAN),
        Action::PushMpls { lse, eth_type } | Action::AddMpls { lse, eth_type } => {
            let ty = if matches!(a, Action::PushMpls { .. }) {
                OVS_ACTION_ATTR_PUSH_MPLS
            } else {
                OVS_ACTION_ATTR_ADD_MPLS
            };
            let mut b = [0u8; 8];
            b[..4].copy_from_slice(&lse.to_be_bytes());
            b[4..6].copy_from_slice(&eth_type.to_be_bytes());
            attr::put(out, ty, &b);
        }
        Action::PopMpls { eth_type } => attr::put_be16(out, OVS_ACTION_ATTR_POP_MPLS, *eth_type),
        Action::PushEth { src, dst } => {
            let mut b = [0u8; 12];
            b[..6].copy_from_slice(src);
            b[6..].copy_from_slice(dst);
            attr::put(out, OVS_ACTION_ATTR_PUSH_ETH, &b);
        }
        Action::PopEth => attr::put_flag(out, OVS_ACTION_ATTR_POP_ETH),
        Action::PopNsh => attr::put_flag(out, OVS_ACTION_ATTR_POP_NSH),
        Action::PushNsh(n) => {
            let at = attr::start_nested(out, OVS_ACTION_ATTR_PUSH_NSH);
            let k = attr::start_nested(out, OVS_KEY_ATTR_NSH);
            let mut base = [n.flags, n.ttl, n.mdtype, n.np, 0, 0, 0, 0];
            base[4..].copy_from_slice(&((n.spi << 8) | u32::from(n.si)).to_be_bytes());
            attr::put(out, OVS_NSH_KEY_ATTR_BASE, &base);
            match n.mdtype {
                1 => {
                    let mut md1 = [0u8; 16];
                    for (i, c) in n.context.iter().enumerate() {
                        md1[4 * i..4 * i + 4].copy_from_slice(&c.to_be_bytes());
                    }
                    attr::put(out, OVS_NSH_KEY_ATTR_MD1, &md1);
                }
                2 if !n.md2.is_empty() => attr::put(out, OVS_NSH_KEY_ATTR_MD2, &n.md2),
                _ => {}
            }
            attr::end_nested(out, k);
            attr::end_nested(out, at);
        }
        Action::TnlPush(t) => tnl::encode(t, ports, out)?,
        Action::Clone(list) => nested_list(OVS_ACTION_ATTR_CLONE, list, ports, out, depth)?,
        Action::DecTtl(list) => {
            let at = attr::start_nested(out, OVS_ACTION_ATTR_DEC_TTL);
            nested_list(OVS_DEC_TTL_ATTR_ACTION, list, ports, out, depth)?;
            attr::end_nested(out, at);
        }
        Action::Sample(s) => {
            let at = attr::start_nested(out, OVS_ACTION_ATTR_SAMPLE);
            attr::put_u32(out, OVS_SAMPLE_ATTR_PROBABILITY, s.probability);
            nested_list(OVS_SAMPLE_ATTR_ACTIONS, &s.actions, ports, out, depth)?;
            attr::end_nested(out, at);
        }
        Action::CheckPktLen(c) => {
            let at = attr::start_nested(out, OVS_ACTION_ATTR_CHECK_PKT_LEN);
            attr::put_u16(out, OVS_CHECK_PKT_LEN_ATTR_PKT_LEN, c.pkt_len);
            nested_list(
                OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER,
                &c.gt,
                ports,
                out,
                depth,
            )?;
            nested_list(
                OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL,
                &c.le,
                ports,
                out,
                depth,
            )?;
            attr::end_nested(out, at);
        }
        Action::Userspace(u) => {
            let at = attr::start_nested(out, OVS_ACTION_ATTR_USERSPACE);
            attr::put_u32(out, OVS_USERSPACE_ATTR_PID, u.pid);
            match &u.cookie {
                None => {}
                Some(UserCookie::Userdata(d)) => {
                    // odp_put_userspace_action(): at least 8 bytes, zero-padded.
                    let d2 = attr::start_unspec(out, OVS_USERSPACE_ATTR_USERDATA);
                    out.extend_from_slice(d);
                    for _ in d.len()..8 {
                        out.push(0);
                    }
                    attr::end_unspec(out, d2);
                }
                Some(c) => match encode_cookie(c, ports)? {
                    Some(bytes) => attr::put(out, OVS_USERSPACE_ATTR_USERDATA, &bytes),
                    None => {
                        return Err(NetlinkError::new(
                            "OVS_USERSPACE_ATTR_USERDATA",
                            0,
                            ErrorKind::Unsupported("this userspace cookie"),
                        ))
                    }
                },
            }
            if let Some(p) = &u.tunnel_out_port {
                let n = port_number(p, ports, "OVS_USERSPACE_ATTR_EGRESS_TUN_PORT")?;
                attr::put_u32(out, OVS_USERSPACE_ATTR_EGRESS_TUN_PORT, n);
            }
            if u.actions {
                attr::put_flag(out, OVS_USERSPACE_ATTR_ACTIONS);
            }
            attr::end_nested(out, at);
        }
        Action::Psample(p) => {
            let at = attr::start_nested(out, OVS_ACTION_ATTR_PSAMPLE);
            attr::put_u32(out, OVS_PSAMPLE_ATTR_GROUP, p.group);
            if !p.cookie.is_empty() {
                attr::put(out, OVS_PSAMPLE_ATTR_COOKIE, &p.cookie);
            }
            attr::end_nested(out, at);
        }
        Action::Set(s) => encode_set(s, ports, out)?,
        #[allow(unreachable_patterns)]
        _ => {
            return Err(NetlinkError::new(
                "OVS_FLOW_ATTR_ACTIONS",
                0,
                ErrorKind::Unsupported("this action"),
            ))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::consts::*;
    use crate::netlink::NoPortNames;

    fn enc(list: &[Action]) -> Vec<u8> {
        let mut v = Vec::new();
        encode_actions(list, &mut NoPortNames, &mut v).unwrap();
        v
    }

    #[test]
    fn ct_zone_nat_then_recirc_bytes() {
        // ct(zone=4,nat),recirc(0x2): CT{ZONE u16 4 (+2 pad), NAT{}} then
        // RECIRC u32 2.  Layout from enum ovs_ct_attr / nl_msg_put_nat().
        let ct = CtAction {
            zone: 4,
            nat: Some(Nat::default()),
            ..CtAction::default()
        };
        let v = enc(&[Action::Ct(ct), Action::Recirc(2)]);
        let mut want = Vec::new();
        want.extend_from_slice(&16u16.to_ne_bytes());
        want.extend_from_slice(&OVS_ACTION_ATTR_CT.to_ne_bytes());
        want.extend_from_slice(&6u16.to_ne_bytes());
        want.extend_from_slice(&OVS_CT_ATTR_ZONE.to_ne_bytes());
        want.extend_from_slice(&4u16.to_ne_bytes());
        want.extend_from_slice(&[0, 0]);
        want.extend_from_slice(&4u16.to_ne_bytes());
        want.extend_from_slice(&OVS_CT_ATTR_NAT.to_ne_bytes());
        want.extend_from_slice(&8u16.to_ne_bytes());
        want.extend_from_slice(&OVS_ACTION_ATTR_RECIRC.to_ne_bytes());
        want.extend_from_slice(&2u32.to_ne_bytes());
        assert_eq!(v, want);
        let d = decode_actions(&v).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d[1], Action::Recirc(2));
        assert!(matches!(&d[0], Action::Ct(c) if c.zone == 4 && c.nat == Some(Nat::default())));
    }

    #[test]
    fn ct_commit_mark_dnat_round_trips() {
        let nat = Nat {
            kind: NatKind::Dst,
            addrs: NatAddrs::V4 {
                min: 0x0a10_0012,
                max: 0,
            },
            proto_min: 80,
            ..Nat::default()
        };
        let ct = CtAction {
            commit: true,
            zone: 4,
            mark: Some((1, !0)),
            nat: Some(nat),
            ..CtAction::default()
        };
        let list = [Action::Ct(ct), Action::Output(OdpPort::Number(2))];
        let v = enc(&list);
        assert_eq!(decode_actions(&v).unwrap().as_slice(), &list);
    }

    #[test]
    fn nested_lists_round_trip() {
        let inner: Actions = [Action::Output(OdpPort::Number(3))].into_iter().collect();
        let list = [
            Action::Clone(Box::new(inner.clone())),
            Action::Sample(Box::new(Sample {
                probability: u32::MAX / 2,
                actions: inner.clone(),
            })),
            Action::CheckPktLen(Box::new(CheckPktLen {
                pkt_len: 1500,
                gt: inner.clone(),
                le: Actions::new(),
            })),
            Action::DecTtl(Box::new(inner)),
            Action::Psample(Box::new(Psample {
                group: 7,
                cookie: smallvec::SmallVec::from_slice(&[1, 2, 3]),
            })),
        ];
        let v = enc(&list);
        assert_eq!(decode_actions(&v).unwrap().as_slice(), &list);
    }

    #[test]
    fn masked_set_is_value_then_mask() {
        let key = crate::PortsKey { src: 0, dst: 8080 };
        let mask = crate::PortsKey {
            src: 0,
            dst: 0xffff,
        };
        let s = Action::Set(SetAction {
            masked: true,
            field: SetField::Tcp { key, mask },
        });
        let v = enc(std::slice::from_ref(&s));
        // SET_MASKED{ TCP{ be16 0, be16 8080, be16 0, be16 0xffff } }.
        assert_eq!(v.len(), 4 + 4 + 8);
        assert_eq!(&v[8..], &[0, 0, 0x1f, 0x90, 0, 0, 0xff, 0xff]);
        assert_eq!(decode_actions(&v).unwrap()[0], s);
    }

    #[test]
    fn userspace_cookies() {
        let u = Userspace {
            pid: 9,
            cookie: Some(UserCookie::Ipfix {
                output_port: OdpPort::Number(4),
            }),
            actions: true,
            tunnel_out_port: Some(OdpPort::Number(5)),
        };
        let list = [Action::Userspace(Box::new(u))];
        assert_eq!(decode_actions(&enc(&list)).unwrap().as_slice(), &list);
        // Raw userdata is zero-padded to 8 bytes, as OVS does.
        let u = Userspace {
            pid: 1,
            cookie: Some(UserCookie::Userdata(vec![1, 2])),
            actions: false,
            tunnel_out_port: None,
        };
        let d = decode_actions(&enc(&[Action::Userspace(Box::new(u))])).unwrap();
        let Action::Userspace(u) = &d[0] else {
            panic!("not userspace")
        };
        assert_eq!(
            u.cookie,
            Some(UserCookie::Userdata(vec![1, 2, 0, 0, 0, 0, 0, 0]))
        );
    }

    #[test]
    fn decode_checks_the_lengths_of_action_len() {
        // The decoder's arms have their own lengths: they must be
        // `odp_action_len()`'s, and unknown types must stay unknown.
        for ty in 0..64u16 {
            let buf = |len: usize| {
                let mut v = Vec::new();
                attr::put(&mut v, ty, &[0u8; 16][..len]);
                v
            };
            match action_len(ty) {
                Err(()) => {
                    let e = decode_actions(&buf(4)).unwrap_err();
                    assert_eq!(e.kind, ErrorKind::UnknownAttr { ty }, "{ty}");
                }
                Ok(Some(n)) => {
                    assert!(decode_actions(&buf(n)).is_ok(), "{ty}");
                    let e = decode_actions(&buf(n + 1)).unwrap_err();
                    assert_eq!(
                        e,
                        NetlinkError::bad_len(action_attr_name(ty), 0, n + 1, n),
                        "{ty}"
                    );
                }
                Ok(None) => {}
            }
        }
    }

    #[test]
    fn errors_are_typed() {
        let mut v = Vec::new();
        attr::put_u16(&mut v, OVS_ACTION_ATTR_OUTPUT, 1);
        assert_eq!(
            decode_actions(&v).unwrap_err().to_string(),
            "OVS_ACTION_ATTR_OUTPUT at byte 0: payload of 2 bytes, expected 4"
        );
        let mut v = Vec::new();
        attr::put_u32(&mut v, 200, 1);
        assert_eq!(
            decode_actions(&v).unwrap_err().kind,
            ErrorKind::UnknownAttr { ty: 200 }
        );
        // 40 clones deep.
        let mut v = Vec::new();
        let mut stack = Vec::new();
        for _ in 0..40 {
            stack.push(attr::start_nested(&mut v, OVS_ACTION_ATTR_CLONE));
        }
        while let Some(at) = stack.pop() {
            attr::end_nested(&mut v, at);
        }
        assert_eq!(decode_actions(&v).unwrap_err().kind, ErrorKind::TooDeep);
    }
}
