//! The template/async flow API of the eswitch, mirroring DPDK's
//! (`rte_flow_configure`, pattern/actions templates, template tables,
//! `rte_flow_async_create`/`_destroy`, `rte_flow_push`, `rte_flow_pull`).
//!
//! Semantics kept: an operation enqueued with `postpone` takes effect only
//! at [`Eswitch::push`] of its queue; one enqueued without it is pushed at
//! once (DPDK lets the driver do so). Only pushed operations complete, and
//! [`Eswitch::pull`] returns their completions in order, each with its
//! `user_data` and its own result (a full table is a per-operation
//! `ENOSPC`, an unknown rule a per-operation `ENOENT`). A queue holds at
//! most `queue_size` operations not yet pulled (`EAGAIN` beyond).
//!
//! Simplified: a table entry is its rule's pattern and actions installed in
//! the table's group at the table's priority, like a synchronous rule; the
//! templates only fix which item and action types (in order) entries have.

use std::collections::VecDeque;

use hashbrown::HashMap;
use smallvec::SmallVec;

use super::compile;
use super::compiled::Compiled;
use super::{Eswitch, RuleStats};
use crate::device::{Completion, DeviceError, FlowErrorCause};
use crate::ffi;
use crate::rte::RteRule;

/// A pattern template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PatternTemplateId(u32);

/// An actions template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ActionsTemplateId(u32);

/// A template table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TableId(pub(crate) u32);

/// A rule created through a queue (its id, as [`super::Hop::rule`] says).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowId(pub u64);

// The compiled rule stays boxed: unboxed (~450 bytes inline) it was moved
// through the deque several times per op and measured no faster.
#[derive(Debug)]
enum Op {
    Create {
        id: u64,
        table: u32,
        rule: Box<Compiled>,
        user_data: u64,
    },
    Destroy {
        id: u64,
        user_data: u64,
    },
}

#[derive(Debug, Default)]
struct Queue {
    postponed: VecDeque<Op>,
    done: VecDeque<Completion>,
}

#[derive(Debug)]
struct Table {
    group: u32,
    priority: u32,
    capacity: u32,
    patterns: Vec<u32>,
    actions: Vec<u32>,
    /// Rules held: the ids `Queues::flows` maps to this table (a count, so
    /// a create touches one id-keyed map, not two).
    entries: usize,
}

type Types<T> = SmallVec<[T; 8]>;

/// The async engine's state, present once configured.
#[derive(Debug)]
pub(crate) struct Queues {
    queue_size: u32,
    queues: Vec<Queue>,
    patterns: HashMap<u32, Types<ffi::rte_flow_item_type>>,
    actions: HashMap<u32, Types<ffi::rte_flow_action_type>>,
    tables: HashMap<u32, Table>,
    /// Live async rule → its table.
    flows: HashMap<u64, u32>,
    next: u32,
}

impl Queues {
    /// Forgets the entries of every table (after a flush).
    pub(crate) fn clear_entries(&mut self) {
        self.flows.clear();
        for t in self.tables.values_mut() {
            t.entries = 0;
        }
    }

    /// Forgets rule `id` (removed without the queue: its handle dropped or
    /// destroyed synchronously) in the table that held it.
    pub(crate) fn forget(&mut self, id: u64) {
        if let Some(t) = self.flows.remove(&id).and_then(|t| self.tables.get_mut(&t)) {
            t.entries -= 1;
        }
    }
}

impl Eswitch {
    pub(crate) fn async_err(
        &self,
        op: &'static str,
        errno: i32,
        cause: FlowErrorCause,
        msg: impl Into<String>,
    ) -> DeviceError {
        self.shared.limits(op).err(errno, cause, None, msg)
    }

    /// `rte_flow_configure`: `queues` flow queues of `queue_size`
    /// operations each. `ENOTSUP` when the profile has no async API.
    pub fn configure(&self, queues: u16, queue_size: u32) -> Result<(), DeviceError> {
        let op = "rte_flow_configure";
        if !self.shared.profile.async_api {
            return Err(self.async_err(
                op,
                libc::ENOTSUP,
                FlowErrorCause::Unspecified,
                format!(
                    "the {} profile has no template/async API",
                    self.shared.profile.name
                ),
            ));
        }
        if queues == 0 || queue_size == 0 {
            return Err(self.async_err(op, libc::EINVAL, FlowErrorCause::Unspecified, "no queues"));
        }
        let mut q = self.shared.queues.lock();
        if q.is_some() {
            return Err(self.async_err(
                op,
                libc::EBUSY,
                FlowErrorCause::State,
                "already configured",
            ));
        }
        *q = Some(Queues {
            queue_size,
            queues: (0..queues).map(|_| Queue::default()).collect(),
            patterns: HashMap::new(),
            actions: HashMap::new(),
            tables: HashMap::new(),
            flows: HashMap::new(),
            next: 1,
        });
        Ok(())
    }

    fn with_queues<R>(
        &self,
        op: &'static str,
        f: impl FnOnce(&mut Queues) -> Result<R, DeviceError>,
    ) -> Result<R, DeviceError> {
        let mut q = self.shared.queues.lock();
        match q.as_mut() {
            Some(q) => f(q),
            None => Err(self.async_err(
                op,
                libc::EINVAL,
                FlowErrorCause::State,
                "flow queues are not configured",
            )),
        }
    }

    /// A pattern template from `rule`'s pattern (its item types, in order).
    pub fn pattern_template(&self, rule: &RteRule) -> Result<PatternTemplateId, DeviceError> {
        let op = "rte_flow_pattern_template_create";
        let types: Types<_> = rule
            .pattern()
            .iter()
            .map(|i| i.type_)
            .take_while(|&t| t != ffi::RTE_FLOW_ITEM_TYPE_END)
            .collect();
        self.with_queues(op, |q| {
            let id = q.next;
            q.next += 1;
            q.patterns.insert(id, types);
            Ok(PatternTemplateId(id))
        })
    }

    /// An actions template from `rule`'s actions (their types, in order).
    pub fn actions_template(&self, rule: &RteRule) -> Result<ActionsTemplateId, DeviceError> {
        let op = "rte_flow_actions_template_create";
        let types: Types<_> = rule
            .actions()
            .iter()
            .map(|a| a.type_)
            .take_while(|&t| t != ffi::RTE_FLOW_ACTION_TYPE_END)
            .collect();
        self.with_queues(op, |q| {
            let id = q.next;
            q.next += 1;
            q.actions.insert(id, types);
            Ok(ActionsTemplateId(id))
        })
    }

    /// A table of up to `capacity` rules in `group` at `priority`.
    pub fn template_table(
        &self,
        group: u32,
        priority: u32,
        capacity: u32,
        patterns: &[PatternTemplateId],
        actions: &[ActionsTemplateId],
    ) -> Result<TableId, DeviceError> {
        let op = "rte_flow_template_table_create";
        let p = &self.shared.profile;
        if group >= p.groups {
            return Err(self.async_err(
                op,
                libc::ENOTSUP,
                FlowErrorCause::AttrGroup,
                format!("group {group} is beyond the device's"),
            ));
        }
        if priority >= p.priorities {
            return Err(self.async_err(
                op,
                libc::ENOTSUP,
                FlowErrorCause::AttrPriority,
                format!("priority {priority} is beyond the device's"),
            ));
        }
        if patterns.is_empty() || actions.is_empty() {
            return Err(self.async_err(
                op,
                libc::EINVAL,
                FlowErrorCause::Unspecified,
                "a table needs templates",
            ));
        }
        self.with_queues(op, |q| {
            if patterns.iter().any(|t| !q.patterns.contains_key(&t.0))
                || actions.iter().any(|t| !q.actions.contains_key(&t.0))
            {
                return Err(self.async_err(
                    op,
                    libc::EINVAL,
                    FlowErrorCause::Unspecified,
                    "unknown template",
                ));
            }
            let id = q.next;
            q.next += 1;
            q.tables.insert(
                id,
                Table {
                    group,
                    priority,
                    capacity,
                    patterns: patterns.iter().map(|t| t.0).collect(),
                    actions: actions.iter().map(|t| t.0).collect(),
                    entries: 0,
                },
            );
            Ok(TableId(id))
        })
    }

    /// `rte_flow_template_table_destroy`: `EBUSY` while the table holds
    /// rules.
    pub fn template_table_destroy(&self, table: TableId) -> Result<(), DeviceError> {
        let op = "rte_flow_template_table_destroy";
        self.with_queues(op, |q| match q.tables.get(&table.0) {
            None => Err(self.async_err(
                op,
                libc::ENOENT,
                FlowErrorCause::Unspecified,
                "unknown table",
            )),
            Some(t) if t.entries != 0 => Err(self.async_err(
                op,
                libc::EBUSY,
                FlowErrorCause::State,
                format!("the table still holds {} rules", t.entries),
            )),
            Some(_) => {
                q.tables.remove(&table.0);
                Ok(())
            }
        })
    }

    /// `rte_flow_pattern_template_destroy`: `EBUSY` while a table uses it.
    pub fn pattern_template_destroy(&self, t: PatternTemplateId) -> Result<(), DeviceError> {
        self.template_destroy(
            "rte_flow_pattern_template_destroy",
            t.0,
            |tb| &tb.patterns,
            |q| q.patterns.remove(&t.0).is_some(),
        )
    }

    /// `rte_flow_actions_template_destroy`: `EBUSY` while a table uses it.
    pub fn actions_template_destroy(&self, t: ActionsTemplateId) -> Result<(), DeviceError> {
        self.template_destroy(
            "rte_flow_actions_template_destroy",
            t.0,
            |tb| &tb.actions,
            |q| q.actions.remove(&t.0).is_some(),
        )
    }

    /// Removes template `id` (`remove` says whether it existed) unless a
    /// table lists it among its `templates`.
    fn template_destroy(
        &self,
        op: &'static str,
        id: u32,
        templates: fn(&Table) -> &Vec<u32>,
        remove: impl FnOnce(&mut Queues) -> bool,
    ) -> Result<(), DeviceError> {
        self.with_queues(op, |q| {
            if q.tables.values().any(|tb| templates(tb).contains(&id)) {
                return Err(self.async_err(
                    op,
                    libc::EBUSY,
                    FlowErrorCause::State,
                    "a table uses the template",
                ));
            }
            if remove(q) {
                Ok(())
            } else {
                Err(self.async_err(
                    op,
                    libc::ENOENT,
                    FlowErrorCause::Unspecified,
                    "unknown template",
                ))
            }
        })
    }

    /// A table of `capacity` rules shaped like `rule`, with its own two
    /// templates; nothing is left behind when a step fails.
    pub(crate) fn table_for(&self, rule: &RteRule, capacity: u32) -> Result<TableId, DeviceError> {
        let attr = rule.attr();
        let pattern = self.pattern_template(rule)?;
        let actions = match self.actions_template(rule) {
            Ok(a) => a,
            Err(e) => {
                let _ = self.pattern_template_destroy(pattern);
                return Err(e);
            }
        };
        self.template_table(attr.group, attr.priority, capacity, &[pattern], &[actions])
            .inspect_err(|_| {
                let _ = self.actions_template_destroy(actions);
                let _ = self.pattern_template_destroy(pattern);
            })
    }

    /// Destroys a table made by [`table_for`](Self::table_for) and its
    /// templates.
    pub(crate) fn destroy_table_for(&self, table: TableId) -> Result<(), DeviceError> {
        let templates = self.with_queues("rte_flow_template_table_destroy", |q| {
            Ok(q.tables
                .get(&table.0)
                .map(|t| (t.patterns.clone(), t.actions.clone())))
        })?;
        self.template_table_destroy(table)?;
        let (patterns, actions) = templates.unwrap_or_default();
        for p in patterns {
            self.pattern_template_destroy(PatternTemplateId(p))?;
        }
        for a in actions {
            self.actions_template_destroy(ActionsTemplateId(a))?;
        }
        Ok(())
    }

    /// Templates and tables that exist: `(pattern templates, actions
    /// templates, tables)`; zeros when the queues are not configured.
    pub fn template_counts(&self) -> (usize, usize, usize) {
        self.shared.queues.lock().as_ref().map_or((0, 0, 0), |q| {
            (q.patterns.len(), q.actions.len(), q.tables.len())
        })
    }

    /// How many flow queues are configured (0: none).
    pub fn queue_count(&self) -> u32 {
        self.shared
            .queues
            .lock()
            .as_ref()
            .map_or(0, |q| q.queues.len() as u32)
    }

    /// `rte_flow_async_create`: enqueues a rule for `table` built from
    /// `rule`'s pattern and actions, which must have the types of the
    /// table's templates number `pattern_template` and `actions_template`.
    /// Malformed rules fail here; capacity fails in the completion.
    #[allow(clippy::too_many_arguments)]
    pub fn async_create(
        &self,
        queue: u32,
        table: TableId,
        rule: &RteRule,
        pattern_template: u8,
        actions_template: u8,
        postpone: bool,
        user_data: u64,
    ) -> Result<FlowId, DeviceError> {
        let op = "rte_flow_async_create";
        let mut c = compile::compile(rule, &self.shared.limits(op))?;
        self.with_queues(op, |q| {
            let t = q.tables.get(&table.0).ok_or_else(|| {
                self.async_err(
                    op,
                    libc::EINVAL,
                    FlowErrorCause::Unspecified,
                    "unknown table",
                )
            })?;
            let pt = t
                .patterns
                .get(usize::from(pattern_template))
                .and_then(|p| q.patterns.get(p));
            let at = t
                .actions
                .get(usize::from(actions_template))
                .and_then(|a| q.actions.get(a));
            if pt != Some(&c.item_types) {
                return Err(self.async_err(
                    op,
                    libc::EINVAL,
                    FlowErrorCause::Item,
                    "the pattern does not follow the pattern template",
                ));
            }
            if at != Some(&c.action_types) {
                return Err(self.async_err(
                    op,
                    libc::EINVAL,
                    FlowErrorCause::Action,
                    "the actions do not follow the actions template",
                ));
            }
            c.group = t.group;
            c.priority = t.priority;
            let id = self.shared.next_id();
            self.enqueue(
                q,
                queue,
                Op::Create {
                    id,
                    table: table.0,
                    rule: Box::new(c),
                    user_data,
                },
                postpone,
                op,
            )?;
            Ok(FlowId(id))
        })
    }

    /// `rte_flow_async_destroy`: enqueues the removal of `flow`.
    pub fn async_destroy(
        &self,
        queue: u32,
        flow: FlowId,
        postpone: bool,
        user_data: u64,
    ) -> Result<(), DeviceError> {
        let op = "rte_flow_async_destroy";
        self.with_queues(op, |q| {
            self.enqueue(
                q,
                queue,
                Op::Destroy {
                    id: flow.0,
                    user_data,
                },
                postpone,
                op,
            )
        })
    }

    fn enqueue(
        &self,
        q: &mut Queues,
        queue: u32,
        o: Op,
        postpone: bool,
        op: &'static str,
    ) -> Result<(), DeviceError> {
        let size = q.queue_size as usize;
        let Some(qu) = q.queues.get_mut(queue as usize) else {
            return Err(self.async_err(
                op,
                libc::EINVAL,
                FlowErrorCause::Unspecified,
                format!("no queue {queue}"),
            ));
        };
        if qu.postponed.len() + qu.done.len() >= size {
            return Err(self.async_err(
                op,
                libc::EAGAIN,
                FlowErrorCause::Unspecified,
                "the queue is full: pull completions first",
            ));
        }
        qu.postponed.push_back(o);
        if !postpone {
            self.push_locked(q, queue);
        }
        Ok(())
    }

    /// Executes the postponed operations of `queue` in order.
    fn push_locked(&self, q: &mut Queues, queue: u32) {
        // Disjoint borrows: the queue's two lists and the table maps.
        let Queues {
            queues,
            tables: templates,
            flows,
            ..
        } = q;
        let Some(Queue { postponed, done }) = queues.get_mut(queue as usize) else {
            return;
        };
        if postponed.is_empty() {
            return;
        }
        {
            let mut tables = self.shared.tables.write();
            // Completions go straight to the queue, in order: nothing can
            // pull them before the queues' lock is released.
            for o in postponed.drain(..) {
                let (user_data, result) = match o {
                    Op::Create {
                        id,
                        table,
                        rule,
                        user_data,
                    } => {
                        let lim = self.shared.limits("rte_flow_async_create");
                        let result = match templates.get_mut(&table) {
                            None => Err(lim.err(
                                libc::EINVAL,
                                FlowErrorCause::Unspecified,
                                None,
                                "the table is gone",
                            )),
                            Some(t) if t.entries >= t.capacity as usize => Err(lim.err(
                                libc::ENOSPC,
                                FlowErrorCause::Unspecified,
                                None,
                                format!("the table holds {} rules and is full", t.capacity),
                            )),
                            Some(t) => tables.insert(*rule, id, &lim).map(|_| {
                                t.entries += 1;
                                flows.insert(id, table);
                            }),
                        };
                        (user_data, result)
                    }
                    Op::Destroy { id, user_data } => {
                        let result = if tables.remove(id) {
                            if let Some(t) = flows.remove(&id).and_then(|t| templates.get_mut(&t)) {
                                t.entries -= 1;
                            }
                            Ok(())
                        } else {
                            Err(self.shared.limits("rte_flow_async_destroy").err(
                                libc::ENOENT,
                                FlowErrorCause::Handle,
                                None,
                                "no such rule",
                            ))
                        };
                        (user_data, result)
                    }
                };
                done.push_back(Completion { user_data, result });
            }
        }
    }

    /// `rte_flow_push`: executes `queue`'s postponed operations.
    pub fn push(&self, queue: u32) -> Result<(), DeviceError> {
        let op = "rte_flow_push";
        self.with_queues(op, |q| {
            if queue as usize >= q.queues.len() {
                return Err(self.async_err(
                    op,
                    libc::EINVAL,
                    FlowErrorCause::Unspecified,
                    format!("no queue {queue}"),
                ));
            }
            self.push_locked(q, queue);
            Ok(())
        })
    }

    /// `rte_flow_pull`: moves up to `max` completions of pushed operations
    /// into `out` (appended); returns how many.
    pub fn pull(
        &self,
        queue: u32,
        out: &mut Vec<Completion>,
        max: usize,
    ) -> Result<usize, DeviceError> {
        let op = "rte_flow_pull";
        self.with_queues(op, |q| {
            let Some(qu) = q.queues.get_mut(queue as usize) else {
                return Err(self.async_err(
                    op,
                    libc::EINVAL,
                    FlowErrorCause::Unspecified,
                    format!("no queue {queue}"),
                ));
            };
            let n = max.min(qu.done.len());
            out.extend(qu.done.drain(..n));
            Ok(n)
        })
    }

    /// Counters of a rule created through a queue.
    pub fn query_flow(&self, flow: FlowId, reset: bool) -> Result<RuleStats, DeviceError> {
        self.stats_by_id(flow.0, reset, "rte_flow_async_action_handle_query")
    }
}
