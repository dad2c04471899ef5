//! Node set-up against the deployment guide: its exact config text, and fake
//! sysfs trees of its node (see `node_tree/mod.rs`) and of broken variants.

use std::net::Ipv4Addr;

use crate::node_tree::{vf_addr, Node, GUIDE_CONFIG};
use xsc_dp::node::config::{vf_representors, ConfigError, NodeConfig, Vlog};
use xsc_dp::node::sysfs::{discover, set_numvfs, EswitchMode, Kind, SysfsError};
use xsc_dp::node::PciAddr;

fn pci(s: &str) -> PciAddr {
    s.parse().unwrap()
}

#[test]
fn the_guides_config_parses_to_its_settings_and_eal_args() {
    let cfg = NodeConfig::parse(GUIDE_CONFIG).unwrap();
    assert_eq!(
        cfg,
        NodeConfig {
            vlog: Vlog::Info,
            hw_offload: true,
            cpu_mask: Some(0x2),
            socket_mem: Some(vec![2048, 2048]),
            encap_ip: Some((Ipv4Addr::new(6, 6, 6, 208), 24)),
            dpdk_dev: Some(pci("0000:b3:00.0")),
            pf_mtu: 1500,
            bond: Some("bond0".into()),
        }
    );
    assert_eq!(
        cfg.eal_args(&vf_representors(10)),
        [
            "-c",
            "0x2",
            "--socket-mem",
            "2048,2048",
            "-a",
            "0000:b3:00.0,representor=vf[0-9]"
        ]
    );
    assert_eq!(cfg.eal_args("")[5], "0000:b3:00.0");
}

#[test]
fn an_empty_config_has_the_guides_defaults() {
    let cfg = NodeConfig::parse("# nothing\n\n").unwrap();
    assert_eq!(cfg, NodeConfig::default());
    assert!(cfg.hw_offload);
    assert_eq!(cfg.pf_mtu, 1500);
    assert!(cfg.eal_args("vf[0-9]").is_empty());
}

fn bad(text: &str) -> String {
    NodeConfig::parse(text).unwrap_err().to_string()
}

#[test]
fn each_bad_value_names_key_value_line_and_what_is_allowed() {
    let cases = [
        (
            "HW_OFFLOAD=yes",
            "HW_OFFLOAD=yes: HW_OFFLOAD must be true or false",
        ),
        ("VLOG=debug", "VLOG=debug: VLOG must be info or dbg"),
        (
            "CPU_MASK=0x0",
            "CPU_MASK=0x0: CPU_MASK must be a non-zero hex core mask",
        ),
        ("CPU_MASK=0x", "CPU_MASK must be a non-zero hex"),
        ("CPU_MASK=2", "CPU_MASK=2: CPU_MASK must be"),
        ("CPU_MASK=0x10000000000000000", "CPU_MASK must be"),
        (
            "SOCKET_MEM=\"2048,\"",
            "SOCKET_MEM=2048,: SOCKET_MEM must be MB per NUMA node",
        ),
        ("SOCKET_MEM=-1", "SOCKET_MEM must be"),
        (
            "ENCAP_IP=6.6.6.208",
            "ENCAP_IP=6.6.6.208: ENCAP_IP must be an IPv4 address with its prefix",
        ),
        ("ENCAP_IP=6.6.6.208/33", "ENCAP_IP must be"),
        ("ENCAP_IP=6.6.6/24", "ENCAP_IP must be"),
        (
            "DPDK_DEV=b3:00.0",
            "DPDK_DEV=b3:00.0: DPDK_DEV must be a PCI address DDDD:BB:DD.F",
        ),
        ("DPDK_DEV=0000:b3:20.0", "DPDK_DEV must be a PCI address"),
        ("DPDK_DEV=0000:b3:00.8", "DPDK_DEV must be a PCI address"),
        (
            "PF_MTU=67",
            "PF_MTU=67: PF_MTU must be an MTU from 68 to 9216",
        ),
        ("PF_MTU=9217", "PF_MTU must be an MTU from 68 to 9216"),
        (
            "BR_PHY_BOND_NAME=a/b",
            "BR_PHY_BOND_NAME must be an interface name",
        ),
    ];
    for (text, want) in cases {
        let got = bad(&format!("# header\n{text}\n"));
        assert!(got.contains(want), "{text}: {got}");
        assert!(got.starts_with("line 2: "), "{text}: {got}");
    }
    assert_eq!(
        bad("HW_OFFLOAD=yes"),
        "line 1: HW_OFFLOAD=yes: HW_OFFLOAD must be true or false"
    );
    assert!(matches!(
        NodeConfig::parse("VLOG=info\nPF_MTU=abc"),
        Err(ConfigError::BadValue {
            line: 2,
            key: "PF_MTU",
            ..
        })
    ));
}

#[test]
fn unknown_and_repeated_keys_and_broken_lines_are_errors() {
    let e = bad("VLOG=info\nHW_OFLOAD=true\n");
    assert!(e.contains("line 2: unknown key HW_OFLOAD"), "{e}");
    assert!(e.contains("HW_OFFLOAD"), "lists the known keys: {e}");
    assert_eq!(
        NodeConfig::parse("HW_OFFLOAD=true\n\nHW_OFFLOAD=false\n"),
        Err(ConfigError::Duplicate {
            line: 3,
            key: "HW_OFFLOAD".into(),
            first: 1
        })
    );
    for text in [
        "HW_OFFLOAD",
        "HW_OFFLOAD = true",
        "SOCKET_MEM=\"2048,2048",
        "BR_PHY_BOND_NAME=a b",
    ] {
        assert!(
            matches!(
                NodeConfig::parse(text),
                Err(ConfigError::Syntax { line: 1, .. })
            ),
            "{text}"
        );
    }
}

#[test]
fn shell_forms_the_install_script_also_accepts() {
    let cfg = NodeConfig::parse(
        "export VLOG=dbg\nHW_OFFLOAD=\"false\"  \nPF_MTU=9000 # jumbo\nBR_PHY_BOND_NAME=\n",
    )
    .unwrap();
    assert_eq!(cfg.vlog, Vlog::Dbg);
    assert!(!cfg.hw_offload);
    assert_eq!(cfg.pf_mtu, 9000);
    assert_eq!(cfg.bond, None);
}

#[test]
fn discovers_the_guides_pfs_and_vfs() {
    let tree = Node::default().build("discover");
    let devs = discover(&tree.root).unwrap();
    let pfs: Vec<_> = devs.iter().filter(|d| d.kind == Kind::Pf).collect();
    let vfs: Vec<_> = devs.iter().filter(|d| d.kind == Kind::Vf).collect();
    assert_eq!(devs.len(), 12, "the Intel NIC is skipped");
    assert_eq!(pfs.len(), 2);
    assert_eq!(vfs.len(), 10);

    let p3p1 = pfs[0];
    assert_eq!(p3p1.addr, pci("0000:b3:00.0"));
    assert_eq!(p3p1.device_id, 0x1111);
    assert_eq!(p3p1.netdev.as_deref(), Some("p3p1"));
    assert_eq!((p3p1.total_vfs, p3p1.num_vfs), (Some(512), Some(10)));
    assert_eq!(p3p1.eswitch, Some(EswitchMode::Switchdev));
    let want: Vec<PciAddr> = (0..10).map(|i| pci(&vf_addr(i))).collect();
    assert_eq!(p3p1.vfs, want);
    assert_eq!(want[0].to_string(), "0000:b3:00.2");
    assert_eq!(want[9].to_string(), "0000:b3:01.3");

    assert_eq!(pfs[1].netdev.as_deref(), Some("p3p2"));
    assert_eq!(pfs[1].num_vfs, Some(0));
    assert!(pfs[1].vfs.is_empty());

    assert_eq!(vfs[0].addr, pci("0000:b3:00.2"));
    assert_eq!(vfs[0].device_id, 0x1112);
    assert_eq!((vfs[0].total_vfs, vfs[0].netdev.as_deref()), (None, None));
}

#[test]
fn faulty_nodes_show_what_is_wrong() {
    let legacy = Node {
        eswitch: Some("legacy"),
        ..Node::default()
    }
    .build("legacy");
    assert_eq!(
        discover(&legacy.root).unwrap()[0].eswitch,
        Some(EswitchMode::Legacy)
    );

    let unknown = Node {
        eswitch: None,
        num_vfs: 0,
    }
    .build("novfs");
    let devs = discover(&unknown.root).unwrap();
    assert_eq!(devs.len(), 2);
    assert_eq!(devs[0].eswitch, None, "no file: ask devlink");
    assert_eq!(devs[0].num_vfs, Some(0));

    let odd = Node {
        eswitch: Some("switchdev_inactive"),
        ..Node::default()
    }
    .build("odd");
    let e = discover(&odd.root).unwrap_err();
    assert!(matches!(e, SysfsError::BadValue { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("'switchdev_inactive' is not legacy or switchdev"),
        "{e}"
    );

    let nowhere = legacy.root.join("missing");
    assert!(matches!(discover(&nowhere), Err(SysfsError::Io { .. })));
}

#[test]
fn set_numvfs_follows_the_kernels_rules() {
    let tree = Node {
        num_vfs: 0,
        ..Node::default()
    }
    .build("numvfs");
    let pf = discover(&tree.root).unwrap().remove(0);
    let numvfs = pf.path.join("sriov_numvfs");
    let read = || std::fs::read_to_string(&numvfs).unwrap().trim().to_owned();

    set_numvfs(&pf, 10).unwrap();
    assert_eq!(read(), "10");

    // Over a non-zero count 0 goes first (the order is unit-tested in
    // `sysfs.rs`); here, the end state.
    set_numvfs(&pf, 16).unwrap();
    assert_eq!(read(), "16");
    set_numvfs(&pf, 0).unwrap();
    assert_eq!(read(), "0");

    let e = set_numvfs(&pf, 513).unwrap_err();
    assert!(
        matches!(
            e,
            SysfsError::TooManyVfs {
                requested: 513,
                total: 512,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(read(), "0", "nothing written when refused");

    let vf = Node::default().build("numvfs-vf");
    let vf0 = discover(&vf.root).unwrap().remove(2);
    assert!(matches!(
        set_numvfs(&vf0, 1),
        Err(SysfsError::NotSriov { .. })
    ));
}
