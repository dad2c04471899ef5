//! Megaflow → rule, the driver: which group the flow lives in, its
//! registers, pattern and actions, built by the rooms beside it
//! (`metadata`, `headers`, `actions`, `ct_action`, `set`), then checked
//! against the profile. A rejection gives back every resource this
//! translation allocated: a rejected flow takes nothing.
//!
//! Invariants: the pattern is registers (TAG items) first, then the
//! represented port, then the headers; every rule counts on devices that
//! have counters; resources are planned here and taken only on success.
//!
//! Must not depend on: anything below `translate` in the flow (`rte`,
//! `device`, `dpdk`, `eswitch`, `engine`).

use smallvec::SmallVec;

use super::headers::headers;
use super::regs::Regs;
use super::rejected::{Holder, Unmatchable};
use super::resources::{Resource, GROUP_ROOT, GROUP_TUNNEL};
use super::{PortTarget, Rejected, Translation, Translator};
use crate::odp::{KeyAttr, Megaflow, OdpPort};
use crate::rule::*;

/// The shared resources a translation needs, in acquisition order.
pub(super) type Planned = SmallVec<[Resource; 4]>;

/// A field whose mask is non-zero has no hardware form here.
pub(super) fn no_hw(field: Unmatchable, mask_nonzero: bool) -> Result<(), Rejected> {
    if mask_nonzero {
        Err(Rejected::Unmatchable { field })
    } else {
        Ok(())
    }
}

impl Translator {
    /// Translates one megaflow, taking references on the shared resources
    /// it needs. On rejection nothing is taken.
    pub fn translate(&mut self, flow: &Megaflow) -> Result<Translation, Rejected> {
        let mut out = Translation::default();
        self.translate_into(flow, &mut out)?;
        Ok(out)
    }

    /// [`translate`](Self::translate) into a reused [`Translation`]: the
    /// hot path's form, which copies no rule around. On rejection `out` is
    /// left cleared and nothing is taken.
    pub fn translate_into(
        &mut self,
        flow: &Megaflow,
        out: &mut Translation,
    ) -> Result<(), Rejected> {
        out.rule.pattern.clear();
        out.rule.actions.clear();
        out.resources.clear();
        out.new_resources.clear();
        let mut fresh = SmallVec::<[Resource; 4]>::new();
        let result = self
            .build(flow, out, &mut fresh)
            .and_then(|()| self.check_profile(&out.rule));
        match result {
            Ok(()) => {
                out.new_resources = self.take(&out.resources);
                Ok(())
            }
            Err(e) => {
                for r in &fresh {
                    self.resources.forget_if_unused(r);
                }
                out.rule.pattern.clear();
                out.rule.actions.clear();
                out.resources.clear();
                Err(e)
            }
        }
    }

    fn build(
        &mut self,
        flow: &Megaflow,
        out: &mut Translation,
        fresh: &mut SmallVec<[Resource; 4]>,
    ) -> Result<(), Rejected> {
        let (key, mask) = (&flow.key, &flow.mask);
        let planned = &mut out.resources;
        let mut regs = Regs::default();
        // Which group the flow lives in.
        let recirc_id = if key.has(KeyAttr::RecircId) && mask.recirc_id != 0 {
            key.recirc_id
        } else {
            0
        };
        let in_port = if key.has(KeyAttr::InPort) && mask.in_port != OdpPort::Number(0) {
            let target = self
                .ports
                .lookup(&key.in_port)
                .ok_or(Rejected::InPortUnmapped { port: key.in_port })?;
            Some(target)
        } else {
            None
        };
        let group = if recirc_id != 0 {
            self.recirc_group(recirc_id, planned, fresh)?
        } else if matches!(in_port, Some(PortTarget::Virtual(_))) {
            need(Resource::TunnelGroup, planned);
            GROUP_TUNNEL
        } else {
            GROUP_ROOT
        };
        out.rule.attr = self.attr(group);

        self.metadata(key, mask, &mut regs, planned, fresh)?;
        if let Some(PortTarget::Virtual(v)) = in_port {
            regs.set(
                self.profile.registers.virtual_in_port,
                u32::from(v),
                u32::MAX,
            );
        }
        // Registers first (a TAG item carries no header), then the port.
        let pattern = &mut out.rule.pattern;
        pattern.extend(regs.items());
        if let Some(PortTarget::Ethdev(port_id)) = in_port {
            pattern.push(Item::RepresentedPort { port_id });
        }
        headers(key, mask, pattern)?;

        // Every rule counts (OVS statistics come from the counters), on
        // devices that have counters.
        if self.profile.has_action(crate::rule::ActionKind::Count) {
            out.rule.actions.push(Action::Count);
        }
        self.actions(flow, &mut out.rule.actions, &mut out.resources, fresh)
    }

    pub(super) fn recirc_group(
        &mut self,
        recirc_id: u32,
        planned: &mut Planned,
        fresh: &mut SmallVec<[Resource; 4]>,
    ) -> Result<u32, Rejected> {
        let known = self.resources.group_of(recirc_id).is_some();
        let group = self
            .resources
            .plan_group(recirc_id, self.profile.groups)
            .map_err(|exhausted| Rejected::Exhausted {
                by: Holder::RecircId(recirc_id),
                exhausted,
            })?;
        note(
            Resource::RecircGroup { recirc_id, group },
            !known,
            planned,
            fresh,
        );
        Ok(group)
    }

    pub(super) fn label(
        &mut self,
        label: u128,
        planned: &mut Planned,
        fresh: &mut SmallVec<[Resource; 4]>,
    ) -> Result<u32, Rejected> {
        if label == 0 {
            return Ok(0);
        }
        let known = self.resources.label_id(label).is_some();
        let max = self.profile.registers.ct_label.mask() >> self.profile.registers.ct_label.shift;
        let id =
            self.resources
                .plan_label(label, max)
                .map_err(|exhausted| Rejected::Exhausted {
                    by: Holder::CtLabel(label),
                    exhausted,
                })?;
        note(Resource::Label { label, id }, !known, planned, fresh);
        Ok(id)
    }
}

/// Records that the rule needs `r` (once), and that this translation
/// allocated it when `allocated_now`, so a rejection can give it back.
pub(super) fn note(
    r: Resource,
    allocated_now: bool,
    planned: &mut Planned,
    fresh: &mut SmallVec<[Resource; 4]>,
) {
    if allocated_now {
        fresh.push(r.clone());
    }
    need(r, planned);
}

/// Records that the rule needs `r`, once.
pub(super) fn need(r: Resource, planned: &mut Planned) {
    if !planned.contains(&r) {
        planned.push(r);
    }
}
