//! Established conntrack entries → CT-table rules.
//!
//! Each connection gets one rule per direction in the CT group (no NAT) and
//! one per direction in the CT-NAT group (with the NAT rewrite, when the
//! connection is NATed). A rule matches the zone register and the
//! direction's 5-tuple, sets ct_state (+trk+est, +rpl on the reply
//! direction, +snat/+dnat in the NAT group when NAT applies), mark and label,
//! and jumps to the post-CT dispatch.
//!
//! NAT from the tuples: a packet of the original direction
//! `(orig.src → orig.dst)` leaves as `(reply.dst → reply.src)`; a reply
//! `(reply.src → reply.dst)` leaves as `(orig.dst → orig.src)`, ports alike.

use smallvec::SmallVec;

use super::resources::{Resource, GROUP_CT, GROUP_CT_NAT, GROUP_POST_CT};
use super::{ConnId, Holder, Rejected, Translator};
use crate::odp::{ct_state, ConnEntry, CtAddrs, CtL4, CtTuple, ProtoInfo};
use crate::rule::*;

/// A connection's hardware form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnTranslation {
    /// Original and reply direction in the CT group, then the same in the
    /// CT-NAT group.
    pub rules: SmallVec<[HwRule; 4]>,
    /// Shared resources taken (the CT tables, an interned label).
    pub resources: SmallVec<[Resource; 4]>,
    /// Those this connection was the first user of.
    pub new_resources: SmallVec<[Resource; 2]>,
}

/// TCP flag bits whose packets stay in software: FIN 0x01, SYN 0x02, RST 0x04.
const TCP_SYN_FIN_RST: u8 = 0x07;

/// `TCP_STATES` index of ESTABLISHED in `ct_dpif` (OVS `lib/ct-dpif.h`).
const TCP_ESTABLISHED: u8 = 4;

impl Translator {
    /// Translates an established connection, taking references on the
    /// resources it needs. Connections that are not established (or whose
    /// protocol cannot be matched) are rejections: their packets go to
    /// software, which is what a CT miss does anyway.
    pub fn translate_conn(&mut self, e: &ConnEntry) -> Result<ConnTranslation, Rejected> {
        let conn = ConnId {
            proto: e.proto,
            zone: e.zone,
        };
        if !self.profile.ct_tables {
            return Err(Rejected::ConnNoCtTables {
                conn,
                profile: self.profile.name.clone(),
            });
        }
        match (e.proto, e.protoinfo) {
            (6, Some(ProtoInfo::Tcp { state })) if state == TCP_ESTABLISHED => {}
            (
                6,
                Some(ProtoInfo::TcpVerbose {
                    state_orig,
                    state_reply,
                    ..
                }),
            ) if state_orig == TCP_ESTABLISHED && state_reply == TCP_ESTABLISHED => {}
            (6, _) => return Err(Rejected::ConnNotEstablished { conn }),
            (17 | 1, _) => {}
            (58, _) => return Err(Rejected::ConnIcmpv6 { conn }),
            _ => return Err(Rejected::ConnProto { conn }),
        }
        if e.helper.is_some() {
            return Err(Rejected::ConnHelper { conn });
        }
        let mut planned: SmallVec<[Resource; 4]> = SmallVec::from_iter([Resource::CtTables]);
        let mut fresh = SmallVec::<[Resource; 4]>::new();
        let label = match self.label(e.labels, &mut planned, &mut fresh) {
            Ok(id) => id,
            Err(err) => {
                for r in &fresh {
                    self.resources.forget_if_unused(r);
                }
                // The label's rejection, told as the connection's.
                return Err(match err {
                    Rejected::Exhausted { exhausted, .. } => Rejected::Exhausted {
                        by: Holder::Conn(conn),
                        exhausted,
                    },
                    other => other,
                });
            }
        };
        let nat = e.reply.addrs != swap_addrs(e.orig.addrs) || e.reply.l4 != swap_l4(e.orig.l4);
        let mut rules = SmallVec::new();
        for group in [GROUP_CT, GROUP_CT_NAT] {
            for reply in [false, true] {
                rules.push(self.conn_rule(e, group, reply, nat && group == GROUP_CT_NAT, label));
            }
        }
        let new_resources = self.take(&planned);
        Ok(ConnTranslation {
            rules,
            resources: planned,
            new_resources,
        })
    }

    fn conn_rule(&self, e: &ConnEntry, group: u32, reply: bool, nat: bool, label: u32) -> HwRule {
        let r = self.profile.registers;
        let (from, to) = if reply {
            (&e.reply, &e.orig)
        } else {
            (&e.orig, &e.reply)
        };
        let mut pattern: SmallVec<[Item; 8]> = SmallVec::new();
        pattern.push(Item::Tag {
            index: r.ct_zone.index,
            m: Masked::new(r.ct_zone.place(u32::from(e.zone)), r.ct_zone.mask()),
        });
        pattern.push(Item::Eth(Masked::default()));
        tuple_items(e.proto, from, &mut pattern);

        let mut state = ct_state::TRACKED | ct_state::ESTABLISHED;
        if reply {
            state |= ct_state::REPLY_DIR;
        }
        let mut actions: SmallVec<[Action; 8]> = SmallVec::new();
        // Every rule counts (OVS statistics come from the counters), on
        // devices that have counters.
        if self.profile.has_action(crate::rule::ActionKind::Count) {
            actions.push(Action::Count);
        }
        if nat {
            // The packet leaves with `to`'s addresses swapped: what the
            // other direction's tuple says it must look like.
            let (src_changes, dst_changes) = rewrite(from, to, &mut actions);
            // OVS marks the NAT it applied to this packet (lib/conntrack.c:
            // nat_packet/un_nat_packet): the reply of a DNAT connection has
            // its source rewritten and gets +snat.
            if src_changes {
                state |= ct_state::SRC_NAT;
            }
            if dst_changes {
                state |= ct_state::DST_NAT;
            }
        }
        // One SET_TAG per register: the state and label (register 1 in the
        // default layout) and the mark; the zone and target stay.
        let mut regs = super::regs::Regs::default();
        regs.set(r.ct_state, state, u32::MAX);
        regs.set(r.ct_label, label, u32::MAX);
        regs.set(r.ct_mark, e.mark, u32::MAX);
        actions.extend(regs.actions());
        actions.push(Action::Jump {
            group: GROUP_POST_CT,
        });
        HwRule {
            attr: self.attr(group),
            pattern,
            actions,
        }
    }
}

fn swap_addrs(a: CtAddrs) -> CtAddrs {
    match a {
        CtAddrs::V4 { src, dst } => CtAddrs::V4 { src: dst, dst: src },
        CtAddrs::V6 { src, dst } => CtAddrs::V6 { src: dst, dst: src },
    }
}

fn swap_l4(l: CtL4) -> CtL4 {
    match l {
        CtL4::Ports { src, dst } => CtL4::Ports { src: dst, dst: src },
        // Echo replies carry the request's id; their type differs anyway.
        CtL4::Icmp { id, type_, code } => CtL4::Icmp { id, type_, code },
    }
}

/// The items matching one direction's tuple exactly.
fn tuple_items(proto: u8, t: &CtTuple, out: &mut SmallVec<[Item; 8]>) {
    match t.addrs {
        // Fragments are reassembled by OVS's conntrack before lookup; the
        // NIC matches whole packets only.
        CtAddrs::V4 { src, dst } => {
            let spec = Ipv4Item {
                src: src.to_be_bytes(),
                dst: dst.to_be_bytes(),
                proto,
                ..Default::default()
            };
            let mask = Ipv4Item {
                src: [0xff; 4],
                dst: [0xff; 4],
                proto: 0xff,
                fragment_offset: ipv4_frag::MF_OR_OFFSET,
                ..Default::default()
            };
            out.push(Item::Ipv4 {
                m: Masked::new(spec, mask),
                last: None,
            });
        }
        CtAddrs::V6 { src, dst } => {
            let spec = Ipv6Item {
                src,
                dst,
                proto,
                ..Default::default()
            };
            let mask = Ipv6Item {
                src: [0xff; 16],
                dst: [0xff; 16],
                proto: 0xff,
                has_frag_ext: true,
                ..Default::default()
            };
            out.push(Item::Ipv6(Masked::new(spec, mask)));
        }
    }
    match (proto, t.l4) {
        // SYN, FIN and RST change the connection's state: they miss and go
        // to software, whose conntrack sees the connection open and close
        // (as NIC vendors' conntrack offload does).
        (6, CtL4::Ports { src, dst }) => out.push(Item::Tcp(Masked::new(
            TcpItem { src, dst, flags: 0 },
            TcpItem {
                src: u16::MAX,
                dst: u16::MAX,
                flags: TCP_SYN_FIN_RST,
            },
        ))),
        (17, CtL4::Ports { src, dst }) => out.push(Item::Udp(Masked::new(
            PortsItem { src, dst },
            PortsItem {
                src: u16::MAX,
                dst: u16::MAX,
            },
        ))),
        (1, CtL4::Icmp { id, type_, code }) => out.push(Item::Icmp(Masked::new(
            IcmpItem {
                icmp_type: type_,
                code,
                ident: id,
            },
            IcmpItem {
                icmp_type: 0xff,
                code: 0xff,
                ident: u16::MAX,
            },
        ))),
        _ => {}
    }
}

/// Rewrites a packet of tuple `from` into the mirror image of `to`;
/// returns whether the source and the destination change.
fn rewrite(from: &CtTuple, to: &CtTuple, out: &mut SmallVec<[Action; 8]>) -> (bool, bool) {
    let (mut src_changes, mut dst_changes) = (false, false);
    match (from.addrs, to.addrs) {
        (CtAddrs::V4 { src: fs, dst: fd }, CtAddrs::V4 { src: ts, dst: td }) => {
            if fs != td {
                out.push(Action::SetIpv4Src(td.to_be_bytes()));
                src_changes = true;
            }
            if fd != ts {
                out.push(Action::SetIpv4Dst(ts.to_be_bytes()));
                dst_changes = true;
            }
        }
        (CtAddrs::V6 { src: fs, dst: fd }, CtAddrs::V6 { src: ts, dst: td }) => {
            if fs != td {
                out.push(Action::SetIpv6Src(td));
                src_changes = true;
            }
            if fd != ts {
                out.push(Action::SetIpv6Dst(ts));
                dst_changes = true;
            }
        }
        _ => {}
    }
    if let (CtL4::Ports { src: fs, dst: fd }, CtL4::Ports { src: ts, dst: td }) = (from.l4, to.l4) {
        if fs != td {
            out.push(Action::SetTpSrc(td));
            src_changes = true;
        }
        if fd != ts {
            out.push(Action::SetTpDst(ts));
            dst_changes = true;
        }
    }
    (src_changes, dst_changes)
}
