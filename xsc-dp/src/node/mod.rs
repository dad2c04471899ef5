//! Node set-up for metaScale offload: the deployment guide's
//! `/opt/ovs-config/ovs-dpdk-config` ([`config`]) and the metaScale devices
//! the kernel shows in sysfs ([`sysfs`]).
//!
//! Both are read from plain files so they can be tested against fake trees;
//! nothing here touches DPDK or runs a program. What the CLI does with them
//! (`xsc-offload node check`) lives in the binary.

use std::fmt;
use std::str::FromStr;

pub mod config;
pub mod sysfs;

/// A PCI address in the kernel's `DDDD:BB:DD.F` form (hex), as sysfs names
/// devices and as `DPDK_DEV` and `devlink dev ... pci/ADDR` write them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PciAddr {
    pub domain: u16,
    pub bus: u8,
    /// 0..=0x1f
    pub device: u8,
    /// 0..=7
    pub function: u8,
}

impl FromStr for PciAddr {
    type Err = &'static str;

    /// Parses `DDDD:BB:DD.F`; the error says what the form is.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const FORM: &str = "a PCI address DDDD:BB:DD.F (hex; device <= 1f, function <= 7)";
        let hex = |t: &str, len: usize| {
            if t.len() == len && t.bytes().all(|b| b.is_ascii_hexdigit()) {
                u16::from_str_radix(t, 16).map_err(|_| FORM)
            } else {
                Err(FORM)
            }
        };
        let (domain, rest) = s.split_once(':').ok_or(FORM)?;
        let (bus, rest) = rest.split_once(':').ok_or(FORM)?;
        let (device, function) = rest.split_once('.').ok_or(FORM)?;
        let (domain, bus, device, function) = (
            hex(domain, 4)?,
            hex(bus, 2)?,
            hex(device, 2)?,
            hex(function, 1)?,
        );
        if device > 0x1f || function > 7 {
            return Err(FORM);
        }
        Ok(PciAddr {
            domain,
            bus: bus as u8,
            device: device as u8,
            function: function as u8,
        })
    }
}

impl fmt::Display for PciAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04x}:{:02x}:{:02x}.{:x}",
            self.domain, self.bus, self.device, self.function
        )
    }
}

#[cfg(test)]
mod tests {
    use super::PciAddr;

    #[test]
    fn pci_addresses_round_trip_and_reject_out_of_range_parts() {
        let a: PciAddr = "0000:b3:01.3".parse().unwrap();
        assert_eq!((a.bus, a.device, a.function), (0xb3, 1, 3));
        assert_eq!(a.to_string(), "0000:b3:01.3");
        for bad in [
            "b3:00.0",
            "0000:b3:20.0",
            "0000:b3:00.8",
            "0000:g3:00.0",
            "0000:b3:00",
        ] {
            assert!(bad.parse::<PciAddr>().is_err(), "{bad}");
        }
    }
}
