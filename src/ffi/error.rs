//! Error codes, the thread-local last error, and [`guard`]: the one place a
//! call crosses from C into Rust and back.
//!
//! Every exported function runs its body inside [`guard`], which clears the
//! last error, catches panics, and turns an [`Error`] into its negative code
//! plus a message that `xsc_last_error()` returns. Only the codes of
//! [`XSC_ERRORS`] (the header's `XSC_E*`) ever reach C: device errnos are
//! mapped onto them once, in `From<DeviceError>`, and `guard` turns any other
//! code into [`XSC_EINTERNAL`] (a bug, said so in the message).

use std::any::Any;
use std::cell::RefCell;
use std::ffi::{c_char, c_int, CStr, CString};
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

use xsc_dp::device::DeviceError;
use xsc_dp::engine::{EngineError, SubmitError};

/// Success.
pub const XSC_OK: c_int = 0;
/// A flow or connection the offloader does not hold.
pub const XSC_ENOENT: c_int = -libc::ENOENT;
/// The device refused an operation without an errno.
pub const XSC_EIO: c_int = -libc::EIO;
/// The worker queue is full (or a worker thread could not be started).
pub const XSC_EAGAIN: c_int = -libc::EAGAIN;
/// No such DPDK port, or no EAL.
pub const XSC_ENODEV: c_int = -libc::ENODEV;
/// A bad argument.
pub const XSC_EINVAL: c_int = -libc::EINVAL;
/// Input that does not parse (netlink, conntrack text).
pub const XSC_EBADMSG: c_int = -libc::EBADMSG;
/// The device cannot do what the config asks.
pub const XSC_ENOTSUP: c_int = -libc::ENOTSUP;
/// The engine has stopped.
pub const XSC_ESHUTDOWN: c_int = -libc::ESHUTDOWN;
/// A panic inside the library, caught at the boundary.
pub const XSC_EINTERNAL: c_int = -libc::ENOTRECOVERABLE;

/// Every code a function of the C ABI returns as an error (and `XSC_OK`),
/// with the text `xsc_strerror()` gives for it.
pub const XSC_ERRORS: [(c_int, &CStr); 10] = [
    (XSC_OK, c"success"),
    (
        XSC_ENOENT,
        c"no such flow or connection (never put, deleted, or still queued)",
    ),
    (XSC_EIO, c"the device refused the operation"),
    (
        XSC_EAGAIN,
        c"the worker queue is full: wait, then submit again",
    ),
    (XSC_ENODEV, c"no such DPDK port, or no EAL running"),
    (XSC_EINVAL, c"invalid argument"),
    (XSC_EBADMSG, c"input does not parse"),
    (
        XSC_ENOTSUP,
        c"the device cannot do what the configuration asks",
    ),
    (XSC_ESHUTDOWN, c"the offloader's engine has stopped"),
    (
        XSC_EINTERNAL,
        c"internal error in libxsc_offload (a bug, please report it)",
    ),
];

/// Whether `code` is one of [`XSC_ERRORS`].
pub(crate) fn is_documented(code: c_int) -> bool {
    XSC_ERRORS.iter().any(|&(c, _)| c == code)
}

/// A static text for an `XSC_*` code; never NULL. See `xsc_offload.h`.
#[no_mangle]
pub extern "C" fn xsc_strerror(code: c_int) -> *const c_char {
    XSC_ERRORS
        .iter()
        .find(|&&(c, _)| c == code)
        .map_or(c"unknown xsc error code", |&(_, text)| text)
        .as_ptr()
}

/// A failed call: the code C sees and the message `xsc_last_error()` gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Error {
    pub(crate) code: c_int,
    pub(crate) message: String,
}

impl Error {
    pub(crate) fn new(code: c_int, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// [`XSC_EINVAL`]: a bad argument.
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(XSC_EINVAL, message)
    }

    /// [`XSC_EBADMSG`]: input that does not parse.
    pub(crate) fn bad_message(message: impl Into<String>) -> Self {
        Self::new(XSC_EBADMSG, message)
    }

    /// [`XSC_ENOENT`] for `what` (`"flow ufid:..."`).
    pub(crate) fn not_found(what: impl fmt::Display) -> Self {
        Self::new(
            XSC_ENOENT,
            format!("{what} is not held by the offloader (never put, deleted, or still queued)"),
        )
    }
}

impl From<SubmitError> for Error {
    fn from(e: SubmitError) -> Self {
        let code = match e {
            SubmitError::Full { .. } => XSC_EAGAIN,
            SubmitError::Stopped => XSC_ESHUTDOWN,
        };
        Self::new(code, e.to_string())
    }
}

impl From<EngineError> for Error {
    fn from(e: EngineError) -> Self {
        let code = match &e {
            EngineError::Config(_) => XSC_EINVAL,
            EngineError::NoFlowQueues { .. } => XSC_ENOTSUP,
            EngineError::Spawn(_) => XSC_EAGAIN,
        };
        Self::new(code, e.to_string())
    }
}

impl From<DeviceError> for Error {
    /// The device's errno, mapped onto the documented codes (the message
    /// keeps the errno's name): no port → `XSC_ENODEV`, an operation the
    /// driver lacks → `XSC_ENOTSUP`, anything else the device refused →
    /// `XSC_EIO`.
    fn from(e: DeviceError) -> Self {
        let code = match &e {
            DeviceError::NoSuchPort { .. } | DeviceError::EalNotAttachable { .. } => XSC_ENODEV,
            DeviceError::InvalidArgument { .. } => XSC_EINVAL,
            _ => match e.errno() {
                Some(libc::ENOTSUP | libc::ENOSYS) => XSC_ENOTSUP,
                Some(libc::ENODEV) => XSC_ENODEV,
                _ => XSC_EIO,
            },
        };
        Self::new(code, e.to_string())
    }
}

thread_local! {
    /// The message of the last failed call on this thread; `None` after a
    /// call that succeeded (so a successful call allocates nothing here).
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

/// A C string of `s` with every NUL byte written as `\0`.
pub(crate) fn c_string(s: String) -> CString {
    match CString::new(s) {
        Ok(c) => c,
        Err(e) => {
            let s = String::from_utf8_lossy(&e.into_vec()).replace('\0', "\\0");
            CString::new(s).unwrap_or_default()
        }
    }
}

fn set_last_error(message: Option<String>) {
    // try_with: during thread teardown the slot may be gone; then there is
    // nobody left to read the message.
    let _ = LAST_ERROR.try_with(|slot| {
        let mut slot = slot.borrow_mut();
        match message {
            None => {
                slot.take();
            }
            Some(m) => *slot = Some(c_string(m)),
        }
    });
}

/// The pointer `xsc_last_error()` returns: the message, or `""`.
pub(crate) fn last_error_ptr() -> *const c_char {
    LAST_ERROR
        .try_with(|slot| slot.borrow().as_ref().map(|c| c.as_ptr()))
        .ok()
        .flatten()
        .unwrap_or(c"".as_ptr())
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_owned()
    }
}

/// Runs the body of the exported function `func`: clears the last error,
/// returns the body's value, or its error's code with the message (prefixed
/// with `func`) kept for `xsc_last_error()`. A panic becomes
/// [`XSC_EINTERNAL`]; it never unwinds into C.
pub(crate) fn guard(func: &str, body: impl FnOnce() -> Result<c_int, Error>) -> c_int {
    set_last_error(None);
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) if is_documented(e.code) && e.code != XSC_OK => {
            set_last_error(Some(format!("{func}: {}", e.message)));
            e.code
        }
        Ok(Err(e)) => {
            set_last_error(Some(format!(
                "{func}: internal error (a bug in libxsc_offload, please report it): code {} is not documented: {}",
                e.code, e.message
            )));
            XSC_EINTERNAL
        }
        Err(payload) => {
            let message = panic_message(&*payload);
            // Dropping the payload runs foreign code (its Drop): keep that
            // inside the boundary too, and leak it should it panic again.
            if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
                std::mem::forget(again);
            }
            set_last_error(Some(format!(
                "{func}: internal error (a bug in libxsc_offload, please report it): {message}"
            )));
            XSC_EINTERNAL
        }
    }
}

/// [`guard`] for functions that return nothing to C.
pub(crate) fn guard_void(func: &str, body: impl FnOnce() -> Result<(), Error>) {
    guard(func, || body().map(|()| XSC_OK));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn last() -> String {
        // Safety: last_error_ptr is a valid C string until the next call.
        unsafe { CStr::from_ptr(last_error_ptr()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn a_panic_becomes_einternal_with_its_message() {
        let rc = guard("xsc_test", || panic!("boom {}", 7));
        assert_eq!(rc, XSC_EINTERNAL);
        assert!(last().starts_with("xsc_test: internal error"), "{}", last());
        assert!(last().ends_with("boom 7"), "{}", last());
    }

    #[test]
    fn success_clears_the_last_error_and_nul_bytes_are_escaped() {
        assert_eq!(guard("f", || Err(Error::invalid("a\0b"))), XSC_EINVAL);
        assert_eq!(last(), "f: a\\0b");
        assert_eq!(guard("f", || Ok(5)), 5);
        assert_eq!(last(), "");
    }

    #[test]
    fn every_code_has_a_static_text_and_unknown_codes_a_generic_one() {
        for (code, text) in XSC_ERRORS {
            // Safety: xsc_strerror returns a static C string.
            let got = unsafe { CStr::from_ptr(xsc_strerror(code)) };
            assert_eq!(got, text);
            assert!(!got.is_empty());
        }
        for code in [1, -1, -17, i32::MIN, i32::MAX] {
            // Safety: as above.
            let got = unsafe { CStr::from_ptr(xsc_strerror(code)) };
            assert_eq!(got, c"unknown xsc error code");
        }
    }

    #[test]
    fn an_undocumented_code_never_escapes() {
        assert_eq!(
            guard("f", || Err(Error::new(-libc::EEXIST, "x"))),
            XSC_EINTERNAL
        );
        assert!(
            last().contains("code -17 is not documented: x"),
            "{}",
            last()
        );
        let call = |errno| DeviceError::Call {
            op: "rte_flow_create",
            port: Some(0),
            errno,
        };
        assert_eq!(Error::from(call(libc::EBUSY)).code, XSC_EIO);
        assert_eq!(Error::from(call(libc::ENOSPC)).code, XSC_EIO);
        assert_eq!(Error::from(call(libc::ENOSYS)).code, XSC_ENOTSUP);
        assert_eq!(Error::from(call(libc::ENOTSUP)).code, XSC_ENOTSUP);
        let e = Error::from(call(libc::EBUSY));
        assert!(e.message.contains("EBUSY"), "{}", e.message);
    }

    #[test]
    fn codes_are_negated_linux_errnos() {
        assert_eq!(
            [XSC_ENOENT, XSC_EIO, XSC_EAGAIN, XSC_ENODEV, XSC_EINVAL],
            [-2, -5, -11, -19, -22]
        );
        assert_eq!(
            [XSC_EBADMSG, XSC_ENOTSUP, XSC_ESHUTDOWN, XSC_EINTERNAL],
            [-74, -95, -108, -131]
        );
    }
}
