//! `xsc-offload plan`: what the offload would do with each megaflow of a
//! dump (and each connection of a conntrack dump): the hardware rules, or
//! the reason it stays in software. Nothing touches a device.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::Instant;

use xsc_dp::odp::{is_dump_header, ConnEntry, Megaflow};
use xsc_dp::profile::DeviceProfile;
use xsc_dp::rte::testpmd::render;
use xsc_dp::rule::HwRule;
use xsc_dp::translate::{Config, PortMap, Rejected, Translator};

const HELP: &str =
    "usage: xsc-offload plan [--profile metascale|generic] [--port-map FILE|N=PORT,...]
                        [--conntrack FILE] [--testpmd] [--json] [--port ID] [FILE|-]

Reads `ovs-appctl dpctl/dump-flows` output (plain or -m) from FILE or standard
input and says, for each megaflow, whether it can be offloaded on the profile:
`offload` with its hardware rules, or `reject` with the first key, field or
action that cannot be and why. Shared rules a flow needs first (a recirculation
group's miss rule, a post-conntrack dispatch) are listed with the flow that
first needs them. A summary follows: flows offloadable, rejected by reason.

  --profile NAME   metascale (default: our model of the NIC) or generic
  --port-map MAP   OVS datapath port -> DPDK port: a file or inline
                   `N=PORT,NAME=PORT,N=virtual:V` (default: OVS port N is DPDK
                   port N; ports given by name need the map)
  --conntrack FILE also plan the established connections of a
                   `dpctl/dump-conntrack` dump (CT-table rules)
  --testpmd        print rules as complete dpdk-testpmd commands to paste
  --port ID        the DPDK port in testpmd commands (default 0)
  --json           one JSON object per input flow instead:
                   {\"line\":N,\"verdict\":\"offload\",\"rules\":[\"flow create ...\"]} or
                   {\"line\":N,\"verdict\":\"reject\",\"what\":...,\"reason\":...};
                   the summary goes to standard error
";

struct Options {
    profile: DeviceProfile,
    ports: PortMap,
    conntrack: Option<String>,
    testpmd: bool,
    json: bool,
    port: u16,
    input: Option<String>,
}

fn parse_args(args: &[String]) -> Result<Option<Options>, String> {
    let mut o = Options {
        profile: DeviceProfile::metascale(),
        ports: PortMap::identity(),
        conntrack: None,
        testpmd: false,
        json: false,
        port: 0,
        input: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match a.as_str() {
            "-h" | "--help" => return Ok(None),
            "--profile" => {
                let v = value("--profile")?;
                o.profile = DeviceProfile::by_name(&v)
                    .ok_or_else(|| format!("unknown profile '{v}' (metascale, generic)"))?;
            }
            "--port-map" => o.ports = port_map(&value("--port-map")?)?,
            "--conntrack" => o.conntrack = Some(value("--conntrack")?),
            "--testpmd" => o.testpmd = true,
            "--json" => o.json = true,
            "--port" => {
                let v = value("--port")?;
                o.port = v
                    .parse()
                    .map_err(|_| format!("--port: '{v}' is not a DPDK port id"))?;
            }
            "-" if o.input.is_none() => o.input = Some("-".into()),
            s if s.starts_with('-') => return Err(format!("unknown option '{s}'")),
            s if o.input.is_none() => o.input = Some(s.into()),
            s => return Err(format!("more than one input file ('{s}')")),
        }
    }
    Ok(Some(o))
}

/// A port map from a file, or inline when no such file exists.
pub(crate) fn port_map(arg: &str) -> Result<PortMap, String> {
    let text = match std::fs::read_to_string(arg) {
        Ok(t) => t,
        Err(_) if arg.contains('=') => arg.to_owned(),
        Err(e) => return Err(format!("--port-map {arg}: {e}")),
    };
    PortMap::parse(&text, true).map_err(|e| e.to_string())
}

/// Reads FILE or standard input.
pub(crate) fn read_input(input: Option<&str>) -> Result<(String, String), String> {
    match input {
        None | Some("-") => {
            let mut text = String::new();
            std::io::stdin().lock().read_to_string_lossy(&mut text)?;
            Ok(("<stdin>".into(), text))
        }
        Some(f) => std::fs::read_to_string(f)
            .map(|t| (f.to_owned(), t))
            .map_err(|e| format!("{f}: {e}")),
    }
}

trait ReadAll {
    fn read_to_string_lossy(&mut self, out: &mut String) -> Result<(), String>;
}

impl<R: BufRead> ReadAll for R {
    fn read_to_string_lossy(&mut self, out: &mut String) -> Result<(), String> {
        let mut bytes = Vec::new();
        self.read_to_end(&mut bytes)
            .map_err(|e| format!("<stdin>: {e}"))?;
        out.push_str(&String::from_utf8_lossy(&bytes));
        Ok(())
    }
}

/// Escapes a string for a JSON string literal.
pub(crate) fn json_str(s: &str) -> String {
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

/// Runs `plan` with the arguments after the subcommand name.
pub fn run(args: &[String]) -> ExitCode {
    let o = match parse_args(args) {
        Ok(Some(o)) => o,
        Ok(None) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(e) => return super::usage_error("plan", &e, HELP),
    };
    match plan(&o) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("xsc-offload plan: {e}");
            ExitCode::FAILURE
        }
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
                    "{{\"{key}\":{n},\"verdict\":\"reject\",\"what\":{},\"reason\":{}}}",
                    json_str(&e.what()),
                    json_str(&e.reason())
                )
            } else {
                writeln!(out, "{label} {n}: reject: {e}")
            }
        }
    }
}

/// Plans everything; returns whether every line was readable.
fn plan(o: &Options) -> Result<bool, String> {
    let (name, text) = read_input(o.input.as_deref())?;
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
        let (ct_name, ct_text) = read_input(Some(ct))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_str("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\u0001\"");
    }
}
