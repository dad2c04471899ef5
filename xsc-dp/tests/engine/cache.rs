//! `engine::cache::FlowCache` against a model: random single-threaded
//! operation sequences checked against `std::collections::HashMap`, writer
//! threads on disjoint key ranges checked against the union of their models,
//! every value's drop counted, and the memory per entry at 1M flows.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use xsc_dp::engine::cache::FlowCache;

use xsc_test_support::rng::Rng;

/// Records, per value id, how often the value was dropped.
struct DropLog {
    next_id: AtomicUsize,
    drops: Vec<AtomicU8>,
}

impl DropLog {
    fn new(capacity: usize) -> Arc<Self> {
        Arc::new(Self {
            next_id: AtomicUsize::new(0),
            drops: (0..capacity).map(|_| AtomicU8::new(0)).collect(),
        })
    }

    fn created(&self) -> usize {
        self.next_id.load(Ordering::Relaxed)
    }

    fn dropped(&self) -> usize {
        self.drops
            .iter()
            .map(|d| usize::from(d.load(Ordering::Relaxed)))
            .sum()
    }

    /// Pins and flushes the epoch until every value created has been
    /// dropped, or gives up; returns how many were dropped.
    fn settle(&self) -> usize {
        for _ in 0..100_000 {
            if self.dropped() >= self.created() {
                break;
            }
            crossbeam::epoch::pin().flush();
            std::thread::yield_now();
        }
        self.dropped()
    }

    /// Every value created was dropped exactly once.
    fn assert_all_dropped_once(&self) {
        assert_eq!(self.settle(), self.created(), "values leaked");
        for (id, d) in self.drops[..self.created()].iter().enumerate() {
            assert_eq!(d.load(Ordering::Relaxed), 1, "value {id} dropped wrongly");
        }
    }
}

/// A cache value: its key and a payload, logged when dropped.
struct Tracked {
    key: u128,
    payload: u64,
    id: usize,
    log: Arc<DropLog>,
}

impl Tracked {
    fn new(key: u128, payload: u64, log: &Arc<DropLog>) -> Self {
        let id = log.next_id.fetch_add(1, Ordering::Relaxed);
        assert!(id < log.drops.len(), "drop log too small");
        Self {
            key,
            payload,
            id,
            log: log.clone(),
        }
    }

    /// Not dropped yet (a reader must never see a dropped value).
    fn alive(&self) -> bool {
        self.log.drops[self.id].load(Ordering::Relaxed) == 0
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.log.drops[self.id].fetch_add(1, Ordering::Relaxed);
    }
}

/// Spreads a small key number over both UFID halves, as real UFIDs are.
fn ufid(n: u64) -> u128 {
    let hi = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    u128::from(hi) << 64 | u128::from(n)
}

/// The cache's whole content, through `for_each`, each key at most once.
fn contents(cache: &FlowCache<Tracked>) -> HashMap<u128, u64> {
    let mut seen = HashMap::new();
    cache.for_each(|key, value| {
        assert_eq!(key, value.key, "entry under the wrong key");
        assert!(seen.insert(key, value.payload).is_none(), "{key:#x} twice");
    });
    seen
}

fn check_equal(cache: &FlowCache<Tracked>, model: &HashMap<u128, u64>, step: usize) {
    assert_eq!(cache.len(), model.len(), "len after step {step}");
    assert_eq!(&contents(cache), model, "contents after step {step}");
    for (&key, &payload) in model {
        assert_eq!(cache.get(key, |v| v.payload), Some(payload), "step {step}");
    }
}

/// One random sequence: phases that favour inserts (growth), then removals
/// (tombstones, shrinking rebuilds), with replacements, reads, walks and the
/// odd `clear` throughout. Keys come from a small range, so every op hits
/// keys already seen and shards collide and grow.
fn differential(seed: u64, keys: u64, steps: usize) {
    let log = DropLog::new(steps + 1);
    let cache = FlowCache::new();
    let mut model: HashMap<u128, u64> = HashMap::new();
    let mut rng = Rng(seed | 1);
    for step in 0..steps {
        let key = ufid(rng.below(keys));
        let insert_bias = if (step / 2000) % 2 == 0 { 70 } else { 25 };
        let roll = rng.below(1000);
        match roll {
            0 => {
                cache.clear();
                model.clear();
            }
            1..=10 => check_equal(&cache, &model, step),
            _ if roll % 100 < insert_bias => {
                let payload = rng.next();
                let new = cache.insert(key, Tracked::new(key, payload, &log));
                assert_eq!(
                    new,
                    model.insert(key, payload).is_none(),
                    "insert, step {step}"
                );
            }
            _ if roll % 100 < insert_bias + 15 => {
                assert_eq!(
                    cache.remove(key),
                    model.remove(&key).is_some(),
                    "remove, step {step}"
                );
            }
            _ if roll % 2 == 0 => {
                assert_eq!(cache.contains(key), model.contains_key(&key), "step {step}");
            }
            _ => {
                let got = cache.get(key, |v| {
                    assert!(v.alive() && v.key == key);
                    v.payload
                });
                assert_eq!(got, model.get(&key).copied(), "get, step {step}");
            }
        }
        assert_eq!(cache.len(), model.len(), "len after step {step}");
        assert_eq!(cache.is_empty(), model.is_empty());
        assert_eq!(
            cache.get(key, |v| v.payload),
            model.get(&key).copied(),
            "key of step {step}"
        );
    }
    check_equal(&cache, &model, steps);
    drop(cache);
    log.assert_all_dropped_once();
}

#[test]
fn matches_a_hashmap_on_random_sequences() {
    for seed in [1, 2, 3, 0xdead_beef, 0x5eed_5eed_5eed] {
        differential(seed, 1500, 12_000);
    }
}

#[test]
fn matches_a_hashmap_on_a_tiny_key_range() {
    // Mostly replacements and removals of the same few keys.
    for seed in [7, 8, 9] {
        differential(seed, 24, 4_000);
    }
}

/// Each writer thread owns keys `t << 64 | i`; every thread also reads all
/// keys. Own keys must match the thread's model at every read; any value
/// seen must be alive and under its own key.
#[test]
fn concurrent_writers_on_disjoint_ranges_end_as_the_union_of_their_models() {
    const THREADS: u64 = 3;
    const KEYS: u64 = 600;
    const OPS: usize = 15_000;
    let log = DropLog::new(THREADS as usize * OPS + 1);
    let cache = FlowCache::new();
    let start = Barrier::new(THREADS as usize);
    let reads_seen = AtomicU64::new(0);
    let models: Vec<HashMap<u128, u64>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (cache, log, start, reads_seen) = (&cache, &log, &start, &reads_seen);
                s.spawn(move || {
                    let mut rng = Rng((0xc0ffee + t) | 1);
                    let mut model = HashMap::new();
                    start.wait();
                    for op in 0..OPS {
                        let own = u128::from(t) << 64 | u128::from(rng.below(KEYS));
                        let any =
                            u128::from(rng.below(THREADS)) << 64 | u128::from(rng.below(KEYS));
                        match rng.below(10) {
                            0..=3 => {
                                let payload = rng.next();
                                let new = cache.insert(own, Tracked::new(own, payload, log));
                                assert_eq!(new, model.insert(own, payload).is_none(), "op {op}");
                            }
                            4..=5 => {
                                assert_eq!(cache.remove(own), model.remove(&own).is_some());
                            }
                            6..=7 => {
                                let got = cache.get(own, |v| v.payload);
                                assert_eq!(got, model.get(&own).copied(), "own key, op {op}");
                            }
                            _ => {
                                let seen = cache.get(any, |v| {
                                    assert!(v.alive(), "read a dropped value");
                                    assert_eq!(v.key, any, "value under the wrong key");
                                });
                                if seen.is_some() {
                                    reads_seen.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                        }
                    }
                    model
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("worker panicked"))
            .collect()
    });
    assert!(
        reads_seen.load(Ordering::Relaxed) > 0,
        "readers saw nothing"
    );
    let union: HashMap<u128, u64> = models.into_iter().flatten().collect();
    check_equal(&cache, &union, OPS);
    drop(cache);
    log.assert_all_dropped_once();
}

/// A reader inside `get` holds a value while another thread replaces it,
/// then removes the replacement and pushes the epoch hard: neither value may
/// be dropped before the reader lets go.
#[test]
fn a_value_held_by_a_reader_outlives_its_replacement_and_removal() {
    let log = DropLog::new(4);
    let cache = FlowCache::new();
    let key = ufid(1);
    cache.insert(key, Tracked::new(key, 1, &log));
    let (holding, unlinked) = (Barrier::new(2), Barrier::new(2));
    // Checked after the threads meet again, so a failure cannot hang them.
    let (seen_by_reader, dropped_meanwhile) = std::thread::scope(|s| {
        let reader = s.spawn(|| {
            cache.get(key, |v| {
                holding.wait();
                unlinked.wait();
                (v.alive(), v.payload)
            })
        });
        holding.wait();
        let replaced = cache.insert(key, Tracked::new(key, 2, &log));
        let removed = cache.remove(key);
        for _ in 0..1000 {
            crossbeam::epoch::pin().flush();
        }
        let dropped = log.dropped();
        unlinked.wait();
        assert!(!replaced && removed);
        (reader.join().expect("reader panicked"), dropped)
    });
    assert_eq!(
        seen_by_reader,
        Some((true, 1)),
        "value dropped under a reader"
    );
    assert_eq!(dropped_meanwhile, 0, "dropped while a reader is pinned");
    assert!(cache.is_empty());
    log.assert_all_dropped_once();
}

/// Readers and `for_each` walks run while a writer grows and shrinks the
/// tables with other keys; keys never removed must always be found, once.
#[test]
fn stable_keys_stay_visible_while_other_keys_churn() {
    const STABLE: u64 = 200;
    let cache = Arc::new(FlowCache::new());
    let log = DropLog::new(200_000);
    for n in 0..STABLE {
        cache.insert(ufid(n), Tracked::new(ufid(n), n, &log));
    }
    let churn = {
        let cache = cache.clone();
        let log = log.clone();
        std::thread::spawn(move || {
            for round in 0..40u64 {
                for n in 0..1000u64 {
                    let key = u128::from(round + 1) << 100 | u128::from(n);
                    cache.insert(key, Tracked::new(key, n, &log));
                }
                for n in 0..1000u64 {
                    cache.remove(u128::from(round + 1) << 100 | u128::from(n));
                }
            }
        })
    };
    let stable: std::collections::HashSet<u128> = (0..STABLE).map(ufid).collect();
    let mut rounds = 0;
    while !churn.is_finished() || rounds == 0 {
        for n in 0..STABLE {
            assert_eq!(
                cache.get(ufid(n), |v| v.payload),
                Some(n),
                "stable key {n} lost"
            );
        }
        let mut stable_seen = 0;
        cache.for_each(|key, v| {
            assert!(v.alive());
            if stable.contains(&key) {
                stable_seen += 1;
            }
        });
        assert_eq!(
            stable_seen,
            stable.len(),
            "walk missed or repeated stable keys"
        );
        rounds += 1;
    }
    churn.join().expect("churn thread panicked");
    assert_eq!(cache.len(), STABLE as usize);
    drop(cache);
    log.assert_all_dropped_once();
}

/// The engine's budget is 300 bytes per flow at 1M flows; the cache's share
/// (slots, shard headers, entry allocations) for a 16-byte value.
#[test]
fn a_million_flows_cost_under_56_bytes_each() {
    const FLOWS: u64 = 1 << 20;
    let cache = FlowCache::new();
    let mut rng = Rng(42 | 1);
    for _ in 0..FLOWS {
        let key = u128::from(rng.next()) << 64 | u128::from(rng.next());
        cache.insert(key, [AtomicU64::new(0), AtomicU64::new(0)]);
    }
    assert_eq!(cache.len() as u64, FLOWS);
    let per_entry = cache.memory_bytes() as f64 / FLOWS as f64;
    println!("FlowCache at 1M flows: {per_entry:.1} bytes/entry (16-byte value)");
    assert!(per_entry < 56.0, "{per_entry:.1} bytes per entry");
}
