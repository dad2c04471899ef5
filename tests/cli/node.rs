//! `xsc-offload node` as a user runs it: the built binary on fake sysfs trees
//! of the deployment guide's node (`xsc-dp/tests/node_tree/mod.rs`).

use std::process::Command;

use crate::node_tree::{Node, TempTree, GUIDE_CONFIG};
use crate::{text, BIN};

fn node(args: &[&str]) -> (String, String, Option<i32>) {
    let out = Command::new(BIN)
        .arg("node")
        .args(args)
        .output()
        .expect("run xsc-offload");
    (text(&out.stdout), text(&out.stderr), out.status.code())
}

fn check(tree: &TempTree, config: &str) -> (String, Option<i32>) {
    let cfg = tree.root.join("ovs-dpdk-config");
    std::fs::write(&cfg, config).unwrap();
    let (out, err, code) = node(&[
        "check",
        "--config",
        cfg.to_str().unwrap(),
        "--sysfs",
        tree.root.to_str().unwrap(),
    ]);
    assert!(err.is_empty(), "{err}");
    (out, code)
}

#[test]
fn the_guides_node_is_ready() {
    let tree = Node::default().build("cli-ok");
    let (out, code) = check(&tree, GUIDE_CONFIG);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("  HW_OFFLOAD       true\n"), "{out}");
    assert!(out.contains("  ENCAP_IP         6.6.6.208/24\n"), "{out}");
    assert!(
        out.contains(
            "EAL args: -c 0x2 --socket-mem 2048,2048 -a 0000:b3:00.0,representor=vf[0-9]\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("  PF 0000:b3:00.0 1f67:1111 netdev p3p1 VFs 10/512 eswitch switchdev\n"),
        "{out}"
    );
    assert!(out.contains("    VF 0000:b3:00.2 1f67:1112\n"), "{out}");
    assert!(out.contains("    VF 0000:b3:01.3 1f67:1112\n"), "{out}");
    assert!(
        out.contains("  PF 0000:b3:00.1 1f67:1111 netdev p3p2 VFs 0/512"),
        "{out}"
    );
    assert!(out.ends_with("ok: ready for offload\n"), "{out}");
}

#[test]
fn each_problem_comes_with_its_fix_and_exit_status_1() {
    let tree = Node {
        num_vfs: 0,
        eswitch: Some("legacy"),
    }
    .build("cli-bad");
    let (out, code) = check(
        &tree,
        &GUIDE_CONFIG.replace("HW_OFFLOAD=true", "HW_OFFLOAD=false"),
    );
    assert_eq!(code, Some(1), "{out}");
    for fix in [
        "problems (3):",
        "  - HW_OFFLOAD=false: set HW_OFFLOAD=true\n",
        "  - no VFs on 0000:b3:00.0: echo 10 > /sys/class/net/p3p1/device/sriov_numvfs\n",
        "  - eswitch of 0000:b3:00.0 is in legacy mode: run devlink dev eswitch set pci/0000:b3:00.0 mode switchdev\n",
    ] {
        assert!(out.contains(fix), "{fix}\n{out}");
    }
    assert!(
        out.contains("EAL args: -c 0x2 --socket-mem 2048,2048 -a 0000:b3:00.0\n"),
        "{out}"
    );
}

#[test]
fn a_dpdk_dev_that_is_not_a_pf_and_a_bad_config_are_problems() {
    let tree = Node::default().build("cli-dev");
    let (out, code) = check(&tree, &GUIDE_CONFIG.replace("0000:b3:00.0", "0000:b3:00.2"));
    assert_eq!(code, Some(1));
    assert!(
        out.contains("DPDK_DEV 0000:b3:00.2 is not a metaScale PF found in sysfs: set it to one, e.g. DPDK_DEV=0000:b3:00.0"),
        "{out}"
    );

    let (out, code) = check(
        &tree,
        &GUIDE_CONFIG.replace("HW_OFFLOAD=true", "HW_OFFLOAD=yes"),
    );
    assert_eq!(code, Some(1));
    assert!(
        out.contains("line 4: HW_OFFLOAD=yes: HW_OFFLOAD must be true or false"),
        "{out}"
    );
    assert!(
        out.contains("  PF 0000:b3:00.0"),
        "devices are still listed: {out}"
    );
}

#[test]
fn device_plugin_config_lists_the_vf_ids_found() {
    let tree = Node::default().build("cli-dp");
    let (out, err, code) = node(&[
        "device-plugin-config",
        "--sysfs",
        tree.root.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains(r#""resourceName": "xsc_sriov","#), "{out}");
    assert!(
        out.contains(r#""resourcePrefix": "yunsilicon.com","#),
        "{out}"
    );
    assert!(out.contains(r#""vendors": ["1f67"],"#), "{out}");
    assert!(out.contains(r#""devices": ["1112"]"#), "{out}");

    let empty = std::env::temp_dir().join(format!("xsc-node-{}-empty", std::process::id()));
    std::fs::create_dir_all(empty.join("bus/pci/devices")).unwrap();
    let (_, err, code) = node(&["device-plugin-config", "--sysfs", empty.to_str().unwrap()]);
    let _ = std::fs::remove_dir_all(&empty);
    assert_eq!(code, Some(1));
    assert!(err.contains("no metaScale device with VFs"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(node(&[]).2, Some(2));
    assert_eq!(node(&["check", "--bogus"]).2, Some(2));
    assert_eq!(node(&["device-plugin-config", "--config", "x"]).2, Some(2));
    assert_eq!(node(&["--help"]).2, Some(0));
}
