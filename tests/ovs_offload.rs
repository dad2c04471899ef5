//! The offload provider inside ovs-vswitchd (`ovs/`, built by
//! `scripts/build-ovs` into `target/ovs/`), end to end on OVS's own
//! userspace datapath with the NIC emulated by the library's eswitch.
//!
//! Each test runs a private `ovsdb-server` + `ovs-vswitchd --enable-dummy=
//! override --disable-system` (the `xsc-dp` OVS harness) from `target/ovs/bin`
//! with `other_config:hw-offload=true` and `hw-offload-provider=xsc`, on the
//! Kube-OVN-shaped pipeline of `xsc-dp/tests/data/ovs/kube-ovn.ofctl`
//! (conntrack zones with commit/mark/label, a NATed service VIP,
//! recirculation, a VLAN uplink, ACL drops) plus an IPv6 conversation, and
//! drives it packet by packet with `netdev-dummy/receive`. One test runs a
//! pipeline the provider was not developed against instead: the router/
//! firewall of `tests/data/independent.ofctl` (module `independent`).
//!
//! Without `target/ovs` the tests skip loudly; under `CI=true` they build it
//! (`scripts/build-ovs`) and fail if that fails.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

// The xsc-dp OVS harness; its modules refer to each other as `super::`.
#[allow(dead_code)]
#[path = "../xsc-dp/tests/support/kube_ovn.rs"]
mod kube_ovn;
#[allow(dead_code)]
#[path = "../xsc-dp/tests/support/ovs.rs"]
mod ovs;
#[allow(dead_code)]
#[path = "../xsc-dp/tests/support/packet.rs"]
mod packet;

use kube_ovn::{
    client, BRIDGE, EXT_HOST_IP, EXT_ROUTER_MAC, GW_MAC, HTTP_REQUEST, HTTP_RESPONSE, POD_A_IP,
    POD_A_MAC, POD_B_IP, POD_B_MAC, UPLINK_VLAN, VIP,
};
use ovs::{OvsInstall, OvsSandbox};
use packet::{checksum, Eth, Ipv4, Mac, TcpFlags};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// `target/ovs` (or `target/ovs/dpdk`): the patched OVS, built by
/// `scripts/build-ovs` (under CI, built here if missing, once per run).
fn install(dpdk: bool) -> Result<OvsInstall, ovs::HarnessError> {
    let prefix = PathBuf::from(ROOT).join(if dpdk {
        "target/ovs/dpdk"
    } else {
        "target/ovs"
    });
    let bin = prefix.join("bin");
    if in_ci() {
        // One build at a time: both flavours install packages with apt-get,
        // which takes dpkg's lock.
        static BUILDING: Mutex<()> = Mutex::new(());
        let _one = BUILDING.lock().unwrap_or_else(|e| e.into_inner());
        if !bin.join("ovs-vswitchd").exists() {
            let mut cmd = std::process::Command::new(PathBuf::from(ROOT).join("scripts/build-ovs"));
            if dpdk {
                cmd.arg("--with-dpdk");
            }
            let status = cmd.status().expect("run scripts/build-ovs");
            assert!(status.success(), "scripts/build-ovs failed: {status}");
        }
    }
    OvsInstall::locate_in(
        &[bin],
        &[prefix.join("share/openvswitch/vswitch.ovsschema")],
    )
}

/// IPv6 between pod A and pod B in conntrack zone 7 (both directions):
/// UDP from A is committed with ct_mark 3; established traffic crosses.
const IPV6_FLOWS: &str = "\
table=0,priority=250,in_port=1,ipv6,dl_src=00:00:00:9d:fb:1a actions=ct(table=60,zone=7)
table=0,priority=250,in_port=2,ipv6,dl_src=00:00:00:ce:cf:b9 actions=ct(table=60,zone=7)
table=60,priority=300,ct_state=+inv+trk actions=drop
table=60,priority=200,ct_state=-new+est+trk,in_port=1,ipv6 actions=output:2
table=60,priority=200,ct_state=-new+est+trk,in_port=2,ipv6 actions=output:1
table=60,priority=100,ct_state=+new+trk,in_port=1,udp6 actions=ct(commit,zone=7,exec(set_field:0x3->ct_mark)),output:2
table=60,priority=0 actions=drop
";

const POD_A_IP6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 0x14);
const POD_B_IP6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 0x18);

/// An Ethernet + IPv6 + UDP frame with a correct checksum.
fn udp6(
    src_mac: Mac,
    dst_mac: Mac,
    src: (Ipv6Addr, u16),
    dst: (Ipv6Addr, u16),
    payload: &[u8],
) -> Vec<u8> {
    let len = (8 + payload.len()) as u16;
    let mut udp = Vec::new();
    udp.extend_from_slice(&src.1.to_be_bytes());
    udp.extend_from_slice(&dst.1.to_be_bytes());
    udp.extend_from_slice(&len.to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(payload);
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&src.0.octets());
    pseudo.extend_from_slice(&dst.0.octets());
    pseudo.extend_from_slice(&u32::from(len).to_be_bytes());
    pseudo.extend_from_slice(&[0, 0, 0, 17]);
    let sum = checksum(&[&pseudo, &udp]);
    udp[6..8].copy_from_slice(&(if sum == 0 { 0xffff } else { sum }).to_be_bytes());
    let mut f = Vec::new();
    f.extend_from_slice(&dst_mac.0);
    f.extend_from_slice(&src_mac.0);
    f.extend_from_slice(&0x86ddu16.to_be_bytes());
    f.extend_from_slice(&[0x60, 0, 0, 0]);
    f.extend_from_slice(&len.to_be_bytes());
    f.extend_from_slice(&[17, 64]);
    f.extend_from_slice(&src.0.octets());
    f.extend_from_slice(&dst.0.octets());
    f.extend_from_slice(&udp);
    f
}

/// One packet: `frame` arrives on `port`; `hardware`: a packet of an
/// established conversation (or an ACL drop) the emulated NIC must handle.
#[derive(Clone)]
struct Pkt {
    port: &'static str,
    frame: Vec<u8>,
    what: String,
    hardware: bool,
}

fn pkt(hardware: bool, port: &'static str, what: String, frame: Vec<u8>) -> Pkt {
    Pkt {
        port,
        frame,
        what,
        hardware,
    }
}

/// The IPv6 conversation's first exchange (the commit in software).
fn ipv6_open() -> Vec<Pkt> {
    let (a, b) = ((POD_A_IP6, 5000), (POD_B_IP6, 6000));
    vec![
        pkt(
            false,
            "p1",
            "UDP6 A -> B (+new, commit)".into(),
            udp6(POD_A_MAC, POD_B_MAC, a, b, b"v6 hello"),
        ),
        pkt(
            false,
            "p2",
            "UDP6 B -> A (+est)".into(),
            udp6(POD_B_MAC, POD_A_MAC, b, a, b"v6 reply"),
        ),
    ]
}

/// Exchange `k` (1, 2, ...) of every conversation `kube_ovn::traffic()`
/// and [`ipv6_open`] left open, plus ACL drops: TCP sequence numbers
/// continue connection 0, so OVS's conntrack keeps it in window.
fn exchange(k: u32) -> Vec<Pkt> {
    const HW: bool = true;
    let a = Eth::new(POD_A_MAC, GW_MAC);
    let b = Eth::new(POD_B_MAC, GW_MAC);
    let a_to_b = Eth::new(POD_A_MAC, POD_B_MAC);
    let b_to_a = Eth::new(POD_B_MAC, POD_A_MAC);
    let uplink = Eth::new(EXT_ROUTER_MAC, GW_MAC).vlan(UPLINK_VLAN);
    let (req, resp) = (HTTP_REQUEST.len() as u32, HTTP_RESPONSE.len() as u32);
    let (ack, psh) = (TcpFlags::ACK, TcpFlags::PSH);
    let c0 = client(0);
    let backend = kube_ovn::BACKEND;
    let icmp_seq = k as u16 + 1;
    let udp_a = SocketAddrV4::new(POD_A_IP, 5353);
    let udp_b = SocketAddrV4::new(POD_B_IP, 53);
    let (cs, ss) = (1001 + k * req, 5001 + k * resp);
    let (a6, b6) = ((POD_A_IP6, 5000), (POD_B_IP6, 6000));
    vec![
        pkt(
            HW,
            "p1",
            format!("TCP 0 request {k} to the VIP (DNAT, routed)"),
            a.ipv4(&Ipv4::tcp(c0, VIP, psh | ack, cs, ss, HTTP_REQUEST)),
        ),
        pkt(
            HW,
            "p2",
            format!("TCP 0 response {k} from the backend (un-DNAT, routed)"),
            b.ipv4(&Ipv4::tcp(
                backend,
                c0,
                psh | ack,
                ss,
                cs + req,
                HTTP_RESPONSE,
            )),
        ),
        pkt(
            HW,
            "p1",
            format!("TCP 0 ACK of response {k}"),
            a.ipv4(&Ipv4::tcp(c0, VIP, ack, cs + req, ss + resp, b"")),
        ),
        pkt(
            HW,
            "p1",
            "UDP pod A:5353 -> pod B:53".into(),
            a_to_b.ipv4(&Ipv4::udp(udp_a, udp_b, b"query")),
        ),
        pkt(
            HW,
            "p2",
            "UDP pod B:53 -> pod A:5353".into(),
            b_to_a.ipv4(&Ipv4::udp(udp_b, udp_a, b"answer")),
        ),
        pkt(
            HW,
            "p1",
            format!("ICMP echo request {icmp_seq} pod A -> pod B"),
            a_to_b.ipv4(&Ipv4::icmp_echo_request(
                POD_A_IP, POD_B_IP, 0x1234, icmp_seq, b"ping",
            )),
        ),
        pkt(
            HW,
            "p2",
            format!("ICMP echo reply {icmp_seq} pod B -> pod A"),
            b_to_a.ipv4(&Ipv4::icmp_echo_reply(
                POD_B_IP, POD_A_IP, 0x1234, icmp_seq, b"ping",
            )),
        ),
        pkt(
            HW,
            "p1",
            format!("ICMP echo request {icmp_seq} pod A -> 192.168.100.10 (routed, VLAN push)"),
            a.ipv4(&Ipv4::icmp_echo_request(
                POD_A_IP,
                EXT_HOST_IP,
                0x4321,
                icmp_seq,
                b"ping",
            )),
        ),
        pkt(
            HW,
            "p3",
            format!("ICMP echo reply {icmp_seq} from 192.168.100.10 (VLAN pop, routed)"),
            uplink.ipv4(&Ipv4::icmp_echo_reply(
                EXT_HOST_IP,
                POD_A_IP,
                0x4321,
                icmp_seq,
                b"ping",
            )),
        ),
        pkt(
            HW,
            "p1",
            "UDP6 A -> B (established)".into(),
            udp6(POD_A_MAC, POD_B_MAC, a6, b6, format!("v6 {k}").as_bytes()),
        ),
        pkt(
            HW,
            "p2",
            "UDP6 B -> A (established)".into(),
            udp6(
                POD_B_MAC,
                POD_A_MAC,
                b6,
                a6,
                format!("v6 reply {k}").as_bytes(),
            ),
        ),
        pkt(
            HW,
            "p1",
            "spoofed source 10.16.0.99 on p1 (ACL drop)".into(),
            a_to_b.ipv4(&Ipv4::udp(
                SocketAddrV4::new(Ipv4Addr::new(10, 16, 0, 99), 5353),
                udp_b,
                b"x",
            )),
        ),
        pkt(
            HW,
            "p3",
            "ICMP on VLAN 200 from the uplink (drop)".into(),
            Eth::new(EXT_ROUTER_MAC, GW_MAC)
                .vlan(200)
                .ipv4(&Ipv4::icmp_echo_request(EXT_HOST_IP, POD_A_IP, 1, 1, b"")),
        ),
    ]
}

/// A sandbox with a pipeline on dummy ports `ports`; offload on or off.
struct Node {
    ovs: OvsSandbox,
    ports: Vec<&'static str>,
}

impl Node {
    /// The Kube-OVN pipeline plus [`IPV6_FLOWS`] on p1, p2, p3.
    fn start(test: &str, offload: bool) -> Option<Node> {
        Node::start_with(test, offload, &kube_ovn::PORTS, |ovs| {
            kube_ovn::setup(ovs)?;
            ovs.add_flows(BRIDGE, IPV6_FLOWS)
        })
    }

    /// A sandbox whose pipeline `setup` installs (it adds the bridge, the
    /// dummy ports `ports` and the flows); OVS's clock is stopped after.
    fn start_with(
        test: &str,
        offload: bool,
        ports: &[(&'static str, u16)],
        setup: impl FnOnce(&mut OvsSandbox) -> Result<(), ovs::HarnessError>,
    ) -> Option<Node> {
        let mut ovs = OvsSandbox::start_or_skip_with(
            test,
            install(false),
            std::env::var_os("CI").as_deref(),
            &mut std::io::stderr(),
        )?;
        if offload {
            ovs.vsctl(&[
                "set",
                "Open_vSwitch",
                ".",
                "other_config:hw-offload=true",
                "other_config:hw-offload-provider=xsc",
            ])
            .expect("enable offload");
        }
        setup(&mut ovs).expect("pipeline");
        ovs.stop_time().expect("time/stop");
        Some(Node {
            ovs,
            ports: ports.iter().map(|(name, _)| *name).collect(),
        })
    }

    fn appctl(&self, args: &[&str]) -> String {
        self.ovs
            .appctl(args)
            .unwrap_or_else(|e| panic!("ovs-appctl {args:?}: {e}"))
    }

    /// Sends packets one by one, advancing OVS's clock 100 ms after each.
    fn send(&self, pkts: &[Pkt]) {
        for p in pkts {
            self.ovs
                .receive(p.port, &p.frame)
                .unwrap_or_else(|e| panic!("{}: {e}", p.what));
            self.ovs.warp(100).expect("warp");
        }
    }

    /// Waits until dpif-netdev's offload queue is empty and the provider
    /// has seen no new put for a few polls (offload is asynchronous).
    fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut last = String::new();
        let mut same = 0;
        loop {
            // Registered only once hw-offload is on.
            let stats = self
                .ovs
                .appctl(&["dpif-netdev/offload-stats-show"])
                .unwrap_or_default();
            let queued: u64 = stats
                .lines()
                .filter(|l| l.contains("Enqueued offloads"))
                .filter_map(|l| {
                    l.split(':')
                        .nth(1)?
                        .split_whitespace()
                        .next()?
                        .parse::<u64>()
                        .ok()
                })
                .sum();
            let puts = match self.ovs.appctl(&["xsc/show"]) {
                Ok(_) => self.show_value("flow puts"),
                Err(_) => String::new(),
            };
            if queued == 0 && puts == last {
                same += 1;
                if same >= 3 {
                    return;
                }
            } else {
                same = 0;
            }
            last = puts;
            assert!(
                Instant::now() < deadline,
                "offloads did not settle:\n{stats}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn show(&self) -> String {
        self.appctl(&["xsc/show"])
    }

    /// The text after `key:` on xsc/show's line that starts with `key`.
    fn show_value(&self, key: &str) -> String {
        let s = self.show();
        s.lines()
            .find_map(|l| l.trim_start().strip_prefix(key)?.strip_prefix(':'))
            .unwrap_or_else(|| panic!("xsc/show has no '{key}':\n{s}"))
            .trim()
            .to_owned()
    }

    /// The first number of xsc/show's `key` line after `label`.
    fn show_number(&self, key: &str, label: &str) -> u64 {
        let v = self.show_value(key);
        let at = v
            .find(label)
            .unwrap_or_else(|| panic!("xsc/show '{key}: {v}' has no '{label}'"));
        v[at + label.len()..]
            .trim_start_matches([' ', ':'])
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("xsc/show '{key}: {v}': no number after '{label}'"))
    }

    fn hw_packets(&self) -> u64 {
        self.show_number("hardware", "packets")
    }

    fn misses(&self) -> u64 {
        self.show_value("misses to software")
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .expect("misses count")
    }

    /// `device: rules R, groups G` of the eswitch.
    fn device(&self) -> (u64, u64) {
        (
            self.show_number("device", "rules"),
            self.show_number("device", "groups"),
        )
    }

    /// dpif-netdev's own count of packets it received (pmd-stats-show).
    fn datapath_received(&self) -> u64 {
        let s = self.appctl(&["dpif-netdev/pmd-stats-show"]);
        s.lines()
            .filter_map(|l| l.trim().strip_prefix("packets received:"))
            .filter_map(|n| n.trim().parse::<u64>().ok())
            .sum()
    }

    fn offloaded_flows(&self) -> Vec<String> {
        self.appctl(&["dpctl/dump-flows", "-m", "type=offloaded"])
            .lines()
            .filter(|l| l.starts_with("ufid:"))
            .map(str::to_owned)
            .collect()
    }

    /// Every port's transmitted frames.
    fn outputs(&self) -> BTreeMap<&'static str, Vec<Vec<u8>>> {
        self.ports
            .iter()
            .map(|&p| (p, self.ovs.sent_packets(p).expect("tx pcap")))
            .collect()
    }

    /// Round 1 (connections committed and established), the IPv6
    /// conversation, then exchange 1 (warm-up: the +est megaflows), settled.
    fn warm_up(&self) {
        let round1: Vec<Pkt> = kube_ovn::traffic()
            .into_iter()
            .map(|s| Pkt {
                port: ["p1", "p2", "p3"]
                    .into_iter()
                    .find(|p| *p == s.port)
                    .expect("port"),
                frame: s.frame,
                what: s.what,
                hardware: false,
            })
            .collect();
        self.send(&round1);
        self.send(&ipv6_open());
        self.send(&exchange(1));
        self.settle();
    }
}

fn field_count(lines: &[String], needle: &str) -> usize {
    lines.iter().filter(|l| l.contains(needle)).count()
}

#[test]
fn established_traffic_is_forwarded_by_the_emulated_nic_with_identical_outputs() {
    const TEST: &str =
        "established_traffic_is_forwarded_by_the_emulated_nic_with_identical_outputs";
    let Some(off) = Node::start(TEST, false) else {
        return;
    };
    off.warm_up();
    for k in 2..=4 {
        off.send(&exchange(k));
    }
    let software_only = off.outputs();
    drop(off);

    let Some(on) = Node::start(TEST, true) else {
        return;
    };
    on.warm_up();

    // The established traffic's ct/recirc megaflows are in hardware.
    let offloaded = on.offloaded_flows();
    let text = offloaded.join("\n");
    assert!(
        field_count(&offloaded, "offloaded:yes, dp:dpdk") == offloaded.len()
            && !offloaded.is_empty(),
        "{text}"
    );
    for needle in [
        "ct_state(",
        "recirc_id(0x",
        "ct(zone=10,nat)",
        "ct(zone=4)",
        "ct(zone=7)",
        "push_vlan(",
        "ipv6(",
        "ct_mark(",
    ] {
        assert!(
            text.contains(needle),
            "no offloaded megaflow with {needle}:\n{text}"
        );
    }
    // type=offloaded and type=ovs split the datapath between them.
    let all = on
        .appctl(&["dpctl/dump-flows"])
        .lines()
        .filter(|l| l.contains("actions:"))
        .count();
    let in_ovs = on
        .appctl(&["dpctl/dump-flows", "type=ovs"])
        .lines()
        .filter(|l| l.contains("actions:"))
        .count();
    let plain_offloaded = on
        .appctl(&["dpctl/dump-flows", "type=offloaded"])
        .lines()
        .filter(|l| l.contains("actions:"))
        .count();
    assert_eq!(plain_offloaded, offloaded.len());
    assert_eq!(
        in_ovs + plain_offloaded,
        all,
        "type=ovs {in_ovs} + type=offloaded {plain_offloaded} != all {all}"
    );

    // Established packets: forwarded by the NIC, dpif-netdev never sees
    // them, and dump-flows counts them.
    let packets_of = |n: &Node| -> u64 {
        n.offloaded_flows()
            .iter()
            .filter_map(|l| {
                l.split(" packets:")
                    .nth(1)?
                    .split(',')
                    .next()?
                    .parse::<u64>()
                    .ok()
            })
            .sum()
    };
    for k in 2..=4 {
        let pkts = exchange(k);
        let hw_steps = pkts.iter().filter(|p| p.hardware).count() as u64;
        let (dp0, hw0, miss0, counted0) = (
            on.datapath_received(),
            on.hw_packets(),
            on.misses(),
            packets_of(&on),
        );
        on.send(&pkts);
        on.settle();
        let (dp1, hw1, miss1) = (on.datapath_received(), on.hw_packets(), on.misses());
        on.appctl(&["revalidator/wait"]);
        let counted1 = packets_of(&on);
        assert_eq!(
            (hw1 - hw0, miss1 - miss0, dp1 - dp0),
            (hw_steps, 0, 0),
            "exchange {k}: (hardware, misses, dpif-netdev received) moved by these, expected every packet in hardware\n{}\n{}",
            on.show(),
            on.ovs.vswitchd_log_tail(60)
        );
        assert!(
            counted1 >= counted0 + hw_steps - 2,
            "exchange {k}: offloaded megaflow counters moved {counted0} -> {counted1}, \
             expected at least {} (the two drops aside)",
            hw_steps - 2
        );
    }
    let show = on.show();
    eprintln!("xsc/show after the scenario:\n{show}");

    // The same traffic leaves every port with the same bytes.
    let with_offload = on.outputs();
    for (port, frames) in &software_only {
        let got = &with_offload[port];
        assert_eq!(
            got.len(),
            frames.len(),
            "{port}: frame count with offload vs without"
        );
        for (i, (a, b)) in frames.iter().zip(got).enumerate() {
            assert_eq!(a, b, "{port}: frame {i} differs with offload on");
        }
    }
}

#[test]
fn new_connections_miss_are_recovered_then_go_to_hardware() {
    const TEST: &str = "new_connections_miss_are_recovered_then_go_to_hardware";
    let Some(on) = Node::start(TEST, true) else {
        return;
    };
    on.warm_up();
    // A new UDP conversation: its first packets miss (CT miss: the
    // connection is not in hardware), software commits it; once established
    // and offloaded, the next packets stay in hardware.
    let a = SocketAddrV4::new(POD_A_IP, 7777);
    let b = SocketAddrV4::new(POD_B_IP, 53);
    let a_to_b = Eth::new(POD_A_MAC, POD_B_MAC);
    let b_to_a = Eth::new(POD_B_MAC, POD_A_MAC);
    let q = pkt(
        true,
        "p1",
        "new UDP query".into(),
        a_to_b.ipv4(&Ipv4::udp(a, b, b"q")),
    );
    let r = pkt(
        true,
        "p2",
        "new UDP answer".into(),
        b_to_a.ipv4(&Ipv4::udp(b, a, b"r")),
    );
    let (miss0, dp0) = (on.misses(), on.datapath_received());
    on.send(&[q.clone(), r.clone()]);
    on.settle();
    let (miss1, dp1) = (on.misses(), on.datapath_received());
    assert_eq!(
        (miss1 - miss0, dp1 - dp0),
        (2, 2),
        "the first two packets go to software\n{}",
        on.show()
    );
    let conns = on.appctl(&["dpctl/dump-conntrack"]);
    assert!(
        conns.contains("sport=7777"),
        "committed in software:\n{conns}"
    );
    let hw0 = on.hw_packets();
    on.send(&[q.clone(), r.clone(), q, r]);
    on.settle();
    assert_eq!(
        on.hw_packets() - hw0,
        4,
        "later packets in hardware\n{}",
        on.show()
    );
    assert_eq!(on.datapath_received(), dp1, "dpif-netdev saw none of them");
    // Restored misses: no restore record was ever lost.
    assert!(
        on.show_value("misses to software")
            .contains("lost 0, errors 0"),
        "{}",
        on.show()
    );
}

#[test]
fn removal_follows_ovs_and_leaves_nothing_in_the_device() {
    const TEST: &str = "removal_follows_ovs_and_leaves_nothing_in_the_device";
    let Some(on) = Node::start(TEST, true) else {
        return;
    };
    on.warm_up();
    let (rules, groups) = on.device();
    assert!(rules > 0 && groups > 0, "{}", on.show());

    // dpctl/del-flows: every offloaded flow goes.
    on.appctl(&["dpctl/del-flows"]);
    on.settle();
    assert_eq!(on.show_number("flows", "offloaded"), 0, "{}", on.show());
    assert!(on.offloaded_flows().is_empty());

    // dpctl/flush-conntrack: every connection goes, and with them the last
    // rules and groups.
    on.appctl(&["dpctl/flush-conntrack"]);
    on.settle();
    assert_eq!(
        on.show_number("connections", "offloaded"),
        0,
        "{}",
        on.show()
    );
    assert_eq!(on.device(), (0, 0), "{}", on.show());

    // Idle expiry: flows re-learnt, then idle past max-idle.
    on.send(&exchange(2));
    on.send(&exchange(3));
    on.settle();
    assert!(!on.offloaded_flows().is_empty());
    on.ovs
        .vsctl(&["set", "Open_vSwitch", ".", "other_config:max-idle=1000"])
        .expect("max-idle");
    for _ in 0..5 {
        on.ovs.warp(1000).expect("warp");
        on.appctl(&["revalidator/wait"]);
    }
    on.settle();
    assert!(
        on.offloaded_flows().is_empty(),
        "idle flows expired:\n{}",
        on.offloaded_flows().join("\n")
    );
    assert_eq!(on.show_number("flows", "offloaded"), 0, "{}", on.show());

    // Port deletion: p1's flows go with it.
    on.ovs
        .vsctl(&["set", "Open_vSwitch", ".", "other_config:max-idle=600000"])
        .expect("max-idle");
    on.send(&exchange(4));
    on.settle();
    let before = on.offloaded_flows();
    assert!(
        before.iter().any(|l| l.contains("in_port(p1)")),
        "{}",
        before.join("\n")
    );
    on.ovs.vsctl(&["del-port", BRIDGE, "p1"]).expect("del-port");
    on.settle();
    let after = on.offloaded_flows();
    assert!(
        !after.iter().any(|l| l.contains("in_port(p1)")),
        "{}",
        after.join("\n")
    );
    // What the provider and the device hold is exactly what OVS still
    // shows as offloaded: p1's flows left the device, not just the dump.
    assert_eq!(
        on.show_number("flows", "offloaded") as usize,
        after.len(),
        "{}\n{}",
        on.show(),
        after.join("\n")
    );
    assert_eq!(
        on.show_number("offloaded flows (provider)", "") as usize,
        after.len(),
        "{}",
        on.show()
    );

    // ovs-vswitchd exiting leaves nothing behind in the device.
    on.appctl(&["dpctl/flush-conntrack"]);
    let _ = on.ovs.appctl(&["exit"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let line = loop {
        let log = std::fs::read_to_string(on.ovs.path("ovs-vswitchd.log")).unwrap_or_default();
        if let Some(l) = log.lines().find(|l| l.contains("xsc: at exit")) {
            break l.to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "no exit report in the log:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        line.contains("holds 0 flows, 0 connections, 0 rules (device: 0 rules, 0 groups)"),
        "{line}"
    );
}

#[test]
fn busy_offloaded_flows_and_hardware_only_udp_connections_outlive_the_timeouts() {
    const TEST: &str =
        "busy_offloaded_flows_and_hardware_only_udp_connections_outlive_the_timeouts";
    let Some(on) = Node::start(TEST, true) else {
        return;
    };
    on.warm_up();
    on.ovs
        .vsctl(&["set", "Open_vSwitch", ".", "other_config:max-idle=2000"])
        .expect("max-idle");
    let a = SocketAddrV4::new(POD_A_IP, 5353);
    let b = SocketAddrV4::new(POD_B_IP, 53);
    let q = pkt(
        true,
        "p1",
        "UDP query".into(),
        Eth::new(POD_A_MAC, POD_B_MAC).ipv4(&Ipv4::udp(a, b, b"q")),
    );
    // ufid -> packets of each offloaded megaflow.
    let counters = |n: &Node| -> BTreeMap<String, u64> {
        n.offloaded_flows()
            .iter()
            .filter_map(|l| {
                let ufid = l.split(',').next()?.to_owned();
                let packets = l
                    .split(" packets:")
                    .nth(1)?
                    .split(',')
                    .next()?
                    .parse()
                    .ok()?;
                Some((ufid, packets))
            })
            .collect()
    };
    let query = |n: &Node| {
        n.ovs.receive(q.port, &q.frame).expect("receive");
        // The library reads the hardware counters every 100 ms of real
        // time (the provider's stats_interval_ms) while OVS's clock is
        // stopped and only warps: let a sweep happen before it moves on.
        std::thread::sleep(Duration::from_millis(150));
        n.ovs.warp(1000).expect("warp");
        n.appctl(&["revalidator/wait"]);
    };
    let dp0 = on.datapath_received();
    for _ in 0..3 {
        query(&on);
    }
    let early = counters(&on);
    // 42 s more of OVS time (UDP's conntrack timeout is 30 s, max-idle
    // 2 s), one query each second, every one of them in hardware.
    for _ in 0..42 {
        query(&on);
    }
    assert_eq!(
        on.datapath_received(),
        dp0,
        "all queries in hardware\n{}",
        on.show()
    );
    let late = counters(&on);
    let busy: Vec<&String> = early
        .iter()
        .filter(|(ufid, &p)| late.get(*ufid).is_some_and(|&q| q >= p + 42))
        .map(|(ufid, _)| ufid)
        .collect();
    assert!(
        !busy.is_empty(),
        "no offloaded megaflow carried the queries through 21 max-idle periods:\nearly {early:?}\nlate {late:?}"
    );
    let conns = on.appctl(&["dpctl/dump-conntrack"]);
    assert!(
        conns
            .lines()
            .any(|l| l.starts_with("udp,") && l.contains("sport=5353")),
        "the UDP connection carried by hardware is still in OVS:\n{conns}"
    );
    assert!(
        on.show_number("connections kept alive by hardware traffic", "") > 0,
        "{}",
        on.show()
    );
}

/// The `--with-dpdk` build (`target/ovs/dpdk`) on a real DPDK port: OVS
/// starts EAL without hugepages, the provider drives the `net_null` port
/// through the library's `XSC_DEVICE_DPDK` offloader, the PMD has no
/// rte_flow, so nothing is offloaded, traffic keeps being forwarded in
/// software, and each refusal is logged once per reason.
#[test]
fn dpdk_build_on_a_net_null_port_offloads_nothing_and_logs_each_refusal_once() {
    const TEST: &str = "dpdk_build_on_a_net_null_port_offloads_nothing_and_logs_each_refusal_once";
    let Some(mut ovs) = OvsSandbox::start_or_skip_with(
        TEST,
        install(true),
        std::env::var_os("CI").as_deref(),
        &mut std::io::stderr(),
    ) else {
        return;
    };
    ovs.vsctl(&[
        "set",
        "Open_vSwitch",
        ".",
        "other_config:dpdk-init=true",
        // --legacy-mem: OVS adds --in-memory otherwise, which EAL refuses
        // together with --no-huge.
        "other_config:dpdk-extra=\"--no-huge -m 512 --no-shconf --no-pci --legacy-mem\"",
        "other_config:pmd-cpu-mask=0x1",
        "other_config:hw-offload=true",
        "other_config:hw-offload-provider=xsc",
        "other_config:xsc-device=dpdk",
    ])
    .expect("dpdk and offload settings");
    ovs.vsctl(&[
        "--",
        "add-br",
        "br0",
        "--",
        "set",
        "Bridge",
        "br0",
        "datapath_type=netdev",
        "fail-mode=secure",
    ])
    .expect("netdev bridge");
    ovs.vsctl(&[
        "--",
        "add-port",
        "br0",
        "dpdk0",
        "--",
        "set",
        "Interface",
        "dpdk0",
        "type=dpdk",
        "options:dpdk-devargs=net_null0,no-rx=1",
        "ofport_request=10",
    ])
    .unwrap_or_else(|e| panic!("add the net_null port: {e}\n{}", ovs.vswitchd_log_tail(40)));
    ovs.add_port("br0", "p1", 1).expect("p1");
    ovs.add_port("br0", "p2", 2).expect("p2");
    ovs.add_flows(
        "br0",
        "in_port=1,actions=output:2\nin_port=10,actions=output:2\n",
    )
    .expect("flows");
    let node = Node {
        ovs,
        ports: vec!["p1", "p2"],
    };
    let log = || std::fs::read_to_string(node.ovs.path("ovs-vswitchd.log")).unwrap_or_default();
    assert!(
        log().contains("xsc: offloader started (dpdk"),
        "{}",
        node.ovs.vswitchd_log_tail(60)
    );

    // Megaflows on the DPDK port, put the way revalidators and dpctl do:
    // each goes to the provider, and the PMD refuses each.
    for i in 1..=3 {
        node.appctl(&[
            "dpctl/add-flow",
            &format!("in_port(dpdk0),eth(src=00:00:00:00:00:0{i},dst=00:00:00:00:00:aa),eth_type(0x0800),ipv4(src=10.0.0.{i},dst=10.0.0.100,proto=17,tos=0,ttl=64,frag=no),udp(src=1000,dst=2000)"),
            "2",
        ]);
    }
    node.settle();
    assert!(
        node.offloaded_flows().is_empty(),
        "{}",
        node.offloaded_flows().join("\n")
    );
    let show = node.show();
    assert!(show.contains("dpdk port"), "{show}");
    // One put per flow and datapath thread (the PMD and the main thread),
    // every one refused; the library forgets refused flows.
    let puts = node.show_number("flow puts", "");
    let refused = node.show_number("flow puts", "refused");
    assert!(puts >= 3 && refused == puts, "every flow refused\n{show}");
    assert!(
        show.contains("rte_flow_create on port N failed"),
        "the PMD's refusal\n{show}"
    );
    assert_eq!(node.show_number("flows", "offloaded"), 0, "{show}");
    let reasons: Vec<&str> = show
        .split("refusals by reason:")
        .nth(1)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert!(!reasons.is_empty(), "{show}");
    let logged = log()
        .matches("stays in software (first of its kind")
        .count();
    assert_eq!(
        logged,
        reasons.len(),
        "one log line per reason:\n{show}\n{}",
        log()
    );

    // Software keeps forwarding.
    let a = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 1000);
    let b = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 2000);
    let frame = Eth::new(POD_A_MAC, POD_B_MAC).ipv4(&Ipv4::udp(a, b, b"sw"));
    for _ in 0..3 {
        node.ovs.receive("p1", &frame).expect("receive");
    }
    node.appctl(&["revalidator/wait"]);
    let sent = node.ovs.sent_packets("p2").expect("p2 pcap");
    assert_eq!(sent.len(), 3, "forwarded in software");
    assert!(sent.iter().all(|f| *f == frame));
}

/// TCP window tracking: the data of an offloaded connection flows through
/// the NIC, so OVS's conntrack never sees its sequence numbers advance. When
/// a later segment reaches software (its megaflows deleted), it is far past
/// the window software last saw; OVS must still take it as established
/// (conntrack does not judge the windows of connections the NIC carries),
/// not as invalid (which the pipeline drops).
#[test]
fn tcp_window_tracking_accepts_what_the_hardware_forwarded() {
    const TEST: &str = "tcp_window_tracking_accepts_what_the_hardware_forwarded";
    let Some(on) = Node::start(TEST, true) else {
        return;
    };
    on.warm_up();
    let a = Eth::new(POD_A_MAC, GW_MAC);
    let (req, resp) = (HTTP_REQUEST.len() as u32, HTTP_RESPONSE.len() as u32);
    let (cs, ss) = (1001 + 2 * req, 5001 + 2 * resp);
    let chunk = vec![0x5a; 1400];
    let segment = |i: u32| {
        a.ipv4(&Ipv4::tcp(
            client(0),
            VIP,
            TcpFlags::PSH | TcpFlags::ACK,
            cs + i * 1400,
            ss,
            &chunk,
        ))
    };
    // 60 segments, 84000 bytes: more than the 65535-byte window the server
    // advertised, all of them forwarded by the NIC.
    let (hw0, dp0, p2_0) = (
        on.hw_packets(),
        on.datapath_received(),
        on.ovs.sent_packets("p2").unwrap().len(),
    );
    for i in 0..60 {
        on.ovs.receive("p1", &segment(i)).expect("receive");
    }
    on.settle();
    assert_eq!(on.hw_packets() - hw0, 60, "{}", on.show());
    assert_eq!(on.datapath_received(), dp0, "software saw none of them");
    // Software takes the next segment from the start (no megaflow left in
    // hardware; the connections still are): established, forwarded.
    on.appctl(&["dpctl/del-flows"]);
    on.settle();
    on.ovs.receive("p1", &segment(60)).expect("receive");
    on.appctl(&["revalidator/wait"]);
    assert_eq!(on.datapath_received(), dp0 + 1, "this one went to software");
    let sent = on.ovs.sent_packets("p2").unwrap();
    assert_eq!(
        sent.len(),
        p2_0 + 61,
        "segment 60 was forwarded, not dropped as invalid"
    );
    assert!(sent.last().unwrap().ends_with(&chunk));
    let conns = on.appctl(&["dpctl/dump-conntrack"]);
    assert!(
        conns
            .lines()
            .any(|l| l.contains("sport=3457") && l.contains("ESTABLISHED")),
        "{conns}"
    );
}

#[test]
fn tuple_flush_removes_exactly_that_connection_from_the_device() {
    const TEST: &str = "tuple_flush_removes_exactly_that_connection_from_the_device";
    let Some(on) = Node::start(TEST, true) else {
        return;
    };
    on.warm_up();
    let conns = on.show_number("connections", "offloaded");
    assert!(conns > 1, "{}", on.show());

    // The UDP conversation pod A:5353 -> pod B:53, in every zone it has.
    let orig = format!("udp,orig=(src={POD_A_IP},dst={POD_B_IP},sport=5353,dport=53)");
    let dump = on.appctl(&["dpctl/dump-conntrack"]);
    let zones: Vec<String> = dump
        .lines()
        .filter(|l| l.starts_with(&orig))
        .map(|l| {
            l.split(',')
                .find_map(|f| f.strip_prefix("zone="))
                .unwrap_or("0")
                .to_owned()
        })
        .collect();
    assert!(!zones.is_empty(), "no {orig} in conntrack:\n{dump}");
    let others = dump.lines().filter(|l| !l.starts_with(&orig)).count();
    assert!(others > 0, "{dump}");

    let tuple = format!(
        "ct_nw_src={POD_A_IP},ct_nw_dst={POD_B_IP},ct_nw_proto=17,ct_tp_src=5353,ct_tp_dst=53"
    );
    for z in &zones {
        on.appctl(&["dpctl/flush-conntrack", &format!("zone={z}"), &tuple]);
    }
    on.settle();

    // Gone from OVS and from the device, and nothing else with it.
    let after = on.appctl(&["dpctl/dump-conntrack"]);
    assert!(
        !after.lines().any(|l| l.starts_with(&orig)),
        "tuple flush left the connection in OVS:\n{after}"
    );
    assert_eq!(
        after.lines().filter(|l| !l.starts_with(&orig)).count(),
        others,
        "tuple flush removed other connections:\nbefore:\n{dump}\nafter:\n{after}"
    );
    assert_eq!(
        on.show_number("connections", "offloaded"),
        conns - zones.len() as u64,
        "{}",
        on.show()
    );
    assert_eq!(
        on.show_number("offloaded connections (provider)", ""),
        conns - zones.len() as u64,
        "{}",
        on.show()
    );

    // Its next packet misses to software; an established connection's
    // packet (ICMP echo of pod A) is still forwarded by the NIC.
    let x = exchange(2);
    let udp: Vec<Pkt> = x
        .iter()
        .filter(|p| p.what == "UDP pod A:5353 -> pod B:53")
        .cloned()
        .collect();
    let icmp: Vec<Pkt> = x
        .iter()
        .filter(|p| p.what.starts_with("ICMP echo request") && p.what.ends_with("pod A -> pod B"))
        .cloned()
        .collect();
    assert_eq!((udp.len(), icmp.len()), (1, 1));
    let (misses, hw) = (on.misses(), on.hw_packets());
    on.send(&icmp);
    assert_eq!(on.hw_packets(), hw + 1, "{}", on.show());
    assert_eq!(on.misses(), misses, "{}", on.show());
    on.send(&udp);
    assert!(on.misses() > misses, "{}", on.show());
    assert_eq!(on.hw_packets(), hw + 1, "{}", on.show());
}

/// The provider's packet-thread paths (the emulated NIC's rx hook, miss
/// recovery, the conntrack hooks) run while flushes (port deletion),
/// `xsc/show` and flow puts/dels run in other threads: every command
/// answers within the harness timeout (nothing stalls behind a flush), the
/// daemon stays up, and once OVS removes everything the device is empty.
#[test]
fn flushes_under_traffic_stall_nothing_and_leak_nothing() {
    const TEST: &str = "flushes_under_traffic_stall_nothing_and_leak_nothing";
    let Some(on) = Node::start(TEST, true) else {
        return;
    };
    on.warm_up();
    let get = |what: &str| {
        on.ovs
            .vsctl(&["get", "Interface", "p3", what])
            .unwrap_or_else(|e| panic!("get p3 {what}: {e}"))
            .trim()
            .to_owned()
    };
    let ofport = get("ofport");
    let tx_pcap = get("options:tx_pcap");
    let uplink: Vec<Pkt> = exchange(1).into_iter().filter(|p| p.port == "p3").collect();
    assert!(!uplink.is_empty());

    std::thread::scope(|s| {
        // The uplink port goes and comes back: each deletion flushes its
        // flows in the offload thread.
        let churn = s.spawn(|| {
            for _ in 0..4 {
                on.ovs.vsctl(&["del-port", BRIDGE, "p3"]).expect("del-port");
                on.ovs
                    .vsctl(&[
                        "--",
                        "add-port",
                        BRIDGE,
                        "p3",
                        "--",
                        "set",
                        "Interface",
                        "p3",
                        "type=dummy",
                        &format!("ofport_request={ofport}"),
                        &format!("options:tx_pcap={tx_pcap}"),
                    ])
                    .expect("add-port");
                for p in &uplink {
                    // The port may be gone again already.
                    let _ = on.ovs.receive(p.port, &p.frame);
                }
            }
        });
        // Meanwhile the pods' established conversations (the conntrack
        // hooks, the rx hook, recovery) and the operator's xsc/show.
        for k in 2..8 {
            let pods: Vec<Pkt> = exchange(k).into_iter().filter(|p| p.port != "p3").collect();
            on.send(&pods);
            on.show();
        }
        churn.join().expect("churn thread");
    });
    on.settle();
    let show = on.show();
    assert!(on.hw_packets() > 0, "{show}");
    assert_eq!(on.show_number("misses to software", "lost"), 0, "{show}");
    assert_eq!(on.show_number("misses to software", "errors"), 0, "{show}");

    // Everything removed in OVS leaves nothing in the device.
    on.appctl(&["dpctl/del-flows"]);
    on.appctl(&["dpctl/flush-conntrack"]);
    on.settle();
    assert_eq!(on.show_number("flows", "offloaded"), 0, "{}", on.show());
    assert_eq!(
        on.show_number("connections", "offloaded"),
        0,
        "{}",
        on.show()
    );
    assert_eq!(on.device(), (0, 0), "{}", on.show());
}

/// A scenario the provider was not developed against: the router/firewall
/// of `tests/data/independent.ofctl` (an 802.1Q trunk, conntrack zones 20
/// and 30, SNAT and DNAT, marks checked on replies, a blocked port).
mod independent {
    use super::*;

    pub const PIPELINE: &str = include_str!("data/independent.ofctl");
    pub const BRIDGE: &str = "fw0";
    pub const PORTS: [(&str, u16); 3] = [("lan", 1), ("wan", 2), ("dmz", 3)];
    pub const LAN_VLAN: u16 = 10;

    pub const ROUTER_MAC: Mac = Mac::parse("02:00:00:00:00:fe");
    pub const HOST_A_MAC: Mac = Mac::parse("02:00:00:00:0a:02");
    pub const HOST_B_MAC: Mac = Mac::parse("02:00:00:00:0a:03");
    pub const WAN_MAC: Mac = Mac::parse("02:00:00:00:02:01");
    pub const DMZ_MAC: Mac = Mac::parse("02:00:00:00:03:05");

    pub const HOST_A: Ipv4Addr = Ipv4Addr::new(192, 168, 10, 2);
    pub const HOST_B: Ipv4Addr = Ipv4Addr::new(192, 168, 10, 3);
    pub const PUBLIC: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 1);
    pub const DMZ_SERVER: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(172, 16, 0, 5), 80);
    pub const PUBLISHED: SocketAddrV4 = SocketAddrV4::new(PUBLIC, 8080);
    pub const HOST_A6: Ipv6Addr = Ipv6Addr::new(0xfd10, 0, 0, 0, 0, 0, 0, 2);
    pub const HOST_B6: Ipv6Addr = Ipv6Addr::new(0xfd10, 0, 0, 0, 0, 0, 0, 3);
    pub const WAN_DNS6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x53);
    pub const WAN_WEB6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x80);

    pub fn setup(ovs: &mut OvsSandbox) -> Result<(), ovs::HarnessError> {
        ovs.add_bridge(BRIDGE)?;
        for (name, ofport) in PORTS {
            ovs.add_port(BRIDGE, name, ofport)?;
        }
        ovs.add_flows(BRIDGE, PIPELINE)
    }

    /// An Ethernet (+ 802.1Q `vlan`) + IPv6 frame carrying `l4` of protocol
    /// `proto`, its checksum (at `csum_at` in `l4`) filled in.
    fn ipv6_frame(
        eth: Eth,
        src: Ipv6Addr,
        dst: Ipv6Addr,
        proto: u8,
        mut l4: Vec<u8>,
        csum_at: usize,
    ) -> Vec<u8> {
        let len = l4.len() as u16;
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&src.octets());
        pseudo.extend_from_slice(&dst.octets());
        pseudo.extend_from_slice(&u32::from(len).to_be_bytes());
        pseudo.extend_from_slice(&[0, 0, 0, proto]);
        let sum = checksum(&[&pseudo, &l4]);
        let sum = if proto == 17 && sum == 0 { 0xffff } else { sum };
        l4[csum_at..csum_at + 2].copy_from_slice(&sum.to_be_bytes());
        let mut f = Vec::new();
        f.extend_from_slice(&eth.dst.0);
        f.extend_from_slice(&eth.src.0);
        if let Some(vid) = eth.vlan {
            f.extend_from_slice(&0x8100u16.to_be_bytes());
            f.extend_from_slice(&vid.to_be_bytes());
        }
        f.extend_from_slice(&0x86ddu16.to_be_bytes());
        f.extend_from_slice(&[0x60, 0, 0, 0]);
        f.extend_from_slice(&len.to_be_bytes());
        f.extend_from_slice(&[proto, 64]);
        f.extend_from_slice(&src.octets());
        f.extend_from_slice(&dst.octets());
        f.extend_from_slice(&l4);
        f
    }

    pub fn udp6(eth: Eth, src: (Ipv6Addr, u16), dst: (Ipv6Addr, u16), payload: &[u8]) -> Vec<u8> {
        let mut l4 = Vec::new();
        l4.extend_from_slice(&src.1.to_be_bytes());
        l4.extend_from_slice(&dst.1.to_be_bytes());
        l4.extend_from_slice(&(8 + payload.len() as u16).to_be_bytes());
        l4.extend_from_slice(&[0, 0]);
        l4.extend_from_slice(payload);
        ipv6_frame(eth, src.0, dst.0, 17, l4, 6)
    }

    /// A TCP segment (no options, window 65535) over IPv6.
    pub fn tcp6(
        eth: Eth,
        src: (Ipv6Addr, u16),
        dst: (Ipv6Addr, u16),
        flags: TcpFlags,
        seq: u32,
        ack: u32,
        payload: &[u8],
    ) -> Vec<u8> {
        let mut l4 = Vec::new();
        l4.extend_from_slice(&src.1.to_be_bytes());
        l4.extend_from_slice(&dst.1.to_be_bytes());
        l4.extend_from_slice(&seq.to_be_bytes());
        l4.extend_from_slice(&ack.to_be_bytes());
        l4.extend_from_slice(&[5 << 4, flags.0]);
        l4.extend_from_slice(&65535u16.to_be_bytes());
        l4.extend_from_slice(&[0, 0, 0, 0]);
        l4.extend_from_slice(payload);
        ipv6_frame(eth, src.0, dst.0, 6, l4, 16)
    }

    fn lan(src: Mac) -> Eth {
        Eth::new(src, ROUTER_MAC).vlan(LAN_VLAN)
    }
    fn wan() -> Eth {
        Eth::new(WAN_MAC, ROUTER_MAC)
    }
    fn dmz() -> Eth {
        Eth::new(DMZ_MAC, ROUTER_MAC)
    }

    const REQ: &[u8] = b"GET /status HTTP/1.1\r\nHost: example.test\r\n\r\n";
    const RESP: &[u8] = b"HTTP/1.1 204 No Content\r\n\r\n";

    /// One TCP conversation: `c` (the client side's frames), `s` (the server
    /// side's frames), initial sequence numbers, and how the frames look on
    /// each side of the NAT.
    struct Tcp {
        isn_c: u32,
        isn_s: u32,
    }

    impl Tcp {
        /// (client seq, server seq) before exchange `k` (1, 2, ...).
        fn seqs(&self, k: u32) -> (u32, u32) {
            (
                self.isn_c + 1 + (k - 1) * REQ.len() as u32,
                self.isn_s + 1 + (k - 1) * RESP.len() as u32,
            )
        }
    }

    const SNAT_TCP: Tcp = Tcp {
        isn_c: 0x1000_0000,
        isn_s: 0x2000_0000,
    };
    const DNAT_TCP: Tcp = Tcp {
        isn_c: 0x3000_0000,
        isn_s: 0x4000_0000,
    };
    const V6_TCP: Tcp = Tcp {
        isn_c: 0x5000_0000,
        isn_s: 0x6000_0000,
    };

    // The conversations' endpoints.
    fn snat_client() -> SocketAddrV4 {
        SocketAddrV4::new(HOST_A, 40001)
    }
    fn snat_server() -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::new(198, 51, 100, 7), 443)
    }
    /// What the WAN sees of the SNATed client (source port kept).
    fn snat_public() -> SocketAddrV4 {
        SocketAddrV4::new(PUBLIC, 40001)
    }
    fn dnat_client() -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::new(198, 51, 100, 9), 50000)
    }
    fn udp_client() -> SocketAddrV4 {
        SocketAddrV4::new(HOST_B, 5000)
    }
    fn udp_server() -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::new(198, 51, 100, 53), 53)
    }
    fn udp_public() -> SocketAddrV4 {
        SocketAddrV4::new(PUBLIC, 5000)
    }
    const V6_UDP_C: (Ipv6Addr, u16) = (HOST_A6, 6000);
    const V6_UDP_S: (Ipv6Addr, u16) = (WAN_DNS6, 53);
    const V6_TCP_C: (Ipv6Addr, u16) = (HOST_B6, 41000);
    const V6_TCP_S: (Ipv6Addr, u16) = (WAN_WEB6, 80);

    /// The handshakes: each conversation's first packets (+new, committed
    /// in software) and the replies that establish them.
    pub fn open() -> Vec<Pkt> {
        let (syn, ack) = (TcpFlags::SYN, TcpFlags::ACK);
        let synack = TcpFlags(syn.0 | ack.0);
        let (s, d, v) = (&SNAT_TCP, &DNAT_TCP, &V6_TCP);
        vec![
            pkt(
                false,
                "lan",
                "TCP SNAT: SYN host A -> 198.51.100.7:443".into(),
                lan(HOST_A_MAC).ipv4(&Ipv4::tcp(
                    snat_client(),
                    snat_server(),
                    syn,
                    s.isn_c,
                    0,
                    b"",
                )),
            ),
            pkt(
                false,
                "wan",
                "TCP SNAT: SYN/ACK to 203.0.113.1:40001".into(),
                wan().ipv4(&Ipv4::tcp(
                    snat_server(),
                    snat_public(),
                    synack,
                    s.isn_s,
                    s.isn_c + 1,
                    b"",
                )),
            ),
            pkt(
                false,
                "lan",
                "TCP SNAT: ACK".into(),
                lan(HOST_A_MAC).ipv4(&Ipv4::tcp(
                    snat_client(),
                    snat_server(),
                    ack,
                    s.isn_c + 1,
                    s.isn_s + 1,
                    b"",
                )),
            ),
            pkt(
                false,
                "wan",
                "TCP DNAT: SYN to 203.0.113.1:8080".into(),
                wan().ipv4(&Ipv4::tcp(dnat_client(), PUBLISHED, syn, d.isn_c, 0, b"")),
            ),
            pkt(
                false,
                "dmz",
                "TCP DNAT: SYN/ACK from 172.16.0.5:80".into(),
                dmz().ipv4(&Ipv4::tcp(
                    DMZ_SERVER,
                    dnat_client(),
                    synack,
                    d.isn_s,
                    d.isn_c + 1,
                    b"",
                )),
            ),
            pkt(
                false,
                "wan",
                "TCP DNAT: ACK".into(),
                wan().ipv4(&Ipv4::tcp(
                    dnat_client(),
                    PUBLISHED,
                    ack,
                    d.isn_c + 1,
                    d.isn_s + 1,
                    b"",
                )),
            ),
            pkt(
                false,
                "lan",
                "UDP SNAT: host B:5000 -> 198.51.100.53:53".into(),
                lan(HOST_B_MAC).ipv4(&Ipv4::udp(udp_client(), udp_server(), b"query 0")),
            ),
            pkt(
                false,
                "wan",
                "UDP SNAT: answer to 203.0.113.1:5000".into(),
                wan().ipv4(&Ipv4::udp(udp_server(), udp_public(), b"answer 0")),
            ),
            pkt(
                false,
                "lan",
                "UDP6: host A -> 2001:db8::53".into(),
                udp6(lan(HOST_A_MAC), V6_UDP_C, V6_UDP_S, b"query6 0"),
            ),
            pkt(
                false,
                "wan",
                "UDP6: answer to host A".into(),
                udp6(wan(), V6_UDP_S, V6_UDP_C, b"answer6 0"),
            ),
            pkt(
                false,
                "lan",
                "TCP6: SYN host B -> 2001:db8::80".into(),
                tcp6(lan(HOST_B_MAC), V6_TCP_C, V6_TCP_S, syn, v.isn_c, 0, b""),
            ),
            pkt(
                false,
                "wan",
                "TCP6: SYN/ACK".into(),
                tcp6(wan(), V6_TCP_S, V6_TCP_C, synack, v.isn_s, v.isn_c + 1, b""),
            ),
            pkt(
                false,
                "lan",
                "TCP6: ACK".into(),
                tcp6(
                    lan(HOST_B_MAC),
                    V6_TCP_C,
                    V6_TCP_S,
                    ack,
                    v.isn_c + 1,
                    v.isn_s + 1,
                    b"",
                ),
            ),
        ]
    }

    /// Exchange `k` (1, 2, ...) of every conversation [`open`] established,
    /// both directions: request, response, ACK for each TCP conversation
    /// (sequence numbers continue, so conntrack keeps them in window), a
    /// query and an answer for each UDP one.
    pub fn exchange(k: u32) -> Vec<Pkt> {
        const HW: bool = true;
        let (ack, pa) = (TcpFlags::ACK, TcpFlags(TcpFlags::PSH.0 | TcpFlags::ACK.0));
        let (rq, rs) = (REQ.len() as u32, RESP.len() as u32);
        let (sc, ss) = SNAT_TCP.seqs(k);
        let (dc, ds) = DNAT_TCP.seqs(k);
        let (vc, vs) = V6_TCP.seqs(k);
        let q = format!("query {k}");
        let a = format!("answer {k}");
        vec![
            pkt(
                HW,
                "lan",
                format!("TCP SNAT: request {k}"),
                lan(HOST_A_MAC).ipv4(&Ipv4::tcp(snat_client(), snat_server(), pa, sc, ss, REQ)),
            ),
            pkt(
                HW,
                "wan",
                format!("TCP SNAT: response {k}"),
                wan().ipv4(&Ipv4::tcp(
                    snat_server(),
                    snat_public(),
                    pa,
                    ss,
                    sc + rq,
                    RESP,
                )),
            ),
            pkt(
                HW,
                "lan",
                format!("TCP SNAT: ACK {k}"),
                lan(HOST_A_MAC).ipv4(&Ipv4::tcp(
                    snat_client(),
                    snat_server(),
                    ack,
                    sc + rq,
                    ss + rs,
                    b"",
                )),
            ),
            pkt(
                HW,
                "wan",
                format!("TCP DNAT: request {k}"),
                wan().ipv4(&Ipv4::tcp(dnat_client(), PUBLISHED, pa, dc, ds, REQ)),
            ),
            pkt(
                HW,
                "dmz",
                format!("TCP DNAT: response {k}"),
                dmz().ipv4(&Ipv4::tcp(DMZ_SERVER, dnat_client(), pa, ds, dc + rq, RESP)),
            ),
            pkt(
                HW,
                "wan",
                format!("TCP DNAT: ACK {k}"),
                wan().ipv4(&Ipv4::tcp(
                    dnat_client(),
                    PUBLISHED,
                    ack,
                    dc + rq,
                    ds + rs,
                    b"",
                )),
            ),
            pkt(
                HW,
                "lan",
                format!("UDP SNAT: query {k}"),
                lan(HOST_B_MAC).ipv4(&Ipv4::udp(udp_client(), udp_server(), q.as_bytes())),
            ),
            pkt(
                HW,
                "wan",
                format!("UDP SNAT: answer {k}"),
                wan().ipv4(&Ipv4::udp(udp_server(), udp_public(), a.as_bytes())),
            ),
            pkt(
                HW,
                "lan",
                format!("UDP6: query {k}"),
                udp6(lan(HOST_A_MAC), V6_UDP_C, V6_UDP_S, q.as_bytes()),
            ),
            pkt(
                HW,
                "wan",
                format!("UDP6: answer {k}"),
                udp6(wan(), V6_UDP_S, V6_UDP_C, a.as_bytes()),
            ),
            pkt(
                HW,
                "lan",
                format!("TCP6: request {k}"),
                tcp6(lan(HOST_B_MAC), V6_TCP_C, V6_TCP_S, pa, vc, vs, REQ),
            ),
            pkt(
                HW,
                "wan",
                format!("TCP6: response {k}"),
                tcp6(wan(), V6_TCP_S, V6_TCP_C, pa, vs, vc + rq, RESP),
            ),
            pkt(
                HW,
                "lan",
                format!("TCP6: ACK {k}"),
                tcp6(
                    lan(HOST_B_MAC),
                    V6_TCP_C,
                    V6_TCP_S,
                    ack,
                    vc + rq,
                    vs + rs,
                    b"",
                ),
            ),
        ]
    }

    /// Packets the firewall drops: telnet over IPv4 and IPv6 (blocked
    /// before conntrack), a new connection from the WAN to an unpublished
    /// port and a new UDP flow into the LAN (+new from outside), the DMZ
    /// opening a connection of its own, and a frame on VLAN 20.
    pub fn blocked(k: u32) -> Vec<Pkt> {
        let syn = TcpFlags::SYN;
        vec![
            pkt(
                false,
                "lan",
                "telnet from host A (blocked port)".into(),
                lan(HOST_A_MAC).ipv4(&Ipv4::tcp(
                    SocketAddrV4::new(HOST_A, 40100 + k as u16),
                    SocketAddrV4::new(Ipv4Addr::new(198, 51, 100, 7), 23),
                    syn,
                    7,
                    0,
                    b"",
                )),
            ),
            pkt(
                false,
                "wan",
                "telnet6 from the WAN (blocked port)".into(),
                tcp6(wan(), (WAN_WEB6, 50100), (HOST_B6, 23), syn, 9, 0, b""),
            ),
            pkt(
                false,
                "wan",
                "new TCP from the WAN to 203.0.113.1:22 (not published)".into(),
                wan().ipv4(&Ipv4::tcp(
                    dnat_client(),
                    SocketAddrV4::new(PUBLIC, 22),
                    syn,
                    11,
                    0,
                    b"",
                )),
            ),
            pkt(
                false,
                "wan",
                "new UDP6 from the WAN into the LAN".into(),
                udp6(wan(), (WAN_DNS6, 999), (HOST_A6, 7000), b"probe"),
            ),
            pkt(
                false,
                "dmz",
                "new TCP from the DMZ server to the WAN (mark 0x22 only)".into(),
                dmz().ipv4(&Ipv4::tcp(
                    SocketAddrV4::new(*DMZ_SERVER.ip(), 33000),
                    snat_server(),
                    syn,
                    13,
                    0,
                    b"",
                )),
            ),
            pkt(
                false,
                "lan",
                "UDP on VLAN 20 of the trunk".into(),
                Eth::new(HOST_A_MAC, ROUTER_MAC).vlan(20).ipv4(&Ipv4::udp(
                    udp_client(),
                    udp_server(),
                    b"wrong vlan",
                )),
            ),
        ]
    }
}

/// Issue 12's scenario nobody tuned the provider to: the independent
/// router/firewall, replayed packet by packet with offload off and then on.
#[test]
fn independent_router_firewall_gives_identical_outputs_and_runs_established_traffic_in_hardware() {
    const TEST: &str = "independent_router_firewall_gives_identical_outputs_and_runs_established_traffic_in_hardware";
    const ROUNDS: std::ops::RangeInclusive<u32> = 2..=5;
    let start = |offload| Node::start_with(TEST, offload, &independent::PORTS, independent::setup);
    // Handshakes and exchange 1 (software: commits, then the +est megaflows
    // are learnt and offloaded), settled.
    let warm_up = |n: &Node| {
        n.send(&independent::open());
        n.send(&independent::exchange(1));
        n.send(&independent::blocked(1));
        n.settle();
    };

    let Some(off) = start(false) else {
        return;
    };
    warm_up(&off);
    for k in ROUNDS {
        off.send(&independent::exchange(k));
        off.send(&independent::blocked(k));
    }
    let software_only = off.outputs();
    drop(off);

    let Some(on) = start(true) else {
        return;
    };
    warm_up(&on);

    // The ct/recirc megaflows of the established traffic are offloaded.
    let offloaded = on.offloaded_flows();
    let text = offloaded.join("\n");
    assert!(
        !offloaded.is_empty()
            && field_count(&offloaded, "offloaded:yes, dp:dpdk") == offloaded.len(),
        "{text}"
    );
    for needle in [
        "recirc_id(0x",
        "ct_state(",
        "ct_mark(",
        "ct(zone=20,nat)",
        "ct(zone=30)",
        "pop_vlan",
        "push_vlan(",
        "ipv6(",
    ] {
        assert!(
            text.contains(needle),
            "no offloaded megaflow with {needle}:\n{text}"
        );
    }

    // Established packets: how many the NIC forwarded, how many dpif-netdev
    // received; every packet is one or the other.
    let (mut established, mut in_hw, mut in_dp) = (0, 0, 0);
    for k in ROUNDS {
        let pkts = independent::exchange(k);
        let (dp0, hw0) = (on.datapath_received(), on.hw_packets());
        on.send(&pkts);
        on.settle();
        let (dp1, hw1) = (on.datapath_received(), on.hw_packets());
        assert_eq!(
            (hw1 - hw0) + (dp1 - dp0),
            pkts.len() as u64,
            "exchange {k}: hardware {} + dpif-netdev {} != {} packets sent\n{}",
            hw1 - hw0,
            dp1 - dp0,
            pkts.len(),
            on.show()
        );
        established += pkts.len() as u64;
        in_hw += hw1 - hw0;
        in_dp += dp1 - dp0;
        on.send(&independent::blocked(k));
        on.settle();
    }
    let show = on.show();
    eprintln!(
        "independent scenario: {established} established packets, {in_hw} forwarded by the \
         emulated NIC, {in_dp} by dpif-netdev\nxsc/show:\n{show}"
    );
    assert!(
        in_hw * 2 > established,
        "only {in_hw} of {established} established packets in hardware \
         ({in_dp} in dpif-netdev)\n{show}\n{text}"
    );
    assert!(
        on.show_value("misses to software")
            .contains("lost 0, errors 0"),
        "{show}"
    );

    // The same packets leave every port with the same bytes.
    let with_offload = on.outputs();
    for (port, frames) in &software_only {
        let got = &with_offload[port];
        for (i, (a, b)) in frames.iter().zip(got).enumerate() {
            assert_eq!(
                packet::to_hex(a),
                packet::to_hex(b),
                "{port}: frame {i} differs with offload on (left: off, right: on)"
            );
        }
        assert_eq!(
            got.len(),
            frames.len(),
            "{port}: frame count with offload on vs off"
        );
    }
    // The blocked packets reached no port: the handshakes and each
    // exchange send 7 frames out of wan (6 from the LAN, the DMZ's answer),
    // 4 out of lan (the WAN's answers) and 2 out of dmz (the DNATed
    // client's).
    let per_round: BTreeMap<&str, usize> = [("lan", 4), ("wan", 7), ("dmz", 2)].into();
    let rounds = 2 + ROUNDS.count();
    for (port, frames) in &with_offload {
        assert_eq!(
            frames.len(),
            rounds * per_round[port],
            "{port}: frames sent (the blocked packets must reach no port)"
        );
    }
}
