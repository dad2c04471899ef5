//! The safe DPDK layer: EAL, ethdev ports, mbufs, and rte_flow (the
//! synchronous API and the template/async API).
//!
//! Every DPDK object is an owned handle whose `Drop` releases it, and every
//! handle keeps alive what it belongs to: a [`Flow`] its port, a port its
//! [`Eal`]. So no handle outlives its port or EAL, and `rte_eal_cleanup`
//! runs only after everything else is gone.
//!
//! All `unsafe` in the crate that touches DPDK lives in this module and in
//! `rte`, each block with the reason it is sound.
//!
//! [`live_handles`] counts the handles alive in the process, so tests can
//! prove that error paths leak nothing.

#![deny(missing_docs)]

mod conv;
mod eal;
mod error;
mod flow;
mod mbuf;
mod port;
mod probe;
mod queued;
mod template;

use std::sync::atomic::{AtomicIsize, Ordering};

pub use conv::{deep_copy, RuleCopy};
pub use eal::{Eal, NO_HUGE_ARGS};
pub use flow::Flow;
pub use mbuf::{Mbuf, Mempool};
pub use port::{port_ids, Port, PortConfig, PortInfo, SwitchInfo};
pub use probe::probe;
pub use queued::{PortRule, QueuedPort};
pub use template::{
    ActionsTemplate, AsyncFlow, FlowPortInfo, FlowQueue, FlowQueues, FlowQueuesConfig, OpResult,
    PatternTemplate, TemplateTable,
};

/// Live handle counts, process-wide.
pub(crate) struct Live {
    pub(crate) eal: AtomicIsize,
    pub(crate) ports: AtomicIsize,
    pub(crate) mempools: AtomicIsize,
    pub(crate) mbufs: AtomicIsize,
    pub(crate) flows: AtomicIsize,
    pub(crate) templates: AtomicIsize,
    pub(crate) tables: AtomicIsize,
}

pub(crate) static LIVE: Live = Live {
    eal: AtomicIsize::new(0),
    ports: AtomicIsize::new(0),
    mempools: AtomicIsize::new(0),
    mbufs: AtomicIsize::new(0),
    flows: AtomicIsize::new(0),
    templates: AtomicIsize::new(0),
    tables: AtomicIsize::new(0),
};

/// How many DPDK handles of each kind this process holds right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LiveHandles {
    /// `Eal` (0 or 1).
    pub eal: isize,
    /// Owned ports.
    pub ports: isize,
    /// Mempools.
    pub mempools: isize,
    /// Mbufs owned by Rust code.
    pub mbufs: isize,
    /// Rules (sync [`Flow`]s and [`AsyncFlow`]s).
    pub flows: isize,
    /// Pattern and actions templates.
    pub templates: isize,
    /// Template tables.
    pub tables: isize,
}

/// Reads the live handle counters.
pub fn live_handles() -> LiveHandles {
    let get = |a: &AtomicIsize| a.load(Ordering::Relaxed);
    LiveHandles {
        eal: get(&LIVE.eal),
        ports: get(&LIVE.ports),
        mempools: get(&LIVE.mempools),
        mbufs: get(&LIVE.mbufs),
        flows: get(&LIVE.flows),
        templates: get(&LIVE.templates),
        tables: get(&LIVE.tables),
    }
}
