//! The header is the library's: constants, struct layouts as the C
//! compiler sees them, every exported function declared.

use super::program::{compile, library_dir, text, Link};
use super::*;

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
