//! Hot path: parsing and formatting one dump-flows line (`xsc_dp::odp`).
//! Inputs: the first seed line (`ct_state(...),...,actions:ct(zone=4,nat),
//! recirc(0x2d278)`, ~330 bytes) and a `ct(commit,...,nat(dst=...))` line.
//! Targets (issue 3): parse ≤ 400 ns, format ≤ 400 ns per line; a bare key
//! (`parse_flow_key_into`) ≥ 5× faster than OVS's `odp_flow_from_string()`.
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use xsc_dp::odp::{parse_flow_key, parse_flow_key_into, FlowKey, Megaflow, Style};

const SEED: &str = include_str!("../xsc-dp/tests/data/odp/corpus/seed-offloaded.flows");
const DUMMY: &str = include_str!("../xsc-dp/tests/data/odp/corpus/ovs-dummy-ct.flows");
const VERBOSE: &str = include_str!("../xsc-dp/tests/data/odp/corpus/ovs-dummy-ct-verbose.flows");

fn bench(c: &mut Criterion) {
    let cases = [
        (
            "seed",
            SEED.lines().next().unwrap_or_default(),
            Style::Plain,
        ),
        (
            "ct_commit_nat",
            DUMMY.lines().nth(4).unwrap_or_default(),
            Style::Plain,
        ),
        (
            "verbose",
            VERBOSE.lines().nth(4).unwrap_or_default(),
            Style::Verbose,
        ),
    ];
    let mut g = c.benchmark_group("odp");
    for (name, line, style) in cases {
        g.throughput(Throughput::Bytes(line.len() as u64));
        g.bench_function(format!("parse/{name}"), |b| {
            b.iter(|| Megaflow::parse(black_box(line)).unwrap())
        });
        let mut m = Megaflow::default();
        g.bench_function(format!("parse_into/{name}"), |b| {
            b.iter(|| m.parse_into(black_box(line)).unwrap())
        });
        let flow = Megaflow::parse(line).unwrap();
        let mut out = String::with_capacity(1024);
        g.bench_function(format!("format/{name}"), |b| {
            b.iter(|| {
                out.clear();
                black_box(&flow).format(&mut out, style);
                black_box(out.len())
            })
        });
    }
    // The key part of the seed line alone (what `ovs-dpctl add-flow` takes;
    // OVS's `odp_flow_from_string()` parses such a string in ~2.5 µs).
    let seed = SEED.lines().next().unwrap_or_default();
    let key = seed.split(", packets:").next().unwrap_or_default();
    g.throughput(Throughput::Bytes(key.len() as u64));
    g.bench_function("parse_flow_key/seed", |b| {
        b.iter(|| parse_flow_key(black_box(key)).unwrap())
    });
    // The same into reused values: the parse itself, without moving the
    // ~830 bytes of key and mask out each time (Throughput: key bytes).
    let (mut k, mut m) = (FlowKey::default(), FlowKey::default());
    g.bench_function("parse_flow_key_into/seed", |b| {
        b.iter(|| {
            parse_flow_key_into(black_box(key), &mut k, &mut m).unwrap();
            black_box(k.present)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
