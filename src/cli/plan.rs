//! `xsc-offload plan`: what the offload would do with each megaflow of a
//! dump (and each connection of a conntrack dump): the hardware rules, or
//! the reason it stays in software. Nothing touches a device.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use xsc_dp::odp::{is_dump_header, ConnEntry, Megaflow};
use xsc_dp::profile::DeviceProfile;
use xsc_dp::rule::testpmd::render;
use xsc_dp::rule::HwRule;
use xsc_dp::translate::{Config, PortMap, Rejected, Translator};

use clap::Args;

use super::args::{read_input, InputArgs, PortMapArgs, ProfileArgs};
use super::json_str;

/// The long help of `xsc-offload plan` (`--help`).
pub(crate) const LONG_ABOUT: &str =
    "Reads `ovs-appctl dpctl/dump-flows` output (plain or -m) from FILE or standard
input and says, for each megaflow, whether it can be offloaded on the profile:
`offload` with its hardware rules, or `reject` with the first key, field or
action that cannot be and why. Shared rules a flow needs first (a recirculation
group's miss rule, a post-conntrack dispatch) are listed with the flow that
first needs them. A summary follows: flows offloadable, rejected by reason.

Exit status: 0 when every line was read, 1 when one was not (FILE:LINE:COLUMN
on standard error) or a file cannot be read, 2 for usage errors.";

/// `xsc-offload plan`: reads `ovs-appctl dpctl/dump-flows` output (plain or
/// -m) and says, for each megaflow, whether it can be offloaded on the
/// profile.
#[derive(Debug, Clone, Args)]
#[command(after_help = "With --json, one JSON object per input line:
  {\"line\":N,\"verdict\":\"offload\",\"rules\":[\"flow create ...\"]} or
  {\"line\":N,\"verdict\":\"reject\",\"what\":...,\"reason\":...,\"reason_name\":...}
(`conntrack_line` for connections); the summary goes to standard error.")]
pub(crate) struct PlanArgs {
    #[command(flatten)]
    profile: ProfileArgs,
    #[command(flatten)]
    ports: PortMapArgs,
    /// Also plan the established connections of a `dpctl/dump-conntrack`
    /// dump (CT-table rules)
    #[arg(long, value_name = "FILE")]
    conntrack: Option<String>,
    /// Print rules as complete dpdk-testpmd commands to paste
    #[arg(long)]
    testpmd: bool,
    /// The DPDK port in testpmd commands
    #[arg(long, value_name = "ID", default_value_t = 0)]
    port: u16,
    /// One JSON object per input line; the summary goes to standard error
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    input: InputArgs,
}

struct Options {
    profile: DeviceProfile,
    ports: PortMap,
    conntrack: Option<String>,
    testpmd: bool,
    json: bool,
    port: u16,
    input: InputArgs,
}

/// Tallies of a plan.
#[derive(Default)]
struct Summary {
    flows: usize,
    offloaded: usize,
    rules: usize,
    rejected: BTreeMap<String, usize>,
    parse_errors: usize,
}

impl Summary {
    fn reject(&mut self, e: &Rejected) {
        *self.rejected.entry(e.to_string()).or_default() += 1;
    }

    /// Connections are tallied by reason alone: `what` names their zone.
    fn reject_reason(&mut self, e: &Rejected) {
        *self.rejected.entry(e.reason()).or_default() += 1;
    }

    fn print(
        &self,
        out: &mut dyn Write,
        what: &str,
        elapsed: std::time::Duration,
    ) -> std::io::Result<()> {
        let rejected: usize = self.rejected.values().sum();
        writeln!(
            out,
            "{what}: {} read, {} offloadable ({} rules), {} rejected, {} unreadable; {:.3} s, {:.0} {what}/s",
            self.flows,
            self.offloaded,
            self.rules,
            rejected,
            self.parse_errors,
            elapsed.as_secs_f64(),
            self.flows as f64 / elapsed.as_secs_f64().max(1e-9),
        )?;
        let mut by_count: Vec<_> = self.rejected.iter().collect();
        by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (reason, n) in by_count {
            writeln!(out, "  {n:>6}  {reason}")?;
        }
        Ok(())
    }
}

/// Runs `plan`.
pub(crate) fn run(args: &PlanArgs) -> ExitCode {
    let ports = match args.ports.port_map() {
        Ok(p) => p,
        Err(e) => return super::input_error("plan", &e),
    };
    let o = Options {
        profile: args.profile.profile.device_profile(),
        ports,
        conntrack: args.conntrack.clone(),
        testpmd: args.testpmd,
        json: args.json,
        port: args.port,
        input: args.input.clone(),
    };
    match plan(&o) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => super::input_error("plan", &e),
    }
}

fn rules_text(o: &Options, rules: &[HwRule], out: &mut Vec<String>) {
    for rule in rules {
        let r = render(rule, o.port, "create");
        if o.testpmd || o.json {
            out.extend(r.setup);
            out.push(r.flow);
        } else {
            // Without --testpmd: the rule alone, attributes first.
            let body = r.flow.splitn(4, ' ').nth(3).unwrap_or("").to_owned();
            out.push(body);
        }
    }
}

/// Prints one input line's outcome (text or JSON) and counts it. `label` is
/// the JSON key and the text prefix; connections are tallied by reason
/// alone (`by_reason`), since their `what` names a zone.
fn report(
    out: &mut dyn Write,
    o: &Options,
    summary: &mut Summary,
    (key, label): (&str, &str),
    n: usize,
    outcome: Result<Vec<HwRule>, Rejected>,
    by_reason: bool,
) -> std::io::Result<()> {
    match outcome {
        Ok(rules) => {
            summary.offloaded += 1;
            summary.rules += rules.len();
            let mut lines = Vec::new();
            rules_text(o, &rules, &mut lines);
            if o.json {
                let list: Vec<String> = lines.iter().map(|l| json_str(l)).collect();
                writeln!(
                    out,
                    "{{\"{key}\":{n},\"verdict\":\"offload\",\"rules\":[{}]}}",
                    list.join(",")
                )
            } else {
                writeln!(out, "{label} {n}: offload")?;
                lines.iter().try_for_each(|l| writeln!(out, "  {l}"))
            }
        }
        Err(e) => {
            if by_reason {
                summary.reject_reason(&e);
            } else {
                summary.reject(&e);
            }
            if o.json {
                writeln!(
                    out,
                    "{{\"{key}\":{n},\"verdict\":\"reject\",\"what\":{},\"reason\":{},\"reason_name\":{}}}",
                    json_str(&e.what()),
                    json_str(&e.reason()),
                    json_str(e.name())
                )
            } else {
                writeln!(out, "{label} {n}: reject: {e}")
            }
        }
    }
}

/// Plans everything; returns whether every line was readable.
fn plan(o: &Options) -> Result<bool, String> {
    let (name, text) = o.input.read()?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut t = Translator::new(
        o.profile.clone(),
        o.ports.clone(),
        Config {
            software_port: o.port,
            ..Config::default()
        },
    );
    let mut summary = Summary::default();
    let started = Instant::now();
    let mut flow = Megaflow::default();
    let io = |e: std::io::Error| e.to_string();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() || is_dump_header(line) {
            continue;
        }
        summary.flows += 1;
        if let Err(e) = flow.parse_into(line) {
            summary.parse_errors += 1;
            let e = e.at_line(n);
            eprintln!("{name}:{}:{}: {}", e.line, e.column, e.message());
            continue;
        }
        let outcome = t.translate(&flow).map(|tr| {
            let mut rules: Vec<HwRule> = tr
                .new_resources
                .iter()
                .flat_map(|r| t.fixed_rules(r))
                .collect();
            rules.push(tr.rule);
            rules
        });
        report(
            &mut out,
            o,
            &mut summary,
            ("line", "line"),
            n,
            outcome,
            false,
        )
        .map_err(io)?;
    }
    let flows_elapsed = started.elapsed();
    let mut ct_summary = Summary::default();
    if let Some(ct) = &o.conntrack {
        let (ct_name, ct_text) = read_input(ct)?;
        for (i, line) in ct_text.lines().enumerate() {
            let n = i + 1;
            if line.trim().is_empty() {
                continue;
            }
            ct_summary.flows += 1;
            let entry = match ConnEntry::parse(line) {
                Ok(e) => e,
                Err(e) => {
                    ct_summary.parse_errors += 1;
                    let e = e.at_line(n);
                    eprintln!("{ct_name}:{}:{}: {}", e.line, e.column, e.message());
                    continue;
                }
            };
            let outcome = t.translate_conn(&entry).map(|c| {
                let mut rules: Vec<HwRule> = c
                    .new_resources
                    .iter()
                    .flat_map(|r| t.fixed_rules(r))
                    .collect();
                rules.extend(c.rules);
                rules
            });
            report(
                &mut out,
                o,
                &mut ct_summary,
                ("conntrack_line", "conntrack line"),
                n,
                outcome,
                true,
            )
            .map_err(io)?;
        }
    }
    out.flush().map_err(io)?;
    drop(out);
    let mut sink: Box<dyn Write> = if o.json {
        Box::new(std::io::stderr())
    } else {
        Box::new(std::io::stdout())
    };
    summary
        .print(&mut *sink, "flows", flows_elapsed)
        .map_err(io)?;
    if o.conntrack.is_some() {
        ct_summary
            .print(&mut *sink, "connections", started.elapsed())
            .map_err(io)?;
    }
    Ok(summary.parse_errors == 0 && ct_summary.parse_errors == 0)
}
