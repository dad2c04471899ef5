//! The C ABI (`include/xsc_offload.h`) as C sees it, and its error paths.
//!
//! - `examples/ovs_provider.c`, an OVS offload provider in miniature, is
//!   compiled with the system C compiler against the header and the shared
//!   library cargo built for this test (`libxsc_offload.so`, beside this
//!   test binary), then run on the seed's flows and on the Kube-OVN capture
//!   (flows as netlink bytes written here with `Megaflow::to_netlink`, and
//!   conntrack lines), and once as OVS-DPDK would load it: the program
//!   initialises EAL itself and the offloader attaches to its port. Its
//!   figures must be what the Rust engine says for the same input.
//! - The same runs under valgrind's memcheck must show no error and no
//!   leak. Without valgrind they are skipped loudly, except under `CI`,
//!   where that fails (`scripts/setup` installs it).
//! - The header's constants and struct layouts must be the library's, and
//!   every exported function must be declared in the header.
//! - Bad arguments (NULL handle, NULL pointer with a length, misaligned
//!   UFID), malformed netlink and conntrack text that is not UTF-8 return
//!   their codes with a message in `xsc_last_error()`.

use std::ffi::{c_char, CStr};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::ptr::null_mut;
use std::sync::Arc;

use xsc_dp::engine::{EngineConfig, Offloader};
use xsc_dp::eswitch::Eswitch;
use xsc_dp::odp::netlink::NoPortNames;
use xsc_dp::odp::{parse_dump, ConnEntry, Megaflow, Ufid};
use xsc_dp::profile::DeviceProfile;
use xsc_dp::translate::{Config, PortMap};
use xsc_offload::ffi::*;

mod calls;
mod header;
mod program;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// The guide's six offloaded flows (`dpctl/dump-flows type=offloaded`).
const SEED_FLOWS: &str = "xsc-dp/tests/data/odp/corpus/seed-offloaded.flows";
/// The Kube-OVN-shaped capture from real OVS (`xsc-dp/tests/data/ovs/README.md`).
const KUBE_FLOWS: &str = "xsc-dp/tests/data/ovs/kube-ovn.flows";
const KUBE_CONNTRACK: &str = "xsc-dp/tests/data/ovs/kube-ovn.conntrack";

fn loud(msg: &str) {
    let _ = writeln!(std::io::stderr(), "\n*** {msg} ***\n");
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// A scratch directory, removed at the end unless `XSC_C_ABI_KEEP` is set
/// (to rerun a failing program by hand).
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!("xsc-c-abi-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        Self(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("XSC_C_ABI_KEEP").is_some() {
            loud(&format!("kept {}", self.0.display()));
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A UFID for the i-th flow of a fixture (the dumps carry none).
fn ufid(i: usize) -> Ufid {
    let i = i as u32;
    Ufid {
        parts: [
            0x5eed_0000 + i,
            0x0001_0002,
            0x0003_0004,
            i.wrapping_mul(0x9e37_79b9),
        ],
    }
}

/// The megaflows of a dump-flows file, each with its fixture UFID.
fn flows(rel: &str) -> Vec<Megaflow> {
    parse_dump(&read(rel))
        .enumerate()
        .map(|(i, (line, m))| {
            let mut m = m.unwrap_or_else(|e| panic!("{rel}:{line}: {e}"));
            m.ufid = Some(ufid(i));
            m
        })
        .collect()
}

/// `FLOWS.bin` as `examples/ovs_provider.c` reads it: "XSCFLOW1", a
/// count, then per flow its UFID words, the three lengths and the key,
/// mask and actions netlink bytes (host byte order).
fn flows_bin(flows: &[Megaflow]) -> Vec<u8> {
    let mut out = b"XSCFLOW1".to_vec();
    out.extend((flows.len() as u32).to_ne_bytes());
    for m in flows {
        let (mut key, mut mask, mut actions) = (Vec::new(), Vec::new(), Vec::new());
        m.to_netlink(&mut NoPortNames, &mut key, &mut mask, &mut actions)
            .unwrap_or_else(|e| panic!("{m}: {e}"));
        for w in m.ufid.expect("fixture flows have UFIDs").parts {
            out.extend(w.to_ne_bytes());
        }
        for b in [&key, &mask, &actions] {
            out.extend((b.len() as u32).to_ne_bytes());
        }
        for b in [key, mask, actions] {
            out.extend(b);
        }
    }
    out
}

/// What the Rust engine makes of the same input on the same eswitch, as
/// `--expect` for the C program.
fn expected(flows: &[Megaflow], conns: &[ConnEntry], ports: &[u16]) -> String {
    let engine = Offloader::new(
        Arc::new(Eswitch::new(DeviceProfile::metascale(), ports)),
        DeviceProfile::metascale(),
        PortMap::identity(),
        EngineConfig {
            translate: Config {
                software_port: 0,
                flow_priority: 0,
            },
            ..EngineConfig::default()
        },
    )
    .expect("engine");
    for m in flows {
        engine.put(m.ufid.unwrap(), m.clone()).expect("queue");
    }
    for c in conns {
        engine.ct_add(c.clone()).expect("queue");
    }
    engine.wait();
    let c = engine.counts();
    format!(
        "offloaded={},rejected={},failed={},conns_offloaded={},conns_rejected={},conns_failed={}",
        c.offloaded, c.rejected, c.failed, c.conns_offloaded, c.conns_rejected, c.conns_failed
    )
}

fn conns(rel: &str) -> Vec<ConnEntry> {
    read(rel)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| ConnEntry::parse(l).unwrap_or_else(|e| panic!("{rel}: {e}")))
        .collect()
}
