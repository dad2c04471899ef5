//! Proves the hot path of `odp` does not allocate: parsing each line of the
//! seed dump (`seed-offloaded.flows`) and the dummy-run conntrack/NAT lines,
//! and formatting them into a reused `String` after warm-up.  A counting
//! global allocator counts every allocation made on this test's thread.

use xsc_odp::{Megaflow, Style};
use xsc_test_support::alloc::allocations;

const SEED: &str = include_str!("../../../xsc-dp/tests/data/odp/corpus/seed-offloaded.flows");
const DUMMY: &str = include_str!("../../../xsc-dp/tests/data/odp/corpus/ovs-dummy-ct.flows");

#[test]
fn parsing_and_formatting_seed_lines_does_not_allocate() {
    let lines: Vec<&str> = SEED
        .lines()
        .chain(DUMMY.lines())
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), 13);
    let mut out = String::with_capacity(1024);
    let mut flow = Megaflow::default();
    // Warm-up: the first parse may size the output buffer.
    flow.parse_into(lines[0]).unwrap();
    flow.format(&mut out, Style::Plain);
    for line in &lines {
        let n = allocations(|| {
            let m = Megaflow::parse(line).unwrap();
            std::hint::black_box(&m);
        });
        assert_eq!(n, 0, "parse allocated {n} times: {line}");
        let n = allocations(|| {
            flow.parse_into(line).unwrap();
            out.clear();
            flow.format(&mut out, Style::Plain);
        });
        assert_eq!(n, 0, "parse_into + format allocated {n} times: {line}");
        assert_eq!(out, *line);
    }
}

#[test]
fn the_counter_counts() {
    let n = allocations(|| {
        std::hint::black_box(vec![1u8; 10]);
    });
    assert_eq!(n, 1);
}
