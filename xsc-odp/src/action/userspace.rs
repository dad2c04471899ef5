//! The `userspace(pid=,...)` action ([`Userspace`]) and its cookie
//! ([`UserCookie`]: sFlow, slow path, flow sample, IPFIX, controller, or
//! raw bytes): parse and format (`format_odp_userspace_action()`).
use super::text::{af, port_or_name};
use super::OdpPort;
use crate::error::Context;
use crate::key::meta::format_port;
use crate::lex::{Cursor, PResult};
use crate::write as w;

/// `userspace(pid=N[,cookie][,actions][,tunnel_out_port=P])`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Userspace {
    pub pid: u32,
    pub cookie: Option<UserCookie>,
    pub actions: bool,
    pub tunnel_out_port: Option<OdpPort>,
}

/// The userspace cookie forms OVS prints.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UserCookie {
    Sflow {
        vid: u16,
        pcp: u8,
        output: u32,
    },
    /// `slow_path(reasons)`, the reasons as OVS wrote them.
    SlowPath(String),
    FlowSample {
        probability: u16,
        collector_set_id: u32,
        obs_domain_id: u32,
        obs_point_id: u32,
        output_port: OdpPort,
        /// `Some(true)`: `,ingress`; `Some(false)`: `,egress`.
        ingress: Option<bool>,
    },
    Ipfix {
        output_port: OdpPort,
    },
    Controller {
        reason: u16,
        dont_send: bool,
        continuation: bool,
        recirc_id: u32,
        rule_cookie: u64,
        controller_id: u16,
        max_len: u16,
    },
    Userdata(Vec<u8>),
}

pub(crate) fn parse_userspace(c: &mut Cursor<'_>) -> PResult<Userspace> {
    const A: &str = "userspace";
    let ctx = Context::Action(A);
    c.expect("pid=", "'pid='", ctx)?;
    let pid = c.int(u64::from(u32::MAX), af(A, "pid"))? as u32;
    let mut u = Userspace {
        pid,
        cookie: None,
        actions: false,
        tunnel_out_port: None,
    };
    let u32max = u64::from(u32::MAX);
    if c.eat(",sFlow(vid=") {
        let vid = c.int(0xfff, af(A, "vid"))? as u16;
        c.expect(",pcp=", "',pcp='", af(A, "vid"))?;
        let pcp = c.int(7, af(A, "pcp"))? as u8;
        c.expect(",output=", "',output='", af(A, "pcp"))?;
        let output = c.int(u32max, af(A, "output"))? as u32;
        c.expect(")", "')'", af(A, "output"))?;
        u.cookie = Some(UserCookie::Sflow { vid, pcp, output });
    } else if c.eat(",slow_path(") {
        let r = c.take_while(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b',');
        let r = core::str::from_utf8(r).unwrap_or("");
        c.expect(")", "')'", af(A, "slow_path"))?;
        u.cookie = Some(UserCookie::SlowPath(r.to_owned()));
    } else if c.eat(",flow_sample(probability=") {
        let probability = c.int(0xffff, af(A, "probability"))? as u16;
        c.expect(
            ",collector_set_id=",
            "',collector_set_id='",
            af(A, "probability"),
        )?;
        let collector_set_id = c.int(u32max, af(A, "collector_set_id"))? as u32;
        c.expect(
            ",obs_domain_id=",
            "',obs_domain_id='",
            af(A, "collector_set_id"),
        )?;
        let obs_domain_id = c.int(u32max, af(A, "obs_domain_id"))? as u32;
        c.expect(",obs_point_id=", "',obs_point_id='", af(A, "obs_domain_id"))?;
        let obs_point_id = c.int(u32max, af(A, "obs_point_id"))? as u32;
        c.expect(",output_port=", "',output_port='", af(A, "obs_point_id"))?;
        let output_port = port_or_name(c, af(A, "output_port"))?;
        let ingress = if c.eat(",ingress") {
            Some(true)
        } else if c.eat(",egress") {
            Some(false)
        } else {
            None
        };
        c.expect(")", "')'", af(A, "output_port"))?;
        u.cookie = Some(UserCookie::FlowSample {
            probability,
            collector_set_id,
            obs_domain_id,
            obs_point_id,
            output_port,
            ingress,
        });
    } else if c.eat(",ipfix(output_port=") {
        let output_port = port_or_name(c, af(A, "output_port"))?;
        c.expect(")", "')'", af(A, "output_port"))?;
        u.cookie = Some(UserCookie::Ipfix { output_port });
    } else if c.eat(",controller(reason=") {
        let reason = c.int(0xffff, af(A, "reason"))? as u16;
        c.expect(",dont_send=", "',dont_send='", af(A, "reason"))?;
        let dont_send = c.int(0xff, af(A, "dont_send"))? != 0;
        c.expect(",continuation=", "',continuation='", af(A, "dont_send"))?;
        let continuation = c.int(0xff, af(A, "continuation"))? != 0;
        c.expect(",recirc_id=", "',recirc_id='", af(A, "continuation"))?;
        let recirc_id = c.int(u32max, af(A, "recirc_id"))? as u32;
        c.expect(",rule_cookie=", "',rule_cookie='", af(A, "recirc_id"))?;
        let rule_cookie = c.hex(u64::MAX, af(A, "rule_cookie"))?;
        c.expect(",controller_id=", "',controller_id='", af(A, "rule_cookie"))?;
        let controller_id = c.int(0xffff, af(A, "controller_id"))? as u16;
        c.expect(",max_len=", "',max_len='", af(A, "controller_id"))?;
        let max_len = c.int(0xffff, af(A, "max_len"))? as u16;
        c.expect(")", "')'", af(A, "max_len"))?;
        u.cookie = Some(UserCookie::Controller {
            reason,
            dont_send,
            continuation,
            recirc_id,
            rule_cookie,
            controller_id,
            max_len,
        });
    } else if c.eat(",userdata(") {
        let mut v: smallvec::SmallVec<[u8; 32]> = smallvec::SmallVec::new();
        c.hex_bytes(&mut v, af(A, "userdata"))?;
        c.expect(")", "')'", af(A, "userdata"))?;
        u.cookie = Some(UserCookie::Userdata(v.to_vec()));
    }
    if c.eat(",actions") {
        u.actions = true;
    }
    if c.eat(",tunnel_out_port=") {
        u.tunnel_out_port = Some(port_or_name(c, af(A, "tunnel_out_port"))?);
    }
    c.expect(")", "')'", ctx)?;
    Ok(u)
}

pub(crate) fn fmt_userspace(out: &mut String, u: &Userspace) {
    out.push_str("userspace(pid=");
    w::dec(out, u64::from(u.pid));
    match &u.cookie {
        None => {}
        Some(UserCookie::Sflow { vid, pcp, output }) => {
            out.push_str(",sFlow(vid=");
            w::dec(out, u64::from(*vid));
            out.push_str(",pcp=");
            w::dec(out, u64::from(*pcp));
            out.push_str(",output=");
            w::dec(out, u64::from(*output));
            out.push(')');
        }
        Some(UserCookie::SlowPath(r)) => {
            out.push_str(",slow_path(");
            out.push_str(r);
            out.push(')');
        }
        Some(UserCookie::FlowSample {
            probability,
            collector_set_id,
            obs_domain_id,
            obs_point_id,
            output_port,
            ingress,
        }) => {
            out.push_str(",flow_sample(probability=");
            w::dec(out, u64::from(*probability));
            out.push_str(",collector_set_id=");
            w::dec(out, u64::from(*collector_set_id));
            out.push_str(",obs_domain_id=");
            w::dec(out, u64::from(*obs_domain_id));
            out.push_str(",obs_point_id=");
            w::dec(out, u64::from(*obs_point_id));
            out.push_str(",output_port=");
            format_port(out, output_port);
            match ingress {
                Some(true) => out.push_str(",ingress"),
                Some(false) => out.push_str(",egress"),
                None => {}
            }
            out.push(')');
        }
        Some(UserCookie::Ipfix { output_port }) => {
            out.push_str(",ipfix(output_port=");
            format_port(out, output_port);
            out.push(')');
        }
        Some(UserCookie::Controller {
            reason,
            dont_send,
            continuation,
            recirc_id,
            rule_cookie,
            controller_id,
            max_len,
        }) => {
            out.push_str(",controller(reason=");
            w::dec(out, u64::from(*reason));
            out.push_str(",dont_send=");
            w::dec(out, u64::from(*dont_send));
            out.push_str(",continuation=");
            w::dec(out, u64::from(*continuation));
            out.push_str(",recirc_id=");
            w::dec(out, u64::from(*recirc_id));
            out.push_str(",rule_cookie=");
            w::hex_alt(out, *rule_cookie);
            out.push_str(",controller_id=");
            w::dec(out, u64::from(*controller_id));
            out.push_str(",max_len=");
            w::dec(out, u64::from(*max_len));
            out.push(')');
        }
        Some(UserCookie::Userdata(d)) => {
            out.push_str(",userdata(");
            w::hex_bytes(out, d);
            out.push(')');
        }
    }
    if u.actions {
        out.push_str(",actions");
    }
    if let Some(p) = &u.tunnel_out_port {
        out.push_str(",tunnel_out_port=");
        format_port(out, p);
    }
    out.push(')');
}
