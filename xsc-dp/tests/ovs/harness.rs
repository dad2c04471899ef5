//! Tests of the real-OVS harness itself (`tests/support`): the sandbox's
//! life cycle, the skip/fail policy, the pcap reader, the packet builder,
//! and the Kube-OVN pipeline against the real `ovs-vswitchd`, including that
//! the committed fixtures in `tests/data/ovs/` are what a fresh run gives.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::net::SocketAddrV4;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::support::kube_ovn::{
    self, BACKEND, EXT_HOST_IP, EXT_ROUTER_MAC, GW_MAC, POD_A_IP, POD_A_MAC, POD_B_IP, POD_B_MAC,
    VIP,
};
use crate::support::ovs::{on_missing_ovs, HarnessError, MissingOvs, OvsInstall, OvsSandbox};
use crate::support::packet::{checksum, to_hex, Eth, Ipv4, Mac, TcpFlags};
use xsc_test_support::fixtures;
use xsc_test_support::pcap;

/// A sandbox with the Kube-OVN pipeline after all of its traffic, or `None`
/// (after a loud banner) when OVS is not installed and `CI` is unset.
fn kube_ovn_after_traffic(test: &str) -> Option<OvsSandbox> {
    let mut ovs = OvsSandbox::start_or_skip(test)?;
    kube_ovn::setup(&mut ovs).expect("set up the Kube-OVN pipeline");
    kube_ovn::drive(&ovs, &kube_ovn::traffic()).expect("send the Kube-OVN traffic");
    Some(ovs)
}

fn process_exists(pid: u32) -> bool {
    // A reaped process has no /proc entry; a zombie still has one.
    Path::new(&format!("/proc/{pid}")).exists()
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

// --- sandbox life cycle -----------------------------------------------------

#[test]
fn sandbox_starts_and_stops_without_leaving_processes() -> Result<(), HarnessError> {
    let Some(ovs) = OvsSandbox::start_or_skip("sandbox_starts_and_stops_without_leaving_processes")
    else {
        return Ok(());
    };
    let pids = ovs.pids();
    assert_eq!(pids.len(), 2, "ovsdb-server and ovs-vswitchd");
    let names: Vec<String> = pids.iter().map(|&p| comm(p)).collect();
    assert_eq!(names, ["ovsdb-server", "ovs-vswitchd"]);
    // The pidfiles OVS wrote name our children, not some system daemon.
    for (pid, file) in pids.iter().zip(["ovsdb-server.pid", "ovs-vswitchd.pid"]) {
        let written = std::fs::read_to_string(ovs.path(file)).expect("pidfile");
        assert_eq!(written.trim(), pid.to_string(), "{file}");
    }
    assert!(ovs.appctl(&["version"])?.contains("Open vSwitch"));
    ovs.add_bridge("br0")?;
    assert!(ovs.vsctl(&["list-br"])?.lines().any(|l| l == "br0"));
    let dir = ovs.dir().to_owned();

    drop(ovs);
    for pid in pids {
        assert!(!process_exists(pid), "pid {pid} still exists after drop");
    }
    assert!(!dir.exists(), "{} not removed", dir.display());
    Ok(())
}

#[test]
fn sandbox_cleans_up_when_the_test_panics() {
    type Seen = Option<(Vec<u32>, PathBuf)>; // pids and dir of the sandbox
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let seen_in = Arc::clone(&seen);
    let result = std::panic::catch_unwind(move || {
        let Some(ovs) = OvsSandbox::start_or_skip("sandbox_cleans_up_when_the_test_panics") else {
            return;
        };
        *seen_in.lock().unwrap() = Some((ovs.pids(), ovs.dir().to_owned()));
        panic!("deliberate panic with a live sandbox");
    });
    let Some((pids, dir)) = seen.lock().unwrap().take() else {
        // Skipped (OVS not installed), or start_or_skip failed: pass that on.
        if let Err(panic) = result {
            std::panic::resume_unwind(panic);
        }
        return;
    };
    assert!(result.is_err(), "the closure panicked");
    for pid in pids {
        assert!(!process_exists(pid), "pid {pid} survived the panic");
    }
    assert!(!dir.exists(), "{} survived the panic", dir.display());
}

#[test]
fn sandboxes_are_independent() -> Result<(), HarnessError> {
    let Some(a) = OvsSandbox::start_or_skip("sandboxes_are_independent") else {
        return Ok(());
    };
    let Some(b) = OvsSandbox::start_or_skip("sandboxes_are_independent") else {
        return Ok(());
    };
    assert_ne!(a.dir(), b.dir());
    a.add_bridge("bra")?;
    assert_eq!(b.vsctl(&["list-br"])?.trim(), "", "b sees a's bridge");
    Ok(())
}

#[test]
fn command_errors_carry_stderr() {
    let Some(ovs) = OvsSandbox::start_or_skip("command_errors_carry_stderr") else {
        return;
    };
    let err = ovs.vsctl(&["add-port", "no-such-br", "px"]).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, HarnessError::Command { .. }), "{text}");
    assert!(text.contains("no-such-br"), "{text}");
    let err = ovs
        .appctl(&["netdev-dummy/receive", "nope", "00"])
        .unwrap_err();
    assert!(err.to_string().contains("no such dummy netdev"), "{err}");
    assert!(matches!(
        ovs.sent_packets("p9"),
        Err(HarnessError::Usage(_))
    ));
}

// --- missing OVS: loud skip locally, failure in CI ---------------------------

fn empty_install() -> Result<OvsInstall, HarnessError> {
    let nowhere = std::env::temp_dir().join(format!("xsc-no-ovs-{}", std::process::id()));
    let schema = nowhere.join("vswitch.ovsschema");
    OvsInstall::locate_in(&[nowhere], &[schema])
}

#[test]
fn missing_ovs_is_reported_as_not_installed() {
    let err = empty_install().unwrap_err();
    assert!(matches!(err, HarnessError::NotInstalled { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("Open vSwitch is not installed: ovsdb-tool not found"),
        "{err}"
    );
}

#[test]
fn missing_ovs_skips_loudly_without_ci_and_fails_with_ci() {
    let err = empty_install().unwrap_err();
    match on_missing_ovs("t", &err, None) {
        MissingOvs::Skip(banner) => {
            assert!(
                banner.contains("SKIPPED t: Open vSwitch is not installed"),
                "{banner}"
            );
            assert!(
                banner.lines().count() >= 3,
                "a banner, not a whisper: {banner}"
            );
        }
        other => panic!("expected a skip, got {other:?}"),
    }
    for unset in ["", "0", "false", "FALSE"] {
        assert!(
            matches!(
                on_missing_ovs("t", &err, Some(OsStr::new(unset))),
                MissingOvs::Skip(_)
            ),
            "CI={unset:?}"
        );
    }
    for set in ["true", "1", "yes"] {
        assert!(
            matches!(
                on_missing_ovs("t", &err, Some(OsStr::new(set))),
                MissingOvs::Fail(_)
            ),
            "CI={set:?}"
        );
    }

    // The same through the entry point tests call: a banner, or a panic.
    let mut banner = Vec::new();
    assert!(OvsSandbox::start_or_skip_with("t", empty_install(), None, &mut banner).is_none());
    let banner = String::from_utf8(banner).unwrap();
    assert!(
        banner.starts_with("=====") && banner.contains("SKIPPED t: "),
        "{banner}"
    );
    let in_ci = std::panic::catch_unwind(|| {
        let mut banner = Vec::new();
        OvsSandbox::start_or_skip_with("t", empty_install(), Some(OsStr::new("true")), &mut banner)
    });
    assert!(
        in_ci.is_err(),
        "with CI set a missing OVS must fail the test"
    );
}

// --- pcap reader ---------------------------------------------------------------

#[test]
fn pcap_reads_little_endian_microsecond_files() {
    let a = [1u8, 2, 3];
    let b = [4u8; 70];
    assert_eq!(
        pcap::parse_packets(&pcap::write_packets(&[&a, &b])).unwrap(),
        vec![a.to_vec(), b.to_vec()]
    );
    assert_eq!(
        pcap::parse_packets(&pcap::write_packets(&[])).unwrap(),
        Vec::<Vec<u8>>::new()
    );
}

/// Rewrites a little-endian file from [`pcap::write_packets`] into big
/// endian, with the nanosecond magic if `nanos`.
fn to_big_endian(le: &[u8], nanos: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let magic: u32 = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
    out.extend_from_slice(&magic.to_be_bytes());
    for w in le[4..8].chunks(2) {
        out.extend_from_slice(&[w[1], w[0]]);
    }
    for w in le[8..24].chunks(4) {
        out.extend_from_slice(&[w[3], w[2], w[1], w[0]]);
    }
    let mut at = 24;
    while at < le.len() {
        for w in le[at..at + 16].chunks(4) {
            out.extend_from_slice(&[w[3], w[2], w[1], w[0]]);
        }
        let len = u32::from_le_bytes(le[at + 8..at + 12].try_into().unwrap()) as usize;
        out.extend_from_slice(&le[at + 16..at + 16 + len]);
        at += 16 + len;
    }
    out
}

#[test]
fn pcap_reads_big_endian_and_nanosecond_files() {
    let le = pcap::write_packets(&[&[0xaa; 14], &[0xbb; 60]]);
    let want = vec![vec![0xaa; 14], vec![0xbb; 60]];
    assert_eq!(
        pcap::parse_packets(&to_big_endian(&le, false)).unwrap(),
        want
    );
    assert_eq!(
        pcap::parse_packets(&to_big_endian(&le, true)).unwrap(),
        want
    );
    let mut le_nanos = le.clone();
    le_nanos[..4].copy_from_slice(&0xa1b2_3c4du32.to_le_bytes());
    assert_eq!(pcap::parse_packets(&le_nanos).unwrap(), want);
}

/// The error of parsing `bytes`: its offset and its sentence.
fn pcap_error(bytes: &[u8]) -> (usize, String) {
    let e = pcap::parse_packets(bytes).expect_err("a broken pcap must be an error");
    (e.offset, e.what)
}

#[test]
fn pcap_rejects_truncated_and_foreign_files() {
    let file = pcap::write_packets(&[&[1; 20]]);
    // A file shorter than the 24-byte global header.
    let (offset, what) = pcap_error(&file[..10]);
    assert_eq!(offset, 0, "{what}");
    assert!(what.starts_with("global header"), "{what}");
    // A record header cut after 6 of its 16 bytes.
    let (offset, what) = pcap_error(&file[..30]);
    assert_eq!(offset, 24, "{what}");
    assert!(
        what.starts_with("record cut short (6 bytes left)"),
        "{what}"
    );
    // A record whose data is one byte short of its 16 + 20.
    let (offset, what) = pcap_error(&file[..file.len() - 1]);
    assert_eq!(offset, 24, "{what}");
    assert!(
        what.starts_with("record cut short (35 bytes left)"),
        "{what}"
    );
    let mut foreign = file.clone();
    foreign[..4].copy_from_slice(b"\x0a\x0d\x0d\x0a"); // pcapng
    let (offset, what) = pcap_error(&foreign);
    assert_eq!(offset, 0, "{what}");
    assert!(what.starts_with("global header"), "{what}");
    let mut huge = file;
    huge[32..36].copy_from_slice(&u32::MAX.to_le_bytes());
    let (offset, what) = pcap_error(&huge);
    assert_eq!(offset, 24, "{what}");
    assert!(what.starts_with("record claims 4294967295 bytes"), "{what}");
}

// --- packet builder ---------------------------------------------------------------

fn sock(s: &str) -> SocketAddrV4 {
    s.parse().expect("test socket address")
}

#[test]
fn packet_builder_writes_known_bytes_and_valid_checksums() {
    // An ICMP echo request; the two checksums were computed separately
    // (Python, RFC 1071 over the same bytes).
    let icmp = Eth::new(POD_A_MAC, POD_B_MAC).ipv4(&Ipv4::icmp_echo_request(
        POD_A_IP, POD_B_IP, 0x1234, 1, b"ping",
    ));
    let eth = "000000cecfb9 0000009dfb1a 0800";
    let ipv4 = "4500 0020 0000 0000 4001 669e 0a10000e 0a100012";
    let echo = "0800 06fa 1234 0001 70696e67";
    assert_eq!(to_hex(&icmp), [eth, ipv4, echo].concat().replace(' ', ""));
    for ip in [
        Ipv4::tcp(
            sock("10.16.0.14:3457"),
            sock("10.16.0.100:80"),
            TcpFlags::SYN,
            1000,
            0,
            b"",
        ),
        Ipv4::tcp(
            sock("10.16.0.14:3457"),
            sock("10.16.0.100:80"),
            TcpFlags::PSH | TcpFlags::ACK,
            1,
            2,
            b"odd",
        ),
        Ipv4::udp(sock("10.16.0.14:5353"), sock("10.16.0.18:53"), b"query"),
        Ipv4::icmp_echo_reply(POD_B_IP, POD_A_IP, 7, 9, b"abc"),
    ] {
        let bytes = ip.to_bytes();
        assert_eq!(
            checksum(&[&bytes[..20]]),
            0,
            "IPv4 header checksum of {ip:?}"
        );
        let l4 = &bytes[20..];
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&bytes[12..20]);
        pseudo.extend_from_slice(&[0, ip.protocol()]);
        pseudo.extend_from_slice(&(l4.len() as u16).to_be_bytes());
        let sum = if ip.protocol() == 1 {
            checksum(&[l4])
        } else {
            checksum(&[&pseudo, l4])
        };
        assert_eq!(sum, 0, "L4 checksum of {ip:?}");
    }
    let tagged = Eth::new(EXT_ROUTER_MAC, GW_MAC)
        .vlan(100)
        .arp_request(EXT_HOST_IP, POD_A_IP);
    assert_eq!(to_hex(&tagged[12..18]), "810000640806");
    assert_eq!(tagged.len(), 14 + 4 + 28);
    assert_eq!(
        Mac::parse("00:00:00:9d:fb:1a"),
        Mac([0, 0, 0, 0x9d, 0xfb, 0x1a])
    );
}

#[test]
fn packets_file_matches_the_builder() {
    let rendered = kube_ovn::render_packets(&kube_ovn::traffic());
    assert!(
        kube_ovn::PACKETS == rendered,
        "tests/data/ovs/kube-ovn.packets is stale; replace it with:\n{rendered}"
    );
    assert_eq!(
        kube_ovn::parse_packets(kube_ovn::PACKETS).unwrap(),
        kube_ovn::traffic()
    );
}

// --- the Kube-OVN pipeline against real OVS ---------------------------------------

#[test]
fn pipeline_produces_conntrack_recirculation_and_nat_megaflows() -> Result<(), HarnessError> {
    let Some(ovs) =
        kube_ovn_after_traffic("pipeline_produces_conntrack_recirculation_and_nat_megaflows")
    else {
        return Ok(());
    };
    let flows = ovs.dump_flows(false)?;
    for needle in [
        "ct_state(",
        "recirc_id(0x",
        "ct(zone=4)",
        "ct(zone=10,nat)",
        "nat(dst=10.16.0.18:80)",
        "ct(commit,zone=4,mark=0x1/0xffffffff,label=0x10001),ct(zone=10,nat),recirc(0x",
        "+new",
        "+est",
        "+rpl",
        "+inv",
        "push_vlan(vid=100,pcp=0),3",
        "pop_vlan",
        "actions:drop",
        "actions:2,100,push_vlan(vid=100,pcp=0),3",
    ] {
        assert!(flows.contains(needle), "no `{needle}` in\n{flows}");
    }
    // The router flow: rewritten MACs and a decremented TTL.
    assert!(
        flows.lines().any(
            |l| l.contains("set(eth(src=00:00:00:10:00:01,dst=00:00:00:aa:01:64))")
                && l.contains("ttl=63")
        ),
        "no routed flow in\n{flows}"
    );
    let verbose = ovs.dump_flows(true)?;
    assert!(
        verbose.lines().filter(|l| l.starts_with("ufid:")).count()
            == megaflow_lines(&flows).count()
    );
    Ok(())
}

fn megaflow_lines(dump: &str) -> impl Iterator<Item = &str> {
    dump.lines()
        .filter(|l| !l.is_empty() && !l.starts_with("flow-dump from"))
}

#[test]
fn conntrack_shows_the_vip_connection_established_with_nat() -> Result<(), HarnessError> {
    let Some(ovs) =
        kube_ovn_after_traffic("conntrack_shows_the_vip_connection_established_with_nat")
    else {
        return Ok(());
    };
    let ct = ovs.dump_conntrack()?;
    let vip_lb = "tcp,orig=(src=10.16.0.14,dst=10.16.0.100,sport=3457,dport=80),\
                  reply=(src=10.16.0.18,dst=10.16.0.14,sport=80,dport=3457),zone=10,protoinfo=(state=ESTABLISHED)";
    assert!(ct.lines().any(|l| l == vip_lb), "no `{vip_lb}` in\n{ct}");
    // The same connection in pod A's zone (before DNAT) and pod B's (after).
    assert!(ct.contains("orig=(src=10.16.0.14,dst=10.16.0.100,sport=3457,dport=80),reply=(src=10.16.0.100,dst=10.16.0.14,sport=80,dport=3457),zone=4,mark=1,labels=0x10001,protoinfo=(state=ESTABLISHED)"), "{ct}");
    assert!(ct.contains("orig=(src=10.16.0.14,dst=10.16.0.18,sport=3457,dport=80),reply=(src=10.16.0.18,dst=10.16.0.14,sport=80,dport=3457),zone=6,mark=2,labels=0x20002,protoinfo=(state=ESTABLISHED)"), "{ct}");
    // The connection closed with FIN.
    assert!(ct.contains("sport=3458,dport=80),reply=(src=10.16.0.18,dst=10.16.0.14,sport=80,dport=3458),zone=10,protoinfo=(state=TIME_WAIT)"), "{ct}");
    Ok(())
}

#[test]
fn forwarded_packets_come_out_with_the_expected_bytes() -> Result<(), HarnessError> {
    let Some(ovs) = kube_ovn_after_traffic("forwarded_packets_come_out_with_the_expected_bytes")
    else {
        return Ok(());
    };
    let (p1, p2, p3) = (
        ovs.sent_packets("p1")?,
        ovs.sent_packets("p2")?,
        ovs.sent_packets("p3")?,
    );
    let steps = kube_ovn::traffic();
    let sent = |what: &str| {
        &steps
            .iter()
            .find(|s| s.what.starts_with(what))
            .expect("step")
            .frame
    };

    // L2 between the pods: unchanged.
    let udp = sent("UDP 10.16.0.14:5353");
    assert!(p2.contains(udp), "UDP not forwarded unchanged to p2");
    assert!(
        p1.contains(sent("ICMP echo reply pod B")),
        "ICMP reply not forwarded to p1"
    );
    assert_eq!(p2.iter().filter(|f| *f == udp).count(), 1);

    // The VIP's SYN reaches the backend DNATed and routed (TTL 63).
    let syn_to_backend = Eth::new(GW_MAC, POD_B_MAC)
        .ipv4(&Ipv4::tcp(kube_ovn::client(0), BACKEND, TcpFlags::SYN, 1000, 0, b"").with_ttl(63));
    assert!(
        p2.contains(&syn_to_backend),
        "DNATed SYN not on p2:\n{}",
        hexes(&p2)
    );
    // The backend's SYN-ACK reaches pod A from the VIP.
    let syn_ack_from_vip = Eth::new(GW_MAC, POD_A_MAC).ipv4(
        &Ipv4::tcp(
            VIP,
            kube_ovn::client(0),
            TcpFlags::SYN | TcpFlags::ACK,
            5000,
            1001,
            b"",
        )
        .with_ttl(63),
    );
    assert!(
        p1.contains(&syn_ack_from_vip),
        "un-DNATed SYN-ACK not on p1:\n{}",
        hexes(&p1)
    );

    // Routed out of the uplink: rewritten, TTL 63, tagged VLAN 100.
    let out = Eth::new(GW_MAC, EXT_ROUTER_MAC)
        .vlan(100)
        .ipv4(&Ipv4::icmp_echo_request(POD_A_IP, EXT_HOST_IP, 0x4321, 1, b"ping").with_ttl(63));
    assert!(p3.contains(&out), "routed ICMP not on p3:\n{}", hexes(&p3));
    // ...and back, untagged.
    let back = Eth::new(GW_MAC, POD_A_MAC)
        .ipv4(&Ipv4::icmp_echo_reply(EXT_HOST_IP, POD_A_IP, 0x4321, 1, b"ping").with_ttl(63));
    assert!(
        p1.contains(&back),
        "routed reply not on p1:\n{}",
        hexes(&p1)
    );
    // The ARP request flooded to p3 carries the tag; to p2 it does not.
    let arp = sent("ARP request 10.16.0.14");
    let mut tagged = arp[..12].to_vec();
    tagged.extend_from_slice(&[0x81, 0x00, 0x00, 0x64]);
    tagged.extend_from_slice(&arp[12..]);
    assert!(p3.contains(&tagged) && p2.contains(arp), "ARP flood");

    // Nothing that was to be dropped came out anywhere.
    for what in [
        "spoofed source",
        "SYN-ACK without",
        "TCP SYN to pod B port 22",
        "ICMP on VLAN 200",
    ] {
        let frame = sent(what);
        let mut reached = [&p1, &p2, &p3]
            .into_iter()
            .flatten()
            .filter(|f| f[14..] == frame[14..]);
        assert!(reached.next().is_none(), "`{what}` was forwarded");
    }
    // What p1 received is exactly what was sent on it.
    let on_p1: Vec<&Vec<u8>> = steps
        .iter()
        .filter(|s| s.port == "p1")
        .map(|s| &s.frame)
        .collect();
    assert_eq!(
        ovs.received_packets("p1")?.iter().collect::<Vec<_>>(),
        on_p1
    );
    Ok(())
}

fn hexes(frames: &[Vec<u8>]) -> String {
    frames
        .iter()
        .map(|f| to_hex(f))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn flow_string_receive_wait_purge_and_flush() -> Result<(), HarnessError> {
    let Some(mut ovs) = OvsSandbox::start_or_skip("flow_string_receive_wait_purge_and_flush")
    else {
        return Ok(());
    };
    kube_ovn::setup(&mut ovs)?;
    // An ODP flow instead of bytes: OVS composes the ARP request itself.
    ovs.receive_text(
        "p1",
        "in_port(1),eth(src=00:00:00:9d:fb:1a,dst=ff:ff:ff:ff:ff:ff),eth_type(0x0806),\
         arp(sip=10.16.0.14,tip=10.16.0.18,op=1,sha=00:00:00:9d:fb:1a,tha=00:00:00:00:00:00)",
    )?;
    ovs.wait()?;
    assert_eq!(megaflow_lines(&ovs.dump_flows(false)?).count(), 1);
    assert_eq!(ovs.sent_packets("p2")?.len(), 1, "flooded to p2");
    ovs.revalidate_purge()?;
    assert_eq!(megaflow_lines(&ovs.dump_flows(false)?).count(), 0, "purged");

    kube_ovn::drive(&ovs, &kube_ovn::traffic())?;
    assert!(!ovs.dump_conntrack()?.is_empty());
    ovs.flush_datapath()?;
    assert_eq!(ovs.dump_conntrack()?, "");
    assert_eq!(
        megaflow_lines(&ovs.dump_flows(false)?).count(),
        0,
        "flushed"
    );
    Ok(())
}

// --- the committed fixtures are what OVS produces -------------------------------------

/// Sorted, with the dump header and the random parts (ufids) removed.
fn normalized(dump: &str) -> BTreeSet<String> {
    megaflow_lines(dump)
        .map(|l| match l.strip_prefix("ufid:") {
            Some(rest) => rest.split_once(", ").map_or(rest, |(_, r)| r).to_owned(),
            None => l.to_owned(),
        })
        .collect()
}

fn fixture(name: &str) -> String {
    fixtures::read(fixtures::ovs(name))
}

#[test]
fn fixtures_are_what_a_fresh_run_produces() -> Result<(), HarnessError> {
    let Some(ovs) = kube_ovn_after_traffic("fixtures_are_what_a_fresh_run_produces") else {
        return Ok(());
    };
    for (name, live) in [
        ("kube-ovn.flows", ovs.dump_flows(false)?),
        ("kube-ovn-verbose.flows", ovs.dump_flows(true)?),
        ("kube-ovn.conntrack", ovs.dump_conntrack()?),
    ] {
        let (want, got) = (normalized(&fixture(name)), normalized(&live));
        let missing: Vec<_> = want.difference(&got).collect();
        let extra: Vec<_> = got.difference(&want).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{name} differs from a fresh run (regenerate with scripts/ovs-capture):\nonly in the fixture: {missing:#?}\nonly in the run: {extra:#?}"
        );
    }
    for (port, _) in kube_ovn::PORTS {
        let path = fixtures::ovs(&format!("kube-ovn-{port}-tx.pcap"));
        let bytes = fixtures::read_bytes(&path);
        assert_eq!(
            pcap::parse_packets(&bytes).expect("fixture pcap"),
            ovs.sent_packets(port)?,
            "{}",
            path.display()
        );
    }
    Ok(())
}
