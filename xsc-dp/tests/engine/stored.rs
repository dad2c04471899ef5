//! `engine::stored` over real OVS dumps: every megaflow of the Kube-OVN
//! fixtures (`tests/data/ovs/README.md`) and of the shared corpus
//! (`tests/data/odp/corpus/`, byte-identical copies of
//! `/work/shared/corpus/*.flows`) survives `StoredFlow::new` → `load` in
//! both print styles, the interner shares and frees blobs, the netlink entry
//! point agrees with the model one, `type=offloaded` lines parse back, and
//! 100 000 synthetic flows stay within the memory bound the engine relies on.
use std::time::Instant;

use xsc_dp::engine::stored::{
    format_offloaded, format_offloaded_plain, Interner, KeyForm, StoredFlow, DP_LAYER_OFFLOADED,
};
use xsc_dp::odp::netlink::{decode_key, NoPortNames, PortTable};
use xsc_dp::odp::{
    parse_dump, Action, DpLayer, FlowStats, KeyAttr, Megaflow, OdpPort, Offloaded, Style, Ufid,
    Used,
};
use xsc_test_support::fixtures;

/// The fixtures, and the style each was dumped in.
const FIXTURES: [(&str, Style); 5] = [
    ("ovs/kube-ovn.flows", Style::Plain),
    ("ovs/kube-ovn-verbose.flows", Style::Verbose),
    ("odp/corpus/ovs-dummy-ct.flows", Style::Plain),
    ("odp/corpus/ovs-dummy-ct-verbose.flows", Style::Verbose),
    ("odp/corpus/seed-offloaded.flows", Style::Plain),
];

fn flows(name: &str) -> Vec<(String, Megaflow)> {
    let text = fixtures::read(fixtures::root().join("xsc-dp/tests/data").join(name));
    parse_dump(&text)
        .map(|(n, r)| {
            let line = text.lines().nth(n - 1).unwrap_or_default().to_owned();
            (line, r.unwrap_or_else(|e| panic!("{name}:{n}: {e}")))
        })
        .collect()
}

/// `stored` loaded into a megaflow carrying `like`'s ufid and statistics.
fn loaded(stored: &StoredFlow, like: &Megaflow) -> Megaflow {
    let mut back = Megaflow {
        ufid: like.ufid,
        stats: like.stats.clone(),
        ..Megaflow::default()
    };
    stored
        .load(&mut back)
        .unwrap_or_else(|e| panic!("load: {e}"));
    back
}

#[test]
fn every_fixture_flow_comes_back_identical_in_both_styles() {
    let mut interner = Interner::new();
    let mut n = 0;
    for (name, style) in FIXTURES {
        for (line, m) in flows(name) {
            let stored = StoredFlow::new(&m, &mut interner).unwrap_or_else(|e| panic!("{e}"));
            let back = loaded(&stored, &m);
            assert_eq!(back.key, m.key, "{line}");
            assert_eq!(back.mask, m.mask, "{line}");
            assert_eq!(back.actions, m.actions, "{line}");
            assert_eq!(back.to_text(style), line);
            assert_eq!(back.to_text(Style::Plain), m.to_text(Style::Plain));
            assert_eq!(back.to_text(Style::Verbose), m.to_text(Style::Verbose));
            n += 1;
        }
    }
    assert_eq!(n, 27 + 27 + 7 + 7 + 6);
}

/// (packed, packed with a residue, full) per fixture.
fn key_forms(name: &str) -> (usize, usize, usize) {
    let mut interner = Interner::new();
    let mut counts = (0, 0, 0);
    for (_, m) in flows(name) {
        match StoredFlow::new(&m, &mut interner).unwrap().key_form() {
            KeyForm::Packed => counts.0 += 1,
            KeyForm::PackedWithResidue => counts.1 += 1,
            KeyForm::Full => counts.2 += 1,
        }
    }
    counts
}

#[test]
fn encoded_keys_and_masks_share_their_layout_so_every_key_is_packed() {
    // No flow falls back to its full key: the encoder lays out key and mask
    // alike, as OVS's odp_flow_key_from_mask() does.  A residue is left where
    // OVS printed key bits under a zero mask byte: every `-m` line (the
    // unmasked key of the packet that made the flow, `ct_zone(0x4/0)`), and
    // plain lines with a partial mask (`ipv4(dst=10.16.0.14/255.252.0.0)`,
    // `eth(src=00:00:00:9d:fb:1a/01:00:00:00:00:00)`).
    let measured = FIXTURES.map(|(name, _)| key_forms(name));
    assert_eq!(
        measured,
        [(25, 2, 0), (0, 27, 0), (6, 1, 0), (0, 7, 0), (2, 4, 0)]
    );
}

fn seed(n: usize) -> Megaflow {
    flows("odp/corpus/seed-offloaded.flows").swap_remove(n).1
}

#[test]
fn flows_with_one_mask_share_one_blob_and_sweep_frees_unused_ones() {
    let mut interner = Interner::new();
    assert!(interner.is_empty());
    let a = seed(0);
    let mut b = a.clone();
    b.key.ipv4.dst ^= 0x0100_0000;
    b.key.eth.src[5] ^= 1;
    let mut c = a.clone();
    c.actions[1] = Action::Recirc(0x1234);

    let sa = StoredFlow::new(&a, &mut interner).unwrap();
    assert_eq!(interner.len(), 2, "one mask, one action list");
    let sb = StoredFlow::new(&b, &mut interner).unwrap();
    assert_eq!(interner.len(), 2, "b has a's mask and actions");
    assert_ne!(sa, sb);
    let sc = StoredFlow::new(&c, &mut interner).unwrap();
    assert_eq!(interner.len(), 3, "c has a's mask, its own actions");
    assert_eq!(loaded(&sb, &b).key, b.key);
    let with_three = interner.memory_bytes();

    drop(sc);
    interner.sweep();
    assert_eq!(interner.len(), 2);
    assert!(interner.memory_bytes() < with_three);
    let sa2 = sa.clone();
    drop((sa, sb));
    interner.sweep();
    assert_eq!(interner.len(), 2, "a clone still holds both blobs");
    drop(sa2);
    interner.sweep();
    assert!(interner.is_empty());
}

#[test]
fn from_netlink_agrees_with_new() {
    for (name, _) in FIXTURES {
        for (line, m) in flows(name) {
            let mut interner = Interner::new();
            let from_model = StoredFlow::new(&m, &mut interner).unwrap();

            let mut ports = PortTable::new(0x1_0000);
            let (mut k, mut mk, mut a) = (Vec::new(), Vec::new(), Vec::new());
            m.to_netlink(&mut ports, &mut k, &mut mk, &mut a).unwrap();
            let from_lists = StoredFlow::from_netlink(&k, Some(&mk), &a, &mut interner);
            assert_eq!(from_lists.key_form(), from_model.key_form(), "{line}");
            let mut back = loaded(&from_lists, &m);
            ports.name_ports(Some(&mut back.key), Some(&mut back.actions));
            assert_eq!(back.to_text(Style::Verbose), m.to_text(Style::Verbose));
            if !line.contains("in_port(p") {
                // Numbered ports: the very same bytes.
                assert_eq!(from_lists, from_model, "{line}");
                assert_eq!(interner.len(), 2, "{line}");
            }

            // OVS's key-only form: no mask list, every attribute exact.
            let key_only = StoredFlow::from_netlink(&k, None, &a, &mut interner);
            assert_eq!(key_only.key_form(), KeyForm::Full);
            let back = loaded(&key_only, &m);
            let (key, exact) = decode_key(&k, None).unwrap();
            assert_eq!((back.key, back.mask), (key, exact));
        }
    }
}

#[test]
fn port_names_survive_without_the_interner() {
    let line = "recirc_id(0),in_port(p3p1),eth_type(0x0800),ipv4(frag=no), \
                packets:0, bytes:0, used:never, actions:set(in_port(p3p1)),p2,clone(vf-rep7),3";
    let m = Megaflow::parse(line).unwrap();
    let mut interner = Interner::new();
    let stored = StoredFlow::new(&m, &mut interner).unwrap();
    drop(interner);
    // Loaded on another thread, after the interner is gone.
    let back = std::thread::spawn(move || {
        let mut back = Megaflow::default();
        stored.load(&mut back).map(|()| back)
    })
    .join()
    .unwrap()
    .unwrap();
    assert_eq!(back.to_text(Style::Plain), line);

    // A name mixed with a number the interner would hand out is refused,
    // not confused.
    let clash = "in_port(1), packets:0, bytes:0, used:never, actions:p2,4026531840";
    let m = Megaflow::parse(clash).unwrap();
    let e = StoredFlow::new(&m, &mut Interner::new()).unwrap_err();
    assert!(e.to_string().contains("port names"), "{e}");
}

fn offload_stats(m: &Megaflow) -> FlowStats {
    FlowStats {
        packets: m.stats.packets + 1000,
        bytes: m.stats.bytes + 64_000,
        used: Used::Ago { ms: 23 },
        tcp_flags: m.stats.tcp_flags,
        offloaded: None,
        dp: None,
        dp_extra_info: None,
    }
}

#[test]
fn offloaded_lines_parse_back_to_the_flow() {
    let mut n = 0;
    for (name, _) in FIXTURES {
        for (i, (_, m)) in flows(name).into_iter().enumerate() {
            let ufid = m.ufid.unwrap_or(Ufid {
                parts: [0x1234_5678, 0x9abc_def0, i as u32, 0xfeed_f00d],
            });
            let stats = offload_stats(&m);
            let mut line = String::new();
            format_offloaded(&mut line, &ufid, &m, &stats);
            assert!(
                line.contains(", offloaded:yes, dp:dpdk, actions:"),
                "{line}"
            );
            assert!(!line.contains('\n'));
            let p = Megaflow::parse(&line).unwrap_or_else(|e| panic!("{e}\n{line}"));
            assert_eq!(p.ufid, Some(ufid));
            assert_eq!((&p.key, &p.mask, &p.actions), (&m.key, &m.mask, &m.actions));
            let expected = FlowStats {
                offloaded: Some(Offloaded::Yes),
                dp: DpLayer::new(DP_LAYER_OFFLOADED),
                ..stats.clone()
            };
            assert_eq!(p.stats, expected);

            // Without -m: the plain line, no ufid/offloaded/dp.
            let mut plain = String::new();
            format_offloaded_plain(&mut plain, &m, &stats);
            let with_stats = Megaflow {
                stats: stats.clone(),
                ..m.clone()
            };
            assert_eq!(plain, with_stats.to_text(Style::Plain));
            assert!(!plain.contains("offloaded") && !plain.contains("ufid"));
            assert!(Megaflow::parse(&plain).is_ok());
            n += 1;
        }
    }
    assert_eq!(n, 74);
}

#[test]
fn offloaded_line_is_what_ovs_prints() {
    // A seed flow as `dpctl/dump-flows -m type=offloaded` would show it
    // fully offloaded, with dpif-netdev's miniflow_bits extra info.
    let m = seed(0);
    let stats = FlowStats {
        packets: 6,
        bytes: 588,
        used: Used::Ago { ms: 7276 },
        dp_extra_info: Some("miniflow_bits(5,2)".as_bytes().into()),
        ..FlowStats::default()
    };
    let ufid = Ufid {
        parts: [0x82770b5d, 0xca3844ff, 0x828374ba, 0x36bd1ca5],
    };
    let mut line = String::new();
    format_offloaded(&mut line, &ufid, &m, &stats);
    assert_eq!(
        line,
        "ufid:82770b5d-ca38-44ff-8283-74ba36bd1ca5, \
         ct_state(0x2a/0x2f),ct_mark(0/0x3),recirc_id(0x2d277),in_port(15),\
         packet_type(ns=0,id=0),\
         eth(src=00:00:00:9d:fb:1a,dst=00:00:00:ce:cf:b9),eth_type(0x0800),\
         ipv4(src=0.0.0.0/0.0.0.0,dst=10.16.0.14,proto=0/0,tos=0/0,ttl=0/0,frag=no), \
         packets:6, bytes:588, used:7.276s, offloaded:yes, dp:dpdk, \
         actions:ct(zone=4,nat),recirc(0x2d278), dp-extra-info:miniflow_bits(5,2)"
    );
    let mut plain = String::new();
    format_offloaded_plain(&mut plain, &m, &stats);
    assert_eq!(
        plain,
        "ct_state(-new+est-rel+rpl+trk),ct_mark(0/0x3),recirc_id(0x2d277),in_port(15),\
         packet_type(ns=0,id=0),eth(src=00:00:00:9d:fb:1a,dst=00:00:00:ce:cf:b9),\
         eth_type(0x0800),ipv4(dst=10.16.0.14,frag=no), packets:6, bytes:588, \
         used:7.276s, actions:ct(zone=4,nat),recirc(0x2d278)"
    );
}

/// `m` with its port names replaced by the fixture's numbers (p1, p2, p3 =
/// 1, 2, 3, br0 = 100), as OVS hands flows to an offload provider.
fn numbered(m: &Megaflow) -> Megaflow {
    let mut ports = PortTable::new(0x1_0000);
    for (name, n) in [("p1", 1), ("p2", 2), ("p3", 3), ("br0", 100)] {
        ports.insert(name, n);
    }
    let (mut k, mut mk, mut a) = (Vec::new(), Vec::new(), Vec::new());
    m.to_netlink(&mut ports, &mut k, &mut mk, &mut a).unwrap();
    Megaflow {
        stats: m.stats.clone(),
        ..Megaflow::from_netlink(m.ufid, &k, Some(&mk), &a).unwrap()
    }
}

/// A synthetic megaflow table: `bases` cycled, with the addresses, ports,
/// MACs, in_port and recirc targets of flow `i` derived from `i`.
fn synthetic(bases: &[Megaflow], i: usize) -> Megaflow {
    let mut m = bases[i % bases.len()].clone();
    let x = i as u32;
    let k = &mut m.key;
    let port = 1024 + (x % 60_000) as u16;
    if k.has(KeyAttr::Ipv4) {
        k.ipv4.src ^= x.wrapping_mul(0x9e37_79b9) >> 8;
        k.ipv4.dst = 0x0a10_0000 | (x & 0xffff);
    }
    if k.has(KeyAttr::Ethernet) {
        k.eth.src[3..].copy_from_slice(&x.to_be_bytes()[1..]);
        k.eth.dst[4..].copy_from_slice(&(x.wrapping_mul(7) as u16).to_be_bytes());
    }
    if k.has(KeyAttr::Tcp) {
        k.tcp.src = port;
    }
    if k.has(KeyAttr::Udp) {
        k.udp.src = port;
    }
    if k.has(KeyAttr::CtOrigTupleIpv4) {
        k.ct_tuple4.src ^= x;
        k.ct_tuple4.src_port = port;
    }
    if let OdpPort::Number(p) = &mut k.in_port {
        *p = 1 + x % 64;
    }
    if k.recirc_id != 0 {
        k.recirc_id = 0x1000 + x % 512;
    }
    for a in m.actions.iter_mut() {
        if let Action::Recirc(r) = a {
            *r = 0x2000 + x % 256;
        }
    }
    m
}

struct Measured {
    bytes_per_flow: f64,
    interner_per_flow: f64,
    forms: [usize; 3],
}

/// Nanoseconds per call of `f` over `items`: the best of five rounds, so
/// that other load on the machine shows as little as possible.  Printed for
/// the record only (run with `--release` for meaningful figures).
fn best_ns<T>(items: &[T], mut f: impl FnMut(&T)) -> f64 {
    // A debug build only checks that the loop runs.
    let (rounds, reps) = if cfg!(debug_assertions) {
        (1, 1)
    } else {
        (5, 20)
    };
    (0..rounds)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..reps {
                items.iter().for_each(&mut f);
            }
            t.elapsed().as_nanos() as f64 / (reps * items.len()) as f64
        })
        .fold(f64::INFINITY, f64::min)
}

/// Stores `n` synthetic flows made from `bases` and reports what they take.
fn measure(what: &str, bases: &[Megaflow], n: usize) -> Measured {
    let mut interner = Interner::new();
    let stored: Vec<StoredFlow> = (0..n)
        .map(|i| StoredFlow::new(&synthetic(bases, i), &mut interner).unwrap())
        .collect();
    let mut back = Megaflow::default();
    for (i, s) in stored.iter().enumerate().step_by(7) {
        let m = synthetic(bases, i);
        s.load(&mut back).unwrap();
        assert_eq!(
            (&back.key, &back.mask, &back.actions),
            (&m.key, &m.mask, &m.actions)
        );
    }

    // Times on a hot working set of 1024 flows.
    let hot: Vec<Megaflow> = (0..1024).map(|i| synthetic(bases, i)).collect();
    let lists: Vec<[Vec<u8>; 3]> = hot
        .iter()
        .map(|m| {
            let mut l: [Vec<u8>; 3] = Default::default();
            let [k, mk, a] = &mut l;
            m.to_netlink(&mut NoPortNames, k, mk, a).unwrap();
            l
        })
        .collect();
    let new_ns = best_ns(&hot, |m| drop(StoredFlow::new(m, &mut interner)));
    let from_netlink_ns = best_ns(&lists, |[k, mk, a]| {
        drop(StoredFlow::from_netlink(k, Some(mk), a, &mut interner))
    });
    let load_ns = best_ns(&stored[..1024], |s| s.load(&mut back).unwrap());

    let own: usize = stored
        .iter()
        .map(|s| std::mem::size_of::<StoredFlow>() + s.heap_bytes())
        .sum();
    let heap = stored.iter().map(StoredFlow::heap_bytes);
    let heap_range = (heap.clone().min().unwrap_or(0), heap.max().unwrap_or(0));
    let mut forms = [0; 3];
    for s in &stored {
        forms[match s.key_form() {
            KeyForm::Packed => 0,
            KeyForm::PackedWithResidue => 1,
            KeyForm::Full => 2,
        }] += 1;
    }
    let r = Measured {
        bytes_per_flow: own as f64 / n as f64,
        interner_per_flow: interner.memory_bytes() as f64 / n as f64,
        forms,
    };
    println!(
        "{what}: {} flows, {:.1} B/flow own (size_of {} + heap {}..={}), interner {:.2} B/flow \
         ({} blobs), forms packed/residue/full {:?}; new {:.0} ns, from_netlink {:.0} ns, load {:.0} ns",
        n,
        r.bytes_per_flow,
        std::mem::size_of::<StoredFlow>(),
        heap_range.0,
        heap_range.1,
        r.interner_per_flow,
        interner.len(),
        r.forms,
        new_ns,
        from_netlink_ns,
        load_ns,
    );
    r
}

#[test]
fn a_hundred_thousand_flows_fit_the_memory_budget() {
    const N: usize = 100_000;
    // The engine may spend 300 B per flow in all (cache entry, hardware
    // state, stored flow), so the stored flow should stay well under half.
    //
    // Keys as the plain dumps print them (masked but for partial masks, and
    // for the synthetic values that land under zero mask bytes): every key
    // fits inline, 64 B per flow and no heap block.
    let plain: Vec<Megaflow> = flows("odp/corpus/seed-offloaded.flows")
        .into_iter()
        .chain(flows("ovs/kube-ovn.flows"))
        .map(|(_, m)| m)
        .collect();
    let r = measure("plain-dump keys (seed + kube-ovn)", &plain, N);
    assert_eq!(r.forms[2], 0);
    assert_eq!(r.bytes_per_flow, 64.0);
    assert!(r.interner_per_flow < 4.0, "{}", r.interner_per_flow);

    // Unmasked keys (what dpif-netdev hands an offload provider and `-m`
    // prints: the packet's values under zero masks, ct_tuple4 included),
    // with numbered ports as OVS gives them, keep a residue: measured 88.0 B
    // per flow (64 + a heap block of up to 33 bytes), bound at 96.
    let verbose: Vec<Megaflow> = flows("ovs/kube-ovn-verbose.flows")
        .into_iter()
        .map(|(_, m)| numbered(&m))
        .collect();
    let r = measure("unmasked keys (kube-ovn -m)", &verbose, N);
    assert_eq!(r.forms, [0, N, 0]);
    assert!(r.bytes_per_flow <= 96.0, "{} B/flow", r.bytes_per_flow);
    assert!(r.interner_per_flow < 4.0, "{}", r.interner_per_flow);
}
