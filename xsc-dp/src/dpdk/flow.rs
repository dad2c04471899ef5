//! rte_flow's synchronous API: validate, create, destroy, query, flush.

use std::fmt;
use std::ptr::NonNull;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::port::{Port, PortShared};
use super::LIVE;
use crate::device::{Counters, DeviceError, FlowDevice, FlowError};
use crate::ffi;
use crate::rte::RteRule;

/// One rule created with `rte_flow_create`, owned: dropping it calls
/// `rte_flow_destroy` (errors on drop are ignored; call
/// [`destroy`](Self::destroy) to see them). It keeps its port open.
pub struct Flow {
    port: Arc<PortShared>,
    raw: NonNull<ffi::rte_flow>,
    /// The port's flush generation at creation: a flush since then already
    /// destroyed the rule.
    generation: u64,
    destroyed: bool,
}

// Safety: an rte_flow handle may be destroyed or queried from any thread;
// ethdev serialises the calls per port (or the driver is thread-safe).
unsafe impl Send for Flow {}
// Safety: as above; &Flow only allows query, which ethdev serialises.
unsafe impl Sync for Flow {}

pub(crate) fn check_sealed(rule: &RteRule) -> Result<(), DeviceError> {
    if rule.is_sealed() {
        Ok(())
    } else {
        Err(DeviceError::InvalidArgument {
            what: "rte_flow rule must be sealed before use".into(),
        })
    }
}

impl Port {
    /// Whether this port's driver has rte_flow at all. DPDK answers every
    /// rte_flow call on a driver without flow ops (no `flow_ops_get`: the
    /// upstream metaScale PMD `net_xsc` up to DPDK 26.07, `net_null`,
    /// `net_ring`) with ENOSYS and no cause — and so it answers a driver
    /// whose flow ops lack `validate`, which cannot take rules either; asked
    /// to validate an empty rule, a driver with flow ops answers anything
    /// else (typically EINVAL). `Err` holds the sentence to show:
    /// `no rte_flow support in driver net_xsc`.
    pub fn flow_support(&self) -> Result<(), String> {
        let mut attr = ffi::rte_flow_attr::default();
        attr.set_ingress(1);
        let end_item = ffi::rte_flow_item {
            type_: ffi::RTE_FLOW_ITEM_TYPE_END,
            ..Default::default()
        };
        let end_action = ffi::rte_flow_action {
            type_: ffi::RTE_FLOW_ACTION_TYPE_END,
            ..Default::default()
        };
        let mut err = ffi::rte_flow_error::default();
        // Safety: attr, a one-entry END pattern and a one-entry END action
        // list, all alive for the call; err is a valid out-pointer.
        let rc =
            unsafe { ffi::rte_flow_validate(self.id(), &attr, &end_item, &end_action, &mut err) };
        if rc == 0 {
            return Ok(());
        }
        let e = FlowError::decode(
            "rte_flow_validate",
            self.id(),
            rc,
            &err,
            std::slice::from_ref(&end_item),
            std::slice::from_ref(&end_action),
        );
        if e.errno == libc::ENOSYS && e.cause == crate::device::FlowErrorCause::Unspecified {
            let driver = self
                .info()
                .map(|i| i.driver)
                .unwrap_or_else(|_| format!("of port {}", self.id()));
            return Err(format!("no rte_flow support in driver {driver}"));
        }
        Ok(())
    }

    /// Asks the driver whether it would accept `rule` (`rte_flow_validate`).
    pub fn validate(&self, rule: &RteRule) -> Result<(), DeviceError> {
        check_sealed(rule)?;
        let mut err = ffi::rte_flow_error::default();
        // Safety: a sealed RteRule holds END-terminated arrays whose pointers
        // point into its own buffers, alive for the call.
        let rc = unsafe {
            ffi::rte_flow_validate(
                self.id(),
                rule.attr(),
                rule.pattern().as_ptr(),
                rule.actions().as_ptr(),
                &mut err,
            )
        };
        if rc != 0 {
            return Err(FlowError::decode(
                "rte_flow_validate",
                self.id(),
                rc,
                &err,
                rule.pattern(),
                rule.actions(),
            )
            .into());
        }
        Ok(())
    }

    /// Installs `rule` (`rte_flow_create`). DPDK copies what it needs; the
    /// rule may be reused as soon as this returns.
    pub fn create(&self, rule: &RteRule) -> Result<Flow, DeviceError> {
        check_sealed(rule)?;
        let generation = self.shared.flow_generation.read();
        let mut err = ffi::rte_flow_error::default();
        // Safety: as in validate.
        let raw = unsafe {
            ffi::rte_flow_create(
                self.id(),
                rule.attr(),
                rule.pattern().as_ptr(),
                rule.actions().as_ptr(),
                &mut err,
            )
        };
        let Some(raw) = NonNull::new(raw) else {
            return Err(FlowError::decode(
                "rte_flow_create",
                self.id(),
                -1,
                &err,
                rule.pattern(),
                rule.actions(),
            )
            .into());
        };
        LIVE.flows.fetch_add(1, Ordering::Relaxed);
        Ok(Flow {
            port: self.shared.clone(),
            raw,
            generation: *generation,
            destroyed: false,
        })
    }

    /// Destroys every rule on the port (`rte_flow_flush`), including ones
    /// other code made. [`Flow`] handles made before become inert: dropping
    /// them does nothing and querying them is an error.
    pub fn flush(&self) -> Result<(), DeviceError> {
        let mut generation = self.shared.flow_generation.write();
        let mut err = ffi::rte_flow_error::default();
        // Safety: err is a valid out-pointer; no flow handle can be used
        // concurrently (we hold the generation lock exclusively).
        let rc = unsafe { ffi::rte_flow_flush(self.id(), &mut err) };
        // Even a failed flush may have destroyed some rules: handles made
        // before it must not touch them again.
        *generation += 1;
        if rc != 0 {
            return Err(FlowError::decode("rte_flow_flush", self.id(), rc, &err, &[], &[]).into());
        }
        Ok(())
    }
}

impl Flow {
    /// The port the rule is on.
    pub fn port_id(&self) -> u16 {
        self.port.id
    }

    /// Reads the rule's `COUNT` action (`rte_flow_query`), resetting the
    /// hardware counter afterwards when `reset` is set. The rule must have
    /// been created with a COUNT action without a shared id.
    pub fn query_count(&self, reset: bool) -> Result<Counters, DeviceError> {
        let generation = self.port.flow_generation.read();
        if *generation != self.generation || self.destroyed {
            return Err(self.flushed_error("rte_flow_query"));
        }
        // Safety: the flow is alive (not destroyed, no flush since creation,
        // which the held read lock keeps true).
        unsafe { query_count_raw(self.port.id, self.raw, reset) }
    }

    /// Removes the rule (`rte_flow_destroy`) and reports the driver's answer.
    pub fn destroy(mut self) -> Result<(), DeviceError> {
        self.destroy_raw()
    }

    /// Destroys the rule once; later calls (from Drop) do nothing.
    fn destroy_raw(&mut self) -> Result<(), DeviceError> {
        if std::mem::replace(&mut self.destroyed, true) {
            return Ok(());
        }
        LIVE.flows.fetch_sub(1, Ordering::Relaxed);
        let generation = self.port.flow_generation.read();
        if *generation != self.generation {
            // Already destroyed by a flush.
            return Ok(());
        }
        let mut err = ffi::rte_flow_error::default();
        // Safety: the rule is alive (generation unchanged under the lock) and
        // this is its only destruction.
        let rc = unsafe { ffi::rte_flow_destroy(self.port.id, self.raw.as_ptr(), &mut err) };
        if rc != 0 {
            return Err(
                FlowError::decode("rte_flow_destroy", self.port.id, rc, &err, &[], &[]).into(),
            );
        }
        Ok(())
    }

    fn flushed_error(&self, op: &'static str) -> DeviceError {
        DeviceError::Flow(FlowError {
            op,
            port: self.port.id,
            errno: libc::ENOENT,
            cause: crate::device::FlowErrorCause::Handle,
            index: None,
            message: "the rule was removed by rte_flow_flush".into(),
        })
    }
}

impl Drop for Flow {
    fn drop(&mut self) {
        let _ = self.destroy_raw();
    }
}

impl fmt::Debug for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Flow")
            .field("port", &self.port.id)
            .field("handle", &self.raw)
            .finish()
    }
}

/// `rte_flow_query` of a rule's `COUNT` action.
///
/// # Safety
///
/// `raw` must be a live rule of port `port` for the whole call.
pub(crate) unsafe fn query_count_raw(
    port: u16,
    raw: NonNull<ffi::rte_flow>,
    reset: bool,
) -> Result<Counters, DeviceError> {
    let action = [
        ffi::rte_flow_action {
            type_: ffi::RTE_FLOW_ACTION_TYPE_COUNT,
            conf: std::ptr::null(),
        },
        ffi::rte_flow_action {
            type_: ffi::RTE_FLOW_ACTION_TYPE_END,
            conf: std::ptr::null(),
        },
    ];
    let mut data = ffi::rte_flow_query_count::default();
    data.set_reset(u32::from(reset));
    let mut err = ffi::rte_flow_error::default();
    // Safety: the caller keeps the rule alive; action and data are valid
    // for the call.
    let rc = unsafe {
        ffi::rte_flow_query(
            port,
            raw.as_ptr(),
            action.as_ptr(),
            (&mut data as *mut ffi::rte_flow_query_count).cast(),
            &mut err,
        )
    };
    if rc != 0 {
        return Err(FlowError::decode("rte_flow_query", port, rc, &err, &[], &action).into());
    }
    Ok(Counters {
        packets: if data.hits_set() != 0 { data.hits } else { 0 },
        bytes: if data.bytes_set() != 0 { data.bytes } else { 0 },
    })
}

/// A real port is a [`FlowDevice`]: the synchronous API, rule by rule
/// (`QueuedPort` adds the template/async API).
impl FlowDevice for Port {
    type Rule = Flow;

    fn name(&self) -> String {
        self.info()
            .map(|i| i.name)
            .unwrap_or_else(|_| format!("port {}", self.id()))
    }

    fn validate(&self, rule: &RteRule) -> Result<(), DeviceError> {
        Port::validate(self, rule)
    }

    fn create(&self, rule: &RteRule) -> Result<Flow, DeviceError> {
        Port::create(self, rule)
    }

    fn destroy(&self, rule: Flow) -> Result<(), DeviceError> {
        rule.destroy()
    }

    fn query(&self, rule: &Flow, reset: bool) -> Result<Counters, DeviceError> {
        rule.query_count(reset)
    }
}
