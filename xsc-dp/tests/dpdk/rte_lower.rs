//! Lowering HwRule → RteRule, checked two independent ways: the bytes are
//! read back through bindgen's field names (not the offsets lowering used),
//! and DPDK's own `rte_flow_conv` deep-copies every rule and yields the
//! same bytes.

use crate::support::rules::kitchen_sink;
use smallvec::smallvec;
use xsc_dp::dpdk::deep_copy;
use xsc_dp::ffi;
use xsc_dp::rte::view::modify_value;
use xsc_dp::rte::{field_data, item_size, lower, Part, RteRule};
use xsc_dp::rule::*;

/// An IPv6 address as bindgen lays it out for this DPDK: `struct
/// rte_ipv6_addr` since 24.11, a byte array before.
#[cfg(xsc_dpdk_ipv6_addr)]
fn v6_bytes(a: ffi::rte_ipv6_addr) -> [u8; 16] {
    a.a
}
#[cfg(not(xsc_dpdk_ipv6_addr))]
fn v6_bytes(a: [u8; 16]) -> [u8; 16] {
    a
}

/// `vtc_flow`, in a union with its bit fields since 24.11.
#[cfg(xsc_dpdk_ipv6_addr)]
fn vtc_flow(h: &ffi::rte_ipv6_hdr) -> u32 {
    // Safety: both members of the union are plain integers.
    unsafe { h.__bindgen_anon_1.vtc_flow }
}
#[cfg(not(xsc_dpdk_ipv6_addr))]
fn vtc_flow(h: &ffi::rte_ipv6_hdr) -> u32 {
    h.vtc_flow
}

#[test]
fn fields_land_where_bindgen_says_they_are() {
    let rules = kitchen_sink();
    let mut rte = RteRule::new();
    lower(&rules[0], &mut rte).unwrap();
    assert_eq!(rte.attr().group, 1);
    assert_eq!(rte.attr().priority, 3);
    assert_eq!(rte.attr().transfer(), 1);
    let p: Vec<_> = rte.view().unwrap().items().collect();
    assert_eq!(p.len(), 5, "4 items + END");
    {
        let tag = p[0].spec::<ffi::rte_flow_item_tag>().unwrap();
        let tag_mask = p[0].mask::<ffi::rte_flow_item_tag>().unwrap();
        assert_eq!(
            (tag.data, tag.index, tag_mask.data, tag_mask.index),
            (0x21, 0, 0x3f, 0xff)
        );
        assert_eq!(
            p[1].spec::<ffi::rte_flow_item_ethdev>().unwrap().port_id,
            15
        );
        let eth = p[2].spec::<ffi::rte_flow_item_eth>().unwrap();
        // Safety: both union members are the Ethernet header's plain bytes.
        let hdr = unsafe { eth.__bindgen_anon_1.hdr };
        assert_eq!(hdr.dst_addr.addr_bytes, [0, 0, 0, 0xce, 0xcf, 0xb9]);
        assert_eq!(hdr.src_addr.addr_bytes, [0, 0, 0, 0x9d, 0xfb, 0x1a]);
        assert_eq!(u16::from_be(hdr.ether_type), 0x0800);
        assert_eq!(eth.has_vlan(), 0);
        assert_eq!(p[2].mask::<ffi::rte_flow_item_eth>().unwrap().has_vlan(), 1);
        let ip = p[3].spec::<ffi::rte_flow_item_ipv4>().unwrap().hdr;
        assert_eq!({ ip.src_addr }.to_ne_bytes(), [10, 16, 0, 14]);
        assert_eq!({ ip.dst_addr }.to_ne_bytes(), [10, 16, 0, 18]);
        assert_eq!(
            (ip.type_of_service, ip.time_to_live, ip.next_proto_id),
            (0x10, 64, 6)
        );
        let ip_mask = p[3].mask::<ffi::rte_flow_item_ipv4>().unwrap().hdr;
        assert_eq!(u16::from_be(ip_mask.fragment_offset), 0x3fff);
        assert!(!p[3].has(Part::Last));
        let a: Vec<_> = rte.view().unwrap().actions().collect();
        assert_eq!(a.len(), 4);
        assert_eq!(a[0].type_(), ffi::RTE_FLOW_ACTION_TYPE_COUNT);
        let set_tag = a[1].conf::<ffi::rte_flow_action_set_tag>().unwrap();
        assert_eq!((set_tag.index, set_tag.data, set_tag.mask), (1, 4, 0xffff));
        assert_eq!(a[2].conf::<ffi::rte_flow_action_jump>().unwrap().group, 7);
        assert_eq!(a[3].type_(), ffi::RTE_FLOW_ACTION_TYPE_END);
    }

    lower(&rules[1], &mut rte).unwrap();
    let p: Vec<_> = rte.view().unwrap().items().collect();
    let a: Vec<_> = rte.view().unwrap().actions().collect();
    {
        let tcp = p[2].spec::<ffi::rte_flow_item_tcp>().unwrap().hdr;
        assert_eq!(
            (
                u16::from_be(tcp.src_port),
                u16::from_be(tcp.dst_port),
                tcp.tcp_flags
            ),
            (3457, 80, 0x12)
        );
        assert_eq!(
            a[1].conf::<ffi::rte_flow_action_set_ipv4>()
                .unwrap()
                .ipv4_addr
                .to_ne_bytes(),
            [10, 16, 0, 18]
        );
        assert_eq!(
            u16::from_be(a[2].conf::<ffi::rte_flow_action_set_tp>().unwrap().port),
            8080
        );
    }

    lower(&rules[2], &mut rte).unwrap();
    let p: Vec<_> = rte.view().unwrap().items().collect();
    {
        let vlan = p[1].spec::<ffi::rte_flow_item_vlan>().unwrap();
        // Safety: both union members are the VLAN header's plain bytes.
        let vhdr = unsafe { vlan.__bindgen_anon_1.hdr };
        assert_eq!(u16::from_be(vhdr.vlan_tci), 100);
        assert_eq!(u16::from_be(vhdr.eth_proto), 0x86dd);
        assert_eq!(
            p[1].mask::<ffi::rte_flow_item_vlan>()
                .unwrap()
                .has_more_vlan(),
            1
        );
        let v6 = p[2].spec::<ffi::rte_flow_item_ipv6>().unwrap();
        let vtc = u32::from_be(vtc_flow(&v6.hdr));
        assert_eq!((vtc >> 20) & 0xff, 0xb8);
        assert_eq!(vtc & 0xfffff, 0x12345);
        assert_eq!((v6.hdr.proto, v6.hdr.hop_limits), (17, 9));
        assert_eq!(v6_bytes(v6.hdr.src_addr), [0xfe; 16]);
        assert_eq!(v6_bytes(v6.hdr.dst_addr), [0x20; 16]);
        assert_eq!(v6.has_frag_ext(), 1);
        let frag_last = p[3].last::<ffi::rte_flow_item_ipv6_frag_ext>().unwrap();
        assert_eq!(u16::from_be(frag_last.hdr.frag_data), 0xfff8);
        let udp = p[4].spec::<ffi::rte_flow_item_udp>().unwrap().hdr;
        assert_eq!(
            (u16::from_be(udp.src_port), u16::from_be(udp.dst_port)),
            (5353, 53)
        );
        let a: Vec<_> = rte.view().unwrap().actions().collect();
        assert_eq!(a[1].type_(), ffi::RTE_FLOW_ACTION_TYPE_OF_POP_VLAN);
        assert_eq!(
            a[2].conf::<ffi::rte_flow_action_ethdev>().unwrap().port_id,
            3
        );
    }

    lower(&rules[3], &mut rte).unwrap();
    let a: Vec<_> = rte.view().unwrap().actions().collect();
    {
        assert_eq!(
            a[0].conf::<ffi::rte_flow_action_set_mac>()
                .unwrap()
                .mac_addr,
            [0, 0, 0, 0x10, 0, 1]
        );
        assert_eq!(
            a[1].conf::<ffi::rte_flow_action_set_mac>()
                .unwrap()
                .mac_addr,
            [0, 0, 0, 0xce, 0xcf, 0xb9]
        );
        assert_eq!(
            v6_bytes(
                a[2].conf::<ffi::rte_flow_action_set_ipv6>()
                    .unwrap()
                    .ipv6_addr
            ),
            [1; 16]
        );
        assert_eq!(
            a[4].conf::<ffi::rte_flow_action_set_ttl>()
                .unwrap()
                .ttl_value,
            63
        );
        assert_eq!(a[5].type_(), ffi::RTE_FLOW_ACTION_TYPE_DEC_TTL);
    }

    lower(&rules[4], &mut rte).unwrap();
    let p: Vec<_> = rte.view().unwrap().items().collect();
    let a: Vec<_> = rte.view().unwrap().actions().collect();
    {
        let gen = p[3].spec::<ffi::rte_flow_item_geneve>().unwrap();
        assert_eq!(gen.vni, [0xab, 0xcd, 0xef]);
        assert_eq!(u16::from_be(gen.protocol), 0x6558);
        let ip_last = p[1].last::<ffi::rte_flow_item_ipv4>().unwrap().hdr;
        assert_eq!(u16::from_be(ip_last.fragment_offset), 0x1fff);
        assert_eq!(
            a[1].conf::<ffi::rte_flow_action_raw_decap>().unwrap().size,
            50
        );
        let mf = a[2].conf::<ffi::rte_flow_action_modify_field>().unwrap();
        assert_eq!(mf.operation, ffi::RTE_FLOW_MODIFY_SET);
        assert_eq!(mf.dst.field, ffi::RTE_FLOW_FIELD_TAG);
        assert_eq!(field_data::parts(&mf.dst).tag_index, 2);
        assert_eq!(mf.src.field, ffi::RTE_FLOW_FIELD_VALUE);
        assert_eq!(modify_value(&mf.src)[13..], [0xab, 0xcd, 0xef]);
        assert_eq!(mf.width, 24);
        let copy = a[3].conf::<ffi::rte_flow_action_modify_field>().unwrap();
        assert_eq!(
            (copy.dst.field, copy.src.field, copy.width),
            (ffi::RTE_FLOW_FIELD_MAC_DST, ffi::RTE_FLOW_FIELD_MAC_SRC, 48)
        );
    }

    lower(&rules[7], &mut rte).unwrap();
    let a: Vec<_> = rte.view().unwrap().actions().collect();
    {
        let sample = a[1].conf::<ffi::rte_flow_action_sample>().unwrap();
        assert_eq!(sample.ratio, 1);
        // The list is END-terminated right after these two (the view reads
        // up to 3 entries and finds END).
        let sub: Vec<_> = a[1].sample_actions(3).unwrap().unwrap().iter().collect();
        assert_eq!(
            sub.iter().map(|a| a.type_()).collect::<Vec<_>>(),
            [
                ffi::RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT,
                ffi::RTE_FLOW_ACTION_TYPE_COUNT,
            ]
        );
        assert_eq!(
            sub[0]
                .conf::<ffi::rte_flow_action_ethdev>()
                .unwrap()
                .port_id,
            4
        );
        let encap = a[2].conf::<ffi::rte_flow_action_raw_encap>().unwrap();
        assert_eq!(encap.size, 50);
        assert_eq!(a[2].raw_encap_data(), Some(&[0xab; 50][..]));
        assert!(encap.preserve.is_null());
    }
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
        let (orig_view, copy_view) = (rte.view().unwrap(), copy.view());
        for (i, (orig, dup)) in orig_view.items().zip(copy_view.items()).enumerate() {
            assert_eq!(orig.type_(), dup.type_(), "rule {n} item {i}");
            if orig.type_() == ffi::RTE_FLOW_ITEM_TYPE_END {
                continue;
            }
            assert!(
                item_size(orig.type_()).is_some(),
                "rule {n} item {i}: type {} not in the view's table",
                orig.type_()
            );
            for part in [Part::Spec, Part::Mask, Part::Last] {
                assert_eq!(
                    orig.bytes(part),
                    dup.bytes(part),
                    "rule {n} item {i} {part:?} differs after rte_flow_conv"
                );
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
        for (orig, dup) in orig_view.actions().zip(copy_view.actions()) {
            if orig.type_() == ffi::RTE_FLOW_ACTION_TYPE_RAW_ENCAP {
                let (o, d) = (orig.raw_encap_data(), dup.raw_encap_data());
                assert!(o.is_some_and(|o| o.len() >= 14), "{o:?}");
                assert_eq!(o, d);
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

/// Offset and size of `name` in the C compiler's layout of this DPDK
/// release (xsc-sys's `xsc_members` table).
fn c_member(name: &str) -> (usize, usize) {
    let mut count = 0usize;
    // Safety: xsc_members returns a static table of `count` entries whose
    // names are NUL-terminated string literals.
    let table = unsafe { std::slice::from_raw_parts(ffi::xsc_members(&mut count), count) };
    table
        .iter()
        .find(|m| {
            // Safety: see above.
            unsafe { std::ffi::CStr::from_ptr(m.name) }.to_bytes() == name.as_bytes()
        })
        .map(|m| (m.offset, m.size))
        .unwrap_or_else(|| panic!("{name} is not in xsc_members"))
}

fn read_uint(bytes: &[u8], (offset, size): (usize, usize)) -> u64 {
    bytes[offset..offset + size]
        .iter()
        .rev()
        .fold(0, |v, &b| v << 8 | u64::from(b))
}

/// The TAG register index of a MODIFY_FIELD operand lands where this
/// release's C compiler puts it (`level` before DPDK 23.07, `tag_index`
/// since), and nowhere else: lowering with another release's layout fails
/// here, where the eswitch (which reads the same way lowering writes) could
/// not tell.
#[test]
fn modify_field_tag_index_has_this_releases_c_layout() {
    let rule = HwRule {
        attr: Attr::default(),
        pattern: smallvec![],
        actions: smallvec![Action::CopyField {
            dst: Field::Tag(5),
            src: Field::Tag(3),
            width: 32,
        }],
    };
    let mut rte = RteRule::new();
    lower(&rule, &mut rte).unwrap();
    let a: Vec<_> = rte.view().unwrap().actions().collect();
    assert_eq!(a[0].type_(), ffi::RTE_FLOW_ACTION_TYPE_MODIFY_FIELD);
    // The bytes DPDK reads, as the arena holds them.
    let conf = a[0].conf_bytes().expect("MODIFY_FIELD conf");
    assert_eq!(
        conf.len(),
        std::mem::size_of::<ffi::rte_flow_action_modify_field>()
    );
    assert_eq!(read_uint(conf, c_member("modify_field.dst.tag")), 5);
    assert_eq!(read_uint(conf, c_member("modify_field.src.tag")), 3);
    assert_eq!(read_uint(conf, c_member("modify_field.width")), 32);
    assert_eq!(read_uint(conf, c_member("modify_field.dst.offset")), 0);
    if ffi::DPDK_VERSION >= (23, 7, 0) {
        // The level is its own byte since 23.07: encapsulation level 0.
        assert_eq!(read_uint(conf, c_member("modify_field.dst.level")), 0);
        assert_eq!(read_uint(conf, c_member("modify_field.src.level")), 0);
    }
}
