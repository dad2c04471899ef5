//! A software model of the NIC's embedded switch: it installs the exact
//! [`RteRule`] bytes the library hands DPDK and runs real packets through
//! them — the test oracle of the offload (ARCHITECTURE.md, "Testing tiers").
//!
//! Model:
//! - Groups (tables) hold rules; a packet starts in group 0 (or a group
//!   given to [`Eswitch::process_from`]) with zeroed TAG registers, META 0
//!   and no MARK. In each group the matching rule with the lowest priority
//!   number wins, ties going to the rule created first; its actions run in
//!   order; `JUMP` continues in the target group with the metadata kept; a
//!   group where nothing matches hands the packet to software unmarked
//!   ([`Fate::ToSoftware`] with `mark: None`).
//! - Fates: `DROP`; `REPRESENTED_PORT` (out of the switch, [`Fate::Output`]);
//!   `PORT_REPRESENTOR` and `QUEUE` (to the host, [`Fate::ToSoftware`] with
//!   the MARK, META and registers); `SAMPLE` with ratio 1 takes a copy at
//!   that point, which its own action list sends ([`Verdict::mirrors`]).
//! - Items match the packet's layers in stack order from the outer
//!   Ethernet header (`parse`): `ETH / IPV4` does not match a tagged
//!   frame, `ETH` alone does; omitted leading layers are wildcards; the
//!   IPv6 fragment header is skipped by items other than IPV6_FRAG_EXT.
//!   `REPRESENTED_PORT` matches the port the packet entered through;
//!   `PORT_REPRESENTOR` never matches here (packets enter from the
//!   represented entities, not from the host).
//! - Rules are checked against the [`DeviceProfile`] at create (and
//!   validate) time and refused with the errno DPDK uses: `ENOTSUP` for an
//!   item or action the profile lacks, a group or priority out of range;
//!   `EINVAL` for malformed rules (no fate, a TAG index past the registers,
//!   an unknown port); `ENOSPC` when a group or the device is full (the
//!   rules already accepted stay); `ENOENT` for unknown handles.
//!
//! Speed: each group keeps one hash table per rule *shape* (the protocols
//! and masks a rule matches on); a lookup hashes the packet's masked bytes
//! once per shape (tuple space search). `process` allocates nothing but the
//! output frames.
//!
//! Independence: this module must not use `odp`, `translate` or the test
//! support code — it is the second implementation the translation is
//! checked against.
//!
//! Rooms: `compile` (the rule compiler, pattern and actions: an [`RteRule`] read through
//! `rte`'s typed view → a `compiled` rule), `parse` (the packet parser),
//! `table` (the matcher: per-group tables and lookup), `exec` (the executor
//! of a matched rule's actions), `queue` (the template/async API); this
//! file holds the device itself and the walk of a packet through groups.

mod compile;
mod compiled;
mod exec;
mod parse;
mod queue;
mod table;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use parking_lot::{Mutex, RwLock};
use smallvec::SmallVec;

use crate::device::{Completion, Counters, DeviceError, FlowDevice, FlowErrorCause, TableHandle};
use crate::profile::DeviceProfile;
use crate::rte::RteRule;

pub use compiled::MAX_TAGS;
pub use exec::Registers;
pub use parse::MAX_LAYERS;
pub use queue::{ActionsTemplateId, FlowId, PatternTemplateId, TableId};

use compile::Limits;
use compiled::Act;
use exec::{Meta, Pkt};
use table::{Tables, View};

/// Jumps one packet may take before it is dropped as looping.
pub const MAX_JUMPS: usize = 32;

/// Why a packet was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DropReason {
    /// A rule's `DROP` action.
    Rule,
    /// More than [`MAX_JUMPS`] jumps: a loop between groups.
    JumpLimit,
    /// A decap of a packet too short for it, or not tunnelled.
    Malformed,
    /// The packet entered through a port the eswitch does not have.
    UnknownPort,
}

/// A packet handed to the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToHost {
    /// The representor (ethdev port) it arrives on.
    pub port: u16,
    /// The rx queue, for `QUEUE`.
    pub queue: Option<u16>,
    /// The MARK software reads (a restore point), `None` on a table miss.
    pub mark: Option<u32>,
    /// META.
    pub meta: u32,
    /// The TAG registers.
    pub registers: Registers,
    /// The frame as modified so far.
    pub bytes: Vec<u8>,
}

/// Where one copy of a packet went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// Sent out of the switch to the entity an ethdev port represents.
    Output {
        /// The ethdev port.
        port: u16,
        /// The frame as sent.
        bytes: Vec<u8>,
    },
    /// Handed to software (a miss rule, a table miss, `QUEUE`).
    ToSoftware(ToHost),
    /// Dropped.
    Drop(DropReason),
}

/// One group a packet went through and the rule it hit there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hop {
    /// The group.
    pub group: u32,
    /// The rule's id ([`EswitchRule::id`], [`FlowId`]), `None` on a miss.
    pub rule: Option<u64>,
}

/// What the eswitch did with a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Copies taken by `SAMPLE` (mirrors), in the order taken.
    pub mirrors: SmallVec<[Fate; 2]>,
    /// The packet itself.
    pub fate: Fate,
    /// The groups visited and the rules hit, in order.
    pub path: SmallVec<[Hop; 8]>,
}

/// Counters of one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RuleStats {
    /// Packets that hit the rule.
    pub packets: u64,
    /// Their bytes, as they were when they hit it.
    pub bytes: u64,
    /// The clock ([`Eswitch::set_clock`]) at the last hit, `None` if never.
    pub last_hit: Option<u64>,
}

pub(crate) struct Shared {
    profile: DeviceProfile,
    ports: Vec<u16>,
    software_port: u16,
    tags: u8,
    pub(crate) tables: RwLock<Tables>,
    next_id: AtomicU64,
    clock: AtomicU64,
    pub(crate) queues: Mutex<Option<queue::Queues>>,
}

impl Shared {
    pub(crate) fn limits(&self, op: &'static str) -> Limits<'_> {
        Limits {
            profile: &self.profile,
            ports: &self.ports,
            tags: self.tags,
            op,
            port: self.software_port,
        }
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Removes rule `id`, and its entry in a template table when it was
    /// created through a queue, so the table can be destroyed afterwards.
    fn remove(&self, id: u64) -> bool {
        // Lock order: queues, then tables (as push does).
        let mut queues = self.queues.lock();
        let removed = self.tables.write().remove(id);
        if let Some(q) = queues.as_mut().filter(|_| removed) {
            q.forget(id);
        }
        removed
    }
}

/// The software NIC. Cheap to share by reference across threads: rules are
/// installed under a write lock, packets processed under a read lock,
/// counters are atomics.
pub struct Eswitch {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Eswitch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Eswitch")
            .field("profile", &self.shared.profile.name)
            .field("ports", &self.shared.ports)
            .field("software_port", &self.shared.software_port)
            .field("rules", &self.rule_count())
            .finish()
    }
}

/// A rule installed with [`FlowDevice::create`]. Dropping it removes the
/// rule (as dropping a DPDK port's `Flow` destroys it).
#[derive(Debug)]
pub struct EswitchRule {
    id: u64,
    owner: Weak<Shared>,
}

impl EswitchRule {
    /// The rule's id, as [`Hop::rule`] reports it.
    pub fn id(&self) -> u64 {
        self.id
    }
}

impl Drop for EswitchRule {
    fn drop(&mut self) {
        if self.id != 0 {
            if let Some(s) = self.owner.upgrade() {
                s.remove(self.id);
            }
        }
    }
}

impl Eswitch {
    /// An empty eswitch for `profile` with these ethdev ports (representors
    /// and uplink). The first port is the E-Switch manager: table misses and
    /// `QUEUE` hand packets to software through it, and it is the port
    /// errors name. The translation's miss rules send to
    /// `Config::software_port` with `PORT_REPRESENTOR`, which must be one of
    /// `ports`. At most [`MAX_TAGS`] TAG registers are modelled.
    pub fn new(profile: DeviceProfile, ports: &[u16]) -> Self {
        let tags = profile.tag_registers.min(MAX_TAGS as u8);
        let software_port = ports.first().copied().unwrap_or(0);
        Self {
            shared: Arc::new(Shared {
                profile,
                ports: ports.to_vec(),
                software_port,
                tags,
                tables: RwLock::new(Tables::default()),
                next_id: AtomicU64::new(1),
                clock: AtomicU64::new(0),
                queues: Mutex::new(None),
            }),
        }
    }

    /// The profile.
    pub fn profile(&self) -> &DeviceProfile {
        &self.shared.profile
    }

    /// The E-Switch manager port (where misses go).
    pub fn software_port(&self) -> u16 {
        self.shared.software_port
    }

    /// Sets the clock counters record as the last-hit time.
    pub fn set_clock(&self, tick: u64) {
        self.shared.clock.store(tick, Ordering::Relaxed);
    }

    /// Rules installed.
    pub fn rule_count(&self) -> usize {
        self.shared.tables.read().len()
    }

    /// Groups holding at least one rule.
    pub fn group_count(&self) -> usize {
        self.shared.tables.read().groups.len()
    }

    /// Removes every rule (sync and async); handles still held become
    /// unknown (`ENOENT`).
    pub fn flush(&self) -> Result<(), DeviceError> {
        // Lock order: queues, then tables (as push does).
        let mut queues = self.shared.queues.lock();
        *self.shared.tables.write() = Tables::default();
        if let Some(q) = queues.as_mut() {
            q.clear_entries();
        }
        Ok(())
    }

    /// Counters of a rule, with its last-hit time.
    pub fn stats(&self, rule: &EswitchRule) -> Result<RuleStats, DeviceError> {
        self.stats_by_id(rule.id, false, "rte_flow_query")
    }

    pub(crate) fn stats_by_id(
        &self,
        id: u64,
        reset: bool,
        op: &'static str,
    ) -> Result<RuleStats, DeviceError> {
        let t = self.shared.tables.read();
        let lim = self.shared.limits(op);
        let e = t
            .get(id)
            .ok_or_else(|| lim.err(libc::ENOENT, FlowErrorCause::Handle, None, "no such rule"))?;
        if !e.counts {
            return Err(lim.err(
                libc::ENOTSUP,
                FlowErrorCause::Action,
                None,
                "the rule has no COUNT action",
            ));
        }
        Ok(e.stats(reset))
    }

    /// Runs a packet that entered through `in_port` from group 0.
    pub fn process(&self, in_port: u16, packet: &[u8]) -> Verdict {
        self.process_from(0, [0; MAX_TAGS], in_port, packet)
    }

    /// Runs a packet from `group` with the registers preset: how a test
    /// feeds conntrack state (or any recirculation point) in.
    pub fn process_from(
        &self,
        group: u32,
        registers: Registers,
        in_port: u16,
        packet: &[u8],
    ) -> Verdict {
        let mut verdict = Verdict {
            mirrors: SmallVec::new(),
            fate: Fate::Drop(DropReason::UnknownPort),
            path: SmallVec::new(),
        };
        if !self.shared.ports.contains(&in_port) {
            return verdict;
        }
        let tables = self.shared.tables.read();
        let now = self.shared.clock.load(Ordering::Relaxed);
        let mut pkt = Pkt::new(packet);
        let mut md = Meta {
            regs: registers,
            meta: 0,
            mark: None,
        };
        let mut group = group;
        for _ in 0..=MAX_JUMPS {
            let parsed = *pkt.parsed();
            let hit = tables.groups.get(&group).and_then(|g| {
                g.lookup(&View {
                    parsed: &parsed,
                    bytes: pkt.bytes(),
                    md: &md,
                    in_port,
                })
            });
            verdict.path.push(Hop {
                group,
                rule: hit.map(|e| e.id),
            });
            let Some(e) = hit else {
                verdict.fate = Fate::ToSoftware(ToHost {
                    port: self.shared.software_port,
                    queue: None,
                    mark: None,
                    meta: md.meta,
                    registers: md.regs,
                    bytes: pkt.into_vec(),
                });
                return verdict;
            };
            e.packets.fetch_add(1, Ordering::Relaxed);
            e.bytes
                .fetch_add(pkt.bytes().len() as u64, Ordering::Relaxed);
            e.last_hit.store(now, Ordering::Relaxed);
            match self.run(&e.actions, &mut pkt, &mut md, &mut verdict.mirrors) {
                Next::Jump(g) => group = g,
                Next::Fate(f) => {
                    verdict.fate = self.fate(f, pkt, &md);
                    return verdict;
                }
            }
        }
        verdict.fate = Fate::Drop(DropReason::JumpLimit);
        verdict
    }

    /// Runs an action list; returns the fate (the last one, if several).
    fn run(
        &self,
        actions: &[Act],
        pkt: &mut Pkt<'_>,
        md: &mut Meta,
        mirrors: &mut SmallVec<[Fate; 2]>,
    ) -> Next {
        let mut next = Next::Fate(FateAct::None);
        for a in actions {
            match *a {
                Act::Drop => next = Next::Fate(FateAct::Drop(DropReason::Rule)),
                Act::Jump(g) => next = Next::Jump(g),
                Act::Queue(q) => {
                    next = Next::Fate(FateAct::Host(self.shared.software_port, Some(q)))
                }
                Act::RepresentedPort(p) => next = Next::Fate(FateAct::Port(p)),
                Act::PortRepresentor(p) => next = Next::Fate(FateAct::Host(p, None)),
                Act::Sample(ref sub) => {
                    let mut copy = pkt.clone();
                    let mut md2 = *md;
                    let mut none = SmallVec::new();
                    if let Next::Fate(f) = self.run(sub, &mut copy, &mut md2, &mut none) {
                        if !matches!(f, FateAct::None) {
                            mirrors.push(self.fate(f, copy, &md2));
                        }
                    }
                }
                ref other => {
                    if let Err(r) = pkt.apply(md, other) {
                        return Next::Fate(FateAct::Drop(r));
                    }
                }
            }
        }
        next
    }

    fn fate(&self, f: FateAct, pkt: Pkt<'_>, md: &Meta) -> Fate {
        match f {
            FateAct::None => Fate::Drop(DropReason::Rule),
            FateAct::Drop(r) => Fate::Drop(r),
            FateAct::Port(port) => Fate::Output {
                port,
                bytes: pkt.into_vec(),
            },
            FateAct::Host(port, queue) => Fate::ToSoftware(ToHost {
                port,
                queue,
                mark: md.mark,
                meta: md.meta,
                registers: md.regs,
                bytes: pkt.into_vec(),
            }),
        }
    }

    fn install(&self, rule: &RteRule, op: &'static str) -> Result<u64, DeviceError> {
        let lim = self.shared.limits(op);
        let c = compile::compile(rule, &lim)?;
        let id = self.shared.next_id();
        self.shared.tables.write().insert(c, id, &lim)?;
        Ok(id)
    }
}

#[derive(Debug, Clone, Copy)]
enum FateAct {
    None,
    Drop(DropReason),
    Port(u16),
    Host(u16, Option<u16>),
}

enum Next {
    Jump(u32),
    Fate(FateAct),
}

impl FlowDevice for Eswitch {
    type Rule = EswitchRule;

    fn name(&self) -> String {
        format!("eswitch({})", self.shared.profile.name)
    }

    fn validate(&self, rule: &RteRule) -> Result<(), DeviceError> {
        compile::compile(rule, &self.shared.limits("rte_flow_validate")).map(|_| ())
    }

    fn create(&self, rule: &RteRule) -> Result<EswitchRule, DeviceError> {
        let id = self.install(rule, "rte_flow_create")?;
        Ok(EswitchRule {
            id,
            owner: Arc::downgrade(&self.shared),
        })
    }

    fn destroy(&self, mut rule: EswitchRule) -> Result<(), DeviceError> {
        let id = std::mem::replace(&mut rule.id, 0);
        let owned = rule.owner.ptr_eq(&Arc::downgrade(&self.shared));
        if owned && self.shared.remove(id) {
            Ok(())
        } else {
            Err(self.shared.limits("rte_flow_destroy").err(
                libc::ENOENT,
                FlowErrorCause::Handle,
                None,
                "no such rule (destroyed, flushed, or another device's)",
            ))
        }
    }

    fn query(&self, rule: &EswitchRule, reset: bool) -> Result<Counters, DeviceError> {
        let s = self.stats_by_id(rule.id, reset, "rte_flow_query")?;
        Ok(Counters {
            packets: s.packets,
            bytes: s.bytes,
        })
    }

    fn flow_queues(&self) -> u32 {
        self.queue_count()
    }

    fn async_table(&self, rule: &RteRule, capacity: u32) -> Result<TableHandle, DeviceError> {
        self.table_for(rule, capacity)
            .map(|t| TableHandle(u64::from(t.0)))
    }

    fn async_table_destroy(&self, table: TableHandle) -> Result<(), DeviceError> {
        let id = u32::try_from(table.0).map_err(|_| {
            self.async_err(
                "rte_flow_template_table_destroy",
                libc::ENOENT,
                FlowErrorCause::Unspecified,
                "unknown table",
            )
        })?;
        self.destroy_table_for(TableId(id))
    }

    fn async_create(
        &self,
        queue: u32,
        table: TableHandle,
        rule: &RteRule,
        user_data: u64,
    ) -> Result<EswitchRule, DeviceError> {
        let table = TableId(u32::try_from(table.0).unwrap_or(u32::MAX));
        let id = Eswitch::async_create(self, queue, table, rule, 0, 0, true, user_data)?;
        Ok(EswitchRule {
            id: id.0,
            owner: Arc::downgrade(&self.shared),
        })
    }

    fn async_destroy(
        &self,
        queue: u32,
        mut rule: EswitchRule,
        user_data: u64,
    ) -> Result<(), DeviceError> {
        // The queue now owns the removal: the handle must not remove the
        // rule again when dropped.
        // If the queue refuses, the handle gets its id back and removes the
        // rule as it drops: no rule outlives its last handle.
        let id = std::mem::replace(&mut rule.id, 0);
        Eswitch::async_destroy(self, queue, FlowId(id), true, user_data)
            .inspect_err(|_| rule.id = id)
    }

    fn push(&self, queue: u32) -> Result<(), DeviceError> {
        Eswitch::push(self, queue)
    }

    fn pull(&self, queue: u32, out: &mut Vec<Completion>) -> Result<usize, DeviceError> {
        Eswitch::pull(self, queue, out, usize::MAX)
    }
}
