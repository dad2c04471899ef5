//! The offload plan of megaflows and connections that real OVS makes for a
//! conntrack + NAT pipeline: run the Kube-OVN pipeline in a private
//! ovs-vswitchd, then translate what `dpctl/dump-flows` and
//! `dpctl/dump-conntrack` print.

use crate::support::kube_ovn;
use crate::support::ovs::OvsSandbox;
use xsc_dp::odp::{parse_dump, ConnEntry};
use xsc_dp::profile::DeviceProfile;
use xsc_dp::translate::{Config, PortMap, Translator};

#[test]
fn live_ovs_flows_offload_when_established_and_are_rejected_when_new() {
    let Some(mut ovs) = OvsSandbox::start_or_skip(
        "live_ovs_flows_offload_when_established_and_are_rejected_when_new",
    ) else {
        return;
    };
    kube_ovn::setup(&mut ovs).expect("pipeline");
    kube_ovn::drive(&ovs, &kube_ovn::traffic()).expect("traffic");
    let dump = ovs.dump_flows(false).expect("dump-flows");
    let flows: Vec<_> = parse_dump(&dump)
        .map(|(n, f)| f.unwrap_or_else(|e| panic!("line {n}: {e}")))
        .collect();
    let (offloaded, rejected_new) = crate::support::plan::check_kube_ovn_plan(&flows);
    assert!(
        offloaded >= 10 && rejected_new >= 5,
        "offloaded {offloaded}, rejected as +new {rejected_new}\n{dump}"
    );

    let mut t = Translator::new(
        DeviceProfile::metascale(),
        PortMap::identity(),
        Config::default(),
    );
    let conntrack = ovs.dump_conntrack().expect("dump-conntrack");
    let mut established = 0;
    for line in conntrack.lines().filter(|l| !l.is_empty()) {
        let e = ConnEntry::parse(line).expect("conntrack line");
        let result = t.translate_conn(&e);
        if line.starts_with("tcp") && !line.contains("state=ESTABLISHED") {
            assert!(result.is_err(), "{line}");
        } else {
            assert_eq!(
                result
                    .unwrap_or_else(|err| panic!("{err}\n{line}"))
                    .rules
                    .len(),
                4
            );
            established += 1;
        }
    }
    assert!(established >= 6, "{conntrack}");
}
