//! The worker's side of the device: template tables by rule shape,
//! creating a batch's rules (`create_batch`, or async creates with one
//! push per batch), pulling completions, and destroying retired rules.
//!
//! Invariants: every created rule's result lands in `results` at its
//! index; a stalled push or pull fails the operations still out, never
//! leaves them pending.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use super::super::FlowState;
use smallvec::SmallVec;

use super::{Stall, Worker, PULL_TIMEOUT};
use crate::device::DeviceError;
use crate::device::{FlowDevice, TableHandle};
use crate::rte::RteRule;

impl<D: FlowDevice> Worker<D> {
    /// The template table for rule `i` (async mode), made on first use.
    pub(super) fn table(&mut self, i: usize) -> Result<TableHandle, DeviceError> {
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
    pub(super) fn create_all(&mut self) {
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
    pub(super) fn complete(&mut self, out: &mut usize) -> Result<(), Stall> {
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
                    return Err(Stall::Pull(DeviceError::Call {
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
    pub(super) fn drain(&mut self, out: &mut usize) {
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
    pub(super) fn fail_outstanding(&mut self, e: &DeviceError) {
        for r in self.results.iter_mut() {
            if r.is_ok() {
                *r = Err(e.clone());
            }
        }
    }

    /// Destroys the rules retired by this batch; a failed destruction of a
    /// deleted flow is its operation's outcome.
    pub(super) fn destroy_doomed(&mut self) {
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
    pub(super) fn drain_destroys(&mut self, out: &mut usize, notes: &[Option<usize>]) {
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

    pub(super) fn fail_note(&mut self, note: Option<usize>, e: DeviceError) {
        if let Some((_, state)) = note.and_then(|i| self.notes.get_mut(i)) {
            *state = FlowState::Failed(Arc::new(e.into()));
        }
    }
}
