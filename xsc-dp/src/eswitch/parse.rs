//! The eswitch's own packet parser: a frame → the stack of protocol layers
//! rte_flow items are matched against, outermost first.
//!
//! Layers are `(protocol, byte offset)` pairs; the bytes stay in the frame,
//! so header rewrites need no re-parse (only pushes, pops, encaps and
//! decaps do). Every layer is whole: a header cut short ends the stack
//! before it. A layer's offset is where the matching rte_flow item struct's
//! bytes start on the wire (for VLAN: the TCI, since the TPID belongs to the
//! header before it; for ND messages: the ICMPv6 header they extend).
//!
//! Parsed: Ethernet, 802.1Q/802.1ad tags, IPv4 (IHL, fragments: no L4 in
//! later fragments), IPv6 with hop-by-hop/routing/destination/AH extension
//! headers and the fragment header (a layer of its own), ARP for Ethernet
//! and IPv4, TCP, UDP, SCTP, ICMP, ICMPv6 with ND NS/NA and their SLA/TLA
//! options, VXLAN (UDP 4789) and Geneve (UDP 6081) with the inner frame.
//!
//! Invariants: never panics, never allocates, at most [`MAX_LAYERS`] layers,
//! every layer's `off + proto.len()` is within the frame. This module does
//! not depend on `odp` or `translate`.

/// The most layers one frame is parsed into (the rest is payload).
pub const MAX_LAYERS: usize = 20;

/// A protocol an rte_flow item matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub(crate) enum Proto {
    #[default]
    Eth,
    Vlan,
    Ipv4,
    Ipv6,
    Ipv6FragExt,
    Tcp,
    Udp,
    Sctp,
    Icmp,
    Icmp6,
    Arp,
    NdNs,
    NdNa,
    NdOptSla,
    NdOptTla,
    Vxlan,
    Geneve,
}

impl Proto {
    /// Bytes of the item struct that are header bytes (the match width).
    pub(crate) const fn len(self) -> usize {
        match self {
            Proto::Eth => 14,
            Proto::Vlan => 4,
            Proto::Ipv4 => 20,
            Proto::Ipv6 => 40,
            Proto::Ipv6FragExt => 8,
            Proto::Tcp => 20,
            Proto::Udp => 8,
            Proto::Sctp => 12,
            Proto::Icmp => 8,
            Proto::Icmp6 => 4,
            Proto::Arp => 28,
            Proto::NdNs | Proto::NdNa => 24,
            Proto::NdOptSla | Proto::NdOptTla => 8,
            Proto::Vxlan | Proto::Geneve => 8,
        }
    }
}

/// One parsed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Layer {
    pub proto: Proto,
    /// Where the item's bytes start in the frame.
    pub off: u16,
    /// Header length on the wire where it differs from the item's (IPv4
    /// IHL, TCP data offset); 0 otherwise.
    pub hlen: u16,
}

/// The layers of one frame.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Parsed {
    layers: [Layer; MAX_LAYERS],
    n: u8,
}

impl Default for Parsed {
    fn default() -> Self {
        Self {
            layers: [Layer::default(); MAX_LAYERS],
            n: 0,
        }
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

impl Parsed {
    /// The layers, outermost first.
    pub(crate) fn layers(&self) -> &[Layer] {
        &self.layers[..usize::from(self.n)]
    }

    fn push(&mut self, buf: &[u8], proto: Proto, off: usize, hlen: usize) -> bool {
        if usize::from(self.n) >= MAX_LAYERS || off + proto.len().max(hlen) > buf.len() {
            return false;
        }
        self.layers[usize::from(self.n)] = Layer {
            proto,
            off: off as u16,
            hlen: hlen as u16,
        };
        self.n += 1;
        true
    }

    /// Parses `buf` from its Ethernet header.
    pub(crate) fn parse(buf: &[u8]) -> Parsed {
        let mut p = Parsed::default();
        // Frames are at most 64k here (offsets are u16); longer ones are
        // parsed as their first 64k.
        let buf = &buf[..buf.len().min(usize::from(u16::MAX))];
        p.ethernet(buf, 0);
        p
    }

    fn ethernet(&mut self, buf: &[u8], mut off: usize) {
        if !self.push(buf, Proto::Eth, off, 0) {
            return;
        }
        let Some(mut ether_type) = be16(buf, off + 12) else {
            return;
        };
        off += 14;
        while matches!(ether_type, 0x8100 | 0x88a8 | 0x9100) {
            if !self.push(buf, Proto::Vlan, off, 0) {
                return;
            }
            let Some(t) = be16(buf, off + 2) else { return };
            ether_type = t;
            off += 4;
        }
        match ether_type {
            0x0800 => self.ipv4(buf, off),
            0x86dd => self.ipv6(buf, off),
            0x0806 => {
                // ARP for Ethernet and IPv4 only (what ARP_ETH_IPV4 matches).
                let eth_ipv4 = be16(buf, off) == Some(1)
                    && be16(buf, off + 2) == Some(0x0800)
                    && buf.get(off + 4) == Some(&6)
                    && buf.get(off + 5) == Some(&4);
                if eth_ipv4 {
                    self.push(buf, Proto::Arp, off, 0);
                }
            }
            _ => {}
        }
    }

    fn ipv4(&mut self, buf: &[u8], off: usize) {
        let Some(&vihl) = buf.get(off) else { return };
        let ihl = usize::from(vihl & 0x0f) * 4;
        if vihl >> 4 != 4 || ihl < 20 || !self.push(buf, Proto::Ipv4, off, ihl) {
            return;
        }
        let frag = be16(buf, off + 6).unwrap_or(0);
        if frag & 0x1fff != 0 {
            return; // a later fragment: no L4 header
        }
        let proto = buf[off + 9];
        self.l4(buf, off + ihl, proto, false);
    }

    fn ipv6(&mut self, buf: &[u8], off: usize) {
        if buf.get(off).map_or(true, |b| b >> 4 != 6) || !self.push(buf, Proto::Ipv6, off, 0) {
            return;
        }
        let mut next = buf[off + 6];
        let mut at = off + 40;
        for _ in 0..8 {
            match next {
                // Hop-by-hop, routing, destination options.
                0 | 43 | 60 => {
                    let (Some(&nh), Some(&len)) = (buf.get(at), buf.get(at + 1)) else {
                        return;
                    };
                    next = nh;
                    at += (usize::from(len) + 1) * 8;
                }
                // Authentication header: length in 4-byte words, minus 2.
                51 => {
                    let (Some(&nh), Some(&len)) = (buf.get(at), buf.get(at + 1)) else {
                        return;
                    };
                    next = nh;
                    at += (usize::from(len) + 2) * 4;
                }
                44 => {
                    if !self.push(buf, Proto::Ipv6FragExt, at, 0) {
                        return;
                    }
                    next = buf[at];
                    let frag_data = be16(buf, at + 2).unwrap_or(0);
                    at += 8;
                    if frag_data >> 3 != 0 {
                        return; // a later fragment
                    }
                }
                _ => break,
            }
        }
        self.l4(buf, at, next, true);
    }

    fn l4(&mut self, buf: &[u8], off: usize, proto: u8, v6: bool) {
        match proto {
            6 => {
                let doff = buf.get(off + 12).map_or(20, |b| usize::from(b >> 4) * 4);
                self.push(buf, Proto::Tcp, off, doff.max(20));
            }
            17 => {
                if !self.push(buf, Proto::Udp, off, 0) {
                    return;
                }
                let port = be16(buf, off + 2);
                if port == Some(4789) {
                    if self.push(buf, Proto::Vxlan, off + 8, 0) {
                        self.ethernet(buf, off + 16);
                    }
                } else if port == Some(6081) {
                    let opt_len = buf.get(off + 8).map_or(0, |b| usize::from(b & 0x3f) * 4);
                    if self.push(buf, Proto::Geneve, off + 8, 0)
                        && be16(buf, off + 10) == Some(0x6558)
                    {
                        self.ethernet(buf, off + 16 + opt_len);
                    }
                }
            }
            132 => {
                self.push(buf, Proto::Sctp, off, 0);
            }
            1 if !v6 => {
                self.push(buf, Proto::Icmp, off, 0);
            }
            58 if v6 => {
                if !self.push(buf, Proto::Icmp6, off, 0) {
                    return;
                }
                let nd = match buf[off] {
                    135 => Proto::NdNs,
                    136 => Proto::NdNa,
                    _ => return,
                };
                if !self.push(buf, nd, off, 0) {
                    return;
                }
                let mut at = off + 24;
                while let (Some(&t), Some(&len)) = (buf.get(at), buf.get(at + 1)) {
                    let len = usize::from(len) * 8;
                    if len == 0 {
                        break;
                    }
                    let opt = match t {
                        1 if len == 8 => Some(Proto::NdOptSla),
                        2 if len == 8 => Some(Proto::NdOptTla),
                        _ => None,
                    };
                    if let Some(opt) = opt {
                        if !self.push(buf, opt, at, 0) {
                            break;
                        }
                    }
                    at += len;
                }
            }
            _ => {}
        }
    }

    /// Index of the first layer of `proto`.
    pub(crate) fn find(&self, proto: Proto) -> Option<usize> {
        self.layers().iter().position(|l| l.proto == proto)
    }

    /// The outermost IP layer (IPv4 or IPv6) and its index.
    pub(crate) fn outer_ip(&self) -> Option<(usize, Layer)> {
        self.layers()
            .iter()
            .enumerate()
            .find(|(_, l)| matches!(l.proto, Proto::Ipv4 | Proto::Ipv6))
            .map(|(i, l)| (i, *l))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn protos(buf: &[u8]) -> Vec<Proto> {
        Parsed::parse(buf)
            .layers()
            .iter()
            .map(|l| l.proto)
            .collect()
    }

    #[test]
    fn qinq_ipv4_tcp_and_truncation() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x88, 0xa8, 0x00, 0x0a, 0x81, 0x00, 0x00, 0x14, 0x08, 0x00]);
        let mut ip = [0u8; 20];
        ip[0] = 0x45;
        ip[9] = 6;
        f.extend_from_slice(&ip);
        f.extend_from_slice(&[0u8; 20]);
        assert_eq!(
            protos(&f),
            [
                Proto::Eth,
                Proto::Vlan,
                Proto::Vlan,
                Proto::Ipv4,
                Proto::Tcp
            ]
        );
        let l = Parsed::parse(&f);
        assert_eq!(l.layers()[1].off, 14);
        assert_eq!(l.layers()[3].off, 22);
        // Cut inside TCP: the stack ends at IPv4.
        assert_eq!(protos(&f[..f.len() - 1]).len(), 4);
        for n in 0..f.len() {
            let _ = Parsed::parse(&f[..n]);
        }
    }

    #[test]
    fn later_fragments_have_no_l4() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x00]);
        let mut ip = [0u8; 20];
        ip[0] = 0x45;
        ip[6] = 0x00;
        ip[7] = 0x10;
        ip[9] = 17;
        f.extend_from_slice(&ip);
        f.extend_from_slice(&[0u8; 8]);
        assert_eq!(protos(&f), [Proto::Eth, Proto::Ipv4]);
    }
}
