//! One offload worker: its queue, the rules of the flows and connections
//! routed to it, and the batch pipeline (stage → device → apply → retire).

use std::ops::Range;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam::channel::{Receiver, RecvTimeoutError, Sender};
use hashbrown::{HashMap, HashSet};
use parking_lot::MutexGuard;
use smallvec::SmallVec;

use super::shape::shape_key;
use super::stored::{format_offloaded, Interner, StoredFlow};
use super::{key_ufid, ConnEntryState, Entry, Failure, FlowState, Op, Shared, Xlate, NO_SLOT};
use crate::device::{Completion, FlowDevice, TableHandle};
use crate::dpdk::{Counters, DpdkError};
use crate::odp::{ConnEntry, FlowStats, Megaflow};
use crate::rte::{lower, RteRule};
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
        ack: Sender<Result<(), DpdkError>>,
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
    Push(DpdkError),
    /// `rte_flow_pull` failed, or nothing completed in time.
    Pull(DpdkError),
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
    results: Vec<Result<D::Rule, DpdkError>>,
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

    fn stage_put(&mut self, key: u128, flow: &Megaflow) {
        self.in_batch.insert(key);
        if !self.has_slot(key) {
            self.set_flow(key, FlowState::Pending, Counters::default(), 0, NO_SLOT);
        }
        let stored = match StoredFlow::new(flow, &mut self.interner) {
            Ok(s) => s,
            Err(e) => {
                let failure = Arc::new(Failure::Store(e));
                return self.settle(key, false, FlowState::Failed(failure));
            }
        };
        let shared = self.shared.clone();
        let mut x = shared.xlate.lock();
        let settled = match x.translator.translate_into(flow, &mut self.translation) {
            Err(r) => Some(FlowState::Rejected(Arc::new(r))),
            Ok(()) => self
                .install_fixed(&mut x)
                .err()
                .map(|e| FlowState::Failed(Arc::new(e.into()))),
        };
        if let Some(state) = settled {
            if !self.translation.resources.is_empty() {
                self.release_locked(&mut x, &self.translation.resources.clone());
            }
            return self.settle(key, false, state);
        }
        drop(x);
        let resources = self.intern_resources();
        let i = self.next_rule();
        if let Err(e) = lower(&self.translation.rule, &mut self.rte[i]) {
            self.used_rules -= 1;
            self.release(&resources);
            let failure = Arc::new(Failure::Lower(e));
            return self.settle(key, false, FlowState::Failed(failure));
        }
        if self.shared.asynchronous {
            self.shapes[i] = shape_key(&self.translation.rule);
        }
        self.stages.push(Stage::Flow {
            key,
            stored: Some(stored),
            resources,
            rules: i..i + 1,
            settled: None,
        });
    }

    fn stage_conn(&mut self, key: u128, conn: &ConnEntry) {
        self.in_batch.insert(key);
        if !self.conns.contains_key(&key) {
            self.set_conn(key, FlowState::Pending);
        }
        let shared = self.shared.clone();
        let mut x = shared.xlate.lock();
        let t = match x.translator.translate_conn(conn) {
            Ok(t) => t,
            Err(r) => return self.settle(key, true, FlowState::Rejected(Arc::new(r))),
        };
        self.translation.new_resources = t.new_resources.clone();
        if let Err(e) = self.install_fixed(&mut x) {
            self.release_locked(&mut x, &t.resources);
            return self.settle(key, true, FlowState::Failed(Arc::new(e.into())));
        }
        drop(x);
        let resources: Arc<[Resource]> = t.resources.iter().cloned().collect();
        let start = self.used_rules;
        for rule in &t.rules {
            let i = self.next_rule();
            if let Err(e) = lower(rule, &mut self.rte[i]) {
                self.used_rules = start;
                self.release(&resources);
                let failure = Arc::new(Failure::Lower(e));
                return self.settle(key, true, FlowState::Failed(failure));
            }
            if self.shared.asynchronous {
                self.shapes[i] = shape_key(rule);
            }
        }
        self.stages.push(Stage::Conn {
            key,
            resources,
            rules: start..self.used_rules,
            settled: None,
        });
    }

    /// Stages an operation whose outcome is known before the device: no
    /// rule, nothing taken.
    fn settle(&mut self, key: u128, conn: bool, state: FlowState) {
        let (resources, rules, settled) = (Arc::from([]), 0..0, Some(state));
        self.stages.push(if conn {
            Stage::Conn {
                key,
                resources,
                rules,
                settled,
            }
        } else {
            Stage::Flow {
                key,
                stored: None,
                resources,
                rules,
                settled,
            }
        });
    }

    fn stage_remove(&mut self, key: u128, conn: bool) {
        self.in_batch.insert(key);
        self.stages.push(Stage::Remove { key, conn });
    }

    /// Installs the fixed rules of the resources the last translation was
    /// the first user of (`self.translation.new_resources`). On failure the
    /// rules of that resource are gone and the resources before it keep
    /// theirs; the caller releases the translation's references.
    fn install_fixed(&mut self, x: &mut MutexGuard<'_, Xlate<D::Rule>>) -> Result<(), DpdkError> {
        let device = &*self.shared.device;
        for r in &self.translation.new_resources {
            let mut installed: SmallVec<[D::Rule; 2]> = SmallVec::new();
            for hw in x.translator.fixed_rules(r) {
                let made = lower(&hw, &mut self.scratch)
                    .map_err(|e| DpdkError::InvalidArgument {
                        what: format!("fixed rule of {r:?}: {e}"),
                    })
                    .and_then(|()| device.create(&self.scratch));
                match made {
                    Ok(rule) => installed.push(rule),
                    Err(e) => {
                        for rule in installed {
                            let _ = device.destroy(rule);
                        }
                        return Err(e);
                    }
                }
            }
            self.shared
                .live_rules
                .fetch_add(installed.len(), Ordering::Relaxed);
            x.fixed.insert(r.clone(), installed);
        }
        Ok(())
    }

    /// Drops references; destroys the fixed rules of the resources whose
    /// last user this was. Returns the first device error.
    fn release_locked(
        &self,
        x: &mut MutexGuard<'_, Xlate<D::Rule>>,
        resources: &[Resource],
    ) -> Option<DpdkError> {
        let mut first = None;
        for gone in x.translator.release(resources) {
            for rule in x.fixed.remove(&gone).into_iter().flatten() {
                self.shared.live_rules.fetch_sub(1, Ordering::Relaxed);
                if let Err(e) = self.shared.device.destroy(rule) {
                    first.get_or_insert(e);
                }
            }
        }
        first
    }

    fn release(&self, resources: &[Resource]) -> Option<DpdkError> {
        if resources.is_empty() {
            return None;
        }
        let mut x = self.shared.xlate.lock();
        self.release_locked(&mut x, resources)
    }

    /// Sends the staged rules to the device, applies the outcomes in
    /// order, then destroys what they replaced or removed.
    fn execute(&mut self) {
        if self.stages.is_empty() {
            return;
        }
        self.create_all();
        let mut results: Vec<Option<Result<D::Rule, DpdkError>>> =
            self.results.drain(..).map(Some).collect();
        let stages = std::mem::take(&mut self.stages);
        for stage in stages {
            match stage {
                Stage::Flow {
                    key,
                    stored,
                    resources,
                    rules,
                    settled,
                } => {
                    let made = rules.clone().next().and_then(|i| results[i].take());
                    self.apply_flow(key, stored, resources, made, settled);
                }
                Stage::Conn {
                    key,
                    resources,
                    rules,
                    settled,
                } => {
                    let made: SmallVec<[_; 4]> = rules.filter_map(|i| results[i].take()).collect();
                    self.apply_conn(key, resources, made, settled);
                }
                Stage::Remove { key, conn } => self.apply_remove(key, conn),
            }
        }
        self.used_rules = 0;
        self.in_batch.clear();
        self.destroy_doomed();
        let releases = std::mem::take(&mut self.releases);
        if !releases.is_empty() {
            let mut x = self.shared.xlate.lock();
            for r in &releases {
                self.release_locked(&mut x, r);
            }
        }
        self.releases = releases;
        self.releases.clear();
        for (op, state) in self.notes.drain(..) {
            self.shared.notify(op, &state);
        }
    }

    fn apply_flow(
        &mut self,
        key: u128,
        stored: Option<StoredFlow>,
        resources: Arc<[Resource]>,
        made: Option<Result<D::Rule, DpdkError>>,
        settled: Option<FlowState>,
    ) {
        let old = self.take_slot(key);
        let (mut base, mut used, mut at) = (Counters::default(), 0, NO_SLOT);
        if let Some(old) = old {
            // Make-before-break: the old rule goes after the new one is in
            // (or after the flow is settled in software), with its counts.
            let c = self
                .shared
                .device
                .query(&old.rule, false)
                .unwrap_or(old.last);
            base = add(old.base, c);
            used = old.used;
            self.retire(old.rule, old.resources, None);
        }
        let state = match (made, stored, settled) {
            (Some(Ok(rule)), Some(stored), None) => {
                self.shared.live_rules.fetch_add(1, Ordering::Relaxed);
                at = self.put_slot(Slot {
                    key,
                    rule,
                    resources,
                    base,
                    last: Counters::default(),
                    used,
                    stored,
                });
                FlowState::Offloaded
            }
            (made, _, settled) => {
                let error = match made {
                    Some(Ok(rule)) => {
                        // Only a complete stage has a rule made; keep the
                        // books straight regardless.
                        self.shared.live_rules.fetch_add(1, Ordering::Relaxed);
                        self.retire_rule(rule);
                        None
                    }
                    Some(Err(e)) => Some(e),
                    None => None,
                };
                self.releases.push(resources);
                match (settled, error) {
                    (Some(s), _) => s,
                    (None, Some(e)) => FlowState::Failed(Arc::new(e.into())),
                    (None, None) => FlowState::Failed(Arc::new(
                        DpdkError::InvalidArgument {
                            what: "no rule was made for the flow".into(),
                        }
                        .into(),
                    )),
                }
            }
        };
        self.set_flow(key, state.clone(), base, used, at);
        self.notes.push((Op::Put(key_ufid(key)), state));
    }

    fn apply_conn(
        &mut self,
        key: u128,
        resources: Arc<[Resource]>,
        made: SmallVec<[Result<D::Rule, DpdkError>; 4]>,
        settled: Option<FlowState>,
    ) {
        if let Some(old) = self.conns.remove(&key) {
            for rule in old.rules {
                self.retire_rule(rule);
            }
            self.releases.push(old.resources);
        }
        let state = match settled {
            Some(s) => {
                self.releases.push(resources);
                s
            }
            None if !made.is_empty() && made.iter().all(Result::is_ok) => {
                let rules: SmallVec<[D::Rule; 4]> = made.into_iter().flatten().collect();
                self.shared
                    .live_rules
                    .fetch_add(rules.len(), Ordering::Relaxed);
                self.conns.insert(key, ConnSlot { rules, resources });
                FlowState::Offloaded
            }
            None => {
                let mut error = None;
                for r in made {
                    match r {
                        Ok(rule) => {
                            self.shared.live_rules.fetch_add(1, Ordering::Relaxed);
                            self.retire_rule(rule);
                        }
                        Err(e) => {
                            error.get_or_insert(e);
                        }
                    }
                }
                self.releases.push(resources);
                FlowState::Failed(Arc::new(
                    error
                        .unwrap_or(DpdkError::InvalidArgument {
                            what: "no rule was made for the connection".into(),
                        })
                        .into(),
                ))
            }
        };
        self.set_conn(key, state.clone());
        self.notes.push((Op::CtAdd(key), state));
    }

    fn apply_remove(&mut self, key: u128, conn: bool) {
        let note = self.notes.len();
        if conn {
            if let Some(old) = self.conns.remove(&key) {
                for rule in old.rules {
                    self.doomed.push(Doomed {
                        rule,
                        note: Some(note),
                    });
                }
                self.releases.push(old.resources);
            }
            self.forget(key, true);
            self.notes.push((Op::CtDel(key), FlowState::Removed));
        } else {
            if let Some(old) = self.take_slot(key) {
                self.retire(old.rule, old.resources, Some(note));
            }
            self.forget(key, false);
            self.notes
                .push((Op::Del(key_ufid(key)), FlowState::Removed));
        }
    }

    /// Drops a flow's (`conn`: a connection's) cache entry and its count.
    fn forget(&self, key: u128, conn: bool) {
        let prev = if conn {
            self.shared.conns.get(key, |e| e.state.clone())
        } else {
            self.shared.flows.get(key, |e| e.state.clone())
        };
        self.shared.recount(conn, prev.as_ref(), None);
        if conn {
            self.shared.conns.remove(key);
        } else {
            self.shared.flows.remove(key);
        }
    }

    fn retire(&mut self, rule: D::Rule, resources: Arc<[Resource]>, note: Option<usize>) {
        self.doomed.push(Doomed { rule, note });
        self.releases.push(resources);
    }

    fn retire_rule(&mut self, rule: D::Rule) {
        self.doomed.push(Doomed { rule, note: None });
    }

    /// The template table for rule `i` (async mode), made on first use.
    fn table(&mut self, i: usize) -> Result<TableHandle, DpdkError> {
        let shape = self.shapes[i];
        if let Some(t) = self.tables.get(&shape) {
            return Ok(*t);
        }
        let mut shared = self.shared.tables.lock();
        let t = match shared.get(&shape) {
            Some(t) => *t,
            None => {
                let t = self
                    .shared
                    .device
                    .async_table(&self.rte[i], self.shared.table_capacity)?;
                shared.insert(shape, t);
                t
            }
        };
        self.tables.insert(shape, t);
        Ok(t)
    }

    /// Creates rules `0..used_rules` into `self.results`, in order.
    fn create_all(&mut self) {
        self.results.clear();
        let n = self.used_rules;
        if n == 0 {
            return;
        }
        let device = self.shared.device.clone();
        if !self.shared.asynchronous {
            let rules: SmallVec<[&RteRule; 64]> = self.rte[..n].iter().collect();
            device.create_batch(&rules, &mut self.results);
            return;
        }
        let mut out = 0usize;
        for i in 0..n {
            let made = self.table(i).and_then(|t| {
                let r = device.async_create(self.queue(), t, &self.rte[i], i as u64);
                match r {
                    Err(e) if e.errno() == Some(libc::EAGAIN) => {
                        // The device queue is full: let it drain, then retry.
                        self.drain(&mut out);
                        device.async_create(self.queue(), t, &self.rte[i], i as u64)
                    }
                    r => r,
                }
            });
            if made.is_ok() {
                out += 1;
            }
            self.results.push(made);
        }
        self.drain(&mut out);
    }

    /// Pushes the queue and pulls until the `out` operations enqueued have
    /// completed (`out` is then 0), leaving every completion in
    /// `self.completions`. A failed push, a failed pull or no completion
    /// for [`PULL_TIMEOUT`] stops early: the operations still out will not
    /// be reported.
    fn complete(&mut self, out: &mut usize) -> Result<(), Stall> {
        self.completions.clear();
        let queued = std::mem::take(out);
        if queued == 0 {
            return Ok(());
        }
        let device = self.shared.device.clone();
        device.push(self.queue()).map_err(Stall::Push)?;
        let deadline = Instant::now() + PULL_TIMEOUT;
        while self.completions.len() < queued {
            match device.pull(self.queue(), &mut self.completions) {
                Ok(0) if Instant::now() >= deadline => {
                    return Err(Stall::Pull(DpdkError::Call {
                        op: "rte_flow_pull",
                        port: None,
                        errno: libc::ETIMEDOUT,
                    }))
                }
                Ok(0) => std::thread::yield_now(),
                Ok(_) => {}
                Err(e) => return Err(Stall::Pull(e)),
            }
        }
        Ok(())
    }

    /// Completes the creations enqueued: a failed one replaces its result
    /// with the error; when the queue stalls, every creation not yet
    /// completed fails with the stall's error.
    fn drain(&mut self, out: &mut usize) {
        let stalled = self.complete(out);
        let device = self.shared.device.clone();
        let mut done = std::mem::take(&mut self.completions);
        for c in done.drain(..) {
            if let Err(e) = c.result {
                if let Some(slot) = self.results.get_mut(c.user_data as usize) {
                    if let Ok(rule) = std::mem::replace(slot, Err(e)) {
                        device.forget_failed(rule);
                    }
                }
            }
        }
        self.completions = done;
        if let Err(Stall::Push(e) | Stall::Pull(e)) = stalled {
            self.fail_outstanding(&e);
        }
    }

    /// Marks every creation still waiting for its completion as failed.
    /// Their handles are dropped, which removes whatever the device made.
    fn fail_outstanding(&mut self, e: &DpdkError) {
        for r in self.results.iter_mut() {
            if r.is_ok() {
                *r = Err(e.clone());
            }
        }
    }

    /// Destroys the rules retired by this batch; a failed destruction of a
    /// deleted flow is its operation's outcome.
    fn destroy_doomed(&mut self) {
        if self.doomed.is_empty() {
            return;
        }
        let device = self.shared.device.clone();
        let doomed = std::mem::take(&mut self.doomed);
        let n = doomed.len();
        self.shared.live_rules.fetch_sub(n, Ordering::Relaxed);
        if !self.shared.asynchronous {
            for d in doomed {
                if let Err(e) = device.destroy(d.rule) {
                    self.fail_note(d.note, e);
                }
            }
            return;
        }
        let notes: Vec<Option<usize>> = doomed.iter().map(|d| d.note).collect();
        let mut out = 0usize;
        for (i, d) in doomed.into_iter().enumerate() {
            match device.async_destroy(self.queue(), d.rule, i as u64) {
                Ok(()) => out += 1,
                // The device queue is full (it is smaller than the batch):
                // the refused handle was dropped, which removed its rule
                // at once; make room for the next ones.
                Err(e) if e.errno() == Some(libc::EAGAIN) => self.drain_destroys(&mut out, &notes),
                Err(e) => self.fail_note(d.note, e),
            }
            if out >= self.shared.config.batch {
                self.drain_destroys(&mut out, &notes);
            }
        }
        self.drain_destroys(&mut out, &notes);
    }

    /// Completes the destructions enqueued: a failed one (or all of them,
    /// when the push fails) is its operation's outcome.
    fn drain_destroys(&mut self, out: &mut usize, notes: &[Option<usize>]) {
        let stalled = self.complete(out);
        let mut done = std::mem::take(&mut self.completions);
        for c in done.drain(..) {
            if let Err(e) = c.result {
                let note = notes.get(c.user_data as usize).copied().flatten();
                self.fail_note(note, e);
            }
        }
        self.completions = done;
        if let Err(Stall::Push(e)) = stalled {
            for n in notes {
                self.fail_note(*n, e.clone());
            }
        }
    }

    fn fail_note(&mut self, note: Option<usize>, e: DpdkError) {
        if let Some((_, state)) = note.and_then(|i| self.notes.get_mut(i)) {
            *state = FlowState::Failed(Arc::new(e.into()));
        }
    }

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
            // they always decode (engine_stored tests every fixture).
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
    fn flush(&mut self) -> Result<(), DpdkError> {
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
fn state_device_error(state: &FlowState) -> Option<&DpdkError> {
    match state {
        FlowState::Failed(f) => f.device(),
        _ => None,
    }
}
