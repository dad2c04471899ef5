//! `xsc-offload parse`: reads OVS datapath text and prints it back in OVS's
//! canonical form, one output line per input line — a check that a dump is
//! understood, and a normaliser (verbose → plain, reordered keys, ...).
use std::io::{BufRead, Write};
use std::process::ExitCode;

use super::args::InputArgs;
use clap::Args;
use xsc_dp::odp::netlink::{decode_actions_into, encode_actions, NetlinkError, PortTable};
use xsc_dp::odp::{
    format_actions, is_dump_header, parse_actions, Actions, ConnEntry, Megaflow, ParseError, Style,
};

/// The long help of `xsc-offload parse` (`--help`).
pub(crate) const LONG_ABOUT: &str =
    "Reads `ovs-appctl dpctl/dump-flows [-m]` lines (default), `dpctl/dump-conntrack`
lines (--conntrack) or bare datapath action lists (--actions) from FILE or
standard input and prints each in OVS's canonical form, one output line per
input line.

Blank lines and the `flow-dump from ...` header lines of a userspace dump are
copied through unchanged, so output lines match input lines one to one.
A line that fails to parse is reported on standard error as
FILE:LINE:COLUMN: message; the exit status is then 1 (also when FILE cannot
be read; 2 for usage errors).";

/// `xsc-offload parse`.
#[derive(Debug, Clone, Args)]
pub(crate) struct ParseArgs {
    /// Print flows as `dpctl/dump-flows -m` does (ufid, masks, dp, ...)
    #[arg(long, short = 'm', overrides_with = "plain")]
    verbose: bool,
    /// Print flows as `dpctl/dump-flows` does (the default)
    #[arg(long, overrides_with = "verbose")]
    plain: bool,
    /// Input is dump-conntrack lines (printed with the parts they have)
    #[arg(long, conflicts_with = "actions")]
    conntrack: bool,
    /// Input is one action list per line
    #[arg(long)]
    actions: bool,
    /// On a line that fails, print an empty line and continue
    #[arg(long, short = 'k')]
    keep_going: bool,
    /// Take each parsed flow or action list through its netlink form
    /// (text -> netlink -> model) before printing, so that any difference
    /// between the two forms shows; port names get numbers and are named
    /// back
    #[arg(long)]
    netlink_roundtrip: bool,
    #[command(flatten)]
    input: InputArgs,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Flows,
    Conntrack,
    Actions,
}

/// Runs `parse`.
pub(crate) fn run(args: &ParseArgs) -> ExitCode {
    let style = if args.verbose {
        Style::Verbose
    } else {
        Style::Plain
    };
    let mode = if args.conntrack {
        Mode::Conntrack
    } else if args.actions {
        Mode::Actions
    } else {
        Mode::Flows
    };
    let keep_going = args.keep_going;
    let netlink = args.netlink_roundtrip;
    let file = Some(args.input.input.as_str());
    let name = match file {
        None | Some("-") => "<stdin>",
        Some(f) => f,
    };
    let input: Box<dyn BufRead> = match file {
        None | Some("-") => Box::new(std::io::stdin().lock()),
        Some(f) => match std::fs::File::open(f) {
            Ok(h) => Box::new(std::io::BufReader::new(h)),
            Err(e) => return super::input_error("parse", &format!("{f}: {e}")),
        },
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failed = false;
    let mut text = String::with_capacity(1024);
    let mut flow = Megaflow::default();
    let mut ports = PortTable::new(0x1_0000);
    let mut nl_err: Option<NetlinkError> = None;
    for (i, line) in input.lines().enumerate() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                let _ = out.flush();
                return super::input_error("parse", &format!("{name}: {e}"));
            }
        };
        text.clear();
        let result: Result<(), ParseError> =
            if line.trim().is_empty() || (mode == Mode::Flows && is_dump_header(&line)) {
                text.push_str(&line);
                Ok(())
            } else {
                match mode {
                    Mode::Flows => flow.parse_into(&line).map(|()| {
                        if netlink {
                            nl_err = flow_via_netlink(&mut flow, &mut ports).err();
                        }
                        flow.format(&mut text, style)
                    }),
                    Mode::Conntrack => ConnEntry::parse(&line).map(|e| e.format(&mut text)),
                    Mode::Actions => parse_actions(line.trim_end()).map(|mut a| {
                        if netlink {
                            nl_err = actions_via_netlink(&mut a, &mut ports).err();
                        }
                        format_actions(&mut text, &a)
                    }),
                }
            };
        if let Some(e) = nl_err.take() {
            eprintln!("{name}:{}: netlink: {e}", i + 1);
            failed = true;
            if !keep_going {
                let _ = out.flush();
                return ExitCode::from(1);
            }
            text.clear();
        }
        if let Err(e) = result {
            let e = e.at_line(i + 1);
            eprintln!("{name}:{}:{}: {}", e.line, e.column, e.message());
            failed = true;
            if !keep_going {
                let _ = out.flush();
                return ExitCode::from(1);
            }
            text.clear();
        }
        if writeln!(out, "{text}").is_err() {
            return ExitCode::from(1);
        }
    }
    if out.flush().is_err() {
        return ExitCode::from(1);
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `--netlink-roundtrip`: replaces the flow's key, mask and actions by what
/// their netlink encoding decodes to.
fn flow_via_netlink(flow: &mut Megaflow, ports: &mut PortTable) -> Result<(), NetlinkError> {
    let (mut k, mut m, mut a) = (Vec::new(), Vec::new(), Vec::new());
    flow.to_netlink(ports, &mut k, &mut m, &mut a)?;
    let back = Megaflow::from_netlink(flow.ufid, &k, Some(&m), &a)?;
    (flow.key, flow.mask, flow.actions) = (back.key, back.mask, back.actions);
    ports.name_ports(Some(&mut flow.key), Some(&mut flow.actions));
    Ok(())
}

fn actions_via_netlink(acts: &mut Actions, ports: &mut PortTable) -> Result<(), NetlinkError> {
    let mut b = Vec::new();
    encode_actions(acts, ports, &mut b)?;
    decode_actions_into(&b, acts)?;
    ports.name_ports(None, Some(acts));
    Ok(())
}
