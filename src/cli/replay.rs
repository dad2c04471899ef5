//! `xsc-offload replay`: offload a whole dump through the engine, onto the
//! software eswitch or a real DPDK port, optionally run packets through the
//! eswitch, and print the `type=offloaded` dump with the hardware counters,
//! then a summary.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::num::NonZeroUsize;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use xsc_dp::device::FlowDevice;
use xsc_dp::dpdk::{live_handles, Eal, FlowQueuesConfig, Port, PortConfig, QueuedPort};
use xsc_dp::engine::{EngineConfig, FlowState, Mode, Offloader, Op, OpDone, Refused, SubmitError};
use xsc_dp::eswitch::{Eswitch, Fate};
use xsc_dp::odp::{is_dump_header, Action as OdpAction, ConnEntry, Megaflow, OdpPort, Ufid};
use xsc_dp::profile::DeviceProfile;
use xsc_dp::translate::{PortMap, PortTarget};

use clap::{Args, ValueEnum};

use super::args::{read_input, EalArgs, InputArgs, PortMapArgs, ProfileArgs};

/// The device the engine offloads onto.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Device {
    /// The software model of the metaScale NIC
    Eswitch,
    /// A real DPDK port (--port N) of the EAL that --eal starts (default: no
    /// hugepages, one net_null port, which refuses every rule: each flow
    /// fails with its error)
    Dpdk,
}

/// The long help of `xsc-offload replay` (`--help`).
pub(crate) const LONG_ABOUT: &str =
    "Offloads every megaflow of an `ovs-appctl dpctl/dump-flows` dump (and the
connections of a `dpctl/dump-conntrack` dump) through the offload engine, as
OVS would one by one, then prints the offloaded flows exactly as
`ovs-appctl dpctl/dump-flows -m type=offloaded` does, with the hardware
counters. A summary goes to standard error: offloaded, rejected by reason,
failed by error, wall time and flows/s. Everything is removed at the end and
the device is checked to hold nothing of ours.

Exit status: 0 when every line was read and the device was left empty, 1
otherwise (what and where on standard error), 2 for usage errors.";

/// `xsc-offload replay`.
#[derive(Debug, Clone, Args)]
pub(crate) struct ReplayArgs {
    /// The device rules go to
    #[arg(long, value_enum, default_value_t = Device::Eswitch)]
    device: Device,
    #[command(flatten)]
    eal: EalArgs,
    /// --device dpdk: the DPDK port rules are created on
    #[arg(long, value_name = "N", default_value_t = 0)]
    port: u16,
    #[command(flatten)]
    ports: PortMapArgs,
    #[command(flatten)]
    profile: ProfileArgs,
    /// Connections to offload (the ESTABLISHED ones of a dump-conntrack dump)
    #[arg(long, value_name = "FILE")]
    conntrack: Option<String>,
    /// --device eswitch: packets to run through the NIC after offloading,
    /// one per line `PORT HEX [# comment]` (PORT an OVS port number or a
    /// name of the port map), as in xsc-dp/tests/data/ovs/kube-ovn.packets
    #[arg(long, value_name = "FILE")]
    packets: Option<String>,
    /// Engine worker threads
    #[arg(long, value_name = "N", default_value = "1")]
    workers: NonZeroUsize,
    /// Operations per batch
    #[arg(long, value_name = "N", default_value = "64")]
    batch: NonZeroUsize,
    /// Use the template/async API: one flow queue per worker (dpdk:
    /// rte_flow_configure on the port, which must support it; eswitch: only
    /// profiles that have it, e.g. generic)
    #[arg(long = "async")]
    asynchronous: bool,
    #[command(flatten)]
    input: InputArgs,
}

struct Options {
    device: Device,
    eal: EalArgs,
    port: u16,
    ports: PortMap,
    profile: DeviceProfile,
    conntrack: Option<String>,
    packets: Option<String>,
    workers: usize,
    batch: usize,
    asynchronous: bool,
    input: InputArgs,
}

/// Runs `xsc-offload replay`.
pub(crate) fn run(args: &ReplayArgs) -> ExitCode {
    if args.packets.is_some() && args.device != Device::Eswitch {
        return super::usage_error("replay", "--packets needs --device eswitch");
    }
    let ports = match args.ports.port_map() {
        Ok(p) => p,
        Err(e) => return super::input_error("replay", &e),
    };
    let o = Options {
        device: args.device,
        eal: args.eal.clone(),
        port: args.port,
        ports,
        profile: args.profile.profile.device_profile(),
        conntrack: args.conntrack.clone(),
        packets: args.packets.clone(),
        workers: args.workers.get(),
        batch: args.batch.get(),
        asynchronous: args.asynchronous,
        input: args.input.clone(),
    };
    match replay(&o) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => super::input_error("replay", &e),
    }
}

/// The dump (kept as text: each flow is parsed again as it is put, so a
/// million-flow dump costs its text, not a million parsed flows), which of
/// its lines hold flows, the ethdev ports they name, and the connections.
struct Input {
    text: String,
    /// Line numbers (from 0) of the flows that parsed.
    flows: Vec<u32>,
    ports: Vec<u16>,
    conns: Vec<ConnEntry>,
    /// False when a line did not parse.
    readable: bool,
}

fn read_dumps(o: &Options) -> Result<Input, String> {
    let (name, text) = o.input.read()?;
    let mut input = Input {
        text: String::new(),
        flows: Vec::new(),
        ports: Vec::new(),
        conns: Vec::new(),
        readable: true,
    };
    let mut ports = std::collections::BTreeSet::new();
    let note = |p: &OdpPort, ports: &mut std::collections::BTreeSet<u16>| {
        if let Some(PortTarget::Ethdev(d)) = o.ports.lookup(p) {
            ports.insert(d);
        }
    };
    let mut flow = Megaflow::default();
    for (i, line) in text.lines().enumerate() {
        if is_dump_header(line) || line.trim().is_empty() {
            continue;
        }
        if let Err(e) = flow.parse_into(line) {
            let e = e.at_line(i + 1);
            eprintln!("{name}:{}:{}: {}", e.line, e.column, e.message());
            input.readable = false;
            continue;
        }
        input.flows.push(i as u32);
        note(&flow.key.in_port, &mut ports);
        for a in flow.actions.iter() {
            if let OdpAction::Output(p) = a {
                note(p, &mut ports);
            }
        }
    }
    // The software port (0) first: the eswitch sends misses there.
    ports.remove(&0);
    input.ports = std::iter::once(0).chain(ports).collect();
    input.text = text;
    if let Some(ct) = &o.conntrack {
        let (ct_name, ct_text) = read_input(ct)?;
        for (i, line) in ct_text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match ConnEntry::parse(line) {
                Ok(c) => input.conns.push(c),
                Err(e) => {
                    let e = e.at_line(i + 1);
                    eprintln!("{ct_name}:{}:{}: {}", e.line, e.column, e.message());
                    input.readable = false;
                }
            }
        }
    }
    Ok(input)
}

/// Final outcomes by operation, as the engine reported them.
#[derive(Default)]
struct Tally {
    flows: BTreeMap<String, usize>,
    conns: BTreeMap<String, usize>,
}

impl Tally {
    fn note(&mut self, d: &OpDone) {
        let what = match &d.state {
            FlowState::Offloaded => "offloaded".to_string(),
            FlowState::Rejected(r) => format!("rejected: {r}"),
            FlowState::Failed(e) => format!("failed: {e}"),
            FlowState::Pending | FlowState::Removed => return,
        };
        let map = match d.op {
            Op::Put(_) => &mut self.flows,
            Op::CtAdd(_) => &mut self.conns,
            Op::Del(_) | Op::CtDel(_) => return,
        };
        *map.entry(what).or_default() += 1;
    }
}

fn replay(o: &Options) -> Result<bool, String> {
    let input = read_dumps(o)?;
    match o.device {
        Device::Dpdk => {
            let eal = Eal::init(&o.eal.argv()).map_err(|e| e.to_string())?;
            let mut port = Port::by_id(&eal, o.port).map_err(|e| e.to_string())?;
            let ok = if o.asynchronous {
                // rte_flow_configure wants a configured, stopped port.
                port.configure(&eal, &PortConfig::default())
                    .map_err(|e| e.to_string())?;
                let queues = FlowQueuesConfig {
                    queues: o.workers as u16,
                    ..FlowQueuesConfig::default()
                };
                let port = QueuedPort::new(port, queues).map_err(|e| {
                    format!("--async: port {} has no template/async API: {e}", o.port)
                })?;
                run_engine(o, &input, Arc::new(port), None)?
            } else {
                run_engine(o, &input, Arc::new(port), None)?
            };
            // The engine and its port are gone: nothing of ours may be left.
            let h = live_handles();
            if h.flows != 0 || h.templates != 0 || h.tables != 0 || h.ports != 0 {
                return Err(format!("DPDK handles left after the engine: {h:?}"));
            }
            eprintln!("replay: DPDK handles left: 0 rules, 0 templates, 0 tables, 0 ports");
            drop(eal);
            Ok(ok)
        }
        Device::Eswitch => {
            let mut profile = o.profile.clone();
            if o.asynchronous && !profile.async_api {
                return Err(format!(
                    "--async: the {} profile has no template/async API",
                    profile.name
                ));
            }
            profile.async_api = o.asynchronous;
            let esw = Arc::new(Eswitch::new(profile, &input.ports));
            if o.asynchronous {
                esw.configure(o.workers as u16, 1024)
                    .map_err(|e| e.to_string())?;
            }
            run_engine(o, &input, esw.clone(), Some(&esw))
        }
    }
}

/// Submits, retrying while the worker's queue is full.
fn submit(mut f: impl FnMut() -> Result<(), SubmitError>) -> Result<(), String> {
    loop {
        match f() {
            Ok(()) => return Ok(()),
            Err(SubmitError::Full { .. }) => std::thread::sleep(Duration::from_micros(50)),
            Err(e) => return Err(e.to_string()),
        }
    }
}

fn run_engine<D: FlowDevice + 'static>(
    o: &Options,
    input: &Input,
    device: Arc<D>,
    eswitch: Option<&Eswitch>,
) -> Result<bool, String> {
    let tally = Arc::new(Mutex::new(Tally::default()));
    let on_complete = {
        let tally = tally.clone();
        Arc::new(move |d: &OpDone| {
            if let Ok(mut t) = tally.lock() {
                t.note(d);
            }
        })
    };
    let config = EngineConfig {
        workers: o.workers,
        batch: o.batch,
        mode: if o.asynchronous {
            Mode::Async
        } else {
            Mode::Sync
        },
        stats_interval: None,
        on_complete: Some(on_complete),
        ..EngineConfig::default()
    };
    let name = device.name();
    let off = Offloader::new(device, o.profile.clone(), o.ports.clone(), config)
        .map_err(|e| e.to_string())?;

    let start = Instant::now();
    let total = input.flows.len();
    let mut last_progress = Instant::now();
    let mut lines = input.text.lines().enumerate();
    for (done, &n) in input.flows.iter().enumerate() {
        let Some((i, line)) = lines.find(|(i, _)| *i == n as usize) else {
            break;
        };
        let mut flow = Box::<Megaflow>::default();
        flow.parse_into(line)
            .map_err(|e| format!("line {}: {e}", i + 1))?;
        let ufid = flow.ufid.unwrap_or(Ufid {
            parts: [0x7e91_a700, 0, 0, i as u32 + 1],
        });
        loop {
            match off.try_put(ufid, flow) {
                Ok(()) => break,
                Err(Refused {
                    error: SubmitError::Full { .. },
                    flow: back,
                }) => {
                    flow = back;
                    std::thread::sleep(Duration::from_micros(50));
                }
                Err(r) => return Err(r.error.to_string()),
            }
        }
        if last_progress.elapsed() >= Duration::from_secs(1) {
            eprintln!("xsc-offload replay: {done}/{total} flows submitted");
            last_progress = Instant::now();
        }
    }
    for c in &input.conns {
        submit(|| off.ct_add(c.clone()))?;
    }
    off.wait();
    let wall = start.elapsed();

    let mut packets = None;
    if let (Some(file), Some(esw)) = (&o.packets, eswitch) {
        packets = Some(run_packets(o, file, esw)?);
    }
    let mut dump = String::new();
    off.dump_offloaded(&mut dump);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    out.write_all(dump.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| e.to_string())?;

    let held_before = off.live_rules();
    let flushed = off.flush();
    let held_after = eswitch.map(Eswitch::rule_count).unwrap_or(off.live_rules());

    let tally = tally.lock().map_err(|_| "a worker panicked".to_string())?;
    let count = |m: &BTreeMap<String, usize>, p: &str| -> usize {
        m.iter()
            .filter(|(k, _)| k.starts_with(p))
            .map(|(_, n)| n)
            .sum()
    };
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "replay: {total} flows: {} offloaded, {} rejected, {} failed",
        count(&tally.flows, "offloaded"),
        count(&tally.flows, "rejected"),
        count(&tally.flows, "failed"),
    );
    if !input.conns.is_empty() {
        let _ = writeln!(
            err,
            "replay: {} connections: {} offloaded, {} rejected, {} failed",
            input.conns.len(),
            count(&tally.conns, "offloaded"),
            count(&tally.conns, "rejected"),
            count(&tally.conns, "failed"),
        );
    }
    for (kind, map) in [("flow", &tally.flows), ("connection", &tally.conns)] {
        for (why, n) in map.iter().filter(|(k, _)| !k.starts_with("offloaded")) {
            let _ = writeln!(
                err,
                "  {n:>6} {kind}{} {why}",
                if *n == 1 { "" } else { "s" }
            );
        }
    }
    let secs = wall.as_secs_f64();
    let _ = writeln!(
        err,
        "replay: {secs:.3} s, {:.0} flows/s, parsing included ({name}, {} mode, {} worker{}, batch {})",
        total as f64 / secs.max(1e-9),
        if off.is_async() { "async" } else { "sync" },
        o.workers,
        if o.workers == 1 { "" } else { "s" },
        o.batch,
    );
    if let Some((n, out_, dropped, software)) = packets {
        let _ = writeln!(
            err,
            "replay: {n} packets through the eswitch: {out_} output, {dropped} dropped, {software} to software"
        );
    }
    let _ = writeln!(
        err,
        "replay: flush removed {held_before} device rules; {held_after} left"
    );
    if let Err(e) = flushed {
        return Err(format!("flush: {e}"));
    }
    if held_after != 0 {
        return Err(format!(
            "{held_after} rules are left on the device after the flush"
        ));
    }
    Ok(input.readable)
}

/// Runs the packets of `file` through the eswitch; returns (packets,
/// output, dropped, to software).
fn run_packets(
    o: &Options,
    file: &str,
    esw: &Eswitch,
) -> Result<(usize, usize, usize, usize), String> {
    let (name, text) = read_input(file)?;
    let (mut n, mut out, mut dropped, mut software) = (0, 0, 0, 0);
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let at = |what: String| format!("{name}:{}: {what}", i + 1);
        let mut words = line.split_whitespace();
        let (port, hex) = match (words.next(), words.next()) {
            (Some(p), Some(h)) => (p, h),
            _ => return Err(at("expected `PORT HEX`".into())),
        };
        let odp = match port.parse::<u32>() {
            Ok(n) => OdpPort::Number(n),
            Err(_) => OdpPort::Name(
                xsc_dp::odp::PortName::new(port)
                    .ok_or_else(|| at(format!("'{port}' is not a port name")))?,
            ),
        };
        let ethdev = match o.ports.lookup(&odp) {
            Some(PortTarget::Ethdev(d)) => d,
            _ => {
                return Err(at(format!(
                    "port '{port}' is no ethdev port of the port map (name ports with --port-map {port}=N)"
                )))
            }
        };
        let bytes = hex_bytes(hex).ok_or_else(|| at("bad hex".into()))?;
        let v = esw.process(ethdev, &bytes);
        n += 1;
        match v.fate {
            Fate::Output { .. } => out += 1,
            Fate::Drop(_) => dropped += 1,
            Fate::ToSoftware(_) => software += 1,
        }
    }
    Ok((n, out, dropped, software))
}

fn hex_bytes(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}
