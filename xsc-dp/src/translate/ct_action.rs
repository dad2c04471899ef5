//! `ct(...)` actions: `ct(zone=Z[,nat]),recirc(R)` becomes register
//! writes and a jump to the CT (CT-NAT) group; `ct(commit,...)` is
//! offloaded only where it provably changes nothing.
//!
//! Invariants: helpers, timeouts, mark/label writes and NAT bindings stay
//! in software (they are chosen or changed on commit); the CT tables and
//! the target's post-CT dispatch are planned with the recirc group.
//!
//! Must not depend on: anything below `translate` in the flow.

use smallvec::SmallVec;

use super::flow::{need, Planned};
use super::regs::Regs;
use super::resources::{Resource, GROUP_CT, GROUP_CT_NAT};
use super::{Rejected, Translator};
use crate::odp::{ct_state, CtAction, KeyAttr, Megaflow, NatAddrs, NatKind};
use crate::rule::*;

impl Translator {
    pub(super) fn ct_then_recirc(
        &mut self,
        ct: &CtAction,
        target: u32,
        out: &mut SmallVec<[Action; 8]>,
        planned: &mut Planned,
        fresh: &mut SmallVec<[Resource; 4]>,
    ) -> Result<(), Rejected> {
        if !self.profile.ct_tables {
            return Err(Rejected::NoCtTables {
                profile: self.profile.name.clone(),
            });
        }
        if let Some(h) = &ct.helper {
            return Err(Rejected::CtHelper { helper: *h });
        }
        if let Some(t) = &ct.timeout {
            return Err(Rejected::CtTimeout { timeout: t.clone() });
        }
        if ct.mark.is_some() || ct.label.is_some() {
            return Err(Rejected::CtMarkLabel);
        }
        let nat = match &ct.nat {
            None => false,
            Some(n) if n.kind == NatKind::Any && n.addrs == NatAddrs::None => true,
            Some(_) => return Err(Rejected::CtNatBinding),
        };
        let group = self.recirc_group(target, planned, fresh)?;
        for r in [
            Resource::CtTables,
            Resource::CtTarget {
                recirc_id: target,
                group,
            },
        ] {
            need(r, planned);
        }
        let regs_map = self.profile.registers;
        let mut regs = Regs::default();
        regs.set(regs_map.ct_zone, u32::from(ct.zone), u32::MAX);
        regs.set(regs_map.recirc_target, group, u32::MAX);
        out.extend(regs.actions());
        out.push(Action::Jump {
            group: if nat { GROUP_CT_NAT } else { GROUP_CT },
        });
        Ok(())
    }

    /// `ct(commit,...)`: committing is software's job; a commit is only
    /// offloaded where it provably changes nothing: the flow matches an
    /// established, tracked connection in the same zone whose mark and
    /// label already have the values the commit writes.
    pub(super) fn committed_ct(&self, ct: &CtAction, flow: &Megaflow) -> Result<(), Rejected> {
        let (k, m) = (&flow.key, &flow.mask);
        let est = ct_state::ESTABLISHED | ct_state::TRACKED;
        let matches_est =
            k.has(KeyAttr::CtState) && m.ct_state & est == est && k.ct_state & est == est;
        if !matches_est {
            return Err(Rejected::CtCommitNew);
        }
        if ct.nat.is_some() || ct.helper.is_some() || ct.timeout.is_some() || ct.force_commit {
            return Err(Rejected::CtCommitChanges);
        }
        let same_zone = k.has(KeyAttr::CtZone) && m.ct_zone == u16::MAX && k.ct_zone == ct.zone;
        if !same_zone {
            return Err(Rejected::CtCommitZone { zone: ct.zone });
        }
        if let Some((value, mask)) = ct.mark {
            let known = k.has(KeyAttr::CtMark)
                && m.ct_mark & mask == mask
                && k.ct_mark & mask == value & mask;
            if !known {
                return Err(Rejected::CtCommitMark { value, mask });
            }
        }
        if let Some(label) = &ct.label {
            let (value, mask) = **label;
            let known = k.has(KeyAttr::CtLabels)
                && m.ct_label & mask == mask
                && k.ct_label & mask == value & mask;
            if !known {
                return Err(Rejected::CtCommitLabel { value });
            }
        }
        Ok(())
    }
}
