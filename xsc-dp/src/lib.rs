//! xsc-dp: offload Open vSwitch megaflows to rte_flow hardware rules.
//!
//! The data flow runs one way (see `ARCHITECTURE.md`):
//! OVS text or netlink → [`odp`] (typed megaflows) → translate → [`rte`]
//! (the exact `rte_flow` structs) → [`dpdk`] (real ports) or the software NIC.
#![deny(unsafe_op_in_unsafe_fn)]

/// The raw DPDK bindings this crate is built on.
pub use xsc_sys as ffi;

/// The OVS datapath flow language (its own crate, `xsc-odp`, which builds
/// without DPDK): `xsc_dp::odp::Megaflow` and `crate::odp::…` name it here.
pub use xsc_odp as odp;

pub mod device;
pub mod dpdk;
pub mod engine;
pub mod eswitch;
pub mod node;
pub mod profile;
pub mod rte;
pub mod rule;
pub mod translate;
