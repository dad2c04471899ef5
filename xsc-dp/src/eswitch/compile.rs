//! The rule compiler: an [`RteRule`]'s C structs → the eswitch's own
//! [`Compiled`] rule, checked against the device's limits.
//!
//! Everything the eswitch needs is copied out of the rule here, at create
//! (or validate) time; no pointer into the caller's rule is kept. A pattern
//! becomes a [`Matcher`]: the sequence of protocols the packet's layers must
//! have ([`Shape::protos`]), the masked bytes to compare (one [`KeyOp`] per
//! byte whose mask is not zero, for headers, flag bits and metadata) and the
//! `spec`..`last` ranges. Rules with the same [`Shape`] differ only in their
//! key bytes, which is what the per-group hash index uses.
//!
//! rte_flow semantics kept here: a NULL `spec` matches any header of the
//! item's type; a NULL `mask` is the item's default mask
//! (`rte_flow_item_*_mask`); `(pkt & mask) == (spec & mask)`; with `last`,
//! per field, `spec & mask <= pkt & mask <= last & mask` unless the masked
//! `last` is 0 or equal to `spec` (then exact). Errors carry the errno DPDK
//! uses: `ENOTSUP` for what the profile lacks, `EINVAL` for malformed rules.
//!
//! No `unsafe` here: the rule's spec/mask/last/conf memory is read through
//! `rte`'s typed view ([`RuleView`]), which ties each C struct to its type
//! code and checks it.

use smallvec::SmallVec;

use super::compiled::{Act, Compiled, FieldRef, KeyOp, Matcher, ModSrc, RangeField, Src};
use super::parse::Proto;
use crate::device::{DeviceError, FlowError, FlowErrorCause};
use crate::ffi;
use crate::profile::DeviceProfile;
use crate::rte::view::{modify_level_offset, modify_value};
use crate::rte::{ActionView, ActionViews, ItemView, Part, RteRule};
use crate::rule::{ActionKind, Direction, Field, ItemKind};

/// Longest item header (IPv6).
const HDR_MAX: usize = 40;

/// What decoding checks against.
pub(crate) struct Limits<'a> {
    pub profile: &'a DeviceProfile,
    pub ports: &'a [u16],
    pub tags: u8,
    /// For errors: the operation and the port reported.
    pub op: &'static str,
    pub port: u16,
}

impl Limits<'_> {
    pub(crate) fn err(
        &self,
        errno: i32,
        cause: FlowErrorCause,
        index: Option<usize>,
        message: impl Into<String>,
    ) -> DeviceError {
        DeviceError::Flow(FlowError {
            op: self.op,
            port: self.port,
            errno,
            cause,
            index,
            message: message.into(),
        })
    }
}

fn item_kind(t: ffi::rte_flow_item_type) -> Option<(ItemKind, Option<Proto>)> {
    use ffi::*;
    Some(match t {
        RTE_FLOW_ITEM_TYPE_ETH => (ItemKind::Eth, Some(Proto::Eth)),
        RTE_FLOW_ITEM_TYPE_VLAN => (ItemKind::Vlan, Some(Proto::Vlan)),
        RTE_FLOW_ITEM_TYPE_IPV4 => (ItemKind::Ipv4, Some(Proto::Ipv4)),
        RTE_FLOW_ITEM_TYPE_IPV6 => (ItemKind::Ipv6, Some(Proto::Ipv6)),
        RTE_FLOW_ITEM_TYPE_IPV6_FRAG_EXT => (ItemKind::Ipv6FragExt, Some(Proto::Ipv6FragExt)),
        RTE_FLOW_ITEM_TYPE_TCP => (ItemKind::Tcp, Some(Proto::Tcp)),
        RTE_FLOW_ITEM_TYPE_UDP => (ItemKind::Udp, Some(Proto::Udp)),
        RTE_FLOW_ITEM_TYPE_SCTP => (ItemKind::Sctp, Some(Proto::Sctp)),
        RTE_FLOW_ITEM_TYPE_ICMP => (ItemKind::Icmp, Some(Proto::Icmp)),
        RTE_FLOW_ITEM_TYPE_ICMP6 => (ItemKind::Icmp6, Some(Proto::Icmp6)),
        RTE_FLOW_ITEM_TYPE_ARP_ETH_IPV4 => (ItemKind::ArpEthIpv4, Some(Proto::Arp)),
        RTE_FLOW_ITEM_TYPE_ICMP6_ND_NS => (ItemKind::Icmp6NdNs, Some(Proto::NdNs)),
        RTE_FLOW_ITEM_TYPE_ICMP6_ND_NA => (ItemKind::Icmp6NdNa, Some(Proto::NdNa)),
        RTE_FLOW_ITEM_TYPE_ICMP6_ND_OPT_SLA_ETH => {
            (ItemKind::Icmp6NdOptSlaEth, Some(Proto::NdOptSla))
        }
        RTE_FLOW_ITEM_TYPE_ICMP6_ND_OPT_TLA_ETH => {
            (ItemKind::Icmp6NdOptTlaEth, Some(Proto::NdOptTla))
        }
        RTE_FLOW_ITEM_TYPE_VXLAN => (ItemKind::Vxlan, Some(Proto::Vxlan)),
        RTE_FLOW_ITEM_TYPE_GENEVE => (ItemKind::Geneve, Some(Proto::Geneve)),
        RTE_FLOW_ITEM_TYPE_TAG => (ItemKind::Tag, None),
        RTE_FLOW_ITEM_TYPE_META => (ItemKind::Meta, None),
        RTE_FLOW_ITEM_TYPE_MARK => (ItemKind::Mark, None),
        RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT => (ItemKind::RepresentedPort, None),
        RTE_FLOW_ITEM_TYPE_PORT_REPRESENTOR => (ItemKind::PortRepresentor, None),
        _ => return None,
    })
}

fn action_kind(t: ffi::rte_flow_action_type) -> Option<ActionKind> {
    use ffi::*;
    Some(match t {
        RTE_FLOW_ACTION_TYPE_COUNT => ActionKind::Count,
        RTE_FLOW_ACTION_TYPE_DROP => ActionKind::Drop,
        RTE_FLOW_ACTION_TYPE_JUMP => ActionKind::Jump,
        RTE_FLOW_ACTION_TYPE_MARK => ActionKind::Mark,
        RTE_FLOW_ACTION_TYPE_SET_TAG => ActionKind::SetTag,
        RTE_FLOW_ACTION_TYPE_SET_META => ActionKind::SetMeta,
        RTE_FLOW_ACTION_TYPE_QUEUE => ActionKind::Queue,
        RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT => ActionKind::RepresentedPort,
        RTE_FLOW_ACTION_TYPE_PORT_REPRESENTOR => ActionKind::PortRepresentor,
        RTE_FLOW_ACTION_TYPE_SET_MAC_SRC => ActionKind::SetMacSrc,
        RTE_FLOW_ACTION_TYPE_SET_MAC_DST => ActionKind::SetMacDst,
        RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC => ActionKind::SetIpv4Src,
        RTE_FLOW_ACTION_TYPE_SET_IPV4_DST => ActionKind::SetIpv4Dst,
        RTE_FLOW_ACTION_TYPE_SET_IPV6_SRC => ActionKind::SetIpv6Src,
        RTE_FLOW_ACTION_TYPE_SET_IPV6_DST => ActionKind::SetIpv6Dst,
        RTE_FLOW_ACTION_TYPE_SET_TP_SRC => ActionKind::SetTpSrc,
        RTE_FLOW_ACTION_TYPE_SET_TP_DST => ActionKind::SetTpDst,
        RTE_FLOW_ACTION_TYPE_SET_TTL => ActionKind::SetTtl,
        RTE_FLOW_ACTION_TYPE_DEC_TTL => ActionKind::DecTtl,
        RTE_FLOW_ACTION_TYPE_SET_IPV4_DSCP => ActionKind::SetIpv4Dscp,
        RTE_FLOW_ACTION_TYPE_SET_IPV6_DSCP => ActionKind::SetIpv6Dscp,
        RTE_FLOW_ACTION_TYPE_MODIFY_FIELD => ActionKind::ModifyField,
        RTE_FLOW_ACTION_TYPE_OF_PUSH_VLAN => ActionKind::OfPushVlan,
        RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_VID => ActionKind::OfSetVlanVid,
        RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_PCP => ActionKind::OfSetVlanPcp,
        RTE_FLOW_ACTION_TYPE_OF_POP_VLAN => ActionKind::OfPopVlan,
        RTE_FLOW_ACTION_TYPE_RAW_ENCAP => ActionKind::RawEncap,
        RTE_FLOW_ACTION_TYPE_RAW_DECAP => ActionKind::RawDecap,
        RTE_FLOW_ACTION_TYPE_VXLAN_DECAP => ActionKind::VxlanDecap,
        RTE_FLOW_ACTION_TYPE_SAMPLE => ActionKind::Sample,
        _ => return None,
    })
}

/// `rte_flow_item_*_mask`: the mask DPDK uses when an item has a spec and
/// no mask, as header bytes (22.11 values).
fn default_mask(p: Proto) -> [u8; HDR_MAX] {
    let mut m = [0u8; HDR_MAX];
    let mut set = |from: usize, to: usize| m[from..to].fill(0xff);
    match p {
        Proto::Eth => set(0, 12),
        Proto::Vlan => {
            m[0] = 0x0f;
            m[1] = 0xff;
        }
        Proto::Ipv4 => set(12, 20),
        Proto::Ipv6 => set(8, 40),
        Proto::Ipv6FragExt => {
            m[0] = 0xff;
            m[2] = 0xff;
            m[3] = 0xff;
        }
        Proto::Tcp | Proto::Udp | Proto::Sctp => set(0, 4),
        Proto::Icmp | Proto::Icmp6 => set(0, 2),
        Proto::Arp => {
            set(8, 28);
        }
        Proto::NdNs | Proto::NdNa => set(8, 24),
        Proto::NdOptSla | Proto::NdOptTla => set(2, 8),
        Proto::Vxlan | Proto::Geneve => set(4, 7),
    }
    m
}

/// Fields of the items whose `last` is honoured: `(offset, length)`.
fn range_fields(p: Proto) -> &'static [(u8, u8)] {
    match p {
        Proto::Ipv4 => &[
            (0, 1),
            (1, 1),
            (2, 2),
            (4, 2),
            (6, 2),
            (8, 1),
            (9, 1),
            (10, 2),
            (12, 4),
            (16, 4),
        ],
        Proto::Ipv6FragExt => &[(0, 1), (1, 1), (2, 2), (4, 4)],
        _ => &[],
    }
}

/// Copies the first `len` bytes of an item part (a header: `len` is at most
/// the item struct's size), `None` when the part is NULL.
#[inline]
fn header_bytes(bytes: Option<&[u8]>, len: usize) -> Option<[u8; HDR_MAX]> {
    let bytes = bytes?;
    let mut out = [0u8; HDR_MAX];
    let n = len.min(HDR_MAX).min(bytes.len());
    out[..n].copy_from_slice(&bytes[..n]);
    Some(out)
}

/// The flag bit (`has_vlan`, `has_more_vlan`, `has_frag_ext`) of `part` of
/// a protocol item, if the protocol has one.
fn flag_bit(proto: Proto, item: ItemView<'_>, part: Part) -> Option<bool> {
    match proto {
        Proto::Eth => item
            .get::<ffi::rte_flow_item_eth>(part)
            .map(|v| v.has_vlan() != 0),
        Proto::Vlan => item
            .get::<ffi::rte_flow_item_vlan>(part)
            .map(|v| v.has_more_vlan() != 0),
        Proto::Ipv6 => item
            .get::<ffi::rte_flow_item_ipv6>(part)
            .map(|v| v.has_frag_ext() != 0),
        _ => None,
    }
}

fn be(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b))
}

/// Decodes and checks `rule` against the device limits.
pub(crate) fn compile(rule: &RteRule, lim: &Limits<'_>) -> Result<Compiled, DeviceError> {
    use FlowErrorCause as C;
    let Some(view) = rule.view() else {
        return Err(lim.err(libc::EINVAL, C::Unspecified, None, "the rule is not sealed"));
    };
    let attr = rule.attr();
    let dirs = [attr.ingress(), attr.egress(), attr.transfer()];
    if dirs.iter().filter(|&&d| d != 0).count() != 1 {
        return Err(lim.err(
            libc::EINVAL,
            C::Attr,
            None,
            "exactly one of ingress, egress and transfer must be set",
        ));
    }
    let dir = if attr.transfer() != 0 {
        Direction::Transfer
    } else if attr.ingress() != 0 {
        Direction::Ingress
    } else {
        Direction::Egress
    };
    if dir != lim.profile.direction {
        let cause = match dir {
            Direction::Transfer => C::AttrTransfer,
            Direction::Ingress => C::AttrIngress,
            Direction::Egress => C::AttrEgress,
        };
        return Err(lim.err(
            libc::ENOTSUP,
            cause,
            None,
            format!(
                "the {} profile takes {:?} rules only",
                lim.profile.name, lim.profile.direction
            ),
        ));
    }
    if attr.group >= lim.profile.groups {
        return Err(lim.err(
            libc::ENOTSUP,
            C::AttrGroup,
            None,
            format!(
                "group {} is beyond the {} groups of the device",
                attr.group, lim.profile.groups
            ),
        ));
    }
    if attr.priority >= lim.profile.priorities {
        return Err(lim.err(
            libc::ENOTSUP,
            C::AttrPriority,
            None,
            format!(
                "priority {} is beyond the {} levels of the device",
                attr.priority, lim.profile.priorities
            ),
        ));
    }
    let mut matcher = Matcher::default();
    let mut item_types = SmallVec::new();
    for (i, item) in view.items().enumerate() {
        let type_ = item.type_();
        if type_ == ffi::RTE_FLOW_ITEM_TYPE_END {
            break;
        }
        item_types.push(type_);
        if type_ == ffi::RTE_FLOW_ITEM_TYPE_VOID {
            continue;
        }
        let Some((kind, proto)) = item_kind(type_) else {
            return Err(lim.err(
                libc::ENOTSUP,
                C::Item,
                Some(i),
                format!("item type {type_} is not modelled by the eswitch"),
            ));
        };
        if !lim.profile.has_item(kind) {
            return Err(lim.err(
                libc::ENOTSUP,
                C::Item,
                Some(i),
                format!("the {} profile does not match on {kind}", lim.profile.name),
            ));
        }
        match proto {
            Some(p) => proto_item(&mut matcher, p, item, i, lim)?,
            None => meta_item(&mut matcher, kind, item, i, lim)?,
        }
    }
    let mut action_types = SmallVec::new();
    let actions = compile_actions(view.actions(), lim, false, &mut action_types, attr.group)?;
    let fates = actions.iter().filter(|a| a.is_fate()).count();
    if fates != 1 {
        return Err(lim.err(
            libc::EINVAL,
            C::Action,
            None,
            if fates == 0 {
                "no fate action (drop, jump, queue, represented_port, port_representor)"
            } else {
                "more than one fate action"
            },
        ));
    }
    let counts = actions.contains(&Act::Count);
    Ok(Compiled {
        group: attr.group,
        priority: attr.priority,
        matcher,
        actions: actions.into_boxed_slice(),
        counts,
        item_types,
        action_types,
    })
}

fn proto_item(
    m: &mut Matcher,
    proto: Proto,
    item: ItemView<'_>,
    i: usize,
    lim: &Limits<'_>,
) -> Result<(), DeviceError> {
    use FlowErrorCause as C;
    let len = proto.len();
    let index = u8::try_from(m.shape.protos.len())
        .map_err(|_| lim.err(libc::EINVAL, C::ItemNum, Some(i), "too many items"))?;
    m.shape.protos.push(proto);
    // The item struct starts with `len` header bytes (Proto::len is at most
    // the struct size: see the test below).
    let [spec, last, mask] = item.all_bytes().map(|b| header_bytes(b, len));
    let Some(spec) = spec else {
        if last.is_some() {
            return Err(lim.err(libc::EINVAL, C::ItemLast, Some(i), "last without spec"));
        }
        return Ok(()); // any header of this type
    };
    let mask = mask.unwrap_or_else(|| default_mask(proto));
    let mut ranged = [false; HDR_MAX];
    if let Some(last) = last {
        let fields = range_fields(proto);
        if fields.is_empty() && (0..len).any(|b| last[b] & mask[b] != 0) {
            return Err(lim.err(
                libc::ENOTSUP,
                C::ItemLast,
                Some(i),
                "ranges are modelled for IPv4 and IPv6 fragment items only",
            ));
        }
        for &(off, flen) in fields {
            let r = usize::from(off)..usize::from(off + flen);
            let fm = be(&mask[r.clone()]);
            let lo = be(&spec[r.clone()]) & fm;
            let hi = be(&last[r.clone()]) & fm;
            if hi == 0 || hi == lo {
                continue;
            }
            if hi < lo {
                return Err(lim.err(libc::EINVAL, C::ItemLast, Some(i), "last is below spec"));
            }
            ranged[r].fill(true);
            m.shape.ranges.push(RangeField {
                item: index,
                off,
                len: flen,
                mask: fm,
            });
            m.bounds.push((lo, hi));
        }
    }
    for b in 0..len {
        if mask[b] != 0 && !ranged[b] {
            m.shape.ops.push(KeyOp {
                src: Src::Layer {
                    item: index,
                    off: b as u8,
                },
                mask: mask[b],
            });
            m.key.push(spec[b] & mask[b]);
        }
    }
    let (fs, fm) = (
        flag_bit(proto, item, Part::Spec),
        flag_bit(proto, item, Part::Mask),
    );
    if fm == Some(true) {
        m.shape.ops.push(KeyOp {
            src: Src::Flag { item: index },
            mask: 1,
        });
        m.key.push(u8::from(fs == Some(true)));
    }
    Ok(())
}

fn push_u32(m: &mut Matcher, value: u32, mask: u32, src: impl Fn(u8) -> Src) {
    for byte in 0..4u8 {
        let shift = 24 - 8 * u32::from(byte);
        let mb = (mask >> shift) as u8;
        if mb != 0 {
            m.shape.ops.push(KeyOp {
                src: src(byte),
                mask: mb,
            });
            m.key.push((value >> shift) as u8 & mb);
        }
    }
}

fn meta_item(
    m: &mut Matcher,
    kind: ItemKind,
    item: ItemView<'_>,
    i: usize,
    lim: &Limits<'_>,
) -> Result<(), DeviceError> {
    use FlowErrorCause as C;
    if item.has(Part::Last) {
        return Err(lim.err(
            libc::ENOTSUP,
            C::ItemLast,
            Some(i),
            "ranges on metadata items",
        ));
    }
    match kind {
        ItemKind::Tag => {
            let (spec, mask) = (
                item.spec::<ffi::rte_flow_item_tag>(),
                item.mask::<ffi::rte_flow_item_tag>(),
            );
            let Some(spec) = spec else {
                return Err(lim.err(libc::EINVAL, C::ItemSpec, Some(i), "TAG needs a spec"));
            };
            if spec.index >= lim.tags {
                return Err(lim.err(
                    libc::EINVAL,
                    C::ItemSpec,
                    Some(i),
                    format!(
                        "TAG index {} is beyond the {} registers",
                        spec.index, lim.tags
                    ),
                ));
            }
            let mask = mask.map_or(u32::MAX, |m| m.data);
            let index = spec.index;
            push_u32(m, spec.data, mask, |byte| Src::Reg { index, byte });
        }
        ItemKind::Meta => {
            let (spec, mask) = (
                item.spec::<ffi::rte_flow_item_meta>(),
                item.mask::<ffi::rte_flow_item_meta>(),
            );
            if let Some(spec) = spec {
                let mask = mask.map_or(u32::MAX, |m| m.data);
                push_u32(m, spec.data, mask, |byte| Src::Meta { byte });
            }
        }
        ItemKind::Mark => {
            let (spec, mask) = (
                item.spec::<ffi::rte_flow_item_mark>(),
                item.mask::<ffi::rte_flow_item_mark>(),
            );
            if let Some(spec) = spec {
                let mask = mask.map_or(u32::MAX, |m| m.id);
                push_u32(m, spec.id, mask, |byte| Src::Mark { byte });
            }
        }
        ItemKind::RepresentedPort | ItemKind::PortRepresentor => {
            let (spec, mask) = (
                item.spec::<ffi::rte_flow_item_ethdev>(),
                item.mask::<ffi::rte_flow_item_ethdev>(),
            );
            m.shape.ops.push(KeyOp {
                src: Src::FromHost,
                mask: 1,
            });
            m.key.push(u8::from(kind == ItemKind::PortRepresentor));
            if let Some(spec) = spec {
                let mask = mask.map_or(u16::MAX, |m| m.port_id);
                if mask == u16::MAX && !lim.ports.contains(&spec.port_id) {
                    return Err(lim.err(
                        libc::EINVAL,
                        C::ItemSpec,
                        Some(i),
                        format!("port {} is not a port of this eswitch", spec.port_id),
                    ));
                }
                for (byte, (v, mb)) in spec
                    .port_id
                    .to_be_bytes()
                    .into_iter()
                    .zip(mask.to_be_bytes())
                    .enumerate()
                {
                    if mb != 0 {
                        m.shape.ops.push(KeyOp {
                            src: Src::Port { byte: byte as u8 },
                            mask: mb,
                        });
                        m.key.push(v & mb);
                    }
                }
            }
        }
        _ => unreachable!("only metadata kinds reach meta_item"),
    }
    Ok(())
}

/// Longest SAMPLE sub-action list read (DPDK lists are END-terminated).
const SAMPLE_MAX: usize = 32;

fn compile_actions(
    list: ActionViews<'_>,
    lim: &Limits<'_>,
    in_sample: bool,
    types: &mut SmallVec<[ffi::rte_flow_action_type; 8]>,
    group: u32,
) -> Result<Vec<Act>, DeviceError> {
    // Exact capacity (END and VOIDs left out): the list becomes a boxed
    // slice without a reallocation.
    let n = list
        .clone()
        .take_while(|a| a.type_() != ffi::RTE_FLOW_ACTION_TYPE_END)
        .filter(|a| a.type_() != ffi::RTE_FLOW_ACTION_TYPE_VOID)
        .count();
    let mut out = Vec::with_capacity(n);
    for (i, a) in list.enumerate() {
        if a.type_() == ffi::RTE_FLOW_ACTION_TYPE_END {
            break;
        }
        if !in_sample {
            types.push(a.type_());
        }
        if a.type_() == ffi::RTE_FLOW_ACTION_TYPE_VOID {
            continue;
        }
        out.push(compile_action(a, i, lim, in_sample, group)?);
    }
    Ok(out)
}

fn compile_action(
    a: ActionView<'_>,
    i: usize,
    lim: &Limits<'_>,
    in_sample: bool,
    group: u32,
) -> Result<Act, DeviceError> {
    use ffi::*;
    use FlowErrorCause as C;
    let type_ = a.type_();
    let Some(kind) = action_kind(type_) else {
        return Err(lim.err(
            libc::ENOTSUP,
            C::Action,
            Some(i),
            format!("action type {type_} is not modelled by the eswitch"),
        ));
    };
    if !lim.profile.has_action(kind) {
        return Err(lim.err(
            libc::ENOTSUP,
            C::Action,
            Some(i),
            format!("the {} profile has no {kind} action", lim.profile.name),
        ));
    }
    let no_conf = || {
        lim.err(
            libc::EINVAL,
            C::ActionConf,
            Some(i),
            format!("{kind} needs a conf"),
        )
    };
    let bad = |msg: String| lim.err(libc::EINVAL, C::ActionConf, Some(i), msg);
    let known_port = |p: u16| {
        if lim.ports.contains(&p) {
            Ok(p)
        } else {
            Err(bad(format!("port {p} is not a port of this eswitch")))
        }
    };
    let act = match type_ {
        RTE_FLOW_ACTION_TYPE_COUNT => Act::Count,
        RTE_FLOW_ACTION_TYPE_DROP => Act::Drop,
        RTE_FLOW_ACTION_TYPE_JUMP => {
            let c = a.conf::<rte_flow_action_jump>().ok_or_else(no_conf)?;
            if in_sample {
                return Err(lim.err(libc::ENOTSUP, C::Action, Some(i), "JUMP inside SAMPLE"));
            }
            if c.group >= lim.profile.groups {
                return Err(lim.err(
                    libc::ENOTSUP,
                    C::ActionConf,
                    Some(i),
                    format!(
                        "jump to group {} beyond the {} groups",
                        c.group, lim.profile.groups
                    ),
                ));
            }
            if c.group == group {
                return Err(bad(format!("jump to the rule's own group {group}")));
            }
            Act::Jump(c.group)
        }
        RTE_FLOW_ACTION_TYPE_MARK => {
            Act::Mark(a.conf::<rte_flow_action_mark>().ok_or_else(no_conf)?.id)
        }
        RTE_FLOW_ACTION_TYPE_SET_TAG => {
            let c = a.conf::<rte_flow_action_set_tag>().ok_or_else(no_conf)?;
            if c.index >= lim.tags {
                return Err(bad(format!(
                    "SET_TAG index {} is beyond the {} registers",
                    c.index, lim.tags
                )));
            }
            Act::SetTag {
                index: c.index,
                data: c.data,
                mask: c.mask,
            }
        }
        RTE_FLOW_ACTION_TYPE_SET_META => {
            let c = a.conf::<rte_flow_action_set_meta>().ok_or_else(no_conf)?;
            Act::SetMeta {
                data: c.data,
                mask: c.mask,
            }
        }
        RTE_FLOW_ACTION_TYPE_QUEUE => {
            Act::Queue(a.conf::<rte_flow_action_queue>().ok_or_else(no_conf)?.index)
        }
        RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT | RTE_FLOW_ACTION_TYPE_PORT_REPRESENTOR => {
            let c = a.conf::<rte_flow_action_ethdev>().ok_or_else(no_conf)?;
            let p = known_port(c.port_id)?;
            if type_ == RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT {
                Act::RepresentedPort(p)
            } else {
                Act::PortRepresentor(p)
            }
        }
        RTE_FLOW_ACTION_TYPE_SET_MAC_SRC | RTE_FLOW_ACTION_TYPE_SET_MAC_DST => {
            let c = a.conf::<rte_flow_action_set_mac>().ok_or_else(no_conf)?;
            Act::SetMac {
                src: type_ == RTE_FLOW_ACTION_TYPE_SET_MAC_SRC,
                mac: c.mac_addr,
            }
        }
        RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC | RTE_FLOW_ACTION_TYPE_SET_IPV4_DST => {
            let c = a.conf::<rte_flow_action_set_ipv4>().ok_or_else(no_conf)?;
            Act::SetIpv4 {
                src: type_ == RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC,
                // Network order in memory.
                addr: c.ipv4_addr.to_ne_bytes(),
            }
        }
        RTE_FLOW_ACTION_TYPE_SET_IPV6_SRC | RTE_FLOW_ACTION_TYPE_SET_IPV6_DST => {
            // As bytes: the conf is an array before DPDK 24.11 and struct
            // rte_ipv6_addr after, 16 bytes either way.
            let mut addr = [0u8; 16];
            addr.copy_from_slice(&a.conf_bytes().ok_or_else(no_conf)?[..16]);
            Act::SetIpv6 {
                src: type_ == RTE_FLOW_ACTION_TYPE_SET_IPV6_SRC,
                addr,
            }
        }
        RTE_FLOW_ACTION_TYPE_SET_TP_SRC | RTE_FLOW_ACTION_TYPE_SET_TP_DST => {
            let c = a.conf::<rte_flow_action_set_tp>().ok_or_else(no_conf)?;
            Act::SetTp {
                src: type_ == RTE_FLOW_ACTION_TYPE_SET_TP_SRC,
                port: u16::from_be(c.port),
            }
        }
        RTE_FLOW_ACTION_TYPE_SET_TTL => Act::SetTtl(
            a.conf::<rte_flow_action_set_ttl>()
                .ok_or_else(no_conf)?
                .ttl_value,
        ),
        RTE_FLOW_ACTION_TYPE_DEC_TTL => Act::DecTtl,
        RTE_FLOW_ACTION_TYPE_SET_IPV4_DSCP | RTE_FLOW_ACTION_TYPE_SET_IPV6_DSCP => {
            let c = a.conf::<rte_flow_action_set_dscp>().ok_or_else(no_conf)?;
            if c.dscp > 63 {
                return Err(bad(format!("DSCP {} does not fit 6 bits", c.dscp)));
            }
            Act::SetDscp {
                v6: type_ == RTE_FLOW_ACTION_TYPE_SET_IPV6_DSCP,
                dscp: c.dscp,
            }
        }
        RTE_FLOW_ACTION_TYPE_MODIFY_FIELD => {
            let c = a
                .conf::<rte_flow_action_modify_field>()
                .ok_or_else(no_conf)?;
            modify(&c, i, lim)?
        }
        RTE_FLOW_ACTION_TYPE_OF_PUSH_VLAN => {
            let c = a
                .conf::<rte_flow_action_of_push_vlan>()
                .ok_or_else(no_conf)?;
            let tpid = u16::from_be(c.ethertype);
            if !matches!(tpid, 0x8100 | 0x88a8 | 0x9100) {
                return Err(bad(format!("{tpid:#06x} is not a VLAN TPID")));
            }
            Act::PushVlan(tpid)
        }
        RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_VID => {
            let c = a
                .conf::<rte_flow_action_of_set_vlan_vid>()
                .ok_or_else(no_conf)?;
            let vid = u16::from_be(c.vlan_vid);
            if vid > 0xfff {
                return Err(bad(format!("VLAN id {vid} does not fit 12 bits")));
            }
            Act::SetVlanVid(vid)
        }
        RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_PCP => {
            let c = a
                .conf::<rte_flow_action_of_set_vlan_pcp>()
                .ok_or_else(no_conf)?;
            if c.vlan_pcp > 7 {
                return Err(bad(format!("VLAN PCP {} does not fit 3 bits", c.vlan_pcp)));
            }
            Act::SetVlanPcp(c.vlan_pcp)
        }
        RTE_FLOW_ACTION_TYPE_OF_POP_VLAN => Act::PopVlan,
        RTE_FLOW_ACTION_TYPE_RAW_ENCAP => {
            let c = a.conf::<rte_flow_action_raw_encap>().ok_or_else(no_conf)?;
            if c.data.is_null() || c.size < 14 {
                return Err(bad("RAW_ENCAP needs at least an Ethernet header".into()));
            }
            if c.size > usize::from(lim.profile.max_encap_size) {
                return Err(lim.err(
                    libc::ENOTSUP,
                    C::ActionConf,
                    Some(i),
                    format!(
                        "a {}-byte encap header is longer than the {} bytes the device pushes",
                        c.size, lim.profile.max_encap_size
                    ),
                ));
            }
            let bytes = a.raw_encap_data().ok_or_else(no_conf)?;
            Act::RawEncap(bytes.into())
        }
        RTE_FLOW_ACTION_TYPE_RAW_DECAP => {
            let c = a.conf::<rte_flow_action_raw_decap>().ok_or_else(no_conf)?;
            if c.size < 14 {
                return Err(bad("RAW_DECAP removes at least an Ethernet header".into()));
            }
            Act::RawDecap(c.size)
        }
        RTE_FLOW_ACTION_TYPE_VXLAN_DECAP => Act::VxlanDecap,
        RTE_FLOW_ACTION_TYPE_SAMPLE => {
            let c = a.conf::<rte_flow_action_sample>().ok_or_else(no_conf)?;
            if in_sample {
                return Err(lim.err(libc::ENOTSUP, C::Action, Some(i), "SAMPLE inside SAMPLE"));
            }
            if c.ratio != 1 {
                return Err(lim.err(
                    libc::ENOTSUP,
                    C::ActionConf,
                    Some(i),
                    format!("SAMPLE ratio {} (only 1, a mirror, is modelled)", c.ratio),
                ));
            }
            let sub = a
                .sample_actions(SAMPLE_MAX)
                .ok_or_else(no_conf)?
                .map_err(|()| bad("SAMPLE sub-action list is too long".into()))?;
            let mut none = SmallVec::new();
            let acts = compile_actions(sub.iter(), lim, true, &mut none, group)?;
            if acts.iter().filter(|a| a.is_fate()).count() > 1 {
                return Err(bad("more than one fate in SAMPLE".into()));
            }
            Act::Sample(acts.into_boxed_slice())
        }
        _ => unreachable!("action_kind accepted only the types above"),
    };
    Ok(act)
}

fn field_ref(
    d: &ffi::rte_flow_action_modify_data,
    i: usize,
    lim: &Limits<'_>,
) -> Result<FieldRef, DeviceError> {
    use ffi::*;
    let (level, offset) = modify_level_offset(d);
    let id = match d.field {
        RTE_FLOW_FIELD_MAC_DST => Field::MacDst,
        RTE_FLOW_FIELD_MAC_SRC => Field::MacSrc,
        RTE_FLOW_FIELD_VLAN_ID => Field::VlanId,
        RTE_FLOW_FIELD_IPV4_DSCP => Field::Ipv4Dscp,
        RTE_FLOW_FIELD_IPV4_TTL => Field::Ipv4Ttl,
        RTE_FLOW_FIELD_IPV4_SRC => Field::Ipv4Src,
        RTE_FLOW_FIELD_IPV4_DST => Field::Ipv4Dst,
        RTE_FLOW_FIELD_IPV6_DSCP => Field::Ipv6Dscp,
        RTE_FLOW_FIELD_IPV6_HOPLIMIT => Field::Ipv6HopLimit,
        RTE_FLOW_FIELD_IPV6_SRC => Field::Ipv6Src,
        RTE_FLOW_FIELD_IPV6_DST => Field::Ipv6Dst,
        RTE_FLOW_FIELD_TCP_PORT_SRC => Field::TcpPortSrc,
        RTE_FLOW_FIELD_TCP_PORT_DST => Field::TcpPortDst,
        RTE_FLOW_FIELD_UDP_PORT_SRC => Field::UdpPortSrc,
        RTE_FLOW_FIELD_UDP_PORT_DST => Field::UdpPortDst,
        RTE_FLOW_FIELD_VXLAN_VNI => Field::VxlanVni,
        RTE_FLOW_FIELD_GENEVE_VNI => Field::GeneveVni,
        // DPDK 22.11 carries the tag index in `level`.
        RTE_FLOW_FIELD_TAG => {
            if level >= u32::from(lim.tags) {
                return Err(lim.err(
                    libc::EINVAL,
                    FlowErrorCause::ActionConf,
                    Some(i),
                    format!(
                        "MODIFY_FIELD tag {} is beyond the {} registers",
                        level, lim.tags
                    ),
                ));
            }
            Field::Tag(level as u8)
        }
        RTE_FLOW_FIELD_META => Field::Meta,
        RTE_FLOW_FIELD_MARK => Field::Mark,
        other => {
            return Err(lim.err(
                libc::ENOTSUP,
                FlowErrorCause::ActionConf,
                Some(i),
                format!("MODIFY_FIELD field {other} is not modelled"),
            ))
        }
    };
    Ok(FieldRef { id, offset })
}

fn modify(
    c: &ffi::rte_flow_action_modify_field,
    i: usize,
    lim: &Limits<'_>,
) -> Result<Act, DeviceError> {
    let bad = |msg: String| lim.err(libc::EINVAL, FlowErrorCause::ActionConf, Some(i), msg);
    if c.operation != ffi::RTE_FLOW_MODIFY_SET {
        return Err(lim.err(
            libc::ENOTSUP,
            FlowErrorCause::ActionConf,
            Some(i),
            "only MODIFY_FIELD op set is modelled",
        ));
    }
    let dst = field_ref(&c.dst, i, lim)?;
    let fits = |f: FieldRef| {
        c.width > 0 && u64::from(f.offset) + u64::from(c.width) <= u64::from(f.id.width())
    };
    if !fits(dst) {
        return Err(bad(format!(
            "width {} at offset {} does not fit the {}-bit destination",
            c.width,
            dst.offset,
            dst.id.width()
        )));
    }
    let src = match c.src.field {
        ffi::RTE_FLOW_FIELD_VALUE => ModSrc::Value(u128::from_be_bytes(modify_value(&c.src))),
        ffi::RTE_FLOW_FIELD_POINTER => {
            return Err(lim.err(
                libc::ENOTSUP,
                FlowErrorCause::ActionConf,
                Some(i),
                "MODIFY_FIELD from a pointer is not modelled",
            ))
        }
        _ => {
            let f = field_ref(&c.src, i, lim)?;
            if !fits(f) {
                return Err(bad(format!(
                    "width {} does not fit the source field",
                    c.width
                )));
            }
            ModSrc::Field(f)
        }
    };
    Ok(Act::Modify {
        dst,
        src,
        width: c.width,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lengths_fit_the_item_structs() {
        use std::mem::size_of;
        let sizes = [
            (Proto::Eth, size_of::<ffi::rte_flow_item_eth>()),
            (Proto::Vlan, size_of::<ffi::rte_flow_item_vlan>()),
            (Proto::Ipv4, size_of::<ffi::rte_flow_item_ipv4>()),
            (Proto::Ipv6, size_of::<ffi::rte_flow_item_ipv6>()),
            (
                Proto::Ipv6FragExt,
                size_of::<ffi::rte_flow_item_ipv6_frag_ext>(),
            ),
            (Proto::Tcp, size_of::<ffi::rte_flow_item_tcp>()),
            (Proto::Udp, size_of::<ffi::rte_flow_item_udp>()),
            (Proto::Sctp, size_of::<ffi::rte_flow_item_sctp>()),
            (Proto::Icmp, size_of::<ffi::rte_flow_item_icmp>()),
            (Proto::Icmp6, size_of::<ffi::rte_flow_item_icmp6>()),
            (Proto::Arp, size_of::<ffi::rte_flow_item_arp_eth_ipv4>()),
            (Proto::NdNs, size_of::<ffi::rte_flow_item_icmp6_nd_ns>()),
            (Proto::NdNa, size_of::<ffi::rte_flow_item_icmp6_nd_na>()),
            (
                Proto::NdOptSla,
                size_of::<ffi::rte_flow_item_icmp6_nd_opt_sla_eth>(),
            ),
            (
                Proto::NdOptTla,
                size_of::<ffi::rte_flow_item_icmp6_nd_opt_tla_eth>(),
            ),
            (Proto::Vxlan, size_of::<ffi::rte_flow_item_vxlan>()),
            (Proto::Geneve, size_of::<ffi::rte_flow_item_geneve>()),
        ];
        for (p, size) in sizes {
            assert!(
                p.len() <= size && p.len() <= HDR_MAX,
                "{p:?}: {} > {size}",
                p.len()
            );
        }
    }
}
