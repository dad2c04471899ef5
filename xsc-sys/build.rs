//! Finds DPDK, generates the bindings and compiles the C shim. No logic beyond that.
//!
//! Where DPDK comes from, in order:
//! 1. `XSC_DPDK_INCLUDE_DIR` (and `XSC_DPDK_LIB_DIR`): headers and libraries at
//!    fixed paths, for builds against a DPDK tree that has no `.pc` file.
//! 2. `pkg-config libdpdk` (at least 22.11), honouring `PKG_CONFIG_PATH` and
//!    friends, with `--static` when the `static` feature is on.
//!
//! The DPDK version is read from the headers themselves (`RTE_VER_*` in
//! `rte_build_config.h`), so that the cfgs match what is compiled, whatever
//! pkg-config said.

use std::env;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const MIN_VERSION: (u32, u32) = (22, 11);

/// What the build needs to know about one DPDK installation.
struct Dpdk {
    /// Everything clang needs to parse the headers as DPDK's own build does:
    /// `-I`, `-D`, `-include rte_config.h`, `-march=`.
    cflags: Vec<String>,
    include_dirs: Vec<PathBuf>,
    version: (u32, u32, u32),
    /// Where the libraries are, when known: used to find the ring PMD.
    lib_dir: Option<PathBuf>,
}

fn main() {
    for var in [
        "XSC_DPDK_INCLUDE_DIR",
        "XSC_DPDK_LIB_DIR",
        "XSC_DPDK_CFLAGS",
        "PKG_CONFIG",
        "PKG_CONFIG_PATH",
        "PKG_CONFIG_LIBDIR",
        "PKG_CONFIG_SYSROOT_DIR",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed=wrapper.h");
    println!("cargo:rerun-if-changed=csrc/shim.c");
    println!("cargo:rerun-if-changed=csrc/shim.h");
    println!("cargo:rerun-if-changed=csrc/consts.h");
    println!("cargo::rustc-check-cfg=cfg(xsc_dpdk_ipv6_addr)");
    println!("cargo::rustc-check-cfg=cfg(xsc_net_ring)");

    let statik = env::var_os("CARGO_FEATURE_STATIC").is_some();
    let dpdk = match find_dpdk(statik) {
        Ok(dpdk) => dpdk,
        Err(why) => fail(&why),
    };
    let (year, month, minor) = dpdk.version;
    if (year, month) < MIN_VERSION {
        fail(&format!(
            "found DPDK {year}.{month:02}.{minor}, but xsc needs DPDK {}.{} or newer",
            MIN_VERSION.0, MIN_VERSION.1
        ));
    }
    // 24.11 replaced the byte arrays of `rte_ipv6_hdr` with `struct rte_ipv6_addr`.
    if (year, month) >= (24, 11) {
        println!("cargo:rustc-cfg=xsc_dpdk_ipv6_addr");
    }
    // Visible to dependents as DEP_DPDK_VERSION / DEP_DPDK_INCLUDE.
    println!("cargo:version={year}.{month:02}.{minor}");
    let includes = env::join_paths(&dpdk.include_dirs).unwrap_or_default();
    println!("cargo:include={}", includes.to_string_lossy());

    // The ring PMD's rte_eth_from_rings builds pairs of ports wired to each
    // other through rte_rings: real loopback links for tests and tools. PMDs
    // are not on libdpdk's shared link line, so link it by name when present.
    let net_ring = statik
        || dpdk
            .lib_dir
            .as_ref()
            .is_some_and(|d| d.join("librte_net_ring.so").exists());
    if net_ring {
        println!("cargo:rustc-cfg=xsc_net_ring");
        println!("cargo:net_ring=1");
        if !statik {
            println!("cargo:rustc-link-lib=dylib=rte_net_ring");
        }
    }

    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    compile_shim(&dpdk);
    generate_bindings(&dpdk, &out);
    write_version(&out, dpdk.version);
}

/// Stops the build with one message that says what to do.
fn fail(why: &str) -> ! {
    eprintln!(
        "\n\nerror: xsc-sys cannot find a usable DPDK: {why}\n\n\
         Install DPDK's development files (at least {}.{}):\n    \
         Debian/Ubuntu: apt-get install libdpdk-dev pkg-config clang libclang-dev\n    \
         (or run scripts/setup from the repository root)\n\
         or point the build at a DPDK tree:\n    \
         XSC_DPDK_INCLUDE_DIR=/path/to/include XSC_DPDK_LIB_DIR=/path/to/lib cargo build\n\
         or, for a DPDK installed elsewhere, add its libdpdk.pc to PKG_CONFIG_PATH.\n",
        MIN_VERSION.0, MIN_VERSION.1
    );
    std::process::exit(1);
}

fn find_dpdk(statik: bool) -> Result<Dpdk, String> {
    if let Some(include) = env::var_os("XSC_DPDK_INCLUDE_DIR") {
        return from_dirs(
            PathBuf::from(include),
            env::var_os("XSC_DPDK_LIB_DIR").map(PathBuf::from),
            statik,
        );
    }
    from_pkg_config(statik)
}

/// A DPDK tree given by directory: `include/` (with `rte_config.h`, possibly
/// in a per-arch subdirectory as Debian lays it out) and `lib/`.
fn from_dirs(include: PathBuf, lib: Option<PathBuf>, statik: bool) -> Result<Dpdk, String> {
    let mut include_dirs = vec![include.clone()];
    if !include.join("rte_build_config.h").exists() {
        // Debian and Ubuntu put the arch-specific headers under <triple>/dpdk.
        let parent = include.parent().unwrap_or(&include);
        let arch = env::var("TARGET")
            .unwrap_or_default()
            .replace("-unknown", "");
        let candidate = parent.join(arch).join("dpdk");
        if candidate.join("rte_build_config.h").exists() {
            include_dirs.push(candidate);
        }
    }
    if !include_dirs.iter().any(|d| d.join("rte_flow.h").exists()) {
        return Err(format!(
            "XSC_DPDK_INCLUDE_DIR={} has no rte_flow.h",
            include.display()
        ));
    }
    let version = read_version(&include_dirs)?;
    let mut cflags: Vec<String> = include_dirs
        .iter()
        .map(|d| format!("-I{}", d.display()))
        .collect();
    cflags.extend(["-include".to_owned(), "rte_config.h".to_owned()]);
    // DPDK's headers use SSE4.2 intrinsics on x86; pkg-config would have
    // said which -march DPDK was built with. Without it, take DPDK's own
    // generic x86 baseline (corei7), or what XSC_DPDK_CFLAGS says.
    match env::var("XSC_DPDK_CFLAGS") {
        Ok(extra) => cflags.extend(extra.split_whitespace().map(str::to_owned)),
        Err(_) if env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("x86_64") => {
            cflags.push("-march=corei7".to_owned())
        }
        Err(_) => {}
    }
    if let Some(lib) = &lib {
        println!("cargo:rustc-link-search=native={}", lib.display());
        if statik {
            link_static_dir(lib)?;
        } else {
            for l in [
                "rte_ethdev",
                "rte_mbuf",
                "rte_mempool",
                "rte_ring",
                "rte_eal",
                "rte_kvargs",
                "rte_net",
            ] {
                println!("cargo:rustc-link-lib=dylib={l}");
            }
        }
    } else {
        return Err("XSC_DPDK_INCLUDE_DIR is set but XSC_DPDK_LIB_DIR is not".to_owned());
    }
    Ok(Dpdk {
        cflags,
        include_dirs,
        version,
        lib_dir: lib,
    })
}

fn pkg_config(args: &[&str]) -> Result<String, String> {
    let exe = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_owned());
    let output = Command::new(&exe)
        .args(args)
        .output()
        .map_err(|e| format!("could not run `{exe}` ({e})"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "`{exe} {}` failed: {}",
            args.join(" "),
            stderr.trim()
        ));
    }
    String::from_utf8(output.stdout)
        .map_err(|_| format!("`{exe}` printed something that is not UTF-8"))
}

fn from_pkg_config(statik: bool) -> Result<Dpdk, String> {
    let min = format!("--atleast-version={}.{}", MIN_VERSION.0, MIN_VERSION.1);
    if pkg_config(&["--exists", "libdpdk"]).is_err() {
        return Err("`pkg-config libdpdk` finds no libdpdk.pc".to_owned());
    }
    if let Err(e) = pkg_config(&[&min, "libdpdk"]) {
        let have = pkg_config(&["--modversion", "libdpdk"]).unwrap_or_default();
        return Err(format!("libdpdk {} is too old ({e})", have.trim()));
    }
    let cflags: Vec<String> = pkg_config(&["--cflags", "libdpdk"])?
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let include_dirs: Vec<PathBuf> = cflags
        .iter()
        .filter_map(|f| f.strip_prefix("-I"))
        .map(PathBuf::from)
        .collect();
    let version = read_version(&include_dirs)?;

    let libs = if statik {
        pkg_config(&["--static", "--libs", "libdpdk"])?
    } else {
        pkg_config(&["--libs", "libdpdk"])?
    };
    emit_link_flags(&libs, statik);
    let lib_dir = pkg_config(&["--variable=libdir", "libdpdk"])
        .ok()
        .map(|d| PathBuf::from(d.trim()));
    Ok(Dpdk {
        cflags,
        include_dirs,
        version,
        lib_dir,
    })
}

/// Turns pkg-config's link line into cargo directives.
///
/// Shared (default): every `-lrte_*` as a dylib; `--as-needed` keeps the
/// binary's NEEDED list to what it uses, and PMDs load from DPDK's plugin
/// directory at run time.
///
/// Static: DPDK registers drivers, buses and mempool handlers from
/// constructors, which the linker would drop from archives nobody references,
/// so every archive inside pkg-config's `--whole-archive` region is linked
/// with `+whole-archive`; other libraries (libnuma, libbsd, ...) stay dynamic.
fn emit_link_flags(libs: &str, statik: bool) {
    let mut whole = false;
    for flag in libs.split_whitespace() {
        match flag {
            "-Wl,--whole-archive" => whole = true,
            "-Wl,--no-whole-archive" => whole = false,
            "-pthread" => println!("cargo:rustc-link-lib=dylib=pthread"),
            f if f.starts_with("-L") => println!("cargo:rustc-link-search=native={}", &f[2..]),
            f if f.starts_with("-l:") => {
                let file = &f[3..];
                if statik && whole {
                    println!("cargo:rustc-link-lib=static:+whole-archive,+verbatim={file}");
                } else {
                    println!("cargo:rustc-link-lib=static:+verbatim={file}");
                }
            }
            f if f.starts_with("-l") => {
                let name = &f[2..];
                if statik && name.starts_with("rte_") {
                    let kind = if whole {
                        "static:+whole-archive"
                    } else {
                        "static"
                    };
                    println!("cargo:rustc-link-lib={kind}={name}");
                } else {
                    println!("cargo:rustc-link-lib=dylib={name}");
                }
            }
            // Linker options (--as-needed, --export-dynamic) only matter for
            // the final link, which this crate does not own.
            _ => {}
        }
    }
}

/// `XSC_DPDK_LIB_DIR` with the `static` feature: every `librte_*.a` there,
/// whole-archive.
fn link_static_dir(lib: &Path) -> Result<(), String> {
    let entries =
        std::fs::read_dir(lib).map_err(|e| format!("cannot read {}: {e}", lib.display()))?;
    let mut archives: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with("librte_") && n.ends_with(".a"))
        .collect();
    archives.sort();
    if archives.is_empty() {
        return Err(format!(
            "XSC_DPDK_LIB_DIR={} holds no librte_*.a",
            lib.display()
        ));
    }
    for a in archives {
        println!("cargo:rustc-link-lib=static:+whole-archive,+verbatim={a}");
    }
    for l in ["numa", "pthread", "dl", "m"] {
        println!("cargo:rustc-link-lib=dylib={l}");
    }
    Ok(())
}

/// Reads `RTE_VER_YEAR/MONTH/MINOR` from `rte_build_config.h`.
fn read_version(include_dirs: &[PathBuf]) -> Result<(u32, u32, u32), String> {
    let header = include_dirs
        .iter()
        .map(|d| d.join("rte_build_config.h"))
        .find(|p| p.exists())
        .ok_or_else(|| "no rte_build_config.h in DPDK's include directories".to_owned())?;
    let text = std::fs::read_to_string(&header)
        .map_err(|e| format!("cannot read {}: {e}", header.display()))?;
    let define = |name: &str| -> Option<u32> {
        text.lines().find_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some("#define") && words.next() == Some(name))
                .then(|| words.next()?.parse().ok())
                .flatten()
        })
    };
    match (
        define("RTE_VER_YEAR"),
        define("RTE_VER_MONTH"),
        define("RTE_VER_MINOR"),
    ) {
        (Some(y), Some(m), Some(n)) => Ok((y, m, n)),
        _ => Err(format!(
            "{} does not define RTE_VER_YEAR/MONTH/MINOR",
            header.display()
        )),
    }
}

fn compile_shim(dpdk: &Dpdk) {
    let mut build = cc::Build::new();
    build
        .file("csrc/shim.c")
        .include("csrc")
        .define("ALLOW_EXPERIMENTAL_API", None)
        .warnings(true);
    // pkg-config's cflags carry `-include rte_config.h` and `-march=...`, which
    // the shim needs exactly as DPDK was built with them.
    let mut flags = dpdk.cflags.iter();
    while let Some(flag) = flags.next() {
        if flag == "-include" {
            if let Some(file) = flags.next() {
                build.flag("-include").flag(file);
            }
        } else if let Some(dir) = flag.strip_prefix("-I") {
            build.include(dir);
        } else {
            build.flag_if_supported(flag);
        }
    }
    build.compile("xsc_shim");
}

fn generate_bindings(dpdk: &Dpdk, out: &Path) {
    let mut clang_args = dpdk.cflags.clone();
    clang_args.push("-DALLOW_EXPERIMENTAL_API".to_owned());
    clang_args.push("-Icsrc".to_owned());
    let bindings = bindgen::Builder::default()
        .header("wrapper.h")
        .use_core()
        .clang_args(&clang_args)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
        // What the library calls: EAL, ethdev, rte_flow (sync, template,
        // async), mbuf, mempool, and the shim.
        .allowlist_function("rte_eal_(init|cleanup|process_type|has_hugepages)")
        .allowlist_function("rte_dev_(probe|remove)")
        .allowlist_function("rte_eth_(dev_.*|rx_queue_setup|tx_queue_setup|stats_.*|promiscuous_.*|macaddr_get|link_get_nowait|find_next_owned_by|iterator_.*)")
        .allowlist_function("rte_flow_.*")
        .allowlist_function("rte_pktmbuf_pool_create|rte_mempool_(free|avail_count|in_use_count|lookup)")
        .allowlist_function("rte_mbuf_dyn.*")
        .allowlist_function("rte_strerror|rte_lcore_count|rte_socket_id|rte_log_set_global_level|rte_log_list_types")
        .allowlist_function("rte_eth_from_rings|rte_ring_(create|free)")
        .opaque_type("rte_ring")
        .allowlist_function("xsc_.*")
        .allowlist_type("rte_flow_.*|rte_eth_.*|rte_ether_.*|rte_ipv[46]_hdr|rte_(tcp|udp|sctp|icmp|vxlan|geneve)_hdr")
        .allowlist_type("xsc_.*")
        .allowlist_var("RING_F_.*")
        .allowlist_var("RTE_(MAX_ETHPORTS|ETH_.*|ETH_DEV_.*|MBUF_DEFAULT_.*|PKTMBUF_HEADROOM|FLOW_.*|MAX_QUEUES_PER_PORT)")
        .allowlist_var("rte_flow_dynf_metadata_(offs|mask)")
        // The mbuf and mempool internals change between releases and are
        // reached through the shim only; layout-sensitive packed headers that
        // bindgen cannot express keep their size and alignment only.
        .opaque_type("rte_mbuf|rte_mempool|rte_arp_hdr|rte_arp_ipv4|rte_flow_item_arp_eth_ipv4")
        .opaque_type("rte_l2tpv2_combined_msg_hdr|rte_gtp_psc_.*|rte_ecpri_.*|rte_ppp_hdr|rte_ib_bth")
        .blocklist_type("max_align_t")
        .default_enum_style(bindgen::EnumVariation::Consts)
        .prepend_enum_name(false)
        .derive_default(true)
        .derive_debug(true)
        .impl_debug(false)
        .layout_tests(true)
        .generate_comments(false)
        .generate()
        .unwrap_or_else(|e| fail(&format!("bindgen could not parse DPDK's headers: {e}")));
    bindings
        .write_to_file(out.join("bindings.rs"))
        .expect("write bindings.rs to OUT_DIR");
}

fn write_version(out: &Path, (year, month, minor): (u32, u32, u32)) {
    let mut src = String::new();
    let _ = writeln!(
        src,
        "/// The DPDK release these bindings were generated from: (year, month, minor)."
    );
    let _ = writeln!(
        src,
        "pub const DPDK_VERSION: (u32, u32, u32) = ({year}, {month}, {minor});"
    );
    std::fs::write(out.join("version.rs"), src).expect("write version.rs to OUT_DIR");
}
