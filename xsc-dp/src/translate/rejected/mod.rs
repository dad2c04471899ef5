//! Why a megaflow or connection is not offloaded: [`Rejected`], one variant
//! per thing that can be refused, with the key, field, action or value it
//! concerns as data.
//!
//! Two faces, both stable:
//! - [`Display`](fmt::Display) is the sentence operators read,
//!   `<what>: <reason>` (`ct_state +new: new connections are committed in
//!   software; ...`). The CLI's `plan`, the C ABI and the fixtures compare
//!   it byte for byte; [`Rejected::what`] and [`Rejected::reason`] give its
//!   two halves.
//! - [`Rejected::name`] is a snake_case machine name (`ct_label_mask`,
//!   `unsupported_action`) for programs (`plan --json`, `xsc_flow_get`):
//!   one name per reason, never reused for another, never changed.
//!
//! Invariants: a rejection says the first thing that cannot be offloaded;
//! nothing here allocates except the few variants that carry the device
//! profile's name.
//!
//! Must not depend on: anything below `translate` in the flow (`rte`,
//! `device`, `dpdk`, `eswitch`, `engine`). It names `odp` values (ports,
//! key attributes) and the profile's item and action kinds.

use std::fmt;

mod parts;

pub use parts::{ConnId, Holder, SetMask, Unmatchable};

use super::resources::Exhausted;
use crate::odp::{netlink::NetlinkError, KeyAttr, OdpPort, PortName};
use crate::rule::{ActionKind, ItemKind};

/// Why a flow (or connection) is not offloaded: the first thing that
/// cannot be, as data ([`name`](Self::name) for programs) and in words an
/// operator understands ([`Display`](fmt::Display)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejected {
    // The device profile.
    /// The rule needs an rte_flow item the profile does not match on.
    ProfileItem {
        /// The profile's name.
        profile: String,
        /// The item.
        item: ItemKind,
    },
    /// The rule needs an rte_flow action the profile does not have.
    ProfileAction {
        /// The profile's name.
        profile: String,
        /// The action.
        action: ActionKind,
    },
    /// `tnl_push` with a header longer than the profile can push.
    EncapTooLong {
        /// The profile's name.
        profile: String,
        /// The header's length in bytes.
        len: usize,
        /// The most the profile pushes.
        max: u16,
    },

    // Ports.
    /// `in_port` names a port the port map does not have.
    InPortUnmapped {
        /// The OVS port.
        port: OdpPort,
    },
    /// `output` to a port the port map does not have.
    OutputUnmapped {
        /// The OVS port.
        port: OdpPort,
    },
    /// `output` to a virtual (tunnel) port.
    OutputVirtual {
        /// The OVS port.
        port: OdpPort,
    },

    // Packet metadata.
    /// `packet_type` other than Ethernet.
    PacketType {
        /// The namespace.
        ns: u16,
        /// The type.
        id: u16,
    },
    /// `ct_state(+new)`: only software sees new connections.
    CtStateNew,
    /// `ct_state(+inv)`: only software judges packets invalid.
    CtStateInvalid,
    /// `ct_state(+rel)`: only software tracks related connections.
    CtStateRelated,
    /// `ct_label` matched with a partial mask.
    CtLabelMask {
        /// The mask.
        mask: u128,
    },
    /// A key field matched (non-zero mask) that has no hardware form.
    Unmatchable {
        /// The field.
        field: Unmatchable,
    },
    /// `tunnel(tun_id=)` with bits above the 24 a VNI has.
    TunnelIdWidth {
        /// The tunnel id.
        tun_id: u64,
    },
    /// A shared hardware resource (group, label id) ran out.
    Exhausted {
        /// What needed it.
        by: Holder,
        /// Which resource, and how many there are.
        exhausted: Exhausted,
    },

    // Actions.
    /// `drop` after other actions.
    DropAfterActions,
    /// `ct()` not followed by `recirc()`.
    CtWithoutRecirc,
    /// An action after `ct(),recirc()`.
    AfterRecirc {
        /// The action's OVS name.
        action: &'static str,
    },
    /// `sample()` below 100%.
    SampleProbability {
        /// The probability, `u32::MAX` being 100%.
        probability: u32,
    },
    /// Several outputs (mirroring) on a profile without `SAMPLE`.
    NoMirror {
        /// The profile's name.
        profile: String,
    },
    /// `clone(...)`/`sample(...)` holding an action other than an output or
    /// a tunnel push.
    CopyAction {
        /// `clone` or `sample`.
        copy: &'static str,
        /// The inner action's OVS name.
        action: &'static str,
    },
    /// `ct()` on a profile without conntrack tables.
    NoCtTables {
        /// The profile's name.
        profile: String,
    },
    /// `ct(helper=)`.
    CtHelper {
        /// The helper.
        helper: PortName,
    },
    /// `ct(timeout=)`.
    CtTimeout {
        /// The timeout policy's name.
        timeout: Box<str>,
    },
    /// `ct(mark=,label=)` without commit.
    CtMarkLabel,
    /// `ct(nat(src|dst=...))`.
    CtNatBinding,
    /// `ct(commit)` on a flow that does not match an established connection.
    CtCommitNew,
    /// `ct(commit,...)` with NAT, a helper, a timeout or force_commit.
    CtCommitChanges,
    /// `ct(commit,zone=)` on a flow that does not match that zone.
    CtCommitZone {
        /// The zone.
        zone: u16,
    },
    /// `ct(commit,mark=)` writing a mark the flow does not match.
    CtCommitMark {
        /// The mark.
        value: u32,
        /// Its mask.
        mask: u32,
    },
    /// `ct(commit,label=)` writing a label the flow does not match.
    CtCommitLabel {
        /// The label.
        value: u128,
    },
    /// `tnl_pop` to a port the port map does not name as virtual.
    TnlPopPort {
        /// The OVS port.
        port: OdpPort,
    },
    /// `tnl_pop` of something other than VXLAN matched exactly.
    TnlPopNotVxlan {
        /// The OVS port.
        port: OdpPort,
    },
    /// `tnl_push` whose header cannot be built.
    TnlPushHeader {
        /// Why.
        error: NetlinkError,
    },
    /// An action with no rte_flow form (`userspace`, `trunc`, MPLS, ...).
    UnsupportedAction {
        /// The action's OVS name.
        action: &'static str,
    },
    /// `meter` on a profile with meters: this offload does not create them.
    MeterNotCreated,
    /// `meter` on a profile without meters.
    NoMeters {
        /// The profile's name.
        profile: String,
    },
    /// `set` of a header the flow does not match exactly.
    SetUnmatched {
        /// The header (`ipv4`, `tcp`, `udp`, `ipv6`).
        header: &'static str,
    },
    /// `set` with a partial mask.
    SetPartialMask {
        /// The field.
        field: SetMask,
    },
    /// `set(ipv4(proto=,frag=))`.
    SetIpv4ProtoFrag,
    /// `set(ipv6(label=,proto=,frag=))`.
    SetIpv6LabelProtoFrag,
    /// `set(sctp())`.
    SetSctp,
    /// `set(skb_priority)`, `set(skb_mark)`.
    SetSkbMetadata,
    /// `set` of another key attribute (`None`: one the parser knows but
    /// this translation does not).
    SetField {
        /// The attribute.
        attr: Option<KeyAttr>,
    },

    // Headers.
    /// `vlan(tci=)` whose mask does not say whether a tag is present.
    VlanCfi {
        /// The TCI.
        tci: u16,
        /// Its mask.
        mask: u16,
    },
    /// `ipv4(frag=)` other than no/first/later matched exactly.
    Ipv4Frag {
        /// The value.
        value: u8,
        /// The mask.
        mask: u8,
    },
    /// `ipv6(frag=)` other than no/first/later matched exactly.
    Ipv6Frag {
        /// The value.
        value: u8,
        /// The mask.
        mask: u8,
    },
    /// `tcp_flags` with the NS or reserved bits in the mask.
    TcpFlagsMask {
        /// The mask.
        mask: u16,
    },
    /// `nd()` without an exact ICMPv6 type of 135 or 136.
    NdType,

    // Connections.
    /// A connection on a profile without conntrack tables.
    ConnNoCtTables {
        /// The connection.
        conn: ConnId,
        /// The profile's name.
        profile: String,
    },
    /// A TCP connection that is not ESTABLISHED both ways.
    ConnNotEstablished {
        /// The connection.
        conn: ConnId,
    },
    /// An ICMPv6 connection.
    ConnIcmpv6 {
        /// The connection.
        conn: ConnId,
    },
    /// A connection of a protocol other than TCP, UDP, ICMP.
    ConnProto {
        /// The connection.
        conn: ConnId,
    },
    /// A connection with an ALG helper.
    ConnHelper {
        /// The connection.
        conn: ConnId,
    },
}

/// An OVS port as the flow printed it (number or name).
struct Port<'a>(&'a OdpPort);

impl fmt::Display for Port<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            OdpPort::Number(n) => write!(f, "{n}"),
            OdpPort::Name(n) => f.write_str(n.as_str()),
        }
    }
}

/// One half of a rejection's sentence, to display.
struct Half<'a>(
    &'a Rejected,
    fn(&Rejected, &mut fmt::Formatter<'_>) -> fmt::Result,
);

impl fmt::Display for Half<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (self.1)(self.0, f)
    }
}

impl Rejected {
    /// The reason's machine name: snake_case, stable (a name is never
    /// changed nor reused for another reason), for programs that count or
    /// match rejections (`plan --json`, the C ABI's `xsc_flow_get`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::ProfileItem { .. } => "profile_item",
            Self::ProfileAction { .. } => "profile_action",
            Self::EncapTooLong { .. } => "encap_too_long",
            Self::InPortUnmapped { .. } => "in_port_unmapped",
            Self::OutputUnmapped { .. } => "output_unmapped",
            Self::OutputVirtual { .. } => "output_virtual",
            Self::PacketType { .. } => "packet_type",
            Self::CtStateNew => "ct_state_new",
            Self::CtStateInvalid => "ct_state_inv",
            Self::CtStateRelated => "ct_state_rel",
            Self::CtLabelMask { .. } => "ct_label_mask",
            Self::Unmatchable { field } => field.name(),
            Self::TunnelIdWidth { .. } => "tun_id_width",
            Self::Exhausted { exhausted, .. } => match exhausted {
                Exhausted::Groups(_) => "groups_exhausted",
                Exhausted::Labels(_) => "labels_exhausted",
            },
            Self::DropAfterActions => "drop_after_actions",
            Self::CtWithoutRecirc => "ct_without_recirc",
            Self::AfterRecirc { .. } => "action_after_recirc",
            Self::SampleProbability { .. } => "sample_probability",
            Self::NoMirror { .. } => "no_mirror",
            Self::CopyAction { .. } => "copy_action",
            Self::NoCtTables { .. } => "no_ct_tables",
            Self::CtHelper { .. } => "ct_helper",
            Self::CtTimeout { .. } => "ct_timeout",
            Self::CtMarkLabel => "ct_mark_label",
            Self::CtNatBinding => "ct_nat_binding",
            Self::CtCommitNew => "ct_commit_new",
            Self::CtCommitChanges => "ct_commit_changes",
            Self::CtCommitZone { .. } => "ct_commit_zone",
            Self::CtCommitMark { .. } => "ct_commit_mark",
            Self::CtCommitLabel { .. } => "ct_commit_label",
            Self::TnlPopPort { .. } => "tnl_pop_port",
            Self::TnlPopNotVxlan { .. } => "tnl_pop_not_vxlan",
            Self::TnlPushHeader { .. } => "tnl_push_header",
            Self::UnsupportedAction { .. } => "unsupported_action",
            Self::MeterNotCreated => "meter_not_created",
            Self::NoMeters { .. } => "no_meters",
            Self::SetUnmatched { .. } => "set_unmatched",
            Self::SetPartialMask { .. } => "set_partial_mask",
            Self::SetIpv4ProtoFrag => "set_ipv4_proto_frag",
            Self::SetIpv6LabelProtoFrag => "set_ipv6_label_proto_frag",
            Self::SetSctp => "set_sctp",
            Self::SetSkbMetadata => "set_skb_metadata",
            Self::SetField { .. } => "set_field",
            Self::VlanCfi { .. } => "vlan_cfi",
            Self::Ipv4Frag { .. } => "ipv4_frag",
            Self::Ipv6Frag { .. } => "ipv6_frag",
            Self::TcpFlagsMask { .. } => "tcp_flags_mask",
            Self::NdType => "nd_type",
            Self::ConnNoCtTables { .. } => "conn_no_ct_tables",
            Self::ConnNotEstablished { .. } => "conn_not_established",
            Self::ConnIcmpv6 { .. } => "conn_icmpv6",
            Self::ConnProto { .. } => "conn_proto",
            Self::ConnHelper { .. } => "conn_helper",
        }
    }

    /// The key, field or action refused, as the sentence names it
    /// (`ct_state +new`, `userspace`, `in_port(9)`).
    pub fn what(&self) -> String {
        Half(self, Self::fmt_what).to_string()
    }

    /// Why, in words (the sentence after `what: `).
    pub fn reason(&self) -> String {
        Half(self, Self::fmt_reason).to_string()
    }

    fn fmt_what(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ProfileItem { item, .. } => write!(f, "rte_flow item {item}"),
            Self::ProfileAction { action, .. } => write!(f, "rte_flow action {action}"),
            Self::EncapTooLong { .. } | Self::TnlPushHeader { .. } => f.write_str("tnl_push"),
            Self::InPortUnmapped { port } => write!(f, "in_port({})", Port(port)),
            Self::OutputUnmapped { port } | Self::OutputVirtual { port } => {
                write!(f, "output:{}", Port(port))
            }
            Self::PacketType { ns, id } => write!(f, "packet_type(ns={ns},id={id:#x})"),
            Self::CtStateNew => f.write_str("ct_state +new"),
            Self::CtStateInvalid => f.write_str("ct_state +inv"),
            Self::CtStateRelated => f.write_str("ct_state +rel"),
            Self::CtLabelMask { mask } => write!(f, "ct_label(/{mask:#x})"),
            Self::Unmatchable { field } => f.write_str(field.what()),
            Self::TunnelIdWidth { tun_id } => write!(f, "tunnel(tun_id={tun_id:#x})"),
            Self::Exhausted { by, .. } => fmt::Display::fmt(by, f),
            Self::DropAfterActions => f.write_str("drop"),
            Self::CtWithoutRecirc | Self::NoCtTables { .. } => f.write_str("ct()"),
            Self::AfterRecirc { action } => write!(f, "{action} after recirc()"),
            Self::SampleProbability { probability } => write!(
                f,
                "sample(sample={:.1}%)",
                f64::from(*probability) / f64::from(u32::MAX) * 100.0
            ),
            Self::NoMirror { .. } => f.write_str("several outputs"),
            Self::CopyAction { copy, action } => write!(f, "{copy}({action})"),
            Self::CtHelper { helper } => write!(f, "ct(helper={})", helper.as_str()),
            Self::CtTimeout { timeout } => write!(f, "ct(timeout={timeout})"),
            Self::CtMarkLabel => f.write_str("ct(mark=,label=)"),
            Self::CtNatBinding => f.write_str("ct(nat(src|dst=...))"),
            Self::CtCommitNew => f.write_str("ct(commit)"),
            Self::CtCommitChanges => f.write_str("ct(commit,...)"),
            Self::CtCommitZone { zone } => write!(f, "ct(commit,zone={zone})"),
            Self::CtCommitMark { value, mask } => {
                write!(f, "ct(commit,mark={value:#x}/{mask:#x})")
            }
            Self::CtCommitLabel { value } => write!(f, "ct(commit,label={value:#x})"),
            Self::TnlPopPort { port } | Self::TnlPopNotVxlan { port } => {
                write!(f, "tnl_pop({})", Port(port))
            }
            Self::UnsupportedAction { action } => f.write_str(action),
            Self::MeterNotCreated | Self::NoMeters { .. } => f.write_str("meter"),
            Self::SetUnmatched { header } => write!(f, "set({header})"),
            Self::SetPartialMask { field } => write!(f, "set({field}) with a partial mask"),
            Self::SetIpv4ProtoFrag => f.write_str("set(ipv4(proto=,frag=))"),
            Self::SetIpv6LabelProtoFrag => f.write_str("set(ipv6(label=,proto=,frag=))"),
            Self::SetSctp => f.write_str("set(sctp())"),
            Self::SetSkbMetadata => f.write_str("set(skb_priority|skb_mark)"),
            Self::SetField { attr } => write!(f, "set({})", attr.map_or("", KeyAttr::name)),
            Self::VlanCfi { tci, mask } => write!(f, "vlan(tci={tci:#x}/{mask:#x})"),
            Self::Ipv4Frag { value, mask } => write!(f, "ipv4(frag={value}/{mask:#x})"),
            Self::Ipv6Frag { value, mask } => write!(f, "ipv6(frag={value}/{mask:#x})"),
            Self::TcpFlagsMask { mask } => write!(f, "tcp_flags(/{mask:#x})"),
            Self::NdType => f.write_str("nd()"),
            Self::ConnNoCtTables { conn, .. }
            | Self::ConnNotEstablished { conn }
            | Self::ConnIcmpv6 { conn }
            | Self::ConnProto { conn }
            | Self::ConnHelper { conn } => fmt::Display::fmt(conn, f),
        }
    }

    fn fmt_reason(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Self::ProfileItem { profile, item } => {
                return write!(f, "the {profile} profile does not match on {item}")
            }
            Self::ProfileAction { profile, action } => {
                return write!(f, "the {profile} profile has no {action} action")
            }
            Self::EncapTooLong { profile, len, max } => {
                return write!(
                    f,
                    "a {len}-byte tunnel header is longer than the {max} bytes the {profile} profile can push"
                )
            }
            Self::InPortUnmapped { .. } | Self::OutputUnmapped { .. } => {
                "the port map has no DPDK port for this OVS port"
            }
            Self::OutputVirtual { .. } => {
                "a virtual port (a tunnel port) is reached through tnl_push, not output"
            }
            Self::PacketType { .. } => "only Ethernet frames (ns=0,id=0) are offloaded",
            Self::CtStateNew => {
                "new connections are committed in software; the NIC only sees established ones"
            }
            Self::CtStateInvalid => {
                "invalid packets are judged in software; the NIC never marks a packet invalid"
            }
            Self::CtStateRelated => {
                "related connections (ICMP errors, FTP data) are tracked in software"
            }
            Self::CtLabelMask { .. } => {
                "labels are matched through an interned id, which needs an exact (all-ones) mask"
            }
            Self::Unmatchable { field } => field.reason(),
            Self::TunnelIdWidth { .. } => "only 24-bit VNIs (VXLAN, Geneve) are kept after decap",
            Self::Exhausted { exhausted, .. } => {
                return match exhausted {
                    Exhausted::Groups(n) => write!(f, "all {n} hardware groups are in use"),
                    Exhausted::Labels(n) => write!(f, "all {n} label ids are in use"),
                }
            }
            Self::DropAfterActions => "drop after other actions is not expressible as one rule",
            Self::CtWithoutRecirc => "conntrack without a following recirc() has no hardware form",
            Self::AfterRecirc { .. } => "nothing follows a recirculation in the datapath",
            Self::SampleProbability { .. } => {
                "sampling below 100% (sFlow, IPFIX) stays in software"
            }
            Self::NoMirror { profile } => {
                return write!(
                    f,
                    "copying a packet to more than one port needs mirroring (SAMPLE), which the {profile} profile lacks"
                )
            }
            Self::CopyAction { .. } => "only outputs and tunnel pushes of the copy are offloaded",
            Self::NoCtTables { profile } | Self::ConnNoCtTables { profile, .. } => {
                return write!(f, "the {profile} profile has no conntrack tables")
            }
            Self::CtHelper { .. } => "ALG helpers run in software",
            Self::CtTimeout { .. } => "timeout policies are enforced in software",
            Self::CtMarkLabel => "setting mark or label means committing, which software does",
            Self::CtNatBinding => "choosing a NAT binding happens on commit, in software",
            Self::CtCommitNew => {
                "committing a new connection stays in software; the NIC only sees established ones"
            }
            Self::CtCommitChanges => "NAT, helpers, timeouts and force_commit change the connection",
            Self::CtCommitZone { .. } => {
                "the flow does not match the zone it commits to, so the commit may create a connection"
            }
            Self::CtCommitMark { .. } => {
                "re-asserting a mark the flow does not match would need the NIC to update the connection"
            }
            Self::CtCommitLabel { .. } => {
                "re-asserting a label the flow does not match would need the NIC to update the connection"
            }
            Self::TnlPopPort { .. } => {
                "the port map must name this OVS port as a virtual (tunnel) port"
            }
            Self::TnlPopNotVxlan { .. } => {
                "only VXLAN (UDP 4789, matched exactly) is decapsulated: Geneve options make the header length unknown"
            }
            Self::TnlPushHeader { error } => {
                return write!(f, "the header cannot be built: {error}")
            }
            Self::UnsupportedAction { action } => unsupported_reason(action),
            Self::MeterNotCreated => "meters are not created by this offload yet (rte_mtr)",
            Self::NoMeters { profile } => return write!(f, "the {profile} profile has no meters"),
            Self::SetUnmatched { .. } => {
                "the flow does not match the header it rewrites exactly, and rte_flow's rewrite would apply to others"
            }
            Self::SetPartialMask { .. } => "only whole fields are rewritten",
            Self::SetIpv4ProtoFrag => "the protocol and fragment bits are not rewritten",
            Self::SetIpv6LabelProtoFrag => "these fields are not rewritten",
            Self::SetSctp => "SCTP ports are not rewritten (CRC32c checksum)",
            Self::SetSkbMetadata => "kernel packet metadata does not exist on the NIC",
            Self::SetField { .. } => "this field is not rewritten in hardware",
            Self::VlanCfi { .. } => "a VLAN match must say whether a tag is present (cfi)",
            Self::Ipv4Frag { .. } | Self::Ipv6Frag { .. } => {
                "only frag=no|first|later with an exact mask has an rte_flow form"
            }
            Self::TcpFlagsMask { .. } => {
                "the NS and reserved bits are not in rte_flow's 8-bit TCP flags"
            }
            Self::NdType => "ND fields are matched only with an exact icmpv6 type of 135 or 136",
            Self::ConnNotEstablished { .. } => {
                "only ESTABLISHED TCP connections are offloaded; set-up and tear-down stay in software"
            }
            Self::ConnIcmpv6 { .. } => {
                "ICMPv6 echo ids cannot be matched (rte_flow's ICMP6 item has none)"
            }
            Self::ConnProto { .. } => "only TCP, UDP and ICMP connections are offloaded",
            Self::ConnHelper { .. } => "connections with an ALG helper stay in software",
        };
        f.write_str(s)
    }
}

/// Why an action (by its OVS name) has no rte_flow form.
fn unsupported_reason(action: &str) -> &'static str {
    match action {
        "userspace" => "the packet must go to ovs-vswitchd (slow path, controller, sFlow)",
        "lb_output" => "balance-tcp bond selection runs in software",
        "hash" => "the datapath hash is computed in software",
        "check_pkt_len" => "branching on packet length has no rte_flow action",
        "trunc" => "truncation has no rte_flow action",
        "dec_ttl" => "dec_ttl with an expiry branch has no rte_flow form",
        "push_mpls" | "add_mpls" | "pop_mpls" => "MPLS is not offloaded",
        "push_eth" | "pop_eth" => "layer-3 tunnels (push_eth/pop_eth) are not offloaded",
        "push_nsh" | "pop_nsh" => "NSH is not offloaded",
        "psample" => "psample goes to the kernel's sampling group",
        _ => "no hardware form",
    }
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_what(f)?;
        f.write_str(": ")?;
        self.fmt_reason(f)
    }
}

impl std::error::Error for Rejected {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_are_what_operators_read() {
        let conn = ConnId { proto: 6, zone: 4 };
        let cases: Vec<(Rejected, &str, &str)> = vec![
            (
                Rejected::ProfileItem {
                    profile: "metascale".into(),
                    item: ItemKind::ArpEthIpv4,
                },
                "profile_item",
                "rte_flow item arp_eth_ipv4: the metascale profile does not match on arp_eth_ipv4",
            ),
            (
                Rejected::EncapTooLong {
                    profile: "generic".into(),
                    len: 130,
                    max: 128,
                },
                "encap_too_long",
                "tnl_push: a 130-byte tunnel header is longer than the 128 bytes the generic profile can push",
            ),
            (
                Rejected::InPortUnmapped {
                    port: OdpPort::Name(PortName::new("p9").unwrap()),
                },
                "in_port_unmapped",
                "in_port(p9): the port map has no DPDK port for this OVS port",
            ),
            (
                Rejected::PacketType { ns: 1, id: 0x800 },
                "packet_type",
                "packet_type(ns=1,id=0x800): only Ethernet frames (ns=0,id=0) are offloaded",
            ),
            (
                Rejected::Exhausted {
                    by: Holder::RecircId(7),
                    exhausted: Exhausted::Groups(64),
                },
                "groups_exhausted",
                "recirc_id: all 64 hardware groups are in use",
            ),
            (
                Rejected::Exhausted {
                    by: Holder::Conn(conn),
                    exhausted: Exhausted::Labels(255),
                },
                "labels_exhausted",
                "conntrack tcp zone=4: all 255 label ids are in use",
            ),
            (
                Rejected::SampleProbability {
                    probability: u32::MAX / 2,
                },
                "sample_probability",
                "sample(sample=50.0%): sampling below 100% (sFlow, IPFIX) stays in software",
            ),
            (
                Rejected::SetPartialMask {
                    field: SetMask::Eth {
                        mask: [0xff, 0xff, 0xff, 0, 0, 0],
                    },
                },
                "set_partial_mask",
                "set(eth(ff:ff:ff:00:00:00)) with a partial mask: only whole fields are rewritten",
            ),
            (
                Rejected::SetField { attr: None },
                "set_field",
                "set(): this field is not rewritten in hardware",
            ),
            (
                Rejected::Unmatchable {
                    field: Unmatchable::NdExtensions,
                },
                "match_nd_ext",
                "nd_ext: ND extension fields have no rte_flow item",
            ),
            (
                Rejected::Ipv4Frag {
                    value: 1,
                    mask: 0x3,
                },
                "ipv4_frag",
                "ipv4(frag=1/0x3): only frag=no|first|later with an exact mask has an rte_flow form",
            ),
            (
                Rejected::UnsupportedAction { action: "pop_mpls" },
                "unsupported_action",
                "pop_mpls: MPLS is not offloaded",
            ),
            (
                Rejected::ConnProto {
                    conn: ConnId {
                        proto: 47,
                        zone: 0,
                    },
                },
                "conn_proto",
                "conntrack proto 47 zone=0: only TCP, UDP and ICMP connections are offloaded",
            ),
        ];
        for (r, name, sentence) in cases {
            assert_eq!(r.to_string(), sentence);
            assert_eq!(format!("{}: {}", r.what(), r.reason()), sentence);
            assert_eq!(r.name(), name, "{sentence}");
        }
    }

    #[test]
    fn machine_names_are_snake_case() {
        let some = [
            Rejected::CtStateNew,
            Rejected::CtLabelMask { mask: 1 },
            Rejected::DropAfterActions,
            Rejected::Unmatchable {
                field: Unmatchable::TunnelVxlanGbp,
            },
            Rejected::ConnHelper {
                conn: ConnId { proto: 6, zone: 1 },
            },
        ];
        for r in some {
            let n = r.name();
            assert!(
                !n.is_empty()
                    && n.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{n}"
            );
        }
    }
}
