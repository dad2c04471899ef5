//! Shared hardware resources of the offload scheme, reference-counted:
//! recirculation groups, post-conntrack dispatch entries, interned
//! `ct_label`s, encapsulation headers, and the fixed groups.
//!
//! Group layout (transfer domain):
//!
//! | group | holds |
//! |---|---|
//! | 0 ([`GROUP_ROOT`]) | `recirc_id(0)` megaflows of physical in_ports |
//! | 1 ([`GROUP_CT`]) | one rule per direction of each established connection, no NAT |
//! | 2 ([`GROUP_CT_NAT`]) | the same with the NAT rewrite |
//! | 3 ([`GROUP_POST_CT`]) | dispatch on the recirc-target register to the target's group |
//! | 4 ([`GROUP_TUNNEL`]) | `recirc_id(0)` megaflows of virtual in_ports (after decap) |
//! | 16.. | one group per live non-zero `recirc_id`, allocated densely |
//!
//! Every group but the root ends in a lowest-priority miss rule that sends
//! the packet to software with a restore mark ([`RestorePoint`]).

use hashbrown::HashMap;
use std::sync::Arc;

/// `recirc_id(0)` flows of physical ports.
pub const GROUP_ROOT: u32 = 0;
/// Established connections, matched by zone and 5-tuple.
pub const GROUP_CT: u32 = 1;
/// Established connections with their NAT rewrite.
pub const GROUP_CT_NAT: u32 = 2;
/// After conntrack: jump to the group of the recirculation target.
pub const GROUP_POST_CT: u32 = 3;
/// `recirc_id(0)` flows of virtual in_ports (tunnel ports after decap).
pub const GROUP_TUNNEL: u32 = 4;
/// The first group handed to a recirculation id.
pub const GROUP_RECIRC_BASE: u32 = 16;

/// Restore marks: what software must do with a packet a miss rule sent up.
pub mod mark {
    /// No connection in the CT table: run `ct(zone)` (zone in the register)
    /// and recirculate to the target in the register.
    pub const CT_MISS: u32 = 0x00c7_0001;
    /// The same for `ct(zone,nat)`.
    pub const CT_NAT_MISS: u32 = 0x00c7_0002;
    /// No flow for a decapsulated packet: resume at `recirc_id(0)` with the
    /// virtual in_port and tunnel metadata in the registers.
    pub const TUNNEL_MISS: u32 = 0x00c7_0003;
    /// No flow in a recirculation group: `RECIRC_MISS | group`.
    pub const RECIRC_MISS: u32 = 0x0100_0000;
}

/// Where software resumes a packet the NIC sent up with a restore mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RestorePoint {
    /// Before `ct(zone=..)` of the flow that jumped to the CT table.
    CtMiss {
        /// Whether it was `ct(..,nat)`.
        nat: bool,
    },
    /// At `recirc_id(0)` of a virtual in_port.
    Tunnel,
    /// At this recirculation id, with the conntrack metadata the registers hold.
    Recirc {
        /// The recirculation id.
        recirc_id: u32,
    },
}

/// One shared resource a rule depends on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Resource {
    /// The group of a non-zero `recirc_id` (with its miss rule).
    RecircGroup {
        /// OVS's recirculation id.
        recirc_id: u32,
        /// The hardware group.
        group: u32,
    },
    /// The post-CT dispatch rule to a recirculation group.
    CtTarget {
        /// OVS's recirculation id.
        recirc_id: u32,
        /// The hardware group it jumps to.
        group: u32,
    },
    /// The CT and CT-NAT groups with their miss rules.
    CtTables,
    /// The tunnel group with its miss rule.
    TunnelGroup,
    /// An interned `ct_label`.
    Label {
        /// The 128-bit label.
        label: u128,
        /// Its id in the label register.
        id: u32,
    },
    /// An encapsulation header pushed by `RAW_ENCAP`.
    Encap(Arc<[u8]>),
}

/// Why a resource cannot be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exhausted {
    /// No free group.
    Groups(u32),
    /// No free label id.
    Labels(u32),
}

/// The reference counts, and the dense allocators behind them.
/// The maps use hashbrown's default hasher (foldhash): these lookups are on
/// the translation hot path, several per flow.
#[derive(Debug, Default)]
pub struct Resources {
    recirc: HashMap<u32, (u32, u32)>,
    group_recirc: HashMap<u32, u32>,
    free_groups: Vec<u32>,
    next_group: u32,
    ct_targets: HashMap<u32, u32>,
    labels: HashMap<u128, (u32, u32)>,
    free_labels: Vec<u32>,
    next_label: u32,
    encaps: HashMap<Arc<[u8]>, u32>,
    ct_tables: u32,
    tunnel_group: u32,
}

impl Resources {
    /// No resource in use.
    pub fn new() -> Self {
        Self {
            next_group: GROUP_RECIRC_BASE,
            next_label: 1,
            ..Self::default()
        }
    }

    /// The group of `recirc_id` if it has one.
    pub fn group_of(&self, recirc_id: u32) -> Option<u32> {
        self.recirc.get(&recirc_id).map(|&(g, _)| g)
    }

    /// The recirc id behind `group`.
    fn recirc_of(&self, group: u32) -> Option<u32> {
        self.group_recirc.get(&group).copied()
    }

    /// The label behind an id (0: label 0): what a hardware miss restores
    /// into OVS's ct_label (engine::nic). A scan of the interned labels,
    /// which are few (the label register's id space).
    pub fn label_of(&self, id: u32) -> Option<u128> {
        if id == 0 {
            return Some(0);
        }
        self.labels
            .iter()
            .find(|(_, &(i, _))| i == id)
            .map(|(&l, _)| l)
    }

    /// The id of an interned label, if interned (label 0 is id 0).
    pub fn label_id(&self, label: u128) -> Option<u32> {
        if label == 0 {
            Some(0)
        } else {
            self.labels.get(&label).map(|&(id, _)| id)
        }
    }

    /// What a restore mark means.
    pub fn restore_point(&self, m: u32) -> Option<RestorePoint> {
        match m {
            mark::CT_MISS => Some(RestorePoint::CtMiss { nat: false }),
            mark::CT_NAT_MISS => Some(RestorePoint::CtMiss { nat: true }),
            mark::TUNNEL_MISS => Some(RestorePoint::Tunnel),
            m if m & 0xff00_0000 == mark::RECIRC_MISS => self
                .recirc_of(m & 0x00ff_ffff)
                .map(|recirc_id| RestorePoint::Recirc { recirc_id }),
            _ => None,
        }
    }

    /// The group `recirc_id` would get, allocating it if new (without
    /// taking a reference: [`acquire`](Self::acquire) does).
    pub(crate) fn plan_group(&mut self, recirc_id: u32, max_groups: u32) -> Result<u32, Exhausted> {
        if let Some(&(g, _)) = self.recirc.get(&recirc_id) {
            return Ok(g);
        }
        let g = match self.free_groups.pop() {
            Some(g) => g,
            None if self.next_group < max_groups => {
                self.next_group += 1;
                self.next_group - 1
            }
            None => return Err(Exhausted::Groups(max_groups)),
        };
        self.recirc.insert(recirc_id, (g, 0));
        self.group_recirc.insert(g, recirc_id);
        Ok(g)
    }

    /// The id `label` would get, allocating it if new.
    pub(crate) fn plan_label(&mut self, label: u128, max_id: u32) -> Result<u32, Exhausted> {
        if let Some(id) = self.label_id(label) {
            return Ok(id);
        }
        let id = match self.free_labels.pop() {
            Some(id) => id,
            None if self.next_label <= max_id => {
                self.next_label += 1;
                self.next_label - 1
            }
            None => return Err(Exhausted::Labels(max_id)),
        };
        self.labels.insert(label, (id, 0));
        Ok(id)
    }

    /// Takes a reference on `r`; returns whether it is the first one (the
    /// caller then installs what the resource stands for).
    pub fn acquire(&mut self, r: &Resource) -> bool {
        fn bump(count: &mut u32) -> bool {
            *count += 1;
            *count == 1
        }
        match r {
            Resource::RecircGroup { recirc_id, .. } => self
                .recirc
                .get_mut(recirc_id)
                .is_some_and(|(_, refs)| bump(refs)),
            Resource::CtTarget { recirc_id, .. } => {
                bump(self.ct_targets.entry(*recirc_id).or_insert(0))
            }
            Resource::CtTables => bump(&mut self.ct_tables),
            Resource::TunnelGroup => bump(&mut self.tunnel_group),
            Resource::Label { label, .. } => self
                .labels
                .get_mut(label)
                .is_some_and(|(_, refs)| bump(refs)),
            Resource::Encap(h) => bump(self.encaps.entry(h.clone()).or_insert(0)),
        }
    }

    /// Drops a reference on `r`; returns whether it was the last one (the
    /// caller then removes what the resource stands for). Groups and label
    /// ids return to their free lists.
    pub fn release(&mut self, r: &Resource) -> bool {
        fn drop_ref(count: &mut u32) -> bool {
            *count = count.saturating_sub(1);
            *count == 0
        }
        match r {
            Resource::RecircGroup { recirc_id, group } => {
                let last = self
                    .recirc
                    .get_mut(recirc_id)
                    .is_some_and(|(_, refs)| drop_ref(refs));
                if last {
                    self.recirc.remove(recirc_id);
                    self.group_recirc.remove(group);
                    self.free_groups.push(*group);
                }
                last
            }
            Resource::CtTarget { recirc_id, .. } => {
                let last = self.ct_targets.get_mut(recirc_id).is_some_and(drop_ref);
                if last {
                    self.ct_targets.remove(recirc_id);
                }
                last
            }
            Resource::CtTables => self.ct_tables > 0 && drop_ref(&mut self.ct_tables),
            Resource::TunnelGroup => self.tunnel_group > 0 && drop_ref(&mut self.tunnel_group),
            Resource::Label { label, id } => {
                let last = self
                    .labels
                    .get_mut(label)
                    .is_some_and(|(_, refs)| drop_ref(refs));
                if last {
                    self.labels.remove(label);
                    self.free_labels.push(*id);
                }
                last
            }
            Resource::Encap(h) => {
                let last = self.encaps.get_mut(h).is_some_and(drop_ref);
                if last {
                    self.encaps.remove(h);
                }
                last
            }
        }
    }

    /// Forgets an allocation no reference took (a translation that was
    /// planned and then rejected).
    pub(crate) fn forget_if_unused(&mut self, r: &Resource) {
        match r {
            Resource::RecircGroup { recirc_id, group }
                if self
                    .recirc
                    .get(recirc_id)
                    .is_some_and(|&(_, refs)| refs == 0) =>
            {
                self.recirc.remove(recirc_id);
                self.group_recirc.remove(group);
                self.free_groups.push(*group);
            }
            Resource::Label { label, id }
                if self.labels.get(label).is_some_and(|&(_, refs)| refs == 0) =>
            {
                self.labels.remove(label);
                self.free_labels.push(*id);
            }
            _ => {}
        }
    }

    /// Forgets every allocation that no reference took.
    #[cfg(test)]
    fn drop_unreferenced(&mut self) {
        let orphans: Vec<(u32, u32)> = self
            .recirc
            .iter()
            .filter(|(_, &(_, refs))| refs == 0)
            .map(|(&r, &(g, _))| (r, g))
            .collect();
        for (r, g) in orphans {
            self.recirc.remove(&r);
            self.group_recirc.remove(&g);
            self.free_groups.push(g);
        }
        let orphans: Vec<(u128, u32)> = self
            .labels
            .iter()
            .filter(|(_, &(_, refs))| refs == 0)
            .map(|(&l, &(id, _))| (l, id))
            .collect();
        for (l, id) in orphans {
            self.labels.remove(&l);
            self.free_labels.push(id);
        }
    }

    /// Live counts: recirc groups, CT targets, labels, encap headers.
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        (
            self.recirc.len(),
            self.ct_targets.len(),
            self.labels.len(),
            self.encaps.len(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_dense_refcounted_and_reused() {
        let mut r = Resources::new();
        let g1 = r.plan_group(0x2d277, 100).unwrap();
        let g2 = r.plan_group(0x2d278, 100).unwrap();
        assert_eq!((g1, g2), (GROUP_RECIRC_BASE, GROUP_RECIRC_BASE + 1));
        let a = Resource::RecircGroup {
            recirc_id: 0x2d277,
            group: g1,
        };
        assert!(r.acquire(&a), "first user");
        assert!(!r.acquire(&a), "second user");
        assert_eq!(
            r.plan_group(0x2d277, 100).unwrap(),
            g1,
            "same id, same group"
        );
        assert!(!r.release(&a));
        assert!(r.release(&a), "last user");
        assert_eq!(r.group_of(0x2d277), None);
        // g2 was planned but never acquired: dropped as an orphan.
        r.drop_unreferenced();
        assert_eq!(r.counts(), (0, 0, 0, 0));
        let g3 = r.plan_group(7, 100).unwrap();
        assert!([g1, g2].contains(&g3), "freed groups are reused");
    }

    #[test]
    fn running_out_of_groups_is_an_error() {
        let mut r = Resources::new();
        for id in 0..4 {
            let g = r.plan_group(id + 1, GROUP_RECIRC_BASE + 4).unwrap();
            r.acquire(&Resource::RecircGroup {
                recirc_id: id + 1,
                group: g,
            });
        }
        assert_eq!(
            r.plan_group(99, GROUP_RECIRC_BASE + 4),
            Err(Exhausted::Groups(GROUP_RECIRC_BASE + 4))
        );
    }

    #[test]
    fn labels_intern_to_small_ids_and_marks_restore() {
        let mut r = Resources::new();
        let l = 0x0001_0001u128 << 64;
        let id = r.plan_label(l, 0xffff).unwrap();
        assert_eq!(id, 1);
        r.acquire(&Resource::Label { label: l, id });
        assert_eq!(r.label_id(l), Some(1));
        assert_eq!(r.label_id(0), Some(0));
        let g = r.plan_group(0x42, 100).unwrap();
        r.acquire(&Resource::RecircGroup {
            recirc_id: 0x42,
            group: g,
        });
        assert_eq!(
            r.restore_point(mark::RECIRC_MISS | g),
            Some(RestorePoint::Recirc { recirc_id: 0x42 })
        );
        assert_eq!(
            r.restore_point(mark::CT_NAT_MISS),
            Some(RestorePoint::CtMiss { nat: true })
        );
        assert_eq!(r.restore_point(mark::RECIRC_MISS | 9999), None);
        assert_eq!(r.restore_point(12), None);
    }
}
