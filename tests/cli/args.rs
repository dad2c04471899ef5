//! What every subcommand shares: `--version`, `--help`, exit statuses,
//! `--profile`, `--port-map` / `--port-map-file` and `--eal` (one
//! definition each, in `src/cli/args.rs`).

use xsc_test_support::fixtures::{self, arg, TempDir};

use crate::{text, xsc};

#[test]
fn version_and_help_are_conventional() {
    let out = xsc(&["--version"]);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout),
        format!("xsc-offload {}\n", env!("CARGO_PKG_VERSION"))
    );
    let out = xsc(&["plan", "--version"]);
    assert!(out.status.success(), "subcommands print it too");

    let out = xsc(&["plan", "--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    assert!(
        help.contains("Usage: xsc-offload plan [OPTIONS] [FILE]"),
        "{help}"
    );
    for flag in [
        "--profile <NAME>",
        "--port-map <MAP>",
        "--port-map-file <FILE>",
        "--conntrack <FILE>",
        "--json",
        "-h, --help",
        "-V, --version",
    ] {
        assert!(help.contains(flag), "{flag} in\n{help}");
    }
    for command in ["plan", "replay", "process", "parse", "node", "ports"] {
        let out = xsc(&[command, "--help"]);
        assert!(out.status.success(), "{command} --help");
        assert!(
            text(&out.stdout).contains(&format!("Usage: xsc-offload {command}")),
            "{command}"
        );
    }
    // No command: the list of commands, as a usage error.
    let out = xsc(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("Commands:"));
}

#[test]
fn a_bad_profile_is_the_same_usage_error_everywhere() {
    let flows = fixtures::ovs("kube-ovn.flows");
    for args in [
        vec!["plan", "--profile", "nope", arg(&flows)],
        vec!["replay", "--profile", "nope", arg(&flows)],
        vec![
            "process",
            "--profile",
            "nope",
            "--flows",
            "x",
            "--in-port",
            "1",
            "--pcap",
            "y",
        ],
    ] {
        let out = xsc(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = text(&out.stderr);
        assert!(
            err.contains("invalid value 'nope' for '--profile <NAME>'"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn the_port_map_is_inline_or_a_file_never_a_guess() {
    let flows = fixtures::ovs("kube-ovn.flows");
    // A file that does not exist is an input error naming it, not an
    // inline map (its name has a '=').
    let out = xsc(&["plan", "--port-map-file", "/nonexistent/15=3", arg(&flows)]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("xsc-offload plan: --port-map-file /nonexistent/15=3: "),
        "{err}"
    );
    // A malformed inline map is a usage error.
    let out = xsc(&["plan", "--port-map", "15=x", arg(&flows)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("invalid value '15=x' for '--port-map <MAP>'"),
        "{}",
        text(&out.stderr)
    );
    // Both at once: a usage error.
    let out = xsc(&[
        "plan",
        "--port-map",
        "1=1",
        "--port-map-file",
        "x",
        arg(&flows),
    ]);
    assert_eq!(out.status.code(), Some(2));

    // The file and the inline form give the same plan, and it is not the
    // identity's (the map was applied). --json keeps the timing summary off
    // standard output.
    let dir = TempDir::new("cli-port-map");
    let file = dir.join("ports");
    std::fs::write(&file, "# OVS port -> DPDK port\n1=5\n2=6,3=7\n").unwrap();
    let inline = xsc(&["plan", "--json", "--port-map", "1=5,2=6,3=7", arg(&flows)]);
    let from_file = xsc(&["plan", "--json", "--port-map-file", arg(&file), arg(&flows)]);
    let identity = xsc(&["plan", "--json", arg(&flows)]);
    assert!(inline.status.success(), "{}", text(&inline.stderr));
    assert!(from_file.status.success(), "{}", text(&from_file.stderr));
    assert_eq!(text(&inline.stdout), text(&from_file.stdout));
    assert_ne!(text(&inline.stdout), text(&identity.stdout));
    assert!(
        text(&inline.stdout).contains("represented_port ethdev_port_id 5"),
        "{}",
        text(&inline.stdout)
    );
}

#[test]
fn eal_arguments_are_split_as_a_shell_would() {
    // Quotes are the shell's: the EAL sees `--log-level=*:error`, which a
    // split on whitespace would have handed over with its quotes.
    let out = xsc(&[
        "ports",
        "--eal",
        "-l 0 --no-huge -m 128 --no-shconf --no-pci --no-telemetry --vdev=net_null0 --log-level='*:error'",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("port 0: net_null0"),
        "{}",
        text(&out.stdout)
    );
    // Unbalanced quotes are a usage error, not a half-split argv.
    let out = xsc(&["ports", "--eal", "--vdev 'net_null0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("invalid value"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn plan_json_names_each_rejection_reason() {
    let flows = fixtures::ovs("kube-ovn.flows");
    let out = xsc(&["plan", "--json", arg(&flows)]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    let rejects: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("\"verdict\":\"reject\""))
        .collect();
    assert!(!rejects.is_empty());
    for l in rejects {
        let name = l
            .split("\"reason_name\":\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or_else(|| panic!("no reason_name in {l}"));
        assert!(!name.is_empty(), "{l}");
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{name}"
        );
    }
}
