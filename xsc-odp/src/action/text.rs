//! The text form of an action list: `parse_odp_actions()` /
//! `parse_odp_action()` (one action, dispatched to its room) and
//! `format_odp_actions()` / `format_odp_action()` of `lib/odp-util.c`.
//!
//! The parser accepts what OVS prints, plus the input forms OVS's own parser
//! accepts; where OVS's parser cannot read OVS's output (`recirc(0x2)`,
//! `push_mpls(...)`, `hash(...)`), this one can.
use super::{
    ct::{fmt_ct, parse_ct, CtAction},
    nsh::{fmt_push_nsh, parse_push_nsh},
    set::{fmt_set, make_set},
    tnl::{fmt_tnl_push, parse_tnl_push},
    userspace::{fmt_userspace, parse_userspace},
};
use super::{Action, Actions, CheckPktLen, FlowKey, OdpPort, PortName, Psample, Sample};
use crate::error::{Context, ErrorKind};
use crate::key::fields::fields;
use crate::key::meta::format_port;
use crate::key::mpls::fmt_mpls_lse;
use crate::key::text::parse_key_attr;
use crate::key::vlan::fmt_vlan_tci;
use crate::lex::{is_delim, Cursor, PResult};
use crate::write as w;
use crate::ParseError;

/// How an action list ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListEnd {
    /// End of input (a bare action list); delimiters may trail.
    Input,
    /// End of input or `, dp-extra-info:` (the actions of a dump line).
    DumpLine,
    /// A closing `)` (not consumed): nested lists.
    Paren,
}

/// Parses a bare action list as `ovs-dpctl add-flow` takes it
/// (`1,2,ct(zone=4),recirc(0x2)`, or `drop` for the empty list).
pub fn parse_actions(s: &str) -> Result<Actions, ParseError> {
    let mut c = Cursor::new(s);
    c.skip_delims();
    parse_action_list(&mut c, ListEnd::Input)
}

pub(crate) fn at_list_end(c: &Cursor<'_>, end: ListEnd) -> bool {
    match end {
        ListEnd::Input => c.at_end(),
        ListEnd::DumpLine => c.at_end() || c.starts_with(", dp-extra-info:"),
        ListEnd::Paren => c.peek() == Some(b')'),
    }
}

pub(crate) fn parse_action_list(c: &mut Cursor<'_>, end: ListEnd) -> PResult<Actions> {
    let mut list = Actions::new();
    parse_action_list_into(c, end, &mut list)?;
    Ok(list)
}

/// Appends the actions of a list to `list` (which the caller has cleared).
pub(crate) fn parse_action_list_into(
    c: &mut Cursor<'_>,
    end: ListEnd,
    list: &mut Actions,
) -> PResult<()> {
    // A list that is just "drop" is the empty list.
    if c.starts_with("drop") {
        let save = c.pos();
        c.set_pos(save + 4);
        let mut probe = c.clone();
        if end == ListEnd::Input {
            probe.skip_delims();
        }
        if at_list_end(&probe, end) {
            *c = probe;
            return Ok(());
        }
        c.set_pos(save);
    }
    if at_list_end(c, end) {
        return Err(c.expected("an action", Context::Top));
    }
    loop {
        parse_action(c, list)?;
        if at_list_end(c, end) {
            return Ok(());
        }
        match c.peek() {
            Some(b) if is_delim(b) => {
                c.skip_delims();
                if at_list_end(c, end) {
                    if end == ListEnd::Input {
                        return Ok(());
                    }
                    return Err(c.expected("an action", Context::Top));
                }
            }
            _ => {
                let what = if end == ListEnd::Paren {
                    "',' or ')' after an action"
                } else {
                    "',' after an action"
                };
                return Err(c.expected(what, Context::Top));
            }
        }
    }
}

pub(crate) fn af(a: &'static str, f: &'static str) -> Context {
    Context::ActionField(a, f)
}

pub(crate) fn port_or_name(c: &mut Cursor<'_>, ctx: Context) -> PResult<OdpPort> {
    if c.peek().is_some_and(|b| b.is_ascii_digit()) {
        return Ok(OdpPort::Number(c.int(u64::from(u32::MAX), ctx)? as u32));
    }
    let at = c.pos();
    let name = c.take_while(|b| !is_delim(b) && b != b'(' && b != b')');
    core::str::from_utf8(name)
        .ok()
        .and_then(PortName::new)
        .map(OdpPort::Name)
        .ok_or_else(|| {
            c.err_at(
                at,
                ctx,
                ErrorKind::Expected("a port number or a name of at most 15 bytes"),
            )
        })
}

pub(crate) fn parse_action(c: &mut Cursor<'_>, list: &mut Actions) -> PResult<()> {
    if c.peek().is_some_and(|b| b.is_ascii_digit()) {
        let p = c.int(u64::from(u32::MAX), Context::Action("output"))? as u32;
        list.push(Action::Output(OdpPort::Number(p)));
        return Ok(());
    }
    let at = c.pos();
    let word = c.take_while(|b| !is_delim(b) && b != b'(' && b != b')');
    if !c.eat_byte(b'(') {
        let a = match word {
            b"pop_vlan" => Action::PopVlan,
            b"ct_clear" => Action::CtClear,
            b"pop_eth" => Action::PopEth,
            b"ct" => Action::Ct(CtAction::default()),
            b"drop" => Action::Drop,
            b"" => return Err(c.expected("an action", Context::Top)),
            _ => match core::str::from_utf8(word).ok().and_then(PortName::new) {
                Some(n) => Action::Output(OdpPort::Name(n)),
                None => return Err(c.err_at(at, Context::Top, ErrorKind::UnknownAction)),
            },
        };
        list.push(a);
        return Ok(());
    }
    let name: &'static str = match word {
        b"lb_output" => "lb_output",
        b"trunc" => "trunc",
        b"meter" => "meter",
        b"recirc" => "recirc",
        b"tnl_pop" => "tnl_pop",
        b"hash" => "hash",
        b"ct" => "ct",
        b"set" => "set",
        b"push_vlan" => "push_vlan",
        b"push_mpls" => "push_mpls",
        b"add_mpls" => "add_mpls",
        b"pop_mpls" => "pop_mpls",
        b"push_eth" => "push_eth",
        b"push_nsh" => "push_nsh",
        b"pop_nsh" => "pop_nsh",
        b"tnl_push" => "tnl_push",
        b"clone" => "clone",
        b"sample" => "sample",
        b"check_pkt_len" => "check_pkt_len",
        b"userspace" => "userspace",
        b"dec_ttl" => "dec_ttl",
        b"psample" => "psample",
        _ => return Err(c.err_at(at, Context::Top, ErrorKind::UnknownAction)),
    };
    let ctx = Context::Action(name);
    c.enter(ctx)?;
    let close = |c: &mut Cursor<'_>| c.expect(")", "')'", ctx);
    const U32: u64 = u32::MAX as u64;
    let a = match name {
        "lb_output" | "trunc" | "meter" | "recirc" => {
            let v = c.int(U32, ctx)? as u32;
            close(c)?;
            match name {
                "lb_output" => Action::LbOutput(v),
                "trunc" => Action::Trunc(v),
                "meter" => Action::Meter(v),
                _ => Action::Recirc(v),
            }
        }
        "tnl_pop" => {
            let p = port_or_name(c, ctx)?;
            close(c)?;
            Action::TnlPop(p)
        }
        "hash" => {
            let alg = if c.eat("l4(") {
                0
            } else if c.eat("sym_l4(") {
                1
            } else {
                return Err(c.expected("'l4(' or 'sym_l4('", ctx));
            };
            let basis = c.int(U32, ctx)? as u32;
            c.expect("))", "'))'", ctx)?;
            Action::Hash { alg, basis }
        }
        "ct" => Action::Ct(parse_ct(c)?),
        "set" => {
            let (mut k, mut m) = (FlowKey::default(), FlowKey::default());
            parse_key_attr(c, &mut k, &mut m)?;
            close(c)?;
            Action::Set(make_set(k, m))
        }
        "push_vlan" => {
            let (mut tpid, mut vid, mut pcp, mut cfi) = (0x8100u16, 0u16, 0u16, 1u16);
            fields(c, name, false, |c, f| {
                Ok(Some(match f {
                    b"tpid" => {
                        tpid = c.int(0xffff, af(name, "tpid"))? as u16;
                        "tpid"
                    }
                    b"vid" => {
                        vid = c.int(0xfff, af(name, "vid"))? as u16;
                        "vid"
                    }
                    b"pcp" => {
                        pcp = c.int(7, af(name, "pcp"))? as u16;
                        "pcp"
                    }
                    b"cfi" => {
                        cfi = c.int(1, af(name, "cfi"))? as u16;
                        "cfi"
                    }
                    _ => return Ok(None),
                }))
            })?;
            Action::PushVlan {
                tpid,
                tci: vid | (pcp << 13) | (cfi << 12),
            }
        }
        "push_mpls" | "add_mpls" => {
            let (mut lse, mut eth_type) = (0u32, 0u16);
            fields(c, name, false, |c, f| {
                let (fname, bits, shift) = match f {
                    b"label" => ("label", 20u32, 12u32),
                    b"tc" => ("tc", 3, 9),
                    b"ttl" => ("ttl", 8, 0),
                    b"bos" => ("bos", 1, 8),
                    b"eth_type" => {
                        eth_type = c.int(0xffff, af(name, "eth_type"))? as u16;
                        return Ok(Some("eth_type"));
                    }
                    _ => return Ok(None),
                };
                let v = c.int((1u64 << bits) - 1, af(name, fname))? as u32;
                lse = (lse & !(((1u32 << bits) - 1) << shift)) | (v << shift);
                Ok(Some(fname))
            })?;
            if name == "push_mpls" {
                Action::PushMpls { lse, eth_type }
            } else {
                Action::AddMpls { lse, eth_type }
            }
        }
        "pop_mpls" => {
            c.expect("eth_type=", "'eth_type='", ctx)?;
            let eth_type = c.int(0xffff, af(name, "eth_type"))? as u16;
            close(c)?;
            Action::PopMpls { eth_type }
        }
        "push_eth" => {
            let (mut src, mut dst) = ([0u8; 6], [0u8; 6]);
            fields(c, name, false, |c, f| {
                Ok(Some(match f {
                    b"src" => {
                        src = c.mac(af(name, "src"))?;
                        "src"
                    }
                    b"dst" => {
                        dst = c.mac(af(name, "dst"))?;
                        "dst"
                    }
                    b"type" => {
                        c.int(0xffff, af(name, "type"))?;
                        "type"
                    }
                    _ => return Ok(None),
                }))
            })?;
            Action::PushEth { src, dst }
        }
        "push_nsh" => Action::PushNsh(Box::new(parse_push_nsh(c)?)),
        "pop_nsh" => {
            close(c)?;
            Action::PopNsh
        }
        "tnl_push" => Action::TnlPush(Box::new(parse_tnl_push(c)?)),
        "clone" => {
            let l = parse_action_list(c, ListEnd::Paren)?;
            close(c)?;
            Action::Clone(Box::new(l))
        }
        "dec_ttl" => {
            c.expect("le_1(", "'le_1('", ctx)?;
            let l = parse_action_list(c, ListEnd::Paren)?;
            c.expect("))", "'))'", ctx)?;
            Action::DecTtl(Box::new(l))
        }
        "sample" => {
            c.expect("sample=", "'sample='", ctx)?;
            let at = c.pos();
            let num = c.take_while(|b| b.is_ascii_digit() || b == b'.');
            let pct = core::str::from_utf8(num)
                .ok()
                .and_then(|t| t.parse::<f64>().ok());
            let Some(pct) = pct.filter(|p| (0.0..=100.0).contains(p)) else {
                return Err(c.err_at(
                    at,
                    af(name, "sample"),
                    ErrorKind::Expected("a percentage from 0 to 100"),
                ));
            };
            c.expect("%,actions(", "'%,actions('", af(name, "sample"))?;
            let probability = (f64::from(u32::MAX) * (pct / 100.0) + 0.5).floor();
            let probability = if probability <= 0.0 {
                0
            } else if probability >= f64::from(u32::MAX) {
                u32::MAX
            } else {
                probability as u32
            };
            let actions = parse_action_list(c, ListEnd::Paren)?;
            c.expect("))", "'))'", ctx)?;
            Action::Sample(Box::new(Sample {
                probability,
                actions,
            }))
        }
        "check_pkt_len" => {
            c.expect("size=", "'size='", ctx)?;
            let pkt_len = c.int(0xffff, af(name, "size"))? as u16;
            c.expect(",gt(", "',gt('", af(name, "size"))?;
            let gt = parse_action_list(c, ListEnd::Paren)?;
            c.expect("),le(", "'),le('", af(name, "gt"))?;
            let le = parse_action_list(c, ListEnd::Paren)?;
            c.expect("))", "'))'", af(name, "le"))?;
            Action::CheckPktLen(Box::new(CheckPktLen { pkt_len, gt, le }))
        }
        "userspace" => Action::Userspace(Box::new(parse_userspace(c)?)),
        "psample" => {
            c.expect("group=", "'group='", ctx)?;
            let group = c.int(U32, af(name, "group"))? as u32;
            let mut cookie = smallvec::SmallVec::new();
            if c.eat(",cookie=") {
                if !(c.eat("0x") || c.eat("0X")) {
                    return Err(c.expected("'0x'", af(name, "cookie")));
                }
                c.hex_bytes(&mut cookie, af(name, "cookie"))?;
            }
            close(c)?;
            Action::Psample(Box::new(Psample { group, cookie }))
        }
        _ => return Err(c.err_at(at, Context::Top, ErrorKind::UnknownAction)),
    };
    c.leave();
    list.push(a);
    Ok(())
}

/// `format_odp_actions()`: the empty list prints as `drop`.
pub fn format_actions(out: &mut String, actions: &[Action]) {
    if actions.is_empty() {
        out.push_str("drop");
        return;
    }
    for (i, a) in actions.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        format_action(out, a);
    }
}

/// `format_odp_action()`.
pub fn format_action(out: &mut String, a: &Action) {
    match a {
        Action::Output(p) => format_port(out, p),
        Action::Drop => out.push_str("drop"),
        Action::LbOutput(v) => num_call(out, "lb_output(", *v),
        Action::Trunc(v) => num_call(out, "trunc(", *v),
        Action::Meter(v) => num_call(out, "meter(", *v),
        Action::Recirc(v) => {
            out.push_str("recirc(");
            w::hex_alt(out, u64::from(*v));
            out.push(')');
        }
        Action::TnlPop(p) => {
            out.push_str("tnl_pop(");
            format_port(out, p);
            out.push(')');
        }
        Action::Hash { alg, basis } => {
            out.push_str(match alg {
                0 => "hash(l4(",
                1 => "hash(sym_l4(",
                _ => "hash(Unknown hash algorithm(",
            });
            w::dec(out, u64::from(if *alg > 1 { *alg } else { *basis }));
            out.push_str("))");
        }
        Action::Ct(ct) => fmt_ct(out, ct),
        Action::CtClear => out.push_str("ct_clear"),
        Action::Set(s) => fmt_set(out, s),
        Action::PushVlan { tpid, tci } => {
            out.push_str("push_vlan(");
            if *tpid != 0x8100 {
                out.push_str("tpid=0x");
                w::hex_pad(out, u64::from(*tpid), 4);
                out.push(',');
            }
            fmt_vlan_tci(out, *tci, 0xffff, false);
            out.push(')');
        }
        Action::PopVlan => out.push_str("pop_vlan"),
        Action::PushMpls { lse, eth_type } | Action::AddMpls { lse, eth_type } => {
            out.push_str(if matches!(a, Action::PushMpls { .. }) {
                "push_mpls("
            } else {
                "add_mpls("
            });
            fmt_mpls_lse(out, *lse);
            out.push_str(",eth_type=0x");
            w::hex(out, u64::from(*eth_type));
            out.push(')');
        }
        Action::PopMpls { eth_type } => {
            out.push_str("pop_mpls(eth_type=0x");
            w::hex(out, u64::from(*eth_type));
            out.push(')');
        }
        Action::PushEth { src, dst } => {
            out.push_str("push_eth(src=");
            w::mac(out, src);
            out.push_str(",dst=");
            w::mac(out, dst);
            out.push(')');
        }
        Action::PopEth => out.push_str("pop_eth"),
        Action::PushNsh(n) => fmt_push_nsh(out, n),
        Action::PopNsh => out.push_str("pop_nsh()"),
        Action::TnlPush(t) => fmt_tnl_push(out, t),
        Action::Clone(l) => {
            out.push_str("clone(");
            format_actions(out, l);
            out.push(')');
        }
        Action::DecTtl(l) => {
            out.push_str("dec_ttl(le_1(");
            format_actions(out, l);
            out.push_str("))");
        }
        Action::Sample(s) => {
            use core::fmt::Write as _;
            let pct = 100.0 * f64::from(s.probability) / f64::from(u32::MAX);
            let _ = write!(out, "sample(sample={pct:.1}%,actions(");
            format_actions(out, &s.actions);
            out.push_str("))");
        }
        Action::CheckPktLen(k) => {
            out.push_str("check_pkt_len(size=");
            w::dec(out, u64::from(k.pkt_len));
            out.push_str(",gt(");
            format_actions(out, &k.gt);
            out.push_str("),le(");
            format_actions(out, &k.le);
            out.push_str("))");
        }
        Action::Userspace(u) => fmt_userspace(out, u),
        Action::Psample(p) => {
            out.push_str("psample(group=");
            w::dec(out, u64::from(p.group));
            if !p.cookie.is_empty() {
                out.push_str(",cookie=0x");
                w::hex_bytes(out, &p.cookie);
            }
            out.push(')');
        }
    }
}

pub(crate) fn num_call(out: &mut String, head: &str, v: u32) {
    out.push_str(head);
    w::dec(out, u64::from(v));
    out.push(')');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt(s: &str) -> String {
        let a = parse_actions(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        let mut o = String::new();
        format_actions(&mut o, &a);
        o
    }

    #[test]
    fn round_trips_ovs_forms() {
        for s in [
            "ct(zone=4,nat),recirc(0x2d278)",
            "ct(commit,zone=4,mark=0x1/0xffffffff,nat(dst=10.16.0.18:80)),p2",
            "p3,br0,p2",
            "drop",
            "ct,ct(commit),ct(commit,zone=5),ct(commit,mark=0xa0a0a0a0/0xfefefefe)",
            "ct(commit,label=0x1234567890abcdef1234567890abcdef/0xf1f2f3f4f5f6f7f8f9f0fafbfcfdfeff)",
            "ct(commit,helper=ftp),ct(commit,timeout=ovs_tp_1_tcp4),ct(nat),ct(force_commit)",
            "ct(commit,nat(src)),ct(commit,nat(src=10.0.0.240,random)),ct(commit,nat(src=10.0.0.240:32768-65535,random))",
            "ct(commit,nat(dst=10.0.0.128-10.0.0.254,hash)),ct(commit,nat(src=10.0.0.240-10.0.0.254:32768-65535,persistent))",
            "ct(commit,nat(src=fe80::20c:29ff:fe88:a18b,random)),ct(commit,nat(src=fe80::20c:29ff:fe88:1-fe80::20c:29ff:fe88:a18b,random))",
            "ct(commit,nat(src=[fe80::20c:29ff:fe88:1]-[fe80::20c:29ff:fe88:a18b]:255-4096,random))",
            "ct(commit,helper=ftp,nat(src=10.1.1.240-10.1.1.255))",
            "set(tunnel(tun_id=0xabcdef1234567890,src=1.1.1.1,dst=2.2.2.2,ttl=64,flags(df|csum|key)))",
            "tnl_pop(4)",
            "tnl_push(tnl_port(6),header(size=50,type=4,eth(dst=f8:bc:12:44:34:b6,src=f8:bc:12:46:58:e0,dl_type=0x0800),ipv4(src=1.1.2.88,dst=1.1.2.92,proto=17,tos=0,ttl=64,frag=0x4000),udp(src=0,dst=4789,csum=0x0),vxlan(flags=0x8000000,vni=0x1c7)),out_port(1))",
            "tnl_push(tnl_port(6),header(size=70,type=4,eth(dst=f8:bc:12:44:34:b6,src=f8:bc:12:46:58:e0,dl_type=0x86dd),ipv6(src=2001:cafe::88,dst=2001:cafe::92,label=0,proto=17,tclass=0x0,hlimit=64),udp(src=0,dst=4789,csum=0x0),vxlan(flags=0x8000000,vni=0x1c7)),out_port(1))",
            "clone(1),clone(clone(push_vlan(vid=12,pcp=0),2),1)",
            "clone(recirc(0x1),recirc(0x2))",
            "check_pkt_len(size=200,gt(4),le(5)),check_pkt_len(size=200,gt(drop),le(5)),check_pkt_len(size=200,gt(ct(nat)),le(drop))",
            "meter(1),hash(l4(0))",
            "userspace(pid=555666777),userspace(pid=6633,sFlow(vid=9,pcp=7,output=10)),userspace(pid=9765,slow_path(cfm))",
            "push_vlan(tpid=0x9100,vid=13,pcp=5,cfi=0),pop_vlan,sample(sample=9.7%,actions(1,2,3,push_vlan(vid=1,pcp=2)))",
            "set(eth(src=00:01:02:03:04:05,dst=10:11:12:13:14:15)),set(ipv4(src=35.8.2.41,dst=172.16.0.20,proto=5,tos=0x80,ttl=128,frag=no))",
            "set(ipv4(src=10.0.0.1)),set(tcp(dst=80)),set(eth(dst=00:00:00:00:00:01))",
            "push_mpls(label=100,tc=0,ttl=64,bos=1,eth_type=0x8847),pop_mpls(eth_type=0x800)",
        ] {
            assert_eq!(rt(s), s);
        }
    }

    #[test]
    fn ovs_input_forms_normalise() {
        assert_eq!(rt("push_vlan(vid=12,pcp=0)"), "push_vlan(vid=12,pcp=0)");
        assert_eq!(rt("push_vlan(vid=12)"), "push_vlan(vid=12,pcp=0)");
        assert_eq!(rt("ct(commit,nat(src,random))"), "ct(commit,nat(src))");
        assert_eq!(rt("ct(zone=0,mark=0x1/0)"), "ct");
        assert_eq!(rt("recirc(45)"), "recirc(0x2d)");
        assert_eq!(rt("1, 2 ,3"), "1,2,3");
    }

    #[test]
    fn errors() {
        let e = |s: &str| parse_actions(s).unwrap_err().to_string();
        assert_eq!(
            e("ct(commit,force_commit)"),
            "invalid combination of commit and force_commit in action ct at 1:24"
        );
        assert_eq!(
            e("ct(zone=65536)"),
            "value out of range (max 65535) for ct field 'zone' at 1:9"
        );
        assert_eq!(
            e("push_vlan(vid=4096)"),
            "value out of range (max 4095) for push_vlan field 'vid' at 1:15"
        );
        assert_eq!(e("frobnicate(1)"), "unknown action at 1:1");
        assert_eq!(
            e("ct(nat(src=10.0.0.2-10.0.0.1))"),
            "invalid nat range (end below start) in action nat at 1:8"
        );
        assert_eq!(e("1,)"), "expected an action at 1:3");
    }
}
