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
//! numbers them through the interner's [`PortTable`](crate::odp::netlink::PortTable) (from
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
//!
//! Rooms: `interner` (shared mask and action blobs), `packing` (key bytes
//! against the mask), this file ([`StoredFlow`]), `format` (dump lines).

mod format;
mod interner;
mod packing;
#[cfg(test)]
mod tests;

use core::fmt;
use core::hash::Hash;

use smallvec::SmallVec;

use crate::odp::netlink::{
    decode_actions_into, decode_key_into, encode_actions, encode_key, encode_mask, ErrorKind,
    NetlinkError,
};
use crate::odp::{KeyAttr, Megaflow, OdpPort, PortName};

pub use format::{format_offloaded, format_offloaded_plain};
pub use interner::Interner;
use interner::*;
use packing::*;

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
pub(super) const MAX_LAYOUT_DEPTH: usize = 4;

/// Key lists up to this size are unpacked on the stack.
pub(super) type KeyBuf = SmallVec<[u8; 512]>;

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
    fn key_bytes(&self) -> usize {
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
