//! Megaflow → rule: the key and mask become the pattern (and the group),
//! the action list becomes the actions.

use std::sync::Arc;

use smallvec::SmallVec;

use super::rejected::{Holder, SetMask, Unmatchable};
use super::resources::{Resource, GROUP_CT, GROUP_CT_NAT, GROUP_ROOT, GROUP_TUNNEL};
use super::{PortTarget, Rejected, Translation, Translator};
use crate::odp::{
    self, ct_state, frag, Action as OdpAction, CtAction, FlowKey, FlowMask, KeyAttr, Megaflow,
    NatAddrs, NatKind, OdpPort, SetField, TunnelAttr,
};
use crate::profile::RegField;
use crate::rule::*;

type Planned = SmallVec<[Resource; 4]>;

/// TAG register values and masks being built for one rule.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Regs {
    regs: [(u32, u32); 8],
}

impl Regs {
    pub(super) fn set(&mut self, f: RegField, value: u32, mask: u32) {
        let (v, m) = &mut self.regs[usize::from(f.index) & 7];
        let field_mask = f.place(mask);
        *m |= field_mask;
        *v = (*v & !field_mask) | (f.place(value) & field_mask);
    }

    fn items(&self) -> impl Iterator<Item = Item> + '_ {
        self.regs
            .iter()
            .enumerate()
            .filter(|(_, (_, m))| *m != 0)
            .map(|(i, &(v, m))| Item::Tag {
                index: i as u8,
                m: Masked::new(v, m),
            })
    }

    pub(super) fn actions(&self) -> impl Iterator<Item = Action> + '_ {
        self.regs
            .iter()
            .enumerate()
            .filter(|(_, (_, m))| *m != 0)
            .map(|(i, &(v, m))| Action::SetTag {
                index: i as u8,
                data: v,
                mask: m,
            })
    }
}

/// A field whose mask is non-zero has no hardware form here.
fn no_hw(field: Unmatchable, mask_nonzero: bool) -> Result<(), Rejected> {
    if mask_nonzero {
        Err(Rejected::Unmatchable { field })
    } else {
        Ok(())
    }
}

/// Full-mask check for values a `set` writes.
fn all_ones(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| b == 0xff)
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
                .ok_or_else(|| Rejected::InPortUnmapped { port: key.in_port })?;
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
        if self.profile.has_action(crate::profile::ActionKind::Count) {
            out.rule.actions.push(Action::Count);
        }
        self.actions(flow, &mut out.rule.actions, &mut out.resources, fresh)
    }

    fn recirc_group(
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

    /// Packet metadata: skb fields, conntrack state, tunnel metadata.
    fn metadata(
        &mut self,
        key: &FlowKey,
        mask: &FlowMask,
        regs: &mut Regs,
        planned: &mut Planned,
        fresh: &mut SmallVec<[Resource; 4]>,
    ) -> Result<(), Rejected> {
        let r = self.profile.registers;
        let has = |a| key.has(a);
        if has(KeyAttr::Priority) {
            no_hw(Unmatchable::SkbPriority, mask.skb_priority != 0)?;
        }
        if has(KeyAttr::SkbMark) {
            no_hw(Unmatchable::SkbMark, mask.skb_mark != 0)?;
        }
        if has(KeyAttr::DpHash) {
            no_hw(Unmatchable::DpHash, mask.dp_hash != 0)?;
        }
        if has(KeyAttr::PacketType) && (mask.packet_type.ns != 0 || mask.packet_type.id != 0) {
            let pt = key.packet_type;
            if (pt.ns, pt.id) != (0, 0) {
                return Err(Rejected::PacketType {
                    ns: pt.ns,
                    id: pt.id,
                });
            }
        }
        if has(KeyAttr::CtState) && mask.ct_state != 0 {
            let (v, m) = (key.ct_state, mask.ct_state);
            for (bit, rejected) in [
                (ct_state::NEW, Rejected::CtStateNew),
                (ct_state::INVALID, Rejected::CtStateInvalid),
                (ct_state::RELATED, Rejected::CtStateRelated),
            ] {
                if m & bit != 0 && v & bit != 0 {
                    return Err(rejected);
                }
            }
            regs.set(r.ct_state, v, m);
        }
        if has(KeyAttr::CtZone) && mask.ct_zone != 0 {
            regs.set(r.ct_zone, u32::from(key.ct_zone), u32::from(mask.ct_zone));
        }
        if has(KeyAttr::CtMark) && mask.ct_mark != 0 {
            regs.set(r.ct_mark, key.ct_mark, mask.ct_mark);
        }
        if has(KeyAttr::CtLabels) && mask.ct_label != 0 {
            if mask.ct_label != u128::MAX {
                return Err(Rejected::CtLabelMask {
                    mask: mask.ct_label,
                });
            }
            let id = self.label(key.ct_label, planned, fresh)?;
            regs.set(r.ct_label, id, u32::MAX);
        }
        if has(KeyAttr::CtOrigTupleIpv4) {
            let t = &mask.ct_tuple4;
            no_hw(
                Unmatchable::CtTuple4,
                t.src != 0 || t.dst != 0 || t.src_port != 0 || t.dst_port != 0 || t.proto != 0,
            )?;
        }
        if has(KeyAttr::CtOrigTupleIpv6) {
            let t = &mask.ct_tuple6;
            no_hw(
                Unmatchable::CtTuple6,
                t.src != [0; 16]
                    || t.dst != [0; 16]
                    || t.src_port != 0
                    || t.dst_port != 0
                    || t.proto != 0,
            )?;
        }
        if has(KeyAttr::Tunnel) {
            self.tunnel_match(key, mask, regs)?;
        }
        Ok(())
    }

    fn tunnel_match(
        &self,
        key: &FlowKey,
        mask: &FlowMask,
        regs: &mut Regs,
    ) -> Result<(), Rejected> {
        let (t, m) = (&key.tunnel, &mask.tunnel);
        if t.has(TunnelAttr::Id) && m.tun_id != 0 {
            // VXLAN and Geneve ids are 24 bits: the bits above are zero in
            // every packet, so only a value with such bits set is a problem.
            if t.tun_id & m.tun_id > 0xff_ffff {
                return Err(Rejected::TunnelIdWidth { tun_id: t.tun_id });
            }
            regs.set(
                self.profile.registers.tun_id,
                t.tun_id as u32,
                (m.tun_id & 0xff_ffff) as u32,
            );
        }
        no_hw(
            Unmatchable::TunnelSrc,
            m.ipv4_src != 0 || m.ipv6_src != [0; 16],
        )?;
        no_hw(
            Unmatchable::TunnelDst,
            m.ipv4_dst != 0 || m.ipv6_dst != [0; 16],
        )?;
        no_hw(Unmatchable::TunnelTosTtl, m.tos != 0 || m.ttl != 0)?;
        no_hw(Unmatchable::TunnelPorts, m.tp_src != 0 || m.tp_dst != 0)?;
        no_hw(Unmatchable::TunnelFlags, m.flags != 0)?;
        no_hw(Unmatchable::TunnelGeneve, m.geneve.is_some())?;
        no_hw(Unmatchable::TunnelVxlanGbp, m.vxlan_gbp != 0)?;
        Ok(())
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

    fn actions(
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

    fn output_port(&self, p: &OdpPort) -> Result<Action, Rejected> {
        match self.ports.lookup(p) {
            Some(PortTarget::Ethdev(port_id)) => Ok(Action::RepresentedPort { port_id }),
            Some(PortTarget::Virtual(_)) => Err(Rejected::OutputVirtual { port: *p }),
            None => Err(Rejected::OutputUnmapped { port: *p }),
        }
    }

    fn mirror(&self, actions: SmallVec<[Action; 2]>) -> Result<Action, Rejected> {
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
    fn clone_actions(&self, inner: &odp::Actions, what: &'static str) -> Result<Action, Rejected> {
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

    fn ct_then_recirc(
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
    fn committed_ct(&self, ct: &CtAction, flow: &Megaflow) -> Result<(), Rejected> {
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

    /// `tnl_pop(port)` on the outer packet: keep the VNI in a register, set
    /// the virtual in_port, remove the outer headers and continue in the
    /// tunnel group. Only VXLAN: Geneve options make the header length
    /// unknown to `RAW_DECAP`.
    fn tnl_pop(
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

/// Records that the rule needs `r` (once), and that this translation
/// allocated it when `allocated_now`, so a rejection can give it back.
fn note(
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
fn need(r: Resource, planned: &mut Planned) {
    if !planned.contains(&r) {
        planned.push(r);
    }
}

/// The header bytes OVS would push for `tnl_push`.
fn tnl_header(t: &odp::TnlPush) -> Result<Vec<u8>, Rejected> {
    odp::netlink::tnl_push_header(t).map_err(|error| Rejected::TnlPushHeader { error })
}

fn action_name(a: &OdpAction) -> &'static str {
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
fn unsupported(a: &OdpAction, profile: &crate::profile::DeviceProfile) -> Rejected {
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

/// `set(...)`: exact writes only (a partial mask would need a read-modify-
/// write the set actions do not do).
/// The flow's match must say which header a `set` rewrites: rte_flow's
/// SET_TP_* rewrite TCP or UDP, whichever the packet has, and SET_IPV4_*
/// do nothing to an IPv6 packet.
fn matched(key: &FlowKey, mask: &FlowMask, eth_type: u16, proto: Option<u8>) -> bool {
    let inner = key.encap.as_deref().zip(mask.encap.as_deref());
    let (k, m) = inner.unwrap_or((key, mask));
    let l3 = k.has(KeyAttr::Ethertype) && m.eth_type == u16::MAX && k.eth_type == eth_type;
    let l4 = match proto {
        None => true,
        Some(p) => {
            (k.has(KeyAttr::Ipv4) && m.ipv4.proto == u8::MAX && k.ipv4.proto == p)
                || (k.has(KeyAttr::Ipv6) && m.ipv6.proto == u8::MAX && k.ipv6.proto == p)
        }
    };
    l3 && l4
}

fn set_action(
    s: &odp::SetAction,
    key: &FlowKey,
    mask: &FlowMask,
    out: &mut SmallVec<[Action; 8]>,
) -> Result<(), Rejected> {
    // IPv4 or IPv6 for the L4 rewrites: either stack will do.
    let needs = |header: &'static str, eth_types: &[u16], proto: Option<u8>| {
        if eth_types.iter().any(|&t| matched(key, mask, t, proto)) {
            Ok(())
        } else {
            Err(Rejected::SetUnmatched { header })
        }
    };
    match &s.field {
        SetField::Ipv4 { .. } => needs("ipv4", &[0x0800], None)?,
        SetField::Tcp { .. } => needs("tcp", &[0x0800, 0x86dd], Some(6))?,
        SetField::Udp { .. } => needs("udp", &[0x0800, 0x86dd], Some(17))?,
        SetField::Other {
            attr: KeyAttr::Ipv6,
            ..
        } => needs("ipv6", &[0x86dd], None)?,
        _ => {}
    }
    let partial = |field: SetMask| Rejected::SetPartialMask { field };
    match &s.field {
        SetField::Eth { key, mask } => {
            for (k, m, is_src) in [(&key.src, &mask.src, true), (&key.dst, &mask.dst, false)] {
                match (m.iter().all(|&b| b == 0), all_ones(m)) {
                    (true, _) => {}
                    (_, true) if is_src => out.push(Action::SetMacSrc(*k)),
                    (_, true) => out.push(Action::SetMacDst(*k)),
                    _ => return Err(partial(SetMask::Eth { mask: *m })),
                }
            }
        }
        SetField::Ipv4 { key, mask } => {
            if mask.src != 0 {
                if mask.src != u32::MAX {
                    return Err(partial(SetMask::Ipv4Src));
                }
                out.push(Action::SetIpv4Src(key.src.to_be_bytes()));
            }
            if mask.dst != 0 {
                if mask.dst != u32::MAX {
                    return Err(partial(SetMask::Ipv4Dst));
                }
                out.push(Action::SetIpv4Dst(key.dst.to_be_bytes()));
            }
            match mask.tos {
                0 => {}
                0xfc => out.push(Action::SetIpv4Dscp(key.tos >> 2)),
                _ => return Err(partial(SetMask::Ipv4Tos)),
            }
            match mask.ttl {
                0 => {}
                0xff => out.push(Action::SetTtl(key.ttl)),
                _ => return Err(partial(SetMask::Ipv4Ttl)),
            }
            if mask.proto != 0 || mask.frag != 0 {
                return Err(Rejected::SetIpv4ProtoFrag);
            }
        }
        SetField::Tcp { key, mask } | SetField::Udp { key, mask } => {
            for (k, m, src) in [(key.src, mask.src, true), (key.dst, mask.dst, false)] {
                match m {
                    0 => {}
                    u16::MAX if src => out.push(Action::SetTpSrc(k)),
                    u16::MAX => out.push(Action::SetTpDst(k)),
                    _ => return Err(partial(SetMask::L4Port)),
                }
            }
        }
        SetField::Other {
            attr: KeyAttr::Ipv6,
            key,
            mask,
        } => {
            let (k, m) = (&key.ipv6, &mask.ipv6);
            for (v, mm, src) in [(&k.src, &m.src, true), (&k.dst, &m.dst, false)] {
                match (mm.iter().all(|&b| b == 0), all_ones(mm)) {
                    (true, _) => {}
                    (_, true) if src => out.push(Action::SetIpv6Src(*v)),
                    (_, true) => out.push(Action::SetIpv6Dst(*v)),
                    _ => return Err(partial(SetMask::Ipv6Addr)),
                }
            }
            match m.hlimit {
                0 => {}
                0xff => out.push(Action::SetTtl(k.hlimit)),
                _ => return Err(partial(SetMask::Ipv6Hlimit)),
            }
            match m.tclass {
                0 => {}
                0xfc => out.push(Action::SetIpv6Dscp(k.tclass >> 2)),
                _ => return Err(partial(SetMask::Ipv6Tclass)),
            }
            if m.label != 0 || m.proto != 0 || m.frag != 0 {
                return Err(Rejected::SetIpv6LabelProtoFrag);
            }
        }
        SetField::Sctp { .. } => return Err(Rejected::SetSctp),
        SetField::SkbPriority { .. } | SetField::SkbMark { .. } => {
            return Err(Rejected::SetSkbMetadata)
        }
        SetField::Other { attr, .. } => return Err(Rejected::SetField { attr: Some(*attr) }),
        #[allow(unreachable_patterns)]
        _ => return Err(Rejected::SetField { attr: None }),
    }
    Ok(())
}

/// L2-L4 headers (and for VLAN, what is inside `encap(...)`).
fn headers(key: &FlowKey, mask: &FlowMask, out: &mut SmallVec<[Item; 8]>) -> Result<(), Rejected> {
    let has = |a| key.has(a);
    let mut eth = Masked::<EthItem>::default();
    if has(KeyAttr::Ethernet) {
        eth.spec.src = and6(&key.eth.src, &mask.eth.src);
        eth.spec.dst = and6(&key.eth.dst, &mask.eth.dst);
        eth.mask.src = mask.eth.src;
        eth.mask.dst = mask.eth.dst;
    }
    // OVS's CFI bit means "a tag is present" (vlan_tci 0/0x1000: untagged).
    const CFI: u16 = 0x1000;
    let vlan_matched = has(KeyAttr::Vlan) && mask.vlan_tci != 0;
    if vlan_matched && mask.vlan_tci & CFI == 0 {
        return Err(Rejected::VlanCfi {
            tci: key.vlan_tci,
            mask: mask.vlan_tci,
        });
    }
    let tagged = vlan_matched && key.vlan_tci & CFI != 0;
    let start = out.len();
    if vlan_matched && !tagged {
        eth.mask.has_vlan = true;
    }
    let (inner, inner_mask) = if tagged {
        (key.encap.as_deref(), mask.encap.as_deref())
    } else {
        (None, None)
    };
    if tagged {
        // The VLAN item says the frame is tagged; the TCI's DEI bit (OVS's
        // CFI) is not matched.
        let mut vlan = Masked::<VlanItem>::default();
        vlan.spec.tci = key.vlan_tci & !CFI;
        vlan.mask.tci = mask.vlan_tci & !CFI;
        if let (Some(k), Some(m)) = (inner, inner_mask) {
            if k.has(KeyAttr::Ethertype) {
                vlan.spec.inner_type = k.eth_type;
                vlan.mask.inner_type = m.eth_type;
            }
        }
        out.push(Item::Eth(eth));
        out.push(Item::Vlan(vlan));
    } else {
        if has(KeyAttr::Ethertype) {
            eth.spec.ether_type = key.eth_type;
            eth.mask.ether_type = mask.eth_type;
        }
        out.push(Item::Eth(eth));
    }
    match (inner, inner_mask) {
        (Some(k), Some(m)) => l3(k, m, out)?,
        (Some(k), None) => l3(k, &odp::netlink::exact_mask(k), out)?,
        _ => l3(key, mask, out)?,
    }
    drop_implied_types(&mut out[start..]);
    Ok(())
}

/// An EtherType matched exactly and followed by the item it names says
/// nothing the item does not: rte_flow's `ETH / IPV4` only matches IPv4.
/// Leaving it out keeps rules short (testpmd reads 511 characters a line).
fn drop_implied_types(items: &mut [Item]) {
    let implied = |next: Option<&Item>| -> Option<u16> {
        match next? {
            Item::Ipv4 { .. } => Some(0x0800),
            Item::Ipv6(_) => Some(0x86dd),
            Item::ArpEthIpv4(_) => Some(0x0806),
            _ => None,
        }
    };
    for i in 0..items.len() {
        let next = implied(items.get(i + 1));
        match &mut items[i] {
            Item::Eth(m) if m.mask.ether_type == u16::MAX && Some(m.spec.ether_type) == next => {
                m.spec.ether_type = 0;
                m.mask.ether_type = 0;
            }
            Item::Vlan(m) if m.mask.inner_type == u16::MAX && Some(m.spec.inner_type) == next => {
                m.spec.inner_type = 0;
                m.mask.inner_type = 0;
            }
            _ => {}
        }
    }
}

fn l3(key: &FlowKey, mask: &FlowMask, out: &mut SmallVec<[Item; 8]>) -> Result<(), Rejected> {
    let has = |a| key.has(a);
    for (attr, field, nonzero) in [
        (
            KeyAttr::Mpls,
            Unmatchable::Mpls,
            mask.mpls.lse.iter().any(|&l| l != 0),
        ),
        (
            KeyAttr::Nsh,
            Unmatchable::Nsh,
            mask.nsh != odp::NshKey::default(),
        ),
        (
            KeyAttr::NdExtensions,
            Unmatchable::NdExtensions,
            mask.nd_ext != odp::NdExtKey::default(),
        ),
    ] {
        if has(attr) {
            no_hw(field, nonzero)?;
        }
    }
    if has(KeyAttr::Ipv4) {
        let (k, m) = (&key.ipv4, &mask.ipv4);
        let mut item = Masked::<Ipv4Item>::default();
        item.spec.src = (k.src & m.src).to_be_bytes();
        item.mask.src = m.src.to_be_bytes();
        item.spec.dst = (k.dst & m.dst).to_be_bytes();
        item.mask.dst = m.dst.to_be_bytes();
        item.spec.proto = k.proto & m.proto;
        item.mask.proto = m.proto;
        item.spec.tos = k.tos & m.tos;
        item.mask.tos = m.tos;
        item.spec.ttl = k.ttl & m.ttl;
        item.mask.ttl = m.ttl;
        let last = match (m.frag, k.frag) {
            (0, _) => None,
            (0xff, frag::NONE) => {
                item.mask.fragment_offset = ipv4_frag::MF_OR_OFFSET;
                None
            }
            (0xff, frag::FIRST) => {
                item.spec.fragment_offset = ipv4_frag::MF;
                item.mask.fragment_offset = ipv4_frag::MF_OR_OFFSET;
                None
            }
            (0xff, frag::LATER) => {
                item.spec.fragment_offset = 1;
                item.mask.fragment_offset = ipv4_frag::OFFSET;
                Some(Ipv4Item {
                    fragment_offset: ipv4_frag::OFFSET,
                    ..Default::default()
                })
            }
            (m, v) => return Err(Rejected::Ipv4Frag { value: v, mask: m }),
        };
        out.push(Item::Ipv4 { m: item, last });
    } else if has(KeyAttr::Ipv6) {
        let (k, m) = (&key.ipv6, &mask.ipv6);
        let mut item = Masked::<Ipv6Item>::default();
        for i in 0..16 {
            item.spec.src[i] = k.src[i] & m.src[i];
            item.spec.dst[i] = k.dst[i] & m.dst[i];
        }
        item.mask.src = m.src;
        item.mask.dst = m.dst;
        item.spec.flow_label = k.label & m.label;
        item.mask.flow_label = m.label;
        item.spec.proto = k.proto & m.proto;
        item.mask.proto = m.proto;
        item.spec.tc = k.tclass & m.tclass;
        item.mask.tc = m.tclass;
        item.spec.hop_limit = k.hlimit & m.hlimit;
        item.mask.hop_limit = m.hlimit;
        let frag_ext = match (m.frag, k.frag) {
            (0, _) => None,
            (0xff, frag::NONE) => {
                item.mask.has_frag_ext = true;
                None
            }
            (0xff, frag::FIRST) => {
                item.spec.has_frag_ext = true;
                item.mask.has_frag_ext = true;
                Some((
                    Masked::new(
                        Ipv6FragItem {
                            next_header: 0,
                            frag_data: 0,
                        },
                        Ipv6FragItem {
                            next_header: 0,
                            frag_data: 0xfff8,
                        },
                    ),
                    None,
                ))
            }
            (0xff, frag::LATER) => {
                item.spec.has_frag_ext = true;
                item.mask.has_frag_ext = true;
                Some((
                    Masked::new(
                        Ipv6FragItem {
                            next_header: 0,
                            frag_data: 8,
                        },
                        Ipv6FragItem {
                            next_header: 0,
                            frag_data: 0xfff8,
                        },
                    ),
                    Some(Ipv6FragItem {
                        next_header: 0,
                        frag_data: 0xfff8,
                    }),
                ))
            }
            (m, v) => return Err(Rejected::Ipv6Frag { value: v, mask: m }),
        };
        // In a fragment the IPv6 header's next header is 44; OVS's proto is
        // the fragment header's next header.
        let frag_ext = frag_ext.map(|(mut m, mut last)| {
            m.spec.next_header = item.spec.proto;
            m.mask.next_header = item.mask.proto;
            if let Some(l) = last.as_mut() {
                l.next_header = item.spec.proto;
            }
            item.spec.proto = 0;
            item.mask.proto = 0;
            (m, last)
        });
        out.push(Item::Ipv6(item));
        if let Some((m, last)) = frag_ext {
            out.push(Item::Ipv6FragExt { m, last });
        }
    } else if has(KeyAttr::Arp) {
        let (k, m) = (&key.arp, &mask.arp);
        out.push(Item::ArpEthIpv4(Masked::new(
            ArpItem {
                op: k.op & m.op,
                sha: and6(&k.sha, &m.sha),
                spa: (k.sip & m.sip).to_be_bytes(),
                tha: and6(&k.tha, &m.tha),
                tpa: (k.tip & m.tip).to_be_bytes(),
            },
            ArpItem {
                op: m.op,
                sha: m.sha,
                spa: m.sip.to_be_bytes(),
                tha: m.tha,
                tpa: m.tip.to_be_bytes(),
            },
        )));
        return Ok(());
    }
    l4(key, mask, out)
}

fn and6(a: &[u8; 6], m: &[u8; 6]) -> [u8; 6] {
    std::array::from_fn(|i| a[i] & m[i])
}

fn ports(k: &odp::PortsKey, m: &odp::PortsKey) -> Masked<PortsItem> {
    Masked::new(
        PortsItem {
            src: k.src & m.src,
            dst: k.dst & m.dst,
        },
        PortsItem {
            src: m.src,
            dst: m.dst,
        },
    )
}

/// ICMP or ICMPv6 type and code (OVS's key has no echo id).
fn icmp(k: &odp::IcmpKey, m: &odp::IcmpKey) -> Masked<IcmpItem> {
    Masked::new(
        IcmpItem {
            icmp_type: k.type_ & m.type_,
            code: k.code & m.code,
            ident: 0,
        },
        IcmpItem {
            icmp_type: m.type_,
            code: m.code,
            ident: 0,
        },
    )
}

fn l4(key: &FlowKey, mask: &FlowMask, out: &mut SmallVec<[Item; 8]>) -> Result<(), Rejected> {
    let has = |a| key.has(a);
    if has(KeyAttr::Tcp) || has(KeyAttr::TcpFlags) {
        let mut tcp = Masked::<TcpItem>::default();
        if has(KeyAttr::Tcp) {
            let p = ports(&key.tcp, &mask.tcp);
            tcp.spec.src = p.spec.src;
            tcp.spec.dst = p.spec.dst;
            tcp.mask.src = p.mask.src;
            tcp.mask.dst = p.mask.dst;
        }
        if has(KeyAttr::TcpFlags) && mask.tcp_flags != 0 {
            if mask.tcp_flags & 0x0f00 != 0 {
                return Err(Rejected::TcpFlagsMask {
                    mask: mask.tcp_flags,
                });
            }
            tcp.spec.flags = (key.tcp_flags & mask.tcp_flags) as u8;
            tcp.mask.flags = mask.tcp_flags as u8;
        }
        out.push(Item::Tcp(tcp));
    } else if has(KeyAttr::Udp) {
        out.push(Item::Udp(ports(&key.udp, &mask.udp)));
    } else if has(KeyAttr::Sctp) {
        out.push(Item::Sctp(ports(&key.sctp, &mask.sctp)));
    } else if has(KeyAttr::Icmp) {
        out.push(Item::Icmp(icmp(&key.icmp, &mask.icmp)));
    } else if has(KeyAttr::Icmpv6) {
        out.push(Item::Icmp6(icmp(&key.icmpv6, &mask.icmpv6)));
        if has(KeyAttr::Nd) {
            nd(key, mask, out)?;
        }
    }
    Ok(())
}

fn nd(key: &FlowKey, mask: &FlowMask, out: &mut SmallVec<[Item; 8]>) -> Result<(), Rejected> {
    let (k, m) = (&key.nd, &mask.nd);
    let any = |b: &[u8]| b.iter().any(|&x| x != 0);
    if !any(&m.target) && !any(&m.sll) && !any(&m.tll) {
        return Ok(());
    }
    let exact_type = mask.icmpv6.type_ == 0xff;
    let target: [u8; 16] = std::array::from_fn(|i| k.target[i] & m.target[i]);
    match key.icmpv6.type_ {
        135 if exact_type => {
            out.push(Item::Icmp6NdNs(Masked::new(target, m.target)));
            if any(&m.sll) {
                out.push(Item::Icmp6NdOptSlaEth(Masked::new(
                    and6(&k.sll, &m.sll),
                    m.sll,
                )));
            }
            no_hw(Unmatchable::NdTll, any(&m.tll))?;
        }
        136 if exact_type => {
            out.push(Item::Icmp6NdNa(Masked::new(target, m.target)));
            if any(&m.tll) {
                out.push(Item::Icmp6NdOptTlaEth(Masked::new(
                    and6(&k.tll, &m.tll),
                    m.tll,
                )));
            }
            no_hw(Unmatchable::NdSll, any(&m.sll))?;
        }
        _ => return Err(Rejected::NdType),
    }
    Ok(())
}
