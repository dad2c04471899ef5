//! Text form of datapath actions: the parser (`parse_odp_action()`,
//! `parse_conntrack_action()`, `ovs_parse_tnl_push()`, ...) and the formatter
//! (`format_odp_actions()`, `format_odp_action()`,
//! `format_odp_conntrack_action()`, `format_odp_tnl_push_header()`, ...) of
//! `lib/odp-util.c`.
//!
//! The parser accepts what OVS prints, plus the input forms OVS's own parser
//! accepts; where OVS's parser cannot read OVS's output (`recirc(0x2)`,
//! `push_mpls(...)`, `hash(...)`), this one can.  Normalisations OVS applies
//! when it encodes an action (a `ct` zone of 0 or mark mask of 0 means "no
//! attribute", NAT options without an address are dropped) are applied here
//! too, so that the model equals what the netlink form would carry.
use super::action::{
    vport_type, Action, Actions, CheckPktLen, CtAction, Nat, NatAddrs, NatKind, Psample, PushNsh,
    Sample, SetAction, SetField, TnlHeader, TnlIp, TnlPush, TnlUdp, UserCookie, Userspace,
};
use super::error::{Context, ErrorKind};
use super::key::eth::fmt_eth_key;
use super::key::fields::fields;
use super::key::ip::fmt_ipv4_key;
use super::key::l4::fmt_ports_key;
use super::key::mask::attr_mask_is_exact;
use super::key::meta::format_port;
use super::key::mpls::fmt_mpls_lse;
use super::key::text::{format_key_attr, parse_key_attr};
use super::key::tunnel::{fmt_geneve_opts, parse_geneve_opts};
use super::key::vlan::fmt_vlan_tci;
use super::key::{FlowKey, KeyAttr, OdpPort, PortName};
use super::lex::{is_delim, Cursor, PResult};
use super::write as w;
use super::ParseError;

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

fn at_list_end(c: &Cursor<'_>, end: ListEnd) -> bool {
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

fn af(a: &'static str, f: &'static str) -> Context {
    Context::ActionField(a, f)
}

fn port_or_name(c: &mut Cursor<'_>, ctx: Context) -> PResult<OdpPort> {
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

fn parse_action(c: &mut Cursor<'_>, list: &mut Actions) -> PResult<()> {
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

fn make_set(k: FlowKey, m: FlowKey) -> SetAction {
    let attr = KeyAttr::CANONICAL_ORDER
        .into_iter()
        .find(|&a| k.has(a))
        .unwrap_or(KeyAttr::Priority);
    // OVS_ACTION_ATTR_SET_MASKED unless the mask bytes are all ones; ARP and
    // ND extensions carry padding and NSH is nested, so they are always
    // masked; tunnel keys are never masked.
    let masked = match attr {
        KeyAttr::Tunnel | KeyAttr::Encap => false,
        KeyAttr::Arp | KeyAttr::NdExtensions | KeyAttr::Nsh => true,
        a => !attr_mask_is_exact(a, &m),
    };
    let field = match attr {
        KeyAttr::Ethernet => SetField::Eth {
            key: k.eth,
            mask: m.eth,
        },
        KeyAttr::Ipv4 => SetField::Ipv4 {
            key: k.ipv4,
            mask: m.ipv4,
        },
        KeyAttr::Tcp => SetField::Tcp {
            key: k.tcp,
            mask: m.tcp,
        },
        KeyAttr::Udp => SetField::Udp {
            key: k.udp,
            mask: m.udp,
        },
        KeyAttr::Sctp => SetField::Sctp {
            key: k.sctp,
            mask: m.sctp,
        },
        KeyAttr::Priority => SetField::SkbPriority {
            key: k.skb_priority,
            mask: m.skb_priority,
        },
        KeyAttr::SkbMark => SetField::SkbMark {
            key: k.skb_mark,
            mask: m.skb_mark,
        },
        a => SetField::Other {
            attr: a,
            key: Box::new(k),
            mask: Box::new(m),
        },
    };
    SetAction { masked, field }
}

fn parse_ct(c: &mut Cursor<'_>) -> PResult<CtAction> {
    const A: &str = "ct";
    let ctx = Context::Action(A);
    let mut ct = CtAction::default();
    let mut mark = (0u32, 0u32);
    let mut label = (0u128, 0u128);
    loop {
        c.skip_delims();
        if c.eat_byte(b')') {
            break;
        }
        let at = c.pos();
        let word = c.ident();
        let fname: &'static str = match word {
            b"commit" => {
                ct.commit = true;
                "commit"
            }
            b"force_commit" => {
                ct.force_commit = true;
                "force_commit"
            }
            b"zone" | b"mark" | b"label" | b"helper" | b"timeout" => {
                c.expect("=", "'='", ctx)?;
                match word {
                    b"zone" => {
                        ct.zone = c.int(0xffff, af(A, "zone"))? as u16;
                        "zone"
                    }
                    b"mark" => {
                        let v = c.hex(u64::from(u32::MAX), af(A, "mark"))? as u32;
                        let m = if c.eat_byte(b'/') {
                            c.hex(u64::from(u32::MAX), af(A, "mark"))? as u32
                        } else {
                            u32::MAX
                        };
                        mark = (v, m);
                        "mark"
                    }
                    b"label" => {
                        let v = c.u128(af(A, "label"))?;
                        let m = if c.eat_byte(b'/') {
                            c.u128(af(A, "label"))?
                        } else {
                            u128::MAX
                        };
                        label = (v, m);
                        "label"
                    }
                    b"helper" => {
                        let s = c.pos();
                        let n = c.take_while(|b| !is_delim(b) && b != b')');
                        ct.helper = core::str::from_utf8(n).ok().and_then(PortName::new);
                        if ct.helper.is_none() {
                            return Err(c.err_at(
                                s,
                                af(A, "helper"),
                                ErrorKind::Expected("a helper name of 1 to 15 bytes"),
                            ));
                        }
                        "helper"
                    }
                    _ => {
                        let s = c.pos();
                        let n = c.take_while(|b| !is_delim(b) && b != b')');
                        match core::str::from_utf8(n) {
                            Ok(t) if !t.is_empty() && t.len() <= 31 => ct.timeout = Some(t.into()),
                            _ => {
                                return Err(c.err_at(
                                    s,
                                    af(A, "timeout"),
                                    ErrorKind::Expected("a timeout policy name of 1 to 31 bytes"),
                                ))
                            }
                        }
                        "timeout"
                    }
                }
            }
            b"nat" => {
                ct.nat = Some(parse_nat(c)?);
                "nat"
            }
            b"" => return Err(c.expected("a ct option or ')'", ctx)),
            _ => return Err(c.err_at(at, ctx, ErrorKind::UnknownField)),
        };
        match c.peek() {
            Some(b')') => {}
            Some(b) if is_delim(b) => {}
            _ => return Err(c.expected("',' or ')'", af(A, fname))),
        }
    }
    if ct.commit && ct.force_commit {
        return Err(c.err(
            ctx,
            ErrorKind::Invalid("combination of commit and force_commit"),
        ));
    }
    if mark.1 != 0 {
        ct.mark = Some(mark);
    }
    if label.1 != 0 {
        ct.label = Some(Box::new(label));
    }
    Ok(ct)
}

/// `scan_ct_nat()` after the word `nat`.
fn parse_nat(c: &mut Cursor<'_>) -> PResult<Nat> {
    const A: &str = "nat";
    let ctx = Context::Action(A);
    let mut nat = Nat::default();
    let (mut src, mut dst) = (false, false);
    if !c.eat_byte(b'(') {
        return Ok(nat);
    }
    let start = c.pos();
    loop {
        c.skip_delims();
        if c.eat_byte(b')') {
            break;
        }
        let at = c.pos();
        let word = c.ident();
        match word {
            b"src" | b"dst" => {
                if word == b"src" {
                    src = true;
                } else {
                    dst = true;
                }
                if c.eat_byte(b'=') {
                    parse_nat_range(c, &mut nat)?;
                }
            }
            b"persistent" => nat.persistent = true,
            b"hash" => nat.hash = true,
            b"random" => nat.random = true,
            b"" => return Err(c.expected("a nat option or ')'", ctx)),
            _ => return Err(c.err_at(at, ctx, ErrorKind::UnknownField)),
        }
        if !c.peek().is_some_and(|b| b == b')' || is_delim(b)) {
            return Err(c.expected("',' or ')'", ctx));
        }
    }
    if src && dst {
        return Err(c.err_at(start, ctx, ErrorKind::Invalid("nat with both src and dst")));
    }
    let bad_range = match &nat.addrs {
        NatAddrs::V4 { min, max } => *max != 0 && max < min,
        NatAddrs::V6(r) => r.1 != [0; 16] && r.1 < r.0,
        NatAddrs::None => false,
    };
    if bad_range || (nat.proto_max != 0 && nat.proto_max < nat.proto_min) {
        return Err(c.err_at(
            start,
            ctx,
            ErrorKind::Invalid("nat range (end below start)"),
        ));
    }
    if nat.hash && nat.random {
        return Err(c.err_at(
            start,
            ctx,
            ErrorKind::Invalid("combination of hash and random"),
        ));
    }
    // nl_msg_put_ct_nat(): what the datapath attribute can carry.
    if !src && !dst {
        return Ok(Nat::default());
    }
    nat.kind = if src { NatKind::Src } else { NatKind::Dst };
    match &mut nat.addrs {
        NatAddrs::None => {
            let kind = nat.kind;
            nat = Nat {
                kind,
                ..Nat::default()
            };
        }
        NatAddrs::V4 { min, max } => {
            if *max <= *min {
                *max = 0;
            }
        }
        NatAddrs::V6(r) => {
            if r.1 <= r.0 {
                r.1 = [0; 16];
            }
        }
    }
    if nat.proto_min == 0 || nat.proto_max <= nat.proto_min {
        nat.proto_max = 0;
    }
    Ok(nat)
}

fn parse_nat_range(c: &mut Cursor<'_>, nat: &mut Nat) -> PResult<()> {
    let ctx = af("nat", "addr");
    let save = c.pos();
    if let Ok(min) = c.ipv4(ctx) {
        let mut max = 0;
        if c.eat_byte(b'-') {
            max = c.ipv4(ctx)?;
        }
        nat.addrs = NatAddrs::V4 { min, max };
    } else {
        c.set_pos(save);
        let v6 = |c: &mut Cursor<'_>| -> PResult<[u8; 16]> {
            if c.eat_byte(b'[') {
                let a = c.ipv6(ctx)?;
                c.expect("]", "']'", ctx)?;
                Ok(a)
            } else {
                c.ipv6(ctx)
            }
        };
        let min = v6(c).map_err(|_| c.expected("an IPv4 or IPv6 address", ctx))?;
        let mut max = [0u8; 16];
        if c.eat_byte(b'-') {
            max = v6(c)?;
        }
        nat.addrs = NatAddrs::V6(Box::new((min, max)));
    }
    if c.eat_byte(b':') {
        nat.proto_min = c.dec(0xffff, af("nat", "port"))? as u16;
        if c.eat_byte(b'-') {
            nat.proto_max = c.dec(0xffff, af("nat", "port"))? as u16;
        }
    }
    Ok(())
}

fn parse_push_nsh(c: &mut Cursor<'_>) -> PResult<PushNsh> {
    const A: &str = "push_nsh";
    let mut n = PushNsh {
        ttl: 63,
        mdtype: 1,
        np: 3,
        si: 255,
        ..Default::default()
    };
    fields(c, A, false, |c, f| {
        Ok(Some(match f {
            b"flags" => {
                n.flags = c.int(0xff, af(A, "flags"))? as u8;
                "flags"
            }
            b"ttl" => {
                n.ttl = c.int(0xff, af(A, "ttl"))? as u8;
                "ttl"
            }
            b"mdtype" => {
                let at = c.pos();
                n.mdtype = c.int(0xff, af(A, "mdtype"))? as u8;
                if n.mdtype != 1 && n.mdtype != 2 {
                    return Err(c.err_at(
                        at,
                        af(A, "mdtype"),
                        ErrorKind::Invalid("NSH MD type (1 or 2)"),
                    ));
                }
                "mdtype"
            }
            b"np" => {
                n.np = c.int(0xff, af(A, "np"))? as u8;
                "np"
            }
            b"spi" => {
                n.spi = c.hex(0xff_ffff, af(A, "spi"))? as u32;
                "spi"
            }
            b"si" => {
                n.si = c.int(0xff, af(A, "si"))? as u8;
                "si"
            }
            b"c1" | b"c2" | b"c3" | b"c4" => {
                let i = usize::from(f[1] - b'1');
                let name = ["c1", "c2", "c3", "c4"][i];
                n.context[i] = c.hex(u64::from(u32::MAX), af(A, name))? as u32;
                name
            }
            b"md2" => {
                if c.eat_byte(b'0') && !matches!(c.peek(), Some(b'x' | b'X')) {
                    n.md2.clear();
                    return Ok(Some("md2"));
                }
                if !(c.eat("x") || c.eat("X")) {
                    return Err(c.expected("'0x'", af(A, "md2")));
                }
                let mut v: smallvec::SmallVec<[u8; 64]> = smallvec::SmallVec::new();
                c.hex_bytes(&mut v, af(A, "md2"))?;
                if v.len() > 248 {
                    return Err(c.err(
                        af(A, "md2"),
                        ErrorKind::Invalid("NSH metadata longer than 248 bytes"),
                    ));
                }
                n.md2 = v.to_vec();
                while n.md2.len() % 4 != 0 {
                    n.md2.push(0);
                }
                "md2"
            }
            _ => return Ok(None),
        }))
    })?;
    Ok(n)
}

fn parse_userspace(c: &mut Cursor<'_>) -> PResult<Userspace> {
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

/// `ovs_parse_tnl_push()`, after `tnl_push(`.
fn parse_tnl_push(c: &mut Cursor<'_>) -> PResult<TnlPush> {
    const A: &str = "tnl_push";
    let ctx = Context::Action(A);
    c.expect("tnl_port(", "'tnl_port('", ctx)?;
    let tnl_port = port_or_name(c, af(A, "tnl_port"))?;
    c.expect("),header(size=", "'),header(size='", af(A, "tnl_port"))?;
    let header_len = c.int(u64::from(u32::MAX), af(A, "size"))? as u32;
    c.expect(",type=", "',type='", af(A, "size"))?;
    let tnl_type = c.int(u64::from(u32::MAX), af(A, "type"))? as u32;
    c.expect(",eth(dst=", "',eth(dst='", af(A, "type"))?;
    let eth_dst = c.mac(af(A, "eth_dst"))?;
    c.expect(",src=", "',src='", af(A, "eth_dst"))?;
    let eth_src = c.mac(af(A, "eth_src"))?;
    c.expect(",dl_type=0x", "',dl_type=0x'", af(A, "eth_src"))?;
    let eth_type = c.hex(0xffff, af(A, "dl_type"))? as u16;
    c.expect("),", "'),'", af(A, "dl_type"))?;
    let (ip, ip_len) = if eth_type == 0x0800 {
        c.expect("ipv4(src=", "'ipv4(src='", af(A, "eth"))?;
        let src = c.ipv4(af(A, "ipv4_src"))?;
        c.expect(",dst=", "',dst='", af(A, "ipv4_src"))?;
        let dst = c.ipv4(af(A, "ipv4_dst"))?;
        c.expect(",proto=", "',proto='", af(A, "ipv4_dst"))?;
        let proto = c.int(0xff, af(A, "proto"))? as u8;
        c.expect(",tos=", "',tos='", af(A, "proto"))?;
        let tos = c.int(0xff, af(A, "tos"))? as u8;
        c.expect(",ttl=", "',ttl='", af(A, "tos"))?;
        let ttl = c.int(0xff, af(A, "ttl"))? as u8;
        c.expect(",frag=0x", "',frag=0x'", af(A, "ttl"))?;
        let frag = c.hex(0xffff, af(A, "frag"))? as u16;
        c.expect("),", "'),'", af(A, "frag"))?;
        (
            TnlIp::V4 {
                src,
                dst,
                proto,
                tos,
                ttl,
                frag,
            },
            20u32,
        )
    } else {
        c.expect("ipv6(src=", "'ipv6(src='", af(A, "eth"))?;
        let src = c.ipv6(af(A, "ipv6_src"))?;
        c.expect(",dst=", "',dst='", af(A, "ipv6_src"))?;
        let dst = c.ipv6(af(A, "ipv6_dst"))?;
        c.expect(",label=", "',label='", af(A, "ipv6_dst"))?;
        let label = c.int(0xf_ffff, af(A, "label"))? as u32;
        c.expect(",proto=", "',proto='", af(A, "label"))?;
        let proto = c.int(0xff, af(A, "proto"))? as u8;
        c.expect(",tclass=0x", "',tclass=0x'", af(A, "proto"))?;
        let tclass = c.hex(0xff, af(A, "tclass"))? as u8;
        c.expect(",hlimit=", "',hlimit='", af(A, "tclass"))?;
        let hlimit = c.int(0xff, af(A, "hlimit"))? as u8;
        c.expect("),", "'),'", af(A, "hlimit"))?;
        (
            TnlIp::V6 {
                src,
                dst,
                label,
                proto,
                tclass,
                hlimit,
            },
            40u32,
        )
    };
    let v4 = eth_type == 0x0800;
    let at = c.pos();
    let (tunnel, expect_type, l4_len): (TnlHeader, u32, Option<u32>) = if c.eat("udp(src=") {
        let src = c.int(0xffff, af(A, "udp_src"))? as u16;
        c.expect(",dst=", "',dst='", af(A, "udp_src"))?;
        let dst = c.int(0xffff, af(A, "udp_dst"))? as u16;
        c.expect(",csum=0x", "',csum=0x'", af(A, "udp_dst"))?;
        let csum = c.hex(0xffff, af(A, "csum"))? as u16;
        c.expect("),", "'),'", af(A, "csum"))?;
        let udp = TnlUdp { src, dst, csum };
        if c.eat("vxlan(flags=0x") {
            let flags = c.hex(u64::from(u32::MAX), af(A, "vxlan_flags"))? as u32;
            c.expect(",vni=0x", "',vni=0x'", af(A, "vxlan_flags"))?;
            let vni = c.hex(0xff_ffff, af(A, "vni"))? as u32;
            c.expect("))", "'))'", af(A, "vni"))?;
            (
                TnlHeader::Vxlan { udp, flags, vni },
                vport_type::VXLAN,
                Some(8 + 8),
            )
        } else if c.eat("geneve(") {
            let oam = c.eat("oam,");
            let crit = c.eat("crit,");
            c.expect("vni=", "'vni='", af(A, "geneve"))?;
            let vni = c.int(0xff_ffff, af(A, "vni"))? as u32;
            let mut options = None;
            let mut opt_len = 0u32;
            if c.eat(",options(") {
                let (o, _) = parse_geneve_opts(c, false)?;
                opt_len = u32::from(o.len);
                options = Some(o);
            }
            c.expect("))", "'))'", af(A, "geneve"))?;
            (
                TnlHeader::Geneve {
                    udp,
                    oam,
                    crit,
                    vni,
                    options,
                },
                vport_type::GENEVE,
                Some(8 + 8 + opt_len),
            )
        } else if c.eat("gtpu(flags=") {
            let flags = c.int(0xff, af(A, "gtpu_flags"))? as u8;
            c.expect(",msgtype=", "',msgtype='", af(A, "gtpu_flags"))?;
            let msgtype = c.int(0xff, af(A, "msgtype"))? as u8;
            c.expect(",teid=0x", "',teid=0x'", af(A, "msgtype"))?;
            let teid = c.hex(u64::from(u32::MAX), af(A, "teid"))? as u32;
            c.expect("))", "'))'", af(A, "teid"))?;
            (
                TnlHeader::Gtpu {
                    udp,
                    flags,
                    msgtype,
                    teid,
                },
                vport_type::GTPU,
                Some(8 + 8),
            )
        } else {
            return Err(c.expected("'vxlan(', 'geneve(' or 'gtpu('", af(A, "udp")));
        }
    } else if c.eat("gre((flags=0x") {
        let flags = c.hex(0xffff, af(A, "gre_flags"))? as u16;
        c.expect(",proto=0x", "',proto=0x'", af(A, "gre_flags"))?;
        let proto = c.hex(0xffff, af(A, "gre_proto"))? as u16;
        c.expect(")", "')'", af(A, "gre_proto"))?;
        let mut len = 4u32;
        let mut csum = None;
        let mut key = None;
        let mut seq = None;
        if flags & 0x8000 != 0 {
            c.expect(",csum=0x", "',csum=0x'", af(A, "gre"))?;
            csum = Some(c.hex(0xffff, af(A, "csum"))? as u16);
            len += 4;
        }
        if flags & 0x2000 != 0 {
            c.expect(",key=0x", "',key=0x'", af(A, "gre"))?;
            key = Some(c.hex(u64::from(u32::MAX), af(A, "key"))? as u32);
            len += 4;
        }
        if flags & 0x1000 != 0 {
            c.expect(",seq=0x", "',seq=0x'", af(A, "gre"))?;
            seq = Some(c.hex(u64::from(u32::MAX), af(A, "seq"))? as u32);
            len += 4;
        }
        c.expect("))", "'))'", af(A, "gre"))?;
        let t = if v4 {
            vport_type::GRE
        } else {
            vport_type::IP6GRE
        };
        (
            TnlHeader::Gre {
                flags,
                proto,
                csum,
                key,
                seq,
            },
            t,
            Some(len),
        )
    } else if c.eat("erspan(ver=") {
        let ver = c.int(0xff, af(A, "erspan_ver"))?;
        c.expect(",sid=0x", "',sid=0x'", af(A, "erspan_ver"))?;
        let sid = c.hex(0x3ff, af(A, "sid"))? as u16;
        let t = if v4 {
            vport_type::ERSPAN
        } else {
            vport_type::IP6ERSPAN
        };
        let h = match ver {
            1 => {
                c.expect(",idx=0x", "',idx=0x'", af(A, "sid"))?;
                let idx = c.hex(0xf_ffff, af(A, "idx"))? as u32;
                TnlHeader::ErspanV1 { sid, idx }
            }
            2 => {
                c.expect(",dir=", "',dir='", af(A, "sid"))?;
                let dir = c.int(1, af(A, "dir"))? as u8;
                c.expect(",hwid=0x", "',hwid=0x'", af(A, "dir"))?;
                let hwid = c.hex(0x3f, af(A, "hwid"))? as u8;
                TnlHeader::ErspanV2 { sid, dir, hwid }
            }
            _ => {
                return Err(c.err_at(
                    at,
                    af(A, "erspan"),
                    ErrorKind::Invalid("ERSPAN version (1 or 2)"),
                ))
            }
        };
        c.expect("))", "'))'", af(A, "erspan"))?;
        (h, t, None)
    } else {
        return Err(c.expected("'udp(', 'gre((' or 'erspan('", af(A, "ip")));
    };
    if tnl_type != expect_type {
        return Err(c.err_at(
            at,
            af(A, "type"),
            ErrorKind::Invalid("tunnel type for this header"),
        ));
    }
    if let Some(l4) = l4_len {
        if header_len != 14 + ip_len + l4 {
            return Err(c.err_at(
                at,
                af(A, "size"),
                ErrorKind::Invalid("header size for this header"),
            ));
        }
    }
    c.expect(",out_port(", "',out_port('", af(A, "header"))?;
    let out_port = port_or_name(c, af(A, "out_port"))?;
    c.expect("))", "'))'", af(A, "out_port"))?;
    Ok(TnlPush {
        tnl_port,
        out_port,
        header_len,
        tnl_type,
        eth_dst,
        eth_src,
        eth_type,
        ip,
        tunnel,
    })
}

// ---------------------------------------------------------------------------
// Formatting.

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

fn num_call(out: &mut String, head: &str, v: u32) {
    out.push_str(head);
    w::dec(out, u64::from(v));
    out.push(')');
}

/// `format_odp_conntrack_action()`.
fn fmt_ct(out: &mut String, ct: &CtAction) {
    out.push_str("ct");
    let any = ct.commit
        || ct.force_commit
        || ct.zone != 0
        || ct.mark.is_some()
        || ct.label.is_some()
        || ct.helper.is_some()
        || ct.timeout.is_some()
        || ct.nat.is_some();
    if !any {
        return;
    }
    out.push('(');
    if ct.commit {
        out.push_str("commit,");
    }
    if ct.force_commit {
        out.push_str("force_commit,");
    }
    if ct.zone != 0 {
        out.push_str("zone=");
        w::dec(out, u64::from(ct.zone));
        out.push(',');
    }
    if let Some((v, m)) = ct.mark {
        out.push_str("mark=");
        w::hex_alt(out, u64::from(v));
        out.push('/');
        w::hex_alt(out, u64::from(m));
        out.push(',');
    }
    if let Some(l) = &ct.label {
        out.push_str("label=");
        w::ds_hex(out, &l.0.to_be_bytes());
        if l.1 != u128::MAX {
            out.push('/');
            w::ds_hex(out, &l.1.to_be_bytes());
        }
        out.push(',');
    }
    if let Some(h) = &ct.helper {
        out.push_str("helper=");
        out.push_str(h.as_str());
        out.push(',');
    }
    if let Some(t) = &ct.timeout {
        // OVS writes no ',' after the timeout; one is written here so that
        // the output stays parseable when `nat` follows.
        out.push_str("timeout=");
        out.push_str(t);
        out.push(',');
    }
    if let Some(n) = &ct.nat {
        fmt_nat(out, n);
    }
    w::chomp(out, ',');
    out.push(')');
}

/// `format_odp_ct_nat()`.
fn fmt_nat(out: &mut String, n: &Nat) {
    out.push_str("nat");
    if n.kind == NatKind::Any {
        return;
    }
    out.push('(');
    out.push_str(if n.kind == NatKind::Src { "src" } else { "dst" });
    match &n.addrs {
        NatAddrs::None => {}
        NatAddrs::V4 { min, max } => {
            out.push('=');
            w::ipv4(out, *min);
            if *max != 0 && max != min {
                out.push('-');
                w::ipv4(out, *max);
            }
        }
        NatAddrs::V6(r) => {
            out.push('=');
            let bracket = n.proto_min != 0;
            let put = |out: &mut String, a: &[u8; 16]| {
                if bracket {
                    out.push('[');
                }
                w::ipv6(out, a);
                if bracket {
                    out.push(']');
                }
            };
            put(out, &r.0);
            if r.1 != [0; 16] && r.1 != r.0 {
                out.push('-');
                put(out, &r.1);
            }
        }
    }
    if !matches!(n.addrs, NatAddrs::None) && n.proto_min != 0 {
        out.push(':');
        w::dec(out, u64::from(n.proto_min));
        if n.proto_max != 0 && n.proto_max != n.proto_min {
            out.push('-');
            w::dec(out, u64::from(n.proto_max));
        }
    }
    out.push(',');
    if n.persistent {
        out.push_str("persistent,");
    }
    if n.hash {
        out.push_str("hash,");
    }
    if n.random {
        out.push_str("random,");
    }
    w::chomp(out, ',');
    out.push(')');
}

/// `OVS_ACTION_ATTR_SET` (all fields, verbose, no mask) or
/// `OVS_ACTION_ATTR_SET_MASKED` (wildcarded fields left out, masks shown).
fn fmt_set(out: &mut String, s: &SetAction) {
    out.push_str("set(");
    let verbose = !s.masked;
    macro_rules! mk {
        ($m:expr) => {
            if s.masked {
                Some($m)
            } else {
                None
            }
        };
    }
    match &s.field {
        SetField::Eth { key, mask } => {
            out.push_str("eth(");
            fmt_eth_key(out, key, mk!(mask), verbose);
            out.push(')');
        }
        SetField::Ipv4 { key, mask } => {
            out.push_str("ipv4(");
            fmt_ipv4_key(out, key, mk!(mask), verbose);
            out.push(')');
        }
        SetField::Tcp { key, mask }
        | SetField::Udp { key, mask }
        | SetField::Sctp { key, mask } => {
            out.push_str(match s.field {
                SetField::Tcp { .. } => "tcp(",
                SetField::Udp { .. } => "udp(",
                _ => "sctp(",
            });
            fmt_ports_key(out, key, mk!(mask), verbose);
            out.push(')');
        }
        SetField::SkbPriority { key, mask } | SetField::SkbMark { key, mask } => {
            out.push_str(if matches!(s.field, SetField::SkbPriority { .. }) {
                "skb_priority("
            } else {
                "skb_mark("
            });
            w::hex_alt(out, u64::from(*key));
            if s.masked && *mask != u32::MAX {
                out.push('/');
                w::hex_alt(out, u64::from(*mask));
            }
            out.push(')');
        }
        SetField::Other { attr, key, mask } => {
            format_key_attr(out, *attr, key, mk!(&**mask), verbose);
        }
    }
    out.push(')');
}

fn fmt_push_nsh(out: &mut String, n: &PushNsh) {
    out.push_str("push_nsh(flags=");
    w::dec(out, u64::from(n.flags));
    out.push_str(",ttl=");
    w::dec(out, u64::from(n.ttl));
    out.push_str(",mdtype=");
    w::dec(out, u64::from(n.mdtype));
    out.push_str(",np=");
    w::dec(out, u64::from(n.np));
    out.push_str(",spi=0x");
    w::hex(out, u64::from(n.spi));
    out.push_str(",si=");
    w::dec(out, u64::from(n.si));
    if n.mdtype == 1 {
        for (i, c) in n.context.iter().enumerate() {
            out.push_str(",c");
            w::dec(out, i as u64 + 1);
            out.push_str("=0x");
            w::hex(out, u64::from(*c));
        }
    } else {
        // OVS uses ds_put_hex(), which drops leading zero bytes; all bytes
        // are printed here so that the text reads back to the same metadata.
        out.push_str(",md2=");
        if n.md2.is_empty() {
            out.push('0');
        } else {
            out.push_str("0x");
            w::hex_bytes(out, &n.md2);
        }
    }
    out.push(')');
}

fn fmt_userspace(out: &mut String, u: &Userspace) {
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

fn fmt_udp(out: &mut String, u: &TnlUdp) {
    out.push_str("udp(src=");
    w::dec(out, u64::from(u.src));
    out.push_str(",dst=");
    w::dec(out, u64::from(u.dst));
    out.push_str(",csum=0x");
    w::hex(out, u64::from(u.csum));
    out.push_str("),");
}

/// `format_odp_tnl_push_action()` and `format_odp_tnl_push_header()`.
fn fmt_tnl_push(out: &mut String, t: &TnlPush) {
    out.push_str("tnl_push(tnl_port(");
    format_port(out, &t.tnl_port);
    out.push_str("),header(size=");
    w::dec(out, u64::from(t.header_len));
    out.push_str(",type=");
    w::dec(out, u64::from(t.tnl_type));
    out.push_str(",eth(dst=");
    w::mac(out, &t.eth_dst);
    out.push_str(",src=");
    w::mac(out, &t.eth_src);
    out.push_str(",dl_type=0x");
    w::hex_pad(out, u64::from(t.eth_type), 4);
    out.push_str("),");
    match &t.ip {
        TnlIp::V4 {
            src,
            dst,
            proto,
            tos,
            ttl,
            frag,
        } => {
            out.push_str("ipv4(src=");
            w::ipv4(out, *src);
            out.push_str(",dst=");
            w::ipv4(out, *dst);
            out.push_str(",proto=");
            w::dec(out, u64::from(*proto));
            out.push_str(",tos=");
            w::hex_alt(out, u64::from(*tos));
            out.push_str(",ttl=");
            w::dec(out, u64::from(*ttl));
            out.push_str(",frag=0x");
            w::hex(out, u64::from(*frag));
            out.push_str("),");
        }
        TnlIp::V6 {
            src,
            dst,
            label,
            proto,
            tclass,
            hlimit,
        } => {
            out.push_str("ipv6(src=");
            w::ipv6(out, src);
            out.push_str(",dst=");
            w::ipv6(out, dst);
            out.push_str(",label=");
            w::dec(out, u64::from(*label));
            out.push_str(",proto=");
            w::dec(out, u64::from(*proto));
            out.push_str(",tclass=0x");
            w::hex(out, u64::from(*tclass));
            out.push_str(",hlimit=");
            w::dec(out, u64::from(*hlimit));
            out.push_str("),");
        }
    }
    match &t.tunnel {
        TnlHeader::Vxlan { udp, flags, vni } => {
            fmt_udp(out, udp);
            out.push_str("vxlan(flags=0x");
            w::hex(out, u64::from(*flags));
            out.push_str(",vni=0x");
            w::hex(out, u64::from(*vni));
            out.push(')');
        }
        TnlHeader::Geneve {
            udp,
            oam,
            crit,
            vni,
            options,
        } => {
            fmt_udp(out, udp);
            out.push_str("geneve(");
            if *oam {
                out.push_str("oam,");
            }
            if *crit {
                out.push_str("crit,");
            }
            out.push_str("vni=0x");
            w::hex(out, u64::from(*vni));
            if let Some(o) = options.as_deref().filter(|o| o.len != 0) {
                out.push_str(",options(");
                fmt_geneve_opts(out, o.bytes(), None, false);
                out.push(')');
            }
            out.push(')');
        }
        TnlHeader::Gtpu {
            udp,
            flags,
            msgtype,
            teid,
        } => {
            fmt_udp(out, udp);
            out.push_str("gtpu(flags=0x");
            w::hex(out, u64::from(*flags));
            out.push_str(",msgtype=");
            w::dec(out, u64::from(*msgtype));
            out.push_str(",teid=0x");
            w::hex(out, u64::from(*teid));
            out.push(')');
        }
        TnlHeader::Gre {
            flags,
            proto,
            csum,
            key,
            seq,
        } => {
            out.push_str("gre((flags=0x");
            w::hex(out, u64::from(*flags));
            out.push_str(",proto=0x");
            w::hex(out, u64::from(*proto));
            out.push(')');
            if let Some(v) = csum {
                out.push_str(",csum=0x");
                w::hex(out, u64::from(*v));
            }
            if let Some(v) = key {
                out.push_str(",key=0x");
                w::hex(out, u64::from(*v));
            }
            if let Some(v) = seq {
                out.push_str(",seq=0x");
                w::hex(out, u64::from(*v));
            }
            out.push(')');
        }
        TnlHeader::ErspanV1 { sid, idx } => {
            out.push_str("erspan(ver=1,sid=0x");
            w::hex(out, u64::from(*sid));
            out.push_str(",idx=0x");
            w::hex(out, u64::from(*idx));
            out.push(')');
        }
        TnlHeader::ErspanV2 { sid, dir, hwid } => {
            out.push_str("erspan(ver=2,sid=0x");
            w::hex(out, u64::from(*sid));
            out.push_str(",dir=");
            w::dec(out, u64::from(*dir));
            out.push_str(",hwid=0x");
            w::hex(out, u64::from(*hwid));
            out.push(')');
        }
    }
    out.push_str("),out_port(");
    format_port(out, &t.out_port);
    out.push_str("))");
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
