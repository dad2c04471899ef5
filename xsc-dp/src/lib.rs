//! xsc-dp: offload Open vSwitch megaflows to rte_flow hardware rules.
//!
//! # The dependency rule
//!
//! The data flow runs one way (see `ARCHITECTURE.md`), and so do the
//! imports between the modules of this crate. Top to bottom:
//!
//! ```text
//! odp        the OVS flow language (text and netlink)
//! rule       the hardware rule vocabulary: HwRule, items, actions, kinds, direction
//! profile    data about a device: which kinds, sizes and registers it has
//! translate  Megaflow → HwRule, or a rejection
//! rte        HwRule → RteRule (the exact rte_flow structs), typed views of them, testpmd text
//! device     the FlowDevice trait, its errors and counters
//! dpdk       a real port (and probing it into a DeviceProfile) ┐ side by side,
//! eswitch    the software model of the NIC                      ┘ neither imports the other
//! engine     the Offloader: batches, the UFID cache, workers
//! node       the node set-up (EAL arguments, sysfs discovery)
//! ```
//!
//! A module imports only modules above it in this list (and [`ffi`], the raw
//! bindings); never one below it, and `dpdk` and `eswitch` never each other.
//! `scripts/check-layers` checks this in CI.
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
