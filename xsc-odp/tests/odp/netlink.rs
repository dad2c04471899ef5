//! Netlink round trips for `xsc_odp::netlink` over the same corpus the
//! text tests use (real OVS output, `tests/data/odp/corpus/README.md`) and
//! the key/action fixtures: text → model → netlink → model → text must give
//! back the line byte for byte, and netlink → model → netlink the same bytes.
//! Port names (`in_port(p1)`, `actions:p2,br0`) go through a `PortTable`
//! that numbers them and names the decoded numbers back.
use xsc_odp::netlink::{
    decode_actions, decode_key, encode_actions, encode_key, encode_mask, ErrorKind, NoPortNames,
    PortTable,
};
use xsc_odp::{
    format_actions, format_flow_key, parse_actions, parse_dump, parse_flow_key, Megaflow, Style,
};
use xsc_test_support::alloc::allocations;
use xsc_test_support::fixtures;

// The odp fixtures stay in xsc-dp/tests/data/odp: the translation, engine and
// OVS tests read the same corpus.
fn read(name: &str) -> String {
    fixtures::read(fixtures::odp(name))
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
}

fn via_netlink(m: &Megaflow, ports: &mut PortTable) -> Megaflow {
    let (mut k, mut mk, mut a) = (Vec::new(), Vec::new(), Vec::new());
    m.to_netlink(ports, &mut k, &mut mk, &mut a)
        .unwrap_or_else(|e| panic!("encode: {e}"));
    let mut back =
        Megaflow::from_netlink(m.ufid, &k, Some(&mk), &a).unwrap_or_else(|e| panic!("decode: {e}"));
    // Bytes are stable: decode → encode gives the same lists.
    let (mut k2, mut mk2, mut a2) = (Vec::new(), Vec::new(), Vec::new());
    back.to_netlink(&mut NoPortNames, &mut k2, &mut mk2, &mut a2)
        .unwrap();
    assert_eq!((k2, mk2, a2), (k, mk, a));
    ports.name_ports(Some(&mut back.key), Some(&mut back.actions));
    back.stats = m.stats.clone();
    back
}

fn round_trip_file(name: &str, style: Style) -> usize {
    let text = read(name);
    // Names get numbers far from the ones the files print, so that the two
    // never collide.
    let mut ports = PortTable::new(0x1_0000);
    let mut n = 0;
    for (line_no, r) in parse_dump(&text) {
        let m = r.unwrap_or_else(|e| panic!("{name}:{line_no}: {e}"));
        let line = text.lines().nth(line_no - 1).unwrap();
        let back = via_netlink(&m, &mut ports);
        assert_eq!(back.to_text(style), line, "{name}:{line_no}");
        n += 1;
    }
    n
}

#[test]
fn corpus_lines_round_trip_through_netlink() {
    assert_eq!(
        round_trip_file("corpus/ovs-dummy-ct.flows", Style::Plain),
        7
    );
    assert_eq!(
        round_trip_file("corpus/seed-offloaded.flows", Style::Plain),
        6
    );
    assert_eq!(
        round_trip_file("corpus/ovs-dummy-ct-verbose.flows", Style::Verbose),
        7
    );
}

#[test]
fn key_fixtures_round_trip_through_netlink() {
    let text = read("keys.txt");
    let mut n = 0;
    for l in lines(&text) {
        let (k, m) = parse_flow_key(l).unwrap_or_else(|e| panic!("{l}: {e}"));
        let mut ports = PortTable::new(0x1_0000);
        let (mut kb, mut mb) = (Vec::new(), Vec::new());
        encode_key(&k, &mut ports, &mut kb).unwrap_or_else(|e| panic!("{l}: {e}"));
        encode_mask(&m, &mut mb).unwrap_or_else(|e| panic!("{l}: {e}"));
        let (mut k2, m2) = decode_key(&kb, Some(&mb)).unwrap_or_else(|e| panic!("{l}: {e}"));
        ports.name_ports(Some(&mut k2), None);
        let mut out = String::new();
        format_flow_key(&mut out, &k2, Some(&m2), false);
        assert_eq!(out, l);
        n += 1;
    }
    assert!(n >= 20, "{n}");
}

#[test]
fn action_fixtures_round_trip_through_netlink() {
    let text = read("actions.txt");
    let mut n = 0;
    for l in lines(&text) {
        let a = parse_actions(l).unwrap_or_else(|e| panic!("{l}: {e}"));
        let mut ports = PortTable::new(0x1_0000);
        let mut b = Vec::new();
        encode_actions(&a, &mut ports, &mut b).unwrap_or_else(|e| panic!("{l}: {e}"));
        let mut back = decode_actions(&b).unwrap_or_else(|e| panic!("{l}: {e}"));
        ports.name_ports(None, Some(&mut back));
        let mut out = String::new();
        format_actions(&mut out, &back);
        // OVS's odp_put_userspace_action() zero-pads userdata to 8 bytes (for
        // pre-3.10 kernels), so OVS itself prints a short userdata back longer.
        let want = l.replace("userdata(00112233)", "userdata(0011223300000000)");
        assert_eq!(out, want);
        n += 1;
    }
    assert!(n >= 25, "{n}");
}

#[test]
fn key_only_form_is_an_exact_match() {
    let m = Megaflow::parse(read("corpus/seed-offloaded.flows").lines().next().unwrap()).unwrap();
    let mut k = Vec::new();
    encode_key(&m.key, &mut PortTable::new(1), &mut k).unwrap();
    let (_, mask) = decode_key(&k, None).unwrap();
    assert_eq!(mask.present, m.key.present);
    let mut s = String::new();
    let (key, _) = decode_key(&k, None).unwrap();
    format_flow_key(&mut s, &key, Some(&mask), false);
    // Every attribute printed, each without a mask: exact matches.
    assert!(
        s.starts_with("ct_state(est|rpl|trk),ct_mark(0),recirc_id(0x2d277),in_port(15),"),
        "{s}"
    );
    assert!(
        s.ends_with("ipv4(src=0.0.0.0,dst=10.16.0.14,proto=0,tos=0,ttl=0,frag=no)"),
        "{s}"
    );
    assert!(!s.contains('/'), "{s}");
}

#[test]
fn error_messages_are_exact() {
    let err = |b: &[u8]| decode_key(b, None).unwrap_err().to_string();
    // nla_len 8 for OVS_KEY_ATTR_IN_PORT (3) with only 6 bytes there.
    let mut b = Vec::new();
    b.extend_from_slice(&8u16.to_ne_bytes());
    b.extend_from_slice(&3u16.to_ne_bytes());
    b.extend_from_slice(&[1, 0]);
    assert_eq!(
        err(&b),
        "OVS_KEY_ATTR_IN_PORT at byte 0: nla_len 8 exceeds the 6 bytes left"
    );
    // Two stray bytes after a good attribute: a cut header.
    let mut b = Vec::new();
    b.extend_from_slice(&8u16.to_ne_bytes());
    b.extend_from_slice(&20u16.to_ne_bytes());
    b.extend_from_slice(&0u32.to_ne_bytes());
    b.extend_from_slice(&[0, 0]);
    assert_eq!(
        err(&b),
        "attribute header at byte 8: truncated: 2 bytes left for a 4-byte header"
    );
    // OVS_KEY_ATTR_ETHERTYPE (6) with a 4-byte payload.
    let mut b = Vec::new();
    b.extend_from_slice(&8u16.to_ne_bytes());
    b.extend_from_slice(&6u16.to_ne_bytes());
    b.extend_from_slice(&[8, 0, 0, 0]);
    assert_eq!(
        err(&b),
        "OVS_KEY_ATTR_ETHERTYPE at byte 0: payload of 4 bytes, expected 2"
    );
    // Unknown type 63.
    let mut b = Vec::new();
    b.extend_from_slice(&4u16.to_ne_bytes());
    b.extend_from_slice(&63u16.to_ne_bytes());
    assert_eq!(
        err(&b),
        "OVS_KEY_ATTR_? at byte 0: unknown attribute type 63"
    );
    // Actions: ct with a 3-byte zone, inside the CT attribute at byte 4.
    let mut b = Vec::new();
    b.extend_from_slice(&12u16.to_ne_bytes());
    b.extend_from_slice(&12u16.to_ne_bytes());
    b.extend_from_slice(&7u16.to_ne_bytes());
    b.extend_from_slice(&2u16.to_ne_bytes());
    b.extend_from_slice(&[4, 0, 0, 0]);
    assert_eq!(
        decode_actions(&b).unwrap_err().to_string(),
        "OVS_CT_ATTR_ZONE at byte 4: payload of 3 bytes, expected 2"
    );
    // Encoding a port name without a map.
    let a = parse_actions("p2").unwrap();
    let e = encode_actions(&a, &mut NoPortNames, &mut Vec::new()).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::UnknownPortName(_)));
    assert_eq!(
        e.to_string(),
        "OVS_ACTION_ATTR_OUTPUT at byte 0: port name 'p2' has no number"
    );
}

#[test]
fn every_prefix_and_bit_flip_of_a_flow_is_an_error_or_a_flow_never_a_panic() {
    let m = Megaflow::parse(read("corpus/ovs-dummy-ct.flows").lines().nth(4).unwrap()).unwrap();
    let (mut k, mut mk, mut a) = (Vec::new(), Vec::new(), Vec::new());
    m.to_netlink(&mut NoPortNames, &mut k, &mut mk, &mut a)
        .unwrap();
    for buf in [&k, &mk, &a] {
        for cut in 0..buf.len() {
            let _ = decode_key(&buf[..cut], Some(&buf[..cut]));
            let _ = decode_actions(&buf[..cut]);
        }
        for i in 0..buf.len() * 8 {
            let mut b = buf.clone();
            b[i / 8] ^= 1 << (i % 8);
            let _ = decode_key(&b, Some(&b));
            let _ = decode_actions(&b);
        }
    }
}

#[test]
fn decoding_offloadable_flows_does_not_allocate() {
    let text = read("corpus/seed-offloaded.flows");
    let mut n = 0;
    for l in lines(&text) {
        let m = Megaflow::parse(l).unwrap();
        let (mut k, mut mk, mut a) = (Vec::new(), Vec::new(), Vec::new());
        m.to_netlink(&mut NoPortNames, &mut k, &mut mk, &mut a)
            .unwrap();
        let mut key = xsc_odp::FlowKey::default();
        let mut mask = xsc_odp::FlowKey::default();
        let mut acts = None;
        let n_alloc = allocations(|| {
            xsc_odp::netlink::decode_key_into(&k, Some(&mk), &mut key, &mut mask).unwrap();
            acts = Some(decode_actions(&a).unwrap());
        });
        assert_eq!(n_alloc, 0, "{l}");
        assert_eq!(acts, Some(m.actions));
        n += 1;
    }
    assert_eq!(n, 6);
}

/// The three places OVS nests NSH sub-attributes (a match key, `push_nsh`,
/// `set_masked(nsh(...))`) read and write through one codec: each round
/// trips, and each refuses what it refused before (MD2 in a key or a set, a
/// set payload that is not value plus mask).
#[test]
fn nsh_in_key_push_and_set_round_trip_and_refuse_alike() {
    use xsc_odp::{Action, FlowKey, KeyAttr, NshKey, SetAction, SetField};
    fn nla(ty: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&((4 + payload.len()) as u16).to_ne_bytes());
        v.extend_from_slice(&ty.to_ne_bytes());
        v.extend_from_slice(payload);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }
    const KEY_NSH: u16 = 28; // OVS_KEY_ATTR_NSH
    const ACT_SET_MASKED: u16 = 11; // OVS_ACTION_ATTR_SET_MASKED
    const ACT_PUSH_NSH: u16 = 17; // OVS_ACTION_ATTR_PUSH_NSH
    const BASE: u16 = 1;
    const MD1: u16 = 2;
    const MD2: u16 = 3;

    // Key: nsh(...) with MD1 context, key and mask.
    let (k, m) = parse_flow_key(
        "nsh(flags=6,ttl=3,mdtype=1,np=3,spi=0x100,si=255,c1=0x1,c2=0x2,c3=0x3,c4=0x4)",
    )
    .unwrap();
    let (mut kb, mut mb) = (Vec::new(), Vec::new());
    encode_key(&k, &mut NoPortNames, &mut kb).unwrap();
    encode_mask(&m, &mut mb).unwrap();
    let (k2, m2) = decode_key(&kb, Some(&mb)).unwrap();
    assert_eq!((k2.nsh, m2.nsh), (k.nsh, m.nsh));
    assert_eq!(k2.nsh.context, [1, 2, 3, 4]);

    // Key with MD2: refused, as OVS refuses it.
    let bad = nla(KEY_NSH | 0x8000, &nla(MD2, &[0; 8]));
    let e = decode_key(&bad, None).unwrap_err();
    assert_eq!(e.attr, "OVS_NSH_KEY_ATTR_MD2");
    assert!(
        e.to_string()
            .contains("MD type 2 matching is not supported"),
        "{e}"
    );

    // push_nsh with MD1 round trips through text and netlink alike.
    let a = parse_actions(
        "push_nsh(flags=0,ttl=63,mdtype=1,np=3,spi=0x100,si=255,c1=0x1,c2=0x2,c3=0x3,c4=0x4)",
    )
    .unwrap();
    let mut ab = Vec::new();
    encode_actions(&a, &mut NoPortNames, &mut ab).unwrap();
    assert_eq!(decode_actions(&ab).unwrap(), a);

    // push_nsh with MD2 keeps the TLV bytes; without BASE the TTL is 63.
    let md2 = [0u8, 1, 2, 1, 9, 9, 9, 9];
    let push = nla(
        ACT_PUSH_NSH | 0x8000,
        &nla(KEY_NSH | 0x8000, &nla(MD2, &md2)),
    );
    match &decode_actions(&push).unwrap()[..] {
        [Action::PushNsh(p)] => {
            assert_eq!(p.md2, md2);
            assert_eq!(p.ttl, 63);
        }
        other => panic!("{other:?}"),
    }

    // set_masked(nsh(...)): value and mask in each payload.
    let mut key = FlowKey::default();
    let mut mask = FlowKey::default();
    key.present.insert(KeyAttr::Nsh);
    mask.present.insert(KeyAttr::Nsh);
    key.nsh = NshKey {
        flags: 2,
        ttl: 9,
        mdtype: 1,
        np: 3,
        spi: 0x12345,
        si: 7,
        context: [5, 6, 7, 8],
    };
    mask.nsh = NshKey {
        flags: 0xff,
        ttl: 0x3f,
        mdtype: 0,
        np: 0,
        spi: 0xff_ffff,
        si: 0xff,
        context: [u32::MAX, 0, 0, 0],
    };
    let set = Action::Set(SetAction {
        masked: true,
        field: SetField::Other {
            attr: KeyAttr::Nsh,
            key: Box::new(key),
            mask: Box::new(mask),
        },
    });
    let mut sb = Vec::new();
    encode_actions(std::slice::from_ref(&set), &mut NoPortNames, &mut sb).unwrap();
    assert_eq!(decode_actions(&sb).unwrap()[..], [set]);

    // set_masked(nsh(...)) with MD2, or with a BASE of one struct only.
    let set_md2 = nla(
        ACT_SET_MASKED | 0x8000,
        &nla(KEY_NSH | 0x8000, &nla(MD2, &[0; 16])),
    );
    let e = decode_actions(&set_md2).unwrap_err();
    assert_eq!(e.kind, ErrorKind::UnknownAttr { ty: MD2 });
    let set_short = nla(
        ACT_SET_MASKED | 0x8000,
        &nla(KEY_NSH | 0x8000, &nla(BASE, &[0; 8])),
    );
    let e = decode_actions(&set_short).unwrap_err();
    assert_eq!(e.attr, "OVS_NSH_KEY_ATTR_BASE");
    assert_eq!(
        e.kind,
        ErrorKind::BadLength {
            got: 8,
            expected: 16
        }
    );
    let set_md1 = nla(
        ACT_SET_MASKED | 0x8000,
        &nla(KEY_NSH | 0x8000, &nla(MD1, &[0; 16])),
    );
    let e = decode_actions(&set_md1).unwrap_err();
    assert_eq!(
        e.kind,
        ErrorKind::BadLength {
            got: 16,
            expected: 32
        }
    );
}
