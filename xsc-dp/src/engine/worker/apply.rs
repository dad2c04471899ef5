//! Executing a batch and applying its outcomes in submission order: a
//! flow's new rule replaces its old one (made before broken, counters
//! carried over), a connection's rules likewise, a removal forgets the
//! flow; what is replaced or removed is retired for destruction.
//!
//! Must not depend on: how rules reach the device (`device`) beyond
//! `create_all` and `destroy_doomed`.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use smallvec::SmallVec;

use super::super::stored::StoredFlow;
use super::super::{key_ufid, FlowState, Op, NO_SLOT};
use super::{add, ConnSlot, Doomed, Slot, Stage, Worker};
use crate::device::FlowDevice;
use crate::device::{Counters, DeviceError};
use crate::translate::Resource;

impl<D: FlowDevice> Worker<D> {
    /// Sends the staged rules to the device, applies the outcomes in
    /// order, then destroys what they replaced or removed.
    pub(super) fn execute(&mut self) {
        if self.stages.is_empty() {
            return;
        }
        self.create_all();
        let mut results: Vec<Option<Result<D::Rule, DeviceError>>> =
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

    pub(super) fn apply_flow(
        &mut self,
        key: u128,
        stored: Option<StoredFlow>,
        resources: Arc<[Resource]>,
        made: Option<Result<D::Rule, DeviceError>>,
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
                        DeviceError::InvalidArgument {
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

    pub(super) fn apply_conn(
        &mut self,
        key: u128,
        resources: Arc<[Resource]>,
        made: SmallVec<[Result<D::Rule, DeviceError>; 4]>,
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
                        .unwrap_or(DeviceError::InvalidArgument {
                            what: "no rule was made for the connection".into(),
                        })
                        .into(),
                ))
            }
        };
        self.set_conn(key, state.clone());
        self.notes.push((Op::CtAdd(key), state));
    }

    pub(super) fn apply_remove(&mut self, key: u128, conn: bool) {
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
    pub(super) fn forget(&self, key: u128, conn: bool) {
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

    pub(super) fn retire(
        &mut self,
        rule: D::Rule,
        resources: Arc<[Resource]>,
        note: Option<usize>,
    ) {
        self.doomed.push(Doomed { rule, note });
        self.releases.push(resources);
    }

    pub(super) fn retire_rule(&mut self, rule: D::Rule) {
        self.doomed.push(Doomed { rule, note: None });
    }
}
