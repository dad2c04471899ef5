//! [`FlowDevice`]: what the offload engine needs from a NIC, with the
//! errors ([`DeviceError`]) and counters ([`Counters`]) every device speaks.
//!
//! Two rooms implement it side by side: `dpdk` (a real port, beside
//! `dpdk::Port`) and `eswitch` (the software model of the NIC). Both take
//! the same [`RteRule`] bytes and report failures as the same
//! [`DeviceError`] (errno, rte_flow error type, message), so the engine
//! cannot tell them apart.
//!
//! This module sits between `rte` and the devices: it imports `rte` (and
//! the raw bindings to name rte_flow's error codes), never `dpdk`,
//! `eswitch` or `engine`.

mod error;

pub use error::{errno_name, DeviceError, FlowError, FlowErrorCause};

use crate::rte::RteRule;

/// Packet and byte counts of a rule's `COUNT` action
/// (`struct rte_flow_query_count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    /// Packets that hit the rule.
    pub packets: u64,
    /// Bytes of those packets.
    pub bytes: u64,
}

/// A template table of the queue-based API, as the device identifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TableHandle(pub u64);

/// The completion of one queued operation (`struct rte_flow_op_result`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The `user_data` the operation was enqueued with.
    pub user_data: u64,
    /// What the device answered.
    pub result: Result<(), DeviceError>,
}

/// A device that installs rte_flow rules.
///
/// Every method takes `&self`: devices serialise what must be serialised
/// (ethdev takes a per-port lock for drivers whose flow ops are not
/// thread-safe), so the engine may call from several worker threads.
pub trait FlowDevice: Send + Sync {
    /// An installed rule. Dropping it removes the rule from the device.
    type Rule: Send + Sync;

    /// A name for reports (`net_tap0`, `eswitch`).
    fn name(&self) -> String;

    /// Whether the device would accept `rule` (`rte_flow_validate`).
    fn validate(&self, rule: &RteRule) -> Result<(), DeviceError>;

    /// Installs `rule` (`rte_flow_create`).
    fn create(&self, rule: &RteRule) -> Result<Self::Rule, DeviceError>;

    /// Removes a rule and reports the device's answer (`rte_flow_destroy`).
    fn destroy(&self, rule: Self::Rule) -> Result<(), DeviceError>;

    /// Reads a rule's `COUNT` action, resetting it when `reset` is set.
    fn query(&self, rule: &Self::Rule, reset: bool) -> Result<Counters, DeviceError>;

    /// Installs several rules, one result per rule in order. Devices with
    /// a queue-based API override this to enqueue them all and push once;
    /// the default creates them one by one.
    fn create_batch(&self, rules: &[&RteRule], out: &mut Vec<Result<Self::Rule, DeviceError>>) {
        out.extend(rules.iter().map(|r| self.create(r)));
    }

    /// Releases the handle of a queued creation whose completion reported
    /// failure (the driver already freed the rule; nothing is destroyed).
    fn forget_failed(&self, rule: Self::Rule) {
        drop(rule);
    }

    /// How many flow queues the device has configured for the
    /// template/async API (`rte_flow_configure`); 0 when it has not, and
    /// then the `async_*` methods refuse.
    fn flow_queues(&self) -> u32 {
        0
    }

    /// Creates a template table for rules shaped like `rule` (its
    /// attributes, item types and masks, action types), holding up to
    /// `capacity` rules: the pattern template, the actions template and
    /// the table, as one handle.
    fn async_table(&self, rule: &RteRule, capacity: u32) -> Result<TableHandle, DeviceError> {
        let _ = (rule, capacity);
        Err(no_queues("rte_flow_template_table_create"))
    }

    /// Destroys a table made by [`async_table`](Self::async_table), with
    /// its templates. The table must be empty.
    fn async_table_destroy(&self, table: TableHandle) -> Result<(), DeviceError> {
        let _ = table;
        Err(no_queues("rte_flow_template_table_destroy"))
    }

    /// Enqueues the creation of `rule` in `table` on `queue`, postponed
    /// until [`push`](Self::push). The handle is valid once the operation
    /// completes successfully; after a failed completion drop it.
    fn async_create(
        &self,
        queue: u32,
        table: TableHandle,
        rule: &RteRule,
        user_data: u64,
    ) -> Result<Self::Rule, DeviceError> {
        let _ = (queue, table, rule, user_data);
        Err(no_queues("rte_flow_async_create"))
    }

    /// Enqueues the removal of `rule` on `queue`, postponed until
    /// [`push`](Self::push).
    fn async_destroy(
        &self,
        queue: u32,
        rule: Self::Rule,
        user_data: u64,
    ) -> Result<(), DeviceError> {
        let _ = (queue, rule, user_data);
        Err(no_queues("rte_flow_async_destroy"))
    }

    /// Executes `queue`'s postponed operations (`rte_flow_push`).
    fn push(&self, queue: u32) -> Result<(), DeviceError> {
        let _ = queue;
        Err(no_queues("rte_flow_push"))
    }

    /// Appends the completions of `queue`'s pushed operations to `out`
    /// (`rte_flow_pull`); returns how many.
    fn pull(&self, queue: u32, out: &mut Vec<Completion>) -> Result<usize, DeviceError> {
        let _ = (queue, out);
        Err(no_queues("rte_flow_pull"))
    }
}

/// What a device without configured flow queues answers to the queue-based
/// calls: `ENOTSUP`, as DPDK does for a port without the template API.
fn no_queues(op: &'static str) -> DeviceError {
    DeviceError::Call {
        op,
        port: None,
        errno: libc::ENOTSUP,
    }
}
