//! Passes what xsc-sys learned about the installed DPDK on as cfgs.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(xsc_net_ring)");
    if std::env::var_os("DEP_DPDK_NET_RING").is_some() {
        println!("cargo:rustc-cfg=xsc_net_ring");
    }
}
