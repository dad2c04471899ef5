//! xsc-offload: the C ABI an OVS-DPDK offload provider links
//! (`include/xsc_offload.h`, implemented in [`ffi`]), and the CLI.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod ffi;
