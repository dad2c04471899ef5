//! Packet metadata matches: skb fields, conntrack state, zone, mark and
//! label, the conntrack original tuple, and tunnel metadata after decap.
//! They become TAG register matches with the flow's masks, or rejections.
//!
//! Invariants: a field with an all-zero mask is not matched; ct_state
//! bits only software produces (+new, +inv, +rel) are rejections; labels
//! are matched through an interned id, so only with an exact mask.
//!
//! Must not depend on: anything below `translate` in the flow.

use super::flow::{no_hw, Planned};
use super::regs::Regs;
use super::rejected::Unmatchable;
use super::resources::Resource;
use super::{Rejected, Translator};
use crate::odp::{ct_state, FlowKey, FlowMask, KeyAttr, TunnelAttr};
use smallvec::SmallVec;

impl Translator {
    /// Packet metadata: skb fields, conntrack state, tunnel metadata.
    pub(super) fn metadata(
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

    pub(super) fn tunnel_match(
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
}
