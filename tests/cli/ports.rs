//! `xsc-offload ports`: the PMDs DPDK registered, and a driver without
//! rte_flow named as such rather than as a bare errno.

use super::{text, xsc};

const EAL: &str =
    "-l 0 --no-huge -m 128 --no-shconf --no-pci --no-telemetry --vdev=net_null0 --log-level=*:error";

/// The PMD names on the `net PMDs:` line.
fn net_pmds(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("net PMDs: "))
        .unwrap_or_else(|| panic!("no 'net PMDs:' line in\n{stdout}"))
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_driver_without_flow_ops_is_named_not_an_errno() {
    let out = xsc(&["ports", "--eal", EAL]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(net_pmds(&stdout).iter().any(|p| p == "null"), "{stdout}");
    // net_null has no flow_ops_get, as the metaScale PMD (net_xsc) up to
    // DPDK 26.07: DPDK answers ENOSYS, which ports turns into a sentence.
    assert!(
        stdout.contains("port 0: net_null0 (driver net_null)\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  rte_flow: no rte_flow support in driver net_null\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("template/async"), "{stdout}");
}

/// The upstream metaScale PMD exists from DPDK 25.03 (Debian packages it as
/// librte-net-xsc26 with 25.11): where the DPDK built against is that new,
/// it must be registered (loaded from the plugin directory), and before it
/// must not exist. `scripts/test-dpdk 25.11` runs this inside a sid chroot
/// with the package installed.
#[test]
fn the_metascale_pmd_is_registered_where_dpdk_ships_it() {
    let out = xsc(&["ports", "--eal", EAL]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let pmds = net_pmds(&text(&out.stdout));
    let (year, month, _) = xsc_dp::ffi::DPDK_VERSION;
    if (year, month) >= (25, 3) {
        assert!(
            pmds.iter().any(|p| p == "xsc"),
            "DPDK {year}.{month:02} has the metaScale PMD, but it is not registered \
             (install its package, librte-net-xsc26 on Debian for 25.11): {pmds:?}"
        );
    } else {
        assert!(
            !pmds.iter().any(|p| p == "xsc"),
            "no metaScale PMD before DPDK 25.03: {pmds:?}"
        );
    }
}
