//! Every rendered rule must get past the real dpdk-testpmd command parser.

use crate::support::rules::kitchen_sink;
use crate::support::testpmd;
use xsc_dp::rule::testpmd::render;

/// Whether dpdk-testpmd can be run; says so loudly when not, and fails
/// under CI, which installs it.
fn testpmd_here() -> bool {
    if testpmd::available() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must have dpdk-testpmd (scripts/setup installs dpdk-dev)"
    );
    loud("SKIPPED: dpdk-testpmd is not installed (apt-get install dpdk-dev)");
    false
}

fn loud(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "\n*** {msg} ***\n");
}

#[test]
fn testpmd_parses_every_rendered_rule() {
    if !testpmd_here() {
        return;
    }
    let mut commands = Vec::new();
    for rule in kitchen_sink() {
        for verb in ["validate", "create"] {
            let r = render(&rule, 0, verb);
            assert!(
                r.fits_command_line(),
                "longer than testpmd's line buffer:\n{r}"
            );
            commands.extend(r.setup);
            commands.push(r.flow);
        }
    }
    // A command testpmd must refuse, so the check itself is proven to bite.
    commands.push("flow validate 0 ingress pattern eth bogus is 1 / end actions drop / end".into());
    let verdicts = testpmd::run(&commands);
    let (canary, rendered) = verdicts.split_last().expect("verdicts");
    assert!(
        canary.bad_arguments(),
        "testpmd accepted a bogus command: {canary:?}"
    );
    // testpmd truncates its echo: name the full command we sent.
    let bad: Vec<_> = rendered
        .iter()
        .zip(&commands)
        .filter(|(v, _)| v.bad_arguments())
        .map(|(_, c)| c.as_str())
        .collect();
    assert!(
        bad.is_empty(),
        "testpmd's parser rejected:\n{}",
        bad.join("\n")
    );
    // Each flow command reached the device (net_null: no rte_flow at all).
    let flows: Vec<_> = rendered
        .iter()
        .filter(|v| v.command.starts_with("flow "))
        .collect();
    assert_eq!(flows.len(), 2 * kitchen_sink().len());
    for v in flows {
        assert!(
            v.answer.contains("Function not implemented") || v.answer.contains("not supported"),
            "{v:?}"
        );
    }
}

/// Every hardware rule the translation makes for every corpus flow and
/// connection, on both built-in profiles, fixed rules included.
fn corpus_rules() -> Vec<xsc_dp::rule::HwRule> {
    use xsc_dp::odp::{parse_dump, ConnEntry};
    use xsc_dp::profile::DeviceProfile;
    use xsc_dp::translate::{Config, PortMap, PortTarget, Translator};
    let dumps = [
        include_str!("../../../../shared/corpus/seed-offloaded.flows"),
        include_str!("../../../../shared/corpus/ovs-dummy-ct.flows"),
        include_str!("../../../../shared/corpus/ovs-dummy-ct-verbose.flows"),
        include_str!("../data/ovs/kube-ovn.flows"),
        include_str!("../data/ovs/kube-ovn-verbose.flows"),
    ];
    let conntrack = [
        include_str!("../../../../shared/corpus/ovs-dummy.conntrack"),
        include_str!("../data/ovs/kube-ovn.conntrack"),
    ];
    let mut rules = Vec::new();
    for profile in [DeviceProfile::metascale(), DeviceProfile::generic()] {
        // The verbose dumps name ports; the dummy datapath's bridge port is 100.
        let mut ports = PortMap::identity();
        for (name, id) in [("p1", 1), ("p2", 2), ("p3", 3), ("br0", 100)] {
            ports.insert_name(name, PortTarget::Ethdev(id));
        }
        let mut t = Translator::new(profile, ports, Config::default());
        for dump in dumps {
            for (n, f) in parse_dump(dump) {
                let f = f.unwrap_or_else(|e| panic!("line {n}: {e}"));
                if let Ok(tr) = t.translate(&f) {
                    for r in &tr.new_resources {
                        rules.extend(t.fixed_rules(r));
                    }
                    rules.push(tr.rule);
                }
            }
        }
        for ct in conntrack {
            for line in ct.lines() {
                if let Ok(c) = t.translate_conn(&ConnEntry::parse(line).expect("conntrack line")) {
                    rules.extend(c.rules);
                }
            }
        }
    }
    rules
}

#[test]
fn testpmd_parses_every_rule_of_every_corpus_flow() {
    if !testpmd_here() {
        return;
    }
    let rules = corpus_rules();
    assert!(rules.len() > 100, "{} rules", rules.len());
    let mut commands = Vec::new();
    for rule in &rules {
        let r = render(rule, 0, "validate");
        assert!(
            r.fits_command_line(),
            "longer than testpmd's line buffer:\n{r}"
        );
        commands.extend(r.setup);
        commands.push(r.flow);
    }
    let verdicts = testpmd::run(&commands);
    let bad: Vec<_> = verdicts
        .iter()
        .zip(&commands)
        .filter(|(v, _)| v.bad_arguments())
        .map(|(_, c)| c.as_str())
        .collect();
    assert!(
        bad.is_empty(),
        "testpmd's parser rejected {} of {}:\n{}",
        bad.len(),
        commands.len(),
        bad.join("\n")
    );
}

#[test]
fn rte_flow_conv_copies_every_lowered_corpus_rule() {
    let mut rte = xsc_dp::rte::RteRule::new();
    let rules = corpus_rules();
    for rule in &rules {
        xsc_dp::rte::lower(rule, &mut rte).expect("lower");
        let copy = xsc_dp::dpdk::deep_copy(&rte).unwrap_or_else(|e| panic!("{e}\n{rule:?}"));
        assert_eq!(copy.pattern().len(), rule.pattern.len() + 1);
        assert_eq!(copy.actions().len(), rule.actions.len() + 1);
        assert_eq!(copy.attr().group, rule.attr.group);
    }
}
