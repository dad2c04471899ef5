//! The metaScale devices the kernel shows under `<root>/bus/pci/devices`
//! (root is `/sys` on a real node, a temporary tree in tests): which PFs and
//! VFs there are, their netdevs, SR-IOV counts and eswitch mode, and
//! [`set_numvfs`] to create VFs as the guide's
//! `echo 10 > /sys/class/net/p3p1/device/sriov_numvfs` does.
//!
//! The eswitch mode is not a sysfs attribute on a real kernel: it is read
//! through devlink (`devlink dev eswitch show pci/ADDR`). Here it is the file
//! `<dev>/eswitch_mode` (`legacy` or `switchdev`) where one exists — fake
//! trees provide it — and `None` otherwise; `xsc-offload node check` then
//! asks devlink, when it is installed and the root is `/sys`
//! ([`parse_devlink_eswitch`] reads its answer).
//!
//! Only reads and writes files; runs nothing and depends on no DPDK.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::PciAddr;

/// Yunsilicon's PCI vendor id.
pub const VENDOR_ID: u16 = 0x1f67;

/// A metaScale PCI function's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pf,
    Vf,
}

/// The metaScale device ids this module knows, with their role (from the
/// kernel driver's table: MS PF/VF, MV host PF/VF, MV SoC PF).
pub const DEVICE_IDS: [(u16, Kind); 5] = [
    (0x1111, Kind::Pf),
    (0x1112, Kind::Vf),
    (0x1151, Kind::Pf),
    (0x1152, Kind::Vf),
    (0x1153, Kind::Pf),
];

/// The VF device id a PF's VFs have, if it has any.
pub fn vf_device_id(pf_device_id: u16) -> Option<u16> {
    match pf_device_id {
        0x1111 => Some(0x1112),
        0x1151 => Some(0x1152),
        _ => None,
    }
}

/// The E-Switch mode of a PF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EswitchMode {
    /// VFs bypass the eswitch's rules: no representors, no offload.
    Legacy,
    /// Representors exist and rte_flow transfer rules apply.
    Switchdev,
}

impl EswitchMode {
    fn parse(s: &str) -> Option<EswitchMode> {
        match s {
            "legacy" => Some(EswitchMode::Legacy),
            "switchdev" => Some(EswitchMode::Switchdev),
            _ => None,
        }
    }

    /// devlink's name for the mode.
    pub fn as_str(self) -> &'static str {
        match self {
            EswitchMode::Legacy => "legacy",
            EswitchMode::Switchdev => "switchdev",
        }
    }
}

/// One metaScale PCI function found in sysfs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PciDevice {
    pub addr: PciAddr,
    pub device_id: u16,
    pub kind: Kind,
    /// The sysfs directory, `<root>/bus/pci/devices/<addr>`.
    pub path: PathBuf,
    /// The kernel netdev (`<dev>/net/*`), when the driver has made one.
    pub netdev: Option<String>,
    /// `sriov_totalvfs`; `None` where the function has no SR-IOV capability (VFs).
    pub total_vfs: Option<u32>,
    /// `sriov_numvfs`.
    pub num_vfs: Option<u32>,
    /// The VFs (`virtfn0`, `virtfn1`, ... in that order).
    pub vfs: Vec<PciAddr>,
    /// `<dev>/eswitch_mode` where present (see the module doc).
    pub eswitch: Option<EswitchMode>,
}

/// What went wrong reading or writing sysfs.
#[derive(Debug)]
#[non_exhaustive]
pub enum SysfsError {
    Io {
        path: PathBuf,
        error: io::Error,
    },
    /// A file whose content is not what the kernel writes there.
    BadValue {
        path: PathBuf,
        value: String,
        expected: &'static str,
    },
    /// `set_numvfs` on a function without SR-IOV.
    NotSriov {
        addr: PciAddr,
    },
    /// More VFs asked for than `sriov_totalvfs`.
    TooManyVfs {
        addr: PciAddr,
        requested: u32,
        total: u32,
    },
}

impl fmt::Display for SysfsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SysfsError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            SysfsError::BadValue {
                path,
                value,
                expected,
            } => write!(f, "{}: '{value}' is not {expected}", path.display()),
            SysfsError::NotSriov { addr } => {
                write!(f, "{addr} has no sriov_totalvfs: it cannot have VFs")
            }
            SysfsError::TooManyVfs {
                addr,
                requested,
                total,
            } => write!(
                f,
                "{addr}: {requested} VFs asked for, sriov_totalvfs is {total}"
            ),
        }
    }
}

impl std::error::Error for SysfsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SysfsError::Io { error, .. } => Some(error),
            _ => None,
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> SysfsError + '_ {
    move |error| SysfsError::Io {
        path: path.to_owned(),
        error,
    }
}

fn read_trimmed(path: &Path) -> Result<String, SysfsError> {
    fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .map_err(io_err(path))
}

/// A file that may be absent.
fn read_optional(path: &Path) -> Result<Option<String>, SysfsError> {
    match fs::read_to_string(path) {
        Ok(s) => Ok(Some(s.trim().to_owned())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(path)(e)),
    }
}

fn read_hex_id(path: &Path) -> Result<u16, SysfsError> {
    let v = read_trimmed(path)?;
    v.strip_prefix("0x")
        .and_then(|h| u16::from_str_radix(h, 16).ok())
        .ok_or(SysfsError::BadValue {
            path: path.to_owned(),
            value: v,
            expected: "a 0x-prefixed 16-bit hex id",
        })
}

fn read_count(path: &Path) -> Result<Option<u32>, SysfsError> {
    read_optional(path)?
        .map(|v| {
            v.parse().map_err(|_| SysfsError::BadValue {
                path: path.to_owned(),
                value: v,
                expected: "a VF count",
            })
        })
        .transpose()
}

/// Every metaScale function under `<root>/bus/pci/devices`, sorted by address.
pub fn discover(root: &Path) -> Result<Vec<PciDevice>, SysfsError> {
    let dir = root.join("bus/pci/devices");
    let mut found = Vec::new();
    for entry in fs::read_dir(&dir).map_err(io_err(&dir))? {
        let entry = entry.map_err(io_err(&dir))?;
        let path = entry.path();
        let vendor = path.join("vendor");
        if !vendor.exists() || read_hex_id(&vendor)? != VENDOR_ID {
            continue;
        }
        let device_id = read_hex_id(&path.join("device"))?;
        let Some(&(_, kind)) = DEVICE_IDS.iter().find(|(id, _)| *id == device_id) else {
            continue;
        };
        let name = entry.file_name();
        let addr =
            name.to_str()
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| SysfsError::BadValue {
                    path: path.clone(),
                    value: name.to_string_lossy().into_owned(),
                    expected: "a PCI address DDDD:BB:DD.F",
                })?;
        found.push(read_device(path, addr, device_id, kind)?);
    }
    found.sort_by_key(|d| d.addr);
    Ok(found)
}

fn read_device(
    path: PathBuf,
    addr: PciAddr,
    device_id: u16,
    kind: Kind,
) -> Result<PciDevice, SysfsError> {
    let net = path.join("net");
    let netdev = match fs::read_dir(&net) {
        Ok(rd) => {
            let mut names: Vec<String> = rd
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect();
            names.sort();
            names.into_iter().next()
        }
        Err(_) => None,
    };
    let mut vfs: Vec<(u32, PciAddr)> = Vec::new();
    for entry in fs::read_dir(&path).map_err(io_err(&path))? {
        let entry = entry.map_err(io_err(&path))?;
        let name = entry.file_name();
        let Some(n) = name
            .to_str()
            .and_then(|n| n.strip_prefix("virtfn"))
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let link = entry.path();
        let target = fs::read_link(&link).map_err(io_err(&link))?;
        let vf = target
            .file_name()
            .and_then(|t| t.to_str())
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| SysfsError::BadValue {
                path: link.clone(),
                value: target.display().to_string(),
                expected: "a link to a PCI device",
            })?;
        vfs.push((n, vf));
    }
    vfs.sort();
    let mode_path = path.join("eswitch_mode");
    let eswitch = read_optional(&mode_path)?
        .map(|v| {
            EswitchMode::parse(&v).ok_or(SysfsError::BadValue {
                path: mode_path.clone(),
                value: v,
                expected: "legacy or switchdev",
            })
        })
        .transpose()?;
    Ok(PciDevice {
        addr,
        device_id,
        kind,
        netdev,
        total_vfs: read_count(&path.join("sriov_totalvfs"))?,
        num_vfs: read_count(&path.join("sriov_numvfs"))?,
        vfs: vfs.into_iter().map(|(_, a)| a).collect(),
        eswitch,
        path,
    })
}

/// Sets `sriov_numvfs` of `dev` to `n` with the kernel's rules: `n` must not
/// exceed `sriov_totalvfs`, and a new non-zero count over a non-zero one
/// needs 0 written first (the kernel refuses it with EBUSY otherwise) — this
/// writes 0, then `n`. Nothing is written when the count is already `n`.
pub fn set_numvfs(dev: &PciDevice, n: u32) -> Result<(), SysfsError> {
    let total_path = dev.path.join("sriov_totalvfs");
    let num_path = dev.path.join("sriov_numvfs");
    let total = read_count(&total_path)?.ok_or(SysfsError::NotSriov { addr: dev.addr })?;
    if n > total {
        return Err(SysfsError::TooManyVfs {
            addr: dev.addr,
            requested: n,
            total,
        });
    }
    let current = read_count(&num_path)?.unwrap_or(0);
    for value in numvfs_writes(current, n) {
        fs::write(&num_path, value.to_string()).map_err(io_err(&num_path))?;
    }
    Ok(())
}

/// The values to write to `sriov_numvfs`, in order, to go from `current` VFs to `n`.
fn numvfs_writes(current: u32, n: u32) -> Vec<u32> {
    match (current, n) {
        (c, n) if c == n => vec![],
        (0, n) | (_, n @ 0) => vec![n],
        (_, n) => vec![0, n],
    }
}

/// The mode in `devlink dev eswitch show pci/ADDR` output, e.g.
/// `pci/0000:b3:00.0: mode switchdev inline-mode none encap-mode basic`.
pub fn parse_devlink_eswitch(output: &str) -> Option<EswitchMode> {
    let mut words = output.split_whitespace();
    while let Some(w) = words.next() {
        if w == "mode" {
            return words.next().and_then(EswitchMode::parse);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numvfs_goes_through_zero_between_non_zero_counts() {
        assert_eq!(numvfs_writes(0, 10), [10]);
        assert_eq!(numvfs_writes(10, 16), [0, 16]);
        assert_eq!(numvfs_writes(10, 0), [0]);
        assert!(numvfs_writes(10, 10).is_empty());
    }

    #[test]
    fn devlink_output() {
        assert_eq!(
            parse_devlink_eswitch("pci/0000:b3:00.0: mode switchdev inline-mode none"),
            Some(EswitchMode::Switchdev)
        );
        assert_eq!(
            parse_devlink_eswitch("pci/0000:b3:00.0: mode legacy\n"),
            Some(EswitchMode::Legacy)
        );
        assert_eq!(parse_devlink_eswitch("inline-mode none"), None);
    }
}
