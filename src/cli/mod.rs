//! Subcommand dispatch for `xsc-offload`.
use std::process::ExitCode;

mod node;
mod parse;
mod pcap;
mod plan;
mod ports;
mod process;
mod replay;

const USAGE: &str = "usage: xsc-offload <command> [options]

commands:
  node         check this node's set-up for metaScale offload (config,
               PFs, VFs, eswitch mode) or print the SR-IOV device plugin
               config
  parse        read OVS dump-flows / dump-conntrack / action text and print
               it in OVS's canonical form
  plan         say which megaflows (and connections) offload, with their
               rte_flow rules, and why the others do not
  process      offload a dump into the software eswitch and run a pcap's
               packets through it: where each one goes, and what left
               each port
  replay       offload a whole dump through the engine (software eswitch
               or a DPDK port) and print the type=offloaded dump with the
               hardware counters, then a summary
  ports        start DPDK and report each port's rte_flow capabilities
  help         this text

`xsc-offload <command> --help` describes each command.
";

/// Runs one subcommand given the arguments after the program name.
pub fn run(args: &[String]) -> ExitCode {
    let rest = args.get(1..).unwrap_or(&[]);
    match args.first().map(String::as_str) {
        None | Some("help" | "-h" | "--help") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some("node") => node::run(rest),
        Some("parse") => parse::run(rest),
        Some("plan") => plan::run(rest),
        Some("ports") => ports::run(rest),
        Some("process") => process::run(rest),
        Some("replay") => replay::run(rest),
        Some(other) => {
            eprintln!("xsc-offload: unknown command '{other}'\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// Prints a usage error for `command` and returns exit status 2.
pub(crate) fn usage_error(command: &str, what: &str, help: &str) -> ExitCode {
    eprintln!("xsc-offload {command}: {what}\n\n{help}");
    ExitCode::from(2)
}
