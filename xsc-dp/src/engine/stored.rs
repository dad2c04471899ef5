//! Compact per-flow storage of offloaded megaflows, and their `type=offloaded` dump lines.
//!
//! The engine keeps, for every offloaded flow, enough to print it back for
//! `dump_offloaded()`.  A [`Megaflow`] is about 1.7 KB; a [`StoredFlow`] is
//! 64 bytes, and owns no heap memory at all when its key packs into 45
//! bytes (a masked key, as the kernel datapath and plain dumps have it):
//!
//! - The key, mask and actions are kept as OVS's netlink attribute lists
//!   (`OVS_FLOW_ATTR_KEY` / `_MASK` / `_ACTIONS`, see [`crate::odp::netlink`]).
//! - Mask lists and action lists are *interned* in an [`Interner`]: megaflows
//!   share few mask shapes (OVS's dpcls subtables) and few action lists, so a
//!   flow holds two one-word pointers to shared, reference-counted blobs.  A
//!   mask blob also holds the mask's layout (which bytes are attribute
//!   headers, which payload is matched), worked out once per mask.
//! - The key is *packed against the mask*.  When the key list and the mask
//!   list have the same layout (same attributes, same lengths, in the same
//!   order — what OVS's `odp_flow_key_from_mask()` produces, and what
//!   [`encode_mask`] produces), the attribute headers of the key equal those
//!   of the mask and are not stored; of the payload, only the bytes where the
//!   mask byte is non-zero are stored, in order.  Key bytes under a zero mask
//!   byte (OVS keeps the unmasked key of the packet that made the flow, and
//!   `-m` prints it: `ct_zone(0x4/0)`) follow as a *residue*: one bit per
//!   such position saying whether the byte is non-zero, then the non-zero
//!   bytes.  A flow whose key is already masked has no residue.  Where the
//!   layouts differ the whole key list is stored; either way nothing is lost
//!   (unpacking starts from the mask list, so headers and zero bytes come
//!   back by construction, and packing refuses a key whose headers differ).
//! - Up to [`INLINE_KEY_BYTES`] key bytes live inside the `StoredFlow`; a
//!   longer key keeps its first 30 bytes inline and the rest in one heap
//!   block ([`StoredFlow::heap_bytes`]).
//!
//! Port names (`in_port(p3p1)`, `actions:p2`) have no netlink form.  Encoding
//! numbers them through the interner's [`PortTable`] (from
//! [`AUTO_PORT_BASE`] up, so that the same action list always encodes to the
//! same bytes); the names travel with the flow — an action list's names in
//! its interned blob, the `in_port` name in the flow's key bytes — so that
//! [`StoredFlow::load`] needs no interner and any thread can dump.  Flows
//! from OVS's C ABI carry numbers only and pay nothing for this.
//!
//! [`format_offloaded`] appends the line `ovs-appctl dpctl/dump-flows -m
//! type=offloaded` prints for a fully offloaded flow of the userspace
//! datapath; [`format_offloaded_plain`] the line without `-m`.
//!
//! Invariants: `StoredFlow::new(f)` then `load` gives back `f`'s key, mask
//! and actions exactly (or `new` fails); no function here panics on any
//! input, including arbitrary bytes given to [`StoredFlow::from_netlink`]
//! (`load` then reports a [`NetlinkError`]).  This module depends only on
//! [`crate::odp`].
use core::borrow::Borrow;
use core::fmt;
use core::hash::{Hash, Hasher};
use std::sync::Arc;

use hashbrown::HashSet;
use smallvec::SmallVec;

use crate::odp::netlink::attr::{nla_align, NLA_HDRLEN, NLA_TYPE_MASK};
use crate::odp::netlink::consts::{
    OVS_KEY_ATTR_ENCAP, OVS_KEY_ATTR_NSH, OVS_KEY_ATTR_TUNNEL, OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS,
};
use crate::odp::netlink::{
    decode_actions_into, decode_key_into, encode_actions, encode_key, encode_mask, ErrorKind,
    NetlinkError, PortMap, PortTable,
};
use crate::odp::{Actions, FlowMask};
use crate::odp::{
    DpLayer, FlowStats, KeyAttr, Megaflow, OdpPort, Offloaded, PortName, Style, Ufid,
};

/// Key bytes a [`StoredFlow`] holds without a heap block.  With the two
/// interned pointers and a tag, length and flags byte this makes the
/// `StoredFlow` 64 bytes, one cache line.
pub const INLINE_KEY_BYTES: usize = 45;

/// The first datapath port number the interner hands out to a port name.
/// Real datapath ports are small numbers (`ODPP_LOCAL` is 0, `ODPP_NONE`
/// 0xffffffff); where a flow mixes names with numbers from this range so
/// that they could be confused, `new` refuses it rather than store it wrong.
pub const AUTO_PORT_BASE: u32 = 0xf000_0000;

/// The `dp:` layer OVS prints for a flow whose actions run in the NIC
/// (`netdev_offload_dpdk_flow_get()`); a partially offloaded flow says `ovs`.
pub const DP_LAYER_OFFLOADED: &str = "dpdk";

/// Nesting followed when locating attribute headers in a mask list (VLAN
/// `encap` inside `encap` is two; anything deeper is treated as payload).
const MAX_LAYOUT_DEPTH: usize = 4;

/// Key lists up to this size are unpacked on the stack.
type KeyBuf = SmallVec<[u8; 512]>;

// ---------------------------------------------------------------------------
// Interned blobs

/// What an interner holds: a value found by its bytes.
trait Keyed {
    fn bytes(&self) -> &[u8];
    /// Heap bytes the value owns.
    fn heap_bytes(&self) -> usize;
}

impl Keyed for Box<[u8]> {
    fn bytes(&self) -> &[u8] {
        self
    }
    fn heap_bytes(&self) -> usize {
        self.len()
    }
}

/// An interned value behind a one-word pointer.
struct Interned<T>(Arc<T>);

impl<T: Keyed> Interned<T> {
    fn bytes(&self) -> &[u8] {
        self.0.bytes()
    }
}

impl<T> Clone for Interned<T> {
    fn clone(&self) -> Self {
        Interned(Arc::clone(&self.0))
    }
}

impl<T: Keyed> Borrow<[u8]> for Interned<T> {
    fn borrow(&self) -> &[u8] {
        self.bytes()
    }
}

// Hashes as the `[u8]` it borrows as, so that a `&[u8]` finds it.
impl<T: Keyed> Hash for Interned<T> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.bytes().hash(h);
    }
}

impl<T: Keyed> PartialEq for Interned<T> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.bytes() == other.bytes()
    }
}

impl<T: Keyed> Eq for Interned<T> {}

impl<T: Keyed> fmt::Debug for Interned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Interned({} bytes)", self.bytes().len())
    }
}

/// The interned value for `bytes`, made by `make` the first time.
fn intern<T: Keyed>(
    set: &mut HashSet<Interned<T>>,
    bytes: &[u8],
    make: impl FnOnce(&[u8]) -> T,
) -> Interned<T> {
    if let Some(b) = set.get(bytes) {
        return b.clone();
    }
    let b = Interned(Arc::new(make(bytes)));
    set.insert(b.clone());
    b
}

/// Heap bytes of an interned set: the table, and per value the `Arc`'s two
/// counts, the value and what it owns.
fn set_bytes<T: Keyed>(set: &HashSet<Interned<T>>) -> usize {
    let per_value = 2 * core::mem::size_of::<usize>() + core::mem::size_of::<T>();
    let values: usize = set.iter().map(|v| per_value + v.0.heap_bytes()).sum();
    // One slot and one control byte per bucket.
    values + set.capacity() * (core::mem::size_of::<Interned<T>>() + 1)
}

/// Reusable encoding buffers, so that storing a flow allocates only for a
/// blob not seen before or a key longer than [`INLINE_KEY_BYTES`].
#[derive(Debug, Default)]
struct Scratch {
    key: Vec<u8>,
    mask: Vec<u8>,
    actions: Vec<u8>,
    out: Vec<u8>,
}

impl Scratch {
    fn capacity(&self) -> usize {
        self.key.capacity() + self.mask.capacity() + self.actions.capacity() + self.out.capacity()
    }
}

/// Deduplicated mask and action lists, and the port-name numbering used to
/// encode them.
///
/// One per engine worker: it is `Send` but not shared between threads.  The
/// blobs it hands out are reference-counted, so flows outlive it and may be
/// read (and dropped) on any thread; [`Interner::sweep`] forgets the blobs
/// no flow holds any more.
pub struct Interner {
    masks: HashSet<Interned<Shape>>,
    actions: HashSet<Interned<Box<[u8]>>>,
    ports: PortTable,
    scratch: Scratch,
    memo: Option<Box<Memo>>,
}

/// The last stored flow's mask and actions with their blobs. Flows come in
/// runs of one subtable with the same actions (a revalidation, a burst of
/// new connections), so the next one usually skips encoding and hashing
/// both.
struct Memo {
    mask: FlowMask,
    actions: Actions,
    shape: Interned<Shape>,
    blob: Interned<Box<[u8]>>,
}

impl Interner {
    /// An empty interner.
    pub fn new() -> Interner {
        Interner {
            masks: HashSet::new(),
            actions: HashSet::new(),
            ports: PortTable::new(AUTO_PORT_BASE),
            scratch: Scratch::default(),
            memo: None,
        }
    }

    /// Distinct blobs (mask lists and action lists) held.
    pub fn len(&self) -> usize {
        self.masks.len() + self.actions.len()
    }

    /// True when no blob is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes of the interner: the blobs (with their reference counts,
    /// and each mask's precomputed layout), the hash tables and the encoding
    /// buffers.  The port name table (a few dozen bytes per distinct name,
    /// none for flows that carry numbers) and the allocator's own per-block
    /// overhead are not counted.
    pub fn memory_bytes(&self) -> usize {
        set_bytes(&self.masks) + set_bytes(&self.actions) + self.scratch.capacity()
    }

    /// Forgets every blob that no [`StoredFlow`] holds any more.
    pub fn sweep(&mut self) {
        self.memo = None;
        // A count of 1 is the set's own reference.  No other thread can
        // take a new one: blobs are only handed out through `&mut self`.
        self.masks.retain(|b| Arc::strong_count(&b.0) > 1);
        self.actions.retain(|b| Arc::strong_count(&b.0) > 1);
    }

    /// Stores already encoded lists.  `mask == None` is OVS's key-only form.
    fn store(
        &mut self,
        scratch: &mut Scratch,
        key: &[u8],
        mask: Option<&[u8]>,
        actions: &[u8],
        action_names: &[(u32, PortName)],
        in_port_name: Option<PortName>,
    ) -> StoredFlow {
        let out = &mut scratch.out;

        // Action blob: u32 length, the list, then (u32 number, u8 length,
        // name) for each port name the list had.
        out.clear();
        out.extend_from_slice(&(actions.len() as u32).to_le_bytes());
        out.extend_from_slice(actions);
        for (number, name) in action_names {
            let s = name.as_str().as_bytes();
            out.extend_from_slice(&number.to_le_bytes());
            out.push(s.len() as u8);
            out.extend_from_slice(s);
        }
        let actions = intern(&mut self.actions, out, |b| b.into());
        let shape = intern(&mut self.masks, mask.unwrap_or(&[]), Shape::new);
        pack_stored(out, key, mask.is_some(), shape, actions, in_port_name)
    }
}

/// A flow from its key and its interned mask and actions.
fn pack_stored(
    out: &mut Vec<u8>,
    key: &[u8],
    has_mask: bool,
    shape: Interned<Shape>,
    actions: Interned<Box<[u8]>>,
    in_port_name: Option<PortName>,
) -> StoredFlow {
    out.clear();
    let mut flags = 0;
    if has_mask {
        if let Some(f) = pack(key, &shape.0, out) {
            if out.len() <= key.len() {
                flags = f;
            }
        }
    }
    if flags == 0 {
        out.clear();
        out.extend_from_slice(key);
    }
    if !has_mask {
        flags |= KEY_ONLY;
    }
    if let Some(name) = in_port_name {
        let s = name.as_str().as_bytes();
        out.extend_from_slice(s);
        out.push(s.len() as u8);
        flags |= IN_PORT_NAME;
    }
    StoredFlow {
        mask: shape,
        actions,
        key: KeyBytes::new(flags, out),
    }
}

impl Default for Interner {
    fn default() -> Interner {
        Interner::new()
    }
}

impl fmt::Debug for Interner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interner")
            .field("masks", &self.masks.len())
            .field("actions", &self.actions.len())
            .field("memory_bytes", &self.memory_bytes())
            .finish()
    }
}

/// Numbers port names through the interner's table and remembers which
/// numbers stood for which names.
struct RecordNames<'a> {
    table: &'a mut PortTable,
    names: SmallVec<[(u32, PortName); 4]>,
}

impl PortMap for RecordNames<'_> {
    fn port_number(&mut self, name: &str) -> Option<u32> {
        let n = self.table.port_number(name)?;
        if let Some(p) = PortName::new(name) {
            if !self.names.iter().any(|&(m, _)| m == n) {
                self.names.push((n, p));
            }
        }
        Some(n)
    }
}

// ---------------------------------------------------------------------------
// Key bytes

/// The key bytes are packed against the mask (else: the whole key list).
const PACKED: u8 = 1;
/// Packed, followed by the residue bitmap and bytes.
const RESIDUE: u8 = 2;
/// No mask list: every key attribute is exact (`decode_key(key, None)`).
const KEY_ONLY: u8 = 4;
/// The bytes end with the `in_port` name and its length byte.
const IN_PORT_NAME: u8 = 8;

/// Key bytes: all inline, or the first [`SPLIT_HEAD`] inline and the rest
/// in one heap block (so a long key still uses the room it pays for).
#[derive(Clone)]
enum KeyBytes {
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
const SPLIT_HEAD: usize = 30;

impl KeyBytes {
    fn new(flags: u8, b: &[u8]) -> KeyBytes {
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

    fn flags(&self) -> u8 {
        match self {
            KeyBytes::Inline { flags, .. } | KeyBytes::Split { flags, .. } => *flags,
        }
    }

    /// The bytes, in two parts (the second empty when all are inline).
    fn parts(&self) -> (&[u8], &[u8]) {
        match self {
            KeyBytes::Inline { len, bytes, .. } => {
                (&bytes[..usize::from(*len).min(INLINE_KEY_BYTES)], &[])
            }
            KeyBytes::Split { head, tail, .. } => (head, tail),
        }
    }

    fn len(&self) -> usize {
        let (a, b) = self.parts();
        a.len() + b.len()
    }

    fn heap_bytes(&self) -> usize {
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
enum Level {
    /// `OVS_KEY_ATTR_*` (the key itself, or inside `encap`).
    Key,
    /// `OVS_TUNNEL_KEY_ATTR_*`.
    Tunnel,
    /// A list whose attributes nest nothing (`nsh`, VXLAN options).
    Flat,
}

fn nested_level(level: Level, ty: u16) -> Option<Level> {
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
fn mark_headers(list: &[u8], base: usize, level: Level, depth: usize, header: &mut [bool]) {
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
struct Shape {
    mask: Box<[u8]>,
    headers: Box<[(usize, usize)]>,
    masked: Box<[(usize, usize)]>,
    residue: Box<[(usize, usize)]>,
    /// Bytes in the residue runs.
    residue_len: usize,
}

impl Shape {
    fn new(mask: &[u8]) -> Shape {
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
fn pack(key: &[u8], shape: &Shape, out: &mut Vec<u8>) -> Option<u8> {
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
fn unpack(packed: &[u8], shape: &Shape, flags: u8, out: &mut KeyBuf) -> Result<(), NetlinkError> {
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

fn corrupt(why: &'static str) -> NetlinkError {
    NetlinkError {
        attr: "stored flow",
        offset: 0,
        kind: ErrorKind::Invalid(why),
    }
}

/// Splits an action blob into the netlink list and the port-name records.
fn split_actions(blob: &[u8]) -> Result<(&[u8], &[u8]), NetlinkError> {
    let (len, rest) = blob
        .split_first_chunk::<4>()
        .ok_or_else(|| corrupt("action blob without its length"))?;
    let len = u32::from_le_bytes(*len) as usize;
    rest.split_at_checked(len)
        .ok_or_else(|| corrupt("action blob shorter than its length"))
}

/// Renames the ports of `actions` the records in `names` name.
fn name_action_ports(
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

// ---------------------------------------------------------------------------
// StoredFlow

/// How a [`StoredFlow`] keeps its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyForm {
    /// Packed against the mask; the key was already masked.
    Packed,
    /// Packed against the mask, with the unmasked bytes as a residue.
    PackedWithResidue,
    /// The whole key list (its layout differs from the mask's, or there is
    /// no mask list).
    Full,
}

/// A megaflow's key, mask and actions in 64 bytes (see the module doc).
///
/// `Send` and `Sync`: it holds only owned bytes and `Arc`s of immutable
/// bytes.  Cloning is cheap (two reference-count increments, and a copy of
/// the key bytes).  Equality compares the stored bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredFlow {
    mask: Interned<Shape>,
    actions: Interned<Box<[u8]>>,
    key: KeyBytes,
}

impl StoredFlow {
    /// Stores `flow`'s key, mask and actions (not its ufid or statistics).
    ///
    /// Fails where the netlink encoder does (a model value without a
    /// netlink form, a port name longer than `IFNAMSIZ`), or when port names
    /// could not be restored exactly (a flow that also uses numbers from
    /// [`AUTO_PORT_BASE`] up).
    pub fn new(flow: &Megaflow, interner: &mut Interner) -> Result<StoredFlow, NetlinkError> {
        let mut scratch = core::mem::take(&mut interner.scratch);
        let r = StoredFlow::new_with(flow, interner, &mut scratch);
        interner.scratch = scratch;
        r
    }

    fn new_with(
        flow: &Megaflow,
        interner: &mut Interner,
        s: &mut Scratch,
    ) -> Result<StoredFlow, NetlinkError> {
        s.key.clear();
        encode_key(&flow.key, &mut interner.ports, &mut s.key)?;
        let in_port_name = match flow.key.in_port {
            OdpPort::Name(n) if flow.key.has(KeyAttr::InPort) => Some(n),
            _ => None,
        };
        if let Some(m) = interner
            .memo
            .as_ref()
            .filter(|m| m.mask == flow.mask && m.actions == flow.actions)
        {
            // Same mask and actions as the last flow (whose actions named
            // no port): only the key is new.
            let (shape, blob) = (m.shape.clone(), m.blob.clone());
            let stored = pack_stored(&mut s.out, &s.key, true, shape, blob, in_port_name);
            if in_port_name.is_some() {
                check_names(&stored, flow)?;
            }
            return Ok(stored);
        }
        s.mask.clear();
        s.actions.clear();
        encode_mask(&flow.mask, &mut s.mask)?;
        let mut rec = RecordNames {
            table: &mut interner.ports,
            names: SmallVec::new(),
        };
        encode_actions(&flow.actions, &mut rec, &mut s.actions)?;
        let names = rec.names;
        let (key, mask, actions) = (
            core::mem::take(&mut s.key),
            core::mem::take(&mut s.mask),
            core::mem::take(&mut s.actions),
        );
        let stored = interner.store(s, &key, Some(&mask), &actions, &names, in_port_name);
        (s.key, s.mask, s.actions) = (key, mask, actions);
        if names.is_empty() {
            interner.memo = Some(Box::new(Memo {
                mask: flow.mask.clone(),
                actions: flow.actions.clone(),
                shape: stored.mask.clone(),
                blob: stored.actions.clone(),
            }));
        }
        if in_port_name.is_some() || !names.is_empty() {
            check_names(&stored, flow)?;
        }
        Ok(stored)
    }

    /// Stores the three netlink lists OVS hands an offload provider
    /// (`OVS_FLOW_ATTR_KEY`, `_MASK` — `None` for OVS's key-only form, in
    /// which every key attribute is exact — and `_ACTIONS`) as they are,
    /// without decoding or re-encoding them.
    ///
    /// The bytes are not checked here: [`StoredFlow::load`] reports what is
    /// wrong with them.  For lists that [`StoredFlow::new`] would produce
    /// (the same flow encoded by [`Megaflow::to_netlink`] with numbered
    /// ports) the result is equal to `new`'s.
    pub fn from_netlink(
        key: &[u8],
        mask: Option<&[u8]>,
        actions: &[u8],
        interner: &mut Interner,
    ) -> StoredFlow {
        let mut scratch = core::mem::take(&mut interner.scratch);
        let stored = interner.store(&mut scratch, key, mask, actions, &[], None);
        interner.scratch = scratch;
        stored
    }

    /// Decodes the key, mask and actions into `out`, leaving its `ufid` and
    /// `stats` untouched.  On error `out` holds what was decoded so far.
    ///
    /// Needs no [`Interner`]: port names travel with the flow.
    pub fn load(&self, out: &mut Megaflow) -> Result<(), NetlinkError> {
        let flags = self.key.flags();
        let (head, tail) = self.key.parts();
        let mut joined = KeyBuf::new();
        let mut bytes = if tail.is_empty() {
            head
        } else {
            joined.extend_from_slice(head);
            joined.extend_from_slice(tail);
            &joined[..]
        };
        let mut in_port_name = None;
        if flags & IN_PORT_NAME != 0 {
            let (&len, rest) = bytes
                .split_last()
                .ok_or_else(|| corrupt("in_port name missing"))?;
            let at = rest
                .len()
                .checked_sub(usize::from(len))
                .ok_or_else(|| corrupt("in_port name cut short"))?;
            let (body, name) = rest.split_at(at);
            in_port_name = core::str::from_utf8(name).ok().and_then(PortName::new);
            if in_port_name.is_none() {
                return Err(corrupt("in_port name invalid"));
            }
            bytes = body;
        }
        let mask = self.mask.bytes();
        let mut unpacked = KeyBuf::new();
        let key = if flags & PACKED != 0 {
            unpack(bytes, &self.mask.0, flags, &mut unpacked)?;
            &unpacked[..]
        } else {
            bytes
        };
        let mask = if flags & KEY_ONLY != 0 {
            None
        } else {
            Some(mask)
        };
        decode_key_into(key, mask, &mut out.key, &mut out.mask)?;
        let (actions, names) = split_actions(self.actions.bytes())?;
        decode_actions_into(actions, &mut out.actions)?;
        if let Some(name) = in_port_name {
            if out.key.has(KeyAttr::InPort) {
                out.key.in_port = OdpPort::Name(name);
            }
        }
        if !names.is_empty() {
            name_action_ports(names, &mut out.actions)?;
        }
        Ok(())
    }

    /// Heap bytes this flow owns alone: 0 when its key bytes fit inline
    /// ([`INLINE_KEY_BYTES`]), else the block holding all but the first 30.
    /// Not counted: the interned blobs it shares
    /// ([`Interner::memory_bytes`]) and the allocator's per-block overhead
    /// (glibc: 8 bytes, the block rounded up to 16, at least 32).
    pub fn heap_bytes(&self) -> usize {
        self.key.heap_bytes()
    }

    /// How the key is kept (for statistics and tests).
    pub fn key_form(&self) -> KeyForm {
        let flags = self.key.flags();
        if flags & RESIDUE != 0 {
            KeyForm::PackedWithResidue
        } else if flags & PACKED != 0 {
            KeyForm::Packed
        } else {
            KeyForm::Full
        }
    }

    /// Bytes the key takes, inline or on the heap (name suffix included).
    pub fn key_bytes(&self) -> usize {
        self.key.len()
    }
}

impl fmt::Debug for StoredFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredFlow")
            .field("key_form", &self.key_form())
            .field("key_bytes", &self.key_bytes())
            .field("mask", &self.mask)
            .field("actions", &self.actions)
            .finish()
    }
}

// ---------------------------------------------------------------------------
// dump-flows lines

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

/// Numbers stood in for port names: check that they all come back as the
/// names (and numbers) they were.
fn check_names(stored: &StoredFlow, flow: &Megaflow) -> Result<(), NetlinkError> {
    let mut back = Megaflow::default();
    stored.load(&mut back)?;
    if back.key != flow.key || back.actions != flow.actions {
        return Err(NetlinkError {
            attr: "in_port / output port",
            offset: 0,
            kind: ErrorKind::Unsupported("port names mixed with port numbers from 0xf0000000 up"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::odp::netlink::attr;

    #[test]
    fn stored_flow_is_one_cache_line() {
        #[cfg(target_pointer_width = "64")]
        assert_eq!(core::mem::size_of::<StoredFlow>(), 64);
        fn send_sync<T: Send + Sync>() {}
        fn send<T: Send>() {}
        send_sync::<StoredFlow>();
        send::<Interner>();
    }

    /// `[in_port 4][eth 12][encap [eth_type 2][ipv4 12]]`.
    fn lists(key_vals: &[u8; 30], mask_vals: &[u8; 30]) -> (Vec<u8>, Vec<u8>) {
        let build = |v: &[u8; 30]| {
            let mut inner = Vec::new();
            attr::put(&mut inner, 6, &v[16..18]);
            attr::put(&mut inner, 7, &v[18..30]);
            let mut out = Vec::new();
            attr::put(&mut out, 3, &v[0..4]);
            attr::put(&mut out, 4, &v[4..16]);
            attr::put(&mut out, OVS_KEY_ATTR_ENCAP, &inner);
            out
        };
        (build(key_vals), build(mask_vals))
    }

    fn round_trip(key: &[u8], mask: &[u8]) -> (Option<u8>, usize) {
        let shape = Shape::new(mask);
        let mut packed = Vec::new();
        let flags = pack(key, &shape, &mut packed);
        match flags {
            Some(f) => {
                let mut back = KeyBuf::new();
                unpack(&packed, &shape, f, &mut back).unwrap();
                assert_eq!(&back[..], key);
            }
            None => assert!(packed.is_empty()),
        }
        (flags, packed.len())
    }

    #[test]
    fn packing_keeps_masked_bytes_and_skips_headers() {
        let mut k = [0u8; 30];
        let mut m = [0u8; 30];
        k[..4].copy_from_slice(&5u32.to_ne_bytes());
        m[..4].fill(0xff);
        k[16..18].copy_from_slice(&[0x08, 0x00]);
        m[16..18].fill(0xff);
        k[22..26].copy_from_slice(&[10, 0, 0, 1]);
        m[22..26].fill(0xff);
        let (key, mask) = lists(&k, &m);
        assert_eq!(key.len(), 4 + 4 + 4 + 12 + 4 + 4 + 4 + 4 + 12);
        // Only in_port, eth_type and ipv4 dst: no header, no wildcarded byte.
        assert_eq!(round_trip(&key, &mask), (Some(PACKED), 10));

        // Unmasked key bytes become a residue.
        k[4..10].copy_from_slice(&[0, 0, 0, 0x9d, 0xfb, 0x1a]);
        let (key, mask) = lists(&k, &m);
        let residue = key.len() - 6 * 4 - 10;
        assert_eq!(
            round_trip(&key, &mask),
            (Some(PACKED | RESIDUE), 10 + residue.div_ceil(8) + 3)
        );
    }

    #[test]
    fn shape_finds_nested_headers() {
        let (_, mask) = lists(&[0xff; 30], &[0; 30]);
        let shape = Shape::new(&mask);
        // in_port, eth, encap and at once inside it eth_type, then ipv4
        // (after eth_type's two bytes and two of padding).
        assert_eq!(&*shape.headers, &[(0, 4), (8, 12), (24, 32), (36, 40)]);
        assert!(shape.masked.is_empty());
        assert_eq!(shape.residue_len, mask.len() - 5 * 4);
    }

    #[test]
    fn different_layouts_are_not_packed() {
        let (key, mut mask) = lists(&[1; 30], &[0xff; 30]);
        assert_eq!(round_trip(&key, &mask).0, Some(PACKED));
        mask.truncate(mask.len() - 4);
        assert_eq!(round_trip(&key, &mask).0, None);
        let (key, mut mask) = lists(&[1; 30], &[0xff; 30]);
        mask[2] = 4; // another attribute type in the first header
        assert_eq!(round_trip(&key, &mask).0, None);
    }

    /// A small deterministic generator (xorshift).
    fn rng(seed: u64) -> impl FnMut() -> u64 {
        let mut s = seed;
        move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        }
    }

    #[test]
    fn pack_is_lossless_on_any_bytes() {
        let mut next = rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..2000 {
            let n = (next() % 80) as usize;
            let mut key: Vec<u8> = (0..n).map(|_| next() as u8).collect();
            let mut mask: Vec<u8> = (0..n)
                .map(|_| if next() % 3 == 0 { 0 } else { next() as u8 })
                .collect();
            if next() % 2 == 0 {
                // Well-formed: a list with the same headers in both.
                let (k, m) = lists(
                    &core::array::from_fn(|_| if next() % 2 == 0 { 0 } else { next() as u8 }),
                    &core::array::from_fn(|_| if next() % 2 == 0 { 0 } else { next() as u8 }),
                );
                (key, mask) = (k, m);
            }
            round_trip(&key, &mask);
        }
    }

    #[test]
    fn unpack_rejects_corrupt_bytes_without_panicking() {
        let (key, mask) = lists(&[3; 30], &[0; 30]);
        let shape = Shape::new(&mask);
        let mut packed = Vec::new();
        let flags = pack(&key, &shape, &mut packed).unwrap();
        assert_eq!(flags, PACKED | RESIDUE);
        let mut back = KeyBuf::new();
        for cut in 0..packed.len() {
            assert!(unpack(&packed[..cut], &shape, flags, &mut back).is_err());
        }
        packed.push(0);
        assert!(unpack(&packed, &shape, flags, &mut back).is_err());
    }

    #[test]
    fn load_of_arbitrary_lists_never_panics() {
        let mut next = rng(7);
        let mut interner = Interner::new();
        let mut out = Megaflow::default();
        for _ in 0..3000 {
            let mut bufs: [Vec<u8>; 3] = Default::default();
            for b in &mut bufs {
                for _ in 0..(next() % 64) {
                    b.push(match next() % 4 {
                        0 => 0,
                        1 => 4 + (next() % 16) as u8,
                        _ => next() as u8,
                    });
                }
            }
            let mask = (next() % 4 != 0).then_some(&bufs[1][..]);
            let s = StoredFlow::from_netlink(&bufs[0], mask, &bufs[2], &mut interner);
            let _ = s.load(&mut out);
        }
    }

    #[test]
    fn corrupt_action_blobs_are_errors() {
        assert!(split_actions(&[1, 0]).is_err());
        assert!(split_actions(&[9, 0, 0, 0, 1]).is_err());
        assert_eq!(
            split_actions(&[1, 0, 0, 0, 7, 8]).unwrap(),
            (&[7u8][..], &[8u8][..])
        );
        let mut a = crate::odp::Actions::new();
        assert!(name_action_ports(&[1, 0, 0, 0], &mut a).is_err());
        assert!(name_action_ports(&[1, 0, 0, 0, 3, b'p'], &mut a).is_err());
        assert!(name_action_ports(&[1, 0, 0, 0, 2, b'p', b'1'], &mut a).is_ok());
    }
}
