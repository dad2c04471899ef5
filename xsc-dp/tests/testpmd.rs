//! Every rendered rule must get past the real dpdk-testpmd command parser.

mod support;

use support::rules::kitchen_sink;
use support::testpmd;
use xsc_dp::rte::testpmd::render;

fn loud(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "\n*** {msg} ***\n");
}

#[test]
fn testpmd_parses_every_rendered_rule() {
    if !testpmd::available() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have dpdk-testpmd (scripts/setup installs dpdk-dev)"
        );
        loud("SKIPPED: dpdk-testpmd is not installed (apt-get install dpdk-dev)");
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
