//! `xsc-offload ports`: start EAL and report every DPDK port and what its
//! driver offers for rte_flow — the first thing to run on a new NIC.

use std::process::ExitCode;

use clap::Args;
use xsc_dp::dpdk::{port_ids, Eal, Port, PortConfig};

use super::args::EalArgs;

/// The long help of `xsc-offload ports` (`--help`).
pub(crate) const LONG_ABOUT: &str =
    "Starts DPDK's EAL with the given arguments (default: no hugepages, no PCI,
one net_null port) and prints the network PMDs DPDK registered (built in or
loaded from its plugin directory: `xsc` is the metaScale PMD, DPDK 25.03 and
newer), then, for every port: name, driver, queues, representor and E-Switch
domain, and whether the driver has rte_flow at all (the upstream metaScale
PMD has none yet: \"no rte_flow support in driver net_xsc\") and the
template/async API.";

/// `xsc-offload ports`.
#[derive(Debug, Clone, Args)]
#[command(after_help = "Example: xsc-offload ports --eal \"-a 0000:b3:00.0,representor=vf[0-9]\"")]
pub(crate) struct PortsArgs {
    #[command(flatten)]
    eal: EalArgs,
}

/// Runs `ports`.
pub(crate) fn run(args: &PortsArgs) -> ExitCode {
    let eal = match Eal::init(&args.eal.argv()) {
        Ok(eal) => eal,
        Err(e) => return super::input_error("ports", &e.to_string()),
    };
    match eal.net_pmds() {
        Ok(pmds) => println!("net PMDs: {}", pmds.join(" ")),
        Err(e) => println!("net PMDs: unknown ({e})"),
    }
    let ids = port_ids();
    if ids.is_empty() {
        println!("no DPDK ports (check the -a/--vdev arguments and the PMD plugin directory)");
    }
    for id in ids {
        match report(&eal, id) {
            Ok(text) => print!("{text}"),
            Err(e) => println!("port {id}: {e}"),
        }
    }
    ExitCode::SUCCESS
}

fn report(eal: &Eal, id: u16) -> Result<String, xsc_dp::device::DeviceError> {
    use std::fmt::Write;
    let mut port = Port::by_id(eal, id)?;
    let info = port.info()?;
    let mut out = String::new();
    let _ = writeln!(out, "port {id}: {} (driver {})", info.name, info.driver);
    let _ = writeln!(
        out,
        "  queues: rx {} tx {}",
        info.max_rx_queues, info.max_tx_queues
    );
    let _ = writeln!(
        out,
        "  representor: {}",
        if info.is_representor() { "yes" } else { "no" }
    );
    if let Some(sw) = &info.switch_domain {
        let _ = writeln!(
            out,
            "  e-switch: {} domain {} port {}",
            sw.name, sw.domain_id, sw.port_id
        );
    }
    let _ = writeln!(
        out,
        "  rte_flow ops thread-safe: {}",
        if info.flow_ops_thread_safe() {
            "yes"
        } else {
            "no (ethdev serialises them)"
        }
    );
    port.configure(eal, &PortConfig::default())?;
    match port.flow_support() {
        Ok(()) => {
            let _ = writeln!(out, "  rte_flow: yes");
        }
        Err(why) => {
            // No flow ops at all: the template API cannot be there either.
            let _ = writeln!(out, "  rte_flow: {why}");
            return Ok(out);
        }
    }
    match port.flow_info() {
        Ok(fi) => {
            let _ = writeln!(
                out,
                "  template/async API: yes (queues {}, queue size {}, counters {}, conntrack objects {})",
                fi.max_queues, fi.max_queue_size, fi.max_counters, fi.max_conn_tracks
            );
        }
        Err(e) => {
            let _ = writeln!(out, "  template/async API: no ({e})");
        }
    }
    Ok(out)
}
