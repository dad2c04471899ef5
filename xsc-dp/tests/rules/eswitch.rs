//! The software eswitch (`xsc_dp::eswitch`): rules built as `HwRule`s and
//! lowered to the exact rte_flow bytes, real frames through them. Frames and
//! checksum checks are built here, independently of the eswitch's own code.

use std::sync::Arc;

use smallvec::SmallVec;
use xsc_dp::device::FlowDevice;
use xsc_dp::device::{DeviceError, FlowErrorCause};
use xsc_dp::eswitch::{DropReason, Eswitch, Fate, ToHost, Verdict, MAX_TAGS};
use xsc_dp::profile::DeviceProfile;
use xsc_dp::rte::{lower, RteRule};
use xsc_dp::rule::Direction;
use xsc_dp::rule::*;

// ---------------------------------------------------------------- frames

const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0xaa];
const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0xbb];

/// RFC 1071 over the concatenation of `parts` (each but the last even).
fn csum(parts: &[&[u8]]) -> u16 {
    let mut s: u32 = 0;
    for p in parts {
        for w in p.chunks(2) {
            s += u32::from(w[0]) << 8 | u32::from(*w.get(1).unwrap_or(&0));
        }
    }
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

fn pseudo(src: &[u8], dst: &[u8], proto: u8, len: usize) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend_from_slice(src);
    p.extend_from_slice(dst);
    if src.len() == 4 {
        p.extend_from_slice(&[0, proto]);
        p.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        p.extend_from_slice(&(len as u32).to_be_bytes());
        p.extend_from_slice(&[0, 0, 0, proto]);
    }
    p
}

#[derive(Clone, Copy)]
enum L4<'a> {
    Tcp(u16, u16, u8),
    Udp(u16, u16),
    /// UDP with checksum 0 (none).
    UdpNoCsum(u16, u16),
    Icmp(u8, u8, u16),
    Raw(u8, &'a [u8]),
}

fn l4(src: &[u8], dst: &[u8], l: L4<'_>, payload: &[u8]) -> (u8, Vec<u8>) {
    let mut seg = Vec::new();
    let (proto, at) = match l {
        L4::Tcp(s, d, flags) => {
            seg.extend_from_slice(&s.to_be_bytes());
            seg.extend_from_slice(&d.to_be_bytes());
            seg.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
            (6, Some(16))
        }
        L4::Udp(s, d) | L4::UdpNoCsum(s, d) => {
            seg.extend_from_slice(&s.to_be_bytes());
            seg.extend_from_slice(&d.to_be_bytes());
            seg.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
            seg.extend_from_slice(&[0, 0]);
            (17, matches!(l, L4::Udp(..)).then_some(6))
        }
        L4::Icmp(t, c, ident) => {
            seg.extend_from_slice(&[t, c, 0, 0]);
            seg.extend_from_slice(&ident.to_be_bytes());
            seg.extend_from_slice(&[0, 1]);
            (if src.len() == 4 { 1 } else { 58 }, Some(2))
        }
        L4::Raw(proto, bytes) => {
            seg.extend_from_slice(bytes);
            (proto, None)
        }
    };
    seg.extend_from_slice(payload);
    if let Some(at) = at {
        let c = if proto == 1 {
            csum(&[&seg])
        } else {
            csum(&[&pseudo(src, dst, proto, seg.len()), &seg])
        };
        let c = if proto == 17 && c == 0 { 0xffff } else { c };
        seg[at..at + 2].copy_from_slice(&c.to_be_bytes());
    }
    (proto, seg)
}

fn ipv4_frag(src: [u8; 4], dst: [u8; 4], l: L4<'_>, frag: u16) -> Vec<u8> {
    let (proto, seg) = l4(&src, &dst, l, b"payload!");
    let mut h = vec![0x45, 0x28];
    h.extend_from_slice(&((20 + seg.len()) as u16).to_be_bytes());
    h.extend_from_slice(&[0x12, 0x34]);
    h.extend_from_slice(&frag.to_be_bytes());
    h.extend_from_slice(&[64, proto, 0, 0]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    let c = csum(&[&h]);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h.extend_from_slice(&seg);
    h
}

fn ipv4(src: [u8; 4], dst: [u8; 4], l: L4<'_>) -> Vec<u8> {
    ipv4_frag(src, dst, l, 0)
}

fn ipv6(src: [u8; 16], dst: [u8; 16], l: L4<'_>) -> Vec<u8> {
    let (proto, seg) = l4(&src, &dst, l, b"payload!");
    let mut h = vec![0x6b, 0x81, 0x23, 0x45];
    h.extend_from_slice(&(seg.len() as u16).to_be_bytes());
    h.extend_from_slice(&[proto, 64]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h.extend_from_slice(&seg);
    h
}

fn frame(tags: &[(u16, u16)], ether_type: u16, l3: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&MAC_B);
    f.extend_from_slice(&MAC_A);
    for &(tpid, tci) in tags {
        f.extend_from_slice(&tpid.to_be_bytes());
        f.extend_from_slice(&tci.to_be_bytes());
    }
    f.extend_from_slice(&ether_type.to_be_bytes());
    f.extend_from_slice(l3);
    f
}

fn v4_tcp() -> Vec<u8> {
    frame(
        &[],
        0x0800,
        &ipv4([10, 0, 0, 1], [10, 0, 0, 2], L4::Tcp(1000, 80, 0x10)),
    )
}

fn v4_udp() -> Vec<u8> {
    frame(
        &[],
        0x0800,
        &ipv4([10, 0, 0, 1], [10, 0, 0, 2], L4::Udp(5000, 53)),
    )
}

const V6_A: [u8; 16] = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const V6_B: [u8; 16] = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

/// Checks every checksum of a frame with the routine above: IPv4 header,
/// TCP/UDP (IPv4 and IPv6, UDP 0 over IPv4 skipped), ICMP/ICMPv6.
fn assert_checksums(f: &[u8]) {
    let mut off = 12;
    let mut et = u16::from_be_bytes([f[off], f[off + 1]]);
    off += 2;
    while matches!(et, 0x8100 | 0x88a8) {
        et = u16::from_be_bytes([f[off + 2], f[off + 3]]);
        off += 4;
    }
    let (src, dst, proto, l4) = match et {
        0x0800 => {
            let ihl = usize::from(f[off] & 0xf) * 4;
            assert_eq!(
                csum(&[&f[off..off + ihl]]),
                0,
                "IPv4 header checksum of {f:02x?}"
            );
            (
                &f[off + 12..off + 16],
                &f[off + 16..off + 20],
                f[off + 9],
                off + ihl,
            )
        }
        0x86dd => (
            &f[off + 8..off + 24],
            &f[off + 24..off + 40],
            f[off + 6],
            off + 40,
        ),
        _ => return,
    };
    let seg = &f[l4..];
    match proto {
        6 | 17 | 58 => {
            if proto == 17 && src.len() == 4 && seg[6..8] == [0, 0] {
                return;
            }
            assert_eq!(
                csum(&[&pseudo(src, dst, proto, seg.len()), seg]),
                0,
                "L4 checksum (proto {proto}) of {f:02x?}"
            );
        }
        1 => assert_eq!(csum(&[seg]), 0, "ICMP checksum"),
        _ => {}
    }
}

// ---------------------------------------------------------------- rules

fn attr(group: u32, priority: u32) -> Attr {
    Attr {
        group,
        priority,
        dir: Direction::Transfer,
    }
}

fn rte(group: u32, priority: u32, pattern: &[Item], actions: &[Action]) -> RteRule {
    let hw = HwRule {
        attr: attr(group, priority),
        pattern: SmallVec::from_slice(pattern),
        actions: actions.iter().cloned().collect(),
    };
    let mut out = RteRule::new();
    lower(&hw, &mut out).expect("lowers");
    out
}

fn any_eth() -> Item {
    Item::Eth(Masked::default())
}

fn ipv4_item(dst: [u8; 4]) -> Item {
    Item::Ipv4 {
        m: Masked::new(
            Ipv4Item {
                dst,
                ..Default::default()
            },
            Ipv4Item {
                dst: [255; 4],
                ..Default::default()
            },
        ),
        last: None,
    }
}

fn tag(index: u8, spec: u32, mask: u32) -> Item {
    Item::Tag {
        index,
        m: Masked::new(spec, mask),
    }
}

const PORTS: &[u16] = &[0, 1, 2, 3];

fn generic() -> Eswitch {
    Eswitch::new(DeviceProfile::generic(), PORTS)
}

fn out_port(v: &Verdict) -> (u16, &[u8]) {
    match &v.fate {
        Fate::Output { port, bytes } => (*port, bytes),
        other => panic!("expected an output, got {other:?} via {:?}", v.path),
    }
}

fn to_host(v: &Verdict) -> &ToHost {
    match &v.fate {
        Fate::ToSoftware(h) => h,
        other => panic!("expected software, got {other:?}"),
    }
}

fn errno(e: &DeviceError) -> i32 {
    e.errno().expect("a flow error has an errno")
}

fn flow_cause(e: &DeviceError) -> (FlowErrorCause, Option<usize>) {
    match e {
        DeviceError::Flow(f) => (f.cause, f.index),
        other => panic!("not a flow error: {other}"),
    }
}

// ---------------------------------------------------------------- tests

#[test]
fn a_full_eswitch_says_enospc_and_keeps_every_rule() {
    let profile = DeviceProfile {
        rules_per_group: 4,
        rules: 6,
        ..DeviceProfile::generic()
    };
    let esw = Eswitch::new(profile, PORTS);
    let mut kept = Vec::new();
    for i in 0..4u8 {
        let r = rte(
            0,
            0,
            &[any_eth(), ipv4_item([10, 0, 0, i])],
            &[Action::Count, Action::RepresentedPort { port_id: 1 }],
        );
        kept.push(esw.create(&r).expect("fits"));
    }
    let fifth = rte(
        0,
        0,
        &[any_eth(), ipv4_item([10, 0, 0, 9])],
        &[Action::Drop],
    );
    let e = esw.create(&fifth).unwrap_err();
    assert_eq!(errno(&e), libc::ENOSPC, "{e}");
    assert!(e.to_string().contains("group 0"), "{e}");
    for i in 0..2u8 {
        let r = rte(1, 0, &[ipv4_item([10, 1, 0, i])], &[Action::Drop]);
        kept.push(esw.create(&r).expect("another group has room"));
    }
    let e = esw
        .create(&rte(2, 0, &[any_eth()], &[Action::Drop]))
        .unwrap_err();
    assert_eq!(errno(&e), libc::ENOSPC, "the device is full: {e}");
    assert_eq!(esw.rule_count(), 6);
    assert_eq!(esw.group_count(), 2);
    // Every accepted rule still works.
    for i in 0..4u8 {
        let f = frame(
            &[],
            0x0800,
            &ipv4([1, 1, 1, 1], [10, 0, 0, i], L4::Udp(1, 2)),
        );
        assert_eq!(out_port(&esw.process(0, &f)).0, 1);
    }
    // Freeing one makes room again.
    esw.destroy(kept.remove(0)).unwrap();
    assert!(esw.create(&fifth).is_ok());
}

#[test]
fn what_the_profile_lacks_is_enotsup_and_malformed_rules_are_einval() {
    let m = Eswitch::new(DeviceProfile::metascale(), PORTS);
    let arp = Item::ArpEthIpv4(Masked::new(
        ArpItem {
            op: 1,
            ..Default::default()
        },
        ArpItem {
            op: 0xffff,
            ..Default::default()
        },
    ));
    let e = m
        .create(&rte(0, 0, &[any_eth(), arp], &[Action::Drop]))
        .unwrap_err();
    assert_eq!(errno(&e), libc::ENOTSUP);
    assert_eq!(flow_cause(&e), (FlowErrorCause::Item, Some(1)));
    assert!(e.is_unsupported());
    let sample = Action::Sample {
        ratio: 1,
        actions: Arc::from(vec![Action::RepresentedPort { port_id: 2 }]),
    };
    let e = m
        .validate(&rte(0, 0, &[any_eth()], &[sample, Action::Drop]))
        .unwrap_err();
    assert_eq!(
        (errno(&e), flow_cause(&e)),
        (libc::ENOTSUP, (FlowErrorCause::Action, Some(0)))
    );
    // metascale has 4 registers.
    let e = m
        .create(&rte(0, 0, &[tag(4, 1, 1)], &[Action::Drop]))
        .unwrap_err();
    assert_eq!(
        (errno(&e), flow_cause(&e).0),
        (libc::EINVAL, FlowErrorCause::ItemSpec)
    );
    let set = Action::SetTag {
        index: 5,
        data: 1,
        mask: 1,
    };
    let e = m
        .create(&rte(0, 0, &[any_eth()], &[set, Action::Drop]))
        .unwrap_err();
    assert_eq!(
        (errno(&e), flow_cause(&e).0),
        (libc::EINVAL, FlowErrorCause::ActionConf)
    );
    let e = m
        .create(&rte(4096, 0, &[any_eth()], &[Action::Drop]))
        .unwrap_err();
    assert_eq!(
        (errno(&e), flow_cause(&e).0),
        (libc::ENOTSUP, FlowErrorCause::AttrGroup)
    );
    let e = m
        .create(&rte(0, 16, &[any_eth()], &[Action::Drop]))
        .unwrap_err();
    assert_eq!(
        (errno(&e), flow_cause(&e).0),
        (libc::ENOTSUP, FlowErrorCause::AttrPriority)
    );
    let e = m
        .create(&rte(0, 0, &[any_eth()], &[Action::Count]))
        .unwrap_err();
    assert_eq!(errno(&e), libc::EINVAL, "no fate: {e}");
    let e = m
        .create(&rte(
            0,
            0,
            &[any_eth()],
            &[Action::Drop, Action::RepresentedPort { port_id: 1 }],
        ))
        .unwrap_err();
    assert_eq!(errno(&e), libc::EINVAL, "two fates: {e}");
    let e = m
        .create(&rte(
            0,
            0,
            &[any_eth()],
            &[Action::RepresentedPort { port_id: 9 }],
        ))
        .unwrap_err();
    assert_eq!(errno(&e), libc::EINVAL, "unknown port: {e}");
    let e = m
        .create(&rte(3, 0, &[any_eth()], &[Action::Jump { group: 3 }]))
        .unwrap_err();
    assert_eq!(errno(&e), libc::EINVAL, "jump to itself: {e}");
    let mut ingress = rte(0, 0, &[any_eth()], &[Action::Drop]);
    ingress.set_attr(0, 0, Direction::Ingress);
    ingress.seal();
    let e = m.create(&ingress).unwrap_err();
    assert_eq!(
        (errno(&e), flow_cause(&e).0),
        (libc::ENOTSUP, FlowErrorCause::AttrIngress)
    );
    // Generic has SAMPLE but only the mirror ratio is modelled.
    let g = generic();
    let half = Action::Sample {
        ratio: 2,
        actions: Arc::from(vec![Action::RepresentedPort { port_id: 2 }]),
    };
    let e = g
        .create(&rte(0, 0, &[any_eth()], &[half, Action::Drop]))
        .unwrap_err();
    assert_eq!(
        (errno(&e), flow_cause(&e).0),
        (libc::ENOTSUP, FlowErrorCause::ActionConf)
    );
    let long = Action::RawEncap(Arc::from(vec![0u8; 300]));
    let e = g
        .create(&rte(
            0,
            0,
            &[any_eth()],
            &[long, Action::RepresentedPort { port_id: 1 }],
        ))
        .unwrap_err();
    assert_eq!(errno(&e), libc::ENOTSUP, "longer than max_encap_size: {e}");
    assert_eq!(m.rule_count() + g.rule_count(), 0, "nothing was installed");
    let mut unsealed = RteRule::new();
    unsealed.set_attr(0, 0, Direction::Transfer);
    assert_eq!(errno(&g.validate(&unsealed).unwrap_err()), libc::EINVAL);
}

#[test]
fn destroy_query_flush_and_counters() {
    let esw = generic();
    let r = esw
        .create(&rte(
            0,
            0,
            &[any_eth(), ipv4_item([10, 0, 0, 2])],
            &[Action::Count, Action::RepresentedPort { port_id: 2 }],
        ))
        .unwrap();
    let nocount = esw
        .create(&rte(0, 1, &[any_eth()], &[Action::Drop]))
        .unwrap();
    let f = v4_tcp();
    esw.set_clock(7);
    esw.process(1, &f);
    esw.set_clock(9);
    esw.process(1, &f);
    let c = esw.query(&r, false).unwrap();
    assert_eq!((c.packets, c.bytes), (2, 2 * f.len() as u64));
    let s = esw.stats(&r).unwrap();
    assert_eq!(s.last_hit, Some(9));
    let c = esw.query(&r, true).unwrap();
    assert_eq!(c.packets, 2);
    assert_eq!(esw.query(&r, false).unwrap().packets, 0, "reset");
    assert_eq!(
        esw.stats(&r).unwrap().last_hit,
        Some(9),
        "last-hit survives a reset"
    );
    assert_eq!(
        errno(&esw.query(&nocount, false).unwrap_err()),
        libc::ENOTSUP
    );
    // Miss: the drop rule at priority 1 takes other packets.
    let other = frame(
        &[],
        0x0800,
        &ipv4([1, 1, 1, 1], [9, 9, 9, 9], L4::Udp(1, 2)),
    );
    assert_eq!(esw.process(1, &other).fate, Fate::Drop(DropReason::Rule));
    esw.destroy(nocount).unwrap();
    assert_eq!(esw.rule_count(), 1);
    let h = to_host(&esw.process(1, &other)).clone();
    assert_eq!(
        (h.mark, h.port),
        (None, 0),
        "a table miss goes to software unmarked"
    );
    esw.flush().unwrap();
    assert_eq!((esw.rule_count(), esw.group_count()), (0, 0));
    let e = esw.query(&r, false).unwrap_err();
    assert_eq!(
        (errno(&e), flow_cause(&e).0),
        (libc::ENOENT, FlowErrorCause::Handle)
    );
    assert_eq!(errno(&esw.destroy(r).unwrap_err()), libc::ENOENT);
    // Dropping a handle removes its rule.
    {
        let _r = esw
            .create(&rte(0, 0, &[any_eth()], &[Action::Drop]))
            .unwrap();
        assert_eq!(esw.rule_count(), 1);
    }
    assert_eq!(esw.rule_count(), 0);
    // A handle of another eswitch is unknown here.
    let other_esw = generic();
    let foreign = other_esw
        .create(&rte(0, 0, &[any_eth()], &[Action::Drop]))
        .unwrap();
    assert_eq!(errno(&esw.destroy(foreign).unwrap_err()), libc::ENOENT);
}

#[test]
fn priorities_then_creation_order_decide() {
    let esw = generic();
    let fwd = |p| [Action::Count, Action::RepresentedPort { port_id: p }];
    let _a = esw.create(&rte(0, 5, &[any_eth()], &fwd(1))).unwrap();
    let _b = esw
        .create(&rte(0, 3, &[any_eth(), ipv4_item([10, 0, 0, 2])], &fwd(2)))
        .unwrap();
    let _c = esw
        .create(&rte(
            0,
            3,
            &[
                any_eth(),
                Item::Ipv4 {
                    m: Masked::default(),
                    last: None,
                },
            ],
            &fwd(3),
        ))
        .unwrap();
    assert_eq!(
        out_port(&esw.process(0, &v4_tcp())).0,
        2,
        "same priority: the first created"
    );
    let _d = esw.create(&rte(0, 1, &[any_eth()], &fwd(0))).unwrap();
    assert_eq!(
        out_port(&esw.process(0, &v4_tcp())).0,
        0,
        "a lower number wins"
    );
}

#[test]
fn jump_chains_keep_registers_and_loops_are_cut() {
    let esw = generic();
    let _r0 = esw
        .create(&rte(
            0,
            0,
            &[any_eth()],
            &[
                Action::SetTag {
                    index: 2,
                    data: 0x00ab_0000,
                    mask: 0x00ff_0000,
                },
                Action::Mark { id: 77 },
                Action::Jump { group: 10 },
            ],
        ))
        .unwrap();
    let _r1 = esw
        .create(&rte(
            10,
            0,
            &[tag(2, 0x00ab_0000, 0x00ff_0000), any_eth()],
            &[
                Action::SetMeta {
                    data: 5,
                    mask: 0xff,
                },
                Action::Jump { group: 20 },
            ],
        ))
        .unwrap();
    let _r2 = esw
        .create(&rte(
            20,
            0,
            &[
                Item::Meta(Masked::new(5, 0xff)),
                Item::Mark(Masked::new(77, u32::MAX)),
            ],
            &[Action::PortRepresentor { port_id: 0 }],
        ))
        .unwrap();
    let v = esw.process(1, &v4_udp());
    let h = to_host(&v);
    assert_eq!(h.mark, Some(77));
    assert_eq!(h.meta, 5);
    assert_eq!(h.registers[2], 0x00ab_0000);
    assert_eq!(
        v.path.iter().map(|h| h.group).collect::<Vec<_>>(),
        [0, 10, 20]
    );
    assert_eq!(h.bytes, v4_udp());
    // process_from starts mid-pipeline with registers preset.
    let mut regs = [0u32; MAX_TAGS];
    regs[2] = 0x00ab_0000;
    assert_eq!(
        to_host(&esw.process_from(10, regs, 1, &v4_udp())).mark,
        None,
        "no MARK on this path"
    );
    assert_eq!(
        esw.process_from(10, [0; MAX_TAGS], 1, &v4_udp()).path[0].rule,
        None
    );
    // A loop.
    let _a = esw
        .create(&rte(30, 0, &[], &[Action::Jump { group: 31 }]))
        .unwrap();
    let _b = esw
        .create(&rte(31, 0, &[], &[Action::Jump { group: 30 }]))
        .unwrap();
    let v = esw.process_from(30, [0; MAX_TAGS], 1, &v4_udp());
    assert_eq!(v.fate, Fate::Drop(DropReason::JumpLimit));
    assert_eq!(
        esw.process(7, &v4_udp()).fate,
        Fate::Drop(DropReason::UnknownPort)
    );
}

/// Installs `actions` + output to port 2 for every packet and runs `f`.
fn rewrite(actions: &[Action], f: &[u8]) -> Vec<u8> {
    let esw = generic();
    let mut all = actions.to_vec();
    all.push(Action::RepresentedPort { port_id: 2 });
    let _r = esw.create(&rte(0, 0, &[any_eth()], &all)).unwrap();
    let v = esw.process(1, f);
    let (port, bytes) = out_port(&v);
    assert_eq!(port, 2);
    assert_checksums(bytes);
    bytes.to_vec()
}

#[test]
fn header_rewrites_change_the_bytes_and_keep_checksums_right() {
    let t = v4_tcp();
    assert_checksums(&t);
    let o = rewrite(
        &[
            Action::SetMacSrc([1, 2, 3, 4, 5, 6]),
            Action::SetMacDst([6, 5, 4, 3, 2, 1]),
        ],
        &t,
    );
    assert_eq!(
        (&o[6..12], &o[..6]),
        (&[1, 2, 3, 4, 5, 6][..], &[6, 5, 4, 3, 2, 1][..])
    );
    let o = rewrite(
        &[
            Action::SetIpv4Src([192, 168, 7, 9]),
            Action::SetIpv4Dst([172, 16, 0, 1]),
        ],
        &t,
    );
    assert_eq!(
        (&o[26..30], &o[30..34]),
        (&[192, 168, 7, 9][..], &[172, 16, 0, 1][..])
    );
    let o = rewrite(&[Action::SetTpSrc(4242), Action::SetTpDst(8080)], &t);
    assert_eq!(
        (&o[34..36], &o[36..38]),
        (&4242u16.to_be_bytes()[..], &8080u16.to_be_bytes()[..])
    );
    let o = rewrite(&[Action::SetTtl(9)], &t);
    assert_eq!(o[22], 9);
    let o = rewrite(&[Action::DecTtl, Action::DecTtl], &t);
    assert_eq!(o[22], 62);
    let o = rewrite(&[Action::SetIpv4Dscp(46)], &t);
    assert_eq!(o[15], 46 << 2, "DSCP written, ECN (0 here) kept");
    // UDP with and without a checksum.
    let u = v4_udp();
    let o = rewrite(
        &[Action::SetIpv4Dst([8, 8, 8, 8]), Action::SetTpDst(5353)],
        &u,
    );
    assert_eq!(&o[30..34], &[8, 8, 8, 8]);
    assert_ne!(&o[40..42], &[0, 0]);
    let nocsum = frame(
        &[],
        0x0800,
        &ipv4([10, 0, 0, 1], [10, 0, 0, 2], L4::UdpNoCsum(1, 2)),
    );
    let o = rewrite(
        &[Action::SetIpv4Src([1, 2, 3, 4]), Action::SetTpSrc(99)],
        &nocsum,
    );
    assert_eq!(&o[40..42], &[0, 0], "UDP checksum 0 over IPv4 stays 0");
    // ICMP: addresses are not in its checksum.
    let icmp = frame(
        &[],
        0x0800,
        &ipv4([10, 0, 0, 1], [10, 0, 0, 2], L4::Icmp(8, 0, 7)),
    );
    let o = rewrite(
        &[Action::SetIpv4Dst([10, 9, 9, 9]), Action::SetTpDst(1)],
        &icmp,
    );
    assert_eq!(&o[34..], &icmp[34..], "SET_TP is a no-op without TCP/UDP");
    // IPv6: addresses in the pseudo-header of TCP, UDP and ICMPv6.
    for l in [L4::Tcp(1, 2, 2), L4::Udp(3, 4), L4::Icmp(128, 0, 5)] {
        let f = frame(&[], 0x86dd, &ipv6(V6_A, V6_B, l));
        assert_checksums(&f);
        let mut new = V6_B;
        new[3] = 0x77;
        let o = rewrite(
            &[
                Action::SetIpv6Src(new),
                Action::SetIpv6Dst(V6_A),
                Action::SetTtl(3),
                Action::SetIpv6Dscp(10),
            ],
            &f,
        );
        assert_eq!((&o[22..38], &o[38..54]), (&new[..], &V6_A[..]));
        assert_eq!(o[21], 3);
        let tc = (o[14] & 0x0f) << 4 | o[15] >> 4;
        assert_eq!((tc >> 2, tc & 3), (10, 0xb8 & 3), "DSCP written, ECN kept");
        assert_eq!(o[15] & 0x0f, 0x1, "flow label kept");
    }
}

#[test]
fn modify_field_writes_packet_fields_and_registers() {
    let value = |v: u128| v.to_be_bytes();
    let md = |dst, offset, width, v| Action::ModifyField {
        dst,
        offset,
        width,
        value: value(v),
    };
    let t = v4_tcp();
    let o = rewrite(
        &[
            md(Field::Ipv4Dst, 0, 32, 0x0a63_0001),
            md(Field::TcpPortDst, 0, 16, 443),
            md(Field::MacDst, 0, 48, 0x0200_0000_00cc),
            md(Field::Ipv4Ttl, 0, 8, 5),
        ],
        &t,
    );
    assert_eq!(&o[30..34], &[10, 99, 0, 1]);
    assert_eq!(&o[36..38], &443u16.to_be_bytes());
    assert_eq!(&o[..6], &[2, 0, 0, 0, 0, 0xcc]);
    assert_eq!(o[22], 5);
    // A partial write: 8 bits at offset 8 of the source address.
    let o = rewrite(&[md(Field::Ipv4Src, 8, 8, 0xee)], &t);
    assert_eq!(&o[26..30], &[10, 0, 0xee, 1]);
    let o = rewrite(&[md(Field::Ipv4Dscp, 0, 6, 12)], &t);
    assert_eq!(o[15] >> 2, 12);
    // UDP ports only on UDP.
    let o = rewrite(&[md(Field::UdpPortSrc, 0, 16, 7)], &t);
    assert_eq!(o, t, "no UDP header: no-op");
    // Registers, META and MARK, then matched in the next group.
    let esw = generic();
    let _a = esw
        .create(&rte(
            0,
            0,
            &[any_eth()],
            &[
                md(Field::Tag(6), 8, 8, 0x5a),
                md(Field::Meta, 0, 32, 0xfeed),
                md(Field::Mark, 0, 16, 0x1234),
                Action::Jump { group: 1 },
            ],
        ))
        .unwrap();
    let _b = esw
        .create(&rte(
            1,
            0,
            &[tag(6, 0x5a00, 0xff00)],
            &[Action::PortRepresentor { port_id: 0 }],
        ))
        .unwrap();
    let h = to_host(&esw.process(1, &t)).clone();
    assert_eq!(
        (h.registers[6], h.meta, h.mark),
        (0x5a00, 0xfeed, Some(0x1234))
    );
    // Copy a field: the VXLAN VNI into a register (what tnl_pop does).
    let inner = v4_udp();
    let mut vx = vec![0x08, 0, 0, 0, 0x00, 0x01, 0xc7, 0];
    vx.extend_from_slice(&inner);
    let outer = frame(
        &[],
        0x0800,
        &ipv4([1, 1, 1, 1], [2, 2, 2, 2], L4::Raw(17, &udp_hdr(4789, &vx))),
    );
    let _c = esw
        .create(&rte(
            2,
            0,
            &[],
            &[
                Action::CopyField {
                    dst: Field::Tag(3),
                    src: Field::VxlanVni,
                    width: 24,
                },
                Action::PortRepresentor { port_id: 0 },
            ],
        ))
        .unwrap();
    let h = to_host(&esw.process_from(2, [0; MAX_TAGS], 1, &outer)).clone();
    assert_eq!(h.registers[3], 0x1c7);
}

fn udp_hdr(dst: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = vec![0x30, 0x39];
    u.extend_from_slice(&dst.to_be_bytes());
    u.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    u
}

#[test]
fn vlan_push_set_and_pop() {
    let t = v4_tcp();
    let o = rewrite(
        &[
            Action::OfPushVlan { ethertype: 0x8100 },
            Action::OfSetVlanVid(100),
            Action::OfSetVlanPcp(5),
        ],
        &t,
    );
    assert_eq!(&o[12..18], &[0x81, 0x00, 0xa0, 100, 0x08, 0x00]);
    assert_eq!(&o[18..], &t[14..]);
    let q = rewrite(
        &[
            Action::OfPushVlan { ethertype: 0x88a8 },
            Action::OfSetVlanVid(7),
        ],
        &o,
    );
    assert_eq!(
        &q[12..22],
        &[0x88, 0xa8, 0xa0, 7, 0x81, 0x00, 0xa0, 100, 0x08, 0x00],
        "the new outer tag copied the PCP"
    );
    let popped = rewrite(&[Action::OfPopVlan], &o);
    assert_eq!(popped, t);
    assert_eq!(rewrite(&[Action::OfPopVlan], &t), t, "nothing to pop");
    // Items see the tags in stack order.
    let esw = generic();
    let vlan = |vid: u16| {
        Item::Vlan(Masked::new(
            VlanItem {
                tci: vid,
                ..Default::default()
            },
            VlanItem {
                tci: 0xfff,
                ..Default::default()
            },
        ))
    };
    let _a = esw
        .create(&rte(
            0,
            0,
            &[any_eth(), vlan(100), ipv4_item([10, 0, 0, 2])],
            &[Action::RepresentedPort { port_id: 1 }],
        ))
        .unwrap();
    let _b = esw
        .create(&rte(
            0,
            0,
            &[any_eth(), ipv4_item([10, 0, 0, 2])],
            &[Action::RepresentedPort { port_id: 2 }],
        ))
        .unwrap();
    let untagged_only = Item::Eth(Masked::new(
        EthItem::default(),
        EthItem {
            has_vlan: true,
            ..Default::default()
        },
    ));
    let _c = esw
        .create(&rte(
            0,
            1,
            &[untagged_only],
            &[Action::RepresentedPort { port_id: 3 }],
        ))
        .unwrap();
    assert_eq!(out_port(&esw.process(0, &o)).0, 1);
    assert_eq!(out_port(&esw.process(0, &t)).0, 2);
    assert!(
        matches!(esw.process(0, &q).fate, Fate::ToSoftware(_)),
        "QinQ: the outer tag is 7"
    );
    let other = frame(
        &[],
        0x0800,
        &ipv4([1, 1, 1, 1], [3, 3, 3, 3], L4::Udp(1, 2)),
    );
    assert_eq!(
        out_port(&esw.process(0, &other)).0,
        3,
        "has_vlan=0 matches untagged"
    );
    let other_tagged = frame(
        &[(0x8100, 5)],
        0x0800,
        &ipv4([1, 1, 1, 1], [3, 3, 3, 3], L4::Udp(1, 2)),
    );
    assert!(matches!(
        esw.process(0, &other_tagged).fate,
        Fate::ToSoftware(_)
    ));
}

/// VXLAN over IPv4, as OVS's tnl_push header (UDP checksum 0).
fn vxlan_header() -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&[
        0xf8, 0xbc, 0x12, 0x44, 0x34, 0xb6, 0xf8, 0xbc, 0x12, 0x46, 0x58, 0xe0, 0x08, 0x00,
    ]);
    h.extend_from_slice(&[
        0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 1, 1, 2, 88, 1, 1, 2, 92,
    ]);
    h.extend_from_slice(&[0, 0, 0x12, 0xb5, 0, 0, 0, 0]);
    h.extend_from_slice(&[0x08, 0, 0, 0, 0, 0x01, 0xc7, 0]);
    h
}

#[test]
fn encap_fixes_lengths_and_checksum_and_decap_restores_the_frame() {
    let inner = v4_tcp();
    let h = vxlan_header();
    let o = rewrite(&[Action::RawEncap(Arc::from(h.clone()))], &inner);
    assert_eq!(o.len(), h.len() + inner.len());
    assert_eq!(&o[h.len()..], &inner[..]);
    assert_eq!(
        u16::from_be_bytes([o[16], o[17]]) as usize,
        o.len() - 14,
        "IPv4 total length"
    );
    assert_eq!(
        u16::from_be_bytes([o[38], o[39]]) as usize,
        o.len() - 34,
        "UDP length"
    );
    assert_eq!(&o[40..42], &[0, 0], "no UDP checksum asked for");
    // Matching the tunnel, then decap: the inner frame comes back whole.
    let esw = generic();
    let vni = Item::Vxlan(Masked::new(
        TunnelItem {
            vni: 0x1c7,
            protocol: 0,
        },
        TunnelItem {
            vni: 0xff_ffff,
            protocol: 0,
        },
    ));
    let udp = Item::Udp(Masked::new(
        PortsItem { src: 0, dst: 4789 },
        PortsItem {
            src: 0,
            dst: 0xffff,
        },
    ));
    let _a = esw
        .create(&rte(
            0,
            0,
            &[
                any_eth(),
                Item::Ipv4 {
                    m: Masked::default(),
                    last: None,
                },
                udp,
                vni,
                any_eth(),
                ipv4_item([10, 0, 0, 2]),
            ],
            &[
                Action::RawDecap { size: 50 },
                Action::RepresentedPort { port_id: 3 },
            ],
        ))
        .unwrap();
    let v = esw.process(1, &o);
    assert_eq!(out_port(&v), (3, &inner[..]));
    let _b = esw
        .create(&rte(
            1,
            0,
            &[],
            &[Action::VxlanDecap, Action::RepresentedPort { port_id: 3 }],
        ))
        .unwrap();
    assert_eq!(
        out_port(&esw.process_from(1, [0; MAX_TAGS], 1, &o)),
        (3, &inner[..])
    );
    assert_eq!(
        esw.process_from(1, [0; MAX_TAGS], 1, &inner).fate,
        Fate::Drop(DropReason::Malformed),
        "VXLAN_DECAP of a plain frame"
    );
    // IPv6 outer header with a UDP checksum asked for: computed.
    let mut h6 = Vec::new();
    h6.extend_from_slice(&[2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x86, 0xdd]);
    h6.extend_from_slice(&[0x60, 0, 0, 0, 0, 0, 17, 64]);
    h6.extend_from_slice(&V6_A);
    h6.extend_from_slice(&V6_B);
    h6.extend_from_slice(&[0, 0, 0x12, 0xb5, 0, 0, 0xff, 0xff]);
    h6.extend_from_slice(&[0x08, 0, 0, 0, 0, 0, 5, 0]);
    let o = rewrite(&[Action::RawEncap(Arc::from(h6.clone()))], &inner);
    assert_eq!(
        u16::from_be_bytes([o[18], o[19]]) as usize,
        o.len() - 54,
        "IPv6 payload length"
    );
}

#[test]
fn sample_mirrors_a_copy_as_it_is_at_that_point() {
    let esw = generic();
    let mirror = Action::Sample {
        ratio: 1,
        actions: Arc::from(vec![
            Action::RawEncap(Arc::from(vxlan_header())),
            Action::RepresentedPort { port_id: 3 },
        ]),
    };
    let plain = Action::Sample {
        ratio: 1,
        actions: Arc::from(vec![Action::RepresentedPort { port_id: 1 }]),
    };
    let _r = esw
        .create(&rte(
            0,
            0,
            &[any_eth()],
            &[
                Action::Count,
                plain,
                Action::SetTtl(1),
                mirror,
                Action::OfPushVlan { ethertype: 0x8100 },
                Action::OfSetVlanVid(9),
                Action::RepresentedPort { port_id: 2 },
            ],
        ))
        .unwrap();
    let t = v4_tcp();
    let v = esw.process(0, &t);
    assert_eq!(v.mirrors.len(), 2);
    assert_eq!(
        v.mirrors[0],
        Fate::Output {
            port: 1,
            bytes: t.clone()
        }
    );
    let Fate::Output { port: 3, bytes } = &v.mirrors[1] else {
        panic!("{:?}", v.mirrors[1])
    };
    assert_eq!(bytes.len(), 50 + t.len());
    assert_eq!(bytes[50 + 22], 1, "the copy has the TTL set before it");
    assert_checksums(&bytes[50..]);
    let (port, out) = out_port(&v);
    assert_eq!(
        (port, &out[12..16]),
        (2, &[0x81, 0, 0, 9][..]),
        "the original went on"
    );
}

#[test]
fn ipv4_and_ipv6_fragments_with_ranges() {
    let esw = generic();
    let frag = |spec: u16, mask: u16, last: Option<u16>| Item::Ipv4 {
        m: Masked::new(
            Ipv4Item {
                fragment_offset: spec,
                ..Default::default()
            },
            Ipv4Item {
                fragment_offset: mask,
                ..Default::default()
            },
        ),
        last: last.map(|l| Ipv4Item {
            fragment_offset: l,
            ..Default::default()
        }),
    };
    let _no = esw
        .create(&rte(
            0,
            0,
            &[any_eth(), frag(0, 0x3fff, None)],
            &[Action::RepresentedPort { port_id: 1 }],
        ))
        .unwrap();
    let _first = esw
        .create(&rte(
            0,
            0,
            &[any_eth(), frag(0x2000, 0x3fff, None)],
            &[Action::RepresentedPort { port_id: 2 }],
        ))
        .unwrap();
    let _later = esw
        .create(&rte(
            0,
            0,
            &[any_eth(), frag(1, 0x1fff, Some(0x1fff))],
            &[Action::RepresentedPort { port_id: 3 }],
        ))
        .unwrap();
    let p = |f: u16| {
        frame(
            &[],
            0x0800,
            &ipv4_frag([1, 1, 1, 1], [2, 2, 2, 2], L4::Udp(1, 2), f),
        )
    };
    assert_eq!(out_port(&esw.process(0, &p(0))).0, 1);
    assert_eq!(
        out_port(&esw.process(0, &p(0x4000))).0,
        1,
        "DF is not a fragment"
    );
    assert_eq!(out_port(&esw.process(0, &p(0x2000))).0, 2);
    assert_eq!(out_port(&esw.process(0, &p(0x0001))).0, 3, "last fragment");
    assert_eq!(
        out_port(&esw.process(0, &p(0x2100))).0,
        3,
        "middle fragment"
    );
    let e = esw
        .create(&rte(
            0,
            0,
            &[any_eth(), frag(5, 0x1fff, Some(2))],
            &[Action::Drop],
        ))
        .unwrap_err();
    assert_eq!(
        (errno(&e), flow_cause(&e).0),
        (libc::EINVAL, FlowErrorCause::ItemLast)
    );
    // IPv6: has_frag_ext and the fragment header's offset range.
    let v6 = |frag_ext: bool| {
        Item::Ipv6(Masked::new(
            Ipv6Item {
                has_frag_ext: frag_ext,
                ..Default::default()
            },
            Ipv6Item {
                has_frag_ext: true,
                ..Default::default()
            },
        ))
    };
    let fx = |spec: u16, last: Option<u16>| Item::Ipv6FragExt {
        m: Masked::new(
            Ipv6FragItem {
                next_header: 0,
                frag_data: spec,
            },
            Ipv6FragItem {
                next_header: 0,
                frag_data: 0xfff8,
            },
        ),
        last: last.map(|l| Ipv6FragItem {
            next_header: 0,
            frag_data: l,
        }),
    };
    let g = generic();
    let _a = g
        .create(&rte(
            0,
            0,
            &[any_eth(), v6(false)],
            &[Action::RepresentedPort { port_id: 1 }],
        ))
        .unwrap();
    let _b = g
        .create(&rte(
            0,
            0,
            &[
                any_eth(),
                v6(true),
                fx(0, None),
                Item::Udp(Masked::new(
                    PortsItem { src: 0, dst: 2 },
                    PortsItem {
                        src: 0,
                        dst: 0xffff,
                    },
                )),
            ],
            &[Action::RepresentedPort { port_id: 2 }],
        ))
        .unwrap();
    let _c = g
        .create(&rte(
            0,
            0,
            &[any_eth(), v6(true), fx(8, Some(0xfff8))],
            &[Action::RepresentedPort { port_id: 3 }],
        ))
        .unwrap();
    let v6frag = |frag_data: u16| {
        let plain = ipv6(V6_A, V6_B, L4::Udp(1, 2));
        let mut ip = plain[..40].to_vec();
        ip[6] = 44;
        let len = u16::from_be_bytes([ip[4], ip[5]]) + 8;
        ip[4..6].copy_from_slice(&len.to_be_bytes());
        ip.extend_from_slice(&[17, 0]);
        ip.extend_from_slice(&frag_data.to_be_bytes());
        ip.extend_from_slice(&[0, 0, 0, 9]);
        ip.extend_from_slice(&plain[40..]);
        frame(&[], 0x86dd, &ip)
    };
    assert_eq!(
        out_port(&g.process(0, &frame(&[], 0x86dd, &ipv6(V6_A, V6_B, L4::Udp(1, 2))))).0,
        1
    );
    assert_eq!(
        out_port(&g.process(0, &v6frag(1))).0,
        2,
        "first fragment, UDP seen through the fragment header"
    );
    assert_eq!(
        out_port(&g.process(0, &v6frag(0x50))).0,
        3,
        "later fragment"
    );
}

#[test]
fn l4_icmp_arp_nd_and_port_items() {
    let esw = generic();
    let fwd = |p| [Action::RepresentedPort { port_id: p }];
    let tcp = Item::Tcp(Masked::new(
        TcpItem {
            src: 0,
            dst: 80,
            flags: 0x02,
        },
        TcpItem {
            src: 0,
            dst: 0xffff,
            flags: 0x12,
        },
    ));
    let _a = esw
        .create(&rte(
            0,
            0,
            &[
                Item::RepresentedPort { port_id: 1 },
                any_eth(),
                Item::Ipv4 {
                    m: Masked::default(),
                    last: None,
                },
                tcp,
            ],
            &fwd(2),
        ))
        .unwrap();
    let syn = frame(
        &[],
        0x0800,
        &ipv4([10, 0, 0, 1], [10, 0, 0, 2], L4::Tcp(1000, 80, 0x02)),
    );
    let synack = frame(
        &[],
        0x0800,
        &ipv4([10, 0, 0, 1], [10, 0, 0, 2], L4::Tcp(1000, 80, 0x12)),
    );
    assert_eq!(out_port(&esw.process(1, &syn)).0, 2);
    assert!(
        matches!(esw.process(2, &syn).fate, Fate::ToSoftware(_)),
        "REPRESENTED_PORT is the in_port"
    );
    assert!(
        matches!(esw.process(1, &synack).fate, Fate::ToSoftware(_)),
        "flags under the mask"
    );
    let icmp = Item::Icmp(Masked::new(
        IcmpItem {
            icmp_type: 8,
            code: 0,
            ident: 7,
        },
        IcmpItem {
            icmp_type: 0xff,
            code: 0xff,
            ident: 0xffff,
        },
    ));
    let _b = esw
        .create(&rte(
            0,
            0,
            &[
                any_eth(),
                Item::Ipv4 {
                    m: Masked::default(),
                    last: None,
                },
                icmp,
            ],
            &fwd(3),
        ))
        .unwrap();
    assert_eq!(
        out_port(&esw.process(
            0,
            &frame(
                &[],
                0x0800,
                &ipv4([1, 1, 1, 1], [2, 2, 2, 2], L4::Icmp(8, 0, 7))
            )
        ))
        .0,
        3
    );
    assert!(matches!(
        esw.process(
            0,
            &frame(
                &[],
                0x0800,
                &ipv4([1, 1, 1, 1], [2, 2, 2, 2], L4::Icmp(8, 0, 8))
            )
        )
        .fate,
        Fate::ToSoftware(_)
    ));
    let arp = Item::ArpEthIpv4(Masked::new(
        ArpItem {
            op: 2,
            tpa: [10, 0, 0, 9],
            ..Default::default()
        },
        ArpItem {
            op: 0xffff,
            tpa: [255; 4],
            ..Default::default()
        },
    ));
    let _c = esw.create(&rte(0, 0, &[any_eth(), arp], &fwd(1))).unwrap();
    let mut a = vec![0, 1, 8, 0, 6, 4, 0, 2];
    a.extend_from_slice(&MAC_A);
    a.extend_from_slice(&[10, 0, 0, 1]);
    a.extend_from_slice(&MAC_B);
    a.extend_from_slice(&[10, 0, 0, 9]);
    assert_eq!(out_port(&esw.process(0, &frame(&[], 0x0806, &a))).0, 1);
    // ND: a neighbour solicitation with its SLA option.
    let target = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9];
    let mut ns = vec![135, 0, 0, 0, 0, 0, 0, 0];
    ns.extend_from_slice(&target);
    ns.extend_from_slice(&[1, 1]);
    ns.extend_from_slice(&MAC_A);
    let f = frame(&[], 0x86dd, &ipv6(V6_A, V6_B, L4::Raw(58, &ns)));
    let icmp6 = Item::Icmp6(Masked::new(
        IcmpItem {
            icmp_type: 135,
            ..Default::default()
        },
        IcmpItem {
            icmp_type: 0xff,
            ..Default::default()
        },
    ));
    let v6any = Item::Ipv6(Masked::default());
    let _d = esw
        .create(&rte(
            0,
            0,
            &[
                any_eth(),
                v6any,
                icmp6,
                Item::Icmp6NdNs(Masked::new(target, [0xff; 16])),
                Item::Icmp6NdOptSlaEth(Masked::new(MAC_A, [0xff; 6])),
            ],
            &fwd(3),
        ))
        .unwrap();
    assert_eq!(out_port(&esw.process(0, &f)).0, 3);
    let mut other = ns.clone();
    other[24 + 2..24 + 8].copy_from_slice(&MAC_B);
    assert!(matches!(
        esw.process(
            0,
            &frame(&[], 0x86dd, &ipv6(V6_A, V6_B, L4::Raw(58, &other)))
        )
        .fate,
        Fate::ToSoftware(_)
    ));
}

#[test]
fn async_ops_take_effect_at_push_and_complete_with_their_user_data() {
    let m = Eswitch::new(DeviceProfile::metascale(), PORTS);
    assert_eq!(errno(&m.configure(1, 8).unwrap_err()), libc::ENOTSUP);
    let esw = generic();
    let tmpl = rte(
        5,
        0,
        &[any_eth(), ipv4_item([0; 4])],
        &[Action::Count, Action::RepresentedPort { port_id: 0 }],
    );
    assert_eq!(
        errno(&esw.pattern_template(&tmpl).unwrap_err()),
        libc::EINVAL,
        "not configured"
    );
    esw.configure(2, 4).unwrap();
    let pt = esw.pattern_template(&tmpl).unwrap();
    let at = esw.actions_template(&tmpl).unwrap();
    let table = esw.template_table(5, 1, 2, &[pt], &[at]).unwrap();
    let entry = |i: u8, p: u16| {
        rte(
            0,
            0,
            &[any_eth(), ipv4_item([10, 0, 0, i])],
            &[Action::Count, Action::RepresentedPort { port_id: p }],
        )
    };
    let f = frame(
        &[],
        0x0800,
        &ipv4([1, 1, 1, 1], [10, 0, 0, 1], L4::Udp(1, 2)),
    );
    let run = |esw: &Eswitch| esw.process_from(5, [0; MAX_TAGS], 0, &f).fate;
    let a = esw
        .async_create(0, table, &entry(1, 3), 0, 0, true, 11)
        .unwrap();
    let mut done = Vec::new();
    assert_eq!(esw.pull(0, &mut done, 16).unwrap(), 0, "nothing pushed");
    assert!(
        matches!(run(&esw), Fate::ToSoftware(_)),
        "postponed: not visible yet"
    );
    assert_eq!(esw.rule_count(), 0);
    esw.push(0).unwrap();
    assert!(matches!(run(&esw), Fate::Output { port: 3, .. }));
    assert_eq!(
        esw.process_from(5, [0; MAX_TAGS], 0, &f).path[0].rule,
        Some(a.0)
    );
    // Not postponed: pushed at once. The table holds two: the third fails
    // in its completion.
    esw.async_create(0, table, &entry(2, 1), 0, 0, false, 12)
        .unwrap();
    esw.async_create(0, table, &entry(3, 1), 0, 0, false, 13)
        .unwrap();
    assert_eq!(esw.pull(0, &mut done, 1).unwrap(), 1);
    assert_eq!(esw.pull(0, &mut done, 16).unwrap(), 2);
    assert_eq!(
        done.iter().map(|c| c.user_data).collect::<Vec<_>>(),
        [11, 12, 13]
    );
    assert!(done[0].result.is_ok() && done[1].result.is_ok());
    assert_eq!(errno(done[2].result.as_ref().unwrap_err()), libc::ENOSPC);
    assert_eq!(esw.query_flow(a, false).unwrap().packets, 2);
    // The queue holds 4 operations not pulled.
    for i in 0..4 {
        esw.async_destroy(1, xsc_dp::eswitch::FlowId(1000 + i), true, 20 + i)
            .unwrap();
    }
    assert_eq!(
        errno(&esw.async_destroy(1, a, true, 99).unwrap_err()),
        libc::EAGAIN
    );
    esw.push(1).unwrap();
    done.clear();
    esw.pull(1, &mut done, 16).unwrap();
    assert!(done
        .iter()
        .all(|c| c.result.as_ref().is_err_and(|e| errno(e) == libc::ENOENT)));
    // Destroy is visible only after push, too.
    esw.async_destroy(1, a, true, 30).unwrap();
    assert!(matches!(run(&esw), Fate::Output { .. }));
    esw.push(1).unwrap();
    assert!(matches!(run(&esw), Fate::ToSoftware(_)));
    // A rule that does not follow the templates is refused at once.
    let e = esw
        .async_create(
            0,
            table,
            &rte(
                0,
                0,
                &[any_eth()],
                &[Action::Count, Action::RepresentedPort { port_id: 1 }],
            ),
            0,
            0,
            false,
            1,
        )
        .unwrap_err();
    assert_eq!(errno(&e), libc::EINVAL);
    assert_eq!(errno(&esw.push(9).unwrap_err()), libc::EINVAL);
}

/// A rule made through a queue and then removed without it (its handle
/// dropped, or destroyed with `rte_flow_destroy`) leaves its template table,
/// which can then be destroyed: the engine drops the handles of creations it
/// gives up on.
#[test]
fn an_async_rule_removed_through_its_handle_leaves_its_table() {
    let esw = generic();
    esw.configure(1, 8).unwrap();
    let entry = |i: u8| {
        rte(
            5,
            0,
            &[any_eth(), ipv4_item([10, 0, 0, i])],
            &[Action::Count, Action::RepresentedPort { port_id: 1 }],
        )
    };
    let table = esw.async_table(&entry(1), 4).unwrap();
    let a = FlowDevice::async_create(&esw, 0, table, &entry(1), 1).unwrap();
    let b = FlowDevice::async_create(&esw, 0, table, &entry(2), 2).unwrap();
    FlowDevice::push(&esw, 0).unwrap();
    let mut done = Vec::new();
    assert_eq!(FlowDevice::pull(&esw, 0, &mut done).unwrap(), 2);
    assert_eq!(esw.rule_count(), 2);
    drop(a);
    esw.destroy(b).unwrap();
    assert_eq!(esw.rule_count(), 0);
    esw.async_table_destroy(table).unwrap();
    assert_eq!(esw.template_counts(), (0, 0, 0));
}

/// xorshift64*, the shared one (`Rng(seed)` as it is).
use xsc_test_support::rng::Rng;

#[test]
fn random_frames_never_panic() {
    let esw = generic();
    let acts = vec![
        Action::Count,
        Action::DecTtl,
        Action::SetTpSrc(1),
        Action::SetIpv4Dst([1, 2, 3, 4]),
        Action::SetIpv6Src(V6_A),
        Action::SetIpv6Dscp(3),
        Action::ModifyField {
            dst: Field::VxlanVni,
            offset: 0,
            width: 24,
            value: [1; 16],
        },
        Action::ModifyField {
            dst: Field::VlanId,
            offset: 0,
            width: 12,
            value: [1; 16],
        },
        Action::OfPopVlan,
        Action::RawDecap { size: 50 },
        Action::RepresentedPort { port_id: 1 },
    ];
    let _a = esw.create(&rte(0, 0, &[any_eth()], &acts)).unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let seeds = [
        v4_tcp(),
        v4_udp(),
        frame(
            &[(0x8100, 3), (0x8100, 4)],
            0x86dd,
            &ipv6(V6_A, V6_B, L4::Tcp(1, 2, 3)),
        ),
    ];
    for i in 0..20_000 {
        let mut f = seeds[i % seeds.len()].clone();
        let n = rng.next() as usize % (f.len() + 1);
        f.truncate(n);
        for _ in 0..rng.next() % 4 {
            if !f.is_empty() {
                let at = rng.next() as usize % f.len();
                f[at] = rng.next() as u8;
            }
        }
        let _ = esw.process(1, &f);
        let junk: Vec<u8> = (0..rng.next() % 100).map(|_| rng.next() as u8).collect();
        let _ = esw.process(1, &junk);
    }
}
