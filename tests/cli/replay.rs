//! `xsc-offload replay` as a user runs it: the built binary on the real
//! Kube-OVN dump, on the software eswitch and on a real DPDK `net_null` port.

use xsc_dp::odp::{Megaflow, Offloaded};
use xsc_test_support::fixtures::TempDir;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/xsc-dp/tests/data/ovs");

fn replay(args: &[&str]) -> (String, String, bool) {
    crate::run("replay", args)
}

fn total_packets(dump: &str) -> u64 {
    dump.lines()
        .map(|l| {
            let f = Megaflow::parse(l).unwrap_or_else(|e| panic!("{e}\n{l}"));
            assert_eq!(f.stats.offloaded, Some(Offloaded::Yes), "{l}");
            assert!(f.ufid.is_some(), "{l}");
            f.stats.packets
        })
        .sum()
}

#[test]
fn the_offloaded_dump_parses_and_counts_the_packets_the_eswitch_saw() {
    let flows = format!("{DATA}/kube-ovn.flows");
    let ct = format!("{DATA}/kube-ovn.conntrack");
    let packets = format!("{DATA}/kube-ovn.packets");
    let (out, err, ok) = replay(&[
        "--conntrack",
        &ct,
        "--packets",
        &packets,
        "--port-map",
        "p1=1,p2=2,p3=3",
        &flows,
    ]);
    assert!(ok, "{err}");
    assert!(
        err.contains("replay: 27 flows: 15 offloaded, 12 rejected, 0 failed"),
        "{err}"
    );
    assert!(err.contains("replay: 12 connections: 8 offloaded"), "{err}");
    assert!(err.contains("8 flows rejected: ct_state +new"), "{err}");
    assert!(
        err.contains("replay: 25 packets through the eswitch"),
        "{err}"
    );
    assert!(err.contains("0 left"), "{err}");
    assert_eq!(out.lines().count(), 15);
    let seen = total_packets(&out);
    assert!(seen > 0, "no counter moved:\n{out}");

    // Without packets every counter is zero: the figures are the NIC's.
    let (quiet, err, ok) = replay(&["--conntrack", &ct, &flows]);
    assert!(ok, "{err}");
    assert_eq!(quiet.lines().count(), 15);
    assert_eq!(total_packets(&quiet), 0);
}

#[test]
fn more_workers_and_small_batches_offload_the_same_flows() {
    let flows = format!("{DATA}/kube-ovn.flows");
    let (one, _, ok) = replay(&[&flows]);
    assert!(ok);
    let (three, err, ok) = replay(&["--workers", "3", "--batch", "2", &flows]);
    assert!(ok, "{err}");
    assert_eq!(one, three);
    let (generic, err, ok) = replay(&["--profile", "generic", "--async", "--workers", "2", &flows]);
    assert!(ok, "{err}");
    assert!(err.contains("async mode, 2 workers"), "{err}");
    assert!(generic.lines().count() >= 15, "{generic}");
}

#[test]
fn a_net_null_port_refuses_every_rule_cleanly() {
    let flows = format!("{DATA}/kube-ovn.flows");
    let (out, err, ok) = replay(&["--device", "dpdk", &flows]);
    assert!(ok, "{err}");
    assert_eq!(out, "");
    assert!(
        err.contains("15 flows failed: rte_flow_create on port 0 failed: ENOSYS"),
        "{err}"
    );
    assert!(
        err.contains("replay: DPDK handles left: 0 rules, 0 templates, 0 tables, 0 ports"),
        "{err}"
    );
}

#[test]
fn async_on_a_port_without_the_template_api_says_so() {
    let flows = format!("{DATA}/kube-ovn.flows");
    let (out, err, ok) = replay(&["--device", "dpdk", "--async", &flows]);
    assert!(!ok);
    assert_eq!(out, "");
    assert!(
        err.contains(
            "--async: port 0 has no template/async API: rte_flow_info_get on port 0 failed: ENOSYS"
        ),
        "{err}"
    );
}

#[test]
fn bad_input_names_the_line_and_fails() {
    let dir = TempDir::new("cli-replay-bad");
    let bad = dir.join("bad.flows");
    std::fs::write(&bad, "recirc_id(0),in_port(1),eth_type(0x0800), packets:0, bytes:0, used:never, actions:2\nin_port(1),bogus(3), actions:2\n").unwrap();
    let (out, err, ok) = replay(&[bad.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("bad.flows:2:"), "{err}");
    assert_eq!(
        out.lines().count(),
        1,
        "the readable flow is still replayed"
    );
    let (_, err, ok) = replay(&["--packets", "x", "--device", "dpdk", bad.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("--packets needs --device eswitch"), "{err}");
}
