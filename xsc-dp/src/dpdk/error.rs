//! DPDK errors, decoded once.
//!
//! DPDK reports failures three ways: a negative errno returned by the call,
//! `rte_errno` set beside a NULL or -1 return, and for rte_flow a filled
//! `struct rte_flow_error` (type, cause pointer, static message). Every call
//! in this module ends in [`DpdkError`], which keeps all three and says which
//! operation on which port failed.

use std::ffi::CStr;
use std::fmt;

use crate::ffi;

/// A failed DPDK call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DpdkError {
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
    fn blames_item(self) -> bool {
        matches!(
            self,
            Self::ItemSpec | Self::ItemLast | Self::ItemMask | Self::Item
        )
    }

    fn blames_action(self) -> bool {
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

    /// Decodes a filled `rte_flow_error`. `rc` is the call's return (a
    /// negative errno, or -1 with `rte_errno` set); `items` and `actions`
    /// are the arrays handed to the call, so the cause pointer can be turned
    /// into an index.
    pub(crate) fn decode(
        op: &'static str,
        port: u16,
        rc: i32,
        raw: &ffi::rte_flow_error,
        items: &[ffi::rte_flow_item],
        actions: &[ffi::rte_flow_action],
    ) -> Self {
        let errno = if rc < -1 { -rc } else { last_errno() };
        let cause = FlowErrorCause::from_raw(raw.type_);
        let message = if raw.message.is_null() {
            String::new()
        } else {
            // Safety: rte_flow_error.message is NULL or a NUL-terminated
            // string that lives at least as long as the error structure
            // (drivers pass string literals).
            unsafe { CStr::from_ptr(raw.message) }
                .to_string_lossy()
                .into_owned()
        };
        let index = if cause.blames_item() {
            index_of(raw.cause, items)
        } else if cause.blames_action() {
            index_of(raw.cause, actions)
        } else {
            None
        };
        Self {
            op,
            port,
            errno,
            cause,
            index,
            message,
        }
    }
}

/// The index of the element `ptr` points into, if it points into `slice`.
/// Drivers point the cause at the item or action itself, or at its spec.
fn index_of<T>(ptr: *const libc::c_void, slice: &[T]) -> Option<usize> {
    let start = slice.as_ptr() as usize;
    let size = std::mem::size_of::<T>();
    let addr = ptr as usize;
    (addr >= start && addr < start + std::mem::size_of_val(slice)).then(|| (addr - start) / size)
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

impl DpdkError {
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

    /// A failed ethdev/mempool call whose return value is a negative errno
    /// (or -1 with `rte_errno`).
    pub(crate) fn call(op: &'static str, port: Option<u16>, rc: i32) -> Self {
        let errno = if rc < -1 { -rc } else { last_errno() };
        Self::Call { op, port, errno }
    }
}

impl fmt::Display for DpdkError {
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

impl std::error::Error for DpdkError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Flow(e) => Some(e),
            _ => None,
        }
    }
}

impl From<FlowError> for DpdkError {
    fn from(e: FlowError) -> Self {
        Self::Flow(e)
    }
}

fn is_unsupported_errno(errno: i32) -> bool {
    errno == libc::ENOSYS || errno == libc::ENOTSUP || errno == libc::EOPNOTSUPP
}

/// `rte_errno` of this thread.
pub(crate) fn last_errno() -> i32 {
    // Safety: reads a thread-local integer.
    unsafe { ffi::xsc_errno() }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn raw_error(
        type_: ffi::rte_flow_error_type,
        cause: *const libc::c_void,
        msg: &'static CStr,
    ) -> ffi::rte_flow_error {
        ffi::rte_flow_error {
            type_,
            cause,
            message: msg.as_ptr(),
        }
    }

    #[test]
    fn decodes_type_errno_message_and_item_index() {
        let items: [ffi::rte_flow_item; 3] = Default::default();
        let cause = &items[1] as *const _ as *const libc::c_void;
        let raw = raw_error(ffi::RTE_FLOW_ERROR_TYPE_ITEM, cause, c"item not supported");
        let e = FlowError::decode("rte_flow_validate", 3, -libc::ENOTSUP, &raw, &items, &[]);
        assert_eq!(e.cause, FlowErrorCause::Item);
        assert_eq!(e.errno, libc::ENOTSUP);
        assert_eq!(e.index, Some(1));
        assert!(e.is_unsupported());
        assert_eq!(
            e.to_string(),
            "rte_flow_validate on port 3 failed: ENOTSUP (Operation not supported) (item) at item 1: item not supported"
        );
    }

    #[test]
    fn a_cause_outside_the_rule_has_no_index() {
        let actions: [ffi::rte_flow_action; 2] = Default::default();
        let elsewhere = 0x10usize as *const libc::c_void;
        let raw = raw_error(ffi::RTE_FLOW_ERROR_TYPE_ACTION, elsewhere, c"bad");
        let e = FlowError::decode("rte_flow_create", 0, -libc::EINVAL, &raw, &[], &actions);
        assert_eq!(e.index, None);
        assert!(!e.is_unsupported());
        assert!(e
            .to_string()
            .starts_with("rte_flow_create on port 0 failed: EINVAL"));
    }

    #[test]
    fn minus_one_reads_rte_errno() {
        // Safety: writes this thread's rte_errno.
        unsafe { ffi::xsc_set_errno(libc::ENOSPC) };
        let e = DpdkError::call("rte_eth_dev_configure", Some(2), -1);
        assert_eq!(e.errno(), Some(libc::ENOSPC));
        assert_eq!(
            e.to_string(),
            "rte_eth_dev_configure on port 2 failed: ENOSPC (No space left on device)"
        );
    }
}
