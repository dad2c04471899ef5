//! `xsc-offload` as a user runs it: the built binary on real dumps, fake
//! sysfs trees and pcaps built here. One test binary for every subcommand
//! (each links DPDK once), a module per subcommand.

#[path = "../../xsc-dp/tests/node_tree/mod.rs"]
mod node_tree;

mod args;
mod node;
mod plan;
mod ports;
mod process;
mod replay;

use std::process::{Command, Output};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_xsc-offload");

/// Runs `xsc-offload ARGS`.
pub fn xsc(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run xsc-offload")
}

/// Standard output and error as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).expect("UTF-8 output")
}

/// `xsc-offload COMMAND ARGS`: (stdout, stderr, success).
pub fn run(command: &str, args: &[&str]) -> (String, String, bool) {
    let out = Command::new(BIN)
        .arg(command)
        .args(args)
        .output()
        .expect("run xsc-offload");
    (text(&out.stdout), text(&out.stderr), out.status.success())
}
