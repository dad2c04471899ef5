//! `OVS_ACTION_ATTR_USERSPACE` ↔ [`Userspace`], and the cookie OVS puts in
//! `OVS_USERSPACE_ATTR_USERDATA` ↔ [`UserCookie`] (`union user_action_cookie`).
use super::{u32_attr, userspace_attr_name, NetlinkError, OdpPort, UserCookie, Userspace};
use crate::netlink::attr::{be16, be32, ne16, ne32, Attr};
use crate::netlink::consts::{
    OVS_USERSPACE_ATTR_ACTIONS, OVS_USERSPACE_ATTR_EGRESS_TUN_PORT, OVS_USERSPACE_ATTR_PID,
    OVS_USERSPACE_ATTR_USERDATA, SLOW_PATH_REASON_NAMES, USER_ACTION_COOKIE_CONTROLLER,
    USER_ACTION_COOKIE_FLOW_SAMPLE, USER_ACTION_COOKIE_IPFIX, USER_ACTION_COOKIE_LEN,
    USER_ACTION_COOKIE_SFLOW, USER_ACTION_COOKIE_SLOW_PATH,
};
use crate::netlink::ErrorKind;
use crate::netlink::{port_number, PortMap};

/// `struct user_action_cookie` (OVS `lib/odp-util.h`, 48 bytes): u16 type,
/// u16 ofp_in_port, 16-byte ofproto UUID, then the union at offset 20.
pub(crate) fn decode_cookie(p: &[u8]) -> Option<UserCookie> {
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

pub(crate) fn encode_cookie(
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

pub(crate) fn decode_userspace(a: &Attr<'_>) -> Result<Userspace, NetlinkError> {
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
