//! The `ovs-appctl dpctl/dump-flows type=offloaded` lines of offloaded
//! flows, with and without `-m`, as OVS prints them.
//!
//! Must not depend on: anything in the crate but `crate::odp`.

use crate::odp::{DpLayer, FlowStats, Megaflow, Offloaded, Style, Ufid};

use super::DP_LAYER_OFFLOADED;

/// Appends the line `ovs-appctl dpctl/dump-flows -m type=offloaded` prints
/// for `flow` fully offloaded by the userspace (netdev/DPDK) datapath, with
/// ufid `ufid` and statistics `stats` (`packets`, `bytes`, `used`, `flags`
/// and `dp-extra-info` as given; `offloaded` and `dp` are set here), e.g.
///
/// ```text
/// ufid:…, skb_priority(0/0),…,in_port(p1),…, packets:5, bytes:490, used:0.023s, offloaded:yes, dp:dpdk, actions:p2
/// ```
///
/// Followed in OVS (`lib/dpctl.c`, `lib/dpif-netdev.c`,
/// `lib/netdev-offload-dpdk.c`):
/// - `format_dpif_flow()`: with `-m` (verbosity) `odp_format_ufid()` and
///   `", "`; the key by `odp_flow_format(…, verbose)`, which with `-m` also
///   prints fully wildcarded attributes and fields (`skb_mark(0/0)`); `", "`
///   and `dpif_flow_stats_format()` (`packets:N, bytes:N, used:T[, flags:F]`);
///   `", offloaded:yes"` when `attrs.offloaded` and `attrs.dp_layer` is not
///   `"ovs"` (`", offloaded:partial"` when it is); `", dp:%s"` with
///   `attrs.dp_layer`; `", actions:"` and `format_odp_actions()`; with `-m`
///   `", dp-extra-info:%s"` when `attrs.dp_extra_info` is set.
/// - `flow_passes_type_filter()`: `type=offloaded` keeps flows with
///   `attrs.offloaded` and a `dp_layer` other than `"ovs"`.
/// - `dp_netdev_flow_to_dpif_flow()` / `get_dpif_flow_status()`: the key is
///   the *unmasked* flow that created the entry, the mask the subtable's;
///   the offload provider's stats are added to the software ones and its
///   `offloaded`/`dp_layer` taken; `dp_extra_info` is always the flow's
///   `miniflow_bits(…)`, so real OVS prints it for offloaded flows too.  The
///   engine has no dpcls subtable: pass it in `stats.dp_extra_info` to print
///   it.
/// - `netdev_offload_dpdk_flow_get()`: `offloaded = true` with
///   `dp_layer = "dpdk"` when the actions run in the NIC (full offload;
///   [`DP_LAYER_OFFLOADED`]), `dp_layer = "ovs"` for a mark-only partial
///   offload.
///
/// The line parses back with [`Megaflow::parse`] into `flow`'s key, mask
/// and actions, `ufid` and the statistics printed.  Costs one copy of the
/// megaflow (about 1.7 KB, no allocation for a typical one) so that the
/// caller's stays borrowed.
pub fn format_offloaded(out: &mut String, ufid: &Ufid, flow: &Megaflow, stats: &FlowStats) {
    offloaded_line(Some(*ufid), flow, stats).format(out, Style::Verbose);
}

/// Appends the line `ovs-appctl dpctl/dump-flows type=offloaded` (without
/// `-m`) prints for `flow`: `format_dpif_flow()` without verbosity prints no
/// ufid, leaves wildcarded attributes and fields out of the key, and prints
/// neither `offloaded:`, `dp:` nor `dp-extra-info:`, so the line is the same
/// as for a flow that is not offloaded (`type=offloaded` only filters).
pub fn format_offloaded_plain(out: &mut String, flow: &Megaflow, stats: &FlowStats) {
    offloaded_line(None, flow, stats).format(out, Style::Plain);
}

fn offloaded_line(ufid: Option<Ufid>, flow: &Megaflow, stats: &FlowStats) -> Megaflow {
    Megaflow {
        ufid,
        key: flow.key.clone(),
        mask: flow.mask.clone(),
        actions: flow.actions.clone(),
        stats: FlowStats {
            offloaded: Some(Offloaded::Yes),
            dp: DpLayer::new(DP_LAYER_OFFLOADED),
            ..stats.clone()
        },
    }
}
