//! The mask of OVS's key-only form of a flow (no `OVS_FLOW_ATTR_MASK`): every
//! attribute the key holds, matched exactly, nested `encap` and tunnel
//! included.
use super::{tnl_flags, ErspanOpts, FlowKey, FlowMask, GeneveOpts, KeyAttr, OdpPort, TunnelAttr};

/// The mask OVS implies for a key given without one: every attribute the key
/// has, matched exactly (all bits set), nested `encap` and tunnel included.
pub fn exact_mask(key: &FlowKey) -> FlowMask {
    let mut m = FlowKey {
        present: key.present,
        ..FlowKey::default()
    };
    let p = key.present;
    let has = |a| p.contains(a);
    if has(KeyAttr::Priority) {
        m.skb_priority = !0;
    }
    if has(KeyAttr::SkbMark) {
        m.skb_mark = !0;
    }
    if has(KeyAttr::RecircId) {
        m.recirc_id = !0;
    }
    if has(KeyAttr::DpHash) {
        m.dp_hash = !0;
    }
    if has(KeyAttr::CtState) {
        m.ct_state = !0;
    }
    if has(KeyAttr::CtZone) {
        m.ct_zone = !0;
    }
    if has(KeyAttr::CtMark) {
        m.ct_mark = !0;
    }
    if has(KeyAttr::CtLabels) {
        m.ct_label = !0;
    }
    if has(KeyAttr::CtOrigTupleIpv4) {
        let t = &mut m.ct_tuple4;
        (t.src, t.dst, t.src_port, t.dst_port, t.proto) = (!0, !0, !0, !0, !0);
    }
    if has(KeyAttr::CtOrigTupleIpv6) {
        let t = &mut m.ct_tuple6;
        (t.src, t.dst, t.src_port, t.dst_port, t.proto) = ([0xff; 16], [0xff; 16], !0, !0, !0);
    }
    if has(KeyAttr::Tunnel) {
        // The tunnel sub-attributes the key holds, each matched exactly: a
        // mask field is set only where its attribute is present, so that the
        // mask encodes to the same attributes (a mask cannot carry the KEY
        // flag, which keys imply with OVS_TUNNEL_KEY_ATTR_ID).
        let (kt, t) = (&key.tunnel, &mut m.tunnel);
        t.present = kt.present;
        let on = |a: TunnelAttr| kt.has(a);
        if on(TunnelAttr::Id) {
            t.tun_id = !0;
        }
        if on(TunnelAttr::Ipv4Src) {
            t.ipv4_src = !0;
        }
        if on(TunnelAttr::Ipv4Dst) {
            t.ipv4_dst = !0;
        }
        if on(TunnelAttr::Ipv6Src) {
            t.ipv6_src = [0xff; 16];
        }
        if on(TunnelAttr::Ipv6Dst) {
            t.ipv6_dst = [0xff; 16];
        }
        if on(TunnelAttr::Tos) {
            t.tos = !0;
        }
        if on(TunnelAttr::Ttl) {
            t.ttl = !0;
        }
        if on(TunnelAttr::TpSrc) {
            t.tp_src = !0;
        }
        if on(TunnelAttr::TpDst) {
            t.tp_dst = !0;
        }
        for (a, bit) in [
            (TunnelAttr::DontFragment, tnl_flags::DONT_FRAGMENT),
            (TunnelAttr::Csum, tnl_flags::CSUM),
            (TunnelAttr::Oam, tnl_flags::OAM),
        ] {
            if on(a) {
                t.flags |= bit;
            }
        }
        if on(TunnelAttr::VxlanOpts) {
            t.vxlan_gbp = !0;
        }
        t.geneve = kt.geneve.as_ref().map(|g| {
            let mut e = Box::<GeneveOpts>::default();
            e.len = g.len;
            e.data[..usize::from(g.len)].fill(0xff);
            e
        });
        if on(TunnelAttr::ErspanOpts) {
            t.erspan = ErspanOpts {
                ver: !0,
                idx: !0,
                dir: 1,
                hwid: 0x3f,
            };
        }
        if on(TunnelAttr::GtpuOpts) {
            (t.gtpu.flags, t.gtpu.msgtype) = (!0, !0);
        }
    }
    if has(KeyAttr::InPort) {
        m.in_port = OdpPort::Number(!0);
    }
    if has(KeyAttr::PacketType) {
        (m.packet_type.ns, m.packet_type.id) = (!0, !0);
    }
    if has(KeyAttr::Ethernet) {
        (m.eth.src, m.eth.dst) = ([0xff; 6], [0xff; 6]);
    }
    if has(KeyAttr::Vlan) {
        m.vlan_tci = !0;
    }
    if has(KeyAttr::Ethertype) {
        m.eth_type = !0;
    }
    if has(KeyAttr::Mpls) {
        // Only the key's labels exist: the mask covers those, so that it
        // encodes to exactly as many labels as the key has.
        m.mpls.n = key.mpls.n;
        for lse in m.mpls.lse.iter_mut().take(usize::from(key.mpls.n)) {
            *lse = !0;
        }
    }
    if has(KeyAttr::Ipv4) {
        let k = &mut m.ipv4;
        (k.src, k.dst, k.proto, k.tos, k.ttl, k.frag) = (!0, !0, !0, !0, !0, !0);
    }
    if has(KeyAttr::Ipv6) {
        let k = &mut m.ipv6;
        (k.src, k.dst, k.label) = ([0xff; 16], [0xff; 16], !0);
        (k.proto, k.tclass, k.hlimit, k.frag) = (!0, !0, !0, !0);
    }
    if has(KeyAttr::Tcp) {
        (m.tcp.src, m.tcp.dst) = (!0, !0);
    }
    if has(KeyAttr::TcpFlags) {
        m.tcp_flags = !0;
    }
    if has(KeyAttr::Udp) {
        (m.udp.src, m.udp.dst) = (!0, !0);
    }
    if has(KeyAttr::Sctp) {
        (m.sctp.src, m.sctp.dst) = (!0, !0);
    }
    if has(KeyAttr::Icmp) {
        (m.icmp.type_, m.icmp.code) = (!0, !0);
    }
    if has(KeyAttr::Icmpv6) {
        (m.icmpv6.type_, m.icmpv6.code) = (!0, !0);
    }
    if has(KeyAttr::Arp) {
        let a = &mut m.arp;
        (a.sip, a.tip, a.op, a.sha, a.tha) = (!0, !0, !0, [0xff; 6], [0xff; 6]);
    }
    if has(KeyAttr::Nd) {
        (m.nd.target, m.nd.sll, m.nd.tll) = ([0xff; 16], [0xff; 6], [0xff; 6]);
    }
    if has(KeyAttr::NdExtensions) {
        (m.nd_ext.reserved, m.nd_ext.options_type) = (!0, !0);
    }
    if has(KeyAttr::Nsh) {
        let n = &mut m.nsh;
        (n.flags, n.ttl, n.mdtype, n.np, n.spi, n.si) = (!0, !0, !0, !0, 0x00ff_ffff, !0);
        n.context = [!0; 4];
    }
    if let Some(e) = key.encap.as_ref() {
        m.encap = Some(Box::new(exact_mask(e)));
    }
    m
}
