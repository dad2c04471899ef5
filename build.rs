//! Link metadata for the C ABI library: the staticlib and cdylib carry DPDK's
//! link line from xsc-sys, so a C program links them with `-lxsc_offload`
//! plus `pkg-config --libs libdpdk`.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if let Ok(version) = std::env::var("DEP_DPDK_VERSION") {
        println!("cargo:rustc-env=XSC_DPDK_VERSION={version}");
    }
}
