//! The offload engine under concurrent load: several submitter threads put,
//! modify, delete and read a small shared UFID space, and at the end the
//! cache, the device's rules and a sequential model of each UFID's history
//! agree; nothing leaks; a flush empties the device.
//!
//! Each UFID is written by exactly one thread (UFID `u` by thread
//! `u % THREADS`): the engine orders operations per submitter, as OVS's
//! handler/revalidator threads own their flows. Every thread reads every
//! UFID (`get`, `stats`) while the others write, and checks that what it
//! sees is a state the UFID's history can produce.
//!
//! A second device, [`Flaky`], wraps the eswitch and fails every Nth rule
//! creation (synchronously, at enqueue, or in its completion); every flow
//! must still end in a definite state and every handle must come back.
//!
//! Bounded: [`OPS`] operations in all per run, a few seconds in debug.

use std::collections::HashMap;
use std::sync::atomic::{AtomicIsize, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use xsc_dp::device::{Completion, FlowDevice, TableHandle};
use xsc_dp::device::{Counters, DeviceError};
use xsc_dp::engine::{ufid_key, EngineConfig, FlowState, Mode, Offloader, Op, OpDone, SubmitError};
use xsc_dp::eswitch::{Eswitch, EswitchRule};
use xsc_dp::odp::{is_dump_header, parse_actions, Megaflow, Offloaded, Ufid, Used};
use xsc_dp::profile::DeviceProfile;
use xsc_dp::rte::RteRule;
use xsc_dp::translate::{Config, PortMap, Translator};
use xsc_test_support::rng::Rng;

const PORTS: &[u16] = &[0, 1, 2, 3, 100];
const FLOWS: &str = include_str!("../data/ovs/kube-ovn.flows");

/// Submitting threads.
const THREADS: usize = 4;
/// UFIDs in play: a few per thread, so every UFID sees many operations.
const UFIDS: usize = 48;
/// Operations per run (writes and reads), over all threads.
const OPS: usize = 20_000;
/// Variants each UFID switches between.
const VARIANTS: usize = 4;

/// xorshift64* (the shared one), seeded per thread from the run's seed.
fn seeded(seed: u64) -> Rng {
    Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
}

/// The seed: `XSC_STRESS_SEED` when set (to replay a failure), else fixed.
fn seed() -> u64 {
    std::env::var("XSC_STRESS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed)
}

fn ufid(i: usize) -> Ufid {
    let i = i as u32;
    Ufid {
        parts: [0x57e5_0000 | i, i.wrapping_mul(2_654_435_761), 0xface, i],
    }
}

fn profile() -> DeviceProfile {
    let mut p = DeviceProfile::metascale();
    p.async_api = true;
    p
}

/// What a reader can tell apart in a flow's state.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Absent,
    Pending,
    Offloaded,
    Rejected(String),
    /// The device refused it, with this errno.
    Failed(Option<i32>),
    /// `FlowState::Removed` in the cache: never valid.
    Removed,
}

impl Seen {
    fn of(s: Option<&FlowState>) -> Self {
        match s {
            None => Self::Absent,
            Some(FlowState::Pending) => Self::Pending,
            Some(FlowState::Offloaded) => Self::Offloaded,
            Some(FlowState::Rejected(r)) => Self::Rejected(r.to_string()),
            Some(FlowState::Failed(e)) => Self::Failed(e.errno()),
            Some(FlowState::Removed) => Self::Removed,
        }
    }
}

/// The megaflows the UFIDs switch between, and what a lone translator says
/// of each.
struct Catalogue {
    flows: Vec<Megaflow>,
    /// `Seen::Offloaded` or `Seen::Rejected(reason)`.
    expect: Vec<Seen>,
    /// `variants[u][k]`: index into `flows` of UFID `u`'s variant `k`.
    variants: Vec<[usize; VARIANTS]>,
}

impl Catalogue {
    /// Per UFID: its kube-ovn flow; the same key dropping; another
    /// kube-ovn flow (other recirc groups, CT zones, labels); the same key
    /// to userspace (rejected).
    fn new() -> Self {
        let base: Vec<Megaflow> = FLOWS
            .lines()
            .filter(|l| !is_dump_header(l) && !l.trim().is_empty())
            .map(|l| Megaflow::parse(l).unwrap())
            .collect();
        let n = base.len();
        let mut flows = base.clone();
        let mut with_actions = |f: &Megaflow, actions: &str| {
            let mut m = f.clone();
            m.actions = parse_actions(actions).unwrap();
            flows.push(m);
            flows.len() - 1
        };
        let dropping: Vec<usize> = base.iter().map(|f| with_actions(f, "drop")).collect();
        let to_software: Vec<usize> = base
            .iter()
            .map(|f| with_actions(f, "userspace(pid=1)"))
            .collect();
        let variants = (0..UFIDS)
            .map(|u| {
                let b = u % n;
                [b, dropping[b], (u * 7 + 3) % n, to_software[b]]
            })
            .collect();
        let mut t = Translator::new(profile(), PortMap::identity(), Config::default());
        let expect = flows
            .iter()
            .map(|f| match t.translate(f) {
                Ok(tr) => {
                    t.release(&tr.resources);
                    Seen::Offloaded
                }
                Err(r) => Seen::Rejected(r.to_string()),
            })
            .collect();
        let c = Self {
            flows,
            expect,
            variants,
        };
        let offloadable = c.expect.iter().filter(|s| **s == Seen::Offloaded).count();
        assert!(
            offloadable > 10 && offloadable < c.flows.len(),
            "the catalogue needs both offloadable and rejected flows ({offloadable} of {})",
            c.flows.len()
        );
        c
    }
}

/// One submitted write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    /// `put` of this catalogue flow.
    Put(usize),
    Del,
}

/// How one run is set up.
#[derive(Debug, Clone, Copy)]
struct Run {
    mode: Mode,
    workers: usize,
    batch: usize,
    queue_depth: usize,
    /// Flow queue size (async mode).
    queue_size: u32,
    /// The device fails some creations: `Failed` is a valid outcome of a
    /// put of an offloadable flow.
    flaky: bool,
}

/// Whether `seen` is what a put of catalogue flow `f` may end in.
fn put_outcome(c: &Catalogue, f: usize, seen: &Seen, flaky: bool) -> bool {
    match seen {
        Seen::Failed(errno) => {
            flaky
                && c.expect[f] == Seen::Offloaded
                && matches!(*errno, Some(libc::ENOSPC) | Some(libc::EIO))
        }
        s => *s == c.expect[f],
    }
}

/// Whether a reader may see `seen` for a UFID whose writes so far are
/// `history` (for the writer's own UFIDs) or any of its variants (others').
fn plausible(c: &Catalogue, puts: &[usize], seen: &Seen, flaky: bool) -> bool {
    match seen {
        Seen::Absent => true,
        Seen::Removed => false,
        Seen::Pending => !puts.is_empty(),
        s => puts.iter().any(|&f| put_outcome(c, f, s, flaky)),
    }
}

/// Submits until the engine takes it, yielding while the worker's queue is
/// full; returns how many times it was full.
fn submit(mut op: impl FnMut() -> Result<(), SubmitError>) -> usize {
    let mut full = 0;
    loop {
        match op() {
            Ok(()) => return full,
            Err(SubmitError::Full { .. }) => {
                full += 1;
                std::thread::yield_now();
            }
            Err(e) => panic!("submit: {e}"),
        }
    }
}

/// Everything the run recorded.
struct Outcome {
    /// Per UFID, the writes in submission order.
    history: Vec<Vec<Write>>,
    /// `SubmitError::Full` answers (each retried).
    full: usize,
    reads: usize,
}

/// Runs [`OPS`] operations over [`THREADS`] threads against `off`.
fn hammer<D: FlowDevice + 'static>(off: &Offloader<D>, c: &Catalogue, run: Run) -> Outcome {
    let full = AtomicUsize::new(0);
    let reads = AtomicUsize::new(0);
    let histories: Vec<Vec<(usize, Vec<Write>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (full, reads) = (&full, &reads);
                s.spawn(move || {
                    let mut rng = seeded(seed() ^ ((t as u64 + 1) << 32));
                    let mine: Vec<usize> = (t..UFIDS).step_by(THREADS).collect();
                    let mut history: Vec<Vec<Write>> = vec![Vec::new(); mine.len()];
                    for _ in 0..OPS / THREADS {
                        let roll = rng.index(100);
                        if roll < 55 {
                            let i = rng.index(mine.len());
                            let u = ufid(mine[i]);
                            let w = if roll < 42 {
                                Write::Put(c.variants[mine[i]][rng.index(VARIANTS)])
                            } else {
                                Write::Del
                            };
                            full.fetch_add(
                                submit(|| match w {
                                    Write::Put(f) => off.put(u, c.flows[f].clone()),
                                    Write::Del => off.del(u),
                                }),
                                Ordering::Relaxed,
                            );
                            history[i].push(w);
                        } else {
                            reads.fetch_add(1, Ordering::Relaxed);
                            let u = rng.index(UFIDS);
                            let seen = Seen::of(off.get(&ufid(u)).as_ref());
                            // Our own UFIDs: only states of what was
                            // submitted; others': any of their variants.
                            let puts: Vec<usize> = if u % THREADS == t {
                                history[u / THREADS]
                                    .iter()
                                    .filter_map(|w| match w {
                                        Write::Put(f) => Some(*f),
                                        Write::Del => None,
                                    })
                                    .collect()
                            } else {
                                c.variants[u].to_vec()
                            };
                            assert!(
                                plausible(c, &puts, &seen, run.flaky),
                                "thread {t} read ufid {u} as {seen:?}; its puts: {puts:?}"
                            );
                            if let Some(st) = off.stats(&ufid(u)) {
                                // No packet ran: zero counters, never used;
                                // `offloaded:yes` and `dp:dpdk` together.
                                assert_eq!((st.packets, st.bytes), (0, 0), "{st:?}");
                                assert_eq!(st.used, Used::Never, "{st:?}");
                                assert_eq!(st.offloaded.is_some(), st.dp.is_some(), "{st:?}");
                                assert!(matches!(st.offloaded, None | Some(Offloaded::Yes)));
                            }
                        }
                    }
                    mine.into_iter().zip(history).collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut history = vec![Vec::new(); UFIDS];
    for (u, h) in histories.into_iter().flatten() {
        history[u] = h;
    }
    Outcome {
        history,
        full: full.into_inner(),
        reads: reads.into_inner(),
    }
}

/// What the model says UFID `u` ends in (`None`: absent).
fn last_put(history: &[Write]) -> Option<usize> {
    match history.last() {
        Some(Write::Put(f)) => Some(*f),
        Some(Write::Del) | None => None,
    }
}

/// The completions of each UFID, in the order they arrived.
type Log = Arc<Mutex<Vec<OpDone>>>;

fn config(run: Run, log: &Log) -> EngineConfig {
    let log = log.clone();
    EngineConfig {
        workers: run.workers,
        batch: run.batch,
        queue_depth: run.queue_depth,
        mode: run.mode,
        // Counter sweeps run while flows change under them.
        stats_interval: Some(Duration::from_millis(2)),
        on_complete: Some(Arc::new(move |d: &OpDone| {
            log.lock().unwrap().push(d.clone())
        })),
        ..EngineConfig::default()
    }
}

/// The checks once the engine is idle: the cache against the model, the
/// completions against the submissions, the device's rules against the
/// offloaded flows and the fixed rules of the resources they use.
fn check_quiescent<D: FlowDevice + 'static>(
    off: &Offloader<D>,
    c: &Catalogue,
    run: Run,
    out: &Outcome,
    log: &Log,
    device_rules: usize,
) {
    let mut offloaded = Vec::new();
    let (mut rejected, mut failed) = (0, 0);
    for (u, history) in out.history.iter().enumerate() {
        let got = off.get(&ufid(u));
        let seen = Seen::of(got.as_ref());
        match last_put(history) {
            None => assert_eq!(seen, Seen::Absent, "ufid {u}: {history:?}"),
            Some(f) => assert!(
                put_outcome(c, f, &seen, run.flaky),
                "ufid {u} is {seen:?}, its last put (flow {f}) should be {:?}; {history:?}",
                c.expect[f]
            ),
        }
        match seen {
            Seen::Offloaded => offloaded.push(last_put(history).unwrap()),
            Seen::Rejected(_) => rejected += 1,
            Seen::Failed(_) => failed += 1,
            _ => {}
        }
        assert_eq!(off.stats(&ufid(u)).is_some(), got.is_some(), "ufid {u}");
    }
    let counts = off.counts();
    assert_eq!(
        (counts.offloaded, counts.rejected, counts.failed),
        (offloaded.len(), rejected, failed),
        "{counts:?}"
    );
    assert_eq!(
        off.cache_usage().0,
        offloaded.len() + rejected + failed,
        "the cache holds exactly the UFIDs not deleted"
    );

    // Every operation completed once, in the order it was submitted.
    let mut done: HashMap<u128, Vec<&OpDone>> = HashMap::new();
    let log = log.lock().unwrap();
    for d in log.iter() {
        let k = match d.op {
            Op::Put(u) | Op::Del(u) => ufid_key(&u),
            other => panic!("unexpected completion {other:?}"),
        };
        done.entry(k).or_default().push(d);
    }
    for (u, history) in out.history.iter().enumerate() {
        let got = done.remove(&ufid_key(&ufid(u))).unwrap_or_default();
        assert_eq!(got.len(), history.len(), "completions of ufid {u}");
        for (i, (w, d)) in history.iter().zip(&got).enumerate() {
            let ok = match w {
                Write::Put(f) => {
                    d.op == Op::Put(ufid(u))
                        && put_outcome(c, *f, &Seen::of(Some(&d.state)), run.flaky)
                }
                Write::Del => d.op == Op::Del(ufid(u)) && d.state == FlowState::Removed,
            };
            assert!(ok, "ufid {u} op {i}: submitted {w:?}, completed {d:?}");
        }
    }
    assert!(done.is_empty(), "completions of UFIDs never written");
    drop(log);

    // The device holds one rule per offloaded flow, plus the fixed rules
    // of the shared resources those flows use: a fresh translator, fed
    // the same flows, takes the same resources.
    let mut t = Translator::new(profile(), PortMap::identity(), Config::default());
    let fixed: usize = offloaded
        .iter()
        .map(|&f| {
            let tr = t.translate(&c.flows[f]).unwrap();
            tr.new_resources
                .iter()
                .map(|r| t.fixed_rules(r).len())
                .sum::<usize>()
        })
        .sum();
    assert_eq!(off.resource_counts(), t.resources().counts());
    assert_eq!(off.live_rules(), device_rules);
    assert_eq!(
        device_rules,
        offloaded.len() + fixed,
        "{} offloaded flows, {fixed} fixed rules",
        offloaded.len()
    );
}

fn stress_eswitch(run: Run) {
    let handles = xsc_dp::dpdk::live_handles();
    let c = Catalogue::new();
    let esw = Arc::new(Eswitch::new(profile(), PORTS));
    if run.mode == Mode::Async {
        esw.configure(run.workers as u16, run.queue_size).unwrap();
    }
    let log: Log = Arc::default();
    let off = Offloader::new(
        esw.clone(),
        profile(),
        PortMap::identity(),
        config(run, &log),
    )
    .unwrap();
    assert_eq!(off.is_async(), run.mode == Mode::Async);
    let out = hammer(&off, &c, run);
    off.wait();
    eprintln!(
        "{run:?}: {} writes, {} reads, {} full-queue retries, {:?}, {} rules",
        out.history.iter().map(Vec::len).sum::<usize>(),
        out.reads,
        out.full,
        off.counts(),
        esw.rule_count()
    );
    check_quiescent(&off, &c, run, &out, &log, esw.rule_count());

    // Delete every UFID: the last user of each shared resource takes its
    // fixed rules with it.
    for u in 0..UFIDS {
        submit(|| off.del(ufid(u)));
    }
    off.wait();
    assert_eq!(esw.rule_count(), 0);
    assert_eq!(esw.group_count(), 0);
    assert_eq!(off.live_rules(), 0);
    assert_eq!(off.resource_counts(), (0, 0, 0, 0));
    assert_eq!(off.cache_usage().0, 0);
    assert_eq!(off.counts(), Default::default());

    // Put them back, then flush from a full device: templates go too.
    for u in 0..UFIDS {
        submit(|| off.put(ufid(u), c.flows[c.variants[u][0]].clone()));
    }
    off.wait();
    assert!(esw.rule_count() > 0);
    assert_eq!(off.live_rules(), esw.rule_count());
    off.flush().unwrap();
    assert_eq!(esw.rule_count(), 0);
    assert_eq!(esw.group_count(), 0);
    assert_eq!(esw.template_counts(), (0, 0, 0));
    assert_eq!(off.live_rules(), 0);
    assert_eq!(off.live_tables(), 0);
    assert_eq!(off.resource_counts(), (0, 0, 0, 0));
    assert_eq!(off.cache_usage().0, 0);
    drop(off);
    // The eswitch path holds no DPDK handle.
    assert_eq!(xsc_dp::dpdk::live_handles(), handles);
}

const SYNC: Run = Run {
    mode: Mode::Sync,
    workers: 1,
    batch: 16,
    queue_depth: 32,
    queue_size: 0,
    flaky: false,
};

const ASYNC: Run = Run {
    mode: Mode::Async,
    queue_size: 64,
    ..SYNC
};

#[test]
fn sync_one_worker() {
    stress_eswitch(SYNC);
}

#[test]
fn sync_three_workers() {
    stress_eswitch(Run { workers: 3, ..SYNC });
}

#[test]
fn async_one_worker() {
    stress_eswitch(ASYNC);
}

#[test]
fn async_three_workers() {
    stress_eswitch(Run {
        workers: 3,
        ..ASYNC
    });
}

/// Flow queues of 8 operations, batches of 16: creations and removals
/// overflow the queue and must wait for their completions.
#[test]
fn async_queue_smaller_than_the_batch() {
    stress_eswitch(Run {
        queue_size: 8,
        ..ASYNC
    });
}

/// A batch of removals larger than the device's flow queue: each one
/// completes as `Removed`, and the device is left empty.
#[test]
fn removals_overflowing_the_flow_queue_still_succeed() {
    let c = Catalogue::new();
    let esw = Arc::new(Eswitch::new(profile(), PORTS));
    esw.configure(1, 4).unwrap();
    let log: Log = Arc::default();
    let run = Run { batch: 32, ..ASYNC };
    let off = Offloader::new(
        esw.clone(),
        profile(),
        PortMap::identity(),
        config(run, &log),
    )
    .unwrap();
    let offloadable: Vec<usize> = (0..c.flows.len())
        .filter(|&f| c.expect[f] == Seen::Offloaded)
        .collect();
    for &f in &offloadable {
        off.put(ufid(f), c.flows[f].clone()).unwrap();
    }
    off.wait();
    assert_eq!(off.counts().offloaded, offloadable.len());
    log.lock().unwrap().clear();
    for &f in &offloadable {
        off.del(ufid(f)).unwrap();
    }
    off.wait();
    let log = log.lock().unwrap();
    assert_eq!(log.len(), offloadable.len());
    for d in log.iter() {
        assert_eq!(d.state, FlowState::Removed, "{d:?}");
    }
    assert_eq!(esw.rule_count(), 0);
    assert_eq!(off.live_rules(), 0);
    off.flush().unwrap();
    assert_eq!(esw.template_counts(), (0, 0, 0));
}

/// Wraps the eswitch and fails every `every`th rule creation: a sync
/// `create` with `ENOSPC`; an async one alternately at enqueue (`EIO`)
/// and in its completion (`EIO`, the rule never reaching the eswitch).
/// Counts the handles it gave out and has not seen dropped.
struct Flaky {
    esw: Eswitch,
    every: u64,
    creates: AtomicU64,
    refused: AtomicUsize,
    live: Arc<AtomicIsize>,
    /// Per flow queue: failed completions waiting for a push, and pushed.
    fake: Mutex<Vec<(Vec<Completion>, Vec<Completion>)>>,
}

/// A handle of [`Flaky`]: the eswitch's, or none for a creation that will
/// fail in its completion.
struct FlakyRule {
    inner: Option<EswitchRule>,
    live: Arc<AtomicIsize>,
}

impl Drop for FlakyRule {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Flaky {
    fn new(esw: Eswitch, every: u64) -> Self {
        let queues = esw.queue_count() as usize;
        Self {
            esw,
            every,
            creates: AtomicU64::new(0),
            refused: AtomicUsize::new(0),
            live: Arc::default(),
            fake: Mutex::new(vec![Default::default(); queues]),
        }
    }

    fn handle(&self, inner: Option<EswitchRule>) -> FlakyRule {
        self.live.fetch_add(1, Ordering::SeqCst);
        FlakyRule {
            inner,
            live: self.live.clone(),
        }
    }

    /// `Some(n)` when this creation is the nth refused one.
    fn refuse(&self) -> Option<u64> {
        let k = self.creates.fetch_add(1, Ordering::Relaxed) + 1;
        (k % self.every == 0).then(|| {
            self.refused.fetch_add(1, Ordering::Relaxed);
            k / self.every
        })
    }

    fn live(&self) -> isize {
        self.live.load(Ordering::SeqCst)
    }
}

fn error(op: &'static str, errno: i32) -> DeviceError {
    DeviceError::Call {
        op,
        port: Some(0),
        errno,
    }
}

impl FlowDevice for Flaky {
    type Rule = FlakyRule;

    fn name(&self) -> String {
        format!("flaky {}", self.esw.name())
    }

    fn validate(&self, rule: &RteRule) -> Result<(), DeviceError> {
        self.esw.validate(rule)
    }

    fn create(&self, rule: &RteRule) -> Result<FlakyRule, DeviceError> {
        if self.refuse().is_some() {
            return Err(error("rte_flow_create", libc::ENOSPC));
        }
        let r = self.esw.create(rule)?;
        Ok(self.handle(Some(r)))
    }

    fn destroy(&self, mut rule: FlakyRule) -> Result<(), DeviceError> {
        match rule.inner.take() {
            Some(r) => self.esw.destroy(r),
            None => panic!("destroy of a rule whose creation failed"),
        }
    }

    fn query(&self, rule: &FlakyRule, reset: bool) -> Result<Counters, DeviceError> {
        match &rule.inner {
            Some(r) => self.esw.query(r, reset),
            None => Err(error("rte_flow_query", libc::ENOENT)),
        }
    }

    fn flow_queues(&self) -> u32 {
        self.esw.flow_queues()
    }

    fn async_table(&self, rule: &RteRule, capacity: u32) -> Result<TableHandle, DeviceError> {
        self.esw.async_table(rule, capacity)
    }

    fn async_table_destroy(&self, table: TableHandle) -> Result<(), DeviceError> {
        self.esw.async_table_destroy(table)
    }

    fn async_create(
        &self,
        queue: u32,
        table: TableHandle,
        rule: &RteRule,
        user_data: u64,
    ) -> Result<FlakyRule, DeviceError> {
        match self.refuse() {
            Some(n) if n % 2 == 0 => Err(error("rte_flow_async_create", libc::EIO)),
            Some(_) => {
                self.fake.lock().unwrap()[queue as usize]
                    .0
                    .push(Completion {
                        user_data,
                        result: Err(error("rte_flow_pull", libc::EIO)),
                    });
                Ok(self.handle(None))
            }
            None => {
                let r = FlowDevice::async_create(&self.esw, queue, table, rule, user_data)?;
                Ok(self.handle(Some(r)))
            }
        }
    }

    fn async_destroy(
        &self,
        queue: u32,
        mut rule: FlakyRule,
        user_data: u64,
    ) -> Result<(), DeviceError> {
        match rule.inner.take() {
            Some(r) => FlowDevice::async_destroy(&self.esw, queue, r, user_data),
            None => panic!("async destroy of a rule whose creation failed"),
        }
    }

    fn push(&self, queue: u32) -> Result<(), DeviceError> {
        {
            let mut fake = self.fake.lock().unwrap();
            let (postponed, pushed) = &mut fake[queue as usize];
            pushed.append(postponed);
        }
        FlowDevice::push(&self.esw, queue)
    }

    fn pull(&self, queue: u32, out: &mut Vec<Completion>) -> Result<usize, DeviceError> {
        let n = FlowDevice::pull(&self.esw, queue, out)?;
        let mut fake = self.fake.lock().unwrap();
        let pushed = &mut fake[queue as usize].1;
        let m = pushed.len();
        out.append(pushed);
        Ok(n + m)
    }
}

fn stress_flaky(run: Run) {
    let c = Catalogue::new();
    let esw = Eswitch::new(profile(), PORTS);
    if run.mode == Mode::Async {
        esw.configure(run.workers as u16, run.queue_size).unwrap();
    }
    let dev = Arc::new(Flaky::new(esw, 7));
    let log: Log = Arc::default();
    let off = Offloader::new(
        dev.clone(),
        profile(),
        PortMap::identity(),
        config(run, &log),
    )
    .unwrap();
    let out = hammer(&off, &c, run);
    off.wait();
    let counts = off.counts();
    eprintln!(
        "flaky {run:?}: {} refused creations, {counts:?}, {} rules",
        dev.refused.load(Ordering::Relaxed),
        dev.esw.rule_count()
    );
    assert!(dev.refused.load(Ordering::Relaxed) > 0);
    check_quiescent(&off, &c, run, &out, &log, dev.esw.rule_count());
    // Every handle the device gave out is held by the engine or gone.
    assert_eq!(dev.live(), off.live_rules() as isize);
    let failed = log
        .lock()
        .unwrap()
        .iter()
        .filter(|d| matches!(d.state, FlowState::Failed(_)))
        .count();
    assert!(failed > 0, "no operation failed");

    off.flush().unwrap();
    assert_eq!(dev.live(), 0, "leaked handles");
    assert_eq!(dev.esw.rule_count(), 0);
    assert_eq!(dev.esw.group_count(), 0);
    assert_eq!(dev.esw.template_counts(), (0, 0, 0));
    assert_eq!(off.live_rules(), 0);
    assert_eq!(off.resource_counts(), (0, 0, 0, 0));
    assert_eq!(off.cache_usage().0, 0);
    assert_eq!(off.counts(), Default::default());
}

#[test]
fn failing_device_sync() {
    stress_flaky(Run {
        flaky: true,
        workers: 3,
        ..SYNC
    });
}

#[test]
fn failing_device_async() {
    stress_flaky(Run {
        flaky: true,
        workers: 3,
        ..ASYNC
    });
}
