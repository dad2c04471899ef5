//! Round trips and error cases of the key codec.
use super::*;
use crate::netlink::consts::*;
use crate::netlink::NoPortNames;

/// Hand-built bytes for `recirc_id(0x2),in_port(1),eth_type(0x0800),
/// ipv4(src=10.16.0.14,dst=10.16.0.100,proto=6,tos=0,ttl=64,frag=no)`
/// with the uAPI layout: {nla_len, nla_type} host order, then payload.
fn fixture_key() -> Vec<u8> {
    let mut v = Vec::new();
    // OVS_KEY_ATTR_RECIRC_ID (20): u32 host order.
    v.extend_from_slice(&8u16.to_ne_bytes());
    v.extend_from_slice(&20u16.to_ne_bytes());
    v.extend_from_slice(&2u32.to_ne_bytes());
    // OVS_KEY_ATTR_IN_PORT (3): u32 host order.
    v.extend_from_slice(&8u16.to_ne_bytes());
    v.extend_from_slice(&3u16.to_ne_bytes());
    v.extend_from_slice(&1u32.to_ne_bytes());
    // OVS_KEY_ATTR_ETHERTYPE (6): be16, then 2 bytes of padding.
    v.extend_from_slice(&6u16.to_ne_bytes());
    v.extend_from_slice(&6u16.to_ne_bytes());
    v.extend_from_slice(&[0x08, 0x00, 0, 0]);
    // OVS_KEY_ATTR_IPV4 (7): struct ovs_key_ipv4 (12 bytes).
    v.extend_from_slice(&16u16.to_ne_bytes());
    v.extend_from_slice(&7u16.to_ne_bytes());
    v.extend_from_slice(&[10, 16, 0, 14, 10, 16, 0, 100, 6, 0, 64, 0]);
    v
}

#[test]
fn decodes_hand_built_key_without_mask_as_exact() {
    let (k, m) = decode_key(&fixture_key(), None).unwrap();
    assert_eq!(k.recirc_id, 2);
    assert_eq!(k.in_port, OdpPort::Number(1));
    assert_eq!(k.eth_type, 0x0800);
    assert_eq!(k.ipv4.src, 0x0a10_000e);
    assert_eq!(k.ipv4.dst, 0x0a10_0064);
    assert_eq!((k.ipv4.proto, k.ipv4.ttl), (6, 64));
    assert!(k.has(KeyAttr::Ipv4) && !k.has(KeyAttr::Tcp));
    assert_eq!(m.present, k.present);
    assert_eq!(m.ipv4.src, !0);
    assert_eq!(m.in_port, OdpPort::Number(!0));
}

#[test]
fn encode_is_canonical_order_and_stable() {
    let bytes = fixture_key();
    let (k, m) = decode_key(&bytes, None).unwrap();
    let mut out = Vec::new();
    encode_key(&k, &mut NoPortNames, &mut out).unwrap();
    // Canonical order puts RECIRC_ID before IN_PORT, as the fixture does.
    assert_eq!(out, bytes);
    let mut mb = Vec::new();
    encode_mask(&m, &mut mb).unwrap();
    let (k2, m2) = decode_key(&out, Some(&mb)).unwrap();
    assert_eq!(k2, k);
    assert_eq!(m2, m);
}

#[test]
fn absent_mask_attribute_is_wildcarded() {
    let bytes = fixture_key();
    // Mask list with only OVS_KEY_ATTR_RECIRC_ID = 0xffffffff.
    let mut mask = Vec::new();
    attr::put_u32(&mut mask, OVS_KEY_ATTR_RECIRC_ID, !0);
    let (_, m) = decode_key(&bytes, Some(&mask)).unwrap();
    assert!(m.has(KeyAttr::RecircId));
    assert!(!m.has(KeyAttr::Ipv4));
    assert_eq!(m.ipv4.src, 0);
}

#[test]
fn fixed_len_table_matches_the_match() {
    for a in KeyAttr::CANONICAL_ORDER {
        assert_eq!(fixed_len(a), fixed_len_slow(a), "{a:?}");
    }
}

#[test]
fn decode_checks_the_lengths_of_the_table() {
    // The single-dispatch decoder has its own lengths: they must be
    // `fixed_len`'s, for every attribute.
    for a in KeyAttr::CANONICAL_ORDER {
        let Some(n) = fixed_len(a) else { continue };
        let mut k = FlowKey::default();
        assert!(decode_fixed(a, &[0u8; 64][..n], 0, &mut k).is_ok(), "{a:?}");
        for bad in [n - 1, n + 1] {
            let e = decode_fixed(a, &[0u8; 64][..bad], 8, &mut k).unwrap_err();
            assert_eq!(e, NetlinkError::bad_len(name(a), 8, bad, n), "{a:?}");
        }
    }
    for a in [KeyAttr::Encap, KeyAttr::Tunnel, KeyAttr::Nsh] {
        let e = decode_fixed(a, &[], 0, &mut FlowKey::default()).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::Invalid("nested attribute where a value was expected")
        );
    }
}

#[test]
fn bad_fixed_length_names_attribute_and_offset() {
    let mut v = fixture_key();
    // Shrink the IPv4 attribute's nla_len from 16 to 12 (8-byte payload).
    v[24..26].copy_from_slice(&12u16.to_ne_bytes());
    let e = decode_key(&v, None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "OVS_KEY_ATTR_IPV4 at byte 24: payload of 8 bytes, expected 12"
    );
}

#[test]
fn unknown_duplicate_and_truncated() {
    let mut v = Vec::new();
    attr::put_u32(&mut v, 99, 1);
    assert_eq!(
        decode_key(&v, None).unwrap_err().kind,
        ErrorKind::UnknownAttr { ty: 99 }
    );
    let mut v = Vec::new();
    attr::put_u32(&mut v, OVS_KEY_ATTR_SKB_MARK, 1);
    attr::put_u32(&mut v, OVS_KEY_ATTR_SKB_MARK, 1);
    let e = decode_key(&v, None).unwrap_err();
    assert_eq!(
        (e.attr, e.offset, e.kind),
        ("OVS_KEY_ATTR_SKB_MARK", 8, ErrorKind::Duplicate)
    );
    let v = fixture_key();
    let e = decode_key(&v[..30], None).unwrap_err();
    assert_eq!(e.offset, 24);
    assert!(matches!(
        e.kind,
        ErrorKind::BadNlaLen {
            nla_len: 16,
            left: 6
        }
    ));
}

#[test]
fn tunnel_round_trip_with_options() {
    // tun_key_to_attr() order: ID, IPV4_SRC, IPV4_DST, TTL, TP_DST,
    // VXLAN_OPTS{GBP}, then GENEVE_OPTS.
    let mut k = FlowKey::default();
    k.present.insert(KeyAttr::Tunnel);
    let t = &mut k.tunnel;
    t.tun_id = 0x1234;
    t.flags = tnl_flags::KEY | tnl_flags::CSUM;
    t.ipv4_src = 0x0101_0101;
    t.ipv4_dst = 0x0202_0202;
    t.ttl = 64;
    t.tp_dst = 4789;
    t.vxlan_gbp = 0x0001_0064;
    let mut g = Box::<GeneveOpts>::default();
    g.len = 8;
    g.data[..8].copy_from_slice(&[0x01, 0x02, 0x80, 0x01, 0xde, 0xad, 0xbe, 0xef]);
    t.geneve = Some(g);
    let mut out = Vec::new();
    encode_key(&k, &mut NoPortNames, &mut out).unwrap();
    // Outer header, then ID (4+8).
    assert_eq!(u16::from_ne_bytes([out[2], out[3]]), OVS_KEY_ATTR_TUNNEL);
    assert_eq!(u16::from_ne_bytes([out[6], out[7]]), OVS_TUNNEL_KEY_ATTR_ID);
    assert_eq!(&out[8..16], &0x1234u64.to_be_bytes());
    let (d, _) = decode_key(&out, None).unwrap();
    assert_eq!(d.tunnel.tun_id, 0x1234);
    assert_eq!(d.tunnel.flags, tnl_flags::KEY | tnl_flags::CSUM);
    assert_eq!(d.tunnel.vxlan_gbp, 0x0001_0064);
    assert_eq!(
        d.tunnel.geneve.as_ref().unwrap().bytes(),
        k.tunnel.geneve.as_ref().unwrap().bytes()
    );
    let mut again = Vec::new();
    encode_key(&d, &mut NoPortNames, &mut again).unwrap();
    assert_eq!(again, out);
}

#[test]
fn tunnel_key_without_ttl_is_rejected() {
    let mut v = Vec::new();
    let at = attr::start_nested(&mut v, OVS_KEY_ATTR_TUNNEL);
    attr::put_be32(&mut v, OVS_TUNNEL_KEY_ATTR_IPV4_DST, 1);
    attr::end_nested(&mut v, at);
    let e = decode_key(&v, None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "OVS_KEY_ATTR_TUNNEL at byte 0: invalid: tunnel key without OVS_TUNNEL_KEY_ATTR_TTL"
    );
}

#[test]
fn erspan_v2_bits_follow_erspan_md2() {
    // hwid 0x2b = upper 2 bits 0b10 in byte 10 bits 0-1, low 4 bits 0xb in
    // byte 11 bits 4-7; dir in byte 11 bit 3.
    let mut t = Tunnel {
        ttl: 1,
        ..Tunnel::default()
    };
    t.erspan = ErspanOpts {
        ver: 2,
        idx: 0,
        dir: 1,
        hwid: 0x2b,
    };
    let mut out = Vec::new();
    put_tunnel(&t, false, &mut out);
    let (k, _) = decode_key(&out, None).unwrap();
    assert_eq!(k.tunnel.erspan, t.erspan);
    // The ERSPAN sub-attribute is last: header + 12 bytes.
    let e = &out[out.len() - 12..];
    assert_eq!((e[10], e[11]), (0b10, 0xb8));
}

#[test]
fn vlan_encap_nests_and_limits_depth() {
    let mut inner = FlowKey::default();
    inner.present.insert(KeyAttr::Ethertype);
    inner.eth_type = 0x0800;
    let mut k = FlowKey::default();
    k.present.insert(KeyAttr::Ethertype);
    k.present.insert(KeyAttr::Vlan);
    k.present.insert(KeyAttr::Encap);
    k.eth_type = 0x8100;
    k.vlan_tci = 0x1005;
    k.encap = Some(Box::new(inner));
    let mut out = Vec::new();
    encode_key(&k, &mut NoPortNames, &mut out).unwrap();
    // ETHERTYPE(8) VLAN(8) ENCAP{ETHERTYPE(8)}.
    assert_eq!(out.len(), 8 + 8 + 4 + 8);
    assert_eq!(u16::from_ne_bytes([out[18], out[19]]), OVS_KEY_ATTR_ENCAP);
    let (d, m) = decode_key(&out, None).unwrap();
    assert_eq!(d, k);
    assert_eq!(m.encap.as_ref().unwrap().eth_type, 0xffff);
    // Three levels of ENCAP exceed FLOW_MAX_VLAN_HEADERS.
    let mut deep = Vec::new();
    let a = attr::start_nested(&mut deep, OVS_KEY_ATTR_ENCAP);
    let b = attr::start_nested(&mut deep, OVS_KEY_ATTR_ENCAP);
    let c = attr::start_nested(&mut deep, OVS_KEY_ATTR_ENCAP);
    attr::end_nested(&mut deep, c);
    attr::end_nested(&mut deep, b);
    attr::end_nested(&mut deep, a);
    let e = decode_key(&deep, None).unwrap_err();
    assert_eq!((e.offset, e.kind), (8, ErrorKind::TooDeep));
}

#[test]
fn in_port_name_needs_a_port_map() {
    let mut k = FlowKey::default();
    k.present.insert(KeyAttr::InPort);
    k.in_port = OdpPort::Name(crate::PortName::new("p1").unwrap());
    let mut out = Vec::new();
    let e = encode_key(&k, &mut NoPortNames, &mut out).unwrap_err();
    assert_eq!(
        e.to_string(),
        "OVS_KEY_ATTR_IN_PORT at byte 0: port name 'p1' has no number"
    );
    let mut map = std::collections::HashMap::from([("p1".to_string(), 7u32)]);
    encode_key(&k, &mut map, &mut out).unwrap();
    assert_eq!(
        decode_key(&out, None).unwrap().0.in_port,
        OdpPort::Number(7)
    );
}

#[cfg(test)]
mod mask_regressions {
    use crate::netlink::{decode_key, encode_key, encode_mask, NoPortNames};

    /// Found by the `odp_netlink` fuzz target: a mask holding an empty
    /// `OVS_KEY_ATTR_TUNNEL` nest (with an empty key) must encode back to a
    /// mask that decodes the same; the encoder used to add a TTL to it.
    #[test]
    fn an_empty_tunnel_mask_round_trips() {
        let mask = [0x04, 0x00, 0x10, 0x00];
        let (k, m) = decode_key(&[], Some(&mask)).expect("decodes");
        let (mut kb, mut mb) = (Vec::new(), Vec::new());
        encode_key(&k, &mut NoPortNames, &mut kb).expect("key encodes");
        encode_mask(&m, &mut mb).expect("mask encodes");
        let (k2, m2) = decode_key(&kb, Some(&mb)).expect("re-decodes");
        assert_eq!(k2, k);
        assert_eq!(m2, m);
    }

    /// From the fuzzer: the exact mask of a key-only tunnel holding just a
    /// TTL covered every other tunnel field too.
    #[test]
    fn the_exact_mask_of_a_sparse_tunnel_key_round_trips() {
        let key = [
            0x09, 0x00, 0x10, 0x00, 0x05, 0x00, 0x04, 0x00, 0x40, 0, 0, 0,
        ];
        let (k, m) = decode_key(&key, None).expect("decodes");
        let (mut kb, mut mb) = (Vec::new(), Vec::new());
        encode_key(&k, &mut NoPortNames, &mut kb).expect("key encodes");
        encode_mask(&m, &mut mb).expect("mask encodes");
        let (k2, m2) = decode_key(&kb, Some(&mb)).expect("re-decodes");
        assert_eq!((k2, m2), (k, m));
    }

    /// Also from the fuzzer: the exact mask of a key holding an empty MPLS
    /// attribute (no labels) covered three labels that encode to nothing.
    #[test]
    fn the_exact_mask_of_an_empty_mpls_key_round_trips() {
        let key = [0x04, 0x00, 0x15, 0x00];
        let (k, m) = decode_key(&key, None).expect("decodes");
        let (mut kb, mut mb) = (Vec::new(), Vec::new());
        encode_key(&k, &mut NoPortNames, &mut kb).expect("key encodes");
        encode_mask(&m, &mut mb).expect("mask encodes");
        let (k2, m2) = decode_key(&kb, Some(&mb)).expect("re-decodes");
        assert_eq!((k2, m2), (k, m));
    }
}
