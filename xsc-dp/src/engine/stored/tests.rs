use super::*;
use crate::odp::netlink::attr;
use crate::odp::netlink::consts::OVS_KEY_ATTR_ENCAP;

#[test]
fn stored_flow_is_one_cache_line() {
    #[cfg(target_pointer_width = "64")]
    assert_eq!(core::mem::size_of::<StoredFlow>(), 64);
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<StoredFlow>();
    send::<Interner>();
}

/// `[in_port 4][eth 12][encap [eth_type 2][ipv4 12]]`.
fn lists(key_vals: &[u8; 30], mask_vals: &[u8; 30]) -> (Vec<u8>, Vec<u8>) {
    let build = |v: &[u8; 30]| {
        let mut inner = Vec::new();
        attr::put(&mut inner, 6, &v[16..18]);
        attr::put(&mut inner, 7, &v[18..30]);
        let mut out = Vec::new();
        attr::put(&mut out, 3, &v[0..4]);
        attr::put(&mut out, 4, &v[4..16]);
        attr::put(&mut out, OVS_KEY_ATTR_ENCAP, &inner);
        out
    };
    (build(key_vals), build(mask_vals))
}

fn round_trip(key: &[u8], mask: &[u8]) -> (Option<u8>, usize) {
    let shape = Shape::new(mask);
    let mut packed = Vec::new();
    let flags = pack(key, &shape, &mut packed);
    match flags {
        Some(f) => {
            let mut back = KeyBuf::new();
            unpack(&packed, &shape, f, &mut back).unwrap();
            assert_eq!(&back[..], key);
        }
        None => assert!(packed.is_empty()),
    }
    (flags, packed.len())
}

#[test]
fn packing_keeps_masked_bytes_and_skips_headers() {
    let mut k = [0u8; 30];
    let mut m = [0u8; 30];
    k[..4].copy_from_slice(&5u32.to_ne_bytes());
    m[..4].fill(0xff);
    k[16..18].copy_from_slice(&[0x08, 0x00]);
    m[16..18].fill(0xff);
    k[22..26].copy_from_slice(&[10, 0, 0, 1]);
    m[22..26].fill(0xff);
    let (key, mask) = lists(&k, &m);
    assert_eq!(key.len(), 4 + 4 + 4 + 12 + 4 + 4 + 4 + 4 + 12);
    // Only in_port, eth_type and ipv4 dst: no header, no wildcarded byte.
    assert_eq!(round_trip(&key, &mask), (Some(PACKED), 10));

    // Unmasked key bytes become a residue.
    k[4..10].copy_from_slice(&[0, 0, 0, 0x9d, 0xfb, 0x1a]);
    let (key, mask) = lists(&k, &m);
    let residue = key.len() - 6 * 4 - 10;
    assert_eq!(
        round_trip(&key, &mask),
        (Some(PACKED | RESIDUE), 10 + residue.div_ceil(8) + 3)
    );
}

#[test]
fn shape_finds_nested_headers() {
    let (_, mask) = lists(&[0xff; 30], &[0; 30]);
    let shape = Shape::new(&mask);
    // in_port, eth, encap and at once inside it eth_type, then ipv4
    // (after eth_type's two bytes and two of padding).
    assert_eq!(&*shape.headers, &[(0, 4), (8, 12), (24, 32), (36, 40)]);
    assert!(shape.masked.is_empty());
    assert_eq!(shape.residue_len, mask.len() - 5 * 4);
}

#[test]
fn different_layouts_are_not_packed() {
    let (key, mut mask) = lists(&[1; 30], &[0xff; 30]);
    assert_eq!(round_trip(&key, &mask).0, Some(PACKED));
    mask.truncate(mask.len() - 4);
    assert_eq!(round_trip(&key, &mask).0, None);
    let (key, mut mask) = lists(&[1; 30], &[0xff; 30]);
    mask[2] = 4; // another attribute type in the first header
    assert_eq!(round_trip(&key, &mask).0, None);
}

/// A small deterministic generator (xorshift).
fn rng(seed: u64) -> impl FnMut() -> u64 {
    let mut s = seed;
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    }
}

#[test]
fn pack_is_lossless_on_any_bytes() {
    let mut next = rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..2000 {
        let n = (next() % 80) as usize;
        let mut key: Vec<u8> = (0..n).map(|_| next() as u8).collect();
        let mut mask: Vec<u8> = (0..n)
            .map(|_| if next() % 3 == 0 { 0 } else { next() as u8 })
            .collect();
        if next() % 2 == 0 {
            // Well-formed: a list with the same headers in both.
            let (k, m) = lists(
                &core::array::from_fn(|_| if next() % 2 == 0 { 0 } else { next() as u8 }),
                &core::array::from_fn(|_| if next() % 2 == 0 { 0 } else { next() as u8 }),
            );
            (key, mask) = (k, m);
        }
        round_trip(&key, &mask);
    }
}

#[test]
fn unpack_rejects_corrupt_bytes_without_panicking() {
    let (key, mask) = lists(&[3; 30], &[0; 30]);
    let shape = Shape::new(&mask);
    let mut packed = Vec::new();
    let flags = pack(&key, &shape, &mut packed).unwrap();
    assert_eq!(flags, PACKED | RESIDUE);
    let mut back = KeyBuf::new();
    for cut in 0..packed.len() {
        assert!(unpack(&packed[..cut], &shape, flags, &mut back).is_err());
    }
    packed.push(0);
    assert!(unpack(&packed, &shape, flags, &mut back).is_err());
}

#[test]
fn load_of_arbitrary_lists_never_panics() {
    let mut next = rng(7);
    let mut interner = Interner::new();
    let mut out = Megaflow::default();
    for _ in 0..3000 {
        let mut bufs: [Vec<u8>; 3] = Default::default();
        for b in &mut bufs {
            for _ in 0..(next() % 64) {
                b.push(match next() % 4 {
                    0 => 0,
                    1 => 4 + (next() % 16) as u8,
                    _ => next() as u8,
                });
            }
        }
        let mask = (next() % 4 != 0).then_some(&bufs[1][..]);
        let s = StoredFlow::from_netlink(&bufs[0], mask, &bufs[2], &mut interner);
        let _ = s.load(&mut out);
    }
}

#[test]
fn corrupt_action_blobs_are_errors() {
    assert!(split_actions(&[1, 0]).is_err());
    assert!(split_actions(&[9, 0, 0, 0, 1]).is_err());
    assert_eq!(
        split_actions(&[1, 0, 0, 0, 7, 8]).unwrap(),
        (&[7u8][..], &[8u8][..])
    );
    let mut a = crate::odp::Actions::new();
    assert!(name_action_ports(&[1, 0, 0, 0], &mut a).is_err());
    assert!(name_action_ports(&[1, 0, 0, 0, 3, b'p'], &mut a).is_err());
    assert!(name_action_ports(&[1, 0, 0, 0, 2, b'p', b'1'], &mut a).is_ok());
}
