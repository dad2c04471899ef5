//! [`QueuedPort`]: a DPDK port with its template/async engine configured,
//! as one [`FlowDevice`] — the form the offload engine drives on NICs whose
//! driver has the template API. Synchronous calls still go to
//! `rte_flow_create` (the engine uses them for the few fixed rules); the
//! queued ones go to one [`FlowQueue`] per engine worker.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use hashbrown::HashMap;
use parking_lot::Mutex;

use super::template::{
    AsyncFlow, FlowQueue, FlowQueues, FlowQueuesConfig, OpResult, TemplateTable,
};
use super::{Flow, Port};
use crate::device::{Completion, Counters, DeviceError, FlowDevice, TableHandle};
use crate::ffi;
use crate::rte::RteRule;

/// A rule of a [`QueuedPort`].
#[derive(Debug)]
pub enum PortRule {
    /// Made with `rte_flow_create`.
    Sync(Flow),
    /// Made through a flow queue.
    Queued(AsyncFlow),
}

/// A port with configured flow queues, usable from as many threads as it
/// has queues (queue `i` by one thread at a time: the engine's worker `i`).
pub struct QueuedPort {
    port: Port,
    queues: FlowQueues,
    queue: Vec<Mutex<Queue>>,
    tables: Mutex<HashMap<u64, TemplateTable>>,
    next_table: AtomicU64,
}

/// A flow queue and its completion buffer.
struct Queue {
    queue: FlowQueue,
    results: Vec<OpResult>,
}

impl fmt::Debug for QueuedPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueuedPort")
            .field("port", &self.port.id())
            .field("queues", &self.queue.len())
            .finish()
    }
}

impl QueuedPort {
    /// Configures `port`'s template/async engine (`rte_flow_info_get`,
    /// `rte_flow_configure`: the port must be configured and stopped) and
    /// takes all its queues. Fails with the driver's error on ports without
    /// the engine (net_null, net_tap, ...).
    pub fn new(mut port: Port, config: FlowQueuesConfig) -> Result<Self, DeviceError> {
        let queues = port.configure_flow_queues(config)?;
        let queue = (0..config.queues)
            .map(|i| {
                queues.take_queue(i).map(|queue| {
                    Mutex::new(Queue {
                        queue,
                        results: Vec::new(),
                    })
                })
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| DeviceError::InvalidArgument {
                what: "a flow queue was already taken".into(),
            })?;
        Ok(Self {
            port,
            queues,
            queue,
            tables: Mutex::new(HashMap::new()),
            next_table: AtomicU64::new(1),
        })
    }

    /// The port.
    pub fn port(&self) -> &Port {
        &self.port
    }

    fn queue(&self, q: u32) -> Result<&Mutex<Queue>, DeviceError> {
        self.queue
            .get(q as usize)
            .ok_or_else(|| DeviceError::InvalidArgument {
                what: format!("no flow queue {q} (the port has {})", self.queue.len()),
            })
    }
}

/// `rule` with the same actions but no conf: an actions-template mask that
/// leaves every value to the rule (jump groups, marks, tags differ per rule).
fn per_rule_masks(rule: &RteRule) -> RteRule {
    // DPDK takes the template's direction from the actions list's rule,
    // not from the masks.
    let mut masks = RteRule::new();
    for a in rule.actions() {
        if a.type_ == ffi::RTE_FLOW_ACTION_TYPE_END {
            break;
        }
        // Safety: an action without conf is valid for every type in a mask
        // list: DPDK reads a NULL mask conf as "not fixed".
        unsafe { masks.push_action_at(a.type_, None) };
    }
    masks.seal();
    masks
}

impl FlowDevice for QueuedPort {
    type Rule = PortRule;

    fn name(&self) -> String {
        format!("{} (flow queues)", FlowDevice::name(&self.port))
    }

    fn validate(&self, rule: &RteRule) -> Result<(), DeviceError> {
        self.port.validate(rule)
    }

    fn create(&self, rule: &RteRule) -> Result<PortRule, DeviceError> {
        self.port.create(rule).map(PortRule::Sync)
    }

    fn destroy(&self, rule: PortRule) -> Result<(), DeviceError> {
        match rule {
            PortRule::Sync(f) => f.destroy(),
            // A queued rule removed outside its queue: the handle's drop
            // destroys it synchronously.
            PortRule::Queued(f) => {
                drop(f);
                Ok(())
            }
        }
    }

    fn query(&self, rule: &PortRule, reset: bool) -> Result<Counters, DeviceError> {
        match rule {
            PortRule::Sync(f) => f.query_count(reset),
            PortRule::Queued(f) => f.query_count(reset),
        }
    }

    fn forget_failed(&self, rule: PortRule) {
        match rule {
            PortRule::Queued(f) => f.forget_failed(),
            PortRule::Sync(f) => drop(f),
        }
    }

    fn flow_queues(&self) -> u32 {
        self.queue.len() as u32
    }

    fn async_table(&self, rule: &RteRule, capacity: u32) -> Result<TableHandle, DeviceError> {
        let pattern = self.queues.pattern_template(rule, false)?;
        let actions = self.queues.actions_template(rule, &per_rule_masks(rule))?;
        let table = self
            .queues
            .template_table(rule.attr(), capacity, &[&pattern], &[&actions])?;
        let id = self.next_table.fetch_add(1, Ordering::Relaxed);
        self.tables.lock().insert(id, table);
        Ok(TableHandle(id))
    }

    fn async_table_destroy(&self, table: TableHandle) -> Result<(), DeviceError> {
        // The table (and its templates) are destroyed when its last rule
        // handle is gone too.
        self.tables
            .lock()
            .remove(&table.0)
            .map(drop)
            .ok_or_else(|| DeviceError::InvalidArgument {
                what: format!("no template table {}", table.0),
            })
    }

    fn async_create(
        &self,
        queue: u32,
        table: TableHandle,
        rule: &RteRule,
        user_data: u64,
    ) -> Result<PortRule, DeviceError> {
        let t = self.tables.lock().get(&table.0).cloned().ok_or_else(|| {
            DeviceError::InvalidArgument {
                what: format!("no template table {}", table.0),
            }
        })?;
        self.queue(queue)?
            .lock()
            .queue
            .create(&t, rule, 0, 0, true, user_data)
            .map(PortRule::Queued)
    }

    fn async_destroy(&self, queue: u32, rule: PortRule, user_data: u64) -> Result<(), DeviceError> {
        match rule {
            PortRule::Queued(f) => self.queue(queue)?.lock().queue.destroy(f, true, user_data),
            PortRule::Sync(f) => {
                f.destroy()?;
                Err(DeviceError::InvalidArgument {
                    what: "a rule made with rte_flow_create was destroyed synchronously; no completion follows".into(),
                })
            }
        }
    }

    fn push(&self, queue: u32) -> Result<(), DeviceError> {
        self.queue(queue)?.lock().queue.push()
    }

    fn pull(&self, queue: u32, out: &mut Vec<Completion>) -> Result<usize, DeviceError> {
        let port = self.port.id();
        let mut q = self.queue(queue)?.lock();
        let Queue { queue, results } = &mut *q;
        results.clear();
        let n = queue.pull(results, 64)?;
        out.extend(results.drain(..).map(|r| Completion {
            user_data: r.user_data,
            result: if r.ok {
                Ok(())
            } else {
                Err(DeviceError::Call {
                    op: "rte_flow_pull (operation status RTE_FLOW_OP_ERROR)",
                    port: Some(port),
                    errno: libc::EIO,
                })
            },
        }));
        Ok(n)
    }
}
