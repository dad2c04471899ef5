//! The C ABI (`include/xsc_offload.h`): what an OVS-DPDK offload provider
//! links to offload megaflows and conntrack entries through
//! [`xsc_dp::engine::Offloader`].
//!
//! - `error`: the `XSC_E*` codes (negated Linux errnos), the
//!   thread-local last error, and `guard`, which every exported function
//!   runs its body in: no panic crosses into C.
//! - `args`: checked reads of C arguments (NULL with a length, alignment,
//!   UTF-8); what cannot be checked is the caller's contract, written in
//!   the header.
//! - `config`: `struct xsc_offloader_config` and its conversion into
//!   the engine's settings and a device (the software eswitch, or a port of
//!   the host's DPDK through [`xsc_dp::dpdk::Eal::attach`]).
//! - `offloader`: the opaque handle and the `extern "C"` functions.
//! - `version`: `XSC_VERSION_*`, `xsc_version()`, `xsc_version_string()`.
//!
//! Invariants: the library keeps no pointer it was given past the call;
//! what it hands out (handles, dump strings) is freed only by its own
//! functions. Types here are named as in the header (`xsc_flow_stats`), so
//! a reader can match the two; `tests/c_abi.rs` checks their layouts
//! against the C compiler's and the header's constants against these.
//! This module must not hold logic of its own beyond argument checks and
//! conversions: everything else belongs in `xsc-dp`.

mod args;
mod config;
mod error;
mod nic;
mod offloader;
mod version;

pub use config::{
    xsc_offloader_config, XSC_DEVICE_DPDK, XSC_DEVICE_ESWITCH, XSC_MODE_ASYNC, XSC_MODE_AUTO,
    XSC_MODE_SYNC,
};
pub use error::{
    xsc_strerror, XSC_EAGAIN, XSC_EBADMSG, XSC_EINTERNAL, XSC_EINVAL, XSC_EIO, XSC_ENODEV,
    XSC_ENOENT, XSC_ENOTSUP, XSC_ERRORS, XSC_ESHUTDOWN, XSC_OK,
};
pub use nic::*;
pub use offloader::*;
pub use version::{
    xsc_version, xsc_version_string, XSC_VERSION_MAJOR, XSC_VERSION_MINOR, XSC_VERSION_NUMBER,
    XSC_VERSION_PATCH,
};
