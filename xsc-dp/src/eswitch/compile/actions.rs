//! The action half of the rule compiler: actions (and a SAMPLE's
//! sub-actions) → [`Act`]s, checked against the device's limits.

use smallvec::SmallVec;

use super::Limits;
use crate::device::{DeviceError, FlowErrorCause};
use crate::eswitch::compiled::{Act, FieldRef, ModSrc};
use crate::ffi;
use crate::rte::field_data::{self, FieldData};
use crate::rte::view::modify_value;
use crate::rte::{ActionView, ActionViews};
use crate::rule::{ActionKind, Field};

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

/// Longest SAMPLE sub-action list read (DPDK lists are END-terminated).
const SAMPLE_MAX: usize = 32;

pub(super) fn compile_actions(
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

fn field_ref(d: &FieldData, i: usize, lim: &Limits<'_>) -> Result<FieldRef, DeviceError> {
    use ffi::*;
    // The callers handle VALUE and POINTER before asking for a field.
    let field_data::Parts {
        level,
        tag_index,
        offset,
    } = field_data::parts(d);
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
        // Where the index lives depends on the DPDK release (rte::field_data).
        RTE_FLOW_FIELD_TAG => {
            if level != 0 {
                return Err(lim.err(
                    libc::EINVAL,
                    FlowErrorCause::ActionConf,
                    Some(i),
                    format!(
                        "MODIFY_FIELD tag {tag_index} at encapsulation level {level}: registers have no level"
                    ),
                ));
            }
            if tag_index >= u32::from(lim.tags) {
                return Err(lim.err(
                    libc::EINVAL,
                    FlowErrorCause::ActionConf,
                    Some(i),
                    format!(
                        "MODIFY_FIELD tag {} is beyond the {} registers",
                        tag_index, lim.tags
                    ),
                ));
            }
            Field::Tag(tag_index as u8)
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
