//! Hot path: `Eswitch::process` (`xsc_dp::eswitch`), the software NIC.
//! Inputs: ~10k rules built through `xsc_dp::translate` + `rte::lower` on
//! the metascale profile: 5000 root megaflows (in_port, MACs, IPv4 5-tuple
//! to a /32), half of them `ct(zone=4,nat),recirc(0x10)`, 1000 flows at
//! recirc_id(0x10) matching `+est+trk` and the destination, and 1000
//! established TCP connections (4 CT rules each); replayed: 1024 frames,
//! each hitting either an output flow (1 group) or the conntrack path
//! (root → CT-NAT → post-CT → recirc group: 4 groups).
//! Target (issue 5): ≥ 2M packets/s on one core.
//!
//! `eswitch_install` (alone: `cargo bench --bench eswitch -- install`): the
//! install path, device calls only. 100k distinct rules lowered from the
//! engine bench's kube-ovn routed megaflow (source MAC and destination
//! IPv4 varied: one shape, one group), created with `create` (sync) or
//! `async_create` + `push` + `pull` in batches of 64 on one queue (async);
//! the device is flushed between iterations, outside the timing.
use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use xsc_dp::device::FlowDevice;
use xsc_dp::eswitch::{Eswitch, Fate};
use xsc_dp::odp::{ConnEntry, Megaflow};
use xsc_dp::profile::DeviceProfile;
use xsc_dp::rte::{lower, RteRule};
use xsc_dp::translate::{Config, PortMap, Translator};

#[path = "common/kube_ovn.rs"]
mod kube_ovn;

const SRC_MAC: &str = "00:00:00:9d:fb:1a";
const DST_MAC: &str = "00:00:00:ce:cf:b9";

fn ip(i: usize) -> [u8; 4] {
    [10, 16 + (i >> 16) as u8, (i >> 8) as u8, i as u8]
}

fn ips(a: [u8; 4]) -> String {
    format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3])
}

fn megaflow(key: &str, actions: &str) -> Megaflow {
    let (key, mask) = xsc_dp::odp::parse_flow_key(key).unwrap();
    Megaflow {
        ufid: None,
        key,
        mask,
        actions: xsc_dp::odp::parse_actions(actions).unwrap(),
        stats: Default::default(),
    }
}

fn frame(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) -> Vec<u8> {
    let mut f = vec![0, 0, 0, 0xce, 0xcf, 0xb9, 0, 0, 0, 0x9d, 0xfb, 0x1a, 8, 0];
    f.extend_from_slice(&[0x45, 0, 0, 48, 0, 0, 0x40, 0, 64, 6, 0, 0]);
    f.extend_from_slice(&src);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&dport.to_be_bytes());
    f.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0]);
    f.extend_from_slice(b"payload!");
    f
}

fn setup() -> (Eswitch, Vec<xsc_dp::eswitch::EswitchRule>, Vec<Vec<u8>>) {
    let profile = DeviceProfile::metascale();
    let mut t = Translator::new(profile.clone(), PortMap::identity(), Config::default());
    let esw = Eswitch::new(profile, &[0, 1, 2, 3]);
    let mut rules = Vec::new();
    let mut rte = RteRule::new();
    let mut install = |hw: &xsc_dp::rule::HwRule, rules: &mut Vec<_>| {
        lower(hw, &mut rte).unwrap();
        rules.push(esw.create(&rte).unwrap());
    };
    let client = [10, 0, 0, 1];
    for i in 0..1000 {
        let line = format!(
            "tcp,orig=(src={},dst={},sport={},dport=80),reply=(src={},dst={},sport=80,dport={}),zone=4,mark=1,protoinfo=(state=ESTABLISHED)",
            ips(client), ips(ip(i)), 1000 + i, ips(ip(i)), ips(client), 1000 + i
        );
        let tr = t.translate_conn(&ConnEntry::parse(&line).unwrap()).unwrap();
        for r in &tr.new_resources {
            for hw in t.fixed_rules(r) {
                install(&hw, &mut rules);
            }
        }
        for hw in &tr.rules {
            install(hw, &mut rules);
        }
    }
    let mut flows = Vec::new();
    for i in 0..5000 {
        let key = format!(
            "recirc_id(0),in_port(1),eth(src={SRC_MAC},dst={DST_MAC}),eth_type(0x0800),ipv4(src={},dst={},proto=6,frag=no),tcp(dst=80)",
            ips(client),
            ips(ip(i))
        );
        let actions = if i % 2 == 0 {
            "ct(zone=4,nat),recirc(0x10)"
        } else {
            "2"
        };
        flows.push(megaflow(&key, actions));
    }
    for i in 0..1000 {
        let key = format!(
            "ct_state(-new+est+trk),recirc_id(0x10),in_port(1),eth(),eth_type(0x0800),ipv4(dst={},frag=no)",
            ips(ip(i))
        );
        flows.push(megaflow(&key, "3"));
    }
    for f in &flows {
        let tr = t.translate(f).unwrap();
        for r in &tr.new_resources {
            for hw in t.fixed_rules(r) {
                install(&hw, &mut rules);
            }
        }
        install(&tr.rule, &mut rules);
    }
    let frames: Vec<Vec<u8>> = (0..1024)
        .map(|k| {
            // Even i < 1000: the conntrack path; odd: a plain output.
            let i = (k * 37) % 2000;
            let i = if i % 2 == 0 { i % 1000 } else { i };
            frame(client, ip(i), 1000 + i as u16, 80)
        })
        .collect();
    (esw, rules, frames)
}

fn bench(c: &mut Criterion) {
    let (esw, rules, frames) = setup();
    // Sanity: both paths are taken.
    let ports: Vec<u16> = frames
        .iter()
        .map(|f| match esw.process(1, f).fate {
            Fate::Output { port, .. } => port,
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(ports.contains(&2) && ports.contains(&3));
    eprintln!("{} rules in {} groups", rules.len(), esw.group_count());
    let mut g = c.benchmark_group("eswitch");
    g.throughput(Throughput::Elements(frames.len() as u64));
    g.bench_function("process/10k-rules", |b| {
        b.iter(|| {
            for f in &frames {
                black_box(esw.process(1, black_box(f)));
            }
        })
    });
    g.finish();
}

const INSTALL_RULES: usize = 100_000;

fn install_profile() -> DeviceProfile {
    let mut p = DeviceProfile::metascale();
    p.async_api = true;
    p.rules = 1 << 21;
    p.rules_per_group = 1 << 21;
    p
}

/// The megaflow rules (not their CT/recirc resources) of `n` flows.
fn install_rules(n: usize) -> Vec<RteRule> {
    let mut t = Translator::new(install_profile(), PortMap::identity(), Config::default());
    (0..n)
        .map(|i| {
            let f: Megaflow = kube_ovn::line(i).parse().unwrap();
            let tr = t.translate(&f).unwrap();
            let mut rte = RteRule::new();
            lower(&tr.rule, &mut rte).unwrap();
            rte
        })
        .collect()
}

fn bench_install(c: &mut Criterion) {
    const BATCH: usize = 64;
    let rules = install_rules(INSTALL_RULES);
    let mut g = c.benchmark_group("eswitch_install");
    g.throughput(Throughput::Elements(rules.len() as u64));
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(4));
    let esw = Eswitch::new(install_profile(), &[0, 1, 2, 3]);
    g.bench_with_input(BenchmarkId::new("sync", rules.len()), &(), |b, _| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                let mut handles = Vec::with_capacity(rules.len());
                let start = Instant::now();
                for r in &rules {
                    handles.push(esw.create(r).unwrap());
                }
                timed += start.elapsed();
                assert_eq!(esw.rule_count(), rules.len());
                esw.flush().unwrap();
                drop(handles);
            }
            timed
        })
    });
    let esw = Eswitch::new(install_profile(), &[0, 1, 2, 3]);
    esw.configure(1, 1024).unwrap();
    let table = esw.async_table(&rules[0], rules.len() as u32).unwrap();
    g.bench_with_input(
        BenchmarkId::new(format!("async/batch{BATCH}"), rules.len()),
        &(),
        |b, _| {
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                let mut completions = Vec::with_capacity(BATCH);
                for _ in 0..iters {
                    let mut handles = Vec::with_capacity(rules.len());
                    let start = Instant::now();
                    for (k, batch) in rules.chunks(BATCH).enumerate() {
                        for (j, r) in batch.iter().enumerate() {
                            let ud = (k * BATCH + j) as u64;
                            handles.push(FlowDevice::async_create(&esw, 0, table, r, ud).unwrap());
                        }
                        esw.push(0).unwrap();
                        completions.clear();
                        FlowDevice::pull(&esw, 0, &mut completions).unwrap();
                        assert!(completions.iter().all(|c| c.result.is_ok()));
                    }
                    timed += start.elapsed();
                    assert_eq!(esw.rule_count(), rules.len());
                    esw.flush().unwrap();
                    drop(handles);
                }
                timed
            })
        },
    );
    g.finish();
}

criterion_group!(benches, bench, bench_install);
criterion_main!(benches);
