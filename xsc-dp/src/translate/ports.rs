//! [`PortMap`]: OVS datapath ports → where the NIC sees them.

use std::collections::HashMap;
use std::fmt;

use crate::odp::OdpPort;

/// Where an OVS datapath port lives on the NIC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PortTarget {
    /// A DPDK ethdev port: a VF representor, the PF (uplink) or another
    /// port of the E-Switch. `in_port` matches it with `REPRESENTED_PORT`,
    /// `output` sends with `REPRESENTED_PORT`.
    Ethdev(u16),
    /// A virtual port, such as a tunnel port after decap: matched as a
    /// register value, never an output.
    Virtual(u8),
}

/// OVS datapath port (number or name) → [`PortTarget`]. A port that is
/// not in the map is a rejection, never a guess.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortMap {
    by_number: HashMap<u32, PortTarget>,
    by_name: HashMap<String, PortTarget>,
    /// When set, OVS port N not in the map is DPDK port N (the `plan`
    /// default); names still need an entry.
    identity: bool,
}

/// A `--port-map` entry that does not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortMapError {
    /// The entry.
    pub entry: String,
    /// What was wrong.
    pub reason: &'static str,
}

impl fmt::Display for PortMapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "port map entry '{}': {}", self.entry, self.reason)
    }
}

impl std::error::Error for PortMapError {}

impl PortMap {
    /// An empty map: every port must be added.
    pub fn new() -> Self {
        Self::default()
    }

    /// OVS port N → DPDK port N for every number (names need entries).
    pub fn identity() -> Self {
        Self {
            identity: true,
            ..Self::default()
        }
    }

    /// Maps OVS port `number`.
    pub fn insert_number(&mut self, number: u32, target: PortTarget) {
        self.by_number.insert(number, target);
    }

    /// Maps OVS port `name` (as `dpctl/dump-flows -m` prints it).
    pub fn insert_name(&mut self, name: &str, target: PortTarget) {
        self.by_name.insert(name.to_owned(), target);
    }

    /// Reads `N=PORT,NAME=PORT,N=virtual:V,...` (`PORT` a DPDK port id,
    /// `V` a virtual port value 1-255), on top of the identity map when
    /// `identity` is set.
    pub fn parse(text: &str, identity: bool) -> Result<Self, PortMapError> {
        let mut map = if identity {
            Self::identity()
        } else {
            Self::new()
        };
        for entry in text
            .split([',', '\n'])
            .map(str::trim)
            .filter(|e| !e.is_empty() && !e.starts_with('#'))
        {
            let err = |reason| PortMapError {
                entry: entry.to_owned(),
                reason,
            };
            let (ovs, nic) = entry
                .split_once('=')
                .ok_or_else(|| err("expected OVS_PORT=DPDK_PORT"))?;
            let (ovs, nic) = (ovs.trim(), nic.trim());
            let target = if let Some(v) = nic.strip_prefix("virtual:") {
                match v.parse::<u8>() {
                    Ok(v) if v > 0 => PortTarget::Virtual(v),
                    _ => return Err(err("a virtual port value is 1 to 255")),
                }
            } else {
                PortTarget::Ethdev(
                    nic.parse()
                        .map_err(|_| err("a DPDK port id is 0 to 65535"))?,
                )
            };
            if ovs.is_empty() {
                return Err(err("the OVS port is empty"));
            }
            match ovs.parse::<u32>() {
                Ok(n) => map.insert_number(n, target),
                Err(_) if ovs.len() < crate::odp::IFNAMSIZ => map.insert_name(ovs, target),
                Err(_) => return Err(err("a port name has at most 15 bytes")),
            }
        }
        Ok(map)
    }

    /// Where `port` is, if known.
    pub fn lookup(&self, port: &OdpPort) -> Option<PortTarget> {
        match port {
            OdpPort::Number(n) => self.by_number.get(n).copied().or_else(|| {
                (self.identity && *n <= u32::from(u16::MAX))
                    .then_some(PortTarget::Ethdev(*n as u16))
            }),
            OdpPort::Name(name) => self.by_name.get(name.as_str()).copied(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::odp::PortName;

    fn name(s: &str) -> OdpPort {
        OdpPort::Name(PortName::new(s).unwrap())
    }

    #[test]
    fn parses_numbers_names_and_virtual_ports() {
        let m = PortMap::parse("15=3, 8=4,p1=1,vxlan_sys_4789=virtual:1", false).unwrap();
        assert_eq!(m.lookup(&OdpPort::Number(15)), Some(PortTarget::Ethdev(3)));
        assert_eq!(m.lookup(&OdpPort::Number(8)), Some(PortTarget::Ethdev(4)));
        assert_eq!(m.lookup(&name("p1")), Some(PortTarget::Ethdev(1)));
        assert_eq!(
            m.lookup(&name("vxlan_sys_4789")),
            Some(PortTarget::Virtual(1))
        );
        assert_eq!(
            m.lookup(&OdpPort::Number(9)),
            None,
            "unknown ports are not guessed"
        );
        assert_eq!(m.lookup(&name("p2")), None);
    }

    #[test]
    fn identity_maps_numbers_but_not_names() {
        let m = PortMap::parse("2=7", true).unwrap();
        assert_eq!(m.lookup(&OdpPort::Number(2)), Some(PortTarget::Ethdev(7)));
        assert_eq!(m.lookup(&OdpPort::Number(15)), Some(PortTarget::Ethdev(15)));
        assert_eq!(m.lookup(&OdpPort::Number(70000)), None);
        assert_eq!(m.lookup(&name("p1")), None);
    }

    #[test]
    fn bad_entries_say_what_is_wrong() {
        let e = PortMap::parse("1=2,3", false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "port map entry '3': expected OVS_PORT=DPDK_PORT"
        );
        let e = PortMap::parse("1=65536", false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "port map entry '1=65536': a DPDK port id is 0 to 65535"
        );
        let e = PortMap::parse("t=virtual:0", false).unwrap_err();
        assert_eq!(e.reason, "a virtual port value is 1 to 255");
    }
}
