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

/// Where cargo put `libxsc_offload.so` for this test: `deps/` beside the
/// test binary (the library is built with all its crate types before any
/// test of this package), or the profile directory it is copied to.
fn library_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let deps = exe.parent().expect("deps dir").to_path_buf();
    for dir in [
        deps.clone(),
        deps.parent().expect("profile dir").to_path_buf(),
    ] {
        if dir.join("libxsc_offload.so").exists() {
            return dir;
        }
    }
    panic!(
        "libxsc_offload.so is not in {} nor its parent",
        deps.display()
    );
}

fn pkg_config(args: &[&str]) -> Option<Vec<String>> {
    let out = Command::new("pkg-config").args(args).output().ok()?;
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    })
}

fn c_compiler() -> String {
    std::env::var("CC").unwrap_or_else(|_| "cc".to_owned())
}

/// Which of the library's two C forms a program links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    /// `-lxsc_offload`: the shared library, which brings DPDK's itself.
    Shared,
    /// `libxsc_offload.a` with the line the header gives: DPDK's
    /// `pkg-config --libs`, the ring PMD when DPDK has it (xsc-sys links it
    /// by name, as PMDs are not on that line), `-lpthread -ldl -lm`.
    Static,
}

/// Compiles `source` against the header and the library, with DPDK's
/// flags (and `-DWITH_DPDK`) when `with_dpdk`.
fn compile(source: &Path, exe: &Path, with_dpdk: bool, link: Link) {
    let lib = library_dir();
    let dpdk_libs = || pkg_config(&["--libs", "libdpdk"]).expect("pkg-config libdpdk");
    let mut cmd = Command::new(c_compiler());
    cmd.args(["-Wall", "-Wextra", "-Werror", "-g", "-O1"])
        .arg(format!("-I{ROOT}/include"))
        .arg(source)
        .arg("-o")
        .arg(exe);
    if with_dpdk {
        let cflags = pkg_config(&["--cflags", "libdpdk"]).expect("pkg-config libdpdk");
        cmd.arg("-DWITH_DPDK").args(cflags);
    }
    match link {
        Link::Shared => {
            cmd.arg(format!("-L{}", lib.display()))
                .arg("-lxsc_offload")
                // RPATH, not RUNPATH: cargo's LD_LIBRARY_PATH also names the
                // profile directory, whose copy of the library may be stale.
                .arg(format!("-Wl,--disable-new-dtags,-rpath,{}", lib.display()));
            if with_dpdk {
                cmd.args(dpdk_libs());
            }
        }
        Link::Static => {
            cmd.arg(lib.join("libxsc_offload.a")).args(dpdk_libs());
            let libdir = pkg_config(&["--variable=libdir", "libdpdk"]).unwrap_or_default();
            if libdir
                .first()
                .is_some_and(|d| Path::new(d).join("librte_net_ring.so").exists())
            {
                cmd.arg("-lrte_net_ring");
            }
            cmd.args(["-lpthread", "-ldl", "-lm"]);
        }
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", c_compiler()));
    assert!(
        out.status.success(),
        "{:?} failed:\n{}",
        cmd,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Builds `examples/ovs_provider.c` into `dir`.
fn build_provider(dir: &Path, link: Link) -> PathBuf {
    let exe = dir.join("ovs_provider");
    compile(
        &Path::new(ROOT).join("examples/ovs_provider.c"),
        &exe,
        pkg_config(&["--exists", "libdpdk"]).is_some(),
        link,
    );
    exe
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `exe` (under `wrapper` when given) and returns its output.
fn run_provider(exe: &Path, wrapper: &[String], args: &[String]) -> Output {
    let mut cmd = match wrapper.split_first() {
        Some((program, rest)) => {
            let mut c = Command::new(program);
            c.args(rest).arg(exe);
            c
        }
        None => Command::new(exe),
    };
    cmd.env("LD_LIBRARY_PATH", library_dir())
        .args(args)
        .output()
        .expect("run ovs_provider")
}

/// valgrind memcheck, failing on any error and any leak: definitely,
/// indirectly and possibly lost. Exit code 99 tells valgrind's verdict from
/// the program's own.
const VALGRIND: &[&str] = &[
    "valgrind",
    "--quiet",
    "--error-exitcode=99",
    "--leak-check=full",
    "--show-leak-kinds=definite,indirect,possible",
    "--errors-for-leak-kinds=definite,indirect,possible",
    "--num-callers=30",
];

/// The three one-time allocations memcheck is told to accept, each made once
/// per thread by code that is neither ours nor the program's, and each
/// still pointed to (from the inside: "possibly lost") at exit:
///
/// - Rust's handle for a thread Rust did not start (48 bytes): the first
///   time a C thread blocks on one of the engine's channels, crossbeam asks
///   `std::thread::current()`, which allocates the thread's `Thread` and
///   keeps it in a thread-local until the thread exits. The C program's
///   main thread never exits before the leak check, so it is reported.
///   One per foreign thread, never more.
/// - DPDK's EAL control threads (`--dpdk` run only): `rte_eal_init` starts
///   detached control threads (interrupts, multi-process) that
///   `rte_eal_cleanup` in DPDK 22.11 does not join; their TLS blocks
///   (`allocate_dtv`) stay until exit. That is the host's EAL, made by the
///   program's own `rte_eal_init` call, not by the library.
/// - crossbeam-epoch's record of each thread that ever pinned an epoch
///   (2.3 KB per thread: the C thread that reads the flow cache and the
///   engine's workers). Records live in the global collector's list; a
///   thread's is unlinked and freed by a later collection after the thread
///   exits, so at exit the list still points into them. Bounded by the
///   number of threads, never per flow.
const SUPPRESSIONS: &str = "\
{
   rust-std-thread-handle-of-a-foreign-thread
   Memcheck:Leak
   match-leak-kinds: possible
   fun:malloc
   ...
   fun:*std*thread*current*init_current*
}
{
   dpdk-eal-control-thread-tls
   Memcheck:Leak
   match-leak-kinds: possible
   fun:calloc
   ...
   fun:_dl_allocate_tls
   ...
   fun:rte_ctrl_thread_create
}
{
   crossbeam-epoch-thread-record
   Memcheck:Leak
   match-leak-kinds: possible
   ...
   fun:*crossbeam_epoch*Local*register*
}
";

/// The memcheck command line, with [`SUPPRESSIONS`] written into `dir`.
fn memcheck(dir: &Path) -> Vec<String> {
    let supp = dir.join("memcheck.supp");
    std::fs::write(&supp, SUPPRESSIONS).expect("write suppressions");
    let mut args: Vec<String> = VALGRIND.iter().map(|s| s.to_string()).collect();
    args.push(format!("--suppressions={}", supp.display()));
    args
}

fn valgrind_here() -> bool {
    if Command::new("valgrind").arg("--version").output().is_ok() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must have valgrind (scripts/setup installs it)"
    );
    loud("SKIPPED: the memcheck runs of examples/ovs_provider.c: valgrind is not installed (apt-get install valgrind)");
    false
}

/// One provider run: writes the fixture, runs the program (and under
/// memcheck when `valgrind`), checks the exit code and the summary line.
fn provider_case(
    name: &str,
    link: Link,
    flows: &[Megaflow],
    extra: &[String],
    summary: &str,
    valgrind: bool,
) {
    let dir = TempDir::new(name);
    let exe = build_provider(&dir.0, link);
    let bin = dir.0.join("flows.bin");
    std::fs::write(&bin, flows_bin(flows)).expect("write fixture");
    let mut args = extra.to_vec();
    args.push(bin.display().to_string());

    let out = run_provider(&exe, &[], &args);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(summary), "expected {summary:?} in\n{all}");
    let version = format!(
        "ovs_provider: libxsc_offload {v} (header {v})\n",
        v = env!("CARGO_PKG_VERSION")
    );
    assert!(
        stdout.starts_with(&version),
        "expected {version:?} in\n{all}"
    );

    if valgrind && valgrind_here() {
        let out = run_provider(&exe, &memcheck(&dir.0), &args);
        let all = text(&out);
        assert_eq!(out.status.code(), Some(0), "memcheck:\n{all}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(summary),
            "{all}"
        );
    }
}

fn ports_arg(ports: &[u16]) -> String {
    ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn the_c_provider_offloads_the_seed_flows_and_leaks_nothing() {
    let flows = flows(SEED_FLOWS);
    let ports = [0u16, 8, 15];
    let expect = expected(&flows, &[], &ports);
    // The guide's flows are exactly what this library exists to offload.
    assert!(
        expect.starts_with("offloaded=6,rejected=0,failed=0,"),
        "{expect}"
    );
    let args = vec![
        "--ports".into(),
        ports_arg(&ports),
        "--expect".into(),
        expect,
    ];
    provider_case(
        "seed",
        Link::Shared,
        &flows,
        &args,
        "ovs_provider: device=eswitch flows=6 offloaded=6 rejected=0 failed=0 conns=0/0/0/0 dump_lines=6 live_rules_after_delete=0 live_rules_after_flush=0: ok",
        true,
    );
}

/// The static archive links with the line the header gives, and works the
/// same.
#[test]
fn the_c_provider_links_the_static_archive_too() {
    if pkg_config(&["--exists", "libdpdk"]).is_none() {
        assert!(std::env::var_os("CI").is_none(), "CI must have libdpdk-dev");
        loud("SKIPPED: linking libxsc_offload.a: pkg-config finds no libdpdk");
        return;
    }
    let flows = flows(SEED_FLOWS);
    let args = vec!["--ports".into(), "0,8,15".into()];
    provider_case(
        "static",
        Link::Static,
        &flows,
        &args,
        "ovs_provider: device=eswitch flows=6 offloaded=6 rejected=0 failed=0 ",
        false,
    );
}

#[test]
fn the_c_provider_offloads_kube_ovn_flows_and_connections() {
    let flows = flows(KUBE_FLOWS);
    let conns = conns(KUBE_CONNTRACK);
    let ports = [0u16, 1, 2, 3, 100];
    let expect = expected(&flows, &conns, &ports);
    let field = |k: &str| -> usize {
        expect
            .split(',')
            .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{k} in {expect}"))
    };
    // A mixed capture: some flows and connections stay in software.
    assert!(field("offloaded") > 0 && field("rejected") > 0, "{expect}");
    assert!(field("conns_offloaded") > 0, "{expect}");
    let summary = format!(
        "device=eswitch flows={} offloaded={} rejected={} failed={} conns={}/{}/{}/{} dump_lines={} ",
        flows.len(),
        field("offloaded"),
        field("rejected"),
        field("failed"),
        conns.len(),
        field("conns_offloaded"),
        field("conns_rejected"),
        field("conns_failed"),
        field("offloaded"),
    );
    let args = vec![
        "--ports".into(),
        ports_arg(&ports),
        "--conntrack".into(),
        format!("{ROOT}/{KUBE_CONNTRACK}"),
        "--expect".into(),
        expect,
    ];
    provider_case("kube-ovn", Link::Shared, &flows, &args, &summary, true);
}

/// As OVS-DPDK loads the library: EAL and the port are the host's. net_null
/// has no rte_flow, so every flow that translates fails on the device and
/// stays in software, and the port is still open after the offloader goes.
#[test]
fn the_c_provider_attaches_to_the_hosts_dpdk_port() {
    if pkg_config(&["--exists", "libdpdk"]).is_none() {
        assert!(std::env::var_os("CI").is_none(), "CI must have libdpdk-dev");
        loud("SKIPPED: the --dpdk run of examples/ovs_provider.c: pkg-config finds no libdpdk");
        return;
    }
    let flows = flows(SEED_FLOWS);
    provider_case(
        "dpdk",
        Link::Shared,
        &flows,
        &["--dpdk".into(), "--expect".into(), "offloaded=0,rejected=0,failed=6".into()],
        "ovs_provider: device=dpdk flows=6 offloaded=0 rejected=0 failed=6 conns=0/0/0/0 dump_lines=0 ",
        true,
    );
}

// ---- the header is the library's ---------------------------------------

/// Every `#define XSC_*` of the header, with its value.
fn header_defines() -> Vec<(String, i64)> {
    read("include/xsc_offload.h")
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("#define XSC_")?;
            if rest.starts_with("OFFLOAD_H") {
                return None; // the include guard
            }
            let (name, value) = rest.split_once(' ')?;
            let value = value.split("/*").next()?.trim().trim_matches(['(', ')']);
            Some((format!("XSC_{name}"), value.parse().ok()?))
        })
        .collect()
}

#[test]
fn the_headers_constants_are_the_librarys() {
    let rust: Vec<(&str, i64)> = vec![
        ("XSC_OK", XSC_OK.into()),
        ("XSC_ENOENT", XSC_ENOENT.into()),
        ("XSC_EIO", XSC_EIO.into()),
        ("XSC_EAGAIN", XSC_EAGAIN.into()),
        ("XSC_ENODEV", XSC_ENODEV.into()),
        ("XSC_EINVAL", XSC_EINVAL.into()),
        ("XSC_EBADMSG", XSC_EBADMSG.into()),
        ("XSC_ENOTSUP", XSC_ENOTSUP.into()),
        ("XSC_ESHUTDOWN", XSC_ESHUTDOWN.into()),
        ("XSC_EINTERNAL", XSC_EINTERNAL.into()),
        ("XSC_DEVICE_ESWITCH", XSC_DEVICE_ESWITCH.into()),
        ("XSC_DEVICE_DPDK", XSC_DEVICE_DPDK.into()),
        ("XSC_MODE_AUTO", XSC_MODE_AUTO.into()),
        ("XSC_MODE_SYNC", XSC_MODE_SYNC.into()),
        ("XSC_MODE_ASYNC", XSC_MODE_ASYNC.into()),
        ("XSC_STATE_PENDING", XSC_STATE_PENDING.into()),
        ("XSC_STATE_OFFLOADED", XSC_STATE_OFFLOADED.into()),
        ("XSC_STATE_REJECTED", XSC_STATE_REJECTED.into()),
        ("XSC_STATE_FAILED", XSC_STATE_FAILED.into()),
        ("XSC_REASON_MAX", XSC_REASON_MAX as i64),
        ("XSC_REASON_NAME_MAX", XSC_REASON_NAME_MAX as i64),
        ("XSC_VERSION_MAJOR", XSC_VERSION_MAJOR.into()),
        ("XSC_VERSION_MINOR", XSC_VERSION_MINOR.into()),
        ("XSC_VERSION_PATCH", XSC_VERSION_PATCH.into()),
        // The emulated NIC (src/ffi/nic.rs).
        ("XSC_RX_FORWARDED", XSC_RX_FORWARDED.into()),
        ("XSC_RX_DROPPED", XSC_RX_DROPPED.into()),
        ("XSC_RX_MISS", XSC_RX_MISS.into()),
        ("XSC_RESUME_START", XSC_RESUME_START.into()),
        ("XSC_RESUME_RECIRC", XSC_RESUME_RECIRC.into()),
    ];
    let mut header = header_defines();
    header.sort();
    let mut rust: Vec<(String, i64)> = rust.into_iter().map(|(n, v)| (n.to_owned(), v)).collect();
    rust.sort();
    assert_eq!(header, rust);

    // The version is the package's.
    let package: Vec<i64> = env!("CARGO_PKG_VERSION")
        .split(['.', '-', '+'])
        .take(3)
        .map(|p| p.parse().expect("a decimal version component"))
        .collect();
    assert_eq!(
        package,
        [
            i64::from(XSC_VERSION_MAJOR),
            i64::from(XSC_VERSION_MINOR),
            i64::from(XSC_VERSION_PATCH)
        ]
    );
    // The header's error codes are exactly those xsc_strerror() knows.
    let mut codes: Vec<i64> = header_defines()
        .into_iter()
        .filter(|(n, _)| n == "XSC_OK" || n.starts_with("XSC_E"))
        .map(|(_, v)| v)
        .collect();
    codes.sort();
    let mut known: Vec<i64> = XSC_ERRORS.iter().map(|&(c, _)| i64::from(c)).collect();
    known.sort();
    assert_eq!(codes, known);
}

/// The functions the library exports (`#[no_mangle]` in `src/ffi/`).
fn exported_functions() -> Vec<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(Path::new(ROOT).join("src/ffi"))
        .expect("src/ffi")
        .map(|e| e.expect("src/ffi entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    let src: String = files
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("read src/ffi"))
        .collect();
    let mut names: Vec<String> = src
        .split("#[no_mangle]")
        .skip(1)
        .filter_map(|chunk| {
            let after = chunk.split("extern \"C\" fn ").nth(1)?;
            Some(after.split('(').next()?.trim().to_owned())
        })
        .collect();
    names.sort();
    names
}

/// The functions the header declares.
fn declared_functions() -> Vec<String> {
    let header = read("include/xsc_offload.h");
    let mut names: Vec<String> = header
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with('#') && !l.starts_with('/'))
        .filter_map(|l| {
            let open = l.find('(')?;
            let head = &l[..open];
            let name = head.rsplit([' ', '*']).next()?;
            name.starts_with("xsc_").then(|| name.to_owned())
        })
        .collect();
    names.sort();
    names
}

#[test]
fn the_header_declares_every_exported_function_and_layouts_agree() {
    let exported = exported_functions();
    assert_eq!(exported.len(), 25, "{exported:?}");
    assert_eq!(declared_functions(), exported);

    // The C compiler's layout of each struct, and a link of every function
    // (taking their addresses) against the library.
    let dir = TempDir::new("layout");
    let source = dir.0.join("layout.c");
    let exe = dir.0.join("layout");
    let mut c = String::from(
        "#include <stddef.h>\n#include <stdio.h>\n#include \"xsc_offload.h\"\n\
         #define F(s, f) printf(#s \".\" #f \" %zu %zu\\n\", offsetof(struct s, f), sizeof(((struct s *) 0)->f))\n\
         #define S(s) printf(#s \" %zu %zu\\n\", sizeof(struct s), _Alignof(struct s))\n\
         int main(void) {\n",
    );
    for f in &exported {
        c.push_str(&format!(
            "    {{ void (*volatile p)(void) = (void (*)(void)) {f}; printf(\"{f} %d\\n\", p != NULL); }}\n"
        ));
    }
    let mut rust = String::new();
    for f in &exported {
        rust.push_str(&format!("{f} 1\n"));
    }
    macro_rules! layout {
        ($s:ident { $($f:ident),* }) => {{
            c.push_str(&format!("    S({});\n", stringify!($s)));
            rust.push_str(&format!(
                "{} {} {}\n",
                stringify!($s),
                std::mem::size_of::<$s>(),
                std::mem::align_of::<$s>()
            ));
            $(
                c.push_str(&format!("    F({}, {});\n", stringify!($s), stringify!($f)));
                let v = $s::default();
                rust.push_str(&format!(
                    "{}.{} {} {}\n",
                    stringify!($s),
                    stringify!($f),
                    std::mem::offset_of!($s, $f),
                    std::mem::size_of_val(&v.$f)
                ));
            )*
        }};
    }
    layout!(xsc_offloader_config {
        size,
        device,
        profile,
        ports,
        n_ports,
        port_map,
        software_port,
        reserved0,
        flow_priority,
        workers,
        batch,
        queue_depth,
        mode,
        stats_interval_ms,
        reserved1
    });
    layout!(xsc_flow_stats {
        packets,
        bytes,
        used_ms_ago,
        used,
        offloaded,
        tcp_flags,
        reserved
    });
    layout!(xsc_ct_stats {
        orig_packets,
        orig_bytes,
        reply_packets,
        reply_bytes
    });
    layout!(xsc_counts {
        offloaded,
        rejected,
        failed,
        conns_offloaded,
        conns_rejected,
        conns_failed,
        live_rules
    });
    // The version macros and functions, and xsc_strerror() of each code.
    c.push_str(
        "    printf(\"version %d %u %s\\n\", XSC_VERSION_NUMBER, xsc_version(), xsc_version_string());\n",
    );
    rust.push_str(&format!(
        "version {n} {n} {}\n",
        env!("CARGO_PKG_VERSION"),
        n = XSC_VERSION_NUMBER
    ));
    for (name, _) in header_defines()
        .iter()
        .filter(|(n, _)| n == "XSC_OK" || n.starts_with("XSC_E"))
    {
        c.push_str(&format!(
            "    printf(\"{name} %s\\n\", xsc_strerror({name}));\n"
        ));
        let code = header_defines()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .expect("defined");
        let text = XSC_ERRORS
            .iter()
            .find(|&&(c, _)| i64::from(c) == code)
            .map(|&(_, t)| t.to_str().expect("ASCII"))
            .unwrap_or_else(|| panic!("{name} has no xsc_strerror text"));
        rust.push_str(&format!("{name} {text}\n"));
    }
    c.push_str("    printf(\"unknown %s\\n\", xsc_strerror(12345));\n");
    rust.push_str("unknown unknown xsc error code\n");
    layout!(xsc_restore {
        resume,
        recirc_id,
        ct_mark,
        ct_zone,
        ct_state,
        reserved,
        ct_label_lo,
        ct_label_hi
    });
    c.push_str("    return 0;\n}\n");
    std::fs::write(&source, c).expect("write layout.c");
    compile(&source, &exe, false, Link::Shared);
    let out = Command::new(&exe)
        .env("LD_LIBRARY_PATH", library_dir())
        .output()
        .expect("run layout");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), rust);
}

// ---- error paths, called from Rust as C would call them ------------------

fn last_error() -> String {
    // Safety: xsc_last_error returns a valid C string until the next call.
    unsafe { CStr::from_ptr(xsc_last_error()) }
        .to_string_lossy()
        .into_owned()
}

/// An eswitch offloader on the seed's ports, through the ABI.
struct Handle(*mut xsc_offloader);

impl Handle {
    fn new() -> Self {
        let ports = [0u16, 8, 15];
        let mut cfg = xsc_offloader_config::default();
        // Safety: cfg is a valid, writable config; ports outlives the call.
        unsafe {
            assert_eq!(xsc_offloader_config_init(&mut cfg), XSC_OK);
            cfg.ports = ports.as_ptr();
            cfg.n_ports = ports.len();
            let mut h = std::ptr::null_mut();
            assert_eq!(xsc_offloader_new(&cfg, &mut h), XSC_OK, "{}", last_error());
            assert!(!h.is_null());
            Self(h)
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // Safety: a live handle, used by nobody else now.
        unsafe { xsc_offloader_destroy(self.0) };
    }
}

fn seed_netlink() -> (Ufid, Vec<u8>, Vec<u8>, Vec<u8>) {
    let m = flows(SEED_FLOWS).remove(0);
    let (mut key, mut mask, mut actions) = (Vec::new(), Vec::new(), Vec::new());
    m.to_netlink(&mut NoPortNames, &mut key, &mut mask, &mut actions)
        .expect("encode");
    (m.ufid.unwrap(), key, mask, actions)
}

#[test]
fn a_flow_round_trips_through_the_abi() {
    let h = Handle::new();
    let (ufid, key, mask, actions) = seed_netlink();
    let mut reason = [0x55 as c_char; XSC_REASON_MAX];
    let mut stats = xsc_flow_stats::default();
    let mut dump: *mut c_char = std::ptr::null_mut();
    let mut len = 0usize;
    // Safety: every pointer is valid for its length.
    unsafe {
        let rc = xsc_flow_put(
            h.0,
            ufid.parts.as_ptr(),
            key.as_ptr(),
            key.len(),
            mask.as_ptr(),
            mask.len(),
            actions.as_ptr(),
            actions.len(),
        );
        assert_eq!(rc, XSC_OK, "{}", last_error());
        assert_eq!(last_error(), "");
        assert_eq!(xsc_offloader_wait(h.0), XSC_OK);
        let state = xsc_flow_get(h.0, ufid.parts.as_ptr(), reason.as_mut_ptr(), reason.len());
        assert_eq!(state, XSC_STATE_OFFLOADED, "{}", last_error());
        assert_eq!(reason[0], 0, "an offloaded flow has no reason");
        assert_eq!(xsc_flow_stats(h.0, ufid.parts.as_ptr(), &mut stats), XSC_OK);
        assert_eq!((stats.offloaded, stats.packets, stats.used), (1, 0, 0));

        assert_eq!(xsc_offloader_dump(h.0, &mut dump, &mut len), XSC_OK);
        let text = CStr::from_ptr(dump).to_str().expect("UTF-8").to_owned();
        xsc_string_free(dump);
        assert_eq!(text.len(), len);
        let mut want = String::new();
        xsc_dp::odp::format_ufid(&mut want, &ufid);
        assert!(text.starts_with(&want), "{text}");
        assert!(
            text.contains("ct_state(") && text.contains("offloaded:yes"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 1);

        let mut counts = xsc_counts::default();
        assert_eq!(xsc_offloader_counts(h.0, &mut counts), XSC_OK);
        assert_eq!(counts.offloaded, 1);
        assert!(counts.live_rules > 0);

        assert_eq!(xsc_flow_del(h.0, ufid.parts.as_ptr()), XSC_OK);
        assert_eq!(xsc_offloader_wait(h.0), XSC_OK);
        assert_eq!(
            xsc_flow_get(h.0, ufid.parts.as_ptr(), std::ptr::null_mut(), 0),
            XSC_ENOENT
        );
        assert!(
            last_error().contains("ufid:5eed0000-0001-0002-0003-000400000000"),
            "{}",
            last_error()
        );
        assert_eq!(xsc_offloader_flush(h.0), XSC_OK);
        assert_eq!(xsc_offloader_counts(h.0, &mut counts), XSC_OK);
        assert_eq!(counts.live_rules, 0);
    }
}

#[test]
fn a_rejected_flow_says_why() {
    let h = Handle::new();
    // +new: only software commits connections.
    let m: Megaflow = "ct_state(+new+trk),recirc_id(0x1),in_port(8),eth_type(0x0800),ipv4(frag=no), packets:0, bytes:0, used:never, actions:ct(commit,zone=4),8"
        .parse()
        .expect("parse");
    let (mut key, mut mask, mut actions) = (Vec::new(), Vec::new(), Vec::new());
    m.to_netlink(&mut NoPortNames, &mut key, &mut mask, &mut actions)
        .expect("encode");
    let ufid = ufid(77);
    let mut reason = [0 as c_char; XSC_REASON_MAX];
    let mut small = [0x55 as c_char; 8];
    // Safety: every pointer is valid for its length.
    unsafe {
        let rc = xsc_flow_put(
            h.0,
            ufid.parts.as_ptr(),
            key.as_ptr(),
            key.len(),
            mask.as_ptr(),
            mask.len(),
            actions.as_ptr(),
            actions.len(),
        );
        assert_eq!(rc, XSC_OK, "{}", last_error());
        xsc_offloader_wait(h.0);
        let s = xsc_flow_get(h.0, ufid.parts.as_ptr(), reason.as_mut_ptr(), reason.len());
        assert_eq!(s, XSC_STATE_REJECTED);
        let why = CStr::from_ptr(reason.as_ptr()).to_str().unwrap().to_owned();
        assert!(!why.is_empty());
        // A small buffer gets the start of it, cut and terminated.
        let s = xsc_flow_get(h.0, ufid.parts.as_ptr(), small.as_mut_ptr(), small.len());
        assert_eq!(s, XSC_STATE_REJECTED);
        let cut = CStr::from_ptr(small.as_ptr()).to_str().unwrap();
        assert_eq!(cut, format!("{}...", &why[..4]));
        // The reason's machine name, the one plan --json prints.
        let mut name = [0x55 as c_char; XSC_REASON_NAME_MAX];
        let s = xsc_flow_reason_name(h.0, ufid.parts.as_ptr(), name.as_mut_ptr(), name.len());
        assert_eq!(s, XSC_STATE_REJECTED);
        assert_eq!(
            CStr::from_ptr(name.as_ptr()).to_str().unwrap(),
            "ct_state_new"
        );
        assert_eq!(
            xsc_flow_reason_name(h.0, ufid.parts.as_ptr(), std::ptr::null_mut(), 0),
            XSC_STATE_REJECTED
        );
        let mut stats = xsc_flow_stats::default();
        assert_eq!(xsc_flow_stats(h.0, ufid.parts.as_ptr(), &mut stats), XSC_OK);
        assert_eq!(stats.offloaded, 0);
    }
}

/// `rc` is `code` and the last error starts with `want` (read right after
/// the call that set it).
fn check(rc: i32, code: i32, want: &str) {
    let msg = last_error();
    assert_eq!(rc, code, "{msg}");
    assert!(
        msg.starts_with(want),
        "{msg:?} does not start with {want:?}"
    );
}

#[test]
fn bad_handles_and_pointers_are_einval_with_a_message() {
    let h = Handle::new();
    let (ufid, key, mask, actions) = seed_netlink();
    let (k, kl) = (key.as_ptr(), key.len());
    let u = ufid.parts.as_ptr();
    let null = std::ptr::null::<u8>();
    let fake = [0u64; 8];
    let fake = fake.as_ptr() as *mut xsc_offloader;
    let words = [0u32; 5];
    // Safety: one byte into an array of u32: readable, misaligned.
    let misaligned = unsafe { words.as_ptr().cast::<u8>().add(1).cast::<u32>() };
    let mut stats = xsc_flow_stats::default();
    let e = XSC_EINVAL;
    // Safety: the library checks each pointer before reading it; the valid
    // ones are valid for their lengths.
    unsafe {
        let put = |h, u, k, kl, m, ml, a, al| xsc_flow_put(h, u, k, kl, m, ml, a, al);
        check(
            put(null_mut(), u, k, kl, null, 0, null, 0),
            e,
            "xsc_flow_put: offloader is NULL",
        );
        check(
            put(fake, u, k, kl, null, 0, null, 0),
            e,
            "xsc_flow_put: offloader is not a live handle",
        );
        check(
            put(h.0, std::ptr::null(), k, kl, null, 0, null, 0),
            e,
            "xsc_flow_put: ufid is NULL",
        );
        check(
            put(h.0, misaligned, k, kl, null, 0, null, 0),
            e,
            "xsc_flow_put: ufid is not aligned",
        );
        check(
            put(h.0, u, null, 12, null, 0, null, 0),
            e,
            "xsc_flow_put: key is NULL with length 12",
        );
        check(
            put(h.0, u, k, kl, null, mask.len(), null, 0),
            e,
            "xsc_flow_put: mask is NULL with length",
        );
        check(
            put(
                h.0,
                u,
                k,
                kl,
                mask.as_ptr(),
                mask.len(),
                null,
                actions.len(),
            ),
            e,
            "xsc_flow_put: actions is NULL with length",
        );
        check(
            xsc_flow_del(null_mut(), u),
            e,
            "xsc_flow_del: offloader is NULL",
        );
        check(
            xsc_flow_get(h.0, u, null_mut(), 16),
            e,
            "xsc_flow_get: reason is NULL with size 16",
        );
        check(
            xsc_flow_stats(h.0, u, null_mut()),
            e,
            "xsc_flow_stats: out is NULL",
        );
        check(
            xsc_flow_stats(std::ptr::null(), u, &mut stats),
            e,
            "xsc_flow_stats: offloader is NULL",
        );
        check(
            xsc_ct_add(h.0, std::ptr::null(), 3),
            e,
            "xsc_ct_add: line is NULL with length 3",
        );
        check(
            xsc_offloader_wait(null_mut()),
            e,
            "xsc_offloader_wait: offloader is NULL",
        );
        check(
            xsc_offloader_flush(null_mut()),
            e,
            "xsc_offloader_flush: offloader is NULL",
        );
        check(
            xsc_offloader_dump(h.0, null_mut(), null_mut()),
            e,
            "xsc_offloader_dump: out is NULL",
        );
        check(
            xsc_offloader_counts(h.0, null_mut()),
            e,
            "xsc_offloader_counts: out is NULL",
        );
        check(
            xsc_offloader_config_init(null_mut()),
            e,
            "xsc_offloader_config_init: config is NULL",
        );
        // NULL is a no-op for the two freeing functions, and a success
        // clears the last error.
        xsc_offloader_destroy(null_mut());
        xsc_string_free(null_mut());
        assert_eq!(last_error(), "");
    }
}

#[test]
fn malformed_input_is_ebadmsg_naming_what_and_where() {
    let h = Handle::new();
    let (ufid, key, mask, actions) = seed_netlink();
    let u = ufid.parts.as_ptr();
    let null = std::ptr::null::<u8>();
    // Safety: every pointer is valid for its length.
    unsafe {
        // A key cut inside its last attribute.
        let rc = xsc_flow_put(
            h.0,
            u,
            key.as_ptr(),
            key.len() - 2,
            null,
            0,
            actions.as_ptr(),
            actions.len(),
        );
        assert_eq!(rc, XSC_EBADMSG);
        let msg = last_error();
        assert!(
            msg.starts_with("xsc_flow_put: key: ") && msg.contains(" at byte "),
            "{msg}"
        );
        // A mask whose first attribute claims more bytes than there are.
        let mut bad_mask = mask.clone();
        bad_mask[0] = 0xff;
        let rc = xsc_flow_put(
            h.0,
            u,
            key.as_ptr(),
            key.len(),
            bad_mask.as_ptr(),
            bad_mask.len(),
            null,
            0,
        );
        assert_eq!(rc, XSC_EBADMSG);
        assert!(
            last_error().starts_with("xsc_flow_put: key or mask: "),
            "{}",
            last_error()
        );
        // Actions: an attribute header with 2 of its 4 bytes.
        let rc = xsc_flow_put(
            h.0,
            u,
            key.as_ptr(),
            key.len(),
            null,
            0,
            [4u8, 0].as_ptr(),
            2,
        );
        assert_eq!(rc, XSC_EBADMSG);
        assert!(
            last_error().starts_with("xsc_flow_put: actions: "),
            "{}",
            last_error()
        );
        // Nothing was queued by the failed puts.
        xsc_offloader_wait(h.0);
        assert_eq!(xsc_flow_get(h.0, u, std::ptr::null_mut(), 0), XSC_ENOENT);

        // Conntrack text: not UTF-8, empty, two lines, not a connection.
        let bad: &[(&[u8], &str)] = &[
            (
                b"tcp,orig=(src=10.0.0.\xff)",
                "xsc_ct_add: line is not UTF-8 (invalid byte at offset 21)",
            ),
            (b"  \n", "xsc_ct_add: line is empty"),
            (
                b"tcp,zone=1\ntcp,zone=2",
                "xsc_ct_add: line holds several lines",
            ),
            (b"tcp,orig=(src=10.0.0.1", "xsc_ct_add: line: "),
        ];
        for (bytes, want) in bad {
            let rc = xsc_ct_add(h.0, bytes.as_ptr().cast(), bytes.len());
            assert_eq!(rc, XSC_EBADMSG, "{want}");
            assert!(last_error().starts_with(want), "{} vs {want}", last_error());
        }
        let mut cs = xsc_ct_stats::default();
        let line = read(KUBE_CONNTRACK);
        let line = line.lines().next().unwrap();
        assert_eq!(
            xsc_ct_stats(h.0, line.as_ptr().cast(), line.len(), &mut cs),
            XSC_ENOENT
        );
    }
}

#[test]
fn bad_configs_are_refused_and_out_is_cleared() {
    let mut h: *mut xsc_offloader = 0x10 as *mut xsc_offloader;
    let port = 0u16;
    // Safety: configs are valid structs; strings are NUL-terminated.
    unsafe {
        let mut cfg = xsc_offloader_config::default();
        xsc_offloader_config_init(&mut cfg);
        cfg.profile = c"bluefield".as_ptr();
        assert_eq!(xsc_offloader_new(&cfg, &mut h), XSC_EINVAL);
        assert!(h.is_null(), "out is NULL after a failure");
        assert!(
            last_error().contains("config.profile is \"bluefield\""),
            "{}",
            last_error()
        );

        assert_eq!(xsc_offloader_new(std::ptr::null(), &mut h), XSC_EINVAL);
        assert_eq!(last_error(), "xsc_offloader_new: config is NULL");
        xsc_offloader_config_init(&mut cfg);
        assert_eq!(xsc_offloader_new(&cfg, std::ptr::null_mut()), XSC_EINVAL);

        let mut old = cfg;
        old.size -= 8;
        assert_eq!(xsc_offloader_new(&old, &mut h), XSC_EINVAL);
        assert!(
            last_error().contains("xsc_offloader_config_init"),
            "{}",
            last_error()
        );

        // No EAL in this process: a DPDK offloader says what is missing.
        xsc_offloader_config_init(&mut cfg);
        cfg.device = XSC_DEVICE_DPDK;
        cfg.ports = &port;
        cfg.n_ports = 1;
        assert_eq!(xsc_offloader_new(&cfg, &mut h), XSC_ENODEV);
        assert!(
            last_error().contains("rte_eal_init has not been called"),
            "{}",
            last_error()
        );
    }
}

#[test]
fn the_last_error_is_per_thread() {
    // Safety: NULL handles are refused before anything is read.
    unsafe {
        assert_eq!(xsc_offloader_wait(std::ptr::null_mut()), XSC_EINVAL);
        let mine = last_error();
        let theirs = std::thread::spawn(last_error).join().unwrap();
        assert_eq!(theirs, "");
        assert_eq!(last_error(), mine);
    }
}

/// The handle is shared by threads as OVS shares it between its offload
/// and revalidator threads: puts, gets and stats at once.
#[test]
fn threads_share_one_offloader() {
    let h = Handle::new();
    let (_, key, mask, actions) = seed_netlink();
    let ptr = h.0 as usize;
    let threads: Vec<_> = (0..4u32)
        .map(|t| {
            let (key, mask, actions) = (key.clone(), mask.clone(), actions.clone());
            std::thread::spawn(move || {
                let h = ptr as *mut xsc_offloader;
                for i in 0..50u32 {
                    let u = [t, i, 0xabcd, 0x1234];
                    // Safety: a live handle (destroyed after the joins);
                    // buffers valid for their lengths.
                    unsafe {
                        let rc = loop {
                            let rc = xsc_flow_put(
                                h,
                                u.as_ptr(),
                                key.as_ptr(),
                                key.len(),
                                mask.as_ptr(),
                                mask.len(),
                                actions.as_ptr(),
                                actions.len(),
                            );
                            if rc != XSC_EAGAIN {
                                break rc;
                            }
                            xsc_offloader_wait(h);
                        };
                        assert_eq!(rc, XSC_OK, "{}", last_error());
                        let s = xsc_flow_get(h, u.as_ptr(), std::ptr::null_mut(), 0);
                        assert!(s == XSC_ENOENT || s >= 0, "{s}");
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    let mut counts = xsc_counts::default();
    // Safety: a live handle.
    unsafe {
        xsc_offloader_wait(h.0);
        assert_eq!(xsc_offloader_counts(h.0, &mut counts), XSC_OK);
    }
    assert_eq!(counts.offloaded, 200);
}

// ---- only documented codes escape; XSC_MODE_ASYNC ------------------------

/// A config for an eswitch offloader on the seed's ports (`ports` must
/// outlive its use).
fn eswitch_config(ports: &[u16], profile: &'static CStr, mode: u32) -> xsc_offloader_config {
    let mut cfg = xsc_offloader_config::default();
    // Safety: a valid, writable config.
    assert_eq!(unsafe { xsc_offloader_config_init(&mut cfg) }, XSC_OK);
    cfg.ports = ports.as_ptr();
    cfg.n_ports = ports.len();
    cfg.profile = profile.as_ptr();
    cfg.mode = mode;
    cfg
}

/// Drives every error path reachable without a device fault and checks
/// that each code returned is one the header documents (and that
/// `xsc_strerror` knows it), and that the message is set.
#[test]
fn every_error_path_returns_a_documented_code() {
    let documented: Vec<i32> = XSC_ERRORS.iter().map(|&(c, _)| c).collect();
    let mut seen: Vec<i32> = Vec::new();
    let mut note = |rc: i32, what: &str| {
        assert!(rc < 0, "{what}: expected an error, got {rc}");
        assert!(documented.contains(&rc), "{what}: undocumented code {rc}");
        // Safety: a static C string.
        let text = unsafe { CStr::from_ptr(xsc_strerror(rc)) };
        assert_ne!(text, c"unknown xsc error code", "{what}");
        assert!(!last_error().is_empty(), "{what}: no message");
        seen.push(rc);
    };
    let h = Handle::new();
    let (ufid, key, mask, actions) = seed_netlink();
    let u = ufid.parts.as_ptr();
    let unknown = [1u32, 2, 3, 4];
    let null = std::ptr::null_mut::<xsc_offloader>();
    let cut = &key[..key.len() - 1];
    let ports = [0u16, 8, 15];
    let mut out: *mut xsc_offloader = std::ptr::null_mut();
    let mut stats = xsc_flow_stats::default();
    let mut ct_stats = xsc_ct_stats::default();
    let mut counts = xsc_counts::default();
    let mut dump: *mut c_char = std::ptr::null_mut();
    let line = read(KUBE_CONNTRACK).lines().next().unwrap().to_owned();
    // Safety: pointers are valid for their lengths or NULL where the call
    // must refuse them.
    unsafe {
        let put = |h, key: &[u8]| {
            xsc_flow_put(
                h,
                u,
                key.as_ptr(),
                key.len(),
                mask.as_ptr(),
                mask.len(),
                actions.as_ptr(),
                actions.len(),
            )
        };
        note(put(null, &key), "put on NULL");
        note(put(h.0, cut), "put of a cut key");
        note(xsc_flow_del(null, u), "del on NULL");
        note(xsc_flow_del(h.0, std::ptr::null()), "del of a NULL ufid");
        note(
            xsc_flow_get(h.0, unknown.as_ptr(), std::ptr::null_mut(), 0),
            "get of an unknown UFID",
        );
        note(
            xsc_flow_stats(h.0, unknown.as_ptr(), &mut stats),
            "stats of an unknown UFID",
        );
        note(
            xsc_flow_stats(h.0, u, std::ptr::null_mut()),
            "stats into NULL",
        );
        note(xsc_ct_add(h.0, c"x".as_ptr(), 1), "ct_add of garbage");
        note(
            xsc_ct_del(null, line.as_ptr().cast(), line.len()),
            "ct_del on NULL",
        );
        note(
            xsc_ct_get(
                h.0,
                line.as_ptr().cast(),
                line.len(),
                std::ptr::null_mut(),
                0,
            ),
            "ct_get of a connection never added",
        );
        note(
            xsc_ct_stats(h.0, line.as_ptr().cast(), line.len(), &mut ct_stats),
            "ct_stats of a connection never added",
        );
        note(xsc_offloader_wait(null), "wait on NULL");
        note(xsc_offloader_sync_stats(null), "sync_stats on NULL");
        note(
            xsc_offloader_dump(null, &mut dump, std::ptr::null_mut()),
            "dump of NULL",
        );
        note(xsc_offloader_flush(null), "flush on NULL");
        note(xsc_offloader_counts(null, &mut counts), "counts of NULL");
        note(
            xsc_offloader_config_init(std::ptr::null_mut()),
            "config_init of NULL",
        );
        let mut cfg = eswitch_config(&ports, c"metascale", 9);
        note(xsc_offloader_new(&cfg, &mut out), "a bad mode");
        cfg = eswitch_config(&ports, c"metascale", XSC_MODE_ASYNC);
        note(xsc_offloader_new(&cfg, &mut out), "async on metascale");
        assert!(out.is_null());
        cfg = eswitch_config(&[7], c"metascale", XSC_MODE_AUTO);
        cfg.device = XSC_DEVICE_DPDK;
        note(xsc_offloader_new(&cfg, &mut out), "a DPDK port without EAL");

        // A queue of depth 1 fills: EAGAIN, then the worker drains it.
        cfg = eswitch_config(&ports, c"metascale", XSC_MODE_SYNC);
        cfg.queue_depth = 1;
        let mut small: *mut xsc_offloader = std::ptr::null_mut();
        assert_eq!(
            xsc_offloader_new(&cfg, &mut small),
            XSC_OK,
            "{}",
            last_error()
        );
        let mut full = false;
        for _ in 0..10_000 {
            let rc = put(small, &key);
            if rc == XSC_EAGAIN {
                note(rc, "put into a full queue");
                full = true;
                break;
            }
            assert_eq!(rc, XSC_OK, "{}", last_error());
        }
        xsc_offloader_destroy(small);
        if !full {
            loud("the depth-1 queue never filled (the worker kept up): EAGAIN not driven");
        }
    }
    seen.sort_unstable();
    seen.dedup();
    for code in [XSC_EINVAL, XSC_EBADMSG, XSC_ENOENT, XSC_ENOTSUP, XSC_ENODEV] {
        assert!(seen.contains(&code), "{code} was not driven: {seen:?}");
    }
}

/// `XSC_MODE_ASYNC` on the eswitch with a profile that has the
/// template/async API: the flow goes through the flow queues and is
/// offloaded; metascale (no async API) is refused with `XSC_ENOTSUP`, as
/// the header says.
#[test]
fn async_mode_offloads_through_the_eswitchs_flow_queues() {
    let ports = [0u16, 8, 15];
    let cfg = eswitch_config(&ports, c"generic", XSC_MODE_ASYNC);
    let (ufid, key, mask, actions) = seed_netlink();
    let mut h: *mut xsc_offloader = std::ptr::null_mut();
    // Safety: valid config and pointers.
    unsafe {
        assert_eq!(xsc_offloader_new(&cfg, &mut h), XSC_OK, "{}", last_error());
        let h = Handle(h);
        let rc = xsc_flow_put(
            h.0,
            ufid.parts.as_ptr(),
            key.as_ptr(),
            key.len(),
            mask.as_ptr(),
            mask.len(),
            actions.as_ptr(),
            actions.len(),
        );
        assert_eq!(rc, XSC_OK, "{}", last_error());
        assert_eq!(xsc_offloader_wait(h.0), XSC_OK);
        let mut reason = [0 as c_char; XSC_REASON_MAX];
        let state = xsc_flow_get(h.0, ufid.parts.as_ptr(), reason.as_mut_ptr(), reason.len());
        assert_eq!(
            state,
            XSC_STATE_OFFLOADED,
            "{:?}",
            CStr::from_ptr(reason.as_ptr())
        );
        let mut dump: *mut c_char = std::ptr::null_mut();
        assert_eq!(
            xsc_offloader_dump(h.0, &mut dump, std::ptr::null_mut()),
            XSC_OK
        );
        let text = CStr::from_ptr(dump).to_string_lossy().into_owned();
        xsc_string_free(dump);
        assert_eq!(text.lines().count(), 1, "{text}");
        assert_eq!(xsc_offloader_flush(h.0), XSC_OK, "{}", last_error());
        let mut counts = xsc_counts::default();
        assert_eq!(xsc_offloader_counts(h.0, &mut counts), XSC_OK);
        assert_eq!(counts.live_rules, 0);

        let cfg = eswitch_config(&ports, c"metascale", XSC_MODE_ASYNC);
        let mut out: *mut xsc_offloader = std::ptr::null_mut();
        assert_eq!(xsc_offloader_new(&cfg, &mut out), XSC_ENOTSUP);
        assert!(out.is_null());
        assert!(
            last_error().contains("no template/async API"),
            "{}",
            last_error()
        );
    }
}
