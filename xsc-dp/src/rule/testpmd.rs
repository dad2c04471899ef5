//! Rendering [`HwRule`]s in DPDK testpmd's `flow` syntax, so an engineer can
//! paste them into `dpdk-testpmd` on real hardware. It reads the Rust rule
//! model, not the lowered C structs, so it lives with the rule vocabulary:
//!
//! ```text
//! flow create 0 transfer group 1 priority 0 pattern tag data spec 0x21 data mask 0x3f index is 0 / eth / end actions count / jump group 2 / end
//! ```
//!
//! Actions whose data testpmd takes from a numbered buffer (`raw_encap`,
//! `raw_decap`, `sample`) are preceded by the `set ...` commands that fill
//! those buffers, so the output is a list of commands to run in order.

use std::fmt::{self, Write};

use super::{Action, Attr, Direction, Field, HwRule, Item, Masked};

/// The testpmd commands for one rule: buffer set-up, then the flow command.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TestpmdRule {
    /// `set raw_encap N ...`, `set raw_decap N ...`, `set sample_actions N ...`.
    pub setup: Vec<String>,
    /// `flow <verb> <port> ...`.
    pub flow: String,
}

/// The longest command testpmd's command line reads: `RDLINE_BUF_SIZE`
/// with its NUL, 512 up to DPDK 24.03 and `LINE_MAX` (2048 on Linux) since
/// 24.07, for the DPDK this crate was built against.
pub const MAX_LINE: usize = if cfg!(xsc_dpdk_testpmd_long_lines) {
    2047
} else {
    511
};

impl TestpmdRule {
    /// Whether every command fits testpmd's line buffer. A longer one must
    /// be entered through the C API or split across rules.
    pub fn fits_command_line(&self) -> bool {
        self.setup
            .iter()
            .chain(std::iter::once(&self.flow))
            .all(|l| l.len() <= MAX_LINE)
    }
}

impl fmt::Display for TestpmdRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.setup {
            writeln!(f, "{line}")?;
        }
        f.write_str(&self.flow)
    }
}

/// testpmd's numbered buffers a rule uses, one counter per kind: each
/// rule's commands fill them from 0 just before the flow command consumes
/// them (testpmd keeps 8 of each).
#[derive(Debug, Default)]
struct Buffers {
    raw_encap: u32,
    raw_decap: u32,
    sample: u32,
}

/// Renders `rule` as `flow <verb> <port> ...` (`verb`: `create` or
/// `validate`), preceded by the `set` commands that fill the buffers its
/// `raw_encap`, `raw_decap` and `sample` actions refer to.
pub fn render(rule: &HwRule, port: u16, verb: &str) -> TestpmdRule {
    let mut buffers = Buffers::default();
    let mut out = TestpmdRule::default();
    let mut flow = String::with_capacity(256);
    let _ = write!(flow, "flow {verb} {port} ");
    attr(&mut flow, &rule.attr);
    flow.push_str(" pattern ");
    for item in &rule.pattern {
        render_item(&mut flow, item);
        flow.push_str(" / ");
    }
    flow.push_str("end actions ");
    for action in &rule.actions {
        render_action(&mut flow, action, &mut buffers, &mut out.setup, false);
        flow.push_str(" / ");
    }
    flow.push_str("end");
    out.flow = flow;
    out
}

fn attr(out: &mut String, a: &Attr) {
    let dir = match a.dir {
        Direction::Ingress => "ingress",
        Direction::Egress => "egress",
        Direction::Transfer => "transfer",
    };
    out.push_str(dir);
    // Zero is testpmd's default for both; leaving them out keeps lines short.
    if a.group != 0 {
        let _ = write!(out, " group {}", a.group);
    }
    if a.priority != 0 {
        let _ = write!(out, " priority {}", a.priority);
    }
}

#[derive(PartialEq)]
struct Mac([u8; 6]);

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

#[derive(PartialEq)]
struct V4([u8; 4]);

impl fmt::Display for V4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        std::net::Ipv4Addr::from(self.0).fmt(f)
    }
}

#[derive(PartialEq)]
struct V6([u8; 16]);

impl fmt::Display for V6 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        std::net::Ipv6Addr::from(self.0).fmt(f)
    }
}

/// Emits ` name spec V name mask M` for a field whose mask is not zero
/// (`name is V` when the mask is all ones), and ` name last L` for ranges.
fn field<T: fmt::Display + PartialEq>(
    out: &mut String,
    name: &str,
    spec: T,
    mask: T,
    zero: T,
    ones: T,
) {
    if mask == zero {
        return;
    }
    if mask == ones {
        let _ = write!(out, " {name} is {spec}");
    } else {
        let _ = write!(out, " {name} spec {spec} {name} mask {mask}");
    }
}

/// Like [`field`] for addresses, writing a contiguous mask as the shorter
/// ` name prefix N` — except for a DPDK whose testpmd crashes on `prefix`
/// (25.07 and newer: `parse_vc_spec` points the next token at a compound
/// literal that is gone once it returns, since DPDK commit c439a84f1a, and
/// dpdk-testpmd 25.11 dies with SIGSEGV on `ipv4 dst spec A dst prefix N`),
/// where it is always ` name mask M`, which means the same.
fn addr<T: fmt::Display + PartialEq>(
    out: &mut String,
    name: &str,
    spec: T,
    mask_bytes: &[u8],
    mask: T,
) {
    let ones: u32 = mask_bytes.iter().map(|b| b.count_ones()).sum();
    if ones == 0 {
        return;
    }
    if ones as usize == mask_bytes.len() * 8 {
        let _ = write!(out, " {name} is {spec}");
        return;
    }
    let contiguous = mask_bytes.iter().enumerate().all(|(i, &b)| {
        let bits_before = (i * 8) as u32;
        let want = if ones >= bits_before + 8 {
            0xff
        } else if ones <= bits_before {
            0
        } else {
            0xffu8 << (8 - (ones - bits_before))
        };
        b == want
    });
    if contiguous && !cfg!(xsc_dpdk_testpmd_prefix_crashes) {
        let _ = write!(out, " {name} spec {spec} {name} prefix {ones}");
    } else {
        let _ = write!(out, " {name} spec {spec} {name} mask {mask}");
    }
}

/// A 16-bit field that may be a range: ` name spec S name last L name mask
/// M` with `last`, else as [`field`].
fn range16(out: &mut String, name: &str, spec: u16, last: Option<u16>, mask: u16) {
    match last {
        Some(last) => {
            let _ = write!(
                out,
                " {name} spec {spec:#x} {name} last {last:#x} {name} mask {mask:#x}"
            );
        }
        None => field(out, name, hex(spec), hex(mask), hex(0u16), hex(u16::MAX)),
    }
}

fn hex<T: fmt::LowerHex>(v: T) -> String {
    format!("{v:#x}")
}

fn render_item(out: &mut String, item: &Item) {
    match item {
        Item::Eth(Masked { spec, mask }) => {
            out.push_str("eth");
            addr(out, "dst", Mac(spec.dst), &mask.dst, Mac(mask.dst));
            addr(out, "src", Mac(spec.src), &mask.src, Mac(mask.src));
            field(
                out,
                "type",
                hex(spec.ether_type),
                hex(mask.ether_type),
                hex(0u16),
                hex(u16::MAX),
            );
            if mask.has_vlan {
                let _ = write!(out, " has_vlan is {}", u8::from(spec.has_vlan));
            }
        }
        Item::Vlan(Masked { spec, mask }) => {
            out.push_str("vlan");
            field(
                out,
                "tci",
                hex(spec.tci),
                hex(mask.tci),
                hex(0u16),
                hex(u16::MAX),
            );
            field(
                out,
                "inner_type",
                hex(spec.inner_type),
                hex(mask.inner_type),
                hex(0u16),
                hex(u16::MAX),
            );
            if mask.has_more_vlan {
                let _ = write!(out, " has_more_vlan is {}", u8::from(spec.has_more_vlan));
            }
        }
        Item::Ipv4 {
            m: Masked { spec, mask },
            last,
        } => {
            out.push_str("ipv4");
            addr(out, "src", V4(spec.src), &mask.src, V4(mask.src));
            addr(out, "dst", V4(spec.dst), &mask.dst, V4(mask.dst));
            field(out, "tos", spec.tos, mask.tos, 0, u8::MAX);
            field(out, "ttl", spec.ttl, mask.ttl, 0, u8::MAX);
            field(out, "proto", spec.proto, mask.proto, 0, u8::MAX);
            range16(
                out,
                "fragment_offset",
                spec.fragment_offset,
                last.map(|l| l.fragment_offset),
                mask.fragment_offset,
            );
        }
        Item::Ipv6(Masked { spec, mask }) => {
            out.push_str("ipv6");
            addr(out, "src", V6(spec.src), &mask.src, V6(mask.src));
            addr(out, "dst", V6(spec.dst), &mask.dst, V6(mask.dst));
            field(out, "tc", spec.tc, mask.tc, 0, u8::MAX);
            field(
                out,
                "flow",
                hex(spec.flow_label),
                hex(mask.flow_label),
                hex(0u32),
                hex(0xf_ffffu32),
            );
            field(out, "proto", spec.proto, mask.proto, 0, u8::MAX);
            field(out, "hop", spec.hop_limit, mask.hop_limit, 0, u8::MAX);
            if mask.has_frag_ext {
                let _ = write!(out, " has_frag_ext is {}", u8::from(spec.has_frag_ext));
            }
        }
        Item::Ipv6FragExt {
            m: Masked { spec, mask },
            last,
        } => {
            out.push_str("ipv6_frag_ext");
            field(
                out,
                "next_hdr",
                spec.next_header,
                mask.next_header,
                0,
                u8::MAX,
            );
            range16(
                out,
                "frag_data",
                spec.frag_data,
                last.map(|l| l.frag_data),
                mask.frag_data,
            );
        }
        Item::Tcp(Masked { spec, mask }) => {
            out.push_str("tcp");
            field(out, "src", spec.src, mask.src, 0, u16::MAX);
            field(out, "dst", spec.dst, mask.dst, 0, u16::MAX);
            field(
                out,
                "flags",
                hex(spec.flags),
                hex(mask.flags),
                hex(0u8),
                hex(u8::MAX),
            );
        }
        Item::Udp(Masked { spec, mask }) | Item::Sctp(Masked { spec, mask }) => {
            out.push_str(if matches!(item, Item::Udp(_)) {
                "udp"
            } else {
                "sctp"
            });
            field(out, "src", spec.src, mask.src, 0, u16::MAX);
            field(out, "dst", spec.dst, mask.dst, 0, u16::MAX);
        }
        Item::Icmp(Masked { spec, mask }) | Item::Icmp6(Masked { spec, mask }) => {
            out.push_str(if matches!(item, Item::Icmp(_)) {
                "icmp"
            } else {
                "icmp6"
            });
            field(out, "type", spec.icmp_type, mask.icmp_type, 0, u8::MAX);
            field(out, "code", spec.code, mask.code, 0, u8::MAX);
            field(out, "ident", spec.ident, mask.ident, 0, u16::MAX);
        }
        Item::ArpEthIpv4(Masked { spec, mask }) => {
            out.push_str("arp_eth_ipv4");
            addr(out, "sha", Mac(spec.sha), &mask.sha, Mac(mask.sha));
            addr(out, "spa", V4(spec.spa), &mask.spa, V4(mask.spa));
            addr(out, "tha", Mac(spec.tha), &mask.tha, Mac(mask.tha));
            addr(out, "tpa", V4(spec.tpa), &mask.tpa, V4(mask.tpa));
        }
        Item::Icmp6NdNs(Masked { spec, mask }) | Item::Icmp6NdNa(Masked { spec, mask }) => {
            out.push_str(if matches!(item, Item::Icmp6NdNs(_)) {
                "icmp6_nd_ns"
            } else {
                "icmp6_nd_na"
            });
            addr(out, "target_addr", V6(*spec), mask, V6(*mask));
        }
        Item::Icmp6NdOptSlaEth(Masked { spec, mask }) => {
            out.push_str("icmp6_nd_opt_sla_eth");
            addr(out, "sla", Mac(*spec), mask, Mac(*mask));
        }
        Item::Icmp6NdOptTlaEth(Masked { spec, mask }) => {
            out.push_str("icmp6_nd_opt_tla_eth");
            addr(out, "tla", Mac(*spec), mask, Mac(*mask));
        }
        Item::Tag { index, m } => {
            out.push_str("tag");
            field(
                out,
                "data",
                hex(m.spec),
                hex(m.mask),
                hex(0u32),
                hex(u32::MAX),
            );
            let _ = write!(out, " index is {index}");
        }
        Item::Meta(m) => {
            out.push_str("meta");
            field(
                out,
                "data",
                hex(m.spec),
                hex(m.mask),
                hex(0u32),
                hex(u32::MAX),
            );
        }
        Item::Mark(m) => {
            out.push_str("mark");
            field(
                out,
                "id",
                hex(m.spec),
                hex(m.mask),
                hex(0u32),
                hex(u32::MAX),
            );
        }
        Item::RepresentedPort { port_id } => {
            let _ = write!(out, "represented_port ethdev_port_id is {port_id}");
        }
        Item::PortRepresentor { port_id } => {
            let _ = write!(out, "port_representor port_id is {port_id}");
        }
        Item::Vxlan(m) => {
            out.push_str("vxlan");
            field(out, "vni", m.spec.vni, m.mask.vni, 0, 0xff_ffff);
        }
        Item::Geneve(m) => {
            out.push_str("geneve");
            field(out, "vni", m.spec.vni, m.mask.vni, 0, 0xff_ffff);
            field(
                out,
                "protocol",
                hex(m.spec.protocol),
                hex(m.mask.protocol),
                hex(0u16),
                hex(u16::MAX),
            );
        }
    }
}

fn field_name(f: Field) -> String {
    match f {
        Field::MacDst => "mac_dst".into(),
        Field::MacSrc => "mac_src".into(),
        Field::VlanId => "vlan_id".into(),
        Field::Ipv4Dscp => "ipv4_dscp".into(),
        Field::Ipv4Ttl => "ipv4_ttl".into(),
        Field::Ipv4Src => "ipv4_src".into(),
        Field::Ipv4Dst => "ipv4_dst".into(),
        Field::Ipv6Dscp => "ipv6_dscp".into(),
        Field::Ipv6HopLimit => "ipv6_hoplimit".into(),
        Field::Ipv6Src => "ipv6_src".into(),
        Field::Ipv6Dst => "ipv6_dst".into(),
        Field::TcpPortSrc => "tcp_port_src".into(),
        Field::TcpPortDst => "tcp_port_dst".into(),
        Field::UdpPortSrc => "udp_port_src".into(),
        Field::UdpPortDst => "udp_port_dst".into(),
        Field::VxlanVni => "vxlan_vni".into(),
        Field::GeneveVni => "geneve_vni".into(),
        Field::Tag(_) => "tag".into(),
        Field::Meta => "meta".into(),
        Field::Mark => "mark".into(),
    }
}

/// The tag index for TAG, in the words of this DPDK's testpmd: ` dst_level N`
/// before 23.07 (the index travelled in `level`), ` dst_tag_index N` since
/// (where `dst_level` is the encapsulation level); nothing for other fields,
/// whose level 0 is testpmd's default. See `rte::field_data`.
fn modify_level(out: &mut String, side: &str, f: Field) {
    if let Field::Tag(i) = f {
        let word = if cfg!(xsc_dpdk_tag_index) {
            "tag_index"
        } else {
            "level"
        };
        let _ = write!(out, " {side}_{word} {i}");
    }
}

/// `in_sample`: the action is part of a `set sample_actions` list, where
/// testpmd 22.11 accepts `port_id` but not `represented_port`.
fn render_action(
    out: &mut String,
    action: &Action,
    buffers: &mut Buffers,
    setup: &mut Vec<String>,
    in_sample: bool,
) {
    match action {
        Action::Count => out.push_str("count"),
        Action::Drop => out.push_str("drop"),
        Action::Jump { group } => {
            let _ = write!(out, "jump group {group}");
        }
        Action::Mark { id } => {
            let _ = write!(out, "mark id {id}");
        }
        Action::SetTag {
            index: i,
            data,
            mask,
        } => {
            let _ = write!(out, "set_tag data {data:#x} mask {mask:#x} index {i}");
        }
        Action::SetMeta { data, mask } => {
            let _ = write!(out, "set_meta data {data:#x} mask {mask:#x}");
        }
        Action::Queue { index: q } => {
            let _ = write!(out, "queue index {q}");
        }
        // PORT_ID to a representor sends to the entity it represents, as
        // REPRESENTED_PORT does; older testpmds only take it in sample lists.
        Action::RepresentedPort { port_id } if in_sample => {
            let _ = write!(out, "port_id id {port_id}");
        }
        Action::RepresentedPort { port_id } => {
            let _ = write!(out, "represented_port ethdev_port_id {port_id}");
        }
        Action::PortRepresentor { port_id } => {
            let _ = write!(out, "port_representor port_id {port_id}");
        }
        Action::SetMacSrc(m) => {
            let _ = write!(out, "set_mac_src mac_addr {}", Mac(*m));
        }
        Action::SetMacDst(m) => {
            let _ = write!(out, "set_mac_dst mac_addr {}", Mac(*m));
        }
        Action::SetIpv4Src(a) => {
            let _ = write!(out, "set_ipv4_src ipv4_addr {}", V4(*a));
        }
        Action::SetIpv4Dst(a) => {
            let _ = write!(out, "set_ipv4_dst ipv4_addr {}", V4(*a));
        }
        Action::SetIpv6Src(a) => {
            let _ = write!(out, "set_ipv6_src ipv6_addr {}", V6(*a));
        }
        Action::SetIpv6Dst(a) => {
            let _ = write!(out, "set_ipv6_dst ipv6_addr {}", V6(*a));
        }
        Action::SetTpSrc(p) => {
            let _ = write!(out, "set_tp_src port {p}");
        }
        Action::SetTpDst(p) => {
            let _ = write!(out, "set_tp_dst port {p}");
        }
        Action::SetTtl(t) => {
            let _ = write!(out, "set_ttl ttl_value {t}");
        }
        Action::DecTtl => out.push_str("dec_ttl"),
        Action::SetIpv4Dscp(d) => {
            let _ = write!(out, "set_ipv4_dscp dscp_value {d}");
        }
        Action::SetIpv6Dscp(d) => {
            let _ = write!(out, "set_ipv6_dscp dscp_value {d}");
        }
        Action::ModifyField {
            dst,
            offset,
            width,
            value,
        } => {
            // testpmd reads src_value as an unsigned integer (at most 64
            // bits), placed in the value bytes as DPDK's modify_field expects.
            let tail = u64::from_be_bytes(value[8..].try_into().unwrap_or([0; 8]));
            let _ = write!(out, "modify_field op set dst_type {}", field_name(*dst));
            modify_level(out, "dst", *dst);
            if *offset != 0 {
                let _ = write!(out, " dst_offset {offset}");
            }
            let _ = write!(out, " src_type value src_value {tail:#x} width {width}");
        }
        Action::CopyField { dst, src, width } => {
            let _ = write!(out, "modify_field op set dst_type {}", field_name(*dst));
            modify_level(out, "dst", *dst);
            let _ = write!(out, " src_type {}", field_name(*src));
            modify_level(out, "src", *src);
            let _ = write!(out, " width {width}");
        }
        Action::OfPushVlan { ethertype } => {
            let _ = write!(out, "of_push_vlan ethertype {ethertype:#x}");
        }
        Action::OfSetVlanVid(vid) => {
            let _ = write!(out, "of_set_vlan_vid vlan_vid {vid}");
        }
        Action::OfSetVlanPcp(pcp) => {
            let _ = write!(out, "of_set_vlan_pcp vlan_pcp {pcp}");
        }
        Action::OfPopVlan => out.push_str("of_pop_vlan"),
        Action::RawEncap(header) => {
            let i = next(&mut buffers.raw_encap);
            setup.push(format!("set raw_encap {i} {}end_set", header_items(header)));
            let _ = write!(out, "raw_encap index {i}");
        }
        Action::RawDecap { size } => {
            let i = next(&mut buffers.raw_decap);
            // testpmd sizes raw_decap from the items of its buffer; a
            // Geneve/VXLAN outer header of `size` bytes over IPv4 or IPv6.
            let items = match size {
                50 => "eth / ipv4 / udp / vxlan /",
                70 => "eth / ipv6 / udp / vxlan /",
                _ => "eth / ipv4 / udp / geneve /",
            };
            setup.push(format!("set raw_decap {i} {items} end_set"));
            let _ = write!(out, "raw_decap index {i}");
        }
        Action::VxlanDecap => out.push_str("vxlan_decap"),
        Action::Sample { ratio, actions } => {
            let i = next(&mut buffers.sample);
            let mut sub = String::new();
            for a in actions.iter() {
                render_action(&mut sub, a, buffers, setup, true);
                sub.push_str(" / ");
            }
            setup.push(format!("set sample_actions {i} {sub}end"));
            let _ = write!(out, "sample ratio {ratio} index {i}");
        }
    }
}

fn next(index: &mut u32) -> u32 {
    let i = *index;
    *index += 1;
    i
}

/// Describes an encapsulation header (Ethernet, optional VLAN, IPv4 or
/// IPv6, UDP, VXLAN or Geneve) as testpmd items. testpmd rebuilds the bytes
/// from these items; fields it computes itself (lengths, checksums, IPv4 id)
/// are left to it.
fn header_items(h: &[u8]) -> String {
    let mut out = String::new();
    let be16 = |at: usize| h.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let Some(mut ether_type) = be16(12) else {
        return "eth / ".into();
    };
    let mac = |at: usize| {
        let mut m = [0u8; 6];
        m.copy_from_slice(&h[at..at + 6]);
        Mac(m)
    };
    let _ = write!(
        out,
        "eth dst is {} src is {} type is {ether_type:#06x} / ",
        mac(0),
        mac(6)
    );
    let mut at = 14;
    if ether_type == 0x8100 {
        let (Some(tci), Some(inner)) = (be16(at), be16(at + 2)) else {
            return out;
        };
        let _ = write!(out, "vlan tci is {tci:#x} inner_type is {inner:#06x} / ");
        ether_type = inner;
        at += 4;
    }
    let proto = match ether_type {
        0x0800 if h.len() >= at + 20 => {
            let (mut s, mut d) = ([0u8; 4], [0u8; 4]);
            s.copy_from_slice(&h[at + 12..at + 16]);
            d.copy_from_slice(&h[at + 16..at + 20]);
            let _ = write!(
                out,
                "ipv4 src is {} dst is {} tos is {} ttl is {} proto is {} / ",
                V4(s),
                V4(d),
                h[at + 1],
                h[at + 8],
                h[at + 9]
            );
            let p = h[at + 9];
            at += usize::from(h[at] & 0x0f) * 4;
            p
        }
        0x86dd if h.len() >= at + 40 => {
            let (mut s, mut d) = ([0u8; 16], [0u8; 16]);
            s.copy_from_slice(&h[at + 8..at + 24]);
            d.copy_from_slice(&h[at + 24..at + 40]);
            let _ = write!(
                out,
                "ipv6 src is {} dst is {} hop is {} proto is {} / ",
                V6(s),
                V6(d),
                h[at + 7],
                h[at + 6]
            );
            let p = h[at + 6];
            at += 40;
            p
        }
        _ => return out,
    };
    if proto != 17 || h.len() < at + 8 {
        return out;
    }
    let (sport, dport) = (be16(at).unwrap_or(0), be16(at + 2).unwrap_or(0));
    let _ = write!(out, "udp src is {sport} dst is {dport} / ");
    at += 8;
    if h.len() >= at + 8 {
        let vni = u32::from_be_bytes([0, h[at + 4], h[at + 5], h[at + 6]]);
        if dport == 4789 {
            let _ = write!(out, "vxlan vni is {vni} / ");
        } else if dport == 6081 {
            let proto = be16(at + 2).unwrap_or(0);
            let _ = write!(out, "geneve vni is {vni} protocol is {proto:#06x} / ");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use smallvec::smallvec;

    use super::*;
    use crate::rule::{EthItem, Ipv4Item};

    #[test]
    fn renders_the_seed_shape_exactly() {
        let rule = HwRule {
            attr: Attr {
                group: 2,
                priority: 0,
                dir: Direction::Transfer,
            },
            pattern: smallvec![
                Item::Tag {
                    index: 0,
                    m: Masked::new(0x21, 0x3b)
                },
                Item::RepresentedPort { port_id: 15 },
                Item::Eth(Masked::new(
                    EthItem {
                        src: [0, 0, 0, 0x9d, 0xfb, 0x1a],
                        dst: [0, 0, 0, 0xce, 0xcf, 0xb9],
                        ..Default::default()
                    },
                    EthItem {
                        src: [0xff; 6],
                        dst: [0xff; 6],
                        ..Default::default()
                    },
                )),
                Item::Ipv4 {
                    m: Masked::new(
                        Ipv4Item {
                            dst: [10, 16, 0, 14],
                            ..Default::default()
                        },
                        Ipv4Item {
                            dst: [255, 192, 0, 0],
                            fragment_offset: 0x3fff,
                            ..Default::default()
                        },
                    ),
                    last: None,
                },
            ],
            actions: smallvec![
                Action::Count,
                Action::SetTag {
                    index: 1,
                    data: 6,
                    mask: 0xffff
                },
                Action::Jump { group: 9 }
            ],
        };
        let r = render(&rule, 0, "create");
        assert!(r.setup.is_empty());
        assert_eq!(
            r.flow,
            format!(
                "flow create 0 transfer group 2 pattern tag data spec 0x21 data mask 0x3b index is 0 / \
                 represented_port ethdev_port_id is 15 / eth dst is 00:00:00:ce:cf:b9 src is 00:00:00:9d:fb:1a / \
                 ipv4 dst spec 10.16.0.14{} fragment_offset spec 0x0 fragment_offset mask 0x3fff / end \
                 actions count / set_tag data 0x6 mask 0xffff index 1 / jump group 9 / end",
                partial("dst", 10, "255.192.0.0")
            )
        );
        assert!(r.fits_command_line());
    }

    #[test]
    fn buffered_actions_get_their_set_commands_first() {
        let header: Arc<[u8]> = Arc::from(
            &[
                0u8, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x08, 0x00, // eth
                0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 172, 31, 1, 1, 172, 31, 1,
                2, // ipv4
                0x12, 0x34, 0x17, 0xc1, 0, 0, 0, 0, // udp 4660 → 6081
                0, 0, 0x65, 0x58, 0, 0, 0x7b, 0, // geneve vni 123
            ][..],
        );
        let rule = HwRule {
            attr: Attr {
                group: 1,
                priority: 0,
                dir: Direction::Transfer,
            },
            pattern: smallvec![],
            actions: smallvec![
                Action::Sample {
                    ratio: 1,
                    actions: Arc::from(vec![Action::RepresentedPort { port_id: 4 }])
                },
                Action::RawEncap(header),
                Action::RepresentedPort { port_id: 0 },
            ],
        };
        let r = render(&rule, 1, "validate");
        assert_eq!(
            r.setup,
            vec![
                "set sample_actions 0 port_id id 4 / end".to_string(),
                "set raw_encap 0 eth dst is 00:00:00:00:00:02 src is 00:00:00:00:00:01 type is 0x0800 / \
                 ipv4 src is 172.31.1.1 dst is 172.31.1.2 tos is 0 ttl is 64 proto is 17 / \
                 udp src is 4660 dst is 6081 / geneve vni is 123 protocol is 0x6558 / end_set"
                    .to_string(),
            ]
        );
        assert_eq!(
            r.flow,
            "flow validate 1 transfer group 1 pattern end actions sample ratio 1 index 0 / raw_encap index 0 / \
             represented_port ethdev_port_id 0 / end"
        );
    }

    #[test]
    fn only_contiguous_masks_become_prefixes_where_testpmd_takes_them() {
        let mut out = String::new();
        addr(
            &mut out,
            "dst",
            V4([10, 0, 0, 0]),
            &[255, 255, 240, 0],
            V4([255, 255, 240, 0]),
        );
        addr(
            &mut out,
            "src",
            V4([10, 0, 0, 0]),
            &[255, 0, 255, 0],
            V4([255, 0, 255, 0]),
        );
        addr(&mut out, "any", V4([1, 2, 3, 4]), &[0; 4], V4([0; 4]));
        assert_eq!(
            out,
            format!(
                " dst spec 10.0.0.0{} src spec 10.0.0.0 src mask 255.0.255.0",
                partial("dst", 20, "255.255.240.0")
            )
        );
    }

    /// What a contiguous partial mask renders as after its spec: `prefix`,
    /// or `mask` where this DPDK's testpmd crashes on `prefix`.
    fn partial(name: &str, prefix: u32, mask: &str) -> String {
        if cfg!(xsc_dpdk_testpmd_prefix_crashes) {
            format!(" {name} mask {mask}")
        } else {
            format!(" {name} prefix {prefix}")
        }
    }

    #[test]
    fn overlong_rules_are_flagged() {
        let rule = HwRule {
            attr: Attr::default(),
            pattern: smallvec![],
            actions: (0..40).map(|i| Action::Mark { id: i }).collect(),
        };
        assert!(!render(&rule, 0, "create").fits_command_line());
    }
}
