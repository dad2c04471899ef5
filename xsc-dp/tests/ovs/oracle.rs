//! Real OVS as the oracle of the whole offload (ARCHITECTURE.md, "Testing
//! tiers", tier 3): run the Kube-OVN pipeline in a private ovs-vswitchd,
//! establish its connections, offload the megaflows and connections OVS
//! shows into an [`Eswitch`], then send the same packets to both and compare
//! what leaves each port, byte for byte.
//!
//! Rounds:
//! 1. [`kube_ovn::traffic`]: connections get committed and established.
//! 2. [`replay`] exchange 1 (warm-up): the packets of the established
//!    connections once, so OVS has the `+est` megaflows they need (round 1
//!    only saw some of those packets as `+new`).
//! 3. Dump megaflows and conntrack; offload both (profiles `generic` and
//!    `metascale`).
//! 4. [`replay`] exchange 2, packet by packet: OVS's output per packet is
//!    the growth of each port's tx pcap, and the megaflows it used are those
//!    whose packet counters moved (counters are used only for that). Every
//!    packet must hit megaflows of the offloaded dump; the same packet then
//!    runs through each eswitch.
//!
//! Verdicts: an eswitch output must be OVS's output (same ports, same
//! bytes; a drop is no output on either side). A packet the eswitch hands to
//! software must be explained: a table or recirculation miss where the
//! megaflow OVS used at that recirculation stage was rejected by translate,
//! or a CT miss for a packet whose connection (zone + tuple at the CT point)
//! has no offloaded entry. Anything else is a failure, printed with the
//! packet bytes.
//!
//! Modelling gaps, stated rather than hidden: OVS fills a tunnel's UDP source
//! port from a hash (not reachable here: the pipeline has no tunnel); TCP
//! window tracking is OVS's alone (the CT rules match the 5-tuple), so the
//! replay's TCP segments are in window, as a real peer's are.

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;
use std::time::Instant;

use crate::support::kube_ovn::{
    self, client, Step, BACKEND, EXT_HOST_IP, EXT_ROUTER_MAC, GW_IP, GW_MAC, HTTP_REQUEST,
    HTTP_RESPONSE, POD_A_IP, POD_A_MAC, POD_B_IP, POD_B_MAC, UPLINK_VLAN, VIP,
};
use crate::support::ovs::OvsSandbox;
use crate::support::packet::{to_hex, Eth, Ipv4, Mac, TcpFlags};
use xsc_dp::device::FlowDevice;
use xsc_dp::eswitch::{DropReason, Eswitch, EswitchRule, Fate, ToHost, Verdict};
use xsc_dp::odp::{parse_dump, ConnEntry, CtAddrs, CtL4, Megaflow, Style};
use xsc_dp::profile::DeviceProfile;
use xsc_dp::rte::{lower, RteRule};
use xsc_dp::rule::HwRule;
use xsc_dp::translate::{
    Config, PortMap, PortTarget, Rejected, RestorePoint, Translator, GROUP_ROOT,
};
use xsc_test_support::pcap;

/// `(OVS datapath port, dummy port name, DPDK port)`; br0 is the bridge's
/// own port (datapath port 100 in the dummy datapath).
const PORT_MAP: [(u32, &str, u16); 4] =
    [(1, "p1", 1), (2, "p2", 2), (3, "p3", 3), (100, "br0", 100)];
/// The eswitch's ports: the software (E-Switch manager) port first.
const ESWITCH_PORTS: &[u16] = &[0, 1, 2, 3, 100];

fn dpdk_port(dp: u32) -> u16 {
    PORT_MAP.iter().find(|p| p.0 == dp).expect("mapped").2
}

fn dp_port_of_dpdk(dpdk: u16) -> Option<u32> {
    PORT_MAP.iter().find(|p| p.2 == dpdk).map(|p| p.0)
}

fn dp_port_of_name(name: &str) -> u32 {
    PORT_MAP.iter().find(|p| p.1 == name).expect("mapped").0
}

/// A replayed packet and whether it must stay in hardware on every
/// profile (packets of established connections, and drops).
struct Replayed {
    step: Step,
    hardware: bool,
}

const HW: bool = true;
const SW: bool = false;

fn step(hardware: bool, port: &str, what: String, frame: Vec<u8>) -> Replayed {
    Replayed {
        step: Step {
            port: port.to_owned(),
            frame,
            what,
        },
        hardware,
    }
}

fn steps(r: &[Replayed]) -> Vec<Step> {
    r.iter().map(|r| r.step.clone()).collect()
}

/// Exchange `k` (1, 2, ...) of every conversation round 1 left open, plus
/// the packets OVS drops or resolves in software (`SW`: what software may
/// see; `HW`: what must stay in hardware): only packets OVS also
/// handles after establishment, with TCP sequence numbers that continue
/// connection 0 (in window for OVS's conntrack).
fn replay(k: u32) -> Vec<Replayed> {
    let a = Eth::new(POD_A_MAC, GW_MAC);
    let b = Eth::new(POD_B_MAC, GW_MAC);
    let a_to_b = Eth::new(POD_A_MAC, POD_B_MAC);
    let b_to_a = Eth::new(POD_B_MAC, POD_A_MAC);
    let uplink = Eth::new(EXT_ROUTER_MAC, GW_MAC).vlan(UPLINK_VLAN);
    let (req, resp) = (HTTP_REQUEST.len() as u32, HTTP_RESPONSE.len() as u32);
    let (ack, psh, fin) = (TcpFlags::ACK, TcpFlags::PSH, TcpFlags::FIN);
    let (c0, c1) = (client(0), client(1));
    let icmp_seq = k as u16 + 1;
    let udp_a = SocketAddrV4::new(POD_A_IP, 5353);
    let udp_b = SocketAddrV4::new(POD_B_IP, 53);
    // Client and server sequence numbers at the start of exchange k.
    let (cs, ss) = (1001 + k * req, 5001 + k * resp);
    vec![
        step(
            SW,
            "p1",
            "ARP request pod A -> who-has pod B (flood)".into(),
            Eth::new(POD_A_MAC, Mac::BROADCAST).arp_request(POD_A_IP, POD_B_IP),
        ),
        step(
            SW,
            "p2",
            "ARP reply pod B -> pod A".into(),
            b_to_a.arp_reply(POD_B_IP, POD_A_MAC, POD_A_IP),
        ),
        step(
            SW,
            "p3",
            "ARP request from the uplink, VLAN 100 (pop, flood)".into(),
            Eth::new(EXT_ROUTER_MAC, Mac::BROADCAST)
                .vlan(UPLINK_VLAN)
                .arp_request(Ipv4Addr::new(192, 168, 100, 1), GW_IP),
        ),
        step(
            HW,
            "p1",
            format!("TCP 0 request {k} to the VIP (DNAT, routed)"),
            a.ipv4(&Ipv4::tcp(c0, VIP, psh | ack, cs, ss, HTTP_REQUEST)),
        ),
        step(
            HW,
            "p2",
            format!("TCP 0 response {k} from the backend (un-DNAT, routed)"),
            b.ipv4(&Ipv4::tcp(
                BACKEND,
                c0,
                psh | ack,
                ss,
                cs + req,
                HTTP_RESPONSE,
            )),
        ),
        step(
            HW,
            "p1",
            format!("TCP 0 ACK of response {k}"),
            a.ipv4(&Ipv4::tcp(c0, VIP, ack, cs + req, ss + resp, b"")),
        ),
        step(
            HW,
            "p1",
            "UDP pod A:5353 -> pod B:53 (established)".into(),
            a_to_b.ipv4(&Ipv4::udp(udp_a, udp_b, b"query")),
        ),
        step(
            HW,
            "p2",
            "UDP reply pod B:53 -> pod A:5353".into(),
            b_to_a.ipv4(&Ipv4::udp(udp_b, udp_a, b"answer")),
        ),
        step(
            HW,
            "p1",
            format!("ICMP echo request {icmp_seq} pod A -> pod B"),
            a_to_b.ipv4(&Ipv4::icmp_echo_request(
                POD_A_IP, POD_B_IP, 0x1234, icmp_seq, b"ping",
            )),
        ),
        step(
            HW,
            "p2",
            format!("ICMP echo reply {icmp_seq} pod B -> pod A"),
            b_to_a.ipv4(&Ipv4::icmp_echo_reply(
                POD_B_IP, POD_A_IP, 0x1234, icmp_seq, b"ping",
            )),
        ),
        step(
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
        step(
            HW,
            "p3",
            format!("ICMP echo reply {icmp_seq} 192.168.100.10 -> pod A (VLAN pop, routed)"),
            uplink.ipv4(&Ipv4::icmp_echo_reply(
                EXT_HOST_IP,
                POD_A_IP,
                0x4321,
                icmp_seq,
                b"ping",
            )),
        ),
        step(
            SW,
            "p1",
            "TCP 1 retransmitted FIN (connection in TIME_WAIT)".into(),
            a.ipv4(&Ipv4::tcp(c1, VIP, fin | ack, 1001, 5001, b"")),
        ),
        step(
            HW,
            "p1",
            "spoofed source 10.16.0.99 on p1 (drop)".into(),
            a_to_b.ipv4(&Ipv4::udp(
                SocketAddrV4::new(Ipv4Addr::new(10, 16, 0, 99), 5353),
                udp_b,
                b"x",
            )),
        ),
        step(
            SW,
            "p2",
            "SYN-ACK without a connection (+inv)".into(),
            b_to_a.ipv4(&Ipv4::tcp(
                BACKEND,
                SocketAddrV4::new(POD_A_IP, 4000),
                TcpFlags::SYN | ack,
                7000,
                1,
                b"",
            )),
        ),
        step(
            SW,
            "p1",
            "TCP SYN to pod B port 22 again (+new, denied)".into(),
            a_to_b.ipv4(&Ipv4::tcp(
                SocketAddrV4::new(POD_A_IP, 3500),
                SocketAddrV4::new(POD_B_IP, 22),
                TcpFlags::SYN,
                1000,
                0,
                b"",
            )),
        ),
        step(
            HW,
            "p3",
            "ICMP on VLAN 200 from the uplink (drop)".into(),
            Eth::new(EXT_ROUTER_MAC, GW_MAC)
                .vlan(200)
                .ipv4(&Ipv4::icmp_echo_request(EXT_HOST_IP, POD_A_IP, 1, 1, b"")),
        ),
    ]
}

// ------------------------------------------------------------------ OVS side

/// A megaflow's identity across dumps: its text with the statistics cleared.
fn flow_id(f: &Megaflow) -> String {
    let mut f = f.clone();
    f.stats.clear();
    f.to_text(Style::Plain)
}

/// A dump as identity → (flow, packets).
fn dump_counts(ovs: &OvsSandbox) -> BTreeMap<String, (Megaflow, u64)> {
    let text = ovs.dump_flows(false).expect("dump-flows");
    parse_dump(&text)
        .map(|(n, f)| f.unwrap_or_else(|e| panic!("dump line {n}: {e}\n{text}")))
        .map(|f| (flow_id(&f), (f.clone(), f.stats.packets)))
        .collect()
}

/// What OVS did with one replayed packet.
struct Observed {
    step: Step,
    /// Must stay in hardware ([`Replayed::hardware`]).
    hardware: bool,
    /// `(datapath port, frame)` per transmitted frame, sorted.
    outputs: Vec<(u32, Vec<u8>)>,
    /// The megaflows whose counters moved.
    hit: Vec<Megaflow>,
}

struct Ovs {
    sandbox: OvsSandbox,
    /// Where each mapped port's tx pcap is.
    tx: Vec<(u32, PathBuf)>,
}

impl Ovs {
    fn sent(&self) -> Vec<(u32, Vec<Vec<u8>>)> {
        self.tx
            .iter()
            .map(|(port, path)| {
                let bytes = std::fs::read(path).unwrap_or_default();
                let frames = if bytes.is_empty() {
                    Vec::new()
                } else {
                    pcap::parse_packets(&bytes)
                        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                };
                (*port, frames)
            })
            .collect()
    }

    /// Sends `steps` one by one, recording each one's output and megaflows.
    fn observe(&self, steps: &[Replayed]) -> Vec<Observed> {
        let mut before = self.sent();
        let mut counts = dump_counts(&self.sandbox);
        let mut seen = Vec::new();
        for r in steps {
            let s = &r.step;
            self.sandbox.receive(&s.port, &s.frame).expect("receive");
            // The dump is the next command OVS answers, so it comes after
            // OVS ran the packet; only then are the pcaps complete.
            let now = dump_counts(&self.sandbox);
            let after = self.sent();
            let mut outputs = Vec::new();
            for ((port, old), (_, new)) in before.iter().zip(&after) {
                assert!(new.starts_with(old), "port {port}'s pcap was rewritten");
                outputs.extend(new[old.len()..].iter().map(|f| (*port, f.clone())));
            }
            outputs.sort();
            let hit = now
                .iter()
                .filter(|(id, (_, n))| counts.get(*id).map_or(true, |(_, m)| n > m))
                .map(|(_, (f, _))| f.clone())
                .collect();
            seen.push(Observed {
                step: s.clone(),
                hardware: r.hardware,
                outputs,
                hit,
            });
            before = after;
            counts = now;
        }
        seen
    }
}

// -------------------------------------------------------------- NIC side

/// One profile's offload of the dump.
struct Offload {
    profile: &'static str,
    translator: Translator,
    esw: Eswitch,
    _rules: Vec<EswitchRule>,
    offloaded: HashMap<String, Megaflow>,
    rejected: HashMap<String, Rejected>,
    conns: Vec<(ConnEntry, Result<(), Rejected>)>,
}

fn port_map() -> PortMap {
    let mut map = PortMap::new();
    for (dp, _, dpdk) in PORT_MAP {
        map.insert_number(dp, PortTarget::Ethdev(dpdk));
    }
    map
}

fn offload(name: &'static str, flows: &[Megaflow], conns: &[ConnEntry]) -> Offload {
    let profile = DeviceProfile::by_name(name).expect("profile");
    let mut t = Translator::new(profile.clone(), port_map(), Config::default());
    let esw = Eswitch::new(profile, ESWITCH_PORTS);
    let mut rules = Vec::new();
    let mut rte = RteRule::new();
    let mut install = |hw: &HwRule, rules: &mut Vec<EswitchRule>| {
        lower(hw, &mut rte).unwrap_or_else(|e| panic!("{name}: lower: {e}\n{hw:?}"));
        rules.push(
            esw.create(&rte)
                .unwrap_or_else(|e| panic!("{name}: eswitch refused a rule: {e}\n{hw:?}")),
        );
    };
    let (mut offloaded, mut rejected) = (HashMap::new(), HashMap::new());
    for f in flows {
        match t.translate(f) {
            Ok(tr) => {
                for r in &tr.new_resources {
                    for hw in t.fixed_rules(r) {
                        install(&hw, &mut rules);
                    }
                }
                install(&tr.rule, &mut rules);
                offloaded.insert(flow_id(f), f.clone());
            }
            Err(e) => {
                rejected.insert(flow_id(f), e);
            }
        }
    }
    let mut conn_results = Vec::new();
    for e in conns {
        let result = t.translate_conn(e).map(|tr| {
            for r in &tr.new_resources {
                for hw in t.fixed_rules(r) {
                    install(&hw, &mut rules);
                }
            }
            for hw in &tr.rules {
                install(hw, &mut rules);
            }
        });
        conn_results.push((e.clone(), result));
    }
    Offload {
        profile: name,
        translator: t,
        esw,
        _rules: rules,
        offloaded,
        rejected,
        conns: conn_results,
    }
}

/// The conntrack tuple of an IPv4 frame (VLAN tags skipped): proto, src,
/// dst, L4.
fn frame_tuple(f: &[u8]) -> Option<(u8, u32, u32, CtL4)> {
    let mut off = 12;
    let mut et = u16::from_be_bytes([*f.get(off)?, *f.get(off + 1)?]);
    off += 2;
    while et == 0x8100 {
        et = u16::from_be_bytes([*f.get(off + 2)?, *f.get(off + 3)?]);
        off += 4;
    }
    if et != 0x0800 {
        return None;
    }
    let ip = f.get(off..)?;
    let ihl = usize::from(ip.first()? & 0x0f) * 4;
    let proto = *ip.get(9)?;
    let word = |at: usize| Some(u32::from_be_bytes(ip.get(at..at + 4)?.try_into().ok()?));
    let (src, dst) = (word(12)?, word(16)?);
    let l4 = ip.get(ihl..)?;
    let half = |at: usize| Some(u16::from_be_bytes([*l4.get(at)?, *l4.get(at + 1)?]));
    let l4 = match proto {
        6 | 17 => CtL4::Ports {
            src: half(0)?,
            dst: half(2)?,
        },
        1 => CtL4::Icmp {
            id: half(4)?,
            type_: *l4.first()?,
            code: *l4.get(1)?,
        },
        _ => return None,
    };
    Some((proto, src, dst, l4))
}

impl Offload {
    /// Why the eswitch may hand this packet to software, or why not.
    fn explain(&self, v: &Verdict, h: &ToHost, o: &Observed) -> Result<String, String> {
        let resources = self.translator.resources();
        let stage = match h.mark {
            // A table miss: only group 0 has no miss rule.
            None => match v.path.last() {
                Some(hop) if hop.group == GROUP_ROOT && hop.rule.is_none() => 0,
                other => return Err(format!("unmarked to software at {other:?}")),
            },
            Some(m) => match resources.restore_point(m) {
                Some(RestorePoint::Recirc { recirc_id }) => recirc_id,
                Some(RestorePoint::CtMiss { nat }) => return self.explain_ct_miss(h, nat),
                other => return Err(format!("mark {m:#x} ({other:?}) is not expected here")),
            },
        };
        let used = o
            .hit
            .iter()
            .find(|f| f.key.recirc_id == stage)
            .ok_or_else(|| {
                format!("the eswitch missed at recirc_id({stage:#x}), where OVS used no megaflow")
            })?;
        let id = flow_id(used);
        if let Some(e) = self.rejected.get(&id) {
            Ok(format!("rejected megaflow: {e}"))
        } else if self.offloaded.contains_key(&id) {
            Err(format!(
                "the megaflow OVS used is offloaded, yet the eswitch missed it: {id}"
            ))
        } else {
            Err(format!(
                "OVS used a megaflow not in the offloaded dump: {id}"
            ))
        }
    }

    /// A CT miss is right when no offloaded connection of the zone has the
    /// packet's tuple at the CT point (either direction).
    fn explain_ct_miss(&self, h: &ToHost, nat: bool) -> Result<String, String> {
        let zone_reg = self.translator.profile().registers.ct_zone;
        let zone =
            ((h.registers[usize::from(zone_reg.index)] & zone_reg.mask()) >> zone_reg.shift) as u16;
        let (proto, src, dst, l4) =
            frame_tuple(&h.bytes).ok_or("CT miss of a packet without an IPv4 tuple")?;
        let same = |t: &xsc_dp::odp::CtTuple| t.addrs == CtAddrs::V4 { src, dst } && t.l4 == l4;
        let table = if nat { "CT-NAT" } else { "CT" };
        let conn = self
            .conns
            .iter()
            .find(|(e, _)| e.zone == zone && e.proto == proto && (same(&e.orig) || same(&e.reply)));
        match conn {
            None => Ok(format!(
                "{table} miss: no connection in OVS (new or invalid)"
            )),
            Some((_, Err(e))) => Ok(format!(
                "{table} miss: connection not offloaded: {}",
                e.reason()
            )),
            Some((e, Ok(()))) => {
                let mut line = String::new();
                e.format(&mut line);
                Err(format!(
                    "{table} miss in zone {zone} for an offloaded connection: {line}"
                ))
            }
        }
    }
}

#[derive(Default)]
struct Tally {
    compared: usize,
    equal: usize,
    outputs: usize,
    drops: usize,
    different: Vec<String>,
    software: BTreeMap<String, usize>,
}

fn outputs_of(fates: impl Iterator<Item = Fate>) -> (Vec<(u32, Vec<u8>)>, Vec<Fate>) {
    let (mut out, mut other) = (Vec::new(), Vec::new());
    for f in fates {
        match f {
            Fate::Drop(DropReason::Rule) => {}
            Fate::Output { port, bytes } => match dp_port_of_dpdk(port) {
                Some(dp) => out.push((dp, bytes)),
                None => other.push(Fate::Output { port, bytes }),
            },
            f => other.push(f),
        }
    }
    out.sort();
    (out, other)
}

fn show(outputs: &[(u32, Vec<u8>)]) -> String {
    if outputs.is_empty() {
        return "nothing (drop)".into();
    }
    outputs
        .iter()
        .map(|(p, b)| format!("\n    port {p}: {}", to_hex(b)))
        .collect()
}

fn compare(nic: &Offload, seen: &[Observed]) -> Tally {
    let mut t = Tally::default();
    for o in seen {
        t.compared += 1;
        let in_port = dpdk_port(dp_port_of_name(&o.step.port));
        let v = nic.esw.process(in_port, &o.step.frame);
        let (copies, odd_copies) = outputs_of(v.mirrors.iter().cloned());
        let problem = match &v.fate {
            Fate::ToSoftware(h) => match nic.explain(&v, h, o) {
                Ok(why) if o.hardware => Some(format!(
                    "to software ({why}), but a packet of an established connection or a drop must stay in hardware"
                )),
                Ok(why) if copies.is_empty() && odd_copies.is_empty() => {
                    *t.software.entry(why).or_default() += 1;
                    None
                }
                Ok(why) => Some(format!(
                    "to software ({why}) after sending copies {}{odd_copies:?}",
                    show(&copies)
                )),
                Err(why) => Some(format!("to software, unexplained: {why}")),
            },
            Fate::Output { .. } | Fate::Drop(DropReason::Rule) => {
                let (got, odd) = outputs_of(v.mirrors.iter().cloned().chain([v.fate.clone()]));
                if got == o.outputs && odd.is_empty() {
                    t.equal += 1;
                    if got.is_empty() {
                        t.drops += 1;
                    } else {
                        t.outputs += 1;
                    }
                    None
                } else {
                    Some(format!(
                        "OVS sent {}\n  eswitch sent {}{}",
                        show(&o.outputs),
                        show(&got),
                        if odd.is_empty() {
                            String::new()
                        } else {
                            format!("\n  and also {odd:?}")
                        }
                    ))
                }
            }
            Fate::Drop(reason) => Some(format!("eswitch dropped it: {reason:?}")),
        };
        if let Some(p) = problem {
            let hit: Vec<String> = o.hit.iter().map(flow_id).collect();
            t.different.push(format!(
                "[{}] {} on {}: {}\n  packet {}\n  OVS megaflows:\n    {}\n  eswitch path {:?}",
                nic.profile,
                o.step.what,
                o.step.port,
                p,
                to_hex(&o.step.frame),
                hit.join("\n    "),
                v.path
            ));
        }
    }
    t
}

fn table(profile: &str, t: &Tally) -> String {
    let software: usize = t.software.values().sum();
    let mut s = format!(
        "profile {profile}: {} packets compared, {} equal ({} forwarded, {} dropped), {} different, {} sent to software\n",
        t.compared,
        t.equal,
        t.outputs,
        t.drops,
        t.different.len(),
        software
    );
    for (why, n) in &t.software {
        s.push_str(&format!("  {n:>3} software: {why}\n"));
    }
    s
}

#[test]
fn eswitch_does_what_ovs_does_with_established_traffic() {
    const TEST: &str = "eswitch_does_what_ovs_does_with_established_traffic";
    let started = Instant::now();
    let Some(mut sandbox) = OvsSandbox::start_or_skip(TEST) else {
        return;
    };
    kube_ovn::setup(&mut sandbox).expect("pipeline");
    // The bridge port is not a port add_port made: give it a tx pcap too.
    let br0_tx = sandbox.path("br0-tx.pcap");
    sandbox
        .vsctl(&[
            "set",
            "Interface",
            "br0",
            &format!("options:tx_pcap={}", br0_tx.display()),
        ])
        .expect("br0 tx_pcap");
    let mut tx = Vec::new();
    for (dp, name, _) in PORT_MAP {
        let path = if name == "br0" {
            br0_tx.clone()
        } else {
            sandbox.tx_pcap_path(name).expect("tx pcap")
        };
        tx.push((dp, path));
    }
    let ovs = Ovs { sandbox, tx };

    kube_ovn::drive(&ovs.sandbox, &kube_ovn::traffic()).expect("round 1");
    kube_ovn::drive(&ovs.sandbox, &steps(&replay(1))).expect("warm-up");

    let dump = ovs.sandbox.dump_flows(false).expect("dump-flows");
    let flows: Vec<Megaflow> = parse_dump(&dump)
        .map(|(n, f)| f.unwrap_or_else(|e| panic!("dump line {n}: {e}\n{dump}")))
        .collect();
    let conntrack = ovs.sandbox.dump_conntrack().expect("dump-conntrack");
    let conns: Vec<ConnEntry> = conntrack
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| ConnEntry::parse(l).unwrap_or_else(|e| panic!("{e}\n{l}")))
        .collect();
    let nics = [
        offload("generic", &flows, &conns),
        offload("metascale", &flows, &conns),
    ];

    let seen = ovs.observe(&replay(2));
    // The replay is valid only if OVS ran every packet through megaflows of
    // the dump that was offloaded (the warm-up made them all).
    let dumped: std::collections::HashSet<String> = flows.iter().map(flow_id).collect();
    for o in &seen {
        assert!(
            !o.hit.is_empty(),
            "OVS used no megaflow for {}",
            o.step.what
        );
        for f in &o.hit {
            let id = flow_id(f);
            assert!(
                dumped.contains(&id),
                "{}: OVS used a megaflow the warm-up did not make: {id}",
                o.step.what
            );
        }
    }
    if std::env::var_os("XSC_ORACLE_DEBUG").is_some() {
        for o in &seen {
            eprintln!("{}: {} hit {}", o.step.what, show(&o.outputs), o.hit.len());
        }
    }
    drop(ovs);

    let mut report = String::new();
    let mut failures = Vec::new();
    for nic in &nics {
        let t = compare(nic, &seen);
        report.push_str(&table(nic.profile, &t));
        failures.extend(t.different);
    }
    report.push_str(&format!(
        "{} megaflows, {} connections; {:.1} s\n",
        flows.len(),
        conns.len(),
        started.elapsed().as_secs_f64()
    ));
    // Straight to fd 2: the table is the point of the test, even when it
    // passes (libtest captures eprintln!).
    let _ = std::io::stderr().write_all(report.as_bytes());
    assert!(
        failures.is_empty(),
        "{} difference(s) between OVS and the eswitch:\n{}\n\n{report}\nmegaflows:\n{dump}\nconntrack:\n{conntrack}",
        failures.len(),
        failures.join("\n")
    );
}
