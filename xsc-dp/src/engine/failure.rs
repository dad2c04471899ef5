//! Why the engine could not offload a flow it did not reject: [`Failure`].
//!
//! A rejection ([`Rejected`](crate::translate::Rejected)) is the
//! translation saying a flow has no hardware form; a failure is the
//! engine or the device not managing one that has. [`FlowState`] keeps
//! them apart (`Rejected(reason)` vs `Failed(cause)`), and so do the
//! engine's counts.
//!
//! Invariants: every failure keeps its cause, reachable through
//! [`std::error::Error::source`]; its [`Display`](fmt::Display) carries the
//! cause's text as well, since some callers (the C ABI, the CLI) only
//! show one string. A device error is shown as the device said it, so its
//! text is what it was before the engine wrapped it.
//!
//! Must not depend on: the engine's workers or cache (the engine depends
//! on it, not the other way round).
//!
//! [`FlowState`]: super::FlowState

use std::fmt;

use crate::device::DeviceError;
use crate::odp::netlink::NetlinkError;
use crate::rte::LowerError;

/// Why a flow or connection that translated is not in hardware.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// Its rule does not fit rte_flow's C structures.
    Lower(LowerError),
    /// The flow cannot be kept (netlink-encoded) for `dump_offloaded`.
    Store(NetlinkError),
    /// The device refused a rule (full, unsupported, ...).
    Device(DeviceError),
}

impl Failure {
    /// A stable machine name of the cause, snake_case like
    /// [`Rejected::name`](crate::translate::Rejected::name): `lower`,
    /// `store` or `device` (never changed nor reused).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Lower(_) => "lower",
            Self::Store(_) => "store",
            Self::Device(_) => "device",
        }
    }

    /// The device's error, when the device refused.
    pub fn device(&self) -> Option<&DeviceError> {
        match self {
            Self::Device(e) => Some(e),
            Self::Lower(_) | Self::Store(_) => None,
        }
    }

    /// The device error's errno, when the device refused with one.
    pub fn errno(&self) -> Option<i32> {
        self.device().and_then(DeviceError::errno)
    }
}

impl From<DeviceError> for Failure {
    fn from(e: DeviceError) -> Self {
        Self::Device(e)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Lower(e) => write!(f, "rte_flow: {e}"),
            Self::Store(e) => write!(f, "flow: cannot keep it for the dump: {e}"),
            Self::Device(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Lower(e) => Some(e),
            Self::Store(e) => Some(e),
            Self::Device(e) => Some(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use super::*;

    #[test]
    fn source_is_the_cause_and_text_is_kept() {
        let lower = LowerError::OutOfRange {
            what: "raw_encap size",
            value: 70000,
        };
        let f = Failure::Lower(lower.clone());
        assert_eq!(f.to_string(), format!("rte_flow: {lower}"));
        assert_eq!(f.source().unwrap().to_string(), lower.to_string());
        assert_eq!(f.errno(), None);
        assert_eq!(f.name(), "lower");
        let dev = DeviceError::InvalidArgument {
            what: "no rule".into(),
        };
        let f = Failure::from(dev.clone());
        assert_eq!(f.to_string(), dev.to_string());
        assert_eq!(f.device(), Some(&dev));
        assert_eq!(f.name(), "device");
        assert_eq!(f.source().unwrap().to_string(), dev.to_string());
    }
}
