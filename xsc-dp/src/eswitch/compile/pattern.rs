//! The pattern half of the rule compiler: items → a [`Matcher`] (the
//! protocols the packet's layers must have, one masked key byte per mask
//! byte that is not zero, and the `spec`..`last` ranges).

use super::Limits;
use crate::device::{DeviceError, FlowErrorCause};
use crate::eswitch::compiled::{KeyOp, Matcher, RangeField, Src};
use crate::eswitch::parse::Proto;
use crate::ffi;
use crate::rte::{ItemView, Part};
use crate::rule::ItemKind;

/// Longest item header (IPv6).
const HDR_MAX: usize = 40;

pub(super) fn item_kind(t: ffi::rte_flow_item_type) -> Option<(ItemKind, Option<Proto>)> {
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

pub(super) fn proto_item(
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
    let [spec, last, mask] = item.all_bytes();
    let (spec, mask, last) = (
        header_bytes(spec, len),
        header_bytes(mask, len),
        header_bytes(last, len),
    );
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

pub(super) fn meta_item(
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
