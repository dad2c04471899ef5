//! The differential test (issue 5, item 3): a reference matcher for OVS
//! megaflow semantics, written here, against the software eswitch running
//! the rules `xsc_dp::translate` produced for the same megaflows and
//! conntrack entries, over generated packets: hits and near misses of every
//! field and mask, fragments, VLAN, IPv6, every ct_state.
//!
//! The reference: the first installed megaflow whose key/mask matches the
//! packet's fields and its pre-state (recirc_id, in_port, ct_state, zone,
//! mark, label) wins (OVS's megaflows do not overlap; generated ones may,
//! and the eswitch breaks ties by creation order, so the reference does
//! too); its actions run as OVS's datapath runs them: set/push/pop,
//! output, drop, recirc, and ct(zone[,nat]) + recirc against the conntrack
//! entries (an established connection in the zone in either direction sets
//! +trk+est[+rpl], mark and label and applies the NAT; anything else, and
//! any TCP SYN, FIN or RST, is a CT miss: software). Only offloaded flows are
//! in both.
//!
//! Agreement: same output port and bytes (checksum fields compared modulo
//! the 0x0000/0xffff equivalence), same drop, or software with the restore
//! mark the translation promises. A packet starting at recirc_id R≠0 is fed
//! to the eswitch at R's group with the registers holding its pre-state.

use std::fmt::Write as _;

use xsc_dp::device::FlowDevice;
use xsc_dp::eswitch::{DropReason, Eswitch, EswitchRule, Fate, MAX_TAGS};
use xsc_dp::odp::{
    ct_state, frag, parse_actions, parse_flow_key, Action as OdpAction, ConnEntry, KeyAttr,
    Megaflow, OdpPort, SetField,
};
use xsc_dp::profile::DeviceProfile;
use xsc_dp::rte::{lower, RteRule};
use xsc_dp::rule::{HwRule, Item};
use xsc_dp::translate::{mark, Config, PortMap, Translator};

// ------------------------------------------------------------ generator

/// xorshift64*, the shared one: `Rng(seed)` takes the seed as it is.
use xsc_test_support::rng::Rng;

const PORTS: &[u16] = &[0, 1, 2, 3];
const MACS: &[[u8; 6]] = &[
    [0, 0, 0, 0x9d, 0xfb, 0x1a],
    [0, 0, 0, 0xce, 0xcf, 0xb9],
    [1, 0, 0x5e, 0, 0, 1],
];
const V4: &[[u8; 4]] = &[
    [10, 0, 0, 1],
    [10, 0, 0, 2],
    [10, 0, 0, 3],
    [10, 0, 0, 100],
    [10, 0, 1, 1],
    [192, 168, 0, 1],
];
const TP: &[u16] = &[80, 3457, 53, 5000, 1234];
const ZONES: &[u16] = &[4, 6];

fn v6addr(last: u8) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[0] = 0xfd;
    a[15] = last;
    a
}

fn ip4s(a: [u8; 4]) -> String {
    format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3])
}

fn macs(m: [u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn ip6s(a: [u8; 16]) -> String {
    format!("fd00::{:x}", a[15])
}

/// One connection, as the test's conntrack sees it.
#[derive(Clone, Copy, Debug)]
struct Conn {
    proto: u8,
    zone: u16,
    orig: ([u8; 4], [u8; 4], u16, u16),
    reply: ([u8; 4], [u8; 4], u16, u16),
    mark: u32,
    label: u128,
}

const CONNS: &[Conn] = &[
    // DNAT: 10.0.0.1 → VIP 10.0.0.100:80, served by 10.0.0.2.
    Conn {
        proto: 6,
        zone: 4,
        orig: ([10, 0, 0, 1], [10, 0, 0, 100], 3457, 80),
        reply: ([10, 0, 0, 2], [10, 0, 0, 1], 80, 3457),
        mark: 1,
        label: 0x10001,
    },
    Conn {
        proto: 6,
        zone: 6,
        orig: ([10, 0, 0, 1], [10, 0, 0, 2], 3457, 80),
        reply: ([10, 0, 0, 2], [10, 0, 0, 1], 80, 3457),
        mark: 2,
        label: 0,
    },
    Conn {
        proto: 17,
        zone: 4,
        orig: ([10, 0, 0, 3], [10, 0, 0, 2], 5000, 53),
        reply: ([10, 0, 0, 2], [10, 0, 0, 3], 53, 5000),
        mark: 0,
        label: 0,
    },
    // SNAT: 10.0.0.1:1234 leaves as 10.0.1.1:1234.
    Conn {
        proto: 17,
        zone: 6,
        orig: ([10, 0, 0, 1], [192, 168, 0, 1], 1234, 53),
        reply: ([192, 168, 0, 1], [10, 0, 1, 1], 53, 1234),
        mark: 2,
        label: 0x10001,
    },
];

impl Conn {
    fn line(&self) -> String {
        let t = |(s, d, sp, dp): ([u8; 4], [u8; 4], u16, u16)| {
            format!("src={},dst={},sport={sp},dport={dp}", ip4s(s), ip4s(d))
        };
        let mut l = format!(
            "{},orig=({}),reply=({}),zone={}",
            if self.proto == 6 { "tcp" } else { "udp" },
            t(self.orig),
            t(self.reply),
            self.zone
        );
        if self.mark != 0 {
            write!(l, ",mark={}", self.mark).unwrap();
        }
        if self.label != 0 {
            write!(l, ",labels={:#x}", self.label).unwrap();
        }
        if self.proto == 6 {
            l.push_str(",protoinfo=(state=ESTABLISHED)");
        }
        l
    }
}

/// A packet's fields (what the reference matches on) and how to build it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct P {
    in_port: u16,
    src_mac: [u8; 6],
    dst_mac: [u8; 6],
    /// TCI without OVS's CFI bit.
    vlan: Option<u16>,
    v6: bool,
    src: [u8; 16],
    dst: [u8; 16],
    proto: u8,
    tos: u8,
    ttl: u8,
    /// `frag::NONE`, `FIRST` or `LATER`.
    frag: u8,
    sport: u16,
    dport: u16,
    flags: u8,
}

fn a4(a: &[u8; 16]) -> [u8; 4] {
    [a[0], a[1], a[2], a[3]]
}

fn to16(a: [u8; 4]) -> [u8; 16] {
    let mut o = [0u8; 16];
    o[..4].copy_from_slice(&a);
    o
}

fn csum_fold(mut s: u32) -> u16 {
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

fn sum(b: &[u8]) -> u32 {
    b.chunks(2)
        .map(|w| u32::from(w[0]) << 8 | u32::from(*w.get(1).unwrap_or(&0)))
        .sum()
}

impl P {
    fn l4_present(&self) -> bool {
        self.frag != frag::LATER
    }

    fn bytes(&self) -> Vec<u8> {
        let mut seg = Vec::new();
        let l4 = self.l4_present();
        match self.proto {
            6 => {
                seg.extend_from_slice(&self.sport.to_be_bytes());
                seg.extend_from_slice(&self.dport.to_be_bytes());
                seg.extend_from_slice(&[
                    0, 0, 0, 1, 0, 0, 0, 0, 0x50, self.flags, 0xff, 0xff, 0, 0, 0, 0,
                ]);
            }
            17 => {
                seg.extend_from_slice(&self.sport.to_be_bytes());
                seg.extend_from_slice(&self.dport.to_be_bytes());
                seg.extend_from_slice(&[0, 16, 0, 0]);
            }
            1 | 58 => {
                seg.extend_from_slice(&[self.sport as u8, self.dport as u8, 0, 0, 0, 7, 0, 1])
            }
            _ => seg.extend_from_slice(&[0xab; 8]),
        }
        seg.extend_from_slice(b"datadata");
        if !l4 {
            seg.truncate(16); // a later fragment: just data
        } else {
            let (src, dst): (&[u8], &[u8]) = if self.v6 {
                (&self.src, &self.dst)
            } else {
                (&self.src[..4], &self.dst[..4])
            };
            let mut ph = Vec::new();
            ph.extend_from_slice(src);
            ph.extend_from_slice(dst);
            ph.extend_from_slice(&[0, 0, 0, self.proto]);
            ph.extend_from_slice(&(seg.len() as u32).to_be_bytes());
            let at = match self.proto {
                6 => Some(16),
                17 => Some(6),
                1 | 58 => Some(2),
                _ => None,
            };
            if let Some(at) = at {
                let c = if self.proto == 1 {
                    csum_fold(sum(&seg))
                } else {
                    csum_fold(sum(&ph) + sum(&seg))
                };
                let c = if self.proto == 17 && c == 0 {
                    0xffff
                } else {
                    c
                };
                seg[at..at + 2].copy_from_slice(&c.to_be_bytes());
            }
        }
        let mut f = Vec::new();
        f.extend_from_slice(&self.dst_mac);
        f.extend_from_slice(&self.src_mac);
        if let Some(tci) = self.vlan {
            f.extend_from_slice(&[0x81, 0]);
            f.extend_from_slice(&tci.to_be_bytes());
        }
        if self.v6 {
            f.extend_from_slice(&[0x86, 0xdd]);
            let ext = self.frag != frag::NONE;
            let len = seg.len() + if ext { 8 } else { 0 };
            f.extend_from_slice(&[0x60 | (self.tos >> 4), (self.tos << 4) | 0x1, 0x23, 0x45]);
            f.extend_from_slice(&(len as u16).to_be_bytes());
            f.extend_from_slice(&[if ext { 44 } else { self.proto }, self.ttl]);
            f.extend_from_slice(&self.src);
            f.extend_from_slice(&self.dst);
            if ext {
                let off: u16 = if self.frag == frag::LATER { 0x50 } else { 0x01 };
                f.extend_from_slice(&[self.proto, 0]);
                f.extend_from_slice(&off.to_be_bytes());
                f.extend_from_slice(&[0, 0, 0, 9]);
            }
        } else {
            f.extend_from_slice(&[0x08, 0]);
            let fo: u16 = match self.frag {
                frag::FIRST => 0x2000,
                frag::LATER => 0x0010,
                _ => 0x4000,
            };
            let mut h = vec![0x45, self.tos];
            h.extend_from_slice(&((20 + seg.len()) as u16).to_be_bytes());
            h.extend_from_slice(&[0x12, 0x34]);
            h.extend_from_slice(&fo.to_be_bytes());
            h.extend_from_slice(&[self.ttl, self.proto, 0, 0]);
            h.extend_from_slice(&self.src[..4]);
            h.extend_from_slice(&self.dst[..4]);
            let c = csum_fold(sum(&h));
            h[10..12].copy_from_slice(&c.to_be_bytes());
            f.extend_from_slice(&h);
        }
        f.extend_from_slice(&seg);
        f
    }
}

/// The packet's metadata before it meets the flows.
#[derive(Clone, Copy, Debug, Default)]
struct Pre {
    recirc: u32,
    ct_state: u32,
    zone: u16,
    mark: u32,
    label: u128,
}

fn random_packet(r: &mut Rng) -> P {
    let v6 = r.chance(15);
    let proto = if v6 {
        r.pick(&[6, 17, 58])
    } else {
        r.pick(&[6, 17, 1, 6, 17])
    };
    let (src, dst) = if v6 {
        (v6addr(r.index(4) as u8 + 1), v6addr(r.index(4) as u8 + 1))
    } else {
        (to16(r.pick(V4)), to16(r.pick(V4)))
    };
    let mut p = P {
        in_port: r.pick(&[1, 2, 3]),
        src_mac: r.pick(MACS),
        dst_mac: r.pick(MACS),
        vlan: if r.chance(15) {
            Some(r.pick(&[100, 200, 0x2064]))
        } else {
            None
        },
        v6,
        src,
        dst,
        proto,
        tos: r.pick(&[0, 0x28, 0xb8]),
        ttl: r.pick(&[64, 1, 255]),
        frag: if r.chance(10) {
            r.pick(&[frag::FIRST, frag::LATER])
        } else {
            frag::NONE
        },
        sport: r.pick(TP),
        dport: r.pick(TP),
        flags: r.pick(&[0x10, 0x02, 0x12, 0x18]),
    };
    if matches!(proto, 1 | 58) {
        p.sport = u16::from(r.pick(&[8u8, 0, 128, 129]));
        p.dport = 0;
    }
    // Often a connection's tuple, in either direction.
    if !v6 && r.chance(40) {
        let c = r.pick(CONNS);
        let (s, d, sp, dp) = if r.chance(50) { c.orig } else { c.reply };
        p.proto = c.proto;
        p.src = to16(s);
        p.dst = to16(d);
        p.sport = sp;
        p.dport = dp;
    }
    p
}

fn random_pre(r: &mut Rng, recircs: &[u32]) -> Pre {
    if r.chance(40) {
        return Pre::default();
    }
    Pre {
        recirc: r.pick(recircs),
        ct_state: r.index(256) as u32,
        zone: r.pick(&[4, 6, 0]),
        mark: r.pick(&[0, 1, 2, 3]),
        label: r.pick(&[0, 0x10001, 0x5]),
    }
}

// --------------------------------------------------------------- flows

fn random_l3(r: &mut Rng, v6: bool, frag_any: bool, v6_frags: bool) -> (String, Option<u8>) {
    let frag = if frag_any && (!v6 || v6_frags) && r.chance(30) {
        r.pick(&["first", "later"])
    } else {
        "no"
    };
    if v6 {
        let proto = r.pick(&[6u8, 17, 58]);
        let mut s = format!(
            "eth_type(0x86dd),ipv6(dst={},proto={proto}",
            ip6s(v6addr(r.index(4) as u8 + 1))
        );
        if r.chance(30) {
            write!(s, ",src={}/ffff::", ip6s(v6addr(1))).unwrap();
        }
        if r.chance(20) {
            s.push_str(",tclass=0xb8/0xfc");
        }
        write!(s, ",frag={frag})").unwrap();
        return (s, (frag != "later").then_some(proto));
    }
    let proto = r.pick(&[6u8, 17, 1]);
    let mut s = format!("eth_type(0x0800),ipv4(proto={proto}");
    match r.index(4) {
        0 => write!(s, ",dst={}", ip4s(r.pick(V4))).unwrap(),
        1 => write!(s, ",dst={}/255.255.255.0", ip4s(r.pick(V4))).unwrap(),
        2 => write!(s, ",src={}/255.255.255.252", ip4s(r.pick(V4))).unwrap(),
        _ => {}
    }
    if r.chance(15) {
        s.push_str(",tos=0x28/0xfc");
    }
    if r.chance(10) {
        s.push_str(",ttl=64");
    }
    write!(s, ",frag={frag})").unwrap();
    (s, (frag != "later").then_some(proto))
}

fn random_l4(r: &mut Rng, proto: Option<u8>) -> String {
    match proto {
        Some(6) => match r.index(4) {
            0 => format!(",tcp(dst={})", r.pick(TP)),
            1 => format!(",tcp(src={},dst={})", r.pick(TP), r.pick(TP)),
            2 => format!(",tcp(dst={}/0xfff0),tcp_flags(syn)", r.pick(TP)),
            _ => String::new(),
        },
        Some(17) => match r.index(3) {
            0 => format!(",udp(dst={})", r.pick(TP)),
            1 => format!(",udp(src={}/0xff00)", r.pick(TP)),
            _ => String::new(),
        },
        Some(1) if r.chance(50) => format!(",icmp(type={},code=0)", r.pick(&[8, 0])),
        Some(58) if r.chance(50) => format!(",icmpv6(type={})", r.pick(&[128, 129])),
        _ => String::new(),
    }
}

fn random_eth(r: &mut Rng) -> String {
    match r.index(3) {
        0 => format!("eth(src={},dst={})", macs(r.pick(MACS)), macs(r.pick(MACS))),
        1 => format!(
            "eth(src={}/01:00:00:00:00:00,dst={})",
            macs(r.pick(MACS)),
            macs(r.pick(MACS))
        ),
        _ => "eth()".into(),
    }
}

fn random_out(r: &mut Rng, tagged: bool, v6: bool, proto: Option<u8>) -> String {
    let port = r.pick(&[1, 2, 3]);
    match r.index(9) {
        2 | 3 if v6 => format!("{port}"),
        3 if proto == Some(17) => format!("set(ipv4(ttl=9)),set(udp(src=7)),{port}"),
        3 if proto != Some(6) => format!("set(ipv4(ttl=9)),{port}"),
        0 => "drop".into(),
        1 => format!("set(eth(dst={})),{port}", macs(r.pick(MACS))),
        2 => format!("set(ipv4(dst={})),{port}", ip4s(r.pick(V4))),
        3 => format!("set(ipv4(ttl=9)),set(tcp(dst=8080)),{port}"),
        4 if tagged => format!("pop_vlan,{port}"),
        4 => format!("push_vlan(vid=300,pcp=3),{port}"),
        _ => format!("{port}"),
    }
}

/// What the generator makes besides the common shapes: the two whose
/// translation is known to differ from OVS (see the ignored tests).
#[derive(Clone, Copy, Default)]
struct Gen {
    /// IPv6 flows with frag=first|later (and the L4 protocol).
    v6_frags: bool,
    /// Recirculation flows matching ct_state's snat/dnat bits.
    nat_bits: bool,
}

/// A set of megaflows: root flows (some into conntrack or recirculation)
/// and flows at three recirculation ids matching conntrack state.
fn random_flows(r: &mut Rng, n: usize, gen: Gen) -> Vec<String> {
    let recircs = [0x21u32, 0x22, 0x23];
    let mut out = Vec::new();
    for _ in 0..n {
        let root = r.chance(55);
        let v6 = r.chance(15);
        let tagged = !v6 && r.chance(15);
        let (l3, proto) = random_l3(r, v6, root, gen.v6_frags);
        let l4 = random_l4(r, proto);
        let mut key = String::new();
        let ct = root && !v6 && !tagged && l3.contains("frag=no") && r.chance(35);
        if root {
            key.push_str("recirc_id(0),");
        } else {
            let mut state = r
                .pick(&[
                    "+est+trk",
                    "-new+est-rel+trk",
                    "+est-rpl+trk",
                    "+est+rpl+trk",
                    "+trk",
                    "-trk",
                    "-est+trk",
                ])
                .to_string();
            if gen.nat_bits && r.chance(50) {
                state.push_str(r.pick(&["+snat", "+dnat", "-snat-dnat"]));
            }
            write!(key, "ct_state({state}),").unwrap();
            if r.chance(50) {
                write!(key, "ct_zone({}),", r.pick(ZONES)).unwrap();
            }
            match r.index(4) {
                0 => write!(key, "ct_mark({}),", r.pick(&[0, 1, 2])).unwrap(),
                1 => key.push_str("ct_mark(0/0x1),"),
                _ => {}
            }
            if r.chance(20) {
                write!(key, "ct_label({:#x}),", r.pick(&[0u128, 0x10001])).unwrap();
            }
            write!(key, "recirc_id({:#x}),", r.pick(&recircs)).unwrap();
        }
        if root || r.chance(50) {
            write!(key, "in_port({}),", r.pick(&[1, 2, 3])).unwrap();
        }
        key.push_str(&random_eth(r));
        if tagged {
            let vid = r.pick(&[100, 200]);
            write!(
                key,
                ",eth_type(0x8100),vlan(vid={vid},pcp=0),encap({}{l4})",
                &l3
            )
            .unwrap();
        } else {
            write!(key, ",{l3}{l4}").unwrap();
        }
        let actions = if ct {
            let zone = r.pick(ZONES);
            let nat = if r.chance(50) { ",nat" } else { "" };
            format!("ct(zone={zone}{nat}),recirc({:#x})", r.pick(&recircs))
        } else if root && r.chance(10) {
            format!("recirc({:#x})", r.pick(&recircs))
        } else {
            random_out(r, tagged, v6, proto)
        };
        out.push(format!("{key}|{actions}"));
    }
    out
}

fn megaflow(line: &str) -> Megaflow {
    let (k, a) = line.split_once('|').unwrap();
    let (key, mask) = parse_flow_key(k).unwrap_or_else(|e| panic!("{k}: {e}"));
    let actions = parse_actions(a).unwrap_or_else(|e| panic!("{a}: {e}"));
    Megaflow {
        ufid: None,
        key,
        mask,
        actions,
        stats: Default::default(),
    }
}

// ------------------------------------------------------------ reference

fn m16(p: u16, k: u16, m: u16) -> bool {
    p & m == k & m
}

fn m32(p: u32, k: u32, m: u32) -> bool {
    p & m == k & m
}

fn mbytes(p: &[u8], k: &[u8], m: &[u8]) -> bool {
    p.iter().zip(k).zip(m).all(|((p, k), m)| p & m == k & m)
}

/// Whether megaflow `f` matches packet `p` with pre-state `pre`.
fn matches(f: &Megaflow, p: &P, pre: &Pre) -> bool {
    let (k, m) = (&f.key, &f.mask);
    let recirc = if k.has(KeyAttr::RecircId) {
        k.recirc_id & m.recirc_id
    } else {
        0
    };
    if pre.recirc != recirc {
        return false;
    }
    if k.has(KeyAttr::InPort) {
        let (OdpPort::Number(kp), OdpPort::Number(mp)) = (&k.in_port, &m.in_port) else {
            return false;
        };
        if !m32(u32::from(p.in_port), *kp, *mp) {
            return false;
        }
    }
    if k.has(KeyAttr::CtState) && !m32(pre.ct_state, k.ct_state, m.ct_state) {
        return false;
    }
    if k.has(KeyAttr::CtZone) && !m16(pre.zone, k.ct_zone, m.ct_zone) {
        return false;
    }
    if k.has(KeyAttr::CtMark) && !m32(pre.mark, k.ct_mark, m.ct_mark) {
        return false;
    }
    if k.has(KeyAttr::CtLabels) && pre.label & m.ct_label != k.ct_label & m.ct_label {
        return false;
    }
    if k.has(KeyAttr::Ethernet)
        && !(mbytes(&p.src_mac, &k.eth.src, &m.eth.src)
            && mbytes(&p.dst_mac, &k.eth.dst, &m.eth.dst))
    {
        return false;
    }
    // A key without vlan() matches untagged frames only (OVS: a missing
    // VLAN mask is an exact match on "no VLAN").
    let (k, m) = if k.has(KeyAttr::Vlan) && m.vlan_tci != 0 {
        let Some(tci) = p.vlan else { return false };
        if !m16(tci | 0x1000, k.vlan_tci, m.vlan_tci) {
            return false;
        }
        match (k.encap.as_deref(), m.encap.as_deref()) {
            (Some(k), Some(m)) => (k, m),
            _ => return true,
        }
    } else {
        if p.vlan.is_some() {
            return false;
        }
        (k, m)
    };
    let eth_type = if p.v6 { 0x86dd } else { 0x0800 };
    if k.has(KeyAttr::Ethertype) && !m16(eth_type, k.eth_type, m.eth_type) {
        return false;
    }
    let l4 = p.l4_present();
    if k.has(KeyAttr::Ipv4) {
        let (ki, mi) = (&k.ipv4, &m.ipv4);
        let ok = !p.v6
            && m32(u32::from_be_bytes(a4(&p.src)), ki.src, mi.src)
            && m32(u32::from_be_bytes(a4(&p.dst)), ki.dst, mi.dst)
            && p.proto & mi.proto == ki.proto & mi.proto
            && p.tos & mi.tos == ki.tos & mi.tos
            && p.ttl & mi.ttl == ki.ttl & mi.ttl
            && p.frag & mi.frag == ki.frag & mi.frag;
        if !ok {
            return false;
        }
    }
    if k.has(KeyAttr::Ipv6) {
        let (ki, mi) = (&k.ipv6, &m.ipv6);
        let ok = p.v6
            && mbytes(&p.src, &ki.src, &mi.src)
            && mbytes(&p.dst, &ki.dst, &mi.dst)
            && p.proto & mi.proto == ki.proto & mi.proto
            && p.tos & mi.tclass == ki.tclass & mi.tclass
            && p.ttl & mi.hlimit == ki.hlimit & mi.hlimit
            && 0x12345 & mi.label == ki.label & mi.label
            && p.frag & mi.frag == ki.frag & mi.frag;
        if !ok {
            return false;
        }
    }
    // OVS's transport fields are zero where there is no transport header.
    let (sp, dp, flags) = if l4 {
        (p.sport, p.dport, u16::from(p.flags))
    } else {
        (0, 0, 0)
    };
    for (attr, kp, mp) in [
        (KeyAttr::Tcp, &k.tcp, &m.tcp),
        (KeyAttr::Udp, &k.udp, &m.udp),
    ] {
        if k.has(attr) && !(m16(sp, kp.src, mp.src) && m16(dp, kp.dst, mp.dst)) {
            return false;
        }
    }
    if k.has(KeyAttr::TcpFlags) && !m16(flags, k.tcp_flags, m.tcp_flags) {
        return false;
    }
    for (attr, ki, mi) in [
        (KeyAttr::Icmp, &k.icmp, &m.icmp),
        (KeyAttr::Icmpv6, &k.icmpv6, &m.icmpv6),
    ] {
        if k.has(attr)
            && !((sp as u8) & mi.type_ == ki.type_ & mi.type_
                && (dp as u8) & mi.code == ki.code & mi.code)
        {
            return false;
        }
    }
    true
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    Out(u16, Vec<u8>),
    Drop,
    Software(Option<u32>),
}

struct Reference<'a> {
    flows: &'a [Megaflow],
    /// recirc id → group, for miss marks.
    group_of: &'a dyn Fn(u32) -> Option<u32>,
}

impl Reference<'_> {
    fn run(&self, mut p: P, mut pre: Pre) -> Expect {
        for _ in 0..8 {
            let Some(f) = self.flows.iter().find(|f| matches(f, &p, &pre)) else {
                return Expect::Software(if pre.recirc == 0 {
                    None
                } else {
                    (self.group_of)(pre.recirc).map(|g| mark::RECIRC_MISS | g)
                });
            };
            let acts = &f.actions;
            if acts.is_empty() {
                return Expect::Drop;
            }
            let mut i = 0;
            let mut out = None;
            let mut next = None;
            while i < acts.len() {
                match &acts[i] {
                    OdpAction::Drop => return Expect::Drop,
                    OdpAction::Output(OdpPort::Number(n)) => out = Some(*n as u16),
                    OdpAction::PushVlan { tci, .. } => p.vlan = Some(tci & !0x1000),
                    OdpAction::PopVlan => p.vlan = None,
                    OdpAction::Set(s) => match &s.field {
                        SetField::Eth { key, mask } => {
                            for b in 0..6 {
                                p.dst_mac[b] =
                                    p.dst_mac[b] & !mask.dst[b] | key.dst[b] & mask.dst[b];
                                p.src_mac[b] =
                                    p.src_mac[b] & !mask.src[b] | key.src[b] & mask.src[b];
                            }
                        }
                        SetField::Ipv4 { key, mask } if !p.v6 => {
                            let d = u32::from_be_bytes(a4(&p.dst)) & !mask.dst | key.dst & mask.dst;
                            let s2 =
                                u32::from_be_bytes(a4(&p.src)) & !mask.src | key.src & mask.src;
                            p.dst = to16(d.to_be_bytes());
                            p.src = to16(s2.to_be_bytes());
                            p.ttl = p.ttl & !mask.ttl | key.ttl & mask.ttl;
                        }
                        SetField::Tcp { key, mask } | SetField::Udp { key, mask }
                            if matches!(p.proto, 6 | 17) && p.l4_present() =>
                        {
                            p.dport = p.dport & !mask.dst | key.dst & mask.dst;
                            p.sport = p.sport & !mask.src | key.src & mask.src;
                        }
                        _ => {}
                    },
                    OdpAction::Recirc(r) => next = Some((*r, None)),
                    OdpAction::Ct(ct) => {
                        let Some(OdpAction::Recirc(r)) = acts.get(i + 1) else {
                            panic!("ct without recirc")
                        };
                        next = Some((*r, Some((ct.zone, ct.nat.is_some()))));
                        i += 1;
                    }
                    other => panic!("the generator made {other:?}"),
                }
                i += 1;
            }
            match (out, next) {
                (Some(port), _) => return Expect::Out(port, p.bytes()),
                (None, None) => return Expect::Drop,
                (None, Some((r, None))) => {
                    pre.recirc = r;
                }
                (None, Some((r, Some((zone, nat))))) => {
                    let miss = Expect::Software(Some(if nat {
                        mark::CT_NAT_MISS
                    } else {
                        mark::CT_MISS
                    }));
                    if p.v6 || p.frag != frag::NONE || !matches!(p.proto, 6 | 17) {
                        return miss;
                    }
                    // SYN, FIN and RST change a TCP connection's state: the
                    // offload leaves them to software's conntrack.
                    if p.proto == 6 && p.flags & 0x07 != 0 {
                        return miss;
                    }
                    let t = (a4(&p.src), a4(&p.dst), p.sport, p.dport);
                    let hit = CONNS.iter().find_map(|c| {
                        (c.zone == zone && c.proto == p.proto)
                            .then(|| {
                                if c.orig == t {
                                    Some((c, false))
                                } else if c.reply == t {
                                    Some((c, true))
                                } else {
                                    None
                                }
                            })
                            .flatten()
                    });
                    let Some((c, reply)) = hit else { return miss };
                    let mut state = ct_state::TRACKED | ct_state::ESTABLISHED;
                    if reply {
                        state |= ct_state::REPLY_DIR;
                    }
                    if nat {
                        // The packet leaves as the mirror image of the other
                        // direction's tuple.
                        let to = if reply { c.orig } else { c.reply };
                        let (ns, nd, nsp, ndp) = (to.1, to.0, to.3, to.2);
                        let src_changes = (ns, nsp) != (t.0, t.2);
                        let dst_changes = (nd, ndp) != (t.1, t.3);
                        // OVS (lib/conntrack.c nat_packet/un_nat_packet):
                        // the state names what was done to this packet.
                        if src_changes {
                            state |= ct_state::SRC_NAT;
                        }
                        if dst_changes {
                            state |= ct_state::DST_NAT;
                        }
                        p.src = to16(ns);
                        p.dst = to16(nd);
                        p.sport = nsp;
                        p.dport = ndp;
                    }
                    pre = Pre {
                        recirc: r,
                        ct_state: state,
                        zone,
                        mark: c.mark,
                        label: c.label,
                    };
                }
            }
        }
        Expect::Drop
    }
}

// ------------------------------------------------------------ the test

/// Checksum fields as equal whether 0x0000 or 0xffff (UDP aside, both are
/// the same ones' complement zero).
fn canonical(f: &[u8]) -> Vec<u8> {
    let mut f = f.to_vec();
    let mut off = 12;
    let mut et = u16::from_be_bytes([f[off], f[off + 1]]);
    off += 2;
    while et == 0x8100 {
        et = u16::from_be_bytes([f[off + 2], f[off + 3]]);
        off += 4;
    }
    let zero = |f: &mut Vec<u8>, at: usize| {
        if f.get(at..at + 2) == Some(&[0xff, 0xff]) {
            f[at] = 0;
            f[at + 1] = 0;
        }
    };
    if et == 0x0800 {
        zero(&mut f, off + 10);
        let later = u16::from_be_bytes([f[off + 6], f[off + 7]]) & 0x1fff != 0;
        match f[off + 9] {
            6 if !later => zero(&mut f, off + 20 + 16),
            1 if !later => zero(&mut f, off + 20 + 2),
            _ => {}
        }
    }
    f
}

struct Setup {
    esw: Eswitch,
    rules: Vec<EswitchRule>,
    translator: Translator,
    flows: Vec<Megaflow>,
    rejected: usize,
}

/// Translates and installs `lines` and the connections; `corrupt` may
/// change one flow rule before it is lowered.
fn setup(
    profile: DeviceProfile,
    lines: &[String],
    corrupt: &mut dyn FnMut(usize, &mut HwRule) -> bool,
) -> Setup {
    let mut t = Translator::new(profile.clone(), PortMap::identity(), Config::default());
    let esw = Eswitch::new(profile, PORTS);
    let mut rules = Vec::new();
    let mut rte = RteRule::new();
    let mut install = |hw: &HwRule, rules: &mut Vec<EswitchRule>| {
        lower(hw, &mut rte).unwrap();
        rules.push(esw.create(&rte).unwrap_or_else(|e| panic!("{e}\n{hw:?}")));
    };
    for c in CONNS {
        let e = ConnEntry::parse(&c.line()).unwrap();
        let tr = t
            .translate_conn(&e)
            .unwrap_or_else(|e| panic!("{}: {e}", c.line()));
        for r in &tr.new_resources {
            for hw in t.fixed_rules(r) {
                install(&hw, &mut rules);
            }
        }
        for hw in &tr.rules {
            install(hw, &mut rules);
        }
    }
    let mut flows = Vec::new();
    let mut rejected = 0;
    for (i, line) in lines.iter().enumerate() {
        let f = megaflow(line);
        match t.translate(&f) {
            Ok(mut tr) => {
                for r in &tr.new_resources {
                    for hw in t.fixed_rules(r) {
                        install(&hw, &mut rules);
                    }
                }
                corrupt(i, &mut tr.rule);
                install(&tr.rule, &mut rules);
                flows.push(f);
            }
            Err(_) => rejected += 1,
        }
    }
    Setup {
        esw,
        rules,
        translator: t,
        flows,
        rejected,
    }
}

/// A packet forced to hit `f` (its masked fields copied in), sometimes
/// with one masked bit flipped: a near miss.
fn aimed_packet(r: &mut Rng, f: &Megaflow, p: &mut P, pre: &mut Pre) {
    let (k, m) = (&f.key, &f.mask);
    pre.recirc = if k.has(KeyAttr::RecircId) {
        k.recirc_id
    } else {
        0
    };
    if pre.recirc == 0 {
        *pre = Pre::default();
    }
    let blend = |v: u32, k: u32, m: u32| v & !m | k & m;
    if k.has(KeyAttr::InPort) {
        if let (OdpPort::Number(kp), OdpPort::Number(mp)) = (&k.in_port, &m.in_port) {
            p.in_port = blend(u32::from(p.in_port), *kp, *mp) as u16;
        }
    }
    if pre.recirc != 0 {
        pre.ct_state = blend(pre.ct_state, k.ct_state, m.ct_state);
        pre.zone = blend(
            u32::from(pre.zone),
            u32::from(k.ct_zone),
            u32::from(m.ct_zone),
        ) as u16;
        pre.mark = blend(pre.mark, k.ct_mark, m.ct_mark);
        pre.label = pre.label & !m.ct_label | k.ct_label & m.ct_label;
    }
    for b in 0..6 {
        p.src_mac[b] = p.src_mac[b] & !m.eth.src[b] | k.eth.src[b] & m.eth.src[b];
        p.dst_mac[b] = p.dst_mac[b] & !m.eth.dst[b] | k.eth.dst[b] & m.eth.dst[b];
    }
    let (k, m) = if k.has(KeyAttr::Vlan) && m.vlan_tci != 0 {
        p.vlan = Some((p.vlan.unwrap_or(0) & !m.vlan_tci | k.vlan_tci & m.vlan_tci) & !0x1000);
        (
            k.encap.as_deref().unwrap_or(k),
            m.encap.as_deref().unwrap_or(m),
        )
    } else {
        p.vlan = None;
        (k, m)
    };
    if k.has(KeyAttr::Ipv4) {
        p.v6 = false;
        let (ki, mi) = (&k.ipv4, &m.ipv4);
        p.src = to16(blend(u32::from_be_bytes(a4(&p.src)), ki.src, mi.src).to_be_bytes());
        p.dst = to16(blend(u32::from_be_bytes(a4(&p.dst)), ki.dst, mi.dst).to_be_bytes());
        p.proto = p.proto & !mi.proto | ki.proto & mi.proto;
        p.tos = p.tos & !mi.tos | ki.tos & mi.tos;
        p.ttl = p.ttl & !mi.ttl | ki.ttl & mi.ttl;
        if mi.frag != 0 {
            p.frag = ki.frag;
        }
    }
    if k.has(KeyAttr::Ipv6) {
        p.v6 = true;
        let (ki, mi) = (&k.ipv6, &m.ipv6);
        for b in 0..16 {
            p.src[b] = p.src[b] & !mi.src[b] | ki.src[b] & mi.src[b];
            p.dst[b] = p.dst[b] & !mi.dst[b] | ki.dst[b] & mi.dst[b];
        }
        p.proto = p.proto & !mi.proto | ki.proto & mi.proto;
        p.tos = p.tos & !mi.tclass | ki.tclass & mi.tclass;
        if mi.frag != 0 {
            p.frag = ki.frag;
        }
    }
    for (attr, kp, mp) in [
        (KeyAttr::Tcp, &k.tcp, &m.tcp),
        (KeyAttr::Udp, &k.udp, &m.udp),
    ] {
        if k.has(attr) {
            p.sport = blend(u32::from(p.sport), u32::from(kp.src), u32::from(mp.src)) as u16;
            p.dport = blend(u32::from(p.dport), u32::from(kp.dst), u32::from(mp.dst)) as u16;
        }
    }
    if k.has(KeyAttr::TcpFlags) {
        p.flags = (u16::from(p.flags) & !m.tcp_flags | k.tcp_flags & m.tcp_flags) as u8;
    }
    for (attr, ki, mi) in [
        (KeyAttr::Icmp, &k.icmp, &m.icmp),
        (KeyAttr::Icmpv6, &k.icmpv6, &m.icmpv6),
    ] {
        if k.has(attr) {
            p.sport = u16::from(p.sport as u8 & !mi.type_ | ki.type_ & mi.type_);
            p.dport = u16::from(p.dport as u8 & !mi.code | ki.code & mi.code);
        }
    }
    if !r.chance(40) {
        return;
    }
    // Near miss: flip one bit the flow matches on.
    let mut bits: Vec<(u8, u32)> = Vec::new();
    let mut add = |field: u8, mask: u32| {
        for b in 0..32 {
            if mask >> b & 1 != 0 {
                bits.push((field, 1 << b));
            }
        }
    };
    if k.has(KeyAttr::Ipv4) {
        add(0, m.ipv4.src);
        add(1, m.ipv4.dst);
        add(2, u32::from(m.ipv4.tos));
        add(3, u32::from(m.ipv4.ttl));
    }
    for (attr, mp) in [(KeyAttr::Tcp, &m.tcp), (KeyAttr::Udp, &m.udp)] {
        if k.has(attr) {
            add(4, u32::from(mp.src));
            add(5, u32::from(mp.dst));
        }
    }
    add(6, u32::from(m.eth.dst[5]));
    add(7, u32::from(m.eth.src[0]));
    if pre.recirc != 0 {
        add(8, m.ct_state);
        add(9, m.ct_mark);
        add(10, u32::from(m.ct_zone));
    }
    if bits.is_empty() {
        return;
    }
    let (field, bit) = bits[r.index(bits.len())];
    match field {
        0 => p.src = to16((u32::from_be_bytes(a4(&p.src)) ^ bit).to_be_bytes()),
        1 => p.dst = to16((u32::from_be_bytes(a4(&p.dst)) ^ bit).to_be_bytes()),
        2 => p.tos ^= bit as u8,
        3 => p.ttl ^= bit as u8,
        4 => p.sport ^= bit as u16,
        5 => p.dport ^= bit as u16,
        6 => p.dst_mac[5] ^= bit as u8,
        7 => p.src_mac[0] ^= bit as u8,
        8 => pre.ct_state ^= bit,
        9 => pre.mark ^= bit,
        _ => pre.zone ^= bit as u16,
    }
}

/// Runs `n` packets; returns the disagreements, printed.
fn compare(s: &Setup, seed: u64, n: usize, report: &mut String) -> usize {
    let mut r = Rng(seed);
    let t = &s.translator;
    let profile = t.profile();
    let regs_map = profile.registers;
    let group_of = |recirc: u32| t.resources().group_of(recirc);
    let reference = Reference {
        flows: &s.flows,
        group_of: &group_of,
    };
    let recircs = [0x21u32, 0x22, 0x23];
    let mut bad = 0;
    let mut seen = [0usize; 3];
    for _ in 0..n {
        let mut p = random_packet(&mut r);
        let mut pre = random_pre(&mut r, &recircs);
        if !s.flows.is_empty() && r.chance(60) {
            let f = &s.flows[r.index(s.flows.len())];
            aimed_packet(&mut r, f, &mut p, &mut pre);
        }
        let want = reference.run(p.clone(), pre);
        let bytes = p.bytes();
        let verdict = if pre.recirc == 0 {
            s.esw.process(p.in_port, &bytes)
        } else {
            let Some(group) = group_of(pre.recirc) else {
                continue;
            };
            let mut regs = [0u32; MAX_TAGS];
            let label = t.resources().label_id(pre.label).unwrap_or(0xfffe);
            for (f, v) in [
                (regs_map.ct_state, pre.ct_state),
                (regs_map.ct_zone, u32::from(pre.zone)),
                (regs_map.ct_mark, pre.mark),
                (regs_map.ct_label, label),
            ] {
                regs[usize::from(f.index)] |= f.place(v);
            }
            s.esw.process_from(group, regs, p.in_port, &bytes)
        };
        let ok = match (&want, &verdict.fate) {
            (
                Expect::Out(port, b),
                Fate::Output {
                    port: q,
                    bytes: got,
                },
            ) => port == q && canonical(b) == canonical(got),
            (Expect::Drop, Fate::Drop(DropReason::Rule)) => true,
            (Expect::Software(mark), Fate::ToSoftware(h)) => *mark == h.mark,
            _ => false,
        };
        seen[match want {
            Expect::Out(..) => 0,
            Expect::Drop => 1,
            Expect::Software(_) => 2,
        }] += 1;
        if !ok {
            bad += 1;
            if bad <= 5 {
                writeln!(
                    report,
                    "DISAGREE: {p:?} {pre:?}\n  packet {}\n  reference {want:?}\n  eswitch {:?} via {:?}\n  first matching flow: {:?}",
                    bytes.iter().map(|b| format!("{b:02x}")).collect::<String>(),
                    verdict.fate,
                    verdict.path,
                    s.flows.iter().find(|f| matches(f, &p, &pre)).map(|f| f.to_text(xsc_dp::odp::Style::Plain)),
                )
                .unwrap();
            }
        }
    }
    writeln!(
        report,
        "outputs {} drops {} software {}",
        seen[0], seen[1], seen[2]
    )
    .unwrap();
    bad
}

const PACKETS: usize = 100_000;

#[test]
fn translated_rules_do_what_the_megaflows_say() {
    for (profile, seed) in [
        (DeviceProfile::generic(), 1u64),
        (DeviceProfile::metascale(), 2),
    ] {
        let name = profile.name.clone();
        let mut r = Rng(0x5eed ^ seed);
        let lines = random_flows(&mut r, 120, Gen::default());
        let s = setup(profile, &lines, &mut |_, _| false);
        let mut report = String::new();
        let bad = compare(&s, seed * 7919, PACKETS, &mut report);
        eprintln!(
            "{name}: {} flows offloaded, {} rejected, {} rules; {report}",
            s.flows.len(),
            s.rejected,
            s.rules.len()
        );
        assert!(
            s.flows.len() >= 60,
            "{name}: too few flows offloaded to mean anything"
        );
        assert_eq!(bad, 0, "{name}: {bad} disagreements\n{report}");
    }
}

#[test]
fn a_flipped_mask_bit_is_caught() {
    let mut r = Rng(0xbad);
    let mut lines = random_flows(&mut r, 60, Gen::default());
    // A flow whose IPv4 destination is matched exactly, first in line.
    lines.insert(0, "recirc_id(0),in_port(1),eth(),eth_type(0x0800),ipv4(dst=10.0.0.2,proto=17,frag=no),udp(dst=53)|2".into());
    let flip = |i: usize, rule: &mut HwRule| {
        if i != 0 {
            return false;
        }
        for item in rule.pattern.iter_mut() {
            if let Item::Ipv4 { m, .. } = item {
                m.mask.dst[3] ^= 0x01; // one bit: the rule now also takes 10.0.0.3
                m.spec.dst[3] &= m.mask.dst[3];
                return true;
            }
        }
        false
    };
    let mut flipped = false;
    let s = setup(DeviceProfile::generic(), &lines, &mut |i, rule| {
        let f = flip(i, rule);
        flipped |= f;
        f
    });
    assert!(flipped);
    let mut report = String::new();
    let bad = compare(&s, 99, 30_000, &mut report);
    eprintln!("{report}");
    assert!(bad > 0, "the broken rule went unnoticed");
}

/// Runs the comparison on flows of the given kinds; the number of
/// disagreements, with the first ones printed.
fn run_gen(gen: Gen, seed: u64) -> usize {
    let mut r = Rng(seed);
    let lines = random_flows(&mut r, 120, gen);
    let s = setup(DeviceProfile::generic(), &lines, &mut |_, _| false);
    let mut report = String::new();
    let bad = compare(&s, seed, 30_000, &mut report);
    eprintln!("{report}");
    bad
}

/// For an IPv6 fragment OVS's `ipv6(proto=6,frag=first)` is the transport
/// protocol after the extension headers, while rte_flow's IPV6 `proto` is
/// the header's next-header byte — 44 (fragment) in every fragment. The
/// translation matches the protocol in IPV6_FRAG_EXT's `next_header`.
#[test]
fn ipv6_fragment_flows_match_the_transport_protocol() {
    assert_eq!(
        run_gen(
            Gen {
                v6_frags: true,
                ..Gen::default()
            },
            0xf4a9
        ),
        0
    );
}

/// OVS's conntrack marks a packet with the NAT it applied to *this* packet
/// (lib/conntrack.c: `un_nat_packet` sets +snat on the reply of a DNAT
/// connection, +dnat on the reply of an SNAT one); so do the CT-NAT rules.
#[test]
fn nat_state_bits_of_reply_packets_follow_ovs() {
    assert_eq!(
        run_gen(
            Gen {
                nat_bits: true,
                ..Gen::default()
            },
            0x0a7
        ),
        0
    );
}
