//! rte_flow's template and asynchronous API: pattern and actions templates,
//! template tables, and per-queue create/destroy with `push` and `pull`.
//!
//! The only way in is [`Port::configure_flow_queues`], which calls
//! `rte_flow_info_get` and `rte_flow_configure` and hands out a
//! [`FlowQueues`] only when both succeed. No async function is ever called
//! on a port that did not configure: DPDK 22.11 and 23.11 call the driver's
//! async ops without checking them, and crash on drivers that have none.
//!
//! Ownership: an [`AsyncFlow`] keeps its [`TemplateTable`] alive, a table
//! keeps its templates alive, and everything keeps the port alive, so DPDK
//! objects are always destroyed children first.

use std::fmt;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::flow::{check_sealed, query_count_raw};
use super::port::{Port, PortShared};
use super::LIVE;
use crate::device::Counters;
use crate::device::{DeviceError, FlowError};
use crate::ffi;
use crate::rte::RteRule;

/// What `rte_flow_info_get` reports for the template/async API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FlowPortInfo {
    /// Maximum flow queues.
    pub max_queues: u32,
    /// Maximum counters.
    pub max_counters: u32,
    /// Maximum aging objects.
    pub max_aging_objects: u32,
    /// Maximum meters.
    pub max_meters: u32,
    /// Maximum conntrack objects.
    pub max_conn_tracks: u32,
    /// Maximum operations one queue holds.
    pub max_queue_size: u32,
}

/// Resources to pre-allocate with `rte_flow_configure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowQueuesConfig {
    /// Flow queues (one per inserting thread).
    pub queues: u16,
    /// Operations each queue holds before a pull.
    pub queue_size: u32,
    /// Counters to pre-allocate (one per rule that counts).
    pub counters: u32,
}

impl Default for FlowQueuesConfig {
    fn default() -> Self {
        Self {
            queues: 1,
            queue_size: 1024,
            counters: 1 << 16,
        }
    }
}

struct QueuesShared {
    port: Arc<PortShared>,
    info: FlowPortInfo,
    config: FlowQueuesConfig,
}

/// A port whose template/async flow engine is configured. Hands out one
/// [`FlowQueue`] per configured queue and creates templates and tables.
pub struct FlowQueues {
    shared: Arc<QueuesShared>,
    taken: Vec<AtomicBool>,
}

impl Port {
    /// Reads the port's template/async capabilities (`rte_flow_info_get`).
    /// Drivers without the API answer `ENOTSUP`/`ENOSYS`.
    pub fn flow_info(&self) -> Result<FlowPortInfo, DeviceError> {
        let mut port_info = ffi::rte_flow_port_info::default();
        let mut queue_info = ffi::rte_flow_queue_info::default();
        let mut err = ffi::rte_flow_error::default();
        // Safety: valid out-pointers for the call.
        let rc =
            unsafe { ffi::rte_flow_info_get(self.id(), &mut port_info, &mut queue_info, &mut err) };
        if rc != 0 {
            return Err(
                FlowError::decode("rte_flow_info_get", self.id(), rc, &err, &[], &[]).into(),
            );
        }
        Ok(FlowPortInfo {
            max_queues: port_info.max_nb_queues,
            max_counters: port_info.max_nb_counters,
            max_aging_objects: port_info.max_nb_aging_objects,
            max_meters: port_info.max_nb_meters,
            max_conn_tracks: port_info.max_nb_conn_tracks,
            max_queue_size: queue_info.max_size,
        })
    }

    /// Configures the template/async engine (`rte_flow_info_get`, then
    /// `rte_flow_configure`). The port must be configured and not started.
    /// Fails with the driver's error when it has no such engine: then only
    /// the synchronous API is available on this port.
    pub fn configure_flow_queues(
        &mut self,
        config: FlowQueuesConfig,
    ) -> Result<FlowQueues, DeviceError> {
        let info = self.flow_info()?;
        if config.queues == 0 {
            return Err(DeviceError::InvalidArgument {
                what: "at least one flow queue is needed".into(),
            });
        }
        if info.max_queues != 0 && u32::from(config.queues) > info.max_queues {
            return Err(DeviceError::InvalidArgument {
                what: format!(
                    "{} flow queues asked, port {} has {}",
                    config.queues,
                    self.id(),
                    info.max_queues
                ),
            });
        }
        let port_attr = ffi::rte_flow_port_attr {
            nb_counters: config.counters,
            ..Default::default()
        };
        let queue_attr = ffi::rte_flow_queue_attr {
            size: config.queue_size,
        };
        let mut queue_attrs: Vec<*const ffi::rte_flow_queue_attr> =
            vec![&queue_attr; config.queues as usize];
        let mut err = ffi::rte_flow_error::default();
        // Safety: port_attr and the queue_attrs array (all pointing at
        // queue_attr) are valid for the call; DPDK copies them.
        let rc = unsafe {
            ffi::rte_flow_configure(
                self.id(),
                &port_attr,
                config.queues,
                queue_attrs.as_mut_ptr(),
                &mut err,
            )
        };
        if rc != 0 {
            return Err(
                FlowError::decode("rte_flow_configure", self.id(), rc, &err, &[], &[]).into(),
            );
        }
        let taken = (0..config.queues).map(|_| AtomicBool::new(false)).collect();
        Ok(FlowQueues {
            shared: Arc::new(QueuesShared {
                port: self.shared.clone(),
                info,
                config,
            }),
            taken,
        })
    }
}

impl FlowQueues {
    /// What `rte_flow_info_get` reported.
    pub fn info(&self) -> FlowPortInfo {
        self.shared.info
    }

    /// The configuration `rte_flow_configure` accepted.
    pub fn config(&self) -> FlowQueuesConfig {
        self.shared.config
    }

    /// Takes queue `id` for the calling thread; each queue can be taken once,
    /// since DPDK's flow queues are single-threaded.
    pub fn take_queue(&self, id: u16) -> Option<FlowQueue> {
        let slot = self.taken.get(id as usize)?;
        if slot.swap(true, Ordering::AcqRel) {
            return None;
        }
        Some(FlowQueue {
            shared: self.shared.clone(),
            id: u32::from(id),
            pending: 0,
        })
    }

    /// Creates a pattern template from `rule`'s pattern: the items' masks
    /// say which fields the rules of a table will match
    /// (`rte_flow_pattern_template_create`).
    pub fn pattern_template(
        &self,
        rule: &RteRule,
        relaxed: bool,
    ) -> Result<PatternTemplate, DeviceError> {
        check_sealed(rule)?;
        let port = self.shared.port.id;
        let attr = rule.attr();
        let mut t_attr = ffi::rte_flow_pattern_template_attr::default();
        t_attr.set_relaxed_matching(u32::from(relaxed));
        t_attr.set_ingress(attr.ingress());
        t_attr.set_egress(attr.egress());
        t_attr.set_transfer(attr.transfer());
        let mut err = ffi::rte_flow_error::default();
        // Safety: the sealed rule's pattern is END-terminated and valid.
        let raw = unsafe {
            ffi::rte_flow_pattern_template_create(port, &t_attr, rule.pattern().as_ptr(), &mut err)
        };
        let raw = NonNull::new(raw).ok_or_else(|| {
            FlowError::decode(
                "rte_flow_pattern_template_create",
                port,
                -1,
                &err,
                rule.pattern(),
                &[],
            )
        })?;
        LIVE.templates.fetch_add(1, Ordering::Relaxed);
        Ok(PatternTemplate {
            inner: Arc::new(TemplateInner {
                port: self.shared.port.clone(),
                raw: raw.cast(),
                kind: TemplateKind::Pattern,
            }),
        })
    }

    /// Creates an actions template from `actions` (fixed values) and
    /// `masks` (which of those values are fixed for every rule)
    /// (`rte_flow_actions_template_create`).
    pub fn actions_template(
        &self,
        actions: &RteRule,
        masks: &RteRule,
    ) -> Result<ActionsTemplate, DeviceError> {
        check_sealed(actions)?;
        check_sealed(masks)?;
        let port = self.shared.port.id;
        let attr = actions.attr();
        let mut t_attr = ffi::rte_flow_actions_template_attr::default();
        t_attr.set_ingress(attr.ingress());
        t_attr.set_egress(attr.egress());
        t_attr.set_transfer(attr.transfer());
        let mut err = ffi::rte_flow_error::default();
        // Safety: both sealed rules hold END-terminated action arrays.
        let raw = unsafe {
            ffi::rte_flow_actions_template_create(
                port,
                &t_attr,
                actions.actions().as_ptr(),
                masks.actions().as_ptr(),
                &mut err,
            )
        };
        let raw = NonNull::new(raw).ok_or_else(|| {
            FlowError::decode(
                "rte_flow_actions_template_create",
                port,
                -1,
                &err,
                &[],
                actions.actions(),
            )
        })?;
        LIVE.templates.fetch_add(1, Ordering::Relaxed);
        Ok(ActionsTemplate {
            inner: Arc::new(TemplateInner {
                port: self.shared.port.clone(),
                raw: raw.cast(),
                kind: TemplateKind::Actions,
            }),
        })
    }

    /// Creates a template table of up to `rules` rules in `attr`'s group,
    /// combining the given templates (`rte_flow_template_table_create`).
    pub fn template_table(
        &self,
        attr: &ffi::rte_flow_attr,
        rules: u32,
        patterns: &[&PatternTemplate],
        actions: &[&ActionsTemplate],
    ) -> Result<TemplateTable, DeviceError> {
        let port = self.shared.port.id;
        let (np, na) = match (u8::try_from(patterns.len()), u8::try_from(actions.len())) {
            (Ok(p), Ok(a)) if p > 0 && a > 0 => (p, a),
            _ => {
                return Err(DeviceError::InvalidArgument {
                    what: "a template table takes 1 to 255 pattern and actions templates".into(),
                })
            }
        };
        let mut p_raw: Vec<*mut ffi::rte_flow_pattern_template> = patterns
            .iter()
            .map(|t| t.inner.raw.as_ptr().cast())
            .collect();
        let mut a_raw: Vec<*mut ffi::rte_flow_actions_template> = actions
            .iter()
            .map(|t| t.inner.raw.as_ptr().cast())
            .collect();
        // DPDK 23.11 added fields (specialize, insertion type, hash function)
        // whose zero value is the default.
        #[allow(clippy::needless_update)]
        let table_attr = ffi::rte_flow_template_table_attr {
            flow_attr: *attr,
            nb_flows: rules,
            ..Default::default()
        };
        let mut err = ffi::rte_flow_error::default();
        // Safety: the template arrays hold live templates of this port.
        let raw = unsafe {
            ffi::rte_flow_template_table_create(
                port,
                &table_attr,
                p_raw.as_mut_ptr(),
                np,
                a_raw.as_mut_ptr(),
                na,
                &mut err,
            )
        };
        let raw = NonNull::new(raw).ok_or_else(|| {
            FlowError::decode("rte_flow_template_table_create", port, -1, &err, &[], &[])
        })?;
        LIVE.tables.fetch_add(1, Ordering::Relaxed);
        Ok(TemplateTable {
            inner: Arc::new(TableInner {
                port: self.shared.port.clone(),
                raw,
                _patterns: patterns.iter().map(|t| t.inner.clone()).collect(),
                _actions: actions.iter().map(|t| t.inner.clone()).collect(),
            }),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TemplateKind {
    Pattern,
    Actions,
}

struct TemplateInner {
    port: Arc<PortShared>,
    /// `rte_flow_pattern_template` or `rte_flow_actions_template`, by kind.
    raw: NonNull<libc::c_void>,
    kind: TemplateKind,
}

// Safety: templates are port-level objects usable from any thread.
unsafe impl Send for TemplateInner {}
// Safety: shared access only passes the pointer to DPDK.
unsafe impl Sync for TemplateInner {}

impl Drop for TemplateInner {
    fn drop(&mut self) {
        let mut err = ffi::rte_flow_error::default();
        // Safety: no table uses the template any more (tables hold an Arc).
        unsafe {
            match self.kind {
                TemplateKind::Pattern => ffi::rte_flow_pattern_template_destroy(
                    self.port.id,
                    self.raw.as_ptr().cast(),
                    &mut err,
                ),
                TemplateKind::Actions => ffi::rte_flow_actions_template_destroy(
                    self.port.id,
                    self.raw.as_ptr().cast(),
                    &mut err,
                ),
            };
        }
        LIVE.templates.fetch_sub(1, Ordering::Relaxed);
    }
}

/// An owned pattern template; destroyed when it and every table using it are gone.
#[derive(Clone)]
pub struct PatternTemplate {
    inner: Arc<TemplateInner>,
}

/// An owned actions template; destroyed when it and every table using it are gone.
#[derive(Clone)]
pub struct ActionsTemplate {
    inner: Arc<TemplateInner>,
}

struct TableInner {
    port: Arc<PortShared>,
    raw: NonNull<ffi::rte_flow_template_table>,
    _patterns: Vec<Arc<TemplateInner>>,
    _actions: Vec<Arc<TemplateInner>>,
}

// Safety: tables are port-level objects usable from any queue's thread.
unsafe impl Send for TableInner {}
// Safety: shared access only passes the pointer to DPDK.
unsafe impl Sync for TableInner {}

impl Drop for TableInner {
    fn drop(&mut self) {
        let mut err = ffi::rte_flow_error::default();
        // Safety: every async flow of the table is gone (each holds an Arc).
        unsafe { ffi::rte_flow_template_table_destroy(self.port.id, self.raw.as_ptr(), &mut err) };
        LIVE.tables.fetch_sub(1, Ordering::Relaxed);
    }
}

/// An owned template table; destroyed when it and every rule in it are gone.
#[derive(Clone)]
pub struct TemplateTable {
    inner: Arc<TableInner>,
}

/// One flow queue, used by one thread at a time (`Send`, not `Sync`).
pub struct FlowQueue {
    shared: Arc<QueuesShared>,
    id: u32,
    /// Operations enqueued whose completion was not pulled yet.
    pending: u32,
}

/// The completion of one queued operation (`struct rte_flow_op_result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpResult {
    /// Whether the driver applied the operation.
    pub ok: bool,
    /// The `user_data` given when the operation was enqueued.
    pub user_data: u64,
}

/// A rule created through a flow queue. It is live in hardware only once
/// its completion was pulled with `ok`; a failed creation must be released
/// with [`AsyncFlow::forget_failed`], a live one removed with
/// [`FlowQueue::destroy`]. Dropping a live one destroys it synchronously
/// (`rte_flow_destroy`) as a last resort.
pub struct AsyncFlow {
    table: Arc<TableInner>,
    raw: Option<NonNull<ffi::rte_flow>>,
}

// Safety: the handle may be destroyed from any queue's thread.
unsafe impl Send for AsyncFlow {}
// Safety: shared access only passes the pointer to rte_flow_query, which
// ethdev serialises for drivers whose flow ops are not thread-safe (as for
// `Flow`).
unsafe impl Sync for AsyncFlow {}

impl AsyncFlow {
    /// Reads the rule's `COUNT` action (`rte_flow_query`), resetting it
    /// when `reset` is set. Only for a rule whose creation completed.
    pub fn query_count(&self, reset: bool) -> Result<Counters, DeviceError> {
        let raw = self.raw.ok_or(DeviceError::InvalidArgument {
            what: "the rule was destroyed".into(),
        })?;
        // Safety: the handle holds a live rule of its table's port.
        unsafe { query_count_raw(self.table.port.id, raw, reset) }
    }

    /// Releases the handle of a creation whose completion reported failure:
    /// DPDK already freed it, so nothing is destroyed.
    pub fn forget_failed(mut self) {
        self.raw = None;
        LIVE.flows.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Drop for AsyncFlow {
    fn drop(&mut self) {
        if let Some(raw) = self.raw.take() {
            let mut err = ffi::rte_flow_error::default();
            // Safety: the flow is live (not destroyed through a queue, not a
            // failed creation) and its table is alive.
            unsafe { ffi::rte_flow_destroy(self.table.port.id, raw.as_ptr(), &mut err) };
            LIVE.flows.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

fn op_attr(postpone: bool) -> ffi::rte_flow_op_attr {
    let mut attr = ffi::rte_flow_op_attr::default();
    attr.set_postpone(u32::from(postpone));
    attr
}

impl FlowQueue {
    /// The queue id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Operations enqueued whose completions were not pulled yet.
    pub fn pending(&self) -> u32 {
        self.pending
    }

    fn port(&self) -> u16 {
        self.shared.port.id
    }

    /// Enqueues the creation of a rule in `table` from `rule`'s pattern and
    /// actions (`rte_flow_async_create`). With `postpone`, the driver may
    /// hold it until [`push`](Self::push). Its completion carries `user_data`.
    pub fn create(
        &mut self,
        table: &TemplateTable,
        rule: &RteRule,
        pattern_template: u8,
        actions_template: u8,
        postpone: bool,
        user_data: u64,
    ) -> Result<AsyncFlow, DeviceError> {
        check_sealed(rule)?;
        let attr = op_attr(postpone);
        let mut err = ffi::rte_flow_error::default();
        // Safety: the queue was configured (FlowQueue only exists after
        // rte_flow_configure succeeded) and is used by this thread alone;
        // the table is alive; the rule's arrays are valid for the call.
        let raw = unsafe {
            ffi::rte_flow_async_create(
                self.port(),
                self.id,
                &attr,
                table.inner.raw.as_ptr(),
                rule.pattern().as_ptr(),
                pattern_template,
                rule.actions().as_ptr(),
                actions_template,
                user_data as usize as *mut libc::c_void,
                &mut err,
            )
        };
        let raw = NonNull::new(raw).ok_or_else(|| {
            FlowError::decode(
                "rte_flow_async_create",
                self.port(),
                -1,
                &err,
                rule.pattern(),
                rule.actions(),
            )
        })?;
        self.pending += 1;
        LIVE.flows.fetch_add(1, Ordering::Relaxed);
        Ok(AsyncFlow {
            table: table.inner.clone(),
            raw: Some(raw),
        })
    }

    /// Enqueues the destruction of a live rule (`rte_flow_async_destroy`).
    pub fn destroy(
        &mut self,
        mut flow: AsyncFlow,
        postpone: bool,
        user_data: u64,
    ) -> Result<(), DeviceError> {
        let Some(raw) = flow.raw else { return Ok(()) };
        let attr = op_attr(postpone);
        let mut err = ffi::rte_flow_error::default();
        // Safety: as in create; the flow is live and destroyed once.
        let rc = unsafe {
            ffi::rte_flow_async_destroy(
                self.port(),
                self.id,
                &attr,
                raw.as_ptr(),
                user_data as usize as *mut libc::c_void,
                &mut err,
            )
        };
        if rc != 0 {
            // Still live: the caller's handle keeps it (and Drop destroys it).
            return Err(FlowError::decode(
                "rte_flow_async_destroy",
                self.port(),
                rc,
                &err,
                &[],
                &[],
            )
            .into());
        }
        flow.raw = None;
        LIVE.flows.fetch_sub(1, Ordering::Relaxed);
        self.pending += 1;
        Ok(())
    }

    /// Hands every postponed operation to the hardware (`rte_flow_push`).
    pub fn push(&mut self) -> Result<(), DeviceError> {
        let mut err = ffi::rte_flow_error::default();
        // Safety: configured queue, used by this thread alone.
        let rc = unsafe { ffi::rte_flow_push(self.port(), self.id, &mut err) };
        if rc != 0 {
            return Err(FlowError::decode("rte_flow_push", self.port(), rc, &err, &[], &[]).into());
        }
        Ok(())
    }

    /// Collects completions into `out` (appended), at most `max`
    /// (`rte_flow_pull`). Returns how many arrived.
    pub fn pull(&mut self, out: &mut Vec<OpResult>, max: u16) -> Result<usize, DeviceError> {
        let mut raw = vec![
            ffi::rte_flow_op_result {
                status: 0,
                user_data: std::ptr::null_mut()
            };
            max as usize
        ];
        let mut err = ffi::rte_flow_error::default();
        // Safety: raw has room for max results; configured queue.
        let rc =
            unsafe { ffi::rte_flow_pull(self.port(), self.id, raw.as_mut_ptr(), max, &mut err) };
        if rc < 0 {
            return Err(FlowError::decode("rte_flow_pull", self.port(), rc, &err, &[], &[]).into());
        }
        let n = rc as usize;
        out.extend(raw[..n].iter().map(|r| OpResult {
            ok: r.status == ffi::RTE_FLOW_OP_SUCCESS,
            user_data: r.user_data as usize as u64,
        }));
        self.pending = self.pending.saturating_sub(n as u32);
        Ok(n)
    }
}

impl fmt::Debug for FlowQueues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlowQueues")
            .field("port", &self.shared.port.id)
            .field("info", &self.shared.info)
            .field("config", &self.shared.config)
            .finish()
    }
}

impl fmt::Debug for FlowQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlowQueue")
            .field("port", &self.port())
            .field("id", &self.id)
            .field("pending", &self.pending)
            .finish()
    }
}

impl fmt::Debug for PatternTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PatternTemplate")
            .field("port", &self.inner.port.id)
            .finish()
    }
}

impl fmt::Debug for ActionsTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActionsTemplate")
            .field("port", &self.inner.port.id)
            .finish()
    }
}

impl fmt::Debug for TemplateTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TemplateTable")
            .field("port", &self.inner.port.id)
            .finish()
    }
}

impl fmt::Debug for AsyncFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFlow")
            .field("port", &self.table.port.id)
            .field("live", &self.raw.is_some())
            .finish()
    }
}
