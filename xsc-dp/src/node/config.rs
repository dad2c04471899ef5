//! The deployment guide's node config, `/opt/ovs-config/ovs-dpdk-config`:
//! shell-style `KEY=value` lines (`#` comments, blank lines, values
//! optionally in double quotes, an optional leading `export`), parsed into a
//! validated [`NodeConfig`].
//!
//! Invariants: a `NodeConfig` that exists holds only values the install
//! script accepts; unknown and repeated keys are errors, because a typo such
//! as `HW_OFLOAD=true` would otherwise leave offload silently at its default.
//! Depends on nothing but [`PciAddr`].

use std::fmt;
use std::net::Ipv4Addr;

use super::PciAddr;

/// The path the guide puts the config at.
pub const DEFAULT_PATH: &str = "/opt/ovs-config/ovs-dpdk-config";

/// The keys the guide documents, in its order.
pub const KEYS: [&str; 8] = [
    "VLOG",
    "HW_OFFLOAD",
    "CPU_MASK",
    "SOCKET_MEM",
    "ENCAP_IP",
    "DPDK_DEV",
    "PF_MTU",
    "BR_PHY_BOND_NAME",
];

/// OVS-DPDK's log level (`VLOG`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vlog {
    Info,
    Dbg,
}

/// The validated settings of one node. Defaults are the guide's: `VLOG=info`,
/// `HW_OFFLOAD=true`, `PF_MTU=1500`, the rest unset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeConfig {
    pub vlog: Vlog,
    pub hw_offload: bool,
    /// `CPU_MASK`: the EAL core mask, non-zero.
    pub cpu_mask: Option<u64>,
    /// `SOCKET_MEM`: MB of hugepage memory per NUMA node.
    pub socket_mem: Option<Vec<u32>>,
    /// `ENCAP_IP`: the tunnel endpoint address and its prefix length.
    pub encap_ip: Option<(Ipv4Addr, u8)>,
    /// `DPDK_DEV`: the metaScale PF OVS-DPDK attaches.
    pub dpdk_dev: Option<PciAddr>,
    /// `PF_MTU`: 68..=9216.
    pub pf_mtu: u16,
    /// `BR_PHY_BOND_NAME`: the bond on the physical bridge, if bonding.
    pub bond: Option<String>,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            vlog: Vlog::Info,
            hw_offload: true,
            cpu_mask: None,
            socket_mem: None,
            encap_ip: None,
            dpdk_dev: None,
            pf_mtu: 1500,
            bond: None,
        }
    }
}

/// What was wrong with a config file, and on which line (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A line that is not `KEY=value`, or a value with unbalanced quotes.
    Syntax { line: usize, text: String },
    /// A key the guide does not define.
    UnknownKey { line: usize, key: String },
    /// A key set twice.
    Duplicate {
        line: usize,
        key: String,
        first: usize,
    },
    /// A value outside what the key allows.
    BadValue {
        line: usize,
        key: &'static str,
        value: String,
        expected: &'static str,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Syntax { line, text } => write!(
                f,
                "line {line}: '{text}' is not KEY=value (KEY=\"value\" for quoted values)"
            ),
            ConfigError::UnknownKey { line, key } => write!(
                f,
                "line {line}: unknown key {key} (known: {})",
                KEYS.join(", ")
            ),
            ConfigError::Duplicate { line, key, first } => {
                write!(f, "line {line}: {key} is set again (first on line {first})")
            }
            ConfigError::BadValue {
                line,
                key,
                value,
                expected,
            } => write!(f, "line {line}: {key}={value}: {key} must be {expected}"),
        }
    }
}

impl std::error::Error for ConfigError {}

impl NodeConfig {
    /// Parses and validates the text of an `ovs-dpdk-config` file.
    pub fn parse(text: &str) -> Result<NodeConfig, ConfigError> {
        let mut cfg = NodeConfig::default();
        let mut seen: Vec<(&'static str, usize)> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let t = raw.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let t = t.strip_prefix("export ").map_or(t, str::trim_start);
            let syntax = || ConfigError::Syntax {
                line,
                text: raw.trim().to_owned(),
            };
            let (key, value) = t.split_once('=').ok_or_else(syntax)?;
            if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(syntax());
            }
            let value = unquote(value).ok_or_else(syntax)?;
            let Some(&key) = KEYS.iter().find(|k| **k == key) else {
                return Err(ConfigError::UnknownKey {
                    line,
                    key: key.to_owned(),
                });
            };
            if let Some(&(_, first)) = seen.iter().find(|(k, _)| *k == key) {
                return Err(ConfigError::Duplicate {
                    line,
                    key: key.to_owned(),
                    first,
                });
            }
            seen.push((key, line));
            cfg.set(key, value, line)?;
        }
        Ok(cfg)
    }

    fn set(&mut self, key: &'static str, value: &str, line: usize) -> Result<(), ConfigError> {
        let bad = |expected| ConfigError::BadValue {
            line,
            key,
            value: value.to_owned(),
            expected,
        };
        match key {
            "VLOG" => {
                self.vlog = match value {
                    "info" => Vlog::Info,
                    "dbg" => Vlog::Dbg,
                    _ => return Err(bad("info or dbg")),
                }
            }
            "HW_OFFLOAD" => {
                self.hw_offload = match value {
                    "true" => true,
                    "false" => false,
                    _ => return Err(bad("true or false")),
                }
            }
            "CPU_MASK" => {
                const E: &str = "a non-zero hex core mask such as 0x02";
                let digits = value
                    .strip_prefix("0x")
                    .or_else(|| value.strip_prefix("0X"))
                    .ok_or(bad(E))?;
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(bad(E));
                }
                match u64::from_str_radix(digits, 16) {
                    Ok(m) if m != 0 => self.cpu_mask = Some(m),
                    _ => return Err(bad(E)),
                }
            }
            "SOCKET_MEM" => {
                const E: &str = "MB per NUMA node, comma-separated, such as \"2048,2048\"";
                let mem = value
                    .split(',')
                    .map(|mb| {
                        if !mb.is_empty() && mb.bytes().all(|b| b.is_ascii_digit()) {
                            mb.parse::<u32>().ok()
                        } else {
                            None
                        }
                    })
                    .collect::<Option<Vec<u32>>>()
                    .ok_or(bad(E))?;
                self.socket_mem = Some(mem);
            }
            "ENCAP_IP" => {
                const E: &str = "an IPv4 address with its prefix length, such as 6.6.6.208/24";
                let (ip, len) = value.split_once('/').ok_or(bad(E))?;
                let ip: Ipv4Addr = ip.parse().map_err(|_| bad(E))?;
                match len.parse::<u8>() {
                    Ok(l) if l <= 32 && len.bytes().all(|b| b.is_ascii_digit()) => {
                        self.encap_ip = Some((ip, l))
                    }
                    _ => return Err(bad(E)),
                }
            }
            "DPDK_DEV" => {
                self.dpdk_dev = Some(value.parse().map_err(bad)?);
            }
            "PF_MTU" => {
                const E: &str = "an MTU from 68 to 9216";
                match value.parse::<u16>() {
                    Ok(m) if (68..=9216).contains(&m) && !value.starts_with('+') => self.pf_mtu = m,
                    _ => return Err(bad(E)),
                }
            }
            "BR_PHY_BOND_NAME" => {
                if value.is_empty() {
                    self.bond = None;
                } else if value.len() <= 15
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_graphic() && b != b'/' && b != b':')
                {
                    self.bond = Some(value.to_owned());
                } else {
                    return Err(bad("an interface name of 1 to 15 characters without '/', ':' or spaces (or empty for no bond)"));
                }
            }
            _ => unreachable!("key checked against KEYS"),
        }
        Ok(())
    }

    /// The DPDK EAL arguments these settings imply, one argv element each:
    /// `-c 0x2`, `--socket-mem 2048,2048`, `-a 0000:b3:00.0,representor=vf[0-9]`.
    /// `representors` is the devargs representor list (see [`vf_representors`]);
    /// empty leaves it off.
    pub fn eal_args(&self, representors: &str) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(mask) = self.cpu_mask {
            args.extend(["-c".to_owned(), format!("{mask:#x}")]);
        }
        if let Some(mem) = &self.socket_mem {
            let mem: Vec<String> = mem.iter().map(u32::to_string).collect();
            args.extend(["--socket-mem".to_owned(), mem.join(",")]);
        }
        if let Some(dev) = self.dpdk_dev {
            let allow = if representors.is_empty() {
                dev.to_string()
            } else {
                format!("{dev},representor={representors}")
            };
            args.extend(["-a".to_owned(), allow]);
        }
        args
    }
}

/// The representor devargs for a PF with `num_vfs` VFs: `vf[0-9]` for 10,
/// `vf0` for 1, empty for none.
pub fn vf_representors(num_vfs: u32) -> String {
    match num_vfs {
        0 => String::new(),
        1 => "vf0".to_owned(),
        n => format!("vf[0-{}]", n - 1),
    }
}

/// The value with one pair of surrounding double quotes removed; `None` for
/// unbalanced quotes or a value with unquoted spaces (the shell would split it).
fn unquote(value: &str) -> Option<&str> {
    if let Some(inner) = value.strip_prefix('"') {
        let inner = inner.strip_suffix('"')?;
        (!inner.contains('"')).then_some(inner)
    } else {
        // A ` #` starts a shell comment after an unquoted value.
        let v = value.split_once(" #").map_or(value, |(v, _)| v).trim_end();
        (!v.contains(['"', ' ', '\t'])).then_some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_comments() {
        assert_eq!(unquote("\"2048,2048\""), Some("2048,2048"));
        assert_eq!(unquote("info # the level"), Some("info"));
        assert_eq!(unquote("\"2048"), None);
        assert_eq!(unquote("a b"), None);
    }

    #[test]
    fn representor_ranges() {
        assert_eq!(vf_representors(10), "vf[0-9]");
        assert_eq!(vf_representors(1), "vf0");
        assert_eq!(vf_representors(0), "");
    }
}
