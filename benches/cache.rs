//! Hot path: UFID lookups in the engine's flow cache
//! (`xsc_dp::engine::cache::FlowCache::get`), against the usual concurrent
//! maps.
//! Inputs: 65,536 random UFIDs, each mapped to a 16-byte flow state (two
//! `AtomicU64`s, the shape of the engine's per-flow state and counters);
//! lookups of present keys in a precomputed random order, each reading a
//! counter through the map's guard. Every map hashes with the same cheap
//! fold-multiply of the UFID, so the maps are compared, not their hashers.
//! One thread, and two threads each doing N lookups (`iter_custom` with
//! scoped threads started together, timed from the first start to the last
//! finish; throughput counts both threads' lookups). Also the same on the
//! first 1024 keys only (`64k_hot1k`: lookups served from cache), which
//! isolates what the synchronisation costs and how it scales.
//! Also prints the cache's bytes per entry at 1M flows (`memory_bytes()`
//! and the process's resident-memory growth).
//! Targets (engine issue): FlowCache lookup ≤ 20 ns on one thread; ≥ 1.8×
//! that throughput on two; at least dashmap's and papaya's; ≥ 3× an
//! `RwLock<HashMap>` on two threads.
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use xsc_dp::engine::cache::FlowCache;
use xsc_test_support::rng::Rng;

const ENTRIES: usize = 1 << 16;

/// Per-flow state as the engine keeps it: updated in place through `get`.
#[derive(Default)]
struct Flow {
    state: AtomicU64,
    packets: AtomicU64,
}

/// The same cheap hash the cache uses internally, for the other maps.
#[derive(Clone, Copy, Default)]
struct UfidHash;

#[derive(Default)]
struct UfidHasher(u64);

impl BuildHasher for UfidHash {
    type Hasher = UfidHasher;
    fn build_hasher(&self) -> UfidHasher {
        UfidHasher(0)
    }
}

impl Hasher for UfidHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u128(&mut self, key: u128) {
        let folded = (key as u64) ^ ((key >> 64) as u64).rotate_left(29);
        let wide = u128::from(folded) * 0x9e37_79b9_7f4a_7c15u128;
        self.0 = (wide as u64) ^ ((wide >> 64) as u64);
    }
}

/// `n` distinct random UFIDs, and the same keys shuffled: the lookup order.
fn keys(n: usize) -> (Vec<u128>, Vec<u128>) {
    let mut rng = Rng::new(0x5eed_cafe_f00d_0001);
    let keys: Vec<u128> = (0..n).map(|_| rng.next_u128()).collect();
    let mut order = keys.clone();
    rng.shuffle(&mut order);
    (keys, order)
}

/// Runs `lookup` over `order` (a power-of-two length), `iters` times on
/// each of `threads` threads, started together (each at its own offset);
/// returns the time from the first start to the last finish, so that
/// threads the OS ran one after the other cannot look parallel.
fn run<F>(threads: usize, iters: u64, order: &[u128], lookup: &F) -> Duration
where
    F: Fn(u128) -> u64 + Sync,
{
    let mask = order.len() - 1;
    let start_together = Barrier::new(threads);
    let spans: Vec<(Instant, Instant)> = std::thread::scope(|s| {
        let start_together = &start_together;
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    start_together.wait();
                    let start = Instant::now();
                    let mut sum = 0u64;
                    let first = t * order.len() / threads;
                    for i in (first..).take(iters as usize) {
                        sum = sum.wrapping_add(lookup(order[i & mask]));
                    }
                    black_box(sum);
                    (start, Instant::now())
                })
            })
            .collect();
        workers.into_iter().filter_map(|w| w.join().ok()).collect()
    });
    let first_start = spans.iter().map(|s| s.0).min();
    let last_end = spans.iter().map(|s| s.1).max();
    match (first_start, last_end) {
        (Some(start), Some(end)) => end - start,
        _ => Duration::ZERO,
    }
}

fn bench(c: &mut Criterion) {
    let (keys, order) = keys(ENTRIES);

    // Each map filled on its own, so none gets its allocations interleaved
    // with another's.
    let flow = |n: usize| Flow {
        state: AtomicU64::new(1),
        packets: AtomicU64::new(n as u64),
    };
    let flow_cache = FlowCache::with_capacity(ENTRIES);
    for (n, &k) in keys.iter().enumerate() {
        flow_cache.insert(k, flow(n));
    }
    let dash = dashmap::DashMap::with_capacity_and_hasher(ENTRIES, UfidHash);
    for (n, &k) in keys.iter().enumerate() {
        dash.insert(k, flow(n));
    }
    let papaya = papaya::HashMap::with_capacity_and_hasher(ENTRIES, UfidHash);
    for (n, &k) in keys.iter().enumerate() {
        papaya.pin().insert(k, flow(n));
    }
    let rwlock = parking_lot::RwLock::new(hashbrown::HashMap::with_capacity_and_hasher(
        ENTRIES, UfidHash,
    ));
    for (n, &k) in keys.iter().enumerate() {
        rwlock.write().insert(k, flow(n));
    }

    let flow_cache_get = |k| {
        flow_cache
            .get(k, |f| f.packets.load(Ordering::Relaxed))
            .unwrap_or(0)
    };
    let dash_get = |k| {
        dash.get(&k)
            .map(|f| f.packets.load(Ordering::Relaxed))
            .unwrap_or(0)
    };
    let papaya_get = |k| {
        papaya
            .pin()
            .get(&k)
            .map(|f| f.packets.load(Ordering::Relaxed))
            .unwrap_or(0)
    };
    let rwlock_get = |k| {
        rwlock
            .read()
            .get(&k)
            .map(|f| f.packets.load(Ordering::Relaxed))
            .unwrap_or(0)
    };
    // Every map answers every lookup.
    for &k in order.iter().take(1000) {
        let want = flow_cache_get(k);
        assert!(want == dash_get(k) && want == papaya_get(k) && want == rwlock_get(k));
        assert!(flow_cache.get(k, |f| f.state.load(Ordering::Relaxed)) == Some(1));
    }

    // 64k keys: lookups that miss the cache, as in service. The first 1024
    // keys only ("hot"): the same lookups from cache, which shows what the
    // synchronisation itself costs and how it scales.
    for (set, order) in [("64k", &order[..]), ("64k_hot1k", &order[..1024])] {
        for threads in [1usize, 2] {
            let mut g = c.benchmark_group(format!("cache_lookup_{set}/{threads}_thread"));
            g.sample_size(20)
                .warm_up_time(Duration::from_millis(500))
                .measurement_time(Duration::from_secs(2))
                .throughput(Throughput::Elements(threads as u64));
            g.bench_function("FlowCache", |b| {
                b.iter_custom(|iters| run(threads, iters, order, &flow_cache_get))
            });
            g.bench_function("dashmap", |b| {
                b.iter_custom(|iters| run(threads, iters, order, &dash_get))
            });
            g.bench_function("papaya", |b| {
                b.iter_custom(|iters| run(threads, iters, order, &papaya_get))
            });
            g.bench_function("RwLock<hashbrown>", |b| {
                b.iter_custom(|iters| run(threads, iters, order, &rwlock_get))
            });
            g.finish();
        }
    }
}

/// Resident set size of this process, in bytes (Linux; 0 elsewhere).
fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Bytes per entry of a 1M-flow cache (grown from empty, as in service).
fn memory(_: &mut Criterion) {
    const FLOWS: usize = 1 << 20;
    let (keys, _) = keys(FLOWS);
    let before = rss_bytes();
    let cache = FlowCache::new();
    for &k in &keys {
        cache.insert(k, Flow::default());
    }
    let rss = rss_bytes().saturating_sub(before);
    println!(
        "cache_memory/1M: {} flows, memory_bytes() {:.1} B/entry, resident growth {:.1} B/entry \
         (value {} B; entries are 16-byte aligned heap allocations)",
        cache.len(),
        cache.memory_bytes() as f64 / FLOWS as f64,
        rss as f64 / FLOWS as f64,
        std::mem::size_of::<Flow>(),
    );
}

criterion_group!(benches, memory, bench);
criterion_main!(benches);
