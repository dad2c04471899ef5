//! A tiny builder of test frames: Ethernet (optionally one 802.1Q tag) with
//! an ARP request/reply or IPv4 carrying TCP, UDP or ICMP echo.
//!
//! Every checksum is computed (IPv4 header, TCP/UDP with the pseudo-header,
//! ICMP), because OVS's userspace conntrack marks packets with bad L4
//! checksums `+inv`. Frames are not padded to 60 bytes: OVS forwards what it
//! receives, and unpadded frames make expected output easy to write.
//!
//! ```ignore
//! let syn = Eth::new(POD_A_MAC, GW_MAC).ipv4(Ipv4::tcp(a, vip, TcpFlags::SYN, 1000, 0, b""));
//! ovs.receive("p1", &syn)?;
//! ```

use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddrV4};

/// An Ethernet address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    pub const BROADCAST: Mac = Mac([0xff; 6]);
    pub const ZERO: Mac = Mac([0; 6]);

    /// Parses `aa:bb:cc:dd:ee:ff`; panics on anything else (test constants).
    pub const fn parse(s: &str) -> Mac {
        const fn nibble(c: u8) -> u8 {
            match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => panic!("MAC address digit is not hex"),
            }
        }
        let s = s.as_bytes();
        assert!(s.len() == 17, "MAC address must be aa:bb:cc:dd:ee:ff");
        let mut out = [0u8; 6];
        let mut i = 0;
        while i < 6 {
            out[i] = nibble(s[3 * i]) << 4 | nibble(s[3 * i + 1]);
            assert!(
                i == 5 || s[3 * i + 2] == b':',
                "MAC address bytes are ':'-separated"
            );
            i += 1;
        }
        Mac(out)
    }
}

/// TCP flags (the low byte of the flags field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: TcpFlags = TcpFlags(0x01);
    pub const SYN: TcpFlags = TcpFlags(0x02);
    pub const RST: TcpFlags = TcpFlags(0x04);
    pub const PSH: TcpFlags = TcpFlags(0x08);
    pub const ACK: TcpFlags = TcpFlags(0x10);
}

impl std::ops::BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

/// The transport payload of an [`Ipv4`] packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum L4 {
    Tcp {
        src_port: u16,
        dst_port: u16,
        seq: u32,
        ack: u32,
        flags: TcpFlags,
        window: u16,
        payload: Vec<u8>,
    },
    Udp {
        src_port: u16,
        dst_port: u16,
        payload: Vec<u8>,
    },
    /// ICMP echo request (type 8) or reply (type 0).
    IcmpEcho {
        reply: bool,
        ident: u16,
        seq: u16,
        payload: Vec<u8>,
    },
}

/// An IPv4 packet (no options, DF clear, identification 0 unless set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv4 {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ttl: u8,
    pub ident: u16,
    pub l4: L4,
}

impl Ipv4 {
    /// A TCP segment from `src` to `dst` with window 65535.
    pub fn tcp(
        src: SocketAddrV4,
        dst: SocketAddrV4,
        flags: TcpFlags,
        seq: u32,
        ack: u32,
        payload: &[u8],
    ) -> Ipv4 {
        Ipv4::new(
            *src.ip(),
            *dst.ip(),
            L4::Tcp {
                src_port: src.port(),
                dst_port: dst.port(),
                seq,
                ack,
                flags,
                window: 65535,
                payload: payload.to_vec(),
            },
        )
    }

    /// A UDP datagram from `src` to `dst`.
    pub fn udp(src: SocketAddrV4, dst: SocketAddrV4, payload: &[u8]) -> Ipv4 {
        Ipv4::new(
            *src.ip(),
            *dst.ip(),
            L4::Udp {
                src_port: src.port(),
                dst_port: dst.port(),
                payload: payload.to_vec(),
            },
        )
    }

    /// An ICMP echo request.
    pub fn icmp_echo_request(
        src: Ipv4Addr,
        dst: Ipv4Addr,
        ident: u16,
        seq: u16,
        payload: &[u8],
    ) -> Ipv4 {
        Ipv4::new(
            src,
            dst,
            L4::IcmpEcho {
                reply: false,
                ident,
                seq,
                payload: payload.to_vec(),
            },
        )
    }

    /// An ICMP echo reply.
    pub fn icmp_echo_reply(
        src: Ipv4Addr,
        dst: Ipv4Addr,
        ident: u16,
        seq: u16,
        payload: &[u8],
    ) -> Ipv4 {
        Ipv4::new(
            src,
            dst,
            L4::IcmpEcho {
                reply: true,
                ident,
                seq,
                payload: payload.to_vec(),
            },
        )
    }

    fn new(src: Ipv4Addr, dst: Ipv4Addr, l4: L4) -> Ipv4 {
        Ipv4 {
            src,
            dst,
            ttl: 64,
            ident: 0,
            l4,
        }
    }

    /// The same packet with another TTL.
    pub fn with_ttl(mut self, ttl: u8) -> Ipv4 {
        self.ttl = ttl;
        self
    }

    /// The same packet with another IP identification.
    pub fn with_ident(mut self, ident: u16) -> Ipv4 {
        self.ident = ident;
        self
    }

    /// The IP protocol number of the payload.
    pub fn protocol(&self) -> u8 {
        match self.l4 {
            L4::Tcp { .. } => 6,
            L4::Udp { .. } => 17,
            L4::IcmpEcho { .. } => 1,
        }
    }

    /// The IPv4 header and payload, checksums filled in.
    pub fn to_bytes(&self) -> Vec<u8> {
        let l4 = self.l4_bytes();
        let total_len = u16::try_from(20 + l4.len()).expect("test packet fits in an IPv4 packet");
        let mut out = Vec::with_capacity(usize::from(total_len));
        out.push(0x45); // version 4, IHL 5
        out.push(0); // DSCP/ECN
        out.extend_from_slice(&total_len.to_be_bytes());
        out.extend_from_slice(&self.ident.to_be_bytes());
        out.extend_from_slice(&0u16.to_be_bytes()); // flags, fragment offset
        out.push(self.ttl);
        out.push(self.protocol());
        out.extend_from_slice(&[0, 0]); // checksum, below
        out.extend_from_slice(&self.src.octets());
        out.extend_from_slice(&self.dst.octets());
        let csum = checksum(&[&out]);
        out[10..12].copy_from_slice(&csum.to_be_bytes());
        out.extend_from_slice(&l4);
        out
    }

    fn l4_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match &self.l4 {
            L4::Tcp {
                src_port,
                dst_port,
                seq,
                ack,
                flags,
                window,
                payload,
            } => {
                out.extend_from_slice(&src_port.to_be_bytes());
                out.extend_from_slice(&dst_port.to_be_bytes());
                out.extend_from_slice(&seq.to_be_bytes());
                out.extend_from_slice(&ack.to_be_bytes());
                out.push(5 << 4); // data offset 5 words, no options
                out.push(flags.0);
                out.extend_from_slice(&window.to_be_bytes());
                out.extend_from_slice(&[0, 0]); // checksum, below
                out.extend_from_slice(&[0, 0]); // urgent pointer
                out.extend_from_slice(payload);
                let csum = checksum(&[&self.pseudo_header(out.len()), &out]);
                out[16..18].copy_from_slice(&csum.to_be_bytes());
            }
            L4::Udp {
                src_port,
                dst_port,
                payload,
            } => {
                let len = u16::try_from(8 + payload.len()).expect("test datagram fits in UDP");
                out.extend_from_slice(&src_port.to_be_bytes());
                out.extend_from_slice(&dst_port.to_be_bytes());
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(&[0, 0]); // checksum, below
                out.extend_from_slice(payload);
                let csum = match checksum(&[&self.pseudo_header(out.len()), &out]) {
                    0 => 0xffff, // RFC 768: a computed 0 is sent as all ones
                    c => c,
                };
                out[6..8].copy_from_slice(&csum.to_be_bytes());
            }
            L4::IcmpEcho {
                reply,
                ident,
                seq,
                payload,
            } => {
                out.push(if *reply { 0 } else { 8 });
                out.push(0); // code
                out.extend_from_slice(&[0, 0]); // checksum, below
                out.extend_from_slice(&ident.to_be_bytes());
                out.extend_from_slice(&seq.to_be_bytes());
                out.extend_from_slice(payload);
                let csum = checksum(&[&out]);
                out[2..4].copy_from_slice(&csum.to_be_bytes());
            }
        }
        out
    }

    fn pseudo_header(&self, l4_len: usize) -> [u8; 12] {
        let mut ph = [0u8; 12];
        ph[..4].copy_from_slice(&self.src.octets());
        ph[4..8].copy_from_slice(&self.dst.octets());
        ph[9] = self.protocol();
        let len = u16::try_from(l4_len).expect("test segment fits in IPv4");
        ph[10..12].copy_from_slice(&len.to_be_bytes());
        ph
    }
}

/// An Ethernet header: where the frame goes, and its optional 802.1Q tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Eth {
    pub src: Mac,
    pub dst: Mac,
    /// VLAN id of a single 802.1Q tag (PCP 0, DEI 0), if any.
    pub vlan: Option<u16>,
}

impl Eth {
    pub fn new(src: Mac, dst: Mac) -> Eth {
        Eth {
            src,
            dst,
            vlan: None,
        }
    }

    /// The same header with an 802.1Q tag carrying `vid`.
    pub fn vlan(mut self, vid: u16) -> Eth {
        assert!(vid < 4096, "VLAN id {vid} does not fit in 12 bits");
        self.vlan = Some(vid);
        self
    }

    /// A frame carrying `ip`.
    pub fn ipv4(&self, ip: &Ipv4) -> Vec<u8> {
        self.frame(0x0800, &ip.to_bytes())
    }

    /// An ARP request from `self.src`/`spa` asking for `tpa`.
    pub fn arp_request(&self, spa: Ipv4Addr, tpa: Ipv4Addr) -> Vec<u8> {
        self.frame(0x0806, &arp(1, self.src, spa, Mac::ZERO, tpa))
    }

    /// An ARP reply from `self.src`/`spa` to `tha`/`tpa`.
    pub fn arp_reply(&self, spa: Ipv4Addr, tha: Mac, tpa: Ipv4Addr) -> Vec<u8> {
        self.frame(0x0806, &arp(2, self.src, spa, tha, tpa))
    }

    fn frame(&self, ethertype: u16, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(18 + payload.len());
        out.extend_from_slice(&self.dst.0);
        out.extend_from_slice(&self.src.0);
        if let Some(vid) = self.vlan {
            out.extend_from_slice(&0x8100u16.to_be_bytes());
            out.extend_from_slice(&vid.to_be_bytes());
        }
        out.extend_from_slice(&ethertype.to_be_bytes());
        out.extend_from_slice(payload);
        out
    }
}

fn arp(op: u16, sha: Mac, spa: Ipv4Addr, tha: Mac, tpa: Ipv4Addr) -> Vec<u8> {
    let mut out = Vec::with_capacity(28);
    out.extend_from_slice(&1u16.to_be_bytes()); // hardware: Ethernet
    out.extend_from_slice(&0x0800u16.to_be_bytes()); // protocol: IPv4
    out.push(6);
    out.push(4);
    out.extend_from_slice(&op.to_be_bytes());
    out.extend_from_slice(&sha.0);
    out.extend_from_slice(&spa.octets());
    out.extend_from_slice(&tha.0);
    out.extend_from_slice(&tpa.octets());
    out
}

/// The Internet checksum (RFC 1071) over the concatenation of `parts`; every
/// part but the last must have even length.
pub fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    for part in parts {
        let mut words = part.chunks_exact(2);
        for w in &mut words {
            sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
        }
        if let [last] = words.remainder() {
            sum += u32::from(*last) << 8;
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Lower-case hex, no separators: what `netdev-dummy/receive` takes.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        write!(s, "{b:02x}").expect("writing to a String cannot fail");
    }
    s
}

/// Parses [`to_hex`]'s output back; `None` on odd length or a non-hex digit.
pub fn from_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}
