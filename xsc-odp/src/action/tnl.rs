//! The `tnl_push(...)` action ([`TnlPush`]): the tunnel header OVS builds
//! (Ethernet, IPv4 or IPv6, then UDP with VXLAN/Geneve/GTP-U, GRE or
//! ERSPAN), parse (`ovs_parse_tnl_push()`) and format
//! (`format_odp_tnl_push_header()`) side by side.
use super::text::{af, port_or_name};
use super::{GeneveOpts, OdpPort};
use crate::error::{Context, ErrorKind};
use crate::key::meta::format_port;
use crate::key::tunnel::{fmt_geneve_opts, parse_geneve_opts};
use crate::lex::{Cursor, PResult};
use crate::write as w;

/// `tnl_push(...)`: the header OVS will prepend, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TnlPush {
    pub tnl_port: OdpPort,
    pub out_port: OdpPort,
    /// `header(size=)`.
    pub header_len: u32,
    /// `header(type=)`: an `OVS_VPORT_TYPE_*`.
    pub tnl_type: u32,
    pub eth_dst: [u8; 6],
    pub eth_src: [u8; 6],
    pub eth_type: u16,
    pub ip: TnlIp,
    pub tunnel: TnlHeader,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TnlIp {
    V4 {
        src: u32,
        dst: u32,
        proto: u8,
        tos: u8,
        ttl: u8,
        frag: u16,
    },
    V6 {
        src: [u8; 16],
        dst: [u8; 16],
        label: u32,
        proto: u8,
        tclass: u8,
        hlimit: u8,
    },
}

/// `udp(src=,dst=,csum=)` of a UDP-based tunnel header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TnlUdp {
    pub src: u16,
    pub dst: u16,
    pub csum: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TnlHeader {
    Vxlan {
        udp: TnlUdp,
        flags: u32,
        vni: u32,
    },
    Geneve {
        udp: TnlUdp,
        oam: bool,
        crit: bool,
        vni: u32,
        options: Option<Box<GeneveOpts>>,
    },
    Gtpu {
        udp: TnlUdp,
        flags: u8,
        msgtype: u8,
        teid: u32,
    },
    Gre {
        flags: u16,
        proto: u16,
        csum: Option<u16>,
        key: Option<u32>,
        seq: Option<u32>,
    },
    ErspanV1 {
        sid: u16,
        idx: u32,
    },
    ErspanV2 {
        sid: u16,
        dir: u8,
        hwid: u8,
    },
}

/// `OVS_VPORT_TYPE_*` values used in `tnl_push(header(type=))`.
pub mod vport_type {
    pub const GRE: u32 = 3;
    pub const VXLAN: u32 = 4;
    pub const GENEVE: u32 = 5;
    pub const ERSPAN: u32 = 107;
    pub const IP6ERSPAN: u32 = 108;
    pub const IP6GRE: u32 = 109;
    pub const GTPU: u32 = 110;
}

/// `ovs_parse_tnl_push()`, after `tnl_push(`.
pub(crate) fn parse_tnl_push(c: &mut Cursor<'_>) -> PResult<TnlPush> {
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

pub(crate) fn fmt_udp(out: &mut String, u: &TnlUdp) {
    out.push_str("udp(src=");
    w::dec(out, u64::from(u.src));
    out.push_str(",dst=");
    w::dec(out, u64::from(u.dst));
    out.push_str(",csum=0x");
    w::hex(out, u64::from(u.csum));
    out.push_str("),");
}

/// `format_odp_tnl_push_action()` and `format_odp_tnl_push_header()`.
pub(crate) fn fmt_tnl_push(out: &mut String, t: &TnlPush) {
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
