//! The offload engine: megaflows and connections in, rules on a
//! [`FlowDevice`] out, with a lock-free UFID cache that readers consult
//! without waiting for writers.
//!
//! ```text
//!  put/del/ct_add/ct_del ──► bounded queue of worker (UFID hash) ──► batch
//!      translate (shared resource counts) → lower → create_batch | async
//!      create ×N, one push, pull → apply in order → cache → on_complete
//!  get/stats (any thread) ──► FlowCache (lock-free read)
//! ```
//!
//! Each UFID (and each connection) belongs to one worker, so its operations
//! are applied in the order they were submitted, as OVS's offload thread
//! does. A worker takes up to `batch` operations at a time; an operation on
//! a key already in the batch closes it first. Rules are created with the
//! device's template/async API when it has configured flow queues (one
//! queue per worker, one `push` per batch), with `create_batch` otherwise.
//!
//! A modified flow is made before it is broken: the new rule is in before
//! the old one goes, and the old rule's counters are added to the flow's.
//! Shared hardware resources (recirculation groups, CT tables and their
//! miss rules, post-CT dispatch rules, labels, encap headers) are taken and
//! released under one lock together with their fixed rules, so a rule
//! never reaches the device before the rules it jumps to.
//!
//! Statistics are read from the hardware counters by each worker, in sweeps
//! over its rules (every `stats_interval`, and on [`Offloader::sync_stats`]);
//! [`Offloader::stats`] returns the last sweep's figures without waiting.

pub mod cache;
mod entry;
mod failure;
pub mod nic;
mod shape;
mod state;
pub mod stored;
mod worker;

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam::channel::{self, Receiver, Sender, TrySendError};
use crossbeam::queue::ArrayQueue;
use hashbrown::HashMap;
use parking_lot::Mutex;
use smallvec::SmallVec;

use crate::device::{Counters, DeviceError};
use crate::device::{FlowDevice, TableHandle};
use crate::odp::{ConnEntry, DpLayer, FlowStats, Megaflow, Offloaded, Ufid, Used};
use crate::profile::DeviceProfile;
use crate::translate::{self, PortMap, Resource, Translator};

use cache::FlowCache;
pub(crate) use entry::{ConnEntryState, Entry, NO_SLOT};
pub use failure::Failure;
pub use state::{Counts, FlowState, Op, OpDone};
use worker::{Msg, Worker};

/// How rules reach the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// The template/async API when the device has a flow queue for each
    /// worker, `create` otherwise.
    #[default]
    Auto,
    /// `rte_flow_create`, one rule at a time (`create_batch`).
    Sync,
    /// The template/async API; [`Offloader::new`] fails without queues.
    Async,
}

/// Most flow boxes kept for reuse.
const BOX_POOL: usize = 4096;

/// Called with each finished operation, on the worker thread that finished
/// it: keep it short (send to a channel, bump a counter), and do not call
/// the engine's waiting methods (`wait`, `sync_stats`, `dump_offloaded`,
/// `flush`) from it: the worker would wait for itself.
pub type OnComplete = Arc<dyn Fn(&OpDone) + Send + Sync>;

/// Settings of an [`Offloader`].
#[derive(Clone)]
pub struct EngineConfig {
    /// Worker threads (each with its own queue, and flow queue in async
    /// mode).
    pub workers: usize,
    /// Most operations a worker takes into one batch.
    pub batch: usize,
    /// Operations each worker's queue holds before submitting fails with
    /// [`SubmitError::Full`].
    pub queue_depth: usize,
    /// Sync or async rule creation.
    pub mode: Mode,
    /// The translation's settings (software port, flow priority).
    pub translate: translate::Config,
    /// How often workers read the counters on their own; `None`: only on
    /// [`Offloader::sync_stats`] and [`Offloader::dump_offloaded`].
    pub stats_interval: Option<Duration>,
    /// Rules per template table in async mode; 0: the profile's rules per
    /// group.
    pub table_capacity: u32,
    /// Told of every finished operation.
    pub on_complete: Option<OnComplete>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            workers: 1,
            batch: 64,
            queue_depth: 4096,
            mode: Mode::Auto,
            translate: translate::Config::default(),
            stats_interval: Some(Duration::from_secs(1)),
            table_capacity: 0,
            on_complete: None,
        }
    }
}

impl fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineConfig")
            .field("workers", &self.workers)
            .field("batch", &self.batch)
            .field("queue_depth", &self.queue_depth)
            .field("mode", &self.mode)
            .field("translate", &self.translate)
            .field("stats_interval", &self.stats_interval)
            .field("table_capacity", &self.table_capacity)
            .field("on_complete", &self.on_complete.is_some())
            .finish()
    }
}

/// Why an operation was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmitError {
    /// The worker's queue is full: retry after [`Offloader::wait`] or later.
    Full {
        /// The worker.
        worker: usize,
        /// Its queue's size.
        depth: usize,
    },
    /// The engine is shutting down (or a worker died).
    Stopped,
}

impl fmt::Display for SubmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full { worker, depth } => {
                write!(
                    f,
                    "offload worker {worker} has {depth} operations queued (full)"
                )
            }
            Self::Stopped => f.write_str("the offload engine is stopped"),
        }
    }
}

impl std::error::Error for SubmitError {}

/// A put the engine did not accept, with its flow.
#[derive(Debug)]
pub struct Refused {
    /// Why.
    pub error: SubmitError,
    /// The flow, for a retry.
    pub flow: Box<Megaflow>,
}

/// Why an [`Offloader`] cannot be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineError {
    /// A setting is out of range.
    Config(String),
    /// Async mode asked for, but the device has fewer flow queues than
    /// workers.
    NoFlowQueues {
        /// Queues the device has.
        have: u32,
        /// Queues needed (one per worker).
        need: usize,
    },
    /// A worker thread could not be started.
    Spawn(String),
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(m) => write!(f, "bad engine setting: {m}"),
            Self::NoFlowQueues { have, need } => write!(
                f,
                "async mode needs one flow queue per worker ({need}); the device has {have} (configure them with rte_flow_configure first)"
            ),
            Self::Spawn(m) => write!(f, "cannot start an offload worker: {m}"),
        }
    }
}

impl std::error::Error for EngineError {}

/// The translator and the fixed rules of the shared resources, under one
/// lock: taking a resource and installing its rules is one step.
struct Xlate<R> {
    translator: Translator,
    fixed: HashMap<Resource, SmallVec<[R; 2]>>,
}

/// What the workers and the handle share.
pub(crate) struct Shared<D: FlowDevice> {
    device: Arc<D>,
    flows: FlowCache<Entry>,
    conns: FlowCache<ConnEntryState>,
    xlate: Mutex<Xlate<D::Rule>>,
    /// Template tables by rule shape (async mode).
    tables: Mutex<HashMap<u64, TableHandle>>,
    /// Boxes of flows the workers are done with, for the next `put`: a
    /// megaflow is 1.7 KB, and freeing on the worker what the submitter
    /// allocated costs more than the translation.
    boxes: ArrayQueue<Box<Megaflow>>,
    config: EngineConfig,
    table_capacity: u32,
    asynchronous: bool,
    start: Instant,
    /// Device rules the engine holds (flows, connections, fixed rules).
    live_rules: AtomicUsize,
    counts: [AtomicUsize; 6],
}

impl<D: FlowDevice> Shared<D> {
    /// Milliseconds since start, plus one (0 is "never").
    fn now(&self) -> u64 {
        self.start.elapsed().as_millis() as u64 + 1
    }

    fn notify(&self, op: Op, state: &FlowState) {
        if let Some(f) = &self.config.on_complete {
            f(&OpDone {
                op,
                state: state.clone(),
            });
        }
    }

    /// Moves one flow (or connection, `conn`) between state counts.
    fn recount(&self, conn: bool, from: Option<&FlowState>, to: Option<&FlowState>) {
        let slot = |s: &FlowState| {
            let i = match s {
                FlowState::Offloaded => 0,
                FlowState::Rejected(_) => 1,
                FlowState::Failed(_) => 2,
                FlowState::Pending | FlowState::Removed => return None,
            };
            Some(i + if conn { 3 } else { 0 })
        };
        if let Some(i) = from.and_then(slot) {
            self.counts[i].fetch_sub(1, Ordering::Relaxed);
        }
        if let Some(i) = to.and_then(slot) {
            self.counts[i].fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The cache key of a UFID.
pub fn ufid_key(u: &Ufid) -> u128 {
    u.parts
        .iter()
        .fold(0u128, |k, &p| (k << 32) | u128::from(p))
}

/// The UFID of a cache key.
pub fn key_ufid(k: u128) -> Ufid {
    Ufid {
        parts: [
            (k >> 96) as u32,
            (k >> 64) as u32,
            (k >> 32) as u32,
            k as u32,
        ],
    }
}

/// The key of a connection: its zone, protocol and original tuple, hashed
/// to 128 bits (two independent 64-bit hashes).
pub fn conn_key(c: &ConnEntry) -> u128 {
    use std::hash::{BuildHasher, Hash, Hasher};
    let half = |seed: u64| {
        let mut h =
            std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default()
                .build_hasher();
        seed.hash(&mut h);
        c.zone.hash(&mut h);
        c.proto.hash(&mut h);
        c.orig.hash(&mut h);
        h.finish()
    };
    (u128::from(half(0x9e37_79b9_7f4a_7c15)) << 64) | u128::from(half(0xc2b2_ae3d_27d4_eb4f))
}

/// The offload engine over one device.
pub struct Offloader<D: FlowDevice + 'static> {
    shared: Arc<Shared<D>>,
    senders: Vec<Sender<Msg>>,
    threads: Vec<JoinHandle<()>>,
}

impl<D: FlowDevice + 'static> fmt::Debug for Offloader<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Offloader")
            .field("device", &self.shared.device.name())
            .field("asynchronous", &self.shared.asynchronous)
            .field("workers", &self.senders.len())
            .field("counts", &self.counts())
            .finish()
    }
}

impl<D: FlowDevice + 'static> Offloader<D> {
    /// Starts an engine over `device` with `config.workers` worker threads.
    pub fn new(
        device: Arc<D>,
        profile: DeviceProfile,
        ports: PortMap,
        config: EngineConfig,
    ) -> Result<Self, EngineError> {
        for (name, v) in [
            ("workers", config.workers),
            ("batch", config.batch),
            ("queue_depth", config.queue_depth),
        ] {
            if v == 0 {
                return Err(EngineError::Config(format!("{name} must be at least 1")));
            }
        }
        let have = device.flow_queues();
        let asynchronous = match config.mode {
            Mode::Sync => false,
            Mode::Auto => have as usize >= config.workers,
            Mode::Async if (have as usize) < config.workers => {
                return Err(EngineError::NoFlowQueues {
                    have,
                    need: config.workers,
                })
            }
            Mode::Async => true,
        };
        let table_capacity = match config.table_capacity {
            0 => profile.rules_per_group,
            n => n,
        };
        let translator = Translator::new(profile, ports, config.translate.clone());
        let shared = Arc::new(Shared {
            device,
            flows: FlowCache::new(),
            conns: FlowCache::new(),
            xlate: Mutex::new(Xlate {
                translator,
                fixed: HashMap::new(),
            }),
            tables: Mutex::new(HashMap::new()),
            boxes: ArrayQueue::new(config.queue_depth.clamp(1, BOX_POOL)),
            table_capacity,
            asynchronous,
            start: Instant::now(),
            live_rules: AtomicUsize::new(0),
            counts: Default::default(),
            config,
        });
        let mut me = Self {
            shared: shared.clone(),
            senders: Vec::new(),
            threads: Vec::new(),
        };
        for index in 0..shared.config.workers {
            let (tx, rx) = channel::bounded(shared.config.queue_depth);
            let worker = Worker::new(index, shared.clone(), rx);
            let thread = std::thread::Builder::new()
                .name(format!("xsc-offload-{index}"))
                .spawn(move || worker.run())
                .map_err(|e| EngineError::Spawn(e.to_string()))?;
            me.senders.push(tx);
            me.threads.push(thread);
        }
        Ok(me)
    }

    /// The device.
    pub fn device(&self) -> &Arc<D> {
        &self.shared.device
    }

    /// Whether rules go through the template/async API.
    pub fn is_async(&self) -> bool {
        self.shared.asynchronous
    }

    fn submit(&self, key: u128, msg: Msg) -> Result<(), SubmitError> {
        self.submit_or_return(key, msg).map_err(|(e, _)| e)
    }

    /// Submits `msg`, or hands it back with the reason.
    fn submit_or_return(&self, key: u128, msg: Msg) -> Result<(), (SubmitError, Msg)> {
        let worker = worker::route(key, self.senders.len());
        self.senders[worker].try_send(msg).map_err(|e| match e {
            TrySendError::Full(m) => (
                SubmitError::Full {
                    worker,
                    depth: self.shared.config.queue_depth,
                },
                m,
            ),
            TrySendError::Disconnected(m) => (SubmitError::Stopped, m),
        })
    }

    /// Offloads `flow` under `ufid`, or replaces the flow the UFID has
    /// (make-before-break). Returns at once; the outcome goes to `get` and
    /// `on_complete`.
    pub fn put(&self, ufid: Ufid, flow: Megaflow) -> Result<(), SubmitError> {
        let mut boxed = self.shared.boxes.pop().unwrap_or_default();
        *boxed = flow;
        let key = ufid_key(&ufid);
        self.submit(key, Msg::Put(key, boxed))
    }

    /// [`put`](Self::put) that hands the flow back when it is not
    /// accepted, so the caller can retry without a copy.
    pub fn try_put(&self, ufid: Ufid, flow: Box<Megaflow>) -> Result<(), Refused> {
        let key = ufid_key(&ufid);
        self.submit_or_return(key, Msg::Put(key, flow))
            .map_err(|(error, msg)| match msg {
                Msg::Put(_, flow) => Refused { error, flow },
                _ => unreachable!("a put comes back as a put"),
            })
    }

    /// Removes the flow of `ufid` from hardware.
    pub fn del(&self, ufid: Ufid) -> Result<(), SubmitError> {
        let key = ufid_key(&ufid);
        self.submit(key, Msg::Del(key))
    }

    /// Where the flow of `ufid` stands; `None` when the engine holds
    /// nothing for it (never put, deleted, or its put still queued).
    /// Lock-free.
    pub fn get(&self, ufid: &Ufid) -> Option<FlowState> {
        self.shared.flows.get(ufid_key(ufid), |e| e.state.clone())
    }

    /// The flow's statistics as of the last counter sweep, accumulated
    /// across modifications; `offloaded:yes, dp:dpdk` when it is in
    /// hardware. Lock-free.
    pub fn stats(&self, ufid: &Ufid) -> Option<FlowStats> {
        let now = self.shared.now();
        self.shared.flows.get(ufid_key(ufid), |e| {
            let c = e.counters();
            let offloaded = e.state == FlowState::Offloaded;
            FlowStats {
                packets: c.packets,
                bytes: c.bytes,
                used: used(e.used.load(Ordering::Relaxed), now),
                offloaded: offloaded.then_some(Offloaded::Yes),
                dp: if offloaded {
                    DpLayer::new("dpdk")
                } else {
                    None
                },
                ..FlowStats::default()
            }
        })
    }

    /// Offloads an established connection (both directions, with NAT).
    pub fn ct_add(&self, conn: impl Into<Box<ConnEntry>>) -> Result<(), SubmitError> {
        let conn = conn.into();
        let key = conn_key(&conn);
        self.submit(key, Msg::CtAdd(key, conn))
    }

    /// Removes a connection's rules.
    pub fn ct_del(&self, conn: &ConnEntry) -> Result<(), SubmitError> {
        let key = conn_key(conn);
        self.submit(key, Msg::CtDel(key))
    }

    /// Where a connection stands. Lock-free.
    pub fn ct_get(&self, conn: &ConnEntry) -> Option<FlowState> {
        self.shared.conns.get(conn_key(conn), |e| e.state.clone())
    }

    /// A connection's packets and bytes in hardware, original and reply
    /// direction, as of the last sweep. Lock-free.
    pub fn ct_stats(&self, conn: &ConnEntry) -> Option<(Counters, Counters)> {
        self.shared.conns.get(conn_key(conn), ConnEntryState::get)
    }

    /// Sends `make(ack)` to every worker and waits for each answer.
    fn broadcast<T>(&self, make: impl Fn(Sender<T>) -> Msg) -> Vec<T> {
        let (tx, rx): (Sender<T>, Receiver<T>) = channel::unbounded();
        let mut sent = 0;
        for s in &self.senders {
            // A blocking send: control messages wait for room.
            if s.send(make(tx.clone())).is_ok() {
                sent += 1;
            }
        }
        drop(tx);
        rx.iter().take(sent).collect()
    }

    /// Returns when every operation submitted before has finished.
    pub fn wait(&self) {
        self.broadcast(|ack| Msg::Barrier { sweep: false, ack });
    }

    /// Finishes the queued operations, then reads every rule's counters.
    pub fn sync_stats(&self) {
        self.broadcast(|ack| Msg::Barrier { sweep: true, ack });
    }

    /// Appends the offloaded flows, one line each, as `ovs-appctl
    /// dpctl/dump-flows -m type=offloaded` prints them, with fresh
    /// counters; sorted by UFID.
    pub fn dump_offloaded(&self, out: &mut String) {
        let mut lines: Vec<(u128, String)> = self
            .broadcast(|ack| Msg::Dump { ack })
            .into_iter()
            .flatten()
            .collect();
        lines.sort_unstable_by_key(|(k, _)| *k);
        for (_, line) in lines {
            out.push_str(&line);
            out.push('\n');
        }
    }

    /// Removes every flow and connection, then the template tables: the
    /// device is left with nothing of ours. Returns the first error the
    /// device reported (everything is removed regardless).
    pub fn flush(&self) -> Result<(), DeviceError> {
        let mut first = self
            .broadcast(|ack| Msg::Flush { ack })
            .into_iter()
            .find_map(Result::err);
        let mut x = self.shared.xlate.lock();
        for (_, rules) in x.fixed.drain() {
            for r in rules {
                self.shared.live_rules.fetch_sub(1, Ordering::Relaxed);
                if let Err(e) = self.shared.device.destroy(r) {
                    first.get_or_insert(e);
                }
            }
        }
        drop(x);
        // A table the device will not destroy stays known (and counted in
        // `live_tables`), so the leak shows and a later flush retries it.
        self.shared
            .tables
            .lock()
            .retain(|_, t| match self.shared.device.async_table_destroy(*t) {
                Ok(()) => false,
                Err(e) => {
                    first.get_or_insert(e);
                    true
                }
            });
        first.map_or(Ok(()), Err)
    }

    /// Flows and connections by state.
    pub fn counts(&self) -> Counts {
        let c = |i: usize| self.shared.counts[i].load(Ordering::Relaxed);
        Counts {
            offloaded: c(0),
            rejected: c(1),
            failed: c(2),
            conns_offloaded: c(3),
            conns_rejected: c(4),
            conns_failed: c(5),
        }
    }

    /// Device rules the engine holds now (flows, connections and the fixed
    /// rules of shared resources).
    pub fn live_rules(&self) -> usize {
        self.shared.live_rules.load(Ordering::Relaxed)
    }

    /// Template tables the engine holds (async mode).
    pub fn live_tables(&self) -> usize {
        self.shared.tables.lock().len()
    }

    /// Shared resources in use: (recirculation groups, CT targets, labels,
    /// encap headers), as [`crate::translate::Resources::counts`] says.
    pub fn resource_counts(&self) -> (usize, usize, usize, usize) {
        self.shared.xlate.lock().translator.resources().counts()
    }

    /// Flows the cache holds (any state), and the cache's own bytes.
    pub fn cache_usage(&self) -> (usize, usize) {
        (self.shared.flows.len(), self.shared.flows.memory_bytes())
    }

    /// Bytes the workers hold per-flow (slots, stored flows, interned
    /// blobs), summed over workers. Waits for the queued operations.
    pub fn worker_memory(&self) -> usize {
        self.broadcast(|ack| Msg::Memory { ack }).into_iter().sum()
    }
}

impl<D: FlowDevice + 'static> Drop for Offloader<D> {
    fn drop(&mut self) {
        let _ = self.flush();
        self.senders.clear();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// `used:` from an entry's stamp.
fn used(stamp: u64, now: u64) -> Used {
    if stamp == 0 {
        Used::Never
    } else {
        Used::Ago {
            ms: now.saturating_sub(stamp) as i64,
        }
    }
}
