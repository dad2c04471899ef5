//! The conntrack action `ct(...)` ([`CtAction`]) and its NAT clause
//! `nat(src|dst=ADDR[-ADDR][:PORT[-PORT]],...)` ([`Nat`]): parse
//! (`parse_conntrack_action()`) and format (`format_odp_conntrack_action()`)
//! side by side.
//!
//! Invariant: OVS's encoding normalisations are applied on parse (a zone of 0
//! or a mark mask of 0 means no attribute; NAT options without an address are
//! dropped), so the model equals what the netlink form would carry.
use super::text::af;
use super::PortName;
use crate::error::{Context, ErrorKind};
use crate::lex::{is_delim, Cursor, PResult};
use crate::write as w;

/// `ct(...)` (`OVS_ACTION_ATTR_CT`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CtAction {
    pub commit: bool,
    pub force_commit: bool,
    /// 0: no zone attribute.
    pub zone: u16,
    /// `mark=value/mask`, present when the mask is non-zero.
    pub mark: Option<(u32, u32)>,
    /// `label=value/mask` (host-order 128-bit values).
    pub label: Option<Box<(u128, u128)>>,
    /// `helper=` (at most 15 bytes).
    pub helper: Option<PortName>,
    /// `timeout=` (at most 31 bytes).
    pub timeout: Option<Box<str>>,
    pub nat: Option<Nat>,
}

/// `nat[(src|dst[=addr[-addr][:port[-port]]][,persistent][,hash][,random])]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Nat {
    pub kind: NatKind,
    pub addrs: NatAddrs,
    /// 0: none.
    pub proto_min: u16,
    /// 0: none (only kept when above `proto_min`).
    pub proto_max: u16,
    pub persistent: bool,
    pub hash: bool,
    pub random: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NatKind {
    /// Plain `nat`: reverse NAT of an existing connection.
    #[default]
    Any,
    Src,
    Dst,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum NatAddrs {
    #[default]
    None,
    /// Host-order IPv4 range; `max` 0 when absent.
    V4 { min: u32, max: u32 },
    /// IPv6 range; `max` all-zero when absent.
    V6(Box<([u8; 16], [u8; 16])>),
}

#[inline]
pub(crate) fn parse_ct(c: &mut Cursor<'_>) -> PResult<CtAction> {
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
#[inline]
pub(crate) fn parse_nat(c: &mut Cursor<'_>) -> PResult<Nat> {
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

#[inline]
pub(crate) fn parse_nat_range(c: &mut Cursor<'_>, nat: &mut Nat) -> PResult<()> {
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

/// `format_odp_conntrack_action()`.
pub(crate) fn fmt_ct(out: &mut String, ct: &CtAction) {
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
pub(crate) fn fmt_nat(out: &mut String, n: &Nat) {
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
