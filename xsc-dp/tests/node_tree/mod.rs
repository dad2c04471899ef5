//! Fake sysfs trees for the node tests (`xsc-dp/tests/engine/node.rs` and the CLI's
//! `tests/cli/node.rs`), modelled on the deployment guide's node:
//! `lspci -d 1f67:` shows PFs `b3:00.0` and `b3:00.1` (1f67:1111), and after
//! `echo '10' > /sys/class/net/p3p1/device/sriov_numvfs` ten VFs
//! `b3:00.2`..`b3:01.3` (1f67:1112); `sriov_totalvfs` is 512; the netdev of
//! `b3:00.0` is `p3p1`. The eswitch mode is the file `eswitch_mode`.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

use xsc_test_support::fixtures::TempDir;

/// A fake sysfs tree at `root`, removed on drop (the shared [`TempDir`]).
pub struct TempTree {
    pub root: PathBuf,
    _dir: TempDir,
}

/// The guide's node after its SR-IOV steps.
pub struct Node {
    pub num_vfs: u32,
    pub eswitch: Option<&'static str>,
}

impl Default for Node {
    fn default() -> Self {
        Node {
            num_vfs: 10,
            eswitch: Some("switchdev"),
        }
    }
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// The VF addresses after `b3:00.1`: `b3:00.2`, ..., `b3:00.7`, `b3:01.0`, ...
pub fn vf_addr(i: u32) -> String {
    let f = i + 2;
    format!("0000:b3:{:02x}.{}", f / 8, f % 8)
}

impl Node {
    /// Writes the tree under a fresh temporary directory named after `name`.
    pub fn build(&self, name: &str) -> TempTree {
        let dir = TempDir::new(&format!("node-{name}"));
        let root = dir.0.clone();
        let devs = root.join("bus/pci/devices");
        for (addr, netdev) in [("0000:b3:00.0", "p3p1"), ("0000:b3:00.1", "p3p2")] {
            let d = devs.join(addr);
            write(&d.join("vendor"), "0x1f67\n");
            write(&d.join("device"), "0x1111\n");
            write(&d.join("sriov_totalvfs"), "512\n");
            let vfs = if addr.ends_with(".0") {
                self.num_vfs
            } else {
                0
            };
            write(&d.join("sriov_numvfs"), &format!("{vfs}\n"));
            fs::create_dir_all(d.join("net").join(netdev)).unwrap();
            if let Some(mode) = self.eswitch {
                write(&d.join("eswitch_mode"), &format!("{mode}\n"));
            }
        }
        let pf = devs.join("0000:b3:00.0");
        for i in 0..self.num_vfs {
            let vf = vf_addr(i);
            let d = devs.join(&vf);
            write(&d.join("vendor"), "0x1f67\n");
            write(&d.join("device"), "0x1112\n");
            std::os::unix::fs::symlink(format!("../{vf}"), pf.join(format!("virtfn{i}"))).unwrap();
            std::os::unix::fs::symlink("../0000:b3:00.0", d.join("physfn")).unwrap();
        }
        // Something else on the bus, to be skipped.
        let other = devs.join("0000:00:1f.6");
        write(&other.join("vendor"), "0x8086\n");
        write(&other.join("device"), "0x15bc\n");
        TempTree { root, _dir: dir }
    }
}

/// The config text exactly as the guide gives it.
pub const GUIDE_CONFIG: &str = r#"# specify log level for ovs dpdk, the value is info or dbg, default is info
VLOG=info
# specify nic offload, the value is true or false, default is true
HW_OFFLOAD=true
# specify cpu mask for ovs dpdk, not specified by default
CPU_MASK=0x02
# specify socket memory, not specified by default
SOCKET_MEM="2048,2048"
# specify encap IP
ENCAP_IP=6.6.6.208/24
# specify pci device
DPDK_DEV=0000:b3:00.0
# specify mtu, default is 1500
PF_MTU=1500
# specify bond name if bond enabled, not specified by default
BR_PHY_BOND_NAME=bond0
"#;
