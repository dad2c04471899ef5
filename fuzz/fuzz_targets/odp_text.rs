//! `odp` text parsers on arbitrary input: no panic; whatever parses prints
//! in verbose form to text that parses to the same model and prints the
//! same again (plain form must parse too).  The input is tried as a
//! dump-flows line, a bare key and a bare action list.
#![no_main]
use libfuzzer_sys::fuzz_target;
use xsc_odp::{format_actions, format_flow_key, parse_actions, parse_flow_key, Megaflow, Style};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(m) = Megaflow::parse(s) {
        let t1 = m.to_text(Style::Verbose);
        let m2 = Megaflow::parse(&t1).unwrap_or_else(|e| panic!("{t1}: {e}"));
        let t2 = m2.to_text(Style::Verbose);
        assert_eq!(t1, t2);
        // `sample` percentages print with one decimal, so the first model
        // may differ; after one round the model is a fixed point.
        assert_eq!(Megaflow::parse(&t2).unwrap(), m2);
        let p = m.to_text(Style::Plain);
        Megaflow::parse(&p).unwrap_or_else(|e| panic!("{p}: {e}"));
    }
    if let Ok((k, mk)) = parse_flow_key(s) {
        let mut t1 = String::new();
        format_flow_key(&mut t1, &k, Some(&mk), true);
        let (k2, m2) = parse_flow_key(&t1).unwrap_or_else(|e| panic!("{t1}: {e}"));
        assert_eq!((&k2, &m2), (&k, &mk), "{t1}");
    }
    if let Ok(a) = parse_actions(s) {
        let mut t1 = String::new();
        format_actions(&mut t1, &a);
        let a2 = parse_actions(&t1).unwrap_or_else(|e| panic!("{t1}: {e}"));
        let mut t2 = String::new();
        format_actions(&mut t2, &a2);
        assert_eq!(t1, t2);
    }
});
