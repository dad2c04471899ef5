//! The offload engine and the node it runs on, one binary (no EAL: the
//! engine runs over the software eswitch here).
//!
//! - [`offloader`]: flows end in the states the translator predicts,
//!   modify, completions, conntrack, failures that leak nothing.
//! - [`cache`]: the UFID cache against a `HashMap` model (its loom models
//!   are the separate `loom_cache` binary, built with `--cfg loom`).
//! - [`stored`]: the compact stored form of megaflows over real dumps.
//! - [`stress`]: concurrent submitters against a sequential model.
//! - [`nic`]: the emulated NIC's hits and misses.
//! - [`node`]: node set-up against the deployment guide (fake sysfs trees
//!   in `node_tree`).
// `--cfg loom` swaps the cache's atomics for loom's, which only run inside
// `loom::model`: under it only `loom_cache` builds tests.
#![cfg(not(loom))]

#[path = "../node_tree/mod.rs"]
mod node_tree;

mod cache;
mod nic;
mod node;
mod offloader;
mod stored;
mod stress;
