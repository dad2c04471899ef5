//! The flow language against real OVS: run the Kube-OVN-shaped pipeline in
//! a private `ovs-vswitchd` (userspace dummy datapath), drive traffic so
//! that conntrack reaches +new, +est and +rpl with NAT, then read what OVS
//! prints with `dpctl/dump-flows`, `dpctl/dump-flows -m` and
//! `dpctl/dump-conntrack` and check that every line parses and formats back
//! byte for byte, and survives text → netlink → text.

use std::collections::HashMap;

use crate::support::kube_ovn;
use crate::support::ovs::OvsSandbox;
use xsc_dp::odp::netlink::{encode_actions, encode_key, encode_mask, PortTable};
use xsc_dp::odp::{is_dump_header, parse_dump, ConnEntry, KeyAttr, Megaflow, Style};

/// One sandbox per test thread (the harness's processes die with the thread
/// that started them), after the whole traffic script.
fn after_traffic(test: &str) -> Option<OvsSandbox> {
    let mut ovs = OvsSandbox::start_or_skip(test)?;
    kube_ovn::setup(&mut ovs).expect("set up the Kube-OVN pipeline");
    kube_ovn::drive(&ovs, &kube_ovn::traffic()).expect("send the traffic");
    Some(ovs)
}

/// Parses every flow line of `dump` and checks it prints back as OVS
/// printed it; returns the flows.
fn round_trip(dump: &str, style: Style) -> Vec<Megaflow> {
    let mut flows = Vec::new();
    let mut out = String::new();
    for (n, result) in parse_dump(dump) {
        let line = dump.lines().nth(n - 1).expect("line numbers are 1-based");
        let flow = result.unwrap_or_else(|e| panic!("line {n} does not parse: {e}\n{line}"));
        out.clear();
        flow.format(&mut out, style);
        assert_eq!(out, line, "line {n} does not format back");
        flows.push(flow);
    }
    let lines = dump
        .lines()
        .filter(|l| !l.trim().is_empty() && !is_dump_header(l))
        .count();
    assert_eq!(flows.len(), lines);
    flows
}

#[test]
fn real_ovs_dumps_parse_and_format_back_byte_for_byte() {
    let Some(ovs) = after_traffic("real_ovs_dumps_parse_and_format_back_byte_for_byte") else {
        return;
    };
    let plain = ovs.dump_flows(false).expect("dump-flows");
    let verbose = ovs.dump_flows(true).expect("dump-flows -m");
    let plain_flows = round_trip(&plain, Style::Plain);
    let verbose_flows = round_trip(&verbose, Style::Verbose);
    assert!(
        plain_flows.len() >= 20,
        "the pipeline makes a few dozen megaflows, got {}",
        plain_flows.len()
    );
    assert_eq!(plain_flows.len(), verbose_flows.len());

    // The traffic reached every state the offload cares about.
    for needle in [
        "ct_state(+new",
        "+est",
        "+rpl",
        "nat(dst=",
        "ct(commit",
        "recirc(0x",
        "push_vlan",
        "pop_vlan",
    ] {
        assert!(plain.contains(needle), "no {needle} in the dump:\n{plain}");
    }

    // Every verbose flow carries a ufid, and its plain form is one of the
    // plain dump's lines once ports are named the way the plain dump names
    // them (by number: the -m dump prints names).
    let numbers: HashMap<&str, u32> = kube_ovn::PORTS
        .iter()
        .map(|&(n, p)| (n, u32::from(p)))
        .chain([("br0", crate::support::ovs::DUMMY_BRIDGE_DP_PORT)])
        .collect();
    let plain_lines: Vec<&str> = plain.lines().collect();
    let mut text = String::new();
    for flow in &verbose_flows {
        assert!(flow.ufid.is_some(), "verbose flows have a ufid");
        text.clear();
        flow.format(&mut text, Style::Plain);
        let mut renamed = text.clone();
        for (name, number) in &numbers {
            renamed = renamed.replace(&format!("in_port({name})"), &format!("in_port({number})"));
        }
        let key_end = renamed.find(", packets:").expect("stats follow the key");
        let key = &renamed[..key_end];
        assert!(
            plain_lines.iter().any(|l| l.starts_with(key)),
            "the plain form of a verbose flow is not in the plain dump:\n{renamed}"
        );
    }
}

#[test]
fn real_ovs_flows_survive_netlink() {
    let Some(ovs) = after_traffic("real_ovs_flows_survive_netlink") else {
        return;
    };
    for verbose in [false, true] {
        let dump = ovs.dump_flows(verbose).expect("dump-flows");
        let style = if verbose {
            Style::Verbose
        } else {
            Style::Plain
        };
        // The -m dump names ports; netlink carries OVS's own numbers.
        let mut ports = PortTable::new(1000);
        for &(name, number) in &kube_ovn::PORTS {
            ports.insert(name, u32::from(number));
        }
        ports.insert(kube_ovn::BRIDGE, crate::support::ovs::DUMMY_BRIDGE_DP_PORT);
        for flow in round_trip(&dump, style) {
            let (mut key, mut mask, mut actions) = (Vec::new(), Vec::new(), Vec::new());
            encode_key(&flow.key, &mut ports, &mut key).expect("encode key");
            encode_mask(&flow.mask, &mut mask).expect("encode mask");
            encode_actions(&flow.actions, &mut ports, &mut actions).expect("encode actions");
            let mut back =
                Megaflow::from_netlink(flow.ufid, &key, Some(&mask), &actions).expect("decode");
            if verbose {
                ports.name_ports(Some(&mut back.key), Some(&mut back.actions));
            }
            back.stats = flow.stats.clone();
            assert_eq!(
                back.to_text(style),
                flow.to_text(style),
                "netlink changed the flow"
            );
            assert!(back.key.present.contains(KeyAttr::RecircId));
        }
    }
}

#[test]
fn real_ovs_conntrack_parses_and_formats_back() {
    let Some(ovs) = after_traffic("real_ovs_conntrack_parses_and_formats_back") else {
        return;
    };
    let dump = ovs.dump_conntrack().expect("dump-conntrack");
    let mut out = String::new();
    let mut entries = Vec::new();
    for line in dump.lines().filter(|l| !l.trim().is_empty()) {
        let e = ConnEntry::parse(line).unwrap_or_else(|e| panic!("{e}\n{line}"));
        out.clear();
        e.format(&mut out);
        assert_eq!(out, line);
        entries.push(e);
    }
    assert!(
        entries.len() >= 8,
        "the traffic leaves a dozen connections, got {}",
        entries.len()
    );
    assert!(dump.contains("state=ESTABLISHED"), "{dump}");
    // The VIP connection: orig to the VIP, reply from the backend (DNAT).
    let vip = kube_ovn::VIP.ip().to_string();
    let backend = kube_ovn::BACKEND.ip().to_string();
    assert!(
        dump.lines()
            .any(|l| l.contains(&format!("dst={vip},"))
                && l.contains(&format!("reply=(src={backend},"))),
        "no NATed VIP connection:\n{dump}"
    );
}
