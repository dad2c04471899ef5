//! Lowering HwRule → RteRule, checked two independent ways: the bytes are
//! read back through bindgen's field names (not the offsets lowering used),
//! and DPDK's own `rte_flow_conv` deep-copies every rule and yields the
//! same bytes.

mod support;

use smallvec::smallvec;
use support::rules::kitchen_sink;
use xsc_dp::dpdk::deep_copy;
use xsc_dp::ffi;
use xsc_dp::rte::{lower, RteRule};
use xsc_dp::rule::*;

/// Safety: `p` points at a live `T` inside a sealed rule.
unsafe fn at<'a, T>(p: *const libc::c_void) -> &'a T {
    assert!(!p.is_null());
    unsafe { &*p.cast::<T>() }
}

#[test]
fn fields_land_where_bindgen_says_they_are() {
    let rules = kitchen_sink();
    let mut rte = RteRule::new();
    lower(&rules[0], &mut rte).unwrap();
    assert_eq!(rte.attr().group, 1);
    assert_eq!(rte.attr().priority, 3);
    assert_eq!(rte.attr().transfer(), 1);
    let p = rte.pattern();
    assert_eq!(p.len(), 5, "4 items + END");
    // Safety (all reads below): sealed pointers to the item structs pushed.
    unsafe {
        let tag = at::<ffi::rte_flow_item_tag>(p[0].spec);
        let tag_mask = at::<ffi::rte_flow_item_tag>(p[0].mask);
        assert_eq!(
            (tag.data, tag.index, tag_mask.data, tag_mask.index),
            (0x21, 0, 0x3f, 0xff)
        );
        assert_eq!(at::<ffi::rte_flow_item_ethdev>(p[1].spec).port_id, 15);
        let eth = at::<ffi::rte_flow_item_eth>(p[2].spec);
        let hdr = eth.__bindgen_anon_1.hdr;
        assert_eq!(hdr.dst_addr.addr_bytes, [0, 0, 0, 0xce, 0xcf, 0xb9]);
        assert_eq!(hdr.src_addr.addr_bytes, [0, 0, 0, 0x9d, 0xfb, 0x1a]);
        assert_eq!(u16::from_be(hdr.ether_type), 0x0800);
        assert_eq!(eth.has_vlan(), 0);
        assert_eq!(at::<ffi::rte_flow_item_eth>(p[2].mask).has_vlan(), 1);
        let ip = at::<ffi::rte_flow_item_ipv4>(p[3].spec).hdr;
        assert_eq!({ ip.src_addr }.to_ne_bytes(), [10, 16, 0, 14]);
        assert_eq!({ ip.dst_addr }.to_ne_bytes(), [10, 16, 0, 18]);
        assert_eq!(
            (ip.type_of_service, ip.time_to_live, ip.next_proto_id),
            (0x10, 64, 6)
        );
        let ip_mask = at::<ffi::rte_flow_item_ipv4>(p[3].mask).hdr;
        assert_eq!(u16::from_be(ip_mask.fragment_offset), 0x3fff);
        assert!(p[3].last.is_null());
        let a = rte.actions();
        assert_eq!(a.len(), 4);
        assert_eq!(a[0].type_, ffi::RTE_FLOW_ACTION_TYPE_COUNT);
        let set_tag = at::<ffi::rte_flow_action_set_tag>(a[1].conf);
        assert_eq!((set_tag.index, set_tag.data, set_tag.mask), (1, 4, 0xffff));
        assert_eq!(at::<ffi::rte_flow_action_jump>(a[2].conf).group, 7);
        assert_eq!(a[3].type_, ffi::RTE_FLOW_ACTION_TYPE_END);
    }

    lower(&rules[1], &mut rte).unwrap();
    let p = rte.pattern();
    let a = rte.actions();
    // Safety: as above.
    unsafe {
        let tcp = at::<ffi::rte_flow_item_tcp>(p[2].spec).hdr;
        assert_eq!(
            (
                u16::from_be(tcp.src_port),
                u16::from_be(tcp.dst_port),
                tcp.tcp_flags
            ),
            (3457, 80, 0x12)
        );
        assert_eq!(
            at::<ffi::rte_flow_action_set_ipv4>(a[1].conf)
                .ipv4_addr
                .to_ne_bytes(),
            [10, 16, 0, 18]
        );
        assert_eq!(
            u16::from_be(at::<ffi::rte_flow_action_set_tp>(a[2].conf).port),
            8080
        );
    }

    lower(&rules[2], &mut rte).unwrap();
    let p = rte.pattern();
    // Safety: as above.
    unsafe {
        let vlan = at::<ffi::rte_flow_item_vlan>(p[1].spec);
        assert_eq!(u16::from_be(vlan.__bindgen_anon_1.hdr.vlan_tci), 100);
        assert_eq!(u16::from_be(vlan.__bindgen_anon_1.hdr.eth_proto), 0x86dd);
        assert_eq!(at::<ffi::rte_flow_item_vlan>(p[1].mask).has_more_vlan(), 1);
        let v6 = at::<ffi::rte_flow_item_ipv6>(p[2].spec);
        let vtc = u32::from_be(v6.hdr.vtc_flow);
        assert_eq!((vtc >> 20) & 0xff, 0xb8);
        assert_eq!(vtc & 0xfffff, 0x12345);
        assert_eq!((v6.hdr.proto, v6.hdr.hop_limits), (17, 9));
        assert_eq!({ v6.hdr.src_addr }, [0xfe; 16]);
        assert_eq!({ v6.hdr.dst_addr }, [0x20; 16]);
        assert_eq!(v6.has_frag_ext(), 1);
        let frag_last = at::<ffi::rte_flow_item_ipv6_frag_ext>(p[3].last);
        assert_eq!(u16::from_be(frag_last.hdr.frag_data), 0xfff8);
        let udp = at::<ffi::rte_flow_item_udp>(p[4].spec).hdr;
        assert_eq!(
            (u16::from_be(udp.src_port), u16::from_be(udp.dst_port)),
            (5353, 53)
        );
        let a = rte.actions();
        assert_eq!(a[1].type_, ffi::RTE_FLOW_ACTION_TYPE_OF_POP_VLAN);
        assert_eq!(at::<ffi::rte_flow_action_ethdev>(a[2].conf).port_id, 3);
    }

    lower(&rules[3], &mut rte).unwrap();
    let a = rte.actions();
    // Safety: as above.
    unsafe {
        assert_eq!(
            at::<ffi::rte_flow_action_set_mac>(a[0].conf).mac_addr,
            [0, 0, 0, 0x10, 0, 1]
        );
        assert_eq!(
            at::<ffi::rte_flow_action_set_mac>(a[1].conf).mac_addr,
            [0, 0, 0, 0xce, 0xcf, 0xb9]
        );
        assert_eq!(
            at::<ffi::rte_flow_action_set_ipv6>(a[2].conf).ipv6_addr,
            [1; 16]
        );
        assert_eq!(at::<ffi::rte_flow_action_set_ttl>(a[4].conf).ttl_value, 63);
        assert_eq!(a[5].type_, ffi::RTE_FLOW_ACTION_TYPE_DEC_TTL);
    }

    lower(&rules[4], &mut rte).unwrap();
    let p = rte.pattern();
    let a = rte.actions();
    // Safety: as above; the SAMPLE and RAW_ENCAP confs point at arena copies.
    unsafe {
        let gen = at::<ffi::rte_flow_item_geneve>(p[3].spec);
        assert_eq!(gen.vni, [0xab, 0xcd, 0xef]);
        assert_eq!(u16::from_be(gen.protocol), 0x6558);
        let ip_last = at::<ffi::rte_flow_item_ipv4>(p[1].last).hdr;
        assert_eq!(u16::from_be(ip_last.fragment_offset), 0x1fff);
        assert_eq!(at::<ffi::rte_flow_action_raw_decap>(a[1].conf).size, 50);
        let mf = at::<ffi::rte_flow_action_modify_field>(a[2].conf);
        assert_eq!(mf.operation, ffi::RTE_FLOW_MODIFY_SET);
        assert_eq!(mf.dst.field, ffi::RTE_FLOW_FIELD_TAG);
        assert_eq!(mf.dst.__bindgen_anon_1.__bindgen_anon_1.level, 2);
        assert_eq!(mf.src.field, ffi::RTE_FLOW_FIELD_VALUE);
        assert_eq!(mf.src.__bindgen_anon_1.value[13..], [0xab, 0xcd, 0xef]);
        assert_eq!(mf.width, 24);
        let copy = at::<ffi::rte_flow_action_modify_field>(a[3].conf);
        assert_eq!(
            (copy.dst.field, copy.src.field, copy.width),
            (ffi::RTE_FLOW_FIELD_MAC_DST, ffi::RTE_FLOW_FIELD_MAC_SRC, 48)
        );
    }

    lower(&rules[7], &mut rte).unwrap();
    let a = rte.actions();
    // Safety: the SAMPLE and RAW_ENCAP confs point at arena copies.
    unsafe {
        let sample = at::<ffi::rte_flow_action_sample>(a[1].conf);
        assert_eq!(sample.ratio, 1);
        let sub = std::slice::from_raw_parts(sample.actions, 3);
        assert_eq!(
            sub.iter().map(|a| a.type_).collect::<Vec<_>>(),
            [
                ffi::RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT,
                ffi::RTE_FLOW_ACTION_TYPE_COUNT,
                ffi::RTE_FLOW_ACTION_TYPE_END
            ]
        );
        assert_eq!(at::<ffi::rte_flow_action_ethdev>(sub[0].conf).port_id, 4);
        let encap = at::<ffi::rte_flow_action_raw_encap>(a[2].conf);
        assert_eq!(encap.size, 50);
        assert_eq!(std::slice::from_raw_parts(encap.data, 50), &[0xab; 50]);
        assert!(encap.preserve.is_null());
    }
}

/// Size of the spec struct DPDK copies for an item type we emit.
fn item_size(t: ffi::rte_flow_item_type) -> usize {
    use std::mem::size_of;
    match t {
        ffi::RTE_FLOW_ITEM_TYPE_ETH => size_of::<ffi::rte_flow_item_eth>(),
        ffi::RTE_FLOW_ITEM_TYPE_VLAN => size_of::<ffi::rte_flow_item_vlan>(),
        ffi::RTE_FLOW_ITEM_TYPE_IPV4 => size_of::<ffi::rte_flow_item_ipv4>(),
        ffi::RTE_FLOW_ITEM_TYPE_IPV6 => size_of::<ffi::rte_flow_item_ipv6>(),
        ffi::RTE_FLOW_ITEM_TYPE_IPV6_FRAG_EXT => size_of::<ffi::rte_flow_item_ipv6_frag_ext>(),
        ffi::RTE_FLOW_ITEM_TYPE_TCP => size_of::<ffi::rte_flow_item_tcp>(),
        ffi::RTE_FLOW_ITEM_TYPE_UDP => size_of::<ffi::rte_flow_item_udp>(),
        ffi::RTE_FLOW_ITEM_TYPE_SCTP => size_of::<ffi::rte_flow_item_sctp>(),
        ffi::RTE_FLOW_ITEM_TYPE_ICMP => size_of::<ffi::rte_flow_item_icmp>(),
        ffi::RTE_FLOW_ITEM_TYPE_ICMP6 => size_of::<ffi::rte_flow_item_icmp6>(),
        ffi::RTE_FLOW_ITEM_TYPE_ARP_ETH_IPV4 => size_of::<ffi::rte_flow_item_arp_eth_ipv4>(),
        ffi::RTE_FLOW_ITEM_TYPE_ICMP6_ND_NS => size_of::<ffi::rte_flow_item_icmp6_nd_ns>(),
        ffi::RTE_FLOW_ITEM_TYPE_ICMP6_ND_NA => size_of::<ffi::rte_flow_item_icmp6_nd_na>(),
        ffi::RTE_FLOW_ITEM_TYPE_ICMP6_ND_OPT_SLA_ETH => {
            size_of::<ffi::rte_flow_item_icmp6_nd_opt_sla_eth>()
        }
        ffi::RTE_FLOW_ITEM_TYPE_ICMP6_ND_OPT_TLA_ETH => {
            size_of::<ffi::rte_flow_item_icmp6_nd_opt_tla_eth>()
        }
        ffi::RTE_FLOW_ITEM_TYPE_TAG => size_of::<ffi::rte_flow_item_tag>(),
        ffi::RTE_FLOW_ITEM_TYPE_META => size_of::<ffi::rte_flow_item_meta>(),
        ffi::RTE_FLOW_ITEM_TYPE_MARK => size_of::<ffi::rte_flow_item_mark>(),
        ffi::RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT | ffi::RTE_FLOW_ITEM_TYPE_PORT_REPRESENTOR => {
            size_of::<ffi::rte_flow_item_ethdev>()
        }
        ffi::RTE_FLOW_ITEM_TYPE_VXLAN => size_of::<ffi::rte_flow_item_vxlan>(),
        ffi::RTE_FLOW_ITEM_TYPE_GENEVE => size_of::<ffi::rte_flow_item_geneve>(),
        other => panic!("item type {other} not emitted by lowering"),
    }
}

/// Safety: `p` is NULL or points at `n` readable bytes.
unsafe fn bytes<'a>(p: *const libc::c_void, n: usize) -> Option<&'a [u8]> {
    (!p.is_null()).then(|| unsafe { std::slice::from_raw_parts(p.cast::<u8>(), n) })
}

#[test]
fn rte_flow_conv_deep_copies_every_lowered_rule_byte_for_byte() {
    let mut rte = RteRule::new();
    for (n, rule) in kitchen_sink().iter().enumerate() {
        lower(rule, &mut rte).unwrap();
        let copy = deep_copy(&rte).unwrap_or_else(|e| panic!("rule {n}: DPDK cannot copy it: {e}"));
        assert!(copy.size() > 0);
        assert_eq!(copy.attr().group, rte.attr().group);
        assert_eq!(copy.attr().transfer(), rte.attr().transfer());
        assert_eq!(copy.pattern().len(), rte.pattern().len());
        for (i, (orig, dup)) in rte.pattern().iter().zip(copy.pattern()).enumerate() {
            assert_eq!(orig.type_, dup.type_, "rule {n} item {i}");
            if orig.type_ == ffi::RTE_FLOW_ITEM_TYPE_END {
                continue;
            }
            let size = item_size(orig.type_);
            for (what, a, b) in [
                ("spec", orig.spec, dup.spec),
                ("mask", orig.mask, dup.mask),
                ("last", orig.last, dup.last),
            ] {
                // Safety: both point at `size`-byte item structs or are NULL.
                let (a, b) = unsafe { (bytes(a, size), bytes(b, size)) };
                assert_eq!(a, b, "rule {n} item {i} {what} differs after rte_flow_conv");
            }
        }
        assert_eq!(
            copy.actions().iter().map(|a| a.type_).collect::<Vec<_>>(),
            rte.actions().iter().map(|a| a.type_).collect::<Vec<_>>(),
            "rule {n}"
        );
        // The RAW_ENCAP header reads the same through the copy (22.11 copies
        // the conf shallowly, keeping the data pointer; later releases
        // deep-copy the header).
        for (orig, dup) in rte.actions().iter().zip(copy.actions()) {
            if orig.type_ == ffi::RTE_FLOW_ACTION_TYPE_RAW_ENCAP {
                // Safety: both confs are rte_flow_action_raw_encap with `size` data bytes.
                unsafe {
                    let (o, d) = (
                        at::<ffi::rte_flow_action_raw_encap>(orig.conf),
                        at::<ffi::rte_flow_action_raw_encap>(dup.conf),
                    );
                    assert_eq!(o.size, d.size);
                    assert_eq!(
                        std::slice::from_raw_parts(o.data, o.size),
                        std::slice::from_raw_parts(d.data, d.size)
                    );
                }
            }
        }
    }
}

#[test]
fn out_of_range_modify_width_is_an_error_not_a_rule() {
    let rule = HwRule {
        attr: Attr::default(),
        pattern: smallvec![],
        actions: smallvec![Action::ModifyField {
            dst: Field::Ipv4Ttl,
            offset: 4,
            width: 8,
            value: [0; 16]
        }],
    };
    let mut rte = RteRule::new();
    let e = lower(&rule, &mut rte).unwrap_err();
    assert_eq!(e.to_string(), "modify_field width 12 does not fit rte_flow");
}
