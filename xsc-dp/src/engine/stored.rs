//! TEMPORARY stand-in (not committed).
use crate::odp::netlink::NetlinkError;
use crate::odp::{DpLayer, FlowStats, Megaflow, Offloaded, Style, Ufid};
/// x
#[derive(Debug, Default)]
pub struct Interner;
impl Interner {
    /// x
    pub fn new() -> Self {
        Interner
    }
    /// x
    pub fn len(&self) -> usize {
        0
    }
    /// x
    pub fn memory_bytes(&self) -> usize {
        0
    }
    /// x
    pub fn sweep(&mut self) {}
}
/// x
#[derive(Debug)]
pub struct StoredFlow(Box<Megaflow>);
impl StoredFlow {
    /// x
    pub fn new(flow: &Megaflow, _i: &mut Interner) -> Result<StoredFlow, NetlinkError> {
        Ok(StoredFlow(Box::new(flow.clone())))
    }
    /// x
    pub fn load(&self, _i: &Interner, out: &mut Megaflow) -> Result<(), NetlinkError> {
        out.key = self.0.key.clone();
        out.mask = self.0.mask.clone();
        out.actions = self.0.actions.clone();
        Ok(())
    }
    /// x
    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Megaflow>()
    }
}
/// x
pub fn format_offloaded(out: &mut String, ufid: &Ufid, flow: &Megaflow, stats: &FlowStats) {
    let mut m = flow.clone();
    m.ufid = Some(*ufid);
    m.stats = stats.clone();
    m.stats.offloaded = Some(Offloaded::Yes);
    m.stats.dp = DpLayer::new("dpdk");
    m.format(out, Style::Verbose);
}
