//! `struct xsc_offloader_config`: its C layout, its defaults, and the
//! checked conversion into the engine's settings and a device.

use std::ffi::c_char;
use std::time::Duration;

use xsc_dp::engine::{EngineConfig, Mode};
use xsc_dp::profile::DeviceProfile;
use xsc_dp::translate::{self, PortMap};

use super::args;
use super::error::Error;

/// `XSC_DEVICE_ESWITCH`: the software model of the NIC.
pub const XSC_DEVICE_ESWITCH: u32 = 0;
/// `XSC_DEVICE_DPDK`: a port of the host's DPDK.
pub const XSC_DEVICE_DPDK: u32 = 1;
/// `XSC_MODE_AUTO`.
pub const XSC_MODE_AUTO: u32 = 0;
/// `XSC_MODE_SYNC`.
pub const XSC_MODE_SYNC: u32 = 1;
/// `XSC_MODE_ASYNC`.
pub const XSC_MODE_ASYNC: u32 = 2;

/// `struct xsc_offloader_config` (see `include/xsc_offload.h` for each
/// field).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct xsc_offloader_config {
    pub size: u32,
    pub device: u32,
    pub profile: *const c_char,
    pub ports: *const u16,
    pub n_ports: usize,
    pub port_map: *const c_char,
    pub software_port: u16,
    pub reserved0: u16,
    pub flow_priority: u32,
    pub workers: u32,
    pub batch: u32,
    pub queue_depth: u32,
    pub mode: u32,
    pub stats_interval_ms: u32,
    pub reserved1: u32,
}

impl Default for xsc_offloader_config {
    fn default() -> Self {
        let engine = EngineConfig::default();
        let clamp = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        Self {
            size: std::mem::size_of::<Self>() as u32,
            device: XSC_DEVICE_ESWITCH,
            profile: std::ptr::null(),
            ports: std::ptr::null(),
            n_ports: 0,
            port_map: std::ptr::null(),
            software_port: engine.translate.software_port,
            reserved0: 0,
            flow_priority: engine.translate.flow_priority,
            workers: clamp(engine.workers),
            batch: clamp(engine.batch),
            queue_depth: clamp(engine.queue_depth),
            mode: XSC_MODE_AUTO,
            stats_interval_ms: engine
                .stats_interval
                .map_or(0, |d| u32::try_from(d.as_millis()).unwrap_or(u32::MAX)),
            reserved1: 0,
        }
    }
}

/// Which device, with what it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DeviceChoice {
    /// The eswitch's ports, the software port first.
    Eswitch { ports: Vec<u16> },
    /// The DPDK port the rules go to.
    Dpdk { port: u16 },
}

/// A checked config: everything copied out of C memory.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) device: DeviceChoice,
    pub(crate) profile: DeviceProfile,
    pub(crate) ports: PortMap,
    pub(crate) engine: EngineConfig,
}

impl xsc_offloader_config {
    /// Checks every field and copies what it points to.
    ///
    /// # Safety
    /// `profile` and `port_map` are NULL or NUL-terminated strings; `ports`
    /// is NULL or points to `n_ports` readable `uint16_t`.
    pub(crate) unsafe fn settings(&self) -> Result<Settings, Error> {
        let expected = std::mem::size_of::<Self>();
        if self.size as usize != expected {
            return Err(Error::invalid(format!(
                "config.size is {}, this library's struct xsc_offloader_config has {expected} bytes: call xsc_offloader_config_init() and build against this library's xsc_offload.h",
                self.size
            )));
        }
        if self.reserved0 != 0 || self.reserved1 != 0 {
            return Err(Error::invalid(
                "config.reserved0 and config.reserved1 must be 0",
            ));
        }
        // Safety: forwarded contract.
        let profile_name = unsafe { args::c_str(self.profile, "config.profile") }?;
        let profile = match profile_name {
            None => DeviceProfile::metascale(),
            Some(name) => DeviceProfile::by_name(name).ok_or_else(|| {
                Error::invalid(format!(
                    "config.profile is {name:?}: expected \"metascale\" or \"generic\""
                ))
            })?,
        };
        // Safety: forwarded contract.
        let port_map = unsafe { args::c_str(self.port_map, "config.port_map") }?;
        let ports = PortMap::parse(port_map.unwrap_or(""), true)
            .map_err(|e| Error::invalid(format!("config.port_map: {e}")))?;
        if self.n_ports > usize::from(u16::MAX) + 1 {
            return Err(Error::invalid(format!(
                "config.n_ports is {}: there are at most 65536 DPDK port ids",
                self.n_ports
            )));
        }
        let listed: &[u16] = if self.n_ports == 0 {
            &[]
        } else if self.ports.is_null() {
            return Err(Error::invalid(format!(
                "config.ports is NULL with config.n_ports {}",
                self.n_ports
            )));
        } else if !self.ports.is_aligned() {
            return Err(Error::invalid("config.ports is not aligned to 2 bytes"));
        } else {
            // Safety: non-NULL, aligned, n_ports bounded above; readable
            // per the caller's contract.
            unsafe { std::slice::from_raw_parts(self.ports, self.n_ports) }
        };
        let device = match self.device {
            XSC_DEVICE_ESWITCH => {
                let mut ports = vec![self.software_port];
                for &p in listed {
                    if !ports.contains(&p) {
                        ports.push(p);
                    }
                }
                DeviceChoice::Eswitch { ports }
            }
            XSC_DEVICE_DPDK => match listed {
                [port] => DeviceChoice::Dpdk { port: *port },
                _ => {
                    return Err(Error::invalid(format!(
                        "config.n_ports is {} for XSC_DEVICE_DPDK: expected exactly one port, the one rules are created on (the E-Switch manager)",
                        listed.len()
                    )))
                }
            },
            other => {
                return Err(Error::invalid(format!(
                    "config.device is {other}: expected XSC_DEVICE_ESWITCH (0) or XSC_DEVICE_DPDK (1)"
                )))
            }
        };
        let mode = match self.mode {
            XSC_MODE_AUTO => Mode::Auto,
            XSC_MODE_SYNC => Mode::Sync,
            XSC_MODE_ASYNC => Mode::Async,
            other => {
                return Err(Error::invalid(format!(
                    "config.mode is {other}: expected XSC_MODE_AUTO (0), XSC_MODE_SYNC (1) or XSC_MODE_ASYNC (2)"
                )))
            }
        };
        for (name, v) in [
            ("workers", self.workers),
            ("batch", self.batch),
            ("queue_depth", self.queue_depth),
        ] {
            if v == 0 {
                return Err(Error::invalid(format!(
                    "config.{name} is 0: it must be at least 1"
                )));
            }
        }
        let engine = EngineConfig {
            workers: self.workers as usize,
            batch: self.batch as usize,
            queue_depth: self.queue_depth as usize,
            mode,
            translate: translate::Config {
                software_port: self.software_port,
                flow_priority: self.flow_priority,
            },
            stats_interval: (self.stats_interval_ms > 0)
                .then(|| Duration::from_millis(u64::from(self.stats_interval_ms))),
            ..EngineConfig::default()
        };
        Ok(Settings {
            device,
            profile,
            ports,
            engine,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(c: &xsc_offloader_config) -> Result<Settings, Error> {
        // Safety: the pointers in the configs below are NULL or valid.
        unsafe { c.settings() }
    }

    #[test]
    fn the_defaults_are_the_engines() {
        let s = settings(&xsc_offloader_config::default()).expect("defaults are valid");
        assert_eq!(s.device, DeviceChoice::Eswitch { ports: vec![0] });
        assert_eq!(s.engine.workers, EngineConfig::default().workers);
        assert_eq!(
            s.engine.stats_interval,
            EngineConfig::default().stats_interval
        );
        assert_eq!(s.profile, DeviceProfile::metascale());
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases: Vec<(xsc_offloader_config, &str)> = vec![
            (
                xsc_offloader_config {
                    size: 8,
                    ..Default::default()
                },
                "config.size is 8",
            ),
            (
                xsc_offloader_config {
                    device: 7,
                    ..Default::default()
                },
                "config.device is 7",
            ),
            (
                xsc_offloader_config {
                    mode: 3,
                    ..Default::default()
                },
                "config.mode is 3",
            ),
            (
                xsc_offloader_config {
                    workers: 0,
                    ..Default::default()
                },
                "config.workers is 0",
            ),
            (
                xsc_offloader_config {
                    profile: c"bluefield".as_ptr(),
                    ..Default::default()
                },
                "config.profile is \"bluefield\"",
            ),
            (
                xsc_offloader_config {
                    port_map: c"15=x".as_ptr(),
                    ..Default::default()
                },
                "config.port_map: port map entry '15=x'",
            ),
            (
                xsc_offloader_config {
                    n_ports: 2,
                    ..Default::default()
                },
                "config.ports is NULL with config.n_ports 2",
            ),
            (
                xsc_offloader_config {
                    device: XSC_DEVICE_DPDK,
                    ..Default::default()
                },
                "config.n_ports is 0 for XSC_DEVICE_DPDK",
            ),
        ];
        for (c, want) in cases {
            let e = settings(&c).expect_err(want);
            assert_eq!(e.code, super::super::XSC_EINVAL);
            assert!(
                e.message.starts_with(want),
                "{} does not start with {want}",
                e.message
            );
        }
    }

    #[test]
    fn eswitch_ports_start_with_the_software_port_once() {
        let ports = [8u16, 0, 15, 8];
        let c = xsc_offloader_config {
            ports: ports.as_ptr(),
            n_ports: ports.len(),
            software_port: 0,
            ..Default::default()
        };
        assert_eq!(
            settings(&c).expect("valid").device,
            DeviceChoice::Eswitch {
                ports: vec![0, 8, 15]
            }
        );
    }
}
