//! Key bytes packed against the mask: when the key and mask lists have the
//! same layout, only the key payload under non-zero mask bytes is stored,
//! then a residue for the bytes under zero mask; otherwise the whole key.
//! Unpacking starts from the mask list, so headers and zero bytes come back
//! by construction.
//!
//! Invariant: `unpack(pack(k))` is `k`, or `pack` refuses `k`; nothing
//! here panics on corrupt bytes (they are a [`NetlinkError`]).
//!
//! Must not depend on: anything in the crate but `crate::odp`.

use smallvec::SmallVec;

use crate::odp::netlink::attr::{nla_align, NLA_HDRLEN, NLA_TYPE_MASK};
use crate::odp::netlink::consts::{
    OVS_KEY_ATTR_ENCAP, OVS_KEY_ATTR_NSH, OVS_KEY_ATTR_TUNNEL, OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS,
};
use crate::odp::netlink::{ErrorKind, NetlinkError, PortTable};

use super::interner::*;
use super::*;

/// The key bytes are packed against the mask (else: the whole key list).
pub(super) const PACKED: u8 = 1;
/// Packed, followed by the residue bitmap and bytes.
pub(super) const RESIDUE: u8 = 2;
/// No mask list: every key attribute is exact (`decode_key(key, None)`).
pub(super) const KEY_ONLY: u8 = 4;
/// The bytes end with the `in_port` name and its length byte.
pub(super) const IN_PORT_NAME: u8 = 8;

/// Key bytes: all inline, or the first [`SPLIT_HEAD`] inline and the rest
/// in one heap block (so a long key still uses the room it pays for).
#[derive(Clone)]
pub(super) enum KeyBytes {
    Inline {
        flags: u8,
        len: u8,
        bytes: [u8; INLINE_KEY_BYTES],
    },
    Split {
        flags: u8,
        head: [u8; SPLIT_HEAD],
        tail: Box<[u8]>,
    },
}

/// Bytes of a split key kept inline: with the tag, the flags byte and the
/// 16-byte tail pointer this fills the same 48 bytes as `Inline`.
pub(super) const SPLIT_HEAD: usize = 30;

impl KeyBytes {
    pub(super) fn new(flags: u8, b: &[u8]) -> KeyBytes {
        if b.len() <= INLINE_KEY_BYTES {
            let mut bytes = [0u8; INLINE_KEY_BYTES];
            bytes[..b.len()].copy_from_slice(b);
            KeyBytes::Inline {
                flags,
                len: b.len() as u8,
                bytes,
            }
        } else {
            let (h, t) = b.split_at(SPLIT_HEAD);
            let mut head = [0u8; SPLIT_HEAD];
            head.copy_from_slice(h);
            KeyBytes::Split {
                flags,
                head,
                tail: t.into(),
            }
        }
    }

    pub(super) fn flags(&self) -> u8 {
        match self {
            KeyBytes::Inline { flags, .. } | KeyBytes::Split { flags, .. } => *flags,
        }
    }

    /// The bytes, in two parts (the second empty when all are inline).
    pub(super) fn parts(&self) -> (&[u8], &[u8]) {
        match self {
            KeyBytes::Inline { len, bytes, .. } => {
                (&bytes[..usize::from(*len).min(INLINE_KEY_BYTES)], &[])
            }
            KeyBytes::Split { head, tail, .. } => (head, tail),
        }
    }

    pub(super) fn len(&self) -> usize {
        let (a, b) = self.parts();
        a.len() + b.len()
    }

    pub(super) fn heap_bytes(&self) -> usize {
        self.parts().1.len()
    }
}

impl PartialEq for KeyBytes {
    // A given length is always stored the same way, so comparing the parts
    // compares the bytes.
    fn eq(&self, other: &KeyBytes) -> bool {
        self.flags() == other.flags() && self.parts() == other.parts()
    }
}

impl Eq for KeyBytes {}

/// Which list an attribute list is, for finding nested lists.
#[derive(Clone, Copy)]
pub(super) enum Level {
    /// `OVS_KEY_ATTR_*` (the key itself, or inside `encap`).
    Key,
    /// `OVS_TUNNEL_KEY_ATTR_*`.
    Tunnel,
    /// A list whose attributes nest nothing (`nsh`, VXLAN options).
    Flat,
}

pub(super) fn nested_level(level: Level, ty: u16) -> Option<Level> {
    match (level, ty) {
        (Level::Key, OVS_KEY_ATTR_ENCAP) => Some(Level::Key),
        (Level::Key, OVS_KEY_ATTR_TUNNEL) => Some(Level::Tunnel),
        (Level::Key, OVS_KEY_ATTR_NSH) => Some(Level::Flat),
        (Level::Tunnel, OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS) => Some(Level::Flat),
        _ => None,
    }
}

/// Sets `header[i]` for every byte of an attribute header in `list`, which
/// starts at `base` of the whole mask.  Reads the mask only, so packing and
/// unpacking agree; stops at the first malformed header (the rest is then
/// payload, still lossless).
pub(super) fn mark_headers(
    list: &[u8],
    base: usize,
    level: Level,
    depth: usize,
    header: &mut [bool],
) {
    let mut pos = 0;
    while let Some(&[l0, l1, t0, t1]) = list.get(pos..).and_then(|r| r.first_chunk()) {
        let len = usize::from(u16::from_ne_bytes([l0, l1]));
        let ty = u16::from_ne_bytes([t0, t1]) & NLA_TYPE_MASK;
        let Some(payload) = list.get(pos + NLA_HDRLEN..pos + len) else {
            return;
        };
        if let Some(h) = header.get_mut(base + pos..base + pos + NLA_HDRLEN) {
            h.fill(true);
        }
        if depth < MAX_LAYOUT_DEPTH {
            if let Some(inner) = nested_level(level, ty) {
                mark_headers(payload, base + pos + NLA_HDRLEN, inner, depth + 1, header);
            }
        }
        pos += nla_align(len);
    }
}

/// A mask list and where its bytes are: attribute headers, payload under
/// a non-zero mask byte ("masked"), payload under a zero mask byte
/// ("residue"), each as runs of byte offsets in list order.  Worked out once
/// per distinct mask (as OVS's dpcls works out a subtable once), so that
/// packing and unpacking a key are run copies.
pub(super) struct Shape {
    pub(super) mask: Box<[u8]>,
    pub(super) headers: Box<[(usize, usize)]>,
    pub(super) masked: Box<[(usize, usize)]>,
    pub(super) residue: Box<[(usize, usize)]>,
    /// Bytes in the residue runs.
    pub(super) residue_len: usize,
}

impl Shape {
    pub(super) fn new(mask: &[u8]) -> Shape {
        let mut header: SmallVec<[bool; 512]> = SmallVec::from_elem(false, mask.len());
        mark_headers(mask, 0, Level::Key, 0, &mut header);
        let mut runs: [Vec<(usize, usize)>; 3] = Default::default();
        for (i, (&m, &h)) in mask.iter().zip(&header).enumerate() {
            let class = if h {
                0
            } else if m != 0 {
                1
            } else {
                2
            };
            match runs[class].last_mut() {
                Some((_, end)) if *end == i => *end = i + 1,
                _ => runs[class].push((i, i + 1)),
            }
        }
        let [headers, masked, residue] = runs;
        Shape {
            residue_len: residue.iter().map(|(s, e)| e - s).sum(),
            mask: mask.into(),
            headers: headers.into(),
            masked: masked.into(),
            residue: residue.into(),
        }
    }
}

impl Keyed for Shape {
    fn bytes(&self) -> &[u8] {
        &self.mask
    }
    fn heap_bytes(&self) -> usize {
        let runs = self.headers.len() + self.masked.len() + self.residue.len();
        self.mask.len() + runs * core::mem::size_of::<(usize, usize)>()
    }
}

/// Appends `key` packed against `shape` to `out` and returns the flags, or
/// `None` (with `out` untouched) when the key list does not have the mask
/// list's layout.
///
/// The packed form: the masked bytes; then, when any residue byte is
/// non-zero, one bit per residue byte (LSB first) and the non-zero ones.
pub(super) fn pack(key: &[u8], shape: &Shape, out: &mut Vec<u8>) -> Option<u8> {
    let mask = &shape.mask[..];
    // The runs index `mask`, so with equal lengths they index `key` too.
    if key.len() != mask.len() || shape.headers.iter().any(|&(s, e)| key[s..e] != mask[s..e]) {
        return None;
    }
    for &(s, e) in &*shape.masked {
        out.extend_from_slice(&key[s..e]);
    }
    let residue = || shape.residue.iter().flat_map(|&(s, e)| &key[s..e]);
    if residue().all(|&b| b == 0) {
        return Some(PACKED);
    }
    let bitmap_at = out.len();
    out.resize(bitmap_at + shape.residue_len.div_ceil(8), 0);
    for (j, &b) in residue().enumerate() {
        if b != 0 {
            out[bitmap_at + j / 8] |= 1 << (j % 8);
            out.push(b);
        }
    }
    Some(PACKED | RESIDUE)
}

/// The inverse of [`pack`]: rebuilds the key list into `out`.
pub(super) fn unpack(
    packed: &[u8],
    shape: &Shape,
    flags: u8,
    out: &mut KeyBuf,
) -> Result<(), NetlinkError> {
    // Start from the mask: its headers are the key's, and its residue
    // bytes are zero.  The runs index `mask`, hence `out`.
    out.clear();
    out.extend_from_slice(&shape.mask);
    let mut rest = packed;
    for &(s, e) in &*shape.masked {
        let (bytes, tail) = rest
            .split_at_checked(e - s)
            .ok_or_else(|| corrupt("packed key shorter than its mask"))?;
        out[s..e].copy_from_slice(bytes);
        rest = tail;
    }
    if flags & RESIDUE != 0 {
        let (bitmap, mut values) = rest
            .split_at_checked(shape.residue_len.div_ceil(8))
            .ok_or_else(|| corrupt("packed key residue bitmap cut short"))?;
        let mut j = 0;
        for &(s, e) in &*shape.residue {
            for o in &mut out[s..e] {
                if bitmap[j / 8] & (1 << (j % 8)) != 0 {
                    let (&v, tail) = values
                        .split_first()
                        .ok_or_else(|| corrupt("packed key residue cut short"))?;
                    *o = v;
                    values = tail;
                }
                j += 1;
            }
        }
        rest = values;
    }
    if !rest.is_empty() {
        return Err(corrupt("packed key longer than its mask"));
    }
    Ok(())
}

pub(super) fn corrupt(why: &'static str) -> NetlinkError {
    NetlinkError {
        attr: "stored flow",
        offset: 0,
        kind: ErrorKind::Invalid(why),
    }
}

/// Splits an action blob into the netlink list and the port-name records.
pub(super) fn split_actions(blob: &[u8]) -> Result<(&[u8], &[u8]), NetlinkError> {
    let (len, rest) = blob
        .split_first_chunk::<4>()
        .ok_or_else(|| corrupt("action blob without its length"))?;
    let len = u32::from_le_bytes(*len) as usize;
    rest.split_at_checked(len)
        .ok_or_else(|| corrupt("action blob shorter than its length"))
}

/// Renames the ports of `actions` the records in `names` name.
pub(super) fn name_action_ports(
    mut names: &[u8],
    actions: &mut crate::odp::Actions,
) -> Result<(), NetlinkError> {
    let mut table = PortTable::new(AUTO_PORT_BASE);
    while let Some((number, rest)) = names.split_first_chunk::<4>() {
        let (&len, rest) = rest
            .split_first()
            .ok_or_else(|| corrupt("port name record cut short"))?;
        let (name, rest) = rest
            .split_at_checked(usize::from(len))
            .ok_or_else(|| corrupt("port name cut short"))?;
        let name = core::str::from_utf8(name).map_err(|_| corrupt("port name not UTF-8"))?;
        table.insert(name, u32::from_le_bytes(*number));
        names = rest;
    }
    if !names.is_empty() {
        return Err(corrupt("port name record cut short"));
    }
    table.name_ports(None, Some(actions));
    Ok(())
}
