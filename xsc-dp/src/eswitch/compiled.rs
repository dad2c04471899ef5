//! A compiled rule: what the rule compiler (`compile`) makes of an
//! [`RteRule`](crate::rte::RteRule) and what the matcher (`table`) and the
//! executor (`exec`) use — the masked key bytes and ranges a pattern
//! matches on ([`Matcher`], [`Shape`]) and the decoded actions ([`Act`]).
//! Plain data: no pointer into the caller's rule is kept.

use smallvec::SmallVec;

use super::parse::Proto;
use crate::ffi;
use crate::rule::Field;

/// The most TAG registers the eswitch models.
pub const MAX_TAGS: usize = 8;

/// Where one key byte comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Src {
    /// Byte `off` of the header bound to protocol item `item`.
    Layer { item: u8, off: u8 },
    /// `has_vlan` (ETH), `has_more_vlan` (VLAN) or `has_frag_ext` (IPV6)
    /// of protocol item `item`, as 0 or 1.
    Flag { item: u8 },
    /// Byte `byte` (0 the most significant) of TAG register `index`.
    Reg { index: u8, byte: u8 },
    /// Byte of META.
    Meta { byte: u8 },
    /// Byte of MARK (0 when no MARK was set).
    Mark { byte: u8 },
    /// Byte of the ethdev port the packet entered through.
    Port { byte: u8 },
    /// 1 when the packet came from the host through a representor
    /// (PORT_REPRESENTOR), 0 when from the represented entity.
    FromHost,
}

/// One masked key byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct KeyOp {
    pub src: Src,
    pub mask: u8,
}

/// A header field matched as a range (`spec`..`last`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct RangeField {
    pub item: u8,
    pub off: u8,
    pub len: u8,
    pub mask: u32,
}

/// Key bytes (and ops) held inline: a typical megaflow's pattern (port,
/// registers, MACs, IPv4 address and protocol fields: 24 bytes) compiles
/// without a heap allocation; IPv6 5-tuples spill.
const KEY_INLINE: usize = 32;

/// The masked bytes a rule (or a packet) is hashed and compared on.
pub(crate) type Key = SmallVec<[u8; KEY_INLINE]>;

/// What rules that can share a hash table have in common.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub(crate) struct Shape {
    /// Protocol items, in pattern order.
    pub protos: SmallVec<[Proto; 8]>,
    pub ops: SmallVec<[KeyOp; KEY_INLINE]>,
    pub ranges: SmallVec<[RangeField; 1]>,
}

/// A compiled pattern.
#[derive(Debug, Clone, Default)]
pub(crate) struct Matcher {
    pub shape: Shape,
    /// `spec & mask`, one byte per op.
    pub key: Key,
    /// Inclusive bounds, one pair per range field.
    pub bounds: SmallVec<[(u32, u32); 1]>,
}

/// A field and the bit offset (from its least significant bit) used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FieldRef {
    pub id: Field,
    pub offset: u32,
}

/// Where MODIFY_FIELD's bits come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ModSrc {
    /// An immediate value (the 16 bytes read as one big-endian number).
    Value(u128),
    Field(FieldRef),
}

/// A compiled action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Act {
    Count,
    Drop,
    Jump(u32),
    Mark(u32),
    SetTag {
        index: u8,
        data: u32,
        mask: u32,
    },
    SetMeta {
        data: u32,
        mask: u32,
    },
    Queue(u16),
    RepresentedPort(u16),
    PortRepresentor(u16),
    SetMac {
        src: bool,
        mac: [u8; 6],
    },
    SetIpv4 {
        src: bool,
        addr: [u8; 4],
    },
    SetIpv6 {
        src: bool,
        addr: [u8; 16],
    },
    SetTp {
        src: bool,
        port: u16,
    },
    SetTtl(u8),
    DecTtl,
    SetDscp {
        v6: bool,
        dscp: u8,
    },
    Modify {
        dst: FieldRef,
        src: ModSrc,
        width: u32,
    },
    PushVlan(u16),
    SetVlanVid(u16),
    SetVlanPcp(u8),
    PopVlan,
    RawEncap(Box<[u8]>),
    RawDecap(usize),
    VxlanDecap,
    /// A mirror: the copy gets these actions.
    Sample(Box<[Act]>),
}

impl Act {
    pub(crate) fn is_fate(&self) -> bool {
        matches!(
            self,
            Act::Drop
                | Act::Jump(_)
                | Act::Queue(_)
                | Act::RepresentedPort(_)
                | Act::PortRepresentor(_)
        )
    }
}

/// A decoded rule.
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    pub group: u32,
    pub priority: u32,
    pub matcher: Matcher,
    pub actions: Box<[Act]>,
    /// Whether the rule has a COUNT action (queries need one).
    pub counts: bool,
    /// Item kinds in pattern order (for template checks).
    pub item_types: SmallVec<[ffi::rte_flow_item_type; 8]>,
    /// Action kinds in order (for template checks).
    pub action_types: SmallVec<[ffi::rte_flow_action_type; 8]>,
}
