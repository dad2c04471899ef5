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

mod exec;
mod parse;
mod queue;
mod rules;

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use hashbrown::hash_table::Entry as Slot;
use hashbrown::{HashMap, HashTable};
use parking_lot::{Mutex, RwLock};
use smallvec::SmallVec;

use crate::device::{Completion, Counters, DeviceError, FlowDevice, FlowErrorCause, TableHandle};
use crate::profile::DeviceProfile;
use crate::rte::RteRule;

pub use exec::Registers;
pub use parse::MAX_LAYERS;
pub use queue::{ActionsTemplateId, FlowId, PatternTemplateId, TableId};
pub use rules::MAX_TAGS;

use exec::{Meta, Pkt};
use parse::{Parsed, Proto};
use rules::{Act, Compiled, Key, KeyOp, Limits, Shape, Src};

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

/// An installed rule.
#[derive(Debug)]
pub(crate) struct Entry {
    pub id: u64,
    seq: u64,
    pub group: u32,
    priority: u32,
    /// The subtable's shape (shared, not a copy).
    shape: Arc<Shape>,
    key: Key,
    bounds: SmallVec<[(u32, u32); 1]>,
    actions: Box<[Act]>,
    pub counts: bool,
    packets: AtomicU64,
    bytes: AtomicU64,
    /// `u64::MAX`: never hit.
    last_hit: AtomicU64,
}

impl Entry {
    fn stats(&self, reset: bool) -> RuleStats {
        let (packets, bytes) = if reset {
            (
                self.packets.swap(0, Ordering::Relaxed),
                self.bytes.swap(0, Ordering::Relaxed),
            )
        } else {
            (
                self.packets.load(Ordering::Relaxed),
                self.bytes.load(Ordering::Relaxed),
            )
        };
        let last = self.last_hit.load(Ordering::Relaxed);
        RuleStats {
            packets,
            bytes,
            last_hit: (last != u64::MAX).then_some(last),
        }
    }
}

/// The rules of one key in a subtable. The key is its entries' (no copy in
/// the index); its hash is kept so that growing the index does not read
/// every entry again.
#[derive(Debug)]
struct Bucket {
    hash: u64,
    /// Never empty; sorted by (priority, creation).
    rules: SmallVec<[Arc<Entry>; 1]>,
}

impl Bucket {
    fn holds(&self, hash: u64, key: &[u8]) -> bool {
        self.hash == hash && self.rules[0].key[..] == *key
    }
}

/// How key bytes are hashed: foldhash (hashbrown's own hasher) at a fixed
/// seed.
const KEY_HASHER: foldhash::fast::FixedState = foldhash::fast::FixedState::with_seed(0x0035_c0e5);

fn key_hash(key: &[u8]) -> u64 {
    KEY_HASHER.hash_one(key)
}

/// Rules of one shape in one group, hashed by their key bytes.
#[derive(Debug)]
struct Subtable {
    /// Shared with every entry of the subtable.
    shape: Arc<Shape>,
    buckets: HashTable<Bucket>,
    /// A lower bound of the priorities held (not raised on removal).
    min_priority: u32,
    len: usize,
}

#[derive(Debug, Default)]
struct Group {
    /// Sorted by `min_priority`.
    subtables: Vec<Subtable>,
    len: usize,
}

/// Binds each protocol item of `protos` to a layer of `p`, in order.
fn bind(protos: &[Proto], p: &Parsed, out: &mut SmallVec<[u8; 8]>) -> bool {
    let layers = p.layers();
    let mut li = 0;
    for (k, &proto) in protos.iter().enumerate() {
        if k == 0 && proto != Proto::Eth {
            // Omitted leading layers are wildcards.
            match layers.iter().position(|l| l.proto == proto) {
                Some(i) => li = i,
                None => return false,
            }
        }
        loop {
            let Some(l) = layers.get(li) else {
                return false;
            };
            if l.proto == proto {
                out.push(li as u8);
                li += 1;
                break;
            }
            let skippable = matches!(
                (l.proto, proto),
                (Proto::Ipv6FragExt, _)
                    | (Proto::Icmp6, Proto::NdNs | Proto::NdNa)
                    | (
                        Proto::NdOptSla | Proto::NdOptTla,
                        Proto::NdOptSla | Proto::NdOptTla
                    )
            );
            if !skippable {
                return false;
            }
            li += 1;
        }
    }
    true
}

/// What a packet is matched with in one group.
struct View<'a> {
    parsed: &'a Parsed,
    bytes: &'a [u8],
    md: &'a Meta,
    in_port: u16,
}

impl View<'_> {
    fn byte(&self, op: &KeyOp, bound: &[u8]) -> u8 {
        let layers = self.parsed.layers();
        let layer = |item: u8| {
            bound
                .get(usize::from(item))
                .and_then(|&i| layers.get(usize::from(i)).map(|l| (usize::from(i), *l)))
        };
        let v = match op.src {
            Src::Layer { item, off } => layer(item)
                .and_then(|(_, l)| {
                    self.bytes
                        .get(usize::from(l.off) + usize::from(off))
                        .copied()
                })
                .unwrap_or(0),
            Src::Flag { item } => layer(item).map_or(0, |(i, l)| {
                let next = layers.get(i + 1).map(|n| n.proto);
                let set = match l.proto {
                    Proto::Eth | Proto::Vlan => next == Some(Proto::Vlan),
                    Proto::Ipv6 => next == Some(Proto::Ipv6FragExt),
                    _ => false,
                };
                u8::from(set)
            }),
            Src::Reg { index, byte } => {
                let r = self.md.regs.get(usize::from(index)).copied().unwrap_or(0);
                (r >> (24 - 8 * u32::from(byte))) as u8
            }
            Src::Meta { byte } => (self.md.meta >> (24 - 8 * u32::from(byte))) as u8,
            Src::Mark { byte } => (self.md.mark.unwrap_or(0) >> (24 - 8 * u32::from(byte))) as u8,
            Src::Port { byte } => self.in_port.to_be_bytes()[usize::from(byte & 1)],
            Src::FromHost => 0,
        };
        v & op.mask
    }

    fn in_range(&self, shape: &Shape, bounds: &[(u32, u32)], bound: &[u8]) -> bool {
        shape.ranges.iter().zip(bounds).all(|(r, &(lo, hi))| {
            let Some(l) = bound
                .get(usize::from(r.item))
                .and_then(|&i| self.parsed.layers().get(usize::from(i)))
            else {
                return false;
            };
            let at = usize::from(l.off) + usize::from(r.off);
            let Some(b) = self.bytes.get(at..at + usize::from(r.len)) else {
                return false;
            };
            let v = b.iter().fold(0u32, |a, &x| (a << 8) | u32::from(x)) & r.mask;
            lo <= v && v <= hi
        })
    }
}

impl Group {
    fn lookup(&self, view: &View<'_>) -> Option<&Arc<Entry>> {
        let mut best: Option<&Arc<Entry>> = None;
        let mut bound: SmallVec<[u8; 8]> = SmallVec::new();
        let mut key: SmallVec<[u8; 128]> = SmallVec::new();
        for st in &self.subtables {
            if best.is_some_and(|b| st.min_priority > b.priority) {
                break; // sorted: nothing better follows
            }
            bound.clear();
            if !bind(&st.shape.protos, view.parsed, &mut bound) {
                continue;
            }
            key.clear();
            key.extend(st.shape.ops.iter().map(|op| view.byte(op, &bound)));
            let hash = key_hash(&key);
            let Some(bucket) = st.buckets.find(hash, |b| b.holds(hash, &key)) else {
                continue;
            };
            let hit = bucket.rules.iter().find(|e| {
                st.shape.ranges.is_empty() || view.in_range(&st.shape, &e.bounds, &bound)
            });
            if let Some(e) = hit {
                if best.map_or(true, |b| (e.priority, e.seq) < (b.priority, b.seq)) {
                    best = Some(e);
                }
            }
        }
        best
    }
}

/// Every rule of the device.
#[derive(Debug, Default)]
pub(crate) struct Tables {
    groups: HashMap<u32, Group>,
    by_id: HashMap<u64, Arc<Entry>>,
    seq: u64,
}

impl Tables {
    /// Installs `c` as rule `id`, or refuses it when full.
    pub(crate) fn insert(
        &mut self,
        c: Compiled,
        id: u64,
        lim: &Limits<'_>,
    ) -> Result<(), DeviceError> {
        if self.by_id.len() >= lim.profile.rules as usize {
            return Err(lim.err(
                libc::ENOSPC,
                FlowErrorCause::Unspecified,
                None,
                format!("the device holds {} rules and is full", lim.profile.rules),
            ));
        }
        let group = self.groups.entry(c.group).or_default();
        if group.len >= lim.profile.rules_per_group as usize {
            return Err(lim.err(
                libc::ENOSPC,
                FlowErrorCause::AttrGroup,
                None,
                format!(
                    "group {} holds {} rules and is full",
                    c.group, lim.profile.rules_per_group
                ),
            ));
        }
        self.seq += 1;
        let Compiled {
            group: group_id,
            priority,
            matcher,
            actions,
            counts,
            ..
        } = c;
        // Rules of one shape share its subtable's copy of it.
        let (si, mut resort) = match group
            .subtables
            .iter()
            .position(|s| *s.shape == matcher.shape)
        {
            Some(i) => (i, false),
            None => {
                group.subtables.push(Subtable {
                    shape: Arc::new(matcher.shape),
                    buckets: HashTable::new(),
                    min_priority: priority,
                    len: 0,
                });
                (group.subtables.len() - 1, true)
            }
        };
        let st = &mut group.subtables[si];
        let entry = Arc::new(Entry {
            id,
            seq: self.seq,
            group: group_id,
            priority,
            shape: st.shape.clone(),
            key: matcher.key,
            bounds: matcher.bounds,
            actions,
            counts,
            packets: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            last_hit: AtomicU64::new(u64::MAX),
        });
        resort |= priority < st.min_priority;
        st.min_priority = st.min_priority.min(priority);
        st.len += 1;
        let hash = key_hash(&entry.key);
        match st
            .buckets
            .entry(hash, |b| b.holds(hash, &entry.key), |b| b.hash)
        {
            Slot::Occupied(o) => {
                let bucket = &mut o.into_mut().rules;
                let at =
                    bucket.partition_point(|e| (e.priority, e.seq) <= (entry.priority, entry.seq));
                bucket.insert(at, entry.clone());
            }
            Slot::Vacant(v) => {
                v.insert(Bucket {
                    hash,
                    rules: smallvec::smallvec![entry.clone()],
                });
            }
        }
        // A stable sort of a sorted list changes nothing: sort only when a
        // subtable was added or its minimum lowered.
        if resort {
            group.subtables.sort_by_key(|s| s.min_priority);
        }
        group.len += 1;
        self.by_id.insert(id, entry);
        Ok(())
    }

    /// Removes rule `id`; `false` if there is none.
    pub(crate) fn remove(&mut self, id: u64) -> bool {
        let Some(e) = self.by_id.remove(&id) else {
            return false;
        };
        if let Some(g) = self.groups.get_mut(&e.group) {
            if let Some(si) = g
                .subtables
                .iter()
                .position(|s| Arc::ptr_eq(&s.shape, &e.shape))
            {
                let st = &mut g.subtables[si];
                let hash = key_hash(&e.key);
                if let Ok(mut slot) = st.buckets.find_entry(hash, |b| b.holds(hash, &e.key)) {
                    let bucket = &mut slot.get_mut().rules;
                    bucket.retain(|x| x.id != id);
                    if bucket.is_empty() {
                        slot.remove();
                    }
                }
                st.len -= 1;
                if st.len == 0 {
                    g.subtables.remove(si);
                }
            }
            g.len -= 1;
            if g.len == 0 {
                self.groups.remove(&e.group);
            }
        }
        true
    }

    pub(crate) fn get(&self, id: u64) -> Option<&Arc<Entry>> {
        self.by_id.get(&id)
    }

    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }
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
/// rule (as dropping a a DPDK port's `Flow` destroys it).
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
        let c = rules::compile(rule, &lim)?;
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
        rules::compile(rule, &self.shared.limits("rte_flow_validate")).map(|_| ())
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
