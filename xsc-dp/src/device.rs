//! [`FlowDevice`]: what the offload engine needs from a NIC, implemented by
//! a real DPDK port ([`crate::dpdk::Port`]) and by the software model of the
//! NIC (`eswitch`). Both take the same [`RteRule`] bytes and report failures
//! as the same [`DpdkError`] (errno, rte_flow error type, message), so the
//! engine cannot tell them apart.

use crate::dpdk::{Counters, DpdkError, Flow, Port};
use crate::rte::RteRule;

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
    fn validate(&self, rule: &RteRule) -> Result<(), DpdkError>;

    /// Installs `rule` (`rte_flow_create`).
    fn create(&self, rule: &RteRule) -> Result<Self::Rule, DpdkError>;

    /// Removes a rule and reports the device's answer (`rte_flow_destroy`).
    fn destroy(&self, rule: Self::Rule) -> Result<(), DpdkError>;

    /// Reads a rule's `COUNT` action, resetting it when `reset` is set.
    fn query(&self, rule: &Self::Rule, reset: bool) -> Result<Counters, DpdkError>;

    /// Installs several rules, one result per rule in order. Devices with
    /// a queue-based API override this to enqueue them all and push once;
    /// the default creates them one by one.
    fn create_batch(&self, rules: &[&RteRule], out: &mut Vec<Result<Self::Rule, DpdkError>>) {
        out.extend(rules.iter().map(|r| self.create(r)));
    }
}

impl FlowDevice for Port {
    type Rule = Flow;

    fn name(&self) -> String {
        self.info()
            .map(|i| i.name)
            .unwrap_or_else(|_| format!("port {}", self.id()))
    }

    fn validate(&self, rule: &RteRule) -> Result<(), DpdkError> {
        Port::validate(self, rule)
    }

    fn create(&self, rule: &RteRule) -> Result<Flow, DpdkError> {
        Port::create(self, rule)
    }

    fn destroy(&self, rule: Flow) -> Result<(), DpdkError> {
        rule.destroy()
    }

    fn query(&self, rule: &Flow, reset: bool) -> Result<Counters, DpdkError> {
        rule.query_count(reset)
    }
}
