//! Fuzz target: arbitrary bytes as a netlink key, mask and action list.
//! Decoding must return a flow or a typed error, never panic; whatever
//! decodes must encode, and decode again to the same model.
#![no_main]
use libfuzzer_sys::fuzz_target;
use xsc_dp::odp::netlink::{decode_actions, decode_key, encode_actions, encode_key, encode_mask, NoPortNames};

fuzz_target!(|data: &[u8]| {
    // First byte picks the split between key, mask and actions.
    let Some((&sel, rest)) = data.split_first() else { return };
    let cut1 = usize::from(sel & 0x0f) * rest.len() / 16;
    let cut2 = cut1 + (rest.len() - cut1) / 2;
    let (key, tail) = rest.split_at(cut1);
    let (mask, acts) = tail.split_at(cut2 - cut1);
    let mask = if sel & 0x80 != 0 { None } else { Some(mask) };
    if let Ok((k, m)) = decode_key(key, mask) {
        let (mut kb, mut mb) = (Vec::new(), Vec::new());
        if encode_key(&k, &mut NoPortNames, &mut kb).is_ok() && encode_mask(&m, &mut mb).is_ok() {
            let (k2, m2) = decode_key(&kb, Some(&mb)).expect("re-decode of an encoded key");
            assert_eq!(k2, k);
            assert_eq!(m2, m);
        }
    }
    if let Ok(a) = decode_actions(acts) {
        let mut ab = Vec::new();
        if encode_actions(&a, &mut NoPortNames, &mut ab).is_ok() {
            assert_eq!(decode_actions(&ab).expect("re-decode of encoded actions"), a);
        }
    }
});
