//! The workspace's fixtures: real OVS output (each with the command that
//! made it, in `xsc-dp/tests/data/*/README.md`) and the shared corpus.

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn root() -> &'static Path {
    // test-support/ sits at the workspace root.
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// `xsc-dp/tests/data/ovs/NAME`: the Kube-OVN capture (`kube-ovn.flows`,
/// `kube-ovn.conntrack`, `kube-ovn.packets`, ...).
pub fn ovs(name: &str) -> PathBuf {
    root().join("xsc-dp/tests/data/ovs").join(name)
}

/// `xsc-dp/tests/data/odp/NAME` (`corpus/seed-offloaded.flows`, ...).
pub fn odp(name: &str) -> PathBuf {
    root().join("xsc-dp/tests/data/odp").join(name)
}

/// `xsc-dp/tests/data/translate/NAME` (`seed-metascale.testpmd`).
pub fn translate(name: &str) -> PathBuf {
    root().join("xsc-dp/tests/data/translate").join(name)
}

/// The shared corpus beside the repository (`../shared/corpus/NAME`).
pub fn shared_corpus(name: &str) -> PathBuf {
    root().join("../shared/corpus").join(name)
}

/// The text of a fixture; panics naming the file when it cannot be read.
pub fn read(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// The bytes of a fixture; panics naming the file when it cannot be read.
pub fn read_bytes(path: impl AsRef<Path>) -> Vec<u8> {
    let path = path.as_ref();
    std::fs::read(path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// A path as a `&str` argument for a command line.
pub fn arg(path: &Path) -> &str {
    path.to_str()
        .unwrap_or_else(|| panic!("{} is not UTF-8", path.display()))
}

/// A temporary directory, removed on drop; named for the test and process
/// so that parallel tests and runs do not meet.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A fresh, empty directory.
    pub fn new(name: &str) -> Self {
        let d = std::env::temp_dir().join(format!("xsc-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
        Self(d)
    }

    /// `self/name`.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixtures_are_where_they_say() {
        assert!(read(ovs("kube-ovn.flows")).contains("recirc_id"));
        assert!(read(odp("corpus/seed-offloaded.flows")).contains("ct_state"));
        assert!(read(translate("seed-metascale.testpmd")).contains("flow create"));
    }
}
