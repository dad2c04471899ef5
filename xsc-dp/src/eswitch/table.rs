//! The matcher: installed rules in per-group tables, and the lookup of a
//! packet in one group.
//!
//! Each group keeps one hash table ([`Subtable`]) per rule *shape* (the
//! protocols and masks a rule matches on, from the rule compiler); a lookup
//! binds the shape's protocol items to the packet's parsed layers, hashes
//! the packet's masked bytes once per shape and compares them with the
//! rules' keys (tuple space search). Within a key, rules are sorted by
//! (priority, creation), so the first that passes its ranges wins.
//!
//! The lookup's small functions are `#[inline]`: they sat in one file with
//! `Eswitch::process` before, and a release build without LTO inlines
//! across codegen units only what is marked.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use hashbrown::hash_table::Entry as Slot;
use hashbrown::{HashMap, HashTable};
use smallvec::SmallVec;

use super::compile::Limits;
use super::compiled::{Act, Compiled, Key, KeyOp, Shape, Src};
use super::exec::Meta;
use super::parse::{Parsed, Proto};
use super::RuleStats;
use crate::device::{DeviceError, FlowErrorCause};

/// An installed rule.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) id: u64,
    pub(crate) seq: u64,
    pub(crate) group: u32,
    pub(crate) priority: u32,
    /// The subtable's shape (shared, not a copy).
    pub(crate) shape: Arc<Shape>,
    pub(crate) key: Key,
    pub(crate) bounds: SmallVec<[(u32, u32); 1]>,
    pub(crate) actions: Box<[Act]>,
    pub(crate) counts: bool,
    pub(crate) packets: AtomicU64,
    pub(crate) bytes: AtomicU64,
    /// `u64::MAX`: never hit.
    pub(crate) last_hit: AtomicU64,
}

impl Entry {
    pub(crate) fn stats(&self, reset: bool) -> RuleStats {
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
pub(crate) struct Bucket {
    pub(crate) hash: u64,
    /// Never empty; sorted by (priority, creation).
    pub(crate) rules: SmallVec<[Arc<Entry>; 1]>,
}

impl Bucket {
    #[inline]
    pub(crate) fn holds(&self, hash: u64, key: &[u8]) -> bool {
        self.hash == hash && self.rules[0].key[..] == *key
    }
}

/// How key bytes are hashed: foldhash (hashbrown's own hasher) at a fixed
/// seed.
pub(crate) const KEY_HASHER: foldhash::fast::FixedState =
    foldhash::fast::FixedState::with_seed(0x0035_c0e5);

#[inline]
pub(crate) fn key_hash(key: &[u8]) -> u64 {
    KEY_HASHER.hash_one(key)
}

/// Rules of one shape in one group, hashed by their key bytes.
#[derive(Debug)]
pub(crate) struct Subtable {
    /// Shared with every entry of the subtable.
    pub(crate) shape: Arc<Shape>,
    pub(crate) buckets: HashTable<Bucket>,
    /// A lower bound of the priorities held (not raised on removal).
    pub(crate) min_priority: u32,
    pub(crate) len: usize,
}

#[derive(Debug, Default)]
pub(crate) struct Group {
    /// Sorted by `min_priority`.
    pub(crate) subtables: Vec<Subtable>,
    pub(crate) len: usize,
}

/// Binds each protocol item of `protos` to a layer of `p`, in order.
#[inline]
pub(crate) fn bind(protos: &[Proto], p: &Parsed, out: &mut SmallVec<[u8; 8]>) -> bool {
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
pub(crate) struct View<'a> {
    pub(crate) parsed: &'a Parsed,
    pub(crate) bytes: &'a [u8],
    pub(crate) md: &'a Meta,
    pub(crate) in_port: u16,
}

impl View<'_> {
    pub(crate) fn byte(&self, op: &KeyOp, bound: &[u8]) -> u8 {
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

    #[inline]
    pub(crate) fn in_range(&self, shape: &Shape, bounds: &[(u32, u32)], bound: &[u8]) -> bool {
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
    #[inline]
    pub(crate) fn lookup(&self, view: &View<'_>) -> Option<&Arc<Entry>> {
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
    pub(crate) groups: HashMap<u32, Group>,
    pub(crate) by_id: HashMap<u64, Arc<Entry>>,
    pub(crate) seq: u64,
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
