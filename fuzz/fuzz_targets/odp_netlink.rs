//! Fuzz target: arbitrary bytes as a netlink key, mask and action list.
//! Decoding must return a flow or a typed error, never panic; whatever
//! decodes must encode, and decode again to the same model. Actions are
//! compared after one normalising round trip: OVS pads `userspace` userdata
//! to at least 8 bytes when it encodes (`odp_put_userspace_action`), so a
//! shorter userdata comes back padded once, then stays.
#![no_main]
use libfuzzer_sys::fuzz_target;
use xsc_odp::netlink::{decode_actions, decode_key, encode_actions, encode_key, encode_mask, NoPortNames};

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
            let once = decode_actions(&ab).expect("re-decode of encoded actions");
            let mut ab2 = Vec::new();
            encode_actions(&once, &mut NoPortNames, &mut ab2).expect("a decoded list encodes");
            assert_eq!(ab2, ab, "encoding is a fixed point after one round trip");
            assert_eq!(decode_actions(&ab2).expect("re-decode"), once);
        }
    }
});
