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
use super::attr::{self, arr, be16, be32, ne16, ne32, Attr, AttrIter};
use super::consts::{
    action_attr_name, ct_attr_name, key_attr_name, nat_attr_name, OVS_ACTION_ATTR_ADD_MPLS,
    OVS_ACTION_ATTR_CHECK_PKT_LEN, OVS_ACTION_ATTR_CLONE, OVS_ACTION_ATTR_CT,
    OVS_ACTION_ATTR_CT_CLEAR, OVS_ACTION_ATTR_DEC_TTL, OVS_ACTION_ATTR_DROP, OVS_ACTION_ATTR_HASH,
    OVS_ACTION_ATTR_LB_OUTPUT, OVS_ACTION_ATTR_METER, OVS_ACTION_ATTR_OUTPUT,
    OVS_ACTION_ATTR_POP_ETH, OVS_ACTION_ATTR_POP_MPLS, OVS_ACTION_ATTR_POP_NSH,
    OVS_ACTION_ATTR_POP_VLAN, OVS_ACTION_ATTR_PSAMPLE, OVS_ACTION_ATTR_PUSH_ETH,
    OVS_ACTION_ATTR_PUSH_MPLS, OVS_ACTION_ATTR_PUSH_NSH, OVS_ACTION_ATTR_PUSH_VLAN,
    OVS_ACTION_ATTR_RECIRC, OVS_ACTION_ATTR_SAMPLE, OVS_ACTION_ATTR_SET,
    OVS_ACTION_ATTR_SET_MASKED, OVS_ACTION_ATTR_TRUNC, OVS_ACTION_ATTR_TUNNEL_POP,
    OVS_ACTION_ATTR_TUNNEL_PUSH, OVS_ACTION_ATTR_USERSPACE,
    OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER, OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL,
    OVS_CHECK_PKT_LEN_ATTR_PKT_LEN, OVS_CT_ATTR_COMMIT, OVS_CT_ATTR_FORCE_COMMIT,
    OVS_CT_ATTR_HELPER, OVS_CT_ATTR_LABELS, OVS_CT_ATTR_MARK, OVS_CT_ATTR_NAT, OVS_CT_ATTR_TIMEOUT,
    OVS_CT_ATTR_ZONE, OVS_DEC_TTL_ATTR_ACTION, OVS_KEY_ATTR_NSH, OVS_NAT_ATTR_DST,
    OVS_NAT_ATTR_IP_MAX, OVS_NAT_ATTR_IP_MIN, OVS_NAT_ATTR_PERSISTENT, OVS_NAT_ATTR_PROTO_HASH,
    OVS_NAT_ATTR_PROTO_MAX, OVS_NAT_ATTR_PROTO_MIN, OVS_NAT_ATTR_PROTO_RANDOM, OVS_NAT_ATTR_SRC,
    OVS_NSH_KEY_ATTR_BASE, OVS_NSH_KEY_ATTR_MD1, OVS_NSH_KEY_ATTR_MD2, OVS_PSAMPLE_ATTR_COOKIE,
    OVS_PSAMPLE_ATTR_GROUP, OVS_PSAMPLE_COOKIE_MAX_SIZE, OVS_SAMPLE_ATTR_ACTIONS,
    OVS_SAMPLE_ATTR_PROBABILITY, OVS_USERSPACE_ATTR_ACTIONS, OVS_USERSPACE_ATTR_EGRESS_TUN_PORT,
    OVS_USERSPACE_ATTR_PID, OVS_USERSPACE_ATTR_USERDATA, SLOW_PATH_REASON_NAMES,
    USER_ACTION_COOKIE_CONTROLLER, USER_ACTION_COOKIE_FLOW_SAMPLE, USER_ACTION_COOKIE_IPFIX,
    USER_ACTION_COOKIE_LEN, USER_ACTION_COOKIE_SFLOW, USER_ACTION_COOKIE_SLOW_PATH,
};
use super::key::{
    decode_fixed, decode_tunnel, fixed_len, key_attr, put_key_attr, put_nsh_subattrs, put_payload,
};
use super::{port_number, ErrorKind, NetlinkError, PortMap, MAX_ACTION_DEPTH};
use crate::{
    Action, Actions, CheckPktLen, CtAction, FlowKey, KeyAttr, Nat, NatAddrs, NatKind, OdpPort,
    PortName, Psample, PushNsh, Sample, SetAction, SetField, UserCookie, Userspace,
};

mod tnl;

pub use tnl::tnl_push_header;

/// `odp_action_len()`: `Some(n)` for fixed-size actions, `None` for
/// variable or nested ones; `Err` for unknown types.  The decoder checks
/// each length in its own `match` arm ([`fixed`]); a test holds the two
/// together.
#[cfg(test)]
fn action_len(ty: u16) -> Result<Option<usize>, ()> {
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

// ---------------------------------------------------------------------------
// Decoding

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

fn decode_nested_list(a: &Attr<'_>, depth: usize) -> Result<Actions, NetlinkError> {
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

fn decode_list(
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
fn decode_action_into(a: &Attr<'_>, depth: usize, out: &mut Actions) -> Result<(), NetlinkError> {
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
fn fixed<'a, const N: usize>(a: &Attr<'a>) -> Result<&'a [u8; N], NetlinkError> {
    match a.payload.first_chunk::<N>() {
        Some(p) if a.payload.len() == N => Ok(p),
        _ => Err(bad_len(a, N)),
    }
}

#[cold]
#[inline(never)]
fn bad_len(a: &Attr<'_>, expected: usize) -> NetlinkError {
    NetlinkError::bad_len(action_attr_name(a.ty), a.offset, a.payload.len(), expected)
}

/// The variable-size and nested actions, and unknown types.
#[inline(never)]
fn decode_variable_into(a: &Attr<'_>, depth: usize, out: &mut Actions) -> Result<(), NetlinkError> {
    out.push(decode_variable(a, depth)?);
    Ok(())
}

fn decode_variable(a: &Attr<'_>, depth: usize) -> Result<Action, NetlinkError> {
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

fn u32_attr(s: &Attr<'_>, nm: &'static str) -> Result<u32, NetlinkError> {
    if s.payload.len() != 4 {
        return Err(NetlinkError::bad_len(nm, s.offset, s.payload.len(), 4));
    }
    Ok(ne32(s.payload, 0))
}

fn dec_ttl_attr_name(t: u16) -> &'static str {
    if t == OVS_DEC_TTL_ATTR_ACTION {
        "OVS_DEC_TTL_ATTR_ACTION"
    } else {
        "OVS_DEC_TTL_ATTR_?"
    }
}
fn sample_attr_name(t: u16) -> &'static str {
    match t {
        OVS_SAMPLE_ATTR_PROBABILITY => "OVS_SAMPLE_ATTR_PROBABILITY",
        OVS_SAMPLE_ATTR_ACTIONS => "OVS_SAMPLE_ATTR_ACTIONS",
        _ => "OVS_SAMPLE_ATTR_?",
    }
}
fn cpl_attr_name(t: u16) -> &'static str {
    match t {
        OVS_CHECK_PKT_LEN_ATTR_PKT_LEN => "OVS_CHECK_PKT_LEN_ATTR_PKT_LEN",
        OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER => "OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER",
        OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL => {
            "OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL"
        }
        _ => "OVS_CHECK_PKT_LEN_ATTR_?",
    }
}
fn psample_attr_name(t: u16) -> &'static str {
    match t {
        OVS_PSAMPLE_ATTR_GROUP => "OVS_PSAMPLE_ATTR_GROUP",
        OVS_PSAMPLE_ATTR_COOKIE => "OVS_PSAMPLE_ATTR_COOKIE",
        _ => "OVS_PSAMPLE_ATTR_?",
    }
}
fn userspace_attr_name(t: u16) -> &'static str {
    match t {
        OVS_USERSPACE_ATTR_PID => "OVS_USERSPACE_ATTR_PID",
        OVS_USERSPACE_ATTR_USERDATA => "OVS_USERSPACE_ATTR_USERDATA",
        OVS_USERSPACE_ATTR_EGRESS_TUN_PORT => "OVS_USERSPACE_ATTR_EGRESS_TUN_PORT",
        OVS_USERSPACE_ATTR_ACTIONS => "OVS_USERSPACE_ATTR_ACTIONS",
        _ => "OVS_USERSPACE_ATTR_?",
    }
}

/// A NUL-terminated string payload of at most `max` bytes (NUL included).
fn string_payload<'a>(s: &Attr<'a>, nm: &'static str, max: usize) -> Result<&'a str, NetlinkError> {
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

/// Decodes `OVS_ACTION_ATTR_CT` into `ct` (a default one: fields the
/// attribute does not give are left as they are).
fn decode_ct_into(a: &Attr<'_>, ct: &mut CtAction) -> Result<(), NetlinkError> {
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
fn decode_nat_into(a: &Attr<'_>, nat: &mut Nat) -> Result<(), NetlinkError> {
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

/// `struct user_action_cookie` (OVS `lib/odp-util.h`, 48 bytes): u16 type,
/// u16 ofp_in_port, 16-byte ofproto UUID, then the union at offset 20.
fn decode_cookie(p: &[u8]) -> Option<UserCookie> {
    if p.len() != USER_ACTION_COOKIE_LEN {
        return None;
    }
    let u = 20;
    Some(match ne16(p, 0) {
        USER_ACTION_COOKIE_SFLOW => {
            let tci = be16(p, u);
            UserCookie::Sflow {
                vid: tci & 0x0fff,
                pcp: (tci >> 13) as u8,
                output: ne32(p, u + 4),
            }
        }
        USER_ACTION_COOKIE_SLOW_PATH => {
            let reason = ne32(p, u + 4);
            let mut s = String::new();
            for (i, n) in SLOW_PATH_REASON_NAMES.iter().enumerate() {
                if reason & (1 << i) != 0 {
                    if !s.is_empty() {
                        s.push(',');
                    }
                    s.push_str(n);
                }
            }
            if reason >> SLOW_PATH_REASON_NAMES.len() != 0 {
                return None;
            }
            UserCookie::SlowPath(s)
        }
        USER_ACTION_COOKIE_FLOW_SAMPLE => UserCookie::FlowSample {
            probability: ne16(p, u),
            collector_set_id: ne32(p, u + 4),
            obs_domain_id: ne32(p, u + 8),
            obs_point_id: ne32(p, u + 12),
            output_port: OdpPort::Number(ne32(p, u + 16)),
            // enum nx_action_sample_direction: 0 default, 1 ingress, 2 egress.
            ingress: match ne32(p, u + 20) {
                1 => Some(true),
                2 => Some(false),
                _ => None,
            },
        },
        USER_ACTION_COOKIE_IPFIX => UserCookie::Ipfix {
            output_port: OdpPort::Number(ne32(p, u)),
        },
        USER_ACTION_COOKIE_CONTROLLER => UserCookie::Controller {
            dont_send: p[u] != 0,
            continuation: p[u + 1] != 0,
            reason: ne16(p, u + 2),
            recirc_id: ne32(p, u + 4),
            // ovs_32aligned_be64: two be32 halves, high first.
            rule_cookie: (u64::from(be32(p, u + 8)) << 32) | u64::from(be32(p, u + 12)),
            controller_id: ne16(p, u + 16),
            max_len: ne16(p, u + 18),
        },
        _ => return None,
    })
}

fn encode_cookie(
    c: &UserCookie,
    ports: &mut dyn PortMap,
) -> Result<Option<[u8; USER_ACTION_COOKIE_LEN]>, NetlinkError> {
    let mut p = [0u8; USER_ACTION_COOKIE_LEN];
    // OVS's text parser leaves ofp_in_port = OFPP_NONE (0xffff) and a zero UUID.
    p[2..4].copy_from_slice(&0xffffu16.to_ne_bytes());
    let u = 20;
    let put16 =
        |p: &mut [u8; 48], at: usize, v: u16| p[at..at + 2].copy_from_slice(&v.to_ne_bytes());
    let put32 =
        |p: &mut [u8; 48], at: usize, v: u32| p[at..at + 4].copy_from_slice(&v.to_ne_bytes());
    const NM: &str = "OVS_USERSPACE_ATTR_USERDATA";
    match c {
        UserCookie::Sflow { vid, pcp, output } => {
            put16(&mut p, 0, USER_ACTION_COOKIE_SFLOW);
            let tci = (u16::from(*pcp) << 13)
                | (vid & 0x0fff)
                | if *vid != 0 || *pcp != 0 { 0x1000 } else { 0 };
            p[u..u + 2].copy_from_slice(&tci.to_be_bytes());
            put32(&mut p, u + 4, *output);
        }
        UserCookie::SlowPath(reasons) => {
            put16(&mut p, 0, USER_ACTION_COOKIE_SLOW_PATH);
            let mut bits = 0u32;
            for r in reasons.split(',').filter(|r| !r.is_empty()) {
                let i = SLOW_PATH_REASON_NAMES.iter().position(|n| *n == r).ok_or(
                    NetlinkError::new(NM, 0, ErrorKind::Unsupported("an unknown slow_path reason")),
                )?;
                bits |= 1 << i;
            }
            put32(&mut p, u + 4, bits);
        }
        UserCookie::FlowSample {
            probability,
            collector_set_id,
            obs_domain_id,
            obs_point_id,
            output_port,
            ingress,
        } => {
            put16(&mut p, 0, USER_ACTION_COOKIE_FLOW_SAMPLE);
            put16(&mut p, u, *probability);
            put32(&mut p, u + 4, *collector_set_id);
            put32(&mut p, u + 8, *obs_domain_id);
            put32(&mut p, u + 12, *obs_point_id);
            put32(&mut p, u + 16, port_number(output_port, ports, NM)?);
            put32(
                &mut p,
                u + 20,
                match ingress {
                    None => 0,
                    Some(true) => 1,
                    Some(false) => 2,
                },
            );
        }
        UserCookie::Ipfix { output_port } => {
            put16(&mut p, 0, USER_ACTION_COOKIE_IPFIX);
            put32(&mut p, u, port_number(output_port, ports, NM)?);
        }
        UserCookie::Controller {
            reason,
            dont_send,
            continuation,
            recirc_id,
            rule_cookie,
            controller_id,
            max_len,
        } => {
            put16(&mut p, 0, USER_ACTION_COOKIE_CONTROLLER);
            p[u] = u8::from(*dont_send);
            p[u + 1] = u8::from(*continuation);
            put16(&mut p, u + 2, *reason);
            put32(&mut p, u + 4, *recirc_id);
            p[u + 8..u + 12].copy_from_slice(&((rule_cookie >> 32) as u32).to_be_bytes());
            p[u + 12..u + 16].copy_from_slice(&(*rule_cookie as u32).to_be_bytes());
            put16(&mut p, u + 16, *controller_id);
            put16(&mut p, u + 18, *max_len);
        }
        _ => return Ok(None),
    }
    Ok(Some(p))
}

fn decode_userspace(a: &Attr<'_>) -> Result<Userspace, NetlinkError> {
    let mut u = Userspace {
        pid: 0,
        cookie: None,
        actions: false,
        tunnel_out_port: None,
    };
    let mut have_pid = false;
    for s in a.nested(userspace_attr_name) {
        let s = s?;
        match s.ty {
            OVS_USERSPACE_ATTR_PID => {
                u.pid = u32_attr(&s, "OVS_USERSPACE_ATTR_PID")?;
                have_pid = true;
            }
            OVS_USERSPACE_ATTR_USERDATA => {
                u.cookie = Some(
                    decode_cookie(s.payload)
                        .unwrap_or_else(|| UserCookie::Userdata(s.payload.to_vec())),
                );
            }
            OVS_USERSPACE_ATTR_EGRESS_TUN_PORT => {
                u.tunnel_out_port = Some(OdpPort::Number(u32_attr(
                    &s,
                    "OVS_USERSPACE_ATTR_EGRESS_TUN_PORT",
                )?));
            }
            OVS_USERSPACE_ATTR_ACTIONS => u.actions = true,
            t => {
                return Err(NetlinkError::new(
                    userspace_attr_name(t),
                    s.offset,
                    ErrorKind::UnknownAttr { ty: t },
                ))
            }
        }
    }
    if !have_pid {
        return Err(NetlinkError::invalid(
            "OVS_ACTION_ATTR_USERSPACE",
            a.offset,
            "missing OVS_USERSPACE_ATTR_PID",
        ));
    }
    Ok(u)
}

fn decode_push_nsh(a: &Attr<'_>) -> Result<PushNsh, NetlinkError> {
    let mut n = PushNsh {
        ttl: 63,
        ..PushNsh::default()
    };
    let mut inner = None;
    for s in a.nested(key_attr_name) {
        let s = s?;
        if s.ty != OVS_KEY_ATTR_NSH || inner.is_some() {
            return Err(NetlinkError::invalid(
                key_attr_name(s.ty),
                s.offset,
                "push_nsh holds exactly one OVS_KEY_ATTR_NSH",
            ));
        }
        inner = Some(s);
    }
    let Some(inner) = inner else {
        return Err(NetlinkError::invalid(
            "OVS_ACTION_ATTR_PUSH_NSH",
            a.offset,
            "push_nsh holds exactly one OVS_KEY_ATTR_NSH",
        ));
    };
    for s in inner.nested(|t| match t {
        OVS_NSH_KEY_ATTR_BASE => "OVS_NSH_KEY_ATTR_BASE",
        OVS_NSH_KEY_ATTR_MD1 => "OVS_NSH_KEY_ATTR_MD1",
        OVS_NSH_KEY_ATTR_MD2 => "OVS_NSH_KEY_ATTR_MD2",
        _ => "OVS_NSH_KEY_ATTR_?",
    }) {
        let s = s?;
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
                (n.flags, n.ttl, n.mdtype, n.np) = (p[0], p[1], p[2], p[3]);
                let path = be32(p, 4);
                (n.spi, n.si) = (path >> 8, path as u8);
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
                    n.context[i] = be32(p, 4 * i);
                }
            }
            OVS_NSH_KEY_ATTR_MD2 => n.md2 = p.to_vec(),
            t => {
                return Err(NetlinkError::new(
                    "OVS_NSH_KEY_ATTR_?",
                    s.offset,
                    ErrorKind::UnknownAttr { ty: t },
                ))
            }
        }
    }
    Ok(n)
}

fn decode_set(a: &Attr<'_>, masked: bool) -> Result<SetAction, NetlinkError> {
    let nm = action_attr_name(a.ty);
    let mut it = a.nested(key_attr_name);
    let Some(inner) = it.next() else {
        return Err(NetlinkError::invalid(
            nm,
            a.offset,
            "set without a key attribute",
        ));
    };
    let inner = inner?;
    if let Some(extra) = it.next() {
        let off = extra.map_or_else(|e| e.offset, |x| x.offset);
        return Err(NetlinkError::invalid(
            nm,
            off,
            "set with more than one key attribute",
        ));
    }
    let Some(attr) = key_attr(inner.ty) else {
        return Err(NetlinkError::new(
            key_attr_name(inner.ty),
            inner.offset,
            ErrorKind::UnknownAttr { ty: inner.ty },
        ));
    };
    let kn = key_attr_name(inner.ty);
    let mut key = FlowKey::default();
    let mut mask = FlowKey::default();
    match attr {
        KeyAttr::Tunnel if !masked => decode_tunnel(&inner, false, &mut key.tunnel)?,
        KeyAttr::Nsh if masked => decode_set_nsh(&inner, &mut key, &mut mask)?,
        KeyAttr::Encap | KeyAttr::Tunnel | KeyAttr::Nsh => {
            return Err(NetlinkError::invalid(
                kn,
                inner.offset,
                "attribute cannot be set this way",
            ));
        }
        _ if masked => {
            let p = inner.payload;
            if let Some(n) = fixed_len(attr) {
                if p.len() != 2 * n {
                    return Err(NetlinkError::bad_len(kn, inner.offset, p.len(), 2 * n));
                }
            } else if p.len() % 8 != 0 {
                return Err(NetlinkError::invalid(
                    kn,
                    inner.offset,
                    "MPLS value and mask differ in length",
                ));
            }
            let half = p.len() / 2;
            decode_fixed(attr, &p[..half], inner.offset, &mut key)?;
            decode_fixed(attr, &p[half..], inner.offset, &mut mask)?;
        }
        _ => decode_fixed(attr, inner.payload, inner.offset, &mut key)?,
    }
    key.present.insert(attr);
    mask.present.insert(attr);
    if !masked {
        mask = super::key::exact_mask(&key);
    }
    Ok(SetAction {
        masked,
        field: SetField::new(attr, key, mask),
    })
}

fn decode_set_nsh(a: &Attr<'_>, key: &mut FlowKey, mask: &mut FlowKey) -> Result<(), NetlinkError> {
    for s in a.nested(|_| "OVS_NSH_KEY_ATTR") {
        let s = s?;
        let p = s.payload;
        let (n, nm) = match s.ty {
            OVS_NSH_KEY_ATTR_BASE => (8, "OVS_NSH_KEY_ATTR_BASE"),
            OVS_NSH_KEY_ATTR_MD1 => (16, "OVS_NSH_KEY_ATTR_MD1"),
            t => {
                return Err(NetlinkError::new(
                    "OVS_NSH_KEY_ATTR_?",
                    s.offset,
                    ErrorKind::UnknownAttr { ty: t },
                ))
            }
        };
        if p.len() != 2 * n {
            return Err(NetlinkError::bad_len(nm, s.offset, p.len(), 2 * n));
        }
        for (half, out) in [(&p[..n], &mut *key), (&p[n..], &mut *mask)] {
            if n == 8 {
                let h = &mut out.nsh;
                (h.flags, h.ttl, h.mdtype, h.np) = (half[0], half[1], half[2], half[3]);
                let path = be32(half, 4);
                (h.spi, h.si) = (path >> 8, path as u8);
            } else {
                for i in 0..4 {
                    out.nsh.context[i] = be32(half, 4 * i);
                }
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Encoding

/// Appends `actions` as `OVS_ACTION_ATTR_*` attributes.  Port names go
/// through `ports`.  The empty list encodes as nothing (OVS's `drop`).
pub fn encode_actions(
    actions: &[Action],
    ports: &mut dyn PortMap,
    out: &mut Vec<u8>,
) -> Result<(), NetlinkError> {
    encode_list(actions, ports, out, 0)
}

fn encode_list(
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

fn nested_list(
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

fn encode_action(
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

/// `ct` in the order OVS's `parse_conntrack_action()` writes it.
fn encode_ct(ct: &CtAction, out: &mut Vec<u8>) {
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
fn encode_nat(nat: &Nat, out: &mut Vec<u8>) {
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

fn encode_set(
    s: &SetAction,
    ports: &mut dyn PortMap,
    out: &mut Vec<u8>,
) -> Result<(), NetlinkError> {
    // Common inline forms first: no FlowKey construction needed.
    let (attr, k, m) = s.field.to_key_mask();
    if !s.masked {
        let at = attr::start_nested(out, OVS_ACTION_ATTR_SET);
        put_key_attr(attr, &k, false, ports, out, 0)?;
        attr::end_nested(out, at);
        return Ok(());
    }
    let kn = key_attr_name(attr as u16);
    let at = attr::start_nested(out, OVS_ACTION_ATTR_SET_MASKED);
    match attr {
        KeyAttr::Nsh => {
            let n = attr::start_nested(out, OVS_KEY_ATTR_NSH);
            put_nsh_subattrs(&k, false, out, true, Some(&m));
            attr::end_nested(out, n);
        }
        KeyAttr::Encap | KeyAttr::Tunnel => {
            return Err(NetlinkError::new(
                kn,
                0,
                ErrorKind::Unsupported("a masked set of this attribute"),
            ));
        }
        _ => {
            let inner = attr::start_unspec(out, attr as u16);
            put_payload(attr, &k, out)?;
            put_payload(attr, &m, out)?;
            attr::end_unspec(out, inner);
        }
    }
    attr::end_nested(out, at);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
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
