//! The `xsc-offload` command line: one clap tree, subcommands sharing the
//! argument groups of [`args`].
//!
//! Exit status: 0 success; 1 an input error (a file that cannot be read, a
//! line that does not parse, a device that fails) with what and where on
//! standard error; 2 a usage error (clap's: unknown or missing argument, a
//! value that does not read).
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

mod args;
mod node;
mod parse;
mod pcap;
mod plan;
mod ports;
mod process;
mod replay;

/// Offload Open vSwitch datapath megaflows (conntrack and recirculation
/// included) to metaScale SmartNICs through DPDK rte_flow: plan, replay and
/// check what the NIC would do.
#[derive(Debug, Parser)]
#[command(name = "xsc-offload", version, propagate_version = true)]
#[command(subcommand_required = true, arg_required_else_help = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Say which megaflows (and connections) offload, with their rte_flow
    /// rules, and why the others do not
    #[command(long_about = plan::LONG_ABOUT)]
    Plan(plan::PlanArgs),
    /// Offload a whole dump through the engine (software eswitch or a DPDK
    /// port) and print the type=offloaded dump with the hardware counters,
    /// then a summary
    #[command(long_about = replay::LONG_ABOUT)]
    Replay(replay::ReplayArgs),
    /// Offload a dump into the software eswitch and run a pcap's packets
    /// through it: where each one goes, and what left each port
    #[command(long_about = process::LONG_ABOUT)]
    Process(process::ProcessArgs),
    /// Read OVS dump-flows / dump-conntrack / action text and print it in
    /// OVS's canonical form
    #[command(long_about = parse::LONG_ABOUT)]
    Parse(parse::ParseArgs),
    /// Check this node's set-up for metaScale offload, or print the SR-IOV
    /// device plugin config
    #[command(subcommand)]
    Node(node::NodeCommand),
    /// Start DPDK and report each port's rte_flow capabilities
    #[command(long_about = ports::LONG_ABOUT)]
    Ports(ports::PortsArgs),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Plan(a) => plan::run(&a),
        Command::Replay(a) => replay::run(&a),
        Command::Process(a) => process::run(&a),
        Command::Parse(a) => parse::run(&a),
        Command::Node(c) => node::run(&c),
        Command::Ports(a) => ports::run(&a),
    }
}

/// Reports an input error of `command` (exit status 1).
pub(crate) fn input_error(command: &str, what: &str) -> ExitCode {
    eprintln!("xsc-offload {command}: {what}");
    ExitCode::FAILURE
}

/// Reports a usage error clap cannot see (a combination of values) the way
/// clap reports its own, with the subcommand's usage: exit status 2.
pub(crate) fn usage_error(command: &str, what: &str) -> ExitCode {
    let mut cmd = Cli::command();
    let e = match cmd.find_subcommand_mut(command) {
        Some(sub) => sub
            .clone()
            .bin_name(format!("xsc-offload {command}"))
            .error(clap::error::ErrorKind::ArgumentConflict, what),
        None => cmd.error(clap::error::ErrorKind::ArgumentConflict, what),
    };
    let _ = e.print();
    ExitCode::from(2)
}

/// Escapes a string for a JSON string literal.
pub(crate) fn json_str(s: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_str("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\u0001\"");
    }
}
