//! Hot path: translating a megaflow and lowering it to the rte_flow structs
//! (`xsc_dp::translate` + `xsc_dp::rte::lower`).
//! Inputs: the first seed flow (`ct_state(...),ct_mark(..),recirc_id(0x2d277),
//! ...,actions:ct(zone=4,nat),recirc(0x2d278)`) on the metascale profile, in
//! steady state (its groups already exist); and 100k synthetic megaflows in
//! the shape of the six seed flows (addresses and recirc ids varied, 2000
//! recirc ids in use), translated and lowered one after the other.
//! Target (issue 4): translate + lower ≤ 300 ns per flow, no allocation.
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use xsc_dp::odp::{parse_dump, Megaflow};
use xsc_dp::profile::DeviceProfile;
use xsc_dp::rte::{lower, RteRule};
use xsc_dp::translate::{Config, PortMap, Translation, Translator};

const SEED: &str = include_str!("../../shared/corpus/seed-offloaded.flows");

/// 100k flows: the seed lines with the recirc ids shifted (2000 distinct
/// pairs) and the IPv4 destination varied.
fn synthetic(n: usize) -> Vec<Megaflow> {
    let seed: Vec<&str> = SEED.lines().collect();
    (0..n)
        .map(|i| {
            let line = seed[i % seed.len()];
            let shift = (i / seed.len()) % 500 * 4;
            let mut text = line.to_string();
            for r in [0x2d275u32, 0x2d276, 0x2d277, 0x2d278] {
                text = text.replace(
                    &format!("{r:#x}"),
                    &format!("{:#x}", r + 0x1000 + shift as u32),
                );
            }
            let dst = format!("10.{}.{}.{}", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
            text = text
                .replace("dst=10.16.0.14", &format!("dst={dst}"))
                .replace("dst=10.16.0.18", &format!("dst={dst}"));
            text.parse().unwrap()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let flow: Megaflow = parse_dump(SEED).next().unwrap().1.unwrap();
    let mut g = c.benchmark_group("translate");
    let mut t = Translator::new(
        DeviceProfile::metascale(),
        PortMap::identity(),
        Config::default(),
    );
    let mut rte = RteRule::new();
    let mut tr = Translation::default();
    g.throughput(Throughput::Elements(1));
    g.bench_function("translate+lower/seed", |b| {
        b.iter(|| {
            t.translate_into(black_box(&flow), &mut tr).unwrap();
            lower(&tr.rule, &mut rte).unwrap();
            black_box(rte.actions().len())
        })
    });
    g.bench_function("translate/seed", |b| {
        b.iter(|| t.translate_into(black_box(&flow), &mut tr).unwrap())
    });

    let flows = synthetic(100_000);
    g.throughput(Throughput::Elements(flows.len() as u64));
    g.sample_size(10);
    g.bench_function("plan/100k", |b| {
        b.iter(|| {
            let mut t = Translator::new(
                DeviceProfile::metascale(),
                PortMap::identity(),
                Config::default(),
            );
            let mut offloaded = 0;
            for f in &flows {
                if t.translate_into(f, &mut tr).is_ok() {
                    lower(&tr.rule, &mut rte).unwrap();
                    offloaded += 1;
                }
            }
            assert_eq!(offloaded, flows.len());
            offloaded
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
