//! `xsc-offload process` end to end: the built binary offloads the
//! Kube-OVN fixtures (real OVS output) and runs packets built here through
//! the eswitch; its text, its JSON and the pcaps it writes are checked.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use xsc_test_support::fixtures::TempDir;
use xsc_test_support::pcap::{self, Format, Frame};

use crate::{text, BIN};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/xsc-dp/tests/data/ovs");

const POD_A_MAC: [u8; 6] = [0, 0, 0, 0x9d, 0xfb, 0x1a];
const POD_B_MAC: [u8; 6] = [0, 0, 0, 0xce, 0xcf, 0xb9];
const GW_MAC: [u8; 6] = [0, 0, 0, 0x10, 0, 1];
const POD_A: [u8; 4] = [10, 16, 0, 14];
const POD_B: [u8; 4] = [10, 16, 0, 18];
const VIP: [u8; 4] = [10, 16, 0, 100];
const HTTP_REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: 10.16.0.100\r\n\r\n";

fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum = 0u32;
    for p in parts {
        for w in p.chunks(2) {
            sum += u32::from(u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)]));
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn eth(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = [&dst[..], &src[..], &ethertype.to_be_bytes()].concat();
    f.extend_from_slice(payload);
    f
}

/// An IPv4 packet (no options, DF clear, id 0) around `l4`, whose
/// checksum at `csum_at` (if any) covers the pseudo-header.
fn ipv4(
    src: [u8; 4],
    dst: [u8; 4],
    proto: u8,
    ttl: u8,
    mut l4: Vec<u8>,
    csum_at: Option<usize>,
) -> Vec<u8> {
    if let Some(at) = csum_at {
        let len = (l4.len() as u16).to_be_bytes();
        let pseudo = [&src[..], &dst[..], &[0, proto], &len].concat();
        let c = checksum(&[&pseudo, &l4]);
        l4[at..at + 2].copy_from_slice(&c.to_be_bytes());
    }
    let total = (20 + l4.len() as u16).to_be_bytes();
    let mut h = vec![0x45, 0, total[0], total[1], 0, 0, 0, 0, ttl, proto, 0, 0];
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    let c = checksum(&[&h]);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h.extend_from_slice(&l4);
    h
}

fn tcp(sport: u16, dport: u16, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut t = [
        &sport.to_be_bytes()[..],
        &dport.to_be_bytes(),
        &seq.to_be_bytes(),
        &ack.to_be_bytes(),
        &[0x50, flags, 0xff, 0xff, 0, 0, 0, 0],
    ]
    .concat();
    t.extend_from_slice(payload);
    t
}

fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let len = (8 + payload.len() as u16).to_be_bytes();
    let mut u = [
        &sport.to_be_bytes()[..],
        &dport.to_be_bytes(),
        &len,
        &[0, 0],
    ]
    .concat();
    u.extend_from_slice(payload);
    u
}

fn arp_request(sha: [u8; 6], spa: [u8; 4], tpa: [u8; 4]) -> Vec<u8> {
    let body = [&[0, 1, 8, 0, 6, 4, 0, 1][..], &sha, &spa, &[0; 6], &tpa].concat();
    eth([0xff; 6], sha, 0x0806, &body)
}

/// The packets, all arriving on OVS port 1 (pod A), and what the NIC must
/// do with each.
struct Case {
    arp: Vec<u8>,
    /// Connection 0's request to the VIP, established in the fixture.
    request: Vec<u8>,
    /// The same after DNAT to pod B and the router's rewrite.
    request_out: Vec<u8>,
    spoofed: Vec<u8>,
    /// A SYN of a connection OVS has in SYN_SENT (not offloaded).
    syn22: Vec<u8>,
}

fn case() -> Case {
    let (psh_ack, syn) = (0x18, 0x02);
    let seg = tcp(3457, 80, 1001, 5001, psh_ack, HTTP_REQUEST);
    Case {
        arp: arp_request(POD_A_MAC, POD_A, POD_B),
        request: eth(
            GW_MAC,
            POD_A_MAC,
            0x0800,
            &ipv4(POD_A, VIP, 6, 64, seg.clone(), Some(16)),
        ),
        request_out: eth(
            POD_B_MAC,
            GW_MAC,
            0x0800,
            &ipv4(POD_A, POD_B, 6, 63, seg, Some(16)),
        ),
        spoofed: eth(
            POD_B_MAC,
            POD_A_MAC,
            0x0800,
            &ipv4([10, 16, 0, 99], POD_B, 17, 64, udp(5353, 53, b"x"), None),
        ),
        syn22: eth(
            POD_B_MAC,
            POD_A_MAC,
            0x0800,
            &ipv4(
                POD_A,
                POD_B,
                6,
                64,
                tcp(3500, 22, 1000, 0, syn, b""),
                Some(16),
            ),
        ),
    }
}

/// A classic pcap file; big-endian with nanosecond stamps when `be_ns`
/// (the reader must take both). Frame i is stamped 100+i s and 5 us.
fn pcap(frames: &[&[u8]], be_ns: bool) -> Vec<u8> {
    let frames: Vec<Frame> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| Frame {
            time: Duration::new(100 + i as u64, 5000),
            data: f.to_vec(),
        })
        .collect();
    let format = if be_ns {
        Format::BE_NANOS
    } else {
        Format::LE_MICROS
    };
    pcap::write(&frames, format)
}

/// Frames of a little-endian microsecond pcap (what `process` writes), with
/// their `(sec, usec)`, read by hand: an oracle independent of the codec
/// `process` writes with.
fn read_pcap(path: &Path) -> Vec<((u32, u32), Vec<u8>)> {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&b[..4], &0xa1b2_c3d4u32.to_le_bytes(), "{}", path.display());
    let u = |at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    assert_eq!(u(20), 1, "link type Ethernet");
    let mut at = 24;
    let mut out = Vec::new();
    while at < b.len() {
        let len = u(at + 8) as usize;
        assert_eq!(u(at + 12) as usize, len);
        out.push(((u(at), u(at + 4)), b[at + 16..at + 16 + len].to_vec()));
        at += 16 + len;
    }
    out
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn process(args: &[&str]) -> Output {
    let out = Command::new(BIN)
        .arg("process")
        .args(["--flows", &format!("{DATA}/kube-ovn.flows")])
        .args(["--conntrack", &format!("{DATA}/kube-ovn.conntrack")])
        .args(args)
        .output()
        .expect("run xsc-offload");
    assert!(
        out.status.success(),
        "{args:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn process_prints_each_packets_fate_and_writes_what_left_each_port() {
    let c = case();
    let dir = TempDir::new("cli-process-text");
    let input = dir.0.join("in.pcap");
    let frames: [&[u8]; 4] = [&c.arp, &c.request, &c.spoofed, &c.syn22];
    std::fs::write(&input, pcap(&frames, true)).unwrap();
    let out_dir = dir.0.join("out");
    let out = process(&[
        "--profile",
        "generic",
        "--port-map",
        "1=1,2=2,3=3,100=100",
        "--in-port",
        "1",
        "--pcap",
        input.to_str().unwrap(),
        "--out-dir",
        out_dir.to_str().unwrap(),
    ]);
    let lines = text(&out.stdout);
    assert_eq!(
        lines,
        "output 2 42; output 100 42; output 3 46\n\
         output 2 91\n\
         drop\n\
         software mark=0xc70001\n",
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).starts_with("4 packets: 2 output, 1 dropped, 1 to software;"),
        "{}",
        text(&out.stderr)
    );

    // The flood: the frame as is on 2 and 100, tagged with VLAN 100 on 3;
    // the request DNATed and routed on 2. Timestamps are the input's.
    let mut tagged = c.arp[..12].to_vec();
    tagged.extend_from_slice(&[0x81, 0x00, 0x00, 0x64]);
    tagged.extend_from_slice(&c.arp[12..]);
    let p2 = read_pcap(&out_dir.join("2.pcap"));
    assert_eq!(
        p2,
        vec![((100, 5), c.arp.clone()), ((101, 5), c.request_out.clone())],
        "2.pcap: {:?}",
        p2.iter().map(|(_, f)| hex(f)).collect::<Vec<_>>()
    );
    assert_eq!(
        read_pcap(&out_dir.join("100.pcap")),
        vec![((100, 5), c.arp.clone())]
    );
    assert_eq!(read_pcap(&out_dir.join("3.pcap")), vec![((100, 5), tagged)]);
    let mut written: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    written.sort();
    assert_eq!(written, ["100.pcap", "2.pcap", "3.pcap"]);
}

#[test]
fn process_json_has_one_object_per_packet() {
    let c = case();
    let dir = TempDir::new("cli-process-json");
    let input = dir.0.join("in.pcap");
    let frames: [&[u8]; 4] = [&c.arp, &c.request, &c.spoofed, &c.syn22];
    std::fs::write(&input, pcap(&frames, false)).unwrap();
    // metascale cannot flood (no mirroring): the ARP request is a table
    // miss, handed to software unmarked.
    let out = process(&[
        "--in-port",
        "1",
        "--pcap",
        input.to_str().unwrap(),
        "--json",
    ]);
    let want = format!(
        "{{\"seq\":0,\"verdict\":\"software\",\"mark\":null}}\n\
         {{\"seq\":1,\"verdict\":\"output\",\"outputs\":[{{\"port\":2,\"hex\":\"{}\"}}]}}\n\
         {{\"seq\":2,\"verdict\":\"drop\"}}\n\
         {{\"seq\":3,\"verdict\":\"software\",\"mark\":{}}}\n",
        hex(&c.request_out),
        0x00c7_0001
    );
    assert_eq!(text(&out.stdout), want);
}

#[test]
fn process_errors_name_the_file_and_offset() {
    let dir = TempDir::new("cli-process-err");
    let input = dir.0.join("cut.pcap");
    let c = case();
    let mut bytes = pcap(&[&c.request], false);
    bytes.truncate(bytes.len() - 3);
    std::fs::write(&input, &bytes).unwrap();
    let out = Command::new(BIN)
        .args(["process", "--flows", &format!("{DATA}/kube-ovn.flows")])
        .args(["--in-port", "1", "--pcap", input.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("{}: offset 24: ", input.display())),
        "{err}"
    );

    let out = Command::new(BIN)
        .args(["process", "--flows", "x.flows", "--pcap", "x.pcap"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // clap's wording (was "--in-port is required" before clap).
    let err = text(&out.stderr);
    assert!(
        err.contains("the following required arguments were not provided:\n  --in-port <N>"),
        "{err}"
    );

    let out = Command::new(BIN)
        .args(["process", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    // clap's conventional help (was a hand-written "usage: ..." first line).
    let help = text(&out.stdout);
    assert!(
        help.contains(
            "Usage: xsc-offload process [OPTIONS] --flows <FILE> --in-port <N> --pcap <IN.pcap>"
        ),
        "{help}"
    );
}
