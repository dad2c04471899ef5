//! `xsc-offload plan` as a user runs it: the built binary on real dumps.

use xsc_test_support::fixtures::{self, arg};

const SEED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/corpus/seed-offloaded.flows"
);

fn plan(args: &[&str]) -> (String, String, bool) {
    crate::run("plan", args)
}

#[test]
fn json_says_offload_or_reject_per_line_with_the_summary_on_stderr() {
    let flows = fixtures::ovs("kube-ovn.flows");
    let ct = fixtures::ovs("kube-ovn.conntrack");
    let (out, err, ok) = plan(&["--json", "--conntrack", arg(&ct), arg(&flows)]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    // 27 megaflows (the header line is skipped) and 12 connections.
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("{\"line\":")).count(),
        27
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("{\"conntrack_line\":"))
            .count(),
        12
    );
    assert!(lines.iter().all(|l| l.ends_with('}')));
    let rejected_new = lines
        .iter()
        .filter(|l| l.contains("\"verdict\":\"reject\",\"what\":\"ct_state +new\""))
        .count();
    assert_eq!(rejected_new, 8, "{out}");
    // Each of those carries the reason's stable machine name.
    let named_new = lines
        .iter()
        .filter(|l| {
            l.contains("\"what\":\"ct_state +new\"")
                && l.ends_with("\"reason_name\":\"ct_state_new\"}")
        })
        .count();
    assert_eq!(named_new, 8, "{out}");
    assert!(lines
        .iter()
        .any(|l| l.contains("\"verdict\":\"offload\",\"rules\":[\"flow create 0 transfer")));
    assert!(err.contains("flows: 27 read, 15 offloadable"), "{err}");
    assert!(err.contains("connections: 12 read, 8 offloadable"), "{err}");
}

#[test]
fn testpmd_form_is_the_reviewed_fixture_for_the_seed_flows() {
    let (out, err, ok) = plan(&["--testpmd", SEED]);
    assert!(ok, "{err}");
    let got: Vec<&str> = out.lines().filter_map(|l| l.strip_prefix("  ")).collect();
    let fixture = fixtures::read(fixtures::translate("seed-metascale.testpmd"));
    let want: Vec<&str> = fixture.lines().filter(|l| l.starts_with("flow ")).collect();
    assert_eq!(got, want);
    assert!(
        out.contains("flows: 6 read, 6 offloadable (16 rules), 0 rejected"),
        "{out}"
    );
}

#[test]
fn bad_input_is_named_and_fails() {
    let (_, err, ok) = plan(&["--profile", "nope", SEED]);
    assert!(!ok);
    // clap's wording (was "unknown profile 'nope'" before the CLI moved to
    // clap), the same for every command that takes --profile.
    assert!(
        err.contains("invalid value 'nope' for '--profile <NAME>'"),
        "{err}"
    );
    assert!(
        err.contains("[possible values: metascale, generic]"),
        "{err}"
    );
    let bad = std::env::temp_dir().join(format!("xsc-plan-bad-{}.flows", std::process::id()));
    std::fs::write(&bad, "recirc_id(0),in_port(1),ipv4(dst=10.0.0.256), packets:0, bytes:0, used:never, actions:drop\n").unwrap();
    let (_, err, ok) = plan(&[bad.to_str().unwrap()]);
    let _ = std::fs::remove_file(&bad);
    assert!(!ok, "an unreadable line fails the run");
    assert!(err.contains(":1:"), "line:column named: {err}");
}
