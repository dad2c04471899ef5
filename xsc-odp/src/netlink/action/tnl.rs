//! `OVS_ACTION_ATTR_TUNNEL_PUSH`: `struct ovs_action_push_tnl` (OVS
//! `include/linux/openvswitch.h`, userspace only): u32 tnl_port, u32
//! out_port, u32 header_len, u32 tnl_type, then `header_len` bytes of the
//! prebuilt header (`odp_put_tnl_push_action()` cuts the 512-byte array).
//!
//! The header is Ethernet (14) + IPv4 (20, no options) or IPv6 (40) + the
//! tunnel header, as OVS's `ovs_parse_tnl_push()` builds it: UDP (8) +
//! VXLAN (8) / Geneve (8 + options) / GTP-U (8, + 4 when S/PN/E is set), or
//! GRE (4 + optional csum/key/seq).  Fields the text form does not carry
//! (IPv4 total length and id, UDP length) are written as zero, and the IPv4
//! header checksum is computed, as OVS does.  ERSPAN headers are not built
//! here (an `Unsupported` error); decoding them is an `Invalid` error.
use super::super::attr::{self, arr, be16, be32, ne32, Attr};
use super::super::consts::{OVS_ACTION_ATTR_TUNNEL_PUSH, TNL_PUSH_FIXED_LEN, TNL_PUSH_HEADER_SIZE};
use super::super::{port_number, ErrorKind, NetlinkError, PortMap};
use crate::{vport_type, GeneveOpts, OdpPort, TnlHeader, TnlIp, TnlPush, TnlUdp};

const NM: &str = "OVS_ACTION_ATTR_TUNNEL_PUSH";

fn ip_csum(h: &[u8]) -> u16 {
    let mut sum = 0u32;
    for c in h.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The header bytes `tnl_push` prepends, laid out as OVS's
/// `ovs_parse_tnl_push()` builds them (lengths and the IPv4 id zero, the
/// IPv4 checksum computed). The NIC pushes the same bytes with `RAW_ENCAP`.
pub fn tnl_push_header(t: &TnlPush) -> Result<Vec<u8>, NetlinkError> {
    let mut h: Vec<u8> = Vec::with_capacity(128);
    h.extend_from_slice(&t.eth_dst);
    h.extend_from_slice(&t.eth_src);
    h.extend_from_slice(&t.eth_type.to_be_bytes());
    let ip_at = h.len();
    match &t.ip {
        TnlIp::V4 {
            src,
            dst,
            proto,
            tos,
            ttl,
            frag,
        } => {
            h.extend_from_slice(&[0x45, *tos, 0, 0, 0, 0]);
            h.extend_from_slice(&frag.to_be_bytes());
            h.extend_from_slice(&[*ttl, *proto, 0, 0]);
            h.extend_from_slice(&src.to_be_bytes());
            h.extend_from_slice(&dst.to_be_bytes());
            let c = ip_csum(&h[ip_at..ip_at + 20]);
            h[ip_at + 10..ip_at + 12].copy_from_slice(&c.to_be_bytes());
        }
        TnlIp::V6 {
            src,
            dst,
            label,
            proto,
            tclass,
            hlimit,
        } => {
            let w = (6u32 << 28) | (u32::from(*tclass) << 20) | (label & 0xfffff);
            h.extend_from_slice(&w.to_be_bytes());
            h.extend_from_slice(&[0, 0, *proto, *hlimit]);
            h.extend_from_slice(src);
            h.extend_from_slice(dst);
        }
    }
    let udp = |h: &mut Vec<u8>, u: &TnlUdp| {
        h.extend_from_slice(&u.src.to_be_bytes());
        h.extend_from_slice(&u.dst.to_be_bytes());
        h.extend_from_slice(&[0, 0]);
        h.extend_from_slice(&u.csum.to_be_bytes());
    };
    match &t.tunnel {
        TnlHeader::Vxlan { udp: u, flags, vni } => {
            udp(&mut h, u);
            h.extend_from_slice(&flags.to_be_bytes());
            h.extend_from_slice(&(vni << 8).to_be_bytes());
        }
        TnlHeader::Geneve {
            udp: u,
            oam,
            crit,
            vni,
            options,
        } => {
            udp(&mut h, u);
            let opts = options.as_ref().map_or(&[][..], |o| o.bytes());
            h.push((opts.len() / 4) as u8 & 0x3f);
            h.push((u8::from(*oam) << 7) | (u8::from(*crit) << 6));
            h.extend_from_slice(&0x6558u16.to_be_bytes());
            h.extend_from_slice(&(vni << 8).to_be_bytes());
            h.extend_from_slice(opts);
        }
        TnlHeader::Gtpu {
            udp: u,
            flags,
            msgtype,
            teid,
        } => {
            udp(&mut h, u);
            h.extend_from_slice(&[*flags, *msgtype, 0, 0]);
            h.extend_from_slice(&teid.to_be_bytes());
            if flags & 0x07 != 0 {
                h.extend_from_slice(&[0; 4]);
            }
        }
        TnlHeader::Gre {
            flags,
            proto,
            csum,
            key,
            seq,
        } => {
            h.extend_from_slice(&flags.to_be_bytes());
            h.extend_from_slice(&proto.to_be_bytes());
            if let Some(c) = csum {
                h.extend_from_slice(&c.to_be_bytes());
                h.extend_from_slice(&[0, 0]);
            }
            if let Some(k) = key {
                h.extend_from_slice(&k.to_be_bytes());
            }
            if let Some(s) = seq {
                h.extend_from_slice(&s.to_be_bytes());
            }
        }
        _ => {
            return Err(NetlinkError::new(
                NM,
                0,
                ErrorKind::Unsupported("an ERSPAN tnl_push header"),
            ))
        }
    }
    if h.len() > TNL_PUSH_HEADER_SIZE {
        return Err(NetlinkError::new(
            NM,
            0,
            ErrorKind::Unsupported("a header over 512 bytes"),
        ));
    }
    Ok(h)
}

pub(super) fn encode(
    t: &TnlPush,
    ports: &mut dyn PortMap,
    out: &mut Vec<u8>,
) -> Result<(), NetlinkError> {
    let tnl_port = port_number(&t.tnl_port, ports, NM)?;
    let out_port = port_number(&t.out_port, ports, NM)?;
    let h = tnl_push_header(t)?;
    let at = attr::start_unspec(out, OVS_ACTION_ATTR_TUNNEL_PUSH);
    out.extend_from_slice(&tnl_port.to_ne_bytes());
    out.extend_from_slice(&out_port.to_ne_bytes());
    out.extend_from_slice(&(h.len() as u32).to_ne_bytes());
    out.extend_from_slice(&t.tnl_type.to_ne_bytes());
    out.extend_from_slice(&h);
    attr::end_unspec(out, at);
    Ok(())
}

pub(super) fn decode(a: &Attr<'_>) -> Result<TnlPush, NetlinkError> {
    let p = a.payload;
    let bad = |why| NetlinkError::invalid(NM, a.offset, why);
    if p.len() < TNL_PUSH_FIXED_LEN {
        return Err(NetlinkError::bad_len(
            NM,
            a.offset,
            p.len(),
            TNL_PUSH_FIXED_LEN,
        ));
    }
    let header_len = ne32(p, 8) as usize;
    if header_len > TNL_PUSH_HEADER_SIZE || TNL_PUSH_FIXED_LEN + header_len != p.len() {
        return Err(NetlinkError::bad_len(
            NM,
            a.offset,
            p.len(),
            TNL_PUSH_FIXED_LEN + header_len.min(TNL_PUSH_HEADER_SIZE),
        ));
    }
    let tnl_type = ne32(p, 12);
    let h = &p[TNL_PUSH_FIXED_LEN..];
    if h.len() < 14 {
        return Err(bad("header shorter than Ethernet"));
    }
    let eth_type = be16(h, 12);
    let mut at = 14;
    let (ip, proto) = match eth_type {
        0x0800 => {
            if h.len() < at + 20 || h[at] != 0x45 {
                return Err(bad("IPv4 header missing or with options"));
            }
            let i = &h[at..];
            at += 20;
            (
                TnlIp::V4 {
                    src: be32(i, 12),
                    dst: be32(i, 16),
                    proto: i[9],
                    tos: i[1],
                    ttl: i[8],
                    frag: be16(i, 6),
                },
                i[9],
            )
        }
        0x86dd => {
            if h.len() < at + 40 {
                return Err(bad("IPv6 header truncated"));
            }
            let i = &h[at..];
            at += 40;
            let w = be32(i, 0);
            (
                TnlIp::V6 {
                    src: arr(i, 8),
                    dst: arr(i, 24),
                    label: w & 0xfffff,
                    proto: i[6],
                    tclass: (w >> 20) as u8,
                    hlimit: i[7],
                },
                i[6],
            )
        }
        _ => return Err(bad("unknown tunnel header ethertype")),
    };
    let rest = &h[at..];
    let tunnel = match (proto, tnl_type) {
        (17, vport_type::VXLAN | vport_type::GENEVE | vport_type::GTPU) => {
            if rest.len() < 16 {
                return Err(bad("UDP tunnel header truncated"));
            }
            let udp = TnlUdp {
                src: be16(rest, 0),
                dst: be16(rest, 2),
                csum: be16(rest, 6),
            };
            let t = &rest[8..];
            match tnl_type {
                vport_type::VXLAN => {
                    if t.len() != 8 {
                        return Err(bad("VXLAN header length"));
                    }
                    TnlHeader::Vxlan {
                        udp,
                        flags: be32(t, 0),
                        vni: be32(t, 4) >> 8,
                    }
                }
                vport_type::GENEVE => {
                    let opt_len = usize::from(t[0] & 0x3f) * 4;
                    if t.len() != 8 + opt_len {
                        return Err(bad("Geneve header length"));
                    }
                    let options = (opt_len > 0).then(|| {
                        let mut g = Box::<GeneveOpts>::default();
                        g.data[..opt_len].copy_from_slice(&t[8..]);
                        g.len = opt_len as u8;
                        g
                    });
                    TnlHeader::Geneve {
                        udp,
                        oam: t[1] & 0x80 != 0,
                        crit: t[1] & 0x40 != 0,
                        vni: be32(t, 4) >> 8,
                        options,
                    }
                }
                _ => {
                    let want = if t[0] & 0x07 != 0 { 12 } else { 8 };
                    if t.len() != want {
                        return Err(bad("GTP-U header length"));
                    }
                    TnlHeader::Gtpu {
                        udp,
                        flags: t[0],
                        msgtype: t[1],
                        teid: be32(t, 4),
                    }
                }
            }
        }
        (47, vport_type::GRE | vport_type::IP6GRE) => {
            if rest.len() < 4 {
                return Err(bad("GRE header truncated"));
            }
            let flags = be16(rest, 0);
            let mut o = 4;
            let mut take = |n: usize| {
                let s = o;
                o += n;
                (rest.len() >= o).then_some(s)
            };
            let csum = if flags & 0x8000 != 0 {
                Some(
                    take(4)
                        .map(|s| be16(rest, s))
                        .ok_or(bad("GRE header truncated"))?,
                )
            } else {
                None
            };
            let key = if flags & 0x2000 != 0 {
                Some(
                    take(4)
                        .map(|s| be32(rest, s))
                        .ok_or(bad("GRE header truncated"))?,
                )
            } else {
                None
            };
            let seq = if flags & 0x1000 != 0 {
                Some(
                    take(4)
                        .map(|s| be32(rest, s))
                        .ok_or(bad("GRE header truncated"))?,
                )
            } else {
                None
            };
            if o != rest.len() {
                return Err(bad("GRE header length"));
            }
            TnlHeader::Gre {
                flags,
                proto: be16(rest, 2),
                csum,
                key,
                seq,
            }
        }
        _ => return Err(bad("tunnel header type not decoded (ERSPAN or unknown)")),
    };
    Ok(TnlPush {
        tnl_port: OdpPort::Number(ne32(p, 0)),
        out_port: OdpPort::Number(ne32(p, 4)),
        header_len: header_len as u32,
        tnl_type,
        eth_dst: arr(h, 0),
        eth_src: arr(h, 6),
        eth_type,
        ip,
        tunnel,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::{decode_actions, encode_actions, NoPortNames};
    use crate::Action;

    #[test]
    fn vxlan_push_round_trips_with_ovs_sizes() {
        let t = TnlPush {
            tnl_port: OdpPort::Number(4789),
            out_port: OdpPort::Number(1),
            header_len: 50,
            tnl_type: vport_type::VXLAN,
            eth_dst: [0xf8, 0xbc, 0x12, 0x44, 0x34, 0xb6],
            eth_src: [0xf8, 0xbc, 0x12, 0x46, 0x58, 0xe0],
            eth_type: 0x0800,
            ip: TnlIp::V4 {
                src: 0x0100_0001,
                dst: 0x0100_0002,
                proto: 17,
                tos: 0,
                ttl: 64,
                frag: 0x4000,
            },
            tunnel: TnlHeader::Vxlan {
                udp: TnlUdp {
                    src: 0,
                    dst: 4789,
                    csum: 0,
                },
                flags: 0x0800_0000,
                vni: 0x1c7,
            },
        };
        let list = [Action::TnlPush(Box::new(t))];
        let mut v = Vec::new();
        encode_actions(&list, &mut NoPortNames, &mut v).unwrap();
        // 4 header + 16 fixed + 14 eth + 20 ipv4 + 8 udp + 8 vxlan = 70,
        // padded to 72; nla_len stays 70.
        assert_eq!(v.len(), 72);
        assert_eq!(u16::from_ne_bytes([v[0], v[1]]), 70);
        assert_eq!(ne32(&v, 4 + 8), 50);
        // The IPv4 checksum makes the header sum to 0xffff.
        assert_eq!(ip_csum(&v[4 + 16 + 14..4 + 16 + 34]), 0);
        assert_eq!(decode_actions(&v).unwrap().as_slice(), &list);
    }
}
