//! Where a flow or connection stands ([`FlowState`]), the operations that
//! move it ([`Op`], [`OpDone`]) and the engine's tallies ([`Counts`]).
//!
//! Invariant: `Rejected` is the translation's verdict (no hardware form);
//! `Failed` is the engine or the device not managing one that has
//! ([`Failure`]). The two are never mixed.
//!
//! Must not depend on: the workers or the cache.

use std::fmt;
use std::sync::Arc;

use super::Failure;
use crate::odp::Ufid;
use crate::translate::Rejected;

/// Where a flow or connection stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowState {
    /// Taken by a worker; its rules are on their way to the device.
    Pending,
    /// In hardware.
    Offloaded,
    /// Not offloadable; OVS keeps it in software.
    Rejected(Arc<Rejected>),
    /// Offloadable, but the engine or the device did not manage it (the
    /// device was full, the rule did not fit rte_flow, ...); it is in
    /// software.
    Failed(Arc<Failure>),
    /// Deleted (only in [`OpDone`]: the cache forgets deleted flows).
    Removed,
}

impl fmt::Display for FlowState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pending => f.write_str("pending"),
            Self::Offloaded => f.write_str("offloaded"),
            Self::Rejected(r) => write!(f, "rejected: {r}"),
            Self::Failed(e) => write!(f, "failed: {e}"),
            Self::Removed => f.write_str("removed"),
        }
    }
}

/// An operation, as [`OpDone`] names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `put` of this UFID (add or modify).
    Put(Ufid),
    /// `del` of this UFID.
    Del(Ufid),
    /// `ct_add` of the connection with this key ([`conn_key`](super::conn_key)).
    CtAdd(u128),
    /// `ct_del` of the connection with this key.
    CtDel(u128),
}

/// A finished operation and where it left its flow or connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpDone {
    /// The operation.
    pub op: Op,
    /// The outcome.
    pub state: FlowState,
}

/// How many flows and connections are in each state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Flows in hardware.
    pub offloaded: usize,
    /// Flows rejected.
    pub rejected: usize,
    /// Flows that failed ([`FlowState::Failed`]).
    pub failed: usize,
    /// Connections in hardware.
    pub conns_offloaded: usize,
    /// Connections rejected.
    pub conns_rejected: usize,
    /// Connections that failed.
    pub conns_failed: usize,
}
