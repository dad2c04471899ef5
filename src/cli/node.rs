//! `xsc-offload node`: is this node set up for metaScale offload as the
//! Kube-OVN deployment guide describes? `check` reads the node config and
//! sysfs and lists every problem with its fix; `device-plugin-config` prints
//! the SR-IOV device plugin's config for the devices found. Reads only; the
//! one program it may run is `devlink dev eswitch show` (see `eswitch_mode`).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use xsc_dp::node::config::{self, vf_representors, NodeConfig, Vlog};
use xsc_dp::node::sysfs::{self, discover, EswitchMode, Kind, PciDevice};

use clap::{Args, Subcommand};

use super::json_str;

/// `xsc-offload node`.
#[derive(Debug, Clone, Subcommand)]
#[command(
    after_help = "The eswitch mode is read from devlink (`devlink dev eswitch show pci/ADDR`)
when --sysfs is /sys; a test tree gives it as the file <dev>/eswitch_mode."
)]
pub(crate) enum NodeCommand {
    /// Check the node config and the metaScale devices for offload
    ///
    /// Reads the node config and the metaScale devices in sysfs, prints the
    /// settings, the EAL arguments they imply, the PFs with their netdev,
    /// VFs and eswitch mode, and each problem that would stop offload with
    /// the command that fixes it. Exit status 1 when there are problems.
    Check {
        /// The node config
        #[arg(long, value_name = "FILE", default_value = config::DEFAULT_PATH)]
        config: PathBuf,
        #[command(flatten)]
        sysfs: SysfsArgs,
    },
    /// Print the SR-IOV device plugin's config.json for the VFs found
    ///
    /// Prints the SR-IOV device plugin's config.json (the sriovdp-config
    /// ConfigMap of the deployment guide) with the VF device ids found.
    DevicePluginConfig {
        #[command(flatten)]
        sysfs: SysfsArgs,
    },
}

/// `--sysfs DIR`.
#[derive(Debug, Clone, Args)]
pub(crate) struct SysfsArgs {
    /// The sysfs root to read devices from
    #[arg(long, value_name = "DIR", default_value = "/sys")]
    sysfs: PathBuf,
}

/// Runs `node`.
pub(crate) fn run(command: &NodeCommand) -> ExitCode {
    match command {
        NodeCommand::Check { config, sysfs } => check(config, &sysfs.sysfs),
        NodeCommand::DevicePluginConfig { sysfs } => device_plugin_config(&sysfs.sysfs),
    }
}

fn check(config_path: &Path, sysfs_root: &Path) -> ExitCode {
    let mut out = String::new();
    let mut problems: Vec<String> = Vec::new();

    let cfg = match std::fs::read_to_string(config_path) {
        Ok(text) => match NodeConfig::parse(&text) {
            Ok(cfg) => Some(cfg),
            Err(e) => {
                problems.push(format!("{}: {e}", config_path.display()));
                None
            }
        },
        Err(e) => {
            problems.push(format!(
                "{}: {e}: create it with the settings of the deployment guide (VLOG, HW_OFFLOAD, ..., DPDK_DEV)",
                config_path.display()
            ));
            None
        }
    };
    let devices = match discover(sysfs_root) {
        Ok(d) => d,
        Err(e) => {
            problems.push(format!("cannot read sysfs: {e}"));
            Vec::new()
        }
    };
    let live = sysfs_root == Path::new("/sys");
    let mode = |d: &PciDevice| {
        d.eswitch
            .or_else(|| live.then(|| devlink_mode(d)).flatten())
    };

    let _ = writeln!(out, "config {}", config_path.display());
    let dpdk_pf = cfg
        .as_ref()
        .and_then(|c| c.dpdk_dev)
        .and_then(|a| devices.iter().find(|d| d.addr == a && d.kind == Kind::Pf));
    if let Some(cfg) = &cfg {
        let opt = |v: Option<String>| v.unwrap_or_else(|| "(not set)".into());
        let vlog = match cfg.vlog {
            Vlog::Info => "info",
            Vlog::Dbg => "dbg",
        };
        let _ = writeln!(out, "  VLOG             {vlog}");
        let _ = writeln!(out, "  HW_OFFLOAD       {}", cfg.hw_offload);
        let _ = writeln!(
            out,
            "  CPU_MASK         {}",
            opt(cfg.cpu_mask.map(|m| format!("{m:#x}")))
        );
        let mem = cfg
            .socket_mem
            .as_ref()
            .map(|m| m.iter().map(u32::to_string).collect::<Vec<_>>().join(","));
        let _ = writeln!(out, "  SOCKET_MEM       {}", opt(mem));
        let _ = writeln!(
            out,
            "  ENCAP_IP         {}",
            opt(cfg.encap_ip.map(|(ip, l)| format!("{ip}/{l}")))
        );
        let _ = writeln!(
            out,
            "  DPDK_DEV         {}",
            opt(cfg.dpdk_dev.map(|a| a.to_string()))
        );
        let _ = writeln!(out, "  PF_MTU           {}", cfg.pf_mtu);
        let _ = writeln!(out, "  BR_PHY_BOND_NAME {}", opt(cfg.bond.clone()));
        let reps = vf_representors(dpdk_pf.and_then(|d| d.num_vfs).unwrap_or(0));
        let _ = writeln!(out, "EAL args: {}", cfg.eal_args(&reps).join(" "));

        if !cfg.hw_offload {
            problems.push("HW_OFFLOAD=false: set HW_OFFLOAD=true".into());
        }
        match cfg.dpdk_dev {
            None => problems.push(format!(
                "DPDK_DEV is not set: set it to a metaScale PF{}",
                first_pf(&devices)
            )),
            Some(a) if dpdk_pf.is_none() => problems.push(format!(
                "DPDK_DEV {a} is not a metaScale PF found in sysfs: set it to one{}",
                first_pf(&devices)
            )),
            Some(_) => {}
        }
    }

    let _ = writeln!(
        out,
        "devices under {}",
        sysfs_root.join("bus/pci/devices").display()
    );
    let pfs: Vec<&PciDevice> = devices.iter().filter(|d| d.kind == Kind::Pf).collect();
    if pfs.is_empty() && problems.iter().all(|p| !p.starts_with("cannot read sysfs")) {
        problems.push(
            "no metaScale PF (1f67:1111, 1151, 1153) found: check `lspci -d 1f67:` and that the MCR driver is loaded".into(),
        );
    }
    for pf in &pfs {
        let m = mode(pf);
        let _ = writeln!(
            out,
            "  PF {} 1f67:{:04x} netdev {} VFs {}/{} eswitch {}",
            pf.addr,
            pf.device_id,
            pf.netdev.as_deref().unwrap_or("-"),
            pf.num_vfs.map_or("-".into(), |n| n.to_string()),
            pf.total_vfs.map_or("-".into(), |n| n.to_string()),
            m.map_or("unknown", EswitchMode::as_str),
        );
        for vf in &pf.vfs {
            let id = devices.iter().find(|d| d.addr == *vf).map(|d| d.device_id);
            let _ = writeln!(
                out,
                "    VF {vf}{}",
                id.map_or(String::new(), |id| format!(" 1f67:{id:04x}"))
            );
        }
        // Only the PF OVS-DPDK uses must be ready; the others are reported.
        if dpdk_pf.is_some_and(|d| d.addr == pf.addr) {
            let numvfs = match &pf.netdev {
                Some(n) => format!("/sys/class/net/{n}/device/sriov_numvfs"),
                None => format!("/sys/bus/pci/devices/{}/sriov_numvfs", pf.addr),
            };
            if pf.num_vfs.unwrap_or(0) == 0 {
                problems.push(format!("no VFs on {}: echo 10 > {numvfs}", pf.addr));
            }
            match m {
                Some(EswitchMode::Switchdev) => {}
                Some(EswitchMode::Legacy) => problems.push(format!(
                    "eswitch of {0} is in legacy mode: run devlink dev eswitch set pci/{0} mode switchdev",
                    pf.addr
                )),
                None => problems.push(format!(
                    "eswitch mode of {0} unknown: check devlink dev eswitch show pci/{0}, and set it with devlink dev eswitch set pci/{0} mode switchdev",
                    pf.addr
                )),
            }
        }
    }

    if problems.is_empty() {
        let _ = writeln!(out, "ok: ready for offload");
    } else {
        let _ = writeln!(out, "problems ({}):", problems.len());
        for p in &problems {
            let _ = writeln!(out, "  - {p}");
        }
    }
    print!("{out}");
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `: 0000:b3:00.0` for the first PF found, to go after a "set it to" fix.
fn first_pf(devices: &[PciDevice]) -> String {
    devices
        .iter()
        .find(|d| d.kind == Kind::Pf)
        .map_or(String::new(), |d| format!(", e.g. DPDK_DEV={}", d.addr))
}

/// The mode devlink reports for a PF; `None` when devlink is missing or fails.
fn devlink_mode(dev: &PciDevice) -> Option<EswitchMode> {
    let out = std::process::Command::new("devlink")
        .args(["dev", "eswitch", "show", &format!("pci/{}", dev.addr)])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| sysfs::parse_devlink_eswitch(&String::from_utf8_lossy(&out.stdout)))
        .flatten()
}

fn device_plugin_config(sysfs_root: &Path) -> ExitCode {
    let devices = match discover(sysfs_root) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("xsc-offload node: cannot read sysfs: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The VF device ids: of the VFs present, and of the PFs that can have VFs.
    let ids: BTreeSet<u16> = devices
        .iter()
        .filter_map(|d| match d.kind {
            Kind::Vf => Some(d.device_id),
            Kind::Pf => sysfs::vf_device_id(d.device_id),
        })
        .collect();
    if ids.is_empty() {
        eprintln!(
            "xsc-offload node: no metaScale device with VFs under {}",
            sysfs_root.display()
        );
        return ExitCode::FAILURE;
    }
    let devices: Vec<String> = ids
        .iter()
        .map(|id| json_str(&format!("{id:04x}")))
        .collect();
    print!(
        r#"{{
    "resourceList": [{{
            "resourceName": "xsc_sriov",
            "resourcePrefix": "yunsilicon.com",
            "selectors": {{
                "vendors": [{vendor}],
                "devices": [{devices}]
            }}}}
    ]
}}
"#,
        vendor = json_str(&format!("{:04x}", sysfs::VENDOR_ID)),
        devices = devices.join(", "),
    );
    ExitCode::SUCCESS
}
