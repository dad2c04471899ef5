//! `ConnEntry::parse` on arbitrary input: no panic; whatever parses prints
//! to text that parses to the same entry.
#![no_main]
use libfuzzer_sys::fuzz_target;
use xsc_odp::ConnEntry;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(e) = ConnEntry::parse(s) {
        let t = e.to_string();
        let e2 = ConnEntry::parse(&t).unwrap_or_else(|err| panic!("{t}: {err}"));
        assert_eq!(e2, e, "{t}");
    }
});
