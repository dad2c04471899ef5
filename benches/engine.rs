//! Hot path: the offload engine's `put` into the software eswitch, end to
//! end (translate, lower, insert, cache update), one worker
//! (`xsc_dp::engine`).
//! Inputs: 100k distinct megaflows, pre-parsed, in the shape of a kube-ovn
//! routed flow (`ct_state(-new-inv+trk),recirc_id(0x2),in_port(1),eth(src,
//! dst),ipv4(dst,proto=6,ttl=64)` → set MACs, TTL, `ct(zone=6),recirc(0x4)`)
//! with the source MAC and destination IPv4 varied: one rule shape (one
//! template table), shared CT and recirculation resources.
//! Measured: from the first `put` to `wait()` returning, in flows/s; the
//! engine is flushed between iterations, outside the timing. Async: the
//! eswitch's template/async API (one flow queue of 1024), batches of 64
//! and 256; sync: `create` one rule at a time, same batches.
//! Target (issue 6): ≥ 1M megaflows/s async, one worker.
//!
//! `memory/1M` (alone: `cargo bench --bench engine -- memory`), printed
//! once before the criterion groups: one million distinct flows offloaded
//! (async, batch 256), then the engine's own bytes per flow (cache +
//! worker state, not the eswitch's rule storage; target ≤ 300) and the
//! process RSS growth per flow for context.
//!
//! The metascale profile holds 64k rules per group and 1M rules in all:
//! both are raised to 2M here so one group takes every flow.
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use xsc_dp::engine::{EngineConfig, Mode, Offloader, SubmitError};
use xsc_dp::eswitch::Eswitch;
use xsc_dp::odp::{Megaflow, Ufid};
use xsc_dp::profile::DeviceProfile;
use xsc_dp::translate::PortMap;

#[path = "common/kube_ovn.rs"]
mod kube_ovn;

const FLOWS: usize = 100_000;
const MEMORY_FLOWS: usize = 1_000_000;

fn flow(i: usize) -> Megaflow {
    kube_ovn::line(i).parse().unwrap()
}

fn ufid(i: usize) -> Ufid {
    let i = i as u32;
    Ufid {
        parts: [i, i.wrapping_mul(2_654_435_761), 0xbe7c_0000, !i],
    }
}

fn profile() -> DeviceProfile {
    let mut p = DeviceProfile::metascale();
    p.async_api = true;
    p.rules = 1 << 21;
    p.rules_per_group = 1 << 21;
    p
}

fn engine(mode: Mode, batch: usize, queue_depth: usize) -> Offloader<Eswitch> {
    let esw = Arc::new(Eswitch::new(profile(), &[0, 1, 2, 3]));
    if mode == Mode::Async {
        esw.configure(1, 1024).unwrap();
    }
    let off = Offloader::new(
        esw.clone(),
        profile(),
        PortMap::identity(),
        EngineConfig {
            workers: 1,
            batch,
            queue_depth,
            mode,
            stats_interval: None,
            ..EngineConfig::default()
        },
    )
    .unwrap();
    assert_eq!(off.is_async(), mode == Mode::Async);
    off
}

/// `put`, yielding while the worker's queue is full (a refused put drops
/// its flow: the retry sends a copy of `src`).
fn put(off: &Offloader<Eswitch>, u: Ufid, flow: Megaflow, src: &Megaflow) {
    let mut r = off.put(u, flow);
    while let Err(e) = r {
        assert!(matches!(e, SubmitError::Full { .. }), "{e}");
        std::thread::yield_now();
        r = off.put(u, src.clone());
    }
}

fn bench_put(c: &mut Criterion, n: usize) {
    let flows: Vec<Megaflow> = (0..n).map(flow).collect();
    let mut g = c.benchmark_group("engine_put");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(4));
    for mode in [Mode::Async, Mode::Sync] {
        for batch in [64, 256] {
            // Room for every flow: the submitter never spins on a full
            // queue (a refused put drops its flow, and the retry's copy
            // would be timed).
            let off = engine(mode, batch, n);
            let name = format!("{mode:?}").to_lowercase();
            g.bench_with_input(BenchmarkId::new(name, batch), &batch, |b, _| {
                b.iter_custom(|iters| {
                    let mut timed = Duration::ZERO;
                    for _ in 0..iters {
                        let copies: Vec<Megaflow> = flows.to_vec();
                        let start = Instant::now();
                        for (i, f) in copies.into_iter().enumerate() {
                            put(&off, ufid(i), f, &flows[i]);
                        }
                        off.wait();
                        timed += start.elapsed();
                        assert_eq!(off.counts().offloaded, n, "{:?}", off.counts());
                        off.flush().unwrap();
                    }
                    timed
                })
            });
        }
    }
    g.finish();
}

/// Resident set size, bytes.
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    // Safety: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * page.max(0) as usize
}

/// One million flows offloaded: the engine's bytes per flow.
fn memory() {
    let off = engine(Mode::Async, 256, 64 * 1024);
    let before = rss();
    let start = Instant::now();
    for i in 0..MEMORY_FLOWS {
        let f = flow(i);
        put(&off, ufid(i), f.clone(), &f);
    }
    off.wait();
    let took = start.elapsed();
    let after = rss();
    let counts = off.counts();
    assert_eq!(counts.offloaded, MEMORY_FLOWS, "{counts:?}");
    let (entries, cache) = off.cache_usage();
    let worker = off.worker_memory();
    let n = MEMORY_FLOWS as f64;
    println!(
        "memory/1M: {entries} flows offloaded in {:.2} s (parse included); {} device rules",
        took.as_secs_f64(),
        off.device().rule_count()
    );
    println!(
        "memory/1M: engine {:.1} B/flow (cache {:.1} + workers {:.1}); target <= 300",
        (cache + worker) as f64 / n,
        cache as f64 / n,
        worker as f64 / n
    );
    println!(
        "memory/1M: process RSS +{:.1} B/flow ({:.0} MiB, eswitch rule storage included)",
        after.saturating_sub(before) as f64 / n,
        after.saturating_sub(before) as f64 / (1 << 20) as f64
    );
    off.flush().unwrap();
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo bench` passes `--bench`; without it (`cargo test --benches`)
    // each bench runs once, on a few flows, and the 1M-flow measure is
    // skipped.
    let bench = args.iter().any(|a| a == "--bench");
    let listing = args.iter().any(|a| a == "--list");
    let filter = args.iter().find(|a| !a.starts_with('-'));
    if bench && !listing && filter.map_or(true, |f| "memory/1M".contains(f.as_str())) {
        memory();
    }
    let mut c = Criterion::default().configure_from_args();
    bench_put(&mut c, if bench { FLOWS } else { 1000 });
    c.final_summary();
}
