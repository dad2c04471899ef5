//! `xsc-offload process`: offload a dump (megaflows and, optionally,
//! conntrack) into the software eswitch and run the packets of a pcap file
//! through it, as the NIC would with those rules installed. Says per packet
//! where it went and writes what left each port to a pcap file.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use xsc_dp::device::FlowDevice;
use xsc_dp::eswitch::{DropReason, Eswitch, EswitchRule, Fate};
use xsc_dp::odp::{is_dump_header, Action as OdpAction, ConnEntry, Megaflow, OdpPort};
use xsc_dp::profile::DeviceProfile;
use xsc_dp::rte::{lower, RteRule};
use xsc_dp::rule::{Action, HwRule, Item};
use xsc_dp::translate::{Config, PortMap, PortTarget, Translator};

use super::args::{read_input, PortMapArgs, ProfileArgs};
use super::json_str;
use super::pcap::{self, Record};
use clap::Args;

/// The long help of `xsc-offload process` (`--help`).
pub(crate) const LONG_ABOUT: &str =
    "Offloads the megaflows of an `ovs-appctl dpctl/dump-flows` dump (and the
established connections of a `dpctl/dump-conntrack` dump) into a software model
of the NIC's embedded switch, then runs each packet of IN.pcap through it as if
it arrived on OVS datapath port N. Megaflows that cannot be offloaded are left
out, as on the NIC: packets that would need them go to software.

One line per packet, in pcap order:
  output P LEN[; output P LEN...]   sent out of OVS port P (several: mirrors)
  drop                              dropped by a rule
  software mark=M                   handed to OVS (M: the restore mark, hex;
                                    `none` for a table miss)

Ports are OVS datapath port numbers. A summary goes to standard error.";

/// `xsc-offload process`.
#[derive(Debug, Clone, Args)]
#[command(after_help = "With --json, one JSON object per packet (`seq` from 0):
  {\"seq\":N,\"verdict\":\"output\",\"outputs\":[{\"port\":P,\"hex\":\"...\"}]},
  {\"seq\":N,\"verdict\":\"drop\"} or
  {\"seq\":N,\"verdict\":\"software\",\"mark\":M} (M null on a table miss;
  `outputs` too if mirrors left before)")]
pub(crate) struct ProcessArgs {
    /// The megaflows (`-` for standard input)
    #[arg(long, value_name = "FILE")]
    flows: String,
    /// The connections (CT-table rules for the ESTABLISHED ones)
    #[arg(long, value_name = "FILE")]
    conntrack: Option<String>,
    #[command(flatten)]
    ports: PortMapArgs,
    #[command(flatten)]
    profile: ProfileArgs,
    /// The OVS datapath port the packets arrive on
    #[arg(long, value_name = "N")]
    in_port: u32,
    /// The packets (classic pcap, either byte order, us or ns)
    #[arg(long, value_name = "IN.pcap")]
    pcap: String,
    /// Write the frames that left OVS port P to DIR/P.pcap (only ports that
    /// sent something; timestamps of the input packets)
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// One JSON object per packet instead of a line
    #[arg(long)]
    json: bool,
}

struct Options {
    flows: String,
    conntrack: Option<String>,
    ports: PortMap,
    profile: DeviceProfile,
    in_port: u32,
    pcap: String,
    out_dir: Option<PathBuf>,
    json: bool,
}

/// Runs `process`.
pub(crate) fn run(args: &ProcessArgs) -> ExitCode {
    let ports = match args.ports.port_map() {
        Ok(p) => p,
        Err(e) => return super::input_error("process", &e),
    };
    let o = Options {
        flows: args.flows.clone(),
        conntrack: args.conntrack.clone(),
        ports,
        profile: args.profile.profile.device_profile(),
        in_port: args.in_port,
        pcap: args.pcap.clone(),
        out_dir: args.out_dir.clone(),
        json: args.json,
    };
    match process(&o) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => super::input_error("process", &e),
    }
}

/// The ethdev ports a rule names (matched, sent to, or mirrored to).
fn rule_ports(rule: &HwRule, out: &mut Vec<u16>) {
    for item in &rule.pattern {
        if let Item::RepresentedPort { port_id } | Item::PortRepresentor { port_id } = item {
            out.push(*port_id);
        }
    }
    fn actions(list: &[Action], out: &mut Vec<u16>) {
        for a in list {
            match a {
                Action::RepresentedPort { port_id } | Action::PortRepresentor { port_id } => {
                    out.push(*port_id)
                }
                Action::Sample { actions: inner, .. } => actions(inner, out),
                _ => {}
            }
        }
    }
    actions(&rule.actions, out);
}

/// DPDK port → OVS datapath port, for reporting outputs: the ports the dump
/// names first, then the lowest OVS port number the map sends there.
struct Reverse<'a> {
    map: &'a PortMap,
    known: BTreeMap<u16, u32>,
}

impl Reverse<'_> {
    fn note(&mut self, ovs: &OdpPort) {
        if let (Some(n), Some(PortTarget::Ethdev(d))) = (ovs.number(), self.map.lookup(ovs)) {
            self.known.entry(d).or_insert(n);
        }
    }

    fn ovs_port(&mut self, dpdk: u16) -> Option<u32> {
        if let Some(&n) = self.known.get(&dpdk) {
            return Some(n);
        }
        let n = (0..=u32::from(u16::MAX))
            .find(|&n| self.map.lookup(&OdpPort::Number(n)) == Some(PortTarget::Ethdev(dpdk)))?;
        self.known.insert(dpdk, n);
        Some(n)
    }
}

/// Offloads, processes; returns whether every input line was readable.
fn process(o: &Options) -> Result<bool, String> {
    let in_dpdk = match o.ports.lookup(&OdpPort::Number(o.in_port)) {
        Some(PortTarget::Ethdev(d)) => d,
        Some(PortTarget::Virtual(_)) => {
            return Err(format!(
                "--in-port {}: a virtual port; packets enter through ethdev ports",
                o.in_port
            ))
        }
        None => return Err(format!("--in-port {}: not in the port map", o.in_port)),
    };
    let config = Config::default();
    let mut t = Translator::new(o.profile.clone(), o.ports.clone(), config.clone());
    let mut reverse = Reverse {
        map: &o.ports,
        known: BTreeMap::new(),
    };
    reverse.note(&OdpPort::Number(o.in_port));

    // Translate everything first: the eswitch needs its ports up front.
    let mut rules: Vec<HwRule> = Vec::new();
    let mut readable = true;
    let (mut flows, mut offloaded, mut conns, mut conns_offloaded) = (0, 0, 0, 0);
    let (name, text) = read_input(&o.flows)?;
    let mut flow = Megaflow::default();
    for (i, line) in text.lines().enumerate() {
        if is_dump_header(line) {
            continue;
        }
        flows += 1;
        if let Err(e) = flow.parse_into(line) {
            let e = e.at_line(i + 1);
            eprintln!("{name}:{}:{}: {}", e.line, e.column, e.message());
            readable = false;
            continue;
        }
        reverse.note(&flow.key.in_port);
        for a in flow.actions.iter() {
            if let OdpAction::Output(p) = a {
                reverse.note(p);
            }
        }
        if let Ok(tr) = t.translate(&flow) {
            offloaded += 1;
            for r in &tr.new_resources {
                rules.extend(t.fixed_rules(r));
            }
            rules.push(tr.rule);
        }
    }
    if let Some(ct) = &o.conntrack {
        let (ct_name, ct_text) = read_input(ct)?;
        for (i, line) in ct_text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            conns += 1;
            let entry = match ConnEntry::parse(line) {
                Ok(e) => e,
                Err(e) => {
                    let e = e.at_line(i + 1);
                    eprintln!("{ct_name}:{}:{}: {}", e.line, e.column, e.message());
                    readable = false;
                    continue;
                }
            };
            if let Ok(tr) = t.translate_conn(&entry) {
                conns_offloaded += 1;
                for r in &tr.new_resources {
                    rules.extend(t.fixed_rules(r));
                }
                rules.extend(tr.rules);
            }
        }
    }
    let records = pcap::read(&o.pcap)?;

    let mut ports = vec![config.software_port, in_dpdk];
    for r in &rules {
        rule_ports(r, &mut ports);
    }
    ports[1..].sort_unstable();
    ports.dedup();
    let esw = Eswitch::new(o.profile.clone(), &ports);
    let mut installed: Vec<EswitchRule> = Vec::with_capacity(rules.len());
    let mut rte = RteRule::new();
    for r in &rules {
        lower(r, &mut rte).map_err(|e| format!("lowering a rule: {e}"))?;
        match esw.create(&rte) {
            Ok(h) => installed.push(h),
            Err(e) => eprintln!("xsc-offload process: the eswitch refused a rule: {e}"),
        }
    }

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let io = |e: std::io::Error| e.to_string();
    let mut sent: BTreeMap<u32, Vec<Record>> = BTreeMap::new();
    let (mut n_out, mut n_drop, mut n_sw) = (0, 0, 0);
    let mut line = String::new();
    for (seq, rec) in records.iter().enumerate() {
        let v = esw.process(in_dpdk, &rec.data);
        let mut outputs: Vec<(u32, &[u8])> = Vec::new();
        let mut software: Option<Option<u32>> = None;
        let mut drop: Option<DropReason> = None;
        for fate in v.mirrors.iter().chain([&v.fate]) {
            match fate {
                Fate::Output { port, bytes } => {
                    let p = reverse.ovs_port(*port).ok_or_else(|| {
                        format!("DPDK port {port} is no OVS port of the port map")
                    })?;
                    outputs.push((p, bytes));
                }
                Fate::ToSoftware(h) => software = software.or(Some(h.mark)),
                Fate::Drop(r) => drop = Some(*r),
            }
        }
        for (p, bytes) in &outputs {
            sent.entry(*p).or_default().push(Record {
                sec: rec.sec,
                usec: rec.usec,
                data: bytes.to_vec(),
            });
        }
        line.clear();
        let verdict = if software.is_some() {
            n_sw += 1;
            "software"
        } else if !outputs.is_empty() {
            n_out += 1;
            "output"
        } else {
            n_drop += 1;
            "drop"
        };
        if o.json {
            let _ = write!(line, "{{\"seq\":{seq},\"verdict\":\"{verdict}\"");
            if let Some(mark) = software {
                match mark {
                    Some(m) => {
                        let _ = write!(line, ",\"mark\":{m}");
                    }
                    None => line.push_str(",\"mark\":null"),
                }
            }
            if !outputs.is_empty() {
                line.push_str(",\"outputs\":[");
                for (i, (p, bytes)) in outputs.iter().enumerate() {
                    let sep = if i == 0 { "" } else { "," };
                    let _ = write!(line, "{sep}{{\"port\":{p},\"hex\":\"");
                    for b in *bytes {
                        let _ = write!(line, "{b:02x}");
                    }
                    line.push_str("\"}");
                }
                line.push(']');
            }
            if let Some(r) = drop.filter(|r| *r != DropReason::Rule && verdict == "drop") {
                let _ = write!(line, ",\"reason\":{}", json_str(&format!("{r:?}")));
            }
            line.push('}');
        } else {
            let mut parts: Vec<String> = outputs
                .iter()
                .map(|(p, b)| format!("output {p} {}", b.len()))
                .collect();
            match software {
                Some(Some(m)) => parts.push(format!("software mark={m:#x}")),
                Some(None) => parts.push("software mark=none".into()),
                None if outputs.is_empty() => parts.push(match drop {
                    Some(r) if r != DropReason::Rule => format!("drop ({r:?})"),
                    _ => "drop".into(),
                }),
                None => {}
            }
            line.push_str(&parts.join("; "));
        }
        writeln!(out, "{line}").map_err(io)?;
    }
    out.flush().map_err(io)?;

    if let Some(dir) = &o.out_dir {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for (port, recs) in &sent {
            pcap::write(&dir.join(format!("{port}.pcap")), recs)?;
        }
    }
    let mut summary = format!(
        "{} packets: {n_out} output, {n_drop} dropped, {n_sw} to software; {offloaded} of {flows} megaflows offloaded",
        records.len()
    );
    if o.conntrack.is_some() {
        let _ = write!(
            summary,
            ", {conns_offloaded} of {conns} connections offloaded"
        );
    }
    eprintln!("{summary}; {} rules", installed.len());
    Ok(readable)
}
