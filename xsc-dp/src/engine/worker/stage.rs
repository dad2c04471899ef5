//! Staging a batch: each put or ct_add is translated (under the shared
//! translator's lock, with the fixed rules of new shared resources
//! installed before it is released) and lowered into the worker's rule
//! buffers; an operation whose outcome is known before the device (a
//! rejection, a failure) is settled with no rule and nothing taken.
//!
//! Must not depend on: the device calls (`device`) or the outcome side
//! (`apply`); staging only fills `stages` and the rule buffers.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use parking_lot::MutexGuard;
use smallvec::SmallVec;

use super::super::shape::shape_key;
use super::super::stored::StoredFlow;
use super::super::{Failure, FlowState, Xlate, NO_SLOT};
use super::{Stage, Worker};
use crate::device::FlowDevice;
use crate::device::{Counters, DeviceError};
use crate::odp::{ConnEntry, Megaflow};
use crate::rte::lower;
use crate::translate::Resource;

impl<D: FlowDevice> Worker<D> {
    pub(super) fn stage_put(&mut self, key: u128, flow: &Megaflow) {
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

    pub(super) fn stage_conn(&mut self, key: u128, conn: &ConnEntry) {
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
    pub(super) fn settle(&mut self, key: u128, conn: bool, state: FlowState) {
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

    pub(super) fn stage_remove(&mut self, key: u128, conn: bool) {
        self.in_batch.insert(key);
        self.stages.push(Stage::Remove { key, conn });
    }

    /// Installs the fixed rules of the resources the last translation was
    /// the first user of (`self.translation.new_resources`). On failure the
    /// rules of that resource are gone and the resources before it keep
    /// theirs; the caller releases the translation's references.
    pub(super) fn install_fixed(
        &mut self,
        x: &mut MutexGuard<'_, Xlate<D::Rule>>,
    ) -> Result<(), DeviceError> {
        let device = &*self.shared.device;
        for r in &self.translation.new_resources {
            let mut installed: SmallVec<[D::Rule; 2]> = SmallVec::new();
            for hw in x.translator.fixed_rules(r) {
                let made = lower(&hw, &mut self.scratch)
                    .map_err(|e| DeviceError::InvalidArgument {
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
    pub(super) fn release_locked(
        &self,
        x: &mut MutexGuard<'_, Xlate<D::Rule>>,
        resources: &[Resource],
    ) -> Option<DeviceError> {
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

    pub(super) fn release(&self, resources: &[Resource]) -> Option<DeviceError> {
        if resources.is_empty() {
            return None;
        }
        let mut x = self.shared.xlate.lock();
        self.release_locked(&mut x, resources)
    }
}
