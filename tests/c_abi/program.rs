//! `examples/ovs_provider.c` compiled against the header and both forms of
//! the library, run on real flows, and under valgrind's memcheck.

use super::*;

/// Where cargo put `libxsc_offload.so` for this test: `deps/` beside the
/// test binary (the library is built with all its crate types before any
/// test of this package), or the profile directory it is copied to.
pub(crate) fn library_dir() -> PathBuf {
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
pub(crate) enum Link {
    /// `-lxsc_offload`: the shared library, which brings DPDK's itself.
    Shared,
    /// `libxsc_offload.a` with the line the header gives: DPDK's
    /// `pkg-config --libs`, the ring PMD when DPDK has it (xsc-sys links it
    /// by name, as PMDs are not on that line), `-lpthread -ldl -lm`.
    Static,
}

/// Compiles `source` against the header and the library, with DPDK's
/// flags (and `-DWITH_DPDK`) when `with_dpdk`.
pub(crate) fn compile(source: &Path, exe: &Path, with_dpdk: bool, link: Link) {
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

pub(crate) fn text(out: &Output) -> String {
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
