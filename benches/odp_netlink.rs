//! Hot path: decoding one offloadable megaflow from its netlink form
//! (`xsc_dp::odp::netlink`): the key, mask and actions of the first seed
//! line (`ct_state(...),...,actions:ct(zone=4,nat),recirc(0x2d278)`), as OVS
//! hands them to an offload provider.  Target (issue 3): ≤ 120 ns.
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use xsc_dp::odp::netlink::{
    decode_actions, decode_actions_into, decode_key_into, encode_actions, encode_key, encode_mask,
    NoPortNames,
};
use xsc_dp::odp::{Actions, FlowKey, Megaflow};

const SEED: &str = include_str!("../xsc-dp/tests/data/odp/corpus/seed-offloaded.flows");

fn bench(c: &mut Criterion) {
    let m = Megaflow::parse(SEED.lines().next().unwrap_or_default()).unwrap();
    let (mut k, mut mk, mut a) = (Vec::new(), Vec::new(), Vec::new());
    m.to_netlink(&mut NoPortNames, &mut k, &mut mk, &mut a)
        .unwrap();
    let mut g = c.benchmark_group("odp_netlink");
    let (mut key, mut mask) = (FlowKey::default(), FlowKey::default());
    let mut acts = Actions::new();
    // The figure to hold against the target: key + mask + actions into
    // reused values (what an offload provider's hot loop does).
    g.bench_function("decode/seed", |b| {
        b.iter(|| {
            decode_key_into(black_box(&k), Some(black_box(&mk)), &mut key, &mut mask).unwrap();
            decode_actions_into(black_box(&a), &mut acts).unwrap();
            black_box(acts.len())
        })
    });
    g.bench_function("decode_key/seed", |b| {
        b.iter(|| {
            decode_key_into(black_box(&k), Some(black_box(&mk)), &mut key, &mut mask).unwrap()
        })
    });
    g.bench_function("decode_actions_into/seed", |b| {
        b.iter(|| {
            decode_actions_into(black_box(&a), &mut acts).unwrap();
            black_box(acts.len())
        })
    });
    // Returning a fresh `Actions` (712 bytes inline) by value costs a move.
    g.bench_function("decode_actions/seed", |b| {
        b.iter(|| black_box(decode_actions(black_box(&a)).unwrap().len()))
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
