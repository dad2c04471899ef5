//! The offload plan of the Kube-OVN pipeline's megaflows, checked flow by
//! flow: established-state flows offload, +new/+inv ones are rejected with
//! the reason, ARP floods need mirroring.

use xsc_dp::odp::Megaflow;
use xsc_dp::profile::DeviceProfile;
use xsc_dp::translate::{Config, PortMap, Translator};

/// The `ct_state(...)` text of a flow, if it matches one.
fn ct_state(text: &str) -> &str {
    text.find("ct_state(")
        .map_or("", |at| text[at..].split(')').next().unwrap_or(""))
}

/// Translates `flows` on the metascale profile (identity port map) and
/// asserts each outcome; returns (offloaded, rejected as +new).
pub fn check_kube_ovn_plan(flows: &[Megaflow]) -> (usize, usize) {
    let mut t = Translator::new(
        DeviceProfile::metascale(),
        PortMap::identity(),
        Config::default(),
    );
    let (mut offloaded, mut rejected_new) = (0, 0);
    for f in flows {
        let text = f.to_string();
        let state = ct_state(&text);
        let result = t.translate(f);
        if state.contains("+new") {
            let e = result.expect_err(&text);
            assert_eq!(e.what(), "ct_state +new", "{text}");
            assert_eq!(
                e.reason(),
                "new connections are committed in software; the NIC only sees established ones"
            );
            rejected_new += 1;
        } else if state.contains("+inv") {
            assert_eq!(result.expect_err(&text).what(), "ct_state +inv");
        } else if text.contains("eth_type(0x0806)") {
            // ARP: flooded to several ports (no mirroring on this profile)
            // or matched with an ARP item the profile lacks.
            let e = result.expect_err(&text);
            assert!(
                e.reason().contains("mirroring") || e.what() == "rte_flow item arp_eth_ipv4",
                "{e}"
            );
        } else {
            // Established or untracked (-new, +est, or before any ct()).
            result.unwrap_or_else(|e| panic!("this flow must offload: {e}\n{text}"));
            offloaded += 1;
        }
    }
    (offloaded, rejected_new)
}
