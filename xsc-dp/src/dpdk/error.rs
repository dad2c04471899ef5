//! Decoding DPDK's answers into [`DeviceError`]s, once: the negative errno
//! or `rte_errno` of a call, and a filled `struct rte_flow_error` whose cause
//! pointer is turned back into the index of the blamed item or action.

use std::ffi::CStr;

use crate::device::{DeviceError, FlowError, FlowErrorCause};
use crate::ffi;

impl FlowError {
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

impl DeviceError {
    /// A failed ethdev/mempool call whose return value is a negative errno
    /// (or -1 with `rte_errno`).
    pub(crate) fn call(op: &'static str, port: Option<u16>, rc: i32) -> Self {
        let errno = if rc < -1 { -rc } else { last_errno() };
        Self::Call { op, port, errno }
    }
}

/// `rte_errno` of this thread.
pub(crate) fn last_errno() -> i32 {
    // Safety: reads a thread-local integer.
    unsafe { ffi::xsc_errno() }
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
        let e = DeviceError::call("rte_eth_dev_configure", Some(2), -1);
        assert_eq!(e.errno(), Some(libc::ENOSPC));
        assert_eq!(
            e.to_string(),
            "rte_eth_dev_configure on port 2 failed: ENOSPC (No space left on device)"
        );
    }
}
