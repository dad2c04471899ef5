//! The errors a [`FlowDevice`](super::FlowDevice) reports, in rte_flow's
//! terms.
//!
//! DPDK reports failures three ways: a negative errno returned by the call,
//! `rte_errno` set beside a NULL or -1 return, and for rte_flow a filled
//! `struct rte_flow_error` (type, cause pointer, static message).
//! [`DeviceError`] keeps all three and says which operation on which port
//! failed. The DPDK port decodes DPDK's answers into it (`dpdk::error`); the
//! software eswitch builds the same values for the same failures, so the
//! engine cannot tell the two devices apart.

use std::ffi::CStr;
use std::fmt;

use crate::ffi;

/// A failed DPDK call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceError {
    /// `Eal::init` after EAL was already initialised (or torn down) in this
    /// process: DPDK allows exactly one `rte_eal_init` per process.
    EalAlreadyInitialized,
    /// `Eal::attach` in a process where nobody has called `rte_eal_init`,
    /// or where this crate initialised EAL itself (then share that `Eal`).
    EalNotAttachable {
        /// Which of the two.
        why: &'static str,
    },
    /// `rte_eal_init` failed.
    EalInit {
        /// `rte_errno` after the call.
        errno: i32,
    },
    /// An argument could not be handed to DPDK (an interior NUL byte, a
    /// count over DPDK's integer width, an empty pattern).
    InvalidArgument {
        /// What was wrong.
        what: String,
    },
    /// No ethdev port of that name or id exists.
    NoSuchPort {
        /// The name or id asked for.
        port: String,
    },
    /// An ethdev or mempool call failed.
    Call {
        /// The DPDK function, e.g. `rte_eth_dev_configure`.
        op: &'static str,
        /// The port it was called on, when there is one.
        port: Option<u16>,
        /// The positive errno.
        errno: i32,
    },
    /// An rte_flow call failed.
    Flow(FlowError),
}

/// A failed rte_flow call, decoded from `struct rte_flow_error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowError {
    /// The rte_flow function, e.g. `rte_flow_create`.
    pub op: &'static str,
    /// The port the call was made on.
    pub port: u16,
    /// The positive errno (`ENOTSUP`, `ENOSYS`, `EINVAL`, `ENOSPC`, ...).
    pub errno: i32,
    /// `rte_flow_error.type`: what part of the rule the driver blames.
    pub cause: FlowErrorCause,
    /// Index of the blamed item or action in the rule handed to the call,
    /// when the driver's cause pointer points into it.
    pub index: Option<usize>,
    /// The driver's message (`rte_flow_error.message`), empty when it gave none.
    pub message: String,
}

/// `enum rte_flow_error_type`, named as in DPDK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum FlowErrorCause {
    None,
    Unspecified,
    Handle,
    AttrGroup,
    AttrPriority,
    AttrIngress,
    AttrEgress,
    AttrTransfer,
    Attr,
    ItemNum,
    ItemSpec,
    ItemLast,
    ItemMask,
    Item,
    ActionNum,
    ActionConf,
    Action,
    State,
    /// A value this DPDK release does not define.
    Other(u32),
}

impl FlowErrorCause {
    /// Decodes `rte_flow_error.type`.
    pub fn from_raw(raw: ffi::rte_flow_error_type) -> Self {
        match raw {
            ffi::RTE_FLOW_ERROR_TYPE_NONE => Self::None,
            ffi::RTE_FLOW_ERROR_TYPE_UNSPECIFIED => Self::Unspecified,
            ffi::RTE_FLOW_ERROR_TYPE_HANDLE => Self::Handle,
            ffi::RTE_FLOW_ERROR_TYPE_ATTR_GROUP => Self::AttrGroup,
            ffi::RTE_FLOW_ERROR_TYPE_ATTR_PRIORITY => Self::AttrPriority,
            ffi::RTE_FLOW_ERROR_TYPE_ATTR_INGRESS => Self::AttrIngress,
            ffi::RTE_FLOW_ERROR_TYPE_ATTR_EGRESS => Self::AttrEgress,
            ffi::RTE_FLOW_ERROR_TYPE_ATTR_TRANSFER => Self::AttrTransfer,
            ffi::RTE_FLOW_ERROR_TYPE_ATTR => Self::Attr,
            ffi::RTE_FLOW_ERROR_TYPE_ITEM_NUM => Self::ItemNum,
            ffi::RTE_FLOW_ERROR_TYPE_ITEM_SPEC => Self::ItemSpec,
            ffi::RTE_FLOW_ERROR_TYPE_ITEM_LAST => Self::ItemLast,
            ffi::RTE_FLOW_ERROR_TYPE_ITEM_MASK => Self::ItemMask,
            ffi::RTE_FLOW_ERROR_TYPE_ITEM => Self::Item,
            ffi::RTE_FLOW_ERROR_TYPE_ACTION_NUM => Self::ActionNum,
            ffi::RTE_FLOW_ERROR_TYPE_ACTION_CONF => Self::ActionConf,
            ffi::RTE_FLOW_ERROR_TYPE_ACTION => Self::Action,
            ffi::RTE_FLOW_ERROR_TYPE_STATE => Self::State,
            other => Self::Other(other),
        }
    }

    /// Whether the cause pointer points at a pattern item (else an action,
    /// the attributes or nothing).
    pub(crate) fn blames_item(self) -> bool {
        matches!(
            self,
            Self::ItemSpec | Self::ItemLast | Self::ItemMask | Self::Item
        )
    }

    pub(crate) fn blames_action(self) -> bool {
        matches!(self, Self::ActionConf | Self::Action)
    }
}

impl fmt::Display for FlowErrorCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::None => "none",
            Self::Unspecified => "unspecified",
            Self::Handle => "flow handle",
            Self::AttrGroup => "group attribute",
            Self::AttrPriority => "priority attribute",
            Self::AttrIngress => "ingress attribute",
            Self::AttrEgress => "egress attribute",
            Self::AttrTransfer => "transfer attribute",
            Self::Attr => "attributes",
            Self::ItemNum => "pattern length",
            Self::ItemSpec => "item spec",
            Self::ItemLast => "item last",
            Self::ItemMask => "item mask",
            Self::Item => "item",
            Self::ActionNum => "action count",
            Self::ActionConf => "action configuration",
            Self::Action => "action",
            Self::State => "state",
            Self::Other(raw) => return write!(f, "error type {raw}"),
        };
        f.write_str(name)
    }
}

impl FlowError {
    /// Whether the driver does not implement what was asked (`ENOSYS`,
    /// `ENOTSUP`/`EOPNOTSUPP`): the rule may be fine, this port cannot do it.
    pub fn is_unsupported(&self) -> bool {
        is_unsupported_errno(self.errno)
    }
}

impl fmt::Display for FlowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} on port {} failed: {} ({})",
            self.op,
            self.port,
            errno_name(self.errno),
            self.cause
        )?;
        if let Some(i) = self.index {
            let what = if self.cause.blames_item() {
                "item"
            } else {
                "action"
            };
            write!(f, " at {what} {i}")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for FlowError {}

impl DeviceError {
    /// The errno behind this error, if DPDK gave one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Self::EalInit { errno } | Self::Call { errno, .. } => Some(*errno),
            Self::Flow(e) => Some(e.errno),
            _ => None,
        }
    }

    /// Whether the port or driver does not implement the operation.
    pub fn is_unsupported(&self) -> bool {
        self.errno().is_some_and(is_unsupported_errno)
    }
}

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EalAlreadyInitialized => {
                f.write_str("EAL was already initialised in this process (DPDK allows one rte_eal_init per process)")
            }
            Self::EalNotAttachable { why } => write!(f, "cannot attach to EAL: {why}"),
            Self::EalInit { errno } => write!(f, "rte_eal_init failed: {}", errno_name(*errno)),
            Self::InvalidArgument { what } => write!(f, "invalid argument: {what}"),
            Self::NoSuchPort { port } => write!(f, "no DPDK port '{port}'"),
            Self::Call { op, port: Some(p), errno } => write!(f, "{op} on port {p} failed: {}", errno_name(*errno)),
            Self::Call { op, port: None, errno } => write!(f, "{op} failed: {}", errno_name(*errno)),
            Self::Flow(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for DeviceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Flow(e) => Some(e),
            _ => None,
        }
    }
}

impl From<FlowError> for DeviceError {
    fn from(e: FlowError) -> Self {
        Self::Flow(e)
    }
}

fn is_unsupported_errno(errno: i32) -> bool {
    errno == libc::ENOSYS || errno == libc::ENOTSUP || errno == libc::EOPNOTSUPP
}

/// "ENOTSUP (Operation not supported)" — the symbolic name an engineer
/// greps for, and DPDK's own description of it.
pub fn errno_name(errno: i32) -> String {
    let symbol = match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EIO => "EIO",
        libc::E2BIG => "E2BIG",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::ENODEV => "ENODEV",
        libc::EINVAL => "EINVAL",
        libc::ENOSPC => "ENOSPC",
        libc::ERANGE => "ERANGE",
        libc::ENOSYS => "ENOSYS",
        libc::ENOTSUP => "ENOTSUP",
        libc::EALREADY => "EALREADY",
        libc::EPROTO => "EPROTO",
        libc::ENOTRECOVERABLE => "ENOTRECOVERABLE",
        _ => "",
    };
    // Safety: rte_strerror returns a pointer to a static or thread-local
    // NUL-terminated buffer; it is copied before any other DPDK call.
    let text = unsafe { CStr::from_ptr(ffi::rte_strerror(errno)) }
        .to_string_lossy()
        .into_owned();
    if symbol.is_empty() {
        format!("errno {errno} ({text})")
    } else {
        format!("{symbol} ({text})")
    }
}
