//! The emulated NIC: a packet received on a port runs through the
//! offloader's [`Eswitch`] as it would through the hardware, and what the
//! eswitch does with it comes back in OVS terms — frames sent out of ports,
//! a drop, or a miss with the point where software resumes the packet.
//!
//! This is what an OVS provider on the dummy datapath calls for every
//! received packet (`ovs/`, `netdev-offload-xsc.c`).
//!
//! Where software resumes ([`Resume`]):
//! - A table miss at the root group, a conntrack miss (a connection the CT
//!   tables do not hold) and any mark this offloader did not make resume
//!   from the start: `recirc_id(0)` with the frame as it entered. The
//!   hardware's lookups up to that point had no side effect on software
//!   (no conntrack update, no frame sent: copies taken by `SAMPLE` before
//!   such a miss are discarded), so re-running the pipeline in software
//!   gives exactly what software alone would have done. Resuming just before
//!   `ct()` instead would need the recirculation id of the flow that jumped
//!   to the CT table, which the registers do not carry.
//! - A miss in a recirculation group resumes at that group's `recirc_id`
//!   with the conntrack metadata the hardware set (`ct_state`, `ct_zone`,
//!   `ct_mark`, `ct_label`) and the frame as the hardware left it (NAT
//!   applied), as OVS's datapath would hold it after `ct(...),recirc(R)`.
//!
//! Invariants: the eswitch is read-locked only while the packet runs;
//! restore decoding takes the translator's lock only on a recirculation
//! miss (never on a hit).

use smallvec::SmallVec;

use crate::eswitch::{DropReason, Eswitch, Fate, ToHost};
use crate::translate::{RestorePoint, GROUP_ROOT};

use super::Offloader;

/// Where software resumes a packet the emulated NIC handed to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// From `recirc_id(0)` with the frame as it entered.
    Start,
    /// At `recirc_id` with this conntrack metadata and the frame as the
    /// hardware left it.
    Recirc {
        /// OVS's recirculation id.
        recirc_id: u32,
        /// `ct_state` in OVS's bit order (0: not tracked).
        ct_state: u8,
        /// `ct_zone`.
        ct_zone: u16,
        /// `ct_mark`.
        ct_mark: u32,
        /// `ct_label`.
        ct_label: u128,
    },
}

/// What the emulated NIC did with one received packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// Sent out of these ports (OVS datapath port numbers through the port
    /// map: with the identity map, ethdev port N is datapath port N), in
    /// order; empty when the hardware dropped it.
    Forwarded(SmallVec<[(u16, Vec<u8>); 2]>),
    /// Handed to software.
    Miss {
        /// Where to resume.
        resume: Resume,
        /// The frame to resume with: as it entered for [`Resume::Start`],
        /// as the hardware left it for [`Resume::Recirc`].
        frame: Vec<u8>,
        /// Copies the hardware sent before the miss (always empty for
        /// [`Resume::Start`]).
        sent: SmallVec<[(u16, Vec<u8>); 2]>,
    },
}

impl Offloader<Eswitch> {
    /// Runs `frame`, received on ethdev port `in_port`, through the eswitch
    /// with its clock at `now` (the caller's clock; counters record it as
    /// the last-hit time).
    pub fn receive(&self, in_port: u16, frame: &[u8], now: u64) -> Received {
        let esw = self.device();
        esw.set_clock(now);
        let v = esw.process(in_port, frame);
        let mut sent = SmallVec::new();
        let mut to_host = None;
        for fate in v.mirrors.into_iter().chain([v.fate]) {
            match fate {
                Fate::Output { port, bytes } => sent.push((port, bytes)),
                Fate::Drop(DropReason::Rule) => {}
                Fate::Drop(_) => {
                    // A loop, a malformed decap or an unknown port: the
                    // hardware cannot handle it, software decides.
                    to_host = Some(None);
                }
                Fate::ToSoftware(h) => to_host = Some(Some(h)),
            }
        }
        let Some(h) = to_host else {
            return Received::Forwarded(sent);
        };
        let at_root = v.path.last().is_some_and(|hop| hop.group == GROUP_ROOT);
        match h.and_then(|h| self.restore(&h, at_root).map(|r| (r, h))) {
            Some((resume, h)) => Received::Miss {
                resume,
                frame: h.bytes,
                sent,
            },
            None => Received::Miss {
                resume: Resume::Start,
                frame: frame.to_vec(),
                sent: SmallVec::new(),
            },
        }
    }

    /// The resume point of a recirculation miss; `None` for every miss that
    /// resumes from the start.
    fn restore(&self, h: &ToHost, at_root: bool) -> Option<Resume> {
        let mark = h.mark?;
        if at_root {
            return None;
        }
        let x = self.shared.xlate.lock();
        let t = &x.translator;
        let Some(RestorePoint::Recirc { recirc_id }) = t.resources().restore_point(mark) else {
            return None;
        };
        let regs = &t.profile().registers;
        let field = |f: crate::profile::RegField| {
            (h.registers.get(usize::from(f.index)).copied().unwrap_or(0) & f.mask()) >> f.shift
        };
        let ct_state = field(regs.ct_state) as u8;
        let ct_label = t.resources().label_of(field(regs.ct_label))?;
        Some(Resume::Recirc {
            recirc_id,
            ct_state,
            ct_zone: field(regs.ct_zone) as u16,
            ct_mark: field(regs.ct_mark),
            ct_label,
        })
    }
}
