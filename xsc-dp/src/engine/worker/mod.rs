//! One offload worker: its queue, the rules of the flows and connections
//! routed to it, and the batch pipeline (stage → device → apply → retire).
//!
//! This file holds the worker's state (slab of offloaded flows, connection
//! slots, reused batch buffers), its loop, and the control operations
//! (counter sweeps, dump, flush, memory). The pipeline's steps are rooms of
//! their own: `stage` (translate and lower), `device` (create, push, pull,
//! destroy) and `apply` (outcomes in submission order, retirement).
//!
//! Invariants: each key belongs to one worker ([`route`]), so its
//! operations apply in submission order; an operation on a key already in
//! the batch closes the batch first; every device rule the worker holds is
//! in its slab, its connection slots or retired for destruction.
//!
//! Must not depend on: `dpdk` beyond its error and counter types (the
//! device is reached through [`FlowDevice`]).

use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam::channel::{Receiver, RecvTimeoutError, Sender};
use hashbrown::{HashMap, HashSet};
use smallvec::SmallVec;

mod apply;
mod device;
mod stage;

use super::stored::{format_offloaded, Interner, StoredFlow};
use super::{key_ufid, ConnEntryState, Entry, FlowState, Op, Shared, NO_SLOT};
use crate::device::{Completion, FlowDevice, TableHandle};
use crate::device::{Counters, DeviceError};
use crate::odp::{ConnEntry, FlowStats, Megaflow};
use crate::rte::RteRule;
use crate::translate::{Resource, Translation};

/// What a worker is asked to do.
pub(crate) enum Msg {
    Put(u128, Box<Megaflow>),
    Del(u128),
    CtAdd(u128, Box<ConnEntry>),
    CtDel(u128),
    /// Answer once everything before is done; read the counters first
    /// when `sweep`.
    Barrier {
        sweep: bool,
        ack: Sender<()>,
    },
    /// The `type=offloaded` lines of this worker's flows, fresh counters.
    Dump {
        ack: Sender<Vec<(u128, String)>>,
    },
    /// Remove everything of this worker.
    Flush {
        ack: Sender<Result<(), DeviceError>>,
    },
    /// Bytes of per-flow state this worker holds.
    Memory {
        ack: Sender<usize>,
    },
}

/// The worker a key belongs to.
pub(crate) fn route(key: u128, workers: usize) -> usize {
    let h = ((key as u64) ^ ((key >> 64) as u64)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    ((h >> 32) as usize) % workers
}

/// An offloaded flow, in the worker's slab; its cache entry holds the
/// index.
struct Slot<R> {
    key: u128,
    rule: R,
    resources: Arc<[Resource]>,
    /// Counters of the rules this flow had before its last modification.
    base: Counters,
    /// The current rule's counters at the last sweep.
    last: Counters,
    /// `Entry::used` stamp.
    used: u64,
    stored: StoredFlow,
}

/// An offloaded connection: original and reply direction in the CT group,
/// then the same in the CT-NAT group.
struct ConnSlot<R> {
    rules: SmallVec<[R; 4]>,
    resources: Arc<[Resource]>,
}

/// One operation of the batch being built.
enum Stage {
    Flow {
        key: u128,
        stored: Option<StoredFlow>,
        resources: Arc<[Resource]>,
        rules: Range<usize>,
        /// Settled before the device (rejected, or a fixed rule failed).
        settled: Option<FlowState>,
    },
    Conn {
        key: u128,
        resources: Arc<[Resource]>,
        rules: Range<usize>,
        settled: Option<FlowState>,
    },
    Remove {
        key: u128,
        conn: bool,
    },
}

/// Why [`Worker::complete`] stopped before every operation completed.
enum Stall {
    /// `rte_flow_push` failed: nothing was executed.
    Push(DeviceError),
    /// `rte_flow_pull` failed, or nothing completed in time.
    Pull(DeviceError),
}

/// A rule to destroy, and the notification that waits for the answer.
struct Doomed<R> {
    rule: R,
    note: Option<usize>,
}

pub(crate) struct Worker<D: FlowDevice> {
    index: usize,
    shared: Arc<Shared<D>>,
    rx: Receiver<Msg>,
    /// Offloaded flows; a flow's cache entry says where its slot is.
    slab: Vec<Option<Slot<D::Rule>>>,
    free: Vec<u32>,
    /// Resource lists, shared by the flows that took the same ones.
    resource_sets: HashSet<Arc<[Resource]>>,
    conns: HashMap<u128, ConnSlot<D::Rule>>,
    interner: Interner,
    /// Template tables this worker has looked up.
    tables: HashMap<u64, TableHandle>,
    // Buffers reused from batch to batch.
    translation: Translation,
    rte: Vec<RteRule>,
    shapes: Vec<u64>,
    used_rules: usize,
    stages: Vec<Stage>,
    in_batch: HashSet<u128>,
    results: Vec<Result<D::Rule, DeviceError>>,
    completions: Vec<Completion>,
    doomed: Vec<Doomed<D::Rule>>,
    releases: Vec<Arc<[Resource]>>,
    notes: Vec<(Op, FlowState)>,
    scratch: RteRule,
    megaflow: Megaflow,
}

/// How long to wait for the device's completions before failing the
/// operations still out.
const PULL_TIMEOUT: Duration = Duration::from_secs(5);

impl<D: FlowDevice> Worker<D> {
    pub(crate) fn new(index: usize, shared: Arc<Shared<D>>, rx: Receiver<Msg>) -> Self {
        Self {
            index,
            shared,
            rx,
            slab: Vec::new(),
            free: Vec::new(),
            resource_sets: HashSet::new(),
            conns: HashMap::new(),
            interner: Interner::new(),
            tables: HashMap::new(),
            translation: Translation::default(),
            rte: Vec::new(),
            shapes: Vec::new(),
            used_rules: 0,
            stages: Vec::new(),
            in_batch: HashSet::new(),
            results: Vec::new(),
            completions: Vec::new(),
            doomed: Vec::new(),
            releases: Vec::new(),
            notes: Vec::new(),
            scratch: RteRule::new(),
            megaflow: Megaflow::default(),
        }
    }

    fn queue(&self) -> u32 {
        self.index as u32
    }

    pub(crate) fn run(mut self) {
        let max = self.shared.config.batch;
        let interval = self.shared.config.stats_interval;
        let mut batch: Vec<Msg> = Vec::with_capacity(max);
        let mut next_sweep = interval.map(|i| Instant::now() + i);
        loop {
            let first = match next_sweep {
                Some(at) => match self.rx.recv_deadline(at) {
                    Ok(m) => m,
                    Err(RecvTimeoutError::Timeout) => {
                        self.sweep();
                        next_sweep = interval.map(|i| Instant::now() + i);
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                },
                None => match self.rx.recv() {
                    Ok(m) => m,
                    Err(_) => break,
                },
            };
            batch.push(first);
            while batch.len() < max {
                match self.rx.try_recv() {
                    Ok(m) => batch.push(m),
                    Err(_) => break,
                }
            }
            self.handle(&mut batch);
            if next_sweep.is_some_and(|at| Instant::now() >= at) {
                self.sweep();
                next_sweep = interval.map(|i| Instant::now() + i);
            }
        }
    }

    /// Runs a batch of messages in order.
    fn handle(&mut self, batch: &mut Vec<Msg>) {
        for msg in batch.drain(..) {
            let key = match &msg {
                Msg::Put(k, _) | Msg::Del(k) | Msg::CtAdd(k, _) | Msg::CtDel(k) => Some(*k),
                _ => None,
            };
            match key {
                // A second operation on a key closes the batch first, so
                // the first one is applied before the second is staged.
                Some(k) if self.in_batch.contains(&k) => self.execute(),
                Some(_) => {}
                None => self.execute(),
            }
            match msg {
                Msg::Put(key, flow) => {
                    self.stage_put(key, &flow);
                    // Back to the submitters; dropped when the pool is full.
                    let _ = self.shared.boxes.push(flow);
                }
                Msg::Del(key) => self.stage_remove(key, false),
                Msg::CtAdd(key, conn) => self.stage_conn(key, &conn),
                Msg::CtDel(key) => self.stage_remove(key, true),
                Msg::Barrier { sweep, ack } => {
                    if sweep {
                        self.sweep();
                    }
                    let _ = ack.send(());
                }
                Msg::Dump { ack } => {
                    self.sweep();
                    let _ = ack.send(self.dump());
                }
                Msg::Flush { ack } => {
                    let _ = ack.send(self.flush());
                }
                Msg::Memory { ack } => {
                    let _ = ack.send(self.memory());
                }
            }
        }
        self.execute();
    }

    /// A free rule buffer.
    fn next_rule(&mut self) -> usize {
        if self.used_rules == self.rte.len() {
            self.rte.push(RteRule::new());
            self.shapes.push(0);
        }
        self.used_rules += 1;
        self.used_rules - 1
    }

    fn set_flow(&self, key: u128, state: FlowState, c: Counters, used: u64, slot: u32) {
        let prev = self.shared.flows.get(key, |e| e.state.clone());
        self.shared.recount(false, prev.as_ref(), Some(&state));
        self.shared
            .flows
            .insert(key, Entry::new(state, c, used, slot));
    }

    /// Takes the slot of `key`'s offloaded flow out of the slab. The
    /// caller then replaces or removes the flow's cache entry, which still
    /// names the (now free) slot.
    fn take_slot(&mut self, key: u128) -> Option<Slot<D::Rule>> {
        let at = self.shared.flows.get(key, |e| e.slot)?;
        let slot = self.slab.get_mut(at as usize)?.take()?;
        debug_assert_eq!(slot.key, key);
        self.free.push(at);
        Some(slot)
    }

    fn has_slot(&self, key: u128) -> bool {
        self.shared
            .flows
            .get(key, |e| e.slot != NO_SLOT)
            .unwrap_or(false)
    }

    /// Puts a slot in the slab; returns its index.
    fn put_slot(&mut self, slot: Slot<D::Rule>) -> u32 {
        match self.free.pop() {
            Some(at) => {
                self.slab[at as usize] = Some(slot);
                at
            }
            None => {
                self.slab.push(Some(slot));
                (self.slab.len() - 1) as u32
            }
        }
    }

    /// The shared copy of the last translation's resource list.
    fn intern_resources(&mut self) -> Arc<[Resource]> {
        let list = &self.translation.resources[..];
        if let Some(r) = self.resource_sets.get(list) {
            return r.clone();
        }
        let r: Arc<[Resource]> = Arc::from(list);
        self.resource_sets.insert(r.clone());
        r
    }

    fn set_conn(&self, key: u128, state: FlowState) {
        let prev = self.shared.conns.get(key, |e| e.state.clone());
        self.shared.recount(true, prev.as_ref(), Some(&state));
        let zero = Counters::default();
        self.shared
            .conns
            .insert(key, ConnEntryState::new(state, zero, zero));
    }
}

impl<D: FlowDevice> Worker<D> {
    /// Reads every rule's counters into the cache.
    fn sweep(&mut self) {
        let now = self.shared.now();
        let device = &*self.shared.device;
        for slot in self.slab.iter_mut().flatten() {
            if let Ok(c) = device.query(&slot.rule, false) {
                if c.packets != slot.last.packets {
                    slot.used = now;
                }
                slot.last = c;
                let total = add(slot.base, c);
                self.shared
                    .flows
                    .get(slot.key, |e| e.store(total, slot.used));
            }
        }
        for (key, slot) in self.conns.iter() {
            let (mut orig, mut reply) = (Counters::default(), Counters::default());
            for (i, rule) in slot.rules.iter().enumerate() {
                if let Ok(c) = device.query(rule, false) {
                    let dir = if i % 2 == 0 { &mut orig } else { &mut reply };
                    *dir = add(*dir, c);
                }
            }
            self.shared.conns.get(*key, |e| e.store(orig, reply));
        }
    }

    fn dump(&mut self) -> Vec<(u128, String)> {
        let now = self.shared.now();
        let mut lines = Vec::with_capacity(self.slab.len() - self.free.len());
        for slot in self.slab.iter().flatten() {
            let key = &slot.key;
            // The bytes are our own encoding of a flow that was accepted:
            // they always decode (the engine tests, module stored, try every fixture).
            let loaded = slot.stored.load(&mut self.megaflow);
            debug_assert!(loaded.is_ok(), "{loaded:?}");
            if loaded.is_err() {
                continue;
            }
            let c = add(slot.base, slot.last);
            let stats = FlowStats {
                packets: c.packets,
                bytes: c.bytes,
                used: super::used(slot.used, now),
                ..FlowStats::default()
            };
            let mut line = String::new();
            format_offloaded(&mut line, &key_ufid(*key), &self.megaflow, &stats);
            lines.push((*key, line));
        }
        lines
    }

    /// Removes everything this worker holds, on the device and in the
    /// caches.
    fn flush(&mut self) -> Result<(), DeviceError> {
        let flows: Vec<u128> = self.slab.iter().flatten().map(|s| s.key).collect();
        for key in flows {
            self.apply_remove(key, false);
        }
        let conns: Vec<u128> = self.conns.keys().copied().collect();
        for key in conns {
            self.apply_remove(key, true);
        }
        let mut first = None;
        self.destroy_doomed();
        for (_, state) in self.notes.drain(..) {
            if let Some(e) = state_device_error(&state) {
                first.get_or_insert(e.clone());
            }
        }
        let releases = std::mem::take(&mut self.releases);
        {
            let mut x = self.shared.xlate.lock();
            for r in &releases {
                if let Some(e) = self.release_locked(&mut x, r) {
                    first.get_or_insert(e);
                }
            }
        }
        // Rejected and failed flows of this worker leave the caches too.
        let workers = self.shared.config.workers;
        for cache_is_conn in [false, true] {
            let mut keys = Vec::new();
            let mine = |k: u128| route(k, workers) == self.index;
            if cache_is_conn {
                self.shared
                    .conns
                    .for_each(|k, _| keys.extend(mine(k).then_some(k)));
            } else {
                self.shared
                    .flows
                    .for_each(|k, _| keys.extend(mine(k).then_some(k)));
            }
            for k in keys {
                self.forget(k, cache_is_conn);
            }
        }
        self.tables.clear();
        self.interner.sweep();
        self.resource_sets.retain(|r| Arc::strong_count(r) > 1);
        first.map_or(Ok(()), Err)
    }

    fn memory(&self) -> usize {
        let stored: usize = self
            .slab
            .iter()
            .flatten()
            .map(|s| s.stored.heap_bytes())
            .sum();
        let resource_sets: usize = self
            .resource_sets
            .iter()
            .map(|r| 2 * std::mem::size_of::<usize>() + std::mem::size_of_val(&**r))
            .sum();
        let conn_heap: usize = self
            .conns
            .values()
            .map(|s| std::mem::size_of_val(&*s.resources))
            .sum();
        self.slab.capacity() * std::mem::size_of::<Option<Slot<D::Rule>>>()
            + self.free.capacity() * std::mem::size_of::<u32>()
            + stored
            + self.resource_sets.allocation_size()
            + resource_sets
            + self.conns.allocation_size()
            + conn_heap
            + self.interner.memory_bytes()
    }
}

fn add(a: Counters, b: Counters) -> Counters {
    Counters {
        packets: a.packets + b.packets,
        bytes: a.bytes + b.bytes,
    }
}

/// The device error a failed state carries, if the device was the cause.
fn state_device_error(state: &FlowState) -> Option<&DeviceError> {
    match state {
        FlowState::Failed(f) => f.device(),
        _ => None,
    }
}
