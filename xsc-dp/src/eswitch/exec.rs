//! Executing actions on a packet: header rewrites with their checksum
//! updates, VLAN push/pop, encap/decap, metadata writes.
//!
//! Checksums are updated incrementally (RFC 1624, `HC' = ~(~HC + ~m + m')`)
//! as a NIC's rewrite engine does: a packet whose checksum was wrong before
//! is still wrong after, and a first fragment's L4 checksum (over data the
//! NIC never sees whole) stays right. The IPv4 header checksum follows every
//! IPv4 header write; the TCP, UDP and ICMPv6 checksums follow their ports
//! and the IP addresses of their pseudo-header; a UDP checksum of 0 over
//! IPv4 (none) stays 0, and a computed 0 is sent as 0xffff. SCTP's CRC32c
//! is not updated (nothing rewrites SCTP ports here).
//!
//! A rewrite of a header the packet does not have is a no-op, as on
//! hardware whose modify engine finds no such field. The outermost header
//! of each kind is the one rewritten (rte_flow's level 0).
//!
//! Invariants: never panics on any packet; the only allocation is the copy
//! of the frame made by the first write ([`Pkt`] starts borrowed).

use std::borrow::Cow;

use super::compiled::{Act, FieldRef, ModSrc, MAX_TAGS};
use super::parse::{Layer, Parsed, Proto};
use crate::rule::Field;

/// The TAG registers.
pub type Registers = [u32; MAX_TAGS];

/// Packet metadata carried between groups.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Meta {
    pub regs: Registers,
    pub meta: u32,
    pub mark: Option<u32>,
}

/// A frame being processed: borrowed until the first write, parsed lazily.
#[derive(Debug, Clone)]
pub(crate) struct Pkt<'a> {
    buf: Cow<'a, [u8]>,
    parsed: Parsed,
    fresh: bool,
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Ones' complement sum of `b` taken as 16-bit words; `odd` when `b[0]` is
/// the low byte of its word.
fn sum(b: &[u8], odd: bool) -> u64 {
    b.iter()
        .enumerate()
        .map(|(i, &x)| {
            if (i + usize::from(odd)) % 2 == 0 {
                u64::from(x) << 8
            } else {
                u64::from(x)
            }
        })
        .sum()
}

fn fold(mut s: u64) -> u16 {
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

/// RFC 1624 eqn. 3.
fn adjust(csum: u16, old: &[u8], new: &[u8], odd: bool) -> u16 {
    let s = u64::from(!csum) + u64::from(!fold(sum(old, odd))) + u64::from(fold(sum(new, odd)));
    !fold(s)
}

/// The full Internet checksum of `b` (for headers the NIC builds).
pub(crate) fn checksum(b: &[u8]) -> u16 {
    !fold(sum(b, false))
}

/// An L4 checksum that covers a rewritten field.
#[derive(Debug, Clone, Copy)]
struct L4Sum {
    /// Where the checksum is.
    at: usize,
    /// UDP: 0 means none (IPv4) and a computed 0 is sent as 0xffff.
    udp: bool,
    /// Whether the field's first byte is the low byte of a checksum word.
    odd: bool,
}

/// Where a field is and what covers it.
#[derive(Debug, Clone, Copy)]
struct Loc {
    at: usize,
    /// Bytes spanned (big-endian), at most 16.
    len: usize,
    /// Bits below the field inside those bytes.
    shift: u32,
    width: u32,
    /// Start of the IPv4 header the field is in.
    ip4: Option<usize>,
    l4: Option<L4Sum>,
}

fn ones(width: u32) -> u128 {
    if width >= 128 {
        u128::MAX
    } else {
        (1u128 << width) - 1
    }
}

impl<'a> Pkt<'a> {
    pub(crate) fn new(frame: &'a [u8]) -> Self {
        Self {
            buf: Cow::Borrowed(frame),
            parsed: Parsed::default(),
            fresh: false,
        }
    }

    /// The frame as it is now.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf
    }

    pub(crate) fn into_vec(self) -> Vec<u8> {
        self.buf.into_owned()
    }

    /// The layers of the frame as it is now.
    pub(crate) fn parsed(&mut self) -> &Parsed {
        if !self.fresh {
            self.parsed = Parsed::parse(&self.buf);
            self.fresh = true;
        }
        &self.parsed
    }

    fn layers(&mut self) -> Parsed {
        *self.parsed()
    }

    /// The L4 checksum of the transport layer at index `l4` of `p`, and
    /// whether its IP is IPv4.
    fn l4_sum(p: &Parsed, l4: usize, field_at: usize, pseudo: bool) -> Option<L4Sum> {
        let layer = p.layers()[l4];
        let (at, udp) = match layer.proto {
            Proto::Tcp => (layer.off as usize + 16, false),
            Proto::Udp => (layer.off as usize + 6, true),
            Proto::Icmp6 => (layer.off as usize + 2, false),
            _ => return None,
        };
        let odd = !pseudo && (field_at - layer.off as usize) % 2 == 1;
        Some(L4Sum { at, udp, odd })
    }

    /// The transport layer index carried by the IP layer at `ip`.
    fn l4_index(p: &Parsed, ip: usize) -> Option<usize> {
        let layers = p.layers();
        let i = (ip + 1..layers.len()).find(|&i| layers[i].proto != Proto::Ipv6FragExt)?;
        matches!(
            layers[i].proto,
            Proto::Tcp | Proto::Udp | Proto::Sctp | Proto::Icmp | Proto::Icmp6
        )
        .then_some(i)
    }

    fn loc(&mut self, id: Field) -> Option<Loc> {
        let p = self.layers();
        let layers = p.layers();
        let simple = |at: usize, len: usize, shift: u32, width: u32| Loc {
            at,
            len,
            shift,
            width,
            ip4: None,
            l4: None,
        };
        let outer_ip = p.outer_ip();
        let ip = |v6: bool| outer_ip.filter(|(_, l)| (l.proto == Proto::Ipv6) == v6);
        let addr = |v6: bool, rel: usize, len: usize| -> Option<Loc> {
            let (i, l) = ip(v6)?;
            let at = l.off as usize + rel;
            let l4 = Self::l4_index(&p, i).and_then(|x| Self::l4_sum(&p, x, at, true));
            Some(Loc {
                at,
                len,
                shift: 0,
                width: len as u32 * 8,
                ip4: (!v6).then_some(l.off as usize),
                l4,
            })
        };
        let port = |proto: Proto, rel: usize| -> Option<Loc> {
            let (i, _) = outer_ip?;
            let x = Self::l4_index(&p, i)?;
            let l: Layer = layers[x];
            if l.proto != proto {
                return None;
            }
            let at = l.off as usize + rel;
            Some(Loc {
                l4: Self::l4_sum(&p, x, at, false),
                ..simple(at, 2, 0, 16)
            })
        };
        let vni = |proto: Proto| -> Option<Loc> {
            let x = p.find(proto)?;
            let at = layers[x].off as usize + 4;
            // The tunnel header is UDP payload: the UDP layer before it.
            let l4 = x
                .checked_sub(1)
                .filter(|&u| layers[u].proto == Proto::Udp)
                .and_then(|u| Self::l4_sum(&p, u, at, false));
            Some(Loc {
                l4,
                ..simple(at, 3, 0, 24)
            })
        };
        match id {
            Field::MacDst => p
                .find(Proto::Eth)
                .map(|i| simple(layers[i].off as usize, 6, 0, 48)),
            Field::MacSrc => p
                .find(Proto::Eth)
                .map(|i| simple(layers[i].off as usize + 6, 6, 0, 48)),
            Field::VlanId => p
                .find(Proto::Vlan)
                .map(|i| simple(layers[i].off as usize, 2, 0, 12)),
            Field::Ipv4Dscp => ip(false).map(|(_, l)| Loc {
                ip4: Some(l.off as usize),
                ..simple(l.off as usize + 1, 1, 2, 6)
            }),
            Field::Ipv4Ttl => ip(false).map(|(_, l)| Loc {
                ip4: Some(l.off as usize),
                ..simple(l.off as usize + 8, 1, 0, 8)
            }),
            Field::Ipv4Src => addr(false, 12, 4),
            Field::Ipv4Dst => addr(false, 16, 4),
            Field::Ipv6Dscp => ip(true).map(|(_, l)| simple(l.off as usize, 2, 6, 6)),
            Field::Ipv6HopLimit => ip(true).map(|(_, l)| simple(l.off as usize + 7, 1, 0, 8)),
            Field::Ipv6Src => addr(true, 8, 16),
            Field::Ipv6Dst => addr(true, 24, 16),
            Field::TcpPortSrc => port(Proto::Tcp, 0),
            Field::TcpPortDst => port(Proto::Tcp, 2),
            Field::UdpPortSrc => port(Proto::Udp, 0),
            Field::UdpPortDst => port(Proto::Udp, 2),
            Field::VxlanVni => vni(Proto::Vxlan),
            Field::GeneveVni => vni(Proto::Geneve),
            Field::Tag(_) | Field::Meta | Field::Mark => None,
        }
    }

    fn read_loc(&self, l: &Loc) -> u128 {
        let raw = self.buf[l.at..l.at + l.len]
            .iter()
            .fold(0u128, |a, &b| (a << 8) | u128::from(b));
        (raw >> l.shift) & ones(l.width)
    }

    fn write_loc(&mut self, l: &Loc, value: u128) {
        let mut old = [0u8; 16];
        old[..l.len].copy_from_slice(&self.buf[l.at..l.at + l.len]);
        let raw = old[..l.len]
            .iter()
            .fold(0u128, |a, &b| (a << 8) | u128::from(b));
        let m = ones(l.width) << l.shift;
        let new_raw = (raw & !m) | ((value << l.shift) & m);
        let mut new = [0u8; 16];
        let be = new_raw.to_be_bytes();
        new[..l.len].copy_from_slice(&be[16 - l.len..]);
        if new[..l.len] == old[..l.len] {
            return;
        }
        let buf = self.buf.to_mut();
        let (old, new) = (&old[..l.len], &new[..l.len]);
        if let Some(ip) = l.ip4 {
            let odd = (l.at - ip) % 2 == 1;
            let c = adjust(be16(buf, ip + 10), old, new, odd);
            buf[ip + 10..ip + 12].copy_from_slice(&c.to_be_bytes());
        }
        if let Some(s) = l.l4 {
            let c = be16(buf, s.at);
            if !(s.udp && c == 0) {
                let mut n = adjust(c, old, new, s.odd);
                if s.udp && n == 0 {
                    n = 0xffff;
                }
                buf[s.at..s.at + 2].copy_from_slice(&n.to_be_bytes());
            }
        }
        buf[l.at..l.at + l.len].copy_from_slice(new);
    }

    /// Reads a field (right-aligned); `None` when the packet lacks it.
    pub(crate) fn get(&mut self, md: &Meta, id: Field) -> Option<u128> {
        match id {
            Field::Tag(i) => md.regs.get(usize::from(i)).map(|&r| u128::from(r)),
            Field::Meta => Some(u128::from(md.meta)),
            Field::Mark => Some(u128::from(md.mark.unwrap_or(0))),
            _ => {
                let l = self.loc(id)?;
                Some(self.read_loc(&l))
            }
        }
    }

    /// Writes a field (right-aligned value, bits above its width ignored).
    pub(crate) fn set(&mut self, md: &mut Meta, id: Field, value: u128) {
        match id {
            Field::Tag(i) => {
                if let Some(r) = md.regs.get_mut(usize::from(i)) {
                    *r = value as u32;
                }
            }
            Field::Meta => md.meta = value as u32,
            Field::Mark => md.mark = Some(value as u32),
            _ => {
                if let Some(l) = self.loc(id) {
                    self.write_loc(&l, value);
                }
            }
        }
    }

    fn modify(&mut self, md: &mut Meta, dst: FieldRef, src: ModSrc, width: u32) {
        let bits = match src {
            ModSrc::Value(v) => v & ones(width),
            ModSrc::Field(f) => match self.get(md, f.id) {
                Some(v) => (v >> f.offset) & ones(width),
                None => return,
            },
        };
        let Some(cur) = self.get(md, dst.id) else {
            return;
        };
        let m = ones(width) << dst.offset;
        self.set(md, dst.id, (cur & !m) | ((bits << dst.offset) & m));
    }

    fn outer_ip_is_v6(&mut self) -> Option<bool> {
        self.parsed()
            .outer_ip()
            .map(|(_, l)| l.proto == Proto::Ipv6)
    }

    /// The transport protocol of the outermost IP, if TCP or UDP.
    fn tcp_or_udp(&mut self) -> Option<bool> {
        let p = self.layers();
        let (i, _) = p.outer_ip()?;
        let x = Self::l4_index(&p, i)?;
        match p.layers()[x].proto {
            Proto::Tcp => Some(true),
            Proto::Udp => Some(false),
            _ => None,
        }
    }

    fn push_vlan(&mut self, tpid: u16) {
        let p = self.layers();
        let Some(eth) = p.layers().first().filter(|l| l.proto == Proto::Eth) else {
            return;
        };
        let at = eth.off as usize + 12;
        // OpenFlow push_vlan: the new tag copies the outer tag's TCI, if any.
        let tci = p
            .layers()
            .get(1)
            .filter(|l| l.proto == Proto::Vlan)
            .map_or(0, |v| be16(&self.buf, v.off as usize));
        let buf = self.buf.to_mut();
        let mut tag = [0u8; 4];
        tag[..2].copy_from_slice(&tpid.to_be_bytes());
        tag[2..].copy_from_slice(&tci.to_be_bytes());
        buf.splice(at..at, tag);
        self.fresh = false;
    }

    fn pop_vlan(&mut self) {
        let p = self.layers();
        if p.layers().get(1).is_some_and(|l| l.proto == Proto::Vlan) {
            // Remove the TPID (at 12) and TCI: the inner type moves up.
            self.buf.to_mut().drain(12..16);
            self.fresh = false;
        }
    }

    fn vlan_tci(&mut self, mask: u16, value: u16) {
        let p = self.layers();
        if let Some(v) = p.layers().iter().find(|l| l.proto == Proto::Vlan) {
            let at = v.off as usize;
            let tci = (be16(&self.buf, at) & !mask) | (value & mask);
            self.buf.to_mut()[at..at + 2].copy_from_slice(&tci.to_be_bytes());
        }
    }

    /// Prepends `header` and fixes its lengths and IPv4 checksum for the
    /// frame it now carries, as a NIC's encap engine does.
    fn encap(&mut self, header: &[u8]) {
        let buf = self.buf.to_mut();
        buf.splice(0..0, header.iter().copied());
        self.fresh = false;
        let total = buf.len();
        let hdr = Parsed::parse(&buf[..header.len()]);
        let mut l4_at = None;
        for l in hdr.layers() {
            let at = l.off as usize;
            match l.proto {
                Proto::Ipv4 => {
                    let len = (total - at).min(usize::from(u16::MAX)) as u16;
                    buf[at + 2..at + 4].copy_from_slice(&len.to_be_bytes());
                    let ihl = l.hlen as usize;
                    buf[at + 10..at + 12].fill(0);
                    let c = checksum(&buf[at..at + ihl]);
                    buf[at + 10..at + 12].copy_from_slice(&c.to_be_bytes());
                }
                Proto::Ipv6 => {
                    let len = (total - at - 40).min(usize::from(u16::MAX)) as u16;
                    buf[at + 4..at + 6].copy_from_slice(&len.to_be_bytes());
                }
                Proto::Udp if l4_at.is_none() => {
                    let len = (total - at).min(usize::from(u16::MAX)) as u16;
                    buf[at + 4..at + 6].copy_from_slice(&len.to_be_bytes());
                    l4_at = Some(at);
                }
                _ => {}
            }
        }
        // A UDP checksum the header asks for (non-zero) is computed over the
        // whole datagram; 0 (none, what tunnels send) stays 0.
        if let Some(u) = l4_at {
            if be16(buf, u + 6) != 0 {
                if let Some((_, ip)) = hdr.outer_ip() {
                    buf[u + 6..u + 8].fill(0);
                    let ip_at = ip.off as usize;
                    let mut s = sum(&buf[u..], false);
                    let len = (total - u) as u64;
                    if ip.proto == Proto::Ipv4 {
                        s += sum(&buf[ip_at + 12..ip_at + 20], false);
                    } else {
                        s += sum(&buf[ip_at + 8..ip_at + 40], false);
                    }
                    s += 17 + (len & 0xffff) + (len >> 16);
                    let c = match !fold(s) {
                        0 => 0xffff,
                        c => c,
                    };
                    buf[u + 6..u + 8].copy_from_slice(&c.to_be_bytes());
                }
            }
        }
    }

    /// Removes everything up to the end of the first VXLAN header.
    fn vxlan_decap(&mut self) -> bool {
        let p = self.layers();
        let Some(v) = p.find(Proto::Vxlan) else {
            return false;
        };
        let end = p.layers()[v].off as usize + 8;
        self.buf.to_mut().drain(..end);
        self.fresh = false;
        true
    }

    fn raw_decap(&mut self, size: usize) -> bool {
        if size > self.buf.len() {
            return false;
        }
        self.buf.to_mut().drain(..size);
        self.fresh = false;
        true
    }

    /// Applies one non-fate action. `Err` drops the packet (a decap of a
    /// packet too short or not tunnelled).
    pub(crate) fn apply(&mut self, md: &mut Meta, act: &Act) -> Result<(), super::DropReason> {
        match *act {
            Act::Mark(id) => md.mark = Some(id),
            Act::SetTag { index, data, mask } => {
                if let Some(r) = md.regs.get_mut(usize::from(index)) {
                    *r = (*r & !mask) | (data & mask);
                }
            }
            Act::SetMeta { data, mask } => md.meta = (md.meta & !mask) | (data & mask),
            Act::SetMac { src, mac } => {
                let id = if src { Field::MacSrc } else { Field::MacDst };
                let mut v = [0u8; 16];
                v[10..].copy_from_slice(&mac);
                self.set(md, id, u128::from_be_bytes(v));
            }
            Act::SetIpv4 { src, addr } => {
                let id = if src { Field::Ipv4Src } else { Field::Ipv4Dst };
                self.set(md, id, u128::from(u32::from_be_bytes(addr)));
            }
            Act::SetIpv6 { src, addr } => {
                let id = if src { Field::Ipv6Src } else { Field::Ipv6Dst };
                self.set(md, id, u128::from_be_bytes(addr));
            }
            Act::SetTp { src, port } => {
                let id = match (self.tcp_or_udp(), src) {
                    (Some(true), true) => Field::TcpPortSrc,
                    (Some(true), false) => Field::TcpPortDst,
                    (Some(false), true) => Field::UdpPortSrc,
                    (Some(false), false) => Field::UdpPortDst,
                    (None, _) => return Ok(()),
                };
                self.set(md, id, u128::from(port));
            }
            Act::SetTtl(ttl) => {
                let id = match self.outer_ip_is_v6() {
                    Some(false) => Field::Ipv4Ttl,
                    Some(true) => Field::Ipv6HopLimit,
                    None => return Ok(()),
                };
                self.set(md, id, u128::from(ttl));
            }
            Act::DecTtl => {
                let id = match self.outer_ip_is_v6() {
                    Some(false) => Field::Ipv4Ttl,
                    Some(true) => Field::Ipv6HopLimit,
                    None => return Ok(()),
                };
                if let Some(t) = self.get(md, id) {
                    self.set(md, id, t.saturating_sub(1));
                }
            }
            Act::SetDscp { v6, dscp } => {
                if self.outer_ip_is_v6() == Some(v6) {
                    let id = if v6 { Field::Ipv6Dscp } else { Field::Ipv4Dscp };
                    self.set(md, id, u128::from(dscp));
                }
            }
            Act::Modify { dst, src, width } => self.modify(md, dst, src, width),
            Act::PushVlan(tpid) => self.push_vlan(tpid),
            Act::SetVlanVid(vid) => self.vlan_tci(0x0fff, vid),
            Act::SetVlanPcp(pcp) => self.vlan_tci(0xe000, u16::from(pcp) << 13),
            Act::PopVlan => self.pop_vlan(),
            Act::RawEncap(ref h) => self.encap(h),
            Act::RawDecap(size) => {
                if !self.raw_decap(size) {
                    return Err(super::DropReason::Malformed);
                }
            }
            Act::VxlanDecap => {
                if !self.vxlan_decap() {
                    return Err(super::DropReason::Malformed);
                }
            }
            // Counted, fates and mirrors are the caller's.
            Act::Count
            | Act::Drop
            | Act::Jump(_)
            | Act::Queue(_)
            | Act::RepresentedPort(_)
            | Act::PortRepresentor(_)
            | Act::Sample(_) => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incremental_update_matches_recomputation() {
        let mut hdr = [
            0x45u8, 0, 0, 40, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        let c = checksum(&hdr);
        hdr[10..12].copy_from_slice(&c.to_be_bytes());
        let old = hdr;
        hdr[12..16].copy_from_slice(&[192, 168, 255, 7]);
        hdr[8] = 3;
        let c1 = adjust(c, &old[12..16], &hdr[12..16], false);
        let c2 = adjust(c1, &old[8..9], &hdr[8..9], false);
        hdr[10..12].copy_from_slice(&c2.to_be_bytes());
        assert_eq!(checksum(&hdr), 0);
    }
}
