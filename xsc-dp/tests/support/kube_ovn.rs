//! The Kube-OVN-shaped pipeline: topology, OpenFlow rules and the traffic
//! that makes OVS's datapath show `+new`, `+est`, `+rpl`, `+inv`, NAT,
//! recirculation, VLAN push/pop, router rewrites and drops.
//!
//! The rules are data, in `tests/data/ovs/kube-ovn.ofctl`, documented there
//! rule by rule; [`PIPELINE`] is that file. The traffic is [`traffic`], built
//! with [`super::packet`]; `tests/data/ovs/kube-ovn.packets` is the same
//! sequence as text (checked by `tests/ovs/harness.rs`), which `scripts/ovs-capture`
//! replays to regenerate the fixtures without Rust.
//!
//! Topology (bridge `br0`, userspace datapath):
//!
//! | port | ofport | what | conntrack zone |
//! |---|---|---|---|
//! | p1 | 1 | pod A, 10.16.0.14, 00:00:00:9d:fb:1a | 4 |
//! | p2 | 2 | pod B, 10.16.0.18, 00:00:00:ce:cf:b9 | 6 |
//! | p3 | 3 | uplink, VLAN 100; external router 00:00:00:aa:01:64, 192.168.100.0/24 | - |
//! | br0 | LOCAL (dp 100) | the bridge port | - |
//!
//! Load balancer: 10.16.0.100:80 → 10.16.0.18:80 in zone 10; gateway
//! 10.16.0.1 / 00:00:00:10:00:01.

use std::net::{Ipv4Addr, SocketAddrV4};

use super::ovs::{HarnessError, OvsSandbox};
use super::packet::{from_hex, to_hex, Eth, Ipv4, Mac, TcpFlags};

/// The OpenFlow rules, for `ovs-ofctl -O OpenFlow13 add-flows br0 -`.
pub const PIPELINE: &str = include_str!("../data/ovs/kube-ovn.ofctl");
/// [`traffic`] as text: `PORT HEX # what` per line.
pub const PACKETS: &str = include_str!("../data/ovs/kube-ovn.packets");

pub const BRIDGE: &str = "br0";
/// `(name, ofport)` of the dummy ports, in the order they are added.
pub const PORTS: [(&str, u16); 3] = [("p1", 1), ("p2", 2), ("p3", 3)];

pub const POD_A_MAC: Mac = Mac::parse("00:00:00:9d:fb:1a");
pub const POD_A_IP: Ipv4Addr = Ipv4Addr::new(10, 16, 0, 14);
pub const POD_A_ZONE: u16 = 4;
pub const POD_B_MAC: Mac = Mac::parse("00:00:00:ce:cf:b9");
pub const POD_B_IP: Ipv4Addr = Ipv4Addr::new(10, 16, 0, 18);
pub const POD_B_ZONE: u16 = 6;
pub const GW_MAC: Mac = Mac::parse("00:00:00:10:00:01");
pub const GW_IP: Ipv4Addr = Ipv4Addr::new(10, 16, 0, 1);
pub const EXT_ROUTER_MAC: Mac = Mac::parse("00:00:00:aa:01:64");
pub const EXT_HOST_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 100, 10);
pub const UPLINK_VLAN: u16 = 100;
pub const VIP: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(10, 16, 0, 100), 80);
pub const BACKEND: SocketAddrV4 = SocketAddrV4::new(POD_B_IP, 80);
pub const LB_ZONE: u16 = 10;

/// Milliseconds [`drive`] advances OVS's stopped clock after each packet.
pub const WARP_MS: u64 = 100;

/// One packet of the traffic: `frame` arrives on `port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub port: String,
    pub frame: Vec<u8>,
    pub what: String,
}

fn step(port: &str, what: &str, frame: Vec<u8>) -> Step {
    Step {
        port: port.to_owned(),
        frame,
        what: what.to_owned(),
    }
}

/// Pod A's end of TCP connection `n` to the VIP (source port 3457 + n).
pub fn client(n: u16) -> SocketAddrV4 {
    SocketAddrV4::new(POD_A_IP, 3457 + n)
}

pub const HTTP_REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: 10.16.0.100\r\n\r\n";
pub const HTTP_RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

/// The traffic, in order. Pod A talks to the VIP through the gateway MAC
/// (the backend answers the gateway MAC too), to pod B directly on L2, and
/// to 192.168.100.10 through the router and the uplink.
pub fn traffic() -> Vec<Step> {
    let a = Eth::new(POD_A_MAC, GW_MAC);
    let b = Eth::new(POD_B_MAC, GW_MAC);
    let a_to_b = Eth::new(POD_A_MAC, POD_B_MAC);
    let b_to_a = Eth::new(POD_B_MAC, POD_A_MAC);
    let uplink = Eth::new(EXT_ROUTER_MAC, GW_MAC).vlan(UPLINK_VLAN);
    let (req, resp) = (HTTP_REQUEST.len() as u32, HTTP_RESPONSE.len() as u32);
    let (syn, ack, psh, fin) = (TcpFlags::SYN, TcpFlags::ACK, TcpFlags::PSH, TcpFlags::FIN);
    // Client ISN 1000, server ISN 5000. The server's segments leave pod B
    // from the backend address; the LB zone turns them back into the VIP's.
    let c0 = client(0);
    let c1 = client(1);
    vec![
        step(
            "p1",
            "ARP request 10.16.0.14 -> who-has 10.16.0.18 (flooded, tagged on p3)",
            Eth::new(POD_A_MAC, Mac::BROADCAST).arp_request(POD_A_IP, POD_B_IP),
        ),
        step(
            "p2",
            "ARP reply 10.16.0.18 is-at 00:00:00:ce:cf:b9",
            b_to_a.arp_reply(POD_B_IP, POD_A_MAC, POD_A_IP),
        ),
        step(
            "p3",
            "ARP request from the uplink, VLAN 100 (popped, flooded)",
            Eth::new(EXT_ROUTER_MAC, Mac::BROADCAST)
                .vlan(UPLINK_VLAN)
                .arp_request(Ipv4Addr::new(192, 168, 100, 1), GW_IP),
        ),
        // TCP connection 0 to the VIP, left established.
        step(
            "p1",
            "TCP 0 SYN to VIP (DNAT to 10.16.0.18:80)",
            a.ipv4(&Ipv4::tcp(c0, VIP, syn, 1000, 0, b"")),
        ),
        step(
            "p2",
            "TCP 0 SYN-ACK from backend",
            b.ipv4(&Ipv4::tcp(BACKEND, c0, syn | ack, 5000, 1001, b"")),
        ),
        step(
            "p1",
            "TCP 0 ACK",
            a.ipv4(&Ipv4::tcp(c0, VIP, ack, 1001, 5001, b"")),
        ),
        step(
            "p1",
            "TCP 0 request",
            a.ipv4(&Ipv4::tcp(c0, VIP, psh | ack, 1001, 5001, HTTP_REQUEST)),
        ),
        step(
            "p2",
            "TCP 0 response",
            b.ipv4(&Ipv4::tcp(
                BACKEND,
                c0,
                psh | ack,
                5001,
                1001 + req,
                HTTP_RESPONSE,
            )),
        ),
        step(
            "p1",
            "TCP 0 ACK of response",
            a.ipv4(&Ipv4::tcp(c0, VIP, ack, 1001 + req, 5001 + resp, b"")),
        ),
        // TCP connection 1 to the VIP, opened and closed with FIN.
        step(
            "p1",
            "TCP 1 SYN to VIP",
            a.ipv4(&Ipv4::tcp(c1, VIP, syn, 1000, 0, b"")),
        ),
        step(
            "p2",
            "TCP 1 SYN-ACK",
            b.ipv4(&Ipv4::tcp(BACKEND, c1, syn | ack, 5000, 1001, b"")),
        ),
        step(
            "p1",
            "TCP 1 ACK",
            a.ipv4(&Ipv4::tcp(c1, VIP, ack, 1001, 5001, b"")),
        ),
        step(
            "p1",
            "TCP 1 FIN",
            a.ipv4(&Ipv4::tcp(c1, VIP, fin | ack, 1001, 5001, b"")),
        ),
        step(
            "p2",
            "TCP 1 FIN-ACK",
            b.ipv4(&Ipv4::tcp(BACKEND, c1, fin | ack, 5001, 1002, b"")),
        ),
        step(
            "p1",
            "TCP 1 last ACK",
            a.ipv4(&Ipv4::tcp(c1, VIP, ack, 1002, 5002, b"")),
        ),
        // UDP and ICMP between the pods on L2.
        step(
            "p1",
            "UDP 10.16.0.14:5353 -> 10.16.0.18:53",
            a_to_b.ipv4(&Ipv4::udp(
                SocketAddrV4::new(POD_A_IP, 5353),
                SocketAddrV4::new(POD_B_IP, 53),
                b"query",
            )),
        ),
        step(
            "p2",
            "UDP reply 10.16.0.18:53 -> 10.16.0.14:5353",
            b_to_a.ipv4(&Ipv4::udp(
                SocketAddrV4::new(POD_B_IP, 53),
                SocketAddrV4::new(POD_A_IP, 5353),
                b"answer",
            )),
        ),
        step(
            "p1",
            "ICMP echo request pod A -> pod B",
            a_to_b.ipv4(&Ipv4::icmp_echo_request(
                POD_A_IP, POD_B_IP, 0x1234, 1, b"ping",
            )),
        ),
        step(
            "p2",
            "ICMP echo reply pod B -> pod A",
            b_to_a.ipv4(&Ipv4::icmp_echo_reply(
                POD_B_IP, POD_A_IP, 0x1234, 1, b"ping",
            )),
        ),
        // Routed out of the uplink (rewrite, dec_ttl, VLAN push) and back.
        step(
            "p1",
            "ICMP echo request pod A -> 192.168.100.10 (routed, VLAN 100 on p3)",
            a.ipv4(&Ipv4::icmp_echo_request(
                POD_A_IP,
                EXT_HOST_IP,
                0x4321,
                1,
                b"ping",
            )),
        ),
        step(
            "p3",
            "ICMP echo reply 192.168.100.10 -> pod A (VLAN popped, routed)",
            uplink.ipv4(&Ipv4::icmp_echo_reply(
                EXT_HOST_IP,
                POD_A_IP,
                0x4321,
                1,
                b"ping",
            )),
        ),
        // Drops.
        step(
            "p1",
            "spoofed source 10.16.0.99 on p1 (port security drop)",
            a_to_b.ipv4(&Ipv4::udp(
                SocketAddrV4::new(Ipv4Addr::new(10, 16, 0, 99), 5353),
                SocketAddrV4::new(POD_B_IP, 53),
                b"x",
            )),
        ),
        step(
            "p2",
            "SYN-ACK without a connection (+inv, dropped)",
            b_to_a.ipv4(&Ipv4::tcp(
                BACKEND,
                SocketAddrV4::new(POD_A_IP, 4000),
                syn | ack,
                7000,
                1,
                b"",
            )),
        ),
        step(
            "p1",
            "TCP SYN to pod B port 22 (denied by pod B's policy)",
            a_to_b.ipv4(&Ipv4::tcp(
                SocketAddrV4::new(POD_A_IP, 3500),
                SocketAddrV4::new(POD_B_IP, 22),
                syn,
                1000,
                0,
                b"",
            )),
        ),
        step(
            "p3",
            "ICMP on VLAN 200 from the uplink (dropped)",
            Eth::new(EXT_ROUTER_MAC, GW_MAC)
                .vlan(200)
                .ipv4(&Ipv4::icmp_echo_request(EXT_HOST_IP, POD_A_IP, 1, 1, b"")),
        ),
    ]
}

/// Renders steps as the `kube-ovn.packets` text.
pub fn render_packets(steps: &[Step]) -> String {
    let mut out = String::from(
        "# Traffic for kube-ovn.ofctl: one packet per line, `PORT HEX # what`,\n\
         # sent in order with `ovs-appctl netdev-dummy/receive PORT HEX`.\n\
         # Generated from xsc-dp/tests/support/kube_ovn.rs::traffic(); the test\n\
         # ovs::harness::packets_file_matches_the_builder keeps the two equal.\n",
    );
    for s in steps {
        out.push_str(&format!("{} {} # {}\n", s.port, to_hex(&s.frame), s.what));
    }
    out
}

/// Parses the `kube-ovn.packets` text back into steps.
pub fn parse_packets(text: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let (body, what) = match line.split_once('#') {
            Some((body, what)) => (body, what.trim()),
            None => (line, ""),
        };
        let mut fields = body.split_whitespace();
        let Some(port) = fields.next() else { continue };
        let hex = fields
            .next()
            .ok_or_else(|| format!("line {}: no packet after port {port}", i + 1))?;
        if let Some(extra) = fields.next() {
            return Err(format!(
                "line {}: unexpected `{extra}` after the packet",
                i + 1
            ));
        }
        let frame = from_hex(hex).ok_or_else(|| format!("line {}: packet is not hex", i + 1))?;
        steps.push(step(port, what, frame));
    }
    Ok(steps)
}

/// Adds `br0`, the dummy ports and the [`PIPELINE`] to `ovs`.
pub fn setup(ovs: &mut OvsSandbox) -> Result<(), HarnessError> {
    ovs.add_bridge(BRIDGE)?;
    for (name, ofport) in PORTS {
        ovs.add_port(BRIDGE, name, ofport)?;
    }
    ovs.add_flows(BRIDGE, PIPELINE)
}

/// Stops OVS's clock, then sends each step, advancing the clock by
/// [`WARP_MS`] after each so `used:` ages in later dumps are reproducible.
pub fn drive(ovs: &OvsSandbox, steps: &[Step]) -> Result<(), HarnessError> {
    ovs.stop_time()?;
    for s in steps {
        ovs.receive(&s.port, &s.frame)?;
        ovs.warp(WARP_MS)?;
    }
    Ok(())
}
