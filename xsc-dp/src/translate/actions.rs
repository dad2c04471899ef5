//! Datapath actions → rte_flow actions: outputs (mirrors for all but the
//! last), VLAN push/pop, `ct_clear`, `recirc`, tunnel push and pop,
//! `clone`/`sample(100%)`, and the rejection of actions with no hardware
//! form. `ct(...)` goes to `ct_action`, `set(...)` to `set`.
//!
//! Invariants: every rule says its fate (a list that never outputs drops);
//! nothing follows `ct(),recirc()`; a copy of the packet needs the
//! profile's mirroring (`SAMPLE`).
//!
//! Must not depend on: anything below `translate` in the flow.

use std::sync::Arc;

use smallvec::SmallVec;

use super::flow::{need, Planned};
use super::regs::Regs;
use super::resources::{Resource, GROUP_TUNNEL};
use super::set::set_action;
use super::{PortTarget, Rejected, Translator};
use crate::odp::{self, Action as OdpAction, KeyAttr, Megaflow, OdpPort};
use crate::rule::*;

impl Translator {
    pub(super) fn actions(
        &mut self,
        flow: &Megaflow,
        out: &mut SmallVec<[Action; 8]>,
        planned: &mut Planned,
        fresh: &mut SmallVec<[Resource; 4]>,
    ) -> Result<(), Rejected> {
        let list = &flow.actions;
        if list.is_empty() || list.iter().all(|a| matches!(a, OdpAction::Drop)) {
            out.push(Action::Drop);
            return Ok(());
        }
        // Outputs but the last become mirrors of the packet as it is then.
        let last_output = list
            .iter()
            .rposition(|a| matches!(a, OdpAction::Output(_) | OdpAction::TnlPush(_)));
        let mut i = 0;
        while i < list.len() {
            let a = &list[i];
            match a {
                OdpAction::Drop => return Err(Rejected::DropAfterActions),
                OdpAction::Output(p) => {
                    let port = self.output_port(p)?;
                    if Some(i) == last_output {
                        out.push(port);
                    } else {
                        out.push(self.mirror(SmallVec::from_iter([port]))?);
                    }
                }
                OdpAction::Set(s) => set_action(s, &flow.key, &flow.mask, out)?,
                OdpAction::PushVlan { tpid, tci } => {
                    out.push(Action::OfPushVlan { ethertype: *tpid });
                    out.push(Action::OfSetVlanVid(tci & 0x0fff));
                    out.push(Action::OfSetVlanPcp((tci >> 13) as u8));
                }
                OdpAction::PopVlan => out.push(Action::OfPopVlan),
                OdpAction::CtClear => {
                    let r = self.profile.registers;
                    let mut regs = Regs::default();
                    for f in [r.ct_state, r.ct_zone, r.ct_mark, r.ct_label] {
                        regs.set(f, 0, u32::MAX);
                    }
                    out.extend(regs.actions());
                }
                OdpAction::Ct(ct) => {
                    if ct.commit || ct.force_commit {
                        self.committed_ct(ct, flow)?;
                        i += 1;
                        continue;
                    }
                    let Some(OdpAction::Recirc(target)) = list.get(i + 1) else {
                        return Err(Rejected::CtWithoutRecirc);
                    };
                    self.ct_then_recirc(ct, *target, out, planned, fresh)?;
                    i += 2;
                    if let Some(next) = list.get(i) {
                        return Err(Rejected::AfterRecirc {
                            action: action_name(next),
                        });
                    }
                    continue;
                }
                OdpAction::Recirc(target) => {
                    let group = self.recirc_group(*target, planned, fresh)?;
                    out.push(Action::Jump { group });
                }
                OdpAction::TnlPop(p) => self.tnl_pop(p, flow, out, planned)?,
                OdpAction::TnlPush(t) => {
                    let header = tnl_header(t)?;
                    let encap: Arc<[u8]> = Arc::from(header.as_slice());
                    need(Resource::Encap(encap.clone()), planned);
                    let port = self.output_port(&t.out_port)?;
                    let pushed = [Action::RawEncap(encap), port];
                    if Some(i) == last_output {
                        out.extend(pushed);
                    } else {
                        out.push(self.mirror(SmallVec::from_iter(pushed))?);
                    }
                }
                OdpAction::Clone(inner) => out.push(self.clone_actions(inner, "clone")?),
                OdpAction::Sample(s) => {
                    if s.probability != u32::MAX {
                        return Err(Rejected::SampleProbability {
                            probability: s.probability,
                        });
                    }
                    out.push(self.clone_actions(&s.actions, "sample")?);
                }
                other => return Err(unsupported(other, &self.profile)),
            }
            i += 1;
        }
        // A list that rewrites but never outputs drops the packet in OVS; a
        // rule needs its fate said.
        let has_fate = out.iter().any(|a| {
            matches!(
                a,
                Action::Drop
                    | Action::Jump { .. }
                    | Action::RepresentedPort { .. }
                    | Action::PortRepresentor { .. }
                    | Action::Queue { .. }
            )
        });
        if !has_fate {
            out.push(Action::Drop);
        }
        Ok(())
    }

    pub(super) fn output_port(&self, p: &OdpPort) -> Result<Action, Rejected> {
        match self.ports.lookup(p) {
            Some(PortTarget::Ethdev(port_id)) => Ok(Action::RepresentedPort { port_id }),
            Some(PortTarget::Virtual(_)) => Err(Rejected::OutputVirtual { port: *p }),
            None => Err(Rejected::OutputUnmapped { port: *p }),
        }
    }

    pub(super) fn mirror(&self, actions: SmallVec<[Action; 2]>) -> Result<Action, Rejected> {
        if !self.profile.mirror {
            return Err(Rejected::NoMirror {
                profile: self.profile.name.clone(),
            });
        }
        Ok(Action::Sample {
            ratio: 1,
            actions: Arc::from(actions.into_vec()),
        })
    }

    /// `clone(...)` / `sample(100%)`: a mirror whose copy is output as is,
    /// or tunnelled.
    pub(super) fn clone_actions(
        &self,
        inner: &odp::Actions,
        what: &'static str,
    ) -> Result<Action, Rejected> {
        let mut copy: SmallVec<[Action; 2]> = SmallVec::new();
        for a in inner {
            match a {
                OdpAction::Output(p) => copy.push(self.output_port(p)?),
                OdpAction::TnlPush(t) => {
                    copy.push(Action::RawEncap(Arc::from(tnl_header(t)?.as_slice())));
                    copy.push(self.output_port(&t.out_port)?);
                }
                other => {
                    return Err(Rejected::CopyAction {
                        copy: what,
                        action: action_name(other),
                    })
                }
            }
        }
        self.mirror(copy)
    }

    /// `tnl_pop(port)` on the outer packet: keep the VNI in a register, set
    /// the virtual in_port, remove the outer headers and continue in the
    /// tunnel group. Only VXLAN: Geneve options make the header length
    /// unknown to `RAW_DECAP`.
    pub(super) fn tnl_pop(
        &mut self,
        p: &OdpPort,
        flow: &Megaflow,
        out: &mut SmallVec<[Action; 8]>,
        planned: &mut Planned,
    ) -> Result<(), Rejected> {
        let Some(PortTarget::Virtual(v)) = self.ports.lookup(p) else {
            return Err(Rejected::TnlPopPort { port: *p });
        };
        let (k, m) = (&flow.key, &flow.mask);
        let l3 = if k.eth_type == 0x0800 {
            20
        } else if k.eth_type == 0x86dd {
            40
        } else {
            0
        };
        let vxlan = k.has(KeyAttr::Udp) && m.udp.dst == u16::MAX && k.udp.dst == 4789;
        if l3 == 0 || !vxlan {
            return Err(Rejected::TnlPopNotVxlan { port: *p });
        }
        let r = self.profile.registers;
        out.push(Action::CopyField {
            dst: Field::Tag(r.tun_id.index),
            src: Field::VxlanVni,
            width: 24,
        });
        let mut regs = Regs::default();
        regs.set(r.virtual_in_port, u32::from(v), u32::MAX);
        out.extend(regs.actions());
        out.push(Action::RawDecap {
            size: 14 + l3 + 8 + 8,
        });
        need(Resource::TunnelGroup, planned);
        out.push(Action::Jump {
            group: GROUP_TUNNEL,
        });
        Ok(())
    }
}

/// The header bytes OVS would push for `tnl_push`.
pub(super) fn tnl_header(t: &odp::TnlPush) -> Result<Vec<u8>, Rejected> {
    odp::netlink::tnl_push_header(t).map_err(|error| Rejected::TnlPushHeader { error })
}

pub(super) fn action_name(a: &OdpAction) -> &'static str {
    match a {
        OdpAction::Output(_) => "output",
        OdpAction::Drop => "drop",
        OdpAction::LbOutput(_) => "lb_output",
        OdpAction::Trunc(_) => "trunc",
        OdpAction::Meter(_) => "meter",
        OdpAction::Recirc(_) => "recirc",
        OdpAction::TnlPop(_) => "tnl_pop",
        OdpAction::Hash { .. } => "hash",
        OdpAction::Ct(_) => "ct",
        OdpAction::CtClear => "ct_clear",
        OdpAction::Set(_) => "set",
        OdpAction::PushVlan { .. } => "push_vlan",
        OdpAction::PopVlan => "pop_vlan",
        OdpAction::PushMpls { .. } => "push_mpls",
        OdpAction::AddMpls { .. } => "add_mpls",
        OdpAction::PopMpls { .. } => "pop_mpls",
        OdpAction::PushEth { .. } => "push_eth",
        OdpAction::PopEth => "pop_eth",
        OdpAction::PushNsh(_) => "push_nsh",
        OdpAction::PopNsh => "pop_nsh",
        OdpAction::TnlPush(_) => "tnl_push",
        OdpAction::Clone(_) => "clone",
        OdpAction::Sample(_) => "sample",
        OdpAction::CheckPktLen(_) => "check_pkt_len",
        OdpAction::Userspace(_) => "userspace",
        OdpAction::DecTtl(_) => "dec_ttl",
        OdpAction::Psample(_) => "psample",
    }
}

/// The rejection for an action with no hardware form.
pub(super) fn unsupported(a: &OdpAction, profile: &crate::profile::DeviceProfile) -> Rejected {
    match a {
        OdpAction::Meter(_) if profile.meters => Rejected::MeterNotCreated,
        OdpAction::Meter(_) => Rejected::NoMeters {
            profile: profile.name.clone(),
        },
        _ => Rejected::UnsupportedAction {
            action: action_name(a),
        },
    }
}
