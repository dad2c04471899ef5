//! Hot path: decoding one offloadable megaflow from its netlink form
//! (`xsc_dp::odp::netlink`): the key, mask and actions of the first seed
//! line (`ct_state(...),...,actions:ct(zone=4,nat),recirc(0x2d278)`), as OVS
//! hands them to an offload provider.  Target (issue 3): ≤ 120 ns.
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use xsc_dp::odp::netlink::{decode_actions, decode_key_into, encode_actions, encode_key, encode_mask, NoPortNames};
use xsc_dp::odp::{FlowKey, Megaflow};

const SEED: &str = include_str!("../xsc-dp/tests/data/odp/corpus/seed-offloaded.flows");

fn bench(c: &mut Criterion) {
    let m = Megaflow::parse(SEED.lines().next().unwrap_or_default()).unwrap();
    let (mut k, mut mk, mut a) = (Vec::new(), Vec::new(), Vec::new());
    m.to_netlink(&mut NoPortNames, &mut k, &mut mk, &mut a).unwrap();
    let mut g = c.benchmark_group("odp_netlink");
    let (mut key, mut mask) = (FlowKey::default(), FlowKey::default());
    g.bench_function("decode/seed", |b| {
        b.iter(|| {
            decode_key_into(black_box(&k), Some(black_box(&mk)), &mut key, &mut mask).unwrap();
            black_box(decode_actions(black_box(&a)).unwrap())
        })
    });
    let mut out = Vec::with_capacity(512);
    g.bench_function("encode/seed", |b| {
        b.iter(|| {
            out.clear();
            encode_key(black_box(&m.key), &mut NoPortNames, &mut out).unwrap();
            encode_mask(black_box(&m.mask), &mut out).unwrap();
            encode_actions(black_box(&m.actions), &mut NoPortNames, &mut out).unwrap();
            black_box(out.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
