//! Translation: OVS megaflows and conntrack entries → hardware rules.
//!
//! The scheme ("Semantics to keep" in ARCHITECTURE.md): OVS executes
//! `ct(...)` and `recirc(...)` in software; on the NIC they become groups and
//! metadata registers (rte_flow `TAG`s), as vendors do for TC conntrack
//! offload.
//!
//! - `recirc_id(0)` flows live in group 0 (group 4 for virtual in_ports);
//!   each non-zero recirc id gets a group, and `recirc(R)` is `JUMP` there.
//!   Registers survive the jump as OVS metadata survives recirculation.
//! - `ct(zone=Z[,nat])` + `recirc(R)` set the zone and target registers and
//!   `JUMP` to the CT (CT-NAT) group, where each established connection has
//!   one rule per direction that sets ct_state, mark and label and applies
//!   NAT, then jumps to the post-CT dispatch, which jumps to R's group. A
//!   miss anywhere goes to software with a restore mark.
//! - `ct_state`/`ct_zone`/`ct_mark`/`ct_label` matches are register matches
//!   with the flow's masks; states only software produces (+new, +inv, +rel)
//!   are rejections.
//!
//! Everything here is pure: no I/O, no device. A [`Translator`] holds the
//! profile, the port map and the shared-resource counts; a megaflow either
//! becomes a [`Translation`] (one rule plus the resources it took) or a
//! [`Rejected`] naming the first key, field or action that cannot be
//! offloaded and why.
//!
//! Rooms: `flow` (the megaflow driver), `regs` (TAG registers), `metadata`
//! (skb, ct and tunnel metadata matches), `headers` (L2-L4 items),
//! `actions`, `ct_action` and `set` (datapath actions), `conntrack`
//! (connections), `ports` (the port map), `resources` (shared hardware
//! resources and their counts), `rejected` (why not).
//!
//! Must not depend on: anything below it in the flow (odp → rule →
//! profile → translate → rte → device → dpdk | eswitch → engine). It reads
//! `odp`, `rule` and `profile` only.

mod actions;
mod conntrack;
mod ct_action;
mod flow;
mod headers;
mod metadata;
mod ports;
mod regs;
mod rejected;
mod resources;
mod set;

use smallvec::SmallVec;

pub use conntrack::ConnTranslation;
pub use ports::{PortMap, PortMapError, PortTarget};
pub use rejected::{ConnId, Holder, Rejected, SetMask, Unmatchable};
pub use resources::{
    mark, Exhausted, Resource, Resources, RestorePoint, GROUP_CT, GROUP_CT_NAT, GROUP_POST_CT,
    GROUP_RECIRC_BASE, GROUP_ROOT, GROUP_TUNNEL,
};

use crate::profile::DeviceProfile;
use crate::rule::{Action, Attr, HwRule, Item, Masked};

/// A megaflow's hardware form.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Translation {
    /// The rule.
    pub rule: HwRule,
    /// The shared resources it took a reference on, in acquisition order.
    pub resources: SmallVec<[Resource; 4]>,
    /// Those of `resources` this translation was the first user of: their
    /// fixed rules ([`Translator::fixed_rules`]) must be installed before
    /// `rule`.
    pub new_resources: SmallVec<[Resource; 2]>,
}

/// Settings of the scheme that are not the device's.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {
    /// Where miss rules send packets: the ethdev port OVS-DPDK receives
    /// exceptions on (the E-Switch manager, normally the PF).
    pub software_port: u16,
    /// Priority of megaflow and connection rules.
    pub flow_priority: u32,
}

/// Translates megaflows and connections for one device.
#[derive(Debug)]
pub struct Translator {
    profile: DeviceProfile,
    ports: PortMap,
    config: Config,
    resources: Resources,
}

impl Translator {
    /// A translator for `profile` with `ports`.
    pub fn new(profile: DeviceProfile, ports: PortMap, config: Config) -> Self {
        Self {
            profile,
            ports,
            config,
            resources: Resources::new(),
        }
    }

    /// The profile.
    pub fn profile(&self) -> &DeviceProfile {
        &self.profile
    }

    /// The port map.
    pub fn ports(&self) -> &PortMap {
        &self.ports
    }

    /// The shared resources in use.
    pub fn resources(&self) -> &Resources {
        &self.resources
    }

    /// Releases what a translation took; returns the resources whose last
    /// user it was (their fixed rules can go, after the flow's rule).
    pub fn release(&mut self, resources: &[Resource]) -> SmallVec<[Resource; 2]> {
        let mut gone = SmallVec::new();
        for r in resources.iter().rev() {
            if self.resources.release(r) {
                gone.push(r.clone());
            }
        }
        gone
    }

    /// Takes references on `planned` (in order); returns those that are new.
    fn take(&mut self, planned: &[Resource]) -> SmallVec<[Resource; 2]> {
        planned
            .iter()
            .filter(|r| self.resources.acquire(r))
            .cloned()
            .collect()
    }

    /// The rules a shared resource stands for: a recirculation group's miss
    /// rule, a post-CT dispatch rule, the CT tables' and the tunnel group's
    /// miss rules. Labels and encap headers need no rule.
    pub fn fixed_rules(&self, r: &Resource) -> SmallVec<[HwRule; 2]> {
        let miss = |group: u32, mark: u32| self.miss_rule(group, mark);
        match r {
            Resource::RecircGroup { group, .. } => {
                SmallVec::from_iter([miss(*group, mark::RECIRC_MISS | group)])
            }
            Resource::CtTarget { group, .. } => {
                let reg = self.profile.registers.recirc_target;
                let rule = HwRule {
                    attr: self.attr(GROUP_POST_CT),
                    pattern: SmallVec::from_iter([Item::Tag {
                        index: reg.index,
                        m: Masked::new(reg.place(*group), reg.mask()),
                    }]),
                    actions: SmallVec::from_iter([Action::Count, Action::Jump { group: *group }]),
                };
                SmallVec::from_iter([rule])
            }
            Resource::CtTables => SmallVec::from_iter([
                miss(GROUP_CT, mark::CT_MISS),
                miss(GROUP_CT_NAT, mark::CT_NAT_MISS),
            ]),
            Resource::TunnelGroup => SmallVec::from_iter([miss(GROUP_TUNNEL, mark::TUNNEL_MISS)]),
            Resource::Label { .. } | Resource::Encap(_) => SmallVec::new(),
        }
    }

    /// The lowest-priority rule of `group`: count, mark for restore, and
    /// hand the packet to software.
    fn miss_rule(&self, group: u32, restore: u32) -> HwRule {
        HwRule {
            attr: Attr {
                group,
                priority: self.profile.priorities.saturating_sub(1),
                dir: self.profile.direction,
            },
            pattern: SmallVec::new(),
            actions: SmallVec::from_iter([
                Action::Count,
                Action::Mark { id: restore },
                Action::PortRepresentor {
                    port_id: self.config.software_port,
                },
            ]),
        }
    }

    fn attr(&self, group: u32) -> Attr {
        Attr {
            group,
            priority: self.config.flow_priority,
            dir: self.profile.direction,
        }
    }

    /// Checks that the device has every item and action of `rule`.
    fn check_profile(&self, rule: &HwRule) -> Result<(), Rejected> {
        let name = &self.profile.name;
        for item in &rule.pattern {
            if !self.profile.has_item(item.kind()) {
                return Err(Rejected::ProfileItem {
                    profile: name.clone(),
                    item: item.kind(),
                });
            }
        }
        let mut check = |a: &Action| -> Result<(), Rejected> {
            if self.profile.has_action(a.kind()) {
                Ok(())
            } else {
                Err(Rejected::ProfileAction {
                    profile: name.clone(),
                    action: a.kind(),
                })
            }
        };
        for a in &rule.actions {
            check(a)?;
            if let Action::Sample { actions, .. } = a {
                actions.iter().try_for_each(&mut check)?;
            }
            if let Action::RawEncap(h) = a {
                if h.len() > usize::from(self.profile.max_encap_size) {
                    return Err(Rejected::EncapTooLong {
                        profile: name.clone(),
                        len: h.len(),
                        max: self.profile.max_encap_size,
                    });
                }
            }
        }
        Ok(())
    }
}
